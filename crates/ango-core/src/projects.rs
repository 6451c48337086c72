//! Projects: listing, reading, creating, cloning, deleting and configuring projects.

use serde_json::{Map, Value, json};

use crate::client::{Client, Raw};
use crate::error::{Error, Result};
use crate::http::encode_component;
use crate::models::{AssetBuilderTemplate, Metrics, ProjectRole, ProjectType, Timestamp};
use crate::ontology::CategorySchema;

/// What [`Client::clone_project`] copies into the new project; everything by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloneProjectOptions {
    /// Copy the label set (category schema).
    pub category_schema: bool,
    /// Copy the project's members.
    pub assigned_to: bool,
    /// Copy the batches.
    pub batches: bool,
    /// Copy the workflow.
    pub workflow: bool,
    /// Copy the plugin presets.
    pub plugin_presets: bool,
    /// Copy the general project settings.
    pub project_general_settings: bool,
}

impl Default for CloneProjectOptions {
    fn default() -> Self {
        CloneProjectOptions {
            category_schema: true,
            assigned_to: true,
            batches: true,
            workflow: true,
            plugin_presets: true,
            project_general_settings: true,
        }
    }
}

/// Changes to a project's label validation, for [`Client::update_label_validation`];
/// `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateLabelValidationParams {
    /// Turns custom validation on or off.
    pub custom_validation_enabled: Option<bool>,
    /// The validation function's source code.
    pub validation_function: Option<String>,
    /// External validation settings.
    pub external_validation: Option<Value>,
}

impl Raw<'_> {
    /// Lists projects, one page at a time (`GET /v2/listProjects`); the official
    /// defaults are page 1 and limit 10.
    pub fn list_projects(&self, page: u64, limit: u64) -> Result<Value> {
        self.get("/v2/listProjects")
            .query("page", page)
            .query("limit", limit)
            .send()
    }

    /// Reads one project (`GET /v2/project/{id}`).
    pub fn get_project(&self, project_id: &str) -> Result<Value> {
        self.get(project_path(project_id)).send()
    }

    /// Creates a project (`POST /v2/project`); a missing description is sent as `""`.
    pub fn create_project(
        &self,
        name: &str,
        description: Option<&str>,
        project_type: Option<ProjectType>,
    ) -> Result<Value> {
        let mut body = Map::new();
        body.insert("name".into(), json!(name));
        body.insert("description".into(), json!(description.unwrap_or("")));
        if let Some(kind) = project_type {
            body.insert("type".into(), json!(kind.as_str()));
        }
        self.post("/v2/project").json(&body).send()
    }

    /// Copies a project's settings (not its assets, tasks or labels) into a new project
    /// named "{name} copy" (`POST /v2/project/{id}/clone`).
    pub fn clone_project(&self, project_id: &str, options: &CloneProjectOptions) -> Result<Value> {
        self.post(format!("{}/clone", project_path(project_id)))
            .json(&json!({
                "categorySchema": options.category_schema,
                "assignedTo": options.assigned_to,
                "batches": options.batches,
                "workflow": options.workflow,
                "pluginPresets": options.plugin_presets,
                "projectGeneralSettings": options.project_general_settings,
            }))
            .send()
    }
}

impl Client {
    /// Soft-deletes a project with its assets, tasks, issues and history; storage files
    /// stay (see [`Client::purge_project`]) (`DELETE /v2/project/{id}`).
    pub fn delete_project(&self, project_id: &str) -> Result<Value> {
        self.delete(project_path(project_id)).send()
    }

    /// Purges a project and its default-bucket files; `confirm_name` must equal its name
    /// (`POST /v2/project/{id}/purge`). Files in connected external storage stay.
    pub fn purge_project(&self, project_id: &str, confirm_name: &str) -> Result<Value> {
        self.post(format!("{}/purge", project_path(project_id)))
            .json(&json!({ "confirmName": confirm_name }))
            .send()
    }

    /// Sets a project's label set (ontology) (`POST /v2/project/{id}` with
    /// `{"categorySchema": ...}`).
    ///
    /// `schema` holds the tools, classifications and relations. When
    /// `raw_category_schema` is given and not empty (Python truthiness: not `null`, `{}`,
    /// `[]`, `""`, `0` or `false`) it is sent as is instead, as the official SDK does.
    pub fn create_label_set(
        &self,
        project_id: &str,
        schema: &CategorySchema,
        raw_category_schema: Option<&Value>,
    ) -> Result<Value> {
        let category_schema = match raw_category_schema.filter(|raw| python_truthy(raw)) {
            Some(raw) => raw.clone(),
            None => schema.to_value(),
        };
        self.post(project_path(project_id))
            .json(&json!({ "categorySchema": category_schema }))
            .send()
    }

    /// Replaces a project's workflow with `stages` (`POST /v2/project/{id}`).
    pub fn update_workflow_stages(&self, project_id: &str, stages: &[Value]) -> Result<Value> {
        self.post(project_path(project_id))
            .json(&json!({ "stages": stages }))
            .send()
    }

    /// Sets a project's benchmark sampling: on or off, the percentage of tasks sampled
    /// and the cutoff behaviour (`POST /v2/project/{id}`).
    pub fn update_benchmark_settings(
        &self,
        project_id: &str,
        benchmark_enabled: bool,
        benchmark_ratio: Option<i64>,
        benchmark_cutoff: Option<bool>,
    ) -> Result<Value> {
        let mut body = Map::new();
        body.insert("benchmarkEnabled".into(), json!(benchmark_enabled));
        if let Some(ratio) = benchmark_ratio {
            body.insert("benchmarkRatio".into(), json!(ratio));
        }
        if let Some(cutoff) = benchmark_cutoff {
            body.insert("benchmarkCutoff".into(), json!(cutoff));
        }
        self.post(project_path(project_id)).json(&body).send()
    }

    /// Changes a project's label validation (`POST /v2/project/{id}/labelValidation`).
    pub fn update_label_validation(
        &self,
        project_id: &str,
        params: &UpdateLabelValidationParams,
    ) -> Result<Value> {
        let mut body = Map::new();
        if let Some(enabled) = params.custom_validation_enabled {
            body.insert("customValidationEnabled".into(), json!(enabled));
        }
        if let Some(function) = &params.validation_function {
            body.insert("validationFunction".into(), json!(function));
        }
        if let Some(external) = &params.external_validation {
            body.insert("externalValidation".into(), external.clone());
        }
        self.post(format!("{}/labelValidation", project_path(project_id)))
            .json(&body)
            .send()
    }

    /// Adds people, by email, to a project with one role (`POST /v2/project/{id}/assigned`).
    pub fn add_members_to_project(
        &self,
        project_id: &str,
        members: &[String],
        role: ProjectRole,
    ) -> Result<Value> {
        self.post(format!("{}/assigned", project_path(project_id)))
            .json(&json!({ "assignees": members, "role": role.as_str() }))
            .send()
    }

    /// Reads one of a project's overview metrics (`GET /v2/{id}/overview/{metric}`).
    pub fn get_metrics(&self, project_id: &str, metric: Metrics) -> Result<Value> {
        self.get(format!(
            "/v2/{}/overview/{}",
            encode_component(project_id),
            metric.as_str()
        ))
        .send()
    }

    /// Reads a project's performance data (`POST /v2/performance/{id}`), optionally for
    /// a time interval (`[start, end]`, sent with microseconds) and some batches.
    ///
    /// `batches` may hold batch names or ids: they are turned into ids with one
    /// [`Client::get_project`] first, and an unknown one is [`Error::NotFound`] before
    /// the performance request. An empty list counts as no batch filter.
    pub fn get_project_performance(
        &self,
        project_id: &str,
        interval: Option<(Timestamp, Timestamp)>,
        batches: Option<&[String]>,
    ) -> Result<Value> {
        let mut body = Map::new();
        if let Some((start, end)) = interval {
            body.insert(
                "interval".into(),
                json!([start.format_micros(), end.format_micros()]),
            );
        }
        if let Some(batches) = batches.filter(|b| !b.is_empty()) {
            let ids = self.resolve_batch_ids(project_id, batches)?;
            body.insert("batches".into(), json!(ids));
        }
        self.post(format!("/v2/performance/{}", encode_component(project_id)))
            .json(&body)
            .send()
    }

    /// The project's asset-builder templates (its `assetBuilderTemplates` list, read
    /// with [`Client::get_project`]; an empty list when it has none).
    pub fn get_asset_builder_templates(&self, project_id: &str) -> Result<Value> {
        let project = self.raw().get_project(project_id)?;
        Ok(project
            .pointer("/data/project/assetBuilderTemplates")
            .cloned()
            .unwrap_or_else(|| Value::Array(Vec::new())))
    }

    /// Creates an asset-builder template (`POST /v2/project/{id}/assetBuilderTemplates`).
    ///
    /// The template is checked first ([`AssetBuilderTemplate::validate`]); a bad one is
    /// [`Error::InvalidArgument`]`("Invalid template: ...")` and nothing is sent.
    pub fn create_asset_builder_template(
        &self,
        project_id: &str,
        template: &AssetBuilderTemplate,
    ) -> Result<Value> {
        template.validate().map_err(|e| match e {
            Error::InvalidArgument(message) => {
                Error::InvalidArgument(format!("Invalid template: {message}"))
            }
            other => other,
        })?;
        self.post(format!(
            "{}/assetBuilderTemplates",
            project_path(project_id)
        ))
        .json(&template.to_value())
        .send()
    }

    /// Runs a project's webhook stage again (`POST /v2//project/{id}/rerun-webhook`:
    /// the double slash is the official SDK's path, kept so servers see the same URL).
    pub fn rerun_webhook(&self, project_id: &str, webhook_stage_id: &str) -> Result<Value> {
        self.post(format!(
            "/v2//project/{}/rerun-webhook",
            encode_component(project_id)
        ))
        .json(&json!({ "stageId": webhook_stage_id }))
        .send()
    }
}

/// Whether Python's `if value:` takes this JSON value as true.
fn python_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn project_path(project_id: &str) -> String {
    format!("/v2/project/{}", encode_component(project_id))
}
