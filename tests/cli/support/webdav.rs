//! A real WebDAV server for the tests: `rclone serve webdav` (Debian's `rclone`) over a temp
//! folder, on a free loopback port, with basic auth, killed when dropped.
//!
//! Under `CI=true` a server that cannot start fails the test; elsewhere the test is skipped
//! with a loud message, so a machine without rclone still runs the rest of the suite.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The user the server accepts.
pub const USER: &str = "mirror";
/// Its password; it must never appear in any output.
pub const PASSWORD: &str = "dav-Pa55-never-printed-77";

/// A running WebDAV server.
pub struct Rclone {
    child: Child,
    /// The folder it serves.
    pub root: PathBuf,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Rclone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Rclone {
    /// Starts the server, or returns `None` (after saying so loudly) when rclone is not
    /// available outside CI. Panics under `CI=true`.
    pub fn start() -> Option<Rclone> {
        super::started_or_skipped(
            Rclone::try_start(),
            "a WebDAV test: rclone serve webdav",
            "apt-get install rclone",
        )
    }

    fn try_start() -> Result<Rclone, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = dir.path().join("dav");
        std::fs::create_dir(&root).map_err(|e| e.to_string())?;
        let mut child = Command::new("rclone")
            .args(["serve", "webdav"])
            .arg(&root)
            .args(["--addr", "127.0.0.1:0", "--user", USER, "--pass", PASSWORD])
            .args(["--config", "/dev/null"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run rclone: {e}"))?;
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            super::forward_lines(out, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            super::forward_lines(err, tx);
        }
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(at) = line.find("http://127.0.0.1:") {
                        let url = line[at..].trim().to_string();
                        return Ok(Rclone {
                            child,
                            root,
                            url,
                            _dir: dir,
                        });
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "no address line from rclone; it said: {}",
                        seen.join(" | ")
                    ));
                }
            }
        }
    }

    /// A file the server holds, by its path under the served folder.
    pub fn file(&self, path: &str) -> PathBuf {
        self.root.join(Path::new(path))
    }
}

/// A real nginx with its dav module (`PUT`, `DELETE`, `MKCOL`; no `PROPFIND`, and `409` for a
/// missing folder, as RFC 4918 says) over a temp folder on a free loopback port, with basic
/// auth, killed when dropped. Same skip rule as [`Rclone`].
pub struct NginxDav {
    child: Child,
    /// The folder it serves.
    pub root: PathBuf,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for NginxDav {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NginxDav {
    /// Starts nginx, or returns `None` (after saying so loudly) when it is not available
    /// outside CI. Panics under `CI=true`.
    pub fn start() -> Option<NginxDav> {
        super::started_or_skipped(
            NginxDav::try_start(),
            "a WebDAV test: nginx",
            "apt-get install nginx",
        )
    }

    fn try_start() -> Result<NginxDav, String> {
        let nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "nginx"]
            .into_iter()
            .find(|p| !p.starts_with('/') || Path::new(p).exists())
            .unwrap_or("nginx");
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = dir.path().join("dav");
        std::fs::create_dir_all(root.join("mirror")).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.path().join("htpasswd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}\n"),
        )
        .map_err(|e| e.to_string())?;
        let mut last = String::new();
        // A free port can be taken between the probe and nginx's bind: try a few.
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            let d = dir.path().display();
            // As root, nginx would switch its worker to `nobody`, who cannot write the folder.
            let root_user = Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
            let user = if root_user { "user root;" } else { "" };
            let conf = format!(
                "{user}\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
                 client_max_body_size 0;\n  server {{\n    listen 127.0.0.1:{port};\n    \
                 root {root};\n    location / {{\n      dav_methods PUT DELETE MKCOL;\n      \
                 create_full_put_path off;\n      auth_basic dav;\n      \
                 auth_basic_user_file {d}/htpasswd;\n    }}\n  }}\n}}\n",
                root = root.display(),
            );
            let conf_path = dir.path().join("nginx.conf");
            std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
            let mut child = Command::new(nginx)
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run nginx: {e}"))?;
            // Ready when it accepts a connection; gone if it could not bind.
            for _ in 0..200 {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    last = format!("nginx exited ({status}): {err}");
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(NginxDav {
                        child,
                        root,
                        url: format!("http://127.0.0.1:{port}/"),
                        _dir: dir,
                    });
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err(last)
    }

    /// A file the server holds, by its path under the served folder.
    pub fn file(&self, path: &str) -> PathBuf {
        self.root.join(Path::new(path))
    }
}
