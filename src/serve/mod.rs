//! `release-monitor serve`: the pipeline as a service. It runs what `monitor --download` runs
//! (downloads, retention and notifications included) every `serve.interval` (jittered), one run
//! at a time, and on demand (`POST /api/runs`); it serves the mirror's files at GitHub's
//! download paths, `/metrics` for Prometheus, and `/healthz` and `/readyz` for orchestrators.
//!
//! Files: `metrics` (the Prometheus registry), `files` (which mirrored file a URL may name),
//! `api` (the read-only GitHub REST subset over what the mirror holds), `pages` (the HTML for
//! people), `export` (the pages as static files: `release-monitor index`), and this one (the scheduler, the routes, authentication, shutdown and reload).
//!
//! Stopping (SIGTERM, SIGINT) closes the listener and ends the process with the run in flight
//! cut short: every write of a run is atomic (temp file, fsync, rename; the database after the
//! files) and every transfer resumes from its part file, so a cut run loses nothing and the
//! next run carries on. SIGHUP reloads the configuration; a bad one is refused and the old one
//! kept.

mod api;
mod export;
mod files;
mod metrics;
mod pages;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::config::{Config, Env};
use crate::db::Database;
use crate::github::EtagCache;
use crate::pipeline::{Origin, Pipeline, Stores};
use crate::repo::RepoId;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting cannot work (an unset token variable, an address that cannot be bound).
    #[error("{0}")]
    Setup(String),
}

/// How the service is started: the configuration (and its file, for reloads) and the ETag
/// state file the runs share.
pub struct ServeOptions {
    /// The loaded configuration.
    pub config: Config,
    /// Its file, read again on SIGHUP.
    pub config_path: PathBuf,
    /// The conditional-request state kept between runs (as `monitor --state-file`).
    pub state_file: PathBuf,
}

/// What the service knows between requests.
struct Service {
    config_path: PathBuf,
    state_file: PathBuf,
    config: RwLock<Arc<Config>>,
    /// The database as the last run (or the start) left it: what the file routes serve.
    db: RwLock<Arc<Database>>,
    /// SHA-256 of the bearer token, when `serve.token_env` names one.
    token: Option<[u8; 32]>,
    metrics: metrics::Metrics,
    trigger: Notify,
    status: Mutex<Status>,
    /// Each repository's last check, by `full_name`.
    repos: Mutex<std::collections::BTreeMap<String, pages::RepoStatus>>,
    /// The recent runs, oldest first (at most [`RUNS_KEPT`]).
    runs: Mutex<Vec<pages::RunRecord>>,
}

/// How long requests in flight may go on after SIGTERM.
const GRACE: Duration = Duration::from_secs(10);

/// How many runs `/runs` shows.
const RUNS_KEPT: usize = 100;

/// What survives a restart besides the database and the state file: the run log and each
/// repository's last check.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct History {
    runs: Vec<pages::RunRecord>,
    repositories: std::collections::BTreeMap<String, pages::RepoStatus>,
}

/// The saved [`History`] at `path`; empty when there is none (a damaged file is logged and
/// left for the next save to replace).
fn load_history(path: &std::path::Path) -> History {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(
                "{}: not a run log ({e}); starting a new one",
                path.display()
            );
            History::default()
        }),
        Err(_) => History::default(),
    }
}

/// How the runs have gone.
#[derive(Debug, Default)]
struct Status {
    started_at: Option<SystemTime>,
    last_success: Option<SystemTime>,
    last_error: Option<String>,
    running: bool,
    next_run: Option<SystemTime>,
    /// Why the last reload was refused, until one succeeds.
    config_error: Option<String>,
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Service {
    fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn db(&self) -> Arc<Database> {
        self.db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps what a run said about each repository, and the run itself.
    fn remember(&self, outcome: &crate::pipeline::Outcome, started: SystemTime, seconds: f64) {
        let now = SystemTime::now();
        let mut errors: std::collections::BTreeMap<&str, String> = outcome
            .report
            .errors
            .iter()
            .map(|e| (e.repository.as_str(), e.error.clone()))
            .collect();
        if let Some(d) = &outcome.downloads {
            for f in &d.failed {
                let what = match &f.asset {
                    Some(a) => format!("{} {a}: {}", f.tag_name, f.error),
                    None => format!("{}: {}", f.tag_name, f.error),
                };
                errors.entry(f.repository.as_str()).or_insert(what);
            }
        }
        let mut repos = Service::lock(&self.repos);
        for r in &self.config().repositories {
            let name = r.full_name();
            let entry = repos.entry(name.clone()).or_default();
            entry.checked_at = Some(now);
            entry.error = errors.get(name.as_str()).cloned();
            entry.upstream = outcome
                .report
                .releases
                .iter()
                .find(|x| x.repository.eq_ignore_ascii_case(&name))
                .map(|x| x.tag_name.clone())
                .or_else(|| entry.upstream.clone());
            entry.pending = outcome
                .report
                .pending
                .iter()
                .find(|p| p.repository.eq_ignore_ascii_case(&name))
                .map(|p| (p.tag_name.clone(), p.eligible_at.clone()));
        }
        drop(repos);
        self.log_run(pages::RunRecord {
            started,
            seconds,
            outcome: if outcome.exit_status() == crate::exit::OK {
                "success"
            } else {
                "partial"
            }
            .to_string(),
            summary: format!(
                "{} repositories checked, {} new releases",
                outcome.report.total_repositories_checked, outcome.report.new_releases_found
            ),
            errors: errors
                .iter()
                .map(|(repo, e)| format!("{repo}: {e}"))
                .collect(),
        });
    }

    /// Adds `run` to the log (the last [`RUNS_KEPT`] stay) and saves the history.
    fn log_run(&self, run: pages::RunRecord) {
        let mut runs = Service::lock(&self.runs);
        runs.push(run);
        let excess = runs.len().saturating_sub(RUNS_KEPT);
        runs.drain(..excess);
        drop(runs);
        self.save_history();
    }

    /// Where the run log and the repositories' last checks are kept across restarts: beside
    /// the state file (`release_state.json` → `release_state.serve.json`).
    fn history_path(&self) -> PathBuf {
        self.state_file.with_extension("serve.json")
    }

    /// Writes the run log and the last checks (atomically; a failure is logged).
    fn save_history(&self) {
        let saved = History {
            runs: Service::lock(&self.runs).clone(),
            repositories: Service::lock(&self.repos).clone(),
        };
        let path = self.history_path();
        match serde_json::to_vec(&saved) {
            Ok(bytes) => {
                if let Err((what, e)) = crate::fsutil::write_atomic(&path, &bytes, "serve-history")
                {
                    tracing::warn!("cannot write {}: {what}: {e}", path.display());
                }
            }
            Err(e) => tracing::warn!("cannot write {}: {e}", path.display()),
        }
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the database through the configured store (blocking: it may be remote).
    async fn load_db(config: Arc<Config>) -> Result<Database, String> {
        tokio::task::spawn_blocking(move || {
            let stores = Stores::open(&config).map_err(|e| e.to_string())?;
            stores.db.load().map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// One run: monitor, download, retention, notifications; the metrics and status after it.
    async fn run_once(&self) {
        let config = self.config();
        let started = Instant::now();
        let started_at = SystemTime::now();
        self.status().running = true;
        let opened = {
            let config = (*config).clone();
            tokio::task::spawn_blocking(move || Pipeline::open(config)).await
        };
        let pipeline = match opened {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return self.failed(started, format!("the run cannot start: {e}")),
            Err(e) => return self.failed(started, format!("the run cannot start: {e}")),
        };
        let cache = Arc::new(EtagCache::load(&self.state_file));
        let report = pipeline
            .monitor(cache.clone(), crate::monitor::Options::default())
            .await;
        if let Err(e) = cache.save() {
            tracing::warn!(
                "cannot write the state file {}: {e}",
                self.state_file.display()
            );
        }
        let steps = crate::pipeline::Steps {
            download: true,
            dry_run: false,
            force: false,
        };
        let outcome = pipeline.process(Origin::Monitor, report, steps).await;
        let now = SystemTime::now();
        let repositories: Vec<String> = config.repositories.iter().map(|r| r.full_name()).collect();
        let remaining = pipeline.client().budget().and_then(|b| b.remaining);
        self.metrics.observe(
            &outcome,
            started.elapsed().as_secs_f64(),
            unix(now),
            remaining,
            &repositories,
        );
        self.remember(&outcome, started_at, started.elapsed().as_secs_f64());
        let ok = outcome.exit_status() == crate::exit::OK;
        let summary = format!(
            "{} repositories checked, {} new releases, {} errors",
            outcome.report.total_repositories_checked,
            outcome.report.new_releases_found,
            outcome.report.errors.len()
        );
        match Service::load_db(config.clone()).await {
            Ok(db) => {
                *self
                    .db
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(db)
            }
            Err(e) => tracing::error!("cannot read the version database after the run: {e}"),
        }
        let mut status = self.status();
        status.running = false;
        if ok {
            status.last_success = Some(now);
            status.last_error = None;
            tracing::info!("run done: {summary}");
        } else {
            status.last_error = Some(summary.clone());
            tracing::warn!("run done with failures: {summary}");
        }
    }

    fn failed(&self, started: Instant, error: String) {
        tracing::error!("{error}");
        self.log_run(pages::RunRecord {
            started: SystemTime::now() - started.elapsed(),
            seconds: started.elapsed().as_secs_f64(),
            outcome: "failed".to_string(),
            summary: "the run could not start".to_string(),
            errors: vec![error.clone()],
        });
        self.metrics
            .failed_to_start(started.elapsed().as_secs_f64(), unix(SystemTime::now()));
        let mut status = self.status();
        status.running = false;
        status.last_error = Some(error);
    }

    /// Reads the configuration file again; a bad one is refused and the old one kept.
    async fn reload(&self) {
        let path = self.config_path.clone();
        let loaded =
            tokio::task::spawn_blocking(move || crate::config::load(&path, &Env::from_process()))
                .await;
        match loaded {
            Ok(Ok(loaded)) => {
                for w in &loaded.warnings {
                    tracing::warn!("{w}");
                }
                if loaded.config.serve != self.config().serve {
                    tracing::warn!(
                        "serve: changed; the address, token and schedule take effect on restart"
                    );
                }
                *self
                    .config
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(loaded.config);
                self.status().config_error = None;
                tracing::info!("configuration reloaded from {}", self.config_path.display());
            }
            Ok(Err(e)) => {
                tracing::error!("configuration not reloaded, the old one stays: {e}");
                self.status().config_error = Some(format!(
                    "The configuration file was changed but not reloaded (the old one stays): {e}"
                ));
            }
            Err(e) => tracing::error!("configuration not reloaded: {e}"),
        }
    }

    /// Whether `headers` carry the service's token (always true without one).
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                    .or_else(|| v.strip_prefix("token "))
            })
            .unwrap_or_default();
        // Digests compared, so the time taken says nothing about the token.
        Sha256::digest(given.trim().as_bytes()).as_slice() == expected.as_slice()
    }
}

pub use export::IndexReport;

/// `release-monitor index`: writes the overview, each repository's page and its
/// `releases.json` into the mirror (and the artifact store), from the database as it is.
pub async fn index(config: Config) -> Result<IndexReport, ServeError> {
    let config = Arc::new(config);
    let opened = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            let stores = Stores::open(&config).map_err(|e| e.to_string())?;
            let db = stores.db.load().map_err(|e| e.to_string())?;
            Ok::<_, String>((stores, db))
        })
        .await
        .map_err(|e| ServeError::Setup(e.to_string()))?
    };
    let (stores, db) = opened.map_err(ServeError::Setup)?;
    Ok(export::write(&config, &db, stores.artifacts.as_deref()).await)
}

/// Runs the service until SIGTERM or SIGINT.
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    let settings = opts.config.serve.clone();
    let token = match &settings.token_env {
        None => None,
        Some(name) => {
            let value = Env::from_process()
                .get(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    ServeError::Setup(format!(
                        "serve.token_env names {name}, which is unset or empty; set it, or \
                         remove serve.token_env to serve read-only"
                    ))
                })?;
            let mut digest = [0u8; 32];
            digest.copy_from_slice(&Sha256::digest(value.as_bytes()));
            Some(digest)
        }
    };
    let config = Arc::new(opts.config);
    let db = Service::load_db(config.clone())
        .await
        .map_err(|e| ServeError::Setup(format!("cannot read the version database: {e}")))?;
    let history = load_history(&opts.state_file.with_extension("serve.json"));
    let service = Arc::new(Service {
        config_path: opts.config_path,
        state_file: opts.state_file,
        config: RwLock::new(config),
        db: RwLock::new(Arc::new(db)),
        token,
        metrics: metrics::Metrics::new(),
        trigger: Notify::new(),
        status: Mutex::new(Status {
            started_at: Some(SystemTime::now()),
            ..Status::default()
        }),
        repos: Mutex::new(history.repositories),
        runs: Mutex::new(history.runs),
    });
    let tls = match &settings.tls {
        None => None,
        Some(t) => Some(
            axum_server::tls_rustls::RustlsConfig::from_pem_file(&t.cert, &t.key)
                .await
                .map_err(|e| {
                    ServeError::Setup(format!(
                        "serve.tls: cannot use {} and {}: {e}",
                        t.cert.display(),
                        t.key.display()
                    ))
                })?,
        ),
    };
    let listener = std::net::TcpListener::bind(settings.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| ServeError::Setup(format!("cannot listen on {}: {e}", settings.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| ServeError::Setup(format!("cannot listen on {}: {e}", settings.listen)))?;
    if !local.ip().is_loopback() && tls.is_none() {
        tracing::warn!(
            "serving on {local} beyond loopback without TLS: put a TLS proxy in front, or bind \
             127.0.0.1"
        );
    }
    if service.token.is_none() {
        tracing::info!("no serve.token_env: read-only, POST /api/runs is refused");
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("listening on {scheme}://{local}");
    let scheduler = tokio::spawn(schedule(service.clone(), settings.interval.as_duration()));
    let reloader = tokio::spawn(reload_on_hangup(service.clone()));
    let app = router(service);
    // On SIGTERM the listener closes at once; requests in flight get GRACE to finish.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let served = match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| ServeError::Setup(format!("cannot listen on {local}: {e}")))?;
            let server =
                axum::serve(listener, app).with_graceful_shutdown(stopped(stop_rx.clone()));
            tokio::select! {
                r = server => r,
                () = async {
                    stopped(stop_rx).await;
                    tokio::time::sleep(GRACE).await;
                } => {
                    tracing::warn!("requests still open {} s after the stop; closing them", GRACE.as_secs());
                    Ok(())
                }
            }
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                stopped(stop_rx).await;
                stopper.graceful_shutdown(Some(GRACE));
            });
            axum_server::from_tcp_rustls(listener, tls)
                .handle(handle)
                .serve(app.into_make_service())
                .await
        }
    };
    scheduler.abort();
    reloader.abort();
    served.map_err(|e| ServeError::Setup(format!("the server failed: {e}")))?;
    tracing::info!("stopped; a run cut short resumes next time");
    Ok(())
}

/// Runs now, then every `interval` (± a tenth, so many instances do not call GitHub in step),
/// or at once when `POST /api/runs` asks; never two at a time.
async fn schedule(service: Arc<Service>, interval: Duration) {
    loop {
        service.run_once().await;
        let jitter = interval.as_secs_f64() * (fastrand::f64() * 0.2 - 0.1);
        let wait = Duration::from_secs_f64((interval.as_secs_f64() + jitter).max(1.0));
        service.status().next_run = Some(SystemTime::now() + wait);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = service.trigger.notified() => tracing::info!("run requested"),
        }
    }
}

async fn reload_on_hangup(service: Arc<Service>) {
    let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        tracing::warn!("cannot listen for SIGHUP: reloads need a restart");
        return;
    };
    while hangup.recv().await.is_some() {
        service.reload().await;
    }
}

async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("stopping");
}

fn router(service: Arc<Service>) -> Router {
    let protected = Router::new()
        .route("/", get(overview_page))
        .route("/runs", get(runs_page))
        .route("/repos/{*name}", get(repository_page))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/runs", post(request_run))
        .route(
            "/{owner}/{repo}/releases/download/{tag}/{asset}",
            get(download),
        )
        .route(
            "/{owner}/{repo}/releases/latest/download/{asset}",
            get(latest),
        )
        .route("/api/v3/repos/{owner}/{repo}/releases", get(api_releases))
        .route(
            "/api/v3/repos/{owner}/{repo}/releases/latest",
            get(api_latest),
        )
        .route(
            "/api/v3/repos/{owner}/{repo}/releases/tags/{tag}",
            get(api_by_tag),
        )
        .route(
            "/api/v3/repos/{owner}/{repo}/releases/assets/{id}",
            get(api_asset),
        )
        .route("/api/v3/repos/{owner}/{repo}/releases/{id}", get(api_by_id))
        .route(
            "/api/v3/repos/{owner}/{repo}/attestations/{digest}",
            get(api_attestations),
        )
        .route("/api/graphql", post(graphql))
        .layer(middleware::from_fn_with_state(
            service.clone(),
            authenticate,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(protected)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(service)
}

/// Renders a page from the service's current view.
fn render(service: &Service, f: impl FnOnce(&pages::View<'_>) -> Option<maud::Markup>) -> Response {
    let (config, db) = (service.config(), service.db());
    let repos = Service::lock(&service.repos).clone();
    let runs = Service::lock(&service.runs).clone();
    let (next_run, running, config_error) = {
        let s = service.status();
        (s.next_run, s.running, s.config_error.clone())
    };
    let view = pages::View {
        links: pages::Links::Server,
        config: &config,
        db: &db,
        repos: &repos,
        runs: &runs,
        next_run,
        running,
        config_error: config_error.as_deref(),
    };
    match f(&view) {
        Some(markup) => axum::response::Html(markup.into_string()).into_response(),
        None => not_found(),
    }
}

async fn overview_page(State(service): State<Arc<Service>>) -> Response {
    render(&service, |v| Some(pages::overview(v)))
}

async fn runs_page(State(service): State<Arc<Service>>) -> Response {
    render(&service, |v| Some(pages::runs(v)))
}

async fn repository_page(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
) -> Response {
    render(&service, |v| pages::repository(v, &name))
}

/// With a token configured, every route but `/healthz` needs it. (HTTP/2 requests name their
/// host in the URI, not in `Host`: it is copied there, for the URLs the API builds.)
async fn authenticate(
    State(service): State<Arc<Service>>,
    mut req: Request,
    next: Next,
) -> Response {
    if !req.headers().contains_key(header::HOST)
        && let Some(v) = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        req.headers_mut().insert(header::HOST, v);
    }
    if service.authorized(req.headers()) {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a bearer token is required\n",
        )
            .into_response()
    }
}

/// Ready when the database is readable and the last successful run is not older than
/// `serve.stale_after` intervals (counted from the start until a run has succeeded).
async fn readyz(State(service): State<Arc<Service>>) -> Response {
    let config = service.config();
    if let Err(e) = Service::load_db(config.clone()).await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the version database is not readable: {e}\n"),
        )
            .into_response();
    }
    let limit = config.serve.interval.as_duration() * config.serve.stale_after;
    let status = service.status();
    let since = status.last_success.or(status.started_at);
    let stale = since
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > limit);
    if stale {
        let why = status.last_error.clone().unwrap_or_default();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "no successful run for more than serve.stale_after ({}) intervals: {why}\n",
                config.serve.stale_after
            ),
        )
            .into_response();
    }
    "ready\n".into_response()
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        service.metrics.encode(),
    )
        .into_response()
}

/// `POST /api/runs`: starts a run now (or right after the one in flight). Refused without a
/// configured token: a read-only service takes no orders.
async fn request_run(State(service): State<Arc<Service>>) -> Response {
    if service.token.is_none() {
        return (
            StatusCode::FORBIDDEN,
            "read-only: set serve.token_env to allow POST /api/runs\n",
        )
            .into_response();
    }
    service.trigger.notify_one();
    let running = service.status().running;
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"queued": true, "running": running})),
    )
        .into_response()
}

/// `GET /{owner}/{repo}/releases/download/{tag}/{asset}`: a mirrored file, with `Range`,
/// a strong `ETag` (its SHA-256), `If-None-Match`, `If-Range`, and its digest in `Repr-Digest`
/// and `X-Checksum-Sha256`.
async fn download(
    State(service): State<Arc<Service>>,
    Path((owner, repo, tag, asset)): Path<(String, String, String, String)>,
    req: Request,
) -> Response {
    let Ok(id) = RepoId::new(&owner, &repo) else {
        return not_found();
    };
    let (config, db) = (service.config(), service.db());
    // The checks touch the disk: on the blocking pool, with the first bytes of a small answer
    // read in the same trip.
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let looked = tokio::task::spawn_blocking(move || {
        let found = files::locate(&config, &db, &id, &tag, &asset)?;
        let early = match wanted(range.as_deref(), found.record.size) {
            Wanted::Part(start, end) if end - start < CHUNK as u64 => {
                read_part(&found.path, start, end - start + 1).ok()
            }
            Wanted::Whole if found.record.size <= CHUNK as u64 => {
                read_part(&found.path, 0, found.record.size).ok()
            }
            _ => None,
        };
        Some((found, early))
    })
    .await;
    match looked {
        Ok(Some((found, early))) => send_file(found, req, early).await,
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!("a file lookup failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

/// `len` bytes of `path` from `start`, read at once (a small answer).
fn read_part(
    path: &std::path::Path,
    start: u64,
    len: u64,
) -> std::io::Result<(u64, axum::body::Bytes)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut buf = vec![0u8; usize::try_from(len).map_err(std::io::Error::other)?];
    file.read_exact(&mut buf)?;
    Ok((start, axum::body::Bytes::from(buf)))
}

/// `GET /{owner}/{repo}/releases/latest/download/{asset}`: a redirect to the held version's
/// file.
async fn latest(
    State(service): State<Arc<Service>>,
    Path((owner, repo, asset)): Path<(String, String, String)>,
) -> Response {
    let Ok(id) = RepoId::new(&owner, &repo) else {
        return not_found();
    };
    let (config, db) = (service.config(), service.db());
    let Some(tag) = files::held(&db, &id) else {
        return not_found();
    };
    if files::locate(&config, &db, &id, &tag, &asset).is_none() {
        return not_found();
    }
    Redirect::to(&files::download_path(&owner, &repo, &tag, &asset)).into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// GitHub's 404 body, for the API routes.
fn api_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
        })),
    )
        .into_response()
}

impl Service {
    /// This server's base URL: `serve.public_url`, else the scheme served and the request's
    /// `Host`.
    fn base_url(&self, headers: &HeaderMap) -> String {
        let config = self.config();
        if let Some(url) = &config.serve.public_url {
            return url.trim_end_matches('/').to_string();
        }
        let scheme = if config.serve.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", request_host(headers))
    }
}

/// The request's `Host`, when it is a plain host[:port] (else `localhost`).
fn request_host(headers: &HeaderMap) -> &str {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or("localhost")
}

/// A JSON answer with a weak ETag of its body; `304` when `If-None-Match` names it.
fn json_reply(
    headers: &HeaderMap,
    value: &serde_json::Value,
    extra: Vec<(String, String)>,
) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let etag = format!("W/\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            names_etag(v, &etag, true) || names_etag(v, etag.trim_start_matches("W/"), true)
        });
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body,
        )
            .into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    for (name, value) in extra {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// `?per_page=&page=` of a list request (GitHub's defaults: 30, at most 100; pages from 1).
#[derive(Debug, serde::Deserialize)]
struct Page {
    per_page: Option<usize>,
    page: Option<usize>,
}

/// `GET /api/v3/repos/{o}/{r}/releases`: the held releases, newest recorded first, paginated
/// with `Link`.
async fn api_releases(
    State(service): State<Arc<Service>>,
    Path((owner, repo)): Path<(String, String)>,
    axum::extract::Query(page): axum::extract::Query<Page>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = RepoId::new(&owner, &repo) else {
        return api_not_found();
    };
    let (config, db) = (service.config(), service.db());
    if db.get(&id).is_none() {
        return api_not_found();
    }
    let held = api::held_releases(&config, &db, &id);
    let per_page = page.per_page.unwrap_or(30).clamp(1, 100);
    let number = page.page.unwrap_or(1).max(1);
    let last = held.len().div_ceil(per_page).max(1);
    let base = service.base_url(&headers);
    let items: Vec<serde_json::Value> = held
        .iter()
        .skip((number - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|h| api::release_json(&api::Urls::Api(&base), &id, h))
        .collect();
    let list = format!(
        "{base}/api/v3/repos/{}/{}/releases?per_page={per_page}",
        owner, repo
    );
    let mut links = Vec::new();
    if number < last {
        links.push(format!("<{list}&page={}>; rel=\"next\"", number + 1));
        links.push(format!("<{list}&page={last}>; rel=\"last\""));
    }
    if number > 1 {
        links.push(format!("<{list}&page={}>; rel=\"prev\"", number - 1));
        links.push(format!("<{list}&page=1>; rel=\"first\""));
    }
    let extra = if links.is_empty() {
        Vec::new()
    } else {
        vec![("link".to_string(), links.join(", "))]
    };
    json_reply(&headers, &serde_json::Value::Array(items), extra)
}

/// One held release of `owner/repo` chosen by `pick`, as JSON.
fn api_one(
    service: &Service,
    owner: &str,
    repo: &str,
    headers: &HeaderMap,
    pick: impl Fn(&RepoId, &api::HeldRelease, Option<&str>) -> bool,
) -> Response {
    let Ok(id) = RepoId::new(owner, repo) else {
        return api_not_found();
    };
    let (config, db) = (service.config(), service.db());
    let current = files::held(&db, &id);
    match api::held_releases(&config, &db, &id)
        .iter()
        .find(|h| pick(&id, h, current.as_deref()))
    {
        Some(h) => json_reply(
            headers,
            &api::release_json(&api::Urls::Api(&service.base_url(headers)), &id, h),
            Vec::new(),
        ),
        None => api_not_found(),
    }
}

async fn api_latest(
    State(service): State<Arc<Service>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    api_one(&service, &owner, &repo, &headers, |_, h, current| {
        Some(h.tag.as_str()) == current
    })
}

async fn api_by_tag(
    State(service): State<Arc<Service>>,
    Path((owner, repo, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    api_one(&service, &owner, &repo, &headers, |_, h, _| h.tag == tag)
}

async fn api_by_id(
    State(service): State<Arc<Service>>,
    Path((owner, repo, release)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(wanted) = release.parse::<u64>() else {
        return api_not_found();
    };
    api_one(&service, &owner, &repo, &headers, |id, h, _| {
        api::stable_id(&["release", &id.to_string(), &h.tag]) == wanted
    })
}

/// `GET /api/v3/repos/{o}/{r}/attestations/sha256:{hex}`: the attestations GitHub gave for a
/// held file with that digest, kept when their bundles verified; `404` otherwise (as GitHub
/// answers when it holds none).
async fn api_attestations(
    State(service): State<Arc<Service>>,
    Path((owner, repo, digest)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (Ok(id), Some(hex)) = (RepoId::new(&owner, &repo), digest.strip_prefix("sha256:")) else {
        return api_not_found();
    };
    let hex = hex.to_ascii_lowercase();
    let (config, db) = (service.config(), service.db());
    let kept = tokio::task::spawn_blocking(move || {
        api::held_releases(&config, &db, &id)
            .into_iter()
            .flat_map(|h| h.files)
            .filter(|f| f.record.sha256.eq_ignore_ascii_case(&hex))
            .find_map(|f| std::fs::read(crate::mirror::attestations_path(&f.path)).ok())
    })
    .await
    .ok()
    .flatten();
    match kept.and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok()) {
        Some(answer) => json_reply(&headers, &answer, Vec::new()),
        None => api_not_found(),
    }
}

/// `POST /api/graphql`: GraphQL is not served, except the one lookup GitHub's CLI makes before
/// `gh release download TAG` (a release's `databaseId` and `isDraft` by tag, recognised by
/// its variables `owner`, `name`, `tagName` and the `release(tagName:` field; the query text is
/// not interpreted further). Anything else is a `404`, as from a GitHub Enterprise server
/// without GraphQL, and clients (release-monitor among them) fall back to REST.
async fn graphql(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Vars {
        owner: String,
        name: String,
        #[serde(rename = "tagName")]
        tag_name: String,
    }
    #[derive(serde::Deserialize)]
    struct Query {
        query: String,
        variables: Vars,
    }
    let Ok(q) = serde_json::from_slice::<Query>(&body) else {
        return api_not_found();
    };
    let compact: String = q.query.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains("release(tagName:$tagName)") {
        return api_not_found();
    }
    let Ok(id) = RepoId::new(&q.variables.owner, &q.variables.name) else {
        return api_not_found();
    };
    let (config, db) = (service.config(), service.db());
    let data = if db.get(&id).is_none() {
        serde_json::json!({
            "data": {"repository": null},
            "errors": [{
                "type": "NOT_FOUND",
                "path": ["repository"],
                "message": format!("Could not resolve to a Repository with the name '{id}'."),
            }],
        })
    } else {
        let release = api::held_releases(&config, &db, &id)
            .into_iter()
            .find(|h| h.tag == q.variables.tag_name)
            .map(|h| {
                serde_json::json!({
                    "databaseId": api::stable_id(&["release", &id.to_string(), &h.tag]),
                    "isDraft": false,
                })
            });
        serde_json::json!({"data": {"repository": {"release": release}}})
    };
    json_reply(&headers, &data, Vec::new())
}

/// `GET /api/v3/repos/{o}/{r}/releases/assets/{id}`: the asset as JSON, or with
/// `Accept: application/octet-stream` a redirect to its bytes, as GitHub answers.
async fn api_asset(
    State(service): State<Arc<Service>>,
    Path((owner, repo, asset)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (Ok(id), Ok(wanted)) = (RepoId::new(&owner, &repo), asset.parse::<u64>()) else {
        return api_not_found();
    };
    let (config, db) = (service.config(), service.db());
    let Some((tag, file)) = api::find_asset(&config, &db, &id, wanted) else {
        return api_not_found();
    };
    let wants_bytes = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/octet-stream"));
    let json = api::asset_json(
        &api::Urls::Api(&service.base_url(&headers)),
        &id,
        &tag,
        &file,
    );
    if wants_bytes {
        let location = json["browser_download_url"].as_str().unwrap_or_default();
        let mut resp = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return resp;
    }
    json_reply(&headers, &json, Vec::new())
}

/// Whether an `If-None-Match` or `If-Range` list names `etag` (`*` matches anything).
fn names_etag(value: &str, etag: &str, weak_ok: bool) -> bool {
    value
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || (weak_ok && t.strip_prefix("W/") == Some(etag)))
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq)]
enum Wanted {
    /// The whole file (no range, several ranges, or a header that does not parse, as RFC 9110
    /// allows).
    Whole,
    /// Bytes `start..=end`.
    Part(u64, u64),
    /// A range that starts past the end: `416`.
    Unsatisfiable,
}

/// Reads a `Range` header (parsed by the `http-range-header` crate).
fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(range) = range else {
        return Wanted::Whole;
    };
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Wanted::Whole;
    };
    if parsed.ranges.len() != 1 {
        return Wanted::Whole;
    }
    match parsed.validate(size) {
        Ok(r) if size > 0 => r
            .first()
            .map_or(Wanted::Whole, |r| Wanted::Part(*r.start(), *r.end())),
        _ => Wanted::Unsatisfiable,
    }
}

/// How much of a body is read at once.
const CHUNK: usize = 256 * 1024;

/// A body of `len` bytes of `path` from `start`: read on the blocking pool, one thread per
/// response, in [`CHUNK`]s, a few chunks ahead of the connection.
fn file_body(path: PathBuf, start: u64, len: u64) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<axum::body::Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let opened = std::fs::File::open(&path).and_then(|mut f| {
            f.seek(SeekFrom::Start(start))?;
            Ok(f)
        });
        let mut file = match opened {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let mut left = len;
        while left > 0 {
            let n = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
            let mut buf = vec![0u8; n];
            if let Err(e) = file.read_exact(&mut buf) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            left -= n as u64;
            if tx.blocking_send(Ok(axum::body::Bytes::from(buf))).is_err() {
                return; // the client went away
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// The response for a located file: `early` holds bytes already read (`(start, bytes)`), used
/// when they are exactly the range answered.
async fn send_file(
    found: files::Located,
    req: Request,
    early: Option<(u64, axum::body::Bytes)>,
) -> Response {
    let etag = format!("\"{}\"", found.record.sha256);
    let headers = req.headers();
    let size = found.record.size;
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| names_etag(v, &etag, true))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        // If-Range with our strong ETag: the range stands; anything else: the whole file.
        let range_ok = headers
            .get(header::IF_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() != "*" && names_etag(v, &etag, false));
        let range = headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .filter(|_| range_ok);
        let head = req.method() == axum::http::Method::HEAD;
        let (status, start, len) = match wanted(range, size) {
            Wanted::Whole => (StatusCode::OK, 0, size),
            Wanted::Part(start, end) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
            Wanted::Unsatisfiable => {
                let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return resp;
            }
        };
        let body = match early {
            _ if head || len == 0 => Body::empty(),
            Some((at, bytes)) if at == start && bytes.len() as u64 == len => Body::from(bytes),
            _ => file_body(found.path.clone(), start, len),
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        if status == StatusCode::PARTIAL_CONTENT
            && let Ok(v) =
                HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
        resp
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(bytes) = hex::decode(&found.record.sha256) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        if let Ok(v) = HeaderValue::from_str(&format!("sha-256=:{b64}:")) {
            h.insert("repr-digest", v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&found.record.sha256) {
        h.insert("x-checksum-sha256", v);
    }
    if let Ok(v) = HeaderValue::from_str(found.record.verified_by.as_str()) {
        h.insert("x-verified-by", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(wanted(None, 10), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-3"), 10), Wanted::Part(0, 3));
        assert_eq!(wanted(Some("bytes=4-"), 10), Wanted::Part(4, 9));
        assert_eq!(wanted(Some("bytes=-2"), 10), Wanted::Part(8, 9));
        assert_eq!(wanted(Some("bytes=5-100"), 10), Wanted::Part(5, 9));
        assert_eq!(wanted(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
        // Several ranges, or syntax we do not take: the whole file.
        assert_eq!(wanted(Some("bytes=0-1,4-5"), 10), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 10), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=x-y"), 10), Wanted::Whole);
    }

    #[test]
    fn etag_lists_match_strongly_or_weakly() {
        let etag = "\"abc\"";
        assert!(names_etag("\"abc\"", etag, false));
        assert!(names_etag("\"x\", W/\"abc\"", etag, true));
        assert!(!names_etag("W/\"abc\"", etag, false));
        assert!(names_etag("*", etag, true));
        assert!(!names_etag("\"abd\"", etag, true));
    }
}
