//! `release-monitor concourse check|in|out`: the Concourse resource type (also reached as
//! `/opt/resource/check`, `in` and `out`). The request is read from stdin; the response is the
//! only thing written to stdout.

use std::io::{self, Read, Write};
use std::path::Path;

use super::{CommandError, ConcourseCommand, stdout_error};
use crate::concourse::{self, ResourceError};
use crate::exit;

fn read_stdin() -> Result<String, CommandError> {
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .map_err(|source| CommandError::Io {
            context: "reading the request from stdin",
            source,
        })?;
    Ok(text)
}

fn print(value: &impl serde::Serialize) -> Result<u8, CommandError> {
    let text = serde_json::to_string(value).map_err(|e| stdout_error(io::Error::other(e)))?;
    let mut out = io::stdout().lock();
    writeln!(out, "{text}").map_err(stdout_error)?;
    out.flush().map_err(stdout_error)?;
    Ok(exit::OK)
}

/// Runs one resource step.
pub(super) fn run(cmd: ConcourseCommand) -> Result<u8, CommandError> {
    match cmd {
        ConcourseCommand::Check => {
            let request = concourse::parse_request(&read_stdin()?)?;
            let versions = super::runtime()?.block_on(concourse::check(request))?;
            print(&versions)
        }
        ConcourseCommand::In { destination } => {
            let request = concourse::parse_request(&read_stdin()?)?;
            let response = super::runtime()?.block_on(concourse::get(request, &destination))?;
            print(&response)
        }
        ConcourseCommand::Out { source: _ } => Err(ResourceError::OutUnsupported.into()),
    }
}

/// The Concourse step a binary named `check`, `in` or `out` stands for.
pub fn step_for_program(program: &Path) -> Option<&'static str> {
    match program.file_name()?.to_str()? {
        "check" => Some("check"),
        "in" => Some("in"),
        "out" => Some("out"),
        _ => None,
    }
}
