//! The configuration: `config.yaml` plus the environment variables that override it.
//!
//! It reads the seed tool's `config.yaml` unchanged (users switch between the two tools with the
//! same file), the seed plan's additions (`download.filters`, `verification`, `retry`, `storage`,
//! `version_strategy`, `post_download`, per-repository `download:`), and this project's `github:`
//! section. The result is one normalised [`Config`]; unknown keys become [`ConfigWarning`]s; a bad
//! value is a [`ConfigError`] that names `file:line:column` and the key path.
//!
//! ```no_run
//! use release_monitor::config::{self, Env};
//! # fn main() -> Result<(), config::ConfigError> {
//! let loaded = config::load(std::path::Path::new("config.yaml"), &Env::from_process())?;
//! for w in &loaded.warnings {
//!     eprintln!("warning: {w}");
//! }
//! for repo in &loaded.config.repositories {
//!     let effective = loaded.config.repository_settings(repo);
//!     println!("{}/{}: {}", effective.owner, effective.repo, effective.version_strategy);
//! }
//! # Ok(()) }
//! ```
//!
//! Environment read here: `GITHUB_API_URL`, `SSL_CERT_FILE`, `DOWNLOAD_DIR`, `VERSION_DB_PATH`,
//! `VERSION_DB_S3_BUCKET`, `VERSION_DB_S3_PREFIX`, `REPOSITORY_OVERRIDES`, `SLACK_WEBHOOK_URL`,
//! `SMTP_PASSWORD`, `HTTP_STORAGE_PASSWORD`, `HTTP_STORAGE_TOKEN`, `ARTIFACTORY_URL`,
//! `ARTIFACTORY_REPOSITORY`, `ARTIFACTORY_USERNAME`, `ARTIFACTORY_PASSWORD`, `ARTIFACTORY_API_KEY`,
//! `ARTIFACTORY_ACCESS_TOKEN`, `ARTIFACTORY_SKIP_SSL_VERIFICATION`. A variable set to the empty string counts as unset (Concourse passes
//! unset `params` as empty strings).

mod error;
mod load;
mod model;
mod normalize;
mod pattern;
mod raw;
mod starter;
mod values;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, ConfigWarning, WarningKind};
pub use model::{
    ARTIFACTORY_SCHEME, ArtifactoryStorage, Config, DownloadSettings, EffectiveRepo, EmailNotify,
    ExtractLimits, Forge, GithubApp, GithubSettings, HttpStorage, NotifySettings, PostDownload,
    Repository, RepositoryOverride, Retry, S3Storage, Segments, ServeSettings, ServeTls, Settings,
    Signing, SlackNotify, SourceArchives, Verification, WebhookNotify,
};
pub use pattern::{AssetPattern, asset_selected};
pub use starter::starter;
pub(crate) use values::is_loopback_host;
pub use values::{
    Age, ApiUrl, ArchivePreference, DEFAULT_API_URL, DEFAULT_FORGES, ForgeKind, NotifyEvent,
    NotifyTarget, REDACTED, ReleaseSource, Require, Seconds, Secret, TagFilter,
};

/// `download.artifactory_storage` as the `ARTIFACTORY_*` environment variables alone describe it.
///
/// It exists so `db` commands reach an `artifactory://` database without a config file, as they
/// reach an `s3://` one through the S3 variables.
pub fn artifactory_from_env(env: &Env) -> Result<ArtifactoryStorage, ConfigError> {
    normalize::artifactory(None, env)
}

/// The version database location the environment sets, if any: `VERSION_DB_PATH` (a path or
/// `s3://bucket/key`), else `s3://{VERSION_DB_S3_BUCKET}/{VERSION_DB_S3_PREFIX}version_db.json`.
///
/// It exists so commands that run without a config file (`db ...`) honour the same variables.
pub fn version_db_from_env(env: &Env) -> Option<PathBuf> {
    normalize::version_db_from_env(env)
}

/// The environment the configuration reads, captured once.
///
/// It exists so tests (and callers) can inject variables without touching the process
/// environment, which is shared between test threads. `Debug` shows names only: values may be
/// credentials.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Captures the process environment (variables whose name or value is not UTF-8 are left
    /// out).
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// Builds an environment from pairs, for tests and embedding.
    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `key`, if set (possibly empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// The value of `key` if set and not empty.
    pub(crate) fn get_non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A successfully loaded configuration with what the user should be told about it.
///
/// It exists so loading never prints: the CLI decides how to show warnings (and may refuse them).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The normalised configuration.
    pub config: Config,
    /// Non-fatal problems, in the order found.
    pub warnings: Vec<ConfigWarning>,
    /// The file it came from.
    pub path: PathBuf,
}

/// Reads and normalises the configuration file at `path`, applying overrides from `env`.
pub fn load(path: &Path, env: &Env) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(&text, path, env)
}

/// Like [`load`] but with the file's text given; `path` is only used in messages.
pub fn load_str(text: &str, path: &Path, env: &Env) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    // Key files named in the configuration are relative to its folder.
    let base = path.parent().unwrap_or(Path::new("."));
    let hosts = load::forge_hosts(text);
    let raw = values::with_forge_hosts(hosts.clone(), || {
        values::with_base_dir(base, || load::parse_yaml(text, path, &mut warnings))
    })?;
    let env_repos = match env.get_non_empty(load::REPOSITORY_OVERRIDES) {
        Some(v) => Some(values::with_forge_hosts(hosts, || {
            values::with_base_dir(base, || load::parse_repository_overrides(v, &mut warnings))
        })?),
        None => None,
    };
    let config = normalize::normalize(raw, env_repos, env, &mut warnings).map_err(|e| match e {
        // Settled after the file was read; the file is named here.
        ConfigError::Conflict { key, message, .. } => ConfigError::Conflict {
            path: path.to_path_buf(),
            key,
            message,
        },
        other => other,
    })?;
    normalize::check_verification(&config)
        .and_then(|()| normalize::check_storage(&config))
        .and_then(|()| normalize::check_github_app(&config))
        .map_err(|(key, message)| ConfigError::Conflict {
            path: path.to_path_buf(),
            key,
            message,
        })?;
    Ok(Loaded {
        config,
        warnings,
        path: path.to_path_buf(),
    })
}
