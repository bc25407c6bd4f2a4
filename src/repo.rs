//! `RepoId`: the `owner/repo` name of a GitHub repository, checked once.
//!
//! Names reach us from config files, the command line, the environment and version databases. They
//! become database keys and, later, path components, so every entry point parses them the same way.

use std::fmt;
use std::str::FromStr;

/// A GitHub repository, `owner/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoId {
    owner: String,
    repo: String,
}

impl RepoId {
    /// Checks both parts (see [`check_name`]) and builds the id.
    pub fn new(owner: &str, repo: &str) -> Result<RepoId, String> {
        check_name("owner", owner)?;
        check_name("repo", repo)?;
        Ok(RepoId {
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }

    /// The owner (user or organisation).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository name.
    pub fn repo(&self) -> &str {
        &self.repo
    }
}

impl FromStr for RepoId {
    type Err = String;

    /// Parses `owner/repo`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((owner, repo)) = s.split_once('/') else {
            return Err(format!("{s:?} is not of the form `owner/repo`"));
        };
        check_name("owner", owner)?;
        check_name("repo", repo).map_err(|e| format!("{s:?}: {e}"))?;
        Ok(RepoId {
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)
    }
}

/// Checks one part of a repository name: not empty, not `.` or `..`, and free of `/`, `\`,
/// whitespace and control characters (so it can never act as a path).
pub fn check_name(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if s == "." || s == ".." {
        return Err(format!("{what} {s:?} is not a valid name"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| *c == '/' || *c == '\\' || c.is_whitespace() || c.is_control())
    {
        return Err(format!("{what} {s:?} must not contain {c:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_owner_slash_repo() {
        let id: RepoId = "cli/cli".parse().unwrap();
        assert_eq!((id.owner(), id.repo()), ("cli", "cli"));
        assert_eq!(id.to_string(), "cli/cli");
        assert_eq!(RepoId::new("a", "b").unwrap(), "a/b".parse().unwrap());
    }

    #[test]
    fn refuses_names_that_could_act_as_paths() {
        for bad in [
            "cli", "a/b/c", "/b", "a/", "../b", "a/..", "a b/c", "a\\b/c", "a/b\n",
        ] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad:?}");
        }
    }
}
