//! Prerelease and post-release identifiers, and the rule that orders them.
//!
//! Under the `auto` strategy a label is split at every separator and at every change between
//! letters and digits (`rc10` is `rc`, `10`), numbers compare as numbers, and the well-known labels
//! rank `dev < alpha|a < beta|b < pre|preview|c|rc`. Under `semver-strict` an identifier is kept
//! whole and compared exactly as SemVer 2.0.0 §11 says.

use std::cmp::Ordering;
use std::fmt;

use super::num::Num;

/// One identifier of a prerelease or post-release part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A numeric identifier; SemVer ranks these below any alphanumeric identifier.
    Num(Num),
    /// An alphanumeric identifier.
    Word(Word),
}

/// An alphanumeric identifier with its sort key.
///
/// The key places known labels where SemVer's ASCII order would put their canonical spelling
/// (`b` sorts as `beta`, `preview` as `rc`), and `dev` just below `alpha`. Every other label sorts
/// by its own text, as SemVer does, so the order stays total and transitive.
#[derive(Debug, Clone)]
pub struct Word {
    /// The identifier as written (lower-cased under `auto`).
    pub text: Box<str>,
    key: &'static str,
    sub: u8,
}

impl Word {
    /// A word ordered with the `auto` label ranking; `text` must already be lower-case.
    pub fn ranked(text: &str) -> Word {
        let (key, sub) = match text {
            "dev" => ("alpha", 0),
            "alpha" | "a" => ("alpha", 1),
            "beta" | "b" => ("beta", 1),
            "pre" | "preview" | "c" | "rc" => ("rc", 1),
            _ => ("", 1),
        };
        Word {
            text: text.into(),
            key,
            sub,
        }
    }

    /// A word ordered purely by its ASCII text (SemVer 2.0.0).
    pub fn plain(text: &str) -> Word {
        Word {
            text: text.into(),
            key: "",
            sub: 1,
        }
    }

    fn sort_key(&self) -> (&str, u8) {
        if self.key.is_empty() {
            (&self.text, self.sub)
        } else {
            (self.key, self.sub)
        }
    }
}

impl PartialEq for Word {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Word {}

impl Ord for Word {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Word {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Token {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Token::Num(a), Token::Num(b)) => a.cmp(b),
            (Token::Num(_), Token::Word(_)) => Ordering::Less,
            (Token::Word(_), Token::Num(_)) => Ordering::Greater,
            (Token::Word(a), Token::Word(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Num(n) => n.fmt(f),
            Token::Word(w) => f.write_str(&w.text),
        }
    }
}

/// Labels that mark a prerelease when written as a whole word (`1.0rc`, `1.0-beta`).
pub(crate) fn is_prerelease_word(word: &str) -> bool {
    matches!(
        word,
        "dev" | "alpha" | "a" | "beta" | "b" | "pre" | "preview" | "c" | "rc"
    )
}

/// Labels that mark a post-release (`1.0.post1`, `V_9_6_P1`, Gentoo's `-r1`).
pub(crate) fn is_post_word(word: &str) -> bool {
    matches!(word, "post" | "patch" | "p" | "pl" | "r" | "rev")
}

/// Qualifiers that, alone, mean "the release itself" (`1.0.0.Final`, `2.1-GA`).
pub(crate) fn is_release_qualifier(word: &str) -> bool {
    matches!(word, "final" | "ga" | "release" | "stable")
}

/// Writes identifiers joined with `.`, SemVer's separator.
///
/// With `glued`, a number directly follows the word before it (`rc1`, `post2`) and two numbers
/// are joined by `~`: a spelling that can never be mistaken for the start of a version, used
/// where the dotted spelling would move the project prefix on re-parsing.
pub(crate) fn write_joined(f: &mut impl fmt::Write, tokens: &[Token], glued: bool) -> fmt::Result {
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            let sep = match (glued, &tokens[i - 1], t) {
                (true, Token::Word(_), Token::Num(_)) => "",
                (true, Token::Num(_), Token::Num(_)) => "~",
                _ => ".",
            };
            f.write_str(sep)?;
        }
        write!(f, "{t}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Token {
        Token::Word(Word::ranked(s))
    }

    #[test]
    fn known_labels_rank_in_order() {
        let order = ["dev", "alpha", "beta", "rc"];
        for pair in order.windows(2) {
            assert!(w(pair[0]) < w(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(w("a").cmp(&w("alpha")), Ordering::Equal);
        assert_eq!(w("b").cmp(&w("beta")), Ordering::Equal);
        assert_eq!(w("c").cmp(&w("rc")), Ordering::Equal);
        assert_eq!(w("pre").cmp(&w("preview")), Ordering::Equal);
    }

    #[test]
    fn unknown_labels_sort_like_semver_around_known_ones() {
        // SemVer's ASCII order, with known labels at their canonical spelling.
        assert!(w("abc") < w("dev"));
        assert!(w("beta") < w("nightly"));
        assert!(w("nightly") < w("rc"));
        assert!(w("rc") < w("snapshot"));
        assert!(Token::Num(Num::Small(99)) < w("abc"));
    }

    #[test]
    fn plain_words_use_ascii_order() {
        let a = Token::Word(Word::plain("RC"));
        let b = Token::Word(Word::plain("alpha"));
        assert!(a < b, "uppercase sorts before lowercase in ASCII");
    }
}
