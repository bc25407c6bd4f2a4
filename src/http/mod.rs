//! The HTTP layer every request of this tool goes through, GitHub or not: one client
//! ([`HttpClient`]: reqwest with rustls, the configured extra CA, timeouts, a redirect policy that
//! refuses plain-http redirects) and one send-with-retry ([`HttpClient::send`] and
//! [`HttpClient::fetch`], one loop) applying the one [`RetryPolicy`].
//!
//! It knows nothing about GitHub: no token, no API origin, no pagination. Callers add their own
//! headers and watch each exchange through an [`Observer`] (to count requests, read rate-limit
//! budgets, log retries); `github` puts the token, GitHub's error bodies and its budgets on top,
//! `notify` posts webhooks through [`HttpClient::post`], which has no way to carry a token.
//!
//! The one rule for where requests may go lives here too: `https://`, or `http://` to a loopback
//! host (127.0.0.0/8, ::1, `localhost`), which local test servers need. The config loader checks
//! URLs with it, and the client checks every request and redirect with it.

mod client;
pub mod retry;

pub use client::{
    Body, BodySource, HttpClient, HttpOptions, MAX_REDIRECTS, Observer, PostError, PostResponse,
    Rejection, Reply, Request, SendError, SetupError, merge_headers,
};
pub use retry::{Decision, RetryPolicy, Signals, parse_retry_after};

use std::net::IpAddr;

use url::{Host, Url};

/// True when the URL's host is a loopback address or `localhost`: the only hosts plain
/// `http://` may reach.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Accepts `https://` URLs, and `http://` URLs to loopback hosts; explains any refusal. It exists
/// so the config loader, the client and its redirect policy apply one rule.
pub fn check_transport(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "refusing {}: plain http:// is only allowed for loopback hosts (127.0.0.0/8, ::1, \
             localhost); use https://",
            redact(url)
        )),
        other => Err(format!(
            "refusing {}: scheme `{other}` is not https",
            redact(url)
        )),
    }
}

/// The URL without its query, fragment and credentials, which may carry signatures or tokens: the
/// only form of a URL that goes into a message or a log line.
pub fn redact(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(check_transport(&url("https://api.github.com/x")).is_ok());
        assert!(check_transport(&url("http://127.0.0.1:8080/x")).is_ok());
        assert!(check_transport(&url("http://127.9.9.9/x")).is_ok());
        assert!(check_transport(&url("http://[::1]:80/x")).is_ok());
        assert!(check_transport(&url("http://LOCALHOST/x")).is_ok());
        let err = check_transport(&url("http://github.example.com/x?sig=secret")).unwrap_err();
        assert!(err.contains("loopback") && !err.contains("secret"), "{err}");
        assert!(check_transport(&url("ftp://127.0.0.1/x")).is_err());
        assert!(check_transport(&url("http://localhost.evil.com/x")).is_err());
        assert!(check_transport(&url("http://10.0.0.1/x")).is_err());
    }
}
