//! What each plugin kind does with one request, whatever the connector: the official
//! behaviour (plugins.md §3), with every failure turned into an error record.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use ango_core::models::annotate::{AnnotationPayload, Answer, merge_annotations};
use ango_core::models::{ExportFormat, ExportOptions, StorageFileType};
use ango_core::tasks::AnnotateOptions;
use ango_core::{Client, Error};
use serde_json::{Map, Value, json};

use crate::callback::{CallbackResult, ExportRowStream, PluginCallback, PluginRequest};
use crate::config::{LogLevel, PluginConfig, PluginKind};
use crate::logger::PluginLogger;
use crate::runtime::ClientCache;

/// What the connector must do with the outcome of one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Delivery {
    /// `{"response", "session"}`: WS `response` event; REST HTTP 200 body.
    Response(Value),
    /// A record only the Hub gets (Export's signed URL): WS `response` event; REST
    /// `POST /v2/pluginResponse` and HTTP body `null`.
    HubRecord(Value),
    /// `{"error": true, "message", "session"}`: WS `response` event; REST
    /// `POST /v2/pluginResponse` and HTTP 500 `{"detail": message}`.
    Error { record: Value, message: String },
    /// Nothing to send (Model workflow success: the annotate call ended the session);
    /// REST HTTP body `null`.
    Silent,
}

/// Everything a request handler needs.
pub(crate) struct Handler {
    pub(crate) config: Arc<PluginConfig>,
    pub(crate) clients: ClientCache,
    pub(crate) callback: Arc<dyn PluginCallback>,
}

/// The session of a request, `""` when absent (as every record echoes it).
pub(crate) fn session_of(data: &Map<String, Value>) -> Value {
    match data.get("session") {
        Some(Value::Null) | None => Value::from(""),
        Some(other) => other.clone(),
    }
}

/// The error record ending a session that failed.
pub(crate) fn error_delivery(data: &Map<String, Value>, message: impl Into<String>) -> Delivery {
    let message = message.into();
    Delivery::Error {
        record: json!({"error": true, "message": message, "session": session_of(data)}),
        message,
    }
}

/// A map holding only the request's session, for records built after `data` moved.
fn session_map(data: &Map<String, Value>) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("session".into(), session_of(data));
    map
}

/// Python's truthiness of a JSON value; an absent one is false.
fn truthy(value: Option<&Value>) -> bool {
    value.is_some_and(ango_core::pyjson::truthy)
}

fn text(data: &Map<String, Value>, key: &str) -> Option<String> {
    match data.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn string_list(value: Option<&Value>) -> Option<Vec<String>> {
    match value {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        Some(Value::String(s)) => Some(vec![s.clone()]),
        _ => None,
    }
}

impl Handler {
    /// Applies the official defaults to `data` (`batches` = `[]` when absent, except
    /// for Export).
    pub(crate) fn prepare(&self, data: &mut Map<String, Value>) {
        if self.config.kind != PluginKind::Export && !data.contains_key("batches") {
            data.insert("batches".into(), Value::Array(Vec::new()));
        }
    }

    /// Handles one request end to end and says what to deliver.
    pub(crate) fn handle(&self, mut data: Map<String, Value>, logger: PluginLogger) -> Delivery {
        self.prepare(&mut data);
        match self.config.kind {
            PluginKind::Export => self.export(data, &logger),
            PluginKind::Model => self.model(data, &logger),
            _ => self.generic(data, &logger),
        }
    }

    fn client(&self, data: &Map<String, Value>) -> Result<Client, Error> {
        let api_key = text(data, "apiKey").unwrap_or_default();
        if api_key.is_empty() {
            return Err(Error::InvalidArgument(
                "the request has no apiKey to call the Ango API with".into(),
            ));
        }
        self.clients.get(&api_key)
    }

    /// Runs the callback, turning a panic into a failure.
    fn run_callback(
        &self,
        data: Map<String, Value>,
        logger: &PluginLogger,
        export_rows: Option<ExportRowStream>,
    ) -> CallbackResult {
        let request = PluginRequest {
            data,
            logger: logger.clone(),
            export_rows,
        };
        let callback = Arc::clone(&self.callback);
        match catch_unwind(AssertUnwindSafe(move || callback.call(request))) {
            Ok(result) => result,
            Err(panic) => {
                let text = ango_core::Error::panic_text(panic.as_ref());
                CallbackResult::Failed(format!("the plugin callback panicked: {text}"))
            }
        }
    }

    fn failed(
        &self,
        data: &Map<String, Value>,
        logger: &PluginLogger,
        message: String,
    ) -> Delivery {
        logger.log(
            LogLevel::Error,
            &format!("Plugin callback failed: {message}"),
            Map::new(),
        );
        error_delivery(data, message)
    }

    fn nothing(&self, data: &Map<String, Value>, logger: &PluginLogger) -> Delivery {
        let message = "the plugin callback returned nothing (None)".to_string();
        logger.log(LogLevel::Error, &message, Map::new());
        error_delivery(data, message)
    }

    /// Batch Model, File Explorer, Input, Markdown: `{"response": result, "session"}`.
    fn generic(&self, data: Map<String, Value>, logger: &PluginLogger) -> Delivery {
        match self.run_callback(data.clone(), logger, None) {
            CallbackResult::Value(Value::Null) | CallbackResult::Nothing => {
                self.nothing(&data, logger)
            }
            CallbackResult::Value(value) | CallbackResult::Annotation { payload: value, .. } => {
                Delivery::Response(json!({"response": value, "session": session_of(&data)}))
            }
            CallbackResult::Failed(message) => self.failed(&data, logger, message),
            CallbackResult::ExportFile { .. } => self.failed(
                &data,
                logger,
                format!(
                    "the callback of a {} returned an export file",
                    self.config.kind.class_name()
                ),
            ),
        }
    }

    /// Export: export (NDJSON) → rows to the callback → upload its file → signed URL.
    fn export(&self, mut data: Map<String, Value>, logger: &PluginLogger) -> Delivery {
        let session = session_map(&data);
        let fail = |message: String| {
            logger.log(LogLevel::Error, &message, Map::new());
            error_delivery(&session, message)
        };
        let client = match self.client(&data) {
            Ok(client) => client,
            Err(e) => return fail(format!("Error calling sdk.export: {e}")),
        };
        let project_id = text(&data, "projectId").unwrap_or_default();
        let config: Value = match data.get("configJSON") {
            Some(Value::String(s)) if !s.trim().is_empty() => match serde_json::from_str(s) {
                Ok(v) => v,
                Err(e) => return fail(format!("configJSON is not valid JSON: {e}")),
            },
            Some(Value::Object(o)) => Value::Object(o.clone()),
            _ => json!({}),
        };
        let mut options = ExportOptions::new(string_list(data.get("stage")), None);
        options.export_format = ExportFormat::Ndjson;
        options.include_key_frames_only = truthy(config.get("include_key_frames_only"));
        options.batches = string_list(data.get("batches"));
        options.notify = false;
        let rows = match client.export_ndjson(&project_id, &options) {
            Ok(rows) => ExportRowStream::new(rows),
            Err(e) => return fail(format!("Error calling sdk.export: {e}")),
        };
        data.insert("numTasks".into(), Value::from(rows.num_tasks()));
        let (bytes, file_name, storage_id) =
            match self.run_callback(data.clone(), logger, Some(rows)) {
                CallbackResult::ExportFile {
                    bytes,
                    file_name,
                    storage_id,
                } => (bytes, file_name, storage_id.filter(|s| !s.is_empty())),
                CallbackResult::Failed(message) => return self.failed(&data, logger, message),
                CallbackResult::Nothing | CallbackResult::Value(Value::Null) => {
                    return self.nothing(&data, logger);
                }
                _ => {
                    return self.failed(
                        &data,
                        logger,
                        "the export callback must return an ExportResponse (a file and its name)"
                            .into(),
                    );
                }
            };
        let storage = storage_id.as_deref();
        let uploaded = client
            .get_upload_url(&file_name, &project_id, StorageFileType::Export, storage)
            .and_then(|upload_url| {
                let signed = client.get_signed_url(
                    &upload_url,
                    &project_id,
                    StorageFileType::Export,
                    storage,
                )?;
                client.put_signed_url(&upload_url, &bytes)?;
                Ok(signed)
            });
        match uploaded {
            Ok(signed_url) => Delivery::HubRecord(json!({
                "export": true,
                "response": signed_url,
                "session": session_of(&data),
            })),
            Err(e) => fail(format!("Error uploading the export file: {e}")),
        }
    }

    /// Model: the editor path (answer back in the response) or the workflow path
    /// (annotate with `nextStage=true&isPlugin=true`).
    fn model(&self, data: Map<String, Value>, logger: &PluginLogger) -> Delivery {
        let overwrite = match data.get("overwrite") {
            None | Some(Value::Null) => true,
            other => truthy(other),
        };
        let workflow = truthy(data.get("workflow"));
        let result = self.run_callback(data.clone(), logger, None);
        let (payload, brush, medical_brush) = match result {
            CallbackResult::Failed(message) => return self.failed(&data, logger, message),
            CallbackResult::Nothing | CallbackResult::Value(Value::Null) => {
                let message = "Plugin callback returned no annotation payload".to_string();
                logger.log(LogLevel::Error, &message, Map::new());
                return error_delivery(&data, message);
            }
            CallbackResult::Annotation {
                payload,
                brush,
                medical_brush,
            } => (payload, brush, medical_brush),
            CallbackResult::Value(value) => (value, None, None),
            CallbackResult::ExportFile { .. } => {
                return self.failed(
                    &data,
                    logger,
                    "the model callback returned an export file".into(),
                );
            }
        };
        let mut payload = match annotation_payload(&payload) {
            Ok(payload) => payload,
            Err(message) => return self.failed(&data, logger, message),
        };
        let fail = |message: String| {
            logger.log(LogLevel::Error, &message, Map::new());
            error_delivery(&data, message)
        };
        let client = self.client(&data);
        let task_id = text(&data, "taskId").unwrap_or_default();
        if !workflow {
            let answer = payload.answer.take().unwrap_or_default();
            let answer = if overwrite {
                answer
            } else {
                let merged = client.and_then(|client| {
                    let task = client.raw().get_task(&task_id, false)?;
                    let stored = task.pointer("/data/task/answer").unwrap_or(&Value::Null);
                    merge_annotations(stored, answer)
                });
                match merged {
                    Ok(answer) => answer,
                    Err(e) => return fail(format!("Could not merge with the task's answer: {e}")),
                }
            };
            return Delivery::Response(json!({
                "response": answer.to_value(),
                "session": session_of(&data),
            }));
        }
        let client = match client {
            Ok(client) => client,
            Err(e) => return fail(format!("Workflow plugin failed: {e}")),
        };
        let project_id = text(&data, "projectId").unwrap_or_default();
        for (mask, medical) in [(brush, false), (medical_brush, true)] {
            let Some(mask) = mask else { continue };
            let slot = if medical {
                &mut payload.medical_brush_data_url
            } else {
                &mut payload.brush_data_url
            };
            if slot.is_some() {
                continue;
            }
            match client.upload_brush_array(&project_id, &mask, medical) {
                Ok(url) => *slot = Some(url),
                // As the official SDK: a brush failure is logged and the answer still sent.
                Err(e) => logger.log(
                    LogLevel::Warning,
                    &format!("Brush upload failed: {e}"),
                    Map::new(),
                ),
            }
        }
        if payload.answer.is_none() {
            payload.answer = Some(Answer::default());
        }
        let options = AnnotateOptions {
            overwrite,
            send_to_next_stage: true,
            is_plugin: true,
        };
        match client.annotate_task(&task_id, &payload, options) {
            Ok(_) => Delivery::Silent,
            Err(e) => fail(format!("Workflow plugin failed: {e}")),
        }
    }
}

/// Reads an `AnnotationPayload.toDict()` value, or a bare Answer dict.
fn annotation_payload(value: &Value) -> Result<AnnotationPayload, String> {
    let Value::Object(map) = value else {
        return Err("the model callback must return an AnnotationPayload".into());
    };
    let is_answer = ["objects", "classifications", "relations", "tools"]
        .iter()
        .any(|k| map.contains_key(*k));
    let (answer_value, outer) = if map.contains_key("answer") {
        (map.get("answer").cloned().unwrap_or(Value::Null), Some(map))
    } else if is_answer {
        (value.clone(), None)
    } else {
        return Err("the model callback must return an AnnotationPayload (with an answer)".into());
    };
    let answer = match answer_value {
        Value::Null => None,
        Value::Object(answer) => {
            let list = |key: &str| -> Result<Vec<Value>, String> {
                match answer.get(key) {
                    None | Some(Value::Null) => Ok(Vec::new()),
                    Some(Value::Array(items)) => Ok(items.clone()),
                    Some(_) => Err(format!("the answer's {key:?} is not a list")),
                }
            };
            let mut objects = list("objects")?;
            if objects.is_empty() {
                objects = list("tools")?;
            }
            Some(Answer {
                objects,
                classifications: list("classifications")?,
                relations: list("relations")?,
            })
        }
        _ => return Err("the payload's answer is not an object".into()),
    };
    // camelCase (the `toDict()` shape) or snake_case (a Python object's attributes).
    let url = |keys: [&str; 2]| -> Option<String> {
        keys.iter()
            .find_map(|key| outer.and_then(|m| m.get(*key)).and_then(Value::as_str))
            .map(str::to_string)
    };
    Ok(AnnotationPayload {
        answer,
        brush_data_url: url(["brushDataUrl", "brush_data_url"]),
        medical_brush_data_url: url(["medicalBrushDataUrl", "medical_brush_data_url"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_and_answers_are_both_accepted() {
        let p =
            annotation_payload(&json!({"answer": {"objects": [1]}, "brushDataUrl": "u"})).unwrap();
        assert_eq!(p.answer.unwrap().objects, vec![json!(1)]);
        assert_eq!(p.brush_data_url.as_deref(), Some("u"));
        let p =
            annotation_payload(&json!({"answer": null, "medical_brush_data_url": "m"})).unwrap();
        assert_eq!(p.medical_brush_data_url.as_deref(), Some("m"));
        assert!(p.answer.is_none());
        let p = annotation_payload(&json!({"classifications": [2]})).unwrap();
        assert_eq!(p.answer.unwrap().classifications, vec![json!(2)]);
        assert!(annotation_payload(&json!("x")).is_err());
        assert!(annotation_payload(&json!({"foo": 1})).is_err());
        assert!(annotation_payload(&json!({"answer": {"objects": 3}})).is_err());
    }

    #[test]
    fn python_truthiness() {
        assert!(!truthy(Some(&json!(0))));
        assert!(!truthy(Some(&json!(""))));
        assert!(truthy(Some(&json!("no"))));
        assert!(!truthy(None));
    }
}
