//! A fake GitHub for release-monitor's tests and for trying it offline.
//!
//! [`FakeGithub::start`] serves a [`Scenario`] over HTTPS on 127.0.0.1: an API origin imitating
//! the parts of api.github.com that release-monitor uses (releases, pagination, ETags, tokens,
//! rate limits, asset redirects) and a second origin, on the host `localhost`, serving asset bytes
//! the way objects.githubusercontent.com does (ranges included). A fresh test CA signs the
//! certificate; clients trust it through [`FakeGithub::ca_cert_path`]. Every request is recorded
//! ([`FakeGithub::requests`]), and [`Fault`]s inject failures. The API is blocking: the server runs
//! on its own thread with its own tokio runtime and stops when the handle is dropped.
//!
//! ```no_run
//! use fake_github::{Asset, FakeGithub, Release, Repository, Scenario};
//!
//! let scenario = Scenario::default().with_repository(
//!     Repository::new("acme", "tool")
//!         .with_release(Release::new("v1.0.0").with_asset(Asset::with_size("tool.tar.gz", 1024))),
//! );
//! let server = FakeGithub::start(scenario)?;
//! println!("{} {}", server.api_url(), server.ca_cert_path().display());
//! # Ok::<(), fake_github::Error>(())
//! ```

#![warn(missing_docs)]

mod body;
mod fault;
mod forges;
mod graphql;
mod handler;
mod model;
mod scenario;
mod server;
mod tls;

pub use fault::{Fault, FaultKind, FaultMatch, Origin, PathMatch};
pub use scenario::{App, Asset, Digest, Forge, RateLimit, Release, Repository, Scenario};
pub use server::{FakeGithub, Options, RecordedRequest, ServedAsset};

/// Why a scenario could not be read or a server could not start; one type so callers can `?` it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The YAML or JSON text does not describe a scenario.
    #[error("scenario parse error: {0}")]
    Parse(String),
    /// The scenario parses but makes no sense (duplicate tags, `content` and `size`, ...).
    #[error("invalid scenario: {0}")]
    Invalid(String),
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Making the certificates or the TLS configuration failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The server thread ended before it was ready.
    #[error("the server thread stopped unexpectedly")]
    Stopped,
}
