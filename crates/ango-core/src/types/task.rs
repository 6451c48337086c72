//! Tasks, their answers, and assets.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::export_row::{ExportClassification, ExportObject, ExportRelation};

/// A labeling task, as `get_task`, `get_tasks` and `iter_tasks` return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The task's id.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The task's project: its id, or an object with `_id` (see [`Task::project_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Value>,
    /// The organization's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The task's asset: its id, or an object with `_id`, `externalId` and `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<Value>,
    /// The asset's external id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The asset's URL (or text, for text assets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The ids of the batches the asset belongs to.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub batches: Vec<String>,
    /// The id of the workflow stage the task is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The name of that stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_name: Option<String>,
    /// The task's status (`TODO`, `Completed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The task type (`default`, `benchmark`, ...).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// Who the task is assigned to (an email), if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// The task's priority (higher first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Whether the task is a benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_benchmark: Option<bool>,
    /// Whether the task holds imported labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pre_labeled: Option<bool>,
    /// Whether the answer is a saved draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_draft: Option<bool>,
    /// Whether the labeler skipped the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_skipped: Option<bool>,
    /// The review decision, if reviewed (`Accepted`, `Rejected`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_status: Option<String>,
    /// The task's answer (with `include_answer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<TaskAnswer>,
    /// Where the brush (segmentation mask) of the answer is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brush_data_url: Option<String>,
    /// Where the medical brush of the answer is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medical_brush_data_url: Option<String>,
    /// When the task was created (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When the task last changed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Who last changed the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    /// When the task was completed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Every other field (`duration`, `review`, `openIssuesCount`, `createdBy`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Task {
    /// The asset's id, whether `asset` is an id or an object.
    pub fn asset_id(&self) -> Option<&str> {
        reference_id(self.asset.as_ref()?)
    }

    /// The project's id, whether `project` is an id or an object.
    pub fn project_id(&self) -> Option<&str> {
        reference_id(self.project.as_ref()?)
    }
}

/// The id a reference holds: the string itself, or an object's `_id`.
fn reference_id(reference: &Value) -> Option<&str> {
    match reference {
        Value::String(id) => Some(id),
        Value::Object(object) => object.get("_id").and_then(Value::as_str),
        _ => None,
    }
}

/// A task's answer: the objects drawn, the global classifications and the relations,
/// in the same form as an export row's task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskAnswer {
    /// The objects drawn on the asset.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub tools: Vec<ExportObject>,
    /// The answers to global classifications.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub classifications: Vec<ExportClassification>,
    /// The relations between objects.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub relations: Vec<ExportRelation>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An asset (a file to label), as `get_assets` and `iter_assets` return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// The asset's id.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The project's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The asset's URL (or text, for text assets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The external id given at upload (usually the file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The file's metadata (`width`, `height`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Data shown to labelers beside the asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_data: Option<Value>,
    /// The ids of the batches the asset belongs to.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub batches: Vec<String>,
    /// The attachments (`{type, value}` objects).
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachments: Vec<Value>,
    /// Whether labels were imported for the asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pre_labeled: Option<bool>,
    /// The asset's labeling tasks.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub label_tasks: Vec<AssetTask>,
    /// When the asset was created (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Who created the asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Every other field (`dataset`, `storage`, `uploadedLocally`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A labeling task as an asset lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AssetTask {
    /// The task's id.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id of the stage the task is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The task's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The stages the task went through.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub stage_history: Vec<StageHistoryEntry>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One stage a task went through.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageHistoryEntry {
    /// The stage's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<String>,
    /// Who completed the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_by: Option<String>,
    /// When the stage was completed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
