//! Retention (`download.cleanup_old_versions`, `download.keep_versions`): keep the newest N
//! versions of each repository and delete the older release folders.
//!
//! It exists so a mirror's storage stays bounded. Versions are ordered by the version engine
//! under each repository's rules (never by file times, which a copy or a restore changes). The
//! version the database holds is always kept, even when it is not among the newest N (a pinned
//! `target_version`). A folder that is not a release folder, or whose tag is not a version under
//! the repository's rules, is never deleted. Each deletion is recorded in the repository's
//! history.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::db::{Database, VersionDb, now};
use crate::mirror::{Layout, TRASH_DIR, decode_tag};
use crate::monitor::same_pin;
use crate::repo::RepoId;
use crate::version::Version;

/// A release folder retention deletes (or, in a dry run, would delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// `owner/repo`.
    pub repository: String,
    /// The release's tag.
    pub tag_name: String,
    /// The release folder.
    pub path: String,
    /// Files in it (paths relative to the download directory).
    pub files: Vec<String>,
    /// Their total size.
    pub bytes: u64,
}

/// A folder retention leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    /// `owner/repo`.
    pub repository: String,
    /// The folder.
    pub path: String,
    /// Why it is kept.
    pub reason: String,
}

/// A deletion (or the recording of one) that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionFailure {
    /// `owner/repo`.
    pub repository: String,
    /// The release's tag, when one release failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_name: Option<String>,
    /// What went wrong.
    pub error: String,
}

/// What retention did, printed as JSON (`cleanup`, or `retention` in the download result).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    /// How many versions of each repository are kept.
    pub keep_versions: u32,
    /// Release folders deleted and recorded.
    pub deleted: Vec<Removal>,
    /// With `--dry-run`: the release folders that would be deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<Removal>,
    /// Folders left alone because they are not versions under the repository's rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<Ignored>,
    /// Deletions that failed.
    pub failed: Vec<RetentionFailure>,
}

/// Deletes a release's copy elsewhere (object storage) before its local folder goes.
pub type RemoteDelete<'a> = dyn FnMut(&RepoId, &str) -> Result<Vec<String>, String> + 'a;

/// Decides which release folders go: for each configured repository, every release folder
/// whose tag is a version, newest first by the version engine, beyond the first
/// `keep_versions`, except the version `db` holds.
pub fn plan(config: &Config, db: &Database) -> RetentionReport {
    let keep = config.download.keep_versions.max(1) as usize;
    let layout = Layout::new(config.download.directory.clone());
    let mut report = RetentionReport {
        keep_versions: keep as u32,
        ..RetentionReport::default()
    };
    for repository in &config.repositories {
        let Ok(repo) = repository.id() else {
            continue;
        };
        let scheme = config.repository_settings(repository).scheme();
        let dir = layout.repo_dir(&repo);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                report.failed.push(RetentionFailure {
                    repository: repo.to_string(),
                    tag_name: None,
                    error: format!("cannot read {}: {e}", dir.display()),
                });
                continue;
            }
        };
        let mut versions: Vec<(Version, PathBuf)> = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let ignore = |reason: &str| Ignored {
                repository: repo.to_string(),
                path: path.display().to_string(),
                reason: reason.to_string(),
            };
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    report
                        .ignored
                        .push(ignore("a symlink (never followed or deleted)"));
                    continue;
                }
                Ok(m) if m.is_dir() => {}
                _ => continue,
            }
            let Some(tag) = entry.file_name().to_str().and_then(decode_tag) else {
                report.ignored.push(ignore("not a release folder"));
                continue;
            };
            match scheme.parse(&tag) {
                Ok(v) => versions.push((v, path)),
                Err(e) => report.ignored.push(ignore(&format!("kept: {e}"))),
            }
        }
        versions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.0.tag().cmp(a.0.tag())));
        let held = db.current_version(&repo);
        for (version, path) in versions.into_iter().skip(keep) {
            if held.is_some_and(|h| h == version.tag() || same_pin(version.tag(), h)) {
                continue;
            }
            let (files, bytes) = contents(layout.root(), &path);
            report.planned.push(Removal {
                repository: repo.to_string(),
                tag_name: version.tag().to_string(),
                path: path.display().to_string(),
                files,
                bytes,
            });
        }
    }
    report
}

/// The files under `dir` (relative to `root`, symlinks listed but not followed) and their size.
fn contents(root: &Path, dir: &Path) -> (Vec<String>, u64) {
    let (mut files, mut bytes) = (Vec::new(), 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            bytes += meta.len();
            let shown = path.strip_prefix(root).unwrap_or(&path);
            files.push(shown.display().to_string());
        }
    }
    files.sort();
    (files, bytes)
}

/// Carries out a plan: for each planned folder, deletes the remote copy (if `remote` is given),
/// then the local folder (moved into the trash folder first, so a half-deleted release is never
/// seen under its own name), then records every deletion in the database in one update.
pub fn apply(
    config: &Config,
    store: &dyn VersionDb,
    mut report: RetentionReport,
    mut remote: Option<&mut RemoteDelete<'_>>,
) -> RetentionReport {
    let root = config.download.directory.clone();
    let trash = root.join(TRASH_DIR);
    empty_trash(&trash);
    let planned = std::mem::take(&mut report.planned);
    for removal in planned {
        let failed = |error: String| RetentionFailure {
            repository: removal.repository.clone(),
            tag_name: Some(removal.tag_name.clone()),
            error,
        };
        let Ok(repo) = removal.repository.parse::<RepoId>() else {
            continue;
        };
        let mut deleted = removal.files.clone();
        if let Some(remote) = remote.as_deref_mut() {
            match remote(&repo, &removal.tag_name) {
                Ok(keys) => deleted.extend(keys),
                Err(e) => {
                    report.failed.push(failed(e));
                    continue;
                }
            }
        }
        if let Err(e) = delete_folder(Path::new(&removal.path), &trash) {
            report
                .failed
                .push(failed(format!("cannot delete {}: {e}", removal.path)));
            continue;
        }
        tracing::info!(
            "{} {}: deleted ({} files, {} bytes) to keep {} versions",
            removal.repository,
            removal.tag_name,
            removal.files.len(),
            removal.bytes,
            report.keep_versions
        );
        report.deleted.push(Removal {
            files: deleted,
            ..removal
        });
    }
    if !report.deleted.is_empty() {
        let deleted = report.deleted.clone();
        let recorded = store.update(&mut |db| {
            let at = now();
            for r in &deleted {
                if let Ok(repo) = r.repository.parse::<RepoId>() {
                    db.record_deletion(&repo, &r.tag_name, r.files.clone(), &at);
                }
            }
            Ok(())
        });
        if let Err(e) = recorded {
            report.failed.push(RetentionFailure {
                repository: String::new(),
                tag_name: None,
                error: format!("the deletions were not recorded in the database: {e}"),
            });
        }
    }
    report
}

/// Moves `folder` into `trash` under a unique name, then deletes it there. Symlinks inside are
/// removed, never followed.
fn delete_folder(folder: &Path, trash: &Path) -> std::io::Result<()> {
    fs::create_dir_all(trash)?;
    let name = format!(
        "{}-{}",
        folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        fastrand::u64(..)
    );
    let doomed = trash.join(name);
    fs::rename(folder, &doomed)?;
    if let Some(parent) = folder.parent() {
        let _ = crate::fsutil::sync_dir(parent);
    }
    fs::remove_dir_all(&doomed)
}

/// Removes what an interrupted run left in the trash folder.
fn empty_trash(trash: &Path) {
    let Ok(entries) = fs::read_dir(trash) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let result = match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!("cannot empty {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Env, load_str};
    use crate::db::{JsonFileDb, Recording};

    fn setup(tags: &[&str], keep: u32, extra_repo: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let downloads = dir.path().join("downloads");
        for tag in tags {
            let folder = downloads
                .join("acme_tool")
                .join(crate::mirror::encode_tag(tag).unwrap());
            fs::create_dir_all(&folder).unwrap();
            fs::write(folder.join("tool.tar.gz"), tag.as_bytes()).unwrap();
        }
        let yaml = format!(
            "repositories:\n  - {{owner: acme, repo: tool{extra_repo}}}\n\
             download:\n  directory: {}\n  version_db: {}\n  cleanup_old_versions: true\n  keep_versions: {keep}\n",
            downloads.display(),
            dir.path().join("db.json").display()
        );
        let config = load_str(&yaml, Path::new("c.yaml"), &Env::default())
            .unwrap()
            .config;
        (dir, config)
    }

    fn tags(removals: &[Removal]) -> Vec<&str> {
        removals.iter().map(|r| r.tag_name.as_str()).collect()
    }

    #[test]
    fn keeps_the_newest_by_version_not_by_name_or_time() {
        let (_d, config) = setup(
            &["v1.9.0", "v1.10.0", "v1.2.0", "v2.0.0-rc.1", "v1.10.1"],
            2,
            "",
        );
        let report = plan(&config, &Database::new("t"));
        let mut doomed = tags(&report.planned);
        doomed.sort();
        assert_eq!(doomed, ["v1.10.0", "v1.2.0", "v1.9.0"]);
    }

    #[test]
    fn the_held_version_and_non_versions_are_kept() {
        let (_d, config) = setup(&["v1.0.0", "v2.0.0", "v3.0.0", "nightly"], 1, "");
        let mut db = Database::new("t");
        let repo = RepoId::new("acme", "tool").unwrap();
        let rec = Recording {
            version: "v1.0.0".into(),
            files: Vec::new(),
            download_time: 0.0,
            recorded_by: None,
        };
        db.record(&repo, &rec, "t");
        let report = plan(&config, &db);
        assert_eq!(tags(&report.planned), ["v2.0.0"]);
        assert_eq!(report.ignored.len(), 1, "{:?}", report.ignored);
        assert!(report.ignored[0].path.ends_with("nightly"));
    }

    #[test]
    fn apply_deletes_records_and_leaves_no_trash() {
        let (d, config) = setup(&["v1.0.0", "v2.0.0", "v3.0.0"], 2, "");
        let store = JsonFileDb::new(d.path().join("db.json"));
        let repo = RepoId::new("acme", "tool").unwrap();
        let rec = Recording {
            version: "v3.0.0".into(),
            files: Vec::new(),
            download_time: 0.0,
            recorded_by: None,
        };
        store.record_download(&repo, &rec).unwrap();
        let planned = plan(&config, &store.load().unwrap());
        let mut calls = Vec::new();
        let mut remote = |r: &RepoId, tag: &str| {
            calls.push(format!("{r} {tag}"));
            Ok(vec![format!("s3://bucket/{tag}/tool.tar.gz")])
        };
        let report = apply(&config, &store, planned, Some(&mut remote));
        assert_eq!(calls, ["acme/tool v1.0.0"]);
        assert_eq!(tags(&report.deleted), ["v1.0.0"]);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        let downloads = config.download.directory.clone();
        assert!(!downloads.join("acme_tool/v1.0.0").exists());
        assert!(downloads.join("acme_tool/v2.0.0/tool.tar.gz").exists());
        assert_eq!(
            fs::read_dir(downloads.join(TRASH_DIR)).unwrap().count(),
            0,
            "the trash is empty"
        );
        let history = store.history(&repo).unwrap();
        assert_eq!(history[0].version, "v1.0.0");
        assert_eq!(
            history[0].metadata.recorded_by.as_deref(),
            Some("retention")
        );
        assert_eq!(
            history[0].metadata.deleted,
            [
                "acme_tool/v1.0.0/tool.tar.gz",
                "s3://bucket/v1.0.0/tool.tar.gz"
            ]
        );
        assert_eq!(
            store.current_version(&repo).unwrap().as_deref(),
            Some("v3.0.0"),
            "the held version is unchanged"
        );
    }

    #[test]
    fn a_failed_remote_deletion_keeps_the_local_folder() {
        let (d, config) = setup(&["v1.0.0", "v2.0.0"], 1, "");
        let store = JsonFileDb::new(d.path().join("db.json"));
        let planned = plan(&config, &Database::new("t"));
        let mut remote = |_: &RepoId, _: &str| Err("S3 said no".to_string());
        let report = apply(&config, &store, planned, Some(&mut remote));
        assert!(report.deleted.is_empty());
        assert_eq!(report.failed.len(), 1);
        assert!(config.download.directory.join("acme_tool/v1.0.0").exists());
    }

    #[test]
    fn symlinked_folders_are_never_followed() {
        let (d, config) = setup(&["v1.0.0", "v2.0.0"], 1, "");
        let outside = d.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("precious"), b"x").unwrap();
        std::os::unix::fs::symlink(&outside, config.download.directory.join("acme_tool/v0.1.0"))
            .unwrap();
        let store = JsonFileDb::new(d.path().join("db.json"));
        let report = apply(&config, &store, plan(&config, &Database::new("t")), None);
        assert_eq!(tags(&report.deleted), ["v1.0.0"]);
        assert!(outside.join("precious").exists());
    }

    #[test]
    fn leftover_trash_is_emptied() {
        let (d, config) = setup(&["v1.0.0"], 1, "");
        let trash = config.download.directory.join(TRASH_DIR).join("v0-1");
        fs::create_dir_all(&trash).unwrap();
        fs::write(trash.join("f"), b"x").unwrap();
        let store = JsonFileDb::new(d.path().join("db.json"));
        apply(&config, &store, plan(&config, &Database::new("t")), None);
        assert!(!trash.exists());
    }
}
