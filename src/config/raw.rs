//! The configuration as written: every key optional, every spelling accepted.
//!
//! These types only mirror the file (and `REPOSITORY_OVERRIDES`); `normalize` turns them into the
//! public [`super::Config`]. Keeping the two apart lets the file accept several spellings of one
//! thing (`asset_patterns` / `filters`, `s3_storage` / `storage`, a strategy as a string or as a
//! mapping) while the rest of the program sees one canonical form.

use std::collections::BTreeMap;
use std::fmt;

use crate::version::Strategy;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::pattern::{AssetPattern, FilterEntry};
use super::values::{
    Age, AlwaysOn, AppKeyFile, ArchivePreference, Bounded, ByteCount, CosignKeyFile, FullName,
    MinisignKeyValue, NonEmpty, NonEmptyPath, NonNegSecs, PgpKeyFile, PosSecs, ReleaseSource,
    RepoName, Require, SecureUrl, StorageType, TagFilter, TrustedRootFile, WorkflowPath,
    parse_strategy,
};
use super::values::{
    ApiUrl, EnvSecret, EnvWebhookUrl, FileSecret, MailAddress, NotifyEvent, REDACTED, Secret,
    WebhookUrl, check_webhook_url, is_loopback_host,
};
use super::values::{EnvName, ForgeKind, HostKey, ListenAddr, Owner, RepoUrl, is_known_forge_host};

/// The whole file. The root must be a mapping; see [`RawRoot`].
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawConfig {
    pub repositories: Option<Vec<RawRepository>>,
    pub settings: Option<RawSettings>,
    pub github: Option<RawGithub>,
    pub download: Option<RawDownload>,
    pub notify: Option<RawNotify>,
    pub forges: Option<BTreeMap<HostKey, RawForge>>,
    pub serve: Option<RawServe>,
}

/// `serve:`: the long-running service.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawServe {
    pub listen: Option<ListenAddr>,
    pub interval: Option<Age>,
    pub token_env: Option<EnvName>,
    pub stale_after: Option<Bounded<1, 1000>>,
    pub public_url: Option<SecureUrl>,
    pub tls: Option<RawServeTls>,
}

/// `serve.tls`: the certificate chain and key the service presents.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawServeTls {
    pub cert: Option<NonEmptyPath>,
    pub key: Option<NonEmptyPath>,
}

/// One `forges:` entry: how to reach the forge at its host.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawForge {
    #[serde(rename = "type")]
    pub kind: ForgeKind,
    pub api_url: Option<ApiUrl>,
    pub token_env: Option<EnvName>,
    pub ca_cert: Option<NonEmptyPath>,
}

/// Why the root could not be read as a mapping; turned into a clear error by the loader.
pub(crate) const EMPTY_ROOT: &str =
    "the configuration is empty; expected a mapping with at least a `repositories` list";

/// Wrapper that refuses an empty document or a non-mapping root with a clear message instead of
/// silently using defaults for everything.
pub(crate) struct RawRoot(pub RawConfig);

impl<'de> Deserialize<'de> for RawRoot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRoot;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping (`repositories:`, `settings:`, `download:` ...)")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRoot, A::Error> {
                RawConfig::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawRoot)
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawRoot, E> {
                Err(E::custom(EMPTY_ROOT))
            }
            fn visit_none<E: de::Error>(self) -> Result<RawRoot, E> {
                Err(E::custom(EMPTY_ROOT))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One `repositories` entry (or one `REPOSITORY_OVERRIDES` array element): a mapping, or the
/// shorthand string `owner/repo`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawRepository {
    pub owner: String,
    pub repo: String,
    /// The forge's host (from `host:` or `url:`); `None` with `forge:` unset is github.com.
    pub host: Option<String>,
    pub forge: Option<ForgeKind>,
    pub description: Option<String>,
    pub include_prereleases: Option<bool>,
    pub tag_filter: Option<TagFilter>,
    pub version_strategy: Option<Strategy>,
    pub target_version: Option<String>,
    pub asset_patterns: Option<Vec<AssetPattern>>,
    pub strict_prerelease_filtering: Option<bool>,
    pub download: Option<RawRepoDownload>,
    pub signing: Option<RawSigning>,
    pub minimum_release_age: Option<Age>,
    pub source: Option<ReleaseSource>,
}

#[derive(Deserialize)]
struct RawRepositoryMap {
    owner: Option<Owner>,
    repo: Option<RepoName>,
    url: Option<RepoUrl>,
    forge: Option<ForgeKind>,
    host: Option<HostKey>,
    description: Option<String>,
    include_prereleases: Option<bool>,
    tag_filter: Option<TagFilter>,
    version_strategy: Option<Strategy>,
    target_version: Option<NonEmpty>,
    asset_patterns: Option<Vec<AssetPattern>>,
    strict_prerelease_filtering: Option<bool>,
    download: Option<RawRepoDownload>,
    signing: Option<RawSigning>,
    minimum_release_age: Option<Age>,
    source: Option<ReleaseSource>,
}

impl<'de> Deserialize<'de> for RawRepository {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRepository;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a mapping with `owner` and `repo` (or `url`), or a string `owner/repo`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRepository, E> {
                // `owner/repo` on github.com, or `host/owner…/repo` on a known forge.
                let id: crate::repo::RepoId = v.parse().map_err(E::custom)?;
                if let Some(host) = id.host()
                    && !is_known_forge_host(host)
                {
                    return Err(E::custom(
                        "its host matches no entry of `forges:` and no default forge; add it \
                         under `forges:` or write a mapping with `forge:`",
                    ));
                }
                Ok(RawRepository {
                    owner: id.owner().to_string(),
                    repo: id.repo().to_string(),
                    host: id.host().map(str::to_string),
                    ..RawRepository::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRepository, A::Error> {
                let m = RawRepositoryMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let (owner, repo, host) = match (m.url, m.owner, m.repo) {
                    (Some(url), None, None) => {
                        if m.host.is_some() {
                            return Err(de::Error::custom(
                                "`host` and `url` both name the host; give one",
                            ));
                        }
                        if m.forge.is_none() && !is_known_forge_host(&url.host) {
                            // Values are never quoted in config errors (a secret pasted
                            // into the wrong key must not be printed): the position says
                            // which entry.
                            return Err(de::Error::custom(
                                "url: its host matches no entry of `forges:` and no default \
                                 forge (github.com, gitlab.com, codeberg.org); add it under \
                                 `forges:` or set `forge:`",
                            ));
                        }
                        (url.owner, url.repo, Some(url.host))
                    }
                    (Some(_), _, _) => {
                        return Err(de::Error::custom(
                            "`url` names the project; give either `url` or `owner` and `repo`",
                        ));
                    }
                    (None, Some(owner), Some(repo)) => {
                        let host = m.host.map(|h| h.0);
                        if let Some(h) = &host
                            && m.forge.is_none()
                            && !is_known_forge_host(h)
                        {
                            return Err(de::Error::custom(
                                "host: it matches no entry of `forges:` and no default forge; \
                                 add it under `forges:` or set `forge:`",
                            ));
                        }
                        // Only GitLab nests groups (a host's forge is checked once known).
                        let nests = owner.0.contains('/');
                        let gitlab = m.forge == Some(ForgeKind::Gitlab)
                            || (m.forge.is_none() && host.is_some());
                        if nests && !gitlab {
                            return Err(de::Error::custom(
                                "owner: a group path (`a/b`) is GitLab's only (set `forge: \
                                 gitlab`, or write the owner as one name)",
                            ));
                        }
                        (owner.0, repo.0, host)
                    }
                    (None, None, _) => return Err(de::Error::missing_field("owner")),
                    (None, Some(_), None) => return Err(de::Error::missing_field("repo")),
                };
                Ok(RawRepository {
                    owner,
                    repo,
                    host,
                    forge: m.forge,
                    description: m.description,
                    include_prereleases: m.include_prereleases,
                    tag_filter: m.tag_filter,
                    version_strategy: m.version_strategy,
                    target_version: m.target_version.map(|t| t.0),
                    asset_patterns: m.asset_patterns,
                    strict_prerelease_filtering: m.strict_prerelease_filtering,
                    download: m.download,
                    signing: m.signing,
                    minimum_release_age: m.minimum_release_age,
                    source: m.source,
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `signing:` of a repository (or of its `repository_overrides` entry): its trust anchors.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawSigning {
    pub minisign: Option<Vec<MinisignKeyValue>>,
    pub pgp: Option<Vec<PgpKeyFile>>,
    pub cosign: Option<Vec<CosignKeyFile>>,
    pub workflow: Option<WorkflowPath>,
    pub repository: Option<FullName>,
}

impl RawSigning {
    /// Field-by-field merge: values in `over` win.
    pub fn merged(self, over: RawSigning) -> RawSigning {
        RawSigning {
            minisign: over.minisign.or(self.minisign),
            pgp: over.pgp.or(self.pgp),
            cosign: over.cosign.or(self.cosign),
            workflow: over.workflow.or(self.workflow),
            repository: over.repository.or(self.repository),
        }
    }
}

/// The seed plan's per-repository `download: {enabled, assets: [{pattern}]}` block.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawRepoDownload {
    pub enabled: Option<bool>,
    pub assets: Option<Vec<FilterEntry>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawSettings {
    pub rate_limit_delay: Option<NonNegSecs>,
    pub max_releases_per_repo: Option<Bounded<1, 1000>>,
    pub include_prereleases: Option<bool>,
    pub concurrency: Option<Bounded<1, 100>>,
    pub minimum_release_age: Option<Age>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawGithub {
    pub api_url: Option<ApiUrl>,
    pub ca_cert: Option<NonEmptyPath>,
    pub timeout: Option<PosSecs>,
    pub max_rate_limit_wait: Option<NonNegSecs>,
    pub graphql: Option<bool>,
    pub app: Option<RawGithubApp>,
}

/// `github.app`: a GitHub App instead of a personal token.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawGithubApp {
    pub id: Option<u64>,
    pub private_key_file: Option<AppKeyFile>,
    pub installation_id: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawDownload {
    pub enabled: Option<bool>,
    pub directory: Option<NonEmptyPath>,
    pub version_db: Option<NonEmptyPath>,
    pub timeout: Option<PosSecs>,
    pub asset_patterns: Option<Vec<AssetPattern>>,
    pub filters: Option<Vec<FilterEntry>>,
    pub include_prereleases: Option<bool>,
    pub strict_prerelease_filtering: Option<bool>,
    pub source_archives: Option<RawSourceArchives>,
    /// Only checked: `true` is what always happens, `false` is refused.
    #[serde(rename = "verify_downloads")]
    pub _verify_downloads: Option<AlwaysOn>,
    pub cleanup_old_versions: Option<bool>,
    pub keep_versions: Option<Bounded<1, { u32::MAX }>>,
    pub concurrency: Option<Bounded<1, 64>>,
    pub segments: Option<RawSegments>,
    pub s3_storage: Option<RawS3Storage>,
    pub http_storage: Option<RawHttpStorage>,
    pub artifactory_storage: Option<RawArtifactory>,
    pub repository_overrides: Option<BTreeMap<FullName, RawOverride>>,
    pub verification: Option<RawVerification>,
    pub retry: Option<RawRetry>,
    pub storage: Option<RawStorage>,
    pub version_strategy: Option<RawStrategyBlock>,
    pub post_download: Option<RawPostDownload>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawSegments {
    pub connections: Option<Bounded<1, 64>>,
    pub min_size: Option<ByteCount>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawSourceArchives {
    pub enabled: Option<bool>,
    pub prefer: Option<ArchivePreference>,
    pub fallback_only: Option<bool>,
}

impl RawSourceArchives {
    /// Field-by-field merge: values in `over` win.
    pub fn merged(self, over: RawSourceArchives) -> RawSourceArchives {
        RawSourceArchives {
            enabled: over.enabled.or(self.enabled),
            prefer: over.prefer.or(self.prefer),
            fallback_only: over.fallback_only.or(self.fallback_only),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "RawS3Map")]
pub(crate) struct RawS3Storage {
    pub enabled: Option<bool>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

#[derive(Deserialize)]
struct RawS3Map {
    enabled: Option<bool>,
    bucket: Option<NonEmpty>,
    prefix: Option<String>,
    region: Option<NonEmpty>,
    #[serde(alias = "endpoint")]
    endpoint_url: Option<SecureUrl>,
}

impl TryFrom<RawS3Map> for RawS3Storage {
    type Error = String;
    fn try_from(m: RawS3Map) -> Result<Self, String> {
        if m.enabled == Some(true) && m.bucket.is_none() {
            return Err("`bucket` is required when `enabled` is true".to_string());
        }
        Ok(RawS3Storage {
            enabled: m.enabled,
            bucket: m.bucket.map(|b| b.0),
            prefix: m.prefix,
            region: m.region.map(|r| r.0),
            endpoint_url: m.endpoint_url.map(|u| u.0),
        })
    }
}

/// `download.http_storage`, checked as a whole: one way to authenticate, a URL when enabled.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawHttpStorageMap")]
pub(crate) struct RawHttpStorage {
    pub enabled: Option<bool>,
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub token: Option<Secret>,
}

#[derive(Deserialize)]
struct RawHttpStorageMap {
    enabled: Option<bool>,
    url: Option<SecureUrl>,
    username: Option<NonEmpty>,
    password: Option<EnvSecret>,
    token: Option<EnvSecret>,
}

impl TryFrom<RawHttpStorageMap> for RawHttpStorage {
    type Error = String;
    fn try_from(m: RawHttpStorageMap) -> Result<Self, String> {
        if m.enabled == Some(true) && m.url.is_none() {
            return Err("`url` is required when `enabled` is true".to_string());
        }
        let password = m.password.and_then(|p| p.0);
        let token = m.token.and_then(|t| t.0);
        if token.is_some() && (m.username.is_some() || password.is_some()) {
            return Err(
                "give either `token` (a bearer token) or `username` and `password`, not both"
                    .to_string(),
            );
        }
        Ok(RawHttpStorage {
            enabled: m.enabled,
            url: m.url.map(|u| u.0),
            username: m.username.map(|u| u.0),
            password,
            token,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(try_from = "RawArtifactoryMap")]
pub(crate) struct RawArtifactory {
    pub enabled: Option<bool>,
    pub base_url: Option<String>,
    pub repository: Option<String>,
    pub path_prefix: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub api_key: Option<Secret>,
    pub verify_ssl: Option<bool>,
}

#[derive(Deserialize)]
struct RawArtifactoryMap {
    enabled: Option<bool>,
    base_url: Option<SecureUrl>,
    repository: Option<NonEmpty>,
    path_prefix: Option<String>,
    username: Option<String>,
    password: Option<Secret>,
    api_key: Option<Secret>,
    verify_ssl: Option<bool>,
}

impl TryFrom<RawArtifactoryMap> for RawArtifactory {
    type Error = String;
    fn try_from(m: RawArtifactoryMap) -> Result<Self, String> {
        Ok(RawArtifactory {
            enabled: m.enabled,
            base_url: m.base_url.map(|u| u.0),
            repository: m.repository.map(|r| r.0),
            path_prefix: m.path_prefix,
            username: m.username,
            password: m.password,
            api_key: m.api_key,
            verify_ssl: m.verify_ssl,
        })
    }
}

/// One `repository_overrides` value (file or `REPOSITORY_OVERRIDES` object).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawOverride {
    pub target_version: Option<NonEmpty>,
    pub asset_patterns: Option<Vec<AssetPattern>>,
    pub filters: Option<Vec<FilterEntry>>,
    pub source_archives: Option<RawSourceArchives>,
    pub include_prereleases: Option<bool>,
    pub strict_prerelease_filtering: Option<bool>,
    pub version_strategy: Option<Strategy>,
    pub tag_filter: Option<TagFilter>,
    pub signing: Option<RawSigning>,
    pub minimum_release_age: Option<Age>,
}

impl RawOverride {
    /// Field-by-field merge: values in `over` win (the environment over the file).
    pub fn merged(self, over: RawOverride) -> RawOverride {
        let source_archives = match (self.source_archives, over.source_archives) {
            (Some(a), Some(b)) => Some(a.merged(b)),
            (a, b) => b.or(a),
        };
        // A pattern list is one value: whichever source gives one (in either spelling) wins.
        let (asset_patterns, filters) = if over.asset_patterns.is_some() || over.filters.is_some() {
            (over.asset_patterns, over.filters)
        } else {
            (self.asset_patterns, self.filters)
        };
        let signing = match (self.signing, over.signing) {
            (Some(a), Some(b)) => Some(a.merged(b)),
            (a, b) => b.or(a),
        };
        RawOverride {
            signing,
            target_version: over.target_version.or(self.target_version),
            asset_patterns,
            filters,
            source_archives,
            include_prereleases: over.include_prereleases.or(self.include_prereleases),
            strict_prerelease_filtering: over
                .strict_prerelease_filtering
                .or(self.strict_prerelease_filtering),
            version_strategy: over.version_strategy.or(self.version_strategy),
            tag_filter: over.tag_filter.or(self.tag_filter),
            minimum_release_age: over.minimum_release_age.or(self.minimum_release_age),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawVerification {
    /// Only checked: `true` is what always happens, `false` is refused.
    #[serde(rename = "checksum")]
    pub _checksum: Option<AlwaysOn>,
    pub signature: Option<bool>,
    pub attestations: Option<bool>,
    pub require: Option<Require>,
    pub trusted_root: Option<TrustedRootFile>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawRetry {
    pub max_attempts: Option<Bounded<1, { u32::MAX }>>,
    pub delay: Option<NonNegSecs>,
}

/// The seed plan's `storage: {type: s3, bucket, prefix}`; folded into `s3_storage`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawStorageMap")]
pub(crate) struct RawStorage {
    pub kind: StorageType,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

#[derive(Deserialize)]
struct RawStorageMap {
    #[serde(rename = "type")]
    kind: Option<StorageType>,
    bucket: Option<NonEmpty>,
    prefix: Option<String>,
    region: Option<NonEmpty>,
    #[serde(alias = "endpoint")]
    endpoint_url: Option<SecureUrl>,
}

impl TryFrom<RawStorageMap> for RawStorage {
    type Error = String;
    fn try_from(m: RawStorageMap) -> Result<Self, String> {
        let kind = m.kind.unwrap_or(StorageType::Local);
        if kind == StorageType::S3 && m.bucket.is_none() {
            return Err("`bucket` is required when `type` is s3".to_string());
        }
        Ok(RawStorage {
            kind,
            bucket: m.bucket.map(|b| b.0),
            prefix: m.prefix,
            region: m.region.map(|r| r.0),
            endpoint_url: m.endpoint_url.map(|u| u.0),
        })
    }
}

/// `download.version_strategy`: a strategy name, or the plan's `{type: semver, pre_release: false}`.
#[derive(Debug, Default)]
pub(crate) struct RawStrategyBlock {
    pub strategy: Option<Strategy>,
    pub pre_release: Option<bool>,
}

#[derive(Deserialize)]
struct RawStrategyMap {
    #[serde(rename = "type")]
    kind: Option<Strategy>,
    pre_release: Option<bool>,
}

impl<'de> Deserialize<'de> for RawStrategyBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawStrategyBlock;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a strategy name or a mapping `{type, pre_release}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawStrategyBlock, E> {
                Ok(RawStrategyBlock {
                    strategy: Some(parse_strategy(v)?),
                    pre_release: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawStrategyBlock, A::Error> {
                let m = RawStrategyMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawStrategyBlock {
                    strategy: m.kind,
                    pre_release: m.pre_release,
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `download.post_download`: the plan's list of single-key mappings, or one mapping.
#[derive(Debug, Default)]
pub(crate) struct RawPostDownload {
    pub verify_checksum: Option<AlwaysOn>,
    pub extract: Option<bool>,
    pub extract_limits: Option<RawExtractLimits>,
    pub notify: Option<Vec<String>>,
}

/// `post_download.extract_limits`: caps that make an archive bomb fail cleanly.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawExtractLimits {
    pub max_bytes: Option<ByteCount>,
    pub max_ratio: Option<Bounded<1, { u32::MAX }>>,
    pub max_files: Option<Bounded<1, { u32::MAX }>>,
}

#[derive(Deserialize)]
struct RawPostDownloadMap {
    verify_checksum: Option<AlwaysOn>,
    extract: Option<bool>,
    extract_limits: Option<RawExtractLimits>,
    notify: Option<Notify>,
}

impl RawPostDownload {
    fn absorb(&mut self, m: RawPostDownloadMap) {
        if m.verify_checksum.is_some() {
            self.verify_checksum = m.verify_checksum;
        }
        if m.extract.is_some() {
            self.extract = m.extract;
        }
        if m.extract_limits.is_some() {
            self.extract_limits = m.extract_limits;
        }
        if let Some(n) = m.notify {
            self.notify.get_or_insert_with(Vec::new).extend(n.0);
        }
    }
}

impl<'de> Deserialize<'de> for RawPostDownload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPostDownload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping or a list of single-key mappings")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawPostDownload, A::Error> {
                let mut out = RawPostDownload::default();
                out.absorb(RawPostDownloadMap::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )?);
                Ok(out)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPostDownload, A::Error> {
                let mut out = RawPostDownload::default();
                while let Some(item) = seq.next_element::<RawPostDownloadMap>()? {
                    out.absorb(item);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `notify`: one target or a list of targets.
struct Notify(Vec<String>);

impl<'de> Deserialize<'de> for Notify {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Notify;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a notification target (`slack`, a webhook URL) or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Notify, E> {
                Ok(Notify(vec![notify_target(v).map_err(E::custom)?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Notify, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<NotifyTargetText>()? {
                    out.push(item.0);
                }
                Ok(Notify(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Checks one `post_download.notify` target: `slack`, `email`, a webhook URL, or `***` (a URL
/// redacted by `config check`, kept so that output reloads; it is warned about and not used).
fn notify_target(v: &str) -> Result<String, String> {
    let v = v.trim();
    match v {
        "" => Err("a notification target must not be empty".to_string()),
        "slack" | "email" | REDACTED => Ok(v.to_string()),
        url if url.contains("://") => check_webhook_url(url).map(|()| url.to_string()),
        other => Err(format!(
            "unknown notification target `{other}`, expected `slack`, `email` or a webhook URL \
             (https://...)"
        )),
    }
}

/// One element of a `notify` list, checked by [`notify_target`].
struct NotifyTargetText(String);

impl<'de> Deserialize<'de> for NotifyTargetText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        notify_target(&s)
            .map(NotifyTargetText)
            .map_err(de::Error::custom)
    }
}

/// The top-level `notify:` section.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawNotify {
    pub on: Option<Vec<NotifyEvent>>,
    pub slack: Option<RawSlack>,
    pub webhooks: Option<Vec<RawWebhook>>,
    pub email: Option<RawEmail>,
}

/// `notify.slack`; `slack: {}` enables Slack with the URL from `SLACK_WEBHOOK_URL`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawSlack {
    pub webhook_url: Option<EnvWebhookUrl>,
    pub channel: Option<NonEmpty>,
    pub username: Option<NonEmpty>,
}

/// One `notify.webhooks` entry.
#[derive(Debug, Deserialize)]
pub(crate) struct RawWebhook {
    pub url: WebhookUrl,
    pub secret: Option<FileSecret>,
}

/// `notify.email`, checked as a whole: plain SMTP only for a loopback host.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawEmailMap")]
pub(crate) struct RawEmail {
    pub smtp_host: String,
    pub smtp_port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
    pub starttls: Option<bool>,
    pub subject: Option<String>,
}

#[derive(Deserialize)]
struct RawEmailMap {
    smtp_host: NonEmpty,
    smtp_port: Option<Bounded<1, 65535>>,
    username: Option<NonEmpty>,
    password: Option<EnvSecret>,
    from: MailAddress,
    to: Vec<MailAddress>,
    starttls: Option<bool>,
    subject: Option<NonEmpty>,
}

impl TryFrom<RawEmailMap> for RawEmail {
    type Error = String;
    fn try_from(m: RawEmailMap) -> Result<Self, String> {
        let host = m.smtp_host.0.trim().to_string();
        if m.starttls == Some(false) && !is_loopback_host(&host) {
            return Err(format!(
                "`starttls: false` sends mail and passwords in clear text; it is only allowed \
                 for a loopback `smtp_host` (127.0.0.0/8, ::1, localhost), not {host:?}"
            ));
        }
        if m.to.is_empty() {
            return Err("`to` must list at least one address".to_string());
        }
        Ok(RawEmail {
            smtp_host: host,
            smtp_port: m.smtp_port.map(|p| u16::try_from(p.0).unwrap_or(u16::MAX)),
            username: m.username.map(|u| u.0),
            password: m.password.and_then(|p| p.0),
            from: m.from.0,
            to: m.to.into_iter().map(|t| t.0).collect(),
            starttls: m.starttls,
            subject: m.subject.map(|s| s.0),
        })
    }
}
