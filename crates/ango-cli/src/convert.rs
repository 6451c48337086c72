//! `ango convert`: an export (NDJSON or JSON) to COCO, YOLO or Pascal VOC, or COCO/YOLO
//! annotations to Ango's label import format. Works offline: no API key needed.
//!
//! Exit codes: 0 everything converted, 1 failure, 2 usage, 3 converted with some rows
//! or objects the target cannot represent (listed on stderr).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ango_core::formats::{self, AssetInfo, Format, RowReader};
use ango_core::{ExportRow, Value};
use clap::{Args, ValueEnum};

use crate::PARTIAL;
/// Issues listed on stderr before "... and N more".
const SHOWN_ISSUES: usize = 20;

/// A target of `ango convert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Target {
    /// COCO JSON (boxes, polygons, segmentation).
    Coco,
    /// YOLO detection dataset (data.yaml + labels/).
    Yolo,
    /// YOLO segmentation dataset.
    YoloSeg,
    /// Pascal VOC XML, one file per image.
    Voc,
    /// Ango's label import format (from COCO or YOLO).
    Ango,
    /// Parquet tables: tasks, objects, classifications (built with feature `parquet`).
    #[cfg(feature = "parquet")]
    Parquet,
}

/// Arguments of `ango convert`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ango convert export.ndjson --to coco --ontology ontology.json -o coco.json\n  \
    ango convert export.json --to yolo --ontology ontology.json -o dataset/\n  \
    ango convert coco.json --to ango --ontology ontology.json --assets assets.ndjson -o labels.json\n\n\
    The ontology file is a category schema, or a `ango project <id>` response.\n\
    Exit codes: 0 ok, 1 failure, 2 usage, 3 some rows or objects could not be represented.")]
pub(crate) struct ConvertArgs {
    /// The export file (NDJSON or JSON; `-` for stdin), or with `--to ango` a COCO
    /// JSON file or a YOLO dataset directory.
    input: PathBuf,
    /// The target format.
    #[arg(long, value_enum)]
    to: Target,
    /// The project's ontology (category schema) as JSON: it gives the classes.
    #[arg(long)]
    ontology: PathBuf,
    /// Where to write: a file (coco, ango) or a new or empty directory (yolo, voc,
    /// parquet).
    /// Required unless `--dry-run`.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// With `--to ango`: the project's assets (NDJSON or JSON list, e.g. from
    /// `ango assets <project>`), to match images by external id; required for YOLO,
    /// whose coordinates need the assets' width and height.
    #[arg(long)]
    assets: Option<PathBuf>,
    /// With `--to ango`: report what would be imported without writing the output.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `ango convert` and returns its exit status.
pub(crate) fn run(args: &ConvertArgs, json: bool) -> ExitCode {
    match convert(args, json) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(PARTIAL),
        Err(message) => {
            eprintln!("error: {message}");
            // Arguments that do not go together are usage errors, as clap's own.
            if message.starts_with(USAGE) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The start of the messages of usage errors found after parsing.
const USAGE: &str = "usage: ";

/// Converts; `Ok(complete)`.
fn convert(args: &ConvertArgs, json: bool) -> Result<bool, String> {
    let ontology = formats::read_ontology_file(&args.ontology).map_err(|e| e.to_string())?;
    let format = match args.to {
        Target::Coco => Format::Coco,
        Target::Yolo => Format::YoloDetect,
        Target::YoloSeg => Format::YoloSegment,
        Target::Voc => Format::Voc,
        #[cfg(feature = "parquet")]
        Target::Parquet => Format::Parquet,
        Target::Ango => return import(args, &ontology, json),
    };
    if args.assets.is_some() || args.dry_run {
        return Err(format!("{USAGE}--assets and --dry-run go with --to ango"));
    }
    let output = args
        .output
        .as_deref()
        .ok_or(format!("{USAGE}--output is required"))?;
    let report = if args.input == Path::new("-") {
        let rows = RowReader::new(io::stdin().lock());
        formats::convert(rows, format, &ontology, output)
    } else {
        let rows = RowReader::open(&args.input).map_err(|e| e.to_string())?;
        formats::convert(rows, format, &ontology, output)
    }
    .map_err(|e| e.to_string())?;
    show_report(&report);
    if json {
        print_json(&report.to_value())?;
    }
    Ok(report.is_complete())
}

/// Shows a conversion report on stderr: the summary, then the first issues.
pub(crate) fn show_report(report: &formats::ConversionReport) {
    eprintln!("{report}");
    let shown: Vec<String> = report
        .issues
        .iter()
        .take(SHOWN_ISSUES)
        .map(|i| format!("  {i}"))
        .collect();
    if !shown.is_empty() {
        eprintln!("{}", shown.join("\n"));
    }
    let more = report.issue_count().saturating_sub(shown.len() as u64);
    if more > 0 {
        eprintln!(
            "  ... and {more} more (--json lists up to {})",
            formats::ConversionReport::ISSUE_DETAILS
        );
    }
}

fn print_json(value: &Value) -> Result<(), String> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| e.to_string())
        .and_then(|()| writeln!(out).map_err(|e| e.to_string()))
}

/// Reads assets from an NDJSON file or a JSON list (assets or export rows).
fn read_assets(path: &Path) -> Result<Vec<AssetInfo>, String> {
    let rows = RowReader::open(path).map_err(|e| e.to_string())?;
    let mut assets = Vec::new();
    for row in rows {
        let row: ExportRow = row.map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(asset) = AssetInfo::from_value(&row.to_value()) {
            assets.push(asset);
        }
    }
    Ok(assets)
}

/// COCO file or YOLO directory to the import format.
fn import(
    args: &ConvertArgs,
    ontology: &ango_core::ontology::CategorySchema,
    json: bool,
) -> Result<bool, String> {
    let assets = args.assets.as_deref().map(read_assets).transpose()?;
    let plan = if args.input.is_dir() {
        let assets = assets.ok_or(format!(
            "{USAGE}a YOLO dataset needs --assets (their width and height)"
        ))?;
        formats::yolo_to_import(&args.input, ontology, &assets)
    } else {
        let text = std::fs::read(&args.input)
            .map_err(|e| format!("reading {}: {e}", args.input.display()))?;
        let coco: Value = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not JSON: {e}", args.input.display()))?;
        formats::coco_to_import(&coco, ontology, assets.as_deref())
    }
    .map_err(|e| e.to_string())?;
    show_import_report(&plan.report, &mut io::stderr()).map_err(|e| e.to_string())?;
    if !args.dry_run {
        let output = args
            .output
            .as_deref()
            .ok_or(format!("{USAGE}--output is required (or --dry-run)"))?;
        let text = serde_json::to_vec_pretty(&plan.labels).map_err(|e| e.to_string())?;
        std::fs::write(output, text).map_err(|e| format!("writing {}: {e}", output.display()))?;
    }
    if json {
        print_json(&plan.report.to_value())?;
    }
    Ok(plan.report.is_complete())
}

/// Writes an import report: the summary, then the first issues.
pub(crate) fn show_import_report(
    report: &formats::ImportReport,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "{report}")?;
    for issue in report.issues.iter().take(SHOWN_ISSUES) {
        writeln!(out, "  {issue}")?;
    }
    if report.issues.len() > SHOWN_ISSUES {
        writeln!(out, "  ... and {} more", report.issues.len() - SHOWN_ISSUES)?;
    }
    Ok(())
}
