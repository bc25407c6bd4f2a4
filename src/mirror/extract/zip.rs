//! Zip archives (`.zip`): every entry through the shared [`Unpacker`] checks; a symlink's target
//! is the entry's (short) content.

use std::fs::File;
use std::io::{BufReader, Read};

use super::{ExtractError, Unpacker, entry_path, refuse};

/// The longest symlink target read from a zip entry (a target is a path, not content).
const MAX_LINK_TARGET: u64 = 4096;

/// Unpacks the zip archive `file` into `u`.
pub(super) fn unpack(u: &mut Unpacker<'_>, file: File) -> Result<(), ExtractError> {
    u.zip(file)
}

impl Unpacker<'_> {
    /// Unpacks a zip file.
    fn zip(&mut self, file: File) -> Result<(), ExtractError> {
        let mut archive =
            zip::ZipArchive::new(BufReader::new(file)).map_err(|e| self.corrupt(e))?;
        if archive.len() as u64 > u64::from(self.limits.max_files) {
            return Err(ExtractError::TooManyFiles {
                limit: self.limits.max_files,
            });
        }
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).map_err(|e| self.corrupt(e))?;
            let name = entry.name().map_err(|e| self.corrupt(e))?.into_owned();
            self.count_entry()?;
            let rel = entry_path(&name).map_err(|r| refuse(&name, r))?;
            let mode = entry.unix_mode();
            if entry.is_dir() {
                self.directory(&name, &rel, mode.unwrap_or(0o755))?;
            } else if entry.is_symlink() {
                let mut target = Vec::new();
                (&mut entry)
                    .take(MAX_LINK_TARGET)
                    .read_to_end(&mut target)
                    .map_err(|e| self.corrupt(format!("entry {name:?}: {e}")))?;
                let target = String::from_utf8(target)
                    .map_err(|_| refuse(&name, "its link target is not UTF-8"))?;
                self.symlink(&name, &rel, &target)?;
            } else {
                self.file(&name, &rel, mode.unwrap_or(0o644), &mut entry)?;
            }
        }
        Ok(())
    }
}
