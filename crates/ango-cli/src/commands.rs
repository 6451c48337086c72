//! The subcommands that take more than a line.

use std::io::Write;
use std::path::PathBuf;

use ango_core::models::{
    BatchFilter, ExportFormat, ExportOptions, StageFilter, TaskFilter, TaskType, TextFilter,
};
use ango_core::upload::{FileStatus, UploadFile, UploadOptions};
use ango_core::{Client, GetTasksParams, Value};
use ango_emulator::{Emulator, EmulatorConfig};
use clap::Args;

use crate::{CliError, print_json, print_line};

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

/// Arguments of `ango export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Project id.
    project: String,
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
    /// Save the zip here instead of printing rows.
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
}

/// Arguments of `ango emulator`.
#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The API key clients must send (default: a random one).
    #[arg(long = "emulator-key")]
    key: Option<String>,
    /// Added latency per API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of API requests answered 429/503 (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Share of API requests whose connection is dropped (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Start with a demo project.
    #[arg(long)]
    demo: bool,
}

pub(crate) fn tasks(
    client: &Client,
    args: &TasksArgs,
    out: &mut impl Write,
) -> Result<(), CliError> {
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
    let mut pages = client.iter_tasks(&args.project, &params, Some(args.page_size))?;
    write_pages(&mut pages, args.max, out)
}

/// `ango projects --all`: every project as NDJSON.
pub(crate) fn all_projects(
    client: &Client,
    page_size: u64,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut pages = client.iter_projects(Some(page_size))?;
    write_pages(&mut pages, None, out)
}

pub(crate) fn assets(
    client: &Client,
    args: &AssetsArgs,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut filters = serde_json::Map::new();
    if let Some(id) = &args.external_id {
        filters.insert("externalId".into(), Value::from(id.as_str()));
    }
    let mut pages = client.iter_assets(&args.project, &filters, Some(args.page_size))?;
    write_pages(&mut pages, None, out)
}

pub(crate) fn export(
    client: &Client,
    args: &ExportArgs,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let task_type: TaskType = args.task_type.parse()?;
    let stage = (!args.stage.is_empty()).then(|| args.stage.clone());
    let mut options = ExportOptions::new(stage, Some(task_type));
    options.batches = (!args.batch.is_empty()).then(|| args.batch.clone());
    if args.issues {
        options.export_type = ango_core::models::ExportType::Issue;
    }
    if let Some(path) = &args.output {
        let bytes = client.export_to_file(&args.project, &options, path)?;
        eprintln!("saved {} ({bytes} bytes)", path.display());
        return Ok(());
    }
    options.export_format = ExportFormat::Ndjson;
    let mut rows = client.export_rows(&args.project, &options)?;
    let mut lines = Lines::new(out);
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
    }
    lines.finish()
}

pub(crate) fn upload(
    client: &Client,
    args: &UploadArgs,
    quiet: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let files: Vec<UploadFile> = args.files.iter().cloned().map(UploadFile::from).collect();
    let options = UploadOptions {
        storage_id: args.storage.clone(),
        batches: (!args.batch.is_empty()).then(|| args.batch.clone()),
        priority: args.priority,
        progress: quiet.then(|| std::sync::Arc::new(ango_core::progress::NoProgress) as _),
        concurrency: None,
    };
    let report = client.upload_files(&args.project, &files, &options)?;
    for file in &report.files {
        let row = match &file.status {
            FileStatus::Uploaded { url } => {
                serde_json::json!({"path": file.path, "externalId": file.external_id, "ok": true, "url": url})
            }
            FileStatus::Failed { error } => {
                serde_json::json!({"path": file.path, "externalId": file.external_id, "ok": false, "error": error})
            }
            FileStatus::Unknown { url, error } => {
                serde_json::json!({"path": file.path, "externalId": file.external_id, "ok": false, "url": url, "error": error})
            }
        };
        let mut row = row;
        row["registration"] = file.status.registration().into();
        print_line(out, &row)?;
    }
    if let Some(response) = &report.response {
        print_json(out, response)?;
    }
    let failed = report.failed().count();
    if failed > 0 {
        return Err(CliError::Message(format!(
            "{failed} of {} files were not uploaded",
            report.files.len()
        )));
    }
    Ok(())
}

pub(crate) fn emulator(args: &EmulatorArgs) -> Result<(), CliError> {
    let mut config = EmulatorConfig::default()
        .port(args.port)
        .latency_ms(args.latency_ms)
        .fail_rate(args.fail_rate)
        .drop_rate(args.drop_rate)
        .seed_demo(args.demo);
    if let Some(key) = &args.key {
        config = config.api_key(key.clone());
    }
    let emulator = Emulator::start(config)
        .map_err(|e| CliError::Message(format!("starting the emulator: {e}")))?;
    println!("{} {}", emulator.url(), emulator.api_key());
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
/// is about to wait, so a reader sees rows as they arrive.
struct Lines<'a, W: Write> {
    out: &'a mut W,
    unflushed: usize,
}

impl<'a, W: Write> Lines<'a, W> {
    fn new(out: &'a mut W) -> Self {
        Lines { out, unflushed: 0 }
    }

    fn write(&mut self, line: &[u8], flush: bool) -> Result<(), CliError> {
        self.out.write_all(line)?;
        self.out.write_all(b"\n")?;
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
        self.out.flush()?;
        Ok(())
    }
}

/// Writes every item of a listing (at most `max`) as one NDJSON line each.
fn write_pages(
    pages: &mut ango_core::Pages,
    max: Option<u64>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut lines = Lines::new(out);
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
    lines.finish()
}
