//! The user's function as the runtime sees it: [`PluginCallback`], what it receives
//! ([`PluginRequest`]) and what it returns ([`CallbackResult`]).

use std::fmt;

use ango_core::brush::BrushMask;
use ango_core::export::NdjsonRows;
use serde_json::{Map, Value};

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
/// generator). The archive's temporary file is removed when the stream is dropped.
pub struct ExportRowStream {
    rows: ango_core::export::ExportRows,
    count: u64,
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
            rows: rows.into_rows(),
            count,
        }
    }

    /// How many rows the export has (`numTasks`).
    pub fn num_tasks(&self) -> u64 {
        self.count
    }

    /// The next row as its JSON text, undecoded (for bindings with their own decoder).
    pub fn next_raw(&mut self) -> Option<Result<Vec<u8>, ango_core::Error>> {
        self.rows.next_raw()
    }
}

impl Iterator for ExportRowStream {
    type Item = Result<Value, ango_core::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
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
