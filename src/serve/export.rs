//! `release-monitor index`: the service's overview and repository pages, and a GitHub-shaped
//! `releases.json` per repository, written as static files into the mirror (and the artifact
//! store), for bucket websites and plain file servers.
//!
//! The overview is the mirror's `index.html` (never a repository's folder: those are
//! `owner_repo` or `host%2F…`); everything else sits under [`SITE_DIR`]. Links are relative,
//! so the tree can be served from any path; `serve.public_url`, when set, makes the JSON's URLs
//! absolute.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;

use super::api;
use super::pages::{self, Links, SITE_DIR, View};
use crate::config::Config;
use crate::db::Database;
use crate::storage::ArtifactStore;

/// What `index` wrote.
#[derive(Debug, Default, serde::Serialize)]
pub struct IndexReport {
    /// Files written into the mirror.
    pub written: Vec<PathBuf>,
    /// Keys put into the artifact store.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uploaded: Vec<String>,
    /// What could not be written or uploaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

/// The files of the export: (path under the mirror's root, bytes).
pub(super) fn render(config: &Config, db: &Database) -> Vec<(String, Vec<u8>)> {
    let repos = BTreeMap::new();
    let view = View {
        links: Links::Static,
        config,
        db,
        repos: &repos,
        runs: &[],
        next_run: None,
        running: false,
        config_error: None,
    };
    let mut out = vec![(
        "index.html".to_string(),
        pages::overview(&view).into_string().into_bytes(),
    )];
    let files_root = match &config.serve.public_url {
        Some(url) => format!("{}/", url.trim_end_matches('/')),
        None => "../../".to_string(),
    };
    for r in &config.repositories {
        let Ok(id) = r.id() else { continue };
        let dir = format!("{SITE_DIR}/{}", id.folder());
        if let Some(page) = pages::repository(&view, &r.full_name()) {
            out.push((format!("{dir}/index.html"), page.into_string().into_bytes()));
        }
        let releases: Vec<serde_json::Value> = api::held_releases(config, db, &id)
            .iter()
            .map(|h| api::release_json(&api::Urls::Files(&files_root), &id, h))
            .collect();
        let json = serde_json::to_vec_pretty(&releases).unwrap_or_default();
        out.push((format!("{dir}/releases.json"), json));
    }
    out
}

/// Writes the export into the mirror (each file atomically) and puts it into `store`.
pub(super) async fn write(
    config: &Config,
    db: &Database,
    store: Option<&dyn ArtifactStore>,
) -> IndexReport {
    let mut report = IndexReport::default();
    let root = config.download.directory.clone();
    for (rel, bytes) in render(config, db) {
        let path = root.join(&rel);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                crate::fsutil::write_atomic(&path, &bytes, "index")
                    .map_err(|(what, e)| format!("{what}: {e}"))
            });
        match written {
            Ok(()) => report.written.push(path),
            Err(e) => report.failed.push(format!("{}: {e}", path.display())),
        }
        if let Some(store) = store {
            match store.put_small(&rel, Bytes::from(bytes)).await {
                Ok(()) => report.uploaded.push(store.url_of(&rel)),
                Err(e) => report.failed.push(format!("{rel}: {e}")),
            }
        }
    }
    report
}
