//! Asset name patterns: the `asset_patterns` strings and the `filters` / `assets` entries.
//!
//! The tool this project replaces matches asset names with Python's `fnmatch`, case-insensitively,
//! with a leading `!` marking an exclusion. Users' existing `config.yaml` files rely on that
//! syntax. `globset`, configured like `fnmatch` (case-insensitive, `*` crosses `/`, no backslash
//! escapes), accepts every fnmatch pattern with the same meaning; it adds `{a,b}` alternatives and
//! reads `[^...]` as a negation like `[!...]`.

use std::fmt;

use globset::{GlobBuilder, GlobMatcher};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One asset-selection rule, such as `*.tar.gz` or `!*-sources.zip`.
///
/// It exists so that a pattern is checked once, when the configuration is loaded, and the
/// downloader only ever sees patterns that compile. It keeps the text as written so the
/// normalised configuration shows the user's own spelling.
#[derive(Clone)]
pub struct AssetPattern {
    raw: String,
    exclude: bool,
    matcher: GlobMatcher,
}

impl AssetPattern {
    /// Parses a pattern in the `asset_patterns` syntax: an fnmatch glob, optionally preceded by
    /// `!` to make it an exclusion.
    pub fn parse(text: &str) -> Result<AssetPattern, String> {
        let (exclude, glob) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if glob.is_empty() {
            return Err(if exclude {
                "`!` must be followed by a pattern".to_string()
            } else {
                "a pattern must not be empty".to_string()
            });
        }
        let matcher = GlobBuilder::new(glob)
            .case_insensitive(true)
            .literal_separator(false)
            .backslash_escape(false)
            .build()
            .map_err(|e| e.kind().to_string())?
            .compile_matcher();
        Ok(AssetPattern {
            raw: text.to_string(),
            exclude,
            matcher,
        })
    }

    /// Builds an exclusion from a bare glob (the `exclude:` form of a filter entry).
    pub fn exclusion(glob: &str) -> Result<AssetPattern, String> {
        if glob.starts_with('!') {
            return Err("an `exclude` pattern must not start with `!`".to_string());
        }
        AssetPattern::parse(&format!("!{glob}"))
    }

    /// The pattern as written, including a leading `!` for exclusions.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether this rule removes matching assets instead of selecting them.
    pub fn is_exclude(&self) -> bool {
        self.exclude
    }

    /// Whether the glob part (without `!`) matches `name`, case-insensitively.
    pub fn glob_matches(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }
}

impl PartialEq for AssetPattern {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl fmt::Debug for AssetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AssetPattern({:?})", self.raw)
    }
}

impl fmt::Display for AssetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for AssetPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for AssetPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AssetPattern::parse(&text).map_err(|e| de::Error::custom(format!("invalid pattern: {e}")))
    }
}

/// Decides whether an asset called `name` is selected by `patterns`, with the seed tool's rules.
///
/// It exists so that every caller applies the same rules: an empty list selects every asset; a
/// name matching any exclusion is dropped; otherwise it is selected when it matches an inclusion.
/// A list made only of exclusions therefore selects nothing (as the seed tool does; loading such
/// a list produces a warning).
pub fn asset_selected(patterns: &[AssetPattern], name: &str) -> bool {
    if patterns.is_empty() {
        return true;
    }
    if patterns
        .iter()
        .any(|p| p.is_exclude() && p.glob_matches(name))
    {
        return false;
    }
    patterns
        .iter()
        .any(|p| !p.is_exclude() && p.glob_matches(name))
}

/// One entry of the seed plan's `filters:` list or a repository's `download.assets:` list:
/// `{pattern: GLOB}`, `{exclude: GLOB}`, or a bare string in the `asset_patterns` syntax.
///
/// Kept crate-private: after loading, every entry is an [`AssetPattern`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FilterEntry(pub(crate) AssetPattern);

#[derive(Deserialize)]
struct FilterMap {
    pattern: Option<String>,
    exclude: Option<String>,
}

impl<'de> Deserialize<'de> for FilterEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FilterEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`{pattern: GLOB}`, `{exclude: GLOB}` or a pattern string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FilterEntry, E> {
                AssetPattern::parse(v)
                    .map(FilterEntry)
                    .map_err(|e| E::custom(format!("invalid pattern: {e}")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FilterEntry, A::Error> {
                let m = FilterMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let parsed = match (m.pattern, m.exclude) {
                    (Some(p), None) => {
                        AssetPattern::parse(&p).map_err(|e| format!("pattern {p:?}: {e}"))
                    }
                    (None, Some(x)) => {
                        AssetPattern::exclusion(&x).map_err(|e| format!("exclude {x:?}: {e}"))
                    }
                    (Some(_), Some(_)) => {
                        Err("give either `pattern` or `exclude` in one entry, not both".to_string())
                    }
                    (None, None) => {
                        Err("an entry needs a `pattern` or an `exclude` key".to_string())
                    }
                };
                parsed.map(FilterEntry).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(list: &[&str]) -> Vec<AssetPattern> {
        list.iter()
            .map(|p| AssetPattern::parse(p).unwrap())
            .collect()
    }

    #[test]
    fn fnmatch_basics_case_insensitive() {
        let p = AssetPattern::parse("*.tar.gz").unwrap();
        assert!(p.glob_matches("kubernetes-client-linux-amd64.TAR.GZ"));
        assert!(!p.glob_matches("x.tar.gz.sha256"));
        let q = AssetPattern::parse("yq_linux_?md64").unwrap();
        assert!(q.glob_matches("yq_linux_amd64"));
        assert!(!q.glob_matches("yq_linux_arm64x"));
        // Regex metacharacters are literal.
        let dot = AssetPattern::parse("a.b+(c)").unwrap();
        assert!(dot.glob_matches("a.b+(c)"));
        assert!(!dot.glob_matches("axb+(c)"));
    }

    #[test]
    fn bracket_classes() {
        let p = AssetPattern::parse("v[0-9].[!x]").unwrap();
        assert!(p.glob_matches("v1.a"));
        assert!(!p.glob_matches("v1.x"));
        assert!(!p.glob_matches("vA.a"));
        let lit = AssetPattern::parse("[]]x").unwrap();
        assert!(lit.glob_matches("]x"));
        let caret = AssetPattern::parse("[^a]").unwrap();
        assert!(!caret.glob_matches("a"));
        assert!(caret.glob_matches("b"));
        let alt = AssetPattern::parse("*.{tar.gz,zip}").unwrap();
        assert!(alt.glob_matches("x.zip") && alt.glob_matches("x.TAR.GZ"));
        assert!(!alt.glob_matches("x.deb"));
        let slash = AssetPattern::parse("*.deb").unwrap();
        assert!(slash.glob_matches("dir/x.deb"));
        let dash = AssetPattern::parse("[a-]").unwrap();
        assert!(dash.glob_matches("-"));
    }

    #[test]
    fn invalid_patterns() {
        assert!(AssetPattern::parse("").is_err());
        assert!(AssetPattern::parse("!").is_err());
        assert!(
            AssetPattern::parse("foo[abc")
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(AssetPattern::parse("[z-a]").unwrap_err().contains("range"));
        assert!(AssetPattern::exclusion("!x").is_err());
    }

    #[test]
    fn selection_rules() {
        assert!(asset_selected(&[], "anything"));
        let p = pats(&["*.tar.gz", "*.zip", "!*-sources.zip"]);
        assert!(asset_selected(&p, "a.tar.gz"));
        assert!(asset_selected(&p, "a.zip"));
        assert!(!asset_selected(&p, "a-sources.zip"));
        assert!(!asset_selected(&p, "a.deb"));
        let only_excl = pats(&["!*.sig"]);
        assert!(!asset_selected(&only_excl, "a.tar.gz"));
        assert!(!asset_selected(&only_excl, "a.sig"));
    }
}
