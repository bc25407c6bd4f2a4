//! `release-monitor serve`: the pipeline as a service, and `release-monitor index`: its pages
//! as static files (see [`crate::serve`]).

use super::{CommandError, GlobalArgs, ServeArgs, load_config};
use crate::serve::{ServeError, ServeOptions};

/// Loads the configuration and serves until SIGTERM or SIGINT (exit 0); a setting that cannot
/// work (an unset token variable, an address in use) exits 2.
pub(super) fn run(global: &GlobalArgs, args: ServeArgs) -> Result<u8, CommandError> {
    let loaded = load_config(global)?;
    let runtime = super::runtime()?;
    let opts = ServeOptions {
        config: loaded.config,
        config_path: global.config_path(),
        state_file: args.state_file,
    };
    runtime
        .block_on(crate::serve::serve(opts))
        .map_err(|ServeError::Setup(message)| CommandError::Usage(message))?;
    Ok(crate::exit::OK)
}

/// Writes the static pages; prints what was written as JSON. Exit 1 when a file could not be
/// written or uploaded.
pub(super) fn index(global: &GlobalArgs) -> Result<u8, CommandError> {
    let loaded = load_config(global)?;
    let runtime = super::runtime()?;
    let report = runtime
        .block_on(crate::serve::index(loaded.config))
        .map_err(|ServeError::Setup(message)| CommandError::Usage(message))?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| CommandError::Io {
        context: "serialising the index report",
        source: std::io::Error::other(e),
    })?;
    std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        format!("{text}\n").as_bytes(),
    )
    .map_err(super::stdout_error)?;
    for f in &report.failed {
        tracing::error!("{f}");
    }
    Ok(if report.failed.is_empty() {
        crate::exit::OK
    } else {
        crate::exit::PARTIAL_FAILURE
    })
}
