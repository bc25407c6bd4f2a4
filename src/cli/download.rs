//! `release-monitor download`: download the releases of a monitor report read from a file or
//! stdin, through the [`pipeline`](crate::pipeline).

use std::io::{self, Read};
use std::path::Path;

use super::{CommandError, DownloadArgs, GlobalArgs, OutputFormat, load_config};
use crate::monitor::Report;
use crate::pipeline::{Origin, Pipeline, Steps};

fn read_input(input: Option<&Path>) -> Result<Report, CommandError> {
    let mut text = String::new();
    match input {
        None => io::stdin().read_to_string(&mut text),
        Some(p) if p.as_os_str() == "-" => io::stdin().read_to_string(&mut text),
        Some(p) => std::fs::File::open(p).and_then(|mut f| f.read_to_string(&mut text)),
    }
    .map_err(|source| CommandError::Io {
        context: "reading the monitor report",
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| CommandError::Usage(format!("the input is not a monitor report: {e}")))
}

/// Runs `download`.
pub(super) fn run(global: &GlobalArgs, args: DownloadArgs) -> Result<u8, CommandError> {
    let config = load_config(global)?.config;
    let report = read_input(args.input.as_deref())?;
    let pipeline = Pipeline::open(config)?;
    let steps = Steps {
        download: true,
        dry_run: args.dry_run,
        force: args.force,
    };
    let outcome = super::runtime()?.block_on(pipeline.process(Origin::Input, report, steps));
    let value = outcome.to_json().map_err(|e| CommandError::Io {
        context: "serialising the result",
        source: io::Error::other(e),
    })?;
    let format = OutputFormat::or_default(args.format, false);
    let text = super::table::render(format, &value, || super::table::outcome_table(&outcome))?;
    super::table::print(&text)?;
    Ok(outcome.exit_status())
}
