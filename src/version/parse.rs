//! Tag → version parts: where the project prefix ends, how numbers, dates, prereleases,
//! post-release suffixes and build metadata are read.

use super::num::Num;
use super::token::{Token, Word, is_post_word, is_prerelease_word, is_release_qualifier};

/// The pieces of a parsed tag, before they are wrapped into a `Version`.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    pub numbers: Vec<Num>,
    /// Digits written in the first numeric segment, leading zeros included (for `calver`).
    pub first_len: usize,
    pub post: Vec<Token>,
    /// True when the post-release part starts with a letter suffix written straight after the
    /// numbers (`1.1.1w`), false for a labelled one (`1.0.post1`).
    pub letter_suffix: bool,
    pub pre: Vec<Token>,
    pub build: Option<Box<str>>,
}

/// Splits a trimmed tag into its project prefix (the "stem") and the version text.
///
/// The version starts at the first run of digits, unless that run is glued to letters and is not
/// followed by `.d`/`_d` (the `8` of `k8s-v1.2.3`, the `3` of `python3-3.12.0`) and a later run
/// is a clear version start: after a separator or a lone `v`, and followed by `.d`/`_d` or forming
/// a `YYYY-MM-DD` date. So `go1.22` and `REL9_6_0` keep their stems `go` and `REL`, while
/// `k8s-v1.30.0` has stem `k8s-v`. Returns `None` when the tag has no digit at all.
pub(crate) fn split_stem(tag: &str) -> Option<(&str, &str)> {
    let b = tag.as_bytes();
    let mut first = None;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let end = i;
        let glued_before =
            start > 0 && b[start - 1].is_ascii_alphabetic() && !is_lone_v(b, start - 1);
        let glued_after = end < b.len() && b[end].is_ascii_alphabetic();
        let dotted =
            end + 1 < b.len() && matches!(b[end], b'.' | b'_') && b[end + 1].is_ascii_digit();
        let clear = dotted || dash_date_len(&b[start..]).is_some();
        let take = match first {
            None => clear || !(glued_before || glued_after),
            Some(_) => clear && !glued_before,
        };
        first.get_or_insert(start);
        if take {
            return Some((&tag[..start], &tag[start..]));
        }
    }
    // `start` indexes an ASCII digit, so it is always a char boundary.
    first.map(|start| (&tag[..start], &tag[start..]))
}

/// A `v` or `V` that stands alone (at the start, or after a non-letter) marks a version, not a
/// project: `v1.2.3` and `cli-v2.0.0` have it, `dev1.0` does not.
fn is_lone_v(b: &[u8], i: usize) -> bool {
    matches!(b[i], b'v' | b'V') && (i == 0 || !b[i - 1].is_ascii_alphabetic())
}

/// The family named by a stem: the stem without a trailing lone `v`/`V`, unless removing it
/// would leave a digit at the end (`app2v1.0` keeps `app2v`, or it would print as `app21.0`).
pub(crate) fn family_of(stem: &str) -> &str {
    let b = stem.as_bytes();
    match b.len() {
        0 => stem,
        1 if is_lone_v(b, 0) => "",
        n if is_lone_v(b, n - 1) && !b[n - 2].is_ascii_digit() => &stem[..n - 1],
        _ => stem,
    }
}

/// Length of a leading `YYYY-MM-DD`, if the bytes start with one.
fn dash_date_len(b: &[u8]) -> Option<usize> {
    let shape = b"dddd-dd-dd";
    if b.len() < shape.len() {
        return None;
    }
    let ok = shape.iter().zip(b).all(|(s, c)| match s {
        b'd' => c.is_ascii_digit(),
        _ => c == s,
    });
    // A date is not followed by more digits (`2024-01-150` is not one).
    (ok && !b.get(shape.len()).is_some_and(u8::is_ascii_digit)).then_some(shape.len())
}

/// Length of a `Thh-mm-ss` or `Thh:mm:ss` time (with an optional `Z`) after a dash date.
fn time_len(b: &[u8]) -> Option<usize> {
    let shape = b"Tdd-dd-dd";
    if b.len() < shape.len() {
        return None;
    }
    let ok = shape.iter().zip(b).enumerate().all(|(i, (s, c))| match s {
        b'd' => c.is_ascii_digit(),
        b'-' => matches!(c, b'-' | b':'),
        _ => i == 0 && matches!(c, b'T' | b't'),
    });
    if !ok {
        return None;
    }
    Some(if matches!(b.get(shape.len()), Some(b'Z' | b'z')) {
        shape.len() + 1
    } else {
        shape.len()
    })
}

/// Splits `+build` metadata off, which never affects precedence.
fn split_build(rest: &str) -> (&str, Option<Box<str>>) {
    match rest.split_once('+') {
        Some((core, build)) if !build.is_empty() => (core, Some(build.into())),
        Some((core, _)) => (core, None),
        None => (rest, None),
    }
}

/// Reads `_` as `.` in a leading run of digits and underscores that is not itself followed by a
/// dotted number (`8_5_0` → `8.5.0`, `9_6_P1` → `9.6_P1`, `2_3.` → `2.3.`; `1_2.3` is left alone).
fn underscores_as_dots(core: &str) -> std::borrow::Cow<'_, str> {
    let b = core.as_bytes();
    let run = b
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'_')
        .count();
    let dotted_after = b.get(run) == Some(&b'.') && b.get(run + 1).is_some_and(u8::is_ascii_digit);
    if dotted_after || !b[..run].contains(&b'_') {
        return core.into();
    }
    let mut out = String::with_capacity(core.len());
    for (i, c) in core.char_indices() {
        let between_digits = i < run
            && c == '_'
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        out.push(if between_digits { '.' } else { c });
    }
    out.into()
}

/// Reads digit runs separated by `.` from `pos`; returns the position after the last run.
fn scan_numbers(b: &[u8], text: &str, mut pos: usize, out: &mut Vec<Num>) -> usize {
    loop {
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        out.push(Num::from_digits(&text[start..pos]));
        if pos + 1 < b.len() && b[pos] == b'.' && b[pos + 1].is_ascii_digit() {
            pos += 1;
        } else {
            return pos;
        }
    }
}

/// Parses the version text (after the stem) with the `auto` rules.
pub(crate) fn parse_auto(rest: &str) -> Result<Parts, String> {
    let (core, build) = split_build(rest);
    let core = underscores_as_dots(core);
    let b = core.as_bytes();
    let mut parts = Parts {
        build,
        ..Parts::default()
    };
    let mut pos;
    if let Some(len) = dash_date_len(b) {
        for (s, e) in [(0, 4), (5, 7), (8, 10)] {
            parts.numbers.push(Num::from_digits(&core[s..e]));
        }
        parts.first_len = 4;
        pos = len;
        if let Some(tlen) = time_len(&b[pos..]) {
            for s in [1, 4, 7] {
                let s = pos + s;
                parts.numbers.push(Num::from_digits(&core[s..s + 2]));
            }
            pos += tlen;
        }
        if pos + 1 < b.len() && b[pos] == b'.' && b[pos + 1].is_ascii_digit() {
            pos = scan_numbers(b, &core, pos + 1, &mut parts.numbers);
        }
    } else {
        parts.first_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        pos = scan_numbers(b, &core, 0, &mut parts.numbers);
    }
    parse_tail(&core[pos..], &mut parts)?;
    Ok(parts)
}

/// Reads what follows the numbers: a letter suffix, a prerelease or a post-release label.
fn parse_tail(tail: &str, parts: &mut Parts) -> Result<(), String> {
    if tail.is_empty() {
        return Ok(());
    }
    if let Some(c) = tail
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
    {
        return Err(format!("unexpected character {c:?} in {tail:?}"));
    }
    let b = tail.as_bytes();
    let mut rest = tail;
    if b[0].is_ascii_alphabetic() {
        let n = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let word = tail[..n].to_ascii_lowercase();
        let digit_follows = b.get(n).is_some_and(u8::is_ascii_digit);
        let is_label =
            is_prerelease_word(&word) || is_post_word(&word) || is_release_qualifier(&word);
        if !digit_follows && (n == 1 || !is_label) {
            // A letter written straight after the numbers: OpenSSL's `1.1.1w`, `0.9.8zh`.
            parts.post.push(Token::Word(Word::plain(&word)));
            parts.letter_suffix = true;
            rest = &tail[n..];
            if rest.is_empty() {
                return Ok(());
            }
            if !rest.starts_with(['-', '.', '_', '~']) {
                return Err(format!("unexpected {rest:?} after suffix {word:?}"));
            }
        }
    }
    let body = rest.strip_prefix(['-', '.', '_', '~']).unwrap_or(rest);
    let tokens = tokenize(body);
    match tokens.first() {
        None => Ok(()),
        Some(Token::Word(w)) if is_post_word(&w.text) => {
            parts.post.extend(tokens);
            Ok(())
        }
        Some(Token::Word(w)) if tokens.len() == 1 && is_release_qualifier(&w.text) => Ok(()),
        Some(_) => {
            parts.pre = tokens;
            Ok(())
        }
    }
}

/// Splits a label at separators and at every letter/digit boundary: `rc.1`, `rc1` and `RC-1`
/// all become `rc`, `1`.
fn tokenize(body: &str) -> Vec<Token> {
    let b = body.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            tokens.push(Token::Num(Num::from_digits(&body[start..i])));
        } else if b[i].is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            tokens.push(Token::Word(Word::ranked(
                &body[start..i].to_ascii_lowercase(),
            )));
        } else {
            i += 1;
        }
    }
    tokens
}

/// Parses the version text with SemVer 2.0.0's grammar and precedence (any number of numeric
/// segments is accepted, so `1.2` and `1.2.3.4` still parse).
pub(crate) fn parse_strict(rest: &str) -> Result<Parts, String> {
    let (core, build) = match rest.split_once('+') {
        Some((core, build)) => {
            check_identifiers(build, "build metadata")?;
            (core, Some(build.into()))
        }
        None => (rest, None),
    };
    let (numbers, pre) = match core.split_once('-') {
        Some((n, p)) => (n, Some(p)),
        None => (core, None),
    };
    let mut parts = Parts {
        build,
        ..Parts::default()
    };
    for seg in numbers.split('.') {
        if seg.is_empty() || !seg.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "{numbers:?} is not a dot-separated list of numbers (SemVer 2.0.0)"
            ));
        }
        if parts.numbers.is_empty() {
            parts.first_len = seg.len();
        }
        parts.numbers.push(Num::from_digits(seg));
    }
    if let Some(pre) = pre {
        check_identifiers(pre, "prerelease")?;
        parts.pre = pre
            .split('.')
            .map(|id| {
                if id.bytes().all(|c| c.is_ascii_digit()) {
                    Token::Num(Num::from_digits(id))
                } else {
                    Token::Word(Word::plain(id))
                }
            })
            .collect();
    }
    Ok(parts)
}

/// SemVer identifiers: non-empty, `[0-9A-Za-z-]`, separated by dots.
fn check_identifiers(text: &str, what: &str) -> Result<(), String> {
    for id in text.split('.') {
        if id.is_empty() || !id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return Err(format!(
                "{what} {text:?} is not dot-separated [0-9A-Za-z-] identifiers (SemVer 2.0.0)"
            ));
        }
    }
    Ok(())
}

/// Checks that a parsed version starts with something that reads as a date or year (`calver`).
pub(crate) fn check_calver(parts: &Parts) -> Result<(), String> {
    let value = parts.numbers.first().and_then(Num::as_u64).unwrap_or(0);
    let year_ok = |y: u64| (1900..=2999).contains(&y);
    let month_ok = |m: u64| (1..=12).contains(&m);
    let ok = match parts.first_len {
        2 => true,
        4 => year_ok(value),
        6 => year_ok(value / 100) && month_ok(value % 100),
        8 => {
            year_ok(value / 10_000)
                && month_ok(value / 100 % 100)
                && (1..=31).contains(&(value % 100))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("calver needs a date-like first segment (YY, YYYY, YYYYMM or YYYYMMDD)".into())
    }
}

/// Parses a release timestamp (`2024-01-15T10:30:00Z`) or a plain date, for the `date` strategy.
pub(crate) fn parse_timestamp(text: &str) -> Result<Parts, String> {
    use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
    let fields: Vec<u64> = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        let t = t.with_timezone(&Utc);
        vec![
            u64::try_from(t.year()).map_err(|_| "year before 0".to_string())?,
            t.month().into(),
            t.day().into(),
            t.hour().into(),
            t.minute().into(),
            t.second().into(),
            t.nanosecond().into(),
        ]
    } else if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        vec![
            u64::try_from(d.year()).map_err(|_| "year before 0".to_string())?,
            d.month().into(),
            d.day().into(),
        ]
    } else {
        return Err(
            "the date strategy orders by published_at: expected an RFC 3339 timestamp \
             (2024-01-15T10:30:00Z) or a YYYY-MM-DD date"
                .into(),
        );
    };
    Ok(Parts {
        numbers: fields.into_iter().map(Num::Small).collect(),
        first_len: 4,
        ..Parts::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_found_where_the_version_starts() {
        let cases = [
            ("v1.2.3", "v", "1.2.3"),
            ("1.2.3", "", "1.2.3"),
            ("go1.22rc1", "go", "1.22rc1"),
            ("jq-1.7rc1", "jq-", "1.7rc1"),
            ("curl-8_5_0", "curl-", "8_5_0"),
            ("REL_16_1", "REL_", "16_1"),
            ("REL9_6_0", "REL", "9_6_0"),
            ("OpenSSL_1_1_1w", "OpenSSL_", "1_1_1w"),
            ("cli-v2.0.0", "cli-v", "2.0.0"),
            (
                "RELEASE.2023-10-25T06-33-25Z",
                "RELEASE.",
                "2023-10-25T06-33-25Z",
            ),
            ("k8s-v1.30.0", "k8s-v", "1.30.0"),
            ("python3-3.12.0", "python3-", "3.12.0"),
            ("log4j-2.17.1", "log4j-", "2.17.1"),
            ("v1-beta.2.3", "v", "1-beta.2.3"),
            ("go1", "go", "1"),
            ("1a", "", "1a"),
            ("go1rc1", "go", "1rc1"),
            ("mp3tool-5", "mp", "3tool-5"),
        ];
        for (tag, stem, rest) in cases {
            assert_eq!(split_stem(tag), Some((stem, rest)), "{tag}");
        }
        assert_eq!(split_stem("latest"), None);
    }

    #[test]
    fn a_lone_v_is_not_a_family() {
        assert_eq!(family_of("v"), "");
        assert_eq!(family_of("V"), "");
        assert_eq!(family_of("cli-v"), "cli-");
        assert_eq!(family_of("dev"), "dev");
        assert_eq!(family_of("go"), "go");
        assert_eq!(family_of("v0v"), "v0v");
        assert_eq!(family_of("x-v"), "x-");
    }

    #[test]
    fn underscores_become_dots_only_in_dotless_text() {
        assert_eq!(underscores_as_dots("8_5_0"), "8.5.0");
        assert_eq!(underscores_as_dots("9_6_P1"), "9.6_P1");
        assert_eq!(underscores_as_dots("1.2_3"), "1.2_3");
        assert_eq!(underscores_as_dots("2_3."), "2.3.");
        assert_eq!(underscores_as_dots("1_2.3"), "1_2.3");
        assert_eq!(underscores_as_dots("1_1_1w"), "1.1.1w");
    }

    #[test]
    fn strict_grammar_rejects_non_semver() {
        assert!(parse_strict("1.0.0-rc.1+build.5").is_ok());
        assert!(parse_strict("1.0.0rc1").is_err());
        assert!(parse_strict("1.0.0-").is_err());
        assert!(parse_strict("1.0.0-a..b").is_err());
        assert!(parse_strict("1.0.0+").is_err());
    }

    #[test]
    fn tails_with_odd_characters_are_refused() {
        assert!(parse_auto("1.0 (beta)").is_err());
        assert!(parse_auto("1.0/2").is_err());
    }
}
