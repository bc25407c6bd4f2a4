//! Helpers shared by fake-github's tests.

use std::time::Duration;

use fake_github::FakeGithub;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;

/// The user agent of the tests' clients.
pub const UA: &str = "fake-github-tests";

/// A client trusting only the fake CA, not following redirects.
pub fn client(server: &FakeGithub) -> Client {
    client_with(server, Policy::none())
}

/// A client trusting only the fake CA, with the redirect `policy`.
pub fn client_with(server: &FakeGithub, policy: Policy) -> Client {
    let ca = reqwest::Certificate::from_pem(server.ca_cert_pem().as_bytes()).unwrap();
    Client::builder()
        .tls_certs_only([ca])
        .redirect(policy)
        .user_agent(UA)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}
