//! Typed results: what the Ango Hub API answers, as Rust structs.
//!
//! Every reply of the API is a document `{"status": "success", "data": {...}}`
//! ([`ApiDocument`]); its `data` has one shape per kind of reply ([`ProjectData`],
//! [`TaskList`], ...), holding the resources users handle ([`Project`], [`Task`],
//! [`Asset`], [`Batch`], [`Issue`], [`Member`], [`Invite`], [`StorageInfo`],
//! [`LlmInfo`]). The typed methods of [`Client`](crate::Client) decode the reply into
//! these and hand out the resource (or a [`Page`] of them); the JSON as the server sent
//! it stays reachable through [`Client::raw`](crate::Client::raw).
//!
//! The models are lenient on purpose, so a server change never breaks a reader:
//!
//! - field names are the server's (`_id`, camelCase) on the wire, snake_case in Rust;
//! - a missing field (or `null` where a list is expected) reads as empty (`None`, `[]`);
//! - every field the model does not know is kept in the struct's `extra` map and written
//!   back when the struct is serialized;
//! - only a known field holding a value of the wrong type is an error
//!   ([`Error::Decode`], naming what was expected).
//!
//! ```
//! let task: ango_core::Task = serde_json::from_str(r#"{
//!     "_id": "t1", "stage": "Label", "priority": 3, "newServerField": [1, 2]
//! }"#).unwrap();
//! assert_eq!(task.id.as_deref(), Some("t1"));
//! assert_eq!(task.priority, Some(3));
//! assert_eq!(task.extra["newServerField"], serde_json::json!([1, 2]));
//! assert!(task.batches.is_empty()); // missing: empty
//! ```

mod organization;
mod project;
mod task;

pub use organization::{Invite, Issue, LlmInfo, Member, StorageInfo};
pub use project::{Batch, LabelCategory, LabelSet, Project, WorkflowStage};
pub use task::{Asset, AssetTask, StageHistoryEntry, Task, TaskAnswer};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A reply of the API: its `status` (`"success"`) and its `data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(bound = "T: schemars::JsonSchema + Default + Serialize")
)]
#[serde(bound(deserialize = "T: Deserialize<'de> + Default"))]
pub struct ApiDocument<T> {
    /// `"success"` for every reply that is not an error.
    #[serde(default)]
    pub status: String,
    /// What the reply carries.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub data: T,
    /// Any other top-level field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of a listing, as the typed listing methods return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// How many items the whole listing holds (`data.total`; the page's length when the
    /// server did not say).
    pub total: u64,
}

impl<T> Page<T> {
    fn new(items: Vec<T>, total: Option<u64>) -> Self {
        let total = total.unwrap_or(items.len() as u64);
        Page { items, total }
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Declares a `data` shape: a struct with its documented fields and the `extra` map.
macro_rules! data_type {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $wire:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $wire, default, deserialize_with = "crate::models::null_default")]
                pub $field: $ty,
            )*
            /// Every other field of `data`.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }
    };
}

data_type! {
    /// `data` of a reply about one project (`get_project`, `create_project`, ...).
    ProjectData {
        /// The project.
        project: Project => "project",
    }
}

data_type! {
    /// `data` of `list_projects`: one page of projects.
    ProjectList {
        /// The page's projects.
        projects: Vec<Project> => "projects",
        /// How many projects there are in all.
        total: Option<u64> => "total",
    }
}

data_type! {
    /// `data` of `get_task`.
    TaskData {
        /// The task.
        task: Task => "task",
    }
}

data_type! {
    /// `data` of `get_tasks`: one page of tasks.
    TaskList {
        /// The page's tasks.
        tasks: Vec<Task> => "tasks",
        /// How many tasks match in all.
        total: Option<u64> => "total",
    }
}

data_type! {
    /// `data` of `get_assets`: one page of assets.
    AssetList {
        /// The page's assets.
        assets: Vec<Asset> => "assets",
        /// How many assets match in all.
        total: Option<u64> => "total",
    }
}

data_type! {
    /// `data` of `get_batches`: the project's batches.
    BatchList {
        /// The batches.
        batches: Vec<Batch> => "batches",
    }
}

data_type! {
    /// `data` of a reply about one issue (`create_issue`, `update_issue`, ...).
    IssueData {
        /// The issue.
        issue: Issue => "issue",
    }
}

data_type! {
    /// `data` of `get_issues`. The service documents the list under `issue` (singular);
    /// some servers send `issues`: [`IssueList::items`] reads whichever is there.
    IssueList {
        /// The issues, under `issues`.
        issues: Vec<Issue> => "issues",
        /// The issues, under `issue` (the documented key).
        issue: Vec<Issue> => "issue",
        /// How many issues match in all.
        total: Option<u64> => "total",
    }
}

impl IssueList {
    /// The issues, from `issues` or else from `issue`.
    pub fn items(self) -> Vec<Issue> {
        if self.issues.is_empty() {
            self.issue
        } else {
            self.issues
        }
    }
}

data_type! {
    /// `data` of `get_organization_members`.
    MemberList {
        /// The organization's members.
        users: Vec<Member> => "users",
        /// How many members there are.
        total: Option<u64> => "total",
    }
}

data_type! {
    /// `data` of `get_organization_invites` and `invite_members_to_org`.
    InviteList {
        /// The invitations.
        invites: Vec<Invite> => "invites",
    }
}

data_type! {
    /// `data` of `get_storages`.
    StorageList {
        /// The organization's storages.
        storages: Vec<StorageInfo> => "storages",
    }
}

data_type! {
    /// `data` of `create_storage` and `delete_storage`.
    StorageData {
        /// The storage.
        storage: StorageInfo => "storage",
    }
}

data_type! {
    /// `data` of `get_llms`.
    LlmList {
        /// The organization's LLM configurations.
        llms: Vec<LlmInfo> => "llms",
    }
}

data_type! {
    /// `data` of `create_llm` and `delete_llm`.
    LlmData {
        /// The LLM configuration.
        llm: LlmInfo => "llm",
    }
}

data_type! {
    /// `data` of an export request: where the export file can be downloaded.
    ExportData {
        /// The download URL of the export archive (signed; no API key needed).
        export_path: Option<String> => "exportPath",
    }
}

/// Decodes a whole reply into `ApiDocument<T>`; `what` names the expected shape in the
/// error (for example `"a project"`).
pub(crate) fn decode_document<T>(reply: Value, what: &str) -> Result<ApiDocument<T>>
where
    T: DeserializeOwned + Default,
{
    ApiDocument::<T>::deserialize(&reply).map_err(|e| {
        Error::decode(
            format!("expected {what} in the reply: {e}"),
            reply.to_string().as_bytes(),
        )
    })
}

/// Decodes one item of a listing (`what` names the type in the error).
pub(crate) fn decode_item<T: DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| Error::decode(format!("expected {what}: {e}"), text.as_bytes()))
}

impl ProjectList {
    /// The page of projects.
    pub fn into_page(self) -> Page<Project> {
        Page::new(self.projects, self.total)
    }
}

impl TaskList {
    /// The page of tasks.
    pub fn into_page(self) -> Page<Task> {
        Page::new(self.tasks, self.total)
    }
}

impl AssetList {
    /// The page of assets.
    pub fn into_page(self) -> Page<Asset> {
        Page::new(self.assets, self.total)
    }
}

impl IssueList {
    /// The page of issues.
    pub fn into_page(self) -> Page<Issue> {
        let total = self.total;
        Page::new(self.items(), total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issues_are_read_from_either_key() {
        let listed: IssueList =
            serde_json::from_value(json!({"issue": [{"_id": "a"}], "total": 4})).unwrap();
        let page = listed.into_page();
        assert_eq!(page.items[0].id.as_deref(), Some("a"));
        assert_eq!(page.total, 4);
        let both: IssueList =
            serde_json::from_value(json!({"issues": [{"_id": "b"}], "issue": [{"_id": "c"}]}))
                .unwrap();
        assert_eq!(both.items()[0].id.as_deref(), Some("b"));
    }

    #[test]
    fn a_page_without_total_counts_its_items() {
        let listed: TaskList = serde_json::from_value(json!({"tasks": [{}, {}]})).unwrap();
        assert_eq!(listed.into_page().total, 2);
        let listed: TaskList = serde_json::from_value(json!({"tasks": [{}], "total": 10})).unwrap();
        assert_eq!(listed.into_page().total, 10);
    }

    #[test]
    fn decode_errors_name_what_was_expected() {
        let err = decode_document::<ProjectData>(json!({"data": {"project": []}}), "a project")
            .unwrap_err();
        match err {
            Error::Decode {
                message,
                body_snippet,
            } => {
                assert!(message.starts_with("expected a project"), "{message}");
                assert!(body_snippet.contains("\"project\":[]"), "{body_snippet}");
            }
            other => panic!("{other:?}"),
        }
        let err = decode_item::<Task>("{\"priority\": \"high\"}", "Task").unwrap_err();
        assert!(err.to_string().contains("expected Task"), "{err}");
    }
}
