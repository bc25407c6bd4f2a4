//! `release-monitor version ...`: the version engine on the command line.

use std::io::{self, BufRead, Write};

use regex::Regex;

use super::{CommandError, SchemeArgs, VersionCommand, stdout_error};
use crate::exit;
use crate::version::{self, Scheme};

fn scheme(args: &SchemeArgs) -> Result<Scheme, CommandError> {
    let filter = match &args.tag_filter {
        None => None,
        Some(re) => Some(
            Regex::new(re).map_err(|e| CommandError::Usage(format!("--tag-filter {re:?}: {e}")))?,
        ),
    };
    Ok(Scheme::new(args.strategy, filter))
}

pub(super) fn run(cmd: VersionCommand) -> Result<u8, CommandError> {
    let mut out = io::stdout().lock();
    match cmd {
        VersionCommand::Compare { a, b, scheme: s } => {
            let symbol = match scheme(&s)?.compare(&a, &b)? {
                std::cmp::Ordering::Less => "<",
                std::cmp::Ordering::Equal => "=",
                std::cmp::Ordering::Greater => ">",
            };
            writeln!(out, "{symbol}").map_err(stdout_error)?;
        }
        VersionCommand::Parse { tag, scheme: s } => {
            let v = scheme(&s)?.parse(&tag)?;
            let json = serde_json::to_string_pretty(&v).map_err(|e| CommandError::Io {
                context: "serialising the version",
                source: io::Error::other(e),
            })?;
            writeln!(out, "{json}").map_err(stdout_error)?;
        }
        VersionCommand::Sort { reverse, scheme: s } => {
            let scheme = scheme(&s)?;
            let lines: Vec<String> = io::stdin()
                .lock()
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|source| CommandError::Io {
                    context: "reading tags from stdin",
                    source,
                })?;
            let tags = lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty());
            let (mut sorted, bad) = version::sort_tags(&scheme, tags);
            for e in &bad {
                tracing::warn!("skipped: {e}");
            }
            if reverse {
                sorted.reverse();
            }
            for v in &sorted {
                writeln!(out, "{}", v.tag()).map_err(stdout_error)?;
            }
        }
    }
    Ok(exit::OK)
}
