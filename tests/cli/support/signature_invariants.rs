//! The signature parsers' invariants, shared by the fuzz target
//! (`fuzz/fuzz_targets/signature_file.rs`) and by `tests/cli/fuzz_seeds.rs`, which replays the
//! fuzz seeds in `cargo test`.
//!
//! The input (any bytes) is read as a signature file's content, as a list of release asset names
//! (one per line), as a clearsigned checksum file, as a `.minisig`, as an OpenPGP detached
//! signature, and as the bytes a known-good signature is checked over. The keys are fixed: the
//! OpenPGP key `src/trust/testdata/signer.asc` and the minisign key
//! `src/trust/testdata/minisign.pub`, which signed nothing but the 4 bytes `test`
//! (`test.asc`, `test.sig`, `test.minisig`, `test-legacy.minisig`) and the text of `SUMS.clear`.
//! Besides "never panics", they must hold:
//!
//! - `sniff`: each verdict rests on what it claims (`untrusted comment:` first for minisign, the
//!   armor header for OpenPGP, `{` for JSON, a packet tag byte for binary OpenPGP, only base64
//!   for cosign); no verdict other than binary OpenPGP depends on leading whitespace; and
//!   `pgp::is_clearsigned` agrees with it;
//! - `signature_assets`: its answer is a subsequence of the names; each is `<target><suffix>`
//!   with `<target>` another name and the suffix (any case) the one of its format, or a
//!   `*.intoto.jsonl` with no target; and every such name is found;
//! - a verification that succeeds proves only what the key holder signed: a detached signature
//!   (minisign or OpenPGP) that verifies over `test` fails over other bytes, a known-good
//!   signature verifies over a (short) input only if the input is `test`, and a clearsigned input
//!   that verifies gives back the signed text of `SUMS.clear` (up to the line endings and
//!   trailing blanks that OpenPGP's text signatures ignore). Comparing the signature *files*
//!   byte for byte with the seeds would not be sound: armor, base64 and OpenPGP's unhashed
//!   subpackets give one signature many encodings, all genuine;
//! - a success names the configured key (`minisign:<key>`, `pgp:0x<fingerprint>`), and an error
//!   names the signature file it was given.

use std::sync::OnceLock;

use release_monitor::trust::detect::{Content, Format, signature_assets, sniff};
use release_monitor::trust::{MinisignKey, PgpKey, ProofKind, Subject, TrustError, minisign, pgp};

/// The only bytes the fixed keys signed detached.
pub const SIGNED: &[u8] = b"test";
/// Bytes that differ from [`SIGNED`]: no signature of it may verify over them (nothing, the
/// same length, a longer text with the same start).
const TAMPERED: [&[u8]; 3] = [b"", b"tesT", b"test\n"];
/// The longest input that the known-good signatures are checked over. Each check costs an
/// ed25519 verification (milliseconds under the fuzzer's instrumentation); the near misses of
/// [`SIGNED`] that matter are short.
const MAX_SUBJECT: usize = 16;

/// The OpenPGP public key (ed25519, made by GnuPG 2.2).
const PGP_KEY: &[u8] = include_bytes!("../../../src/trust/testdata/signer.asc");
/// Detached OpenPGP signatures over [`SIGNED`], armored and binary.
pub const PGP_ARMORED: &[u8] = include_bytes!("../../../src/trust/testdata/test.asc");
pub const PGP_BINARY: &[u8] = include_bytes!("../../../src/trust/testdata/test.sig");
/// A clearsigned checksum line.
pub const CLEARSIGNED: &str = include_str!("../../../src/trust/testdata/SUMS.clear");
/// The minisign public key file (made by minisign 0.11).
const MINISIGN_KEY: &str = include_str!("../../../src/trust/testdata/minisign.pub");
/// minisign signatures over [`SIGNED`]: pre-hashed (the default) and legacy.
pub const MINISIGN: &str = include_str!("../../../src/trust/testdata/test.minisig");
pub const MINISIGN_LEGACY: &str = include_str!("../../../src/trust/testdata/test-legacy.minisig");

/// The names errors must carry: the file names given to the verifiers.
const SIG_FILE: &str = "fuzz.sig";
const MINISIG_FILE: &str = "fuzz.minisig";
const CLEAR_FILE: &str = "FUZZSUMS";

/// The fixed keys, parsed once, and what a proof by each must be labelled, and the signed text
/// of [`CLEARSIGNED`].
struct Fixed {
    pgp: Vec<PgpKey>,
    pgp_label: String,
    minisign: Vec<MinisignKey>,
    minisign_label: String,
    clear_text: Vec<String>,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let pgp = vec![PgpKey::parse("signer.asc", PGP_KEY).expect("the test key parses")];
        let minisign = vec![MinisignKey::parse(MINISIGN_KEY).expect("the test key parses")];
        let pgp_label = pgp::verify_detached("test.asc", PGP_ARMORED, &pgp, Subject::Bytes(SIGNED))
            .expect("the known-good OpenPGP signature verifies")
            .label;
        let minisign_label = format!("minisign:{}", minisign[0].text());
        let (_, signed) = pgp::verify_clearsigned("SUMS", CLEARSIGNED, &pgp)
            .expect("the known-good clearsigned file verifies");
        assert!(signed.contains("  tool.tar.gz"), "{signed:?}");
        Fixed {
            pgp,
            pgp_label,
            minisign,
            minisign_label,
            clear_text: text_lines(&signed),
        }
    })
}

/// Which verifications succeeded on an input (the seeds must reach each).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The input verified as a `.minisig` over [`SIGNED`].
    pub minisign: bool,
    /// The input verified as a detached OpenPGP signature over [`SIGNED`].
    pub pgp_detached: bool,
    /// The input verified as a clearsigned file.
    pub clearsigned: bool,
    /// A known-good signature verified over the input (so it was [`SIGNED`]).
    pub as_subject: bool,
}

/// Checks every invariant on one input and says which verifications succeeded.
pub fn check_input(data: &[u8]) -> Verified {
    check_sniff(data);
    let text = String::from_utf8_lossy(data);
    let names: Vec<&str> = text.lines().take(256).collect();
    check_signature_assets(&names);
    Verified {
        clearsigned: check_clearsigned(&text),
        minisign: check_minisign(&text),
        pgp_detached: check_pgp_detached(data),
        as_subject: check_as_subject(data),
    }
}

/// `sniff`'s verdict rests on what it claims.
fn check_sniff(data: &[u8]) {
    const MARKERS: [(&[u8], Content); 4] = [
        (b"untrusted comment:", Content::Minisign),
        (b"-----BEGIN PGP SIGNATURE-----", Content::PgpArmored),
        (
            b"-----BEGIN PGP SIGNED MESSAGE-----",
            Content::PgpClearsigned,
        ),
        (b"{", Content::Json),
    ];
    let content = sniff(data);
    let trimmed = data.trim_ascii_start();
    let marked = MARKERS
        .iter()
        .find(|(marker, _)| trimmed.starts_with(marker))
        .map(|&(_, c)| c);
    match content {
        Content::Minisign | Content::PgpArmored | Content::PgpClearsigned | Content::Json => {
            assert_eq!(marked, Some(content), "{content:?} without its marker");
            assert_eq!(
                sniff(trimmed),
                content,
                "leading blanks changed {content:?}"
            );
        }
        Content::PgpBinary => {
            assert_eq!(marked, None, "a text marker read as binary OpenPGP");
            let first = data.first().copied().unwrap_or(0);
            assert!(
                first & 0x80 != 0,
                "binary OpenPGP without a packet tag byte"
            );
        }
        Content::CosignBase64 => {
            assert_eq!(marked, None, "a text marker read as cosign");
            let body = data.trim_ascii();
            assert!(!body.is_empty(), "an empty cosign signature");
            assert!(
                body.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')),
                "a cosign signature that is not base64"
            );
        }
        Content::Unknown => assert_eq!(marked, None, "a marked input read as unknown"),
    }
    assert_eq!(
        content.is_pgp(),
        matches!(content, Content::PgpArmored | Content::PgpBinary)
    );
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            pgp::is_clearsigned(text),
            content == Content::PgpClearsigned,
            "is_clearsigned disagrees with sniff"
        );
    }
}

/// The suffixes of each format (compared ignoring ASCII case).
fn suffixes(format: Format) -> &'static [&'static str] {
    match format {
        Format::Minisign => &[".minisig"],
        Format::OpenPgp => &[".asc", ".gpg"],
        Format::Sig => &[".sig"],
        Format::Bundle => &[".sigstore.json", ".sigstore", ".bundle"],
        Format::Certificate => &[".pem", ".cert"],
        Format::Provenance => &[".intoto.jsonl"],
    }
}

/// Every format that has a target.
const TARGETED: [Format; 5] = [
    Format::Minisign,
    Format::OpenPgp,
    Format::Sig,
    Format::Bundle,
    Format::Certificate,
];

fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// `signature_assets` finds exactly the names that are `<another name><suffix>` and the
/// provenance files, in order, each with the right format and target.
fn check_signature_assets(names: &[&str]) {
    let found = signature_assets(names);
    let all: std::collections::HashSet<&str> = names.iter().copied().collect();
    let mut rest = names.iter();
    for sig in &found {
        assert!(
            rest.any(|n| *n == sig.name),
            "{:?} is not in the names, or out of order",
            sig.name
        );
        match (&sig.target, sig.format) {
            (None, Format::Provenance) => assert!(
                ends_with_ignore_case(&sig.name, ".intoto.jsonl"),
                "{:?} taken for provenance",
                sig.name
            ),
            (Some(target), format) => {
                assert_ne!(format, Format::Provenance, "provenance with a target");
                assert!(!target.is_empty(), "{:?} signs an empty name", sig.name);
                assert!(all.contains(target.as_str()), "{target:?} is no asset");
                let suffix = sig.name.strip_prefix(target.as_str()).unwrap_or_else(|| {
                    panic!("{:?} does not start with its target {target:?}", sig.name)
                });
                assert!(
                    suffixes(format)
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(suffix)),
                    "{:?}: {suffix:?} is not a suffix of {format:?}",
                    sig.name
                );
            }
            (None, format) => panic!("{:?}: {format:?} without a target", sig.name),
        }
    }
    // Every signature name is found (a name may be listed more than once).
    let found_names: std::collections::HashSet<&str> =
        found.iter().map(|s| s.name.as_str()).collect();
    for name in names {
        let provenance = ends_with_ignore_case(name, ".intoto.jsonl");
        let signs_another = TARGETED.iter().flat_map(|f| suffixes(*f)).any(|suffix| {
            ends_with_ignore_case(name, suffix)
                && name
                    .get(..name.len() - suffix.len())
                    .is_some_and(|stem| !stem.is_empty() && all.contains(stem))
        });
        if provenance || signs_another {
            assert!(
                found_names.contains(name),
                "the signature {name:?} is missed"
            );
        }
    }
}

/// The lines of a text as OpenPGP's text signatures see them: line endings and trailing blanks
/// do not count, nor do blank lines at the end.
fn text_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| l.trim_end_matches([' ', '\t', '\r']).to_string())
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// An error must name the file it is about.
fn check_error(error: &TrustError, file: &str) {
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{file}: ")),
        "the error does not name {file}: {message}"
    );
}

/// A clearsigned input verifies only as the text the key signed.
fn check_clearsigned(text: &str) -> bool {
    let fixed = fixed();
    match pgp::verify_clearsigned(CLEAR_FILE, text, &fixed.pgp) {
        Ok((proof, signed)) => {
            assert_eq!(proof.kind, ProofKind::Pgp);
            assert_eq!(proof.label, fixed.pgp_label);
            assert_eq!(
                text_lines(&signed),
                fixed.clear_text,
                "a clearsigned input verified as text the key never signed"
            );
            true
        }
        Err(e) => {
            check_error(&e, CLEAR_FILE);
            false
        }
    }
}

/// A `.minisig` that verifies over [`SIGNED`] fails over anything else.
fn check_minisign(text: &str) -> bool {
    let fixed = fixed();
    let verify = |subject: &[u8]| {
        minisign::verify(MINISIG_FILE, text, &fixed.minisign, Subject::Bytes(subject))
    };
    match verify(SIGNED) {
        Ok(proof) => {
            assert_eq!(proof.kind, ProofKind::Minisign);
            assert_eq!(proof.label, fixed.minisign_label);
            for other in TAMPERED {
                match verify(other) {
                    Ok(_) => panic!("a minisign signature over {SIGNED:?} verified {other:?}"),
                    Err(e) => check_error(&e, MINISIG_FILE),
                }
            }
            true
        }
        Err(e) => {
            check_error(&e, MINISIG_FILE);
            false
        }
    }
}

/// A detached OpenPGP signature that verifies over [`SIGNED`] fails over anything else.
fn check_pgp_detached(data: &[u8]) -> bool {
    let fixed = fixed();
    let verify =
        |subject: &[u8]| pgp::verify_detached(SIG_FILE, data, &fixed.pgp, Subject::Bytes(subject));
    match verify(SIGNED) {
        Ok(proof) => {
            assert_eq!(proof.kind, ProofKind::Pgp);
            assert_eq!(proof.label, fixed.pgp_label);
            for other in TAMPERED {
                match verify(other) {
                    Ok(_) => panic!("an OpenPGP signature over {SIGNED:?} verified {other:?}"),
                    Err(e) => check_error(&e, SIG_FILE),
                }
            }
            true
        }
        Err(e) => {
            check_error(&e, SIG_FILE);
            false
        }
    }
}

/// The known-good signatures verify over the input only when it is [`SIGNED`] (inputs up to
/// [`MAX_SUBJECT`] bytes).
fn check_as_subject(data: &[u8]) -> bool {
    if data.len() > MAX_SUBJECT {
        return false;
    }
    let fixed = fixed();
    let subject = Subject::Bytes(data);
    let results = [
        pgp::verify_detached("test.asc", PGP_ARMORED, &fixed.pgp, subject).is_ok(),
        pgp::verify_detached("test.sig", PGP_BINARY, &fixed.pgp, subject).is_ok(),
        minisign::verify("test.minisig", MINISIGN, &fixed.minisign, subject).is_ok(),
        minisign::verify("legacy.minisig", MINISIGN_LEGACY, &fixed.minisign, subject).is_ok(),
    ];
    let genuine = data == SIGNED;
    for (i, ok) in results.into_iter().enumerate() {
        assert_eq!(
            ok, genuine,
            "known-good signature #{i} over {data:?}: verified {ok}, genuine {genuine}"
        );
    }
    genuine
}
