//! Helpers shared by the unit tests of `github`'s files (compiled for tests only), so the
//! files' tests do not import each other.

use std::time::Duration;

use super::client::{ClientOptions, GithubClient};
use super::token::Token;
use crate::http::RetryPolicy;

/// A client for `api` with the token `t0k3n`, the default retry policy and a short timeout.
pub(super) fn client(api: &str) -> GithubClient {
    GithubClient::new(
        ClientOptions {
            api_url: api.to_string(),
            ca_cert: None,
            timeout: Duration::from_secs(5),
            transfer_timeout: Duration::from_secs(5),
            api_concurrency: 8,
            min_interval: Duration::ZERO,
            policy: RetryPolicy::default(),
        },
        Some(Token::new("t0k3n")),
    )
    .unwrap()
}
