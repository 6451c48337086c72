//! `ango-emulator`: runs the Ango Hub API emulator until killed.
//!
//! The first line of stdout is `<url> <api_key>`. The flags are
//! [`ango_emulator::cli::EmulatorArgs`], shared with `ango emulator`.

use std::io::Write;

use ango_emulator::Emulator;
use ango_emulator::cli::{EmulatorArgs, PLUGIN_HELP};
use clap::Parser;

/// ango-emulator: a local in-memory emulator of the Ango Hub REST API.
///
/// The first line printed on stdout is `<url> <api_key>`; the server runs until killed.
#[derive(Parser)]
#[command(name = "ango-emulator", version, after_help = PLUGIN_HELP)]
struct Cli {
    /// The API key clients must send in the `apikey` header (default: a random one);
    /// the same as `--emulator-key`.
    #[arg(long, value_name = "KEY", conflicts_with = "emulator_key")]
    api_key: Option<String>,
    #[command(flatten)]
    emulator: EmulatorArgs,
}

fn main() {
    let mut cli = Cli::parse();
    if cli.api_key.is_some() {
        cli.emulator.emulator_key = cli.api_key.take();
    }
    let config = match cli.emulator.config() {
        Ok(config) => config,
        Err(e) => {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e}\n")).exit()
        }
    };
    let emu = match Emulator::start(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ango-emulator: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{} {}", emu.url(), emu.api_key());
    let _ = out.flush();
    drop(out);
    eprintln!(
        "ango-emulator listening on {} (organization {}, admin {})",
        emu.url(),
        emu.organization_id(),
        emu.admin_email()
    );
    loop {
        std::thread::park();
    }
}
