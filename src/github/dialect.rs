//! The other forges' answers, turned into the GitHub-shaped [`Release`] the rest of the
//! pipeline reads: Gitea/Forgejo (API v1, GitHub-like but without an asset API URL or digest)
//! and GitLab (API v4: `released_at`, upcoming releases, link and source assets).
//!
//! Only shapes live here; the calls are in `rest`, on the one client.

use serde_json::{Map, Value, json};

use super::models::Release;
use crate::repo::RepoId;

/// The API path of a GitLab project: `projects/{group%2Fsub%2Fproject}`.
pub(super) fn gitlab_project(repo: &RepoId) -> String {
    let path = repo.path();
    let encoded: String =
        percent_encoding::utf8_percent_encode(&path, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    format!("projects/{encoded}")
}

/// A Gitea/Forgejo release as a [`Release`]: each attachment's `browser_download_url` is its
/// download URL (Gitea has no asset API URL and no digest).
pub(super) fn gitea_release(mut value: Value) -> Result<Release, serde_json::Error> {
    if let Some(assets) = value.get_mut("assets").and_then(Value::as_array_mut) {
        for asset in assets {
            if let Some(map) = asset.as_object_mut()
                && !map.contains_key("url")
                && let Some(link) = map.get("browser_download_url").cloned()
            {
                map.insert("url".into(), link);
            }
        }
    }
    serde_json::from_value(value)
}

/// Whether a GitLab release is upcoming (`released_at` in the future): not released yet, so
/// never adopted.
pub(super) fn gitlab_upcoming(value: &Value) -> bool {
    value
        .get("upcoming_release")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// A GitLab release as a [`Release`]: `released_at` is its publication time, `_links.self` its
/// page, `assets.sources` its source archives and `assets.links` its assets. A link's file
/// name is the last part of its `filepath` when it has one (the name in its direct URL), else
/// its `name`. GitLab states no size: the size is 0 until [`GithubClient::fill_sizes`] asks
/// the host. GitLab has no prerelease flag: a tag that reads as one (`rc`, `beta`, …) counts
/// as a prerelease.
///
/// [`GithubClient::fill_sizes`]: super::GithubClient::fill_sizes
pub(super) fn gitlab_release(value: Value) -> Result<Release, serde_json::Error> {
    let get = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let tag_name =
        get(&value, "tag_name").ok_or_else(|| serde::de::Error::missing_field("tag_name"))?;
    let source = |format: &str| {
        value
            .pointer("/assets/sources")
            .and_then(Value::as_array)
            .and_then(|s| {
                s.iter()
                    .find(|x| x.get("format").and_then(Value::as_str) == Some(format))
            })
            .and_then(|x| get(x, "url"))
    };
    let mut assets = Vec::new();
    for link in value
        .pointer("/assets/links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(url) = get(link, "direct_asset_url").or_else(|| get(link, "url")) else {
            continue;
        };
        let name = get(link, "filepath")
            .and_then(|p| p.rsplit('/').next().map(str::to_string))
            .filter(|n| !n.is_empty())
            .or_else(|| get(link, "name"))
            .unwrap_or_default();
        let mut asset = json!({
            "name": name,
            "url": url,
            "size": 0,
            "browser_download_url": get(link, "url"),
        });
        if let Some(map) = asset.as_object_mut() {
            for key in ["id", "link_type"] {
                if let Some(v) = link.get(key) {
                    map.insert(key.into(), v.clone());
                }
            }
        }
        assets.push(asset);
    }
    let mut extra = Map::new();
    if let Some(sha) = value.pointer("/commit/id").cloned() {
        extra.insert("commit".into(), json!({ "sha": sha }));
    }
    for key in ["created_at", "description"] {
        if let Some(v) = value.get(key) {
            extra.insert(key.into(), v.clone());
        }
    }
    let release = json!({
        "tag_name": tag_name,
        "name": get(&value, "name"),
        "draft": false,
        "prerelease": crate::version::has_prerelease_marker(&tag_name),
        "published_at": get(&value, "released_at"),
        "tarball_url": source("tar.gz"),
        "zipball_url": source("zip"),
        "html_url": value.pointer("/_links/self").and_then(Value::as_str),
        "assets": assets,
    });
    let mut release: Release = serde_json::from_value(release)?;
    release.extra = extra;
    Ok(release)
}

/// A GitLab tag (`repository/tags`) as a release without assets: its commit, and the API's
/// archive endpoint for its source archives.
pub(super) fn gitlab_tag(api: &str, project: &str, value: &Value) -> Option<Release> {
    let name = value.get("name")?.as_str()?.to_string();
    let sha: String =
        percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let archive = |ext: &str| format!("{api}{project}/repository/archive.{ext}?sha={sha}");
    let mut extra = Map::new();
    if let Some(id) = value.pointer("/commit/id") {
        extra.insert("commit".into(), json!({ "sha": id }));
    }
    Some(Release {
        prerelease: crate::version::has_prerelease_marker(&name),
        tag_name: name,
        name: None,
        draft: false,
        published_at: None,
        tarball_url: Some(archive("tar.gz")),
        zipball_url: Some(archive("zip")),
        html_url: None,
        assets: Vec::new(),
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gitlab_project_path_is_one_encoded_segment() {
        let id: RepoId = "gitlab.com/group/sub/my.project".parse().unwrap();
        assert_eq!(gitlab_project(&id), "projects/group%2Fsub%2Fmy%2Eproject");
    }

    #[test]
    fn a_gitea_release_downloads_from_its_browser_url() {
        let r = gitea_release(json!({
            "id": 3, "tag_name": "v1.0", "draft": false, "prerelease": false,
            "published_at": "2026-01-01T00:00:00Z",
            "assets": [{"id": 9, "name": "tool.tar.gz", "size": 12,
                        "browser_download_url": "https://codeberg.org/o/r/releases/download/v1.0/tool.tar.gz"}]
        }))
        .unwrap();
        assert_eq!(
            r.assets[0].url,
            "https://codeberg.org/o/r/releases/download/v1.0/tool.tar.gz"
        );
        assert_eq!(
            (r.assets[0].size, r.assets[0].digest.as_deref()),
            (12, None)
        );
    }

    #[test]
    fn a_gitlab_release_maps_links_sources_and_dates() {
        let r = gitlab_release(json!({
            "tag_name": "v2.0.0-rc1", "name": "Two", "released_at": "2026-02-01T00:00:00Z",
            "upcoming_release": false, "commit": {"id": "abc123"},
            "_links": {"self": "https://gitlab.com/g/p/-/releases/v2.0.0-rc1"},
            "assets": {
                "sources": [{"format": "zip", "url": "https://gitlab.com/g/p/-/archive/v2/p-v2.zip"},
                            {"format": "tar.gz", "url": "https://gitlab.com/g/p/-/archive/v2/p-v2.tar.gz"}],
                "links": [
                    {"id": 1, "name": "Linux binary", "url": "https://cdn.example.com/p/tool",
                     "direct_asset_url": "https://gitlab.com/g/p/-/releases/v2/downloads/bin/tool-linux",
                     "filepath": "/bin/tool-linux", "link_type": "package"},
                    {"id": 2, "name": "notes.txt", "url": "https://cdn.example.com/notes.txt"}
                ]
            }
        }))
        .unwrap();
        assert!(r.prerelease && !r.draft);
        assert_eq!(r.published_at.as_deref(), Some("2026-02-01T00:00:00Z"));
        assert_eq!(
            r.tarball_url.as_deref(),
            Some("https://gitlab.com/g/p/-/archive/v2/p-v2.tar.gz")
        );
        assert_eq!(
            r.zipball_url.as_deref(),
            Some("https://gitlab.com/g/p/-/archive/v2/p-v2.zip")
        );
        assert_eq!(r.assets[0].name, "tool-linux");
        assert_eq!(
            r.assets[0].url,
            "https://gitlab.com/g/p/-/releases/v2/downloads/bin/tool-linux"
        );
        assert_eq!(r.assets[1].name, "notes.txt");
        assert_eq!(r.assets[1].url, "https://cdn.example.com/notes.txt");
        assert_eq!(r.extra["commit"]["sha"], "abc123");
        assert!(gitlab_upcoming(&json!({"upcoming_release": true})));
    }
}
