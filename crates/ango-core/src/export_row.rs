//! The typed export row: one asset with its labeling task, as Ango Hub exports it.
//!
//! The current ("v3") export has one `task` per row, with `tools`, `classifications` and
//! `relations`; the older export format had a `tasks` list whose entries carry `objects`.
//! Both read into [`ExportRow`] (`objects` is accepted for `tools`). Every struct keeps
//! the fields it does not model in a flattened `extra` map, so a new server field never
//! breaks a reader and a row written back keeps them. `null` where a list is expected
//! reads as an empty list.
//!
//! ```
//! let row: ango_core::ExportRow = serde_json::from_str(r#"{
//!     "externalId": "cat.jpg", "metadata": {"width": 640, "height": 480},
//!     "task": {"taskId": "t1", "tools": [
//!         {"schemaId": "s1", "title": "Cat", "objectId": "o1",
//!          "bounding-box": {"x": 10, "y": 20, "width": 30, "height": 40}}]},
//!     "aNewServerField": 1
//! }"#).unwrap();
//! assert_eq!(row.image_size(), Some((640.0, 480.0)));
//! let object = &row.tasks().next().unwrap().tools[0];
//! assert!(matches!(object.shape(), ango_core::export_row::Shape::BoundingBox(_)));
//! assert_eq!(row.extra["aNewServerField"], 1);
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// An `[x, y]` pair, in pixels from the top-left corner of the image.
pub type Point = [f64; 2];

/// Reads a number, a numeric string or `null` as an optional `f64`.
fn lenient_f64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<f64>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// One row of an export: an asset and its task (or, in the older format, its tasks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportRow {
    /// The asset's URL (signed when the file was uploaded to Ango's storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The external id given at upload: usually the file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The asset's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    /// Metadata of the file: `width`/`height` for images and videos, more for videos.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub metadata: AssetMetadata,
    /// Names of the batches the asset belongs to.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub batches: Vec<String>,
    /// The task of a current ("v3") export row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<ExportTask>,
    /// The tasks of an older export row (one per labeler).
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<ExportTask>,
    /// Every other field (`dataset`, `contextData`, `attachments`, `labeledAt`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What kind of file an asset is, as far as an export row tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// A single image (or a row with nothing saying otherwise).
    Image,
    /// A video (`frameTotal`/`frameRate` in the metadata, or a video file name).
    Video,
    /// A PDF document.
    Pdf,
    /// A text document (`.txt`, `.md`, `.html`, `.json`, ...).
    Text,
    /// An audio file.
    Audio,
    /// A multi-page asset (`dataset` lists several files: multi-image, DICOM series).
    MultiPage,
}

impl MediaKind {
    /// A lowercase name for reports: `image`, `video`, `pdf`, `text`, `audio`, `multi-page`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Pdf => "pdf",
            MediaKind::Text => "text",
            MediaKind::Audio => "audio",
            MediaKind::MultiPage => "multi-page",
        }
    }
}

impl ExportRow {
    /// Reads a row from its JSON value.
    pub fn from_value(value: Value) -> Result<Self> {
        serde_json::from_value(value)
            .map_err(|e| Error::decode(format!("invalid export row: {e}"), b""))
    }

    /// Reads a row from its JSON text (one NDJSON line or one array element).
    pub fn from_slice(text: &[u8]) -> Result<Self> {
        serde_json::from_slice(text)
            .map_err(|e| Error::decode(format!("invalid export row: {e}"), text))
    }

    /// The row as JSON, with the fields it did not model.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The row's tasks: the v3 `task`, then the older format's `tasks`.
    pub fn tasks(&self) -> impl Iterator<Item = &ExportTask> {
        self.task.iter().chain(self.tasks.iter())
    }

    /// `(width, height)` from the metadata, when both are positive and finite.
    pub fn image_size(&self) -> Option<(f64, f64)> {
        let ok = |v: Option<f64>| v.filter(|v| v.is_finite() && *v > 0.0);
        Some((ok(self.metadata.width)?, ok(self.metadata.height)?))
    }

    /// The file's name: the external id, else the last path segment of the asset URL
    /// (without its query string).
    pub fn file_name(&self) -> Option<&str> {
        if let Some(id) = self.external_id.as_deref().filter(|s| !s.is_empty()) {
            return Some(id);
        }
        let url = self.asset.as_deref()?;
        let path = url.split(['?', '#']).next().unwrap_or(url);
        path.rsplit('/').next().filter(|s| !s.is_empty())
    }

    /// The kind of file, from the metadata, `dataset` and the file name's extension.
    pub fn media_kind(&self) -> MediaKind {
        let meta = &self.metadata.extra;
        if meta.contains_key("frameTotal") || meta.contains_key("frameRate") {
            return MediaKind::Video;
        }
        if let Some(Value::Array(pages)) = self.extra.get("dataset")
            && pages.len() > 1
        {
            return MediaKind::MultiPage;
        }
        let name = self
            .external_id
            .as_deref()
            .into_iter()
            .chain(self.asset.as_deref())
            .map(|s| s.split(['?', '#']).next().unwrap_or(s).to_ascii_lowercase())
            .find_map(|s| s.rsplit_once('.').map(|(_, ext)| ext.to_string()));
        match name.as_deref() {
            Some("pdf") => MediaKind::Pdf,
            Some("txt" | "md" | "html" | "htm" | "json" | "csv" | "xml") => MediaKind::Text,
            Some("mp4" | "mov" | "avi" | "mkv" | "webm" | "m4v") => MediaKind::Video,
            Some("mp3" | "wav" | "flac" | "ogg" | "m4a" | "aac") => MediaKind::Audio,
            _ => MediaKind::Image,
        }
    }
}

/// The `metadata` of an asset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AssetMetadata {
    /// Width in pixels (images and videos); a numeric string is accepted.
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<f64>,
    /// Height in pixels (images and videos); a numeric string is accepted.
    #[serde(
        default,
        deserialize_with = "lenient_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<f64>,
    /// Everything else (`frameTotal`, `frameRate`, page counts, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A labeling task in an export row: its state and its answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportTask {
    /// The task's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The stage's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The stage's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<String>,
    /// The task's status (`TODO`, `Completed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Who last changed the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    /// When the task last changed (ISO 8601, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Whether the labeler skipped the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_skipped: Option<bool>,
    /// The objects drawn on the asset (`objects` in the older format).
    #[serde(
        default,
        alias = "objects",
        deserialize_with = "crate::models::null_default"
    )]
    pub tools: Vec<ExportObject>,
    /// The answers to global classifications.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub classifications: Vec<ExportClassification>,
    /// The relations between objects.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub relations: Vec<ExportRelation>,
    /// Every other field (`stageHistory`, `brushDataUrl`, `totalDuration`, `review`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An object (annotation) drawn with a tool: its ids and exactly one geometry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportObject {
    /// The object's id, unique within the asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// The tool's (category's) schema id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// The tool's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Page or frame, from 0 (multi-page assets and videos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// Nested classifications answered on the object.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub classifications: Vec<ExportClassification>,
    /// `bounding-box` geometry.
    #[serde(
        default,
        rename = "bounding-box",
        skip_serializing_if = "Option::is_none"
    )]
    pub bounding_box: Option<BoundingBox>,
    /// `rotated-bounding-box` geometry.
    #[serde(
        default,
        rename = "rotated-bounding-box",
        skip_serializing_if = "Option::is_none"
    )]
    pub rotated_bounding_box: Option<RotatedBoundingBox>,
    /// `polygon` geometry: the points in click order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygon: Option<Vec<Point>>,
    /// `polyline` geometry: the points in click order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polyline: Option<Vec<Point>>,
    /// `point` geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<Point>,
    /// `segmentation` geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<Segmentation>,
    /// Every other field: other geometries (`ner`, `pdf`, `spline`, ...), `metadata`,
    /// `masks`, `interpolationStopped`, ...
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Geometry keys that are not modelled as fields but name an object's shape.
const OTHER_GEOMETRIES: &[&str] = &[
    "ner", "pdf", "spline", "angle", "pct", "cuboid", "brush", "voxel", "line",
];

/// The geometry of an object, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape<'a> {
    /// An axis-aligned box.
    BoundingBox(&'a BoundingBox),
    /// A rotated box.
    RotatedBoundingBox(&'a RotatedBoundingBox),
    /// A closed polygon.
    Polygon(&'a [Point]),
    /// An open line.
    Polyline(&'a [Point]),
    /// A point.
    Point(&'a Point),
    /// Zones with holes.
    Segmentation(&'a Segmentation),
    /// A geometry this model does not type (`ner`, `pdf`, ...): its key.
    Other(&'a str),
    /// No geometry at all.
    None,
}

impl Shape<'_> {
    /// The geometry's key in the export (`bounding-box`, `polygon`, ..., `none`).
    pub fn kind(&self) -> &str {
        match self {
            Shape::BoundingBox(_) => "bounding-box",
            Shape::RotatedBoundingBox(_) => "rotated-bounding-box",
            Shape::Polygon(_) => "polygon",
            Shape::Polyline(_) => "polyline",
            Shape::Point(_) => "point",
            Shape::Segmentation(_) => "segmentation",
            Shape::Other(key) => key,
            Shape::None => "none",
        }
    }
}

impl ExportObject {
    /// The object's geometry (the first one present, in the order of [`Shape`]).
    pub fn shape(&self) -> Shape<'_> {
        if let Some(b) = &self.bounding_box {
            Shape::BoundingBox(b)
        } else if let Some(r) = &self.rotated_bounding_box {
            Shape::RotatedBoundingBox(r)
        } else if let Some(p) = &self.polygon {
            Shape::Polygon(p)
        } else if let Some(p) = &self.polyline {
            Shape::Polyline(p)
        } else if let Some(p) = &self.point {
            Shape::Point(p)
        } else if let Some(s) = &self.segmentation {
            Shape::Segmentation(s)
        } else if let Some(key) = OTHER_GEOMETRIES
            .iter()
            .find(|k| self.extra.contains_key(**k))
        {
            Shape::Other(key)
        } else {
            Shape::None
        }
    }
}

/// A `bounding-box`: the corner clicked first and a signed size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BoundingBox {
    /// X of the first corner.
    pub x: f64,
    /// Y of the first corner.
    pub y: f64,
    /// Width; negative when the first corner is on the right.
    pub width: f64,
    /// Height; negative when the first corner is at the bottom.
    pub height: f64,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BoundingBox {
    /// `(x_min, y_min, width, height)` with a non-negative size, whichever corner was
    /// clicked first.
    pub fn normalized(&self) -> (f64, f64, f64, f64) {
        let (x, w) = if self.width < 0.0 {
            (self.x + self.width, -self.width)
        } else {
            (self.x, self.width)
        };
        let (y, h) = if self.height < 0.0 {
            (self.y + self.height, -self.height)
        } else {
            (self.y, self.height)
        };
        (x, y, w, h)
    }
}

/// A `rotated-bounding-box`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RotatedBoundingBox {
    /// X of the origin.
    pub x: f64,
    /// Y of the origin.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// Rotation in degrees, -180 to 180.
    #[serde(default)]
    pub rotation: f64,
    /// The four corners, when exported (imports have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corners: Option<Vec<Point>>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `segmentation`: zones, each one region with holes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Segmentation {
    /// The zones (empty when the export left out segmentation points).
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub zones: Vec<Zone>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One zone of a segmentation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Zone {
    /// The outer boundary.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub region: Vec<Point>,
    /// Holes cut out of the region.
    #[serde(default, deserialize_with = "crate::models::null_default")]
    pub holes: Vec<Vec<Point>>,
}

/// An answer to a classification (global, or nested in an object or another answer).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportClassification {
    /// The answer's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// The classification's schema id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// The classification type (`radio`, `checkbox`, `text`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The classification's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The answer: a string (radio, single dropdown, text), a list of strings
    /// (checkbox, multi dropdown, tree dropdown), or another JSON value.
    #[serde(default)]
    pub answer: Value,
    /// Nested classifications.
    #[serde(
        default,
        deserialize_with = "crate::models::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub classifications: Vec<ExportClassification>,
    /// Every other field (`columnField`, `page`, `metadata`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A relation between objects: single (`from`/`to`) or group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportRelation {
    /// The relation's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// The relation's schema id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// The relation's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Departure object id (single relations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Arrival object id (single relations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `straight` or `bidirectional` (single relations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Member object ids (group relations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Vec<String>>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The rows of a downloaded export as [`ExportRow`]s, each decoded once from its text
/// (see [`ExportRows::typed`](crate::export::ExportRows::typed)).
///
/// Unlike the untyped stream, a row that does not decode yields an [`Error::Decode`]
/// and the stream goes on with the next row, so a converter can report it and carry on.
#[derive(Debug)]
pub struct TypedRows(crate::export::ExportRows);

impl Iterator for TypedRows {
    type Item = Result<ExportRow>;

    fn next(&mut self) -> Option<Result<ExportRow>> {
        self.0
            .next_raw()
            .map(|text| text.and_then(|t| ExportRow::from_slice(&t)))
    }
}

impl crate::export::ExportRows {
    /// The rows as typed [`ExportRow`]s.
    pub fn typed(self) -> TypedRows {
        TypedRows(self)
    }
}
