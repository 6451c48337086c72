//! Batches: listing and creating a project's batches, assigning assets to them, and
//! turning batch names into ids for the endpoints that take ids.

use serde_json::{Value, json};

use crate::client::{Client, Raw};
use crate::error::{Error, Result};
use crate::http::encode_component;

impl Raw<'_> {
    /// Lists a project's batches (`[{"_id", "name", ...}]`), read from [`Client::get_project`].
    ///
    /// As the official SDK does, a response without `data` (or without batches) gives an
    /// empty list rather than an error; HTTP errors are still errors.
    pub fn get_batches(&self, project_id: &str) -> Result<Value> {
        let project = self.get_project(project_id)?;
        Ok(Value::Array(batches_of(&project).to_vec()))
    }
}

impl Client {
    /// Creates one batch named `batch_name` (`POST /v2/batches/{project_id}`).
    pub fn create_batch(&self, project_id: &str, batch_name: &str) -> Result<Value> {
        self.post(format!("/v2/batches/{}", encode_component(project_id)))
            .json(&json!({ "name": batch_name }))
            .send()
    }

    /// Creates the batches of `batch_names` that the project does not have yet.
    ///
    /// The endpoint replaces the project's whole batch list, so this reads the current
    /// batches first and sends them back followed by the new names. When every name
    /// already exists nothing is sent and the result is an empty JSON array; otherwise it
    /// is the server's response. Names repeated in `batch_names` are sent as given, as the
    /// official SDK does.
    pub fn create_batches(&self, project_id: &str, batch_names: &[String]) -> Result<Value> {
        let existing = batches_of(&self.raw().get_project(project_id)?).to_vec();
        let existing_names: Vec<&str> = existing
            .iter()
            .filter_map(|batch| batch.get("name").and_then(Value::as_str))
            .collect();
        let new_batches: Vec<Value> = batch_names
            .iter()
            .filter(|name| !existing_names.contains(&name.as_str()))
            .map(|name| json!({ "name": name }))
            .collect();
        if new_batches.is_empty() {
            return Ok(Value::Array(Vec::new()));
        }
        let mut all = existing.clone();
        all.extend(new_batches);
        self.post(format!("/v2/batches/{}", encode_component(project_id)))
            .json(&json!({ "batches": all }))
            .send()
    }

    /// Puts assets into batches (`POST /v2/assignBatches`); `batch_ids` are batch ids.
    pub fn assign_batches(
        &self,
        project_id: &str,
        asset_ids: &[String],
        batch_ids: &[String],
    ) -> Result<Value> {
        self.post("/v2/assignBatches")
            .json(&json!({
                "assets": asset_ids,
                "batches": batch_ids,
                "projectId": project_id,
            }))
            .send()
    }

    /// Turns batch names or ids into batch ids, with one read of the project.
    ///
    /// Each entry is matched against every batch's `_id` and `name`; every batch that
    /// matches contributes its id (as the official SDK does, so a name shared by two
    /// batches yields both ids). An entry that matches nothing is
    /// [`Error::NotFound`]`("Batch X not found")`, before any further request.
    pub(crate) fn resolve_batch_ids(
        &self,
        project_id: &str,
        names_or_ids: &[String],
    ) -> Result<Vec<String>> {
        let project = self.raw().get_project(project_id)?;
        match_batches(batches_of(&project), names_or_ids)
    }
}

/// The `data.project.batches` list of a project response, empty when absent.
fn batches_of(project: &Value) -> &[Value] {
    project
        .pointer("/data/project/batches")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Maps each name or id to the ids of the batches it names.
pub(crate) fn match_batches(batches: &[Value], names_or_ids: &[String]) -> Result<Vec<String>> {
    let mut ids = Vec::with_capacity(names_or_ids.len());
    for wanted in names_or_ids {
        let before = ids.len();
        for batch in batches {
            let Some(id) = batch.get("_id").and_then(Value::as_str) else {
                continue;
            };
            let name = batch.get("name").and_then(Value::as_str);
            if id == wanted || name == Some(wanted.as_str()) {
                ids.push(id.to_string());
            }
        }
        if ids.len() == before {
            return Err(Error::NotFound(format!("Batch {wanted} not found")));
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_and_ids_both_resolve_in_order() {
        let batches = vec![
            json!({"_id": "b1", "name": "first"}),
            json!({"_id": "b2", "name": "second"}),
        ];
        assert_eq!(
            match_batches(&batches, &names(&["second", "b1"])).unwrap(),
            names(&["b2", "b1"])
        );
    }

    #[test]
    fn unknown_batches_and_malformed_entries() {
        let batches = vec![json!({"name": "no id"}), json!({"_id": "b1", "name": "x"})];
        let err = match_batches(&batches, &names(&["no id"])).unwrap_err();
        assert!(matches!(&err, Error::NotFound(m) if m == "Batch no id not found"));
        assert!(match_batches(&[], &names(&["x"])).is_err());
        assert!(match_batches(&[], &[]).unwrap().is_empty());
    }

    #[test]
    fn a_shared_name_yields_every_matching_id() {
        let batches = vec![
            json!({"_id": "b1", "name": "x"}),
            json!({"_id": "b2", "name": "x"}),
        ];
        assert_eq!(
            match_batches(&batches, &names(&["x"])).unwrap(),
            names(&["b1", "b2"])
        );
    }

    #[test]
    fn batches_of_tolerates_missing_parts() {
        assert!(batches_of(&json!({})).is_empty());
        assert!(batches_of(&json!({"data": null})).is_empty());
        assert!(batches_of(&json!({"data": {"project": {"batches": "x"}}})).is_empty());
        assert_eq!(
            batches_of(&json!({"data": {"project": {"batches": [{"_id": "b"}]}}})).len(),
            1
        );
    }
}
