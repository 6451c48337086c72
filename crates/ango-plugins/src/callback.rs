//! The user's function as the runtime sees it: [`PluginCallback`], what it receives
//! ([`PluginRequest`]) and what it returns ([`CallbackResult`]).

use std::fmt;

use ango_core::brush::BrushMask;
use ango_core::export::NdjsonRows;
use serde_json::{Map, Value};

use crate::config::PluginKind;
use crate::logger::PluginLogger;

/// The user's function, implemented by each binding (or by a Rust closure through
/// [`FnCallback`]). Called on a runtime worker thread, possibly on several at once.
pub trait PluginCallback: Send + Sync + 'static {
    /// Handles one request. A panic is caught and reported like [`CallbackResult::Failed`].
    fn call(&self, request: PluginRequest) -> CallbackResult;
}

/// A [`PluginCallback`] made from a Rust closure.
pub struct FnCallback<F>(pub F);

impl<F> PluginCallback for FnCallback<F>
where
    F: Fn(PluginRequest) -> CallbackResult + Send + Sync + 'static,
{
    fn call(&self, request: PluginRequest) -> CallbackResult {
        (self.0)(request)
    }
}

/// One request from the Hub, as handed to the callback.
pub struct PluginRequest {
    /// The request's data dict as the Hub sent it, with the runtime's defaults applied
    /// exactly as the official runtime does: `batches` set to `[]` when absent (not for
    /// Export), and for Export `numTasks`, the number of exported rows.
    /// `logger` and `jsonExport` are NOT in here: the binding adds its own objects.
    pub data: Map<String, Value>,
    /// The per-request logger (bound to plugin id, orgId, runBy, session, apiKey, connector).
    pub logger: PluginLogger,
    /// Export kind only: the export's rows, streamed; `None` for other kinds.
    pub export_rows: Option<ExportRowStream>,
}

impl fmt::Debug for PluginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&String> = self.data.keys().collect();
        f.debug_struct("PluginRequest")
            .field("data_keys", &keys)
            .field("session", &self.session())
            .field("export_rows", &self.export_rows.is_some())
            .finish()
    }
}

impl PluginRequest {
    /// The `session` of the request (`""` when absent), as echoed in every record.
    pub fn session(&self) -> &str {
        self.data
            .get("session")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// The rows of an Export plugin's export: one JSON object per non-empty NDJSON line,
/// read from the downloaded archive as they are consumed (the official `jsonExport`
/// generator). The archive's temporary file is removed when the last row has been read
/// or the stream is dropped.
pub struct ExportRowStream {
    /// `None` once exhausted: the archive's temporary file is freed at once.
    rows: Option<ango_core::export::ExportRows>,
    count: u64,
    /// A read error met after some rows of a batch, reported by the next batch.
    failed: Option<ango_core::Error>,
}

impl fmt::Debug for ExportRowStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportRowStream")
            .field("count", &self.count)
            .finish()
    }
}

impl ExportRowStream {
    /// Wraps the rows of an NDJSON export.
    pub fn new(rows: NdjsonRows) -> Self {
        let count = rows.line_count();
        ExportRowStream {
            rows: Some(rows.into_rows()),
            count,
            failed: None,
        }
    }

    /// The core row reader underneath, for a binding with its own row iterator; `None`
    /// once the rows were all read.
    pub fn into_export_rows(self) -> Option<ango_core::export::ExportRows> {
        self.rows
    }

    /// How many rows the export has (`numTasks`).
    pub fn num_tasks(&self) -> u64 {
        self.count
    }

    /// The next row as its JSON text, undecoded (for bindings with their own decoder).
    pub fn next_raw(&mut self) -> Option<Result<Vec<u8>, ango_core::Error>> {
        if let Some(error) = self.failed.take() {
            return Some(Err(error));
        }
        let row = self.rows.as_mut()?.next_raw();
        if row.is_none() {
            self.rows = None;
        }
        row
    }

    /// Up to `max` (at least 1) next rows as JSON texts; empty at the end. A read error
    /// fails the batch when it has no row yet, else the next batch.
    pub fn next_raw_batch(&mut self, max: usize) -> Result<Vec<Vec<u8>>, ango_core::Error> {
        let mut out = Vec::new();
        while out.len() < max.max(1) {
            match self.next_raw() {
                Some(Ok(row)) => out.push(row),
                Some(Err(error)) if out.is_empty() => return Err(error),
                Some(Err(error)) => {
                    self.failed = Some(error);
                    break;
                }
                None => break,
            }
        }
        Ok(out)
    }
}

impl Iterator for ExportRowStream {
    type Item = Result<Value, ango_core::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.failed.take() {
            return Some(Err(error));
        }
        let row = self.rows.as_mut()?.next();
        if row.is_none() {
            self.rows = None;
        }
        row
    }
}

/// What the callback returned.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackResult {
    /// Any JSON result (generic kinds: sent as `{"response": value, "session"}`). For the
    /// Model kind a value is also accepted: an AnnotationPayload dict (with `answer`) or
    /// an Answer dict (`objects`/`classifications`/`relations`).
    Value(Value),
    /// The callback returned `None`/`undefined`: the session ends with an error record.
    Nothing,
    /// Export: the file to upload (the official `ExportResponse`, or the legacy tuple).
    ExportFile {
        /// The file's bytes.
        bytes: Vec<u8>,
        /// Its name (official default `export.json`).
        file_name: String,
        /// A storage integration to upload to instead of Ango's storage.
        storage_id: Option<String>,
    },
    /// Model: an `AnnotationPayload.toDict()` value plus raw brush arrays to upload.
    Annotation {
        /// `{"answer": {...}, "brushDataUrl", "medicalBrushDataUrl", ...}`.
        payload: Value,
        /// A brush mask to encode and upload when `brushDataUrl` is unset.
        brush: Option<BrushMask>,
        /// A medical brush mask to upload when `medicalBrushDataUrl` is unset.
        medical_brush: Option<BrushMask>,
    },
    /// The callback raised / threw: its message.
    Failed(String),
}

impl CallbackResult {
    /// What a callback of `kind` returned, given as JSON (a binding converts the
    /// Python/JS value and calls this). `null` is [`CallbackResult::Nothing`].
    ///
    /// - Export: `{"file", "file_name"|"fileName", "storage_id"|"storageId"}` (the official
    ///   `ExportResponse`; the name may be left out, for `export.json`, only when the file
    ///   came as bytes) or the legacy `[file_name, file]`, where the file is text or an
    ///   array of byte values. Anything else is left to the Export flow, which refuses it.
    /// - Model: an AnnotationPayload or Answer object; raw brush arrays under
    ///   `brush_data`/`brushData` and `medical_brush_data`/`medicalBrushData` (nested
    ///   arrays, or `{"shape", "data"}` with the values row-major) become masks.
    /// - Other kinds: the value as it is.
    ///
    /// A shape that cannot be read is a [`CallbackResult::Failed`] with the reason.
    pub fn from_json(kind: PluginKind, value: Value) -> CallbackResult {
        result_from_parts(kind, value, None)
    }

    /// [`CallbackResult::from_json`] for a value whose binary part (a Python `BytesIO`
    /// or `bytes`, a JS `Buffer`) the binding took out: `file` holds its bytes, and the
    /// JSON has `null` where it stood (an export's `file`, a brush array's `data`).
    pub fn from_json_with_file(kind: PluginKind, value: Value, file: Vec<u8>) -> CallbackResult {
        result_from_parts(kind, value, Some(file))
    }

    /// [`CallbackResult::from_json`] or, with a `file`,
    /// [`CallbackResult::from_json_with_file`].
    pub fn from_parts(kind: PluginKind, value: Value, file: Option<Vec<u8>>) -> CallbackResult {
        result_from_parts(kind, value, file)
    }
}

fn result_from_parts(kind: PluginKind, value: Value, mut file: Option<Vec<u8>>) -> CallbackResult {
    if value.is_null() && file.is_none() {
        return CallbackResult::Nothing;
    }
    let result = match kind {
        PluginKind::Export => export_result(value, &mut file),
        PluginKind::Model => model_result(value, &mut file),
        _ => CallbackResult::Value(value),
    };
    if file.is_some() && !matches!(result, CallbackResult::Failed(_)) {
        return CallbackResult::Failed(format!(
            "the callback of a {} returned binary data it has no use for",
            kind.class_name()
        ));
    }
    result
}

/// The first non-null of `keys` in `map`, as text.
fn text_field(map: &Map<String, Value>, keys: [&str; 2]) -> Option<String> {
    keys.iter().find_map(|key| match map.get(*key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    })
}

/// An export file's bytes: the binding's bytes, text, or an array of byte values.
fn file_bytes(value: Option<Value>, file: &mut Option<Vec<u8>>) -> Result<Vec<u8>, String> {
    let refused = "the export file must be a binary file, bytes or text";
    match (file.take(), value) {
        (Some(bytes), None | Some(Value::Null)) => Ok(bytes),
        (None, Some(Value::String(s))) => Ok(s.into_bytes()),
        (None, Some(Value::Array(items))) => items
            .iter()
            .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()).ok_or(refused))
            .collect::<Result<_, _>>()
            .map_err(str::to_string),
        (bytes, _) => {
            *file = bytes;
            Err(refused.to_string())
        }
    }
}

fn export_result(value: Value, file: &mut Option<Vec<u8>>) -> CallbackResult {
    let (bytes, file_name, storage_id) = match value {
        // The name may only be left out when the file came as bytes.
        Value::Object(mut map)
            if map.contains_key("file")
                && (file.is_some() || text_field(&map, ["file_name", "fileName"]).is_some()) =>
        {
            (
                file_bytes(map.remove("file"), file),
                text_field(&map, ["file_name", "fileName"]),
                text_field(&map, ["storage_id", "storageId"]),
            )
        }
        Value::Array(mut items) if items.len() == 2 && items[0].is_string() => {
            let name = items[0].as_str().map(str::to_string);
            (file_bytes(items.pop(), file), name, None)
        }
        Value::Null => (file_bytes(None, file), None, None),
        other => return CallbackResult::Value(other),
    };
    match bytes {
        Ok(bytes) => CallbackResult::ExportFile {
            bytes,
            file_name: file_name.unwrap_or_else(|| "export.json".to_string()),
            storage_id,
        },
        Err(message) => CallbackResult::Failed(message),
    }
}

fn model_result(value: Value, file: &mut Option<Vec<u8>>) -> CallbackResult {
    let Value::Object(mut map) = value else {
        return CallbackResult::Value(value);
    };
    let mut take = |keys: [&str; 2], medical: bool| -> Result<Option<BrushMask>, String> {
        let found = keys
            .iter()
            .filter_map(|key| map.remove(*key))
            .find(|v| !v.is_null());
        found.map(|v| brush_mask(v, medical, file)).transpose()
    };
    let brush = take(["brush_data", "brushData"], false);
    let medical_brush = take(["medical_brush_data", "medicalBrushData"], true);
    match (brush, medical_brush) {
        (Ok(None), Ok(None)) => CallbackResult::Value(Value::Object(map)),
        (Ok(brush), Ok(medical_brush)) => CallbackResult::Annotation {
            payload: Value::Object(map),
            brush,
            medical_brush,
        },
        (Err(message), _) | (_, Err(message)) => CallbackResult::Failed(message),
    }
}

/// A brush array: `{"shape", "data"}` (data row-major, or `null` for the binding's
/// bytes) or nested arrays of numbers (a numpy array's `tolist()`).
fn brush_mask(
    value: Value,
    medical: bool,
    file: &mut Option<Vec<u8>>,
) -> Result<BrushMask, String> {
    fn walk(value: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> bool {
        match value {
            Value::Number(n) if depth == shape.len() => {
                out.push(n.as_f64().unwrap_or(0.0));
                true
            }
            Value::Array(items) => {
                match shape.get(depth) {
                    Some(&len) if len != items.len() => return false,
                    Some(_) => {}
                    None if depth == shape.len() && out.is_empty() => shape.push(items.len()),
                    None => return false,
                }
                items.iter().all(|item| walk(item, depth + 1, shape, out))
            }
            _ => false,
        }
    }
    let (shape, values) = match value {
        Value::Object(map) => {
            let shape = match map.get("shape") {
                Some(Value::Array(dims)) => dims
                    .iter()
                    .map(|d| d.as_u64().map(|n| n as usize))
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            }
            .ok_or("a brush array's shape must be a list of sizes")?;
            let values = match map.get("data") {
                Some(Value::Array(items)) => items.iter().map(Value::as_f64).collect(),
                None | Some(Value::Null) => {
                    file.take().map(|b| b.into_iter().map(f64::from).collect())
                }
                _ => None,
            }
            .ok_or("a brush array's data must be a list of numbers")?;
            (shape, values)
        }
        nested => {
            let (mut shape, mut values) = (Vec::new(), Vec::new());
            if !walk(&nested, 0, &mut shape, &mut values) {
                return Err("a brush array must be rectangular nested lists of numbers".into());
            }
            (shape, values)
        }
    };
    BrushMask::from_shape(&shape, values, medical).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failed(result: CallbackResult, needle: &str) {
        match result {
            CallbackResult::Failed(message) => assert!(message.contains(needle), "{message}"),
            other => panic!("expected a failure with {needle:?}, got {other:?}"),
        }
    }

    #[test]
    fn null_is_nothing_for_every_kind() {
        for kind in [
            "export",
            "model",
            "batchModel",
            "fileExplorer",
            "input",
            "markdown",
        ] {
            let kind: PluginKind = kind.parse().unwrap();
            assert_eq!(
                CallbackResult::from_json(kind, Value::Null),
                CallbackResult::Nothing
            );
        }
        assert_eq!(
            CallbackResult::from_json(PluginKind::Input, json!({"a": 1})),
            CallbackResult::Value(json!({"a": 1}))
        );
    }

    #[test]
    fn export_responses_and_legacy_tuples_become_files() {
        let file = |bytes: &[u8], name: &str, storage: Option<&str>| CallbackResult::ExportFile {
            bytes: bytes.to_vec(),
            file_name: name.into(),
            storage_id: storage.map(str::to_string),
        };
        let export = |v: Value| CallbackResult::from_json(PluginKind::Export, v);
        let with = |v: Value, b: &[u8]| {
            CallbackResult::from_json_with_file(PluginKind::Export, v, b.to_vec())
        };
        assert_eq!(
            with(
                json!({"file": null, "file_name": "a.csv", "storage_id": "st"}),
                b"x"
            ),
            file(b"x", "a.csv", Some("st"))
        );
        assert_eq!(
            with(
                json!({"file": null, "fileName": "b.json", "storageId": null}),
                b"y"
            ),
            file(b"y", "b.json", None)
        );
        assert_eq!(
            with(json!({"file": null}), b"b"),
            file(b"b", "export.json", None)
        );
        assert_eq!(
            export(json!({"file": "text", "fileName": "t"})),
            file(b"text", "t", None)
        );
        assert_eq!(
            export(json!({"file": [104, 105], "file_name": 7})),
            file(b"hi", "7", None)
        );
        // A text file with no name is not an ExportResponse (a Python dict, say).
        assert_eq!(
            export(json!({"file": "t"})),
            CallbackResult::Value(json!({"file": "t"}))
        );
        assert_eq!(
            with(json!(["legacy.zip", null]), b"z"),
            file(b"z", "legacy.zip", None)
        );
        assert_eq!(
            export(json!(["t.txt", "rows"])),
            file(b"rows", "t.txt", None)
        );
        assert_eq!(with(Value::Null, b"raw"), file(b"raw", "export.json", None));
        // Not a file: left to the Export flow, which ends the session with a message.
        assert_eq!(
            export(json!({"rows": 3})),
            CallbackResult::Value(json!({"rows": 3}))
        );
        assert_eq!(export(json!("done")), CallbackResult::Value(json!("done")));
        failed(
            export(json!({"file": 5, "file_name": "x.json"})),
            "export file",
        );
        failed(
            export(json!({"file": [1, 300], "fileName": "x"})),
            "export file",
        );
        failed(export(json!(["n", {"not": "bytes"}])), "export file");
        failed(
            with(json!({"file": "text", "fileName": "x"}), b"extra"),
            "export file",
        );
    }

    #[test]
    fn model_results_carry_their_brush_arrays_as_masks() {
        let model = |v: Value| CallbackResult::from_json(PluginKind::Model, v);
        let payload = json!({"answer": {"objects": []}, "brush_data_url": null});
        assert_eq!(model(payload.clone()), CallbackResult::Value(payload));
        let CallbackResult::Annotation {
            payload,
            brush,
            medical_brush,
        } = model(json!({"answer": null, "brush_data": [[0, 255], [255, 0]],
            "medical_brush_data": null}))
        else {
            panic!("no annotation");
        };
        assert_eq!(payload, json!({"answer": null}));
        assert!(brush.is_some() && medical_brush.is_none());
        let node = model(json!({"brushData": {"shape": [1, 2], "data": [1, 0]}}));
        assert!(matches!(
            node,
            CallbackResult::Annotation { brush: Some(_), .. }
        ));
        let bytes = CallbackResult::from_json_with_file(
            PluginKind::Model,
            json!({"medicalBrushData": {"shape": [1, 2], "data": null}}),
            vec![1, 0],
        );
        assert!(matches!(
            bytes,
            CallbackResult::Annotation {
                medical_brush: Some(_),
                ..
            }
        ));
        failed(model(json!({"brush_data": [[1, 2], [3]]})), "rectangular");
        failed(model(json!({"brush_data": [["a"]]})), "rectangular");
        failed(
            model(json!({"brushData": {"shape": "2x2", "data": []}})),
            "shape",
        );
        failed(
            model(json!({"brushData": {"shape": [2, 2], "data": [1]}})),
            "brush array",
        );
        failed(
            model(json!({"brushData": {"shape": [2], "data": "x"}})),
            "data",
        );
    }

    #[test]
    fn binary_data_a_kind_cannot_use_is_an_error_record() {
        let result = CallbackResult::from_json_with_file(
            PluginKind::BatchModel,
            json!({"a": null}),
            vec![1],
        );
        failed(result, "BatchModelPlugin");
        let result = CallbackResult::from_json_with_file(PluginKind::Model, json!({}), vec![1]);
        failed(result, "ModelPlugin");
    }
}
