//! minisign signatures (`<file>.minisig`) against configured public keys, with the crate
//! `minisign-verify`. Pre-hashed signatures (minisign's default) are checked as the file streams
//! through; legacy ones need the whole file in memory and are refused above [`LEGACY_LIMIT`].

use std::io::Read;

use base64::Engine as _;

use super::keys::MinisignKey;
use super::{Proof, ProofKind, Subject, TrustError};

/// The largest file a legacy (not pre-hashed) signature is checked over: such a signature covers
/// the raw bytes, so the whole file is read into memory.
pub const LEGACY_LIMIT: u64 = 64 * 1024 * 1024;

/// Checks the minisign signature `sig_text` (the `.minisig` file `sig_file`) over `subject`
/// with whichever configured key made it.
pub fn verify(
    sig_file: &str,
    sig_text: &str,
    keys: &[MinisignKey],
    subject: Subject<'_>,
) -> Result<Proof, TrustError> {
    let bad = |why: String| TrustError::BadSignature {
        file: sig_file.to_string(),
        kind: "minisign",
        why,
    };
    let signature =
        minisign_verify::Signature::decode(sig_text).map_err(|e| TrustError::Malformed {
            file: sig_file.to_string(),
            kind: "minisign",
            why: e.to_string(),
        })?;
    for key in keys {
        match key.key().verify_stream(&signature) {
            Ok(mut verifier) => {
                let mut reader = subject.open().map_err(|e| bad(e.to_string()))?;
                let mut buffer = vec![0u8; 64 * 1024];
                loop {
                    match reader.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(n) => verifier.update(&buffer[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(bad(e.to_string())),
                    }
                }
                return verifier
                    .finalize()
                    .map(|()| Proof::new(ProofKind::Minisign, key.text()))
                    .map_err(|e| bad(e.to_string()));
            }
            Err(minisign_verify::Error::UnsupportedLegacyMode) => {
                let size = subject.len().map_err(|e| bad(e.to_string()))?;
                if size > LEGACY_LIMIT {
                    return Err(bad(format!(
                        "a legacy (not pre-hashed) signature over {size} bytes; \
                         at most {LEGACY_LIMIT} are checked this way"
                    )));
                }
                let mut bytes = Vec::with_capacity(size as usize);
                subject
                    .open()
                    .and_then(|mut r| r.read_to_end(&mut bytes))
                    .map_err(|e| bad(e.to_string()))?;
                return key
                    .key()
                    .verify(&bytes, &signature, true)
                    .map(|()| Proof::new(ProofKind::Minisign, key.text()))
                    .map_err(|e| bad(e.to_string()));
            }
            Err(_) => continue,
        }
    }
    Err(TrustError::UnknownKey {
        file: sig_file.to_string(),
        kind: "minisign",
        signer: format!("key ID {}", signer_key_id(sig_text)),
    })
}

/// The key ID a minisign signature names (the bytes after the algorithm in its first base64
/// line, shown as minisign shows it), for the message when no configured key matches.
fn signer_key_id(sig_text: &str) -> String {
    sig_text
        .lines()
        .nth(1)
        .and_then(|line| {
            base64::engine::general_purpose::STANDARD
                .decode(line.trim())
                .ok()
        })
        .and_then(|bin| bin.get(2..10).map(<[u8]>::to_vec))
        .map(|mut id| {
            id.reverse();
            hex::encode_upper(id)
        })
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys and signatures made with the real `minisign` 0.11 (`minisign -G -W`, then
    // `minisign -S [-l]`), kept here so the unit tests need no tool; the integration tests sign
    // with the tool itself.
    const PUBLIC: &str = "RWRDOQMYxSVc87rwNH7El9vLaENxA6zhU65l5Ji794zrdID8tgcy8WOH";
    const OTHER: &str = "RWSIzh8lw6iIL3at7CI1N05I/bEngKiof2pWVFhbreoihWC9BzCEiBzl";
    const SIGNED: &[u8] = b"test";
    const SIGNATURE: &str = "untrusted comment: signature from minisign secret key
RURDOQMYxSVc8/ewaEpgk/Q4I92qwicJ7lkJ5T3FyQGHqi5eNXCbjvngmBwnxWzTaAPo1EBj6C9wrmwJiYnYaCrfrV5b9bYKcA8=
trusted comment: file:test
18nnA5Mrb7ixLOhT3/DbheqnSfAVQHC4bEiKk9k3LdQ+4RmuxYDo5vvvcvP3ZXQO69mGsHPhLnnZ12KdVofYCA==
";
    const LEGACY: &str = "untrusted comment: signature from minisign secret key
RWRDOQMYxSVc86y6CxzekKrA5YN+I/FuSd9ofraSoBEzhSaDevGNo4JqGmHxAAipej5nzvsL2ICA74NTAkwmuJubCMx+AbaSDws=
trusted comment: file:test
kT9owIQFaXw2zZj2MvdxViTJ0Gr7PJcbIVcDAyBSj3jbiViO9VS4PicofU/03KAavYWK5l6kqhIWkEVYRrr+CA==
";

    #[test]
    fn a_legacy_signature_verifies_and_catches_tampering() {
        let key = MinisignKey::parse(PUBLIC).unwrap();
        let keys = [key];
        verify("test.minisig", LEGACY, &keys, Subject::Bytes(SIGNED)).unwrap();
        let err = verify("test.minisig", LEGACY, &keys, Subject::Bytes(b"Test")).unwrap_err();
        assert!(matches!(err, TrustError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn a_whole_public_key_file_is_accepted() {
        let file = format!("untrusted comment: minisign public key F35C25C518033943\n{PUBLIC}\n");
        assert_eq!(MinisignKey::parse(&file).unwrap().text(), PUBLIC);
        assert!(MinisignKey::parse("RWQ-not-a-key").is_err());
    }

    #[test]
    fn a_good_signature_verifies() {
        let key = MinisignKey::parse(PUBLIC).unwrap();
        let proof = verify("test.minisig", SIGNATURE, &[key], Subject::Bytes(SIGNED)).unwrap();
        assert_eq!(proof.kind, ProofKind::Minisign);
        assert_eq!(proof.label, format!("minisign:{PUBLIC}"));
    }

    #[test]
    fn tampered_bytes_do_not_verify() {
        let key = MinisignKey::parse(PUBLIC).unwrap();
        let err = verify("test.minisig", SIGNATURE, &[key], Subject::Bytes(b"tesT")).unwrap_err();
        assert!(matches!(err, TrustError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn an_unconfigured_key_is_named() {
        let other = MinisignKey::parse(OTHER).unwrap();
        let err = verify("test.minisig", SIGNATURE, &[other], Subject::Bytes(SIGNED)).unwrap_err();
        match err {
            TrustError::UnknownKey { signer, .. } => assert_eq!(signer, "key ID F35C25C518033943"),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn garbage_is_malformed() {
        let key = MinisignKey::parse(PUBLIC).unwrap();
        let err = verify(
            "x.minisig",
            "not a signature",
            &[key],
            Subject::Bytes(SIGNED),
        )
        .unwrap_err();
        assert!(matches!(err, TrustError::Malformed { .. }), "{err}");
    }
}
