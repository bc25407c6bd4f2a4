//! Benchmarks of the version engine: how many tag comparisons per second it sustains.
//!
//! - `compare/parsed`: `Version::compare` on pre-parsed versions, every ordered pair of a
//!   realistic list of `v`-prefixed release tags in one iteration;
//! - `compare/parse_and_compare`: the same pairs, parsing both tags before each compare (what a
//!   check does when it meets tags fresh from the GitHub API);
//! - `parse`: parsing every tag of the list once.
//!
//! Each iteration handles a whole list, and `Throughput::Elements` is set to its length, so
//! criterion reports elements (compares or parses) per second in its `thrpt:` line.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use release_monitor::version::Version;

/// Tags of one family (`v`-prefixed semver-ish), as they appear on GitHub release pages,
/// including prereleases and build metadata.
const TAGS: [&str; 40] = [
    "v0.1.0",
    "v0.1.1",
    "v0.2.0-alpha.1",
    "v0.2.0-beta.1",
    "v0.2.0",
    "v0.9.12",
    "v1.0.0-alpha",
    "v1.0.0-alpha.1",
    "v1.0.0-alpha.beta",
    "v1.0.0-beta",
    "v1.0.0-beta.2",
    "v1.0.0-beta.11",
    "v1.0.0-rc.1",
    "v1.0.0",
    "v1.0.0+build.5",
    "v1.0.1",
    "v1.1.0",
    "v1.2.3",
    "v1.2.10",
    "v1.9.0",
    "v1.10.0",
    "v1.10.1-rc.0",
    "v1.10.1",
    "v1.28.4",
    "v1.29.0-beta.0",
    "v1.29.0-rc.2",
    "v1.29.0",
    "v1.29.1+sha.5114f85",
    "v1.30.0-alpha.3",
    "v2.0.0-0.3.7",
    "v2.0.0-x.7.z.92",
    "v2.0.0-rc.1",
    "v2.0.0",
    "v2.1.0",
    "v2.3.4-rc.1+build.2024",
    "v2.3.4",
    "v3.0.0-beta.1",
    "v3.0.0",
    "v10.0.0",
    "v10.2.15",
];

/// Every ordered pair of distinct indices into `TAGS`.
fn pairs() -> Vec<(usize, usize)> {
    (0..TAGS.len())
        .flat_map(|i| {
            (0..TAGS.len())
                .filter(move |&j| j != i)
                .map(move |j| (i, j))
        })
        .collect()
}

fn parsed_tags() -> Vec<Version> {
    TAGS.iter()
        .map(|tag| Version::parse(tag).unwrap_or_else(|e| panic!("{tag:?} must parse: {e}")))
        .collect()
}

fn bench_compare(c: &mut Criterion) {
    let versions = parsed_tags();
    let pairs = pairs();
    // Check once outside the timing that every pair is comparable (one family).
    for &(i, j) in &pairs {
        if let Err(e) = versions[i].compare(&versions[j]) {
            panic!("{:?} vs {:?} must compare: {e}", TAGS[i], TAGS[j]);
        }
    }

    let mut group = c.benchmark_group("compare");
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(50)
        .throughput(Throughput::Elements(pairs.len() as u64));

    group.bench_function("parsed", |b| {
        b.iter(|| {
            for &(i, j) in &pairs {
                let ordering = black_box(&versions[i]).compare(black_box(&versions[j]));
                black_box(ordering.ok());
            }
        });
    });

    group.bench_function("parse_and_compare", |b| {
        b.iter(|| {
            for &(i, j) in &pairs {
                let (Ok(x), Ok(y)) = (
                    Version::parse(black_box(TAGS[i])),
                    Version::parse(black_box(TAGS[j])),
                ) else {
                    panic!("{:?} / {:?} must parse", TAGS[i], TAGS[j]);
                };
                black_box(x.compare(&y).ok());
            }
        });
    });
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(50)
        .throughput(Throughput::Elements(TAGS.len() as u64));
    group.bench_function("tags", |b| {
        b.iter(|| {
            for tag in TAGS {
                black_box(Version::parse(black_box(tag)).ok());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench_compare, bench_parse);
criterion_main!(benches);
