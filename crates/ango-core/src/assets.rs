//! Assets: listing and deleting a project's assets and attaching files to them.
//! (Uploading assets lives in [`crate::upload`].)

use serde_json::{Map, Value, json};

use crate::client::{Client, Raw};
use crate::error::Result;
use crate::http::encode_component;

/// Paging and filters of [`Client::get_assets`].
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GetAssetsParams {
    /// The page, from 1 (default 1).
    pub page: u64,
    /// Assets per page (default 10).
    pub limit: u64,
    /// Filters sent as JSON (default `{}`): `_id`, `externalId`, `isPreLabeled`,
    /// `batches` (assets in all of the given batch ids), `createdAt` (`{"gt"|"lt": iso}`).
    pub filters: Map<String, Value>,
}

impl Default for GetAssetsParams {
    fn default() -> Self {
        GetAssetsParams {
            page: 1,
            limit: 10,
            filters: Map::new(),
        }
    }
}

impl Raw<'_> {
    /// Lists a project's assets, one page at a time (`GET /v2/project/{id}/assets`).
    pub fn get_assets(&self, project_id: &str, params: &GetAssetsParams) -> Result<Value> {
        self.get_assets_page(project_id, params.page, params.limit, Some(&params.filters))
    }

    /// [`Client::get_assets`] with the filters as the official SDK takes them: `None`
    /// sends `filters=null`, as the official sends for `filters=None`; `Some` sends the
    /// map as JSON (`{}` when empty).
    pub fn get_assets_page(
        &self,
        project_id: &str,
        page: u64,
        limit: u64,
        filters: Option<&Map<String, Value>>,
    ) -> Result<Value> {
        self.get(format!(
            "/v2/project/{}/assets",
            encode_component(project_id)
        ))
        .query("page", page)
        .query("limit", limit)
        .query_json("filters", &filters)
        .send()
    }
}

impl Client {
    /// Soft-deletes assets of a project (`DELETE /v2/project/{id}/assets` with a JSON body).
    pub fn delete_assets(&self, project_id: &str, asset_ids: &[String]) -> Result<Value> {
        self.delete(format!(
            "/v2/project/{}/assets",
            encode_component(project_id)
        ))
        .json(&json!({ "project": project_id, "assets": asset_ids }))
        .send()
    }

    /// Attaches files or text to assets (`POST /v2/attachments`).
    ///
    /// Each item is `{"externalId", "attachments": [{"type": "IMAGE"|"VIDEO"|"TEXT",
    /// "value"}]}`; a private file is referenced by adding `?storageId=...` to its URL.
    pub fn create_attachment(&self, project_id: &str, attachments: &[Value]) -> Result<Value> {
        self.post("/v2/attachments")
            .json(&json!({ "project": project_id, "attachments": attachments }))
            .send()
    }
}
