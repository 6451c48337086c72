//! Pascal VOC: one XML file per image under `Annotations/`, and `labels.txt` with the
//! class names in ontology order.
//!
//! VOC holds boxes only: a polygon, segmentation or rotated box is written as its
//! enclosing box and reported ([`Reason::OutlineToBox`]). Coordinates are integer
//! pixels enclosing the box (`xmin`/`ymin` rounded down, `xmax`/`ymax` up) inside the
//! image; a box that had to be clipped is marked `<truncated>1</truncated>`.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::export_row::ExportRow;
use crate::ontology::CategorySchema;

use super::yolo::{create_new, fresh_dir};
use super::{
    Classes, ConversionReport, Reason, Region, begin_row, image_row, region_of, safe_file_name,
    stem, unreadable,
};

/// A streaming Pascal VOC writer.
#[derive(Debug)]
pub struct VocWriter {
    annotations: PathBuf,
    classes: Classes,
    report: ConversionReport,
}

/// Escapes text for XML content.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

impl VocWriter {
    /// Creates the directory `dir` (it must be absent or empty) with `Annotations/`
    /// and `labels.txt`.
    pub fn create(dir: &Path, ontology: &CategorySchema) -> Result<Self> {
        fresh_dir(dir)?;
        let classes = Classes::from_ontology(ontology);
        let annotations = dir.join("Annotations");
        fs::create_dir_all(&annotations)
            .map_err(|e| Error::io(format!("creating {}", annotations.display()), e))?;
        let labels: String = classes
            .list
            .iter()
            .map(|c| format!("{}\n", c.name.replace(['\n', '\r'], " ")))
            .collect();
        let labels_path = dir.join("labels.txt");
        fs::write(&labels_path, labels)
            .map_err(|e| Error::io(format!("writing {}", labels_path.display()), e))?;
        Ok(VocWriter {
            annotations,
            classes,
            report: ConversionReport::new("voc"),
        })
    }

    /// The classes being written.
    pub fn classes(&self) -> &Classes {
        &self.classes
    }

    /// Records a row that could not be decoded.
    pub fn push_unreadable(&mut self, detail: String) {
        unreadable(&mut self.report, detail);
    }

    /// Converts one row into its XML file.
    pub fn push(&mut self, row: &ExportRow) -> Result<()> {
        let report = &mut self.report;
        let mut ctx = begin_row(report, row);
        let Some(image) = image_row(row, &mut ctx, report) else {
            return Ok(());
        };
        let name = format!("{}.xml", safe_file_name(stem(image.file_name)));
        let path = self.annotations.join(&name);
        let Some(file) = create_new(&path)? else {
            ctx.issue(
                report,
                None,
                Reason::DuplicateImage,
                format!("Annotations/{name} was written by an earlier row"),
            );
            return Ok(());
        };
        report.images += 1;
        let (iw, ih) = (image.width.round().max(1.0), image.height.round().max(1.0));
        let mut xml = format!(
            "<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>{}</filename>\n\
             \t<source>\n\t\t<database>Ango Hub</database>\n\t</source>\n\
             \t<size>\n\t\t<width>{iw}</width>\n\t\t<height>{ih}</height>\n\t\t<depth>3</depth>\n\t</size>\n\
             \t<segmented>0</segmented>\n",
            xml_escape(image.file_name)
        );
        for object in image.objects {
            let Some((class, region)) = region_of(object, &self.classes, &mut ctx, report) else {
                continue;
            };
            let id = object.object_id.as_deref();
            if matches!(region, Region::Outlines(_)) {
                ctx.issue(report, id, Reason::OutlineToBox, object.shape().kind());
            }
            let (x, y, w, h) = region.bbox();
            let (x0, y0, x1, y1) = (x.floor(), y.floor(), (x + w).ceil(), (y + h).ceil());
            let (cx0, cy0, cx1, cy1) = (x0.max(0.0), y0.max(0.0), x1.min(iw), y1.min(ih));
            let truncated = (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1);
            if truncated {
                report.clipped += 1;
            }
            if cx1 <= cx0 || cy1 <= cy0 {
                ctx.issue(report, id, Reason::DegenerateShape, "outside the image");
                continue;
            }
            xml.push_str(&format!(
                "\t<object>\n\t\t<name>{}</name>\n\t\t<pose>Unspecified</pose>\n\
                 \t\t<truncated>{}</truncated>\n\t\t<difficult>0</difficult>\n\
                 \t\t<bndbox>\n\t\t\t<xmin>{cx0}</xmin>\n\t\t\t<ymin>{cy0}</ymin>\n\
                 \t\t\t<xmax>{cx1}</xmax>\n\t\t\t<ymax>{cy1}</ymax>\n\t\t</bndbox>\n\t</object>\n",
                xml_escape(&self.classes.list[class].name),
                u8::from(truncated),
            ));
            report.annotations += 1;
        }
        xml.push_str("</annotation>\n");
        let mut out = BufWriter::new(file);
        out.write_all(xml.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(())
    }

    /// Returns the report (every XML file is already complete).
    pub fn finish(self) -> Result<ConversionReport> {
        Ok(self.report)
    }
}
