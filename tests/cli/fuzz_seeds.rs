//! Replays the seeds of every fuzz target (`version_parse`, `config_load`, `checksum_file`,
//! `link_header`, `signature_file`: real inputs, and inputs that once broke an invariant) under
//! `cargo test`, so a regression is caught without running the fuzzer. The invariants live in
//! `support/*_invariants.rs`, shared with the fuzz targets.

use std::path::Path;

use crate::support::{
    checksum_invariants, config_invariants, link_invariants, signature_invariants,
    version_invariants,
};

/// Every seed of `target` (file name, bytes), sorted by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fuzz seeds directory") {
        let path = entry.expect("directory entry").path();
        let bytes = std::fs::read(&path).expect("seed file");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((name, bytes));
    }
    out.sort();
    out
}

/// Runs `check` on every UTF-8 seed of `target` and returns how many there were.
fn replay(target: &str, check: fn(&str)) -> usize {
    let mut count = 0;
    for (name, bytes) in seeds(target) {
        if let Ok(input) = std::str::from_utf8(&bytes) {
            eprintln!("seed {target}/{name}");
            check(input);
            count += 1;
        }
    }
    count
}

#[test]
fn every_fuzz_seed_keeps_the_version_invariants() {
    let count = replay("version_parse", version_invariants::check_input);
    assert!(count >= 30, "expected the committed seeds, found {count}");
}

#[test]
fn every_config_seed_keeps_the_loader_invariants() {
    let count = replay("config_load", config_invariants::check_input);
    assert!(count >= 5, "expected the committed seeds, found {count}");
}

#[test]
fn every_checksum_seed_keeps_the_checksum_invariants() {
    let count = replay("checksum_file", checksum_invariants::check_input);
    assert!(count >= 5, "expected the committed seeds, found {count}");
}

#[test]
fn every_link_seed_keeps_the_link_invariants() {
    let count = replay("link_header", link_invariants::check_input);
    assert!(count >= 5, "expected the committed seeds, found {count}");
}

#[test]
fn every_signature_seed_keeps_the_signature_invariants() {
    // Every seed, binary ones too (a `.sig` is OpenPGP packets). The genuine signatures among
    // them must verify, so the checks on a success run here too, not only in the fuzzer.
    let mut reached = signature_invariants::Verified::default();
    let all = seeds("signature_file");
    for (name, bytes) in &all {
        eprintln!("seed signature_file/{name}");
        let v = signature_invariants::check_input(bytes);
        reached.minisign |= v.minisign;
        reached.pgp_detached |= v.pgp_detached;
        reached.clearsigned |= v.clearsigned;
        reached.as_subject |= v.as_subject;
    }
    assert!(
        all.len() >= 5,
        "expected the committed seeds, found {}",
        all.len()
    );
    assert_eq!(
        reached,
        signature_invariants::Verified {
            minisign: true,
            pgp_detached: true,
            clearsigned: true,
            as_subject: true,
        },
        "a kind of genuine signature is missing from the seeds"
    );
}

/// The signature checks tell genuine signatures from tampered ones: each known-good signature
/// verifies as itself, and a one-byte change to what it signs, or to its signed content, does
/// not verify (the invariants would have to flag it if it did).
#[test]
fn the_signature_checks_accept_only_what_was_signed() {
    use signature_invariants::{
        CLEARSIGNED, MINISIGN, MINISIGN_LEGACY, PGP_ARMORED, PGP_BINARY, SIGNED, Verified,
        check_input,
    };
    for minisig in [MINISIGN, MINISIGN_LEGACY] {
        assert!(check_input(minisig.as_bytes()).minisign);
    }
    for sig in [PGP_ARMORED, PGP_BINARY] {
        assert!(check_input(sig).pgp_detached);
    }
    assert!(check_input(CLEARSIGNED.as_bytes()).clearsigned);
    assert!(check_input(SIGNED).as_subject);
    // Edited signed text, an edited signature, a changed subject: nothing verifies.
    let edited = CLEARSIGNED.replace("abab", "cdcd");
    assert_eq!(check_input(edited.as_bytes()), Verified::default());
    let mut binary = PGP_BINARY.to_vec();
    let last = binary.len() - 1;
    binary[last] ^= 1;
    assert_eq!(check_input(&binary), Verified::default());
    assert_eq!(check_input(b"tesT"), Verified::default());
}

/// The checks themselves catch what they claim to: a leaked secret, a URL that is not from the
/// header, a checksum entry that does not survive a round trip.
#[test]
fn the_config_checks_see_a_secret_only_where_it_is_secret() {
    // The marker inside a secret: loads, and no output shows it.
    config_invariants::check_input(&format!(
        "https://hooks.slack.com/services/{}",
        config_invariants::SECRET_MARKER
    ));
    // The marker as a repository name is not a secret: check_input must accept the JSON showing it.
    config_invariants::check_input(&format!(
        "repositories:\n  - {{owner: o, repo: {}}}\n",
        config_invariants::SECRET_MARKER
    ));
}
