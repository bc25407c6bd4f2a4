//! Fuzzes the signature readers we own: `trust::detect::sniff` and `signature_assets`, and the
//! minisign and OpenPGP verifiers (`minisign::verify`, `pgp::verify_detached`,
//! `pgp::is_clearsigned`, `pgp::verify_clearsigned`) with fixed test keys; the invariants are
//! listed in `tests/cli/support/signature_invariants.rs`.
//!
//! Any bytes: signature files may be binary (OpenPGP packets); the text readers see the input
//! decoded lossily.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/cli/support/signature_invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_input(data);
});
