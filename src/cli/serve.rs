//! `release-monitor serve`: the pipeline as a service (see [`crate::serve`]).

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
