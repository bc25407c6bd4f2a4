//! The command line: every flag is defined here, once, and each subcommand is a small handler.
//!
//! Results go to stdout (JSON, or the bare `<`/`=`/`>` of `version compare`); logs and warnings
//! go to stderr, so the output can always be piped.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use regex::Regex;

use crate::config::{self, ConfigError, Env};
use crate::exit;
use crate::version::{self, Scheme, Strategy, VersionError};

/// `release-monitor`: watch GitHub repositories for new releases, download and verify their
/// assets, and record them in a version database.
#[derive(Debug, Parser)]
#[command(name = "release-monitor", version, about, long_about = None)]
pub struct Cli {
    /// Options every subcommand accepts, before or after its name.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by all subcommands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file.
    #[arg(
        short = 'c',
        long,
        global = true,
        env = "RELEASE_MONITOR_CONFIG",
        default_value = "config.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// More log output on stderr (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Less log output on stderr (-q warnings only, -qq errors only).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Parse, compare and sort release tags with the version engine.
    #[command(subcommand)]
    Version(VersionCommand),
}

/// `release-monitor config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config and print it, normalised (defaults filled in, environment overrides
    /// applied, secrets redacted), as JSON.
    Check,
}

/// Versioning rules given on the command line.
#[derive(Debug, Args)]
pub struct SchemeArgs {
    /// How tags are ordered.
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    pub strategy: Strategy,
    /// A regex that tags must match; its first capture group is the version.
    #[arg(long, value_name = "REGEX")]
    pub tag_filter: Option<String>,
}

/// `release-monitor version ...`
#[derive(Debug, Subcommand)]
pub enum VersionCommand {
    /// Print `<`, `=` or `>`: how A compares with B. Exits 3 if they cannot be compared.
    Compare {
        /// The first tag.
        a: String,
        /// The second tag.
        b: String,
        /// Versioning rules.
        #[command(flatten)]
        scheme: SchemeArgs,
    },
    /// Read tags from stdin, one per line, and print them in ascending order.
    Sort {
        /// Print newest first.
        #[arg(long)]
        reverse: bool,
        /// Versioning rules.
        #[command(flatten)]
        scheme: SchemeArgs,
    },
    /// Print how a tag is read (family, numbers, prerelease, build) as JSON.
    Parse {
        /// The tag.
        tag: String,
        /// Versioning rules.
        #[command(flatten)]
        scheme: SchemeArgs,
    },
}

/// Why a command failed; each kind maps to one exit code.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A tag is not a version, or two tags cannot be compared.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
    /// Reading stdin or writing stdout failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The underlying error.
        source: io::Error,
    },
}

impl CommandError {
    /// The process exit code for this error (see the README's exit-code table).
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Config(_) | CommandError::Usage(_) => exit::USAGE,
            CommandError::Version(_) => exit::NOT_COMPARABLE,
            CommandError::Io { .. } => exit::PARTIAL_FAILURE,
        }
    }
}

fn stdout_error(source: io::Error) -> CommandError {
    CommandError::Io {
        context: "writing to stdout",
        source,
    }
}

/// Runs a parsed command line and returns the exit code for success paths.
pub fn run(cli: Cli) -> Result<u8, CommandError> {
    match cli.command {
        Command::Config(ConfigCommand::Check) => config_check(&cli.global),
        Command::Version(cmd) => run_version(cmd),
    }
}

fn config_check(global: &GlobalArgs) -> Result<u8, CommandError> {
    let loaded = config::load(&global.config, &Env::from_process())?;
    for w in &loaded.warnings {
        tracing::warn!("{}: {w}", loaded.path.display());
    }
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

fn scheme(args: &SchemeArgs) -> Result<Scheme, CommandError> {
    let filter = match &args.tag_filter {
        None => None,
        Some(re) => Some(
            Regex::new(re).map_err(|e| CommandError::Usage(format!("--tag-filter {re:?}: {e}")))?,
        ),
    };
    Ok(Scheme::new(args.strategy, filter))
}

fn run_version(cmd: VersionCommand) -> Result<u8, CommandError> {
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
