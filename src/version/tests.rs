//! The version engine's specification, grouped by versioning scheme.

use super::*;
use proptest::prelude::{
    Just, ProptestConfig, prop, prop_assert, prop_assert_eq, prop_assert_ne, prop_oneof, proptest,
};
use proptest::strategy::Strategy as _;
use std::cmp::Ordering::{Equal, Greater, Less};

fn cmp_with(strategy: Strategy, a: &str, b: &str) -> Ordering {
    let va = Version::parse_with(a, strategy).unwrap_or_else(|e| panic!("{a}: {e}"));
    let vb = Version::parse_with(b, strategy).unwrap_or_else(|e| panic!("{b}: {e}"));
    va.compare(&vb).unwrap_or_else(|e| panic!("{e}"))
}

fn cmp(a: &str, b: &str) -> Ordering {
    cmp_with(Strategy::Auto, a, b)
}

/// Every pair in `chain` must compare in list order, both ways round.
fn assert_ascending_with(strategy: Strategy, chain: &[&str]) {
    for (i, a) in chain.iter().enumerate() {
        for (j, b) in chain.iter().enumerate() {
            let expected = i.cmp(&j);
            assert_eq!(
                cmp_with(strategy, a, b),
                expected,
                "{a} vs {b} under {strategy}"
            );
        }
    }
}

fn assert_ascending(chain: &[&str]) {
    assert_ascending_with(Strategy::Auto, chain);
}

fn assert_equal(a: &str, b: &str) {
    assert_eq!(cmp(a, b), Equal, "{a} = {b}");
    assert_eq!(cmp(b, a), Equal, "{b} = {a}");
}

mod semver {
    use super::*;

    #[test]
    fn semver_2_precedence_example_list() {
        // SemVer 2.0.0 §11, the spec's own example, under both strategies.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        assert_ascending(&chain);
        assert_ascending_with(Strategy::SemverStrict, &chain);
        assert_ascending(&["1.0.0", "2.0.0", "2.1.0", "2.1.1"]);
        assert_ascending_with(
            Strategy::SemverStrict,
            &["1.0.0", "2.0.0", "2.1.0", "2.1.1"],
        );
    }

    #[test]
    fn build_metadata_does_not_affect_precedence() {
        assert_equal("1.0.0+20130313144700", "1.0.0");
        assert_equal("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta");
        assert_eq!(
            cmp_with(Strategy::SemverStrict, "1.0.0+build.1", "1.0.0+build.2"),
            Equal
        );
        let v = Version::parse("1.0.0-rc.1+build.5").unwrap();
        assert_eq!(v.build(), Some("build.5"));
    }

    #[test]
    fn numeric_identifiers_rank_below_alphanumeric_ones() {
        assert_eq!(cmp("1.0.0-1", "1.0.0-alpha"), Less);
        assert_eq!(cmp_with(Strategy::SemverStrict, "1.0.0-1", "1.0.0-a"), Less);
    }

    #[test]
    fn natural_numbers_inside_labels_unless_strict() {
        assert_eq!(cmp("1.0.0-rc2", "1.0.0-rc10"), Less);
        assert_eq!(cmp("1.0.0-rc.2", "1.0.0-rc10"), Less);
        // SemVer compares alphanumeric identifiers as ASCII, so rc10 comes first.
        assert_eq!(
            cmp_with(Strategy::SemverStrict, "1.0.0-rc2", "1.0.0-rc10"),
            Greater
        );
        assert_eq!(
            cmp_with(Strategy::SemverStrict, "1.0.0-rc.2", "1.0.0-rc.10"),
            Less
        );
    }

    #[test]
    fn known_labels_rank_dev_alpha_beta_rc() {
        assert_ascending(&[
            "2.0.0-dev",
            "2.0.0-alpha",
            "2.0.0-beta",
            "2.0.0-pre",
            "2.0.0",
        ]);
        assert_equal("2.0.0-preview.1", "2.0.0-rc.1");
        assert_equal("2.0.0-c1", "2.0.0-rc1");
        assert_equal("2.0.0-RC1", "2.0.0-rc.1");
        assert_equal("2.0.0-a1", "2.0.0-alpha.1");
        // Strict SemVer: plain ASCII, so "dev" > "beta" and uppercase sorts first.
        assert_eq!(
            cmp_with(Strategy::SemverStrict, "2.0.0-dev", "2.0.0-beta"),
            Greater
        );
        assert_eq!(
            cmp_with(Strategy::SemverStrict, "2.0.0-RC.1", "2.0.0-rc.1"),
            Less
        );
    }

    #[test]
    fn unknown_labels_follow_semver_ascii_order() {
        assert_ascending(&[
            "1.0.0-beta",
            "1.0.0-nightly",
            "1.0.0-rc.1",
            "1.0.0-snapshot",
            "1.0.0",
        ]);
        assert_eq!(cmp("1.0.0-x.7.z.92", "1.0.0-x.7.z.93"), Less);
    }

    #[test]
    fn prerelease_spellings_all_mean_prerelease() {
        for tag in [
            "1.0.0-rc.1",
            "1.0.0rc1",
            "1.0.0-alpha20230719",
            "1.0.0-beta.11",
            "1.0.0.dev3",
            "1.0.0b2",
        ] {
            let v = Version::parse(tag).unwrap();
            assert!(v.is_prerelease(), "{tag}");
            assert_eq!(cmp(tag, "1.0.0"), Less, "{tag} < 1.0.0");
            assert_eq!(cmp(tag, "0.9.9"), Greater, "{tag} > 0.9.9");
        }
        assert_ascending(&["1.0.0-alpha20230719", "1.0.0-alpha20231101", "1.0.0-beta"]);
    }

    #[test]
    fn release_qualifiers_mean_the_release() {
        assert_equal("1.0.0.Final", "1.0.0");
        assert_equal("2.1-GA", "2.1");
        assert!(!Version::parse("1.0.0-release").unwrap().is_prerelease());
    }
}

mod seed_system {
    use super::*;

    #[test]
    fn the_seed_tools_own_cases() {
        assert_eq!(cmp("1.0.0", "1.0.1"), Less);
        assert_eq!(cmp("1.0.0-alpha.1", "1.0.0-alpha.2"), Less);
        assert_eq!(cmp("2024.01.15", "2024.02.15"), Less);
        assert_eq!(cmp("2024.01.15.1", "2024.01.15.2"), Less);
        assert_eq!(cmp("1.0.0.1", "1.0.0.2"), Less);
        assert_eq!(cmp("10.0", "9.0"), Greater);
        assert_ascending(&["v1.28.1", "v1.29.0-alpha.1", "v1.29.0-beta.0", "v1.29.0"]);
        assert_equal(" 1.0.0 ", "1.0.0");
        assert_equal("\t1.0.0\n", "v1.0.0");
    }

    #[test]
    fn the_cases_the_seed_tool_gets_wrong() {
        // It compares numbers as text.
        assert_eq!(cmp("20.1.5", "20.1.100"), Less);
        // It reads v20.10.3 as a date.
        let v = Version::parse("v20.10.3").unwrap();
        assert_eq!(
            v.numbers(),
            &[Num::Small(20), Num::Small(10), Num::Small(3)]
        );
        assert_eq!(cmp("v20.10.3", "v20.9.30"), Greater);
        assert_eq!(cmp("v20.10.3", "v21.0.0"), Less);
        // It ranks 1.0 below 1.0.0; trailing zeros do not make a version newer.
        assert_equal("1.0", "1.0.0");
        assert_equal("1", "1.0.0.0");
        // Its substring test calls this a prerelease.
        assert!(!has_prerelease_marker("v1.0.0-darc"));
        assert!(has_prerelease_marker("v1.0.0-rc1"));
        assert!(has_prerelease_marker("2.0-SNAPSHOT"));
        assert!(!has_prerelease_marker("v1.2.3"));
    }

    #[test]
    fn v_and_no_v_are_one_family() {
        assert_equal("v1.2.3", "1.2.3");
        assert_equal("V1.2.3", "v1.2.3");
        assert_eq!(Version::parse("v1.2.3").unwrap().family(), "");
    }
}

mod project_styles {
    use super::*;

    #[test]
    fn go() {
        assert_ascending(&[
            "go1.21.6",
            "go1.22beta1",
            "go1.22rc1",
            "go1.22rc2",
            "go1.22.0",
            "go1.22.1",
        ]);
        assert_equal("go1.22", "go1.22.0");
        assert_eq!(Version::parse("go1.22rc1").unwrap().family(), "go");
    }

    #[test]
    fn cpython() {
        assert_ascending(&[
            "v3.11.7",
            "v3.12.0a1",
            "v3.12.0a7",
            "v3.12.0b1",
            "v3.12.0b4",
            "v3.12.0rc1",
            "v3.12.0rc3",
            "v3.12.0",
            "v3.12.1",
        ]);
        assert_ascending(&["3.12.0a1", "3.12.0b1", "3.12.0"]);
    }

    #[test]
    fn jq() {
        assert_ascending(&["jq-1.6", "jq-1.7rc1", "jq-1.7rc2", "jq-1.7", "jq-1.7.1"]);
        assert_eq!(Version::parse("jq-1.7rc1").unwrap().family(), "jq-");
    }

    #[test]
    fn curl() {
        assert_ascending(&["curl-7_88_1", "curl-8_4_0", "curl-8_5_0", "curl-8_10_1"]);
        assert_eq!(
            Version::parse("curl-8_5_0").unwrap().numbers(),
            &[Num::Small(8), Num::Small(5), Num::Small(0)]
        );
    }

    #[test]
    fn openssl() {
        assert_ascending(&[
            "OpenSSL_0_9_8z",
            "OpenSSL_0_9_8za",
            "OpenSSL_0_9_8zh",
            "OpenSSL_1_1_1",
            "OpenSSL_1_1_1a",
            "OpenSSL_1_1_1c",
            "OpenSSL_1_1_1d",
            "OpenSSL_1_1_1w",
            "OpenSSL_1_1_2",
        ]);
        assert_ascending(&["1.1.1", "1.1.1a", "1.1.1w", "1.1.2"]);
        assert!(!Version::parse("1.1.1a").unwrap().is_prerelease());
        // OpenSSL 3 switched to dotted, dash-prefixed tags: a different family.
        assert_ascending(&[
            "openssl-3.0.0-alpha1",
            "openssl-3.0.0-beta1",
            "openssl-3.0.0",
        ]);
    }

    #[test]
    fn postgresql() {
        assert_ascending(&[
            "REL_15_5",
            "REL_16_BETA1",
            "REL_16_RC1",
            "REL_16_0",
            "REL_16_1",
        ]);
        assert_ascending(&["REL9_6_0", "REL9_6_24"]);
    }

    #[test]
    fn minio_dated_releases() {
        assert_ascending(&[
            "RELEASE.2023-09-30T07-02-29Z",
            "RELEASE.2023-10-25T06-33-25Z",
            "RELEASE.2023-10-25T06-33-26Z",
            "RELEASE.2024-01-01T00-00-00Z",
        ]);
        assert_eq!(
            Version::parse("RELEASE.2023-10-25T06-33-25Z")
                .unwrap()
                .family(),
            "RELEASE."
        );
    }

    #[test]
    fn prefixed_tools() {
        assert_ascending(&["cli-v1.9.0", "cli-v2.0.0-rc.1", "cli-v2.0.0"]);
        assert_eq!(Version::parse("cli-v2.0.0").unwrap().family(), "cli-");
        assert_ascending(&["release-1.9", "release-1.10"]);
        assert_ascending(&["k8s-v1.29.3", "k8s-v1.30.0"]);
        assert_ascending(&["python3-3.11.0", "python3-3.12.0"]);
    }

    #[test]
    fn post_releases() {
        assert_ascending(&["1.0", "1.0.post1", "1.0.post2", "1.1"]);
        assert_ascending(&["V_9_5_P1", "V_9_6_P1", "V_9_6_P2", "V_9_7_P1"]);
    }
}

mod calver {
    use super::*;

    #[test]
    fn year_month_and_dates() {
        assert_eq!(cmp("22.04", "22.10"), Less);
        assert_eq!(cmp("2023.9", "2023.10"), Less);
        assert_ascending_with(Strategy::Calver, &["22.04", "22.10", "23.04"]);
        assert_ascending_with(
            Strategy::Calver,
            &["2023.9", "2023.10", "2024.01.05", "2024.1.6"],
        );
        assert_equal("2024.01.05", "2024.1.5");
        assert_equal("2024-01-15", "2024.1.15");
        assert_ascending(&["2024-01-15", "2024-01-16", "2024-02-01"]);
        assert_ascending_with(Strategy::Calver, &["20240115", "20240116"]);
    }

    #[test]
    fn calver_insists_on_a_date_like_first_segment() {
        for tag in ["1.2.3", "v3.12.0", "123.4", "1899.1"] {
            let err = Version::parse_with(tag, Strategy::Calver).unwrap_err();
            assert!(matches!(err, VersionError::Invalid { .. }), "{tag}: {err}");
        }
        for tag in ["22.04", "2024.01", "v2024.1.1", "202401", "20240115"] {
            assert!(Version::parse_with(tag, Strategy::Calver).is_ok(), "{tag}");
        }
    }
}

mod four_part {
    use super::*;

    #[test]
    fn four_and_more_segments() {
        assert_ascending(&["1.2.3.4", "1.2.3.5", "1.2.3.10", "1.2.4.0", "1.2.4.0.1"]);
        assert_equal("1.2.3.0", "1.2.3");
        assert_eq!(cmp("1.2.3.4-rc1", "1.2.3.4"), Less);
    }

    #[test]
    fn huge_numbers_never_overflow() {
        assert_eq!(
            cmp("1.99999999999999999999999", "1.100000000000000000000000"),
            Less
        );
        assert_equal("1.000000000000000000000000000007", "1.7");
    }
}

mod families {
    use super::*;

    #[test]
    fn different_prefixes_refuse_to_compare() {
        let a = Version::parse("cli-v2.0.0").unwrap();
        let b = Version::parse("v1.0.0").unwrap();
        let err = a.compare(&b).unwrap_err();
        assert!(matches!(err, VersionError::DifferentFamilies { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("cli-v2.0.0") && msg.contains("no prefix"),
            "{msg}"
        );
    }

    #[test]
    fn tags_without_digits_are_not_versions() {
        for tag in ["latest", "nightly", "", "   "] {
            assert!(
                matches!(Version::parse(tag), Err(VersionError::NoDigits { .. })),
                "{tag:?}"
            );
        }
    }

    #[test]
    fn different_strategies_refuse_to_compare() {
        let a = Version::parse_with("1.0.0", Strategy::Auto).unwrap();
        let b = Version::parse_with("1.0.0", Strategy::SemverStrict).unwrap();
        assert!(matches!(
            a.compare(&b),
            Err(VersionError::StrategyMismatch { .. })
        ));
    }
}

mod date_strategy {
    use super::*;

    #[test]
    fn orders_timestamps() {
        assert_ascending_with(
            Strategy::Date,
            &[
                "2024-01-14T15:20:30Z",
                "2024-01-14T16:20:30+00:30",
                "2024-01-14T16:20:30Z",
                "2024-01-15",
            ],
        );
        assert!(Version::parse_with("v1.2.3", Strategy::Date).is_err());
    }
}

mod tag_filter {
    use super::*;

    #[test]
    fn first_capture_group_is_the_version() {
        let re = Regex::new(r"^app-v(.*)$").unwrap();
        let s = Scheme::new(Strategy::Auto, Some(re));
        assert_eq!(s.compare("app-v1.2.0", "app-v1.10.0"), Ok(Less));
        assert!(matches!(
            s.parse("other-v1.0"),
            Err(VersionError::FilterMismatch { .. })
        ));
        assert_eq!(s.parse("app-v1.2.0").unwrap().tag(), "app-v1.2.0");
    }

    #[test]
    fn without_a_group_the_whole_match_is_used() {
        let s = Scheme::new(Strategy::Auto, Some(Regex::new(r"\d+\.\d+").unwrap()));
        assert_eq!(s.compare("build 1.2 (x)", "build 1.10 (y)"), Ok(Less));
    }
}

mod sorting_and_json {
    use super::*;

    #[test]
    fn sort_groups_families_and_reports_non_versions() {
        let scheme = Scheme::default();
        let (sorted, bad) = sort_tags(
            &scheme,
            [
                "v1.10.0",
                "latest",
                "v1.2.0",
                "cli-v2.0.0",
                "1.2.0",
                "v1.2.0-rc.1",
            ],
        );
        let tags: Vec<&str> = sorted.iter().map(Version::tag).collect();
        assert_eq!(
            tags,
            ["1.2.0-rc.1", "1.2.0", "v1.2.0", "v1.10.0", "cli-v2.0.0"].map(|t| {
                // "v1.2.0-rc.1" keeps its tag; the array above lists expected tags in order.
                if t == "1.2.0-rc.1" { "v1.2.0-rc.1" } else { t }
            })
        );
        assert_eq!(bad.len(), 1);
    }

    #[test]
    fn parse_json_shape() {
        let v = Version::parse("go1.22rc1+meta").unwrap();
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "tag": "go1.22rc1+meta",
                "strategy": "auto",
                "family": "go",
                "numbers": [1, 22],
                "prerelease": ["rc", 1],
                "post_release": [],
                "build": "meta",
                "is_prerelease": true,
                "normalized": "go1.22-rc.1+meta"
            })
        );
        let big = Version::parse("1.99999999999999999999999").unwrap();
        assert_eq!(
            serde_json::to_value(&big).unwrap()["numbers"],
            serde_json::json!([1, "99999999999999999999999"])
        );
    }

    #[test]
    fn strategy_names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(s.as_str().parse::<Strategy>(), Ok(s));
        }
        assert_eq!("semver".parse::<Strategy>(), Ok(Strategy::Auto));
        assert!("semverx".parse::<Strategy>().is_err());
    }
}

/// PEP 440 against pypa/packaging's own test data (`tests/test_version.py`, dual licensed
/// Apache-2.0 / BSD-2-Clause): its `VERSIONS` list, which must sort exactly as given, and a sample
/// of its normalisation and invalid-version cases.
mod pep440 {
    use std::cmp::Ordering;

    use super::super::{Strategy, Version};

    const VERSIONS: &[&str] = &[
        "1.0.dev0",
        "1.0.dev456",
        "1.0.dev456+local",
        "1.0a0",
        "1.0a0.post0.dev0",
        "1.0a0.post0",
        "1.0a1.dev1",
        "1.0a1.dev1+local",
        "1.0a1",
        "1.0a1+local",
        "1.0b0",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0b2-346",
        "1.0rc0",
        "1.0rc1.dev1",
        "1.0c1",
        "1.0rc2",
        "1.0",
        "1.0.post0.dev0",
        "1.0.post0",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.0.post456+local",
        "1.0.1.dev1",
        "1.0.1a1",
        "1.0.1",
        "1.0.1+local",
        "1.0.1.post1",
        "1.1.dev1",
        "1.2+a",
        "1.2+abc",
        "1.2+abcdef",
        "1.2+def",
        "1.2+0",
        "1.2+1",
        "1.2+1.abc",
        "1.2+1.1",
        "1.2+1.1.0",
        "1.2+2",
        "1.2+123",
        "1.2+123456",
        "1.2.r32+123456",
        "1.2.rev33+123456",
        "1!1.0.dev0",
        "1!1.0.dev456",
        "1!1.0.dev456+local",
        "1!1.0a0",
        "1!1.0a0.post0.dev0",
        "1!1.0a0.post0",
        "1!1.0a1.dev1",
        "1!1.0a1.dev1+local",
        "1!1.0a1",
        "1!1.0a1+local",
        "1!1.0b0",
        "1!1.0b1.dev456",
        "1!1.0b2",
        "1!1.0b2.post345.dev456",
        "1!1.0b2.post345",
        "1!1.0b2-346",
        "1!1.0rc0",
        "1!1.0rc1.dev1",
        "1!1.0c1",
        "1!1.0rc2",
        "1!1.0",
        "1!1.0.post0.dev0",
        "1!1.0.post0",
        "1!1.0.post456.dev34",
        "1!1.0.post456",
        "1!1.0.post456+local",
        "1!1.0.1.dev1",
        "1!1.0.1a1",
        "1!1.0.1",
        "1!1.0.1+local",
        "1!1.0.1.post1",
        "1!1.1.dev1",
        "1!1.2+a",
        "1!1.2+abc",
        "1!1.2+abcdef",
        "1!1.2+def",
        "1!1.2+0",
        "1!1.2+1",
        "1!1.2+1.abc",
        "1!1.2+1.1",
        "1!1.2+1.1.0",
        "1!1.2+2",
        "1!1.2+123",
        "1!1.2+123456",
        "1!1.2.r32+123456",
        "1!1.2.rev33+123456",
    ];

    fn pep(tag: &str) -> Version {
        Version::parse_with(tag, Strategy::Pep440).unwrap_or_else(|e| panic!("{tag}: {e}"))
    }

    /// How many adjacent pairs of `VERSIONS` a strategy orders right (`Less`).
    fn right_pairs(strategy: Strategy) -> usize {
        VERSIONS
            .windows(2)
            .filter(|w| {
                match (
                    Version::parse_with(w[0], strategy),
                    Version::parse_with(w[1], strategy),
                ) {
                    (Ok(a), Ok(b)) => a.compare(&b) == Ok(Ordering::Less),
                    _ => false,
                }
            })
            .count()
    }

    #[test]
    fn pypa_versions_sort_exactly_as_listed() {
        assert_eq!(VERSIONS.len(), 92);
        for (i, a) in VERSIONS.iter().enumerate() {
            for (j, b) in VERSIONS.iter().enumerate() {
                assert_eq!(pep(a).compare(&pep(b)), Ok(i.cmp(&j)), "{a} against {b}");
            }
        }
        assert_eq!(right_pairs(Strategy::Pep440), 91);
        // `auto` is left as it is: it is not PEP 440.
        assert!(right_pairs(Strategy::Auto) < 91);
    }

    #[test]
    fn spellings_normalise_as_pypa_does() {
        for (tag, normal) in [
            ("1.0dev", "1.0.dev0"),
            ("1.0-DEV1", "1.0.dev1"),
            ("1.0.alpha1", "1.0a1"),
            ("1.0-BETA", "1.0b0"),
            ("1.0c", "1.0rc0"),
            ("1.0-C1", "1.0rc1"),
            ("1.0pre2", "1.0rc2"),
            ("1.0preview3", "1.0rc3"),
            ("1.0post", "1.0.post0"),
            ("1.0r", "1.0.post0"),
            ("1.0-5", "1.0.post5"),
            ("1.0-rev5", "1.0.post5"),
            ("1.0+AbC", "1.0+abc"),
            ("1.01", "1.1"),
            ("1.0c056", "1.0rc56"),
            ("00!1.2", "1.2"),
            ("0100!0.0", "100!0.0"),
            ("v1.0", "1.0"),
            ("   v1.0\t\n", "1.0"),
        ] {
            assert_eq!(pep(tag).to_string(), normal, "{tag:?}");
        }
        // A project prefix stays a family, as for the other strategies.
        let v = pep("mypkg-2.0rc1");
        assert_eq!(
            (v.family(), v.to_string().as_str()),
            ("mypkg-", "mypkg-2.0rc1")
        );
        assert!(v.is_prerelease() && pep("1.0.dev1").is_prerelease());
        assert!(!pep("1.0.post1").is_prerelease() && !pep("1.0+local").is_prerelease());
        assert_eq!(pep("1.0rc1").compare(&pep("1.0c1")), Ok(Ordering::Equal));
    }

    #[test]
    fn what_pep_440_refuses_is_not_a_version() {
        for tag in [
            "french toast",
            "1.0+a+",
            "1.0++",
            "1.0+_foobar",
            "1.0+1+1",
            "1.0a 1",
        ] {
            assert!(
                Version::parse_with(tag, Strategy::Pep440).is_err(),
                "{tag:?} parsed"
            );
        }
    }
}

/// Tags built from the pieces real projects use, so that properties are checked on realistic
/// input rather than on random bytes (the fuzz target covers those).
fn arb_tag() -> impl proptest::strategy::Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("v"),
        Just("V"),
        Just("go"),
        Just("jq-"),
        Just("cli-v"),
        Just("release-")
    ];
    let number = prop_oneof![
        4 => (0u32..30).prop_map(|n| n.to_string()),
        1 => "0{0,3}[0-9]{1,3}",
        1 => "[1-9][0-9]{19,25}",
    ];
    let numbers = prop::collection::vec(number, 1..5).prop_map(|v| v.join("."));
    let label = prop_oneof![
        Just("alpha"),
        Just("a"),
        Just("beta"),
        Just("b"),
        Just("rc"),
        Just("RC"),
        Just("pre"),
        Just("dev"),
        Just("nightly"),
        Just("x")
    ];
    let sep = prop_oneof![Just(""), Just("-"), Just("."), Just("-"), Just("_")];
    let pre = prop_oneof![
        2 => Just(String::new()),
        3 => (sep.clone(), label, prop::option::of(0u32..15), sep)
            .prop_map(|(s1, l, n, s2)| match n {
                Some(n) => format!("{s1}{l}{s2}{n}"),
                None => format!("{s1}{l}"),
            }),
        1 => "[a-z]".prop_map(|c| c.to_string()),
        1 => (0u32..5).prop_map(|n| format!(".post{n}")),
    ];
    let build = prop_oneof![3 => Just(String::new()), 1 => "\\+[a-z0-9]{1,6}"];
    (prefix, numbers, pre, build).prop_map(|(p, n, pre, b)| format!("{p}{n}{pre}{b}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn order_is_antisymmetric(a in arb_tag(), b in arb_tag()) {
        for s in [Strategy::Auto, Strategy::SemverStrict] {
            if let (Ok(va), Ok(vb)) = (Version::parse_with(&a, s), Version::parse_with(&b, s)) {
                prop_assert_eq!(va.cmp(&vb), vb.cmp(&va).reverse());
                if let (Ok(x), Ok(y)) = (va.compare(&vb), vb.compare(&va)) {
                    prop_assert_eq!(x, y.reverse());
                }
            }
        }
    }

    #[test]
    fn order_is_transitive(a in arb_tag(), b in arb_tag(), c in arb_tag()) {
        let (Ok(va), Ok(vb), Ok(vc)) = (Version::parse(&a), Version::parse(&b), Version::parse(&c))
        else { return Ok(()); };
        let mut v = [va, vb, vc];
        v.sort();
        prop_assert!(v[0] <= v[1] && v[1] <= v[2] && v[0] <= v[2]);
        if v[0] == v[1] && v[1] == v[2] {
            prop_assert_eq!(&v[0], &v[2]);
        }
    }

    #[test]
    fn sort_yields_a_total_order(tags in prop::collection::vec(arb_tag(), 0..30)) {
        let (sorted, _) = sort_tags(&Scheme::default(), tags.iter().map(String::as_str));
        for i in 0..sorted.len() {
            for j in i..sorted.len() {
                prop_assert_ne!(sorted[i].cmp(&sorted[j]), Greater, "{} > {}", sorted[i].tag(), sorted[j].tag());
            }
        }
    }

    #[test]
    fn parse_round_trip_keeps_equality(tag in arb_tag()) {
        for s in [Strategy::Auto, Strategy::SemverStrict, Strategy::Calver] {
            if let Ok(v) = Version::parse_with(&tag, s) {
                let again = Version::parse_with(&v.to_string(), s);
                prop_assert!(again.is_ok(), "{} -> {} under {}: {:?}", tag, v, s, again);
                if let Ok(again) = again {
                    prop_assert_eq!(v.family(), again.family());
                    prop_assert_eq!(v.compare(&again), Ok(Equal), "{} -> {}", tag, v);
                    prop_assert_eq!(v.is_prerelease(), again.is_prerelease());
                }
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
        for s in Strategy::ALL {
            if let Ok(v) = Version::parse_with(&text, s) {
                prop_assert_eq!(v.compare(&v), Ok(Equal));
            }
        }
    }
}
