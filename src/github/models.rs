//! Releases and assets as the GitHub REST API returns them.
//!
//! The fields we use are typed; every other field is kept in `extra`, so a report can pass on
//! "the API's asset objects as the API returned them" (the seed tool's report does).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One release (`GET /repos/{owner}/{repo}/releases`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// The git tag.
    pub tag_name: String,
    /// The release title.
    #[serde(default)]
    pub name: Option<String>,
    /// Drafts are never downloadable.
    #[serde(default)]
    pub draft: bool,
    /// GitHub's prerelease flag.
    #[serde(default)]
    pub prerelease: bool,
    /// When it was published (RFC 3339); `null` for drafts.
    #[serde(default)]
    pub published_at: Option<String>,
    /// API URL of the source tarball.
    #[serde(default)]
    pub tarball_url: Option<String>,
    /// API URL of the source zipball.
    #[serde(default)]
    pub zipball_url: Option<String>,
    /// The release's web page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// Its uploaded files.
    #[serde(default)]
    pub assets: Vec<Asset>,
    /// Every other field, as returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One release asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// The file name (untrusted: never used as a path without checks).
    pub name: String,
    /// The API URL; `GET` it with `Accept: application/octet-stream` for the bytes.
    pub url: String,
    /// Size in bytes, as GitHub reports it.
    #[serde(default)]
    pub size: u64,
    /// `sha256:<hex>` for assets uploaded since June 2025; absent or `null` before.
    #[serde(default)]
    pub digest: Option<String>,
    /// `uploaded` when complete.
    #[serde(default)]
    pub state: Option<String>,
    /// The public download URL (not usable with a token for private repositories).
    #[serde(default)]
    pub browser_download_url: Option<String>,
    /// Every other field, as returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// GitHub's error body: `{"message": ..., "documentation_url": ...}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    #[serde(default)]
    pub message: Option<String>,
    /// Where GitHub documents it.
    #[serde(default)]
    pub documentation_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let json = serde_json::json!({
            "tag_name": "v1", "draft": false, "prerelease": false, "id": 7, "immutable": true,
            "assets": [{"name": "a", "url": "https://api/x", "size": 3, "digest": null,
                        "label": "", "uploader": {"login": "bot"}}]
        });
        let r: Release = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(r.assets[0].digest, None);
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["id"], 7);
        assert_eq!(back["immutable"], true);
        assert_eq!(back["assets"][0]["uploader"]["login"], "bot");
        assert_eq!(back["assets"][0]["label"], "");
    }
}
