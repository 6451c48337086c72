//! `AngoClient`: the native client, glue only. Every method of the core's table
//! (`ango_core::api::METHODS`) goes through one `call(method, args, token)`; `ango.js`
//! attaches them to its `Client` by name from `methods()`. What the table leaves out
//! (iterators, uploads with progress, export streams) has a method here. Arguments
//! arrive as JSON text (`JSON.stringify`), results leave as JSON text (`JSON.parse`), and
//! every call takes an optional [`CancelToken`] that `ango.js` cancels from an
//! `AbortSignal`.

use ango_core::ClientOptions;
use ango_core::export::{ExportOutput, ExportTarget};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{IntoNapi, guard, invalid};
use crate::stream::RowStream;
use crate::task::{Call, call_with, json_text, parse_args, text_of};

/// A cancellation token (`ango_core::Cancel`): `ango.js` makes one per call that has
/// an `AbortSignal` and cancels it when the signal fires; the core's work then stops at
/// its next checkpoint.
#[napi]
pub struct CancelToken {
    inner: ango_core::Cancel,
}

#[napi]
impl CancelToken {
    /// A token not cancelled yet.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelToken {
            inner: ango_core::Cancel::new(),
        }
    }

    /// Cancels the work the token was given to.
    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

/// `client`, bound to `token` when there is one.
pub(crate) fn bound(client: &ango_core::Client, token: Option<&CancelToken>) -> ango_core::Client {
    match token {
        Some(token) => client.with_cancel(&token.inner),
        None => client.clone(),
    }
}

/// The method table (`ango_core::api::methods_json()`) as JSON text.
#[napi(catch_unwind)]
pub fn methods() -> Result<String> {
    json_text(&ango_core::api::methods_json()).napi()
}

/// The listings (`ango_core::api::listings_json()`, the `iter*` methods) as JSON text.
#[napi(catch_unwind)]
pub fn listings() -> Result<String> {
    json_text(&ango_core::api::listings_json()).napi()
}

/// A deserialized argument; a mismatch is `INVALID_ARGUMENT` naming `what`.
fn from_json<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|e| invalid(format!("{what}: {e}")))
}

/// A JS `(done, total) => void` called from the upload workers through the event loop.
type ProgressCallback =
    ThreadsafeFunction<FnArgs<(f64, f64)>, Unknown<'static>, FnArgs<(f64, f64)>, Status, false>;

/// An Ango Hub client. Every method returns a Promise and runs on the libuv thread
/// pool; results are JSON text that `ango.js` parses.
#[napi]
pub struct AngoClient {
    pub(crate) inner: ango_core::Client,
}

#[napi]
impl AngoClient {
    /// A client from `options` (`ango_core::ClientOptions`: missing `apiKey`/`host` are
    /// read from `ANGO_API_KEY` / `ANGO_HOST`, other settings default to the core's);
    /// throws `INVALID_ARGUMENT` for a missing key, a malformed host or a bad option.
    #[napi(catch_unwind, constructor)]
    pub fn new(options: Option<String>) -> Result<Self> {
        let options = options.as_deref().map(parse_args).transpose()?;
        let options = ClientOptions::from_value(options.unwrap_or(Value::Null)).napi()?;
        Ok(AngoClient {
            inner: guard(|| ango_core::Client::from_options(&options).napi())?,
        })
    }

    /// A client sharing this one's connections and key, with some settings changed
    /// (`timeoutMs`, `connectTimeoutMs`, `maxRetries`, `concurrency`, `progress`; the
    /// key, host and user agent of `options` are ignored).
    #[napi(catch_unwind)]
    pub fn with_options(&self, options: String) -> Result<AngoClient> {
        let options = ClientOptions::from_value(parse_args(&options)?).napi()?;
        Ok(AngoClient {
            inner: self.inner.with_overrides(&options.overrides().napi()?),
        })
    }

    /// The API host in use, without a trailing slash.
    #[napi(catch_unwind, getter)]
    pub fn host(&self) -> String {
        self.inner.host().to_string()
    }

    /// Calls the table method `method` with `args` (JSON text of an object keyed by
    /// parameter names); resolves to the JSON text of the result.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn call(
        &self,
        method: String,
        args: String,
        token: Option<&CancelToken>,
    ) -> Result<AsyncTask<Call<String>>> {
        let args = parse_args(&args)?;
        let c = bound(&self.inner, token);
        Ok(call_with(move || match c.call(&method, args)? {
            ango_core::api::Reply::Document(bytes) => text_of(bytes),
            ango_core::api::Reply::Value(value) => json_text(&value),
        }))
    }

    /// An auto-paginated listing as a stream (`ango_core::Client::listing`): `kind` is
    /// `tasks`, `assets` or `projects`, `options` the JSON text of its options.
    #[napi(catch_unwind)]
    pub fn iter(
        &self,
        kind: String,
        project_id: Option<String>,
        options: String,
        token: Option<&CancelToken>,
    ) -> Result<RowStream> {
        let c = bound(&self.inner, token);
        let pages = c
            .listing(&kind, project_id.as_deref(), parse_args(&options)?)
            .napi()?;
        Ok(RowStream::new(pages, c.cancel_token().cloned()))
    }

    /// Uploads local files (paths or `{ path, externalId, contextData, metadata }`) in
    /// parallel and registers them as assets; resolves to the JSON text of the upload
    /// report (`ango_core::upload::UploadReport`'s serialized shape).
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn upload_files(
        &self,
        project_id: String,
        files: String,
        options: String,
        #[napi(ts_arg_type = "((done: number, total: number) => void) | undefined | null")]
        on_progress: Option<ProgressCallback>,
        token: Option<&CancelToken>,
    ) -> Result<AsyncTask<Call<String>>> {
        let files: Vec<ango_core::upload::UploadFile> = from_json(parse_args(&files)?, "files")?;
        let mut options: ango_core::upload::UploadOptions =
            from_json(parse_args(&options)?, "options")?;
        if let Some(callback) = on_progress {
            // Events are queued to the event loop; the upload never waits for JS.
            options.progress = Some(std::sync::Arc::new(ango_core::progress::FnProgress::new(
                move |done, total| {
                    callback.call(
                        (done as f64, total as f64).into(),
                        ThreadsafeFunctionCallMode::NonBlocking,
                    );
                },
            )));
        }
        let c = bound(&self.inner, token);
        Ok(call_with(move || {
            json_text(&c.upload_files(&project_id, &files, &options)?)
        }))
    }

    /// Exports a project (`ango_core::Client::export_output`); `target` is `v3` (the
    /// archive saved to `path` if given, else the JSON text of the whole export for the
    /// JSON format or a row stream for NDJSON), `rows` (a row stream in either format)
    /// or `url` (the archive's signed URL). Resolves to JSON text (a saved archive's
    /// size, the URL, the export) or a row stream.
    #[napi(catch_unwind, ts_return_type = "Promise<string | RowStream>")]
    pub fn export(
        &self,
        project_id: String,
        options: String,
        target: String,
        path: Option<String>,
        token: Option<&CancelToken>,
    ) -> Result<AsyncTask<Call<Either<String, RowStream>>>> {
        let options: ango_core::models::ExportOptions =
            from_json(parse_args(&options)?, "export options")?;
        match target.as_str() {
            "v3" => {}
            "rows" | "url" if path.is_none() => {}
            "rows" | "url" => return Err(invalid("zipFilePath saves exportV3's archive only")),
            _ => return Err(invalid(format!("no export target {target:?}"))),
        }
        let c = bound(&self.inner, token);
        Ok(call_with(move || {
            let target = match target.as_str() {
                "rows" => ExportTarget::Rows,
                "url" => ExportTarget::Url,
                _ => ExportTarget::V3 {
                    path: path.as_deref().map(std::path::Path::new),
                    count_rows: false,
                },
            };
            Ok(match c.export_output(&project_id, &options, target)? {
                ExportOutput::Saved(size) => Either::A(size.to_string()),
                ExportOutput::Url(url) => Either::A(json_text(&url)?),
                ExportOutput::Document(bytes) => Either::A(text_of(bytes)?),
                ExportOutput::Rows(rows, _) => {
                    Either::B(RowStream::new(rows, c.cancel_token().cloned()))
                }
            })
        }))
    }

    /// Encodes a brush mask (`shape` `[h, w]`, `[h, w, 3]`, `[h, w, 4]`, or with
    /// `medical` a `[z, y, x]` volume; `values` row by row) as PNG or NRRD, uploads it
    /// and resolves to the JSON text of its URL.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn upload_brush_array(
        &self,
        project_id: String,
        shape: Vec<u32>,
        values: Vec<f64>,
        medical: bool,
        token: Option<&CancelToken>,
    ) -> Result<AsyncTask<Call<String>>> {
        let c = bound(&self.inner, token);
        Ok(call_with(move || {
            // Checked and encoded on the thread pool: a mask may be large.
            let shape: Vec<usize> = shape.into_iter().map(|n| n as usize).collect();
            let mask = ango_core::brush::BrushMask::from_shape(&shape, values, medical)?;
            json_text(&c.upload_brush_array(&project_id, &mask, medical)?)
        }))
    }
}
