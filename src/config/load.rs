//! Reading: YAML with positions and key paths, unknown-key collection, and the JSON of
//! `REPOSITORY_OVERRIDES`.
//!
//! Both readers run the same `Deserialize` impls wrapped in `serde_ignored` (unknown keys become
//! warnings) and `serde_path_to_error` (an error names its key path). For YAML, serde-saphyr adds
//! the line and column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_path_to_error::{Segment, Track};
use serde_saphyr::{Error as YamlError, ExternalMessageSource, MessageFormatter};

use super::error::{ConfigError, ConfigWarning};
use super::raw::{EMPTY_ROOT, RawConfig, RawOverride, RawRepository, RawRoot};
use super::values::{FullName, quoted_list};

/// The environment variable that replaces `repositories` or adds `repository_overrides`.
pub(crate) const REPOSITORY_OVERRIDES: &str = "REPOSITORY_OVERRIDES";

/// The key shown for an error about the document as a whole.
const ROOT_KEY: &str = "(root)";

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a key path: `download.retry.max_attempts`, `repositories[3].tag_filter`,
/// `download.repository_overrides["cli/cli"].tag_filter`, after an optional `prefix`.
fn render(prefix: &str, segs: &[Seg]) -> String {
    let mut out = prefix.to_string();
    for seg in segs {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) if is_plain_key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Key(k) => out.push_str(&format!("[{k:?}]")),
        }
    }
    out
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn ignored_segments(path: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    use serde_ignored::Path as P;
    match path {
        P::Root => {}
        P::Seq { parent, index } => {
            ignored_segments(parent, out);
            out.push(Seg::Index(*index));
        }
        P::Map { parent, key } => {
            ignored_segments(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            ignored_segments(parent, out);
        }
    }
}

fn error_segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

/// Runs `T::deserialize` with unknown-key collection and key-path tracking.
fn tracked<'de, D, T>(de: D, ignored: &mut Vec<Vec<Seg>>, track: &mut Track) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut on_ignored = |p: serde_ignored::Path<'_>| {
        let mut segs = Vec::new();
        ignored_segments(&p, &mut segs);
        ignored.push(segs);
    };
    let de = serde_ignored::Deserializer::new(de, &mut on_ignored);
    T::deserialize(serde_path_to_error::Deserializer::new(de, track))
}

/// The hosts the file's `forges:` mapping declares, read leniently before the real parse (which
/// reports any error in it): repositories on those hosts need no `forge:`.
pub(crate) fn forge_hosts(text: &str) -> std::collections::HashSet<String> {
    #[derive(serde::Deserialize)]
    struct Only {
        forges: Option<std::collections::BTreeMap<String, serde::de::IgnoredAny>>,
    }
    serde_saphyr::from_str::<Only>(text)
        .ok()
        .and_then(|o| o.forges)
        .map(|m| m.into_keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default()
}

/// Parses the YAML text into the raw configuration; unknown keys are appended to `warnings`.
pub(crate) fn parse_yaml(
    text: &str,
    path: &Path,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<RawConfig, ConfigError> {
    let mut ignored = Vec::new();
    let mut track = Track::new();
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        tracked::<_, RawRoot>(de, &mut ignored, &mut track)
    });
    match result {
        Ok(RawRoot(raw)) => {
            warnings.extend(
                ignored
                    .iter()
                    .map(|segs| ConfigWarning::unknown_key(render("", segs))),
            );
            Ok(raw)
        }
        Err(e) => Err(yaml_error(path, text, &e, &error_segments(&track.path()))),
    }
}

/// Strips the wrappers serde-saphyr may put around the error that describes the problem.
fn innermost(err: &YamlError) -> &YamlError {
    let mut e = err.without_snippet();
    while let YamlError::AliasError { error, .. } = e {
        e = error.without_snippet();
    }
    e
}

fn yaml_error(path: &Path, text: &str, err: &YamlError, segs: &[Seg]) -> ConfigError {
    let (line, column) = err
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .filter(|(l, c)| *l > 0 && *c > 0)
        .unwrap_or((1, 1));
    let inner = innermost(err);
    let path = path.to_path_buf();
    let syntax = |message: String| ConfigError::Syntax {
        path: path.clone(),
        line,
        column,
        message,
    };
    match inner {
        YamlError::ExternalMessage { source, .. }
            if matches!(**source, ExternalMessageSource::Parser(_)) =>
        {
            return syntax(one_line(&format_message(inner)));
        }
        YamlError::UnknownAnchor { .. } | YamlError::InvalidUtf8Input => {
            return syntax(one_line(&format_message(inner)));
        }
        YamlError::MultipleDocuments { .. } => {
            return syntax("a configuration file must hold a single YAML document".to_string());
        }
        _ => {}
    }
    let (key, message) = match inner {
        YamlError::Eof { .. } => (ROOT_KEY.to_string(), EMPTY_ROOT.to_string()),
        YamlError::DuplicateMappingKey { key: Some(k), .. } => {
            let mut segs = segs.to_vec();
            segs.push(Seg::Key(k.clone()));
            (render("", &segs), "duplicate key".to_string())
        }
        YamlError::DuplicateMappingKey { key: None, .. } => {
            (render("", segs), "duplicate key".to_string())
        }
        _ => (render("", segs), message_for(inner, text)),
    };
    ConfigError::Invalid {
        path,
        line,
        column,
        key: if key.is_empty() {
            ROOT_KEY.to_string()
        } else {
            key
        },
        message,
    }
}

fn format_message(err: &YamlError) -> String {
    serde_saphyr::DefaultMessageFormatter
        .format_message(err)
        .into_owned()
}

/// A one-line description of a data error, in serde's usual words where serde-saphyr has its own.
fn message_for(err: &YamlError, text: &str) -> String {
    let msg = match err {
        YamlError::InvalidScalar { ty, location } => {
            let span = location.span();
            let scalar = span
                .byte_offset()
                .zip(span.byte_len())
                .and_then(|(o, l)| text.get(o as usize..(o + l) as usize))
                .map(unquote);
            // The value itself is never quoted: it may be a secret pasted into the wrong key,
            // and the position already shows where it is.
            match scalar {
                Some(s) if s.parse::<f64>().is_ok() => {
                    format!("invalid value: a number that does not fit {ty}")
                }
                Some(_) => format!("invalid type: a string, expected {ty}"),
                None => format!("invalid value, expected {ty}"),
            }
        }
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => format!(
            "unknown variant `{variant}`, expected one of {}",
            quoted_list(expected)
        ),
        YamlError::Unexpected { expected, .. } => {
            let what = match *expected {
                "mapping start" => "a mapping (`key: value` lines)",
                "sequence start" => "a list",
                "string scalar" => "a string",
                other => other,
            };
            format!("invalid type: expected {what}")
        }
        other => format_message(other),
    };
    one_line(&msg)
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// What `REPOSITORY_OVERRIDES` asks for.
#[derive(Debug)]
pub(crate) enum EnvRepositories {
    /// A JSON array: these repositories replace the file's `repositories`.
    Replace(Vec<RawRepository>),
    /// A JSON object: overrides merged over the file's `repository_overrides`.
    Merge(BTreeMap<FullName, RawOverride>),
}

/// Parses `REPOSITORY_OVERRIDES`; unknown keys are appended to `warnings` as
/// `REPOSITORY_OVERRIDES[0].key`.
pub(crate) fn parse_repository_overrides(
    value: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<EnvRepositories, ConfigError> {
    let env_err = |message: String| ConfigError::Env {
        var: REPOSITORY_OVERRIDES.to_string(),
        message,
    };
    let json: serde_json::Value = serde_json::from_str(value).map_err(|e| {
        env_err(format!(
            "expected a JSON array or object: invalid JSON: {e}"
        ))
    })?;
    let mut ignored = Vec::new();
    let mut track = Track::new();
    let result = match json {
        serde_json::Value::Array(_) => {
            tracked::<_, Vec<RawRepository>>(json, &mut ignored, &mut track)
                .map(EnvRepositories::Replace)
        }
        serde_json::Value::Object(_) => {
            tracked::<_, BTreeMap<FullName, RawOverride>>(json, &mut ignored, &mut track)
                .map(EnvRepositories::Merge)
        }
        other => {
            let found = match other {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Number(_) => "a number",
                _ => "a string",
            };
            return Err(env_err(format!(
                "expected a JSON array or object: found {found}"
            )));
        }
    };
    match result {
        Ok(v) => {
            warnings.extend(
                ignored
                    .iter()
                    .map(|segs| ConfigWarning::unknown_key(render(REPOSITORY_OVERRIDES, segs))),
            );
            Ok(v)
        }
        Err(e) => {
            let at = render("", &error_segments(&track.path()));
            let message = one_line(&e.to_string());
            Err(env_err(if at.is_empty() {
                message
            } else {
                format!("{at}: {message}")
            }))
        }
    }
}

/// The key path of an override, for warnings: `download.repository_overrides["a/b"]`.
pub(crate) fn override_key(prefix: &str, name: &str) -> String {
    render(prefix, &[Seg::Key(name.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rendering() {
        let segs = vec![
            Seg::Key("repositories".into()),
            Seg::Index(3),
            Seg::Key("tag_filter".into()),
        ];
        assert_eq!(render("", &segs), "repositories[3].tag_filter");
        assert_eq!(
            render("", &[Seg::Key("a".into()), Seg::Key("cli/cli".into())]),
            "a[\"cli/cli\"]"
        );
        assert_eq!(
            render(REPOSITORY_OVERRIDES, &[Seg::Index(0), Seg::Key("x".into())]),
            "REPOSITORY_OVERRIDES[0].x"
        );
        assert_eq!(
            override_key("download.repository_overrides", "a/b"),
            "download.repository_overrides[\"a/b\"]"
        );
    }

    #[test]
    fn one_line_joins() {
        assert_eq!(one_line("a\n  b\n\nc"), "a; b; c");
        assert_eq!(unquote("'ten'"), "ten");
    }
}
