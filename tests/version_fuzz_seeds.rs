//! Replays the fuzz target's seeds (real tags, and inputs that once broke an invariant) under
//! `cargo test`, so a regression is caught without running the fuzzer.

use std::path::Path;

#[path = "support/version_invariants.rs"]
mod invariants;

#[test]
fn every_fuzz_seed_keeps_the_version_invariants() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/version_parse");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz seeds directory") {
        let path = entry.expect("directory entry").path();
        let bytes = std::fs::read(&path).expect("seed file");
        if let Ok(input) = std::str::from_utf8(&bytes) {
            invariants::check_input(input);
            count += 1;
        }
    }
    assert!(count >= 30, "expected the committed seeds, found {count}");
}
