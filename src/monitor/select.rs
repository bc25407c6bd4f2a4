//! Which release of a repository wins, and whether it is new. The downloader reuses these rules,
//! so "which release" is decided in one place.

use std::cmp::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::ReleaseSource;
use crate::github::Release;
use crate::version::{
    Scheme, Strategy, Version, VersionError, filter_capture, has_prerelease_marker,
};

/// The rules that apply to one repository.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Versioning strategy and `tag_filter`.
    pub scheme: Scheme,
    /// Keep releases GitHub flags as prereleases.
    pub include_prereleases: bool,
    /// Also drop tags that read as prereleases.
    pub strict_prerelease_filtering: bool,
    /// A pinned version: select exactly that release.
    pub target_version: Option<String>,
    /// The cooldown: a release published less than this long before `now` is held back
    /// (zero: none).
    pub minimum_release_age: Duration,
    /// The time the cooldown is measured against.
    pub now: DateTime<Utc>,
    /// Whether the candidates are releases or tags.
    pub source: ReleaseSource,
}

/// The outcome for one repository.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The winning release and its version, if any release qualified.
    pub winner: Option<(Release, Version)>,
    /// What happened to each candidate, for `--explain`.
    pub explain: Vec<String>,
    /// Tags that are not versions, to warn about.
    pub warnings: Vec<String>,
    /// The newest release held back by the cooldown when it would beat the winner: the release,
    /// its version, and when it becomes eligible.
    pub pending: Option<(Release, Version, DateTime<Utc>)>,
}

/// `v1.2.3`, `V1.2.3` and `1.2.3` name the same pin; case is ignored.
pub fn same_pin(tag: &str, target: &str) -> bool {
    fn norm(s: &str) -> String {
        let s = s.trim().to_lowercase();
        s.strip_prefix('v').map(str::to_string).unwrap_or(s)
    }
    norm(tag) == norm(target)
}

impl Rules {
    /// The rules configured for a repository.
    pub fn for_repository(effective: &crate::config::EffectiveRepo) -> Rules {
        Rules {
            scheme: effective.scheme(),
            include_prereleases: effective.include_prereleases,
            strict_prerelease_filtering: effective.strict_prerelease_filtering,
            target_version: effective.target_version.clone(),
            minimum_release_age: effective.minimum_release_age.as_duration(),
            now: Utc::now(),
            source: effective.source,
        }
    }
}

/// When a release published at `published_at` (RFC 3339) has aged `age`; `None` when the time
/// is missing or does not parse (such a release is not held back).
fn eligible_at(published_at: Option<&str>, age: Duration) -> Option<DateTime<Utc>> {
    let published = DateTime::parse_from_rfc3339(published_at?).ok()?;
    let age = chrono::Duration::from_std(age).ok()?;
    published.with_timezone(&Utc).checked_add_signed(age)
}

/// The version a release is ordered by: its tag, or its `published_at` for the `date` strategy
/// (the tag must still match the `tag_filter`).
pub fn release_version(scheme: &Scheme, release: &Release) -> Result<Version, VersionError> {
    version_of(scheme, &release.tag_name, release.published_at.as_deref())
}

/// [`release_version`] from a tag and a publication time, for callers holding a report entry.
pub fn version_of(
    scheme: &Scheme,
    tag: &str,
    published_at: Option<&str>,
) -> Result<Version, VersionError> {
    if scheme.strategy() == Strategy::Date {
        // The filter still decides which tags count.
        if let Some(re) = scheme.tag_filter()
            && filter_capture(re, tag).is_none()
        {
            return Err(VersionError::FilterMismatch {
                tag: tag.to_string(),
                filter: re.as_str().to_string(),
            });
        }
        Version::parse_with(published_at.unwrap_or_default(), Strategy::Date)
    } else {
        scheme.parse(tag)
    }
}

/// Applies the rules to a repository's releases (newest first, as GitHub lists them).
pub fn select(releases: &[Release], rules: &Rules) -> Selection {
    let mut explain = Vec::new();
    let mut warnings = Vec::new();
    let mut candidates: Vec<(Release, Version)> = Vec::new();
    let mut young: Vec<(Release, Version, DateTime<Utc>)> = Vec::new();
    for r in releases {
        let tag = &r.tag_name;
        if r.draft {
            explain.push(format!("  drop {tag}: draft"));
            continue;
        }
        let pinned = rules
            .target_version
            .as_deref()
            .is_some_and(|t| same_pin(tag, t));
        if rules.target_version.is_some() && !pinned {
            explain.push(format!("  skip {tag}: not the target_version"));
            continue;
        }
        if r.prerelease && !rules.include_prereleases && !pinned {
            explain.push(format!("  drop {tag}: prerelease"));
            continue;
        }
        let version = match release_version(&rules.scheme, r) {
            Ok(v) => v,
            Err(VersionError::FilterMismatch { filter, .. }) => {
                explain.push(format!(
                    "  drop {tag}: does not match tag_filter {filter:?}"
                ));
                continue;
            }
            Err(e) if pinned => {
                // A pinned release is taken as it is, even when its tag is not a version.
                explain.push(format!("  note {tag}: {e}"));
                match Version::parse_with("0", Strategy::Auto) {
                    Ok(v) => v,
                    Err(_) => continue,
                }
            }
            Err(e) => {
                warnings.push(format!("skipped: {e}"));
                explain.push(format!("  drop {tag}: {e}"));
                continue;
            }
        };
        if rules.strict_prerelease_filtering
            && !rules.include_prereleases
            && !pinned
            && (version.is_prerelease() || has_prerelease_marker(tag))
        {
            explain.push(format!(
                "  drop {tag}: reads as a prerelease (strict_prerelease_filtering)"
            ));
            continue;
        }
        if !pinned
            && !rules.minimum_release_age.is_zero()
            && let Some(eligible) =
                eligible_at(r.published_at.as_deref(), rules.minimum_release_age)
            && eligible > rules.now
        {
            explain.push(format!(
                "  hold {tag}: published {}, eligible at {} (minimum_release_age {})",
                r.published_at.as_deref().unwrap_or_default(),
                eligible.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                crate::config::Age::new(rules.minimum_release_age)
            ));
            young.push((r.clone(), version, eligible));
            continue;
        }
        explain.push(format!("  candidate {tag} ({version})"));
        candidates.push((r.clone(), version));
    }
    // Different project prefixes cannot be ordered: follow the newest release's family.
    let family = candidates.first().map(|(_, v)| v.family().to_lowercase());
    let mut best: Option<(Release, Version)> = None;
    for (r, v) in candidates {
        if Some(v.family().to_lowercase()) != family {
            explain.push(format!(
                "  drop {}: family {:?} differs from the newest release's {:?} (set tag_filter to choose)",
                r.tag_name,
                v.family(),
                family.as_deref().unwrap_or("")
            ));
            continue;
        }
        let better = match &best {
            None => true,
            Some((_, b)) => v.compare(b).is_ok_and(|o| o == Ordering::Greater),
        };
        if better {
            best = Some((r, v));
        }
    }
    match &best {
        Some((r, _)) => explain.push(format!("  winner {}", r.tag_name)),
        None => explain.push("  no release qualifies".to_string()),
    }
    // The newest release the cooldown holds back, when it would have beaten the winner.
    let family = best
        .as_ref()
        .map(|(_, v)| v.family().to_lowercase())
        .or_else(|| young.first().map(|(_, v, _)| v.family().to_lowercase()));
    let mut pending: Option<(Release, Version, DateTime<Utc>)> = None;
    for (r, v, at) in young {
        if Some(v.family().to_lowercase()) != family {
            continue;
        }
        let beats = |other: &Version| v.compare(other).is_ok_and(|o| o == Ordering::Greater);
        if best.as_ref().is_some_and(|(_, b)| !beats(b)) {
            continue;
        }
        if pending.as_ref().is_none_or(|(_, p, _)| beats(p)) {
            pending = Some((r, v, at));
        }
    }
    Selection {
        winner: best,
        explain,
        warnings,
        pending,
    }
}

/// Whether the release tagged `tag` (read as `version`) is new compared with the version the database holds.
///
/// Returns the verdict and a sentence for `--explain`. No record means new. A held version that
/// cannot be compared (another family, not a version) also counts as new, with a warning, so a
/// changed tag scheme is noticed rather than silently ignored.
pub fn is_new(
    tag: &str,
    version: &Version,
    current: Option<&str>,
    rules: &Rules,
    releases: &[Release],
) -> (bool, String) {
    let Some(current) = current else {
        return (true, "new: the database holds no version".to_string());
    };
    if let Some(target) = &rules.target_version {
        return if same_pin(current, target) {
            (
                false,
                format!("not new: the database holds the target {current}"),
            )
        } else {
            (
                true,
                format!("new: the database holds {current}, the target is {target}"),
            )
        };
    }
    let held = if rules.scheme.strategy() == Strategy::Date {
        // Order by publication: find the held tag's release.
        match releases.iter().find(|r| r.tag_name == current) {
            Some(r) => release_version(&rules.scheme, r),
            None => {
                return (
                    tag != current,
                    format!(
                        "the held {current} is not among the listed releases; comparing tags only"
                    ),
                );
            }
        }
    } else {
        rules.scheme.parse(current)
    };
    match held.and_then(|h| version.compare(&h)) {
        Ok(Ordering::Greater) => (true, format!("new: {} > held {current}", tag)),
        Ok(Ordering::Equal) => (false, format!("not new: {} = held {current}", tag)),
        Ok(Ordering::Less) => (false, format!("not new: {} < held {current}", tag)),
        Err(e) => (
            true,
            format!("new (cannot compare with the held {current}: {e})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn rel(tag: &str, draft: bool, pre: bool) -> Release {
        serde_json::from_value(serde_json::json!({
            "tag_name": tag, "draft": draft, "prerelease": pre,
            "published_at": "2024-01-01T00:00:00Z", "assets": []
        }))
        .unwrap()
    }

    fn rules() -> Rules {
        Rules {
            scheme: Scheme::default(),
            include_prereleases: false,
            strict_prerelease_filtering: false,
            target_version: None,
            minimum_release_age: Duration::ZERO,
            now: DateTime::parse_from_rfc3339("2024-01-10T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            source: ReleaseSource::Releases,
        }
    }

    fn published(tag: &str, at: &str) -> Release {
        let mut r = rel(tag, false, false);
        r.published_at = Some(at.to_string());
        r
    }

    #[test]
    fn the_cooldown_holds_young_releases_and_names_the_newest_as_pending() {
        // `now` is 2024-01-10; a 3-day cooldown holds what was published after 2024-01-07.
        let cooled = Rules {
            minimum_release_age: Duration::from_secs(3 * 86400),
            ..rules()
        };
        let releases = [
            published("v1.3.0", "2024-01-09T12:00:00Z"),
            published("v1.2.0", "2024-01-08T00:00:00Z"),
            published("v1.1.0", "2024-01-02T00:00:00Z"),
        ];
        let s = select(&releases, &cooled);
        assert_eq!(s.winner.map(|(r, _)| r.tag_name).as_deref(), Some("v1.1.0"));
        let (pending, _, at) = s.pending.expect("pending");
        assert_eq!(pending.tag_name, "v1.3.0");
        assert_eq!(at.to_rfc3339(), "2024-01-12T12:00:00+00:00");
        assert!(
            s.explain.iter().any(
                |l| l.contains("hold v1.2.0") && l.contains("eligible at 2024-01-11T00:00:00Z")
            ),
            "{:?}",
            s.explain
        );
        // Without a cooldown the newest wins and nothing is pending.
        let s = select(&releases, &rules());
        assert_eq!(s.winner.map(|(r, _)| r.tag_name).as_deref(), Some("v1.3.0"));
        assert!(s.pending.is_none());
        // A young release older than the winner is not pending; a pin ignores the cooldown.
        let backport = [
            published("v1.0.1", "2024-01-09T00:00:00Z"),
            published("v1.1.0", "2024-01-02T00:00:00Z"),
        ];
        assert!(select(&backport, &cooled).pending.is_none());
        let pinned = Rules {
            target_version: Some("v1.3.0".into()),
            ..cooled.clone()
        };
        assert_eq!(winner(&releases, &pinned).as_deref(), Some("v1.3.0"));
    }

    fn winner(releases: &[Release], rules: &Rules) -> Option<String> {
        select(releases, rules).winner.map(|(r, _)| r.tag_name)
    }

    #[test]
    fn highest_version_wins_not_the_newest() {
        // A maintenance release published after the newer line is not "latest" by version.
        let rs = [rel("v1.9.1", false, false), rel("v1.10.0", false, false)];
        assert_eq!(winner(&rs, &rules()).as_deref(), Some("v1.10.0"));
    }

    #[test]
    fn drafts_never_and_prereleases_only_when_asked() {
        let rs = [
            rel("v3.0.0", true, false),
            rel("v2.0.0-rc.1", false, true),
            rel("v1.0.0", false, false),
        ];
        assert_eq!(winner(&rs, &rules()).as_deref(), Some("v1.0.0"));
        let with_pre = Rules {
            include_prereleases: true,
            ..rules()
        };
        assert_eq!(winner(&rs, &with_pre).as_deref(), Some("v2.0.0-rc.1"));
    }

    #[test]
    fn strict_filtering_uses_the_engine_not_substrings() {
        let rs = [
            rel("v2.0.0-beta.1", false, false),
            rel("v1.0.0-darc", false, false),
        ];
        let strict = Rules {
            strict_prerelease_filtering: true,
            ..rules()
        };
        // "v2.0.0-beta.1" reads as a prerelease even though GitHub does not flag it; "-darc" is
        // a SemVer prerelease too (it is a label), but contains no marker word.
        let s = select(&rs, &strict);
        assert!(s.winner.is_none(), "{:?}", s.explain);
        let plain = [
            rel("v1.1.0", false, false),
            rel("v1.0.0-darc", false, false),
        ];
        assert_eq!(winner(&plain, &strict).as_deref(), Some("v1.1.0"));
    }

    #[test]
    fn tag_filter_and_non_versions() {
        let rs = [
            rel("nightly", false, false),
            rel("lib-v9.0.0", false, false),
            rel("cli-v1.2.0", false, false),
        ];
        let filtered = Rules {
            scheme: Scheme::new(Strategy::Auto, Some(Regex::new("^cli-v(.*)$").unwrap())),
            ..rules()
        };
        assert_eq!(winner(&rs, &filtered).as_deref(), Some("cli-v1.2.0"));
        let s = select(&rs, &rules());
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        // Without a filter the newest release's family wins.
        assert_eq!(
            s.winner.map(|(r, _)| r.tag_name).as_deref(),
            Some("lib-v9.0.0")
        );
    }

    #[test]
    fn target_version_pins_case_insensitively_with_optional_v() {
        let rs = [rel("v2.0.0", false, false), rel("V1.5.0", false, true)];
        let pinned = Rules {
            target_version: Some("1.5.0".into()),
            ..rules()
        };
        assert_eq!(winner(&rs, &pinned).as_deref(), Some("V1.5.0"));
        assert!(same_pin("v1.2.3", "1.2.3") && same_pin("V1.2.3", "v1.2.3"));
        assert!(!same_pin("v1.2.3", "1.2.4"));
    }

    #[test]
    fn new_means_newer_than_the_database() {
        let r = rules();
        let rs = [rel("v1.2.0", false, false)];
        let v = Version::parse("v1.2.0").unwrap();
        assert!(is_new(&rs[0].tag_name, &v, None, &r, &rs).0);
        assert!(is_new(&rs[0].tag_name, &v, Some("v1.1.9"), &r, &rs).0);
        assert!(!is_new(&rs[0].tag_name, &v, Some("1.2.0"), &r, &rs).0);
        assert!(!is_new(&rs[0].tag_name, &v, Some("v1.10.0"), &r, &rs).0);
        // Not comparable: reported as new, with the reason.
        let (new, why) = is_new(&rs[0].tag_name, &v, Some("cli-v9"), &r, &rs);
        assert!(new && why.contains("cannot compare"), "{why}");
    }
}
