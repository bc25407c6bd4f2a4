//! Fuzzes the configuration loader (`config::load_str`), as a file, as secret values and as
//! `REPOSITORY_OVERRIDES`; the invariants are listed in `tests/cli/support/config_invariants.rs`.
//!
//! Input that is not UTF-8 is skipped (these parsers only ever see text).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/cli/support/config_invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = std::str::from_utf8(data) {
        invariants::check_input(input);
    }
});
