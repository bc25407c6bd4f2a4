//! Extraction tests on archives built here with the same crates: path and link escapes, bombs,
//! modes, the five formats, corrupt input, and re-runs.

use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;

use super::*;

/// One entry of a crafted archive. Names and link targets are written into the headers as they
/// are, unchecked, so hostile ones can be built.
enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Sym(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

fn tar_bytes(entries: &[E<'_>]) -> Vec<u8> {
    let mut builder = ::tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = ::tar::Header::new_gnu();
        let (name, data, kind, mode, link): (&str, &[u8], _, u32, Option<&str>) = match e {
            E::File(n, d, m) => (n, d, ::tar::EntryType::Regular, *m, None),
            E::Dir(n) => (n, b"", ::tar::EntryType::Directory, 0o755, None),
            E::Sym(n, t) => (n, b"", ::tar::EntryType::Symlink, 0o777, Some(t)),
            E::Hard(n, t) => (n, b"", ::tar::EntryType::Link, 0o644, Some(t)),
        };
        assert!(name.len() < 100);
        h.as_mut_bytes()[..100].fill(0);
        h.as_mut_bytes()[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        if let Some(t) = link {
            h.set_link_name_literal(t).unwrap();
        }
        h.set_cksum();
        builder.append(&h, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

fn bz2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zip_bytes(entries: &[E<'_>]) -> Vec<u8> {
    use ::zip::write::SimpleFileOptions;
    let mut w = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Deflated);
    for e in entries {
        match e {
            E::File(n, d, m) => {
                w.start_file(*n, opts.unix_permissions(*m)).unwrap();
                w.write_all(d).unwrap();
            }
            E::Dir(n) => w.add_directory(*n, opts).unwrap(),
            E::Sym(n, t) => w.add_symlink(*n, *t, opts).unwrap(),
            E::Hard(..) => panic!("zip has no hard links"),
        }
    }
    w.finish().unwrap().into_inner()
}

/// A release folder holding one archive named `name`, plus a sibling `outside/` folder that no
/// extraction may touch.
struct Release {
    dir: tempfile::TempDir,
    archive: PathBuf,
}

impl Release {
    fn new(name: &str, bytes: &[u8]) -> Release {
        let dir = tempfile::tempdir().unwrap();
        let release = dir.path().join("downloads/acme_tool/v1.0.0");
        fs::create_dir_all(&release).unwrap();
        fs::create_dir_all(dir.path().join("outside")).unwrap();
        let archive = release.join(name);
        fs::write(&archive, bytes).unwrap();
        Release { dir, archive }
    }

    fn release_dir(&self) -> PathBuf {
        self.archive.parent().unwrap().to_path_buf()
    }

    fn extract(&self, limits: &ExtractLimits) -> Result<Extracted, ExtractError> {
        extract(&self.archive, limits, Existing::Replace)
    }

    /// The release folder's entries, sorted: after a failure, only the archive.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.release_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn assert_nothing_left(&self) {
        let archive = self
            .archive
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            self.listing(),
            vec![archive],
            "no final or temp folder is left"
        );
        assert_eq!(
            fs::read_dir(self.dir.path().join("outside"))
                .unwrap()
                .count(),
            0,
            "nothing was written outside"
        );
        assert!(!self.dir.path().join("downloads/acme_tool/evil").exists());
        assert!(!self.dir.path().join("evil").exists());
    }
}

fn limits() -> ExtractLimits {
    ExtractLimits::default()
}

fn refused(r: Result<Extracted, ExtractError>) -> String {
    match r {
        Err(e @ ExtractError::UnsafeEntry { .. }) => e.to_string(),
        other => panic!("expected an unsafe entry, got {other:?}"),
    }
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

// ---------------------------------------------------------------------------------------------
// Names and formats

#[test]
fn detects_formats_and_stems_case_insensitively() {
    assert_eq!(
        Format::detect("tool-1.0-linux.tar.gz"),
        Some((Format::TarGz, "tool-1.0-linux"))
    );
    assert_eq!(Format::detect("T.TGZ"), Some((Format::TarGz, "T")));
    assert_eq!(Format::detect("a.tar.xz"), Some((Format::TarXz, "a")));
    assert_eq!(Format::detect("a.txz"), Some((Format::TarXz, "a")));
    assert_eq!(Format::detect("a.tar.bz2"), Some((Format::TarBz2, "a")));
    assert_eq!(Format::detect("a.tbz2"), Some((Format::TarBz2, "a")));
    assert_eq!(Format::detect("a.tar"), Some((Format::Tar, "a")));
    assert_eq!(Format::detect("a.Zip"), Some((Format::Zip, "a")));
    assert_eq!(Format::detect("a.gz"), None);
    assert_eq!(Format::detect("SHA256SUMS"), None);
    assert_eq!(Format::detect("tool-linux-amd64"), None);
}

#[test]
fn entry_names_are_checked() {
    assert_eq!(entry_path("./a//b/./c").unwrap(), PathBuf::from("a/b/c"));
    assert_eq!(entry_path("./").unwrap(), PathBuf::new());
    assert!(entry_path("../evil").unwrap_err().contains(".."));
    assert!(entry_path("a/../../evil").unwrap_err().contains(".."));
    assert!(entry_path("/etc/passwd").unwrap_err().contains("absolute"));
    assert!(entry_path("a\\..\\b").unwrap_err().contains("'\\\\'"));
    assert!(entry_path("a\u{0}b").is_err());
    assert!(entry_path("a\nb").is_err());
    assert!(entry_path(&"x".repeat(256)).is_err());
}

#[test]
fn link_targets_are_checked() {
    let link = Path::new("bin/tool");
    assert!(check_link_target(link, "../lib/tool").is_ok());
    assert!(check_link_target(link, "tool-1.0").is_ok());
    assert!(check_link_target(link, "./x/./y").is_ok());
    assert!(
        check_link_target(link, "../..")
            .unwrap_err()
            .contains("outside")
    );
    assert!(
        check_link_target(Path::new("x"), "..")
            .unwrap_err()
            .contains("outside")
    );
    assert!(
        check_link_target(link, "/etc")
            .unwrap_err()
            .contains("absolute")
    );
    assert!(
        check_link_target(link, "a/../..")
            .unwrap_err()
            .contains("after a name")
    );
    assert!(check_link_target(link, "").is_err());
}

#[test]
fn an_empty_stem_or_an_unknown_extension_is_refused() {
    let r = Release::new(".tar.gz", &gz(&tar_bytes(&[])));
    assert!(matches!(
        r.extract(&limits()),
        Err(ExtractError::FolderName(_))
    ));
    let r = Release::new("tool.bin", b"x");
    let e = r.extract(&limits()).unwrap_err();
    assert!(matches!(e, ExtractError::NotAnArchive { .. }), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Escapes

#[test]
fn zip_slip_is_refused_in_tar_and_zip() {
    let entries = [
        E::File("ok.txt", b"fine", 0o644),
        E::File("../evil", b"x", 0o644),
    ];
    let r = Release::new("t.tar.gz", &gz(&tar_bytes(&entries)));
    let msg = refused(r.extract(&limits()));
    assert!(msg.contains("\"../evil\"") && msg.contains(".."), "{msg}");
    r.assert_nothing_left();

    let entries = [E::File("a/../../../evil", b"x", 0o644)];
    let r = Release::new("t.zip", &zip_bytes(&entries));
    refused(r.extract(&limits()));
    r.assert_nothing_left();
}

#[test]
fn absolute_paths_are_refused() {
    let target = tempfile::tempdir().unwrap();
    let evil = target.path().join("evil");
    let name = evil.to_str().unwrap().to_string();
    let r = Release::new("t.tar", &tar_bytes(&[E::File(&name, b"x", 0o644)]));
    assert!(refused(r.extract(&limits())).contains("absolute"));
    assert!(!evil.exists());
    r.assert_nothing_left();

    let r = Release::new("t.zip", &zip_bytes(&[E::File(&name, b"x", 0o644)]));
    assert!(refused(r.extract(&limits())).contains("absolute"));
    assert!(!evil.exists());
    r.assert_nothing_left();
}

#[test]
fn symlinks_pointing_outside_are_refused() {
    for target in ["/etc", "../..", "..", "sub/../../x"] {
        let entries = [E::Dir("sub"), E::Sym("link", target)];
        let r = Release::new("t.tar.gz", &gz(&tar_bytes(&entries)));
        let msg = refused(r.extract(&limits()));
        assert!(msg.contains("\"link\""), "{target}: {msg}");
        r.assert_nothing_left();

        let r = Release::new("t.zip", &zip_bytes(&entries));
        refused(r.extract(&limits()));
        r.assert_nothing_left();
    }
}

#[test]
fn a_file_is_never_written_through_a_symlink() {
    // `dir/up -> ..` points inside (at the folder itself), so it is allowed; writing
    // `dir/up/../../evil`-style paths is impossible by name, but a file *through* the link is
    // refused too, as is a file replacing the link.
    for entries in [
        vec![
            E::Dir("dir"),
            E::Sym("dir/up", ".."),
            E::File("dir/up/x", b"x", 0o644),
        ],
        vec![
            E::Sym("link", "sub"),
            E::Dir("sub"),
            E::File("link/x", b"x", 0o644),
        ],
        vec![
            E::Sym("link", "target"),
            E::File("link", b"overwrite", 0o644),
        ],
    ] {
        let r = Release::new("t.tar", &tar_bytes(&entries));
        refused(r.extract(&limits()));
        r.assert_nothing_left();
    }
    let r = Release::new(
        "t.zip",
        &zip_bytes(&[
            E::Sym("link", "sub"),
            E::Dir("sub/"),
            E::File("link/x", b"x", 0o644),
        ]),
    );
    assert!(refused(r.extract(&limits())).contains("through"));
    r.assert_nothing_left();
}

#[test]
fn hard_links_must_name_a_file_extracted_before() {
    for target in [
        "../../../etc/passwd",
        "/etc/passwd",
        "missing",
        "dir",
        "link/f",
    ] {
        let entries = [
            E::Dir("dir"),
            E::File("dir/f", b"data", 0o644),
            E::Sym("link", "dir"),
            E::Hard("hl", target),
        ];
        let r = Release::new("t.tar", &tar_bytes(&entries));
        let msg = refused(r.extract(&limits()));
        assert!(msg.contains("\"hl\""), "{target}: {msg}");
        r.assert_nothing_left();
    }
    // A good one shares the file.
    let entries = [E::File("f", b"data", 0o755), E::Hard("g", "./f")];
    let r = Release::new("t.tar", &tar_bytes(&entries));
    let out = r.extract(&limits()).unwrap();
    assert_eq!(fs::read(out.path.join("g")).unwrap(), b"data");
    assert_eq!(out.entries, 2);
}

#[test]
fn duplicate_entries_are_refused() {
    let entries = [E::File("a", b"one", 0o644), E::File("a", b"two", 0o644)];
    let r = Release::new("t.tar", &tar_bytes(&entries));
    assert!(refused(r.extract(&limits())).contains("already has this name"));
    r.assert_nothing_left();
}

// ---------------------------------------------------------------------------------------------
// Bombs

#[test]
fn the_size_cap_stops_while_streaming() {
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let r = Release::new(
        "t.tar.gz",
        &gz(&tar_bytes(&[E::File("big", &zeros, 0o644)])),
    );
    let capped = ExtractLimits {
        max_bytes: 1024 * 1024,
        max_ratio: u32::MAX,
        ..limits()
    };
    let e = r.extract(&capped).unwrap_err();
    assert!(
        matches!(e, ExtractError::TooLarge { limit } if limit == 1024 * 1024),
        "{e}"
    );
    assert!(e.to_string().contains("max_bytes"), "{e}");
    r.assert_nothing_left();

    // Exactly at the cap is fine.
    let at = ExtractLimits {
        max_bytes: zeros.len() as u64,
        max_ratio: u32::MAX,
        ..limits()
    };
    assert_eq!(r.extract(&at).unwrap().bytes, zeros.len() as u64);
}

#[test]
fn the_ratio_cap_fails_a_bomb_in_every_format() {
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let entries = [
        E::File("a", b"small", 0o644),
        E::File("zeros", &zeros, 0o644),
    ];
    let tar = tar_bytes(&entries);
    for (name, bytes) in [
        ("t.tar.gz", gz(&tar)),
        ("t.tar.xz", xz(&tar)),
        ("t.tar.bz2", bz2(&tar)),
        ("t.zip", zip_bytes(&entries)),
    ] {
        let r = Release::new(name, &bytes);
        let e = r.extract(&limits()).unwrap_err();
        assert!(
            matches!(e, ExtractError::Ratio { limit: 200, .. }),
            "{name}: {e}"
        );
        assert!(e.to_string().contains("max_ratio"), "{e}");
        r.assert_nothing_left();
    }
}

#[test]
fn the_file_count_cap_fails_cleanly() {
    let names: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
    let entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"x", 0o644)).collect();
    let few = ExtractLimits {
        max_files: 10,
        ..limits()
    };
    for (name, bytes) in [
        ("t.tar.gz", gz(&tar_bytes(&entries))),
        ("t.zip", zip_bytes(&entries)),
    ] {
        let r = Release::new(name, &bytes);
        let e = r.extract(&few).unwrap_err();
        assert!(
            matches!(e, ExtractError::TooManyFiles { limit: 10 }),
            "{name}: {e}"
        );
        r.assert_nothing_left();
        let ten = ExtractLimits {
            max_files: 11,
            ..limits()
        };
        assert_eq!(r.extract(&ten).unwrap().entries, 11);
    }
}

// ---------------------------------------------------------------------------------------------
// Good archives

#[test]
fn every_format_round_trips_with_modes() {
    let entries = [
        E::Dir("tool-1.0/"),
        E::Dir("tool-1.0/bin"),
        E::File("tool-1.0/bin/tool", b"#!/bin/sh\necho hi\n", 0o755),
        E::File("tool-1.0/README", b"read me", 0o644),
        E::File("tool-1.0/suid", b"s", 0o4755),
        E::Sym("tool-1.0/bin/alias", "tool"),
        E::Sym("tool-1.0/readme-link", "./README"),
    ];
    let tar = tar_bytes(&entries);
    for (name, bytes) in [
        ("pkg.tar.gz", gz(&tar)),
        ("pkg.tgz", gz(&tar)),
        ("pkg.tar.xz", xz(&tar)),
        ("pkg.tar.bz2", bz2(&tar)),
        ("pkg.tar", tar.clone()),
        ("pkg.zip", zip_bytes(&entries)),
    ] {
        let r = Release::new(name, &bytes);
        let out = r
            .extract(&limits())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.path, r.release_dir().join("pkg"), "{name}");
        assert!(!out.already);
        assert_eq!(out.entries, 7, "{name}");
        assert_eq!(out.bytes, 18 + 7 + 1, "{name}");
        let root = out.path.join("tool-1.0");
        assert_eq!(
            fs::read(root.join("bin/tool")).unwrap(),
            b"#!/bin/sh\necho hi\n"
        );
        assert_eq!(
            mode(&root.join("bin/tool")),
            0o755,
            "{name}: the exec bit is kept"
        );
        assert_eq!(mode(&root.join("README")), 0o644, "{name}");
        assert_eq!(mode(&root.join("suid")), 0o755, "{name}: setuid is dropped");
        assert_eq!(
            fs::read_link(root.join("bin/alias")).unwrap(),
            Path::new("tool")
        );
        assert_eq!(fs::read(root.join("readme-link")).unwrap(), b"read me");
        assert_eq!(mode(&out.path), 0o755);
        let mut expected = vec![name.to_string(), "pkg".to_string()];
        expected.sort();
        assert_eq!(r.listing(), expected, "{name}: no temp folder is left");
    }
}

#[test]
fn global_pax_headers_are_skipped() {
    // GitHub's source tarballs start with a pax global header holding the commit id.
    let mut builder = ::tar::Builder::new(Vec::new());
    let mut pax = ::tar::Header::new_ustar();
    let record = b"52 comment=0123456789012345678901234567890123456789\n";
    pax.set_path("pax_global_header").unwrap();
    pax.set_entry_type(::tar::EntryType::XGlobalHeader);
    pax.set_size(record.len() as u64);
    pax.set_cksum();
    builder.append(&pax, &record[..]).unwrap();
    let mut file = ::tar::Header::new_ustar();
    file.set_path("acme-tool-0123456/README").unwrap();
    file.set_size(2);
    file.set_mode(0o644);
    file.set_cksum();
    builder.append(&file, &b"hi"[..]).unwrap();
    let r = Release::new(
        "acme_tool-v1.0.0.tar.gz",
        &gz(&builder.into_inner().unwrap()),
    );
    let out = r.extract(&limits()).unwrap();
    assert_eq!(out.entries, 1);
    assert_eq!(
        fs::read(out.path.join("acme-tool-0123456/README")).unwrap(),
        b"hi"
    );
}

// ---------------------------------------------------------------------------------------------
// Corrupt archives

#[test]
fn a_corrupt_archive_gives_a_clear_error() {
    let mut rng = fastrand::Rng::with_seed(7);
    let noise: Vec<u8> = (0..100_000).map(|_| rng.u8(..)).collect();
    let good = gz(&tar_bytes(&[E::File("f", &noise, 0o644)]));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("t.tar.gz", b"this is not gzip at all".to_vec(), "tar.gz"),
        ("t.tar.gz", good[..good.len() / 2].to_vec(), "tar.gz"),
        ("t.tar.xz", b"not xz".to_vec(), "tar.xz"),
        ("t.tar.bz2", b"BZh9 not really".to_vec(), "tar.bz2"),
        ("t.zip", b"PK\x03\x04 truncated".to_vec(), "zip"),
        ("t.tar", vec![0xAB; 1024], "tar"),
    ];
    for (name, bytes, format) in cases {
        let r = Release::new(name, &bytes);
        let e = r.extract(&limits()).unwrap_err();
        assert!(
            matches!(&e, ExtractError::Corrupt { format: f, .. } if *f == format),
            "{name}: {e:?}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("not a valid {format} archive: ")),
            "{e}"
        );
        r.assert_nothing_left();
    }
}

// ---------------------------------------------------------------------------------------------
// Re-runs

#[test]
fn rerun_keeps_or_replaces_the_folder() {
    let r = Release::new("p.tar", &tar_bytes(&[E::File("v", b"one", 0o644)]));
    r.extract(&limits()).unwrap();
    // Keep: untouched, even though the archive changed.
    fs::write(&r.archive, tar_bytes(&[E::File("v", b"two", 0o644)])).unwrap();
    let kept = extract(&r.archive, &limits(), Existing::Keep).unwrap();
    assert!(kept.already);
    assert_eq!(fs::read(kept.path.join("v")).unwrap(), b"one");
    // Replace: the new tree is swapped in, and nothing else is left.
    let replaced = extract(&r.archive, &limits(), Existing::Replace).unwrap();
    assert!(!replaced.already);
    assert_eq!(fs::read(replaced.path.join("v")).unwrap(), b"two");
    assert_eq!(r.listing(), vec!["p", "p.tar"]);
    // A failed replacement leaves the old tree.
    fs::write(&r.archive, tar_bytes(&[E::File("../evil", b"x", 0o644)])).unwrap();
    refused(extract(&r.archive, &limits(), Existing::Replace));
    assert_eq!(fs::read(replaced.path.join("v")).unwrap(), b"two");
    assert_eq!(r.listing(), vec!["p", "p.tar"]);
}

#[test]
fn a_file_or_symlink_under_the_folder_name_is_not_replaced() {
    let r = Release::new("tool.tar", &tar_bytes(&[E::File("v", b"x", 0o644)]));
    fs::write(r.release_dir().join("tool"), b"the tool binary").unwrap();
    for existing in [Existing::Keep, Existing::Replace] {
        let e = extract(&r.archive, &limits(), existing).unwrap_err();
        assert!(matches!(e, ExtractError::Occupied { .. }), "{e}");
    }
    assert_eq!(
        fs::read(r.release_dir().join("tool")).unwrap(),
        b"the tool binary"
    );
    fs::remove_file(r.release_dir().join("tool")).unwrap();
    std::os::unix::fs::symlink(r.dir.path().join("outside"), r.release_dir().join("tool")).unwrap();
    let e = r.extract(&limits()).unwrap_err();
    assert!(matches!(e, ExtractError::Occupied { .. }), "{e}");
    assert_eq!(
        fs::read_dir(r.dir.path().join("outside")).unwrap().count(),
        0
    );
}

#[test]
fn every_archive_gets_a_folder_of_its_own() {
    let f = |names: &[&str]| {
        folders(names)
            .into_iter()
            .collect::<Vec<(String, String)>>()
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    // Distinct stems: the name without the extension.
    assert_eq!(
        f(&["tool-linux.tar.gz", "tool-darwin.zip", "notes.txt"]),
        [
            pair("tool-darwin.zip", "tool-darwin"),
            pair("tool-linux.tar.gz", "tool-linux")
        ]
    );
    // One stem, two archives: both take their whole name, whatever the order.
    for names in [["tool.tar.gz", "tool.zip"], ["tool.zip", "tool.tar.gz"]] {
        assert_eq!(
            f(&names),
            [
                pair("tool.tar.gz", "tool.tar.gz.extracted"),
                pair("tool.zip", "tool.zip.extracted")
            ]
        );
    }
    // The stem is another file's name, or a sidecar's.
    assert_eq!(
        f(&["tool", "tool.tar.gz"]),
        [pair("tool.tar.gz", "tool.tar.gz.extracted")]
    );
    assert_eq!(
        f(&["x", "x.sha256.tar.gz"]),
        [pair("x.sha256.tar.gz", "x.sha256.tar.gz.extracted")]
    );
    // Nothing free: no folder, so never extracted over a file.
    assert_eq!(f(&["a", "a.tar.gz", "a.tar.gz.extracted"]), []);
}
