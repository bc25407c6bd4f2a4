//! The mirror's layout: the one place that turns a repository, a tag and an asset name into a
//! path, and the checks that keep untrusted tag and asset names from acting as paths.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{MirrorError, io_err};
use crate::repo::RepoId;

/// The longest file name (in bytes) the common Linux file systems accept. Checking it here gives
/// a clear error naming the asset (or archive entry) instead of an `ENAMETOOLONG` halfway through
/// a download or an extraction.
pub(super) const MAX_NAME_BYTES: usize = 255;

/// Turns a release tag into the name of exactly one folder, so that a tag such as `cli/v1.2.0`
/// or `..` can neither create nested folders nor climb out of the repository's folder.
///
/// `/`, `\`, `%` (so that the encoding stays injective: two different tags never share a
/// folder), NUL and every control character are percent-encoded as their UTF-8 bytes (`%2F`);
/// a tag that is exactly `.` or `..` has its dots encoded (`%2E`). Everything else (unicode,
/// spaces, `+`, `@`) is kept, so ordinary tags keep their seed-tool folder names. An empty tag,
/// or one whose encoding is longer than a file name may be, is an error.
pub fn encode_tag(tag: &str) -> Result<String, MirrorError> {
    let unsafe_tag = |reason: String| MirrorError::UnsafeName {
        what: "tag",
        name: tag.to_string(),
        reason,
    };
    if tag.is_empty() {
        return Err(unsafe_tag("a tag must not be empty".to_string()));
    }
    let mut out = String::with_capacity(tag.len());
    if tag == "." || tag == ".." {
        for _ in 0..tag.len() {
            out.push_str("%2E");
        }
        return Ok(out);
    }
    for c in tag.chars() {
        if c == '/' || c == '\\' || c == '%' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    if out.len() > MAX_NAME_BYTES {
        return Err(unsafe_tag(format!(
            "its folder name would be {} bytes long (at most {MAX_NAME_BYTES})",
            out.len()
        )));
    }
    Ok(out)
}

/// The folder in the download directory where retention moves a release folder before
/// deleting it, so a half-deleted release is never seen under its own name. Skipped by every
/// scan; leftovers of an interrupted run are removed by the next one.
pub const TRASH_DIR: &str = ".release-monitor-trash";

/// The tag whose folder is `folder`, or `None` if `folder` is not a name [`encode_tag`] makes
/// (a temporary or foreign folder), so nothing but a release folder is ever taken for one.
pub fn decode_tag(folder: &str) -> Option<String> {
    let tag = percent_encoding::percent_decode_str(folder)
        .decode_utf8()
        .ok()?
        .into_owned();
    (encode_tag(&tag).ok()? == folder).then_some(tag)
}

/// Checks that an asset name from GitHub is a plain file name, so it cannot write anywhere but
/// its release folder. Unlike a tag, a bad asset name is never encoded: the asset fails, because
/// a consumer looking for it by its name would not find it anyway.
///
/// Refused: an empty name, `.`, `..`, a name containing `/`, `\`, NUL or any control character,
/// and a name longer than 255 bytes.
pub fn check_asset_name(name: &str) -> Result<(), MirrorError> {
    let reason = if name.is_empty() {
        Some("an asset name must not be empty".to_string())
    } else if name == "." || name == ".." {
        Some("it is not a file name".to_string())
    } else if name.starts_with('.') {
        // GitHub renames such names; the mirror keeps dot names for its own files (part files,
        // temp files), so an upstream name can never be one of them.
        Some("it starts with a dot (the mirror's own files do)".to_string())
    } else if name.len() > MAX_NAME_BYTES {
        Some(format!(
            "it is {} bytes long (at most {MAX_NAME_BYTES})",
            name.len()
        ))
    } else {
        name.chars()
            .find(|c| *c == '/' || *c == '\\' || c.is_control())
            .map(|c| format!("it contains {c:?}"))
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(MirrorError::UnsafeName {
            what: "asset name",
            name: name.to_string(),
            reason,
        }),
    }
}

/// The download directory's layout: the one place that turns a repository, a tag and an asset
/// name into a path, so every stage agrees on where a file lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The download directory.
    root: PathBuf,
    /// One release's files directly in `root` (see [`Layout::flat`]).
    flat: bool,
}

impl Layout {
    /// A layout rooted at the download directory `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout {
            root: root.into(),
            flat: false,
        }
    }

    /// A layout for one release whose files go directly into `root`, with source archives named
    /// `source.tar.gz` and `source.zip`: what the Concourse resource's `in` step writes (the
    /// github-release resource's names), since Concourse gives each fetched version its own
    /// directory.
    pub fn flat(root: impl Into<PathBuf>) -> Layout {
        Layout {
            root: root.into(),
            flat: true,
        }
    }

    /// The download directory, for callers that scan or check space on it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/owner_repo`: the folder holding every release of one repository. (The parts of a
    /// [`RepoId`] are already checked to be plain names.)
    pub fn repo_dir(&self, repo: &RepoId) -> PathBuf {
        if self.flat {
            return self.root.clone();
        }
        self.root.join(repo_folder(repo))
    }

    /// `root/owner_repo/<encoded tag>` (see [`encode_tag`]): the folder of one release. Nothing
    /// is created; see [`Layout::prepare_dir`].
    pub fn release_dir(&self, repo: &RepoId, tag: &str) -> Result<PathBuf, MirrorError> {
        let encoded = encode_tag(tag)?;
        if self.flat {
            return Ok(self.root.clone());
        }
        Ok(self.repo_dir(repo).join(encoded))
    }

    /// `root/owner_repo/<encoded tag>/<asset>`: where a verified asset lives. The asset name is
    /// checked with [`check_asset_name`].
    pub fn asset_path(
        &self,
        repo: &RepoId,
        tag: &str,
        asset: &str,
    ) -> Result<PathBuf, MirrorError> {
        check_asset_name(asset)?;
        Ok(self.release_dir(repo, tag)?.join(asset))
    }

    /// `root/owner_repo/<encoded tag>/owner_repo-<encoded tag>.tar.gz` (or `.zip`): where the
    /// release's source archive lives, named as the seed tool named it.
    pub fn source_archive_path(
        &self,
        repo: &RepoId,
        tag: &str,
        zip: bool,
    ) -> Result<PathBuf, MirrorError> {
        let encoded = encode_tag(tag)?;
        let ext = if zip { "zip" } else { "tar.gz" };
        if self.flat {
            return Ok(self.root.join(format!("source.{ext}")));
        }
        let name = format!("{}-{encoded}.{ext}", repo_folder(repo));
        if name.len() > MAX_NAME_BYTES {
            return Err(MirrorError::UnsafeName {
                what: "tag",
                name: tag.to_string(),
                reason: format!(
                    "the source archive's name would be {} bytes long (at most {MAX_NAME_BYTES})",
                    name.len()
                ),
            });
        }
        Ok(self.repo_dir(repo).join(encoded).join(name))
    }

    /// Creates the release folder (and the download directory and repository folder if needed)
    /// and checks, on disk, that it resolves inside the download directory: a symlink planted as
    /// `owner_repo` or as the tag folder is refused with [`MirrorError::Escape`].
    ///
    /// The folders are created one level at a time and each is checked before the next is
    /// created inside it, so nothing is ever created outside the download directory. Returns the
    /// release folder as [`Layout::release_dir`] spells it (the same prefix as
    /// [`Layout::asset_path`]).
    pub fn prepare_dir(&self, repo: &RepoId, tag: &str) -> Result<PathBuf, MirrorError> {
        let release = self.release_dir(repo, tag)?;
        fs::create_dir_all(&self.root)
            .map_err(io_err(&self.root, "cannot create the download directory"))?;
        if self.flat {
            return Ok(release);
        }
        let root = fs::canonicalize(&self.root)
            .map_err(io_err(&self.root, "cannot resolve the download directory"))?;
        for dir in [self.repo_dir(repo), release.clone()] {
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&dir, "cannot create the folder")(e)),
            }
            let resolved =
                fs::canonicalize(&dir).map_err(io_err(&dir, "cannot resolve the folder"))?;
            if !resolved.starts_with(&root) || resolved == root {
                return Err(MirrorError::Escape {
                    path: resolved,
                    root,
                });
            }
            if !resolved.is_dir() {
                return Err(MirrorError::Io {
                    path: dir,
                    context: "cannot use it as a folder",
                    source: io::Error::from(io::ErrorKind::NotADirectory),
                });
            }
        }
        Ok(release)
    }
}

/// `owner_repo`, the seed tool's name for a repository's folder (`host%2Fowner%2Frepo` for
/// another forge's; see [`RepoId::folder`]).
fn repo_folder(repo: &RepoId) -> String {
    repo.folder()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::{part_path, sidecar_path};
    use std::collections::HashMap;

    fn repo() -> RepoId {
        RepoId::new("owner", "repo").unwrap()
    }

    #[test]
    fn encode_tag_keeps_ordinary_tags_and_encodes_path_characters() {
        let cases = [
            ("v1.2.0", "v1.2.0"),
            ("cli/v1.2.0", "cli%2Fv1.2.0"),
            ("a\\b", "a%5Cb"),
            ("100%", "100%25"),
            ("..", "%2E%2E"),
            (".", "%2E"),
            ("...", "..."),
            ("a\0b", "a%00b"),
            ("a\tb", "a%09b"),
            ("a\u{7f}b", "a%7Fb"),
            ("a\u{85}b", "a%C2%85b"),
            ("v1.0 béta+build@x", "v1.0 béta+build@x"),
            ("版本-1", "版本-1"),
        ];
        for (tag, want) in cases {
            assert_eq!(encode_tag(tag).unwrap(), want, "{tag:?}");
        }
    }

    #[test]
    fn encode_tag_refuses_empty_and_overlong_tags() {
        assert!(matches!(
            encode_tag(""),
            Err(MirrorError::UnsafeName { what: "tag", .. })
        ));
        assert!(encode_tag(&"a".repeat(255)).is_ok());
        assert!(encode_tag(&"a".repeat(256)).is_err());
        assert!(encode_tag(&"/".repeat(90)).is_err());
    }

    #[test]
    fn encode_tag_is_injective_and_yields_one_plain_component() {
        let tags = [
            "a/b", "a%2Fb", "a%b", "a%25b", "a\\b", "a%5Cb", ".", "%2E", "..", "%2E%2E", "...",
            "a\0b", "a%00b", "v1", "v1/", "v1%", "%", "%%", "%25",
        ];
        let mut seen = HashMap::new();
        for tag in tags {
            let enc = encode_tag(tag).unwrap();
            if let Some(other) = seen.insert(enc.clone(), tag) {
                panic!("{tag:?} and {other:?} both encode to {enc:?}");
            }
            let mut parts = Path::new(&enc).components();
            assert!(
                matches!(parts.next(), Some(std::path::Component::Normal(_))),
                "{enc:?}"
            );
            assert!(parts.next().is_none(), "{enc:?}");
        }
    }

    #[test]
    fn hostile_asset_names_are_refused() {
        let long = "a".repeat(256);
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "a/b",
            "a\\b",
            "..",
            ".",
            "",
            "a\0b",
            "a\nb",
            "a\u{1b}[31m",
            long.as_str(),
        ] {
            let err = check_asset_name(bad).unwrap_err();
            assert!(
                matches!(err, MirrorError::UnsafeName { what: "asset name", ref name, .. } if name == bad),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains("asset name"), "{err}");
            assert!(Layout::new("/m").asset_path(&repo(), "v1", bad).is_err());
        }
    }

    #[test]
    fn ordinary_asset_names_are_accepted() {
        for good in [
            "tool-1.0_linux-amd64.tar.gz",
            "My Tool Setup 1.0.exe",
            "outil-é-版本.zip",
            "tool.",
            &"a".repeat(255),
        ] {
            check_asset_name(good).unwrap();
        }
        // A leading dot is the mirror's own files' mark (GitHub renames such names).
        for dotted in ["...", ".hidden", ".tool.tar.gz.part"] {
            let err = check_asset_name(dotted).unwrap_err().to_string();
            assert!(err.contains("starts with a dot"), "{err}");
        }
    }

    #[test]
    fn paths_follow_the_seed_layout() {
        let layout = Layout::new("/mirror");
        let r = repo();
        assert_eq!(layout.repo_dir(&r), PathBuf::from("/mirror/owner_repo"));
        assert_eq!(
            layout.release_dir(&r, "cli/v1.2.0").unwrap(),
            PathBuf::from("/mirror/owner_repo/cli%2Fv1.2.0")
        );
        assert_eq!(
            layout.asset_path(&r, "v1.2.0", "tool.tar.gz").unwrap(),
            PathBuf::from("/mirror/owner_repo/v1.2.0/tool.tar.gz")
        );
        assert_eq!(
            layout.source_archive_path(&r, "v1.2.0", false).unwrap(),
            PathBuf::from("/mirror/owner_repo/v1.2.0/owner_repo-v1.2.0.tar.gz")
        );
        assert_eq!(
            layout.source_archive_path(&r, "a/b", true).unwrap(),
            PathBuf::from("/mirror/owner_repo/a%2Fb/owner_repo-a%2Fb.zip")
        );
        assert!(
            layout
                .source_archive_path(&r, &"a".repeat(250), true)
                .is_err()
        );
        let fin = Path::new("/mirror/owner_repo/v1/tool.tar.gz");
        assert_eq!(
            part_path(fin),
            PathBuf::from("/mirror/owner_repo/v1/.tool.tar.gz.part")
        );
        assert_eq!(
            sidecar_path(fin),
            PathBuf::from("/mirror/owner_repo/v1/tool.tar.gz.sha256")
        );
    }

    #[test]
    fn prepare_dir_creates_the_release_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path().join("mirror"));
        let dir = layout.prepare_dir(&repo(), "cli/v1").unwrap();
        assert_eq!(dir, tmp.path().join("mirror/owner_repo/cli%2Fv1"));
        assert!(dir.is_dir());
        // Idempotent.
        assert_eq!(layout.prepare_dir(&repo(), "cli/v1").unwrap(), dir);
    }

    #[test]
    fn prepare_dir_refuses_a_symlinked_repo_folder_pointing_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("mirror");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("owner_repo")).unwrap();
        let err = Layout::new(&root).prepare_dir(&repo(), "v1").unwrap_err();
        assert!(matches!(err, MirrorError::Escape { .. }), "{err}");
        // Nothing was created outside the download directory.
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);

        // Also through the tag folder.
        let root2 = tmp.path().join("mirror2");
        fs::create_dir_all(root2.join("owner_repo")).unwrap();
        std::os::unix::fs::symlink("/etc", root2.join("owner_repo/v1")).unwrap();
        let err = Layout::new(&root2).prepare_dir(&repo(), "v1").unwrap_err();
        assert!(matches!(err, MirrorError::Escape { .. }), "{err}");
    }

    #[test]
    fn prepare_dir_allows_a_symlinked_root() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir_all(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let dir = Layout::new(&link).prepare_dir(&repo(), "v1").unwrap();
        assert!(dir.is_dir());
        assert!(real.join("owner_repo/v1").is_dir());
    }

    #[test]
    fn decode_inverts_encode_and_refuses_foreign_names() {
        for tag in ["v1.2.0", "cli/v1.0", "..", "100%", "a\\b", "ünï code"] {
            let folder = encode_tag(tag).unwrap();
            assert_eq!(decode_tag(&folder).as_deref(), Some(tag), "{folder}");
        }
        // Not names encode_tag makes: a raw `%` sequence for a safe character, a bad escape.
        assert_eq!(decode_tag("v%31.0"), None);
        assert_eq!(decode_tag("%zz"), None);
        assert_eq!(decode_tag("%2"), None);
    }
}
