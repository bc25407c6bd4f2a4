//! `RepoId`: which repository, on which forge, checked once.
//!
//! Names reach us from config files, the command line, the environment and version databases. They
//! become database keys and, later, path components, so every entry point parses them the same way.
//!
//! A repository on the default GitHub (github.com, or the Enterprise server of `github.api_url`)
//! is `owner/repo`, as the seed tool wrote it. A repository on any other forge carries its host:
//! `host/owner/repo`, where `owner` may nest (GitLab groups: `gitlab.com/group/sub/project`).

use std::fmt;
use std::str::FromStr;

/// A repository: `owner/repo` on the default GitHub, or `host/owner…/repo` on another forge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoId {
    host: Option<String>,
    owner: String,
    repo: String,
}

impl RepoId {
    /// A repository on the default GitHub. Checks both parts (see [`check_name`]).
    pub fn new(owner: &str, repo: &str) -> Result<RepoId, String> {
        check_name("owner", owner)?;
        check_name("repo", repo)?;
        Ok(RepoId {
            host: None,
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }

    /// A repository on the forge at `host` (`None`: the default GitHub). `owner` may hold
    /// nested groups separated by `/`, each checked like a name.
    pub fn on(host: Option<&str>, owner: &str, repo: &str) -> Result<RepoId, String> {
        let Some(host) = host else {
            return RepoId::new(owner, repo);
        };
        check_host(host)?;
        for part in owner.split('/') {
            check_name("owner", part)?;
        }
        check_name("repo", repo)?;
        Ok(RepoId {
            host: Some(host.to_ascii_lowercase()),
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }

    /// The forge's host (`host[:port]`), `None` for the default GitHub.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The owner (user, organisation, or GitLab group path such as `group/sub`).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository name.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// `owner/repo` without the host: the project's path on its forge.
    pub fn path(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The one path component naming the repository's folder in the mirror and its stores:
    /// `owner_repo` on the default GitHub (the seed tool's name), and
    /// `host%2Fowner%2Frepo` elsewhere (every `/` written `%2F`, as tags are). Names never
    /// contain `%` and GitHub owners never contain `_`, so two repositories never share a folder.
    pub fn folder(&self) -> String {
        match &self.host {
            None => format!("{}_{}", self.owner, self.repo),
            Some(host) => format!("{host}/{}/{}", self.owner, self.repo).replace('/', "%2F"),
        }
    }
}

impl FromStr for RepoId {
    type Err = String;

    /// Parses `owner/repo`, or `host/owner…/repo` when the first part is a host name (it holds
    /// a `.` or a `:`, which GitHub owners never do).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [owner, repo] => RepoId::new(owner, repo).map_err(|e| format!("{s:?}: {e}")),
            [host, owner @ .., repo] if !owner.is_empty() && host.contains(['.', ':']) => {
                RepoId::on(Some(host), &owner.join("/"), repo).map_err(|e| format!("{s:?}: {e}"))
            }
            _ => Err(format!(
                "{s:?} is not of the form `owner/repo` or `host/owner/repo`"
            )),
        }
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            None => write!(f, "{}/{}", self.owner, self.repo),
            Some(host) => write!(f, "{host}/{}/{}", self.owner, self.repo),
        }
    }
}

/// Checks a forge host as written in keys and folders: `name[:port]`, lowercase letters, digits,
/// `-` and `.` (never `_`, `/` or `%`, so a host never reads as anything else).
pub fn check_host(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    if name.is_empty()
        || name.starts_with(['.', '-'])
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!("host {host:?} is not a host name"));
    }
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(format!("host {host:?}: {port:?} is not a port"));
    }
    Ok(())
}

/// Checks one part of a repository name: not empty, not `.` or `..`, and free of `/`, `\`, `%`,
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
        .find(|c| *c == '/' || *c == '\\' || *c == '%' || c.is_whitespace() || c.is_control())
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
        assert_eq!(id.host(), None);
        assert_eq!(id.folder(), "cli_cli");
        assert_eq!(RepoId::new("a", "b").unwrap(), "a/b".parse().unwrap());
    }

    #[test]
    fn other_forges_carry_their_host_and_nested_groups() {
        let id: RepoId = "gitlab.com/group/sub/project".parse().unwrap();
        assert_eq!(id.host(), Some("gitlab.com"));
        assert_eq!((id.owner(), id.repo()), ("group/sub", "project"));
        assert_eq!(id.path(), "group/sub/project");
        assert_eq!(id.to_string(), "gitlab.com/group/sub/project");
        assert_eq!(id.folder(), "gitlab.com%2Fgroup%2Fsub%2Fproject");
        let local: RepoId = "127.0.0.1:8443/a/b".parse().unwrap();
        assert_eq!(local.host(), Some("127.0.0.1:8443"));
        assert_eq!(
            RepoId::on(Some("Codeberg.org"), "forgejo", "forgejo")
                .unwrap()
                .to_string(),
            "codeberg.org/forgejo/forgejo"
        );
        // Folders never collide: not across forges, not across group splits.
        let a = RepoId::on(Some("h.io"), "a_b", "c").unwrap().folder();
        let b = RepoId::on(Some("h.io"), "a", "b_c").unwrap().folder();
        assert_ne!(a, b);
        assert_ne!(
            RepoId::new("a", "b").unwrap().folder(),
            RepoId::on(Some("h.io"), "a", "b").unwrap().folder()
        );
    }

    #[test]
    fn refuses_names_that_could_act_as_paths() {
        for bad in [
            "cli",
            "a/b/c",
            "/b",
            "a/",
            "../b",
            "a/..",
            "a b/c",
            "a\\b/c",
            "a/b\n",
            "a%2F/b",
            "h.io/../b",
            "h.io//b",
            "h_x.io/a/b",
            "h.io:99999/a/b",
        ] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad:?}");
        }
    }
}
