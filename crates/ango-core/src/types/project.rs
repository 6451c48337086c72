//! Projects, their label set (category schema), workflow stages and batches.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A project, as `get_project` and `list_projects` return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// The project's id.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The project's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The project's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The project type: `ango`, `pct` or `iframe`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub project_type: Option<String>,
    /// The owner (a user id or email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The organization's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The label set (ontology): tools, classifications and relations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_schema: Option<LabelSet>,
    /// The workflow, one entry per stage.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub stages: Vec<WorkflowStage>,
    /// The project's members and their roles, as the server lists them.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub assigned_to: Vec<Value>,
    /// The project's batches.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub batches: Vec<Batch>,
    /// How many assets the project holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_count: Option<u64>,
    /// How many tasks the project holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_count: Option<u64>,
    /// Whether benchmark sampling is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark_enabled: Option<bool>,
    /// The project's asset-builder templates.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub asset_builder_templates: Vec<Value>,
    /// Whether the project is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    /// When the project was created (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When the project last changed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Every other field (`benchmarkRatio`, `labelValidation`, `instructions`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Project {
    /// The project's label set as the [`ontology`](crate::ontology) model (for editing
    /// and sending back with `create_label_set`); an empty schema when it has none.
    pub fn ontology(&self) -> crate::Result<crate::ontology::CategorySchema> {
        match &self.category_schema {
            Some(schema) => crate::ontology::CategorySchema::from_value(
                &serde_json::to_value(schema).unwrap_or(Value::Null),
            ),
            None => Ok(crate::ontology::CategorySchema::default()),
        }
    }

    /// The batch called `name` (or whose id is `name`).
    pub fn batch(&self, name: &str) -> Option<&Batch> {
        self.batches
            .iter()
            .find(|b| b.name.as_deref() == Some(name))
            .or_else(|| self.batches.iter().find(|b| b.id.as_deref() == Some(name)))
    }
}

/// A project's label set (its `categorySchema`): the tools, global classifications and
/// relations labelers use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LabelSet {
    /// The tools (bounding box, polygon, ...).
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub tools: Vec<LabelCategory>,
    /// The global classifications.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub classifications: Vec<LabelCategory>,
    /// The relations.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub relations: Vec<LabelCategory>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LabelSet {
    /// Every category, tools first, then classifications, then relations, each followed
    /// by its nested classifications (depth first).
    pub fn categories(&self) -> Vec<&LabelCategory> {
        fn walk<'a>(list: &'a [LabelCategory], out: &mut Vec<&'a LabelCategory>) {
            for category in list {
                out.push(category);
                walk(&category.classifications, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.tools, &mut out);
        walk(&self.classifications, &mut out);
        walk(&self.relations, &mut out);
        out
    }

    /// The category whose `schemaId` is `schema_id`, nested ones included.
    pub fn find(&self, schema_id: &str) -> Option<&LabelCategory> {
        self.categories()
            .into_iter()
            .find(|c| c.schema_id.as_deref() == Some(schema_id))
    }
}

/// One entry of a label set: a tool, a classification or a relation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LabelCategory {
    /// The category's schema id (what answers refer to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// The category's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The category's kind, for all three sorts: a tool's (`bounding-box`, `polygon`,
    /// ...), a classification's (`radio`, `checkbox`, `text`, ...) or a relation's
    /// (`one-to-one`, `group`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Whether an answer is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The display colour (`#rrggbb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The choices of a classification (`{value, schemaId}` objects).
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<Value>,
    /// Classifications nested under this category.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub classifications: Vec<LabelCategory>,
    /// Any other field (`shortcutKey`, `treeOptions`, `regex`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One stage of a project's workflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStage {
    /// The stage's id (what tasks' `stage` refers to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The stage's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The stage type: `Start`, `Label`, `Review`, `Complete`, `Webhook`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub stage_type: Option<String>,
    /// The ids of the stages tasks go to next.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub next: Vec<String>,
    /// Any other field (`position`, `assignedTo`, `autoForward`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A batch of a project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Batch {
    /// The batch's id.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The batch's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
