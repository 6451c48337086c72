//! Tasks: reading, assigning, annotating, reviewing, requeueing and prioritising tasks,
//! importing labels, and the plugin callbacks.

use serde_json::{Map, Value, json};

use crate::client::{Client, Raw};
use crate::error::Result;
use crate::http::encode_component;
use crate::models::{AnnotationPayload, ReviewStatus, TaskFilter, merge_annotations};

/// Fields `get_tasks` always asks for when `fields` is given (the official SDK adds them).
const REQUIRED_TASK_FIELDS: [&str; 3] = ["_id", "project", "asset"];

/// Paging, filters and field selection of [`Client::get_tasks`]; the defaults are the
/// official SDK's (page 1, limit 10, no answers).
///
/// `status`, `stage` and `batches` are the deprecated pre-[`TaskFilter`] filters. They
/// are still sent, unless `task_filter` sets the same criterion, which then wins. The
/// official SDK emits a `DeprecationWarning` for them; the core has no warning channel,
/// so the bindings warn.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GetTasksParams {
    /// The page, from 1 (default 1).
    pub page: u64,
    /// Tasks per page (default 10).
    pub limit: u64,
    /// Deprecated: status equal to this (`status[eq]=`).
    pub status: Option<String>,
    /// Deprecated: in this stage (`stage=`).
    pub stage: Option<String>,
    /// Deprecated: in these batches (`batches=<json>`).
    pub batches: Option<Vec<String>>,
    /// Include each task's answer (default `false`; forced on when `fields` is given).
    pub include_answer: bool,
    /// Server-side filter, sent as JSON in `filter=` when it constrains anything.
    pub task_filter: Option<TaskFilter>,
    /// Sort keys, such as `-createdAt,priority`.
    pub sort: Option<String>,
    /// Comma-separated fields to return, such as `_id,stage,assignee`; `_id`, `project`
    /// and `asset` are always added (after the given ones, duplicates dropped).
    pub fields: Option<String>,
}

impl Default for GetTasksParams {
    fn default() -> Self {
        GetTasksParams {
            page: 1,
            limit: 10,
            status: None,
            stage: None,
            batches: None,
            include_answer: false,
            task_filter: None,
            sort: None,
            fields: None,
        }
    }
}

/// How [`Client::annotate_task`] applies an answer; all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnnotateOptions {
    /// Replace the task's stored answer instead of merging the new one into it.
    pub overwrite: bool,
    /// Submit the task to its next workflow stage.
    pub send_to_next_stage: bool,
    /// Mark the call as made by a plugin (`isPlugin=true`), as Ango plugins do.
    pub is_plugin: bool,
}

/// Which tasks [`Client::requeue_tasks`] moves, and how.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequeueTasksParams {
    /// Which tasks: `taskIds`, `externalIds`, `assetIds`, `batches`, `fromStageIds`
    /// (default `{}`; `null` too).
    #[serde(deserialize_with = "crate::models::null_default")]
    pub filters: Map<String, Value>,
    /// What to clear: `removeAnnotations`, `removeAssignee`, `removeStageHistory`
    /// (default `{}`; `null` too).
    #[serde(deserialize_with = "crate::models::null_default")]
    pub options: Map<String, Value>,
}

impl Raw<'_> {
    /// Reads one task (`GET /v2/task/{id}?includeAnswer=True|False`; the flag is
    /// capitalised as the official SDK sends it).
    pub fn get_task(&self, task_id: &str, include_answer: bool) -> Result<Value> {
        self.get(format!("/v2/task/{}", encode_component(task_id)))
            .query(
                "includeAnswer",
                if include_answer { "True" } else { "False" },
            )
            .send()
    }

    /// Lists a project's tasks, one page at a time (`GET /v2/project/{id}/tasks`).
    pub fn get_tasks(&self, project_id: &str, params: &GetTasksParams) -> Result<Value> {
        let mut call = self
            .get(format!(
                "/v2/project/{}/tasks",
                encode_component(project_id)
            ))
            .query("page", params.page)
            .query("limit", params.limit);
        match params.fields.as_deref().filter(|f| !f.is_empty()) {
            Some(fields) => {
                call = call
                    .query("fields", task_fields(fields))
                    .query("includeAnswer", "true");
            }
            None => call = call.query("includeAnswer", params.include_answer),
        }
        let filter = params.task_filter.as_ref();
        if let Some(filter) = filter.filter(|f| !f.is_empty()) {
            call = call.query("filter", filter.to_json());
        }
        if let Some(status) = params.status.as_deref().filter(|s| !s.is_empty())
            && filter.is_none_or(|f| f.status.is_none())
        {
            call = call.query("status[eq]", status);
        }
        if let Some(batches) = params.batches.as_ref().filter(|b| !b.is_empty())
            && filter.is_none_or(|f| f.batches.is_none())
        {
            call = call.query_json("batches", batches);
        }
        if let Some(stage) = params.stage.as_deref().filter(|s| !s.is_empty())
            && filter.is_none_or(|f| f.stage.is_none())
        {
            call = call.query("stage", stage);
        }
        call.query_opt("sort", params.sort.as_deref().filter(|s| !s.is_empty()))
            .send()
    }
}

impl Client {
    /// Reads a task's history: one entry by `task_history_id`
    /// (`GET /v2/taskHistory/{id}`), else all of `task_id`'s (`GET /v2/task/{id}/history`).
    ///
    /// With neither (or only empty strings), nothing is sent and the result is `{}`,
    /// as in the official SDK.
    pub fn get_task_history(
        &self,
        task_history_id: Option<&str>,
        task_id: Option<&str>,
    ) -> Result<Value> {
        let path = match (
            task_history_id.filter(|id| !id.is_empty()),
            task_id.filter(|id| !id.is_empty()),
        ) {
            (Some(history_id), _) => format!("/v2/taskHistory/{}", encode_component(history_id)),
            (None, Some(task_id)) => format!("/v2/task/{}/history", encode_component(task_id)),
            (None, None) => return Ok(Value::Object(Map::new())),
        };
        self.get(path).send()
    }

    /// Assigns tasks in a stage to a user, by email (`POST /v2/task/assign`).
    pub fn assign_task(
        &self,
        project_id: &str,
        task_ids: &[String],
        stage_filter: &str,
        email: &str,
    ) -> Result<Value> {
        self.post("/v2/task/assign")
            .json(&json!({
                "project": project_id,
                "tasks": task_ids,
                "user": email,
                "stage": stage_filter,
            }))
            .send()
    }

    /// Imports labels in the Ango import format (`POST /v2/import/labels`); each item
    /// names its asset by `externalId`.
    pub fn import_labels(&self, project_id: &str, labels: &[Value]) -> Result<Value> {
        self.post("/v2/import/labels")
            .json(&json!({ "project": project_id, "jsonContent": labels }))
            .send()
    }

    /// Saves an answer on a task (`POST /v2/annotate/{id}?nextStage=..&isPlugin=..`).
    ///
    /// Unless `options.overwrite` is set, the task's stored answer is read first
    /// (`GET /v2/task/{id}?includeAnswer=False`) and merged with the new one by
    /// [`merge_annotations`]: the new classifications win by `schemaId`, stored objects
    /// and relations are kept after the new ones. Returns whether the server answered
    /// with a non-`null` body, as the official SDK does (true on any normal success).
    pub fn annotate_task(
        &self,
        task_id: &str,
        payload: &AnnotationPayload,
        options: AnnotateOptions,
    ) -> Result<bool> {
        let mut payload = payload.clone();
        if !options.overwrite {
            let task = self.raw().get_task(task_id, false)?;
            let stored = task.pointer("/data/task/answer").unwrap_or(&Value::Null);
            let new = payload.answer.take().unwrap_or_default();
            payload.answer = Some(merge_annotations(stored, new)?);
        }
        let response = self
            .post(format!("/v2/annotate/{}", encode_component(task_id)))
            .query("nextStage", options.send_to_next_stage)
            .query("isPlugin", options.is_plugin)
            .json(&payload.to_value())
            .send()?;
        Ok(!response.is_null())
    }

    /// Records a review decision on a task (`POST /v2/review/{id}`).
    pub fn review_task(
        &self,
        task_id: &str,
        review_status: ReviewStatus,
        pct_details: Option<&Value>,
    ) -> Result<Value> {
        let mut body = Map::new();
        body.insert("reviewStatus".into(), json!(review_status.as_str()));
        if let Some(pct) = pct_details {
            body.insert("pctDetails".into(), pct.clone());
        }
        self.post(format!("/v2/review/{}", encode_component(task_id)))
            .json(&body)
            .send()
    }

    /// Sends tasks back to a stage (`POST /v2/project/{id}/requeueTasks`).
    pub fn requeue_tasks(
        &self,
        project_id: &str,
        to_stage_id: &str,
        params: &RequeueTasksParams,
    ) -> Result<Value> {
        self.post(format!(
            "/v2/project/{}/requeueTasks",
            encode_component(project_id)
        ))
        .json(&json!({
            "toStageId": to_stage_id,
            "filters": params.filters,
            "options": params.options,
        }))
        .send()
    }

    /// Sets the priority of the tasks that `filters` selects (same keys as
    /// [`RequeueTasksParams::filters`]; `{}` selects all)
    /// (`POST /v2/project/{id}/updatePriority`).
    pub fn update_tasks_priority(
        &self,
        project_id: &str,
        priority: i64,
        filters: &Map<String, Value>,
    ) -> Result<Value> {
        self.post(format!(
            "/v2/project/{}/updatePriority",
            encode_component(project_id)
        ))
        .json(&json!({ "filters": filters, "priority": priority }))
        .send()
    }

    /// Marks tasks as benchmarks, or unmarks them with `is_benchmark` false
    /// (`POST /v2/project/{id}/benchmark-tasks`).
    pub fn set_tasks_as_benchmark(
        &self,
        project_id: &str,
        task_ids: &[String],
        is_benchmark: bool,
    ) -> Result<Value> {
        self.post(format!(
            "/v2/project/{}/benchmark-tasks",
            encode_component(project_id)
        ))
        .json(&json!({ "tasks": task_ids, "isBenchmark": is_benchmark }))
        .send()
    }

    /// For plugins: sends a log record of a plugin run (`POST /v2/pluginLog`).
    pub fn plugin_log(&self, log: &Value) -> Result<Value> {
        self.post("/v2/pluginLog").json(log).send()
    }

    /// For plugins: sends a plugin run's result (`{"response"|"error", "session",
    /// "export"?}`) (`POST /v2/pluginResponse`).
    pub fn plugin_response(&self, response: &Value) -> Result<Value> {
        self.post("/v2/pluginResponse").json(response).send()
    }
}

/// The `fields` query value: the given fields (trimmed, in order, without repeats or
/// blanks) followed by the required ones they lack.
fn task_fields(fields: &str) -> String {
    let mut all: Vec<&str> = Vec::new();
    let given = fields.split(',').map(str::trim).filter(|f| !f.is_empty());
    for field in given.chain(REQUIRED_TASK_FIELDS) {
        if !all.contains(&field) {
            all.push(field);
        }
    }
    all.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_order_and_gain_the_required_ones() {
        assert_eq!(
            task_fields("stage, assignee"),
            "stage,assignee,_id,project,asset"
        );
        assert_eq!(task_fields("asset,,_id ,stage"), "asset,_id,stage,project");
        assert_eq!(task_fields(" "), "_id,project,asset");
    }
}
