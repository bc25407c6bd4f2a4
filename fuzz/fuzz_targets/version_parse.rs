//! Fuzzes the release-tag parser and the comparator built on it.
//!
//! The input is read as UTF-8 (anything else is skipped) and split at its first two `'\n'`
//! into up to three tags. For every strategy, each tag that parses must
//! - compare `Equal` with itself,
//! - render (`Display`) to a string that re-parses with the same strategy, in the same family,
//!   to a version that compares `Equal` with the original;
//!
//! and every pair / triple of parsed tags must give an order:
//! - versions of different families (case-insensitive) never compare (`Err`),
//! - antisymmetry: `compare(a, b) == compare(b, a).reverse()` (both `Ok` or both `Err`),
//! - transitivity: `a <= b` and `b <= c` imply `a <= c`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/cli/support/version_invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    // Tags are text: input that is not UTF-8 is skipped.
    if let Ok(input) = std::str::from_utf8(data) {
        invariants::check_input(input);
    }
});
