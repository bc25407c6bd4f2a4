//! Conditional requests: each page's `ETag` and body, kept in the monitor's state file
//! (`--state-file`, default `release_state.json`), so a repeat run sends `If-None-Match` and a
//! `304` reuses the stored page without costing rate limit.
//!
//! The file is a cache: if it is missing or unreadable the run starts without it (with a
//! warning), and it is rewritten atomically at the end of a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::fsutil;

/// One cached page.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedPage {
    /// The `ETag` GitHub sent with it.
    pub etag: String,
    /// The page's body.
    pub body: Bytes,
    /// Its `rel="next"` link.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredPage {
    etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    body: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    #[serde(default)]
    pages: BTreeMap<String, StoredPage>,
}

/// The state file's format version.
const STATE_VERSION: u32 = 1;

/// ETags and bodies by request URL.
#[derive(Debug, Default)]
pub struct EtagCache {
    path: Option<PathBuf>,
    pages: Mutex<BTreeMap<String, StoredPage>>,
}

impl EtagCache {
    /// An empty cache that is never saved.
    pub fn in_memory() -> EtagCache {
        EtagCache::default()
    }

    /// Loads the state file at `path` (an empty cache if it is missing or unreadable).
    pub fn load(path: &Path) -> EtagCache {
        let pages = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<StateFile>(&bytes) {
                Ok(f) if f.version == STATE_VERSION => f.pages,
                Ok(f) => {
                    tracing::warn!(
                        "{}: state file version {} is not {STATE_VERSION}; starting without it",
                        path.display(),
                        f.version
                    );
                    BTreeMap::new()
                }
                Err(e) => {
                    tracing::warn!(
                        "{}: unreadable state file ({e}); starting without it",
                        path.display()
                    );
                    BTreeMap::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                tracing::warn!("{}: {e}; starting without it", path.display());
                BTreeMap::new()
            }
        };
        EtagCache {
            path: Some(path.to_path_buf()),
            pages: Mutex::new(pages),
        }
    }

    /// The cached page for `url`.
    pub fn get(&self, url: &str) -> Option<CachedPage> {
        let pages = self.pages.lock().ok()?;
        pages.get(url).map(|p| CachedPage {
            etag: p.etag.clone(),
            body: Bytes::from(p.body.clone().into_bytes()),
            next: p.next.clone(),
        })
    }

    /// Remembers a page (bodies that are not UTF-8 are not cached).
    pub fn put(&self, url: &str, etag: &str, body: Bytes, next: Option<String>) {
        let Ok(text) = String::from_utf8(body.to_vec()) else {
            return;
        };
        if let Ok(mut pages) = self.pages.lock() {
            pages.insert(
                url.to_string(),
                StoredPage {
                    etag: etag.to_string(),
                    next,
                    body: text,
                },
            );
        }
    }

    /// Writes the state file atomically (a no-op for an in-memory cache).
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let pages = self.pages.lock().map(|p| p.clone()).unwrap_or_default();
        let file = StateFile {
            version: STATE_VERSION,
            pages,
        };
        let mut bytes = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        fsutil::write_atomic(path, &bytes, "state")
            .map_err(|(ctx, e)| std::io::Error::new(e.kind(), format!("{ctx}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_survive_a_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("release_state.json");
        let cache = EtagCache::load(&path);
        assert!(cache.get("u").is_none());
        cache.put("u", "W/\"1\"", Bytes::from_static(b"[]"), Some("n".into()));
        cache.save().unwrap();
        let again = EtagCache::load(&path);
        assert_eq!(
            again.get("u"),
            Some(CachedPage {
                etag: "W/\"1\"".into(),
                body: Bytes::from_static(b"[]"),
                next: Some("n".into())
            })
        );
    }

    #[test]
    fn an_unreadable_state_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, b"{garbage").unwrap();
        assert!(EtagCache::load(&path).get("u").is_none());
    }
}
