//! The scenario compiled for serving: ids, timestamps, asset bytes and digests worked out once.

use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};

use crate::fault::Fault;
use crate::scenario::{Digest, RateLimit, Scenario};

/// What the handlers serve, derived from a [`Scenario`].
#[derive(Debug)]
pub(crate) struct World {
    pub token: Option<String>,
    pub app: Option<crate::scenario::App>,
    pub rate_limit: RateLimit,
    pub repos: Vec<RepoW>,
    pub faults: Vec<Fault>,
    pub forge: crate::scenario::Forge,
}

#[derive(Debug)]
pub(crate) struct RepoW {
    pub owner: String,
    pub name: String,
    pub id: u64,
    pub private: bool,
    pub status: Option<u16>,
    pub releases: Vec<ReleaseW>,
    pub attestations: Vec<crate::scenario::Attestation>,
    /// `(name, commit sha)` of every tag, newest first: the tags without a release, then the
    /// releases' tags.
    pub tags: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct ReleaseW {
    pub id: u64,
    pub tag: String,
    pub name: String,
    pub draft: bool,
    pub prerelease: bool,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub body: String,
    pub target_commitish: String,
    pub commit_sha: String,
    pub assets: Vec<AssetW>,
}

#[derive(Debug)]
pub(crate) struct AssetW {
    pub id: u64,
    pub name: String,
    pub label: Option<String>,
    pub content_type: String,
    pub state: String,
    pub bytes: Bytes,
    /// The `digest` field as served (`None`: omitted).
    pub digest: Option<String>,
    /// The `size` field as served.
    pub reported_size: u64,
    /// Strong ETag of the bytes, for the asset origin.
    pub etag: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub download_count: u64,
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Lower-case hex.
pub(crate) fn hex(data: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(data.len() * 2);
    for byte in data {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A stable id in 100_000_000..1_000_000_000 derived from `parts`.
fn stable_id(parts: &[&str]) -> u64 {
    let digest = sha256(parts.join("\u{0}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    100_000_000 + u64::from_be_bytes(first) % 900_000_000
}

/// `size` deterministic pseudo-random bytes seeded by `seed` (splitmix64 over the seed's hash).
pub(crate) fn pseudo_random_bytes(seed: &str, size: u64) -> Bytes {
    let digest = sha256(seed.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let mut state = u64::from_be_bytes(first);
    let len = usize::try_from(size).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let take = (len - out.len()).min(8);
        out.extend_from_slice(&z.to_le_bytes()[..take]);
    }
    Bytes::from(out)
}

/// The default publication time of the release `from_bottom` places above the oldest one.
fn default_published(from_bottom: usize) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH);
    base + chrono::Duration::days(i64::try_from(from_bottom).unwrap_or(0))
}

fn parse_time(text: Option<&String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// GitHub's timestamp format, e.g. `2024-01-15T10:00:00Z`.
pub(crate) fn iso(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An HTTP date, e.g. `Mon, 15 Jan 2024 10:00:00 GMT`.
pub(crate) fn http_date(time: &DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

impl World {
    /// Compiles a scenario. It never fails: [`Scenario::validate`] is what rejects bad input, and
    /// anything it lets through gets a sensible default here.
    pub(crate) fn compile(scenario: &Scenario) -> World {
        let repos = scenario
            .repositories
            .iter()
            .map(|repo| {
                let count = repo.releases.len();
                let releases = repo
                    .releases
                    .iter()
                    .enumerate()
                    .map(|(index, rel)| {
                        let default_time = default_published(count - 1 - index);
                        let published_at = parse_time(rel.published_at.as_ref())
                            .or((!rel.draft).then_some(default_time));
                        let created_at = parse_time(rel.created_at.as_ref()).unwrap_or_else(|| {
                            published_at.unwrap_or(default_time) - chrono::Duration::minutes(10)
                        });
                        let uploaded = created_at + chrono::Duration::minutes(5);
                        let assets = rel
                            .assets
                            .iter()
                            .map(|asset| {
                                let bytes = match (asset.literal_bytes(), asset.size) {
                                    (Some(bytes), _) => Bytes::from(bytes),
                                    (None, Some(size)) => pseudo_random_bytes(
                                        asset.seed.as_deref().unwrap_or(&asset.name),
                                        size,
                                    ),
                                    (None, None) => Bytes::new(),
                                };
                                let hash = sha256(&bytes);
                                let digest = match &asset.digest {
                                    Digest::Auto => Some(format!("sha256:{}", hex(&hash))),
                                    Digest::Omit => None,
                                    Digest::Literal(text) => Some(text.clone()),
                                };
                                AssetW {
                                    id: asset.id.unwrap_or_else(|| {
                                        stable_id(&[
                                            "asset",
                                            &repo.owner,
                                            &repo.repo,
                                            &rel.tag_name,
                                            &asset.name,
                                        ])
                                    }),
                                    name: asset.name.clone(),
                                    label: asset.label.clone(),
                                    content_type: asset
                                        .content_type
                                        .clone()
                                        .unwrap_or_else(|| "application/octet-stream".into()),
                                    state: asset.state.clone().unwrap_or_else(|| "uploaded".into()),
                                    reported_size: asset
                                        .size_override
                                        .unwrap_or(bytes.len() as u64),
                                    etag: format!("\"{}\"", hex(&hash[..16])),
                                    bytes,
                                    digest,
                                    created_at: uploaded,
                                    updated_at: uploaded,
                                    download_count: asset.download_count,
                                }
                            })
                            .collect();
                        ReleaseW {
                            id: rel.id.unwrap_or_else(|| {
                                stable_id(&["release", &repo.owner, &repo.repo, &rel.tag_name])
                            }),
                            tag: rel.tag_name.clone(),
                            name: rel.name.clone().unwrap_or_else(|| rel.tag_name.clone()),
                            draft: rel.draft,
                            prerelease: rel.prerelease,
                            created_at,
                            published_at,
                            body: rel.body.clone().unwrap_or_default(),
                            target_commitish: rel
                                .target_commitish
                                .clone()
                                .unwrap_or_else(|| "main".into()),
                            commit_sha: rel.commit_sha.clone().unwrap_or_else(|| {
                                hex(&sha256(
                                    format!(
                                        "commit\u{0}{}\u{0}{}\u{0}{}",
                                        repo.owner, repo.repo, rel.tag_name
                                    )
                                    .as_bytes(),
                                ))[..40]
                                    .to_string()
                            }),
                            assets,
                        }
                    })
                    .collect();
                let commit_of = |tag: &str| {
                    hex(&sha256(
                        format!("commit\u{0}{}\u{0}{}\u{0}{}", repo.owner, repo.repo, tag)
                            .as_bytes(),
                    ))[..40]
                        .to_string()
                };
                let mut tags: Vec<(String, String)> = repo
                    .tags
                    .iter()
                    .map(|t| {
                        (
                            t.name.clone(),
                            t.commit_sha.clone().unwrap_or_else(|| commit_of(&t.name)),
                        )
                    })
                    .collect();
                for rel in &releases {
                    let rel: &ReleaseW = rel;
                    if !tags.iter().any(|(name, _)| name == &rel.tag) {
                        tags.push((rel.tag.clone(), rel.commit_sha.clone()));
                    }
                }
                RepoW {
                    owner: repo.owner.clone(),
                    name: repo.repo.clone(),
                    id: stable_id(&["repo", &repo.owner, &repo.repo]),
                    private: repo.private,
                    status: repo.status,
                    releases,
                    attestations: repo.attestations.clone(),
                    tags,
                }
            })
            .collect();
        World {
            token: scenario.token.clone(),
            app: scenario.app.clone(),
            rate_limit: scenario.rate_limit.clone(),
            repos,
            faults: scenario.faults.clone(),
            forge: scenario.forge,
        }
    }

    /// The repository `owner/name`, compared case-insensitively as GitHub does.
    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<&RepoW> {
        self.repos
            .iter()
            .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
    }

    /// An asset by id, with its repository and release.
    pub(crate) fn asset(&self, id: u64) -> Option<(&RepoW, &ReleaseW, &AssetW)> {
        self.repos.iter().find_map(|repo| {
            repo.releases.iter().find_map(|rel| {
                rel.assets
                    .iter()
                    .find(|a| a.id == id)
                    .map(|asset| (repo, rel, asset))
            })
        })
    }
}
