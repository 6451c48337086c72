//! The subcommands that take more than a line.

use std::io::Write;
use std::path::{Path, PathBuf};

use ango_core::formats::Format;
use ango_core::models::{
    BatchFilter, ExportFormat, ExportOptions, StageFilter, TaskFilter, TaskType, TextFilter,
};
use ango_core::upload::{UploadFile, UploadOptions};
use ango_core::{Client, GetTasksParams, Value};
use ango_emulator::Emulator;
use clap::{Args, ValueEnum};

use crate::{CliError, Outcome, print_json, print_line};

/// Arguments of `ango tasks`.
#[derive(Debug, Args)]
pub(crate) struct TasksArgs {
    /// Project id.
    project: String,
    /// Only tasks in these stages (repeatable).
    #[arg(long)]
    stage: Vec<String>,
    /// Only tasks with this status (`TODO`, `Completed`).
    #[arg(long)]
    status: Option<String>,
    /// Only tasks in these batches (ids; repeatable).
    #[arg(long)]
    batch: Vec<String>,
    /// Only tasks assigned to this e-mail.
    #[arg(long)]
    assignee: Option<String>,
    /// Include each task's answer.
    #[arg(long)]
    answers: bool,
    /// Tasks per request (at most 1000).
    #[arg(long, default_value_t = 500)]
    page_size: u64,
    /// Stop after this many tasks.
    #[arg(long)]
    max: Option<u64>,
}

/// Arguments of `ango assets`.
#[derive(Debug, Args)]
pub(crate) struct AssetsArgs {
    /// Project id.
    project: String,
    /// Only the asset with this external id.
    #[arg(long)]
    external_id: Option<String>,
    /// Assets per request (at most 1000).
    #[arg(long, default_value_t = 500)]
    page_size: u64,
}

/// What `ango export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportTarget {
    /// Rows as NDJSON on stdout (with `-o`: the zip as the server sends it).
    Ndjson,
    /// Rows as one JSON array on stdout (with `-o`: the zip as the server sends it).
    Json,
    /// COCO JSON into the file `-o` (boxes, polygons, segmentation).
    Coco,
    /// YOLO detection dataset into the directory `-o`.
    Yolo,
    /// YOLO segmentation dataset into the directory `-o`.
    YoloSeg,
    /// Pascal VOC XML, one file per image, into the directory `-o`.
    Voc,
    /// Parquet tables (tasks, objects, classifications) into the directory `-o`.
    #[cfg(feature = "parquet")]
    Parquet,
}

/// Arguments of `ango export`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ango export $P > export.ndjson\n  \
    ango export $P --format coco -o coco.json\n  \
    ango export $P --format yolo -o dataset/ --stage Complete --stage Review\n\n\
    The image formats take their classes from the project's ontology; what a format \
    cannot represent is listed on stderr (or in the --json report) and the exit status is 3.")]
pub(crate) struct ExportArgs {
    /// Project id.
    project: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "ndjson")]
    format: ExportTarget,
    /// Stages to export (repeatable; default: Complete).
    #[arg(long)]
    stage: Vec<String>,
    /// Batches to export (repeatable).
    #[arg(long)]
    batch: Vec<String>,
    /// Task type: default, consensus or benchmark.
    #[arg(long, default_value = "default")]
    task_type: String,
    /// Export issues instead of tasks.
    #[arg(long)]
    issues: bool,
    /// ndjson/json: save the zip here instead of printing rows; coco: the file to
    /// write; yolo, yolo-seg, voc: a new or empty directory (required for those).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Arguments of `ango upload`.
#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// Project id.
    project: String,
    /// Files to upload.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Put the new assets into these batches (names or ids; repeatable).
    #[arg(long)]
    batch: Vec<String>,
    /// Upload into this storage integration.
    #[arg(long)]
    storage: Option<String>,
    /// Task priority of the new assets.
    #[arg(long, default_value_t = 0)]
    priority: i64,
    /// Use each file's name as its external id, rather than the path as given.
    #[arg(long)]
    basename: bool,
    /// Do not read the width and height of PNG and JPEG files into the asset metadata.
    #[arg(long)]
    no_size: bool,
}

/// Arguments of `ango emulator`: the flags of the `ango-emulator` binary.
pub(crate) use ango_emulator::cli::EmulatorArgs;

pub(crate) fn tasks(
    client: &Client,
    args: &TasksArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let filter = TaskFilter {
        stage: match args.stage.len() {
            0 => None,
            1 => Some(StageFilter::Is(args.stage[0].clone())),
            _ => Some(StageFilter::AnyOf(args.stage.clone())),
        },
        batches: (!args.batch.is_empty()).then(|| BatchFilter::AnyOf(args.batch.clone())),
        status: args.status.as_deref().map(TextFilter::from),
        assignee: args.assignee.as_deref().map(TextFilter::from),
        ..TaskFilter::default()
    };
    let params = GetTasksParams {
        include_answer: args.answers,
        task_filter: Some(filter),
        ..GetTasksParams::default()
    };
    let mut pages = client
        .raw()
        .iter_tasks(&args.project, &params, Some(args.page_size))?;
    write_pages(&mut pages, args.max, json, out)
}

/// `ango projects --all`: every project as NDJSON.
pub(crate) fn all_projects(
    client: &Client,
    page_size: u64,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let mut pages = client.raw().iter_projects(Some(page_size))?;
    write_pages(&mut pages, None, json, out)
}

pub(crate) fn assets(
    client: &Client,
    args: &AssetsArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let mut filters = serde_json::Map::new();
    if let Some(id) = &args.external_id {
        filters.insert("externalId".into(), Value::from(id.as_str()));
    }
    let mut pages = client
        .raw()
        .iter_assets(&args.project, &filters, Some(args.page_size))?;
    write_pages(&mut pages, None, json, out)
}

pub(crate) fn export(
    client: &Client,
    args: &ExportArgs,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let task_type: TaskType = args.task_type.parse()?;
    let stage = (!args.stage.is_empty()).then(|| args.stage.clone());
    let mut options = ExportOptions::new(stage, Some(task_type));
    options.batches = (!args.batch.is_empty()).then(|| args.batch.clone());
    if args.issues {
        options.export_type = ango_core::models::ExportType::Issue;
    }
    let format = match args.format {
        ExportTarget::Ndjson | ExportTarget::Json => None,
        ExportTarget::Coco => Some(Format::Coco),
        ExportTarget::Yolo => Some(Format::YoloDetect),
        ExportTarget::YoloSeg => Some(Format::YoloSegment),
        ExportTarget::Voc => Some(Format::Voc),
        #[cfg(feature = "parquet")]
        ExportTarget::Parquet => Some(Format::Parquet),
    };
    if let Some(format) = format {
        let path = args.output.as_deref().ok_or_else(|| {
            CliError::Usage(format!(
                "--format {} needs --output (a file for coco, a directory otherwise)",
                format.as_str()
            ))
        })?;
        if args.issues {
            return Err(CliError::Usage(format!(
                "--issues exports issues, which --format {} cannot hold",
                format.as_str()
            )));
        }
        let report = client.export_as(&args.project, &options, format, None, path)?;
        crate::convert::show_report(&report);
        if report.rows == 0 {
            empty_export_hint(args);
        }
        if json {
            print_json(out, &report.to_value())?;
        }
        return Ok(Outcome::from_complete(report.is_complete()));
    }
    options.export_format = if args.format == ExportTarget::Json {
        ExportFormat::Json
    } else {
        ExportFormat::Ndjson
    };
    if let Some(path) = &args.output {
        let bytes = client.export_to_file(&args.project, &options, path)?;
        eprintln!("saved {} ({bytes} bytes)", path.display());
        if json {
            print_json(
                out,
                &serde_json::json!({"path": path.to_string_lossy(), "bytes": bytes}),
            )?;
        }
        return Ok(Outcome::Complete);
    }
    options.export_format = ExportFormat::Ndjson;
    let array = json || args.format == ExportTarget::Json;
    let mut rows = client.raw().export_rows(&args.project, &options)?;
    let mut lines = Lines::new(out, array);
    let mut written = 0u64;
    while let Some(row) = rows.next_raw() {
        let row = lines.fail(row)?;
        // Checked as JSON without building it, then written as the server sent it.
        let text = row.trim_ascii();
        lines.fail(
            serde_json::from_slice::<serde::de::IgnoredAny>(text).map_err(|e| {
                CliError::Message(format!("the export holds a row that is not JSON: {e}"))
            }),
        )?;
        lines.write(text, false)?;
        written += 1;
    }
    lines.finish()?;
    if written == 0 {
        empty_export_hint(args);
    }
    Ok(Outcome::Complete)
}

/// Says why an export may be empty: by default only tasks in stage Complete are
/// exported, and new or imported labels are usually in an earlier stage.
fn empty_export_hint(args: &ExportArgs) {
    if args.stage.is_empty() {
        eprintln!(
            "note: the export is empty; only tasks in stage Complete are exported unless \
             --stage says otherwise (e.g. --stage Label --stage Complete)"
        );
    }
}

pub(crate) fn upload(
    client: &Client,
    args: &UploadArgs,
    quiet: bool,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let files: Vec<UploadFile> = args
        .files
        .iter()
        .map(|path| {
            let mut file = UploadFile::from(path.clone());
            if args.basename {
                file.external_id = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned());
            }
            if !args.no_size
                && let Some((width, height)) = image_size(path)
            {
                file.metadata = Some(serde_json::json!({"width": width, "height": height}));
            }
            file
        })
        .collect();
    let options = UploadOptions {
        storage_id: args.storage.clone(),
        batches: (!args.batch.is_empty()).then(|| args.batch.clone()),
        priority: args.priority,
        progress: quiet.then(|| std::sync::Arc::new(ango_core::progress::NoProgress) as _),
        concurrency: None,
    };
    let report = client.upload_files(&args.project, &files, &options)?;
    // The core's one serialized shape: with --json the whole report, otherwise one
    // line per file (its outcome) and then the registration response.
    let shape = serde_json::to_value(&report).map_err(|e| CliError::Message(e.to_string()))?;
    if json {
        print_json(out, &shape)?;
    } else {
        for file in shape["files"].as_array().into_iter().flatten() {
            print_line(out, file)?;
        }
        if let Some(response) = &report.response {
            print_json(out, response)?;
        }
    }
    let failed = report.failed().count();
    let total = report.files.len();
    if failed == 0 {
        return Ok(Outcome::Complete);
    }
    let message = format!("{failed} of {total} files were not uploaded");
    if failed == total {
        // Nothing was done: a failure, not a partial result.
        out.flush()?;
        return Err(CliError::Message(message));
    }
    eprintln!("warning: {message}");
    Ok(Outcome::Partial)
}

/// The width and height of a PNG, JPEG or GIF file, read from its header.
pub(crate) fn image_size(path: &Path) -> Option<(u32, u32)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut head = [0u8; 32];
    let n = file.read(&mut head).ok()?;
    let head = &head[..n];
    if head.starts_with(b"\x89PNG\r\n\x1a\n") && n >= 24 && &head[12..16] == b"IHDR" {
        let width = u32::from_be_bytes(head[16..20].try_into().ok()?);
        let height = u32::from_be_bytes(head[20..24].try_into().ok()?);
        return (width > 0 && height > 0).then_some((width, height));
    }
    if (head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a")) && n >= 10 {
        let width = u32::from(u16::from_le_bytes([head[6], head[7]]));
        let height = u32::from(u16::from_le_bytes([head[8], head[9]]));
        return (width > 0 && height > 0).then_some((width, height));
    }
    if head.starts_with(&[0xFF, 0xD8]) {
        return jpeg_size(std::io::BufReader::new(std::fs::File::open(path).ok()?));
    }
    None
}

/// Walks a JPEG's markers to its first start-of-frame segment.
fn jpeg_size<R: std::io::Read>(mut reader: R) -> Option<(u32, u32)> {
    fn read_u8(reader: &mut impl std::io::Read) -> Option<u8> {
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte).ok()?;
        Some(byte[0])
    }
    // SOI.
    if read_u8(&mut reader)? != 0xFF || read_u8(&mut reader)? != 0xD8 {
        return None;
    }
    loop {
        if read_u8(&mut reader)? != 0xFF {
            return None;
        }
        let mut marker = read_u8(&mut reader)?;
        while marker == 0xFF {
            marker = read_u8(&mut reader)?;
        }
        if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            continue;
        }
        let mut len = [0u8; 2];
        reader.read_exact(&mut len).ok()?;
        let len = usize::from(u16::from_be_bytes(len));
        if len < 2 {
            return None;
        }
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let mut frame = [0u8; 5];
            reader.read_exact(&mut frame).ok()?;
            let height = u32::from(u16::from_be_bytes([frame[1], frame[2]]));
            let width = u32::from(u16::from_be_bytes([frame[3], frame[4]]));
            return (width > 0 && height > 0).then_some((width, height));
        }
        if marker == 0xD9 || marker == 0xDA {
            return None;
        }
        std::io::copy(
            &mut std::io::Read::take(&mut reader, len as u64 - 2),
            &mut std::io::sink(),
        )
        .ok()?;
    }
}

/// Runs the emulator until interrupted; prints `URL KEY` on stdout (with `json`,
/// `{"url", "apiKey"}`).
pub(crate) fn emulator(args: &EmulatorArgs, json: bool) -> Result<(), CliError> {
    let config = args.config().map_err(|e| CliError::Usage(e.to_string()))?;
    let emulator = Emulator::start(config)
        .map_err(|e| CliError::Message(format!("starting the emulator: {e}")))?;
    if json {
        println!(
            "{}",
            serde_json::json!({"url": emulator.url(), "apiKey": emulator.api_key()})
        );
    } else {
        println!("{} {}", emulator.url(), emulator.api_key());
    }
    eprintln!("Ango Hub emulator at {} (Ctrl-C to stop)", emulator.url());
    eprintln!(
        "  export ANGO_HOST={} ANGO_API_KEY={}",
        emulator.url(),
        emulator.api_key()
    );
    eprintln!(
        "  plugin hub: connect plugins to {} (any id registers on its first heartbeat); \
         run one with POST {}/__emulator/plugins/<id>/run, sessions at /__emulator/plugins/<id>/sessions",
        emulator.url(),
        emulator.url()
    );
    std::io::stdout().flush()?;
    loop {
        std::thread::park();
    }
}

/// Lines written since the last flush after which stdout is flushed anyway.
const FLUSH_EVERY: usize = 256;

/// NDJSON lines on a buffered stdout, flushed in small batches and whenever the source
/// is about to wait, so a reader sees rows as they arrive; or, in array mode, the same
/// items as the elements of one JSON array (for `--json`), still streamed.
struct Lines<'a, W: Write> {
    out: &'a mut W,
    unflushed: usize,
    /// `Some(items written)` in array mode.
    array: Option<u64>,
}

impl<'a, W: Write> Lines<'a, W> {
    fn new(out: &'a mut W, array: bool) -> Self {
        Lines {
            out,
            unflushed: 0,
            array: array.then_some(0),
        }
    }

    fn write(&mut self, line: &[u8], flush: bool) -> Result<(), CliError> {
        if let Some(written) = &mut self.array {
            self.out
                .write_all(if *written == 0 { b"[\n" } else { b",\n" })?;
            *written += 1;
        }
        self.out.write_all(line)?;
        if self.array.is_none() {
            self.out.write_all(b"\n")?;
        }
        self.unflushed += 1;
        if flush || self.unflushed >= FLUSH_EVERY {
            self.out.flush()?;
            self.unflushed = 0;
        }
        Ok(())
    }

    /// Passes `result` through, flushing what was written before an error.
    fn fail<T, E: Into<CliError>>(&mut self, result: Result<T, E>) -> Result<T, CliError> {
        result.map_err(|e| {
            let _ = self.out.flush();
            e.into()
        })
    }

    fn finish(self) -> Result<(), CliError> {
        match self.array {
            Some(0) => self.out.write_all(b"[]\n")?,
            Some(_) => self.out.write_all(b"\n]\n")?,
            None => {}
        }
        self.out.flush()?;
        Ok(())
    }
}

/// Writes every item of a listing (at most `max`) as one NDJSON line each.
fn write_pages(
    pages: &mut ango_core::Pages,
    max: Option<u64>,
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, CliError> {
    let mut lines = Lines::new(out, json);
    let mut written = 0u64;
    let mut line = Vec::new();
    while max.is_none_or(|max| written < max) {
        let Some(item) = pages.next() else { break };
        let item = lines.fail(item)?;
        line.clear();
        serde_json::to_writer(&mut line, &item).map_err(|e| CliError::Message(e.to_string()))?;
        written += 1;
        // The next item would wait for the server: let the reader have these now.
        lines.write(&line, pages.buffered() == 0)?;
    }
    lines.finish()?;
    Ok(Outcome::Complete)
}

#[cfg(test)]
mod tests {
    use super::image_size;

    fn size_of(bytes: &[u8]) -> Option<(u32, u32)> {
        let path = std::env::temp_dir().join(format!(
            "ango-cli-size-{}-{:?}.bin",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, bytes).unwrap();
        let size = image_size(&path);
        std::fs::remove_file(&path).unwrap();
        size
    }

    #[test]
    fn image_sizes_come_from_the_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(1920u32.to_be_bytes());
        png.extend(1080u32.to_be_bytes());
        assert_eq!(size_of(&png), Some((1920, 1080)));
        assert_eq!(size_of(b"GIF89a\x20\x03\x58\x02"), Some((800, 600)));
        // A progressive JPEG (SOF2) after an EXIF segment and a restart marker pad.
        let mut jpeg = vec![
            0xFF, 0xD8, 0xFF, 0xE1, 0, 6, 1, 2, 3, 4, 0xFF, 0xFF, 0xC2, 0, 17, 8,
        ];
        jpeg.extend(300u16.to_be_bytes());
        jpeg.extend(400u16.to_be_bytes());
        assert_eq!(size_of(&jpeg), Some((400, 300)));
    }

    #[test]
    fn other_or_broken_files_have_no_size() {
        assert_eq!(size_of(b"just text"), None);
        assert_eq!(size_of(b"\x89PNG\r\n\x1a\n"), None, "truncated PNG");
        assert_eq!(
            size_of(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 200, 1]),
            None,
            "truncated JPEG"
        );
        // A DHT segment (0xC4) is not a frame; the scan starts before any frame.
        assert_eq!(
            size_of(&[0xFF, 0xD8, 0xFF, 0xC4, 0, 2, 0xFF, 0xDA, 0, 2]),
            None
        );
        let mut zero = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        zero.extend([0u8; 8]);
        assert_eq!(size_of(&zero), None, "zero size");
    }
}
