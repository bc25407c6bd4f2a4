//! `release-monitor config ...`: inspect the configuration.

use std::io::{self, Write};

use super::{CommandError, ConfigInitArgs, GlobalArgs, load_config, stdout_error};
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

/// Writes the starter configuration to the config path (refusing to replace a file without
/// `--force`), after checking that it loads without a warning.
pub(super) fn init(global: &GlobalArgs, args: ConfigInitArgs) -> Result<u8, CommandError> {
    let path = global.config_path();
    if path.exists() && !args.force {
        return Err(CommandError::Usage(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    let mut repos = Vec::new();
    for r in &args.repos {
        let id: crate::repo::RepoId = r
            .parse()
            .map_err(|e| CommandError::Usage(format!("--repo: {e}")))?;
        repos.push(id.to_string());
    }
    if repos.is_empty() {
        repos.push("jqlang/jq".to_string());
    }
    let text = crate::config::starter(&repos);
    // What is written must load as it is, without a warning.
    let loaded = crate::config::load_str(&text, &path, &crate::config::Env::default())?;
    if let Some(w) = loaded.warnings.first() {
        return Err(CommandError::Usage(format!(
            "the starter configuration would not load cleanly ({w}); nothing was written"
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| CommandError::Io {
            context: "creating the config's folder",
            source,
        })?;
    }
    crate::fsutil::write_atomic(&path, text.as_bytes(), "config")
        .map_err(|(context, source)| CommandError::Io { context, source })?;
    tracing::info!(
        "wrote {} with {} repositories; check it with `release-monitor config check`",
        path.display(),
        repos.len()
    );
    Ok(exit::OK)
}
