//! Checksums: which upstream checksum applies to a downloaded asset, and streaming hashes. The
//! downloader's verify step (`download/verify.rs`) applies them.
//!
//! A downloaded file is only as trustworthy as the checksum it was compared with, so this module
//! looks for upstream checksums in every place a release publishes them and uses the strongest:
//!
//! 1. the asset's `digest` field from the GitHub API ([`VerifiedBy::Digest`]);
//! 2. a checksum file published as another asset of the release, such as `SHA256SUMS` or
//!    `fzf_0.46.0_checksums.txt` ([`VerifiedBy::ChecksumFile`]);
//! 3. a sibling `<asset>.sha256` / `<asset>.sha512` asset ([`VerifiedBy::Sidecar`]);
//! 4. otherwise nothing ([`VerifiedBy::None`]).
//!
//! When two sources disagree the release is inconsistent and [`expected_for`] refuses to guess.
//! The flow is: [`checksum_assets`] picks the small assets to fetch, [`expected_for`] decides
//! what the asset must hash to, [`Hasher`] / [`hash_file`] hash the bytes without holding them in
//! memory, and [`check`] compares and names the layer that verified the file.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest as _, Sha256, Sha512};

use crate::db::VerifiedBy;
use crate::trust::ProofKind;

/// Size of the read buffer used by [`hash_file`].
const READ_BUFFER: usize = 64 * 1024;

/// Suffixes that make `<asset><suffix>` the sidecar checksum of `<asset>` (compared ignoring
/// ASCII case).
const SIDECAR_SUFFIXES: [&str; 4] = [".sha256", ".sha512", ".sha256sum", ".sha512sum"];

/// Extensions of signatures, keys and certificates: such assets sit next to checksum files
/// (`SHA256SUMS.asc`, `checksums.txt.sig`) but hold no checksums themselves.
const NOT_CHECKSUM_EXTENSIONS: [&str; 11] = [
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

/// A hash algorithm used by upstream checksums. Only the SHA-2 family members that releases
/// actually publish are supported; weaker ones (MD5, SHA-1) are ignored on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-256: 64 hex digits.
    Sha256,
    /// SHA-512: 128 hex digits.
    Sha512,
}

impl Algorithm {
    /// The lowercase name used in GitHub digests and in messages (`sha256`, `sha512`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Number of hex digits in a checksum of this algorithm, to validate checksums.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// The algorithm whose checksums have `len` hex digits (GNU lines carry no algorithm tag).
    fn from_hex_len(len: usize) -> Option<Algorithm> {
        match len {
            64 => Some(Algorithm::Sha256),
            128 => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// The algorithm named by a BSD tag (`SHA256`, `SHA2-256`, `SHA512`, ...), ignoring case.
    fn from_bsd_tag(tag: &str) -> Option<Algorithm> {
        match tag.to_ascii_uppercase().as_str() {
            "SHA256" | "SHA2-256" | "SHA-256" => Some(Algorithm::Sha256),
            "SHA512" | "SHA2-512" | "SHA-512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated checksum: an algorithm and its lowercase hex value. Validating once here means
/// comparisons elsewhere are plain string equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum {
    algorithm: Algorithm,
    hex: String,
}

impl Checksum {
    /// Validates `hex` (surrounding whitespace ignored) as a checksum of `algorithm`: the right
    /// number of hex digits, nothing else. The value is stored lowercase.
    pub fn new(algorithm: Algorithm, hex: &str) -> Result<Checksum, VerifyError> {
        match validate_hex(algorithm, hex) {
            Ok(hex) => Ok(Checksum { algorithm, hex }),
            Err(reason) => Err(VerifyError::BadChecksum {
                algorithm,
                value: hex.to_string(),
                reason,
            }),
        }
    }

    /// Parses the `digest` field of a GitHub release asset (`sha256:<64 hex>`; `sha512:<128 hex>`
    /// is accepted too), so the strongest verification layer can be used when GitHub provides it.
    pub fn from_github_digest(digest: &str) -> Result<Checksum, VerifyError> {
        let bad = |reason: String| VerifyError::BadDigest {
            digest: digest.to_string(),
            reason,
        };
        let Some((name, hex)) = digest.trim().split_once(':') else {
            return Err(bad("expected `<algorithm>:<hex>`".to_string()));
        };
        let algorithm = match name.to_ascii_lowercase().as_str() {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(bad(format!("unsupported algorithm {name:?}"))),
        };
        let hex = validate_hex(algorithm, hex).map_err(bad)?;
        Ok(Checksum { algorithm, hex })
    }

    /// The algorithm, so the caller knows which hash to compute.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowercase hex value.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

/// Checks `hex` against `algorithm` and returns it trimmed and lowercased, or why it is invalid.
fn validate_hex(algorithm: Algorithm, hex: &str) -> Result<String, String> {
    let hex = hex.trim();
    if hex.len() != algorithm.hex_len() {
        return Err(format!(
            "{algorithm} needs {} hex digits, found {} characters",
            algorithm.hex_len(),
            hex.chars().count()
        ));
    }
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("{c:?} is not a hex digit"));
    }
    Ok(hex.to_ascii_lowercase())
}

/// One entry of a checksum file: the file name as written (binary marker `*` removed, `./`
/// kept) and its checksum. Names are matched against assets by [`expected_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumLine {
    /// The file name the line is about.
    pub name: String,
    /// Its checksum.
    pub checksum: Checksum,
}

/// Parses a checksum file in GNU (`hex  name`, `hex *name`) or BSD (`SHA256 (name) = hex`)
/// format, or a mix. It is lenient because releases are written by many tools: comments,
/// blank lines and lines it cannot read (other algorithms, malformed hex) are skipped, CRLF line
/// ends and a byte-order mark are tolerated.
pub fn parse_checksum_file(text: &str) -> Vec<ChecksumLine> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines().filter_map(parse_line).collect()
}

/// Parses one line of a checksum file, or `None` for comments, blanks and unreadable lines.
fn parse_line(line: &str) -> Option<ChecksumLine> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    parse_bsd_line(line).or_else(|| parse_gnu_line(line))
}

/// `TAG (name) = hex`: the name is everything between the first `(` after the tag and the last
/// `)` before the last `=` (hex digits never contain `=`), so names may contain parentheses.
fn parse_bsd_line(line: &str) -> Option<ChecksumLine> {
    let open = line.find('(')?;
    let algorithm = Algorithm::from_bsd_tag(line[..open].trim_end())?;
    let eq = line.rfind('=')?;
    if eq < open {
        return None;
    }
    let before = line[..eq].trim_end().strip_suffix(')')?;
    let name = before.get(open + 1..)?;
    if name.is_empty() {
        return None;
    }
    let checksum = Checksum::new(algorithm, &line[eq + 1..]).ok()?;
    Some(ChecksumLine {
        name: name.to_string(),
        checksum,
    })
}

/// `hex  name` or `hex *name` (GNU coreutils; a single space is tolerated). A leading `\` means
/// the name has `\\` and `\n` escapes.
fn parse_gnu_line(line: &str) -> Option<ChecksumLine> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let split = line.find(char::is_whitespace)?;
    let hex = &line[..split];
    let algorithm = Algorithm::from_hex_len(hex.len())?;
    let checksum = Checksum::new(algorithm, hex).ok()?;
    let mut rest = line[split..].chars();
    rest.next(); // the separator space
    let rest = rest.as_str();
    let name = rest
        .strip_prefix('*')
        .or_else(|| rest.strip_prefix(' '))
        .unwrap_or(rest);
    if name.is_empty() {
        return None;
    }
    let name = if escaped {
        unescape_gnu(name)
    } else {
        name.to_string()
    };
    Some(ChecksumLine { name, checksum })
}

/// Undoes GNU's name escaping (`\\` → `\`, `\n` → newline).
fn unescape_gnu(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Whether a name in a checksum file refers to `asset`: exactly, or after stripping a leading
/// binary marker `*` and leading `./`. Never by the basename of a longer path, which could
/// belong to a different build.
fn name_matches(entry: &str, asset: &str) -> bool {
    if entry == asset {
        return true;
    }
    let mut name = entry.strip_prefix('*').unwrap_or(entry);
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name == asset
}

/// What kind of checksum asset a release asset is, so the downloader knows which small assets
/// to fetch and how to read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumSource {
    /// A checksum file listing many assets (`SHA256SUMS`, `*checksums*.txt`, ...).
    File,
    /// The sidecar of one asset (`<asset>.sha256`, ...).
    Sidecar,
}

/// Classifies a release asset name: the sidecar of `for_asset` (`for_asset` followed by
/// `.sha256`, `.sha512`, `.sha256sum` or `.sha512sum`, suffix in any case), a checksum file
/// (`SHA256SUMS`, `sha256sums.txt`, `checksums.txt`, `*checksums*.txt`, `*.sha256sum`,
/// `*sha256sums*`, the SHA-512 equivalents; any case), or neither. Signatures and keys
/// (`SHA256SUMS.asc`, `checksums.txt.sig`, `cosign.pub`) are never checksum files.
pub fn classify_asset_name(name: &str, for_asset: Option<&str>) -> Option<ChecksumSource> {
    if let Some(asset) = for_asset
        && let Some(suffix) = name.strip_prefix(asset)
        && SIDECAR_SUFFIXES
            .iter()
            .any(|s| suffix.eq_ignore_ascii_case(s))
    {
        return Some(ChecksumSource::Sidecar);
    }
    is_checksum_file_name(name).then_some(ChecksumSource::File)
}

/// The checksum-file name patterns of [`classify_asset_name`].
fn is_checksum_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if NOT_CHECKSUM_EXTENSIONS
        .iter()
        .any(|ext| lower.ends_with(ext))
    {
        return false;
    }
    let sha_sum = lower.contains("sha256sum") || lower.contains("sha512sum");
    lower.contains("sha256sums")
        || lower.contains("sha512sums")
        || lower.ends_with(".sha256sum")
        || lower.ends_with(".sha512sum")
        || lower == "sha256sum"
        || lower == "sha512sum"
        || (lower.ends_with(".txt") && (lower.contains("checksum") || sha_sum))
}

/// The names in a release's asset list that hold checksums: checksum files, and sidecars of
/// another asset in the list. These are the small assets to fetch before verifying the rest.
/// Order follows `asset_names`.
pub fn checksum_assets<'a>(asset_names: &'a [&'a str]) -> Vec<&'a str> {
    let all: std::collections::HashSet<&str> = asset_names.iter().copied().collect();
    asset_names
        .iter()
        .copied()
        .filter(|name| {
            classify_asset_name(name, None) == Some(ChecksumSource::File)
                || sidecar_target(name).is_some_and(|target| all.contains(target))
        })
        .collect()
}

/// The asset a name would be the sidecar of (the name without its sidecar suffix), if it has
/// one of the sidecar suffixes.
fn sidecar_target(name: &str) -> Option<&str> {
    SIDECAR_SUFFIXES.iter().find_map(|suffix| {
        let cut = name.len().checked_sub(suffix.len())?;
        let tail = name.get(cut..)?;
        if tail.eq_ignore_ascii_case(suffix) {
            name.get(..cut).filter(|target| !target.is_empty())
        } else {
            None
        }
    })
}

/// What a downloaded asset must hash to, and the layer that said so (recorded in the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The checksum the bytes must have.
    pub checksum: Checksum,
    /// The layer the checksum came from.
    pub verified_by: VerifiedBy,
    /// Every upstream source that lists the asset, strongest first (they agree: see
    /// [`expected_for`]), so the report can name each check that held.
    pub sources: Vec<Upstream>,
}

/// One upstream source of an asset's checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The layer.
    pub kind: ProofKind,
    /// How the report names it: `digest`, `checksum-file:SHA256SUMS`, `sidecar:x.sha256`.
    pub label: String,
    /// The checksum file or sidecar's name (`None` for the digest).
    pub file: Option<String>,
    /// What it says.
    pub checksum: Checksum,
}

impl Expected {
    /// Whether hashing must also compute SHA-512 (pass to [`Hasher::new`] / [`hash_file`]):
    /// when any source gives a SHA-512, so every source can be checked.
    pub fn needs_sha512(&self) -> bool {
        self.checksum.algorithm == Algorithm::Sha512
            || self
                .sources
                .iter()
                .any(|s| s.checksum.algorithm == Algorithm::Sha512)
    }

    /// The sources whose checksum `digests` match: the checks that held.
    pub fn matched<'a>(&'a self, digests: &'a Digests) -> impl Iterator<Item = &'a Upstream> {
        self.sources.iter().filter(|s| digests.matches(&s.checksum))
    }
}

/// Where one candidate checksum came from, for precedence and messages.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Digest,
    File(&'a str),
    Sidecar(&'a str),
}

impl Source<'_> {
    fn verified_by(self) -> VerifiedBy {
        self.kind().into()
    }

    fn kind(self) -> ProofKind {
        match self {
            Source::Digest => ProofKind::Digest,
            Source::File(_) => ProofKind::ChecksumFile,
            Source::Sidecar(_) => ProofKind::Sidecar,
        }
    }

    fn upstream(self, checksum: &Checksum) -> Upstream {
        let (label, file) = match self {
            Source::Digest => ("digest".to_string(), None),
            Source::File(name) => (format!("checksum-file:{name}"), Some(name.to_string())),
            Source::Sidecar(name) => (format!("sidecar:{name}"), Some(name.to_string())),
        };
        Upstream {
            kind: self.kind(),
            label,
            file,
            checksum: checksum.clone(),
        }
    }
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Digest => f.write_str("the GitHub API digest"),
            Source::File(name) => write!(f, "checksum file {name}"),
            Source::Sidecar(name) => write!(f, "sidecar {name}"),
        }
    }
}

/// Decides what `asset_name` must hash to, from the strongest layer that has an entry for it:
/// the API `digest`, then the fetched `checksum_files`, then the fetched `sidecars` (each a
/// `(file name, text)` pair; sidecars not named after `asset_name` are ignored). Within a layer
/// the first entry wins, in the order given.
///
/// Every source is consulted even after a match: if any two give different values of the same
/// algorithm the release is inconsistent and this returns [`VerifyError::Conflict`] rather than
/// guessing. A malformed `digest` is [`VerifyError::BadDigest`]. `Ok(None)` means no upstream
/// checksum exists for the asset.
pub fn expected_for(
    asset_name: &str,
    digest: Option<&str>,
    checksum_files: &[(&str, &str)],
    sidecars: &[(&str, &str)],
) -> Result<Option<Expected>, VerifyError> {
    let mut candidates: Vec<(Source<'_>, Checksum)> = Vec::new();
    if let Some(digest) = digest {
        candidates.push((Source::Digest, Checksum::from_github_digest(digest)?));
    }
    for &(file, text) in checksum_files {
        candidates.extend(
            parse_checksum_file(text)
                .into_iter()
                .filter(|line| name_matches(&line.name, asset_name))
                .map(|line| (Source::File(file), line.checksum)),
        );
    }
    for &(file, text) in sidecars {
        if classify_asset_name(file, Some(asset_name)) != Some(ChecksumSource::Sidecar) {
            continue;
        }
        candidates.extend(
            parse_sidecar(text, asset_name)
                .into_iter()
                .map(|checksum| (Source::Sidecar(file), checksum)),
        );
    }

    for (i, (first_source, first)) in candidates.iter().enumerate() {
        if let Some((second_source, second)) = candidates[i + 1..]
            .iter()
            .find(|(_, other)| other.algorithm == first.algorithm && other.hex != first.hex)
        {
            return Err(VerifyError::Conflict {
                asset: asset_name.to_string(),
                first: format!("{first_source} says {first}"),
                second: format!("{second_source} says {second}"),
            });
        }
    }

    let mut sources: Vec<Upstream> = Vec::new();
    for (source, checksum) in &candidates {
        let upstream = source.upstream(checksum);
        if !sources.contains(&upstream) {
            sources.push(upstream);
        }
    }
    Ok(candidates
        .into_iter()
        .next()
        .map(|(source, checksum)| Expected {
            checksum,
            verified_by: source.verified_by(),
            sources,
        }))
}

/// The checksums in a sidecar for `asset`: bare hex lines, and GNU/BSD lines naming `asset`.
/// Lines naming another file are ignored.
fn parse_sidecar(text: &str, asset: &str) -> Vec<Checksum> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            if !line.contains(char::is_whitespace)
                && let Some(algorithm) = Algorithm::from_hex_len(line.len())
            {
                return Checksum::new(algorithm, line).ok();
            }
            parse_line(line)
                .filter(|entry| name_matches(&entry.name, asset))
                .map(|entry| entry.checksum)
        })
        .collect()
}

/// Streaming hasher: computes SHA-256 always (the database records it) and SHA-512 only when
/// the expected checksum needs it, as the bytes arrive, so no file is held in memory.
pub struct Hasher {
    sha256: Sha256,
    sha512: Option<Sha512>,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("sha512", &self.sha512.is_some())
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher that also computes SHA-512 when `need_sha512`
    /// (see [`Expected::needs_sha512`]).
    pub fn new(need_sha512: bool) -> Hasher {
        Hasher {
            sha256: Sha256::new(),
            sha512: need_sha512.then(Sha512::new),
        }
    }

    /// Feeds the next chunk of bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        if let Some(sha512) = &mut self.sha512 {
            sha512.update(bytes);
        }
    }

    /// Finishes hashing and returns the digests.
    pub fn finish(self) -> Digests {
        Digests {
            sha256: hex::encode(self.sha256.finalize()),
            sha512: self.sha512.map(|h| hex::encode(h.finalize())),
        }
    }
}

/// The digests of a downloaded file, lowercase hex: what gets compared with the expected
/// checksum and recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// SHA-256, always computed.
    pub sha256: String,
    /// SHA-512, when it was asked for.
    pub sha512: Option<String>,
}

impl Digests {
    /// The SHA-256 (and SHA-512) of bytes in memory.
    pub fn of(bytes: &[u8]) -> Digests {
        let mut hasher = Hasher::new(true);
        hasher.update(bytes);
        hasher.finish()
    }

    /// The digest for `algorithm`, if it was computed.
    pub fn get(&self, algorithm: Algorithm) -> Option<&str> {
        match algorithm {
            Algorithm::Sha256 => Some(&self.sha256),
            Algorithm::Sha512 => self.sha512.as_deref(),
        }
    }

    /// Whether the file has the `expected` checksum. False when the needed digest was not
    /// computed (SHA-512 not asked for), since then nothing was verified.
    pub fn matches(&self, expected: &Checksum) -> bool {
        self.get(expected.algorithm)
            .is_some_and(|actual| actual.eq_ignore_ascii_case(&expected.hex))
    }
}

/// Hashes the file at `path` in 64 KiB chunks (never the whole file in memory), e.g. to
/// re-verify a file already on disk.
pub fn hash_file(path: &Path, need_sha512: bool) -> io::Result<Digests> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Hasher::new(need_sha512);
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finish())
}

/// Why an upstream checksum could not be used, or why a file failed verification.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The asset's GitHub API `digest` field cannot be read.
    #[error("malformed GitHub asset digest {digest:?}: {reason}")]
    BadDigest {
        /// The field as received.
        digest: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A checksum value is not valid for its algorithm.
    #[error("malformed {algorithm} checksum {value:?}: {reason}")]
    BadChecksum {
        /// The algorithm it was read as.
        algorithm: Algorithm,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two upstream sources disagree about an asset: the release is inconsistent.
    #[error(
        "conflicting upstream checksums for {asset}: {first}, but {second}; \
         the release is inconsistent, refusing to guess"
    )]
    Conflict {
        /// The asset.
        asset: String,
        /// The stronger source and its value (`checksum file SHA256SUMS says sha256:...`).
        first: String,
        /// The disagreeing source and its value.
        second: String,
    },
    /// The downloaded bytes do not have the upstream checksum.
    #[error(
        "{asset}: checksum mismatch: {} says {expected}, but the downloaded file is {actual}",
        layer_description(.verified_by)
    )]
    Mismatch {
        /// The asset.
        asset: String,
        /// The expected checksum (`sha256:<hex>`).
        expected: String,
        /// What the downloaded bytes hash to (`sha256:<hex>`).
        actual: String,
        /// The layer that supplied `expected`.
        verified_by: VerifiedBy,
    },
}

/// Names a verification layer in messages.
fn layer_description(verified_by: &VerifiedBy) -> &'static str {
    match verified_by {
        VerifiedBy::Digest => "the GitHub API digest",
        VerifiedBy::ChecksumFile => "the release's checksum file",
        VerifiedBy::Sidecar => "the sidecar checksum asset",
        _ => "the expected checksum",
    }
}

/// Compares a downloaded file's `digests` with the `expected` checksum and returns the layer to
/// record: `Ok(VerifiedBy::None)` when there is no upstream checksum, the expected layer when
/// the digests match, [`VerifyError::Mismatch`] (naming both values) when they do not.
pub fn check(
    asset: &str,
    digests: &Digests,
    expected: Option<&Expected>,
) -> Result<VerifiedBy, VerifyError> {
    let Some(expected) = expected else {
        return Ok(VerifiedBy::None);
    };
    if digests.matches(&expected.checksum) {
        return Ok(expected.verified_by);
    }
    let algorithm = expected.checksum.algorithm;
    let actual = match digests.get(algorithm) {
        Some(hex) => format!("{algorithm}:{hex}"),
        None => format!("unknown ({algorithm} was not computed)"),
    };
    Err(VerifyError::Mismatch {
        asset: asset.to_string(),
        expected: expected.checksum.to_string(),
        actual,
        verified_by: expected.verified_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const ABC_SHA512: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                              2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn h256(c: char) -> String {
        c.to_string().repeat(64)
    }

    fn h512(c: char) -> String {
        c.to_string().repeat(128)
    }

    fn sha256(hex: &str) -> Checksum {
        Checksum::new(Algorithm::Sha256, hex).unwrap()
    }

    fn one(text: &str) -> ChecksumLine {
        let lines = parse_checksum_file(text);
        assert_eq!(lines.len(), 1, "{lines:?}");
        lines.into_iter().next().unwrap()
    }

    // --- Algorithm / Checksum ---

    #[test]
    fn algorithm_names() {
        assert_eq!(Algorithm::Sha256.name(), "sha256");
        assert_eq!(Algorithm::Sha512.name(), "sha512");
        assert_eq!(Algorithm::Sha512.to_string(), "sha512");
    }

    #[test]
    fn checksum_new_lowercases() {
        let c = Checksum::new(Algorithm::Sha256, &"AB".repeat(32)).unwrap();
        assert_eq!(c.hex(), "ab".repeat(32));
        assert_eq!(c.algorithm(), Algorithm::Sha256);
    }

    #[test]
    fn checksum_new_rejects_wrong_length() {
        let err = Checksum::new(Algorithm::Sha512, &h256('a')).unwrap_err();
        assert!(matches!(err, VerifyError::BadChecksum { .. }), "{err}");
        assert!(err.to_string().contains("128"), "{err}");
    }

    #[test]
    fn checksum_new_rejects_non_hex() {
        let bad = format!("{}g", "a".repeat(63));
        let err = Checksum::new(Algorithm::Sha256, &bad).unwrap_err();
        assert!(err.to_string().contains("'g'"), "{err}");
    }

    #[test]
    fn checksum_new_rejects_multibyte_of_right_byte_length() {
        // 62 ASCII bytes + one 2-byte char = 64 bytes but not hex.
        let bad = format!("{}é", "a".repeat(62));
        assert!(Checksum::new(Algorithm::Sha256, &bad).is_err());
    }

    #[test]
    fn checksum_display() {
        assert_eq!(
            sha256(ABC_SHA256).to_string(),
            format!("sha256:{ABC_SHA256}")
        );
    }

    #[test]
    fn github_digest_good() {
        let c = Checksum::from_github_digest(&format!("sha256:{ABC_SHA256}")).unwrap();
        assert_eq!(c, sha256(ABC_SHA256));
    }

    #[test]
    fn github_digest_uppercase_hex() {
        let c =
            Checksum::from_github_digest(&format!("sha256:{}", ABC_SHA256.to_uppercase())).unwrap();
        assert_eq!(c.hex(), ABC_SHA256);
    }

    #[test]
    fn github_digest_sha512() {
        let c = Checksum::from_github_digest(&format!("sha512:{ABC_SHA512}")).unwrap();
        assert_eq!(c.algorithm(), Algorithm::Sha512);
    }

    #[test]
    fn github_digest_wrong_length() {
        let err = Checksum::from_github_digest(&format!("sha256:{}", "a".repeat(63))).unwrap_err();
        assert!(matches!(err, VerifyError::BadDigest { .. }), "{err}");
    }

    #[test]
    fn github_digest_sha512_prefix_with_sha256_value() {
        let err = Checksum::from_github_digest(&format!("sha512:{ABC_SHA256}")).unwrap_err();
        assert!(matches!(err, VerifyError::BadDigest { .. }));
    }

    #[test]
    fn github_digest_wrong_prefix() {
        for digest in [
            format!("md5:{}", "a".repeat(32)),
            format!("sha1:{}", "a".repeat(40)),
            format!("sha-256:{ABC_SHA256}"),
            ABC_SHA256.to_string(),
            String::new(),
        ] {
            let err = Checksum::from_github_digest(&digest).unwrap_err();
            assert!(matches!(err, VerifyError::BadDigest { .. }), "{digest}");
        }
    }

    // --- GNU lines ---

    #[test]
    fn gnu_two_spaces() {
        let l = one(&format!("{ABC_SHA256}  tool.tar.gz\n"));
        assert_eq!(l.name, "tool.tar.gz");
        assert_eq!(l.checksum, sha256(ABC_SHA256));
    }

    #[test]
    fn gnu_binary_marker() {
        let l = one(&format!("{ABC_SHA256} *tool.exe"));
        assert_eq!(l.name, "tool.exe");
    }

    #[test]
    fn gnu_dot_slash_kept_in_name() {
        let l = one(&format!("{ABC_SHA256}  ./tool.tar.gz"));
        assert_eq!(l.name, "./tool.tar.gz");
    }

    #[test]
    fn gnu_single_space_tolerated() {
        let l = one(&format!("{ABC_SHA256} tool.tar.gz"));
        assert_eq!(l.name, "tool.tar.gz");
    }

    #[test]
    fn gnu_name_with_spaces() {
        let l = one(&format!("{ABC_SHA256}  my file.zip"));
        assert_eq!(l.name, "my file.zip");
    }

    #[test]
    fn gnu_sha512_by_length() {
        let l = one(&format!("{ABC_SHA512}  tool.tar.gz"));
        assert_eq!(l.checksum.algorithm(), Algorithm::Sha512);
        assert_eq!(l.checksum.hex(), ABC_SHA512);
    }

    #[test]
    fn gnu_uppercase_hex_lowercased() {
        let l = one(&format!("{}  a", ABC_SHA256.to_uppercase()));
        assert_eq!(l.checksum.hex(), ABC_SHA256);
    }

    #[test]
    fn gnu_other_lengths_skipped() {
        let text = format!(
            "{}  md5.bin\n{}  sha1.bin\n",
            "a".repeat(32),
            "b".repeat(40)
        );
        assert!(parse_checksum_file(&text).is_empty());
    }

    #[test]
    fn gnu_escaped_name() {
        let l = one(&format!("\\{ABC_SHA256}  a\\\\b\\nc"));
        assert_eq!(l.name, "a\\b\nc");
    }

    #[test]
    fn crlf_comments_blank_lines_bom() {
        let text = format!(
            "\u{feff}# generated by goreleaser\r\n\r\n{}  a.tar.gz\r\n  # indented comment\r\n{} *b.zip\r\n",
            h256('1'),
            h512('2')
        );
        let lines = parse_checksum_file(&text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].name, "a.tar.gz");
        assert_eq!(lines[1].name, "b.zip");
        assert_eq!(lines[1].checksum.algorithm(), Algorithm::Sha512);
    }

    #[test]
    fn garbage_lines_skipped() {
        let text = format!(
            "not a checksum\n{}  \nzz{}  x\n{}  good\n",
            h256('a'),
            "a".repeat(62),
            h256('b')
        );
        let lines = parse_checksum_file(&text);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].name, "good");
    }

    // --- BSD lines ---

    #[test]
    fn bsd_sha256() {
        let l = one(&format!("SHA256 (tool.tar.gz) = {ABC_SHA256}"));
        assert_eq!(l.name, "tool.tar.gz");
        assert_eq!(l.checksum, sha256(ABC_SHA256));
    }

    #[test]
    fn bsd_sha512() {
        let l = one(&format!("SHA512 (tool.tar.gz) = {ABC_SHA512}"));
        assert_eq!(l.checksum.algorithm(), Algorithm::Sha512);
    }

    #[test]
    fn bsd_name_with_spaces_and_parentheses() {
        let l = one(&format!("SHA256 (my (weird) file.tar.gz) = {ABC_SHA256}"));
        assert_eq!(l.name, "my (weird) file.tar.gz");
    }

    #[test]
    fn bsd_name_containing_close_paren_equals() {
        let l = one(&format!("SHA256 (a) = b.tar.gz) = {ABC_SHA256}"));
        assert_eq!(l.name, "a) = b.tar.gz");
    }

    #[test]
    fn bsd_openssl_style_without_spaces() {
        let l = one(&format!("SHA2-256(tool.tar.gz)= {ABC_SHA256}\r"));
        assert_eq!(l.name, "tool.tar.gz");
    }

    #[test]
    fn bsd_tag_and_length_must_agree() {
        assert!(parse_checksum_file(&format!("SHA512 (a) = {ABC_SHA256}")).is_empty());
        assert!(parse_checksum_file(&format!("SHA256 (a) = {ABC_SHA512}")).is_empty());
    }

    #[test]
    fn bsd_other_algorithms_skipped() {
        assert!(parse_checksum_file(&format!("MD5 (a) = {}", "a".repeat(32))).is_empty());
        assert!(parse_checksum_file(&format!("SHA1 (a) = {}", "a".repeat(40))).is_empty());
    }

    #[test]
    fn bsd_and_gnu_mixed() {
        let text = format!(
            "SHA256 (a) = {}\n{}  b\n# c\nSHA512 (d) = {}\n",
            h256('1'),
            h256('2'),
            h512('3')
        );
        let names: Vec<_> = parse_checksum_file(&text)
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["a", "b", "d"]);
    }

    // --- classify_asset_name / checksum_assets ---

    #[test]
    fn classify_checksum_files() {
        for name in [
            "SHA256SUMS",
            "SHA512SUMS",
            "sha256sums.txt",
            "checksums.txt",
            "fzf_0.46.0_checksums.txt",
            "ripgrep-checksums.txt",
            "tool_1.0_SHA256SUMS",
            "tool-1.0.sha256sum",
            "Tool-SHA256SUMS.txt",
            "CHECKSUMS.TXT",
            "tool-sha512sums-linux",
        ] {
            assert_eq!(
                classify_asset_name(name, None),
                Some(ChecksumSource::File),
                "{name}"
            );
        }
    }

    #[test]
    fn classify_not_checksum_files() {
        for name in [
            "cosign.pub",
            "tool.sig",
            "tool.tar.gz",
            "SHA256SUMS.asc",
            "SHA256SUMS.sig",
            "checksums.txt.sig",
            "checksums.txt.pem",
            "checksums.zip",
            "README.txt",
            "tool.sha256",
        ] {
            assert_eq!(classify_asset_name(name, None), None, "{name}");
        }
    }

    #[test]
    fn classify_sidecar() {
        let asset = "ripgrep-14.1.0-x86_64-unknown-linux-musl.tar.gz";
        for suffix in [".sha256", ".sha512", ".sha256sum", ".SHA512SUM", ".Sha256"] {
            let name = format!("{asset}{suffix}");
            assert_eq!(
                classify_asset_name(&name, Some(asset)),
                Some(ChecksumSource::Sidecar),
                "{name}"
            );
        }
    }

    #[test]
    fn classify_sidecar_of_other_asset_is_not_sidecar() {
        let name = "ripgrep-14.1.0-x86_64-unknown-linux-musl.tar.gz.sha256";
        assert_eq!(classify_asset_name(name, Some("other.tar.gz")), None);
        assert_eq!(classify_asset_name(name, None), None);
        assert_eq!(
            classify_asset_name("tool.tar.gz.asc", Some("tool.tar.gz")),
            None
        );
        assert_eq!(
            classify_asset_name("tool.tar.gz", Some("tool.tar.gz")),
            None
        );
    }

    #[test]
    fn classify_checksum_file_even_for_an_asset() {
        assert_eq!(
            classify_asset_name("SHA256SUMS", Some("tool.tar.gz")),
            Some(ChecksumSource::File)
        );
    }

    #[test]
    fn checksum_assets_picks_files_and_sidecars() {
        let names = [
            "tool-linux.tar.gz",
            "tool-linux.tar.gz.sha256",
            "tool-mac.zip",
            "tool-mac.zip.SHA512",
            "orphan.tar.gz.sha256",
            "SHA256SUMS",
            "SHA256SUMS.asc",
            "cosign.pub",
            "tool.sig",
            "fzf_0.46.0_checksums.txt",
        ];
        assert_eq!(
            checksum_assets(&names),
            [
                "tool-linux.tar.gz.sha256",
                "tool-mac.zip.SHA512",
                "SHA256SUMS",
                "fzf_0.46.0_checksums.txt",
            ]
        );
    }

    #[test]
    fn checksum_assets_empty() {
        assert!(checksum_assets(&[]).is_empty());
        assert!(checksum_assets(&[".sha256"]).is_empty());
    }

    // --- expected_for ---

    const ASSET: &str = "tool.tar.gz";

    fn digest(hex: &str) -> String {
        format!("sha256:{hex}")
    }

    #[test]
    fn absent_everywhere_is_none() {
        assert_eq!(expected_for(ASSET, None, &[], &[]).unwrap(), None);
        let file = format!("{}  other.tar.gz\n", h256('a'));
        let sidecar = format!("{}  other.tar.gz\n", h256('b'));
        assert_eq!(
            expected_for(
                ASSET,
                None,
                &[("SHA256SUMS", &file)],
                &[("tool.tar.gz.sha256", &sidecar)]
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn digest_alone() {
        let e = expected_for(ASSET, Some(&digest(&h256('a'))), &[], &[])
            .unwrap()
            .unwrap();
        assert_eq!(e.verified_by, VerifiedBy::Digest);
        assert_eq!(e.checksum, sha256(&h256('a')));
    }

    #[test]
    fn digest_beats_checksum_file_and_sidecar() {
        let file = format!("{}  {ASSET}\n", h256('a'));
        let e = expected_for(
            ASSET,
            Some(&digest(&h256('A'))),
            &[("SHA256SUMS", &file)],
            &[("tool.tar.gz.sha256", &h256('a'))],
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.verified_by, VerifiedBy::Digest);
    }

    #[test]
    fn checksum_file_beats_sidecar() {
        let file = format!("{}  {ASSET}\n", h256('a'));
        let e = expected_for(
            ASSET,
            None,
            &[("SHA256SUMS", &file)],
            &[("tool.tar.gz.sha256", &h256('a'))],
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.verified_by, VerifiedBy::ChecksumFile);
    }

    #[test]
    fn sidecar_alone_bare_hex() {
        let text = format!("{}\r\n", h256('c'));
        let e = expected_for(ASSET, None, &[], &[("tool.tar.gz.sha256", &text)])
            .unwrap()
            .unwrap();
        assert_eq!(e.verified_by, VerifiedBy::Sidecar);
        assert_eq!(e.checksum.hex(), h256('c'));
    }

    #[test]
    fn sidecar_gnu_line_must_name_the_asset() {
        let good = format!("{} *{ASSET}\n", h256('c'));
        let e = expected_for(ASSET, None, &[], &[("tool.tar.gz.sha256sum", &good)])
            .unwrap()
            .unwrap();
        assert_eq!(e.verified_by, VerifiedBy::Sidecar);

        let other = format!("{}  other.tar.gz\n", h256('c'));
        assert_eq!(
            expected_for(ASSET, None, &[], &[("tool.tar.gz.sha256", &other)]).unwrap(),
            None
        );
    }

    #[test]
    fn sidecar_bsd_sha512() {
        let text = format!("SHA512 ({ASSET}) = {}\n", h512('d'));
        let e = expected_for(ASSET, None, &[], &[("tool.tar.gz.sha512", &text)])
            .unwrap()
            .unwrap();
        assert_eq!(e.checksum.algorithm(), Algorithm::Sha512);
        assert!(e.needs_sha512());
    }

    #[test]
    fn sidecar_of_another_asset_ignored() {
        assert_eq!(
            expected_for(ASSET, None, &[], &[("other.tar.gz.sha256", &h256('a'))]).unwrap(),
            None
        );
    }

    #[test]
    fn checksum_file_names_dot_slash_and_star() {
        for line in [
            format!("{}  ./{ASSET}", h256('a')),
            format!("{} *{ASSET}", h256('a')),
            format!("{} *./{ASSET}", h256('a')),
            format!("SHA256 (./{ASSET}) = {}", h256('a')),
        ] {
            let e = expected_for(ASSET, None, &[("SHA256SUMS", &line)], &[])
                .unwrap()
                .unwrap_or_else(|| panic!("no match for {line:?}"));
            assert_eq!(e.verified_by, VerifiedBy::ChecksumFile);
        }
    }

    #[test]
    fn checksum_file_never_matches_by_basename() {
        let text = format!(
            "{}  dist/{ASSET}\n{}  /abs/{ASSET}\n{}  x{ASSET}\n",
            h256('a'),
            h256('b'),
            h256('c')
        );
        assert_eq!(
            expected_for(ASSET, None, &[("SHA256SUMS", &text)], &[]).unwrap(),
            None
        );
    }

    #[test]
    fn checksum_file_match_is_case_sensitive() {
        let text = format!("{}  TOOL.tar.gz\n", h256('a'));
        assert_eq!(
            expected_for(ASSET, None, &[("SHA256SUMS", &text)], &[]).unwrap(),
            None
        );
    }

    #[test]
    fn conflict_digest_vs_checksum_file() {
        let file = format!("{}  {ASSET}\n", h256('b'));
        let err = expected_for(
            ASSET,
            Some(&digest(&h256('a'))),
            &[("SHA256SUMS", &file)],
            &[],
        )
        .unwrap_err();
        let VerifyError::Conflict {
            asset,
            first,
            second,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(asset, ASSET);
        assert!(
            first.contains("GitHub API digest") && first.contains(&h256('a')),
            "{first}"
        );
        assert!(
            second.contains("SHA256SUMS") && second.contains(&h256('b')),
            "{second}"
        );
        assert!(err.to_string().contains("inconsistent"), "{err}");
    }

    #[test]
    fn conflict_checksum_file_vs_sidecar() {
        let file = format!("{}  {ASSET}\n", h256('a'));
        let err = expected_for(
            ASSET,
            None,
            &[("SHA256SUMS", &file)],
            &[("tool.tar.gz.sha256", &h256('b'))],
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("SHA256SUMS") && msg.contains("tool.tar.gz.sha256"),
            "{msg}"
        );
    }

    #[test]
    fn conflict_between_two_checksum_files() {
        let a = format!("{}  {ASSET}\n", h256('a'));
        let b = format!("SHA256 ({ASSET}) = {}\n", h256('b'));
        let err = expected_for(
            ASSET,
            None,
            &[("SHA256SUMS", &a), ("checksums.txt", &b)],
            &[],
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("SHA256SUMS") && msg.contains("checksums.txt"),
            "{msg}"
        );
    }

    #[test]
    fn conflict_within_one_checksum_file() {
        let text = format!("{}  {ASSET}\n{}  ./{ASSET}\n", h256('a'), h256('b'));
        assert!(matches!(
            expected_for(ASSET, None, &[("SHA256SUMS", &text)], &[]),
            Err(VerifyError::Conflict { .. })
        ));
    }

    #[test]
    fn agreeing_sources_are_not_a_conflict() {
        let file = format!("{}  {ASSET}\n", h256('A'));
        let e = expected_for(
            ASSET,
            Some(&digest(&h256('a'))),
            &[("SHA256SUMS", &file), ("checksums.txt", &file)],
            &[("tool.tar.gz.sha256", &h256('a'))],
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.verified_by, VerifiedBy::Digest);
    }

    #[test]
    fn different_algorithms_do_not_conflict() {
        let file = format!("{}  {ASSET}\n", h512('b'));
        let e = expected_for(
            ASSET,
            Some(&digest(&h256('a'))),
            &[("SHA512SUMS", &file)],
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.verified_by, VerifiedBy::Digest);
        assert_eq!(e.checksum.algorithm(), Algorithm::Sha256);
    }

    #[test]
    fn sha512_conflict_detected() {
        let a = format!("{}  {ASSET}\n", h512('a'));
        let b = format!("{}  {ASSET}\n", h512('b'));
        assert!(matches!(
            expected_for(
                ASSET,
                None,
                &[("SHA512SUMS", &a), ("b_SHA512SUMS", &b)],
                &[]
            ),
            Err(VerifyError::Conflict { .. })
        ));
    }

    #[test]
    fn malformed_digest_is_an_error_even_with_other_layers() {
        let file = format!("{}  {ASSET}\n", h256('a'));
        let err =
            expected_for(ASSET, Some("sha256:xyz"), &[("SHA256SUMS", &file)], &[]).unwrap_err();
        assert!(matches!(err, VerifyError::BadDigest { .. }), "{err}");
    }

    // --- hashing ---

    #[test]
    fn hasher_known_vectors() {
        let mut h = Hasher::new(true);
        h.update(b"abc");
        let d = h.finish();
        assert_eq!(d.sha256, ABC_SHA256);
        assert_eq!(d.sha512.as_deref(), Some(ABC_SHA512));
    }

    #[test]
    fn hasher_without_sha512() {
        let mut h = Hasher::new(false);
        h.update(b"a");
        h.update(b"");
        h.update(b"bc");
        let d = h.finish();
        assert_eq!(d.sha256, ABC_SHA256);
        assert_eq!(d.sha512, None);
    }

    #[test]
    fn hasher_empty_input() {
        assert_eq!(Hasher::new(false).finish().sha256, EMPTY_SHA256);
    }

    #[test]
    fn digests_matches() {
        let mut h = Hasher::new(true);
        h.update(b"abc");
        let d = h.finish();
        assert!(d.matches(&sha256(ABC_SHA256)));
        assert!(d.matches(&sha256(&ABC_SHA256.to_uppercase())));
        assert!(d.matches(&Checksum::new(Algorithm::Sha512, ABC_SHA512).unwrap()));
        assert!(!d.matches(&sha256(EMPTY_SHA256)));
    }

    #[test]
    fn digests_without_sha512_never_match_sha512() {
        let mut h = Hasher::new(false);
        h.update(b"abc");
        let d = h.finish();
        assert!(!d.matches(&Checksum::new(Algorithm::Sha512, ABC_SHA512).unwrap()));
    }

    #[test]
    fn hash_file_equals_in_memory() {
        let data: Vec<u8> = (0..1024 * 1024u32)
            .map(|i| (i.wrapping_mul(31) ^ (i >> 7)) as u8)
            .collect();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&data).unwrap();
        file.flush().unwrap();

        let mut h = Hasher::new(true);
        h.update(&data);
        let in_memory = h.finish();
        assert_eq!(hash_file(file.path(), true).unwrap(), in_memory);
        let sha256_only = hash_file(file.path(), false).unwrap();
        assert_eq!(sha256_only.sha256, in_memory.sha256);
        assert_eq!(sha256_only.sha512, None);
    }

    #[test]
    fn hash_file_empty_and_missing() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(hash_file(file.path(), false).unwrap().sha256, EMPTY_SHA256);
        let dir = tempfile::tempdir().unwrap();
        let err = hash_file(&dir.path().join("missing"), false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    // --- check ---

    fn abc_digests() -> Digests {
        let mut h = Hasher::new(false);
        h.update(b"abc");
        h.finish()
    }

    #[test]
    fn check_without_expected_is_none() {
        assert_eq!(
            check(ASSET, &abc_digests(), None).unwrap(),
            VerifiedBy::None
        );
    }

    #[test]
    fn check_match_returns_layer() {
        let expected = Expected {
            checksum: sha256(ABC_SHA256),
            verified_by: VerifiedBy::ChecksumFile,
            sources: Vec::new(),
        };
        assert_eq!(
            check(ASSET, &abc_digests(), Some(&expected)).unwrap(),
            VerifiedBy::ChecksumFile
        );
    }

    #[test]
    fn check_mismatch_reports_both_values() {
        let expected = Expected {
            checksum: sha256(EMPTY_SHA256),
            verified_by: VerifiedBy::Digest,
            sources: Vec::new(),
        };
        let err = check(ASSET, &abc_digests(), Some(&expected)).unwrap_err();
        let msg = err.to_string();
        let VerifyError::Mismatch {
            asset,
            expected,
            actual,
            verified_by,
        } = err
        else {
            panic!("{msg}");
        };
        assert_eq!(asset, ASSET);
        assert_eq!(expected, format!("sha256:{EMPTY_SHA256}"));
        assert_eq!(actual, format!("sha256:{ABC_SHA256}"));
        assert_eq!(verified_by, VerifiedBy::Digest);
        assert!(
            msg.contains(EMPTY_SHA256) && msg.contains(ABC_SHA256) && msg.contains("GitHub"),
            "{msg}"
        );
    }

    #[test]
    fn check_sha512_not_computed_is_a_mismatch() {
        let expected = Expected {
            checksum: Checksum::new(Algorithm::Sha512, ABC_SHA512).unwrap(),
            verified_by: VerifiedBy::Sidecar,
            sources: Vec::new(),
        };
        let err = check(ASSET, &abc_digests(), Some(&expected)).unwrap_err();
        assert!(err.to_string().contains("not computed"), "{err}");
    }

    #[test]
    fn end_to_end_sidecar_then_check() {
        let sidecar = format!("{ABC_SHA512}  {ASSET}\n");
        let expected = expected_for(ASSET, None, &[], &[("tool.tar.gz.sha512", &sidecar)])
            .unwrap()
            .unwrap();
        let mut h = Hasher::new(expected.needs_sha512());
        h.update(b"abc");
        assert_eq!(
            check(ASSET, &h.finish(), Some(&expected)).unwrap(),
            VerifiedBy::Sidecar
        );
    }
}
