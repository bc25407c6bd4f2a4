//! Real signing tools for the signature tests: `minisign` and GnuPG's `gpg`, each with fresh keys
//! in a temp directory (a private `GNUPGHOME`), so the tests check signatures made exactly as
//! release maintainers make them. `.ci/run` installs both (Debian's `minisign` and `gnupg`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a command and returns its stdout, panicking with its stderr if it fails.
fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} (is it installed? .ci/run installs it): {e}")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A minisign key pair made by the real `minisign`.
pub struct Minisign {
    dir: PathBuf,
    secret: PathBuf,
    public: String,
}

impl Minisign {
    /// Generates a key pair (no password) in `dir/<name>.*`.
    pub fn new(dir: &Path, name: &str) -> Minisign {
        let secret = dir.join(format!("{name}.key"));
        let public_file = dir.join(format!("{name}.pub"));
        run(Command::new("minisign")
            .args(["-G", "-W", "-p"])
            .arg(&public_file)
            .arg("-s")
            .arg(&secret));
        let text = std::fs::read_to_string(&public_file).expect("public key");
        let public = text.lines().nth(1).expect("key line").trim().to_string();
        Minisign {
            dir: dir.to_path_buf(),
            secret,
            public,
        }
    }

    /// The public key (`RW…`), as `signing.minisign` takes it.
    pub fn public(&self) -> &str {
        &self.public
    }

    /// Signs `bytes` (pre-hashed, minisign's default) and returns the `.minisig` text.
    pub fn sign(&self, bytes: &[u8]) -> String {
        let file = self.dir.join(format!("to-sign-{}", fastrand_name()));
        std::fs::write(&file, bytes).expect("write");
        let sig = file.with_extension("minisig");
        run(Command::new("minisign")
            .arg("-S")
            .arg("-s")
            .arg(&self.secret)
            .arg("-m")
            .arg(&file)
            .arg("-x")
            .arg(&sig)
            .args(["-t", "release-monitor test"]));
        std::fs::read_to_string(sig).expect("signature")
    }
}

/// A GnuPG home with one ed25519 signing key, made by the real `gpg`.
pub struct Gpg {
    home: PathBuf,
    dir: PathBuf,
    email: String,
}

impl Gpg {
    /// Generates a key for `<name>@example.org` in a private home under `dir`.
    pub fn new(dir: &Path, name: &str) -> Gpg {
        let home = dir.join(format!("gnupg-{name}"));
        std::fs::create_dir_all(&home).expect("gnupg home");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        let email = format!("{name}@example.org");
        let gpg = Gpg {
            home,
            dir: dir.to_path_buf(),
            email,
        };
        run(gpg
            .cmd()
            .args(["--passphrase", "", "--quick-gen-key"])
            .arg(format!("Test {name} <{}>", gpg.email))
            .args(["ed25519", "sign", "never"]));
        gpg
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", &self.home)
            .args(["--batch", "--quiet", "--pinentry-mode", "loopback"]);
        c
    }

    /// Writes the armored public key to `path` (as `signing.pgp` takes it).
    pub fn export(&self, path: &Path) {
        let key = run(self.cmd().args(["--armor", "--export"]).arg(&self.email));
        std::fs::write(path, key).expect("write key");
    }

    /// Writes the armored secret key to `path` (a mistake the configuration must refuse).
    pub fn export_secret(&self, path: &Path) {
        let key = run(self
            .cmd()
            .args(["--passphrase", "", "--armor", "--export-secret-keys"])
            .arg(&self.email));
        std::fs::write(path, key).expect("write key");
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        let out = run(self
            .cmd()
            .args(["--with-colons", "--fingerprint"])
            .arg(&self.email));
        String::from_utf8_lossy(&out)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|rest| rest.trim_matches(':').to_string())
            .expect("fingerprint")
    }

    /// A detached signature over `bytes`, armored (`.asc`) or binary (`.sig`).
    pub fn detach_sign(&self, bytes: &[u8], armor: bool) -> Vec<u8> {
        let file = self.dir.join(format!("to-sign-{}", fastrand_name()));
        std::fs::write(&file, bytes).expect("write");
        let mut cmd = self.cmd();
        cmd.args([
            "--local-user",
            &self.email,
            "--detach-sign",
            "--output",
            "-",
        ]);
        if armor {
            cmd.arg("--armor");
        }
        run(cmd.arg(&file))
    }

    /// `text` clearsigned.
    pub fn clearsign(&self, text: &str) -> String {
        let file = self.dir.join(format!("to-sign-{}", fastrand_name()));
        std::fs::write(&file, text).expect("write");
        let out = run(self
            .cmd()
            .args(["--local-user", &self.email, "--clearsign", "--output", "-"])
            .arg(&file));
        String::from_utf8(out).expect("text")
    }
}

/// A unique file name part.
fn fastrand_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
