//! One entry to the converters for the bindings: an operation by name with a JSON
//! object of arguments ([`call`]). The arguments' names, defaults and checks live here,
//! so the Python and Node modules only pass what the user gave.
//!
//! | operation        | arguments                                                     | result                  |
//! |------------------|---------------------------------------------------------------|-------------------------|
//! | `convert`        | `export` (a file path, or an array of rows), `to`, `ontology`, `out` | the conversion report |
//! | `export_as`      | `project_id`, `to`, `out`, `export_options`?, `ontology`?      | the conversion report   |
//! | `coco_to_import` | `coco` (a file path, or the document), `ontology`, `assets`?   | `{labels, report}`      |
//! | `yolo_to_import` | `dir`, `ontology`, `assets`                                   | `{labels, report}`      |
//!
//! Keys are snake_case or camelCase (`projectId`, `exportOptions`). An ontology is a
//! JSON file's path or its value (see [`ontology_from_value`]); assets are as
//! [`import::assets_from_values`] reads them. `export_options` defaults to
//! `ExportOptions::default()` (the official defaults; its format is ignored).
//!
//! ```no_run
//! use serde_json::json;
//! let report = ango_core::formats::call(None, "convert", json!({
//!     "export": "export.ndjson", "to": "coco", "ontology": "ontology.json", "out": "coco.json",
//! }), None)?;
//! println!("{}", report["images"]);
//! # Ok::<(), ango_core::Error>(())
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Format, ImportPlan, RowReader, convert, import, ontology_from_value, read_json_file};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::export_row::ExportRow;
use crate::models::ExportOptions;
use crate::ontology::CategorySchema;

/// Rows a binding streams itself (a Python iterable), for `convert` without `export`.
pub type Rows<'a> = Box<dyn Iterator<Item = Result<ExportRow>> + Send + 'a>;

/// The operations [`call`] knows.
pub const OPERATIONS: &[&str] = &["convert", "export_as", "coco_to_import", "yolo_to_import"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvertArgs {
    #[serde(default)]
    export: Option<Value>,
    to: Format,
    ontology: Value,
    out: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportAsArgs {
    #[serde(alias = "projectId")]
    project_id: String,
    to: Format,
    out: PathBuf,
    #[serde(default, alias = "exportOptions")]
    export_options: Option<ExportOptions>,
    #[serde(default)]
    ontology: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CocoArgs {
    coco: Value,
    ontology: Value,
    #[serde(default)]
    assets: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YoloArgs {
    dir: PathBuf,
    ontology: Value,
    assets: Vec<Value>,
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The arguments of `operation` as `T`; a missing, unknown or mistyped one is
/// [`Error::InvalidArgument`] naming the operation.
fn args<T: DeserializeOwned>(operation: &str, args: Value) -> Result<T> {
    let args = match args {
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    serde_json::from_value(args).map_err(|e| Error::invalid(format!("{operation}: {e}")))
}

/// An ontology argument: a JSON file's path (read here), or its value.
fn ontology(arg: &Value) -> Result<CategorySchema> {
    match arg {
        Value::String(path) => super::read_ontology_file(path.as_ref()),
        value => ontology_from_value(value),
    }
}

fn plan(plan: ImportPlan) -> Value {
    json!({ "labels": plan.labels, "report": plan.report.to_value() })
}

/// Runs the converter `operation` (see the module's table) with `arguments`, a JSON
/// object. `client` is needed by `export_as` only; `rows`, for `convert` only, are the
/// export's rows when the binding streams them itself instead of passing `export`.
///
/// Reads and writes files and, for `export_as`, the network: call it off any event
/// loop. An unknown operation, a bad argument or an unknown format is
/// [`Error::InvalidArgument`]; the converters' own errors are as they document.
pub fn call(
    client: Option<&Client>,
    operation: &str,
    arguments: Value,
    rows: Option<Rows<'_>>,
) -> Result<Value> {
    if rows.is_some() && operation != "convert" {
        return Err(Error::invalid(format!("{operation}: takes no row stream")));
    }
    match operation {
        "convert" => {
            let a: ConvertArgs = args(operation, arguments)?;
            let schema = ontology(&a.ontology)?;
            let report = match (a.export, rows) {
                (None, Some(rows)) => convert(rows, a.to, &schema, &a.out)?,
                (Some(Value::String(path)), None) => {
                    convert(RowReader::open(path.as_ref())?, a.to, &schema, &a.out)?
                }
                (Some(Value::Array(items)), None) => {
                    let rows = items.into_iter().map(|row| match row {
                        Value::String(line) => ExportRow::from_slice(line.as_bytes()),
                        other => ExportRow::from_value(other),
                    });
                    convert(rows, a.to, &schema, &a.out)?
                }
                (Some(_), Some(_)) => {
                    return Err(Error::invalid("convert: export given twice"));
                }
                _ => {
                    return Err(Error::invalid(
                        "convert: the export must be a file path or an array of rows",
                    ));
                }
            };
            Ok(report.to_value())
        }
        "export_as" => {
            let a: ExportAsArgs = args(operation, arguments)?;
            let client =
                client.ok_or_else(|| Error::invalid("export_as: needs a client".to_string()))?;
            let schema = a.ontology.as_ref().map(ontology).transpose()?;
            let options = a.export_options.unwrap_or_default();
            let report =
                client.export_as(&a.project_id, &options, a.to, schema.as_ref(), &a.out)?;
            Ok(report.to_value())
        }
        "coco_to_import" => {
            let a: CocoArgs = args(operation, arguments)?;
            let assets = a
                .assets
                .as_deref()
                .map(import::assets_from_values)
                .transpose()?;
            let schema = ontology(&a.ontology)?;
            let coco = match a.coco {
                Value::String(path) => read_json_file(path.as_ref())?,
                value => value,
            };
            Ok(plan(import::coco_to_import(
                &coco,
                &schema,
                assets.as_deref(),
            )?))
        }
        "yolo_to_import" => {
            let a: YoloArgs = args(operation, arguments)?;
            let assets = import::assets_from_values(&a.assets)?;
            let schema = ontology(&a.ontology)?;
            Ok(plan(import::yolo_to_import(&a.dir, &schema, &assets)?))
        }
        other => Err(Error::invalid(format!(
            "unknown converter operation {other:?}: expected one of {}",
            OPERATIONS.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ontology_value() -> Value {
        json!({"tools": [{"tool": "bounding-box", "title": "car", "schemaId": "s1"}]})
    }

    fn row(external_id: &str) -> Value {
        json!({
            "externalId": external_id, "asset": "http://127.0.0.1/a.png",
            "metadata": {"width": 10, "height": 10},
            "task": {"objects": [{"schemaId": "s1", "title": "car", "objectId": "o1",
                                  "bounding-box": {"x": 1, "y": 1, "width": 2, "height": 2}}]},
        })
    }

    #[test]
    fn convert_takes_rows_from_the_arguments_or_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a.json");
        let report = call(
            None,
            "convert",
            json!({"export": [row("a.png"), row("b.png").to_string()], "to": "coco",
                   "ontology": ontology_value(), "out": out}),
            None,
        )
        .unwrap();
        assert_eq!(report["rows"], 2);
        assert_eq!(report["format"], "coco");
        let out = dir.path().join("b");
        let rows: Rows<'_> = Box::new(std::iter::once(ExportRow::from_value(row("c.png"))));
        let report = call(
            None,
            "convert",
            json!({"to": "yolo", "ontology": ontology_value(), "out": out}),
            Some(rows),
        )
        .unwrap();
        assert_eq!(
            (report["rows"].clone(), report["format"].clone()),
            (json!(1), json!("yolo"))
        );
    }

    #[test]
    fn bad_calls_are_invalid_arguments_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.json");
        let cases = [
            (
                "convert",
                json!({"export": [], "to": "tiff", "ontology": ontology_value(), "out": out}),
                "unknown format",
            ),
            (
                "convert",
                json!({"export": 42, "to": "coco", "ontology": ontology_value(), "out": out}),
                "file path or an array",
            ),
            (
                "convert",
                json!({"to": "coco", "ontology": ontology_value(), "out": out}),
                "file path or an array",
            ),
            (
                "convert",
                json!({"export": [], "to": "coco", "ontology": ontology_value(), "out": out, "extra": 1}),
                "unknown field",
            ),
            (
                "convert",
                json!({"export": [], "to": "coco", "out": out}),
                "ontology",
            ),
            (
                "export_as",
                json!({"projectId": "p", "to": "coco", "out": out}),
                "needs a client",
            ),
            (
                "yolo_to_import",
                json!({"dir": "d", "ontology": ontology_value()}),
                "assets",
            ),
            (
                "coco_to_import",
                json!({"coco": {}, "ontology": ontology_value(), "assets": 3}),
                "coco_to_import",
            ),
            ("to_parquet", json!({}), "unknown converter operation"),
        ];
        for (operation, arguments, expected) in cases {
            match call(None, operation, arguments, None) {
                Err(Error::InvalidArgument(message)) => {
                    assert!(message.contains(expected), "{operation}: {message}")
                }
                other => panic!("{operation}: {other:?}"),
            }
        }
        assert!(!out.exists());
    }

    #[test]
    fn imports_return_labels_and_report() {
        let coco = json!({
            "images": [{"id": 1, "file_name": "a.png", "width": 10, "height": 10}],
            "categories": [{"id": 1, "name": "car"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
        });
        let done = call(
            None,
            "coco_to_import",
            json!({"coco": coco, "ontology": ontology_value(), "assets": ["a.png"]}),
            None,
        )
        .unwrap();
        assert_eq!(done["labels"][0]["externalId"], "a.png");
        assert_eq!(done["report"]["matchedImages"], 1);
    }
}
