//! The version engine's invariants, shared by the fuzz target (`fuzz/fuzz_targets/version_parse.rs`)
//! and by `tests/cli/fuzz_seeds.rs`, which replays the fuzz seeds in `cargo test`.
//!
//! An input is split at its first two `'\n'`
//! into up to three tags. For every strategy, each tag that parses must
//! - compare `Equal` with itself,
//! - render (`Display`) to a string that re-parses with the same strategy, in the same family,
//!   to a version that compares `Equal` with the original;
//!
//! and every pair / triple of parsed tags must give an order:
//! - versions of different families (case-insensitive) never compare (`Err`),
//! - antisymmetry: `compare(a, b) == compare(b, a).reverse()` (both `Ok` or both `Err`),
//! - transitivity: `a <= b` and `b <= c` imply `a <= c`.

use std::cmp::Ordering;

use release_monitor::version::{Strategy, Version};

const STRATEGIES: [Strategy; 5] = Strategy::ALL;

/// Checks every invariant on one input: up to three tags separated by `'\n'`.
pub fn check_input(input: &str) {
    let tags: Vec<&str> = input.splitn(3, '\n').collect();
    for strategy in STRATEGIES {
        let parsed: Vec<Version> = tags
            .iter()
            .filter_map(|tag| Version::parse_with(tag, strategy).ok())
            .collect();
        for v in &parsed {
            check_self(v, strategy);
        }
        for a in &parsed {
            for b in &parsed {
                check_pair(a, b, strategy);
            }
        }
        if let [a, b, c] = parsed.as_slice() {
            check_transitive(a, b, c, strategy);
        }
    }
}

/// Families are compared case-insensitively (`Go1.2` and `go1.3` are one project).
fn same_family(a: &Version, b: &Version) -> bool {
    a.family().to_lowercase() == b.family().to_lowercase()
}

fn check_self(v: &Version, strategy: Strategy) {
    assert_eq!(
        v.compare(v),
        Ok(Ordering::Equal),
        "{strategy:?}: {v:?} does not compare Equal with itself"
    );
    let shown = v.to_string();
    let again = match Version::parse_with(&shown, strategy) {
        Ok(again) => again,
        Err(err) => panic!("{strategy:?}: Display {shown:?} of {v:?} does not re-parse: {err}"),
    };
    assert!(
        same_family(&again, v),
        "{strategy:?}: Display {shown:?} of {v:?} re-parses into another family: {again:?}"
    );
    assert_eq!(
        v.compare(&again),
        Ok(Ordering::Equal),
        "{strategy:?}: Display {shown:?} of {v:?} re-parses to an unequal {again:?}"
    );
    assert_eq!(
        again.compare(v),
        Ok(Ordering::Equal),
        "{strategy:?}: re-parsed {again:?} (from {shown:?}) is unequal to {v:?}"
    );
}

fn check_pair(a: &Version, b: &Version, strategy: Strategy) {
    let ab = a.compare(b);
    let ba = b.compare(a);
    if !same_family(a, b) {
        assert!(
            ab.is_err() && ba.is_err(),
            "{strategy:?}: {a:?} and {b:?} are of different families yet compare: {ab:?} / {ba:?}"
        );
    }
    assert_eq!(
        ab.as_ref().ok().copied(),
        ba.as_ref().ok().map(|o| o.reverse()),
        "{strategy:?}: compare is not antisymmetric for {a:?} and {b:?}: {ab:?} vs {ba:?}"
    );
}

fn check_transitive(a: &Version, b: &Version, c: &Version, strategy: Strategy) {
    let vs = [a, b, c];
    for x in vs {
        for y in vs {
            for z in vs {
                let (Ok(xy), Ok(yz), Ok(xz)) = (x.compare(y), y.compare(z), x.compare(z)) else {
                    continue;
                };
                if xy != Ordering::Greater && yz != Ordering::Greater {
                    assert_ne!(
                        xz,
                        Ordering::Greater,
                        "{strategy:?}: not transitive: {x:?} <= {y:?} <= {z:?} but {x:?} > {z:?}"
                    );
                }
                if xy == Ordering::Equal && yz == Ordering::Equal {
                    assert_eq!(
                        xz,
                        Ordering::Equal,
                        "{strategy:?}: equality not transitive: {x:?} == {y:?} == {z:?} but {x:?} != {z:?}"
                    );
                }
            }
        }
    }
}
