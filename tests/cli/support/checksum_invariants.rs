//! The checksum readers' invariants, shared by the fuzz target
//! (`fuzz/fuzz_targets/checksum_file.rs`) and by `tests/cli/fuzz_seeds.rs`, which replays the fuzz
//! seeds in `cargo test`.
//!
//! The input (UTF-8 text) is read as a checksum file, and each of its lines as a GitHub
//! `digest` field and as a release asset name. They must hold:
//! - every parsed entry has a non-empty name and a checksum of the right length in lowercase hex;
//!   there are at most as many entries as lines;
//! - writing the entries back (GNU `hex *name` with `\` escapes where needed; BSD
//!   `SHA256 (name) = hex` for a name ending in whitespace) and parsing that gives the same
//!   entries (nothing is lost or changed by a round trip);
//! - a checksum's `Display` (`sha256:<hex>`) is read back by `Checksum::from_github_digest` to
//!   the same checksum, and an accepted digest is the input trimmed and lowercased;
//! - `classify_asset_name` says `Sidecar` only for `<asset><suffix>` names, and never calls a
//!   signature or key (`.asc`, `.sig`, ...) a checksum file;
//! - `checksum_assets` returns a subsequence of its input.

use release_monitor::download::checksum::{
    Algorithm, Checksum, ChecksumLine, ChecksumSource, checksum_assets, classify_asset_name,
    parse_checksum_file,
};

const SIGNATURE_EXTENSIONS: [&str; 11] = [
    ".asc",
    ".sig",
    ".gpg",
    ".pem",
    ".pub",
    ".minisig",
    ".sigstore",
    ".bundle",
    ".cert",
    ".crt",
    ".key",
];

/// Checks every invariant on one input.
pub fn check_input(input: &str) {
    let entries = parse_checksum_file(input);
    assert!(
        entries.len() <= input.lines().count(),
        "more entries than lines"
    );
    for entry in &entries {
        check_entry(entry);
    }
    let rendered = render(&entries);
    assert_eq!(
        parse_checksum_file(&rendered),
        entries,
        "the entries written back as {rendered:?} read differently"
    );

    let lines: Vec<&str> = input.lines().collect();
    for line in &lines {
        check_digest(line);
    }
    for pair in lines.windows(2) {
        check_classify(pair[1], Some(pair[0]));
    }
    for line in &lines {
        check_classify(line, None);
    }
    let picked = checksum_assets(&lines);
    let mut rest = lines.iter();
    for name in &picked {
        assert!(
            rest.any(|l| std::ptr::eq(*l, *name)),
            "checksum_assets returned {name:?} out of order or not from its input"
        );
    }
}

fn check_entry(entry: &ChecksumLine) {
    assert!(!entry.name.is_empty(), "an entry without a name");
    check_checksum(&entry.checksum);
}

fn check_checksum(checksum: &Checksum) {
    let hex = checksum.hex();
    assert_eq!(
        hex.len(),
        checksum.algorithm().hex_len(),
        "{checksum}: wrong length"
    );
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{checksum}: not lowercase hex"
    );
    let again = Checksum::from_github_digest(&checksum.to_string())
        .unwrap_or_else(|e| panic!("{checksum} does not read back: {e}"));
    assert_eq!(&again, checksum);
    let rebuilt = Checksum::new(checksum.algorithm(), hex).expect("a valid checksum rebuilds");
    assert_eq!(&rebuilt, checksum);
}

fn check_digest(digest: &str) {
    if let Ok(checksum) = Checksum::from_github_digest(digest) {
        check_checksum(&checksum);
        assert_eq!(
            checksum.to_string(),
            digest.trim().to_ascii_lowercase(),
            "digest {digest:?} was changed beyond trimming and lowercasing"
        );
        assert!(matches!(
            checksum.algorithm(),
            Algorithm::Sha256 | Algorithm::Sha512
        ));
    }
}

fn check_classify(name: &str, for_asset: Option<&str>) {
    match classify_asset_name(name, for_asset) {
        Some(ChecksumSource::Sidecar) => {
            let asset = for_asset.expect("a sidecar needs an asset");
            assert!(
                name.starts_with(asset),
                "{name:?} is no sidecar of {asset:?}"
            );
            assert!(name.len() > asset.len(), "{name:?} is the asset itself");
        }
        Some(ChecksumSource::File) => {
            let lower = name.to_ascii_lowercase();
            assert!(
                !SIGNATURE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext)),
                "the signature {name:?} was taken for a checksum file"
            );
        }
        None => {}
    }
}

/// Writes entries back as a checksum file: `hex *name` (GNU), with `\` escapes where the name
/// has `\` or a newline, as `sha256sum` does; a name that ends in whitespace (possible in BSD
/// lines, not in GNU ones, which are trimmed) as `SHA256 (name) = hex` (BSD).
fn render(entries: &[ChecksumLine]) -> String {
    let mut out = String::new();
    for entry in entries {
        let name = &entry.name;
        let hex = entry.checksum.hex();
        if name.ends_with(char::is_whitespace) && !name.contains('\n') {
            let tag = entry.checksum.algorithm().name().to_ascii_uppercase();
            out.push_str(&format!("{tag} ({name}) = {hex}"));
        } else if name.contains('\\') || name.contains('\n') {
            let escaped = name.replace('\\', "\\\\").replace('\n', "\\n");
            out.push_str(&format!("\\{hex} *{escaped}"));
        } else {
            out.push_str(&format!("{hex} *{name}"));
        }
        out.push('\n');
    }
    out
}
