//! `ango-emulator`: runs the Ango Hub API emulator until killed.
//!
//! The first line of stdout is `<url> <api_key>`.

use std::io::Write;

use ango_emulator::{Emulator, EmulatorConfig};

const HELP: &str = "\
ango-emulator: a local in-memory emulator of the Ango Hub REST API

USAGE:
    ango-emulator [OPTIONS]

OPTIONS:
    --port N          TCP port on 127.0.0.1 (default 0 = any free port)
    --api-key KEY     API key clients must send in the `apikey` header (default: random)
    --latency-ms N    latency added to every /v2 request, in milliseconds (default 0)
    --fail-rate F     probability 0..1 of answering 429 or 503 (default 0)
    --drop-rate F     probability 0..1 of closing the connection without an answer (default 0)
    --rng-seed N      seed of the fault-injection random generator
    --workers N       pooled connection threads (default 8)
    --seed demo       create a demo project with an ontology and tasks
    --max-body-bytes N          largest accepted request body (default 1 GiB)
    --header-timeout-ms N       deadline for a request head once started (default 10000)
    --idle-timeout-ms N         keep-alive idle timeout (default 60000)
    --max-connections N         open connections beyond which 503 is answered (default 1024)
    --plugin-ping-interval-ms N plugin hub Engine.IO ping interval (default 25000)
    --plugin-ping-timeout-ms N  plugin hub Engine.IO ping timeout (default 20000)
    -h, --help        print this help

The first line printed on stdout is `<url> <api_key>`; the server runs until killed.

Plugins connect to the same URL (Socket.IO, websocket transport, namespace /plugin);
any plugin id is registered by its first heartbeat. Run one with
    curl -X POST -H 'apikey: <api_key>' -d '{...}' '<url>/__emulator/plugins/<id>/run?wait=30'
and read its sessions at <url>/__emulator/plugins/<id>/sessions.
";

fn parse_args(args: &[String]) -> Result<Option<EmulatorConfig>, String> {
    let mut cfg = EmulatorConfig::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "--port" => cfg.port = value()?.parse().map_err(|_| "--port expects 0..65535")?,
            "--api-key" => cfg.api_key = Some(value()?),
            "--latency-ms" => {
                cfg.latency_ms = value()?
                    .parse()
                    .map_err(|_| "--latency-ms expects an integer")?
            }
            "--fail-rate" => cfg.fail_rate = parse_rate(&value()?)?,
            "--drop-rate" => cfg.drop_rate = parse_rate(&value()?)?,
            "--rng-seed" => {
                cfg.rng_seed = value()?
                    .parse()
                    .map_err(|_| "--rng-seed expects an integer")?
            }
            "--workers" => {
                cfg.workers = value()?
                    .parse()
                    .map_err(|_| "--workers expects an integer")?
            }
            "--max-body-bytes" => cfg.max_body_bytes = int(flag, &value()?)?,
            "--header-timeout-ms" => cfg.header_timeout_ms = int(flag, &value()?)?,
            "--idle-timeout-ms" => cfg.idle_timeout_ms = int(flag, &value()?)?,
            "--max-connections" => cfg.max_connections = int(flag, &value()?)? as usize,
            "--plugin-ping-interval-ms" => cfg.plugin_ping_interval_ms = int(flag, &value()?)?,
            "--plugin-ping-timeout-ms" => cfg.plugin_ping_timeout_ms = int(flag, &value()?)?,
            "--seed" => match value()?.as_str() {
                "demo" => cfg.seed_demo = true,
                "none" => cfg.seed_demo = false,
                other => return Err(format!("unknown seed '{other}' (expected demo)")),
            },
            other => return Err(format!("unknown argument '{other}'")),
        }
        i += 1;
    }
    Ok(Some(cfg))
}

fn int(flag: &str, s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{flag} expects a positive integer, got '{s}'"))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("rate must be a number in 0..1, got '{s}'")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(Some(c)) => c,
        Ok(None) => {
            print!("{HELP}");
            return;
        }
        Err(e) => {
            eprintln!("ango-emulator: {e}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    let emu = match Emulator::start(cfg) {
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
