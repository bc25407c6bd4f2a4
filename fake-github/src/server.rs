//! The running server: two TLS listeners on a private tokio runtime, behind a blocking API.

use std::convert::Infallible;
use std::net::{Ipv6Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::Error;
use crate::body::{FakeBody, Meter, ResettableIo};
use crate::fault::Origin;
use crate::handler::{Reply, Req, State, Urls, handle};
use crate::model::World;
use crate::scenario::Scenario;
use crate::tls;

/// One request as the server saw it, and what it answered, so tests can assert on what a client
/// sent (headers, tokens, order, retries) without a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Which origin received it.
    pub origin: Origin,
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The path as received (still percent-encoded), without the query.
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// All headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The request body as text (lossy UTF-8; empty for a GET), e.g. a GraphQL query.
    pub body: String,
    /// When it arrived.
    pub received_at: SystemTime,
    /// The status we answered.
    pub status: u16,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// Which connection it came on: a number per accepted connection, so tests can count the
    /// connections a client opened.
    pub connection: u64,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An asset's id and true bytes, from [`FakeGithub::asset`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedAsset {
    /// The asset id.
    pub id: u64,
    /// The bytes the asset origin serves for it (before any fault).
    pub bytes: Vec<u8>,
}

/// How to start a server beyond the scenario, for the binary and for tests that need fixed ports
/// or a console log.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The API port on 127.0.0.1 (0: chosen by the OS).
    pub api_port: u16,
    /// The asset port on 127.0.0.1 and, when possible, ::1 (0: chosen by the OS).
    pub asset_port: u16,
    /// Print one line per request to stderr.
    pub log_requests: bool,
    /// Added to every response on both origins, before it is sent (benchmarks: a slow network).
    /// Requests wait concurrently, so it adds latency, not serialisation.
    pub latency: Duration,
    /// The origin written into asset URLs and download redirects instead of this server's asset
    /// origin (benchmarks: another server, such as nginx with a per-connection rate limit, serves
    /// the bytes under the same paths: `/download/{id}`).
    pub public_asset_origin: Option<String>,
}

/// State shared between the blocking handle and the server tasks.
struct Shared {
    state: Mutex<State>,
    urls: Urls,
    log_requests: bool,
    /// Counts (and can hold) the asset origin's body bytes.
    meter: Arc<Meter>,
    /// Added before every response (`--latency-ms`, [`Options::latency`]).
    latency: Duration,
    /// Connections accepted so far, on both origins (numbers them).
    connections: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters for a test server, so keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake GitHub: an API origin on `https://127.0.0.1:PORT` and an asset origin on
/// `https://localhost:PORT2`, serving a [`Scenario`] and recording every request. It stops when
/// dropped.
///
/// It exists so release-monitor's integration tests (and people trying the tool offline) can talk
/// to something that behaves like api.github.com over real TLS, without the internet.
pub struct FakeGithub {
    api_port: u16,
    asset_port: u16,
    ca_pem: String,
    ca_path: PathBuf,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    // Last: the directory holding the CA file goes away after the server has stopped.
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for FakeGithub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGithub")
            .field("api_url", &self.api_url())
            .field("asset_origin", &self.asset_origin())
            .field("ca_cert_path", &self.ca_path)
            .finish_non_exhaustive()
    }
}

fn bind(addr: SocketAddr) -> Result<StdListener, Error> {
    let listener = StdListener::bind(addr).map_err(|source| Error::Io {
        context: format!("binding {addr}"),
        source,
    })?;
    listener.set_nonblocking(true).map_err(|source| Error::Io {
        context: format!("configuring {addr}"),
        source,
    })?;
    Ok(listener)
}

fn local_port(listener: &StdListener) -> Result<u16, Error> {
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| Error::Io {
            context: "reading a listener's port".into(),
            source,
        })
}

impl FakeGithub {
    /// Starts a server on ports chosen by the OS and returns once both listeners are bound.
    pub fn start(scenario: Scenario) -> Result<FakeGithub, Error> {
        FakeGithub::start_with(scenario, Options::default())
    }

    /// Starts a server on fixed ports (0 lets the OS choose), for running by hand.
    pub fn start_on(
        scenario: Scenario,
        api_port: u16,
        asset_port: u16,
    ) -> Result<FakeGithub, Error> {
        FakeGithub::start_with(
            scenario,
            Options {
                api_port,
                asset_port,
                ..Options::default()
            },
        )
    }

    /// Starts a server with explicit [`Options`].
    pub fn start_with(scenario: Scenario, options: Options) -> Result<FakeGithub, Error> {
        scenario.validate()?;
        let tls = tls::generate()?;
        let dir = tempfile::Builder::new()
            .prefix("fake-github-")
            .tempdir()
            .map_err(|source| Error::Io {
                context: "creating a temporary directory".into(),
                source,
            })?;
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, &tls.ca_pem).map_err(|source| Error::Io {
            context: format!("writing {}", ca_path.display()),
            source,
        })?;

        let api_listener = bind(SocketAddr::from(([127, 0, 0, 1], options.api_port)))?;
        let api_port = local_port(&api_listener)?;
        let asset_listener = bind(SocketAddr::from(([127, 0, 0, 1], options.asset_port)))?;
        let asset_port = local_port(&asset_listener)?;
        // `localhost` may resolve to ::1 first; listen there too when the machine has IPv6.
        let asset_listener_v6 = bind(SocketAddr::from((Ipv6Addr::LOCALHOST, asset_port))).ok();

        let urls = Urls {
            api: format!("https://127.0.0.1:{api_port}"),
            assets: options
                .public_asset_origin
                .clone()
                .unwrap_or_else(|| format!("https://localhost:{asset_port}")),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(World::compile(&scenario))),
            urls,
            log_requests: options.log_requests,
            meter: Arc::new(Meter::default()),
            latency: options.latency,
            connections: AtomicU64::new(0),
        });

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                context: "building the tokio runtime".into(),
                source,
            })?;
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), Error>>();
        let acceptor = TlsAcceptor::from(tls.server_config);
        let task_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-github".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut listeners = vec![(api_listener, Origin::Api)];
                    listeners.push((asset_listener, Origin::Assets));
                    if let Some(v6) = asset_listener_v6 {
                        listeners.push((v6, Origin::Assets));
                    }
                    for (std_listener, origin) in listeners {
                        match TcpListener::from_std(std_listener) {
                            Ok(listener) => {
                                tokio::spawn(accept_loop(
                                    listener,
                                    acceptor.clone(),
                                    Arc::clone(&task_shared),
                                    origin,
                                ));
                            }
                            Err(source) => {
                                let _ = ready_tx.send(Err(Error::Io {
                                    context: "registering a listener".into(),
                                    source,
                                }));
                                return;
                            }
                        }
                    }
                    let _ = ready_tx.send(Ok(()));
                    // Until the handle is dropped (a send or a dropped sender both end this).
                    let _ = shutdown_rx.await;
                });
                // Dropping the runtime cancels every connection task, stalled ones included.
                runtime.shutdown_timeout(Duration::from_millis(200));
            })
            .map_err(|source| Error::Io {
                context: "spawning the server thread".into(),
                source,
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::Stopped),
        }
        Ok(FakeGithub {
            api_port,
            asset_port,
            ca_pem: tls.ca_pem,
            ca_path,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
            _dir: dir,
        })
    }

    /// The API base URL, `https://127.0.0.1:{port}` (no trailing slash).
    pub fn api_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.api_port)
    }

    /// The asset origin, `https://localhost:{port}`: a different host from the API, so a client
    /// that forwards its token across hosts is caught.
    pub fn asset_origin(&self) -> String {
        format!("https://localhost:{}", self.asset_port)
    }

    /// The API port.
    pub fn api_port(&self) -> u16 {
        self.api_port
    }

    /// The asset origin's port.
    pub fn asset_port(&self) -> u16 {
        self.asset_port
    }

    /// The test CA certificate as a PEM file (for `SSL_CERT_FILE` or a client's root store).
    /// The file lives as long as the server.
    pub fn ca_cert_path(&self) -> &Path {
        &self.ca_path
    }

    /// The test CA certificate as PEM text.
    pub fn ca_cert_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Every request so far, both origins, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// An asset as served: its id (in `/releases/assets/{id}` and `/download/{id}`) and its true
    /// bytes, so a test can check what a client stored without recomputing the scenario.
    pub fn asset(&self, owner: &str, repo: &str, tag: &str, name: &str) -> Option<ServedAsset> {
        let state = self.shared.lock();
        let repo = state.world.repo(owner, repo)?;
        let release = repo.releases.iter().find(|r| r.tag == tag)?;
        let asset = release.assets.iter().find(|a| a.name == name)?;
        Some(ServedAsset {
            id: asset.id,
            bytes: asset.bytes.to_vec(),
        })
    }

    /// Body bytes the asset origin has sent so far (all requests, since start).
    pub fn asset_bytes_sent(&self) -> u64 {
        self.shared.meter.sent()
    }

    /// Holds every asset-origin body once `bytes` more body bytes have been sent: the transfers
    /// stop there (connections stay open) until [`FakeGithub::release_assets`]. Crash tests use
    /// it to kill a client at an exact point of a transfer; [`FakeGithub::wait_for_hold`] says
    /// when that point is reached.
    pub fn hold_assets_after(&self, bytes: u64) {
        self.shared.meter.hold_after(bytes);
    }

    /// Waits up to `timeout` for a transfer to reach the point set by
    /// [`FakeGithub::hold_assets_after`]; true if one has.
    pub fn wait_for_hold(&self, timeout: Duration) -> bool {
        self.shared.meter.wait_held(timeout)
    }

    /// Lifts the hold: held transfers go on (or fail, if their client is gone).
    pub fn release_assets(&self) {
        self.shared.meter.release();
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Swaps the scenario (e.g. a new release appears between two runs). Fault counters and the
    /// rate budget start afresh; the request log is kept.
    ///
    /// # Panics
    /// If the scenario is invalid (see [`Scenario::validate`]); use
    /// [`FakeGithub::try_set_scenario`] to get the error instead.
    pub fn set_scenario(&self, scenario: Scenario) {
        if let Err(e) = self.try_set_scenario(scenario) {
            panic!("fake-github: set_scenario got an invalid scenario: {e}");
        }
    }

    /// Like [`FakeGithub::set_scenario`], but returns an invalid scenario's error.
    pub fn try_set_scenario(&self, scenario: Scenario) -> Result<(), Error> {
        scenario.validate()?;
        let world = World::compile(&scenario);
        self.shared.lock().replace(world);
        Ok(())
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    origin: Origin,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                if shared.log_requests {
                    eprintln!("fake-github: {origin}: accept failed: {e}");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = Arc::clone(&shared);
        let connection = shared.connections.fetch_add(1, Ordering::Relaxed);
        // A reset fault on any request of this connection resets the whole connection.
        let reset = Arc::new(AtomicBool::new(false));
        let tcp = ResettableIo::new(tcp, Arc::clone(&reset));
        tokio::spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        if shared.log_requests {
                            eprintln!(
                                "fake-github: {origin}: TLS handshake with {peer} failed: {e} \
                             (does the client trust the fake-github CA?)"
                            );
                        }
                        return;
                    }
                    Err(_) => return,
                };
            let service = service_fn(move |request: Request<Incoming>| {
                let shared = Arc::clone(&shared);
                let reset = Arc::clone(&reset);
                async move {
                    let received_at = SystemTime::now();
                    let (parts, body) = request.into_parts();
                    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
                        Ok(collected) => collected.to_bytes(),
                        Err(_) => Bytes::new(),
                    };
                    if !shared.latency.is_zero() {
                        tokio::time::sleep(shared.latency).await;
                    }
                    let response = respond(
                        &shared,
                        (origin, connection),
                        &reset,
                        &parts,
                        body,
                        received_at,
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The largest request body read (a GraphQL query for 100 repositories is about 10 KiB).
const MAX_REQUEST_BODY: usize = 1 << 20;

/// Answers, records and (optionally) logs one request.
fn respond(
    shared: &Shared,
    (origin, connection): (Origin, u64),
    reset: &Arc<AtomicBool>,
    request: &hyper::http::request::Parts,
    body: Bytes,
    received_at: SystemTime,
) -> Response<FakeBody> {
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let req = Req {
        origin,
        method: request.method.as_str().to_string(),
        path: request.uri.path().to_string(),
        query: request.uri.query().map(str::to_string),
        headers,
        body,
    };
    let reply = {
        let mut state = shared.lock();
        let reply = handle(&shared.urls, &mut state, &req);
        state.requests.push(RecordedRequest {
            origin,
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
            received_at,
            status: reply.status,
            version: format!("{:?}", request.version),
            connection,
        });
        reply
    };
    if shared.log_requests {
        log_line(&req, &reply);
    }
    let meter = (origin == Origin::Assets).then(|| Arc::clone(&shared.meter));
    to_response(reply, meter, reset)
}

fn log_line(req: &Req, reply: &Reply) {
    let time = chrono::Utc::now().format("%H:%M:%S%.3f");
    let query = req
        .query
        .as_ref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let auth = if req.headers.iter().any(|(name, _)| name == "authorization") {
        " [authorization]"
    } else {
        ""
    };
    let note = reply
        .note
        .as_ref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    eprintln!(
        "{time} {:<6} {} {}{query} -> {}{auth}{note}",
        req.origin, req.method, req.path, reply.status
    );
}

fn to_response(
    reply: Reply,
    meter: Option<Arc<Meter>>,
    reset: &Arc<AtomicBool>,
) -> Response<FakeBody> {
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(len) = reply.declared_len {
        builder = builder.header("content-length", len.to_string());
    }
    let status = reply.status;
    let mut body = FakeBody::new(reply.body, reply.after).with_reset(Arc::clone(reset));
    if let Some(meter) = meter {
        body = body.metered(meter);
    }
    builder.body(body).unwrap_or_else(|e| {
        // Only reachable with a header value the scenario made invalid (e.g. a control
        // character in `redirect_to`): answer 500 rather than panic.
        eprintln!("fake-github: could not build a {status} response: {e}");
        let mut fallback = Response::new(FakeBody::new(
            bytes::Bytes::from_static(b"fake-github: invalid response header\n"),
            crate::body::After::End,
        ));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}
