//! GitHub App authentication: organisations that forbid personal tokens let an App read their
//! repositories instead.
//!
//! The App signs a short JSON Web Token (RS256, by the `jsonwebtoken` crate) with its private
//! key; the JWT is exchanged for an installation access token
//! (`POST /app/installations/{id}/access_tokens`), which then authenticates API calls like a
//! personal token. Without a configured installation id, the installation is found from each
//! repository's owner (`GET /repos/{owner}/{repo}/installation`), so one App installed on several
//! organisations serves them all, each owner with its own token. Tokens are cached per
//! installation and replaced [`REFRESH_BEFORE`] their expiry. Neither the key, the JWT nor a token
//! is ever printed; like a personal token they go to the API's origin only.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::token::Token;

/// A token this close to its expiry is replaced before use.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
/// How long a JWT is valid (GitHub accepts at most ten minutes).
const JWT_LIFETIME: i64 = 9 * 60;
/// How far back a JWT's `iat` is set, for clocks that run a little fast.
const CLOCK_SKEW: i64 = 60;

/// Why a GitHub App's credentials cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AppKeyError(pub String);

/// A GitHub App: its id, its private key, and (optionally) the one installation to use.
pub struct AppAuth {
    app_id: u64,
    key: EncodingKey,
    installation_id: Option<u64>,
    /// Installation tokens by installation id, and installation ids by lower-cased owner.
    cache: tokio::sync::Mutex<Cache>,
    /// Held while asking GitHub for an installation or a token, so concurrent checks of one
    /// owner's repositories ask once and share the answer.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cache {
    tokens: HashMap<u64, (Token, DateTime<Utc>)>,
    owners: HashMap<String, u64>,
}

impl fmt::Debug for AppAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AppAuth(app {}, installation {:?}, key ***)",
            self.app_id, self.installation_id
        )
    }
}

#[derive(Serialize)]
struct Claims {
    iat: i64,
    exp: i64,
    iss: String,
}

/// `POST /app/installations/{id}/access_tokens`'s answer.
#[derive(Deserialize)]
pub(super) struct InstallationToken {
    pub token: String,
    pub expires_at: String,
}

/// `GET /repos/{owner}/{repo}/installation`'s answer (only the id is used).
#[derive(Deserialize)]
pub(super) struct Installation {
    pub id: u64,
}

impl AppAuth {
    /// The App `app_id` with the RSA private key `pem` (PKCS#1 or PKCS#8); `installation_id`
    /// fixes the installation, else it is found per repository owner.
    pub fn new(
        app_id: u64,
        pem: &str,
        installation_id: Option<u64>,
    ) -> Result<AppAuth, AppKeyError> {
        let key = check_key(pem)?;
        Ok(AppAuth {
            app_id,
            key,
            installation_id,
            cache: tokio::sync::Mutex::new(Cache::default()),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// The installation fixed by the configuration, if any.
    pub fn installation_id(&self) -> Option<u64> {
        self.installation_id
    }

    /// A fresh JWT for the App's own endpoints.
    pub(super) fn jwt(&self) -> Result<String, AppKeyError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iat: now - CLOCK_SKEW,
            exp: now + JWT_LIFETIME,
            iss: self.app_id.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| AppKeyError(format!("cannot sign the GitHub App's JWT: {e}")))
    }

    /// Serialises the calls that fetch installations and tokens (see `fetching`).
    pub(super) async fn fetch_guard(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.fetching.lock().await
    }

    /// The installation serving `owner`, if known (fixed, or found earlier).
    pub(super) async fn known_installation(&self, owner: Option<&str>) -> Option<u64> {
        if let Some(id) = self.installation_id {
            return Some(id);
        }
        let owner = owner?.to_lowercase();
        self.cache.lock().await.owners.get(&owner).copied()
    }

    /// Remembers that `owner`'s repositories are served by installation `id`.
    pub(super) async fn remember_owner(&self, owner: &str, id: u64) {
        self.cache
            .lock()
            .await
            .owners
            .insert(owner.to_lowercase(), id);
    }

    /// The cached token of installation `id` when it is not about to expire.
    pub(super) async fn cached(&self, id: u64) -> Option<Token> {
        let cache = self.cache.lock().await;
        let (token, expires) = cache.tokens.get(&id)?;
        let margin = chrono::Duration::from_std(REFRESH_BEFORE).ok()?;
        (*expires - margin > Utc::now()).then(|| token.clone())
    }

    /// Caches a token of installation `id` from GitHub's answer; returns it.
    pub(super) async fn store(
        &self,
        id: u64,
        answer: InstallationToken,
    ) -> Result<Token, AppKeyError> {
        let expires = DateTime::parse_from_rfc3339(&answer.expires_at)
            .map_err(|e| AppKeyError(format!("the installation token's expires_at: {e}")))?
            .with_timezone(&Utc);
        let token = Token::new(answer.token);
        self.cache
            .lock()
            .await
            .tokens
            .insert(id, (token.clone(), expires));
        Ok(token)
    }
}

/// Checks that `pem` is an RSA private key in PEM form; the key itself is never quoted.
pub fn check_key(pem: &str) -> Result<EncodingKey, AppKeyError> {
    EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
        AppKeyError(
            "the GitHub App private key is not an RSA private key in PEM form (the .pem file \
             GitHub gives when a key is generated)"
                .to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_an_rsa_pem_is_refused_without_being_quoted() {
        let e = AppAuth::new(
            1,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
            None,
        )
        .unwrap_err();
        assert!(!e.0.contains("c2VjcmV0") && e.0.contains("RSA"), "{e}");
        assert!(AppAuth::new(1, "not a key", None).is_err());
    }
}
