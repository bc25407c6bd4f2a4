//! Notifications after a run that found or downloaded something: one message per run to each
//! configured target (a Slack incoming webhook, generic JSON webhooks, e-mail over SMTP).
//!
//! HTTP goes straight through the shared [`http`](crate::http) layer ([`HttpClient::post`]: same
//! pool, TLS roots, HTTPS rule, redirect rule and retry policy as GitHub requests). That client
//! holds no credentials, so a webhook request cannot carry the GitHub token whatever its URL.
//! Mail goes through lettre with STARTTLS required (rustls), plain SMTP being allowed for
//! loopback hosts only, retried with the same [`RetryPolicy`]. Webhook URLs and passwords are
//! secrets: results, errors ([`NotifyError`]) and logs name targets `slack`, `webhook#N` and
//! `email`. A failed notification is reported; it never undoes a recorded download.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Serialize;
use sha2::Sha256;
use url::Url;

use crate::config::{Config, EmailNotify, NotifyEvent, SlackNotify, WebhookNotify};
use crate::db::VerifiedBy;
use crate::download::DownloadReport;
use crate::http::{Decision, HttpClient, PostError, RetryPolicy};
use crate::monitor::Report;

/// Why one notification failed. Its own type because notifications never talk to GitHub; the
/// messages name the target (`slack`, `webhook#N`, the SMTP server), never a secret URL or
/// password, and they are what the run's JSON shows under `notifications`.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Slack is configured without a webhook URL.
    #[error("no webhook URL: set notify.slack.webhook_url or SLACK_WEBHOOK_URL")]
    NoSlackUrl,
    /// The configured URL does not parse (it is not quoted: it is a credential).
    #[error("{label}: the configured URL is not a URL")]
    BadUrl {
        /// `slack` or `webhook#N`.
        label: String,
    },
    /// The message could not be encoded (JSON, a header value).
    #[error("{0}")]
    Encode(String),
    /// The HMAC could not be keyed.
    #[error("cannot key the HMAC: {0}")]
    Hmac(String),
    /// The POST failed (refused, unreachable, or an error status after retries).
    #[error(transparent)]
    Post(#[from] PostError),
    /// A configured e-mail address does not parse.
    #[error("notify.email.{key}: invalid address {text:?}: {message}")]
    Address {
        /// `from` or `to`.
        key: &'static str,
        /// The address as configured.
        text: String,
        /// Why it is invalid.
        message: String,
    },
    /// The e-mail could not be built.
    #[error("cannot build the message: {0}")]
    Message(String),
    /// `github.ca_cert` could not be read.
    #[error("cannot read ca_cert {}: {source}", path.display())]
    ReadCaCert {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `github.ca_cert` is not a PEM bundle.
    #[error("ca_cert {} is not a PEM bundle: {message}", path.display())]
    BadCaCert {
        /// The file.
        path: std::path::PathBuf,
        /// What was wrong.
        message: String,
    },
    /// STARTTLS could not be set up.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// Plain SMTP to a host that is not loopback.
    #[error("plain SMTP is only allowed for loopback hosts")]
    PlainSmtp,
    /// The SMTP server did not take the message, after retries.
    #[error("{server}: {message} (after {attempts} attempt(s))")]
    Smtp {
        /// `host:port`.
        server: String,
        /// The server's or the transport's error.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// The header carrying the body's HMAC-SHA256 (`sha256=<hex>`, GitHub's webhook convention).
pub const SIGNATURE_HEADER: &str = "X-Release-Monitor-Signature";

/// What a run found and downloaded: the one thing every target is told, and the exact JSON body
/// a generic webhook receives.
///
/// It exists so all targets describe a run identically and the "nothing to say" rule lives in
/// one place ([`Summary::is_empty`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Always `release-monitor`, so a shared receiver can tell senders apart.
    pub source: &'static str,
    /// This program's version.
    pub version: &'static str,
    /// When the run checked (the report's timestamp).
    pub timestamp: String,
    /// New releases the monitor reported (only when `notify.on` has `found`).
    pub found: Vec<FoundRelease>,
    /// Releases downloaded, verified and recorded (only when `notify.on` has `downloaded`).
    pub downloaded: Vec<DownloadedRelease>,
}

/// A new release in a [`Summary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundRelease {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The release title.
    pub name: Option<String>,
    /// The release page.
    pub html_url: Option<String>,
    /// When it was published.
    pub published_at: Option<String>,
    /// GitHub's prerelease flag.
    pub prerelease: bool,
    /// The version the database held.
    pub previous_version: Option<String>,
    /// The repository's `description` from the configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A downloaded release in a [`Summary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownloadedRelease {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The release page (from the report the download worked from).
    pub html_url: Option<String>,
    /// The version the database held before.
    pub previous_version: Option<String>,
    /// The repository's `description` from the configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The stored files.
    pub files: Vec<DownloadedFile>,
}

/// One stored file in a [`DownloadedRelease`] (its local path is left out: it means nothing to
/// the receiver).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownloadedFile {
    /// The asset name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// Which upstream checksum verified it.
    pub verified_by: VerifiedBy,
}

impl Summary {
    /// The summary of a run. `report` is the monitor's report: its releases count as found
    /// when `found` is true (`monitor`), and it supplies release pages either way. `downloads`
    /// is the downloader's result, if it ran. `on` filters what is included.
    pub fn from_run(
        on: &[NotifyEvent],
        report: &Report,
        found: bool,
        downloads: Option<&DownloadReport>,
    ) -> Summary {
        let found = if found && on.contains(&NotifyEvent::Found) {
            report
                .releases
                .iter()
                .map(|r| FoundRelease {
                    repository: r.repository.clone(),
                    tag_name: r.tag_name.clone(),
                    name: r.name.clone(),
                    html_url: r.html_url.clone(),
                    published_at: r.published_at.clone(),
                    prerelease: r.prerelease,
                    previous_version: r.current_version.clone(),
                    description: r.description.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let downloaded = match downloads {
            Some(d) if on.contains(&NotifyEvent::Downloaded) => d
                .downloaded
                .iter()
                .map(|d| {
                    let reported = report.releases.iter().find(|r| {
                        r.repository.eq_ignore_ascii_case(&d.repository) && r.tag_name == d.tag_name
                    });
                    DownloadedRelease {
                        repository: d.repository.clone(),
                        tag_name: d.tag_name.clone(),
                        html_url: reported.and_then(|r| r.html_url.clone()),
                        previous_version: d.previous_version.clone(),
                        description: reported.and_then(|r| r.description.clone()),
                        files: d
                            .files
                            .iter()
                            .map(|f| DownloadedFile {
                                name: f.name.clone(),
                                size: f.size,
                                sha256: f.sha256.clone(),
                                verified_by: f.verified_by,
                            })
                            .collect(),
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        Summary {
            source: "release-monitor",
            version: env!("CARGO_PKG_VERSION"),
            timestamp: report.timestamp.clone(),
            found,
            downloaded,
        }
    }

    /// True when there is nothing to tell: nothing is sent then.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty() && self.downloaded.is_empty()
    }

    /// One line: `2 new releases found, 1 downloaded`.
    pub fn headline(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if !self.found.is_empty() {
            parts.push(format!(
                "{} found",
                plural(self.found.len(), "new release", "new releases")
            ));
        }
        if !self.downloaded.is_empty() {
            parts.push(format!(
                "{} downloaded",
                plural(self.downloaded.len(), "release", "releases")
            ));
        }
        parts.join(", ")
    }

    /// The Slack message: mrkdwn text with one line per release, linked to its page.
    pub fn slack_text(&self) -> String {
        let link = |url: Option<&str>, text: &str| match url {
            Some(u) => format!("<{}|{}>", slack_escape(u), slack_escape(text)),
            None => slack_escape(text),
        };
        let mut out = format!("*release-monitor*: {}", self.headline());
        if !self.found.is_empty() {
            out.push_str("\n*New releases*");
            for r in &self.found {
                out.push_str(&format!(
                    "\n• {}{}{}",
                    link(
                        r.html_url.as_deref(),
                        &format!("{} {}", r.repository, r.tag_name)
                    ),
                    was(r.previous_version.as_deref(), slack_escape),
                    about(r.description.as_deref(), slack_escape)
                ));
            }
        }
        if !self.downloaded.is_empty() {
            out.push_str("\n*Downloaded*");
            for r in &self.downloaded {
                let files: Vec<String> = r.files.iter().map(|f| slack_escape(&f.name)).collect();
                out.push_str(&format!(
                    "\n• {}{}{}: {}",
                    link(
                        r.html_url.as_deref(),
                        &format!("{} {}", r.repository, r.tag_name)
                    ),
                    was(r.previous_version.as_deref(), slack_escape),
                    about(r.description.as_deref(), slack_escape),
                    if files.is_empty() {
                        "no files".to_string()
                    } else {
                        files.join(", ")
                    }
                ));
            }
        }
        out
    }

    /// The plain-text e-mail body.
    pub fn email_text(&self) -> String {
        let mut out = format!(
            "release-monitor {} ran at {}: {}.\n",
            self.version,
            self.timestamp,
            self.headline()
        );
        if !self.found.is_empty() {
            out.push_str("\nNew releases:\n");
            for r in &self.found {
                out.push_str(&format!(
                    "- {} {}{}{}\n",
                    r.repository,
                    r.tag_name,
                    was(r.previous_version.as_deref(), str::to_string),
                    about(r.description.as_deref(), str::to_string)
                ));
                if let Some(u) = &r.html_url {
                    out.push_str(&format!("  {u}\n"));
                }
            }
        }
        if !self.downloaded.is_empty() {
            out.push_str("\nDownloaded:\n");
            for r in &self.downloaded {
                out.push_str(&format!(
                    "- {} {}{}{}\n",
                    r.repository,
                    r.tag_name,
                    was(r.previous_version.as_deref(), str::to_string),
                    about(r.description.as_deref(), str::to_string)
                ));
                if let Some(u) = &r.html_url {
                    out.push_str(&format!("  {u}\n"));
                }
                for f in &r.files {
                    out.push_str(&format!(
                        "  {} ({} bytes, sha256 {}, verified by {})\n",
                        f.name,
                        f.size,
                        f.sha256,
                        f.verified_by.as_str()
                    ));
                }
            }
        }
        out
    }
}

/// ` (was v1.1.0)`, or nothing.
fn was(previous: Option<&str>, escape: impl Fn(&str) -> String) -> String {
    previous.map_or_else(String::new, |p| format!(" (was {})", escape(p)))
}

/// ` — {description}` (the repository's `description` from the configuration), or nothing.
fn about(description: Option<&str>, escape: impl Fn(&str) -> String) -> String {
    description
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map_or_else(String::new, |d| format!(" — {}", escape(d)))
}

/// Slack's escaping for text in messages: `&`, `<` and `>` only.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The outcome of one target, as printed in the run's JSON (`notifications`).
///
/// It exists so a failed notification is visible (and sets exit code 1) without hiding what was
/// downloaded; `target` never holds a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationResult {
    /// `slack`, `webhook#N` (1-based, in `notify.webhooks` order) or `email`.
    pub target: String,
    /// Whether the target accepted the message.
    pub ok: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl NotificationResult {
    fn new(target: &str, outcome: Result<(), NotifyError>) -> NotificationResult {
        let (ok, error) = match outcome {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        };
        NotificationResult {
            target: target.to_string(),
            ok,
            error,
        }
    }
}

/// `sha256=<hex>`: HMAC-SHA256 of `body` keyed with `secret`, the value of
/// [`SIGNATURE_HEADER`]. (HMAC takes keys of any length; the error case is the crate's API.)
pub fn signature(secret: &[u8], body: &[u8]) -> Result<String, NotifyError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .map_err(|e| NotifyError::Hmac(e.to_string()))?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// Sends `summary` to every target of `config.notify`, one after another, and returns each
/// outcome. Nothing is sent when the summary is empty. `client` is the shared HTTP client (no
/// GitHub token in it).
pub async fn send_all(
    config: &Config,
    client: &HttpClient,
    summary: &Summary,
) -> Vec<NotificationResult> {
    let mut out = Vec::new();
    if summary.is_empty() {
        return out;
    }
    let n = &config.notify;
    if let Some(slack) = &n.slack {
        out.push(NotificationResult::new(
            "slack",
            send_slack(slack, client, summary).await,
        ));
    }
    for (i, hook) in n.webhooks.iter().enumerate() {
        let label = format!("webhook#{}", i + 1);
        let outcome = send_webhook(hook, &label, client, summary).await;
        out.push(NotificationResult::new(&label, outcome));
    }
    if let Some(email) = &n.email {
        let opts = SmtpOptions {
            timeout: config.github.timeout.as_duration(),
            ca_cert: config.github.ca_cert.clone(),
            policy: *client.policy(),
        };
        out.push(NotificationResult::new(
            "email",
            send_email(email, &opts, summary).await,
        ));
    }
    out
}

fn parse_secret_url(url: &str, label: &str) -> Result<Url, NotifyError> {
    // The URL is never quoted: it is a credential.
    Url::parse(url).map_err(|_| NotifyError::BadUrl {
        label: label.to_string(),
    })
}

async fn send_slack(
    slack: &SlackNotify,
    client: &HttpClient,
    summary: &Summary,
) -> Result<(), NotifyError> {
    let Some(url) = &slack.webhook_url else {
        return Err(NotifyError::NoSlackUrl);
    };
    let url = parse_secret_url(url.expose(), "slack")?;
    let mut payload = serde_json::Map::new();
    payload.insert("text".into(), summary.slack_text().into());
    if let Some(c) = &slack.channel {
        payload.insert("channel".into(), c.clone().into());
    }
    if let Some(u) = &slack.username {
        payload.insert("username".into(), u.clone().into());
    }
    let body = serde_json::to_vec(&payload).map_err(|e| NotifyError::Encode(e.to_string()))?;
    client
        .post(
            &url,
            "slack",
            "application/json",
            Bytes::from(body),
            &HeaderMap::new(),
        )
        .await?;
    Ok(())
}

async fn send_webhook(
    hook: &WebhookNotify,
    label: &str,
    client: &HttpClient,
    summary: &Summary,
) -> Result<(), NotifyError> {
    let url = parse_secret_url(hook.url.expose(), label)?;
    let body = serde_json::to_vec(summary).map_err(|e| NotifyError::Encode(e.to_string()))?;
    let mut headers = HeaderMap::new();
    if let Some(secret) = &hook.secret {
        let value = HeaderValue::from_str(&signature(secret.expose().as_bytes(), &body)?)
            .map_err(|e| NotifyError::Encode(e.to_string()))?;
        headers.insert(SIGNATURE_HEADER, value);
    }
    client
        .post(&url, label, "application/json", Bytes::from(body), &headers)
        .await?;
    Ok(())
}

/// What mail sending takes from the rest of the configuration.
#[derive(Debug, Clone)]
struct SmtpOptions {
    /// `github.timeout`: for connecting and for each SMTP command.
    timeout: std::time::Duration,
    /// `github.ca_cert`: trusted for STARTTLS too.
    ca_cert: Option<std::path::PathBuf>,
    /// The client's retry policy.
    policy: RetryPolicy,
}

fn mailbox(text: &str, key: &'static str) -> Result<Mailbox, NotifyError> {
    text.parse()
        .map_err(|e: lettre::address::AddressError| NotifyError::Address {
            key,
            text: text.to_string(),
            message: e.to_string(),
        })
}

async fn send_email(
    email: &EmailNotify,
    opts: &SmtpOptions,
    summary: &Summary,
) -> Result<(), NotifyError> {
    let mut builder = Message::builder()
        .from(mailbox(&email.from, "from")?)
        .subject(format!("{} {}", email.subject, summary.headline()))
        .header(ContentType::TEXT_PLAIN);
    for to in &email.to {
        builder = builder.to(mailbox(to, "to")?);
    }
    let message = builder
        .body(summary.email_text())
        .map_err(|e| NotifyError::Message(e.to_string()))?;

    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(email.smtp_host.as_str())
            .port(email.smtp_port)
            .timeout(Some(opts.timeout));
    if email.starttls {
        let mut tls = TlsParameters::builder(email.smtp_host.clone());
        if let Some(path) = &opts.ca_cert {
            let pem = std::fs::read(path).map_err(|source| NotifyError::ReadCaCert {
                path: path.clone(),
                source,
            })?;
            let cert = Certificate::from_pem(&pem).map_err(|e| NotifyError::BadCaCert {
                path: path.clone(),
                message: e.to_string(),
            })?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls
            .build_rustls()
            .map_err(|e| NotifyError::Tls(e.to_string()))?;
        transport = transport.tls(Tls::Required(tls));
    } else if !crate::config::is_loopback_host(&email.smtp_host) {
        // The config loader refuses this; kept here so no caller can bypass it.
        return Err(NotifyError::PlainSmtp);
    }
    if let (Some(user), Some(password)) = (&email.username, &email.password) {
        transport = transport.credentials(Credentials::new(
            user.clone(),
            password.expose().to_string(),
        ));
    }
    let transport = transport.build();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match transport.send(message.clone()).await {
            Ok(_) => return Ok(()),
            Err(e) => {
                let retryable = e.is_transient()
                    || e.is_timeout()
                    || !(e.is_permanent() || e.is_client() || e.is_tls() || e.is_response());
                let server = format!("{}:{}", email.smtp_host, email.smtp_port);
                match (retryable, opts.policy.after_failure(attempt)) {
                    (true, Decision::Retry { after, .. }) => {
                        tracing::warn!(
                            "email: {server}: {e} (attempt {attempt}); retrying in {:.1}s",
                            after.as_secs_f64()
                        );
                        tokio::time::sleep(after).await;
                    }
                    _ => {
                        return Err(NotifyError::Smtp {
                            server,
                            message: e.to_string(),
                            attempts: attempt,
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::{MirroredFile, Placement, RecordedRelease as Got};
    use crate::monitor::ReportedRelease;

    fn report() -> Report {
        Report {
            timestamp: "2026-01-15T10:30:00+00:00".into(),
            total_repositories_checked: 2,
            new_releases_found: 2,
            releases: vec![
                ReportedRelease {
                    repository: "acme/tool".into(),
                    owner: "acme".into(),
                    repo: "tool".into(),
                    tag_name: "v1.2.0".into(),
                    name: Some("Tool <1.2>".into()),
                    published_at: None,
                    tarball_url: None,
                    zipball_url: None,
                    html_url: Some("https://github.com/acme/tool/releases/tag/v1.2.0".into()),
                    prerelease: false,
                    draft: false,
                    assets: vec![],
                    current_version: Some("v1.1.0".into()),
                    description: None,
                    commit: None,
                },
                ReportedRelease {
                    repository: "acme/a&b".into(),
                    owner: "acme".into(),
                    repo: "a&b".into(),
                    tag_name: "v2".into(),
                    name: None,
                    published_at: None,
                    tarball_url: None,
                    zipball_url: None,
                    html_url: None,
                    prerelease: true,
                    draft: false,
                    assets: vec![],
                    current_version: None,
                    description: Some("A & B <tools>".into()),
                    commit: None,
                },
            ],
            errors: vec![],
            pending: vec![],
        }
    }

    fn downloads() -> DownloadReport {
        DownloadReport {
            downloaded: vec![Got {
                repository: "acme/tool".into(),
                tag_name: "v1.2.0".into(),
                previous_version: Some("v1.1.0".into()),
                files: vec![MirroredFile {
                    name: "tool.tar.gz".into(),
                    path: "/secret/local/path/tool.tar.gz".into(),
                    size: 42,
                    sha256: "ab".repeat(32),
                    verified_by: VerifiedBy::Digest,
                    verification: Vec::new(),
                    signatures: Vec::new(),
                    how: Placement::Downloaded,
                }],
                uploaded: Vec::new(),
            }],
            ..DownloadReport::default()
        }
    }

    const BOTH: &[NotifyEvent] = &[NotifyEvent::Found, NotifyEvent::Downloaded];

    #[test]
    fn summary_follows_the_run_and_the_on_filter() {
        let s = Summary::from_run(BOTH, &report(), true, Some(&downloads()));
        assert_eq!(s.found.len(), 2);
        assert_eq!(s.downloaded.len(), 1);
        assert_eq!(
            s.downloaded[0].html_url.as_deref(),
            Some("https://github.com/acme/tool/releases/tag/v1.2.0")
        );
        assert_eq!(s.headline(), "2 new releases found, 1 release downloaded");
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("/secret/local/path"), "{json}");

        // `download`: the report's releases were found by an earlier run.
        let s = Summary::from_run(BOTH, &report(), false, Some(&downloads()));
        assert!(s.found.is_empty() && s.downloaded.len() == 1);
        // `on: [downloaded]` and nothing downloaded: nothing to say.
        let s = Summary::from_run(&[NotifyEvent::Downloaded], &report(), true, None);
        assert!(s.is_empty());
        let s = Summary::from_run(&[NotifyEvent::Found], &report(), true, Some(&downloads()));
        assert!(s.downloaded.is_empty() && s.found.len() == 2);
        assert!(Summary::from_run(&[], &report(), true, Some(&downloads())).is_empty());
    }

    #[test]
    fn slack_text_links_and_escapes() {
        let s = Summary::from_run(BOTH, &report(), true, Some(&downloads()));
        let text = s.slack_text();
        assert!(
            text.contains(
                "• <https://github.com/acme/tool/releases/tag/v1.2.0|acme/tool v1.2.0> (was v1.1.0)"
            ),
            "{text}"
        );
        // The configured description follows, escaped.
        assert!(
            text.contains("• acme/a&amp;b v2 — A &amp; B &lt;tools&gt;"),
            "{text}"
        );
        assert!(text.contains("*Downloaded*\n• <https://github.com/acme/tool/releases/tag/v1.2.0|acme/tool v1.2.0> (was v1.1.0): tool.tar.gz"), "{text}");
    }

    #[test]
    fn email_text_lists_versions_links_and_files() {
        let s = Summary::from_run(BOTH, &report(), true, Some(&downloads()));
        let text = s.email_text();
        assert!(text.contains("- acme/tool v1.2.0 (was v1.1.0)\n  https://github.com/acme/tool/releases/tag/v1.2.0\n"), "{text}");
        assert!(text.contains("- acme/a&b v2 — A & B <tools>\n"), "{text}");
        assert!(
            text.contains(&format!(
                "  tool.tar.gz (42 bytes, sha256 {}, verified by digest)",
                "ab".repeat(32)
            )),
            "{text}"
        );
    }

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?").unwrap(),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
