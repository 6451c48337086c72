//! The format converters of `ango_core::formats` (export rows to COCO, YOLO and Pascal
//! VOC, a project's export straight to one of them, COCO or YOLO annotations back to
//! Ango's import format), each a Promise computed on the libuv thread pool. `formats.js`
//! gives them their public names and option objects.

use std::path::PathBuf;

use ango_core::export_row::ExportRow;
use ango_core::formats::{self, AssetInfo, Format, ImportPlan, RowReader};
use ango_core::ontology::CategorySchema;
use napi::bindgen_prelude::{AsyncTask, Result};
use napi_derive::napi;
use serde_json::{Value, json};

use crate::client::{AngoClient, CancelToken};
use crate::errors::to_napi;
use crate::task::{Call, call};

/// The category schema of an ontology argument: a JSON file's path, a category schema
/// (or an object with `categorySchema`, or a `getProject` answer), or a list of tools.
/// Reads the file: call on the pool.
fn load_ontology(arg: &Value) -> ango_core::Result<CategorySchema> {
    match arg {
        Value::String(path) => formats::read_ontology_file(path.as_ref()),
        value => formats::ontology_from_value(value),
    }
}

fn target(to: &str) -> Result<Format> {
    to.parse::<Format>().map_err(to_napi)
}

/// Assets to match images to: objects as `getAssets` lists them (or export rows), with
/// `externalId` and `metadata.width/height`, or bare external ids.
fn assets_of(assets: Vec<Value>) -> Result<Vec<AssetInfo>> {
    formats::import::assets_from_values(&assets).map_err(to_napi)
}

/// `{ labels, report }` of an import plan.
fn plan(plan: ImportPlan) -> Value {
    json!({ "labels": plan.labels, "report": plan.report.to_value() })
}

/// Converts an export (an `.ndjson`/`.json` file, or an array of rows: objects or
/// NDJSON lines) to `to` (`coco`, `yolo`, `yolo-seg`, `voc`) at `out`; resolves to the
/// conversion report.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn formats_convert(
    #[napi(ts_arg_type = "string | any[]")] input: Value,
    to: String,
    ontology: Value,
    out: String,
) -> Result<AsyncTask<Call<Value>>> {
    let format = target(&to)?;
    Ok(call(move || {
        let ontology = load_ontology(&ontology)?;
        let out = PathBuf::from(out);
        let report = match input {
            Value::String(path) => {
                formats::convert(RowReader::open(path.as_ref())?, format, &ontology, &out)?
            }
            Value::Array(rows) => {
                let rows = rows.into_iter().map(|row| match row {
                    Value::String(line) => ExportRow::from_slice(line.as_bytes()),
                    other => ExportRow::from_value(other),
                });
                formats::convert(rows, format, &ontology, &out)?
            }
            _ => {
                return Err(ango_core::Error::InvalidArgument(
                    "the export must be a file path or an array of rows".into(),
                ));
            }
        };
        Ok(report.to_value())
    }))
}

/// Exports a project as NDJSON and converts it on the fly (`Client::export_as`);
/// without `ontology`, the project's own is read.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn formats_export_as(
    client: &AngoClient,
    project_id: String,
    to: String,
    out: String,
    #[napi(ts_arg_type = "string")] options: String,
    ontology: Option<Value>,
    token: Option<&CancelToken>,
) -> Result<AsyncTask<Call<Value>>> {
    let format = target(&to)?;
    let options: ango_core::models::ExportOptions = serde_json::from_str(&options)
        .map_err(|e| crate::errors::invalid(format!("exportOptions: {e}")))?;
    let c = crate::client::bound(&client.inner, token);
    Ok(call(move || {
        let ontology = ontology.as_ref().map(load_ontology).transpose()?;
        let report = c.export_as(
            &project_id,
            &options,
            format,
            ontology.as_ref(),
            out.as_ref(),
        )?;
        Ok(report.to_value())
    }))
}

/// COCO annotations (a file's path, or the parsed document) to `importLabels` items;
/// resolves to `{ labels, report }`.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn formats_coco_to_import(
    coco: Value,
    ontology: Value,
    assets: Option<Vec<Value>>,
) -> Result<AsyncTask<Call<Value>>> {
    let assets = assets.map(assets_of).transpose()?;
    Ok(call(move || {
        let ontology = load_ontology(&ontology)?;
        let coco = match coco {
            Value::String(path) => formats::read_json_file(path.as_ref())?,
            value => value,
        };
        Ok(plan(formats::coco_to_import(
            &coco,
            &ontology,
            assets.as_deref(),
        )?))
    }))
}

/// A YOLO dataset directory (`data.yaml`, `labels/`) to `importLabels` items; resolves
/// to `{ labels, report }`.
#[napi(catch_unwind, ts_return_type = "Promise<any>")]
pub fn formats_yolo_to_import(
    dir: String,
    ontology: Value,
    assets: Vec<Value>,
) -> Result<AsyncTask<Call<Value>>> {
    let assets = assets_of(assets)?;
    Ok(call(move || {
        let ontology = load_ontology(&ontology)?;
        Ok(plan(formats::yolo_to_import(
            dir.as_ref(),
            &ontology,
            &assets,
        )?))
    }))
}
