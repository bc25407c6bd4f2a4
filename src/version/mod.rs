//! The version engine: turns release tags into versions and orders them.
//!
//! A mirror downloads a release only when its version is newer than the one it holds, so this
//! order must never be wrong. Real tags are messy (`go1.22rc1`, `curl-8_5_0`, `OpenSSL_1_1_1w`,
//! `RELEASE.2023-10-25T06-33-25Z`), so parsing is done in steps:
//!
//! 1. whitespace is trimmed, and a `tag_filter` capture (if configured) picks the version text;
//! 2. the project prefix (the *family*: `go`, `jq-`, `REL_`, ...) is split off; a lone `v`/`V`
//!    is not a family, so `v1.2.3`, `V1.2.3` and `1.2.3` compare equal;
//! 3. the numbers are read (any length, leading zeros ignored, `_` and dashed dates understood);
//! 4. what follows is a prerelease (`-rc.1`, `rc1`, `b1`, `-alpha20230719`), a post-release
//!    (`1.1.1w`, `.post1`) or build metadata (`+...`, ignored for precedence).
//!
//! Versions of different families are never compared: [`Version::compare`] returns an error.

mod num;
mod parse;
mod token;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use regex::Regex;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

pub use num::Num;
pub use token::{Token, Word};

/// How the releases of a repository are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, clap::ValueEnum)]
pub enum Strategy {
    /// Our default: SemVer-compatible, plus natural numbers in labels (`rc2 < rc10`), ranked
    /// labels (`dev < alpha < beta < rc`), letter suffixes (`1.1.1w`), `_` separators and dates.
    #[default]
    Auto,
    /// SemVer 2.0.0 precedence, exactly: labels compare as ASCII (`rc10 < rc2`).
    #[value(name = "semver-strict")]
    SemverStrict,
    /// Like `auto`, but insists that the first segment is date-like (`2024.01.15`, `22.04`).
    Calver,
    /// Orders releases by their `published_at` timestamps instead of by tag.
    Date,
    /// Python's PEP 440 (as pypa/packaging orders it): epochs (`1!2.0`), `.devN`, `aN`/`bN`/`rcN`
    /// (`alpha`, `beta`, `c`, `pre`, `preview` spellings), `.postN` (and `-N`), local versions
    /// (`+ubuntu1`), read by the `pep440_rs` crate.
    #[value(name = "pep440")]
    Pep440,
}

impl Strategy {
    /// Every strategy, for tests, fuzzing and help texts.
    pub const ALL: [Strategy; 5] = [
        Strategy::Auto,
        Strategy::SemverStrict,
        Strategy::Calver,
        Strategy::Date,
        Strategy::Pep440,
    ];

    /// The name used in config files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::SemverStrict => "semver-strict",
            Strategy::Calver => "calver",
            Strategy::Date => "date",
            Strategy::Pep440 => "pep440",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = String;

    /// Accepts the names shown by [`Strategy::as_str`], and `semver` as an alias of `auto` (the
    /// seed plan's `version_strategy: {type: semver}`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" | "semver" => Ok(Strategy::Auto),
            "semver-strict" => Ok(Strategy::SemverStrict),
            "calver" => Ok(Strategy::Calver),
            "date" => Ok(Strategy::Date),
            "pep440" => Ok(Strategy::Pep440),
            _ => Err(
                "unknown variant, expected one of `auto`, `semver`, `semver-strict`, \
                 `calver`, `date`, `pep440`"
                    .to_string(),
            ),
        }
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Strategy {
    /// Reads the names [`FromStr`] accepts. The error is a `custom` one so that YAML readers
    /// attach the position of the value.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a tag is not a version, or why two versions cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The tag has no digit at all (`latest`, `nightly`).
    #[error("{tag:?} is not a version: it contains no digits")]
    NoDigits {
        /// The offending tag.
        tag: String,
    },
    /// The tag has digits but does not read as a version under the chosen strategy.
    #[error("{tag:?} is not a version under the {strategy} strategy: {reason}")]
    Invalid {
        /// The offending tag.
        tag: String,
        /// The strategy it was parsed with.
        strategy: Strategy,
        /// What was wrong.
        reason: String,
    },
    /// A `tag_filter` is configured and the tag does not match it.
    #[error("{tag:?} does not match tag_filter {filter:?}")]
    FilterMismatch {
        /// The offending tag.
        tag: String,
        /// The filter's regex.
        filter: String,
    },
    /// The two tags have different project prefixes, so neither is "newer".
    #[error(
        "cannot compare {a:?} with {b:?}: they belong to different families ({} and {})",
        describe_family(fa),
        describe_family(fb)
    )]
    DifferentFamilies {
        /// The first tag.
        a: String,
        /// Its family.
        fa: String,
        /// The second tag.
        b: String,
        /// Its family.
        fb: String,
    },
    /// The two versions were parsed under different strategies.
    #[error("cannot compare {a:?} ({sa}) with {b:?} ({sb}): parsed with different strategies")]
    StrategyMismatch {
        /// The first tag.
        a: String,
        /// Its strategy.
        sa: Strategy,
        /// The second tag.
        b: String,
        /// Its strategy.
        sb: Strategy,
    },
}

fn describe_family(f: &str) -> String {
    if f.is_empty() {
        "no prefix".to_string()
    } else {
        format!("prefix {f:?}")
    }
}

/// A release tag read as a version.
///
/// Equality and ordering ([`Ord`]) are by precedence: `1.0` equals `1.0.0`, and build metadata is
/// ignored. `Ord` is total across families (it orders by family first) so that lists can be
/// sorted; [`Version::compare`] is the check to use when deciding "is this newer", because it
/// refuses to compare across families.
#[derive(Debug, Clone)]
pub struct Version {
    tag: Box<str>,
    /// The text the version was read from: the tag, or its `tag_filter` capture.
    text: Box<str>,
    family: Box<str>,
    family_key: Box<str>,
    strategy: Strategy,
    numbers: Vec<Num>,
    /// Digits written in the first segment, so `calver`'s `05.1` re-reads as a two-digit year.
    first_width: usize,
    post: Vec<Token>,
    letter_suffix: bool,
    pre: Vec<Token>,
    build: Option<Box<str>>,
    /// Under [`Strategy::Pep440`], the version as PEP 440 reads it; its order is the precedence.
    pep440: Option<Box<pep440_rs::Version>>,
}

impl Version {
    /// Parses a tag with the default `auto` strategy.
    pub fn parse(tag: &str) -> Result<Version, VersionError> {
        Self::parse_with(tag, Strategy::Auto)
    }

    /// Parses a tag with the given strategy. For [`Strategy::Date`] the text is a timestamp
    /// (a release's `published_at`), not a tag.
    pub fn parse_with(tag: &str, strategy: Strategy) -> Result<Version, VersionError> {
        Self::parse_inner(tag.trim(), tag.trim(), strategy)
    }

    fn parse_inner(tag: &str, text: &str, strategy: Strategy) -> Result<Version, VersionError> {
        let invalid = |reason: String| VersionError::Invalid {
            tag: tag.to_string(),
            strategy,
            reason,
        };
        if strategy == Strategy::Pep440 {
            return Self::parse_pep440(tag, text);
        }
        let (family, parts) = if strategy == Strategy::Date {
            ("", parse::parse_timestamp(text).map_err(invalid)?)
        } else {
            let (stem, rest) = parse::split_stem(text).ok_or_else(|| VersionError::NoDigits {
                tag: tag.to_string(),
            })?;
            let parts = if strategy == Strategy::SemverStrict {
                parse::parse_strict(rest)
            } else {
                parse::parse_auto(rest)
            }
            .map_err(invalid)?;
            if strategy == Strategy::Calver {
                parse::check_calver(&parts).map_err(invalid)?;
            }
            (parse::family_of(stem), parts)
        };
        Ok(Version {
            tag: tag.into(),
            text: text.into(),
            family: family.into(),
            family_key: family.to_lowercase().into(),
            strategy,
            numbers: parts.numbers,
            first_width: parts.first_len,
            post: parts.post,
            letter_suffix: parts.letter_suffix,
            pre: parts.pre,
            build: parts.build,
            pep440: None,
        })
    }

    /// PEP 440: a PEP 440 version starts with a digit, so everything before the first digit is
    /// the project prefix (`mypkg-`; a lone `v` is PEP 440's own and not a family), and the rest
    /// is read by `pep440_rs`. (The other strategies' heuristic for where a version starts would
    /// split `x.4rc1+local.v20.1` at `20`, and a normalised version would not read back as
    /// itself.) The numbers, prerelease (with `dev`), post-release and local parts are kept for
    /// display.
    fn parse_pep440(tag: &str, text: &str) -> Result<Version, VersionError> {
        let start =
            text.find(|c: char| c.is_ascii_digit())
                .ok_or_else(|| VersionError::NoDigits {
                    tag: tag.to_string(),
                })?;
        let (stem, rest) = text.split_at(start);
        let family = parse::family_of(stem);
        let v: pep440_rs::Version =
            rest.parse()
                .map_err(|e: pep440_rs::VersionParseError| VersionError::Invalid {
                    tag: tag.to_string(),
                    strategy: Strategy::Pep440,
                    reason: e.to_string(),
                })?;
        let num = |n: u64| Token::Num(Num::Small(n));
        let mut pre = Vec::new();
        if let Some(p) = v.pre() {
            let kind = match p.kind {
                pep440_rs::PrereleaseKind::Alpha => "a",
                pep440_rs::PrereleaseKind::Beta => "b",
                pep440_rs::PrereleaseKind::Rc => "rc",
            };
            pre.extend([Token::Word(Word::ranked(kind)), num(p.number)]);
        }
        if let Some(d) = v.dev() {
            pre.extend([Token::Word(Word::ranked("dev")), num(d)]);
        }
        let post = v
            .post()
            .map(|p| vec![Token::Word(Word::plain("post")), num(p)])
            .unwrap_or_default();
        let build = (!v.local().is_empty()).then(|| {
            v.local()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(".")
                .into_boxed_str()
        });
        // The epoch shows in the normalised form (`1!2.0`), not among the numbers.
        let numbers = v.release().iter().map(|n| Num::Small(*n)).collect();
        Ok(Version {
            tag: tag.into(),
            text: text.into(),
            family: family.into(),
            family_key: family.to_lowercase().into(),
            strategy: Strategy::Pep440,
            numbers,
            first_width: 0,
            post,
            letter_suffix: false,
            pre,
            build,
            pep440: Some(Box::new(v)),
        })
    }

    /// The tag this version was parsed from (trimmed).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The project prefix (`""` for plain or `v`-prefixed tags, `"go"`, `"jq-"`, ...).
    pub fn family(&self) -> &str {
        &self.family
    }

    /// The strategy this version was parsed with.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The numeric segments, as written (trailing zeros kept).
    pub fn numbers(&self) -> &[Num] {
        &self.numbers
    }

    /// The prerelease identifiers; empty for a release.
    pub fn prerelease(&self) -> &[Token] {
        &self.pre
    }

    /// The post-release identifiers (`w` of `1.1.1w`, `post`, `1` of `1.0.post1`).
    pub fn post_release(&self) -> &[Token] {
        &self.post
    }

    /// Build metadata after `+`, which does not affect precedence.
    pub fn build(&self) -> Option<&str> {
        self.build.as_deref()
    }

    /// True when the tag itself marks a prerelease (`-rc.1`, `b1`, `.dev2`).
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// Orders two versions of the same family and strategy; refuses anything else.
    pub fn compare(&self, other: &Version) -> Result<Ordering, VersionError> {
        if self.strategy != other.strategy {
            return Err(VersionError::StrategyMismatch {
                a: self.tag.to_string(),
                sa: self.strategy,
                b: other.tag.to_string(),
                sb: other.strategy,
            });
        }
        if self.family_key != other.family_key {
            return Err(VersionError::DifferentFamilies {
                a: self.tag.to_string(),
                fa: self.family.to_string(),
                b: other.tag.to_string(),
                fb: other.family.to_string(),
            });
        }
        Ok(self.precedence(other))
    }

    /// True when `self` is strictly newer than `other` (same family required).
    pub fn is_newer_than(&self, other: &Version) -> Result<bool, VersionError> {
        Ok(self.compare(other)? == Ordering::Greater)
    }

    /// Precedence within one family: numbers (zero-padded), then post-release, then prerelease
    /// (a release outranks its prereleases).
    fn precedence(&self, other: &Version) -> Ordering {
        if let (Some(a), Some(b)) = (&self.pep440, &other.pep440) {
            return a.cmp(b);
        }
        let len = self.numbers.len().max(other.numbers.len());
        let zero = Num::Small(0);
        for i in 0..len {
            let a = self.numbers.get(i).unwrap_or(&zero);
            let b = other.numbers.get(i).unwrap_or(&zero);
            match a.cmp(b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.post
            .cmp(&other.post)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Ord for Version {
    /// A total order for sorting: family, then strategy, then precedence.
    fn cmp(&self, other: &Self) -> Ordering {
        self.family_key
            .cmp(&other.family_key)
            .then(self.strategy.cmp(&other.strategy))
            .then_with(|| self.precedence(other))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Version {
    /// The normalised form: family, numbers without leading zeros, post-release, `-pre.ids` and
    /// `+build`. Parsing it again with the same strategy gives an equal version of the same
    /// family: each spelling is checked, and odd tags that no canonical spelling can represent
    /// keep their own text.
    pub fn normalized(&self) -> String {
        if let Some(v) = &self.pep440 {
            return format!("{}{v}", self.family);
        }
        if self.strategy == Strategy::Date {
            let s = self.render_timestamp();
            if self.reparses_as_self(&s) {
                return s;
            }
            return self.text.to_string();
        }
        // The dotted spelling first; where a dotted prerelease number would look like a cleaner
        // version start than a number glued to its prefix (`go1-rc.4.5`), the glued one
        // (`go1-rc4~5`).
        for glued in [false, true] {
            let s = self.render(glued);
            if self.reparses_as_self(&s) {
                return s;
            }
        }
        self.text.to_string()
    }

    fn reparses_as_self(&self, s: &str) -> bool {
        Version::parse_inner(s, s, self.strategy).is_ok_and(|v| {
            v.family_key == self.family_key
                && v.precedence(self) == Ordering::Equal
                && v.is_prerelease() == self.is_prerelease()
        })
    }

    fn render(&self, glued: bool) -> String {
        let mut out = String::with_capacity(self.tag.len() + 8);
        // Writing to a String cannot fail.
        let _ = self.render_into(&mut out, glued);
        out
    }

    fn render_into(&self, f: &mut String, glued: bool) -> fmt::Result {
        use std::fmt::Write as _;
        f.push_str(&self.family);
        for (i, n) in self.numbers.iter().enumerate() {
            match (i, n) {
                (0, Num::Small(v)) => write!(f, "{v:0>w$}", w = self.first_width)?,
                (0, _) => write!(f, "{n}")?,
                _ => write!(f, ".{n}")?,
            }
        }
        let mut post = self.post.as_slice();
        if self.letter_suffix
            && let Some((first, rest)) = post.split_first()
        {
            write!(f, "{first}")?;
            post = rest;
        }
        if !post.is_empty() {
            f.push('.');
            token::write_joined(f, post, true)?;
        }
        if !self.pre.is_empty() {
            f.push('-');
            token::write_joined(
                f,
                &self.pre,
                glued && self.strategy != Strategy::SemverStrict,
            )?;
        }
        if let Some(b) = &self.build {
            write!(f, "+{b}")?;
        }
        Ok(())
    }

    /// RFC 3339 with nanoseconds, or a plain date, for the `date` strategy.
    fn render_timestamp(&self) -> String {
        let n: Vec<String> = self.numbers.iter().map(Num::to_string).collect();
        match n.as_slice() {
            [y, mo, d, h, mi, s, ns] => {
                format!("{y:0>4}-{mo:0>2}-{d:0>2}T{h:0>2}:{mi:0>2}:{s:0>2}.{ns:0>9}Z")
            }
            [y, mo, d] => format!("{y:0>4}-{mo:0>2}-{d:0>2}"),
            _ => n.join("."),
        }
    }
}

impl fmt::Display for Version {
    /// Shows [`Version::normalized`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

/// A JSON view of a token: numbers as JSON numbers (strings when wider than 64 bits), words as
/// strings.
struct TokenJson<'a>(&'a Token);

impl Serialize for TokenJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Token::Num(n) => NumJson(n).serialize(s),
            Token::Word(w) => s.serialize_str(&w.text),
        }
    }
}

struct NumJson<'a>(&'a Num);

impl Serialize for NumJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Num::Small(v) => s.serialize_u64(*v),
            Num::Big(d) => s.serialize_str(d),
        }
    }
}

impl Serialize for Version {
    /// The shape printed by `release-monitor version parse`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Version", 9)?;
        st.serialize_field("tag", &*self.tag)?;
        st.serialize_field("strategy", self.strategy.as_str())?;
        st.serialize_field("family", &*self.family)?;
        let numbers: Vec<NumJson<'_>> = self.numbers.iter().map(NumJson).collect();
        st.serialize_field("numbers", &numbers)?;
        let pre: Vec<TokenJson<'_>> = self.pre.iter().map(TokenJson).collect();
        st.serialize_field("prerelease", &pre)?;
        let post: Vec<TokenJson<'_>> = self.post.iter().map(TokenJson).collect();
        st.serialize_field("post_release", &post)?;
        st.serialize_field("build", &self.build.as_deref())?;
        st.serialize_field("is_prerelease", &self.is_prerelease())?;
        st.serialize_field("normalized", &self.to_string())?;
        st.end()
    }
}

/// A repository's versioning rules: a strategy and an optional `tag_filter`.
///
/// The filter follows Concourse's github-release resource: tags that do not match are not
/// versions, and the first capture group (or the whole match if there is none) is the version.
#[derive(Debug, Clone, Default)]
pub struct Scheme {
    strategy: Strategy,
    tag_filter: Option<Regex>,
}

impl Scheme {
    /// Rules with the given strategy and optional filter.
    pub fn new(strategy: Strategy, tag_filter: Option<Regex>) -> Scheme {
        Scheme {
            strategy,
            tag_filter,
        }
    }

    /// The strategy of these rules.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The `tag_filter`, if any.
    pub fn tag_filter(&self) -> Option<&Regex> {
        self.tag_filter.as_ref()
    }

    /// Parses a tag under these rules.
    pub fn parse(&self, tag: &str) -> Result<Version, VersionError> {
        let tag = tag.trim();
        match &self.tag_filter {
            None => Version::parse_inner(tag, tag, self.strategy),
            Some(re) => {
                let caps = re
                    .captures(tag)
                    .ok_or_else(|| VersionError::FilterMismatch {
                        tag: tag.to_string(),
                        filter: re.as_str().to_string(),
                    })?;
                let text = caps
                    .get(1)
                    .or_else(|| caps.get(0))
                    .map_or("", |m| m.as_str());
                Version::parse_inner(tag, text.trim(), self.strategy)
            }
        }
    }

    /// Compares two tags under these rules.
    pub fn compare(&self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        self.parse(a)?.compare(&self.parse(b)?)
    }
}

/// The version text a `tag_filter` picks from a tag: the first capture group when it took part in
/// the match, else the whole match; `None` when the tag does not match. The search is unanchored,
/// as in Concourse's github-release resource.
pub fn filter_capture<'t>(filter: &Regex, tag: &'t str) -> Option<&'t str> {
    let caps = filter.captures(tag)?;
    caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str())
}

/// Sorts tags ascending. Tags that are not versions are returned separately, with the reason.
///
/// Tags of several families are grouped by family (in family-name order); equal versions keep
/// a stable, deterministic order by their tag text.
pub fn sort_tags<'a, I>(scheme: &Scheme, tags: I) -> (Vec<Version>, Vec<VersionError>)
where
    I: IntoIterator<Item = &'a str>,
{
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for tag in tags {
        match scheme.parse(tag) {
            Ok(v) => ok.push(v),
            Err(e) => bad.push(e),
        }
    }
    ok.sort_by(|a, b| a.cmp(b).then_with(|| a.tag.cmp(&b.tag)));
    (ok, bad)
}

/// Words that mark a prerelease in a tag, for `strict_prerelease_filtering`.
const PRERELEASE_WORDS: &[&str] = &[
    "alpha",
    "beta",
    "rc",
    "pre",
    "preview",
    "snapshot",
    "dev",
    "nightly",
    "canary",
    "experimental",
];

/// True when a tag contains a prerelease marker as a whole word (`v1.0.0-rc1`, `2.0-SNAPSHOT`).
///
/// Unlike the substring test of the tool we replace, `v1.0.0-darc` is not a prerelease: the tag
/// is split at non-letters, and each letter run is matched as a whole.
pub fn has_prerelease_marker(tag: &str) -> bool {
    tag.split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| PRERELEASE_WORDS.iter().any(|p| w.eq_ignore_ascii_case(p)))
}

#[cfg(test)]
mod tests;
