//! YOLO (Ultralytics): a dataset directory with `data.yaml` and one label file per image.
//!
//! `data.yaml` lists the class names in ontology order (`names: {0: ..., 1: ...}`) with
//! `train: images` and `val: images`; the images themselves are not downloaded (put them
//! in `images/` under their external ids). `labels/<name>.txt` holds one line per
//! object, coordinates normalised to the image size and clipped to `[0, 1]`:
//!
//! - detection: `class cx cy w h`; polygons, segmentations and rotated boxes are written
//!   as their enclosing box and reported ([`Reason::OutlineToBox`]).
//! - segmentation: `class x1 y1 x2 y2 ...`; a box is written as its four corners, a
//!   segmentation of several zones as one line per zone ([`Reason::SplitInstance`]).
//!
//! An image without objects gets an empty label file (a background image).

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::export_row::{ExportRow, Point};
use crate::ontology::CategorySchema;

use super::{
    Classes, ConversionReport, Reason, Region, begin_row, image_row, region_of, safe_file_name,
    stem, unreadable,
};

/// Which kind of label lines to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YoloMode {
    /// `class cx cy w h` per object.
    Detect,
    /// `class x1 y1 x2 y2 ...` per object.
    Segment,
}

/// A streaming YOLO dataset writer.
#[derive(Debug)]
pub struct YoloWriter {
    labels: PathBuf,
    classes: Classes,
    mode: YoloMode,
    report: ConversionReport,
    line: String,
}

/// Creates `dir` (and parents) unless it exists; refuses a non-empty one.
pub(crate) fn fresh_dir(dir: &Path) -> Result<()> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::invalid(format!(
                    "{} already exists and is not empty",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))
        }
        Err(e) => Err(Error::io(format!("reading {}", dir.display()), e)),
    }
}

/// Opens a new file, `None` when it already exists.
pub(crate) fn create_new(path: &Path) -> Result<Option<File>> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(Error::io(format!("creating {}", path.display()), e)),
    }
}

/// `v / size` clipped to `[0, 1]`, counting clipped values.
fn clip(v: f64, size: f64, clipped: &mut u64) -> f64 {
    let n = v / size;
    if !(0.0..=1.0).contains(&n) {
        *clipped += 1;
    }
    n.clamp(0.0, 1.0) + 0.0
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn push_number(line: &mut String, v: f64) {
    use std::fmt::Write as _;
    let _ = write!(line, " {}", format_args!("{:.6}", v));
    // Trim "0.500000" to "0.5", keep "0" for zero.
    while line.ends_with('0') {
        line.pop();
    }
    if line.ends_with('.') {
        line.pop();
    }
}

impl YoloWriter {
    /// Creates the dataset directory `dir` (it must be absent or empty) with its
    /// `data.yaml`, `labels/` and `images/`.
    pub fn create(dir: &Path, ontology: &CategorySchema, mode: YoloMode) -> Result<Self> {
        fresh_dir(dir)?;
        let classes = Classes::from_ontology(ontology);
        let labels = dir.join("labels");
        for sub in [&labels, &dir.join("images")] {
            fs::create_dir_all(sub)
                .map_err(|e| Error::io(format!("creating {}", sub.display()), e))?;
        }
        let mut yaml = String::from(
            "# YOLO dataset converted from an Ango Hub export.\n\
             # Put the images in images/, named as their Ango external ids.\n\
             train: images\nval: images\n",
        );
        yaml.push_str(&format!("nc: {}\nnames:\n", classes.list.len()));
        for (i, class) in classes.list.iter().enumerate() {
            yaml.push_str(&format!("  {i}: {}\n", yaml_string(&class.name)));
        }
        let yaml_path = dir.join("data.yaml");
        fs::write(&yaml_path, yaml)
            .map_err(|e| Error::io(format!("writing {}", yaml_path.display()), e))?;
        Ok(YoloWriter {
            labels,
            classes,
            mode,
            report: ConversionReport::new(match mode {
                YoloMode::Detect => "yolo",
                YoloMode::Segment => "yolo-seg",
            }),
            line: String::new(),
        })
    }

    /// The classes being written; a class id is its index.
    pub fn classes(&self) -> &Classes {
        &self.classes
    }

    /// Records a row that could not be decoded.
    pub fn push_unreadable(&mut self, detail: String) {
        unreadable(&mut self.report, detail);
    }

    /// Converts one row into its label file.
    pub fn push(&mut self, row: &ExportRow) -> Result<()> {
        let report = &mut self.report;
        let mut ctx = begin_row(report, row);
        let Some(image) = image_row(row, &mut ctx, report) else {
            return Ok(());
        };
        let name = format!("{}.txt", safe_file_name(stem(image.file_name)));
        let path = self.labels.join(&name);
        let Some(file) = create_new(&path)? else {
            ctx.issue(
                report,
                None,
                Reason::DuplicateImage,
                format!("labels/{name} was written by an earlier row"),
            );
            return Ok(());
        };
        let mut out = BufWriter::new(file);
        report.images += 1;
        let (w, h) = (image.width, image.height);
        for object in image.objects {
            let Some((class, region)) = region_of(object, &self.classes, &mut ctx, report) else {
                continue;
            };
            let id = object.object_id.as_deref();
            let outlines: Vec<Vec<Point>> = match (self.mode, region) {
                (YoloMode::Detect, region) => {
                    if matches!(region, Region::Outlines(_)) {
                        ctx.issue(report, id, Reason::OutlineToBox, object.shape().kind());
                    }
                    let (x, y, bw, bh) = region.bbox();
                    let (x0, y0) = (
                        clip(x, w, &mut report.clipped),
                        clip(y, h, &mut report.clipped),
                    );
                    let (x1, y1) = (
                        clip(x + bw, w, &mut report.clipped),
                        clip(y + bh, h, &mut report.clipped),
                    );
                    if x1 <= x0 || y1 <= y0 {
                        ctx.issue(report, id, Reason::DegenerateShape, "outside the image");
                        continue;
                    }
                    self.line.clear();
                    self.line.push_str(&class.to_string());
                    for v in [(x0 + x1) / 2.0, (y0 + y1) / 2.0, x1 - x0, y1 - y0] {
                        push_number(&mut self.line, v);
                    }
                    self.line.push('\n');
                    out.write_all(self.line.as_bytes())
                        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                    report.annotations += 1;
                    continue;
                }
                (YoloMode::Segment, Region::Box(x, y, bw, bh)) => {
                    vec![vec![[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]]]
                }
                (YoloMode::Segment, Region::Outlines(outlines)) => {
                    if outlines.len() > 1 {
                        ctx.issue(
                            report,
                            id,
                            Reason::SplitInstance,
                            format!(
                                "{} zones written as {} lines",
                                outlines.len(),
                                outlines.len()
                            ),
                        );
                    }
                    outlines
                }
            };
            for outline in outlines {
                self.line.clear();
                self.line.push_str(&class.to_string());
                for [x, y] in outline {
                    push_number(&mut self.line, clip(x, w, &mut report.clipped));
                    push_number(&mut self.line, clip(y, h, &mut report.clipped));
                }
                self.line.push('\n');
                out.write_all(self.line.as_bytes())
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                report.annotations += 1;
            }
        }
        out.flush()
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(())
    }

    /// Returns the report (every label file is already complete).
    pub fn finish(self) -> Result<ConversionReport> {
        Ok(self.report)
    }
}
