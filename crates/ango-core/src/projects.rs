//! Projects: listing, reading, creating, cloning, deleting and configuring projects.

use serde_json::{Value, json};

use crate::client::Client;
use crate::error::Result;
use crate::http::encode_component;

impl Client {
    /// Lists projects, one page at a time (`GET /v2/listProjects`).
    pub fn list_projects(&self, page: u64, limit: u64) -> Result<Value> {
        self.get("/v2/listProjects")
            .query("page", page)
            .query("limit", limit)
            .send()
    }

    /// Reads one project (`GET /v2/project/{id}`).
    pub fn get_project(&self, project_id: &str) -> Result<Value> {
        self.get(format!("/v2/project/{}", encode_component(project_id)))
            .send()
    }

    /// Purges a project and its default-bucket files; `confirm_name` must equal its name.
    pub fn purge_project(&self, project_id: &str, confirm_name: &str) -> Result<Value> {
        self.post(format!(
            "/v2/project/{}/purge",
            encode_component(project_id)
        ))
        .json(&json!({ "confirmName": confirm_name }))
        .send()
    }
}
