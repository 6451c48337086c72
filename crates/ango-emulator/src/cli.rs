//! The emulator's command-line flags, one clap definition for the `ango-emulator`
//! binary and `ango emulator` (feature `cli`). Defaults come from
//! [`EmulatorConfig::default`] and every check from [`EmulatorConfig::validate`].

use crate::{ConfigError, EmulatorConfig};

fn default() -> EmulatorConfig {
    EmulatorConfig::default()
}

/// What `--seed` creates at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Seed {
    /// A demo project with an ontology, a batch and tasks.
    Demo,
    /// Nothing (the default).
    None,
}

/// The emulator's flags (`#[command(flatten)]` them into a parser, or use them as a
/// subcommand's arguments).
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct EmulatorArgs {
    /// TCP port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = default().port)]
    pub port: u16,
    /// The API key clients must send in the `apikey` header (default: a random one).
    #[arg(long = "emulator-key", value_name = "KEY")]
    pub emulator_key: Option<String>,
    /// Latency added to every /v2 request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = default().latency_ms)]
    pub latency_ms: u64,
    /// Share of /v2 requests answered 429 or 503 (0 to 1).
    #[arg(long, value_name = "RATE", default_value_t = default().fail_rate)]
    pub fail_rate: f64,
    /// Share of /v2 requests whose connection is closed without an answer (0 to 1).
    #[arg(long, value_name = "RATE", default_value_t = default().drop_rate)]
    pub drop_rate: f64,
    /// Seed of the fault-injection random generator (reproducible runs).
    #[arg(long, value_name = "N", default_value_t = default().rng_seed)]
    pub rng_seed: u64,
    /// Start with a demo project (same as `--seed demo`).
    #[arg(long, conflicts_with = "seed")]
    pub demo: bool,
    /// What to create at start.
    #[arg(long, value_enum)]
    pub seed: Option<Seed>,
    /// Pooled connection threads.
    #[arg(long, value_name = "N", default_value_t = default().workers)]
    pub workers: usize,
    /// Largest accepted request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = default().max_body_bytes)]
    pub max_body_bytes: u64,
    /// Deadline for a request head once started, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = default().header_timeout_ms)]
    pub header_timeout_ms: u64,
    /// Keep-alive idle timeout, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = default().idle_timeout_ms)]
    pub idle_timeout_ms: u64,
    /// Open connections beyond which new ones are answered 503.
    #[arg(long, value_name = "N", default_value_t = default().max_connections)]
    pub max_connections: usize,
    /// Plugin hub: Engine.IO ping interval, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = default().plugin_ping_interval_ms)]
    pub plugin_ping_interval_ms: u64,
    /// Plugin hub: Engine.IO ping timeout, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = default().plugin_ping_timeout_ms)]
    pub plugin_ping_timeout_ms: u64,
}

/// How to reach the plugin hub, for the help text of a command running the emulator.
pub const PLUGIN_HELP: &str = "\
Plugins connect to the same URL (Socket.IO, websocket transport, namespace /plugin);
any plugin id is registered by its first heartbeat. Run one with
    curl -X POST -H 'apikey: <api_key>' -d '{...}' '<url>/__emulator/plugins/<id>/run?wait=30'
and read its sessions at <url>/__emulator/plugins/<id>/sessions.";

impl EmulatorArgs {
    /// The configuration these flags describe, checked by [`EmulatorConfig::validate`].
    pub fn config(&self) -> Result<EmulatorConfig, ConfigError> {
        let config = EmulatorConfig {
            port: self.port,
            api_key: self.emulator_key.clone(),
            latency_ms: self.latency_ms,
            fail_rate: self.fail_rate,
            drop_rate: self.drop_rate,
            rng_seed: self.rng_seed,
            seed_demo: self.demo || self.seed == Some(Seed::Demo),
            workers: self.workers,
            max_body_bytes: self.max_body_bytes,
            header_timeout_ms: self.header_timeout_ms,
            idle_timeout_ms: self.idle_timeout_ms,
            max_connections: self.max_connections,
            plugin_ping_interval_ms: self.plugin_ping_interval_ms,
            plugin_ping_timeout_ms: self.plugin_ping_timeout_ms,
        };
        config.validate().map_err(|mut error| {
            // Name the flags as they were typed: `--fail-rate`, not `fail_rate`.
            for (name, _) in crate::options::OPTIONS {
                let flag = format!("--{}", name.replace('_', "-"));
                error.message = error.message.replace(name, &flag);
            }
            error.option = format!("--{}", error.option.replace('_', "-"));
            error
        })?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        emulator: EmulatorArgs,
    }

    fn parse(args: &[&str]) -> Result<EmulatorConfig, String> {
        let cli = Cli::try_parse_from(std::iter::once("emu").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.emulator.config().map_err(|e| e.to_string())
    }

    #[test]
    fn no_flags_is_the_default_config() {
        assert_eq!(parse(&[]).unwrap(), EmulatorConfig::default());
    }

    #[test]
    fn flags_fill_the_config_and_are_checked_once() {
        let config = parse(&[
            "--port",
            "8080",
            "--emulator-key",
            "k",
            "--fail-rate=0.25",
            "--drop-rate",
            "0.5",
            "--rng-seed",
            "7",
            "--seed",
            "demo",
            "--workers",
            "2",
            "--idle-timeout-ms",
            "5",
        ])
        .unwrap();
        assert_eq!(config.port, 8080);
        assert_eq!(config.api_key.as_deref(), Some("k"));
        assert_eq!(
            (config.fail_rate, config.drop_rate, config.rng_seed),
            (0.25, 0.5, 7)
        );
        assert!(config.seed_demo);
        assert_eq!((config.workers, config.idle_timeout_ms), (2, 5));
        assert!(parse(&["--demo"]).unwrap().seed_demo);
        assert!(!parse(&["--seed", "none"]).unwrap().seed_demo);
        assert_eq!(
            parse(&["--fail-rate", "1.5"]).unwrap_err(),
            "--fail-rate must be a number between 0 and 1, got 1.5"
        );
        assert_eq!(
            parse(&["--fail-rate", "0.7", "--drop-rate", "0.7"]).unwrap_err(),
            "--fail-rate + --drop-rate must be at most 1, got 0.7 + 0.7"
        );
        assert!(
            parse(&["--workers", "0"])
                .unwrap_err()
                .starts_with("--workers must be")
        );
        assert!(parse(&["--port", "70000"]).is_err());
        assert!(parse(&["--demo", "--seed", "none"]).is_err());
        assert!(parse(&["--seed", "lots"]).is_err());
    }
}
