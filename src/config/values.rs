//! Validated value types.
//!
//! Each type checks its value inside `Deserialize`, so a bad value is reported by the YAML reader
//! at the line and column where it was written, with the key path, exactly like a type error.
//! The same types are used when reading `REPOSITORY_OVERRIDES` (JSON), so both sources obey the
//! same rules.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use crate::version::Strategy;
use serde::de::{self, Deserializer, Unexpected};
use serde::{Deserialize, Serialize, Serializer};

/// Every spelling accepted for a version strategy, for error messages.
const STRATEGY_NAMES: &[&str] = &["auto", "semver", "semver-strict", "calver", "date"];

/// Parses a strategy name, producing serde's "unknown variant" error.
///
/// Errors are built with `custom` (not `unknown_variant`) throughout this module: serde-saphyr
/// then attaches the position of the value itself rather than that of its key.
pub(crate) fn parse_strategy<E: de::Error>(s: &str) -> Result<Strategy, E> {
    s.parse().map_err(|_| unknown_variant(s, STRATEGY_NAMES))
}

/// serde's "unknown variant" message, as a positioned custom error. The value is not quoted
/// (no config error quotes a value: it may be a secret pasted into the wrong key).
pub(crate) fn unknown_variant<E: de::Error>(_s: &str, names: &[&str]) -> E {
    E::custom(format!(
        "unknown variant, expected one of {}",
        quoted_list(names)
    ))
}

/// serde's "invalid value" message, as a positioned custom error, without the value (no config
/// error quotes a value: it may be a secret pasted into the wrong key). `unexpected` only says
/// what kind of value it was.
fn invalid_value<E: de::Error>(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> E {
    let kind = match unexpected {
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer out of range",
        Unexpected::Float(_) => "a number out of range",
        _ => "a value",
    };
    E::custom(format_args!("invalid value: {kind}, expected {expected}"))
}

/// Formats `a, b` as `` `a`, `b` ``.
pub(crate) fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A repository's `tag_filter`: a regex that selects tags, whose first capture group (if any) is
/// the version (the semantics of Concourse's github-release resource).
///
/// It exists so the regex is compiled once, at load time, and a regex that does not compile is a
/// configuration error pointing at its line rather than a failure in the middle of a run.
#[derive(Clone)]
pub struct TagFilter {
    raw: String,
    regex: Regex,
}

impl TagFilter {
    /// Compiles a filter.
    pub fn new(pattern: &str) -> Result<TagFilter, String> {
        let regex = Regex::new(pattern).map_err(|e| regex_error_line(&e))?;
        Ok(TagFilter {
            raw: pattern.to_string(),
            regex,
        })
    }

    /// The regex as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The compiled regex.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// The version carried by `tag`, or `None` when the tag does not match the filter: the first
    /// capture group when the regex has one and it took part in the match, otherwise the whole
    /// match. The search is unanchored, as in Concourse; anchor the regex to be stricter.
    pub fn version_of<'t>(&self, tag: &'t str) -> Option<&'t str> {
        crate::version::filter_capture(&self.regex, tag)
    }
}

/// regex's errors are multi-line drawings; keep the final "error: ..." line.
fn regex_error_line(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid regex");
    let reason = last.trim().trim_start_matches("error: ");
    format!("invalid regex: {reason}")
}

impl PartialEq for TagFilter {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl fmt::Debug for TagFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TagFilter({:?})", self.raw)
    }
}

impl Serialize for TagFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for TagFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        TagFilter::new(&s).map_err(de::Error::custom)
    }
}

/// The GitHub API base URL, normalised without a trailing slash.
///
/// It exists because the token is sent to this URL: it must be `https://`, or `http://` only
/// for a loopback host (a local test server), and it must not carry credentials, a query or a
/// fragment.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiUrl(String);

/// The public GitHub API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

impl ApiUrl {
    /// Validates and normalises an API URL.
    pub fn parse(text: &str) -> Result<ApiUrl, String> {
        secure_base_url(text).map(ApiUrl)
    }

    /// The URL without a trailing slash; append `/repos/...` to it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ApiUrl {
    fn default() -> Self {
        ApiUrl(DEFAULT_API_URL.to_string())
    }
}

impl fmt::Debug for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiUrl({:?})", self.0)
    }
}

impl fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ApiUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ApiUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        ApiUrl::parse(&s).map_err(de::Error::custom)
    }
}

/// Checks a base URL that credentials are sent to; returns it without a trailing slash.
pub(crate) fn secure_base_url(text: &str) -> Result<String, String> {
    let url = parse_base_url(text)?;
    match url.scheme() {
        "https" | "http" => crate::http::check_transport(&url).map_err(|_| {
            "the URL uses http://, which is only allowed for loopback hosts \
             (127.0.0.0/8, ::1, localhost); use https://"
                .to_string()
        })?,
        other => return Err(format!("the URL has scheme `{other}`, expected https")),
    }
    Ok(trim_slash(&url))
}

fn parse_base_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("the value is not a URL: {e}"))?;
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err("the value is not an http(s) URL with a host".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not contain a user name or password".to_string());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not have a query or fragment".to_string());
    }
    Ok(url)
}

fn trim_slash(url: &url::Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

/// A URL that credentials are sent to (`https://`, or `http://` for loopback only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SecureUrl(pub(crate) String);

impl<'de> Deserialize<'de> for SecureUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        secure_base_url(&s)
            .map(SecureUrl)
            .map_err(de::Error::custom)
    }
}

/// A credential read from the configuration (Artifactory password or API key).
///
/// It exists so a secret can never be printed by accident: `Debug` and `Serialize` (the
/// normalised configuration) both show `***`. Use [`Secret::expose`] where the value is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// What a redacted value is replaced with.
pub const REDACTED: &str = "***";

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The real value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// One `post_download.notify` target: a channel name such as `slack`, or a webhook URL.
///
/// It exists because a webhook URL is a credential (anyone holding it can post): a target that
/// looks like a URL is shown as `***` by `Debug` and in the normalised configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifyTarget(String);

impl NotifyTarget {
    /// Wraps a target.
    pub fn new(value: impl Into<String>) -> NotifyTarget {
        NotifyTarget(value.into())
    }

    /// The target as written (possibly a webhook URL: do not log it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the target is a URL (and therefore redacted when printed).
    pub fn is_url(&self) -> bool {
        self.0.contains("://")
    }

    fn shown(&self) -> &str {
        if self.is_url() { REDACTED } else { &self.0 }
    }
}

impl fmt::Debug for NotifyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotifyTarget({:?})", self.shown())
    }
}

impl Serialize for NotifyTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.shown())
    }
}

/// Checks a notification webhook URL without ever quoting it (it is a credential): `https://`,
/// or `http://` for a loopback host only; no user name or password. A query is allowed (some
/// services put their token there).
pub(crate) fn check_webhook_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("the webhook URL (not shown: it is a secret) is not a URL: {e}"))?;
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err("the webhook URL (not shown: it is a secret) has no host".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the webhook URL must not contain a user name or password".to_string());
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::http::is_loopback(&url) => Ok(()),
        "http" => Err(
            "the webhook URL uses http://, which is only allowed for loopback hosts \
                       (127.0.0.0/8, ::1, localhost); use https://"
                .to_string(),
        ),
        other => Err(format!(
            "the webhook URL has scheme `{other}`, expected https"
        )),
    }
}

/// The message for a redacted value found where the real one is needed.
const REDACTED_VALUE: &str =
    "this is a redacted value (`***`, as `config check` prints it); give the real value";

/// Raw: a webhook URL that must be given in the file (a `notify.webhooks` entry).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WebhookUrl(pub(crate) Secret);

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s == REDACTED {
            return Err(de::Error::custom(REDACTED_VALUE));
        }
        check_webhook_url(&s).map_err(de::Error::custom)?;
        Ok(WebhookUrl(Secret(s.trim().to_string())))
    }
}

/// Raw: a webhook URL that an environment variable may supply instead
/// (`notify.slack.webhook_url`). `***`, as `config check` prints it, counts as unset, so that
/// output reloads with the real value taken from the environment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnvWebhookUrl(pub(crate) Option<Secret>);

impl<'de> Deserialize<'de> for EnvWebhookUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s == REDACTED {
            return Ok(EnvWebhookUrl(None));
        }
        check_webhook_url(&s).map_err(de::Error::custom)?;
        Ok(EnvWebhookUrl(Some(Secret(s.trim().to_string()))))
    }
}

/// Raw: a secret that an environment variable may supply instead (`notify.email.password`);
/// `***` counts as unset, as for [`EnvWebhookUrl`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnvSecret(pub(crate) Option<Secret>);

impl<'de> Deserialize<'de> for EnvSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(EnvSecret((s != REDACTED).then_some(Secret(s))))
    }
}

/// Raw: a secret that must be given in the file and must not be empty (a webhook's HMAC key).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileSecret(pub(crate) Secret);

impl<'de> Deserialize<'de> for FileSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s == REDACTED {
            return Err(de::Error::custom(REDACTED_VALUE));
        }
        if s.is_empty() {
            return Err(de::Error::custom("must not be empty"));
        }
        Ok(FileSecret(Secret(s)))
    }
}

/// Raw: an e-mail address, optionally with a display name (`Release Monitor <rm@example.com>`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MailAddress(pub(crate) String);

impl<'de> Deserialize<'de> for MailAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.trim().parse::<lettre::message::Mailbox>().map_err(|e| {
            de::Error::custom(format!(
                "invalid e-mail address ({e}); expected `name@example.com` or \
                     `Name <name@example.com>`"
            ))
        })?;
        Ok(MailAddress(s.trim().to_string()))
    }
}

/// What a run must have done for a notification to be sent (`notify.on`).
///
/// It exists so a monitor-only setup can be told about every new release while a mirroring setup
/// hears only about what was actually downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyEvent {
    /// The monitor reported new releases.
    Found,
    /// Releases were downloaded, verified and recorded.
    Downloaded,
}

impl<'de> Deserialize<'de> for NotifyEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.as_str() {
            "found" => Ok(NotifyEvent::Found),
            "downloaded" => Ok(NotifyEvent::Downloaded),
            _ => Err(unknown_variant(&s, &["found", "downloaded"])),
        }
    }
}

/// True when an SMTP host name is a loopback address or `localhost` (plain SMTP is allowed only
/// there, as plain HTTP is).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bracketed = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    url::Url::parse(&format!("http://{bracketed}/")).is_ok_and(|u| crate::http::is_loopback(&u))
}

/// A non-negative, finite number of seconds.
///
/// It exists so that delays and timeouts are validated once and turned into a [`Duration`]
/// without any possibility of panicking.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Seconds(f64);

/// The largest number of seconds accepted anywhere (about 31 years).
const MAX_SECONDS: f64 = 1e9;

impl Seconds {
    /// Wraps a value in `0..=1e9`; `None` otherwise (including NaN).
    pub fn new(secs: f64) -> Option<Seconds> {
        (secs.is_finite() && (0.0..=MAX_SECONDS).contains(&secs)).then_some(Seconds(secs))
    }

    /// The value in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0
    }

    /// The value as a [`Duration`].
    pub fn as_duration(self) -> Duration {
        Duration::try_from_secs_f64(self.0).unwrap_or(Duration::ZERO)
    }

    pub(crate) const fn from_const(secs: f64) -> Seconds {
        Seconds(secs)
    }
}

/// A release age: `minimum_release_age`, the cooldown before a new release is adopted.
///
/// It exists so the age is written as people write it (`3d`, `12h`, `1w`, `90m`, `2days 6h`;
/// a plain number is seconds), read by the `humantime` crate, and printed back the same way. At
/// most a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Age(Duration);

/// The longest cooldown accepted.
const MAX_AGE: Duration = Duration::from_secs(366 * 24 * 3600);

impl Age {
    /// The age as a [`Duration`] (zero: no cooldown).
    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// An age of `d` (capped at a year), for callers outside the loader.
    pub fn new(d: Duration) -> Age {
        Age(d.min(MAX_AGE))
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            f.write_str("0s")
        } else {
            write!(f, "{}", humantime::format_duration(self.0))
        }
    }
}

impl Serialize for Age {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AgeVisitor;
        const EXPECTED: &str =
            "a duration such as 3d, 12h, 90m or 1w (a plain number is seconds), at most a year";
        impl de::Visitor<'_> for AgeVisitor {
            type Value = Age;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Age, E> {
                let d = Duration::from_secs(v);
                (d <= MAX_AGE)
                    .then_some(Age(d))
                    .ok_or_else(|| E::custom(format!("invalid value, expected {EXPECTED}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Age, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("invalid value, expected {EXPECTED}")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Age, E> {
                // The text itself is never quoted back: it may be a secret pasted here.
                let v = v.trim();
                if let Ok(n) = v.parse::<u64>() {
                    return self.visit_u64(n);
                }
                humantime::parse_duration(v)
                    .ok()
                    .filter(|d| *d <= MAX_AGE)
                    .map(Age)
                    .ok_or_else(|| E::custom(format!("invalid value, expected {EXPECTED}")))
            }
        }
        deserializer.deserialize_any(AgeVisitor)
    }
}

/// Raw: a [`Seconds`] that may be zero (delays).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NonNegSecs(pub(crate) Seconds);

impl<'de> Deserialize<'de> for NonNegSecs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(deserializer)?;
        Seconds::new(v).map(NonNegSecs).ok_or_else(|| {
            invalid_value(
                Unexpected::Float(v),
                &"a number of seconds from 0 to 1000000000",
            )
        })
    }
}

/// Raw: a [`Seconds`] that must be positive (timeouts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PosSecs(pub(crate) Seconds);

impl<'de> Deserialize<'de> for PosSecs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(deserializer)?;
        Seconds::new(v)
            .filter(|s| s.0 > 0.0)
            .map(PosSecs)
            .ok_or_else(|| {
                invalid_value(
                    Unexpected::Float(v),
                    &"a number of seconds greater than 0 and at most 1000000000",
                )
            })
    }
}

/// Raw: a number of bytes, at least 1 (a plain integer; 64 bits, so caps above 4 GiB fit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ByteCount(pub(crate) u64);

impl<'de> Deserialize<'de> for ByteCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(deserializer)?;
        if v == 0 {
            return Err(invalid_value(
                Unexpected::Unsigned(0),
                &"a number of bytes of at least 1",
            ));
        }
        Ok(ByteCount(v))
    }
}

/// Raw: an integer in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounded<const MIN: u32, const MAX: u32>(pub(crate) u32);

struct Range<const MIN: u32, const MAX: u32>;

impl<const MIN: u32, const MAX: u32> de::Expected for Range<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if MAX == u32::MAX {
            write!(f, "an integer of at least {MIN}")
        } else {
            write!(f, "an integer from {MIN} to {MAX}")
        }
    }
}

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = u32::deserialize(deserializer)?;
        if (MIN..=MAX).contains(&v) {
            Ok(Bounded(v))
        } else {
            Err(invalid_value(
                Unexpected::Unsigned(u64::from(v)),
                &Range::<MIN, MAX>,
            ))
        }
    }
}

/// Raw: a switch for something this tool always does (verifying downloads against upstream
/// checksums). `true` is accepted, so the seed tool's configs load; `false` is refused, because
/// accepting it would promise a behaviour that does not exist.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AlwaysOn;

impl<'de> Deserialize<'de> for AlwaysOn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if bool::deserialize(deserializer)? {
            Ok(AlwaysOn)
        } else {
            Err(de::Error::custom(
                "`false` is not supported: every download is verified against every upstream \
                 checksum there is, always (the key is accepted as `true` for the seed tool's \
                 configs)",
            ))
        }
    }
}

/// Raw: a string that must not be empty (or only whitespace).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NonEmpty(pub(crate) String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s.trim().is_empty() {
            Err(de::Error::custom("must not be empty"))
        } else {
            Ok(NonEmpty(s))
        }
    }
}

/// Raw: a filesystem path that must not be empty.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NonEmptyPath(pub(crate) PathBuf);

impl<'de> Deserialize<'de> for NonEmptyPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        NonEmpty::deserialize(deserializer).map(|s| NonEmptyPath(PathBuf::from(s.0)))
    }
}

pub(crate) use crate::repo::check_name;

/// Raw: the `owner` of a repository: one name, or (GitLab) a group path `group/sub`, each
/// part checked like a name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Owner(pub(crate) String);

impl<'de> Deserialize<'de> for Owner {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s.is_empty() {
            return Err(de::Error::custom("owner must not be empty"));
        }
        for part in s.split('/') {
            check_name("owner", part).map_err(de::Error::custom)?;
        }
        Ok(Owner(s))
    }
}

/// Raw: the `repo` name of a repository.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RepoName(pub(crate) String);

impl<'de> Deserialize<'de> for RepoName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        check_name("repo", &s).map_err(de::Error::custom)?;
        Ok(RepoName(s))
    }
}

/// Splits and checks `owner/repo`.
pub(crate) fn split_full_name(s: &str) -> Result<(String, String), String> {
    let id: crate::repo::RepoId = s.parse()?;
    Ok((id.owner().to_string(), id.repo().to_string()))
}

/// Raw: a `repository_overrides` key, `owner/repo`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FullName(pub(crate) String);

impl<'de> Deserialize<'de> for FullName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        split_full_name(&s).map_err(de::Error::custom)?;
        Ok(FullName(s))
    }
}

/// Where a repository's versions come from.
///
/// It exists for projects that only push tags (nginx, many C projects): with `tags`, the newest
/// tag by the version engine is the "release", its source archive the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseSource {
    /// GitHub releases (the default).
    #[default]
    Releases,
    /// Git tags, for projects that publish no releases.
    Tags,
}

impl<'de> Deserialize<'de> for ReleaseSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.as_str() {
            "releases" => Ok(ReleaseSource::Releases),
            "tags" => Ok(ReleaseSource::Tags),
            _ => Err(unknown_variant(&s, &["releases", "tags"])),
        }
    }
}

/// Which source archive GitHub generates for a tag should be fetched.
///
/// It exists because the seed tool's `source_archives.prefer` accepts exactly these values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchivePreference {
    /// `.tar.gz`.
    #[default]
    Tarball,
    /// `.zip`.
    Zipball,
    /// Both formats.
    Both,
}

impl<'de> Deserialize<'de> for ArchivePreference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.as_str() {
            "tarball" => Ok(ArchivePreference::Tarball),
            "zipball" => Ok(ArchivePreference::Zipball),
            "both" => Ok(ArchivePreference::Both),
            _ => Err(unknown_variant(&s, &["tarball", "zipball", "both"])),
        }
    }
}

/// Raw: the plan's `storage.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StorageType {
    Local,
    S3,
}

impl<'de> Deserialize<'de> for StorageType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match s.as_str() {
            "local" => Ok(StorageType::Local),
            "s3" => Ok(StorageType::S3),
            _ => Err(unknown_variant(&s, &["local", "s3"])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_url_rules() {
        assert_eq!(
            ApiUrl::parse("https://api.github.com/").unwrap().as_str(),
            "https://api.github.com"
        );
        assert_eq!(
            ApiUrl::parse("https://ghe.example.com/api/v3/")
                .unwrap()
                .as_str(),
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(
            ApiUrl::parse("http://127.0.0.1:8443").unwrap().as_str(),
            "http://127.0.0.1:8443"
        );
        assert!(ApiUrl::parse("http://127.1.2.3").is_ok());
        assert!(ApiUrl::parse("http://[::1]:9000/").is_ok());
        assert!(ApiUrl::parse("http://localhost:8080").is_ok());
        assert!(
            ApiUrl::parse("http://example.com")
                .unwrap_err()
                .contains("loopback")
        );
        assert!(ApiUrl::parse("ftp://example.com").is_err());
        assert!(ApiUrl::parse("api.github.com").is_err());
        assert!(ApiUrl::parse("https://user:pw@example.com").is_err());
        assert!(ApiUrl::parse("https://example.com/?x=1").is_err());
        assert!(ApiUrl::parse("http://localhost.evil.com").is_err());
    }

    #[test]
    fn tag_filter_capture_semantics() {
        let f = TagFilter::new(r"v(\d+\.\d+\.\d+)").unwrap();
        assert_eq!(f.version_of("v1.2.3"), Some("1.2.3"));
        assert_eq!(f.version_of("release-v1.2.3-final"), Some("1.2.3"));
        assert_eq!(f.version_of("nightly"), None);
        let whole = TagFilter::new(r"^\d+\.\d+$").unwrap();
        assert_eq!(whole.version_of("1.5"), Some("1.5"));
        let err = TagFilter::new("v(\\d+").unwrap_err();
        assert_eq!(err, "invalid regex: unclosed group");
    }

    #[test]
    fn strategy_names() {
        assert_eq!("semver".parse(), Ok(Strategy::Auto));
        assert_eq!("Semver-Strict".parse(), Ok(Strategy::SemverStrict));
        assert!("semverx".parse::<Strategy>().is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("owner", "kubernetes").is_ok());
        assert!(check_name("owner", "").is_err());
        assert!(check_name("repo", "a b").is_err());
        assert!(check_name("repo", "a/b").is_err());
        assert!(check_name("repo", "..").is_err());
        assert_eq!(
            split_full_name("cli/cli").unwrap(),
            ("cli".to_string(), "cli".to_string())
        );
        assert!(split_full_name("cli").is_err());
        assert!(split_full_name("a/b/c").is_err());
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        let hook = NotifyTarget::new("https://hooks.slack.com/services/T/B/X");
        assert!(!format!("{hook:?}").contains("hooks"));
        assert_eq!(
            serde_json::to_string(&NotifyTarget::new("slack")).unwrap(),
            "\"slack\""
        );
    }

    #[test]
    fn webhook_urls_are_checked_without_being_quoted() {
        assert!(check_webhook_url("https://hooks.slack.com/services/T/B/X").is_ok());
        assert!(check_webhook_url("https://example.com/hook?token=abc").is_ok());
        assert!(check_webhook_url("http://127.0.0.1:9999/hook").is_ok());
        for bad in [
            "http://example.com/SECRETPATH",
            "ftp://example.com/SECRETPATH",
            "https://user:SECRETPATH@example.com/",
            "SECRETPATH",
        ] {
            let e = check_webhook_url(bad).unwrap_err();
            assert!(!e.contains("SECRETPATH"), "{e}");
        }
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("::1"));
        assert!(is_loopback_host("localhost"));
        assert!(!is_loopback_host("smtp.example.com"));
        assert!(!is_loopback_host("localhost.evil.com"));
    }

    #[test]
    fn seconds_bounds() {
        assert!(Seconds::new(-1.0).is_none());
        assert!(Seconds::new(f64::NAN).is_none());
        assert!(Seconds::new(1e10).is_none());
        assert_eq!(
            Seconds::new(1.5).unwrap().as_duration(),
            Duration::from_millis(1500)
        );
    }
}

thread_local! {
    /// The folder of the configuration file being read, so key files named in it are found
    /// relative to it (set by [`with_base_dir`] while the file is deserialised).
    static BASE_DIR: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with `dir` as the folder that relative key-file paths are resolved against.
pub(crate) fn with_base_dir<T>(dir: &std::path::Path, f: impl FnOnce() -> T) -> T {
    let previous = BASE_DIR.with(|b| b.replace(Some(dir.to_path_buf())));
    let out = f();
    BASE_DIR.with(|b| *b.borrow_mut() = previous);
    out
}

/// `path` resolved against the configuration file's folder (when relative and one is set).
fn resolve(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() {
        return p;
    }
    BASE_DIR
        .with(|b| b.borrow().clone())
        .map_or(p.clone(), |dir| dir.join(&p))
}

/// The largest key or trusted-root file read (a device or a huge file named by mistake must not
/// hang or exhaust the loader).
const MAX_KEY_FILE: u64 = 8 * 1024 * 1024;

/// Reads a regular file of at most [`MAX_KEY_FILE`] bytes.
fn read_bounded(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_KEY_FILE} bytes"
        )));
    }
    Ok(bytes)
}

/// Reads a key file named in the configuration. Errors never repeat the value (a secret pasted
/// into the wrong key must not be printed): the position names it, and the message says which
/// folder a relative path was resolved against.
fn read_key_file<E: de::Error>(path: &str) -> Result<(PathBuf, Vec<u8>), E> {
    if path.trim().is_empty() {
        return Err(E::custom("must not be empty"));
    }
    let resolved = resolve(path);
    read_bounded(&resolved)
        .map(|bytes| (resolved.clone(), bytes))
        .map_err(|e| {
            let against = if PathBuf::from(path).is_absolute() {
                String::new()
            } else {
                BASE_DIR
                    .with(|b| b.borrow().clone())
                    .map(|dir| format!(" (relative to {})", dir.display()))
                    .unwrap_or_default()
            };
            E::custom(format!("cannot read this file{against}: {e}"))
        })
}

/// Whether `pem` is an RSA private key in PEM form (a GitHub App's key), by the `jsonwebtoken`
/// crate that signs with it. The key is never quoted in the answer.
pub(crate) fn check_app_key(pem: &str) -> Result<(), String> {
    jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
        .map(drop)
        .map_err(|_| {
            "not an RSA private key in PEM form (the .pem file GitHub gives for an App)".to_string()
        })
}

/// A GitHub App's private key file, read and checked when the configuration is read, and kept
/// as a [`Secret`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppKeyFile {
    pub(crate) path: PathBuf,
    pub(crate) pem: Secret,
}

impl<'de> Deserialize<'de> for AppKeyFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let (path, bytes) = read_key_file(&s)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| de::Error::custom("the file is not a PEM file (not text)"))?;
        check_app_key(&text).map_err(|e| de::Error::custom(format!("the file is {e}")))?;
        Ok(AppKeyFile {
            path,
            pem: Secret::new(text),
        })
    }
}

/// A minisign public key written inline (`RWQ…`), checked when the file is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MinisignKeyValue(pub(crate) crate::trust::MinisignKey);

impl<'de> Deserialize<'de> for MinisignKeyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        crate::trust::MinisignKey::parse(&s)
            .map(MinisignKeyValue)
            .map_err(de::Error::custom)
    }
}

/// An OpenPGP public key file (armored or binary), read and checked when the file is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PgpKeyFile(pub(crate) crate::trust::PgpKey);

impl<'de> Deserialize<'de> for PgpKeyFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let (_, bytes) = read_key_file(&s)?;
        crate::trust::PgpKey::parse(&s, &bytes)
            .map(PgpKeyFile)
            .map_err(|e| de::Error::custom(format!("the file {e}")))
    }
}

/// A cosign PEM public key file, read and checked when the file is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CosignKeyFile(pub(crate) crate::trust::CosignKey);

impl<'de> Deserialize<'de> for CosignKeyFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let (_, bytes) = read_key_file(&s)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| de::Error::custom("the file is not a PEM file (not text)"))?;
        crate::trust::CosignKey::parse(&s, &text)
            .map(CosignKeyFile)
            .map_err(|e| de::Error::custom(format!("the file is {e}")))
    }
}

/// A Sigstore `trusted_root.json` file, read and checked when the file is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrustedRootFile(pub(crate) PathBuf);

impl<'de> Deserialize<'de> for TrustedRootFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let (resolved, bytes) = read_key_file(&s)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| de::Error::custom("the file is not a Sigstore trusted root (not text)"))?;
        crate::trust::sigstore::Roots::from_json(&text)
            .map(|_| TrustedRootFile(resolved))
            .map_err(|e| de::Error::custom(format!("the file is not a Sigstore trusted root: {e}")))
    }
}

/// A signer workflow: `.github/workflows/x.yml` (in the repository) or
/// `owner/repo/.github/workflows/x.yml` (a reusable workflow elsewhere).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkflowPath(pub(crate) String);

impl<'de> Deserialize<'de> for WorkflowPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let path = s.trim().trim_start_matches('/');
        let in_repo = path.starts_with(".github/workflows/");
        let elsewhere = path
            .splitn(3, '/')
            .nth(2)
            .is_some_and(|rest| rest.starts_with(".github/workflows/"))
            && path
                .split('/')
                .take(2)
                .all(|part| check_name("owner", part).is_ok());
        let file = path.rsplit('/').next().unwrap_or("");
        if !(in_repo || elsewhere)
            || !(file.ends_with(".yml") || file.ends_with(".yaml"))
            || path.contains('@')
            || path.contains("..")
        {
            return Err(de::Error::custom(
                "not a workflow path: expected `.github/workflows/<file>.yml` or \
                 `owner/repo/.github/workflows/<file>.yml` (no `@ref`)",
            ));
        }
        Ok(WorkflowPath(path.to_string()))
    }
}

/// `verification.require`: `false`, `checksum` (or `true`, the seed plan's meaning) or
/// `signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Require {
    /// Nothing is required: an asset no upstream checksum covers is stored as `verified_by: none`.
    #[default]
    Nothing,
    /// An asset no upstream checksum covers fails.
    Checksum,
    /// An asset no signature or attestation covers fails.
    Signature,
}

impl Serialize for Require {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Require::Nothing => s.serialize_bool(false),
            Require::Checksum => s.serialize_str("checksum"),
            Require::Signature => s.serialize_str("signature"),
        }
    }
}

impl<'de> Deserialize<'de> for Require {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Require;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("false, `checksum` (or true) or `signature`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Require, E> {
                Ok(if v {
                    Require::Checksum
                } else {
                    Require::Nothing
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Require, E> {
                match v {
                    "false" | "none" => Ok(Require::Nothing),
                    "true" | "checksum" => Ok(Require::Checksum),
                    "signature" => Ok(Require::Signature),
                    _ => Err(unknown_variant(v, &["false", "checksum", "signature"])),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Which API a forge speaks: `repositories[].forge` and `forges.<host>.type`.
///
/// It exists because the same monitor → download path serves GitHub, GitLab and Gitea-family
/// forges; only the forge client differs. `forgejo` and `codeberg` are spellings of `gitea`
/// (Forgejo keeps Gitea's API v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    /// GitHub and GitHub Enterprise (REST v3, GraphQL).
    #[default]
    Github,
    /// GitLab, gitlab.com or self-hosted (API v4).
    Gitlab,
    /// Gitea, Forgejo, Codeberg (API v1).
    #[serde(alias = "forgejo", alias = "codeberg")]
    Gitea,
}

impl ForgeKind {
    /// The name used in keys and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ForgeKind::Github => "github",
            ForgeKind::Gitlab => "gitlab",
            ForgeKind::Gitea => "gitea",
        }
    }

    /// The host a repository with only `forge:` lives on (`None`: the `github:` section's).
    pub fn default_host(self) -> Option<&'static str> {
        match self {
            ForgeKind::Github => None,
            ForgeKind::Gitlab => Some("gitlab.com"),
            ForgeKind::Gitea => Some("codeberg.org"),
        }
    }

    /// The API base of a self-hosted server of this kind at `host`.
    pub fn api_url_on(self, host: &str) -> String {
        match self {
            ForgeKind::Github => format!("https://{host}/api/v3"),
            ForgeKind::Gitlab => format!("https://{host}/api/v4"),
            ForgeKind::Gitea => format!("https://{host}/api/v1"),
        }
    }
}

/// The forges known without configuration: host, kind, API base and token variable.
/// (github.com is the `github:` section's, with `GITHUB_TOKEN`.)
pub const DEFAULT_FORGES: &[(&str, ForgeKind, &str, &str)] = &[
    (
        "gitlab.com",
        ForgeKind::Gitlab,
        "https://gitlab.com/api/v4",
        "GITLAB_TOKEN",
    ),
    (
        "codeberg.org",
        ForgeKind::Gitea,
        "https://codeberg.org/api/v1",
        "CODEBERG_TOKEN",
    ),
];

/// The default forge at `host`, if it is one: (kind, API base, token variable).
pub(crate) fn default_forge(host: &str) -> Option<(ForgeKind, &'static str, &'static str)> {
    DEFAULT_FORGES
        .iter()
        .find(|(h, ..)| *h == host)
        .map(|(_, kind, api, env)| (*kind, *api, *env))
}

thread_local! {
    /// The hosts of the file's `forges:` keys, read before the file is deserialised, so a
    /// repository URL on an unknown host is refused at its own line.
    static FORGE_HOSTS: std::cell::RefCell<Option<HashSet<String>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with `hosts` as the hosts `forges:` declares.
pub(crate) fn with_forge_hosts<T>(hosts: HashSet<String>, f: impl FnOnce() -> T) -> T {
    let previous = FORGE_HOSTS.with(|h| h.replace(Some(hosts)));
    let out = f();
    FORGE_HOSTS.with(|h| *h.borrow_mut() = previous);
    out
}

/// Whether `host` is a forge without `forge:` being said: one of `forges:`, a default, or
/// github.com.
pub(crate) fn is_known_forge_host(host: &str) -> bool {
    host == "github.com"
        || default_forge(host).is_some()
        || FORGE_HOSTS.with(|h| h.borrow().as_ref().is_some_and(|s| s.contains(host)))
}

/// Raw: a forge host (`forges:` key, `repositories[].host`): `name[:port]`, lowercased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct HostKey(pub(crate) String);

impl<'de> Deserialize<'de> for HostKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?.to_ascii_lowercase();
        // Not quoted: config errors never print values.
        crate::repo::check_host(&s).map_err(|_| {
            de::Error::custom(
                "expected a host name (`host` or `host:port`: letters, digits, `-`, `.`)",
            )
        })?;
        Ok(HostKey(s))
    }
}

/// Raw: the name of an environment variable (`forges.<host>.token_env`): upper-case letters,
/// digits and `_`. Anything else is refused without being quoted (a token pasted here by
/// mistake must not be printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvName(pub(crate) String);

impl<'de> Deserialize<'de> for EnvName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let ok = !s.is_empty()
            && s.len() <= 64
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(EnvName(s))
        } else {
            Err(de::Error::custom(
                "expected the name of an environment variable (upper-case letters, digits \
                 and `_`, such as GITLAB_EXAMPLE_TOKEN); the value is not shown",
            ))
        }
    }
}

/// Raw: `repositories[].url`, a project's web address: `https://host/owner…/repo`. Split
/// into the host and the project path (a trailing `.git` or `/-/…` is dropped).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RepoUrl {
    pub(crate) host: String,
    pub(crate) owner: String,
    pub(crate) repo: String,
}

impl<'de> Deserialize<'de> for RepoUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        parse_repo_url(&s).map_err(de::Error::custom)
    }
}

/// See [`RepoUrl`].
pub(crate) fn parse_repo_url(text: &str) -> Result<RepoUrl, String> {
    let base = secure_base_url(text)?;
    let url = url::Url::parse(&base).map_err(|e| format!("the value is not a URL: {e}"))?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return Err("the URL has no host".to_string()),
    }
    .to_ascii_lowercase();
    // Config errors never quote values (a secret pasted here must not be printed).
    crate::repo::check_host(&host).map_err(|_| "the URL's host is not a host name".to_string())?;
    let mut parts: Vec<String> = Vec::new();
    for seg in url.path_segments().into_iter().flatten() {
        if seg == "-" {
            break;
        }
        let seg = percent_encoding::percent_decode_str(seg)
            .decode_utf8()
            .map_err(|_| "the URL's path is not UTF-8".to_string())?
            .into_owned();
        if !seg.is_empty() {
            parts.push(seg);
        }
    }
    if let Some(last) = parts.last_mut()
        && let Some(bare) = last.strip_suffix(".git")
    {
        *last = bare.to_string();
    }
    let Some((repo, owner)) = parts.split_last() else {
        return Err("the URL names no project (expected https://HOST/OWNER/REPO)".to_string());
    };
    if owner.is_empty() {
        return Err("the URL names no owner (expected https://HOST/OWNER/REPO)".to_string());
    }
    let owner = owner.join("/");
    crate::repo::RepoId::on(Some(&host), &owner, repo).map_err(|_| {
        "the URL's path is not of names (no `..`, `%`, `\\`, spaces or control characters)"
            .to_string()
    })?;
    Ok(RepoUrl {
        host,
        owner,
        repo: repo.clone(),
    })
}

#[cfg(test)]
mod forge_tests {
    use super::*;

    #[test]
    fn repository_urls_split_into_host_and_nested_path() {
        let u = parse_repo_url("https://gitlab.example.com/platform/tools/cli").unwrap();
        assert_eq!(
            (u.host.as_str(), u.owner.as_str(), u.repo.as_str()),
            ("gitlab.example.com", "platform/tools", "cli")
        );
        let u = parse_repo_url("https://GitLab.com/a/b.git/").unwrap();
        assert_eq!((u.host.as_str(), u.repo.as_str()), ("gitlab.com", "b"));
        let u = parse_repo_url("https://gitlab.com/g/p/-/releases").unwrap();
        assert_eq!((u.owner.as_str(), u.repo.as_str()), ("g", "p"));
        let u = parse_repo_url("http://127.0.0.1:8443/a/b").unwrap();
        assert_eq!(u.host, "127.0.0.1:8443");
        for bad in [
            "https://gitlab.com/only",
            "http://gitlab.com/a/b",
            "https://u:p@gitlab.com/a/b",
            "https://gitlab.com/a/b?x=1",
            "ftp://gitlab.com/a/b",
            "https://gitlab.com/a/%25/b",
        ] {
            assert!(parse_repo_url(bad).is_err(), "{bad}");
        }
        // The value is never quoted back.
        let e = parse_repo_url("https://gitlab.com/ghp_S3cret%20x/b").unwrap_err();
        assert!(!e.contains("S3cret"), "{e}");
    }

    #[test]
    fn token_env_names_are_refused_without_being_quoted() {
        let err = serde_json::from_str::<EnvName>("\"ghp_s3cr3tVALUE\"").unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert_eq!(
            serde_json::from_str::<EnvName>("\"GITLAB_X_TOKEN\"")
                .unwrap()
                .0,
            "GITLAB_X_TOKEN"
        );
    }
}

/// Raw: `serve.listen`, the address the service binds (`127.0.0.1:8080`, `[::]:8443`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListenAddr(pub(crate) std::net::SocketAddr);

impl<'de> Deserialize<'de> for ListenAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.trim().parse().map(ListenAddr).map_err(|_| {
            de::Error::custom("expected an address and port, such as 127.0.0.1:8080 or [::]:8080")
        })
    }
}
