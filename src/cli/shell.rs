//! `release-monitor completions SHELL` and `release-monitor man DIR`: what clap knows of the
//! command line, as shell completion scripts (clap_complete) and man pages (clap_mangen), so
//! they never drift from the flags themselves.

use std::io::Write as _;

use clap::CommandFactory;

use super::{Cli, CommandError, CompletionsArgs, ManArgs, stdout_error};

/// Prints the completion script for the shell.
pub(super) fn completions(args: CompletionsArgs) -> Result<u8, CommandError> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "release-monitor", &mut out);
    if args.shell == clap_complete::Shell::Bash {
        // clap_complete's bash script names its cases after the command path with `-` turned
        // into `__`, but where a subcommand's name (`monitor`) also ends the program's name it
        // writes the case labels as `release__subcmd__monitor…` while the word walk builds
        // `release__monitor…`: no subcommand's flags would ever complete. The labels are
        // renamed to what the walk builds (the bash test shows flags completing).
        let text =
            String::from_utf8_lossy(&out).replace("release__subcmd__monitor", "release__monitor");
        out = text.into_bytes();
    }
    std::io::stdout()
        .lock()
        .write_all(&out)
        .map_err(stdout_error)?;
    Ok(crate::exit::OK)
}

/// Writes `release-monitor.1` and `release-monitor-<subcommand>.1` (nested subcommands too)
/// into the folder, and lists them on stdout.
pub(super) fn man(args: ManArgs) -> Result<u8, CommandError> {
    std::fs::create_dir_all(&args.dir).map_err(|source| CommandError::Io {
        context: "creating the man page folder",
        source,
    })?;
    let cmd = Cli::command();
    clap_mangen::generate_to(cmd, &args.dir).map_err(|source| CommandError::Io {
        context: "writing the man pages",
        source,
    })?;
    let mut names: Vec<String> = std::fs::read_dir(&args.dir)
        .map_err(|source| CommandError::Io {
            context: "listing the man pages",
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("release-monitor") && n.ends_with(".1"))
        .collect();
    names.sort();
    let mut stdout = std::io::stdout().lock();
    for n in names {
        writeln!(stdout, "{}", args.dir.join(n).display()).map_err(stdout_error)?;
    }
    Ok(crate::exit::OK)
}
