//! The method table: every plain request/response method of the client, described once
//! (names, parameters, defaults, documentation, result) and callable by name with JSON
//! arguments ([`Client::call`]).
//!
//! The bindings and the code generator read this table ([`METHODS`], [`methods_json`])
//! instead of restating each method: the Python `SDK` and the Node `Client` build their
//! pass-through methods from it, and their arguments are checked and given their
//! defaults here, in one place. Uploads with progress, iterators and export streams are
//! not in the table; they keep their own methods.
//!
//! ```no_run
//! use serde_json::json;
//! let client = ango_core::Client::from_env()?;
//! let reply = client.call("get_tasks", json!({ "project_id": "p1", "limit": 50 }))?;
//! let tasks = reply.into_value()?;
//! println!("{}", tasks["data"]["total"]);
//! # Ok::<(), ango_core::Error>(())
//! ```

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::{
    AnnotationPayload, AssetBuilderTemplate, ChatAssetCreationConfig, Invitation, Llm, Metrics,
    ParseConfig, ProjectRole, ProjectType, ReviewStatus, RoleUpdate, Storage, StorageFileType,
    Timestamp,
};
use crate::ontology::{CategorySchema, ClassificationCategory, RelationCategory, ToolCategory};
use crate::{
    AnnotateOptions, CloneProjectOptions, CreateIssueParams, GetAssetsParams, GetIssuesParams,
    GetTasksParams, ListStorageFilesParams, RequeueTasksParams, UpdateIssueParams,
    UpdateLabelValidationParams,
};

/// One parameter of a table method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// The Python (official) name, snake_case: the key of this argument in [`Client::call`].
    pub name: &'static str,
    /// The camelCase name (Node); also accepted as the key by [`Client::call`].
    pub node_name: &'static str,
    /// TypeScript type expression of the JSON argument (`"string"`, `"string[]"`,
    /// `"TaskFilter"`, `"unknown"`, ...).
    pub ty: &'static str,
    /// The Python annotation, as the official signature reads.
    pub py_ty: &'static str,
    /// JSON text of the default (`"1"`, `"null"`, `"true"`, `"\"\""`); `None` when the
    /// argument is required.
    pub default: Option<&'static str>,
    /// Whether the argument can only be passed by keyword (Python) / in the options
    /// object (Node) even if it came before others.
    pub keyword_only: bool,
    /// What the argument is.
    pub doc: &'static str,
    /// Older names the argument is also accepted under (the v1.3.14 SDK's, such as
    /// `assign_task(project=, tasks=, stage=)`): keys of [`Client::call`] too, and
    /// keyword-only parameters (default `None`) of the Python signature, where they
    /// make a required argument optional. A value under two names is
    /// [`Error::InvalidArgument`]; a `null` under one of them is "not given".
    pub aliases: &'static [&'static str],
}

/// What a table method returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// The server's reply `{status, data: T}` unchanged; `T` names a data type of
    /// `ango_core::types` (`"ProjectData"`, `"TaskList"`, ...).
    Document(&'static str),
    /// A value of a named type or TypeScript type (`"boolean"`, `"string"`, `"Batch[]"`).
    Plain(&'static str),
    /// Whatever the server replies (not modelled).
    Any,
}

/// One method of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSpec {
    /// The Python SDK's name, snake_case.
    pub name: &'static str,
    /// The camelCase name (Node).
    pub node_name: &'static str,
    /// What it does, what it returns and how it fails (Python docstring, JSDoc).
    pub doc: &'static str,
    /// The parameters, in the official order.
    pub params: &'static [ParamSpec],
    /// The result.
    pub returns: Returns,
}

impl MethodSpec {
    /// The method named `name` (snake_case) or `node_name` (camelCase), if any.
    pub fn find(name: &str) -> Option<&'static MethodSpec> {
        METHODS
            .iter()
            .find(|m| m.name == name || m.node_name == name)
    }
}

/// A reply body exactly as the server sent it (JSON bytes), for bindings that decode
/// JSON straight into their own objects.
pub type RawReply = Vec<u8>;

/// The result of [`Client::call`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The server's reply body, undecoded (the method returns the reply unchanged).
    Document(RawReply),
    /// A value the method built (a derived part of a reply, a boolean, a URL...).
    Value(Value),
}

impl Reply {
    /// The reply as a JSON value (a document is decoded; a body that is not JSON is
    /// [`Error::Decode`]).
    pub fn into_value(self) -> Result<Value> {
        match self {
            Reply::Value(value) => Ok(value),
            Reply::Document(bytes) => crate::http::decode_json(&bytes),
        }
    }
}

// ------------------------------------------------------------------------ table

const fn req(
    name: &'static str,
    node_name: &'static str,
    ty: &'static str,
    py_ty: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        node_name,
        ty,
        py_ty,
        default: None,
        keyword_only: false,
        doc,
        aliases: &[],
    }
}

const fn opt(
    name: &'static str,
    node_name: &'static str,
    ty: &'static str,
    py_ty: &'static str,
    default: &'static str,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        node_name,
        ty,
        py_ty,
        default: Some(default),
        keyword_only: false,
        doc,
        aliases: &[],
    }
}

const fn kw(spec: ParamSpec) -> ParamSpec {
    ParamSpec {
        keyword_only: true,
        ..spec
    }
}

/// `spec`, also accepted under the older names `aliases`.
const fn aka(spec: ParamSpec, aliases: &'static [&'static str]) -> ParamSpec {
    ParamSpec { aliases, ..spec }
}

const PROJECT_ID: ParamSpec = req(
    "project_id",
    "projectId",
    "string",
    "Optional[str]",
    "The project's id.",
);
const TASK_ID: ParamSpec = req("task_id", "taskId", "string", "str", "The task's id.");
const ISSUE_ID: ParamSpec = req("issue_id", "issueId", "string", "str", "The issue's id.");
const ORGANIZATION_ID: ParamSpec = req(
    "organization_id",
    "organizationId",
    "string",
    "str",
    "The organization's id.",
);
const STORAGE_ID: ParamSpec = req(
    "storage_id",
    "storageId",
    "string",
    "str",
    "The storage integration's id.",
);
const PAGE: ParamSpec = opt(
    "page",
    "page",
    "number",
    "int",
    "1",
    "The page to read, from 1.",
);
const LIMIT: ParamSpec = opt("limit", "limit", "number", "int", "10", "Items per page.");

/// The failures every table method shares, appended to each method's doc.
macro_rules! errors {
    () => {
        "\n\nErrors: an invalid argument (InvalidArgument) before anything is sent; an \
         HTTP error status from the server (Http, NotFound for 404); a timeout or a \
         connection failure once the retries are spent."
    };
    ($extra:literal) => {
        concat!(errors!(), " ", $extra)
    };
}

/// The plain request/response methods, in the official SDK's order (kept one parameter
/// per line, as a table, so not formatted by rustfmt).
#[rustfmt::skip]
pub static METHODS: &[MethodSpec] = &[
    MethodSpec {
        name: "make_request",
        node_name: "makeRequest",
        doc: concat!(
            "Sends any API request, for endpoints without a method of their own: the \
             endpoint path (with its query string) is percent-encoded as the official SDK \
             does and the payload goes as the JSON body.\n\nReturns the server's JSON reply.",
            errors!(
                "An unknown HTTP method or an endpoint without a leading '/' is InvalidArgument."
            )
        ),
        params: &[
            req("method", "method", "string", "str", "The HTTP method: GET, POST, DELETE, ..."),
            req("endpoint", "endpoint", "string", "str", "The path, such as /v2/project/ID."),
            opt("payload", "payload", "unknown", "Optional[Dict]", "null", "The JSON body, if any."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "add_members_to_project",
        node_name: "addMembersToProject",
        doc: concat!(
            "Adds people, by e-mail, to a project, all with one project role.\n\nReturns the \
             server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("members", "members", "string[]", "List[str]", "The e-mails of the people to add."),
            req("role", "role", "string", "ProjectRoles", "Their role in the project (a ProjectRoles value)."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "assign_batches",
        node_name: "assignBatches",
        doc: concat!(
            "Puts assets into batches. Batches may be named by id or by name; names are \
             turned into ids with one read of the project.\n\nReturns the server's reply.",
            errors!("An unknown batch is NotFound before the assignment is sent.")
        ),
        params: &[
            PROJECT_ID,
            req("asset_ids", "assetIds", "string[]", "List[str]", "The assets to put into the batches."),
            req("batches", "batches", "string[]", "List[str]", "The batches, by id or name."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "assign_task",
        node_name: "assignTask",
        doc: concat!(
            "Assigns tasks of one workflow stage to a user.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            aka(PROJECT_ID, &["project"]),
            aka(req("task_ids", "taskIds", "string[]", "List[str]", "The tasks to assign."), &["tasks"]),
            aka(req("stage_filter", "stageFilter", "string", "str", "The stage id the tasks are in."), &["stage"]),
            req("email", "email", "string", "str", "The e-mail of the user to assign them to."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_attachment",
        node_name: "createAttachment",
        doc: concat!(
            "Attaches files (images, videos, PDFs, links...) to assets, shown to annotators \
             next to the asset.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("attachments", "attachments", "Record<string, unknown>[]", "List[dict]", "One object per attachment: {\"data\", \"externalId\", \"attachments\": [{\"type\", \"value\"}]}."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_batch",
        node_name: "createBatch",
        doc: concat!(
            "Creates one batch in a project.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("batch_name", "batchName", "string", "str", "The new batch's name."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_batches",
        node_name: "createBatches",
        doc: concat!(
            "Creates the named batches the project does not have yet (the project's batch \
             list is read first and sent back with the new names).\n\nReturns the server's \
             reply, or an empty list when every name already exists (nothing is sent).",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("batch_names", "batchNames", "string[]", "List[str]", "The batch names."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_issue",
        node_name: "createIssue",
        doc: concat!(
            "Opens an issue on a task, either on one of its objects (object_id) or at a \
             place in the asset (position, page, page_end, data_index, plane). Also takes \
             the v1.3.14 form create_issue(task_id, content, position): numbers where the \
             mentions belong are the position.\n\nReturns the server's reply.",
            errors!(
                "Giving both an object and a place, page_end without page, or a plane other than A, S or C is InvalidArgument."
            )
        ),
        params: &[
            TASK_ID,
            req("content", "content", "string", "str", "The issue's text."),
            opt("content_mentions", "contentMentions", "string[]", "List[str]", "null", "E-mails of users mentioned in the text."),
            opt("object_id", "objectId", "string", "str", "null", "The annotation object the issue is about."),
            opt("position", "position", "number | number[]", "Union[int, float, List[int], List[float]]", "null", "Where the issue sits: [x, y] on images and video, a number in text, [start, end] in audio."),
            opt("error_codes", "errorCodes", "Record<string, unknown>[]", "List[Dict]", "null", "Error codes, each {\"category\", \"name\", \"key\"?}."),
            opt("pct_details", "pctDetails", "Record<string, unknown>", "Dict", "null", "Point-cloud details."),
            opt("page", "page", "number", "int", "null", "The page (from 0) of a multi-page, PDF or video asset."),
            opt("page_end", "pageEnd", "number", "int", "null", "The last page of a page range (needs page)."),
            opt("data_index", "dataIndex", "number", "int", "null", "Which data item of a multi-data asset (from 0)."),
            opt("plane", "plane", "string", "Union[str, MedicalPlane]", "null", "The medical plane: A, S or C."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_label_set",
        node_name: "createLabelSet",
        doc: concat!(
            "Sets a project's label set (ontology): its tools, classifications and \
             relations, or a raw category schema sent as given when that is not empty.\
             \n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            opt("tools", "tools", "ToolCategory[]", "List[ToolCategory]", "null", "The tools."),
            opt("classifications", "classifications", "ClassificationCategory[]", "List[ClassificationCategory]", "null", "The global classifications."),
            opt("relations", "relations", "RelationCategory[]", "List[RelationCategory]", "null", "The relations."),
            opt("raw_category_schema", "rawCategorySchema", "Record<string, unknown>", "Dict", "null", "A whole category schema, sent instead of the lists when not empty."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_project",
        node_name: "createProject",
        doc: concat!(
            "Creates a project.\n\nReturns the server's reply, with the new project.",
            errors!()
        ),
        params: &[
            req("name", "name", "string", "str", "The project's name."),
            opt("description", "description", "string", "str", "null", "Its description (empty when not given)."),
            opt("project_type", "projectType", "string", "Optional[ProjectType]", "null", "Its type (a ProjectType value); the server's default when not given."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "clone_project",
        node_name: "cloneProject",
        doc: concat!(
            "Copies a project's settings (not its assets, tasks or labels) into a new \
             project named \"<name> copy\"; each flag chooses one part to copy.\n\nReturns \
             the server's reply, with the new project.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            kw(opt("category_schema", "categorySchema", "boolean", "bool", "true", "Copy the label set.")),
            kw(opt("assigned_to", "assignedTo", "boolean", "bool", "true", "Copy the members.")),
            kw(opt("batches", "batches", "boolean", "bool", "true", "Copy the batches.")),
            kw(opt("workflow", "workflow", "boolean", "bool", "true", "Copy the workflow.")),
            kw(opt("plugin_presets", "pluginPresets", "boolean", "bool", "true", "Copy the plugin presets.")),
            kw(opt("project_general_settings", "projectGeneralSettings", "boolean", "bool", "true", "Copy the general settings.")),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "delete_issue",
        node_name: "deleteIssue",
        doc: concat!(
            "Deletes an issue.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[PROJECT_ID, ISSUE_ID],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "update_issue",
        node_name: "updateIssue",
        doc: concat!(
            "Changes an issue: its text (with mentions), status, point-cloud details or \
             error codes; what is not given stays as it is.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            ISSUE_ID,
            opt("content", "content", "string", "str", "null", "The new text."),
            opt("content_mentions", "contentMentions", "string[]", "List[str]", "null", "E-mails mentioned in the new text (sent with content only)."),
            opt("status", "status", "string", "str", "null", "The new status: Open, Resolved or Closed."),
            opt("pct_details", "pctDetails", "Record<string, unknown>", "Dict", "null", "Point-cloud details."),
            opt("error_codes", "errorCodes", "Record<string, unknown>[]", "List[Dict]", "null", "Error codes, each {\"category\", \"name\", \"key\"?}."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "add_comment_to_issue",
        node_name: "addCommentToIssue",
        doc: concat!(
            "Adds a comment to an issue.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            ISSUE_ID,
            req("content", "content", "string", "str", "The comment's text."),
            opt("content_mentions", "contentMentions", "string[]", "List[str]", "null", "E-mails mentioned in it."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "delete_project",
        node_name: "deleteProject",
        doc: concat!(
            "Deletes a project with its assets, tasks, issues and history (files in storage \
             stay; see purge_project).\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[PROJECT_ID],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "purge_project",
        node_name: "purgeProject",
        doc: concat!(
            "Deletes a project for good, with the files it keeps in the default bucket; the \
             project's name must be repeated as a confirmation.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("confirm_name", "confirmName", "string", "str", "The project's name, as a confirmation."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "get_assets",
        node_name: "getAssets",
        doc: concat!(
            "Lists a project's assets, one page at a time. Also takes the v1.3.14 form \
             get_assets(project_id, asset_id, external_id): a string where the page \
             belongs is an asset id, then a string limit an external id. A page or limit \
             of null is the default.\n\nReturns the server's reply: \
             data.assets and data.total.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            PAGE,
            LIMIT,
            opt("filters", "filters", "Record<string, unknown> | null", "Dict", "{}", "Filters sent as JSON: _id, externalId, isPreLabeled, batches, createdAt ({\"gt\"|\"lt\": ISO time}); null is sent as null."),
            kw(opt("asset_id", "assetId", "string", "Optional[str]", "null", "Only this asset (the v1.3.14 argument): added to the filters as _id.")),
            kw(opt("external_id", "externalId", "string", "Optional[str]", "null", "Only the asset of this external id (the v1.3.14 argument): added to the filters as externalId.")),
        ],
        returns: Returns::Document("AssetList"),
    },
    MethodSpec {
        name: "get_batches",
        node_name: "getBatches",
        doc: concat!(
            "Lists a project's batches, read from the project.\n\nReturns the list of \
             batches ({\"_id\", \"name\", ...}); an empty list when there are none.",
            errors!()
        ),
        params: &[PROJECT_ID],
        returns: Returns::Plain("Batch[]"),
    },
    MethodSpec {
        name: "get_issues",
        node_name: "getIssues",
        doc: concat!(
            "Lists a project's issues, optionally only those of an asset, a task, a stage \
             or a creator.\n\nReturns the server's reply: data.issues.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            opt("asset_id", "assetId", "string", "str", "null", "Only issues on this asset."),
            opt("task_id", "taskId", "string", "str", "null", "Only issues on this task."),
            opt("stage_id", "stageId", "string", "str", "null", "Only issues opened in this stage."),
            opt("created_by", "createdBy", "string", "str", "null", "Only issues created by this user (e-mail)."),
        ],
        returns: Returns::Document("IssueList"),
    },
    MethodSpec {
        name: "get_metrics",
        node_name: "getMetrics",
        doc: concat!(
            "Reads one of a project's overview metrics.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("metric", "metric", "string", "Metrics", "The metric (a Metrics value, such as LabelStageGroups)."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "get_project",
        node_name: "getProject",
        doc: concat!(
            "Reads one project: its settings, label set, workflow, batches and members.\
             \n\nReturns the server's reply: data.project.",
            errors!()
        ),
        params: &[PROJECT_ID],
        returns: Returns::Document("ProjectData"),
    },
    MethodSpec {
        name: "get_task",
        node_name: "getTask",
        doc: concat!(
            "Reads one task.\n\nReturns the server's reply: data.task.",
            errors!()
        ),
        params: &[
            TASK_ID,
            opt("include_answer", "includeAnswer", "boolean", "bool", "false", "Include the task's answer."),
        ],
        returns: Returns::Document("TaskData"),
    },
    MethodSpec {
        name: "get_tasks",
        node_name: "getTasks",
        doc: concat!(
            "Lists a project's tasks, one page at a time, optionally filtered, sorted and \
             reduced to some fields. status, stage and batches are the old filters: \
             task_filter is the current way, and wins when it sets the same criterion.\
             \n\nReturns the server's reply: data.tasks and data.total.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            PAGE,
            LIMIT,
            opt("status", "status", "string", "Optional[str]", "null", "Deprecated: only tasks of this status (TODO, Completed...)."),
            aka(opt("stage", "stage", "string", "Optional[str]", "null", "Deprecated: only tasks in this stage."), &["stages"]),
            opt("batches", "batches", "string[]", "Optional[List[str]]", "null", "Deprecated: only tasks in these batches."),
            opt("include_answer", "includeAnswer", "boolean", "bool", "false", "Include each task's answer (always on when fields is given)."),
            opt("task_filter", "taskFilter", "TaskFilter", "Optional[TaskFilter]", "null", "Server-side filter on stage, status, assignee, dates, ..."),
            opt("sort", "sort", "string", "Optional[str]", "null", "Sort keys, such as -createdAt,priority."),
            opt("fields", "fields", "string", "Optional[str]", "null", "Comma-separated fields to return; _id, project and asset are always added."),
        ],
        returns: Returns::Document("TaskList"),
    },
    MethodSpec {
        name: "get_task_history",
        node_name: "getTaskHistory",
        doc: concat!(
            "Reads task history: one entry by its id, else every entry of a task.\n\nReturns \
             the server's reply; an empty object when neither id is given (nothing is sent).",
            errors!()
        ),
        params: &[
            opt("task_history_id", "taskHistoryId", "string", "Optional[str]", "null", "One history entry's id."),
            opt("task_id", "taskId", "string", "Optional[str]", "null", "The task whose whole history to read."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "import_labels",
        node_name: "importLabels",
        doc: concat!(
            "Imports labels in the Ango import format; each item names its asset by \
             externalId.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("labels", "labels", "Record<string, unknown>[]", "List[dict]", "The labels, one object per asset."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "list_projects",
        node_name: "listProjects",
        doc: concat!(
            "Lists the projects the key can see, one page at a time.\n\nReturns the \
             server's reply: data.projects and data.total.",
            errors!()
        ),
        params: &[PAGE, LIMIT],
        returns: Returns::Document("ProjectList"),
    },
    MethodSpec {
        name: "update_workflow_stages",
        node_name: "updateWorkflowStages",
        doc: concat!(
            "Replaces a project's workflow with the given stages.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("stages", "stages", "Record<string, unknown>[]", "List[dict]", "The workflow's stages, as the server describes them."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "update_benchmark_settings",
        node_name: "updateBenchmarkSettings",
        doc: concat!(
            "Turns benchmark sampling on or off, with the share of tasks sampled and the \
             cutoff.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("benchmark_enabled", "benchmarkEnabled", "boolean", "bool", "Sampling on or off."),
            opt("benchmark_ratio", "benchmarkRatio", "number", "Optional[int]", "null", "The percentage of tasks sampled."),
            opt("benchmark_cutoff", "benchmarkCutoff", "boolean", "Optional[bool]", "null", "The cutoff behaviour."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "set_tasks_as_benchmark",
        node_name: "setTasksAsBenchmark",
        doc: concat!(
            "Marks tasks as benchmarks, or unmarks them.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("task_ids", "taskIds", "string[]", "List[str]", "The tasks."),
            opt("is_benchmark", "isBenchmark", "boolean", "bool", "true", "Mark (true) or unmark (false)."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "update_label_validation",
        node_name: "updateLabelValidation",
        doc: concat!(
            "Changes a project's label validation; what is not given stays as it is.\
             \n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            opt("custom_validation_enabled", "customValidationEnabled", "boolean", "Optional[bool]", "null", "Custom validation on or off."),
            opt("validation_function", "validationFunction", "string", "Optional[str]", "null", "The validation function's source."),
            opt("external_validation", "externalValidation", "Record<string, unknown>", "Optional[Dict]", "null", "External validation settings."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "upload_files_cloud",
        node_name: "uploadFilesCloud",
        doc: concat!(
            "Registers assets that are already in cloud storage, by URL. The storage is \
             checked first, and batch names (per asset or for the call) are turned into ids.\
             \n\nReturns the server's reply.",
            errors!(
                "An unknown storage or batch is InvalidArgument or NotFound before the import is sent."
            )
        ),
        params: &[
            PROJECT_ID,
            req("assets", "assets", "Record<string, unknown>[]", "Any", "One object per asset: {\"data\": url, \"externalId\", \"batches\"?, \"metadata\"?, \"contextData\"?, ...}."),
            opt("storage_id", "storageId", "string", "str", "null", "The storage integration holding the files."),
            opt("batches", "batches", "string[]", "List[str]", "null", "Batches (ids or names) for every asset."),
            opt("priority", "priority", "number", "int", "0", "The tasks' priority."),
            opt("upload_local", "uploadLocal", "string", "Any", "null", "The official uploadLocal flag, sent as given."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "delete_assets",
        node_name: "deleteAssets",
        doc: concat!(
            "Deletes assets of a project.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("asset_ids", "assetIds", "string[]", "List[str]", "The assets to delete."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "upload_chat_assets",
        node_name: "uploadChatAssets",
        doc: concat!(
            "Creates chat (LLM conversation) assets: a number of empty conversations, or \
             those of a JSON file.\n\nReturns the server's reply.",
            errors!(
                "A configuration with neither a file nor a positive number of assets is InvalidArgument; an unreadable file is Io."
            )
        ),
        params: &[
            PROJECT_ID,
            req("chat_asset_creation_config", "chatAssetCreationConfig", "ChatAssetCreationConfig", "ChatAssetCreationConfig", "What to create, where, and with which LLM configuration."),
            opt("priority", "priority", "number", "int", "0", "The tasks' priority."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "requeue_tasks",
        node_name: "requeueTasks",
        doc: concat!(
            "Sends tasks back to a workflow stage, optionally clearing their answers, \
             assignees or stage history.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("to_stage_id", "toStageId", "string", "str", "The stage to send the tasks to."),
            opt("filters", "filters", "Record<string, unknown>", "Optional[Dict]", "null", "Which tasks: taskIds, externalIds, assetIds, batches, fromStageIds (all when empty)."),
            opt("options", "options", "Record<string, unknown>", "Optional[Dict]", "null", "What to clear: removeAnnotations, removeAssignee, removeStageHistory."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "update_tasks_priority",
        node_name: "updateTasksPriority",
        doc: concat!(
            "Sets the priority of the tasks the filters select (all when empty).\n\nReturns \
             the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("priority", "priority", "number", "int", "The new priority."),
            opt("filters", "filters", "Record<string, unknown>", "Optional[Dict]", "null", "Which tasks, with the keys of requeue_tasks' filters."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "get_project_performance",
        node_name: "getProjectPerformance",
        doc: concat!(
            "Reads a project's performance figures, optionally for a time interval and some \
             batches (names are turned into ids with one read of the project).\n\nReturns \
             the server's reply.",
            errors!(
                "An interval that is not [start, end], or an unknown batch, fails before the request."
            )
        ),
        params: &[
            PROJECT_ID,
            opt("interval", "interval", "Timestamp[]", "List[datetime]", "null", "[start, end] date-times."),
            opt("batches", "batches", "string[]", "List[str]", "null", "Only these batches (ids or names)."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_storage",
        node_name: "createStorage",
        doc: concat!(
            "Connects a cloud storage (bucket) to the organization.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[req(
            "storage_data",
            "storageData",
            "Storage",
            "Storage",
            "The storage: name, provider, keys or credentials, region.",
        )],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "delete_organization_invites",
        node_name: "deleteOrganizationInvites",
        doc: concat!(
            "Withdraws pending invitations, by e-mail.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            ORGANIZATION_ID,
            req("invite_emails", "inviteEmails", "string[]", "List[str]", "The invited e-mails."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "delete_organization_members",
        node_name: "deleteOrganizationMembers",
        doc: concat!(
            "Removes members from the organization, by e-mail.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            ORGANIZATION_ID,
            req("member_emails", "memberEmails", "string[]", "List[str]", "The members' e-mails."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "delete_storage",
        node_name: "deleteStorage",
        doc: concat!(
            "Disconnects a storage from the organization.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[STORAGE_ID],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "get_organization_invites",
        node_name: "getOrganizationInvites",
        doc: concat!(
            "Lists the organization's pending invitations.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[ORGANIZATION_ID],
        returns: Returns::Document("InviteList"),
    },
    MethodSpec {
        name: "get_organization_members",
        node_name: "getOrganizationMembers",
        doc: concat!(
            "Lists the organization's members.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[ORGANIZATION_ID],
        returns: Returns::Document("MemberList"),
    },
    MethodSpec {
        name: "get_storages",
        node_name: "getStorages",
        doc: concat!(
            "Lists the organization's storages.\n\nReturns the server's reply; with a \
             storage id, that one storage when it is listed (else the whole reply).",
            errors!()
        ),
        params: &[opt(
            "storage_id",
            "storageId",
            "string",
            "Optional[str]",
            "null",
            "One storage's id.",
        )],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "create_llm",
        node_name: "createLlm",
        doc: concat!(
            "Adds an LLM configuration to the organization.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[req(
            "llm_data",
            "llmData",
            "Llm",
            "LLM",
            "The configuration: name, provider, model, key, base URL.",
        )],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "delete_llm",
        node_name: "deleteLlm",
        doc: concat!(
            "Deletes an LLM configuration.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[req(
            "llm_id",
            "llmId",
            "string",
            "str",
            "The configuration's id.",
        )],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "get_llms",
        node_name: "getLlms",
        doc: concat!(
            "Lists the organization's LLM configurations.\n\nReturns the server's reply; \
             with an id, that one configuration when it is listed (else the whole reply).",
            errors!()
        ),
        params: &[opt(
            "llm_id",
            "llmId",
            "string",
            "Optional[str]",
            "null",
            "One configuration's id.",
        )],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "list_storage_files",
        node_name: "listStorageFiles",
        doc: concat!(
            "Lists files in a storage's bucket.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            STORAGE_ID,
            req("bucket_name", "bucketName", "string", "str", "The bucket."),
            opt("path", "path", "string", "str", "\"\"", "The folder, from the bucket's root."),
            opt("get_signed_urls", "getSignedUrls", "boolean", "bool", "true", "Return signed URLs for the files."),
            opt("retry_on_slow_down", "retryOnSlowDown", "boolean", "bool", "true", "Let the server retry when the provider asks to slow down."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "invite_members_to_org",
        node_name: "inviteMembersToOrg",
        doc: concat!(
            "Invites people to the organization with a role, and optionally into projects.\
             \n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            ORGANIZATION_ID,
            req("invite_data", "inviteData", "Invitation", "Invitation", "Who, with which role, into which projects."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "update_organization_members_role",
        node_name: "updateOrganizationMembersRole",
        doc: concat!(
            "Changes members' organization roles.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            ORGANIZATION_ID,
            req("role_updates", "roleUpdates", "RoleUpdate[]", "List[RoleUpdate]", "One {email, organization_role} per member."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "send_notification",
        node_name: "sendNotification",
        doc: concat!(
            "Sends a notification to members of the organization, shown as coming from the \
             key's user.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            req("receivers", "receivers", "string[]", "List[str]", "The receivers' e-mails."),
            req("message", "message", "string", "str", "The message."),
            opt("title", "title", "string", "Optional[str]", "null", "A title."),
            opt("clickable_link", "clickableLink", "string", "Optional[str]", "null", "An absolute http(s) link to open."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "get_asset_builder_templates",
        node_name: "getAssetBuilderTemplates",
        doc: concat!(
            "Lists a project's asset-builder templates, read from the project.\n\nReturns \
             the list of templates (empty when there are none).",
            errors!()
        ),
        params: &[PROJECT_ID],
        returns: Returns::Plain("Record<string, unknown>[]"),
    },
    MethodSpec {
        name: "create_asset_builder_template",
        node_name: "createAssetBuilderTemplate",
        doc: concat!(
            "Creates an asset-builder template in a project, after checking it.\n\nReturns \
             the server's reply.",
            errors!(
                "A template that fails the checks is InvalidArgument (\"Invalid template: ...\")."
            )
        ),
        params: &[
            PROJECT_ID,
            req("template", "template", "AssetBuilderTemplate", "AssetBuilderTemplate", "The template: name, HTML, columns, external id column, ..."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "upload_files_with_asset_builder",
        node_name: "uploadFilesWithAssetBuilder",
        doc: concat!(
            "Creates assets from a CSV/JSON file with one of the project's asset-builder \
             templates: new batches named in the file are created, and the assets are \
             registered as upload_files_cloud does.\n\nReturns the server's reply.",
            errors!(
                "An unknown template is NotFound; an unreadable or malformed file is Io or InvalidArgument."
            )
        ),
        params: &[
            PROJECT_ID,
            req("template_id", "templateId", "string", "Any", "The template's id."),
            req("input_file_path", "inputFilePath", "string", "Any", "The CSV or JSON file."),
            opt("parse_config", "parseConfig", "Record<string, unknown>", "Any", "{}", "How to read the file: {\"delimiter\": \",\"}."),
            opt("priority", "priority", "number", "Any", "0", "The tasks' priority."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "upload_instructions",
        node_name: "uploadInstructions",
        doc: concat!(
            "Uploads a file as the project's instructions for annotators.\n\nReturns the \
             server's reply.",
            errors!("An unreadable file is Io.")
        ),
        params: &[
            PROJECT_ID,
            req("file_path", "filePath", "string", "str", "The file."),
            opt("storage_id", "storageId", "string", "str", "null", "A storage to keep it in."),
            opt("bucket", "bucket", "string", "str", "null", "The bucket in that storage."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "annotate_task",
        node_name: "annotateTask",
        doc: concat!(
            "Saves an answer on a task. Unless overwrite is set, the task's stored answer \
             is read first and merged in: new classifications win by schemaId, stored \
             objects and relations are kept after the new ones.\n\nReturns true when the \
             server answered with a body (any normal success).",
            errors!()
        ),
        params: &[
            TASK_ID,
            req("payload", "payload", "AnnotationPayload", "AnnotationPayload", "The answer and brush mask URLs."),
            opt("overwrite", "overwrite", "boolean", "Any", "false", "Replace the stored answer instead of merging."),
            opt("send_to_next_stage", "sendToNextStage", "boolean", "Any", "false", "Submit the task to its next stage."),
            kw(opt("is_plugin", "isPlugin", "boolean", "bool", "false", "Mark the call as made by a plugin.")),
        ],
        returns: Returns::Plain("boolean"),
    },
    MethodSpec {
        name: "review_task",
        node_name: "reviewTask",
        doc: concat!(
            "Records a review decision on a task.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            TASK_ID,
            req("review_status", "reviewStatus", "string", "ReviewStatus", "ACCEPTED or REJECTED (a ReviewStatus value)."),
            opt("pct_details", "pctDetails", "Record<string, unknown>", "Dict", "null", "Point-cloud details."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "_get_upload_url",
        node_name: "getUploadUrl",
        doc: concat!(
            "A signed URL to PUT a new file to, in the project's storage.\n\nReturns the URL.",
            errors!()
        ),
        params: &[
            req("file_name", "fileName", "string", "str", "The file's name."),
            req("project", "project", "string", "str", "The project's id."),
            req("file_type", "fileType", "string", "StorageFileTypes", "What the file is for (a StorageFileTypes value)."),
            opt("storage_id", "storageId", "string", "str", "null", "A storage to put it in."),
        ],
        returns: Returns::Plain("string"),
    },
    MethodSpec {
        name: "_get_signed_url",
        node_name: "getSignedUrl",
        doc: concat!(
            "A signed URL to read a stored file.\n\nReturns the URL.",
            errors!()
        ),
        params: &[
            req("asset_url", "assetUrl", "string", "str", "The file's storage URL."),
            req("project", "project", "string", "str", "The project's id."),
            req("file_type", "fileType", "string", "StorageFileTypes", "What the file is for (a StorageFileTypes value)."),
            opt("storage_id", "storageId", "string", "str", "null", "The storage holding it."),
        ],
        returns: Returns::Plain("string"),
    },
    MethodSpec {
        name: "_plugin_log",
        node_name: "pluginLog",
        doc: concat!(
            "For plugins: sends a log record of a plugin run.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[req(
            "log",
            "log",
            "Record<string, unknown>",
            "Any",
            "The log record.",
        )],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "_plugin_response",
        node_name: "pluginResponse",
        doc: concat!(
            "For plugins: sends a plugin run's result ({\"response\"|\"error\", \"session\", \
             \"export\"?}).\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[req(
            "response",
            "response",
            "Record<string, unknown>",
            "Dict",
            "The result.",
        )],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "file_explorer",
        node_name: "fileExplorer",
        doc: concat!(
            "Browses a storage bucket, or imports files from it into a project.\n\nReturns \
             the server's reply.",
            errors!()
        ),
        params: &[
            req("bucket", "bucket", "string", "str", "The bucket."),
            STORAGE_ID,
            opt("options", "options", "Record<string, unknown>", "Dict", "{}", "The explorer's other fields: folder, files, upload, projectId, scrollToken, batches, extensions."),
        ],
        returns: Returns::Any,
    },
    MethodSpec {
        name: "rerun_webhook",
        node_name: "rerunWebhook",
        doc: concat!(
            "Runs a webhook stage of the project's workflow again.\n\nReturns the server's reply.",
            errors!()
        ),
        params: &[
            PROJECT_ID,
            req("webhook_stage_id", "webhookStageId", "string", "str", "The webhook stage's id."),
        ],
        returns: Returns::Any,
    },
];

/// The table as JSON, for the bindings and the code generator: a list of
/// `{name, node_name, doc, params: [{name, node_name, ty, py_ty, default, keyword_only,
/// doc, aliases}], returns: {kind: "document"|"plain"|"any", type?}}`; `default` is the JSON text
/// of the default, or `null` for a required parameter.
pub fn methods_json() -> Value {
    specs_json(METHODS)
}

/// [`LISTINGS`] as JSON, in the form of [`methods_json`].
pub fn listings_json() -> Value {
    specs_json(LISTINGS)
}

const PAGE_SIZE: ParamSpec = kw(opt(
    "page_size",
    "pageSize",
    "number",
    "Optional[int]",
    "null",
    "Items held ahead of the reader (default 100, at most 1000); the pages are fetched in parallel.",
));

/// The auto-paginated listings ([`Client::listing`]), as the bindings' `iter_*`
/// methods (each returns a lazy row iterator, not a reply): `iter_tasks` (the
/// `get_tasks` filters), `iter_assets` (`filters`) and `iter_projects`, each with
/// `page_size`. The listing's kind is the name after `iter_`.
pub static LISTINGS: &[MethodSpec] = &[
    MethodSpec {
        name: "iter_tasks",
        node_name: "iterTasks",
        doc: "Every task of the project matching the filters (those of get_tasks), fetched \
              page by page as the rows are read.",
        params: &[
            PROJECT_ID,
            PAGE_SIZE,
            kw(opt(
                "status",
                "status",
                "string",
                "Optional[str]",
                "null",
                "Deprecated: only tasks of this status (TODO, Completed...).",
            )),
            kw(opt(
                "stage",
                "stage",
                "string",
                "Optional[str]",
                "null",
                "Deprecated: only tasks in this stage.",
            )),
            kw(opt(
                "batches",
                "batches",
                "string[]",
                "Optional[List[str]]",
                "null",
                "Deprecated: only tasks in these batches.",
            )),
            kw(opt(
                "include_answer",
                "includeAnswer",
                "boolean",
                "bool",
                "false",
                "Include each task's answer (always on when fields is given).",
            )),
            kw(opt(
                "task_filter",
                "taskFilter",
                "TaskFilter",
                "Optional[TaskFilter]",
                "null",
                "Server-side filter on stage, status, assignee, dates, ...",
            )),
            kw(opt(
                "sort",
                "sort",
                "string",
                "Optional[str]",
                "null",
                "Sort keys, such as -createdAt,priority.",
            )),
            kw(opt(
                "fields",
                "fields",
                "string",
                "Optional[str]",
                "null",
                "Comma-separated fields to return; _id, project and asset are always added.",
            )),
        ],
        returns: Returns::Plain("Task"),
    },
    MethodSpec {
        name: "iter_assets",
        node_name: "iterAssets",
        doc: "Every asset of the project matching the filters, fetched page by page as the \
              rows are read.",
        params: &[
            PROJECT_ID,
            PAGE_SIZE,
            kw(opt(
                "filters",
                "filters",
                "Record<string, unknown>",
                "Optional[Dict]",
                "null",
                "Filters sent as JSON: _id, externalId, isPreLabeled, batches, createdAt.",
            )),
        ],
        returns: Returns::Plain("Asset"),
    },
    MethodSpec {
        name: "iter_projects",
        node_name: "iterProjects",
        doc: "Every project visible to the API key, fetched page by page as the rows are read.",
        params: &[PAGE_SIZE],
        returns: Returns::Plain("Project"),
    },
];

fn specs_json(specs: &[MethodSpec]) -> Value {
    Value::Array(
        specs
            .iter()
            .map(|m| {
                let params: Vec<Value> = m
                    .params
                    .iter()
                    .map(|p| {
                        json!({
                            "name": p.name,
                            "node_name": p.node_name,
                            "ty": p.ty,
                            "py_ty": p.py_ty,
                            "default": p.default,
                            "keyword_only": p.keyword_only,
                            "doc": p.doc,
                            "aliases": p.aliases,
                        })
                    })
                    .collect();
                let returns = match m.returns {
                    Returns::Document(t) => json!({ "kind": "document", "type": t }),
                    Returns::Plain(t) => json!({ "kind": "plain", "type": t }),
                    Returns::Any => json!({ "kind": "any" }),
                };
                json!({
                    "name": m.name,
                    "node_name": m.node_name,
                    "doc": m.doc,
                    "params": params,
                    "returns": returns,
                })
            })
            .collect(),
    )
}

// ----------------------------------------------------------------- model forms

/// The model helpers a binding's model classes call, by name, with their arguments as
/// one JSON object: `new_schema_id` and `random_color` (no arguments);
/// `flatten_tree_options` (`nodes`: one tree option or a list, `title`: a prefix for the
/// paths) giving `[path, schemaId]` pairs; `validate_asset_builder_template`
/// (`template`) giving `true`; and `merge_annotations` (`existing`, `new`: the official merge rule). A bad argument is
/// [`Error::InvalidArgument`].
pub fn model_call(op: &str, args: Value) -> Result<Value> {
    use crate::models as m;
    use crate::ontology::{self, TreeOption};
    fn arg<T: DeserializeOwned>(args: &Value, name: &str) -> Result<T> {
        let value = args.get(name).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| Error::invalid(format!("{name}: {e}")))
    }
    Ok(match op {
        "new_schema_id" => Value::String(ontology::new_schema_id()),
        "random_color" => Value::String(ontology::random_color()),
        "flatten_tree_options" => {
            let trees: Vec<TreeOption> = match args.get("nodes") {
                Some(Value::Array(_)) => arg(&args, "nodes")?,
                _ => vec![arg(&args, "nodes")?],
            };
            let title: Option<String> = arg(&args, "title")?;
            let prefix = title.filter(|t| !t.is_empty()).map(|t| format!("{t} / "));
            let pairs = ontology::flatten_tree_options(&trees).into_iter().map(|o| {
                let path = format!("{}{}", prefix.as_deref().unwrap_or_default(), o.value);
                serde_json::json!([path, o.schema_id])
            });
            Value::Array(pairs.collect())
        }
        "validate_asset_builder_template" => {
            arg::<m::AssetBuilderTemplate>(&args, "template")?.validate()?;
            Value::Bool(true)
        }
        "merge_annotations" => {
            let existing: Value = arg(&args, "existing")?;
            m::merge_annotations(&existing, arg(&args, "new")?)?.to_value()
        }
        other => return Err(Error::invalid(format!("no model helper named '{other}'"))),
    })
}

/// The request models by name, for bindings whose users build them as objects (the
/// Python model classes' `toDict()`): the model `kind` read from `value` (its
/// attribute names or camelCase keys) and written in its wire form. `kind` is
/// `TaskFilter`, `DateRange`, `NumberRange`, `StringFilter`, `TimeFilter`,
/// `ProjectAssignment`, `Invitation`, `RoleUpdate`, `Storage`, `LLM`,
/// `AnnotationPayload`, `AssetBuilderTemplate`, `DataConfigItem`, `LabelOption`,
/// `TreeOption`, `Category` (a tool, classification or relation, by its `tool`) or
/// `ExportOptions` (written as the export's query parameters).
///
/// An unknown kind, or a value that is not that model, is [`Error::InvalidArgument`].
pub fn model_wire_form(kind: &str, value: Value) -> Result<Value> {
    use crate::models as m;
    use crate::ontology::{self, LabelOption, TreeOption};
    fn via<T: DeserializeOwned + serde::Serialize>(value: Value) -> Result<Value> {
        let model: T = serde_json::from_value(value).map_err(|e| Error::invalid(e.to_string()))?;
        serde_json::to_value(model).map_err(|e| Error::Internal(e.to_string()))
    }
    match kind {
        "TaskFilter" => via::<m::TaskFilter>(value),
        "DateRange" => via::<m::DateRange>(value),
        "NumberRange" => via::<m::NumberRange>(value),
        "StringFilter" => via::<m::StringFilter>(value),
        "TimeFilter" => via::<m::TimeFilter>(value),
        "ProjectAssignment" => via::<m::ProjectAssignment>(value),
        "Invitation" => via::<Invitation>(value),
        "RoleUpdate" => via::<RoleUpdate>(value),
        "Storage" => via::<Storage>(value),
        "LLM" => via::<Llm>(value),
        "AnnotationPayload" => via::<AnnotationPayload>(value),
        "AssetBuilderTemplate" => via::<AssetBuilderTemplate>(value),
        "DataConfigItem" => via::<m::DataConfigItem>(value),
        "LabelOption" => via::<LabelOption>(value),
        "TreeOption" => via::<TreeOption>(value),
        "Category" => {
            let tool = value
                .get("tool")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if tool.parse::<ontology::Tool>().is_ok() {
                ToolCategory::from_value(&value).map(|c| c.to_value())
            } else if tool.parse::<ontology::Relation>().is_ok() {
                RelationCategory::from_value(&value).map(|c| c.to_value())
            } else {
                ClassificationCategory::from_value(&value).map(|c| c.to_value())
            }
        }
        "ExportOptions" => {
            let options: m::ExportOptions =
                serde_json::from_value(value).map_err(|e| Error::invalid(e.to_string()))?;
            let query = options.to_query().into_iter();
            Ok(Value::Object(
                query.map(|(k, v)| (k, Value::String(v))).collect(),
            ))
        }
        other => Err(Error::invalid(format!("no model named {other:?}"))),
    }
}

// --------------------------------------------------------------------- dispatch

/// A call's arguments, checked against the method's parameters, with every default in.
struct Args {
    method: &'static MethodSpec,
    values: Map<String, Value>,
}

impl Args {
    /// Checks `args` (an object keyed by parameter name or node name, or `null` for
    /// none) and fills in the defaults.
    fn new(method: &'static MethodSpec, args: Value) -> Result<Args> {
        let given = match args {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(Error::invalid(format!(
                    "{}(): the arguments must be an object, got {}",
                    method.name,
                    kind_of(&other)
                )));
            }
        };
        let mut values = Map::with_capacity(method.params.len());
        for (key, value) in given {
            let Some(param) = method
                .params
                .iter()
                .find(|p| p.name == key || p.node_name == key || p.aliases.contains(&key.as_str()))
            else {
                return Err(Error::invalid(format!(
                    "{}() got an unexpected argument '{key}'",
                    method.name
                )));
            };
            match values.get(param.name) {
                // Given once, or before as `null` ("not given").
                None | Some(Value::Null) => {
                    values.insert(param.name.to_string(), value);
                }
                Some(_) if value.is_null() => {}
                Some(_) => {
                    return Err(Error::invalid(format!(
                        "{}() got argument '{}' twice (again as '{key}')",
                        method.name, param.name
                    )));
                }
            }
        }
        for param in method.params {
            // An argument with aliases may be left `null` under its name when an alias
            // stands for it: `null` there is not a value.
            if !param.aliases.is_empty()
                && param.default.is_none()
                && values.get(param.name).is_some_and(Value::is_null)
            {
                values.remove(param.name);
            }
            if values.contains_key(param.name) {
                continue;
            }
            let Some(default) = param.default else {
                let also = param
                    .aliases
                    .iter()
                    .map(|a| format!(" (or '{a}')"))
                    .collect::<String>();
                return Err(Error::invalid(format!(
                    "{}() is missing the required argument '{}'{also}",
                    method.name, param.name
                )));
            };
            let value = serde_json::from_str(default).map_err(|e| {
                Error::Internal(format!(
                    "bad default of {}.{}: {e}",
                    method.name, param.name
                ))
            })?;
            values.insert(param.name.to_string(), value);
        }
        Ok(Args { method, values })
    }

    /// One argument as `T`.
    fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let value = self.values.get(name).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| self.bad(name, e))
    }

    /// The table's default of argument `name`.
    fn default_of<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let default = self
            .method
            .params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.default)
            .unwrap_or("null");
        serde_json::from_str(default).map_err(|e| self.bad(name, e))
    }

    /// One argument as `T`, its table default when `null`.
    fn get_or_default<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        match self.values.get(name) {
            None | Some(Value::Null) => self.default_of(name),
            Some(_) => self.get(name),
        }
    }

    /// A text argument where `null` and `""` both mean "not given".
    fn text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.get::<Option<String>>(name)?.filter(|s| !s.is_empty()))
    }

    /// A list argument where `null` means an empty list.
    fn list<T: DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        Ok(self.get::<Option<Vec<T>>>(name)?.unwrap_or_default())
    }

    /// An object argument where `null` means an empty object.
    fn map(&self, name: &str) -> Result<Map<String, Value>> {
        Ok(self
            .get::<Option<Map<String, Value>>>(name)?
            .unwrap_or_default())
    }

    /// The arguments other than `skip`, as one params type (its field names are the
    /// parameter names).
    fn rest<T: DeserializeOwned>(&self, skip: &[&str]) -> Result<T> {
        let rest: Map<String, Value> = self
            .values
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::from_value(Value::Object(rest))
            .map_err(|e| Error::invalid(format!("{}(): invalid arguments: {e}", self.method.name)))
    }

    fn bad(&self, name: &str, error: impl std::fmt::Display) -> Error {
        Error::invalid(format!(
            "{}(): invalid argument '{name}': {error}",
            self.method.name
        ))
    }
}

/// Whether `value` reads as an issue's position: a number, or a non-empty list of
/// numbers.
fn is_position(value: &Value) -> bool {
    match value {
        Value::Number(_) => true,
        Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_number),
        _ => false,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The client the JSON-returning methods are called on (one place to switch to
/// `client.raw()` when the methods move there).
fn raw(c: &Client) -> crate::Raw<'_> {
    c.raw()
}

/// Runs a method that sends one request and returns its reply unchanged, keeping the
/// reply's body undecoded.
fn document(c: &Client, call: impl FnOnce(&Client) -> Result<Value>) -> Result<Reply> {
    c.raw_reply(|r| call(r)).map(Reply::Document)
}

fn value(result: Result<Value>) -> Result<Reply> {
    result.map(Reply::Value)
}

impl Client {
    /// An auto-paginated listing by name, its items as raw JSON ([`Pages::next_raw`]):
    /// `"tasks"` (`options`: `get_tasks`' filters; `page` and `limit` are ignored),
    /// `"assets"` (`filters`) or `"projects"`. `options` is an object keyed as for
    /// [`Client::call`] (snake_case or camelCase), plus `page_size` (`pageSize`);
    /// `project_id` is required for tasks and assets. Anything else is
    /// [`Error::InvalidArgument`], before any request.
    pub fn listing(
        &self,
        kind: &str,
        project_id: Option<&str>,
        options: Value,
    ) -> Result<crate::Pages> {
        let mut options = match options {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(Error::invalid(format!(
                    "the {kind} listing's options must be an object, got {}",
                    kind_of(&other)
                )));
            }
        };
        let given = |v: Option<Value>| v.filter(|v| !v.is_null());
        let size = match (
            given(options.remove("page_size")),
            given(options.remove("pageSize")),
        ) {
            (None, None) => None,
            (Some(v), None) | (None, Some(v)) => Some(
                serde_json::from_value::<u64>(v)
                    .map_err(|e| Error::invalid(format!("page_size: {e}")))?,
            ),
            (Some(_), Some(_)) => return Err(Error::invalid("page_size given twice")),
        };
        let project = || project_id.ok_or_else(|| Error::invalid("a project id is needed"));
        let pages = match kind {
            "tasks" => {
                options.insert("project_id".into(), Value::String(project()?.into()));
                let spec = MethodSpec::find("get_tasks")
                    .ok_or_else(|| Error::Internal("get_tasks is not in the table".into()))?;
                let a = Args::new(spec, Value::Object(options))?;
                let params: GetTasksParams = a.rest(&["project_id"])?;
                raw(self).iter_tasks(project()?, &params, size)
            }
            "assets" => {
                let filters = match options.remove("filters") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(map)) => map,
                    Some(other) => {
                        return Err(Error::invalid(format!(
                            "filters must be an object, got {}",
                            kind_of(&other)
                        )));
                    }
                };
                if let Some(key) = options.keys().next() {
                    return Err(Error::invalid(format!("unknown option '{key}'")));
                }
                raw(self).iter_assets(project()?, &filters, size)
            }
            "projects" => {
                if let Some(key) = options.keys().next() {
                    return Err(Error::invalid(format!("unknown option '{key}'")));
                }
                raw(self).iter_projects(size)
            }
            other => return Err(Error::invalid(format!("no listing named '{other}'"))),
        }?;
        Ok(pages.with_raw_items())
    }
}

impl Client {
    /// Calls the table method `method` (its snake_case or camelCase name) with `args`, a
    /// JSON object keyed by parameter name (snake_case or camelCase; `null` for none).
    ///
    /// Missing arguments take the table's defaults; an unknown method, an unknown or
    /// repeated key, a missing required argument or a value of the wrong type is
    /// [`Error::InvalidArgument`], before any request. The request sent is exactly the
    /// direct method's. A method returning the server's reply unchanged gives
    /// [`Reply::Document`] (the undecoded body), any other [`Reply::Value`].
    pub fn call(&self, method: &str, args: Value) -> Result<Reply> {
        let spec = MethodSpec::find(method)
            .ok_or_else(|| Error::invalid(format!("unknown method '{method}'")))?;
        let a = Args::new(spec, args)?;
        let c = &raw(self);
        match spec.name {
            "make_request" => {
                let (m, endpoint) = (a.get::<String>("method")?, a.get::<String>("endpoint")?);
                let payload: Option<Value> = a.get("payload")?;
                value(c.make_request(&m, &endpoint, payload.as_ref()))
            }
            "add_members_to_project" => {
                let (id, members) = (a.get::<String>("project_id")?, a.list::<String>("members")?);
                let role: ProjectRole = a.get("role")?;
                value(c.add_members_to_project(&id, &members, role))
            }
            "assign_batches" => {
                let id = a.get::<String>("project_id")?;
                let (assets, batches) =
                    (a.list::<String>("asset_ids")?, a.list::<String>("batches")?);
                value(c.assign_batches(&id, &assets, &batches))
            }
            "assign_task" => {
                let id = a.get::<String>("project_id")?;
                let tasks = a.list::<String>("task_ids")?;
                let (stage, email) = (a.get::<String>("stage_filter")?, a.get::<String>("email")?);
                value(c.assign_task(&id, &tasks, &stage, &email))
            }
            "create_attachment" => {
                let (id, items) = (
                    a.get::<String>("project_id")?,
                    a.list::<Value>("attachments")?,
                );
                value(c.create_attachment(&id, &items))
            }
            "create_batch" => {
                let (id, name) = (
                    a.get::<String>("project_id")?,
                    a.get::<String>("batch_name")?,
                );
                value(c.create_batch(&id, &name))
            }
            "create_batches" => {
                let (id, names) = (
                    a.get::<String>("project_id")?,
                    a.list::<String>("batch_names")?,
                );
                value(c.create_batches(&id, &names))
            }
            "create_issue" => {
                let mut a = a;
                // The v1.3.14 form `create_issue(task_id, content, position)`: numbers
                // where the mentions belong are the position.
                if a.values.get("position").is_none_or(Value::is_null)
                    && a.values.get("content_mentions").is_some_and(is_position)
                {
                    let position = a.values.insert("content_mentions".into(), Value::Null);
                    a.values
                        .insert("position".into(), position.unwrap_or(Value::Null));
                }
                let (id, content) = (a.get::<String>("task_id")?, a.get::<String>("content")?);
                let params: CreateIssueParams = a.rest(&["task_id", "content"])?;
                value(c.create_issue(&id, &content, &params))
            }
            "create_label_set" => {
                let id = a.get::<String>("project_id")?;
                let schema = CategorySchema {
                    tools: a.list::<ToolCategory>("tools")?,
                    classifications: a.list::<ClassificationCategory>("classifications")?,
                    relations: a.list::<RelationCategory>("relations")?,
                };
                let raw_schema: Option<Value> = a.get("raw_category_schema")?;
                value(c.create_label_set(&id, &schema, raw_schema.as_ref()))
            }
            "create_project" => {
                let name = a.get::<String>("name")?;
                let description = a.text("description")?;
                let kind = a
                    .text("project_type")?
                    .map(|t| t.parse::<ProjectType>())
                    .transpose()?;
                value(c.create_project(&name, description.as_deref(), kind))
            }
            "clone_project" => {
                let id = a.get::<String>("project_id")?;
                let options: CloneProjectOptions = a.rest(&["project_id"])?;
                value(c.clone_project(&id, &options))
            }
            "delete_issue" => {
                let (id, issue) = (a.get::<String>("project_id")?, a.get::<String>("issue_id")?);
                value(c.delete_issue(&id, &issue))
            }
            "update_issue" => {
                let id = a.get::<String>("issue_id")?;
                let params: UpdateIssueParams = a.rest(&["issue_id"])?;
                value(c.update_issue(&id, &params))
            }
            "add_comment_to_issue" => {
                let (id, content) = (a.get::<String>("issue_id")?, a.get::<String>("content")?);
                let mentions: Option<Vec<Value>> = a.get("content_mentions")?;
                value(c.add_comment_to_issue(&id, &content, mentions.as_deref()))
            }
            "delete_project" => value(c.delete_project(&a.get::<String>("project_id")?)),
            "purge_project" => {
                let (id, name) = (
                    a.get::<String>("project_id")?,
                    a.get::<String>("confirm_name")?,
                );
                value(c.purge_project(&id, &name))
            }
            "get_assets" => {
                let id = a.get::<String>("project_id")?;
                // The v1.3.14 form `get_assets(project_id, asset_id, external_id, ...)`: a
                // string where the page belongs is an asset id, then a string limit an
                // external id (a page or limit of `null` is the default).
                let text = |name: &str| a.values.get(name).and_then(Value::as_str);
                let mut asset_id: Option<String> = a.get("asset_id")?;
                let mut external_id: Option<String> = a.get("external_id")?;
                let (page, limit) = match text("page") {
                    Some(given) => {
                        asset_id = asset_id.or_else(|| Some(given.to_string()));
                        let limit = match text("limit") {
                            Some(given) => {
                                external_id = external_id.or_else(|| Some(given.to_string()));
                                a.default_of("limit")?
                            }
                            None => a.get_or_default("limit")?,
                        };
                        (a.default_of("page")?, limit)
                    }
                    None => (a.get_or_default("page")?, a.get_or_default("limit")?),
                };
                let mut filters = a.get::<Option<Map<String, Value>>>("filters")?;
                // The v1.3.14 arguments are filters (after the given ones).
                for (value, key) in [(asset_id, "_id"), (external_id, "externalId")] {
                    if let Some(value) = value {
                        filters
                            .get_or_insert_with(Map::new)
                            .insert(key.into(), Value::String(value));
                    }
                }
                match filters {
                    // `null` is sent as `filters=null`, as the official SDK sends None.
                    None => document(c, |c| raw(c).get_assets_page(&id, page, limit, None)),
                    Some(filters) => {
                        let params = GetAssetsParams {
                            page,
                            limit,
                            filters,
                        };
                        document(c, |c| raw(c).get_assets(&id, &params))
                    }
                }
            }
            "get_batches" => value(c.get_batches(&a.get::<String>("project_id")?)),
            "get_issues" => {
                let id = a.get::<String>("project_id")?;
                let params: GetIssuesParams = a.rest(&["project_id"])?;
                document(c, |c| raw(c).get_issues(&id, &params))
            }
            "get_metrics" => {
                let id = a.get::<String>("project_id")?;
                let metric: Metrics = a.get("metric")?;
                value(c.get_metrics(&id, metric))
            }
            "get_project" => {
                let id = a.get::<String>("project_id")?;
                document(c, |c| raw(c).get_project(&id))
            }
            "get_task" => {
                let id = a.get::<String>("task_id")?;
                let include_answer = a.get::<bool>("include_answer")?;
                document(c, |c| raw(c).get_task(&id, include_answer))
            }
            "get_tasks" => {
                let id = a.get::<String>("project_id")?;
                let params: GetTasksParams = a.rest(&["project_id"])?;
                document(c, |c| raw(c).get_tasks(&id, &params))
            }
            "get_task_history" => {
                let history_id: Option<String> = a.get("task_history_id")?;
                let task_id: Option<String> = a.get("task_id")?;
                value(c.get_task_history(history_id.as_deref(), task_id.as_deref()))
            }
            "import_labels" => {
                let (id, labels) = (a.get::<String>("project_id")?, a.list::<Value>("labels")?);
                value(c.import_labels(&id, &labels))
            }
            "list_projects" => {
                let (page, limit) = (a.get::<u64>("page")?, a.get::<u64>("limit")?);
                document(c, |c| raw(c).list_projects(page, limit))
            }
            "update_workflow_stages" => {
                let (id, stages) = (a.get::<String>("project_id")?, a.list::<Value>("stages")?);
                value(c.update_workflow_stages(&id, &stages))
            }
            "update_benchmark_settings" => {
                let id = a.get::<String>("project_id")?;
                let enabled = a.get::<bool>("benchmark_enabled")?;
                let ratio: Option<i64> = a.get("benchmark_ratio")?;
                let cutoff: Option<bool> = a.get("benchmark_cutoff")?;
                value(c.update_benchmark_settings(&id, enabled, ratio, cutoff))
            }
            "set_tasks_as_benchmark" => {
                let (id, tasks) = (
                    a.get::<String>("project_id")?,
                    a.list::<String>("task_ids")?,
                );
                let is_benchmark = a.get::<bool>("is_benchmark")?;
                value(c.set_tasks_as_benchmark(&id, &tasks, is_benchmark))
            }
            "update_label_validation" => {
                let id = a.get::<String>("project_id")?;
                let params: UpdateLabelValidationParams = a.rest(&["project_id"])?;
                value(c.update_label_validation(&id, &params))
            }
            "upload_files_cloud" => {
                let (id, assets) = (a.get::<String>("project_id")?, a.list::<Value>("assets")?);
                let storage = a.text("storage_id")?;
                let batches: Option<Vec<String>> = a.get("batches")?;
                let priority = a.get::<i64>("priority")?;
                let upload_local: Option<String> = a.get("upload_local")?;
                value(c.upload_files_cloud(
                    &id,
                    assets,
                    storage.as_deref(),
                    batches.as_deref(),
                    priority,
                    upload_local.as_deref(),
                ))
            }
            "delete_assets" => {
                let (id, assets) = (
                    a.get::<String>("project_id")?,
                    a.list::<String>("asset_ids")?,
                );
                value(c.delete_assets(&id, &assets))
            }
            "upload_chat_assets" => {
                let id = a.get::<String>("project_id")?;
                let config: ChatAssetCreationConfig = a.get("chat_asset_creation_config")?;
                let priority = a.get::<i64>("priority")?;
                value(c.upload_chat_assets(&id, &config, priority))
            }
            "requeue_tasks" => {
                let (id, stage) = (
                    a.get::<String>("project_id")?,
                    a.get::<String>("to_stage_id")?,
                );
                let params: RequeueTasksParams = a.rest(&["project_id", "to_stage_id"])?;
                value(c.requeue_tasks(&id, &stage, &params))
            }
            "update_tasks_priority" => {
                let (id, priority) = (a.get::<String>("project_id")?, a.get::<i64>("priority")?);
                let filters = a.map("filters")?;
                value(c.update_tasks_priority(&id, priority, &filters))
            }
            "get_project_performance" => {
                let id = a.get::<String>("project_id")?;
                let interval = match a.list::<Timestamp>("interval")?.as_slice() {
                    [] => None,
                    [start, end] => Some((*start, *end)),
                    _ => {
                        return Err(a.bad("interval", "expected [start_datetime, end_datetime]"));
                    }
                };
                let batches: Option<Vec<String>> = a.get("batches")?;
                value(c.get_project_performance(&id, interval, batches.as_deref()))
            }
            "create_storage" => value(c.create_storage(&a.get::<Storage>("storage_data")?)),
            "delete_organization_invites" => {
                let id = a.get::<String>("organization_id")?;
                let emails = a.list::<String>("invite_emails")?;
                value(c.delete_organization_invites(&id, &emails))
            }
            "delete_organization_members" => {
                let id = a.get::<String>("organization_id")?;
                let emails = a.list::<String>("member_emails")?;
                value(c.delete_organization_members(&id, &emails))
            }
            "delete_storage" => value(c.delete_storage(&a.get::<String>("storage_id")?)),
            "get_organization_invites" => {
                let id = a.get::<String>("organization_id")?;
                document(c, |c| raw(c).get_organization_invites(&id))
            }
            "get_organization_members" => {
                let id = a.get::<String>("organization_id")?;
                document(c, |c| raw(c).get_organization_members(&id))
            }
            "get_storages" => value(c.get_storages(a.text("storage_id")?.as_deref())),
            "create_llm" => value(c.create_llm(&a.get::<Llm>("llm_data")?)),
            "delete_llm" => value(c.delete_llm(&a.get::<String>("llm_id")?)),
            "get_llms" => value(c.get_llms(a.text("llm_id")?.as_deref())),
            "list_storage_files" => {
                let (id, bucket) = (
                    a.get::<String>("storage_id")?,
                    a.get::<String>("bucket_name")?,
                );
                let params: ListStorageFilesParams = a.rest(&["storage_id", "bucket_name"])?;
                value(c.list_storage_files(&id, &bucket, &params))
            }
            "invite_members_to_org" => {
                let id = a.get::<String>("organization_id")?;
                let invitation: Invitation = a.get("invite_data")?;
                value(c.invite_members_to_org(&id, &invitation))
            }
            "update_organization_members_role" => {
                let id = a.get::<String>("organization_id")?;
                let updates = a.list::<RoleUpdate>("role_updates")?;
                value(c.update_organization_members_role(&id, &updates))
            }
            "send_notification" => {
                let (receivers, message) =
                    (a.list::<String>("receivers")?, a.get::<String>("message")?);
                let title: Option<String> = a.get("title")?;
                let link: Option<String> = a.get("clickable_link")?;
                value(c.send_notification(&receivers, &message, title.as_deref(), link.as_deref()))
            }
            "get_asset_builder_templates" => {
                value(c.get_asset_builder_templates(&a.get::<String>("project_id")?))
            }
            "create_asset_builder_template" => {
                let id = a.get::<String>("project_id")?;
                let template: AssetBuilderTemplate = a.get("template")?;
                value(c.create_asset_builder_template(&id, &template))
            }
            "upload_files_with_asset_builder" => {
                let id = a.get::<String>("project_id")?;
                let template = a.get::<String>("template_id")?;
                let path = a.get::<String>("input_file_path")?;
                let parse_config = ParseConfig::from_value(&a.get::<Value>("parse_config")?)?;
                let priority = a.get::<i64>("priority")?;
                value(c.upload_files_with_asset_builder(
                    &id,
                    &template,
                    &path,
                    &parse_config,
                    priority,
                ))
            }
            "upload_instructions" => {
                let (id, path) = (
                    a.get::<String>("project_id")?,
                    a.get::<String>("file_path")?,
                );
                let (storage, bucket) = (a.text("storage_id")?, a.text("bucket")?);
                value(c.upload_instructions(&id, &path, storage.as_deref(), bucket.as_deref()))
            }
            "annotate_task" => {
                let id = a.get::<String>("task_id")?;
                let payload: AnnotationPayload = a.get("payload")?;
                let options: AnnotateOptions = a.rest(&["task_id", "payload"])?;
                c.annotate_task(&id, &payload, options)
                    .map(|ok| Reply::Value(Value::Bool(ok)))
            }
            "review_task" => {
                let id = a.get::<String>("task_id")?;
                let status: ReviewStatus = a.get("review_status")?;
                let pct: Option<Value> = a.get("pct_details")?;
                value(c.review_task(&id, status, pct.as_ref()))
            }
            "_get_upload_url" | "_get_signed_url" => {
                let file = a.get::<String>(if spec.name == "_get_upload_url" {
                    "file_name"
                } else {
                    "asset_url"
                })?;
                let project = a.get::<String>("project")?;
                let kind: StorageFileType = a.get("file_type")?;
                let storage: Option<String> = a.get("storage_id")?;
                let url = if spec.name == "_get_upload_url" {
                    c.get_upload_url(&file, &project, kind, storage.as_deref())
                } else {
                    c.get_signed_url(&file, &project, kind, storage.as_deref())
                };
                url.map(|u| Reply::Value(Value::String(u)))
            }
            "_plugin_log" => value(c.plugin_log(&a.get::<Value>("log")?)),
            "_plugin_response" => value(c.plugin_response(&a.get::<Value>("response")?)),
            "file_explorer" => {
                let (bucket, id) = (a.get::<String>("bucket")?, a.get::<String>("storage_id")?);
                let options = a.map("options")?;
                value(c.file_explorer(&bucket, &id, &options))
            }
            "rerun_webhook" => {
                let (id, stage) = (
                    a.get::<String>("project_id")?,
                    a.get::<String>("webhook_stage_id")?,
                );
                value(c.rerun_webhook(&id, &stage))
            }
            other => Err(Error::Internal(format!(
                "the method table lists '{other}' but nothing dispatches it"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_defaults_are_json() {
        let mut names = std::collections::HashSet::new();
        for m in METHODS {
            assert!(names.insert(m.name), "{} twice", m.name);
            assert!(
                names.insert(m.node_name) || m.node_name == m.name,
                "{} twice",
                m.node_name
            );
            assert!(!m.doc.is_empty());
            let mut params = std::collections::HashSet::new();
            let mut seen_default = false;
            for p in m.params {
                assert!(params.insert(p.name), "{}.{} twice", m.name, p.name);
                if let Some(d) = p.default {
                    serde_json::from_str::<Value>(d)
                        .unwrap_or_else(|e| panic!("{}.{}: {e}", m.name, p.name));
                    seen_default = true;
                } else {
                    assert!(
                        !seen_default,
                        "{}.{}: required after optional",
                        m.name, p.name
                    );
                    assert!(!p.keyword_only, "{}.{}", m.name, p.name);
                }
            }
        }
    }

    #[test]
    fn table_defaults_are_the_params_types_defaults() {
        let defaults = |name: &str, skip: &[&str]| -> Value {
            let m = MethodSpec::find(name).unwrap();
            let mut map = Map::new();
            for p in m.params.iter().filter(|p| !skip.contains(&p.name)) {
                map.insert(
                    p.name.into(),
                    serde_json::from_str(p.default.unwrap()).unwrap(),
                );
            }
            Value::Object(map)
        };
        let get_tasks: GetTasksParams =
            serde_json::from_value(defaults("get_tasks", &["project_id"])).unwrap();
        assert_eq!(get_tasks, GetTasksParams::default());
        let clone: CloneProjectOptions =
            serde_json::from_value(defaults("clone_project", &["project_id"])).unwrap();
        assert_eq!(clone, CloneProjectOptions::default());
        let list: ListStorageFilesParams = serde_json::from_value(defaults(
            "list_storage_files",
            &["storage_id", "bucket_name"],
        ))
        .unwrap();
        assert_eq!(list, ListStorageFilesParams::default());
        let annotate: AnnotateOptions =
            serde_json::from_value(defaults("annotate_task", &["task_id", "payload"])).unwrap();
        assert_eq!(annotate, AnnotateOptions::default());
    }

    #[test]
    fn aliases_stand_for_their_argument() {
        let assign = MethodSpec::find("assign_task").unwrap();
        let args = |v: Value| Args::new(assign, v).map(|a| a.values);
        // The v1.3.14 names, alone or next to a `null` under the official name.
        let old =
            args(json!({"project": "p", "tasks": ["t"], "stage": "s", "email": "e"})).unwrap();
        let mixed = args(
            json!({"project_id": null, "project": "p", "task_ids": ["t"],
                                "tasks": null, "stage_filter": null, "stage": "s", "email": "e"}),
        )
        .unwrap();
        assert_eq!(old, mixed);
        assert_eq!(old["project_id"], "p");
        assert_eq!(old["task_ids"], json!(["t"]));
        match args(
            json!({"project_id": "a", "project": "b", "task_ids": [], "stage_filter": "s", "email": "e"}),
        ) {
            Err(Error::InvalidArgument(m)) => {
                assert!(m.contains("twice") && m.contains("project"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        match args(
            json!({"project_id": null, "project": null, "task_ids": [], "stage_filter": "s", "email": "e"}),
        ) {
            Err(Error::InvalidArgument(m)) => {
                assert!(
                    m.contains("missing the required argument 'project_id' (or 'project')"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
        // An alias is not a name of other methods' parameters.
        let get_project = MethodSpec::find("get_project").unwrap();
        assert!(Args::new(get_project, json!({"project": "p"})).is_err());
        let get_tasks = MethodSpec::find("get_tasks").unwrap();
        let a = Args::new(get_tasks, json!({"project_id": "p", "stages": "Review"})).unwrap();
        assert_eq!(
            a.rest::<GetTasksParams>(&["project_id"])
                .unwrap()
                .stage
                .as_deref(),
            Some("Review")
        );
        let listed = methods_json();
        let assign = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "assign_task")
            .unwrap();
        assert_eq!(assign["params"][0]["aliases"], json!(["project"]));
    }

    #[test]
    fn model_wire_forms_by_name() {
        let filter = model_wire_form("TaskFilter", json!({"status": "TODO"})).unwrap();
        assert_eq!(filter, json!({"status": {"$eq": "TODO"}}));
        let relation = model_wire_form(
            "Category",
            json!({"tool": "one-to-one", "title": "r", "schemaId": "s"}),
        )
        .unwrap();
        assert_eq!(relation["tool"], "one-to-one");
        let query = model_wire_form("ExportOptions", json!({"batches": ["b"]})).unwrap();
        assert_eq!(query["batches"], "[\"b\"]");
        for (kind, value) in [
            ("NoSuchModel", json!({})),
            ("TaskFilter", json!({"nope": 1})),
        ] {
            assert!(
                matches!(model_wire_form(kind, value), Err(Error::InvalidArgument(_))),
                "{kind}"
            );
        }
    }

    #[test]
    fn methods_json_lists_every_method() {
        let json = methods_json();
        let list = json.as_array().unwrap();
        assert_eq!(list.len(), METHODS.len());
        assert_eq!(list[0]["name"], "make_request");
        assert_eq!(list[0]["params"][2]["default"], "null");
        let get_project = list.iter().find(|m| m["name"] == "get_project").unwrap();
        assert_eq!(
            get_project["returns"],
            json!({"kind": "document", "type": "ProjectData"})
        );
    }
}
