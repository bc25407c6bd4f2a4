//! `Forges`: the run's forge clients, one per forge host, so each repository is asked of its
//! own forge with its own token.
//!
//! The `github:` section's GitHub (github.com, or the Enterprise server of `github.api_url`)
//! is the default; every host of the configuration's `forges` (the file's `forges:`, plus the
//! defaults the repositories use) gets its own client: its API, its kind, its CA, and the token
//! from its `token_env`, which is sent to that API's origin only (see
//! `GithubClient::authorize`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::GithubError;
use super::client::{ClientOptions, GithubClient};
use super::token::Token;
use crate::config::{Config, Env};
use crate::repo::RepoId;

/// Every forge client of a run (see the module docs).
#[derive(Debug)]
pub struct Forges {
    default: Arc<GithubClient>,
    by_host: BTreeMap<String, Arc<GithubClient>>,
}

impl Forges {
    /// Only the default GitHub (the Concourse resource, tests).
    pub fn single(default: Arc<GithubClient>) -> Forges {
        Forges {
            default,
            by_host: BTreeMap::new(),
        }
    }

    /// `default`, plus `client` for the forge at `host` (the Concourse resource's one
    /// repository on another forge).
    pub fn with_host(mut self, host: &str, client: Arc<GithubClient>) -> Forges {
        self.by_host.insert(host.to_string(), client);
        self
    }

    /// The default client plus one client per forge of `config`, each with the token its
    /// `token_env` holds in `env` (none when unset or empty).
    pub fn from_config(
        config: &Config,
        default: Arc<GithubClient>,
        env: &Env,
    ) -> Result<Forges, GithubError> {
        let mut by_host = BTreeMap::new();
        for (host, forge) in &config.forges {
            let mut opts = ClientOptions::from_config(config);
            opts.api_url = forge.api_url.as_str().to_string();
            if forge.ca_cert.is_some() {
                opts.ca_cert = forge.ca_cert.clone();
            }
            let token = forge
                .token_env
                .as_deref()
                .and_then(|name| env.get(name))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(Token::new);
            if token.is_none() {
                tracing::debug!(
                    "{host}: no token{}; public projects only",
                    forge
                        .token_env
                        .as_deref()
                        .map(|n| format!(" ({n} is unset)"))
                        .unwrap_or_default()
                );
            }
            let name = forge
                .token_env
                .as_deref()
                .unwrap_or("the forge's token_env");
            let client = GithubClient::new(opts, token)?.for_forge(forge.kind, name);
            by_host.insert(host.clone(), Arc::new(client));
        }
        Ok(Forges { default, by_host })
    }

    /// The `github:` section's GitHub client.
    pub fn default_client(&self) -> &Arc<GithubClient> {
        &self.default
    }

    /// The client of `repo`'s forge.
    pub fn for_repo(&self, repo: &RepoId) -> Result<&Arc<GithubClient>, GithubError> {
        match repo.host() {
            None => Ok(&self.default),
            Some(host) => self.by_host.get(host).ok_or_else(|| GithubError::Setup {
                message: format!("{repo}: no forge is configured for {host}"),
            }),
        }
    }

    /// Every client, the default first.
    pub fn all(&self) -> impl Iterator<Item = &Arc<GithubClient>> {
        std::iter::once(&self.default).chain(self.by_host.values())
    }
}
