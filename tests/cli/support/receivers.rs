//! Loopback receivers for the notification tests: an HTTP server that records every request
//! (method, path, headers, body) and answers with scripted statuses, and an SMTP sink that
//! speaks enough SMTP (EHLO/HELO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to
//! record messages.
//! Both bind 127.0.0.1 on a free port, are ready when `start` returns, and stop when dropped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// One request the HTTP receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct HttpState {
    requests: Vec<Received>,
    /// Statuses for the next requests, in order; 200 `ok` once it runs out.
    script: VecDeque<(u16, String)>,
}

/// An HTTP/1.1 server on 127.0.0.1 (a free port) that hands every request to `handle`, on a
/// thread with its own runtime; ready when `start` returns, stopped when dropped. The stand-ins
/// (this receiver, the Artifactory one) are built on it.
pub struct LoopbackServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LoopbackServer {
    pub fn start<S, F, Fut>(state: Arc<S>, handle: F) -> LoopbackServer
    where
        S: Send + Sync + 'static,
        F: Fn(Arc<S>, Request<Incoming>) -> Fut + Send + Sync + Copy + 'static,
        Fut: std::future::Future<Output = Result<Response<Full<Bytes>>, hyper::Error>>
            + Send
            + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let st = state.clone();
                            tokio::spawn(async move {
                                let service = hyper::service::service_fn(move |req| {
                                    handle(st.clone(), req)
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        LoopbackServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The HTTP receiver.
pub struct HttpReceiver {
    state: Arc<Mutex<HttpState>>,
    server: LoopbackServer,
}

impl HttpReceiver {
    pub fn start() -> HttpReceiver {
        let state = Arc::new(Mutex::new(HttpState::default()));
        let server = LoopbackServer::start(state.clone(), handle);
        HttpReceiver { state, server }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    /// Answer the next requests with these statuses and bodies (then 200 `ok`).
    pub fn script(&self, responses: &[(u16, &str)]) {
        let mut s = self.state.lock().expect("lock");
        s.script = responses
            .iter()
            .map(|(c, b)| (*c, (*b).to_string()))
            .collect();
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.lock().expect("lock").requests.clone()
    }

    /// The requests to one path.
    pub fn to(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

/// A request read whole: method, path with query, lower-cased header names, the body (always
/// read to its end, so a client is never cut off half-way through sending it).
pub async fn read_request(req: Request<Incoming>) -> Result<Received, hyper::Error> {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = req.into_body().collect().await?.to_bytes().to_vec();
    Ok(Received {
        method,
        path,
        headers,
        body,
    })
}

async fn handle(
    state: Arc<Mutex<HttpState>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let received = read_request(req).await?;
    let (status, text) = {
        let mut s = state.lock().expect("lock");
        s.requests.push(received);
        s.script.pop_front().unwrap_or((200, "ok".to_string()))
    };
    let mut resp = Response::new(Full::new(Bytes::from(text)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    Ok(resp)
}

/// One message the SMTP sink accepted.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub ehlo: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section (headers and body), dot-unstuffed, CRLF line ends.
    pub data: String,
    /// Whether the message came after a STARTTLS handshake.
    pub over_tls: bool,
    /// `(user, password)` from `AUTH PLAIN`, when the client authenticated.
    pub auth: Option<(String, String)>,
}

impl Mail {
    /// A header's value (unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The body, decoded when it is quoted-printable.
    pub fn body(&self) -> String {
        let (_, body) = self.data.split_once("\r\n\r\n").unwrap_or(("", ""));
        let qp = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("quoted-printable"));
        let text = if qp {
            String::from_utf8(
                quoted_printable::decode(body, quoted_printable::ParseMode::Robust)
                    .expect("quoted-printable"),
            )
            .expect("utf-8")
        } else {
            body.to_string()
        };
        text.replace("\r\n", "\n")
    }
}

/// A test CA and a server certificate it signed for 127.0.0.1, ::1 and localhost.
pub struct TestTls {
    pub ca_pem: String,
    pub config: Arc<rustls::ServerConfig>,
}

impl TestTls {
    pub fn generate() -> TestTls {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair, KeyUsagePurpose,
        };
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.distinguished_name
            .push(DnType::CommonName, "smtp sink test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("key")).expect("CA");
        let mut leaf = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "::1".to_string(),
            "localhost".to_string(),
        ])
        .expect("params");
        leaf.distinguished_name
            .push(DnType::CommonName, "smtp sink");
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("key");
        let cert = leaf.signed_by(&key, &ca).expect("leaf");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(
                    rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()),
                ),
            )
            .expect("server config");
        TestTls {
            ca_pem: ca.pem(),
            config: Arc::new(config),
        }
    }
}

/// The SMTP sink. Plain, it offers no STARTTLS and no AUTH; with TLS it offers STARTTLS, and
/// AUTH PLAIN once the connection is encrypted.
pub struct SmtpSink {
    addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    /// Command lines (AUTH lines included), for checking what the client sent.
    commands: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    mails: Arc<Mutex<Vec<Mail>>>,
    commands: Arc<Mutex<Vec<String>>>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl SmtpSink {
    /// A plain sink.
    pub fn start() -> SmtpSink {
        SmtpSink::start_with(None)
    }

    /// A sink offering STARTTLS with this server configuration.
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> SmtpSink {
        SmtpSink::start_with(Some(config))
    }

    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let commands = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            mails: mails.clone(),
            commands: commands.clone(),
            tls,
        });
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = session(stream, &shared);
                });
            }
        });
        SmtpSink {
            addr,
            mails,
            commands,
            stop,
            thread: Some(thread),
        }
    }

    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }

    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().expect("lock").clone()
    }
}

enum Next {
    Closed,
    StartTls,
}

fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut io = BufReader::new(stream);
    io.get_mut()
        .write_all(b"220 sink.test ESMTP test sink\r\n")?;
    if let Next::StartTls = converse(&mut io, shared, false)? {
        let Some(config) = shared.tls.clone() else {
            return Ok(());
        };
        let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
        let tls = rustls::StreamOwned::new(conn, io.into_inner());
        let mut io = BufReader::new(tls);
        converse(&mut io, shared, true)?;
    }
    Ok(())
}

fn converse<S: Read + Write>(
    io: &mut BufReader<S>,
    shared: &Shared,
    secure: bool,
) -> std::io::Result<Next> {
    let mut current = Mail {
        over_tls: secure,
        ..Mail::default()
    };
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line)? == 0 {
            return Ok(Next::Closed);
        }
        let cmd = line.trim_end().to_string();
        shared.commands.lock().expect("lock").push(cmd.clone());
        let upper = cmd.to_ascii_uppercase();
        let out = io.get_mut();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            current.ehlo = cmd[4..].trim().to_string();
            let mut reply = String::from("250-sink.test\r\n250-8BITMIME\r\n");
            if shared.tls.is_some() && !secure {
                reply.push_str("250-STARTTLS\r\n");
            }
            if secure {
                reply.push_str("250-AUTH PLAIN\r\n");
            }
            reply.push_str("250 SMTPUTF8\r\n");
            out.write_all(reply.as_bytes())?;
        } else if upper == "STARTTLS" && shared.tls.is_some() && !secure {
            out.write_all(b"220 Ready to start TLS\r\n")?;
            out.flush()?;
            return Ok(Next::StartTls);
        } else if upper.starts_with("AUTH PLAIN ") && secure {
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(cmd[11..].trim())
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            if parts.len() == 3 {
                current.auth = Some((parts[1].clone(), parts[2].clone()));
                out.write_all(b"235 2.7.0 Authentication successful\r\n")?;
            } else {
                out.write_all(b"501 Malformed AUTH\r\n")?;
            }
        } else if upper.starts_with("MAIL FROM:") {
            current.mail_from = cmd[10..].trim().to_string();
            out.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            current.rcpt_to.push(cmd[8..].trim().to_string());
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "DATA" {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            out.flush()?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if io.read_line(&mut l)? == 0 {
                    return Ok(Next::Closed);
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                data.push_str(
                    l.strip_prefix('.')
                        .filter(|_| l.starts_with(".."))
                        .unwrap_or(&l),
                );
            }
            current.data = data;
            shared.mails.lock().expect("lock").push(current.clone());
            current.rcpt_to.clear();
            io.get_mut().write_all(b"250 OK: queued\r\n")?;
        } else if upper == "RSET" || upper == "NOOP" {
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 Bye\r\n")?;
            out.flush()?;
            return Ok(Next::Closed);
        } else {
            out.write_all(b"502 Command not implemented\r\n")?;
        }
        io.get_mut().flush()?;
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
