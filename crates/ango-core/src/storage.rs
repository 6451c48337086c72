//! Storages: the organization's cloud-bucket integrations, the files in them, and the
//! file explorer.

use serde_json::{Map, Value};

use crate::client::{Client, Raw};
use crate::error::{Error, Result};
use crate::http::encode_component;
use crate::models::Storage;

/// Options of [`Client::list_storage_files`]; the defaults are the official SDK's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListStorageFilesParams {
    /// The folder to list, relative to the bucket root (default: the root, `""`).
    pub path: String,
    /// Whether to return signed URLs for the files (default `true`).
    pub get_signed_urls: bool,
    /// Whether the server retries when the provider says "slow down" (default `true`).
    pub retry_on_slow_down: bool,
}

impl Default for ListStorageFilesParams {
    fn default() -> Self {
        ListStorageFilesParams {
            path: String::new(),
            get_signed_urls: true,
            retry_on_slow_down: true,
        }
    }
}

impl Raw<'_> {
    /// Reads the organization's storages (`GET /v2/storages`).
    ///
    /// With `storage_id` (sent as `_id`), the result is the one storage object whose
    /// `_id` matches it in `data.storages`, or the whole response when none matches,
    /// as in the official SDK. Without it, the whole response.
    pub fn get_storages(&self, storage_id: Option<&str>) -> Result<Value> {
        let storage_id = storage_id.filter(|id| !id.is_empty());
        let response = self
            .get("/v2/storages")
            .query_opt("_id", storage_id)
            .send()?;
        Ok(match storage_id {
            Some(id) => select_by_id(response, "storages", id),
            None => response,
        })
    }

    /// Connects a cloud storage to the organization (`POST /v2/storages/`).
    pub fn create_storage(&self, storage: &Storage) -> Result<Value> {
        self.post("/v2/storages/").json(&storage.to_value()).send()
    }
}

impl Client {
    /// Removes a storage integration (`DELETE /v2/storages/{storage_id}`).
    pub fn delete_storage(&self, storage_id: &str) -> Result<Value> {
        self.delete(format!("/v2/storages/{}", encode_component(storage_id)))
            .send()
    }

    /// Lists files in a storage bucket (`GET /v2/storages/{storage_id}/files`).
    pub fn list_storage_files(
        &self,
        storage_id: &str,
        bucket_name: &str,
        params: &ListStorageFilesParams,
    ) -> Result<Value> {
        self.get(format!(
            "/v2/storages/{}/files",
            encode_component(storage_id)
        ))
        .query("bucketName", bucket_name)
        .query("path", &params.path)
        .query("getSignedUrls", params.get_signed_urls)
        .query("retryOnSlowDown", params.retry_on_slow_down)
        .send()
    }

    /// Browses or imports files of a storage bucket (`POST /v2/file-explorer`).
    ///
    /// `options` holds the explorer's other fields (`folder`, `files`, `upload`,
    /// `projectId`, `scrollToken`, `batches`, `extensions`); `bucket` and `storageId` are
    /// added after them, replacing keys of the same name.
    pub fn file_explorer(
        &self,
        bucket: &str,
        storage_id: &str,
        options: &Map<String, Value>,
    ) -> Result<Value> {
        let mut body = options.clone();
        body.insert("bucket".into(), Value::from(bucket));
        body.insert("storageId".into(), Value::from(storage_id));
        self.post("/v2/file-explorer").json(&body).send()
    }

    /// Whether the organization has a storage with this id (one `GET /v2/storages`).
    pub(crate) fn storage_exists(&self, storage_id: &str) -> Result<bool> {
        let response = self.get("/v2/storages").send()?;
        lists_storage(&response, storage_id)
    }
}

/// Whether a `GET /v2/storages` response lists `storage_id`; a response without a
/// `data.storages` list is a decode error.
fn lists_storage(response: &Value, storage_id: &str) -> Result<bool> {
    let storages = response
        .pointer("/data/storages")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::decode(
                "the storages response has no data.storages list",
                crate::pyjson::to_string(response).as_bytes(),
            )
        })?;
    Ok(storages
        .iter()
        .any(|s| s.get("_id").and_then(Value::as_str) == Some(storage_id)))
}

/// The element of `data.{list_key}` whose `_id` is `id`, or the whole response.
pub(crate) fn select_by_id(response: Value, list_key: &str, id: &str) -> Value {
    let found = response
        .get("data")
        .and_then(|data| data.get(list_key))
        .and_then(Value::as_array)
        .and_then(|items| {
            items
                .iter()
                .find(|item| item.get("_id").and_then(Value::as_str) == Some(id))
        })
        .cloned();
    found.unwrap_or(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn storage_lists_are_searched_by_id() {
        let response = json!({"data": {"storages": [{"name": "x"}, {"_id": "s1"}]}});
        assert!(lists_storage(&response, "s1").unwrap());
        assert!(!lists_storage(&response, "s2").unwrap());
        assert!(matches!(
            lists_storage(&json!({"status": "fail"}), "s1"),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn selection_by_id_falls_back_to_the_whole_response() {
        let response = json!({"data": {"llms": [{"_id": "a"}, {"_id": "b", "n": 1}]}});
        assert_eq!(
            select_by_id(response.clone(), "llms", "b"),
            json!({"_id": "b", "n": 1})
        );
        assert_eq!(select_by_id(response.clone(), "llms", "c"), response);
        assert_eq!(select_by_id(json!([]), "llms", "c"), json!([]));
    }
}
