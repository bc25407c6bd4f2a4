//! `release-monitor config ...`: inspect the configuration.

use std::io::{self, Write};

use super::{CommandError, GlobalArgs, load_config, stdout_error};
use crate::exit;

pub(super) fn check(global: &GlobalArgs) -> Result<u8, CommandError> {
    let loaded = load_config(global)?;
    let json = serde_json::to_string_pretty(&loaded.config).map_err(|e| CommandError::Io {
        context: "serialising the config",
        source: io::Error::other(e),
    })?;
    let mut out = io::stdout().lock();
    writeln!(out, "{json}").map_err(stdout_error)?;
    tracing::info!(
        repositories = loaded.config.repositories.len(),
        "{} is valid",
        loaded.path.display()
    );
    Ok(exit::OK)
}
