//! COCO: one JSON file with `categories`, `images` and `annotations`.
//!
//! Categories are the ontology's region tools in ontology order, with ids from 1; each
//! carries its Ango `ango_schema_id`. Each image row becomes one `images` entry
//! (`file_name` = the external id, `width`/`height` from the asset metadata, plus
//! `ango_task_id`); a bounding box becomes an annotation with an empty `segmentation`,
//! a polygon one with a one-polygon `segmentation`, a segmentation one with a polygon
//! per zone (holes are reported: polygons cannot cut them), a rotated box one with its
//! four corners as a polygon. `bbox` is `[x, y, width, height]` with the corner at the
//! top left, whatever corner was clicked first in Ango.
//!
//! Written in one pass: `images` goes straight to the file while `annotations` is
//! spooled to a temporary file beside it, appended when the writer finishes.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::export_row::{ExportRow, Point};
use crate::ontology::CategorySchema;

use super::{Classes, ConversionReport, Region, begin_row, image_row, region_of, unreadable};

/// A streaming COCO writer.
#[derive(Debug)]
pub struct CocoWriter {
    path: PathBuf,
    out: BufWriter<File>,
    spool_path: PathBuf,
    spool: Option<BufWriter<File>>,
    classes: Classes,
    report: ConversionReport,
    next_annotation: u64,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(format!("writing {}", path.display()), e)
}

fn write_json(w: &mut impl Write, value: &Value, path: &Path) -> Result<()> {
    serde_json::to_writer(&mut *w, value)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e.into()))
}

/// The area enclosed by a closed outline (shoelace formula).
pub(crate) fn polygon_area(points: &[Point]) -> f64 {
    let n = points.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let [x0, y0] = points[i];
            let [x1, y1] = points[(i + 1) % n];
            x0 * y1 - x1 * y0
        })
        .sum();
    twice.abs() / 2.0
}

/// A pixel size as a JSON integer when it is one.
fn size_value(v: f64) -> Value {
    if v.fract() == 0.0 && v < 9.0e15 {
        Value::from(v as u64)
    } else {
        Value::from(v)
    }
}

impl CocoWriter {
    /// Creates `path` (replacing it) and writes the categories of `ontology`.
    pub fn create(path: &Path, ontology: &CategorySchema) -> Result<Self> {
        let classes = Classes::from_ontology(ontology);
        let file = File::create(path).map_err(io_error(path))?;
        let mut out = BufWriter::with_capacity(256 * 1024, file);
        let mut spool_name = path.file_name().unwrap_or_default().to_os_string();
        spool_name.push(format!(
            ".annotations-{}.tmp",
            uuid::Uuid::new_v4().simple()
        ));
        let spool_path = path.with_file_name(spool_name);
        let spool = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&spool_path)
            .map_err(io_error(&spool_path))?;
        let categories: Vec<Value> = classes
            .list
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({"id": i + 1, "name": c.name, "supercategory": c.tool.as_str(),
                       "ango_schema_id": c.schema_id})
            })
            .collect();
        out.write_all(b"{\"info\":").map_err(io_error(path))?;
        write_json(
            &mut out,
            &json!({"description": "Converted from an Ango Hub export", "version": "1.0",
                    "contributor": "ango-rs"}),
            path,
        )?;
        out.write_all(b",\"licenses\":[],\"categories\":")
            .map_err(io_error(path))?;
        write_json(&mut out, &Value::Array(categories), path)?;
        out.write_all(b",\"images\":[").map_err(io_error(path))?;
        Ok(CocoWriter {
            path: path.to_path_buf(),
            out,
            spool_path,
            spool: Some(BufWriter::with_capacity(256 * 1024, spool)),
            classes,
            report: ConversionReport::new("coco"),
            next_annotation: 1,
        })
    }

    /// The classes (categories) being written; category id = index + 1.
    pub fn classes(&self) -> &Classes {
        &self.classes
    }

    /// Records a row that could not be decoded.
    pub fn push_unreadable(&mut self, detail: String) {
        unreadable(&mut self.report, detail);
    }

    /// Converts one row.
    pub fn push(&mut self, row: &ExportRow) -> Result<()> {
        let report = &mut self.report;
        let mut ctx = begin_row(report, row);
        let Some(image) = image_row(row, &mut ctx, report) else {
            return Ok(());
        };
        let image_id = report.images + 1;
        let mut entry = json!({
            "id": image_id,
            "file_name": image.file_name,
            "width": size_value(image.width),
            "height": size_value(image.height),
        });
        if let Some(task) = image.task_id {
            entry["ango_task_id"] = Value::from(task);
        }
        if image_id > 1 {
            self.out.write_all(b",").map_err(io_error(&self.path))?;
        }
        write_json(&mut self.out, &entry, &self.path)?;
        report.images += 1;
        let spool = self
            .spool
            .as_mut()
            .ok_or_else(|| Error::Internal("the COCO writer is finished".into()))?;
        for object in image.objects {
            let Some((class, region)) = region_of(object, &self.classes, &mut ctx, report) else {
                continue;
            };
            let (x, y, w, h) = region.bbox();
            let (segmentation, area) = match &region {
                Region::Box(..) => (Value::Array(Vec::new()), w * h),
                Region::Outlines(outlines) => (
                    Value::Array(
                        outlines
                            .iter()
                            .map(|o| {
                                o.iter()
                                    .flat_map(|p| [p[0], p[1]])
                                    .collect::<Vec<_>>()
                                    .into()
                            })
                            .collect(),
                    ),
                    outlines.iter().map(|o| polygon_area(o)).sum(),
                ),
            };
            let mut annotation = json!({
                "id": self.next_annotation,
                "image_id": image_id,
                "category_id": class + 1,
                "bbox": [x, y, w, h],
                "area": area,
                "segmentation": segmentation,
                "iscrowd": 0,
            });
            if let Some(id) = &object.object_id {
                annotation["ango_object_id"] = Value::from(id.as_str());
            }
            if self.next_annotation > 1 {
                spool.write_all(b",").map_err(io_error(&self.spool_path))?;
            }
            write_json(spool, &annotation, &self.spool_path)?;
            self.next_annotation += 1;
            report.annotations += 1;
        }
        Ok(())
    }

    /// Appends the annotations, closes the file and returns the report.
    pub fn finish(mut self) -> Result<ConversionReport> {
        let spool = self
            .spool
            .take()
            .ok_or_else(|| Error::Internal("the COCO writer is finished".into()))?;
        let mut spool = spool.into_inner().map_err(|e| {
            Error::io(
                format!("writing {}", self.spool_path.display()),
                e.into_error(),
            )
        })?;
        use std::io::Seek;
        spool
            .seek(std::io::SeekFrom::Start(0))
            .map_err(io_error(&self.spool_path))?;
        self.out
            .write_all(b"],\"annotations\":[")
            .map_err(io_error(&self.path))?;
        std::io::copy(&mut spool, &mut self.out).map_err(io_error(&self.path))?;
        self.out.write_all(b"]}\n").map_err(io_error(&self.path))?;
        self.out.flush().map_err(io_error(&self.path))?;
        drop(spool);
        let _ = std::fs::remove_file(&self.spool_path);
        Ok(std::mem::take(&mut self.report))
    }
}

impl Drop for CocoWriter {
    fn drop(&mut self) {
        self.spool = None;
        let _ = std::fs::remove_file(&self.spool_path);
    }
}
