//! The Concourse resource type: `check`, `in` and `out`, speaking Concourse's JSON on stdin and
//! stdout.
//!
//! It exists so a pipeline can watch one repository's releases with the same engine as the
//! monitor (version strategies, `tag_filter`, asset patterns) and fetch a version with the
//! downloader's verification and resume. The source keys are those of Concourse's
//! `github-release` resource, so switching a pipeline over is a change of `type:`; keys that
//! resource has and this one cannot honour are refused with a message, never ignored silently.
//!
//! The image runs the binary as `/opt/resource/check`, `/opt/resource/in` and
//! `/opt/resource/out` (the binary dispatches on its name), or as `release-monitor concourse
//! check|in|out`.

mod check;
mod get;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

pub use check::check;
pub use get::{InParams, InResponse, MetadataField, get};

use crate::config::{self, Config, Env};
use crate::github::{GithubError, Release, Token};
use crate::repo::RepoId;

/// How `check` orders releases (the github-release resource's `order_by`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderBy {
    /// By the version read from the tag (the default).
    #[default]
    Version,
    /// By publication time (creation time for drafts).
    Time,
}

fn default_true() -> bool {
    true
}

fn token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Token>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(Token::new))
}

/// The resource's `source:` block.
///
/// It exists to accept the github-release resource's keys (plus ours) and to refuse typos:
/// an unknown key is an error, since a silently ignored filter would fetch the wrong releases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The repository's owner.
    pub owner: String,
    /// The repository's name.
    pub repository: String,
    /// A GitHub token (sent only to the API host; never printed).
    #[serde(default, deserialize_with = "token")]
    pub access_token: Option<Token>,
    /// The REST API base, for GitHub Enterprise (`https://HOST/api/v3`).
    #[serde(default)]
    pub github_api_url: Option<String>,
    /// Ours: the repository's forge, `github` (default), `gitlab` or `gitea` (`forgejo`,
    /// `codeberg`). On GitLab, `owner` may be a group path.
    #[serde(default)]
    pub forge: Option<crate::config::ForgeKind>,
    /// Ours: the API base of a GitLab or Gitea forge (default `https://gitlab.com/api/v4`,
    /// `https://codeberg.org/api/v1`); `access_token` is that forge's token.
    #[serde(default)]
    pub api_url: Option<String>,
    /// Accepted for compatibility; this resource does not use GraphQL.
    #[serde(default)]
    pub github_v4_api_url: Option<String>,
    /// Accepted for compatibility; uploads are `out`, which is out of scope.
    #[serde(default)]
    pub github_uploads_url: Option<String>,
    /// Refused when `true`: give the server's CA in `ca_cert` instead.
    #[serde(default)]
    pub insecure: bool,
    /// Detect final releases (default `true`).
    #[serde(default = "default_true")]
    pub release: bool,
    /// Detect prereleases (default `false`).
    #[serde(default)]
    pub pre_release: bool,
    /// Detect drafts only (default `false`; needs a token that can push).
    #[serde(default)]
    pub drafts: bool,
    /// A regex tags must match; its first capture group (else the whole match) is the version.
    #[serde(default)]
    pub tag_filter: Option<String>,
    /// `version` (default) or `time`.
    #[serde(default)]
    pub order_by: OrderBy,
    /// Refused: Masterminds constraint syntax is not supported; use `tag_filter`.
    #[serde(default)]
    pub semver_constraint: Option<String>,
    /// Put fetched files in an `assets/` subdirectory.
    #[serde(default)]
    pub asset_dir: bool,
    /// Ours: which assets `in` fetches (the config's `asset_patterns`; `!` excludes).
    #[serde(default)]
    pub asset_patterns: Option<Vec<String>>,
    /// Ours: `auto`, `semver-strict`, `calver`, `date` or `pep440`.
    #[serde(default)]
    pub version_strategy: Option<String>,
    /// Ours: authenticate as this GitHub App (instead of `access_token`).
    #[serde(default)]
    pub github_app_id: Option<u64>,
    /// Ours: the App's private key, PEM text (never printed).
    #[serde(default)]
    pub github_app_private_key: Option<crate::config::Secret>,
    /// Ours: the App's installation; without it, it is found from `owner`.
    #[serde(default)]
    pub github_app_installation_id: Option<u64>,
    /// Ours: a PEM bundle trusted in addition to the system roots (GitHub Enterprise with a
    /// private CA).
    #[serde(default)]
    pub ca_cert: Option<String>,
    /// Ours: how many of the newest releases `check` lists (default 100, at most 1000).
    #[serde(default)]
    pub max_releases: Option<u32>,
    /// Ours: fail an asset that no upstream checksum covers (default `false`).
    #[serde(default)]
    pub require_checksum: bool,
}

/// A version as Concourse stores it: the github-release resource's fields, all strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcourseVersion {
    /// The release's tag.
    #[serde(default)]
    pub tag: String,
    /// The release's id (how drafts, and releases ordered by time, are identified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Publication time (creation time for drafts), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl ConcourseVersion {
    /// The version Concourse records for `release`.
    pub fn of(release: &Release) -> ConcourseVersion {
        ConcourseVersion {
            tag: release.tag_name.clone(),
            id: release_id(release).map(|id| id.to_string()),
            timestamp: release_time(release).map(str::to_string),
        }
    }
}

/// The release's numeric id (kept in the API object's extra fields).
pub(crate) fn release_id(release: &Release) -> Option<u64> {
    release.extra.get("id").and_then(serde_json::Value::as_u64)
}

/// When the release was published, or created for drafts.
pub(crate) fn release_time(release: &Release) -> Option<&str> {
    release.published_at.as_deref().or_else(|| {
        release
            .extra
            .get("created_at")
            .and_then(serde_json::Value::as_str)
    })
}

/// Why a `check`, `in` or `out` failed. The message is what the pipeline's user reads.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// The request on stdin is not what Concourse sends, or the source has a bad key or value.
    #[error("{0}")]
    Request(String),
    /// GitHub refused or could not be reached.
    #[error("{repo}: {source}")]
    Github {
        /// The repository.
        repo: String,
        /// What went wrong.
        source: GithubError,
    },
    /// The requested version no longer exists.
    #[error("{0}")]
    NotFound(String),
    /// Assets could not be fetched, verified or stored.
    #[error("{0}")]
    Download(String),
    /// Writing the files of `in` failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being written.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `out` was called.
    #[error(
        "this resource type watches and fetches releases; publishing them (`put`) is out of \
         scope. Use concourse/github-release-resource to publish releases."
    )]
    OutUnsupported,
}

/// Parses a request read from stdin into `T`, naming the key that is wrong.
pub fn parse_request<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ResourceError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = without_values(&e.into_inner().to_string());
        ResourceError::Request(if path.is_empty() || path == "." {
            format!("the request on stdin is not valid: {inner}")
        } else {
            format!("the request on stdin is not valid: {path}: {inner}")
        })
    })
}

/// A JSON error message with the request's own values left out (`invalid type: string "…"`,
/// `unknown variant `…``): a value may be the token pasted into the wrong key, and the key path
/// already says where the problem is.
fn without_values(message: &str) -> String {
    static QUOTED: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(invalid (?:type|value): string) "(?:[^"\\]|\\.)*"|(unknown variant) `[^`]*`"#,
        )
        .ok()
    });
    match QUOTED.as_ref() {
        Some(re) => re
            .replace_all(message, |c: &regex::Captures<'_>| {
                c.get(1)
                    .or_else(|| c.get(2))
                    .map_or("", |m| m.as_str())
                    .to_string()
            })
            .into_owned(),
        // The pattern is a constant that compiles; without it nothing is quoted at all.
        None => "the value is not valid here".to_string(),
    }
}

/// What a resource step works with: the source turned into the monitor's configuration (one
/// repository), the repository, the token, and the CA file kept alive while the client uses it.
pub(crate) struct Prepared {
    pub config: Config,
    /// The repository's forge.
    pub kind: crate::config::ForgeKind,
    pub repo: RepoId,
    pub token: Option<Token>,
    /// The GitHub App (id, PEM key, installation), checked, when the source names one.
    pub app: Option<(u64, crate::config::Secret, Option<u64>)>,
    _ca: Option<tempfile::NamedTempFile>,
}

impl Source {
    /// Checks the keys this resource refuses, then builds the configuration through the
    /// config loader (so `tag_filter`, `version_strategy`, `asset_patterns` and the API URL are
    /// validated exactly as in `config.yaml`). `directory` is where `in` stores files.
    pub(crate) fn prepare(
        self,
        directory: Option<&Path>,
        asset_patterns: Option<Vec<String>>,
        archives: Option<(bool, bool)>,
    ) -> Result<Prepared, ResourceError> {
        if self.insecure {
            return Err(ResourceError::Request(
                "source.insecure: true is not supported: TLS is always verified. Give the \
                 server's CA certificate (PEM) in source.ca_cert instead."
                    .into(),
            ));
        }
        if self.semver_constraint.is_some() {
            return Err(ResourceError::Request(
                "source.semver_constraint is not supported; select versions with \
                 source.tag_filter (a regex) instead."
                    .into(),
            ));
        }
        if self.github_v4_api_url.is_some() || self.github_uploads_url.is_some() {
            tracing::debug!("github_v4_api_url and github_uploads_url are not used");
        }
        let kind = self.forge.unwrap_or_default();
        // Another forge: its API base, and the host its repository lives on.
        let forge = match (
            kind,
            self.api_url.as_deref().filter(|u| !u.trim().is_empty()),
        ) {
            (crate::config::ForgeKind::Github, None) => None,
            (crate::config::ForgeKind::Github, Some(_)) => {
                return Err(ResourceError::Request(
                    "source.api_url is for a GitLab or Gitea forge (set source.forge); GitHub \
                     Enterprise is source.github_api_url"
                        .into(),
                ));
            }
            (kind, given) => {
                if self.github_app_id.is_some() {
                    return Err(ResourceError::Request(
                        "source.github_app_id: a GitHub App authenticates on GitHub only".into(),
                    ));
                }
                let default = crate::config::DEFAULT_FORGES
                    .iter()
                    .find(|(_, k, ..)| *k == kind)
                    .map(|(_, _, api, _)| *api)
                    .unwrap_or_default();
                let api = given.unwrap_or(default).trim_end_matches('/').to_string();
                let url = url::Url::parse(&api)
                    .map_err(|e| ResourceError::Request(format!("source.api_url: {e}")))?;
                let host = match (url.host_str(), url.port()) {
                    (Some(h), Some(p)) => format!("{h}:{p}"),
                    (Some(h), None) => h.to_string(),
                    (None, _) => {
                        return Err(ResourceError::Request("source.api_url has no host".into()));
                    }
                };
                Some((host, api))
            }
        };
        let repo = RepoId::on(
            forge.as_ref().map(|(host, _)| host.as_str()),
            &self.owner,
            &self.repository,
        )
        .map_err(|e| ResourceError::Request(format!("source.owner/repository: {e}")))?;
        let app = match (
            self.github_app_id,
            self.github_app_private_key,
            self.github_app_installation_id,
        ) {
            (None, None, None) => None,
            (Some(id), Some(key), installation) => {
                if self.access_token.is_some() {
                    return Err(ResourceError::Request(
                        "source.access_token and source.github_app_id are both given; \
                         authenticate one way"
                            .into(),
                    ));
                }
                crate::github::check_key(key.expose()).map_err(|e| {
                    ResourceError::Request(format!("source.github_app_private_key: {}", e.0))
                })?;
                Some((id, key, installation))
            }
            _ => {
                return Err(ResourceError::Request(
                    "source.github_app_id and source.github_app_private_key go together".into(),
                ));
            }
        };
        let ca = match self.ca_cert.as_deref().filter(|c| !c.trim().is_empty()) {
            None => None,
            Some(pem) => {
                let mut file =
                    tempfile::NamedTempFile::new().map_err(|source| ResourceError::Io {
                        context: "writing source.ca_cert to a temporary file".into(),
                        source,
                    })?;
                std::io::Write::write_all(&mut file, pem.as_bytes()).map_err(|source| {
                    ResourceError::Io {
                        context: "writing source.ca_cert to a temporary file".into(),
                        source,
                    }
                })?;
                Some(file)
            }
        };
        let mut repository = serde_json::json!({"owner": self.owner, "repo": self.repository});
        let mut forges = serde_json::json!({});
        if let Some((host, api)) = &forge {
            repository["forge"] = kind.as_str().into();
            repository["host"] = host.clone().into();
            forges[host.as_str()] = serde_json::json!({"type": kind.as_str(), "api_url": api});
            if let Some(file) = &ca {
                forges[host.as_str()]["ca_cert"] = file.path().display().to_string().into();
            }
        }
        if let Some(filter) = &self.tag_filter {
            repository["tag_filter"] = filter.clone().into();
        }
        if let Some(strategy) = &self.version_strategy {
            repository["version_strategy"] = strategy.clone().into();
        }
        if let Some(patterns) = asset_patterns.or(self.asset_patterns) {
            repository["asset_patterns"] = patterns.into();
        }
        let mut github = serde_json::json!({});
        if let Some(url) = self
            .github_api_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            github["api_url"] = url.into();
        }
        if let Some(file) = &ca {
            github["ca_cert"] = file.path().display().to_string().into();
        }
        let (tarball, zipball) = archives.unwrap_or((false, false));
        let prefer = match (tarball, zipball) {
            (true, true) => "both",
            (false, true) => "zipball",
            _ => "tarball",
        };
        let mut download = serde_json::json!({
            "enabled": true,
            "verification": {"require": self.require_checksum},
            "source_archives": {
                "enabled": tarball || zipball,
                "prefer": prefer,
                "fallback_only": false,
            },
        });
        if let Some(dir) = directory {
            download["directory"] = dir.display().to_string().into();
        }
        let mut settings = serde_json::json!({});
        if let Some(max) = self.max_releases {
            settings["max_releases_per_repo"] = max.into();
        }
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "repositories": [repository],
            "settings": settings,
            "github": github,
            "download": download,
            "forges": forges,
        }))
        .map_err(|e| ResourceError::Request(e.to_string()))?;
        let loaded = config::load_str(&text, Path::new("source"), &Env::default())
            .map_err(|e| ResourceError::Request(format!("source: {}", source_error(&e))))?;
        for w in &loaded.warnings {
            tracing::warn!("source: {w}");
        }
        Ok(Prepared {
            config: loaded.config,
            kind,
            repo,
            token: self.access_token,
            app,
            _ca: ca,
        })
    }
}

/// A config error about the generated configuration, in the source's words: the key is what
/// the user wrote (`tag_filter`, not `repositories[0].tag_filter`), without a line number of a
/// file that does not exist.
fn source_error(e: &config::ConfigError) -> String {
    let text = e.to_string();
    let text = text
        .strip_prefix("source:")
        .map(|rest| rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ':'))
        .unwrap_or(&text)
        .trim_start();
    text.replace("repositories[0].", "")
        .replace("github.api_url", "github_api_url")
        .replace("github.ca_cert", "ca_cert")
        .replace("settings.max_releases_per_repo", "max_releases")
}

impl Prepared {
    /// The client of this source's forge (GitHub unless `source.forge` says otherwise).
    pub(crate) fn client(&self) -> Result<crate::github::GithubClient, ResourceError> {
        let github = |source| ResourceError::Github {
            repo: self.repo.to_string(),
            source,
        };
        let mut opts = crate::github::ClientOptions::from_config(&self.config);
        if let Some(forge) = self.repo.host().and_then(|h| self.config.forge(h)) {
            opts.api_url = forge.api_url.as_str().to_string();
            if forge.ca_cert.is_some() {
                opts.ca_cert = forge.ca_cert.clone();
            }
        }
        let client = crate::github::GithubClient::new(opts, self.token.clone())
            .map_err(github)?
            .for_forge(self.kind, "source.access_token");
        match &self.app {
            None => Ok(client),
            Some((id, key, installation)) => {
                let app = crate::github::AppAuth::new(*id, key.expose(), *installation)
                    .map_err(|e| github(crate::github::GithubError::App(e.0)))?;
                Ok(client.with_app(app))
            }
        }
    }

    /// The run's forges: `client` serves the source's repository, on whichever forge it is.
    pub(crate) fn forges(
        &self,
        client: Arc<crate::github::GithubClient>,
    ) -> Arc<crate::github::Forges> {
        let forges = crate::github::Forges::single(client.clone());
        Arc::new(match self.repo.host() {
            Some(host) => forges.with_host(host, client),
            None => forges,
        })
    }

    /// The versioning rules for the repository.
    pub(crate) fn scheme(&self) -> crate::version::Scheme {
        match self.config.repositories.first() {
            Some(r) => self.config.repository_settings(r).scheme(),
            None => crate::version::Scheme::new(crate::version::Strategy::Auto, None),
        }
    }

    /// The version string of a tag: the `tag_filter` capture, else the tag without a leading
    /// `v` before a digit (what the github-release resource writes to `version`).
    pub(crate) fn version_text(&self, tag: &str) -> String {
        let scheme = self.scheme();
        if let Some(filter) = scheme.tag_filter()
            && let Some(captured) = crate::version::filter_capture(filter, tag)
        {
            return captured.to_string();
        }
        let mut chars = tag.chars();
        match (chars.next(), chars.next()) {
            (Some('v' | 'V'), Some(d)) if d.is_ascii_digit() => tag[1..].to_string(),
            _ => tag.to_string(),
        }
    }
}

/// `out`: always an error, with a pointer to the resource that publishes releases.
pub fn out() -> Result<(), ResourceError> {
    Err(ResourceError::OutUnsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(json: serde_json::Value) -> Result<Source, ResourceError> {
        parse_request(&json.to_string())
    }

    #[test]
    fn request_errors_never_quote_a_value() {
        for (json, path) in [
            (
                r#"{"source": {"pre_release": "ghp_tok\"en"}}"#,
                "pre_release",
            ),
            (r#"{"source": {"order_by": "ghp_token"}}"#, "order_by"),
        ] {
            let e = source(serde_json::from_str(json).unwrap())
                .unwrap_err()
                .to_string();
            assert!(!e.contains("ghp_tok") && e.contains(path), "{e}");
        }
        assert_eq!(
            without_values(r#"invalid type: string "a\"b", expected a boolean"#),
            "invalid type: string, expected a boolean"
        );
    }

    #[test]
    fn github_release_keys_are_accepted() {
        let s = source(serde_json::json!({
            "owner": "o", "repository": "r", "access_token": "t0ken", "github_api_url":
            "https://ghe.example.com/api/v3/", "pre_release": true, "drafts": false,
            "tag_filter": "^v(.*)$", "order_by": "time", "github_v4_api_url": "x",
        }))
        .unwrap();
        assert!(s.release && s.pre_release && !s.drafts);
        assert_eq!(s.order_by, OrderBy::Time);
        assert!(
            !format!("{s:?}").contains("t0ken"),
            "the token must not be printed"
        );
        let p = s.prepare(None, None, None).unwrap();
        assert_eq!(
            p.config.github.api_url.as_str(),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(p.version_text("v1.2.3"), "1.2.3");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let e = source(serde_json::json!({"owner": "o", "repository": "r", "tag_filtr": "x"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tag_filtr"), "{e}");
    }

    #[test]
    fn refused_keys_say_what_to_do() {
        for (key, value, hint) in [
            ("insecure", serde_json::json!(true), "ca_cert"),
            ("semver_constraint", serde_json::json!("~1.2"), "tag_filter"),
        ] {
            let mut json = serde_json::json!({"owner": "o", "repository": "r"});
            json[key] = value;
            let e = source(json)
                .unwrap()
                .prepare(None, None, None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(key) && e.contains(hint), "{e}");
        }
    }

    #[test]
    fn bad_values_name_the_source_key() {
        for (key, value) in [
            ("tag_filter", serde_json::json!("v(")),
            ("version_strategy", serde_json::json!("lexical")),
            (
                "github_api_url",
                serde_json::json!("http://ghe.example.com/api/v3"),
            ),
        ] {
            let mut json = serde_json::json!({"owner": "o", "repository": "r"});
            json[key] = value;
            let e = source(json)
                .unwrap()
                .prepare(None, None, None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with(&format!("source: {key}")), "{key}: {e}");
        }
    }

    #[test]
    fn version_text_follows_the_tag_filter() {
        let s = source(serde_json::json!({"owner": "o", "repository": "r",
                                          "tag_filter": "^release-(.*)$"}))
        .unwrap();
        let p = s.prepare(None, None, None).unwrap();
        assert_eq!(p.version_text("release-2.0"), "2.0");
        let plain = source(serde_json::json!({"owner": "o", "repository": "r"}))
            .unwrap()
            .prepare(None, None, None)
            .unwrap();
        assert_eq!(plain.version_text("jq-1.7"), "jq-1.7");
        assert_eq!(plain.version_text("version-1"), "version-1");
    }
}
