//! Tar archives, plain or compressed (`.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`/`.tbz2`/`.tbz`,
//! `.tar.xz`/`.txz`): the decompressor for the format, then every entry through the shared
//! [`Unpacker`] checks.

use std::fs::File;
use std::io::{BufReader, Read};

use super::{ExtractError, Format, Unpacker, entry_path, refuse};

/// Memory the xz decoder may use for its dictionary (in KiB): `xz -9` needs 64 MiB, so 256 MiB
/// leaves room while refusing a header that asks for gigabytes.
const XZ_MEM_LIMIT_KB: u32 = 256 * 1024;

/// Unpacks the tar archive `file` of `format` (any tar format; a zip is not one) into `u`.
pub(super) fn unpack(u: &mut Unpacker<'_>, format: Format, file: File) -> Result<(), ExtractError> {
    let file = BufReader::new(file);
    match format {
        Format::TarGz => u.tar(flate2::read::MultiGzDecoder::new(file)),
        Format::TarXz => u.tar(lzma_rust2::XzReader::new_mem_limit(
            file,
            true,
            XZ_MEM_LIMIT_KB,
        )),
        Format::TarBz2 => u.tar(bzip2::read::MultiBzDecoder::new(file)),
        Format::Tar | Format::Zip => u.tar(file),
    }
}

impl Unpacker<'_> {
    /// Unpacks a tar stream.
    fn tar<R: Read>(&mut self, reader: R) -> Result<(), ExtractError> {
        use tar::EntryType;
        let mut archive = tar::Archive::new(reader);
        let entries = archive.entries().map_err(|e| self.corrupt(e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.corrupt(e))?;
            let kind = entry.header().entry_type();
            if matches!(
                kind,
                EntryType::XGlobalHeader
                    | EntryType::XHeader
                    | EntryType::GNULongName
                    | EntryType::GNULongLink
            ) {
                continue;
            }
            let raw = entry.path_bytes().into_owned();
            let name = String::from_utf8(raw).map_err(|e| {
                refuse(
                    &String::from_utf8_lossy(e.as_bytes()),
                    "its name is not UTF-8",
                )
            })?;
            self.count_entry()?;
            let rel = entry_path(&name).map_err(|r| refuse(&name, r))?;
            let mode = entry.header().mode().unwrap_or(0o644);
            let link = |entry: &tar::Entry<'_, R>| -> Result<String, ExtractError> {
                let bytes = entry
                    .link_name_bytes()
                    .ok_or_else(|| refuse(&name, "a link entry without a target"))?;
                String::from_utf8(bytes.into_owned())
                    .map_err(|_| refuse(&name, "its link target is not UTF-8"))
            };
            match kind {
                EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                    self.file(&name, &rel, mode, &mut entry)?;
                }
                EntryType::Directory => self.directory(&name, &rel, mode)?,
                EntryType::Symlink => {
                    let target = link(&entry)?;
                    self.symlink(&name, &rel, &target)?;
                }
                EntryType::Link => {
                    let target = link(&entry)?;
                    self.hardlink(&name, &rel, &target)?;
                }
                other => tracing::warn!(
                    "skipping archive entry {name:?}: {other:?} entries (devices, pipes) are not extracted"
                ),
            }
        }
        Ok(())
    }
}
