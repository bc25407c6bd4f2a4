//! `release-monitor cleanup`: retention on demand (after downloads it runs in the
//! [`pipeline`](crate::pipeline) when `download.cleanup_old_versions` is on).

use std::io::{self, Write};
use std::sync::Arc;

use super::{CleanupArgs, CommandError, GlobalArgs, load_config, stdout_error};
use crate::exit;
use crate::pipeline::{self, Stores};

/// Runs `cleanup`.
pub(super) fn run(global: &GlobalArgs, args: CleanupArgs) -> Result<u8, CommandError> {
    let mut config = load_config(global)?.config;
    if let Some(keep) = args.keep {
        config.download.keep_versions = keep;
    }
    let stores = Stores::open(&config)?;
    // A damaged database stops here (exit 2), before anything is deleted.
    stores.db.load()?;
    let report =
        super::runtime()?.block_on(pipeline::cleanup(Arc::new(config), &stores, args.dry_run));
    let text = serde_json::to_string_pretty(&report).map_err(|e| CommandError::Io {
        context: "serialising the result",
        source: io::Error::other(e),
    })?;
    writeln!(io::stdout().lock(), "{text}").map_err(stdout_error)?;
    Ok(if report.failed.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL_FAILURE
    })
}
