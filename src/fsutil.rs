//! Durable file replacement, shared by every file this tool rewrites (the version database,
//! the monitor's state file).
//!
//! The new content goes to a temp file in the same directory, which is fsynced, given the old
//! file's permissions, renamed over the target, and then the directory is fsynced. A reader sees
//! the old file or the new one, never a mix; a crash leaves one of them (and perhaps an orphan
//! temp file, named by [`temp_prefix`] and [`TEMP_SUFFIX`]).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The suffix of temp files.
pub const TEMP_SUFFIX: &str = ".tmp";

/// The environment variable that makes a write stop at a named point (`<prefix>-write-half`,
/// `<prefix>-before-rename`, `<prefix>-after-rename`; the database's prefix is `db`; with
/// `@<file name>`, only for that file) until a line arrives on stdin. Only the crash-safety tests set it: it lets them kill a process *inside* a
/// write without guessing with sleeps.
pub const PAUSE_VAR: &str = "RELEASE_MONITOR_PAUSE_AT";

/// Temp files for `path` are `.<file name>.<random>.tmp`, next to it.
pub fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    format!(".{name}.")
}

/// The directory holding `path` (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Replaces `path` with `bytes` durably. On failure, returns what was being done with the error.
/// `pause_prefix` names the test pause points (see [`PAUSE_VAR`]).
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    pause_prefix: &str,
) -> Result<(), (&'static str, io::Error)> {
    let dir = dir_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(&dir)
        .map_err(|e| ("cannot create a temp file next to it", e))?;
    let (first, rest) = bytes.split_at(bytes.len() / 2);
    tmp.write_all(first)
        .and_then(|()| {
            pause(pause_prefix, "write-half", path, Some(tmp.as_file()))?;
            tmp.write_all(rest)?;
            tmp.as_file().sync_all()
        })
        .map_err(|e| ("cannot write the temp file", e))?;
    let permissions = fs::metadata(path)
        .map(|m| m.permissions())
        .ok()
        .or_else(default_permissions);
    if let Some(permissions) = permissions {
        fs::set_permissions(tmp.path(), permissions)
            .map_err(|e| ("cannot set the temp file's permissions", e))?;
    }
    pause(pause_prefix, "before-rename", path, None).map_err(|e| ("test pause", e))?;
    tmp.persist(path)
        .map_err(|e| ("cannot rename the temp file over it", e.error))?;
    pause(pause_prefix, "after-rename", path, None).map_err(|e| ("test pause", e))?;
    sync_dir(&dir).map_err(|e| ("cannot fsync its directory", e))
}

/// The mode of a file created from scratch: `rw-r--r--`, not the temp file's `rw-------`.
#[cfg(unix)]
fn default_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o644))
}

/// Elsewhere a new temp file already has the ordinary permissions.
#[cfg(not(unix))]
fn default_permissions() -> Option<fs::Permissions> {
    None
}

/// Makes a rename durable: on Unix, fsync the directory that holds the entry.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// If [`PAUSE_VAR`] names this point: sync `file`, announce the point on stderr, and wait for a
/// line on stdin.
/// The variable may also name one file, `{point}@{file name}` (files are written concurrently,
/// so a test that needs one particular file paused says which).
fn pause(prefix: &str, point: &str, path: &Path, file: Option<&fs::File>) -> io::Result<()> {
    let name = format!("{prefix}-{point}");
    let Some(wanted) = std::env::var_os(PAUSE_VAR) else {
        return Ok(());
    };
    let wanted = wanted.to_string_lossy();
    let (wanted_point, wanted_file) = match wanted.split_once('@') {
        Some((p, f)) => (p, Some(f)),
        None => (wanted.as_ref(), None),
    };
    let file_name = path.file_name().map(|n| n.to_string_lossy());
    if wanted_point != name || wanted_file.is_some_and(|f| file_name.as_deref() != Some(f)) {
        return Ok(());
    }
    if let Some(f) = file {
        f.sync_all()?;
    }
    let mut err = io::stderr().lock();
    writeln!(err, "release-monitor: paused at {name}")?;
    err.flush()?;
    drop(err);
    let mut line = String::new();
    io::stdin().read_line(&mut line)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"one", "t").unwrap();
        write_atomic(&path, b"two", "t").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(temp_prefix(&path), ".state.json.");
        assert_eq!(dir_of(Path::new("x.json")), PathBuf::from("."));
    }
}
