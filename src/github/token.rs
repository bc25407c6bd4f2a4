//! The GitHub token: read from the environment, sent only to the API host (by the client's one
//! `authorize` step), never shown. The `http` layer and `notify` never see it.

use std::fmt;

use crate::config::Env;

/// A GitHub token. `Debug` and `Display` print `***`, so it cannot leak through a log line,
/// an error or a report by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// `GITHUB_TOKEN`, else `GH_TOKEN`; empty values count as unset.
    pub fn from_env(env: &Env) -> Option<Token> {
        ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .filter_map(|k| env.get(k))
            .map(str::trim)
            .find(|v| !v.is_empty())
            .map(|v| Token(v.to_string()))
    }

    /// A token from a string (tests, the Concourse resource's `access_token`).
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }

    /// The secret itself, for the `Authorization` header only: visible to `github`'s files
    /// alone, and used only by `GithubClient::authorize`, which puts it on requests to the API's
    /// origin.
    pub(super) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_from_env_in_order_and_never_printed() {
        let env = Env::from_pairs([("GITHUB_TOKEN", ""), ("GH_TOKEN", "ghp_secret")]);
        let t = Token::from_env(&env).unwrap();
        assert_eq!(t.expose(), "ghp_secret");
        assert!(!format!("{t:?} {t}").contains("secret"));
        let env = Env::from_pairs([("GITHUB_TOKEN", "a"), ("GH_TOKEN", "b")]);
        assert_eq!(Token::from_env(&env).unwrap().expose(), "a");
        assert!(Token::from_env(&Env::from_pairs(Vec::<(String, String)>::new())).is_none());
    }
}
