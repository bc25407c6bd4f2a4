//! The command line: every flag is defined here, once, and each subcommand is a small handler:
//! it parses its input, drives the [`pipeline`](crate::pipeline) (or a single module, for
//! `config`, `version` and `db`), and presents the result.
//!
//! Results go to stdout (JSON, or the bare `<`/`=`/`>` of `version compare`); logs and warnings
//! go to stderr, so the output can always be piped.

mod cleanup;
mod concourse;
mod config;
mod db;
mod download;
mod monitor;
mod serve;
mod shell;
mod table;
mod version;

use std::io;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use concourse::step_for_program;

use crate::config::ConfigError;
use crate::exit;
use crate::version::{Strategy, VersionError};

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
    /// Configuration file [default: config.yaml].
    #[arg(
        short = 'c',
        long,
        global = true,
        env = "RELEASE_MONITOR_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
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

/// The config file used when `--config` and `RELEASE_MONITOR_CONFIG` are absent.
pub const DEFAULT_CONFIG: &str = "config.yaml";

impl GlobalArgs {
    /// The config file to read: the one given, or `config.yaml`.
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
    }
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
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor config init --repo jqlang/jq --repo gitlab.com/gitlab-org/cli\n  release-monitor config check"
    )]
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Parse, compare and sort release tags with the version engine.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor version compare go1.22rc1 go1.22.0\n  release-monitor version parse jq-1.7rc1"
    )]
    #[command(subcommand)]
    Version(VersionCommand),
    /// Inspect and edit the version database.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor db set cli/cli v2.40.0\n  release-monitor db show --format table"
    )]
    Db(DbArgs),
    /// Check every configured repository and report new releases as JSON.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor monitor --config config.yaml > releases.json\n  release-monitor monitor --download --dry-run"
    )]
    Monitor(MonitorArgs),
    /// Download, verify, store and record the releases of a monitor report.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor monitor > report.json && release-monitor download --input report.json\n  release-monitor monitor | release-monitor download"
    )]
    Download(DownloadArgs),
    /// Delete release folders beyond the newest `download.keep_versions` of each repository,
    /// and record the deletions in the database.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor cleanup --dry-run\n  release-monitor cleanup --keep 3"
    )]
    Cleanup(CleanupArgs),
    /// Run as a service: `monitor --download` every `serve.interval` and on request, with the
    /// mirror's files, /metrics, /healthz and /readyz over HTTP.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  SERVE_TOKEN=… release-monitor serve"
    )]
    Serve(ServeArgs),
    /// Write the service's overview and repository pages, and a releases.json per
    /// repository, as static files into the mirror and the artifact store.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor monitor --download && release-monitor index"
    )]
    Index,
    /// Print the shell completion script for SHELL to stdout.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor completions bash > ~/.local/share/bash-completion/completions/release-monitor"
    )]
    Completions(CompletionsArgs),
    /// Write the man pages (release-monitor.1 and one per subcommand) into DIR.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor man ~/.local/share/man/man1 && man release-monitor-monitor"
    )]
    Man(ManArgs),
    /// The Concourse resource type: JSON request on stdin, JSON response on stdout (the image
    /// also runs these as /opt/resource/check, in and out).
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  echo '{\"source\": {\"owner\": \"cli\", \"repository\": \"cli\"}}' | release-monitor concourse check"
    )]
    #[command(subcommand)]
    Concourse(ConcourseCommand),
}

/// `release-monitor completions SHELL`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `release-monitor man DIR`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The folder to write the pages into (created when missing).
    pub dir: PathBuf,
}

/// `release-monitor serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The conditional-request state kept between runs (as `monitor --state-file`).
    #[arg(long, value_name = "FILE", default_value = "release_state.json")]
    pub state_file: PathBuf,
}

/// `release-monitor cleanup`
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Print what would be deleted; delete and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep this many versions of each repository instead of `download.keep_versions`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
}

/// `release-monitor concourse ...`
#[derive(Debug, Subcommand)]
pub enum ConcourseCommand {
    /// List the repository's versions from the one given on, oldest first.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  echo '{\"source\": {\"owner\": \"cli\", \"repository\": \"cli\"}}' | release-monitor concourse check"
    )]
    Check,
    /// Fetch a version's assets (verified) and its metadata files into DESTINATION.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  echo '{\"source\": {\"owner\": \"cli\", \"repository\": \"cli\"}, \"version\": {\"tag\": \"v2.40.0\"}}' | release-monitor concourse in /tmp/cli"
    )]
    In {
        /// The directory Concourse gives the step.
        destination: PathBuf,
    },
    /// Always fails: publishing releases is out of scope.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor concourse out /tmp/out < request.json   # exits 1: publishing is out of scope"
    )]
    Out {
        /// The directory Concourse gives the step.
        source: Option<PathBuf>,
    },
}

/// `release-monitor download`
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The monitor report to read (`-` or absent: stdin).
    #[arg(short = 'i', long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Print the plan (each asset, its destination, each skip and why); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Download even when the database already holds the version.
    #[arg(long)]
    pub force: bool,
    /// Output format [default: table on a terminal, else json].
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

/// `release-monitor monitor`
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report format [default: table on a terminal, else json].
    #[arg(short = 'f', long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Where ETags are kept between runs, for conditional requests.
    #[arg(
        short = 's',
        long,
        value_name = "FILE",
        default_value = "release_state.json"
    )]
    pub state_file: PathBuf,
    /// Report the selected release of every repository, new or not.
    #[arg(long)]
    pub force_check: bool,
    /// Explain on stderr: candidates, drops and why, the winner, the comparison with the
    /// database, and the API calls spent.
    #[arg(long)]
    pub explain: bool,
    /// Also download the new releases, and add `download_results` to the report.
    #[arg(long)]
    pub download: bool,
    /// With `--download`: print the download plan; write no files and no database.
    #[arg(long, requires = "download")]
    pub dry_run: bool,
}

/// `release-monitor db ...`
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The version database: a file, `s3://BUCKET/KEY` or `artifactory://REPOSITORY/PATH`
    /// [default: download.version_db from the config (or VERSION_DB_S3_BUCKET), else
    /// ./version_db.json].
    #[arg(long, global = true, env = "VERSION_DB_PATH", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// What to do with it.
    #[command(subcommand)]
    pub command: DbCommand,
}

/// Output formats of `monitor`, `download` and the `db` commands. Without `--format`: a table
/// when stdout is a terminal, JSON otherwise (pipes and files get exactly the JSON they always
/// did).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// JSON, for scripts (the seed tool's format).
    Json,
    /// The same content as YAML.
    Yaml,
    /// An aligned table, for people.
    Table,
}

impl OutputFormat {
    /// `given`, else a table on a terminal and JSON anywhere else (`to_file`: the output goes
    /// to a file, never a terminal).
    pub fn or_default(given: Option<OutputFormat>, to_file: bool) -> OutputFormat {
        given.unwrap_or_else(|| {
            if !to_file && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                OutputFormat::Table
            } else {
                OutputFormat::Json
            }
        })
    }
}

/// The `db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Show every repository's record, or one repository's.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor db show --format table"
    )]
    Show {
        /// Only this repository (`owner/repo`).
        repo: Option<String>,
        /// Output format [default: table on a terminal, else json].
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
    /// Show a repository's history, newest first.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor db history cli/cli --format json"
    )]
    History {
        /// The repository (`owner/repo`).
        repo: String,
        /// Output format [default: table on a terminal, else json].
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
    /// Mark VERSION as already held, so only newer releases are downloaded (for migrating an
    /// existing mirror).
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor db set cli/cli v2.40.0"
    )]
    Set {
        /// The repository (`owner/repo`).
        repo: String,
        /// The version (tag) held.
        version: String,
    },
    /// Remove a repository's record (or all records), so its next release is downloaded again.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor db forget cli/cli"
    )]
    Forget {
        /// The repository (`owner/repo`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        repo: Option<String>,
        /// Remove every record.
        #[arg(long)]
        all: bool,
    },
    /// Print figures about the database.
    #[command(after_help = "Examples (see docs/src/commands.md):\n  release-monitor db stats")]
    Stats {
        /// Output format [default: table on a terminal, else json].
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor db check --db s3://ops-state/release-monitor/version_db.json"
    )]
    /// Check that the file parses and has the database's shape; report inconsistencies.
    Check,
}

/// `release-monitor config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config and print it, normalised (defaults filled in, environment overrides
    /// applied, secrets redacted), as JSON.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor config check --config config.yaml"
    )]
    Check,
    /// Write a commented starter config (every section with its defaults) to the config path.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor config init --repo jqlang/jq --repo gitlab.com/gitlab-org/cli"
    )]
    Init(ConfigInitArgs),
}

/// `release-monitor config init`
#[derive(Debug, Args)]
pub struct ConfigInitArgs {
    /// A repository to watch (`owner/repo`, or `host/path` on GitLab or Codeberg); repeat for
    /// more. Default: jqlang/jq, as an example.
    #[arg(long = "repo", value_name = "OWNER/REPO")]
    pub repos: Vec<String>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
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
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor version compare go1.22rc1 go1.22.0"
    )]
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
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  printf 'v1.10.0\\nv1.2.0\\nv1.2.0-rc.1\\n' | release-monitor version sort"
    )]
    Sort {
        /// Print newest first.
        #[arg(long)]
        reverse: bool,
        /// Versioning rules.
        #[command(flatten)]
        scheme: SchemeArgs,
    },
    /// Print how a tag is read (family, numbers, prerelease, build) as JSON.
    #[command(
        after_help = "Examples (see docs/src/commands.md):\n  release-monitor version parse jq-1.7rc1"
    )]
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
    /// The version database is damaged, or could not be read or written.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// GitHub could not be reached or refused (only before any repository was checked).
    #[error(transparent)]
    Github(#[from] crate::github::GithubError),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
    /// What was asked for does not exist (`db history` of an unknown repository).
    #[error("{0}")]
    NotFound(String),
    /// The S3 storage settings cannot work (bad endpoint, bucket or prefix).
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// A Concourse resource step failed.
    #[error(transparent)]
    Resource(#[from] crate::concourse::ResourceError),
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
    /// The process exit code for this error (see docs/src/exit-codes.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Config(_) | CommandError::Usage(_) => exit::USAGE,
            CommandError::Db(e) if e.is_invalid_file() => exit::USAGE,
            CommandError::Db(_) | CommandError::NotFound(_) => exit::PARTIAL_FAILURE,
            CommandError::Github(
                crate::github::GithubError::Setup { .. } | crate::github::GithubError::Insecure(_),
            ) => exit::USAGE,
            CommandError::Github(_) => exit::PARTIAL_FAILURE,
            CommandError::Version(_) => exit::NOT_COMPARABLE,
            CommandError::Io { .. } => exit::PARTIAL_FAILURE,
            CommandError::Storage(
                crate::storage::StorageError::Setup(_)
                | crate::storage::StorageError::HttpSetup(_)
                | crate::storage::StorageError::ArtifactorySetup(_),
            ) => exit::USAGE,
            CommandError::Storage(_) => exit::PARTIAL_FAILURE,
            CommandError::Resource(crate::concourse::ResourceError::Request(_)) => exit::USAGE,
            CommandError::Resource(_) => exit::PARTIAL_FAILURE,
        }
    }
}

/// A run that could not start fails as the stage that stopped it would (same message, same
/// exit status).
impl From<crate::pipeline::PipelineError> for CommandError {
    fn from(e: crate::pipeline::PipelineError) -> CommandError {
        use crate::pipeline::PipelineError;
        match e {
            PipelineError::Db(e) => CommandError::Db(e),
            PipelineError::Github(e) => CommandError::Github(e),
            PipelineError::Storage(e) => CommandError::Storage(e),
        }
    }
}

pub(crate) fn stdout_error(source: io::Error) -> CommandError {
    CommandError::Io {
        context: "writing to stdout",
        source,
    }
}

/// The async runtime a command runs its network work on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CommandError::Io {
            context: "starting the async runtime",
            source,
        })
}

/// Loads the configuration named by the global options and logs its warnings.
pub(crate) fn load_config(global: &GlobalArgs) -> Result<crate::config::Loaded, CommandError> {
    let loaded = crate::config::load(&global.config_path(), &crate::config::Env::from_process())?;
    for w in &loaded.warnings {
        tracing::warn!("{}: {w}", loaded.path.display());
    }
    Ok(loaded)
}

/// Runs a parsed command line and returns the exit code for success paths.
pub fn run(cli: Cli) -> Result<u8, CommandError> {
    match cli.command {
        Command::Config(ConfigCommand::Check) => config::check(&cli.global),
        Command::Config(ConfigCommand::Init(args)) => config::init(&cli.global, args),
        Command::Version(cmd) => version::run(cmd),
        Command::Db(args) => db::run(&cli.global, args),
        Command::Monitor(args) => monitor::run(&cli.global, args),
        Command::Download(args) => download::run(&cli.global, args),
        Command::Cleanup(args) => cleanup::run(&cli.global, args),
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Index => serve::index(&cli.global),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
        Command::Concourse(cmd) => concourse::run(cmd),
    }
}
