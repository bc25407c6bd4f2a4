//! The scenario: what the fake GitHub serves, as written in YAML/JSON or built in Rust.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;
use crate::fault::Fault;

/// Everything the fake GitHub serves: repositories with their releases and assets, the token it
/// accepts, the rate-limit budget and the faults to inject.
///
/// It exists so that a test (or a person trying release-monitor offline) describes the world in
/// one value, read from a YAML/JSON file or built in Rust, instead of scripting HTTP responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The one token the server accepts. When set, a request carrying any other
    /// `Authorization` gets 401 "Bad credentials", and private repositories and drafts are
    /// visible only with this token. When unset, tokens are ignored and private repositories
    /// answer 404 to everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The starting primary rate-limit budget (resource `core`).
    #[serde(default)]
    pub rate_limit: RateLimit,
    /// The repositories, in any order.
    #[serde(default)]
    pub repositories: Vec<Repository>,
    /// Faults injected into matching requests; the first matching fault with uses left applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// A GitHub App the server knows: JWTs signed with its key get installation tokens, which
    /// are then accepted like [`Scenario::token`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<App>,
    /// Which forge's API the server speaks (default `github`): `gitlab` serves API v4 under
    /// `/api/v4` (nested groups, link assets on the asset origin, upcoming releases,
    /// `RateLimit-*` headers, `PRIVATE-TOKEN` or bearer), `gitea` serves API v1 under
    /// `/api/v1` (attachments downloaded from the API's own host).
    #[serde(default, skip_serializing_if = "Forge::is_github")]
    pub forge: Forge,
}

/// The API a fake server speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forge {
    /// GitHub's REST and GraphQL APIs.
    #[default]
    Github,
    /// GitLab's API v4.
    Gitlab,
    /// Gitea's (and Forgejo's) API v1.
    Gitea,
}

impl Forge {
    fn is_github(&self) -> bool {
        *self == Forge::Github
    }
}

/// A GitHub App: `POST /app/installations/{id}/access_tokens` and
/// `GET /repos/{owner}/{repo}/installation` answer requests carrying a valid RS256 JWT issued by
/// it (`iss` = its id, not expired), as GitHub's App endpoints do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// The App id (the JWT's `iss`).
    pub id: u64,
    /// Its public key, PEM (the JWT is verified with it).
    pub public_key: String,
    /// Installation id by owner (case-insensitive): where the App is installed.
    pub installations: std::collections::BTreeMap<String, u64>,
    /// How long an installation token lives, in seconds (default 3600, as on GitHub).
    #[serde(default = "default_token_ttl")]
    pub token_ttl: u64,
}

fn default_token_ttl() -> u64 {
    3600
}

/// The primary rate-limit budget, so tests can check that clients read and respect the
/// `X-RateLimit-*` headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// `X-RateLimit-Limit` (default 5000).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// Requests left at start (default: `limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
    /// Seconds from server start (or from `set_scenario`) until the budget resets (default 3600).
    #[serde(default = "default_reset_in")]
    pub reset_in: u64,
}

fn default_limit() -> u32 {
    5000
}

fn default_reset_in() -> u64 {
    3600
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            limit: default_limit(),
            remaining: None,
            reset_in: default_reset_in(),
        }
    }
}

/// One repository `owner/repo` and its releases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    /// The owner (user or organisation) login.
    pub owner: String,
    /// The repository name.
    pub repo: String,
    /// A private repository answers 404 unless the request carries the scenario's token.
    #[serde(default)]
    pub private: bool,
    /// Forces this status (e.g. 404, 401, 500) on every API request under `/repos/{owner}/{repo}`,
    /// with a GitHub-shaped error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Tags without a release, newest first; `GET /repos/{o}/{r}/tags` lists them, then the
    /// releases' tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Releases newest first, as GitHub lists them; the order is kept.
    #[serde(default)]
    pub releases: Vec<Release>,
    /// Artifact attestations served by `GET /repos/{o}/{r}/attestations/sha256:{hex}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<Attestation>,
}

/// A git tag that has no release (projects that only push tags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    /// The tag name.
    pub name: String,
    /// The commit it points at (default: derived from the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
}

/// One artifact attestation: a Sigstore bundle for a subject digest, as GitHub stores them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The subject's digest, `sha256:<hex>` (what the endpoint is asked for).
    pub digest: String,
    /// The Sigstore bundle, served as `bundle`. `None` serves only a `bundle_url`, as newer
    /// API versions may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<serde_json::Value>,
}

/// One release of a repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The git tag, e.g. `v1.2.0`.
    pub tag_name: String,
    /// The display name (default: the tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Drafts are listed only to requests carrying the scenario's token.
    #[serde(default)]
    pub draft: bool,
    /// A prerelease is never `/releases/latest`.
    #[serde(default)]
    pub prerelease: bool,
    /// RFC 3339 time. Default: 2024-01-01T00:00:00Z plus one day per older release, counted
    /// from the bottom of the list, so prepending a release does not change the others. Drafts
    /// default to `null`, as on GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// RFC 3339 time (default: ten minutes before the default publication time). `/releases/latest`
    /// picks by this, like GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The release notes (default: empty string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The branch or commit the tag points at (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_commitish: Option<String>,
    /// A fixed release id (default: a stable number derived from owner, repo and tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The commit the tag points at, served by `GET /repos/{o}/{r}/commits/{tag}` (default: a
    /// stable 40-hex-digit SHA derived from owner, repo and tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
    /// The uploaded files.
    #[serde(default)]
    pub assets: Vec<Asset>,
}

/// One release asset: its bytes and what the API says about them (which may be a lie, on purpose).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// The file name.
    pub name: String,
    /// The bytes, given as UTF-8 text. Exclusive with `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The bytes, given as standard base64 (for binary assets such as archives). Exclusive with
    /// `content` and `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    /// Serve this many deterministic pseudo-random bytes, seeded by the asset name. Exclusive with
    /// `content`. With neither, the asset is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Seeds the `size` bytes instead of the name: the same asset re-uploaded with other bytes of
    /// the same size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// What the `digest` field says (default: the true SHA-256).
    #[serde(default)]
    pub digest: Digest,
    /// Report this `size` in the JSON instead of the true one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_override: Option<u64>,
    /// `state` in the JSON (default `uploaded`; GitHub also has `open` and `new`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `content_type` in the JSON (default `application/octet-stream`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `label` in the JSON (default `null`; GitHub also uses `""`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `download_count` in the JSON (default 0).
    #[serde(default)]
    pub download_count: u64,
    /// A fixed asset id (default: a stable number derived from owner, repo, tag and name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// What the asset's `digest` field says, so tests can cover honest, lying and missing digests.
///
/// In YAML: absent or `auto` for [`Digest::Auto`], `null` for [`Digest::Omit`], any other string
/// for [`Digest::Literal`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Digest {
    /// `"sha256:<hex of the served bytes>"`.
    #[default]
    Auto,
    /// No `digest` field at all, like assets uploaded before June 2025.
    Omit,
    /// Exactly this string (e.g. a wrong `sha256:...`).
    Literal(String),
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Digest::Auto => serializer.serialize_str("auto"),
            Digest::Omit => serializer.serialize_none(),
            Digest::Literal(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<String>::deserialize(deserializer)? {
            None => Digest::Omit,
            Some(text) if text == "auto" => Digest::Auto,
            Some(text) => Digest::Literal(text),
        })
    }
}

impl Scenario {
    /// Reads a scenario from YAML (JSON is valid YAML too) and checks it.
    pub fn from_yaml(text: &str) -> Result<Scenario, Error> {
        let scenario: Scenario =
            serde_saphyr::from_str(text).map_err(|e| Error::Parse(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads a scenario file: `.json` files with a JSON parser, anything else as YAML.
    pub fn from_file(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading scenario {}", path.display()),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        let result = if is_json {
            serde_json::from_str::<Scenario>(&text)
                .map_err(|e| Error::Parse(e.to_string()))
                .and_then(|s| s.validate().map(|()| s))
        } else {
            Scenario::from_yaml(&text)
        };
        result.map_err(|e| match e {
            Error::Parse(msg) => Error::Parse(format!("{}: {msg}", path.display())),
            Error::Invalid(msg) => Error::Invalid(format!("{}: {msg}", path.display())),
            other => other,
        })
    }

    /// Serialises the scenario as YAML, e.g. to save one built in Rust.
    pub fn to_yaml(&self) -> Result<String, Error> {
        serde_saphyr::to_string(self).map_err(|e| Error::Parse(e.to_string()))
    }

    /// Checks what serde cannot: unique repositories, tags and asset names, `content` xor `size`,
    /// parseable timestamps, valid status codes and faults. [`FakeGithub::start`] calls it too,
    /// so a scenario built in Rust is checked as well.
    ///
    /// [`FakeGithub::start`]: crate::FakeGithub::start
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |msg: String| Err(Error::Invalid(msg));
        let mut repos = HashSet::new();
        let mut release_ids = HashSet::new();
        let mut asset_ids = HashSet::new();
        for repo in &self.repositories {
            let full = format!("{}/{}", repo.owner, repo.repo);
            // GitLab nests groups: its owners may be paths.
            let owner_parts: Vec<&str> = if self.forge == Forge::Gitlab {
                repo.owner.split('/').collect()
            } else {
                vec![repo.owner.as_str()]
            };
            for part in owner_parts.into_iter().chain([repo.repo.as_str()]) {
                if part.is_empty() || part.contains('/') || part.chars().any(char::is_whitespace) {
                    return invalid(format!("repository {full:?}: bad owner or name"));
                }
            }
            if !repos.insert(full.to_ascii_lowercase()) {
                return invalid(format!("repository {full} is listed twice"));
            }
            if let Some(status) = repo.status {
                check_status(status).map_err(|m| Error::Invalid(format!("{full}: {m}")))?;
            }
            let mut tags = HashSet::new();
            for release in &repo.releases {
                let tag = &release.tag_name;
                if tag.is_empty() {
                    return invalid(format!("{full}: a release has an empty tag_name"));
                }
                if !tags.insert(tag.as_str()) {
                    return invalid(format!("{full}: tag {tag} is listed twice"));
                }
                if let Some(id) = release.id
                    && !release_ids.insert(id)
                {
                    return invalid(format!("{full} {tag}: release id {id} is used twice"));
                }
                for (field, value) in [
                    ("published_at", &release.published_at),
                    ("created_at", &release.created_at),
                ] {
                    if let Some(value) = value
                        && chrono::DateTime::parse_from_rfc3339(value).is_err()
                    {
                        return invalid(format!(
                            "{full} {tag}: {field} {value:?} is not an RFC 3339 time"
                        ));
                    }
                }
                let mut names = HashSet::new();
                for asset in &release.assets {
                    let name = &asset.name;
                    if name.is_empty() {
                        return invalid(format!("{full} {tag}: bad asset name {name:?}"));
                    }
                    if !names.insert(name.as_str()) {
                        return invalid(format!("{full} {tag}: asset {name} is listed twice"));
                    }
                    let given = [
                        asset.content.is_some(),
                        asset.content_base64.is_some(),
                        asset.size.is_some(),
                    ];
                    if given.iter().filter(|g| **g).count() > 1 {
                        return invalid(format!(
                            "{full} {tag} {name}: give one of `content`, `content_base64` and \
                             `size`"
                        ));
                    }
                    if let Some(text) = &asset.content_base64
                        && let Err(e) = decode_base64(text)
                    {
                        return invalid(format!(
                            "{full} {tag} {name}: content_base64 is not base64: {e}"
                        ));
                    }
                    if let Some(id) = asset.id
                        && !asset_ids.insert(id)
                    {
                        return invalid(format!("{full} {tag} {name}: asset id {id} used twice"));
                    }
                }
            }
        }
        for (index, fault) in self.faults.iter().enumerate() {
            fault
                .validate()
                .map_err(|m| Error::Invalid(format!("faults[{index}]: {m}")))?;
        }
        Ok(())
    }

    /// Adds a repository (builder style, for scenarios written in Rust).
    pub fn with_repository(mut self, repository: Repository) -> Scenario {
        self.repositories.push(repository);
        self
    }

    /// Sets the accepted token (builder style).
    pub fn with_token(mut self, token: impl Into<String>) -> Scenario {
        self.token = Some(token.into());
        self
    }

    /// Knows a GitHub App (builder style).
    pub fn with_app(mut self, app: App) -> Scenario {
        self.app = Some(app);
        self
    }

    /// Adds a fault (builder style).
    pub fn with_fault(mut self, fault: Fault) -> Scenario {
        self.faults.push(fault);
        self
    }
}

/// Checks that an HTTP status code is one a server may send.
pub(crate) fn check_status(status: u16) -> Result<(), String> {
    if (100..=599).contains(&status) {
        Ok(())
    } else {
        Err(format!("status {status} is not an HTTP status code"))
    }
}

impl Repository {
    /// A public repository with no releases, for building scenarios in Rust.
    pub fn new(owner: impl Into<String>, repo: impl Into<String>) -> Repository {
        Repository {
            owner: owner.into(),
            repo: repo.into(),
            ..Repository::default()
        }
    }

    /// Adds a release at the end of the list, i.e. as the oldest so far (builder style).
    pub fn with_release(mut self, release: Release) -> Repository {
        self.releases.push(release);
        self
    }

    /// Adds an artifact attestation of `bundle` for the file with SHA-256 `sha256_hex`
    /// (builder style).
    pub fn with_attestation(mut self, sha256_hex: &str, bundle: serde_json::Value) -> Repository {
        self.attestations.push(Attestation {
            digest: format!("sha256:{sha256_hex}"),
            bundle: Some(bundle),
        });
        self
    }
}

impl Release {
    /// A published, non-prerelease release with default fields and no assets.
    pub fn new(tag_name: impl Into<String>) -> Release {
        Release {
            tag_name: tag_name.into(),
            ..Release::default()
        }
    }

    /// Adds an asset (builder style).
    pub fn with_asset(mut self, asset: Asset) -> Release {
        self.assets.push(asset);
        self
    }
}

impl Asset {
    /// An asset whose bytes are the given text.
    pub fn with_content(name: impl Into<String>, content: impl Into<String>) -> Asset {
        Asset {
            name: name.into(),
            content: Some(content.into()),
            ..Asset::default()
        }
    }

    /// An asset whose bytes are given as they are (stored as `content_base64`).
    pub fn with_bytes(name: impl Into<String>, bytes: &[u8]) -> Asset {
        use base64::Engine;
        Asset {
            name: name.into(),
            content_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ..Asset::default()
        }
    }

    /// The literal bytes (`content` or `content_base64`), if given. Validation has checked the
    /// base64, so a bad one here reads as no bytes.
    pub(crate) fn literal_bytes(&self) -> Option<Vec<u8>> {
        match (&self.content, &self.content_base64) {
            (Some(text), _) => Some(text.clone().into_bytes()),
            (None, Some(b64)) => decode_base64(b64).ok(),
            (None, None) => None,
        }
    }

    /// An asset of `size` deterministic pseudo-random bytes seeded by its name.
    pub fn with_size(name: impl Into<String>, size: u64) -> Asset {
        Asset {
            name: name.into(),
            size: Some(size),
            ..Asset::default()
        }
    }
}

/// Standard base64 with padding; whitespace (YAML line breaks) is ignored.
fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}
