//! Converters between Ango exports and the common training formats: COCO, YOLO and
//! Pascal VOC, and back from COCO and YOLO to Ango's label import format.
//!
//! The converters are streamed: they take rows one at a time ([`ExportRow`]) and write
//! as they go, so memory stays flat whatever the export's size (COCO's `annotations`
//! array is spooled to a temporary file next to the output and appended at the end).
//! Classes come from the project's ontology ([`CategorySchema`]): its region tools
//! (bounding box, polygon, segmentation, rotated bounding box), in ontology order, are
//! the categories of every format, so class ids agree between COCO, YOLO and VOC.
//!
//! What a format cannot represent is never dropped silently: each such row or object
//! becomes an [`Issue`] with its [`Reason`] in the [`ConversionReport`], which also
//! counts them by reason.
//!
//! ```no_run
//! use ango_core::formats::{self, Format, RowReader};
//! use ango_core::ontology::CategorySchema;
//! # fn main() -> ango_core::Result<()> {
//! let ontology: CategorySchema = formats::read_ontology_file("ontology.json".as_ref())?;
//! let rows = RowReader::open("export.ndjson".as_ref())?;
//! let report = formats::convert(rows, Format::Coco, &ontology, "coco.json".as_ref())?;
//! eprintln!("{report}");
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::export_row::{ExportObject, ExportRow, MediaKind, Point, Shape};
use crate::ontology::{CategorySchema, Tool};

pub mod call;
pub mod coco;
pub mod import;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod voc;
pub mod yolo;

pub use call::call;
pub use coco::CocoWriter;
pub use import::{AssetInfo, ImportPlan, ImportReport, coco_to_import, yolo_to_import};
pub use voc::VocWriter;
pub use yolo::{YoloMode, YoloWriter};

/// A target format of [`convert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One COCO JSON file (boxes, polygons, segmentation).
    Coco,
    /// A YOLO dataset directory with detection labels (one box per line).
    YoloDetect,
    /// A YOLO dataset directory with segmentation labels (one polygon per line).
    YoloSegment,
    /// A directory of Pascal VOC XML files, one per image.
    Voc,
    /// A directory of Parquet tables: tasks, objects, classifications (feature
    /// `parquet`).
    #[cfg(feature = "parquet")]
    Parquet,
}

impl Format {
    /// The format's name in reports: `coco`, `yolo`, `yolo-seg`, `voc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Coco => "coco",
            Format::YoloDetect => "yolo",
            Format::YoloSegment => "yolo-seg",
            Format::Voc => "voc",
            #[cfg(feature = "parquet")]
            Format::Parquet => "parquet",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "coco" => Ok(Format::Coco),
            "yolo" | "yolo-detect" => Ok(Format::YoloDetect),
            "yolo-seg" | "yolo-segment" => Ok(Format::YoloSegment),
            "voc" | "pascal-voc" => Ok(Format::Voc),
            #[cfg(feature = "parquet")]
            "parquet" => Ok(Format::Parquet),
            other => Err(Error::invalid(format!(
                "unknown format {other:?}: expected coco, yolo, yolo-seg or voc"
            ))),
        }
    }
}

/// Converts `rows` to `format` at `out` (a file for COCO, a directory for YOLO and VOC).
///
/// A row that fails to decode ([`Error::Decode`]) is reported as
/// [`Reason::UnreadableRow`] and the conversion goes on; any other error (reading the
/// input, writing the output) stops it.
pub fn convert<I>(
    rows: I,
    format: Format,
    ontology: &CategorySchema,
    out: &Path,
) -> Result<ConversionReport>
where
    I: IntoIterator<Item = Result<ExportRow>>,
{
    match format {
        Format::Coco => write_all(CocoWriter::create(out, ontology)?, rows),
        Format::YoloDetect => write_all(YoloWriter::create(out, ontology, YoloMode::Detect)?, rows),
        Format::YoloSegment => {
            write_all(YoloWriter::create(out, ontology, YoloMode::Segment)?, rows)
        }
        Format::Voc => write_all(VocWriter::create(out, ontology)?, rows),
        #[cfg(feature = "parquet")]
        Format::Parquet => write_all(parquet::ParquetWriter::create(out)?, rows),
    }
}

/// What every format's streaming writer does: take rows one at a time, note the ones
/// that could not be read, and finish with the report.
pub trait RowWriter {
    /// Converts one row.
    fn push(&mut self, row: &ExportRow) -> Result<()>;
    /// Records a row that could not be decoded.
    fn push_unreadable(&mut self, detail: String);
    /// Completes the output and returns the report.
    fn finish(self) -> Result<ConversionReport>;
}

/// Feeds `rows` to `writer`: a row that fails to decode is reported and skipped, any
/// other error stops the conversion.
pub fn write_all<W: RowWriter>(
    mut writer: W,
    rows: impl IntoIterator<Item = Result<ExportRow>>,
) -> Result<ConversionReport> {
    for row in rows {
        match row {
            Ok(row) => writer.push(&row)?,
            Err(Error::Decode { message, .. }) => writer.push_unreadable(message),
            Err(other) => return Err(other),
        }
    }
    writer.finish()
}

macro_rules! row_writer {
    ($($writer:ty),*) => {$(
        impl RowWriter for $writer {
            fn push(&mut self, row: &ExportRow) -> Result<()> {
                <$writer>::push(self, row)
            }
            fn push_unreadable(&mut self, detail: String) {
                <$writer>::push_unreadable(self, detail)
            }
            fn finish(self) -> Result<ConversionReport> {
                <$writer>::finish(self)
            }
        }
    )*};
}
row_writer!(CocoWriter, YoloWriter, VocWriter);
#[cfg(feature = "parquet")]
row_writer!(parquet::ParquetWriter);

impl crate::Client {
    /// Exports a project as NDJSON and converts it on the fly to `format` at `out`
    /// (streamed: the export is never held in memory). Without `ontology`, the
    /// project's own category schema is read first (`get_project`).
    ///
    /// The export format of `options` is ignored (NDJSON is always requested).
    pub fn export_as(
        &self,
        project_id: &str,
        options: &crate::models::ExportOptions,
        format: Format,
        ontology: Option<&CategorySchema>,
        out: &Path,
    ) -> Result<ConversionReport> {
        let fetched;
        let ontology = match ontology {
            Some(o) => o,
            None => {
                fetched = ontology_from_value(&self.raw().get_project(project_id)?)?;
                &fetched
            }
        };
        let rows = self.export_ndjson(project_id, options)?.into_rows().typed();
        convert(rows, format, ontology, out)
    }
}

/// Reads an ontology from a JSON file: a category schema (`{"tools": [...], ...}`),
/// an object with a `categorySchema`, or a `get_project` response
/// (`{"data": {"project": {"categorySchema": ...}}}`).
pub fn read_ontology_file(path: &Path) -> Result<CategorySchema> {
    ontology_from_value(&read_json_file(path)?)
}

/// Reads a JSON file (an ontology, a COCO document): [`Error::Io`] when it cannot be
/// opened, [`Error::Decode`] naming the file when it is not JSON.
pub fn read_json_file(path: &Path) -> Result<Value> {
    let file = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    serde_json::from_reader(BufReader::new(file))
        .map_err(|e| Error::decode(format!("{} is not valid JSON: {e}", path.display()), b""))
}

/// Reads an ontology from any of the shapes [`read_ontology_file`] accepts.
pub fn ontology_from_value(value: &Value) -> Result<CategorySchema> {
    if let Value::Array(tools) = value {
        // A bare list of tools, as a caller may hold it.
        return CategorySchema::from_value(&serde_json::json!({ "tools": tools }));
    }
    let schema = value
        .pointer("/data/project/categorySchema")
        .or_else(|| value.get("categorySchema"))
        .unwrap_or(value);
    CategorySchema::from_value(schema)
}

/// Why something was left out of (or changed in) a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The row is not valid JSON or does not have the shape of an export row.
    UnreadableRow,
    /// The row has no task.
    NoTask,
    /// The row has more than one task (older consensus exports): only the first is used.
    ExtraTask,
    /// The asset is not a single image (video, PDF, text, audio, multi-page).
    NotAnImage,
    /// The asset's metadata has no positive `width` and `height`.
    NoImageSize,
    /// The row has no external id nor asset URL to name the image by.
    NoFileName,
    /// An earlier row already wrote this image's label file (YOLO, VOC).
    DuplicateImage,
    /// A classification answer: the format has no place for it.
    Classification,
    /// A relation between objects: the format has no place for it.
    Relation,
    /// A brush or voxel mask (`brushDataUrl`): masks are not converted.
    BrushMask,
    /// A shape the format cannot hold (point, polyline, NER span, PDF region, ...).
    UnsupportedShape,
    /// The object's schema id (or title) is not a region tool of the ontology.
    UnknownCategory,
    /// A box of zero size, a polygon under three points, non-finite coordinates.
    DegenerateShape,
    /// Holes of a segmentation zone: the format keeps the outer regions only.
    SegmentationHoles,
    /// A rotated box without its `corners`.
    RotatedWithoutCorners,
    /// A polygon or segmentation written as its enclosing box (detection formats);
    /// the object is kept, its outline is not.
    OutlineToBox,
    /// A segmentation of several zones written as one instance per zone (YOLO
    /// segmentation has one outline per line).
    SplitInstance,
}

impl Reason {
    /// A short stable name (`no-image-size`, `classification`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnreadableRow => "unreadable-row",
            Reason::NoTask => "no-task",
            Reason::ExtraTask => "extra-task",
            Reason::NotAnImage => "not-an-image",
            Reason::NoImageSize => "no-image-size",
            Reason::NoFileName => "no-file-name",
            Reason::DuplicateImage => "duplicate-image",
            Reason::Classification => "classification",
            Reason::Relation => "relation",
            Reason::BrushMask => "brush-mask",
            Reason::UnsupportedShape => "unsupported-shape",
            Reason::UnknownCategory => "unknown-category",
            Reason::DegenerateShape => "degenerate-shape",
            Reason::SegmentationHoles => "segmentation-holes",
            Reason::RotatedWithoutCorners => "rotated-without-corners",
            Reason::OutlineToBox => "outline-to-box",
            Reason::SplitInstance => "split-instance",
        }
    }

    /// Whether the reason only changes an object that is still written
    /// ([`Reason::OutlineToBox`], [`Reason::SegmentationHoles`],
    /// [`Reason::SplitInstance`]) rather than leaving something out.
    pub fn is_lossy_change(self) -> bool {
        matches!(
            self,
            Reason::OutlineToBox | Reason::SegmentationHoles | Reason::SplitInstance
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a conversion could not represent.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// The row's number in the input, from 1.
    pub row: u64,
    /// The row's external id (or file name).
    pub external_id: Option<String>,
    /// The object, classification or relation concerned, when there is one.
    pub object_id: Option<String>,
    /// Why.
    pub reason: Reason,
    /// Details (the media kind, the shape, the schema id, the decoding error...).
    pub detail: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(id) = &self.external_id {
            write!(f, " ({id})")?;
        }
        if let Some(id) = &self.object_id {
            write!(f, " object {id}")?;
        }
        write!(f, ": {}", self.reason)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// What a conversion wrote and what it could not represent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversionReport {
    /// The format written.
    pub format: &'static str,
    /// Rows read.
    pub rows: u64,
    /// Images written (COCO `images`, YOLO label files, VOC XML files).
    pub images: u64,
    /// Annotations written (COCO annotations, YOLO lines, VOC objects).
    pub annotations: u64,
    /// Coordinates moved inside the image (YOLO and VOC need them inside).
    pub clipped: u64,
    /// Issues counted by reason (every issue, even past [`Self::ISSUE_DETAILS`]).
    pub by_reason: BTreeMap<Reason, u64>,
    /// Rows with at least one issue.
    pub rows_with_issues: u64,
    /// The first [`Self::ISSUE_DETAILS`] issues, in input order.
    pub issues: Vec<Issue>,
}

impl ConversionReport {
    /// How many issues are kept in detail (the counts cover them all).
    pub const ISSUE_DETAILS: usize = 10_000;

    fn new(format: &'static str) -> Self {
        ConversionReport {
            format,
            ..Default::default()
        }
    }

    /// Every issue counted.
    pub fn issue_count(&self) -> u64 {
        self.by_reason.values().sum()
    }

    /// Whether everything was represented as is (no issue at all).
    pub fn is_complete(&self) -> bool {
        self.by_reason.is_empty()
    }

    fn add(&mut self, issue: Issue) {
        *self.by_reason.entry(issue.reason).or_default() += 1;
        if self.issues.len() < Self::ISSUE_DETAILS {
            self.issues.push(issue);
        }
    }

    /// The report as JSON (counts, reasons and the detailed issues).
    pub fn to_value(&self) -> Value {
        serde_json::json!({
            "format": self.format,
            "rows": self.rows,
            "images": self.images,
            "annotations": self.annotations,
            "clipped": self.clipped,
            "rowsWithIssues": self.rows_with_issues,
            "issueCount": self.issue_count(),
            "byReason": self.by_reason.iter().map(|(r, n)| (r.as_str().to_string(), Value::from(*n))).collect::<serde_json::Map<_, _>>(),
            "issues": self.issues.iter().map(|i| serde_json::json!({
                "row": i.row, "externalId": i.external_id, "objectId": i.object_id,
                "reason": i.reason.as_str(), "detail": i.detail,
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for ConversionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} rows, {} images, {} annotations",
            self.format, self.rows, self.images, self.annotations
        )?;
        if self.clipped > 0 {
            write!(f, ", {} coordinates clipped to the image", self.clipped)?;
        }
        if self.is_complete() {
            return write!(f, "; everything represented");
        }
        write!(
            f,
            "; {} issues in {} rows:",
            self.issue_count(),
            self.rows_with_issues
        )?;
        for (reason, count) in &self.by_reason {
            write!(f, " {reason}={count}")?;
        }
        Ok(())
    }
}

/// Per-row bookkeeping shared by the writers.
#[derive(Debug)]
pub(crate) struct RowContext {
    pub(crate) row: u64,
    pub(crate) external_id: Option<String>,
    had_issue: bool,
}

impl RowContext {
    pub(crate) fn issue(
        &mut self,
        report: &mut ConversionReport,
        object_id: Option<&str>,
        reason: Reason,
        detail: impl Into<String>,
    ) {
        if !self.had_issue {
            self.had_issue = true;
            report.rows_with_issues += 1;
        }
        report.add(Issue {
            row: self.row,
            external_id: self.external_id.clone(),
            object_id: object_id.map(str::to_string),
            reason,
            detail: detail.into(),
        });
    }
}

/// Starts a row: counts it and names it.
pub(crate) fn begin_row(report: &mut ConversionReport, row: &ExportRow) -> RowContext {
    report.rows += 1;
    RowContext {
        row: report.rows,
        external_id: row.file_name().map(str::to_string),
        had_issue: false,
    }
}

/// Records a row that could not be decoded.
pub(crate) fn unreadable(report: &mut ConversionReport, detail: String) {
    report.rows += 1;
    let mut ctx = RowContext {
        row: report.rows,
        external_id: None,
        had_issue: false,
    };
    ctx.issue(report, None, Reason::UnreadableRow, detail);
}

/// An image ready for a writer: its name, size and the objects of its first task.
pub(crate) struct ImageRow<'a> {
    pub(crate) file_name: &'a str,
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) objects: &'a [ExportObject],
    pub(crate) task_id: Option<&'a str>,
}

/// Checks that a row is an image with a size and a task, and reports what no image
/// format can hold (classifications, relations, brush masks, extra tasks). `None`
/// when the row is skipped (already reported).
pub(crate) fn image_row<'a>(
    row: &'a ExportRow,
    ctx: &mut RowContext,
    report: &mut ConversionReport,
) -> Option<ImageRow<'a>> {
    let kind = row.media_kind();
    if kind != MediaKind::Image {
        ctx.issue(report, None, Reason::NotAnImage, kind.as_str());
        return None;
    }
    let Some(file_name) = row.file_name() else {
        ctx.issue(report, None, Reason::NoFileName, "");
        return None;
    };
    let Some((width, height)) = row.image_size() else {
        ctx.issue(
            report,
            None,
            Reason::NoImageSize,
            format!(
                "metadata width={:?} height={:?}",
                row.metadata.width, row.metadata.height
            ),
        );
        return None;
    };
    let mut tasks = row.tasks();
    let Some(task) = tasks.next() else {
        ctx.issue(report, None, Reason::NoTask, "");
        return None;
    };
    for extra in tasks {
        ctx.issue(
            report,
            None,
            Reason::ExtraTask,
            format!(
                "task {} not converted",
                extra.task_id.as_deref().unwrap_or("?")
            ),
        );
    }
    for c in &task.classifications {
        ctx.issue(
            report,
            c.object_id.as_deref(),
            Reason::Classification,
            c.title.as_deref().or(c.schema_id.as_deref()).unwrap_or(""),
        );
    }
    for r in &task.relations {
        ctx.issue(
            report,
            r.object_id.as_deref(),
            Reason::Relation,
            r.title.as_deref().or(r.schema_id.as_deref()).unwrap_or(""),
        );
    }
    for key in ["brushDataUrl", "medicalBrushDataUrl"] {
        if task.extra.get(key).is_some_and(|v| !v.is_null()) {
            ctx.issue(report, None, Reason::BrushMask, key);
        }
    }
    Some(ImageRow {
        file_name,
        width,
        height,
        objects: &task.tools,
        task_id: task.task_id.as_deref(),
    })
}

/// One class: a region tool of the ontology.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    /// The tool's schema id.
    pub schema_id: String,
    /// The tool's title (the class name).
    pub name: String,
    /// The tool type.
    pub tool: Tool,
}

/// The classes of a dataset: the ontology's region tools in ontology order.
#[derive(Debug, Clone, Default)]
pub struct Classes {
    /// The classes; a class's id is its index (COCO adds 1).
    pub list: Vec<Class>,
    by_schema: HashMap<String, usize>,
    by_title: HashMap<String, usize>,
}

impl Classes {
    /// Whether a tool draws a region that the image formats can hold.
    pub fn is_region_tool(tool: Tool) -> bool {
        matches!(
            tool,
            Tool::BoundingBox | Tool::Polygon | Tool::Segmentation | Tool::RotatedBoundingBox
        )
    }

    /// The region tools of `ontology`, in order.
    pub fn from_ontology(ontology: &CategorySchema) -> Self {
        let mut classes = Classes::default();
        for tool in ontology
            .tools
            .iter()
            .filter(|t| Self::is_region_tool(t.tool))
        {
            let index = classes.list.len();
            classes
                .by_schema
                .entry(tool.base.schema_id.clone())
                .or_insert(index);
            classes
                .by_title
                .entry(tool.base.title.clone())
                .or_insert(index);
            classes.list.push(Class {
                schema_id: tool.base.schema_id.clone(),
                name: tool.base.title.clone(),
                tool: tool.tool,
            });
        }
        classes
    }

    /// The class of an object: by schema id, else (no schema id) by title.
    pub fn of(&self, object: &ExportObject) -> Option<usize> {
        match object.schema_id.as_deref() {
            Some(id) => self.by_schema.get(id).copied(),
            None => object
                .title
                .as_deref()
                .and_then(|t| self.by_title.get(t).copied()),
        }
    }

    /// The class named `name` (exact, else ignoring case and surrounding spaces).
    pub fn by_name(&self, name: &str) -> Option<usize> {
        if let Some(&i) = self.by_title.get(name) {
            return Some(i);
        }
        let wanted = name.trim().to_lowercase();
        self.list
            .iter()
            .position(|c| c.name.trim().to_lowercase() == wanted)
    }
}

/// A region ready for a writer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Region {
    /// `(x_min, y_min, width, height)`.
    Box(f64, f64, f64, f64),
    /// Closed outlines (one for a polygon, one per zone for a segmentation).
    Outlines(Vec<Vec<Point>>),
}

impl Region {
    /// The enclosing box `(x_min, y_min, width, height)`.
    pub(crate) fn bbox(&self) -> (f64, f64, f64, f64) {
        match self {
            Region::Box(x, y, w, h) => (*x, *y, *w, *h),
            Region::Outlines(outlines) => {
                let (mut x0, mut y0, mut x1, mut y1) = (
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                );
                for [x, y] in outlines.iter().flatten() {
                    x0 = x0.min(*x);
                    y0 = y0.min(*y);
                    x1 = x1.max(*x);
                    y1 = y1.max(*y);
                }
                (x0, y0, x1 - x0, y1 - y0)
            }
        }
    }
}

fn finite(points: &[Point]) -> bool {
    points.iter().flatten().all(|v| v.is_finite())
}

/// The class and region of an object, or the issue that keeps it out. Holes of a
/// segmentation are reported here (the outer regions are kept).
pub(crate) fn region_of(
    object: &ExportObject,
    classes: &Classes,
    ctx: &mut RowContext,
    report: &mut ConversionReport,
) -> Option<(usize, Region)> {
    let id = object.object_id.as_deref();
    let shape = object.shape();
    let region = match shape {
        Shape::BoundingBox(b) => {
            let (x, y, w, h) = b.normalized();
            if !(x.is_finite() && y.is_finite() && w.is_finite() && h.is_finite())
                || w <= 0.0
                || h <= 0.0
            {
                ctx.issue(
                    report,
                    id,
                    Reason::DegenerateShape,
                    format!("bounding-box {x},{y} {w}x{h}"),
                );
                return None;
            }
            Region::Box(x, y, w, h)
        }
        Shape::Polygon(points) => {
            if points.len() < 3 || !finite(points) {
                ctx.issue(
                    report,
                    id,
                    Reason::DegenerateShape,
                    format!("polygon of {} points", points.len()),
                );
                return None;
            }
            Region::Outlines(vec![points.to_vec()])
        }
        Shape::RotatedBoundingBox(r) => match &r.corners {
            Some(c) if c.len() == 4 && finite(c) => Region::Outlines(vec![c.clone()]),
            _ => {
                ctx.issue(report, id, Reason::RotatedWithoutCorners, "");
                return None;
            }
        },
        Shape::Segmentation(s) => {
            let mut outlines = Vec::new();
            let mut holes = 0;
            for zone in &s.zones {
                if zone.region.len() >= 3 && finite(&zone.region) {
                    outlines.push(zone.region.clone());
                }
                holes += zone.holes.len();
            }
            if outlines.is_empty() {
                ctx.issue(
                    report,
                    id,
                    Reason::DegenerateShape,
                    format!(
                        "segmentation with no zone of 3 points ({} zones)",
                        s.zones.len()
                    ),
                );
                return None;
            }
            if holes > 0 {
                ctx.issue(
                    report,
                    id,
                    Reason::SegmentationHoles,
                    format!("{holes} holes left out"),
                );
            }
            Region::Outlines(outlines)
        }
        other => {
            ctx.issue(report, id, Reason::UnsupportedShape, other.kind());
            return None;
        }
    };
    let Some(class) = classes.of(object) else {
        ctx.issue(
            report,
            id,
            Reason::UnknownCategory,
            format!(
                "schemaId {:?} title {:?} is not a region tool of the ontology",
                object.schema_id.as_deref().unwrap_or(""),
                object.title.as_deref().unwrap_or("")
            ),
        );
        return None;
    };
    Some((class, region))
}

/// Reads export rows from NDJSON (one row per line) or a JSON array, one at a time.
///
/// The format is detected from the first non-blank byte (`[` for an array). A row
/// that does not decode yields an [`Error::Decode`] and reading goes on with the next
/// one; a broken array structure or a read error ends the iteration.
pub struct RowReader<R> {
    reader: R,
    array: Option<bool>,
    ended_array: bool,
    ended: bool,
    buf: Vec<u8>,
}

impl<R> fmt::Debug for RowReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowReader")
            .field("array", &self.array)
            .field("ended", &self.ended)
            .finish()
    }
}

impl RowReader<BufReader<File>> {
    /// Opens an export file (`.ndjson` or `.json`).
    pub fn open(path: &Path) -> Result<Self> {
        let file =
            File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        Ok(RowReader::new(BufReader::with_capacity(256 * 1024, file)))
    }
}

impl<R: BufRead> RowReader<R> {
    /// Reads rows from `reader`.
    pub fn new(reader: R) -> Self {
        RowReader {
            reader,
            array: None,
            ended_array: false,
            ended: false,
            buf: Vec::new(),
        }
    }

    fn byte(&mut self) -> Result<Option<u8>> {
        let buf = self
            .reader
            .fill_buf()
            .map_err(|e| Error::io("reading the export", e))?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.reader.consume(1);
        Ok(Some(b))
    }

    fn peek_non_blank(&mut self) -> Result<Option<u8>> {
        loop {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| Error::io("reading the export", e))?;
            match buf.first() {
                None => return Ok(None),
                Some(b) if b.is_ascii_whitespace() => self.reader.consume(1),
                Some(&b) => return Ok(Some(b)),
            }
        }
    }

    /// The next row's JSON text, or `None` at the end.
    fn next_text(&mut self) -> Result<Option<()>> {
        self.buf.clear();
        if self.array.is_none() {
            // A UTF-8 byte order mark before the first value is skipped.
            let start = self
                .reader
                .fill_buf()
                .map_err(|e| Error::io("reading the export", e))?;
            if start.starts_with(b"\xEF\xBB\xBF") {
                self.reader.consume(3);
            }
            match self.peek_non_blank()? {
                None => return Ok(None),
                Some(b'[') => {
                    self.reader.consume(1);
                    self.array = Some(true);
                }
                Some(_) => self.array = Some(false),
            }
        }
        if self.array == Some(false) {
            loop {
                self.buf.clear();
                let n = self
                    .reader
                    .read_until(b'\n', &mut self.buf)
                    .map_err(|e| Error::io("reading the export", e))?;
                if n == 0 {
                    return Ok(None);
                }
                if self.buf.iter().any(|b| !b.is_ascii_whitespace()) {
                    return Ok(Some(()));
                }
            }
        }
        if self.ended_array {
            return match self.peek_non_blank()? {
                None => Ok(None),
                Some(_) => Err(Error::invalid(
                    "the export is not a JSON array: text after its closing bracket",
                )),
            };
        }
        let malformed =
            |what: &str| Error::invalid(format!("the export is not a JSON array: {what}"));
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        loop {
            let Some(b) = self.byte()? else {
                return Err(malformed("it ends before its closing bracket"));
            };
            if in_string {
                self.buf.push(b);
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b']' => {
                    self.ended_array = true;
                    return Ok(if self.buf.iter().all(u8::is_ascii_whitespace) {
                        None
                    } else {
                        Some(())
                    });
                }
                b',' if depth == 0 => {
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        return Err(malformed("an empty element"));
                    }
                    return Ok(Some(()));
                }
                _ => {}
            }
            self.buf.push(b);
        }
    }
}

impl<R: BufRead> Iterator for RowReader<R> {
    type Item = Result<ExportRow>;

    fn next(&mut self) -> Option<Result<ExportRow>> {
        if self.ended {
            return None;
        }
        let first = self.array.is_none();
        match self.next_text() {
            Ok(Some(())) => {
                // A first line that is cut short is a multi-line JSON document (not
                // NDJSON, not an array): an error, not a million unreadable rows.
                if first
                    && self.array == Some(false)
                    && serde_json::from_slice::<serde::de::IgnoredAny>(&self.buf)
                        .is_err_and(|e| e.is_eof())
                {
                    self.ended = true;
                    return Some(Err(Error::invalid(
                        "the export is neither NDJSON (one row per line) nor a JSON array",
                    )));
                }
                Some(ExportRow::from_slice(&self.buf))
            }
            Ok(None) => {
                self.ended = true;
                None
            }
            Err(e) => {
                self.ended = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads the whole of a small file (a COCO file, a `data.yaml`) as text.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(text)
}

/// A file name safe in one directory: separators and odd characters become `_`, and
/// a leading dot is dropped. The extension is kept.
pub(crate) fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// The name without its last extension.
pub(crate) fn stem(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s,
        _ => name,
    }
}
