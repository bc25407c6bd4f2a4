//! The normalised configuration the rest of the program uses.
//!
//! Every default is filled in, every alternative spelling has been folded into one canonical
//! key, and environment overrides are applied. Serialising a [`Config`] gives the normalised
//! configuration (`config check`), with secrets shown as `***`; that JSON is itself a valid
//! configuration file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::version::Strategy;
use serde::{Serialize, Serializer};

use super::pattern::AssetPattern;
use super::values::ForgeKind;
use super::values::{
    Age, ApiUrl, ArchivePreference, NotifyEvent, NotifyTarget, ReleaseSource, Require, Seconds,
    Secret, TagFilter,
};
use crate::repo::RepoId;
use crate::trust::{CosignKey, MinisignKey, PgpKey};

/// The whole configuration, after defaults, spellings and environment overrides.
///
/// It exists so that no other module reads YAML, environment variables or defaults: they take a
/// `Config` (or an [`EffectiveRepo`] from [`Config::repository_settings`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// The repositories to watch, in file order, duplicates removed.
    pub repositories: Vec<Repository>,
    /// The monitor's settings (`settings:` in the file).
    pub settings: Settings,
    /// How to reach GitHub (`github:`).
    pub github: GithubSettings,
    /// What to download and where (`download:`).
    pub download: DownloadSettings,
    /// Who is told after a run (`notify:`, plus the plan's `post_download.notify`).
    pub notify: NotifySettings,
    /// The forges other than the `github:` section's, by host (`forges:`, plus the defaults
    /// for gitlab.com and codeberg.org and the hosts named by `forge:` that the repositories
    /// use).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub forges: BTreeMap<String, Forge>,
    /// The long-running service (`serve:`).
    pub serve: ServeSettings,
}

/// `serve:` — how `release-monitor serve` listens, schedules and authenticates.
///
/// It exists so the service's address, schedule and token live in the same checked file as
/// everything else, and the one-shot commands can ignore them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServeSettings {
    /// The address to bind (default `127.0.0.1:8080`).
    pub listen: std::net::SocketAddr,
    /// Time between the starts of two scheduled runs (default 1h; each wait is jittered by up
    /// to a tenth either way).
    pub interval: Age,
    /// The environment variable holding the service's bearer token; without it the service is
    /// read-only (`POST /api/runs` refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// `/readyz` fails once the last successful run is older than this many intervals
    /// (default 3).
    pub stale_after: u32,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServeTls>,
    /// The address clients reach the service at (`https://mirror.example.com`), for the URLs
    /// the API hands out; default: the scheme served and the request's `Host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// `serve.tls`: PEM files of the certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServeTls {
    /// The certificate chain (leaf first).
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            interval: Age::new(std::time::Duration::from_secs(3600)),
            token_env: None,
            stale_after: 3,
            tls: None,
            public_url: None,
        }
    }
}

/// `forges.<host>`: how to reach one forge.
///
/// It exists so a self-hosted GitLab or Gitea (or a second GitHub Enterprise) is described
/// once, by host, and every repository on it finds its API, token and CA there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forge {
    /// Which API it speaks.
    #[serde(rename = "type")]
    pub kind: ForgeKind,
    /// The API base (`https://HOST/api/v4` for GitLab, `/api/v1` for Gitea, `/api/v3` for
    /// GitHub Enterprise, unless given).
    pub api_url: ApiUrl,
    /// The environment variable holding its token (`GITLAB_TOKEN` for gitlab.com,
    /// `CODEBERG_TOKEN` for codeberg.org); the token goes to this API's host only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// A PEM bundle trusted for this forge in addition to the system roots (default:
    /// `github.ca_cert`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

/// `signing:` — the trust anchors of one repository: the keys its signatures must be made with,
/// and who may sign it keylessly.
///
/// It exists because a signature proves nothing unless the key (or the signer's identity) comes
/// from the user: never from the release. `None` fields inherit from `repository_overrides`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Signing {
    /// minisign public keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minisign: Option<Vec<MinisignKey>>,
    /// OpenPGP public key files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgp: Option<Vec<PgpKey>>,
    /// cosign PEM public key files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosign: Option<Vec<CosignKey>>,
    /// The signer workflow a keyless signature must come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The repository whose GitHub Actions may sign keylessly, instead of the mirrored one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

impl Signing {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Signing::default()
    }

    /// Field by field, `self` over `base`.
    pub fn over(&self, base: &Signing) -> Signing {
        Signing {
            minisign: self.minisign.clone().or_else(|| base.minisign.clone()),
            pgp: self.pgp.clone().or_else(|| base.pgp.clone()),
            cosign: self.cosign.clone().or_else(|| base.cosign.clone()),
            workflow: self.workflow.clone().or_else(|| base.workflow.clone()),
            repository: self.repository.clone().or_else(|| base.repository.clone()),
        }
    }
}

/// One watched repository. `None` fields inherit, see [`Config::repository_settings`].
///
/// It exists to carry per-repository choices exactly as written, so the normalised output shows
/// what the user set and the resolution rules stay in one function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repository {
    /// The forge's host; `None` is the `github:` section's GitHub (github.com by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The API its forge speaks (`forge:`, or found from `forges:` and the defaults).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forge: Option<ForgeKind>,
    /// Owner (user or organisation; a GitLab group path such as `group/sub`).
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// Free text for humans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether prereleases count as releases for this repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_prereleases: Option<bool>,
    /// Tag selection regex; its first capture group is the version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_filter: Option<TagFilter>,
    /// How this repository's tags are ordered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_strategy: Option<Strategy>,
    /// Pin: only this tag is wanted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// Asset selection for this repository (replaces the global list); from `asset_patterns`
    /// and/or the plan's `download.assets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_patterns: Option<Vec<AssetPattern>>,
    /// Also treat `alpha|beta|rc|...` tags as prereleases for this repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_prerelease_filtering: Option<bool>,
    /// The plan's per-repository `download.enabled`.
    #[serde(
        rename = "download",
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_repo_download"
    )]
    pub download_enabled: Option<bool>,
    /// This repository's cooldown (beats the override's and `settings.minimum_release_age`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_release_age: Option<Age>,
    /// Where its versions come from: releases (default) or tags.
    pub source: ReleaseSource,
    /// Trust anchors and keyless identity rules.
    #[serde(skip_serializing_if = "Signing::is_empty")]
    pub signing: Signing,
}

impl Repository {
    /// `owner/repo` (or `host/owner/repo` on another forge), the key used by
    /// `repository_overrides`, the version database and the output.
    pub fn full_name(&self) -> String {
        match &self.host {
            None => format!("{}/{}", self.owner, self.repo),
            Some(host) => format!("{host}/{}/{}", self.owner, self.repo),
        }
    }

    /// The repository's id (the loader checked its parts).
    pub fn id(&self) -> Result<RepoId, String> {
        RepoId::on(self.host.as_deref(), &self.owner, &self.repo)
    }
}

fn serialize_repo_download<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Block {
        enabled: Option<bool>,
    }
    Block { enabled: *v }.serialize(s)
}

/// `settings:` — the monitor's pacing and defaults.
///
/// It exists to keep the seed tool's keys and meanings: `max_releases_per_repo` is the page size
/// when listing releases, `rate_limit_delay` the least time between the starts of two API calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// The least time between the starts of two GitHub API calls (default 0: paced by the
    /// rate-limit headers and the adaptive limit alone).
    pub rate_limit_delay: Seconds,
    /// Releases listed per repository, 1..=1000 (default 10).
    pub max_releases_per_repo: u32,
    /// The last fallback for `include_prereleases` (default false).
    pub include_prereleases: bool,
    /// The most API calls (and repositories checked) at once, 1..=100 (default 32): the ceiling
    /// of the adaptive limit, which starts at 8, grows while answers are clean and fast and
    /// halves on a rate limit or a server error.
    pub concurrency: u32,
    /// The cooldown: a release younger than this is not adopted yet (default 0: none). A
    /// repository's own or its override's value wins.
    pub minimum_release_age: Age,
}

/// `github:` — where the API is and how long to wait for it.
///
/// It exists so GitHub Enterprise, test servers and custom CAs are configured in one place, and
/// the rate-limit wait has a cap (the seed tool slept without one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GithubSettings {
    /// API base URL without trailing slash (default `https://api.github.com`; env
    /// `GITHUB_API_URL` wins).
    pub api_url: ApiUrl,
    /// Extra CA certificate (PEM) to trust; env `SSL_CERT_FILE` when unset in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    /// Per-request timeout (default 30 s).
    pub timeout: Seconds,
    /// The longest a rate-limit pause may last before giving up (default 900 s).
    pub max_rate_limit_wait: Seconds,
    /// With a token, list releases through GraphQL, 50 repositories per query (default true);
    /// false keeps every call on REST (a GitHub Enterprise without GraphQL, or for comparison).
    pub graphql: bool,
    /// A GitHub App instead of a personal token (`github.app`, or the `GITHUB_APP_*`
    /// variables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<GithubApp>,
}

/// `github.app`: authenticate as a GitHub App installation (organisations that forbid personal
/// tokens). The private key is a [`Secret`]; the loader checks that it is an RSA PEM key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GithubApp {
    /// The App's id (`GITHUB_APP_ID` wins).
    pub id: Option<u64>,
    /// The private key, PEM (from `private_key_file`, `GITHUB_APP_PRIVATE_KEY` or
    /// `GITHUB_APP_PRIVATE_KEY_FILE`; printed as `***`).
    pub private_key: Option<Secret>,
    /// Where the key was read from, if from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_file: Option<PathBuf>,
    /// The installation to use; without it, each repository owner's installation is found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installation_id: Option<u64>,
}

/// `download:` — the downloader's settings.
///
/// It exists to hold both the seed tool's keys and the seed plan's additions in one canonical
/// form (`filters` folded into `asset_patterns`, `storage` into `s3_storage`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownloadSettings {
    /// Whether downloads are on by default (default false).
    pub enabled: bool,
    /// Where assets go (default `./downloads`; env `DOWNLOAD_DIR` wins).
    pub directory: PathBuf,
    /// The version database file (default `./version_db.json`; env `VERSION_DB_PATH` wins).
    pub version_db: PathBuf,
    /// Connect and read timeout of each asset transfer (default 300 s): how long a download may
    /// wait for its next bytes before it is retried or resumed.
    pub timeout: Seconds,
    /// Global asset selection; empty = every asset.
    pub asset_patterns: Vec<AssetPattern>,
    /// Download-level prerelease choice; `None` falls back to `settings.include_prereleases`.
    /// Also set by the plan's `version_strategy.pre_release`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_prereleases: Option<bool>,
    /// Also treat `alpha|beta|rc|pre|preview|...` tags as prereleases (default false).
    pub strict_prerelease_filtering: bool,
    /// Source archives GitHub generates for each tag.
    pub source_archives: SourceArchives,
    /// Verify downloads: always true (`false` is refused; printed for the seed tool's key).
    pub verify_downloads: bool,
    /// Delete old versions from the download directory (default false).
    pub cleanup_old_versions: bool,
    /// How many versions cleanup keeps (default 5, at least 1).
    pub keep_versions: u32,
    /// Connections transferring at once, across all files and pieces, 1..=64 (default 24).
    pub concurrency: u32,
    /// How large assets are fetched in ranged pieces.
    pub segments: Segments,
    /// Upload to S3 (the plan's `storage: {type: s3}` is folded in here).
    pub s3_storage: S3Storage,
    /// Upload to a WebDAV or plain HTTP server.
    pub http_storage: HttpStorage,
    /// Upload to Artifactory.
    pub artifactory_storage: ArtifactoryStorage,
    /// Per-repository overrides keyed by `owner/repo`.
    pub repository_overrides: BTreeMap<String, RepositoryOverride>,
    /// What verification is done (the plan's `verification:`).
    pub verification: Verification,
    /// Retry policy for failed downloads (the plan's `retry:`).
    pub retry: Retry,
    /// Default version strategy for all repositories (default auto).
    pub version_strategy: Strategy,
    /// Steps after a download (the plan's `post_download:`).
    pub post_download: PostDownload,
}

/// `download.segments:` — ranged pieces over several connections for large assets.
///
/// It exists because asset hosts limit each connection: one large file over one connection is
/// only as fast as that limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    /// Connections one asset may use, 1..=64 (default 16; 1 turns segmenting off). They come
    /// out of `download.concurrency`.
    pub connections: u32,
    /// Only assets of at least this many bytes are segmented (default 16 MiB).
    pub min_size: u64,
}

/// `source_archives:` — the `.tar.gz` / `.zip` GitHub generates from a tag.
///
/// It exists because many projects publish no binary assets and the source archive is all there
/// is; `fallback_only` fetches it only when no asset matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceArchives {
    /// Whether to fetch source archives at all (default true).
    pub enabled: bool,
    /// Which format (default tarball).
    pub prefer: ArchivePreference,
    /// Only when no release asset was selected (default true).
    pub fallback_only: bool,
}

impl Default for SourceArchives {
    fn default() -> Self {
        SourceArchives {
            enabled: true,
            prefer: ArchivePreference::Tarball,
            fallback_only: true,
        }
    }
}

/// `s3_storage:` — copy downloads to an S3 bucket.
///
/// It exists for the seed tool's S3 mode; credentials come from the AWS environment, never from
/// this file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct S3Storage {
    /// Whether uploads happen (default false).
    pub enabled: bool,
    /// Bucket (required when enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Key prefix (default `release-monitor/`).
    pub prefix: String,
    /// AWS region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// S3-compatible endpoint (MinIO...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

impl Default for S3Storage {
    fn default() -> Self {
        S3Storage {
            enabled: false,
            bucket: None,
            prefix: DEFAULT_PREFIX.to_string(),
            region: None,
            endpoint_url: None,
        }
    }
}

/// `http_storage:` — copy downloads to a WebDAV or plain HTTP server (PUT, GET, DELETE).
///
/// It exists for mirrors kept on servers that are not S3: Nexus raw repositories, nginx's dav
/// module, Apache mod_dav, rclone. `password` and `token` are [`Secret`]s.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpStorage {
    /// Whether uploads happen (default false).
    pub enabled: bool,
    /// The collection the mirror's layout goes under (https, or http on loopback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// User for basic auth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password for basic auth (redacted when printed; env `HTTP_STORAGE_PASSWORD` wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Bearer token (redacted when printed; env `HTTP_STORAGE_TOKEN` wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
}

pub(crate) const DEFAULT_PREFIX: &str = "release-monitor/";

/// `artifactory_storage:` — copy downloads (and, by default, the version database) to a generic
/// Artifactory repository.
///
/// It exists for the seed tool's Artifactory mode, with its keys and environment variables
/// (`ARTIFACTORY_*`, which win over the file). `password`, `api_key` and `access_token` are
/// [`Secret`]s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArtifactoryStorage {
    /// Whether uploads happen (default false).
    pub enabled: bool,
    /// Server URL (https, or http on loopback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Artifactory repository key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Path prefix (default `release-monitor/`).
    pub path_prefix: String,
    /// User for basic auth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password for basic auth (redacted when printed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// API key (redacted when printed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// Access token, sent as a bearer token (`ARTIFACTORY_ACCESS_TOKEN` only; redacted when
    /// printed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Secret>,
    /// Verify the server's TLS certificate (default true; `false` is warned about on every run).
    pub verify_ssl: bool,
}

/// The scheme of a version database kept in Artifactory: `artifactory://{repository}/{path}`,
/// on the server of `download.artifactory_storage` (or `ARTIFACTORY_URL`).
pub const ARTIFACTORY_SCHEME: &str = "artifactory://";

impl ArtifactoryStorage {
    /// The prefix as a folder path inside the repository: no leading slash, a trailing one
    /// unless it is empty (`release-monitor/`).
    pub fn folder(&self) -> String {
        let p = self.path_prefix.trim_matches('/');
        if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        }
    }

    /// Where the seed tool keeps the database when Artifactory is enabled:
    /// `artifactory://{repository}/{path_prefix}version_db.json`; `None` when it is not enabled.
    pub fn default_db_location(&self) -> Option<String> {
        let repository = self.repository.as_deref().filter(|_| self.enabled)?;
        Some(format!(
            "{ARTIFACTORY_SCHEME}{repository}/{}version_db.json",
            self.folder()
        ))
    }
}

impl Default for ArtifactoryStorage {
    fn default() -> Self {
        ArtifactoryStorage {
            enabled: false,
            base_url: None,
            repository: None,
            path_prefix: DEFAULT_PREFIX.to_string(),
            username: None,
            password: None,
            api_key: None,
            access_token: None,
            verify_ssl: true,
        }
    }
}

/// One `repository_overrides["owner/repo"]` entry. `None` fields do not override.
///
/// It exists because the seed tool lets a pipeline change per-repository download choices
/// (through the file or `REPOSITORY_OVERRIDES`) without editing the `repositories` list.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RepositoryOverride {
    /// Pin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// Asset selection (replaces the global list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_patterns: Option<Vec<AssetPattern>>,
    /// Source archive choice; keys not given are taken from `download.source_archives`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_archives: Option<SourceArchives>,
    /// Prerelease choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_prereleases: Option<bool>,
    /// Strict prerelease detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_prerelease_filtering: Option<bool>,
    /// Version strategy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_strategy: Option<Strategy>,
    /// Tag filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_filter: Option<TagFilter>,
    /// Cooldown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_release_age: Option<Age>,
    /// Trust anchors (a repository's own `signing` wins, field by field).
    #[serde(skip_serializing_if = "Signing::is_empty")]
    pub signing: Signing,
}

/// `verification:` — what "verified" means.
///
/// It exists to say it once: `checksum` compares with an upstream checksum when the release
/// publishes one; `signature` checks every signature and attestation the release offers against
/// the configured trust anchors; `require` says what an asset must have to be stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Check checksums: always true (`false` is refused; printed for the seed plan's key).
    pub checksum: bool,
    /// Check signatures, bundles and provenance (default false).
    pub signature: bool,
    /// Ask GitHub for artifact attestations (default: `signature`).
    pub attestations: bool,
    /// What an asset must have to be stored (default nothing).
    pub require: Require,
    /// A Sigstore `trusted_root.json` replacing the embedded roots.
    pub trusted_root: Option<PathBuf>,
}

impl Default for Verification {
    fn default() -> Self {
        Verification {
            checksum: true,
            signature: false,
            attestations: false,
            require: Require::Nothing,
            trusted_root: None,
        }
    }
}

/// `retry:` — how failed downloads are retried.
///
/// It exists because the seed tool retried every error forever-ish; this caps attempts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Retry {
    /// Attempts in total, at least 1 (default 3).
    pub max_attempts: u32,
    /// Base delay between attempts (default 5 s).
    pub delay: Seconds,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: 3,
            delay: Seconds::from_const(5.0),
        }
    }
}

/// `post_download:` — the plan's after-download steps, in canonical mapping form.
///
/// It exists so both of the plan's spellings (a list of single-key mappings or one mapping)
/// reach the downloader as one value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostDownload {
    /// Verify checksums after download: always true (`false` is refused; printed for the seed
    /// plan's key).
    pub verify_checksum: bool,
    /// Extract archives after download (default false).
    pub extract: bool,
    /// Caps on what one extraction may unpack (see [`ExtractLimits`]).
    pub extract_limits: ExtractLimits,
    /// Where to announce downloads (`slack`, or a webhook URL which is redacted when printed).
    pub notify: Vec<NotifyTarget>,
}

impl Default for PostDownload {
    fn default() -> Self {
        PostDownload {
            verify_checksum: true,
            extract: false,
            extract_limits: ExtractLimits::default(),
            notify: Vec::new(),
        }
    }
}

/// `post_download.extract_limits:` — how much one archive may unpack.
///
/// It exists so a decompression bomb (or a huge archive) fails its extraction while streaming,
/// long before it fills the disk; the limits are checked as bytes and entries arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExtractLimits {
    /// Most bytes of file content one archive may unpack to (default 4 GiB).
    pub max_bytes: u64,
    /// Most unpacked bytes per byte of archive (default 200).
    pub max_ratio: u32,
    /// Most entries (files, folders, links) one archive may hold (default 100 000).
    pub max_files: u32,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_bytes: 4 * 1024 * 1024 * 1024,
            max_ratio: 200,
            max_files: 100_000,
        }
    }
}

/// `notify:` — the notifications sent after a run that found or downloaded something.
///
/// It exists to hold every target in one canonical form: the section's own keys, the plan's
/// `post_download.notify` targets folded in, and the secrets the environment supplies
/// (`SLACK_WEBHOOK_URL`, `SMTP_PASSWORD`). Secrets serialise as `***`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifySettings {
    /// Which outcomes trigger a notification (default both `found` and `downloaded`).
    pub on: Vec<NotifyEvent>,
    /// The Slack incoming webhook, when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackNotify>,
    /// Generic webhooks that receive the JSON summary.
    pub webhooks: Vec<WebhookNotify>,
    /// E-mail over SMTP, when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailNotify>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            on: vec![NotifyEvent::Found, NotifyEvent::Downloaded],
            slack: None,
            webhooks: Vec::new(),
            email: None,
        }
    }
}

impl NotifySettings {
    /// True when at least one target is configured.
    pub fn any_target(&self) -> bool {
        self.slack.is_some() || !self.webhooks.is_empty() || self.email.is_some()
    }
}

/// `notify.slack` — a Slack incoming webhook.
///
/// It exists because Slack is the seed plan's notification channel (`notify: slack`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlackNotify {
    /// The incoming-webhook URL (a secret; env `SLACK_WEBHOOK_URL` wins). `None` when neither
    /// the file nor the environment gives one: sending then fails with that reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<Secret>,
    /// Overrides the webhook's channel (legacy webhooks only; Slack apps ignore it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Overrides the poster's name (legacy webhooks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// One `notify.webhooks` entry — a URL that receives the run summary as JSON.
///
/// It exists for chat systems and automation other than Slack; `secret` lets the receiver check
/// that the body came from us.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookNotify {
    /// Where the JSON is POSTed (a secret: shown as `***`).
    pub url: Secret,
    /// HMAC-SHA256 key for `X-Release-Monitor-Signature` (a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// `notify.email` — mail over SMTP.
///
/// It exists because the seed system notifies by e-mail. STARTTLS is required unless the host is
/// a loopback address (a local relay or a test sink).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailNotify {
    /// The SMTP server.
    pub smtp_host: String,
    /// Its submission port (default 587).
    pub smtp_port: u16,
    /// User for SMTP AUTH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password for SMTP AUTH (a secret; env `SMTP_PASSWORD` wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// The sender, `addr` or `Name <addr>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// Require STARTTLS (default true; `false` only for a loopback host).
    pub starttls: bool,
    /// The subject's prefix (default `[release-monitor]`).
    pub subject: String,
}

/// Everything that applies to one repository once inheritance is resolved.
///
/// It exists so the precedence rules live in one tested function and callers never walk the
/// repository / override / download / settings chain themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveRepo {
    /// The forge's host (`None`: the `github:` section's GitHub).
    pub host: Option<String>,
    /// Owner (or GitLab group path).
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// repository → override → download → settings.
    pub include_prereleases: bool,
    /// repository → override → download.
    pub strict_prerelease_filtering: bool,
    /// repository → override → download.version_strategy (default auto).
    pub version_strategy: Strategy,
    /// repository → override.
    pub tag_filter: Option<TagFilter>,
    /// repository → override.
    pub target_version: Option<String>,
    /// repository → override → download (each level replaces, never merges).
    pub asset_patterns: Vec<AssetPattern>,
    /// repository's `download.enabled` → download.enabled.
    pub download_enabled: bool,
    /// override → download.
    pub source_archives: SourceArchives,
    /// repository → override → settings (zero: no cooldown).
    pub minimum_release_age: Age,
    /// The repository's `source`.
    pub source: ReleaseSource,
    /// repository's `signing` → override's, field by field.
    pub signing: Signing,
}

impl EffectiveRepo {
    /// The repository's id.
    pub fn id(&self) -> Result<RepoId, String> {
        RepoId::on(self.host.as_deref(), &self.owner, &self.repo)
    }

    /// The versioning rules (strategy and `tag_filter`) the version engine applies to this
    /// repository's tags.
    pub fn scheme(&self) -> crate::version::Scheme {
        crate::version::Scheme::new(
            self.version_strategy,
            self.tag_filter.as_ref().map(|f| f.regex().clone()),
        )
    }
}

impl Config {
    /// The configured repository `id` (names compare without case, as forges do).
    pub fn find_repository(&self, id: &RepoId) -> Option<&Repository> {
        let key = id.to_string();
        self.repositories
            .iter()
            .find(|r| r.full_name().eq_ignore_ascii_case(&key))
    }

    /// The forge of `host` (`None` for the `github:` section's GitHub, which is not listed).
    pub fn forge(&self, host: &str) -> Option<&Forge> {
        self.forges.get(host)
    }

    /// The `repository_overrides` entry for `key` (`owner/repo` or `host/owner/repo`): an
    /// exact key first, then one that differs only in case (names are case-insensitive).
    pub fn repository_override(&self, key: &str) -> Option<&RepositoryOverride> {
        self.download.repository_overrides.get(key).or_else(|| {
            self.download
                .repository_overrides
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    /// Resolves what applies to `repo` (see [`EffectiveRepo`] for each field's precedence).
    pub fn repository_settings(&self, repo: &Repository) -> EffectiveRepo {
        let ov = self.repository_override(&repo.full_name());
        let d = &self.download;
        EffectiveRepo {
            host: repo.host.clone(),
            owner: repo.owner.clone(),
            repo: repo.repo.clone(),
            include_prereleases: repo
                .include_prereleases
                .or_else(|| ov.and_then(|o| o.include_prereleases))
                .or(d.include_prereleases)
                .unwrap_or(self.settings.include_prereleases),
            strict_prerelease_filtering: repo
                .strict_prerelease_filtering
                .or_else(|| ov.and_then(|o| o.strict_prerelease_filtering))
                .unwrap_or(d.strict_prerelease_filtering),
            version_strategy: repo
                .version_strategy
                .or_else(|| ov.and_then(|o| o.version_strategy))
                .unwrap_or(d.version_strategy),
            tag_filter: repo
                .tag_filter
                .clone()
                .or_else(|| ov.and_then(|o| o.tag_filter.clone())),
            target_version: repo
                .target_version
                .clone()
                .or_else(|| ov.and_then(|o| o.target_version.clone())),
            asset_patterns: repo
                .asset_patterns
                .clone()
                .or_else(|| ov.and_then(|o| o.asset_patterns.clone()))
                .unwrap_or_else(|| d.asset_patterns.clone()),
            download_enabled: repo.download_enabled.unwrap_or(d.enabled),
            source_archives: ov
                .and_then(|o| o.source_archives)
                .unwrap_or(d.source_archives),
            minimum_release_age: repo
                .minimum_release_age
                .or_else(|| ov.and_then(|o| o.minimum_release_age))
                .unwrap_or(self.settings.minimum_release_age),
            source: repo.source,
            signing: match ov {
                Some(o) => repo.signing.over(&o.signing),
                None => repo.signing.clone(),
            },
        }
    }
}
