//! `ango`: Ango Hub from the shell, on the same core as the Python and Node packages.
//!
//! Listings stream as NDJSON (one JSON object per line) so they pipe into `jq`, `wc -l`
//! or a file without waiting for the whole result; with `--json` every command prints
//! exactly one JSON document on stdout instead (a listing becomes one array). Messages
//! and progress go to stderr (progress only when stderr is a terminal).
//!
//! Exit codes, the same for every command: 0 ok, 1 failure, 2 usage (bad arguments),
//! 3 partial (some rows, objects or files were not converted, imported or uploaded).

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use ango_core::{Client, Error, Value};
use clap::{Parser, Subcommand};

mod commands;
mod convert;
mod workflow;

/// Exit status of a command that did its work but left something out.
pub(crate) const PARTIAL: u8 = 3;
/// Exit status of a usage error (as clap's own).
pub(crate) const USAGE: u8 = 2;

/// The workflow end to end, and the exit codes, shown by `ango --help`.
const AFTER_HELP: &str = "\
From export to training data (set ANGO_API_KEY, and ANGO_HOST for another server):
  P=$(ango project create \"Street scenes\" --description \"cars and roads\")
  ango ontology set $P ontology.json          # a category schema or a project response
  ango upload $P images/*.jpg --basename      # image sizes read from PNG/JPEG headers
  ango import $P coco.json --dry-run          # what matches the assets and the ontology
  ango import $P coco.json                    # or labels.json (Ango format), or a YOLO dir
  ango tasks $P --status Completed | jq .externalId
  ango export $P --format coco -o coco.json --stage Label   # default stage: Complete
  ango export $P --format yolo -o dataset/    # also yolo-seg, voc (-o DIR), ndjson, json
  ango convert export.ndjson --to yolo --ontology ontology.json -o dataset/
  ango batches create $P night && ango issues list $P --json

Try it locally: `ango emulator` prints a URL and a key to export as ANGO_HOST and
ANGO_API_KEY. Shell completions: `ango completions bash|zsh|fish|powershell`.

Exit codes: 0 ok, 1 failure, 2 usage, 3 partial (some rows, objects or files were
not converted, imported or uploaded; the details are on stderr, or in the --json
report).";

/// Command-line access to Ango Hub.
#[derive(Debug, Parser)]
#[command(name = "ango", version, about, long_about = None, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// API key (default: $ANGO_API_KEY).
    #[arg(long, env = "ANGO_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,
    /// API host (default: $ANGO_HOST or https://imeritapi.ango.ai).
    #[arg(long, env = "ANGO_HOST", global = true)]
    host: Option<String>,
    /// Seconds allowed per request (0: no limit).
    #[arg(long, global = true)]
    timeout: Option<f64>,
    /// Retries of a failed request (0: none).
    #[arg(long, global = true)]
    retries: Option<u32>,
    /// Parallel transfers for uploads and page prefetch.
    #[arg(long, global = true)]
    concurrency: Option<usize>,
    /// No progress bars (drawn on stderr only when it is a terminal).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Print the result or report as one JSON document on stdout (listings as one
    /// array); messages stay on stderr.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List projects: one page as JSON, or with `--all` every project as NDJSON.
    Projects {
        /// Page, from 1.
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Projects per page.
        #[arg(long, default_value_t = 10)]
        limit: u64,
        /// Stream every project as NDJSON, one line each (`--limit` per request).
        #[arg(long)]
        all: bool,
    },
    /// Create a project, or print one (`ango project get ID`, or `ango project ID`).
    Project(workflow::ProjectArgs),
    /// Set or print a project's ontology (category schema).
    Ontology(workflow::OntologyArgs),
    /// Import labels: Ango import JSON, a COCO file or a YOLO dataset directory.
    Import(workflow::ImportArgs),
    /// List or create a project's batches.
    Batches(workflow::BatchesArgs),
    /// List or open issues.
    Issues(workflow::IssuesArgs),
    /// Stream every task of a project as NDJSON.
    Tasks(commands::TasksArgs),
    /// Stream every asset of a project as NDJSON.
    Assets(commands::AssetsArgs),
    /// Export a project: rows on stdout or the zip into a file, or converted to COCO,
    /// YOLO or Pascal VOC.
    Export(commands::ExportArgs),
    /// Upload local files in parallel and register them as assets.
    Upload(commands::UploadArgs),
    /// Run a local Ango Hub emulator until interrupted.
    Emulator(commands::EmulatorArgs),
    /// Convert an export to COCO, YOLO or Pascal VOC (or COCO/YOLO to Ango's import format).
    Convert(convert::ConvertArgs),
    /// Print a shell completion script (e.g. `ango completions bash > ~/.ango.bash`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything was done.
    Complete,
    /// Done, but some rows, objects or files were left out (exit status 3).
    Partial,
}

impl Outcome {
    /// `Complete` when `complete`, else `Partial`.
    pub(crate) fn from_complete(complete: bool) -> Self {
        if complete {
            Outcome::Complete
        } else {
            Outcome::Partial
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Convert(args) = &cli.command {
        return convert::run(args, cli.json);
    }
    match run(cli) {
        Ok(Outcome::Complete) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(PARTIAL),
        Err(CliError::Ango(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        Err(CliError::Message(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
        Err(CliError::Usage(message)) => {
            eprintln!(
                "error: {message}

For more information, try '--help'."
            );
            ExitCode::from(USAGE)
        }
    }
}

/// What can end a command.
#[derive(Debug)]
pub(crate) enum CliError {
    /// An SDK error.
    Ango(Error),
    /// A local problem (a file, the network, the server's answer): exit status 1.
    Message(String),
    /// Arguments that do not go together: exit status 2.
    Usage(String),
    /// stdout was closed (e.g. `| head`): not an error.
    BrokenPipe,
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        CliError::Ango(error)
    }
}

impl From<io::Error> for CliError {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Message(error.to_string())
        }
    }
}

fn run(cli: Cli) -> Result<Outcome, CliError> {
    match &cli.command {
        Command::Emulator(args) => {
            return commands::emulator(args, cli.json).map(|()| Outcome::Complete);
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut out = io::stdout().lock();
            clap_complete::generate(*shell, &mut command, "ango", &mut out);
            out.flush()?;
            return Ok(Outcome::Complete);
        }
        _ => {}
    }
    let client = client(&cli)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let json = cli.json;
    let outcome = match &cli.command {
        Command::Projects {
            limit, all: true, ..
        } => commands::all_projects(&client, *limit, json, &mut out)?,
        Command::Projects { page, limit, .. } => {
            print_json(&mut out, &client.raw().list_projects(*page, *limit)?)?;
            Outcome::Complete
        }
        Command::Project(args) => workflow::project(&client, args, json, &mut out)?,
        Command::Ontology(args) => workflow::ontology(&client, args, json, &mut out)?,
        Command::Import(args) => workflow::import(&client, args, json, &mut out)?,
        Command::Batches(args) => workflow::batches(&client, args, &mut out)?,
        Command::Issues(args) => workflow::issues(&client, args, &mut out)?,
        Command::Tasks(args) => commands::tasks(&client, args, json, &mut out)?,
        Command::Assets(args) => commands::assets(&client, args, json, &mut out)?,
        Command::Export(args) => commands::export(&client, args, json, &mut out)?,
        Command::Upload(args) => commands::upload(&client, args, cli.quiet, json, &mut out)?,
        Command::Emulator(_) | Command::Convert(_) | Command::Completions { .. } => {
            unreachable!("handled above")
        }
    };
    out.flush()?;
    Ok(outcome)
}

fn client(cli: &Cli) -> Result<Client, CliError> {
    let api_key = cli
        .api_key
        .clone()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            CliError::Message("no API key: pass --api-key or set ANGO_API_KEY".into())
        })?;
    let mut builder = Client::builder(api_key);
    if let Some(host) = cli.host.as_deref().filter(|h| !h.is_empty()) {
        builder = builder.host(host);
    }
    if let Some(seconds) = cli.timeout {
        // The core's parser: `0` is no limit, and a huge value is capped rather than
        // overflowing `Duration::from_secs_f64` (which panics).
        let timeout = ango_core::SettingsOverrides::timeout_from_secs(seconds).map_err(|_| {
            CliError::Message("--timeout must be a number of seconds, 0 or more".into())
        })?;
        builder = builder.request_timeout(timeout);
    }
    if let Some(retries) = cli.retries {
        builder = builder.max_retries(retries);
    }
    if let Some(concurrency) = cli.concurrency {
        builder = builder.concurrency(concurrency);
    }
    if cli.quiet {
        builder = builder.progress(ango_core::ProgressMode::Off);
    }
    Ok(builder.build()?)
}

/// Writes one value as pretty JSON.
pub(crate) fn print_json(out: &mut impl Write, value: &Value) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(json_error)?;
    writeln!(out)?;
    Ok(())
}

/// Writes one value as a single NDJSON line.
pub(crate) fn print_line(out: &mut impl Write, value: &Value) -> Result<(), CliError> {
    serde_json::to_writer(&mut *out, value).map_err(json_error)?;
    writeln!(out)?;
    Ok(())
}

/// A write error keeps its I/O kind, so a closed stdout (`| head`) is not reported.
fn json_error(error: serde_json::Error) -> CliError {
    if error.is_io() {
        CliError::from(io::Error::from(error))
    } else {
        CliError::Message(error.to_string())
    }
}
