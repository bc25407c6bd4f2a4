//! Errors and warnings produced while loading a configuration.

use std::fmt;
use std::path::PathBuf;

/// Why a configuration could not be loaded. Every variant means exit code 2 (usage): nothing
/// was done.
///
/// It exists so the CLI can print one precise line (`file:line:col: key: message`) that points
/// the user at the mistake, instead of a generic parse failure.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is missing or unreadable (or not UTF-8).
    #[error("cannot read configuration file {}: {source}", path.display())]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The YAML is well-formed but a value is wrong: a type error, an out-of-range number, a
    /// regex that does not compile, a URL that is not allowed...
    #[error("{}:{line}:{column}: {key}: {message}", path.display())]
    Invalid {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column of the offending value.
        column: usize,
        /// Key path such as `download.retry.max_attempts` or `repositories[3].tag_filter`;
        /// `(root)` for the document itself.
        key: String,
        /// One-line description, e.g. `invalid type: string "ten", expected u32`.
        message: String,
    },

    /// The file is not valid YAML.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description.
        message: String,
    },

    /// Two settings that cannot hold together (a key that would have no effect under the
    /// others), found after the file was read, so without a position.
    #[error("{}: {key}: {message}", path.display())]
    Conflict {
        /// The configuration file.
        path: PathBuf,
        /// The key path of the setting that cannot take effect.
        key: String,
        /// Why, and what to change.
        message: String,
    },

    /// An environment variable the configuration reads has a bad value.
    #[error("{var}: {message}")]
    Env {
        /// The variable, e.g. `REPOSITORY_OVERRIDES`.
        var: String,
        /// What is wrong, with the key path inside the value when there is one.
        message: String,
    },
}

/// What kind of problem a [`ConfigWarning`] reports.
///
/// It exists so a caller can treat some warnings differently (for example a future `--strict`
/// that refuses unknown keys) without matching on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// A key that nothing reads (usually a typo); it was ignored.
    UnknownKey,
    /// The same `owner/repo` is listed twice; the first entry is kept.
    DuplicateRepository,
    /// No repository is configured, so a run does nothing.
    NoRepositories,
    /// Two spellings of one setting were used together (`asset_patterns` and `filters`, or
    /// `s3_storage` and `storage`); they were combined.
    BothSpellings,
    /// A pattern list holds only exclusions, so it selects no asset at all.
    OnlyExclusions,
    /// A `repository_overrides` entry names no configured repository.
    UnusedOverride,
    /// A notification target is enabled but lacks what it needs to send (a webhook URL), so
    /// sending it will fail.
    IncompleteNotify,
}

/// A problem that does not stop loading but that the user should see.
///
/// It exists so that mistakes such as a misspelt key are reported instead of silently ignored,
/// without refusing configuration files written for the seed tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// Key path, e.g. `download.verfy_downloads` or `repositories[2].descripton`;
    /// `REPOSITORY_OVERRIDES[0].x` for keys read from the environment.
    pub key: String,
    /// The full one-line message, e.g. ``unknown key `download.verfy_downloads` (ignored)``.
    pub message: String,
    /// What kind of problem this is.
    pub kind: WarningKind,
}

impl ConfigWarning {
    pub(crate) fn new(
        kind: WarningKind,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigWarning {
            key: key.into(),
            message: message.into(),
            kind,
        }
    }

    pub(crate) fn unknown_key(key: String) -> Self {
        let message = format!("unknown key `{key}` (ignored)");
        ConfigWarning::new(WarningKind::UnknownKey, key, message)
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
