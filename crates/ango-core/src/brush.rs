//! Brush masks: arrays encoded as PNG (or gzip NRRD volumes for medical masks) and
//! uploaded to the project's storage, as the official `upload_brush_array` does.

use std::io::Write;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::put_bytes_external;
use crate::models::StorageFileType;

/// An array to upload as a brush mask, with the official SDK's reading of each shape.
#[derive(Debug, Clone, PartialEq)]
pub enum BrushMask {
    /// A `(height, width)` mask: white and opaque where the value is above zero,
    /// transparent elsewhere.
    Mask {
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
        /// `height * width` values, row by row.
        values: Vec<f64>,
    },
    /// `(height, width, 3)` colours: opaque where not black.
    Rgb {
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
        /// `height * width * 3` bytes.
        data: Vec<u8>,
    },
    /// `(height, width, 4)` colours with alpha, used as they are.
    Rgba {
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
        /// `height * width * 4` bytes.
        data: Vec<u8>,
    },
    /// A `(depth, height, width)` label volume, for medical masks (NRRD).
    Volume {
        /// Slices.
        depth: usize,
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
        /// `depth * height * width` labels.
        data: Vec<u8>,
    },
}

/// Converts like numpy's `astype('uint8')`: truncation toward zero, wrapping modulo 256.
fn to_u8(value: f64) -> u8 {
    if value.is_finite() {
        (value.trunc() as i64).rem_euclid(256) as u8
    } else {
        0
    }
}

/// An array given as nested sequences of numbers, read one piece at a time (for a
/// binding that walks its own objects, such as Python lists or a numpy array's
/// `tolist()`): the shape is read from the nesting, which must be rectangular and at
/// most three deep. [`NestedArray::finish`] gives the mask.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NestedArray {
    shape: Vec<usize>,
    values: Vec<f64>,
}

impl NestedArray {
    /// The deepest nesting a brush array has (a volume, or colours).
    const MAX_DEPTH: usize = 3;

    /// A sequence of `len` items at nesting `depth` (0 for the outermost).
    pub fn sequence(&mut self, depth: usize, len: usize) -> Result<()> {
        match self.shape.get(depth) {
            Some(&expected) if expected == len => Ok(()),
            None if depth >= Self::MAX_DEPTH => Err(Error::invalid(
                "Unsupported brush array shape: more than three dimensions",
            )),
            None if depth == self.shape.len() && self.values.is_empty() => {
                self.shape.push(len);
                Ok(())
            }
            _ => Err(Error::invalid("a brush array must be rectangular")),
        }
    }

    /// A number at nesting `depth`, in row-major order.
    pub fn number(&mut self, depth: usize, value: f64) -> Result<()> {
        if depth != self.shape.len() {
            return Err(Error::invalid("a brush array must be rectangular"));
        }
        self.values.push(value);
        Ok(())
    }

    /// The mask, as [`BrushMask::from_shape`] reads the shape and the values.
    pub fn finish(self, medical: bool) -> Result<BrushMask> {
        BrushMask::from_shape(&self.shape, self.values, medical)
    }
}

impl BrushMask {
    /// The mask for an array given as nested JSON lists of numbers (a numpy array's
    /// `tolist()`): read as [`NestedArray`] reads it.
    pub fn from_nested(array: &serde_json::Value, medical: bool) -> Result<BrushMask> {
        use serde_json::Value;
        fn walk(value: &Value, depth: usize, array: &mut NestedArray) -> Result<()> {
            match value {
                Value::Array(items) => {
                    array.sequence(depth, items.len())?;
                    items
                        .iter()
                        .try_for_each(|item| walk(item, depth + 1, array))
                }
                Value::Number(n) => array.number(depth, n.as_f64().unwrap_or(f64::NAN)),
                Value::Bool(b) => array.number(depth, f64::from(u8::from(*b))),
                _ => Err(Error::invalid(
                    "a brush array holds numbers in nested lists",
                )),
            }
        }
        let mut nested = NestedArray::default();
        walk(array, 0, &mut nested)?;
        nested.finish(medical)
    }

    /// The mask for an array of `shape` with its values in row-major order, read as the
    /// official SDK reads a numpy array (a 3-D shape that is not `(h, w, 3|4)` is a
    /// volume, allowed only for medical masks).
    pub fn from_shape(shape: &[usize], values: Vec<f64>, medical: bool) -> Result<BrushMask> {
        // Checked: a caller's shape (a plugin's `{"shape": [...]}`) may overflow, and a
        // wrapped product could match a short `values` and pass.
        let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if expected.is_none_or(|expected| values.len() != expected || expected == 0) {
            let expected = expected.map_or_else(|| "too many".to_string(), |n| n.to_string());
            return Err(Error::invalid(format!(
                "a brush array of shape {shape:?} needs {expected} values, got {}",
                values.len()
            )));
        }
        let bytes = || values.iter().copied().map(to_u8).collect::<Vec<u8>>();
        match *shape {
            [depth, height, width] if medical && width != 3 && width != 4 => {
                Ok(BrushMask::Volume {
                    depth,
                    height,
                    width,
                    data: bytes(),
                })
            }
            [height, width] => Ok(BrushMask::Mask {
                height,
                width,
                values,
            }),
            [height, width, 3] => Ok(BrushMask::Rgb {
                height,
                width,
                data: bytes(),
            }),
            [height, width, 4] => Ok(BrushMask::Rgba {
                height,
                width,
                data: bytes(),
            }),
            _ => Err(Error::invalid(format!(
                "Unsupported brush array shape: {shape:?}"
            ))),
        }
    }

    /// The encoded file, its extension and its storage type.
    pub fn encode(&self, medical: bool) -> Result<(Vec<u8>, &'static str, StorageFileType)> {
        let image_type = if medical {
            StorageFileType::MedicalBrush
        } else {
            StorageFileType::Brush
        };
        let (width, height, rgba) = match self {
            BrushMask::Volume {
                depth,
                height,
                width,
                data,
            } => {
                return Ok((
                    nrrd_gzip(*depth, *height, *width, data)?,
                    ".seg.nrrd",
                    StorageFileType::MedicalBrush,
                ));
            }
            BrushMask::Mask {
                height,
                width,
                values,
            } => {
                let rgba = values
                    .iter()
                    .flat_map(|v| {
                        if *v > 0.0 {
                            [255, 255, 255, 255]
                        } else {
                            [0, 0, 0, 0]
                        }
                    })
                    .collect();
                (*width, *height, rgba)
            }
            BrushMask::Rgb {
                height,
                width,
                data,
            } => {
                let rgba = data
                    .chunks_exact(3)
                    .flat_map(|p| {
                        let opaque = p.iter().map(|&c| u32::from(c)).sum::<u32>() > 0;
                        [p[0], p[1], p[2], if opaque { 255 } else { 0 }]
                    })
                    .collect();
                (*width, *height, rgba)
            }
            BrushMask::Rgba {
                height,
                width,
                data,
            } => (*width, *height, data.clone()),
        };
        Ok((png_rgba(width, height, &rgba)?, ".png", image_type))
    }
}

/// A minimal PNG: 8-bit RGBA, no filtering, zlib-compressed.
fn png_rgba(width: usize, height: usize, rgba: &[u8]) -> Result<Vec<u8>> {
    let (w, h) = (u32::try_from(width), u32::try_from(height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(Error::invalid("the brush array is too large for a PNG"));
    };
    let mut raw = Vec::with_capacity(height * (width * 4 + 1));
    for row in rgba.chunks_exact(width * 4) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&raw)
        .map_err(|e| Error::io("compressing the mask", e))?;
    let compressed = encoder
        .finish()
        .map_err(|e| Error::io("compressing the mask", e))?;
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&w.to_be_bytes());
    header.extend_from_slice(&h.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", &header[..]),
        (b"IDAT", &compressed[..]),
        (b"IEND", &[][..]),
    ] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32fast::hash(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    Ok(png)
}

/// An NRRD0005 file of a uint8 volume, gzip-encoded, sizes written x y z.
fn nrrd_gzip(depth: usize, height: usize, width: usize, data: &[u8]) -> Result<Vec<u8>> {
    let mut out = format!(
        "NRRD0005\ntype: uint8\nencoding: gzip\ndimension: 3\nsizes: {width} {height} {depth}\n\n"
    )
    .into_bytes();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(data)
        .map_err(|e| Error::io("compressing the volume", e))?;
    out.extend(
        encoder
            .finish()
            .map_err(|e| Error::io("compressing the volume", e))?,
    );
    Ok(out)
}

impl Client {
    /// Encodes a brush mask (PNG, or NRRD for a medical volume), uploads it to the
    /// project's storage and returns its URL without the signature, for
    /// `AnnotationPayload::brush_data_url` / `medical_brush_data_url`.
    pub fn upload_brush_array(
        &self,
        project_id: &str,
        mask: &BrushMask,
        medical: bool,
    ) -> Result<String> {
        let (bytes, extension, file_type) = mask.encode(medical)?;
        let name = format!("{}{}", uuid::Uuid::new_v4().simple(), extension);
        let url = self.get_upload_url(&name, project_id, file_type, None)?;
        put_bytes_external(self, &url, &bytes)?;
        Ok(url.split('?').next().unwrap_or(&url).to_string())
    }
}

impl Client {
    /// PUTs bytes to a signed upload URL (from [`Client::get_upload_url`]), as plugins
    /// upload their export files: no API key, the status is checked, and the PUT is
    /// retried as it is idempotent.
    pub fn put_signed_url(&self, url: &str, bytes: &[u8]) -> Result<()> {
        put_bytes_external(self, url, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_lists_read_as_their_shape() {
        use serde_json::json;
        let mask = BrushMask::from_nested(&json!([[0, 1.5], [true, false]]), false).unwrap();
        assert_eq!(
            mask,
            BrushMask::from_shape(&[2, 2], vec![0.0, 1.5, 1.0, 0.0], false).unwrap()
        );
        let volume = json!([[[1, 0], [0, 1]], [[0, 0], [2, 2]]]);
        assert!(matches!(
            BrushMask::from_nested(&volume, true).unwrap(),
            BrushMask::Volume {
                depth: 2,
                height: 2,
                width: 2,
                ..
            }
        ));
        for (bad, part) in [
            (json!([[0, 1], [1]]), "rectangular"),
            (json!([[0, 1], [1, [2]]]), "rectangular"),
            (json!([1, [2]]), "rectangular"),
            (json!([[[1], 2]]), "rectangular"),
            (json!([["a"]]), "numbers"),
            (json!([[[[1]]]]), "more than three"),
            (json!(7), "shape"),
            (json!([]), "shape"),
            (json!([[[1, 2, 3, 4, 5]]]), "Unsupported"),
        ] {
            match BrushMask::from_nested(&bad, false) {
                Err(Error::InvalidArgument(message)) => {
                    assert!(message.contains(part), "{bad}: {message}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn shapes_are_read_like_the_official_sdk() {
        assert!(matches!(
            BrushMask::from_shape(&[2, 3], vec![0.0; 6], false),
            Ok(BrushMask::Mask { .. })
        ));
        assert!(matches!(
            BrushMask::from_shape(&[2, 3, 3], vec![0.0; 18], false),
            Ok(BrushMask::Rgb { .. })
        ));
        assert!(matches!(
            BrushMask::from_shape(&[2, 3, 4], vec![0.0; 24], true),
            Ok(BrushMask::Rgba { .. })
        ));
        assert!(matches!(
            BrushMask::from_shape(&[2, 3, 5], vec![0.0; 30], true),
            Ok(BrushMask::Volume { .. })
        ));
        assert!(BrushMask::from_shape(&[2, 3, 5], vec![0.0; 30], false).is_err());
        assert!(BrushMask::from_shape(&[2, 3], vec![0.0; 5], false).is_err());
        // A shape whose size overflows is refused, not a panic or a wrapped match.
        let huge = (1usize << (usize::BITS - 1)) + 1;
        assert!(BrushMask::from_shape(&[huge, 2], vec![0.0; 2], false).is_err());
        assert!(BrushMask::from_shape(&[usize::MAX, usize::MAX], vec![0.0], false).is_err());
        assert_eq!(to_u8(256.0), 0);
        assert_eq!(to_u8(-1.0), 255);
        assert_eq!(to_u8(7.9), 7);
    }

    #[test]
    fn masks_become_valid_pngs_and_volumes_nrrd() {
        let mask = BrushMask::from_shape(&[1, 2], vec![0.0, 3.0], false).unwrap();
        let (png, ext, kind) = mask.encode(false).unwrap();
        assert_eq!((ext, kind), (".png", StorageFileType::Brush));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR: 2 x 1, 8-bit RGBA.
        assert_eq!(&png[16..24], &[0, 0, 0, 2, 0, 0, 0, 1]);
        assert_eq!(&png[24..26], &[8, 6]);
        let idat_len = u32::from_be_bytes([png[33], png[34], png[35], png[36]]) as usize;
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(&png[41..41 + idat_len]),
            &mut raw,
        )
        .unwrap();
        assert_eq!(raw, vec![0, 0, 0, 0, 0, 255, 255, 255, 255]);
        let volume = BrushMask::from_shape(&[2, 1, 2], vec![1.0, 0.0, 0.0, 2.0], true).unwrap();
        let (nrrd, ext, kind) = volume.encode(true).unwrap();
        assert_eq!((ext, kind), (".seg.nrrd", StorageFileType::MedicalBrush));
        assert!(
            nrrd.starts_with(
                b"NRRD0005\ntype: uint8\nencoding: gzip\ndimension: 3\nsizes: 2 1 2\n\n"
            )
        );
    }
}
