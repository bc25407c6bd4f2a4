//! The `release-monitor` binary: parses the command line, sets up logging on stderr, runs the
//! library, and turns the outcome into an exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use release_monitor::cli::{self, Cli, GlobalArgs, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // As /opt/resource/check, in or out, the binary is a Concourse resource step:
    // `check ARGS...` runs as `release-monitor concourse check ARGS...`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(step) = args
        .first()
        .and_then(|program| cli::step_for_program(std::path::Path::new(program)))
    {
        args.splice(0..1, ["release-monitor", "concourse", step].map(Into::into));
    }
    let cli = Cli::parse_from(args);
    if let Err(e) = init_logging(&cli.global) {
        eprintln!("error: cannot set up logging: {e:#}");
        return ExitCode::from(release_monitor::exit::USAGE);
    }
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Logs go to stderr only. `-v`/`-q` pick this tool's level; the libraries underneath stay at
/// `info` when it is raised (their debug output, TLS handshakes and connection pools, would
/// drown the tool's own), and follow it when it is lowered. `RUST_LOG`, when set, overrides
/// both.
/// Text lines carry no timestamp (a terminal or a CI log adds its own); JSON lines do.
fn init_logging(global: &GlobalArgs) -> anyhow::Result<()> {
    let level = match (global.verbose, global.quiet) {
        (0, 0) => "info",
        (1, _) => "debug",
        (v, _) if v >= 2 => "trace",
        (_, 1) => "warn",
        _ => "error",
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(spec)?,
        _ => {
            let libraries = if matches!(level, "debug" | "trace") {
                "info"
            } else {
                level
            };
            EnvFilter::try_new(format!("release_monitor={level},{libraries}"))?
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match global.log_format {
        LogFormat::Text => builder
            // Colour only on a terminal, and never with NO_COLOR set (no-color.org).
            .with_ansi(
                std::io::IsTerminal::is_terminal(&std::io::stderr())
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            )
            .without_time()
            .try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
    .map_err(|e| anyhow::anyhow!(e))
}
