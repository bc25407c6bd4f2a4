//! The service's pages for people: server-rendered HTML (maud, escaped by construction), one
//! inline stylesheet, no script and nothing fetched from elsewhere, so they work air-gapped.
//!
//! - `/`: every configured repository: the version held, the newest seen upstream, the status
//!   of its last check, when that was and when the next is, and what verified its files.
//! - `/repos/{name}`: one repository: its history from the database, each file with its size,
//!   SHA-256, what verified it, and a download link.
//! - `/runs`: the recent runs and their errors.

use std::collections::BTreeMap;
use std::time::SystemTime;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::files::{self, seg};
use crate::config::Config;
use crate::db::Database;
use crate::repo::RepoId;

/// What the last check of one repository said.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct RepoStatus {
    /// When its last check ended.
    pub checked_at: Option<SystemTime>,
    /// The newest release selected upstream, when the last check reported one.
    pub upstream: Option<String>,
    /// A release the cooldown holds, and when it becomes eligible.
    pub pending: Option<(String, String)>,
    /// The error of its last check or download, if it failed.
    pub error: Option<String>,
}

/// One run, for `/runs`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct RunRecord {
    pub started: SystemTime,
    pub seconds: f64,
    pub outcome: String,
    pub summary: String,
    pub errors: Vec<String>,
}

/// Where the pages' links go: the service's routes, or the files of a static export
/// (`release-monitor index`: the overview at the mirror's root, each repository's page at
/// `_site/{folder}/index.html`, links relative so any file server or bucket website serves them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// `/`, `/repos/{name}`, `/{owner}/{repo}/releases/download/…`.
    Server,
    /// Relative links between the exported files and to the mirror's files.
    Static,
}

/// The folder, under the mirror's root, of the static pages and `releases.json` files. Never a
/// repository's folder (those hold `_` after an owner, or `%2F`) nor a file of ours.
pub const SITE_DIR: &str = "_site";

/// What the pages show besides the configuration and the database.
pub struct View<'a> {
    /// Where links go.
    pub links: Links,
    /// The configuration (its repositories, the mirror's root).
    pub config: &'a Config,
    /// The version database.
    pub db: &'a Database,
    /// Each repository's last check (empty for a static export).
    pub repos: &'a BTreeMap<String, RepoStatus>,
    /// The recent runs (empty for a static export).
    pub runs: &'a [RunRecord],
    /// When the next scheduled run starts.
    pub next_run: Option<SystemTime>,
    /// Whether a run is going on.
    pub running: bool,
    /// A configuration reload that was refused.
    pub config_error: Option<&'a str>,
}

impl View<'_> {
    /// The href of `name`'s page, from the page being rendered (`depth`: 0 for the overview,
    /// 2 for a repository's page).
    fn repo_href(&self, name: &str, folder: &str) -> String {
        match self.links {
            Links::Server => format!("/repos/{name}"),
            Links::Static => format!("{SITE_DIR}/{}/index.html", seg(folder)),
        }
    }

    /// The href of a mirrored file from a repository's page.
    fn file_href(&self, repo: &RepoId, tag: &str, name: &str) -> Option<String> {
        match self.links {
            Links::Server => repo
                .host()
                .is_none()
                .then(|| files::download_path(repo.owner(), repo.repo(), tag, name)),
            Links::Static => {
                let tag = crate::mirror::encode_tag(tag).ok()?;
                Some(format!(
                    "../../{}/{}/{}",
                    seg(&repo.folder()),
                    seg(&tag),
                    seg(name)
                ))
            }
        }
    }

    /// The overview's href from a repository's page.
    fn home_href(&self, depth: usize) -> String {
        match self.links {
            Links::Server => "/".to_string(),
            Links::Static => format!("{}index.html", "../".repeat(depth)),
        }
    }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;\
border-bottom:1px solid #ddd;vertical-align:top}th{background:#f4f4f4}\
.ok{color:#176f2c}.failed{color:#b00020}.pending{color:#8a6d00}\
.badge{display:inline-block;border-radius:3px;padding:0 .4em;margin:0 .2em .2em 0;\
background:#e8eef8;font-size:12px}.badge.none{background:#fbe3e4}\
code{font-size:12px}.banner{background:#fbe3e4;padding:.5em;border-radius:3px}";

/// RFC 3339 (seconds, UTC) of `t`.
fn when(t: Option<SystemTime>) -> String {
    t.map(|t| {
        chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
    .unwrap_or_else(|| "—".to_string())
}

fn page(title: &str, view: &View<'_>, depth: usize, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — release-monitor" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                nav {
                    a href=(view.home_href(depth)) { "Repositories" }
                    @if view.links == Links::Server { " · " a href="/runs" { "Runs" } " · " a href="/metrics" { "Metrics" } }
                }
                @if let Some(e) = view.config_error {
                    p.banner #config-error { (e) }
                }
                h1 { (title) }
                (body)
            }
        }
    }
}

/// The verification badges of the held version's files: each kind, and how many files.
fn badges(db: &Database, repo: &RepoId) -> Markup {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    if let Some(record) = db.get(repo)
        && let Some(current) = &record.current_version
        && let Some(entry) = record
            .download_history
            .iter()
            .rev()
            .find(|e| &e.version == current)
    {
        for f in &entry.metadata.files {
            *counts.entry(f.verified_by.as_str()).or_default() += 1;
        }
    }
    html! {
        @for (kind, n) in &counts {
            span.badge.(kind) data-verified-by=(kind) title="files verified this way" { (kind) " ×" (n) }
        }
    }
}

/// `/` (or the export's `index.html`).
pub fn overview(view: &View<'_>) -> Markup {
    let last = view.runs.last();
    let body = html! {
        @if view.links == Links::Server {
            p #summary {
                (view.config.repositories.len()) " repositories · last run: "
                @if let Some(r) = last { (when(Some(r.started))) " (" span.(r.outcome.as_str()) { (r.outcome) } ")" } @else { "none yet" }
                " · next run: " @if view.running { "running now" } @else { (when(view.next_run)) }
            }
        } @else {
            p #summary { (view.config.repositories.len()) " repositories · written " (when(Some(SystemTime::now()))) }
        }
        table #repositories {
            thead { tr { th { "Repository" } th { "Held" } th { "Newest upstream" } th { "Status" } th { "Last check" } th { "Verified by" } } }
            tbody {
                @for r in &view.config.repositories {
                    @let name = r.full_name();
                    @let status = view.repos.get(&name).cloned().unwrap_or_default();
                    @let id = r.id().ok();
                    @let held = id.as_ref().and_then(|id| view.db.current_version(id)).map(str::to_string);
                    tr data-repository=(name) {
                        td { a href=(view.repo_href(&name, &id.as_ref().map(RepoId::folder).unwrap_or_default())) { (name) } }
                        td.held { (held.clone().unwrap_or_else(|| "—".into())) }
                        td.upstream { (status.upstream.clone().or(held.clone()).unwrap_or_else(|| "—".into())) }
                        td.status {
                            @if let Some(e) = &status.error { span.failed title=(e) { "failed: " (e) } }
                            @else if let Some((tag, at)) = &status.pending { span.pending { (tag) " held until " (at) } }
                            @else if status.checked_at.is_some() { span.ok { "ok" } }
                            @else { "not checked yet" }
                        }
                        td { (when(status.checked_at)) }
                        td.verification { @if let Some(id) = &id { (badges(view.db, id)) } }
                    }
                }
            }
        }
    };
    page("Repositories", view, 0, body)
}

/// `/repos/{name}` (or the export's `_site/{folder}/index.html`): `None` when `name` is not a
/// configured repository.
pub fn repository(view: &View<'_>, name: &str) -> Option<Markup> {
    let repo = view
        .config
        .repositories
        .iter()
        .find(|r| r.full_name().eq_ignore_ascii_case(name))?;
    let id = repo.id().ok()?;
    let record = view.db.get(&id);
    let status = view
        .repos
        .get(&repo.full_name())
        .cloned()
        .unwrap_or_default();
    let body = html! {
        @if let Some(d) = &repo.description { p.description { (d) } }
        p {
            "Held: " strong.held { (record.and_then(|r| r.current_version.clone()).unwrap_or_else(|| "—".into())) }
            " · last check: " (when(status.checked_at))
            @if let Some(e) = &status.error { " · " span.failed { (e) } }
        }
        h2 { "History" }
        table #history {
            thead { tr { th { "Version" } th { "Recorded" } th { "Files" } } }
            tbody {
                @for entry in record.map(|r| r.download_history.iter().rev().collect::<Vec<_>>()).unwrap_or_default() {
                    @let deleted = entry.metadata.recorded_by.as_deref() == Some(crate::db::RETENTION);
                    tr data-version=(entry.version) {
                        td { (entry.version) @if deleted { " (deleted)" } }
                        td { (entry.downloaded_at) }
                        td {
                            @if !deleted {
                                table.files {
                                    @for f in &entry.metadata.files {
                                        @let href = files::locate(view.config, view.db, &id, &entry.version, &f.name)
                                            .and_then(|_| view.file_href(&id, &entry.version, &f.name));
                                        tr data-file=(f.name) {
                                            td {
                                                @if let Some(href) = href {
                                                    a.download href=(href) { (f.name) }
                                                } @else { (f.name) }
                                            }
                                            td.size { (f.size) " bytes" }
                                            td { code.sha256 { (f.sha256) } }
                                            td { span.badge.(f.verified_by.as_str()) data-verified-by=(f.verified_by.as_str()) { (f.verified_by.as_str()) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Some(page(&repo.full_name(), view, 2, body))
}

/// `/runs`.
pub(super) fn runs(view: &View<'_>) -> Markup {
    let body = html! {
        table #runs {
            thead { tr { th { "Started" } th { "Seconds" } th { "Outcome" } th { "Summary" } th { "Errors" } } }
            tbody {
                @for r in view.runs.iter().rev() {
                    tr {
                        td { (when(Some(r.started))) }
                        td { (format!("{:.1}", r.seconds)) }
                        td { span.(r.outcome.as_str()) { (r.outcome) } }
                        td { (r.summary) }
                        td { @for e in &r.errors { div.failed { (e) } } }
                    }
                }
            }
        }
    };
    page("Runs", view, 0, body)
}
