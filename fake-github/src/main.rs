//! `fake-github`: serve a scenario file by hand, to try release-monitor offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fake_github::{FakeGithub, Options, Scenario};

/// Serve a fake GitHub API and asset host over HTTPS on 127.0.0.1 until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "fake-github", version)]
struct Args {
    /// The scenario file (YAML, or JSON with a .json extension).
    #[arg(long, short)]
    scenario: PathBuf,
    /// The API port on 127.0.0.1 (default: any free port).
    #[arg(long, default_value_t = 0)]
    api_port: u16,
    /// The asset origin's port (default: any free port).
    #[arg(long, default_value_t = 0)]
    asset_port: u16,
    /// Milliseconds added to every response (a slow network, for benchmarks).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Write this origin into asset URLs and download redirects (`https://127.0.0.1:8443`), for
    /// benchmarks where another server (nginx) serves the bytes at `/download/{id}`.
    #[arg(long)]
    public_asset_origin: Option<String>,
    /// Do not log each request to stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fake-github: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let scenario = Scenario::from_file(&args.scenario).map_err(|e| e.to_string())?;
    let server = FakeGithub::start_with(
        scenario,
        Options {
            api_port: args.api_port,
            asset_port: args.asset_port,
            log_requests: !args.quiet,
            latency: std::time::Duration::from_millis(args.latency_ms),
            public_asset_origin: args.public_asset_origin.clone(),
        },
    )
    .map_err(|e| e.to_string())?;
    let ca = server.ca_cert_path().display().to_string();
    println!("api_url={}", server.api_url());
    println!("asset_origin={}", server.asset_origin());
    println!("ca_cert={ca}");
    println!(
        "hint: SSL_CERT_FILE={ca} GITHUB_API_URL={} release-monitor monitor",
        server.api_url()
    );
    eprintln!(
        "fake-github: serving {}; Ctrl-C to stop",
        args.scenario.display()
    );
    wait_for_signal()?;
    eprintln!("fake-github: stopping");
    drop(server);
    Ok(())
}

/// Blocks until SIGINT (Ctrl-C) or SIGTERM.
fn wait_for_signal() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("building a runtime: {e}"))?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())
                .map_err(|e| format!("listening for SIGTERM: {e}"))?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r.map_err(|e| format!("listening for Ctrl-C: {e}")),
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c()
                .await
                .map_err(|e| format!("listening for Ctrl-C: {e}"))
        }
    })
}
