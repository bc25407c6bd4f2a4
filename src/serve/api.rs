//! A read-only subset of GitHub's REST API over what the mirror holds, under `/api/v3` (where
//! GitHub Enterprise keeps it), so any client with a configurable GitHub API URL can use the
//! mirror: `gh`, scripts, and release-monitor itself (a second instance whose `github.api_url`
//! is this service mirrors everything this one holds, verifying each file's digest offline).
//!
//! A release is a version the database records with files still in the mirror; its assets are
//! those files. Ids are derived from the names (stable across restarts and instances), `digest`
//! is the recorded SHA-256, and the download URLs point at this server.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::files::{self, Located, seg};
use crate::config::Config;
use crate::db::Database;
use crate::repo::RepoId;

/// A release the mirror holds: its tag, when it was recorded, and its files.
pub(super) struct HeldRelease {
    pub tag: String,
    pub recorded_at: String,
    pub files: Vec<Located>,
}

/// A stable id (53 bits, safe as a JSON number) for `parts`.
pub(super) fn stable_id(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut n = [0u8; 8];
    n.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(n) & ((1 << 53) - 1)).max(1)
}

/// The releases of `repo` the mirror holds, newest recorded first: each version once (its
/// newest history entry), not deleted, with at least one of its files in place.
pub(super) fn held_releases(config: &Config, db: &Database, repo: &RepoId) -> Vec<HeldRelease> {
    let Some(record) = db.get(repo) else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for entry in record.download_history.iter().rev() {
        if !seen.insert(entry.version.clone()) {
            continue;
        }
        if entry.metadata.recorded_by.as_deref() == Some(crate::db::RETENTION) {
            continue;
        }
        let files: Vec<Located> = entry
            .metadata
            .files
            .iter()
            .filter_map(|f| files::locate(config, db, repo, &entry.version, &f.name))
            .collect();
        if !files.is_empty() {
            out.push(HeldRelease {
                tag: entry.version.clone(),
                recorded_at: entry.downloaded_at.clone(),
                files,
            });
        }
    }
    out
}

/// Where a release's JSON points: this server's routes under `base`, or (a static export) the
/// mirror's files under `files`, an absolute URL or a path relative to the JSON file.
pub(super) enum Urls<'a> {
    /// The service at `base`.
    Api(&'a str),
    /// The mirror's root at this URL or relative path (ending in `/`).
    Files(&'a str),
}

/// A release as GitHub's REST API shapes it.
pub(super) fn release_json(urls: &Urls<'_>, repo: &RepoId, held: &HeldRelease) -> Value {
    let base = match urls {
        Urls::Api(base) => *base,
        Urls::Files(_) => "",
    };
    let (o, r) = (repo.owner(), repo.repo());
    let id = stable_id(&["release", &repo.to_string(), &held.tag]);
    let api = format!("{base}/api/v3/repos/{}/{}", seg(o), seg(r));
    let assets: Vec<Value> = held
        .files
        .iter()
        .map(|f| asset_json(urls, repo, &held.tag, f))
        .collect();
    json!({
        "url": format!("{api}/releases/{id}"),
        "assets_url": format!("{api}/releases/{id}/assets"),
        "html_url": format!("{base}/{}/{}/releases/tag/{}", seg(o), seg(r), seg(&held.tag)),
        "id": id,
        "tag_name": held.tag,
        "name": held.tag,
        "draft": false,
        "prerelease": false,
        "created_at": held.recorded_at,
        "published_at": held.recorded_at,
        "tarball_url": null,
        "zipball_url": null,
        "body": "",
        "assets": assets,
    })
}

/// One mirrored file as a GitHub release asset.
pub(super) fn asset_json(urls: &Urls<'_>, repo: &RepoId, tag: &str, f: &Located) -> Value {
    let (o, r) = (repo.owner(), repo.repo());
    let id = stable_id(&["asset", &repo.to_string(), tag, &f.record.name]);
    let (url, download) = match urls {
        Urls::Api(base) => (
            format!(
                "{base}/api/v3/repos/{}/{}/releases/assets/{id}",
                seg(o),
                seg(r)
            ),
            format!("{base}{}", files::download_path(o, r, tag, &f.record.name)),
        ),
        Urls::Files(root) => {
            let folder = crate::mirror::encode_tag(tag).unwrap_or_default();
            let file = format!(
                "{root}{}/{}/{}",
                seg(&repo.folder()),
                seg(&folder),
                seg(&f.record.name)
            );
            (file.clone(), file)
        }
    };
    json!({
        "url": url,
        "id": id,
        "name": f.record.name,
        "label": "",
        "content_type": "application/octet-stream",
        "state": "uploaded",
        "size": f.record.size,
        "digest": format!("sha256:{}", f.record.sha256),
        "download_count": 0,
        "browser_download_url": download,
    })
}

/// The asset with id `id` among `repo`'s held releases: (tag, file).
pub(super) fn find_asset(
    config: &Config,
    db: &Database,
    repo: &RepoId,
    id: u64,
) -> Option<(String, Located)> {
    held_releases(config, db, repo)
        .into_iter()
        .find_map(|held| {
            let tag = held.tag;
            held.files
                .into_iter()
                .find(|f| stable_id(&["asset", &repo.to_string(), &tag, &f.record.name]) == id)
                .map(|f| (tag.clone(), f))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_and_json_safe() {
        let a = stable_id(&["release", "a/b", "v1"]);
        assert_eq!(a, stable_id(&["release", "a/b", "v1"]));
        assert_ne!(a, stable_id(&["release", "a/b", "v2"]));
        // The separator keeps `ab`+`c` apart from `a`+`bc`.
        assert_ne!(stable_id(&["ab", "c"]), stable_id(&["a", "bc"]));
        assert!(a < (1 << 53) && a > 0);
    }
}
