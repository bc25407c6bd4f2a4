//! The mirror's files, served at GitHub's download paths: only files the database records for
//! a release the mirror holds, at the path the layout gives them, never through a symlink, and
//! only while their size is the recorded one. Everything else is a 404, whatever the URL says.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::db::{Database, FileRecord};
use crate::mirror::Layout;
use crate::repo::RepoId;

/// What a path segment we build escapes: all but RFC 3986's unreserved characters.
pub(super) const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` escaped as one URL path segment.
pub(super) fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// `/{owner}/{repo}/releases/download/{tag}/{name}`, each part escaped: where the service
/// serves a mirrored file (the pages' links, the API's `browser_download_url`, `latest`'s
/// redirect).
pub(super) fn download_path(owner: &str, repo: &str, tag: &str, name: &str) -> String {
    format!(
        "/{}/{}/releases/download/{}/{}",
        seg(owner),
        seg(repo),
        seg(tag),
        seg(name)
    )
}

/// A recorded file of the mirror: where it is and what the database says of it.
#[derive(Debug, Clone)]
pub(super) struct Located {
    /// Its real path (inside the mirror's root, no symlink on the way).
    pub path: PathBuf,
    /// The database's record (name, size, SHA-256, what verified it).
    pub record: FileRecord,
}

/// The file `name` of `repo`'s release `tag`, if the database records it (in the newest
/// history entry of that version that is not a deletion) and it sits, unchanged in size, at its
/// place in the mirror.
pub(super) fn locate(
    config: &Config,
    db: &Database,
    repo: &RepoId,
    tag: &str,
    name: &str,
) -> Option<Located> {
    let entry = db
        .get(repo)?
        .download_history
        .iter()
        .rev()
        .find(|e| e.version == tag)
        .filter(|e| e.metadata.recorded_by.as_deref() != Some(crate::db::RETENTION))?;
    let record = entry.metadata.files.iter().find(|f| f.name == name)?;
    let layout = Layout::new(config.download.directory.clone());
    // The layout refuses names and tags that are not one plain path component.
    let path = layout.asset_path(repo, tag, name).ok()?;
    let real = inside(layout.root(), &path)?;
    let meta = std::fs::symlink_metadata(&real).ok()?;
    if !meta.is_file() || meta.len() != record.size {
        tracing::warn!(
            "{repo} {tag} {name}: the mirrored file is not the recorded one (size {} instead of \
             {}); not served",
            meta.len(),
            record.size
        );
        return None;
    }
    Some(Located {
        path: real,
        record: record.clone(),
    })
}

/// `path` resolved, when it lies under `root` without a symlink on the way (the root itself
/// may be one).
fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let relative = path.strip_prefix(root).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    let real = std::fs::canonicalize(path).ok()?;
    (real == root.join(relative)).then_some(real)
}

/// The tag `repo` holds now, for `/releases/latest/download/…`.
pub(super) fn held(db: &Database, repo: &RepoId) -> Option<String> {
    db.current_version(repo).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_inside_the_mirror_is_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("mirror");
        std::fs::create_dir_all(root.join("a_b/v1")).unwrap();
        std::fs::write(root.join("a_b/v1/f"), "x").unwrap();
        std::fs::write(tmp.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), root.join("a_b/v1/link")).unwrap();
        assert!(inside(&root, &root.join("a_b/v1/f")).is_some());
        assert!(inside(&root, &root.join("a_b/v1/link")).is_none());
        assert!(inside(&root, &tmp.path().join("secret")).is_none());
        // A symlinked root is fine.
        let link = tmp.path().join("via");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        assert!(inside(&link, &link.join("a_b/v1/f")).is_some());
    }
}
