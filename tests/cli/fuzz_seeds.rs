//! Replays the seeds of every fuzz target (`version_parse`, `config_load`, `checksum_file`,
//! `link_header`: real inputs, and inputs that once broke an invariant) under `cargo test`, so a
//! regression is caught without running the fuzzer. The invariants live in
//! `support/*_invariants.rs`, shared with the fuzz targets.

use std::path::Path;

use crate::support::{checksum_invariants, config_invariants, link_invariants, version_invariants};

/// Runs `check` on every UTF-8 seed of `target` and returns how many there were.
fn replay(target: &str, check: fn(&str)) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz seeds directory") {
        let path = entry.expect("directory entry").path();
        let bytes = std::fs::read(&path).expect("seed file");
        if let Ok(input) = std::str::from_utf8(&bytes) {
            eprintln!("seed {}", path.display());
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
