//! The format converters of `ango_core::formats` (export rows to COCO, YOLO and Pascal
//! VOC, a project's export straight to one of them, COCO or YOLO annotations back to
//! Ango's import format): one Promise-returning function passing an operation and its
//! arguments to the core's [`formats::call`](ango_core::formats::call), computed on the
//! libuv thread pool. `formats.js` gives the operations their public names.

use ango_core::formats;
use napi::bindgen_prelude::{AsyncTask, Result};
use napi_derive::napi;

use crate::client::{AngoClient, CancelToken};
use crate::task::{Call, call_with, json_text, parse_args};

/// Runs the converter `operation` (`convert`, `exportAs`'s `export_as`, `coco_to_import`,
/// `yolo_to_import`) with `args` (an object; see `ango_core::formats::call`); `client`
/// is the client `export_as` exports with, cancelled by `token`. Resolves to the JSON
/// text of the core's result (`ango.js` parses it).
#[napi(catch_unwind, ts_return_type = "Promise<string>")]
pub fn formats_call(
    operation: String,
    args: String,
    client: Option<&AngoClient>,
    token: Option<&CancelToken>,
) -> Result<AsyncTask<Call<String>>> {
    let args = parse_args(&args)?;
    let client = client.map(|c| crate::client::bound(&c.inner, token));
    Ok(call_with(move || {
        json_text(&formats::call(client.as_ref(), &operation, args, None)?)
    }))
}
