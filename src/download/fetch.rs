//! Fetch: stream one file to `<final>.part` while hashing, resume a partial file with `Range` +
//! `If-Range`, check the size, and refuse a body that is an API error or a web page instead of
//! the asset; never holds a whole file in memory. Also fetches the (small) checksum files the
//! plan reads, each checked against its own size and digest.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_RANGE, LAST_MODIFIED, RANGE,
};
use tokio::io::AsyncReadExt;
use url::Url;

use super::checksum::{self, Algorithm, Digests, Hasher};
use crate::github::{ACCEPT_OCTET, Asset, GithubClient, GithubError};
use crate::http::{Decision, redact};
use crate::mirror::{discard_part, validator_path};

/// Checksum files are small; anything larger is not read as one.
pub(super) const MAX_CHECKSUM_FILE: u64 = 1024 * 1024;

/// The largest signature, bundle or provenance file fetched (SLSA provenance lists every asset
/// of a release, so it can be larger than a checksum file).
pub(super) const MAX_SIGNATURE_FILE: u64 = 16 * 1024 * 1024;

/// What to fetch and where.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// The asset's API URL (`GET` with `Accept: application/octet-stream`).
    pub url: Url,
    /// Where the bytes stream to (`<final>.part`).
    pub part: PathBuf,
    /// The size GitHub reports (`None` for source archives, whose size is not known ahead).
    pub expected_size: Option<u64>,
    /// Also compute SHA-512 (when the expected checksum is SHA-512).
    pub need_sha512: bool,
    /// The asset's own content type, so a JSON or HTML asset is not mistaken for an error page.
    pub content_type: Option<String>,
}

/// A completed transfer.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Hashes of the whole file.
    pub digests: Digests,
    /// Its size.
    pub size: u64,
    /// Bytes that were already on disk from an earlier, interrupted transfer.
    pub resumed_from: u64,
}

/// Why a transfer failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request failed (after the client's retries).
    #[error(transparent)]
    Github(#[from] GithubError),
    /// The server sent an API error or a web page instead of the asset.
    #[error("{url} answered with {content_type} instead of the asset's bytes")]
    NotTheAsset {
        /// The URL, without its query.
        url: String,
        /// What it sent.
        content_type: String,
    },
    /// More bytes arrived than the asset's `size` says.
    #[error("{url}: received {received} bytes, more than the asset's size {expected}")]
    TooLarge {
        /// The URL, without its query.
        url: String,
        /// The reported size.
        expected: u64,
        /// Bytes received so far.
        received: u64,
    },
    /// The transfer kept being cut off.
    #[error("{url}: {message} after {attempts} attempt(s), {received} of {expected} bytes")]
    Incomplete {
        /// The URL, without its query.
        url: String,
        /// What went wrong last.
        message: String,
        /// Attempts made.
        attempts: u32,
        /// Bytes on disk.
        received: u64,
        /// The reported size.
        expected: u64,
    },
    /// Writing the part file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How many bytes of a stream are gathered before they are hashed and written as one batch.
const BATCH: usize = 256 * 1024;

/// Where a streamed body goes: the part file and the hasher, fed in batches on the blocking
/// pool. The async task only gathers the chunks the connection hands it (no copy), and one batch
/// is hashed and written while the next arrives, so hashing runs beside the TLS work of the
/// other transfers instead of on the same thread, and a 16 KiB chunk costs no thread hand-off.
struct Sink<'p> {
    path: &'p Path,
    batch: Vec<bytes::Bytes>,
    batched: usize,
    state: SinkState,
}

enum SinkState {
    /// The file and hasher, with nothing in flight.
    Idle(std::fs::File, Box<Hasher>),
    /// A batch being hashed and written; the job hands both back.
    Busy(tokio::task::JoinHandle<(std::fs::File, Box<Hasher>, std::io::Result<()>)>),
    /// A job failed; its error was returned.
    Broken,
}

impl<'p> Sink<'p> {
    fn new(path: &'p Path, file: std::fs::File, hasher: Hasher) -> Sink<'p> {
        Sink {
            path,
            batch: Vec::new(),
            batched: 0,
            state: SinkState::Idle(file, Box::new(hasher)),
        }
    }

    /// Takes the next chunk; hands a full batch to the blocking pool.
    async fn push(&mut self, chunk: bytes::Bytes) -> Result<(), FetchError> {
        self.batched += chunk.len();
        self.batch.push(chunk);
        if self.batched >= BATCH {
            self.submit().await?;
        }
        Ok(())
    }

    /// Waits for the batch in flight and returns the file and hasher.
    async fn settle(&mut self) -> Result<(std::fs::File, Box<Hasher>), FetchError> {
        match std::mem::replace(&mut self.state, SinkState::Broken) {
            SinkState::Idle(file, hasher) => Ok((file, hasher)),
            SinkState::Busy(job) => {
                let (file, hasher, written) = job.await.map_err(|e| FetchError::Io {
                    path: self.path.to_path_buf(),
                    source: std::io::Error::other(e),
                })?;
                written.map_err(io_err(self.path))?;
                Ok((file, hasher))
            }
            SinkState::Broken => Err(FetchError::Io {
                path: self.path.to_path_buf(),
                source: std::io::Error::other("an earlier write to this file failed"),
            }),
        }
    }

    /// Hands the gathered chunks to the blocking pool once the batch before them is written.
    async fn submit(&mut self) -> Result<(), FetchError> {
        let (mut file, mut hasher) = self.settle().await?;
        let batch = std::mem::take(&mut self.batch);
        self.batched = 0;
        self.state = SinkState::Busy(tokio::task::spawn_blocking(move || {
            for chunk in &batch {
                hasher.update(chunk);
            }
            let written = write_all_vectored(&mut file, &batch);
            (file, hasher, written)
        }));
        Ok(())
    }

    /// Writes what is left, syncs the file to disk, and returns the hasher.
    async fn finish(mut self) -> Result<Hasher, FetchError> {
        if !self.batch.is_empty() {
            self.submit().await?;
        }
        let (file, hasher) = self.settle().await?;
        tokio::task::spawn_blocking(move || file.sync_all())
            .await
            .map_err(std::io::Error::other)
            .and_then(|synced| synced)
            .map_err(io_err(self.path))?;
        Ok(*hasher)
    }
}

/// Writes every buffer, in order, with as few `writev` calls as the kernel allows.
fn write_all_vectored(file: &mut std::fs::File, bufs: &[bytes::Bytes]) -> std::io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A JSON or HTML body where the asset is neither.
pub(super) fn wrong_body(headers: &HeaderMap, asset_type: Option<&str>) -> Option<String> {
    let got = headers
        .get(CONTENT_TYPE)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    let suspicious = got.starts_with("application/json")
        || got.starts_with("application/vnd.github")
        || got.starts_with("text/html");
    let declared = asset_type.unwrap_or_default().to_ascii_lowercase();
    let same_kind = !declared.is_empty() && got.starts_with(declared.as_str());
    (suspicious && !same_kind).then_some(got)
}

/// A `Content-Range: bytes FIRST-LAST/TOTAL` header (`TOTAL` may be `*`): the first and last
/// byte and the total, when known.
pub(super) fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    let (first, last) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
    (first <= last).then_some((first, last, total))
}

/// The start of a `Content-Range` header.
fn range_start(headers: &HeaderMap) -> Option<u64> {
    content_range(headers).map(|(first, _, _)| first)
}

/// Hashes what is already in the part file, so a resumed transfer still yields the hash of the
/// whole file.
async fn hash_prefix(part: &Path, need_sha512: bool) -> Result<Hasher, FetchError> {
    let mut hasher = Hasher::new(need_sha512);
    let mut file = tokio::fs::File::open(part).await.map_err(io_err(part))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await.map_err(io_err(part))?;
        if n == 0 {
            return Ok(hasher);
        }
        hasher.update(&buf[..n]);
    }
}

/// Streams the asset to its part file, resuming what is there, retrying cut-off transfers by
/// resuming them. The part file is left in place on failure, for the next attempt or run.
pub async fn fetch(
    client: &GithubClient,
    req: &FetchRequest,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Fetched, FetchError> {
    let part = req.part.as_path();
    let validator_file = validator_path(part);
    let mut attempt = 0;
    let mut last_problem: String;
    let mut resumed_from = 0;
    loop {
        attempt += 1;
        let have = tokio::fs::metadata(part)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        let validator = tokio::fs::read_to_string(&validator_file).await.ok();
        let mut headers = HeaderMap::new();
        if have > 0
            && let Some(v) = validator
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v.trim()).ok())
            && let Ok(range) = HeaderValue::from_str(&format!("bytes={have}-"))
        {
            headers.insert(RANGE, range);
            headers.insert(IF_RANGE, v);
        }
        let ranged = headers.contains_key(RANGE);
        let mut resp = client.send(&req.url, ACCEPT_OCTET, &headers).await?;
        if let Some(content_type) = wrong_body(resp.headers(), req.content_type.as_deref()) {
            return Err(FetchError::NotTheAsset {
                url: redact(resp.url()),
                content_type,
            });
        }
        let status = resp.status();
        let (hasher, mut written, append) = if status == StatusCode::PARTIAL_CONTENT
            && ranged
            && range_start(resp.headers()) == Some(have)
        {
            resumed_from = have;
            tracing::debug!("resuming {} at byte {have}", part.display());
            (hash_prefix(part, req.need_sha512).await?, have, true)
        } else if status == StatusCode::RANGE_NOT_SATISFIABLE {
            if have > 0 && req.expected_size.is_none_or(|size| size == have) {
                // The part file was already complete.
                let hasher = hash_prefix(part, req.need_sha512).await?;
                return Ok(Fetched {
                    digests: hasher.finish(),
                    size: have,
                    resumed_from: have,
                });
            }
            // The part file is not a prefix of this asset: start again.
            discard_part(part);
            last_problem = "the server refused to resume".to_string();
            if attempt >= client.policy().max_attempts.max(2) {
                break;
            }
            continue;
        } else if status.is_success() {
            (Hasher::new(req.need_sha512), 0, false)
        } else {
            last_problem = format!("unexpected status {status}");
            break;
        };
        if !append {
            resumed_from = 0;
            let validator = resp
                .headers()
                .get(ETAG)
                .or_else(|| resp.headers().get(LAST_MODIFIED))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match validator {
                Some(v) => tokio::fs::write(&validator_file, v)
                    .await
                    .map_err(io_err(&validator_file))?,
                None => {
                    let _ = tokio::fs::remove_file(&validator_file).await;
                }
            }
        }
        if let Some(bar) = progress {
            if let Some(size) = req.expected_size {
                bar.set_length(size);
            }
            bar.set_position(written);
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(part)
            .await
            .map_err(io_err(part))?
            .into_std()
            .await;
        let mut sink = Sink::new(part, file, hasher);
        let mut cut_off = None;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    written += chunk.len() as u64;
                    if let Some(expected) = req.expected_size
                        && written > expected
                    {
                        drop(sink);
                        discard_part(part);
                        return Err(FetchError::TooLarge {
                            url: redact(&req.url),
                            expected,
                            received: written,
                        });
                    }
                    if let Some(bar) = progress {
                        bar.inc(chunk.len() as u64);
                    }
                    sink.push(chunk).await?;
                }
                Ok(None) => break,
                Err(e) => {
                    // Without the URL: a storage URL's query is a signature.
                    cut_off = Some(e.without_url().to_string());
                    break;
                }
            }
        }
        let hasher = sink.finish().await?;
        if cut_off.is_none() && req.expected_size.is_none_or(|size| written == size) {
            return Ok(Fetched {
                digests: hasher.finish(),
                size: written,
                resumed_from,
            });
        }
        last_problem = match cut_off {
            Some(e) => format!("the transfer was cut off ({e})"),
            None => format!(
                "the body ended at {written} bytes, short of the asset's size {}",
                req.expected_size.unwrap_or_default()
            ),
        };
        match client.policy().after_failure(attempt) {
            Decision::Retry { after, .. } => {
                tracing::warn!(
                    "{}: {last_problem}; resuming in {:.1}s",
                    redact(&req.url),
                    after.as_secs_f64()
                );
                tokio::time::sleep(after).await;
            }
            _ => break,
        }
    }
    let received = tokio::fs::metadata(part)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    Err(FetchError::Incomplete {
        url: redact(&req.url),
        message: last_problem,
        attempts: attempt,
        received,
        expected: req.expected_size.unwrap_or_default(),
    })
}

/// Fetches one checksum file whole (see [`fetch_small_asset`]), as text.
pub(super) async fn fetch_checksum_file(
    client: &GithubClient,
    asset: &Asset,
) -> Result<String, String> {
    fetch_small_asset(client, asset, MAX_CHECKSUM_FILE)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Fetches one small asset (a checksum file, a signature, a bundle) whole into memory and checks
/// it like any asset: its size (at most `limit`), and its own `digest` when GitHub gives one, so
/// bytes damaged in flight never decide what verifies. A mismatch is fetched once more.
pub(super) async fn fetch_small_asset(
    client: &GithubClient,
    asset: &Asset,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let url = Url::parse(&asset.url).map_err(|e| format!("bad asset URL: {e}"))?;
    let own = asset
        .digest
        .as_deref()
        .map(checksum::Checksum::from_github_digest)
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let resp = client
            .send(&url, ACCEPT_OCTET, &Default::default())
            .await
            .map_err(|e| e.to_string())?;
        let problem = match resp.bytes().await {
            Err(e) => format!("the transfer failed: {}", e.without_url()),
            Ok(b) if b.len() as u64 > limit => {
                format!("it is larger than {limit} bytes")
            }
            Ok(b) if b.len() as u64 != asset.size => {
                format!(
                    "received {} bytes, the asset's size is {}",
                    b.len(),
                    asset.size
                )
            }
            Ok(b) => {
                let mut hasher = checksum::Hasher::new(
                    own.as_ref()
                        .is_some_and(|c| c.algorithm() == Algorithm::Sha512),
                );
                hasher.update(&b);
                match &own {
                    Some(checksum) if !hasher.finish().matches(checksum) => {
                        format!("its bytes do not match its digest {checksum}")
                    }
                    _ => return Ok(b.to_vec()),
                }
            }
        };
        if attempt >= 2 {
            return Err(problem);
        }
        tracing::warn!("{}: {problem}; fetching it once more", asset.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn api_errors_and_web_pages_are_not_assets() {
        assert!(
            wrong_body(
                &headers(&[("content-type", "application/json; charset=utf-8")]),
                None
            )
            .is_some()
        );
        assert!(
            wrong_body(
                &headers(&[("content-type", "text/html")]),
                Some("application/gzip")
            )
            .is_some()
        );
        assert!(
            wrong_body(
                &headers(&[("content-type", "application/octet-stream")]),
                None
            )
            .is_none()
        );
        // An asset that is itself JSON may come back as JSON.
        assert!(
            wrong_body(
                &headers(&[("content-type", "application/json")]),
                Some("application/json")
            )
            .is_none()
        );
        assert!(wrong_body(&HeaderMap::new(), None).is_none());
    }

    #[test]
    fn content_range_start() {
        assert_eq!(
            range_start(&headers(&[("content-range", "bytes 100-199/200")])),
            Some(100)
        );
        assert_eq!(
            range_start(&headers(&[("content-range", "bytes */200")])),
            None
        );
        assert_eq!(range_start(&HeaderMap::new()), None);
        assert_eq!(
            content_range(&headers(&[("content-range", "bytes 0-99/4096")])),
            Some((0, 99, Some(4096)))
        );
        assert_eq!(
            content_range(&headers(&[("content-range", "bytes 5-9/*")])),
            Some((5, 9, None))
        );
        assert_eq!(
            content_range(&headers(&[("content-range", "bytes 9-5/10")])),
            None
        );
    }
}
