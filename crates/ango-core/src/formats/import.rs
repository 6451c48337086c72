//! COCO and YOLO annotations into Ango's label import format (the `import_labels`
//! payload), with a report of what matches the project and what does not.
//!
//! Images are matched to assets by external id: the COCO `file_name` (or YOLO label
//! file's stem) equal to an asset's external id, else to its last path segment (or
//! stem). Categories are matched to the ontology's region tools by name (exactly, else
//! ignoring case and surrounding spaces), and the geometry follows the matched tool:
//! a box for a bounding-box tool, a polygon per outline for a polygon tool, one zone
//! per outline for a segmentation tool. Nothing is sent: the [`ImportPlan`] holds the
//! labels to pass to [`Client::import_labels`](crate::Client::import_labels) and the
//! [`ImportReport`] is the dry run.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::export_row::Point;
use crate::ontology::{CategorySchema, Tool};

use super::{Classes, read_text, stem};

/// An asset of the project, as far as matching needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetInfo {
    /// The asset's external id.
    pub external_id: String,
    /// Width in pixels, when known (YOLO needs it to undo the normalisation).
    pub width: Option<f64>,
    /// Height in pixels, when known.
    pub height: Option<f64>,
}

impl AssetInfo {
    /// Reads an asset as `get_assets` lists it (`externalId`, `metadata.width/height`),
    /// an export row (same keys), or a bare external id (a string). `None` without an
    /// external id.
    pub fn from_value(value: &Value) -> Option<Self> {
        if let Value::String(id) = value {
            return Some(AssetInfo {
                external_id: id.clone(),
                width: None,
                height: None,
            });
        }
        let num = |key: &str| {
            value
                .get("metadata")
                .and_then(|m| m.get(key))
                .and_then(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        Some(AssetInfo {
            external_id: value.get("externalId")?.as_str()?.to_string(),
            width: num("width"),
            height: num("height"),
        })
    }
}

/// Reads a list of assets (see [`AssetInfo::from_value`]); an item without an external
/// id is an [`Error::InvalidArgument`] naming its position.
pub fn assets_from_values(items: &[Value]) -> Result<Vec<AssetInfo>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            AssetInfo::from_value(item).ok_or_else(|| {
                Error::InvalidArgument(format!("assets[{i}] has no string externalId"))
            })
        })
        .collect()
}

/// One thing that will not be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportIssue {
    /// The image (COCO `file_name` or YOLO label file).
    pub image: String,
    /// The annotation (COCO id, or YOLO line number from 1), when one is concerned.
    pub annotation: Option<String>,
    /// Why.
    pub reason: String,
}

impl fmt::Display for ImportIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.image)?;
        if let Some(a) = &self.annotation {
            write!(f, " annotation {a}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The dry run of an import: what would be imported and what does not match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Images read.
    pub images: u64,
    /// Images matched to an asset (all of them when no asset list was given).
    pub matched_images: u64,
    /// Images with no asset of that external id.
    pub unmatched_images: Vec<String>,
    /// Annotations read.
    pub annotations: u64,
    /// Objects in the import payload.
    pub objects: u64,
    /// Label items in the payload (one per matched image with objects).
    pub items: u64,
    /// Annotations per category name that is not a region tool of the ontology.
    pub unmatched_categories: BTreeMap<String, u64>,
    /// Every annotation left out, with its reason (unmatched images are listed in
    /// `unmatched_images` only).
    pub issues: Vec<ImportIssue>,
}

impl ImportReport {
    /// Whether everything read would be imported.
    pub fn is_complete(&self) -> bool {
        self.unmatched_images.is_empty()
            && self.unmatched_categories.is_empty()
            && self.issues.is_empty()
    }

    /// The report as JSON.
    pub fn to_value(&self) -> Value {
        json!({
            "images": self.images,
            "matchedImages": self.matched_images,
            "unmatchedImages": self.unmatched_images,
            "annotations": self.annotations,
            "objects": self.objects,
            "items": self.items,
            "unmatchedCategories": self.unmatched_categories,
            "issues": self.issues.iter().map(|i| json!({
                "image": i.image, "annotation": i.annotation, "reason": i.reason,
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} images match an asset, {} objects from {} annotations in {} label items",
            self.matched_images, self.images, self.objects, self.annotations, self.items
        )?;
        if !self.unmatched_images.is_empty() {
            write!(
                f,
                "; unmatched images: {}",
                self.unmatched_images.join(", ")
            )?;
        }
        if !self.unmatched_categories.is_empty() {
            let list: Vec<String> = self
                .unmatched_categories
                .iter()
                .map(|(n, c)| format!("{n:?} ({c})"))
                .collect();
            write!(f, "; unmatched categories: {}", list.join(", "))?;
        }
        if !self.issues.is_empty() {
            write!(f, "; {} annotations left out", self.issues.len())?;
        }
        Ok(())
    }
}

/// Labels ready for `import_labels`, and the dry-run report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    /// The `import_labels` items: `{"externalId", "objects": [...]}`.
    pub labels: Vec<Value>,
    /// What would be imported and what does not match.
    pub report: ImportReport,
}

/// Matches image names to assets: exact external id, else last path segment.
struct AssetIndex<'a> {
    exact: HashMap<&'a str, &'a AssetInfo>,
    by_base: HashMap<&'a str, Option<&'a AssetInfo>>,
    by_stem: HashMap<&'a str, Option<&'a AssetInfo>>,
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

impl<'a> AssetIndex<'a> {
    fn new(assets: &'a [AssetInfo]) -> Self {
        let mut index = AssetIndex {
            exact: HashMap::new(),
            by_base: HashMap::new(),
            by_stem: HashMap::new(),
        };
        for a in assets {
            index.exact.entry(a.external_id.as_str()).or_insert(a);
            let base = base_name(&a.external_id);
            // A name shared by two different assets is ambiguous: `None`.
            let e = index.by_base.entry(base).or_insert(Some(a));
            if e.is_some_and(|x| x.external_id != a.external_id) {
                *e = None;
            }
            let e = index.by_stem.entry(stem(base)).or_insert(Some(a));
            if e.is_some_and(|x| x.external_id != a.external_id) {
                *e = None;
            }
        }
        index
    }

    fn by_name(&self, name: &str) -> Option<&'a AssetInfo> {
        self.exact
            .get(name)
            .copied()
            .or_else(|| self.by_base.get(base_name(name)).copied().flatten())
    }

    fn by_stem(&self, s: &str) -> Option<&'a AssetInfo> {
        self.by_stem.get(s).copied().flatten()
    }
}

/// Geometry read from a source annotation, in pixels.
enum Geometry {
    Box(f64, f64, f64, f64),
    Outlines(Vec<Vec<Point>>),
}

/// The Ango objects for one annotation of class `class`, or why not.
fn objects_for(
    geometry: &Geometry,
    class: &super::Class,
    object_id: Option<&str>,
) -> std::result::Result<Vec<Value>, String> {
    let base = |n: usize| {
        let mut m = Map::new();
        m.insert("schemaId".into(), Value::from(class.schema_id.as_str()));
        m.insert("title".into(), Value::from(class.name.as_str()));
        if let Some(id) = object_id {
            let id = if n == 0 {
                id.to_string()
            } else {
                format!("{id}-{n}")
            };
            m.insert("objectId".into(), Value::from(id));
        }
        m
    };
    let outlines_of_box =
        |x: f64, y: f64, w: f64, h: f64| vec![vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h]]];
    let enclosing = |outlines: &[Vec<Point>]| {
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
    };
    let points =
        |o: &[Point]| Value::from(o.iter().map(|p| json!([p[0], p[1]])).collect::<Vec<_>>());
    match class.tool {
        Tool::BoundingBox => {
            let (x, y, w, h) = match geometry {
                Geometry::Box(x, y, w, h) => (*x, *y, *w, *h),
                Geometry::Outlines(o) => enclosing(o),
            };
            let mut m = base(0);
            m.insert(
                "bounding-box".into(),
                json!({"x": x, "y": y, "width": w, "height": h}),
            );
            Ok(vec![Value::Object(m)])
        }
        Tool::Polygon => {
            let outlines = match geometry {
                Geometry::Box(x, y, w, h) => outlines_of_box(*x, *y, *w, *h),
                Geometry::Outlines(o) => o.clone(),
            };
            Ok(outlines
                .iter()
                .enumerate()
                .map(|(n, o)| {
                    let mut m = base(n);
                    m.insert("polygon".into(), points(o));
                    Value::Object(m)
                })
                .collect())
        }
        Tool::Segmentation => {
            let outlines = match geometry {
                Geometry::Box(x, y, w, h) => outlines_of_box(*x, *y, *w, *h),
                Geometry::Outlines(o) => o.clone(),
            };
            let zones: Vec<Value> = outlines
                .iter()
                .map(|o| json!({"region": points(o), "holes": []}))
                .collect();
            let mut m = base(0);
            m.insert("segmentation".into(), json!({ "zones": zones }));
            Ok(vec![Value::Object(m)])
        }
        other => Err(format!(
            "the category is a {} tool: only boxes, polygons and segmentations are imported",
            other.as_str()
        )),
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|v| v.is_finite())
}

/// Reads a COCO annotation's geometry: its polygons, else its box.
fn coco_geometry(ann: &Value) -> std::result::Result<Geometry, String> {
    if let Some(Value::Array(polys)) = ann.get("segmentation")
        && !polys.is_empty()
    {
        let mut outlines = Vec::new();
        for poly in polys {
            let coords: Option<Vec<f64>> =
                poly.as_array().and_then(|a| a.iter().map(num).collect());
            match coords {
                Some(c) if c.len() >= 6 && c.len().is_multiple_of(2) => {
                    outlines.push(c.chunks(2).map(|p| [p[0], p[1]]).collect())
                }
                _ => return Err("a segmentation polygon is not an even list of 6+ numbers".into()),
            }
        }
        return Ok(Geometry::Outlines(outlines));
    }
    if ann.get("segmentation").is_some_and(Value::is_object) && ann.get("bbox").is_none() {
        return Err("RLE masks are not imported".into());
    }
    let bbox: Option<Vec<f64>> = ann
        .get("bbox")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(num).collect());
    match bbox.as_deref() {
        Some(&[x, y, w, h]) if w > 0.0 && h > 0.0 => Ok(Geometry::Box(x, y, w, h)),
        _ => Err("no polygon and no valid bbox [x, y, w, h]".into()),
    }
}

fn json_id(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Converts a COCO document into `import_labels` items.
///
/// With `assets`, images are matched to them (unmatched images are reported and left
/// out); without, every image is imported under its `file_name`. An annotation's
/// `ango_object_id` (written by the COCO converter) becomes its `objectId`.
pub fn coco_to_import(
    coco: &Value,
    ontology: &CategorySchema,
    assets: Option<&[AssetInfo]>,
) -> Result<ImportPlan> {
    let classes = Classes::from_ontology(ontology);
    let list = |key: &str| -> Result<&Vec<Value>> {
        match coco.get(key) {
            Some(Value::Array(a)) => Ok(a),
            None | Some(Value::Null) if key != "images" => {
                static EMPTY: Vec<Value> = Vec::new();
                Ok(&EMPTY)
            }
            _ => Err(Error::invalid(format!(
                "not a COCO file: \"{key}\" is not a list"
            ))),
        }
    };
    let (images, annotations, categories) =
        (list("images")?, list("annotations")?, list("categories")?);
    let index = assets.map(AssetIndex::new);
    let mut report = ImportReport::default();

    // category id -> class index, or the category's name when it matches nothing.
    let mut category: HashMap<String, std::result::Result<usize, String>> = HashMap::new();
    for c in categories {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let m = classes.by_name(name).ok_or_else(|| name.to_string());
        category.insert(json_id(c.get("id")), m);
    }
    // image id -> (file name, external id when matched); in file order.
    let mut order: Vec<String> = Vec::new();
    let mut image_of: HashMap<String, (String, Option<String>)> = HashMap::new();
    for img in images {
        report.images += 1;
        let id = json_id(img.get("id"));
        let file = img
            .get("file_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let matched = match &index {
            None => Some(file.clone()).filter(|f| !f.is_empty()),
            Some(index) => index.by_name(&file).map(|a| a.external_id.clone()),
        };
        if matched.is_some() {
            report.matched_images += 1;
        } else {
            report.unmatched_images.push(file.clone());
        }
        order.push(id.clone());
        image_of.insert(id, (file, matched));
    }
    let mut objects_of: HashMap<String, Vec<Value>> = HashMap::new();
    for ann in annotations {
        report.annotations += 1;
        let image_id = json_id(ann.get("image_id"));
        let ann_id = Some(json_id(ann.get("id")));
        let Some((file, matched)) = image_of.get(&image_id) else {
            report.issues.push(ImportIssue {
                image: image_id,
                annotation: ann_id,
                reason: "no image with this image_id".into(),
            });
            continue;
        };
        if matched.is_none() {
            continue; // the image is reported once, in unmatched_images
        }
        let class = match category.get(&json_id(ann.get("category_id"))) {
            Some(Ok(class)) => &classes.list[*class],
            Some(Err(name)) => {
                *report.unmatched_categories.entry(name.clone()).or_default() += 1;
                continue;
            }
            None => {
                report.issues.push(ImportIssue {
                    image: file.clone(),
                    annotation: ann_id,
                    reason: "no category with this category_id".into(),
                });
                continue;
            }
        };
        if ann.get("iscrowd").and_then(Value::as_i64) == Some(1)
            && ann.get("segmentation").is_some_and(Value::is_object)
        {
            report.issues.push(ImportIssue {
                image: file.clone(),
                annotation: ann_id,
                reason: "a crowd (RLE) annotation: masks are not imported".into(),
            });
            continue;
        }
        let object_id = ann.get("ango_object_id").and_then(Value::as_str);
        match coco_geometry(ann).and_then(|g| objects_for(&g, class, object_id)) {
            Ok(objects) => objects_of.entry(image_id).or_default().extend(objects),
            Err(reason) => report.issues.push(ImportIssue {
                image: file.clone(),
                annotation: ann_id,
                reason,
            }),
        }
    }
    let mut labels = Vec::new();
    for id in order {
        let (Some(objects), Some((_, Some(external_id)))) =
            (objects_of.remove(&id), image_of.get(&id))
        else {
            continue;
        };
        report.objects += objects.len() as u64;
        labels.push(json!({"externalId": external_id, "objects": objects}));
    }
    report.items = labels.len() as u64;
    Ok(ImportPlan { labels, report })
}

/// Reads the class names of a YOLO `data.yaml`: `names:` as a flow list
/// (`[a, 'b']`), a block list (`- a`) or a map (`0: a`).
pub fn yolo_names(yaml: &str) -> Result<Vec<String>> {
    fn scalar(s: &str) -> String {
        let s = s.trim();
        let s = s.split(" #").next().unwrap_or(s).trim();
        if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
            serde_json::from_str(s).unwrap_or_else(|_| s[1..s.len() - 1].to_string())
        } else if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
            s[1..s.len() - 1].replace("''", "'")
        } else {
            s.to_string()
        }
    }
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("names:") else {
            continue;
        };
        let rest = rest.trim();
        if let Some(inner) = rest.strip_prefix('[') {
            let inner = inner.trim_end().strip_suffix(']').ok_or_else(|| {
                Error::invalid("data.yaml: a names list spread over lines is not supported")
            })?;
            return Ok(inner
                .split(',')
                .map(scalar)
                .filter(|s| !s.is_empty())
                .collect());
        }
        let mut names: BTreeMap<usize, String> = BTreeMap::new();
        let mut list = Vec::new();
        while let Some(next) = lines.peek() {
            if !next.starts_with([' ', '\t']) && !next.trim().is_empty() {
                break;
            }
            let item = lines.next().unwrap_or_default().trim();
            if item.is_empty() || item.starts_with('#') {
                continue;
            }
            if let Some(v) = item.strip_prefix("- ") {
                list.push(scalar(v));
            } else if let Some((k, v)) = item.split_once(':')
                && let Ok(k) = k.trim().parse::<usize>()
            {
                names.insert(k, scalar(v));
            } else {
                return Err(Error::invalid(format!("data.yaml: cannot read {item:?}")));
            }
        }
        if !list.is_empty() {
            return Ok(list);
        }
        let count = names.keys().next_back().map_or(0, |k| k + 1);
        if names.len() != count {
            return Err(Error::invalid("data.yaml: class ids are not 0..n"));
        }
        return Ok(names.into_values().collect());
    }
    Err(Error::invalid("data.yaml has no names"))
}

fn label_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        let path = entry.path();
        if path.is_dir() {
            label_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "txt") {
            out.push(path);
        }
    }
    Ok(())
}

/// Converts a YOLO dataset directory (`data.yaml` and `labels/**/*.txt`, detection or
/// segmentation lines) into `import_labels` items.
///
/// A label file is matched to the asset whose external id has the same stem; the
/// asset's `width`/`height` undo the normalisation, so an asset without them is
/// reported and left out.
pub fn yolo_to_import(
    dir: &Path,
    ontology: &CategorySchema,
    assets: &[AssetInfo],
) -> Result<ImportPlan> {
    let classes = Classes::from_ontology(ontology);
    let names = yolo_names(&read_text(&dir.join("data.yaml"))?)?;
    let class_of: Vec<std::result::Result<usize, String>> = names
        .iter()
        .map(|n| classes.by_name(n).ok_or_else(|| n.clone()))
        .collect();
    let index = AssetIndex::new(assets);
    let mut files = Vec::new();
    let labels_dir = dir.join("labels");
    label_files(
        if labels_dir.is_dir() {
            &labels_dir
        } else {
            dir
        },
        &mut files,
    )?;
    files.sort();
    let mut report = ImportReport::default();
    let mut labels = Vec::new();
    for path in files {
        report.images += 1;
        let file_stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shown = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = read_text(&path)?;
        let Some(asset) = index.by_stem(&file_stem) else {
            report.unmatched_images.push(shown);
            report.annotations += text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
            continue;
        };
        report.matched_images += 1;
        let size = asset.width.zip(asset.height);
        let mut objects = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            report.annotations += 1;
            let issue = |reason: String| ImportIssue {
                image: shown.clone(),
                annotation: Some((n + 1).to_string()),
                reason,
            };
            let Some((w, h)) = size else {
                report.issues.push(issue(format!(
                    "asset {} has no width/height",
                    asset.external_id
                )));
                continue;
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let Some(class_id) = fields.first().and_then(|c| c.parse::<usize>().ok()) else {
                report.issues.push(issue("no integer class id".into()));
                continue;
            };
            let values: Option<Vec<f64>> = fields[1..]
                .iter()
                .map(|v| v.parse::<f64>().ok().filter(|v| v.is_finite()))
                .collect();
            let geometry = match values.as_deref() {
                Some(&[cx, cy, bw, bh]) if bw > 0.0 && bh > 0.0 => {
                    Geometry::Box((cx - bw / 2.0) * w, (cy - bh / 2.0) * h, bw * w, bh * h)
                }
                Some(v) if v.len() >= 6 && v.len().is_multiple_of(2) => {
                    Geometry::Outlines(vec![v.chunks(2).map(|p| [p[0] * w, p[1] * h]).collect()])
                }
                _ => {
                    report.issues.push(issue(
                        "not `class cx cy w h` nor `class x1 y1 x2 y2 x3 y3 ...`".into(),
                    ));
                    continue;
                }
            };
            let class = match class_of.get(class_id) {
                Some(Ok(c)) => &classes.list[*c],
                Some(Err(name)) => {
                    *report.unmatched_categories.entry(name.clone()).or_default() += 1;
                    continue;
                }
                None => {
                    report.issues.push(issue(format!(
                        "class id {class_id} is not in data.yaml ({} names)",
                        names.len()
                    )));
                    continue;
                }
            };
            match objects_for(&geometry, class, None) {
                Ok(o) => objects.extend(o),
                Err(reason) => report.issues.push(issue(reason)),
            }
        }
        if !objects.is_empty() {
            report.objects += objects.len() as u64;
            labels.push(json!({"externalId": asset.external_id, "objects": objects}));
        }
    }
    report.items = labels.len() as u64;
    Ok(ImportPlan { labels, report })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn assets_are_dicts_rows_or_bare_ids_and_a_bad_item_is_named() {
        let assets = assets_from_values(&[
            json!("a.jpg"),
            json!({"externalId": "b.jpg", "metadata": {"width": 640, "height": "480"}}),
        ])
        .unwrap();
        assert_eq!(assets[0].external_id, "a.jpg");
        assert_eq!(assets[0].width, None);
        assert_eq!(
            (assets[1].width, assets[1].height),
            (Some(640.0), Some(480.0))
        );
        let err = assets_from_values(&[json!("a.jpg"), json!({"id": 3})]).unwrap_err();
        assert_eq!(err.to_string(), "assets[1] has no string externalId");
    }

    #[test]
    fn a_bare_list_of_tools_is_an_ontology() {
        let tools = json!([{"tool": "bounding-box", "title": "Car", "schemaId": "s1"}]);
        let from_list = crate::formats::ontology_from_value(&tools).unwrap();
        let from_schema = crate::formats::ontology_from_value(&json!({ "tools": tools })).unwrap();
        // Colours left out are drawn at random, so compare what was given.
        let given = |schema: &CategorySchema| -> Vec<(String, String)> {
            schema
                .tools
                .iter()
                .map(|t| (t.base.title.clone(), t.base.schema_id.clone()))
                .collect()
        };
        assert_eq!(given(&from_list), given(&from_schema));
        assert_eq!(
            given(&from_list),
            vec![("Car".to_string(), "s1".to_string())]
        );
    }
}
