//! `ango`: Ango Hub from the shell, on the same core as the Python and Node packages.
//!
//! Listings stream as NDJSON (one JSON object per line) so they pipe into `jq`, `wc -l`
//! or a file without waiting for the whole result; errors go to stderr with a non-zero
//! exit status.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use ango_core::{Client, Error, Value};
use clap::{Parser, Subcommand};

mod commands;
mod convert;

/// Command-line access to Ango Hub.
#[derive(Debug, Parser)]
#[command(name = "ango", version, about, long_about = None)]
struct Cli {
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
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
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
    /// Print one project.
    Project {
        /// Project id.
        id: String,
    },
    /// Stream every task of a project as NDJSON.
    Tasks(commands::TasksArgs),
    /// Stream every asset of a project as NDJSON.
    Assets(commands::AssetsArgs),
    /// Export a project: rows as NDJSON on stdout, or the zip into a file.
    Export(commands::ExportArgs),
    /// Upload local files in parallel and register them as assets.
    Upload(commands::UploadArgs),
    /// Run a local Ango Hub emulator until interrupted.
    Emulator(commands::EmulatorArgs),
    /// Convert an export to COCO, YOLO or Pascal VOC (or COCO/YOLO to Ango's import format).
    Convert(convert::ConvertArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Convert(args) = &cli.command {
        return convert::run(args);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Ango(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        Err(CliError::Message(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What can end a command.
#[derive(Debug)]
pub(crate) enum CliError {
    /// An SDK error.
    Ango(Error),
    /// A usage or local problem.
    Message(String),
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

fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Emulator(args) = &cli.command {
        return commands::emulator(args);
    }
    let client = client(&cli)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match &cli.command {
        Command::Projects {
            limit, all: true, ..
        } => commands::all_projects(&client, *limit, &mut out)?,
        Command::Projects { page, limit, .. } => {
            print_json(&mut out, &client.list_projects(*page, *limit)?)?
        }
        Command::Project { id } => print_json(&mut out, &client.get_project(id)?)?,
        Command::Tasks(args) => commands::tasks(&client, args, &mut out)?,
        Command::Assets(args) => commands::assets(&client, args, &mut out)?,
        Command::Export(args) => commands::export(&client, args, &mut out)?,
        Command::Upload(args) => commands::upload(&client, args, cli.quiet, &mut out)?,
        Command::Emulator(_) | Command::Convert(_) => unreachable!("handled above"),
    }
    out.flush()?;
    Ok(())
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
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(CliError::Message(
                "--timeout must be a number of seconds, 0 or more".into(),
            ));
        }
        builder =
            builder.request_timeout((seconds > 0.0).then(|| Duration::from_secs_f64(seconds)));
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
