//! Parquet tables of an export (feature `parquet`): `tasks.parquet`,
//! `objects.parquet` and `classifications.parquet` in one directory, with typed columns,
//! so DuckDB, Polars, pandas or Spark read a large export directly.
//!
//! - `tasks`: one row per task: `row` (the input row, from 1), the asset's
//!   `external_id`, `asset_id`, `asset`, `batches` (list), `width`, `height`, and the
//!   task's `task_id`, `stage`, `stage_id`, `status`, `updated_at`, `updated_by`,
//!   `is_skipped`, with the counts `objects`, `classifications`, `relations`.
//! - `objects`: one row per object: `row`, `task_id`, `external_id`, `object_id`,
//!   `schema_id`, `title`, `shape` (`bounding-box`, `polygon`, ...), `page`, the
//!   enclosing box `x`, `y`, `width`, `height` (for boxes, polygons, polylines, points
//!   and segmentations), `points`, and `geometry`: the shape's JSON, so nothing is lost.
//! - `classifications`: one row per answer, nested answers flattened: `row`, `task_id`,
//!   `external_id`, `object_id`, `parent_object_id` (the object or answer it is nested
//!   in), `schema_id`, `title`, `tool`, `answer` (string answers), `answers` (list
//!   answers) and `answer_json` (any answer, as JSON).
//!
//! Rows are written in row groups of [`ParquetWriter::ROW_GROUP_ROWS`], so memory stays
//! flat (one row group per table is held while it is encoded).
//! Every task is represented: only unreadable rows are reported.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::export_row::{ExportClassification, ExportObject, ExportRow, Point, Shape};

use super::yolo::fresh_dir;
use super::{ConversionReport, begin_row, unreadable};

/// The kind of a column.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    F64,
    U64,
    U32,
    Bool,
    StrList,
}

/// One value of a row.
enum Cell {
    S(Option<String>),
    F(Option<f64>),
    U(Option<u64>),
    Bool(Option<bool>),
    L(Vec<String>),
}

/// Buffered values of one column.
enum Column {
    S(Vec<Option<String>>),
    F(Vec<Option<f64>>),
    U(Vec<Option<u64>>),
    U32(Vec<Option<u32>>),
    Bool(Vec<Option<bool>>),
    L(Vec<Vec<String>>),
}

impl Column {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Str => Column::S(Vec::new()),
            Kind::F64 => Column::F(Vec::new()),
            Kind::U64 => Column::U(Vec::new()),
            Kind::U32 => Column::U32(Vec::new()),
            Kind::Bool => Column::Bool(Vec::new()),
            Kind::StrList => Column::L(Vec::new()),
        }
    }

    fn push(&mut self, cell: Cell) -> Result<()> {
        match (self, cell) {
            (Column::S(v), Cell::S(x)) => v.push(x),
            (Column::F(v), Cell::F(x)) => v.push(x),
            (Column::U(v), Cell::U(x)) => v.push(x),
            (Column::U32(v), Cell::U(x)) => v.push(x.map(|n| n.min(u32::MAX as u64) as u32)),
            (Column::Bool(v), Cell::Bool(x)) => v.push(x),
            (Column::L(v), Cell::L(x)) => v.push(x),
            _ => return Err(Error::Internal("a Parquet cell of the wrong type".into())),
        }
        Ok(())
    }

    fn take(&mut self) -> ArrayRef {
        match self {
            Column::S(v) => Arc::new(StringArray::from(std::mem::take(v))),
            Column::F(v) => Arc::new(Float64Array::from(std::mem::take(v))),
            Column::U(v) => Arc::new(UInt64Array::from(std::mem::take(v))),
            Column::U32(v) => Arc::new(UInt32Array::from(std::mem::take(v))),
            Column::Bool(v) => Arc::new(BooleanArray::from(std::mem::take(v))),
            Column::L(v) => {
                let mut builder = ListBuilder::new(StringBuilder::new());
                for list in std::mem::take(v) {
                    for s in list {
                        builder.values().append_value(s);
                    }
                    builder.append(true);
                }
                Arc::new(builder.finish())
            }
        }
    }
}

/// One Parquet file being written.
struct Table {
    name: &'static str,
    schema: SchemaRef,
    columns: Vec<Column>,
    len: usize,
    batch_rows: usize,
    writer: ArrowWriter<File>,
}

impl Table {
    fn create(
        dir: &Path,
        name: &'static str,
        spec: &[(&str, Kind)],
        row_group_rows: usize,
    ) -> Result<Self> {
        let fields: Vec<Field> = spec
            .iter()
            .map(|(n, k)| {
                let data_type = match k {
                    Kind::Str => DataType::Utf8,
                    Kind::F64 => DataType::Float64,
                    Kind::U64 => DataType::UInt64,
                    Kind::U32 => DataType::UInt32,
                    Kind::Bool => DataType::Boolean,
                    Kind::StrList => {
                        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
                    }
                };
                Field::new(*n, data_type, *n != "row")
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let path = dir.join(format!("{name}.parquet"));
        let file = File::create(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(row_group_rows))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| parquet_error(name, e))?;
        Ok(Table {
            name,
            schema,
            columns: spec.iter().map(|(_, k)| Column::new(*k)).collect(),
            len: 0,
            batch_rows: ParquetWriter::BATCH_ROWS.min(row_group_rows),
            writer,
        })
    }

    fn push(&mut self, cells: Vec<Cell>) -> Result<()> {
        for (column, cell) in self.columns.iter_mut().zip(cells) {
            column.push(cell)?;
        }
        self.len += 1;
        if self.len >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(Column::take).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| Error::Internal(format!("{} batch: {e}", self.name)))?;
        self.writer
            .write(&batch)
            .map_err(|e| parquet_error(self.name, e))?;
        self.len = 0;
        Ok(())
    }

    fn close(mut self) -> Result<()> {
        self.flush()?;
        self.writer
            .close()
            .map_err(|e| parquet_error(self.name, e))?;
        Ok(())
    }
}

fn parquet_error(table: &str, e: parquet::errors::ParquetError) -> Error {
    match e {
        parquet::errors::ParquetError::External(inner) => Error::io(
            format!("writing {table}.parquet"),
            std::io::Error::other(inner.to_string()),
        ),
        other => Error::Internal(format!("writing {table}.parquet: {other}")),
    }
}

const TASKS: &[(&str, Kind)] = &[
    ("row", Kind::U64),
    ("external_id", Kind::Str),
    ("asset_id", Kind::Str),
    ("asset", Kind::Str),
    ("batches", Kind::StrList),
    ("width", Kind::F64),
    ("height", Kind::F64),
    ("task_id", Kind::Str),
    ("stage", Kind::Str),
    ("stage_id", Kind::Str),
    ("status", Kind::Str),
    ("updated_at", Kind::Str),
    ("updated_by", Kind::Str),
    ("is_skipped", Kind::Bool),
    ("objects", Kind::U32),
    ("classifications", Kind::U32),
    ("relations", Kind::U32),
];

const OBJECTS: &[(&str, Kind)] = &[
    ("row", Kind::U64),
    ("task_id", Kind::Str),
    ("external_id", Kind::Str),
    ("object_id", Kind::Str),
    ("schema_id", Kind::Str),
    ("title", Kind::Str),
    ("shape", Kind::Str),
    ("page", Kind::U64),
    ("x", Kind::F64),
    ("y", Kind::F64),
    ("width", Kind::F64),
    ("height", Kind::F64),
    ("points", Kind::U32),
    ("geometry", Kind::Str),
];

const CLASSIFICATIONS: &[(&str, Kind)] = &[
    ("row", Kind::U64),
    ("task_id", Kind::Str),
    ("external_id", Kind::Str),
    ("object_id", Kind::Str),
    ("parent_object_id", Kind::Str),
    ("schema_id", Kind::Str),
    ("title", Kind::Str),
    ("tool", Kind::Str),
    ("answer", Kind::Str),
    ("answers", Kind::StrList),
    ("answer_json", Kind::Str),
];

/// A streaming writer of an export's Parquet tables.
pub struct ParquetWriter {
    tasks: Table,
    objects: Table,
    classifications: Table,
    report: ConversionReport,
}

impl std::fmt::Debug for ParquetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("report", &self.report)
            .finish()
    }
}

fn s(v: &Option<String>) -> Cell {
    Cell::S(v.clone())
}

/// Enclosing box and point count of a list of points.
fn extent<'a>(points: impl Iterator<Item = &'a Point>) -> (Option<[f64; 4]>, u64) {
    let (mut x0, mut y0, mut x1, mut y1, mut n) = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
        0u64,
    );
    for [x, y] in points {
        x0 = x0.min(*x);
        y0 = y0.min(*y);
        x1 = x1.max(*x);
        y1 = y1.max(*y);
        n += 1;
    }
    ((n > 0).then_some([x0, y0, x1 - x0, y1 - y0]), n)
}

/// The geometry of an object as `(shape, enclosing box, point count, JSON)`.
fn geometry(object: &ExportObject) -> (String, Option<[f64; 4]>, Option<u64>, Option<String>) {
    let json = |v: &dyn erased::ToJson| Some(v.to_json());
    let shape = object.shape();
    let (bbox, points, text) = match shape {
        Shape::BoundingBox(b) => {
            let (x, y, w, h) = b.normalized();
            (Some([x, y, w, h]), None, json(b))
        }
        Shape::RotatedBoundingBox(r) => {
            let (bbox, n) = r.corners.as_deref().map_or((None, 0), |c| extent(c.iter()));
            (bbox, Some(n), json(r))
        }
        Shape::Polygon(p) | Shape::Polyline(p) => {
            let (bbox, n) = extent(p.iter());
            (bbox, Some(n), json(&p.to_vec()))
        }
        Shape::Point(p) => (Some([p[0], p[1], 0.0, 0.0]), Some(1), json(p)),
        Shape::Segmentation(seg) => {
            let (bbox, n) = extent(seg.zones.iter().flat_map(|z| z.region.iter()));
            let holes: u64 = seg
                .zones
                .iter()
                .flat_map(|z| z.holes.iter())
                .map(|h| h.len() as u64)
                .sum();
            (bbox, Some(n + holes), json(seg))
        }
        Shape::Other(key) => (None, None, object.extra.get(key).map(Value::to_string)),
        Shape::None => (None, None, None),
    };
    (shape.kind().to_string(), bbox, points, text)
}

/// Serialising the geometry types without naming each.
mod erased {
    /// A value that serialises to JSON text.
    pub(super) trait ToJson {
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> ToJson for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

impl ParquetWriter {
    /// Rows buffered per table before they are handed to the Parquet encoder.
    pub const BATCH_ROWS: usize = 8192;
    /// Rows per row group (the encoder holds one row group per table in memory).
    pub const ROW_GROUP_ROWS: usize = 65_536;

    /// Creates the directory `dir` (it must be absent or empty) and its three tables.
    pub fn create(dir: &Path) -> Result<Self> {
        Self::with_row_groups(dir, Self::ROW_GROUP_ROWS)
    }

    /// Like [`ParquetWriter::create`], with `row_group_rows` rows per row group (at
    /// least 1): smaller groups use less memory, larger ones compress better.
    pub fn with_row_groups(dir: &Path, row_group_rows: usize) -> Result<Self> {
        let rows = row_group_rows.max(1);
        fresh_dir(dir)?;
        Ok(ParquetWriter {
            tasks: Table::create(dir, "tasks", TASKS, rows)?,
            objects: Table::create(dir, "objects", OBJECTS, rows)?,
            classifications: Table::create(dir, "classifications", CLASSIFICATIONS, rows)?,
            report: ConversionReport::new("parquet"),
        })
    }

    /// Records a row that could not be decoded.
    pub fn push_unreadable(&mut self, detail: String) {
        unreadable(&mut self.report, detail);
    }

    /// Writes one row's tasks, objects and classifications.
    pub fn push(&mut self, row: &ExportRow) -> Result<()> {
        let ctx = begin_row(&mut self.report, row);
        let n = ctx.row;
        self.report.images += 1;
        // A row without a task still lists its asset, with empty task columns.
        let empty = crate::export_row::ExportTask::default();
        let no_task = row.task.is_none() && row.tasks.is_empty();
        for task in row.tasks().chain(no_task.then_some(&empty)) {
            self.tasks.push(vec![
                Cell::U(Some(n)),
                s(&row.external_id),
                s(&row.asset_id),
                s(&row.asset),
                Cell::L(row.batches.clone()),
                Cell::F(row.metadata.width),
                Cell::F(row.metadata.height),
                s(&task.task_id),
                s(&task.stage),
                s(&task.stage_id),
                s(&task.status),
                s(&task.updated_at),
                s(&task.updated_by),
                Cell::Bool(task.is_skipped),
                Cell::U(Some(task.tools.len() as u64)),
                Cell::U(Some(task.classifications.len() as u64)),
                Cell::U(Some(task.relations.len() as u64)),
            ])?;
            for object in &task.tools {
                let (shape, bbox, points, json) = geometry(object);
                let b = |i: usize| bbox.map(|b| b[i]);
                self.objects.push(vec![
                    Cell::U(Some(n)),
                    s(&task.task_id),
                    s(&row.external_id),
                    s(&object.object_id),
                    s(&object.schema_id),
                    s(&object.title),
                    Cell::S(Some(shape)),
                    Cell::U(object.page),
                    Cell::F(b(0)),
                    Cell::F(b(1)),
                    Cell::F(b(2)),
                    Cell::F(b(3)),
                    Cell::U(points),
                    Cell::S(json),
                ])?;
                self.report.annotations += 1;
                self.classifications_of(
                    n,
                    task.task_id.as_deref(),
                    row,
                    object.object_id.as_deref(),
                    &object.classifications,
                )?;
            }
            self.classifications_of(n, task.task_id.as_deref(), row, None, &task.classifications)?;
        }
        Ok(())
    }

    fn classifications_of(
        &mut self,
        n: u64,
        task_id: Option<&str>,
        row: &ExportRow,
        parent: Option<&str>,
        list: &[ExportClassification],
    ) -> Result<()> {
        for c in list {
            let (answer, answers) = match &c.answer {
                Value::String(text) => (Some(text.clone()), Vec::new()),
                Value::Array(items) => (
                    None,
                    items
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .collect(),
                ),
                _ => (None, Vec::new()),
            };
            self.classifications.push(vec![
                Cell::U(Some(n)),
                Cell::S(task_id.map(str::to_string)),
                s(&row.external_id),
                s(&c.object_id),
                Cell::S(parent.map(str::to_string)),
                s(&c.schema_id),
                s(&c.title),
                s(&c.tool),
                Cell::S(answer),
                Cell::L(answers),
                Cell::S((!c.answer.is_null()).then(|| c.answer.to_string())),
            ])?;
            let id = c.object_id.as_deref().or(parent);
            self.classifications_of(n, task_id, row, id, &c.classifications)?;
        }
        Ok(())
    }

    /// Writes the last row groups and the files' footers; returns the report
    /// (`images` counts rows written, `annotations` objects).
    pub fn finish(self) -> Result<ConversionReport> {
        self.tasks.close()?;
        self.objects.close()?;
        self.classifications.close()?;
        Ok(self.report)
    }
}
