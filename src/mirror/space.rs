//! The free-space check made before a release's downloads start.

use std::path::Path;

use super::{MirrorError, io_err};

/// Checks, before a download starts, that the file system holding `dir` has room for `needed`
/// bytes plus a safety `margin`, so a full disk is reported up front instead of as a truncated
/// write. Returns the available bytes.
pub fn ensure_space(dir: &Path, needed: u64, margin: u64) -> Result<u64, MirrorError> {
    let available = fs4::available_space(dir).map_err(io_err(dir, "cannot read the free space"))?;
    let total = needed.saturating_add(margin);
    if available < total {
        return Err(MirrorError::NoSpace {
            needed: total,
            available,
            dir: dir.to_path_buf(),
        });
    }
    Ok(available)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_space_refuses_what_the_disk_cannot_hold() {
        let tmp = tempfile::tempdir().unwrap();
        let available = ensure_space(tmp.path(), 1, 0).unwrap();
        assert!(available >= 1);
        let err = ensure_space(tmp.path(), u64::MAX / 2, 0).unwrap_err();
        assert!(matches!(err, MirrorError::NoSpace { .. }), "{err}");
        assert!(matches!(
            ensure_space(tmp.path(), u64::MAX, u64::MAX),
            Err(MirrorError::NoSpace {
                needed: u64::MAX,
                ..
            })
        ));
    }
}
