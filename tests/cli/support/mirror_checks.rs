//! Checks on a download directory and a version database after a fault or a crash, shared by
//! the fault-injection suite and the crash-safety test: every final file holds the true bytes,
//! every sidecar matches its file, and the database records only releases whose files are all
//! stored and verified.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fake_github::{FakeGithub, Scenario};
use serde_json::Value;

use super::{files_under, sha256_hex};

/// One asset as the fake serves it, with where the mirror stores it.
#[derive(Debug, Clone)]
pub struct TrueAsset {
    /// `owner/repo`.
    pub repository: String,
    pub tag: String,
    pub name: String,
    pub id: u64,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// `owner_repo/tag/name`, relative to the download directory (the tests' tags have no `/`).
    pub rel_path: String,
}

/// Every asset of `scenario`, with its true bytes from the running `fake`.
pub fn true_assets(fake: &FakeGithub, scenario: &Scenario) -> Vec<TrueAsset> {
    let mut out = Vec::new();
    for repo in &scenario.repositories {
        for release in &repo.releases {
            for asset in &release.assets {
                let served = fake
                    .asset(&repo.owner, &repo.repo, &release.tag_name, &asset.name)
                    .expect("the fake serves every scenario asset");
                out.push(TrueAsset {
                    repository: format!("{}/{}", repo.owner, repo.repo),
                    tag: release.tag_name.clone(),
                    name: asset.name.clone(),
                    id: served.id,
                    sha256: sha256_hex(&served.bytes),
                    bytes: served.bytes,
                    rel_path: format!(
                        "{}_{}/{}/{}",
                        repo.owner, repo.repo, release.tag_name, asset.name
                    ),
                });
            }
        }
    }
    out
}

/// Whether `rel` is a file the downloader may leave behind while a transfer is unfinished: a
/// `.name.part` file, its `.validator` or `.pieces` map, or a temp file of an atomic write
/// (`.name.XXXX.tmp`). All of them start with a dot, which no asset name does.
pub fn is_work_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.starts_with('.')
        && (name.ends_with(".part")
            || name.ends_with(".part.validator")
            || name.ends_with(".part.pieces")
            || name.ends_with(".tmp"))
}

/// Checks the download directory: every file is a work file, a known asset holding exactly its
/// true bytes, or a sidecar naming its file's true SHA-256. Returns the final asset paths found.
pub fn check_mirror(downloads: &Path, assets: &[TrueAsset]) -> BTreeSet<String> {
    let by_path: BTreeMap<&str, &TrueAsset> =
        assets.iter().map(|a| (a.rel_path.as_str(), a)).collect();
    let mut finals = BTreeSet::new();
    for rel in files_under(downloads) {
        if is_work_file(&rel) {
            continue;
        }
        let path = downloads.join(&rel);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
        if let Some(data_rel) = rel.strip_suffix(".sha256")
            && !by_path.contains_key(rel.as_str())
        {
            // `dir/.x.sha256` is the sidecar of `dir/x` when the release publishes `x.sha256`.
            let data_rel = match data_rel.rsplit_once("/.") {
                Some((dir, name)) => format!("{dir}/{name}"),
                None => data_rel.to_string(),
            };
            let data_rel = data_rel.as_str();
            let data = std::fs::read(downloads.join(data_rel))
                .unwrap_or_else(|e| panic!("sidecar {rel} without its file: {e}"));
            let name = data_rel.rsplit('/').next().unwrap_or(data_rel);
            assert_eq!(
                String::from_utf8_lossy(&bytes),
                format!("{}  {name}\n", sha256_hex(&data)),
                "sidecar {rel} does not match its file"
            );
            continue;
        }
        let asset = by_path
            .get(rel.as_str())
            .unwrap_or_else(|| panic!("unexpected final file {rel} in the mirror"));
        assert!(
            bytes == asset.bytes,
            "{rel}: a final file with wrong bytes ({} bytes, sha256 {}, expected {} bytes, {})",
            bytes.len(),
            sha256_hex(&bytes),
            asset.bytes.len(),
            asset.sha256
        );
        finals.insert(rel);
    }
    finals
}

/// Checks the version database at `db_path` (absent is fine): it parses, each repository's
/// current version is a tag the fake serves, and that release's history entry lists every one of
/// its assets with the true SHA-256, each stored in the mirror with those bytes. Returns
/// `owner/repo` → current version.
pub fn check_db(
    db_path: &Path,
    downloads: &Path,
    assets: &[TrueAsset],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read(db_path) else {
        return out;
    };
    let db: Value = serde_json::from_slice(&text).expect("the database parses as JSON");
    let Some(repos) = db["repositories"].as_object() else {
        return out;
    };
    for (name, record) in repos {
        let Some(version) = record["current_version"].as_str() else {
            continue;
        };
        let release: Vec<&TrueAsset> = assets
            .iter()
            .filter(|a| a.repository == *name && a.tag == version)
            .collect();
        assert!(
            !release.is_empty(),
            "{name}: recorded version {version} is not a release the server has"
        );
        let entry = record["download_history"]
            .as_array()
            .and_then(|h| h.iter().find(|e| e["version"] == version))
            .unwrap_or_else(|| panic!("{name} {version}: no history entry"));
        let files = entry["metadata"]["files"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for asset in &release {
            let file = files
                .iter()
                .find(|f| f["name"] == asset.name.as_str())
                .unwrap_or_else(|| panic!("{name} {version}: {} not recorded", asset.name));
            assert_eq!(file["sha256"], asset.sha256.as_str(), "{name} {version}");
            assert_eq!(file["size"], asset.bytes.len() as u64, "{name} {version}");
            let stored = std::fs::read(downloads.join(&asset.rel_path)).unwrap_or_else(|e| {
                panic!(
                    "{name} {version} is recorded but {} is not stored: {e}",
                    asset.rel_path
                )
            });
            assert!(stored == asset.bytes, "{}: wrong bytes", asset.rel_path);
        }
        assert_eq!(files.len(), release.len(), "{name} {version}: {files:?}");
        out.insert(name.clone(), version.to_string());
    }
    out
}
