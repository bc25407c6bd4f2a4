//! Segmented transfers: a large asset, from a server that honours `Range`, is fetched as ranged
//! pieces over several connections into one pre-sized `<final>.part` file.
//!
//! Asset hosts limit what each connection may carry, so one large file over one connection is
//! as slow as the limit; pieces over N connections fill the link (what `aria2c -x16 -s16` does).
//!
//! - **Probe.** The first piece is requested with `Range: bytes=0-…`. Only a `206` whose
//!   `Content-Range` is exactly that piece of exactly the asset's size, with an `ETag` or
//!   `Last-Modified`, starts a segmented transfer (that answer is the first piece's stream);
//!   anything else falls back to one stream ([`super::fetch::fetch`]).
//! - **One API call.** The probe goes to the asset's API URL; every later piece goes straight
//!   to the storage link it redirected to (asked again only if that link fails, as a signed
//!   link does when it expires), so a transfer costs one call of the rate limit, not one per
//!   piece.
//! - **Pieces.** Pieces are a few MiB each and handed out in order to at most
//!   `download.segments.connections` workers; each worker holds one transfer permit (one
//!   connection, shared with every other transfer of the run) while it fetches a piece, and
//!   writes at the piece's offset. Every later request carries `If-Range` with the validator:
//!   a `200` means the asset changed, and the transfer starts over (once; then one stream).
//! - **Resume.** `<final>.part.pieces` records how many bytes of each piece are on disk. A
//!   syncer task, off the workers' path, syncs the part file's data and only then rewrites the
//!   map with what was written before the sync (after every [`CHECKPOINT`] bytes, and when a
//!   piece completes), so after a fault or a kill each piece resumes where its synced bytes end;
//!   at most the unsynced tail of the pieces in flight is fetched again.
//! - **Hash in order.** A blocking thread hashes the file from the start as the contiguous
//!   written prefix grows, reading it back from the page cache, so little is left to hash when
//!   the last byte arrives (measured in `bench/big.sh`). The whole file is then verified by the
//!   caller before its atomic rename, as any transfer.
//!
//! Memory stays bounded: each worker buffers at most [`WRITE_BUFFER`] before writing, and the
//! hasher reads [`READ_BUFFER`] at a time.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use indicatif::ProgressBar;
use reqwest::StatusCode;
use reqwest::header::{ETAG, HeaderMap, HeaderValue, IF_RANGE, LAST_MODIFIED, RANGE};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::checksum::{Digests, Hasher};
use super::fetch::{self, FetchError, FetchRequest, Fetched, content_range, wrong_body};
use crate::github::{ACCEPT_OCTET, GithubClient};
use crate::http::{Decision, redact};
use crate::mirror::{discard_part, pieces_path, validator_path};

/// Bytes written between two syncs of the part file and its piece map (a completed piece also
/// asks for one): about what a kill may cost again.
const CHECKPOINT: u64 = 32 * 1024 * 1024;

/// What a worker buffers before writing at its offset.
const WRITE_BUFFER: usize = 256 * 1024;

/// What the hasher reads back at a time.
const READ_BUFFER: usize = 1024 * 1024;

/// The smallest piece: smaller ones cost more in requests than they gain.
const MIN_PIECE: u64 = 4 * 1024 * 1024;

/// The largest piece: larger ones leave connections idle at the end of a transfer.
const MAX_PIECE: u64 = 32 * 1024 * 1024;

/// `download.segments`: when and how wide a transfer is segmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segmenting {
    /// Connections per asset (1: never segment).
    pub connections: usize,
    /// Only assets at least this large are segmented.
    pub min_size: u64,
}

/// Moves one file's bytes into its part file: segmented when the asset is large enough and the
/// server honours `Range`, one stream otherwise. Each connection holds one of `permits` while
/// its bytes flow; `make_bar` makes the progress bar once the first one is held.
pub(super) async fn transfer(
    client: &GithubClient,
    permits: &Semaphore,
    req: &FetchRequest,
    segmenting: Segmenting,
    make_bar: &(dyn Fn() -> Option<ProgressBar> + Sync),
) -> Result<Fetched, FetchError> {
    let part = req.part.as_path();
    let wanted =
        segmenting.connections > 1 && req.expected_size.is_some_and(|s| s >= segmenting.min_size);
    if wanted {
        let size = req.expected_size.unwrap_or_default();
        let plain_part =
            !pieces_path(part).exists() && std::fs::metadata(part).is_ok_and(|m| m.len() > 0);
        // A part file from one stream resumes as one stream.
        if !plain_part {
            let bar = std::sync::OnceLock::new();
            let bar_ref = || {
                bar.get_or_init(|| {
                    let b = make_bar();
                    if let Some(b) = &b {
                        b.set_length(size);
                    }
                    b
                })
                .as_ref()
            };
            let outcome = segmented(client, permits, req, size, segmenting, &bar_ref).await;
            if let Some(Some(b)) = bar.get() {
                b.finish_and_clear();
            }
            if let Some(fetched) = outcome? {
                return Ok(fetched);
            }
        }
    } else if pieces_path(part).exists() {
        // A pre-sized part file is not a prefix: one stream starts from scratch.
        discard_part(part);
    }
    let _permit = permits.acquire().await.map_err(|_| closed(req))?;
    let bar = make_bar();
    let fetched = fetch::fetch(client, req, bar.as_ref()).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    fetched
}

/// A blocking task or the syncer panicked or was cancelled while working on `part`.
fn join_failed(path: &Path, e: tokio::task::JoinError) -> FetchError {
    FetchError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// The permits are never closed; were they, the transfer could not go on.
fn closed(req: &FetchRequest) -> FetchError {
    FetchError::Io {
        path: req.part.clone(),
        source: std::io::Error::other("the transfer pool was closed"),
    }
}

/// `<final>.part.pieces`: how far each piece got, and what it all belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PieceMap {
    /// The asset's size (the part file's length).
    size: u64,
    /// The size of every piece but the last.
    piece: u64,
    /// The `ETag` or `Last-Modified` of the probe's answer, sent as `If-Range`.
    validator: String,
    /// Synced bytes at the start of each piece.
    done: Vec<u64>,
}

impl PieceMap {
    fn new(size: u64, piece: u64, validator: String) -> PieceMap {
        let count = size.div_ceil(piece) as usize;
        PieceMap {
            size,
            piece,
            validator,
            done: vec![0; count],
        }
    }

    /// Piece `i`'s bytes, `start..end`.
    fn range(&self, i: usize) -> (u64, u64) {
        let start = i as u64 * self.piece;
        (start, (start + self.piece).min(self.size))
    }

    fn len(&self, i: usize) -> u64 {
        let (start, end) = self.range(i);
        end - start
    }

    /// The map at `path`, if it is one for an asset of `size` and every count fits its piece.
    fn load(path: &Path, size: u64) -> Option<PieceMap> {
        let text = std::fs::read(path).ok()?;
        let map: PieceMap = serde_json::from_slice(&text).ok()?;
        let sane = map.size == size
            && map.piece > 0
            && !map.validator.is_empty()
            && map.done.len() as u64 == size.div_ceil(map.piece)
            && map.done.iter().enumerate().all(|(i, d)| *d <= map.len(i));
        sane.then_some(map)
    }

    fn save(&self, path: &Path) -> Result<(), FetchError> {
        let bytes = serde_json::to_vec(self).map_err(|e| FetchError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        crate::fsutil::write_atomic(path, &bytes, "pieces").map_err(|(what, e)| FetchError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(e.kind(), format!("{what}: {e}")),
        })
    }
}

/// The piece size for an asset: about four pieces per connection, within
/// [`MIN_PIECE`]..=[`MAX_PIECE`].
fn piece_size(size: u64, connections: usize) -> u64 {
    (size / (connections as u64 * 4)).clamp(MIN_PIECE, MAX_PIECE)
}

/// Why a segmented transfer stopped before its end.
enum Stop {
    /// The asset changed on the server (a `200` to `If-Range`, or another size): start over.
    Changed(String),
    /// A piece failed for good.
    Failed(FetchError),
}

/// What the workers and the hasher share.
struct Progress {
    map: PieceMap,
    /// Bytes written at the start of each piece (synced or not).
    written: Vec<u64>,
    /// Pieces nobody has taken yet.
    queue: VecDeque<usize>,
    /// Why the transfer stopped, when it did.
    stop: Option<Stop>,
    /// Set once the workers are all gone: the hasher and the syncer end.
    halted: bool,
    /// Bytes written since the syncer last started a sync.
    unsynced: u64,
}

impl Progress {
    /// Where the contiguous written prefix of the file ends.
    fn frontier(&self) -> u64 {
        (0..self.written.len())
            .find(|&i| self.written[i] < self.map.len(i))
            .map_or(self.map.size, |i| self.map.range(i).0 + self.written[i])
    }
}

struct Shared {
    progress: Mutex<Progress>,
    /// Wakes the hasher.
    wake: Condvar,
    /// Wakes the syncer.
    sync: tokio::sync::Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stop(&self, why: Stop) {
        let mut p = self.lock();
        if p.stop.is_none() {
            p.stop = Some(why);
        }
        drop(p);
        self.wake.notify_all();
    }

    fn stopped(&self) -> bool {
        self.lock().stop.is_some()
    }
}

/// One segmented transfer: `Ok(None)` when it cannot be segmented (the server ignored `Range`,
/// gave no validator, or the asset changed twice) and one stream should do it.
async fn segmented<'b>(
    client: &GithubClient,
    permits: &Semaphore,
    req: &FetchRequest,
    size: u64,
    segmenting: Segmenting,
    bar: &(dyn Fn() -> Option<&'b ProgressBar> + Sync),
) -> Result<Option<Fetched>, FetchError> {
    let part = req.part.as_path();
    let map_path = pieces_path(part);
    for _round in 0..2 {
        let resumable = PieceMap::load(&map_path, size)
            .filter(|_| std::fs::metadata(part).is_ok_and(|m| m.len() == size));
        let (map, first) = match resumable {
            Some(map) => {
                tracing::debug!(
                    "resuming {} in pieces, {} of {size} bytes on disk",
                    part.display(),
                    map.done.iter().sum::<u64>()
                );
                (map, None)
            }
            None => {
                discard_part(part);
                match probe(client, permits, req, size, segmenting).await? {
                    Some((map, first)) => (map, Some(first)),
                    None => return Ok(None),
                }
            }
        };
        let resumed_from = map.done.iter().sum::<u64>();
        match run_pieces(client, permits, req, map, first, segmenting, bar).await? {
            Ok(digests) => {
                return Ok(Some(Fetched {
                    digests,
                    size,
                    resumed_from,
                }));
            }
            Err(why) => {
                tracing::warn!("{}: {why}; starting it over", redact(&req.url));
                discard_part(part);
            }
        }
    }
    Ok(None)
}

/// Asks for the first piece. A `206` for exactly that piece of an asset of exactly `size`, with
/// a validator, creates the pre-sized part file and its piece map and hands back the answer as
/// the first piece's stream, with the permit it holds.
async fn probe<'p>(
    client: &GithubClient,
    permits: &'p Semaphore,
    req: &FetchRequest,
    size: u64,
    segmenting: Segmenting,
) -> Result<Option<(PieceMap, First<'p>)>, FetchError> {
    let part = req.part.as_path();
    let piece = piece_size(size, segmenting.connections);
    let permit = permits.acquire().await.map_err(|_| closed(req))?;
    let first_end = piece.min(size);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("bytes=0-{}", first_end - 1)) {
        headers.insert(RANGE, v);
    }
    let resp = client.send(&req.url, ACCEPT_OCTET, &headers).await?;
    if let Some(content_type) = wrong_body(resp.headers(), req.content_type.as_deref()) {
        return Err(FetchError::NotTheAsset {
            url: redact(resp.url()),
            content_type,
        });
    }
    let validator = resp
        .headers()
        .get(ETAG)
        .or_else(|| resp.headers().get(LAST_MODIFIED))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let exact = resp.status() == StatusCode::PARTIAL_CONTENT
        && content_range(resp.headers()) == Some((0, first_end - 1, Some(size)));
    let Some(validator) = validator.filter(|_| exact) else {
        tracing::debug!(
            "{}: no usable ranged answer ({}); one stream",
            redact(&req.url),
            resp.status()
        );
        return Ok(None);
    };
    let io = |source| FetchError::Io {
        path: part.to_path_buf(),
        source,
    };
    // The map first: a pre-sized part file is never on disk without the map that says which of
    // its bytes are real (a kill in between leaves a map without its part, which is discarded).
    std::fs::write(validator_path(part), &validator).map_err(io)?;
    let map = PieceMap::new(size, piece, validator);
    map.save(&pieces_path(part))?;
    let file = File::create(part).map_err(io)?;
    file.set_len(size).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(Some((
        map,
        First {
            piece: 0,
            resp,
            permit,
        },
    )))
}

/// The probe's answer: piece 0's stream, and the permit its connection holds.
struct First<'p> {
    piece: usize,
    resp: reqwest::Response,
    permit: SemaphorePermit<'p>,
}

/// What every worker of one transfer needs.
struct Pieces<'a, 'b> {
    client: &'a GithubClient,
    permits: &'a Semaphore,
    req: &'a FetchRequest,
    validator: HeaderValue,
    shared: Arc<Shared>,
    bar: &'a (dyn Fn() -> Option<&'b ProgressBar> + Sync),
    /// Where the asset's URL last redirected (a signed storage link): pieces go there directly,
    /// so a segmented transfer costs one API call, not one per piece.
    direct: Mutex<Option<url::Url>>,
}

/// Runs the workers and the hasher until every piece is in: the digests of the whole file, or
/// why the asset must be fetched over (`Err` inside), or the failure.
async fn run_pieces<'p, 'b>(
    client: &GithubClient,
    permits: &'p Semaphore,
    req: &FetchRequest,
    map: PieceMap,
    first: Option<First<'p>>,
    segmenting: Segmenting,
    bar: &(dyn Fn() -> Option<&'b ProgressBar> + Sync),
) -> Result<Result<Digests, String>, FetchError> {
    let part = req.part.clone();
    let validator = HeaderValue::from_str(&map.validator).map_err(|_| FetchError::Io {
        path: pieces_path(&part),
        source: std::io::Error::other("the recorded validator is not a header value"),
    })?;
    let size = map.size;
    let queue: VecDeque<usize> = (0..map.done.len())
        .filter(|&i| map.done[i] < map.len(i))
        .filter(|&i| first.as_ref().is_none_or(|f| f.piece != i))
        .collect();
    let workers = (queue.len() + usize::from(first.is_some()))
        .min(segmenting.connections)
        .max(1);
    let on_disk = map.done.iter().sum::<u64>();
    let shared = Arc::new(Shared {
        progress: Mutex::new(Progress {
            written: map.done.clone(),
            map,
            queue,
            stop: None,
            halted: false,
            unsynced: 0,
        }),
        wake: Condvar::new(),
        sync: tokio::sync::Notify::new(),
    });
    if let Some(b) = bar() {
        b.set_position(on_disk);
    }
    let hasher = {
        let (shared, part) = (shared.clone(), part.clone());
        let need_sha512 = req.need_sha512;
        tokio::task::spawn_blocking(move || hash_in_order(&shared, &part, size, need_sha512))
    };
    let syncer = tokio::spawn(syncer(shared.clone(), part.clone()));
    let pieces = Pieces {
        client,
        permits,
        req,
        validator,
        shared: shared.clone(),
        bar,
        direct: Mutex::new(
            first
                .as_ref()
                .map(|f| f.resp.url().clone())
                .filter(|u| *u != req.url),
        ),
    };
    let mut first = first;
    let jobs = (0..workers).map(|_| pieces.worker(first.take()));
    futures_util::future::join_all(jobs).await;
    {
        let mut p = shared.lock();
        p.halted = true;
    }
    shared.wake.notify_all();
    shared.sync.notify_one();
    let synced = syncer.await.map_err(|e| join_failed(&part, e));
    let hashed = hasher.await.map_err(|e| join_failed(&part, e));
    match shared.lock().stop.take() {
        Some(Stop::Failed(e)) => return Err(e),
        Some(Stop::Changed(why)) => return Ok(Err(why)),
        None => {}
    }
    synced??;
    match hashed?.map_err(|source| FetchError::Io {
        path: part.clone(),
        source,
    })? {
        Some(digests) => Ok(Ok(digests)),
        None => Err(FetchError::Io {
            path: part,
            source: std::io::Error::other("the pieces ended before the file was complete"),
        }),
    }
}

impl Pieces<'_, '_> {
    /// Takes pieces until none is left (or the transfer stopped), each under its own permit;
    /// starts with the probe's stream when given it.
    async fn worker(&self, mut first: Option<First<'_>>) {
        loop {
            let (i, resp, permit) = match first.take() {
                Some(f) => (f.piece, Some(f.resp), f.permit),
                None => {
                    let Some(i) = self.next_piece() else { return };
                    let Ok(permit) = self.permits.acquire().await else {
                        self.shared.stop(Stop::Failed(closed(self.req)));
                        return;
                    };
                    (i, None, permit)
                }
            };
            let outcome = self.piece(i, resp).await;
            drop(permit);
            if let Err(why) = outcome {
                self.shared.stop(why);
                return;
            }
        }
    }

    /// Sends a piece's request: to the storage link the asset's URL redirected to, when known
    /// (the API is asked once, not once per piece: each API call counts against the rate
    /// limit), else to the asset's URL, remembering where it redirected. A storage link that
    /// fails (a signed link expires) is dropped and the API asked again.
    async fn request(&self, headers: &HeaderMap) -> Result<reqwest::Response, Stop> {
        let direct = self.direct_link();
        if let Some(link) = &direct {
            match self.client.send(link, ACCEPT_OCTET, headers).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    tracing::debug!(
                        "{}: the storage link failed ({e}); asking the API again",
                        redact(link)
                    );
                    self.set_direct_link(None);
                }
            }
        }
        let r = self
            .client
            .send(&self.req.url, ACCEPT_OCTET, headers)
            .await
            .map_err(|e| Stop::Failed(e.into()))?;
        if *r.url() != self.req.url {
            self.set_direct_link(Some(r.url().clone()));
        }
        Ok(r)
    }

    fn direct_link(&self) -> Option<url::Url> {
        self.direct
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_direct_link(&self, link: Option<url::Url>) {
        *self.direct.lock().unwrap_or_else(|e| e.into_inner()) = link;
    }

    fn next_piece(&self) -> Option<usize> {
        let mut p = self.shared.lock();
        if p.stop.is_some() {
            return None;
        }
        p.queue.pop_front()
    }

    /// Fetches what is missing of piece `i` (from `resp` first, when given), resuming it after
    /// a cut-off with the client's retry policy.
    async fn piece(&self, i: usize, mut resp: Option<reqwest::Response>) -> Result<(), Stop> {
        let part = self.req.part.as_path();
        let io = |source| {
            Stop::Failed(FetchError::Io {
                path: part.to_path_buf(),
                source,
            })
        };
        let (start, end, size) = {
            let p = self.shared.lock();
            let (start, end) = p.map.range(i);
            (start, end, p.map.size)
        };
        let file = Arc::new(
            std::fs::OpenOptions::new()
                .write(true)
                .open(part)
                .map_err(io)?,
        );
        let mut attempt = 0;
        let last_problem;
        loop {
            attempt += 1;
            let offset = start + self.shared.lock().written[i];
            if offset >= end {
                return Ok(());
            }
            let r = match resp.take() {
                Some(r) => r,
                None => {
                    let mut headers = HeaderMap::new();
                    if let Ok(v) = HeaderValue::from_str(&format!("bytes={offset}-{}", end - 1)) {
                        headers.insert(RANGE, v);
                    }
                    headers.insert(IF_RANGE, self.validator.clone());
                    self.request(&headers).await?
                }
            };
            if let Some(content_type) = wrong_body(r.headers(), self.req.content_type.as_deref()) {
                return Err(Stop::Failed(FetchError::NotTheAsset {
                    url: redact(r.url()),
                    content_type,
                }));
            }
            if r.status() != StatusCode::PARTIAL_CONTENT {
                return Err(Stop::Changed(format!(
                    "the server answered a ranged request with {} (the asset changed?)",
                    r.status()
                )));
            }
            if content_range(r.headers()) != Some((offset, end - 1, Some(size))) {
                return Err(Stop::Changed(
                    "the server sent another range or size than asked for".to_string(),
                ));
            }
            let problem = self.stream(i, offset, end, r, &file).await?;
            match problem {
                None => return Ok(()),
                Some(problem) => match self.client.policy().after_failure(attempt) {
                    Decision::Retry { after, .. } => {
                        tracing::warn!(
                            "{} (piece at byte {start}): {problem}; resuming in {:.1}s",
                            redact(&self.req.url),
                            after.as_secs_f64()
                        );
                        tokio::time::sleep(after).await;
                    }
                    _ => {
                        last_problem = problem;
                        break;
                    }
                },
            }
        }
        let received = self.shared.lock().written.iter().sum();
        Err(Stop::Failed(FetchError::Incomplete {
            url: redact(&self.req.url),
            message: last_problem,
            attempts: attempt,
            received,
            expected: size,
        }))
    }

    /// Writes the body of a ranged answer at `offset`: `None` once the piece is complete, or
    /// what cut it short. Stops early (without a problem) when another worker stopped the
    /// transfer.
    async fn stream(
        &self,
        i: usize,
        offset: u64,
        end: u64,
        mut resp: reqwest::Response,
        file: &Arc<File>,
    ) -> Result<Option<String>, Stop> {
        let mut at = offset;
        let mut buf: Vec<u8> = Vec::with_capacity(WRITE_BUFFER);
        let problem = loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) if at + buf.len() as u64 == end => break None,
                Ok(None) => {
                    break Some(format!(
                        "the piece ended at byte {}, short of {end}",
                        at + buf.len() as u64
                    ));
                }
                Err(e) => break Some(format!("the transfer was cut off ({})", e.without_url())),
            };
            if at + (buf.len() + chunk.len()) as u64 > end {
                return Err(Stop::Failed(FetchError::TooLarge {
                    url: redact(&self.req.url),
                    expected: end - offset,
                    received: at + (buf.len() + chunk.len()) as u64 - offset,
                }));
            }
            buf.extend_from_slice(&chunk);
            if let Some(b) = (self.bar)() {
                b.inc(chunk.len() as u64);
            }
            if buf.len() >= WRITE_BUFFER {
                let n = buf.len() as u64;
                buf = self.write(i, at, buf, file).await?;
                at += n;
                if self.shared.stopped() {
                    return Ok(None);
                }
            }
        };
        if !buf.is_empty() {
            self.write(i, at, buf, file).await?;
        }
        Ok(problem)
    }

    /// Writes `buf` at `at` (piece `i`), then counts it as written and wakes the hasher; hands
    /// the buffer back, emptied.
    async fn write(
        &self,
        i: usize,
        at: u64,
        buf: Vec<u8>,
        file: &Arc<File>,
    ) -> Result<Vec<u8>, Stop> {
        let part = self.req.part.as_path();
        // This worker's own handle, used by one write at a time: the seek is its own.
        let f = Arc::clone(file);
        let (mut buf, r) = tokio::task::spawn_blocking(move || {
            let mut f = &*f;
            let r = f.seek(SeekFrom::Start(at)).and_then(|_| f.write_all(&buf));
            (buf, r)
        })
        .await
        .map_err(|e| Stop::Failed(join_failed(part, e)))?;
        r.map_err(|source| {
            Stop::Failed(FetchError::Io {
                path: part.to_path_buf(),
                source,
            })
        })?;
        let n = buf.len() as u64;
        buf.clear();
        let sync_now = {
            let mut p = self.shared.lock();
            p.written[i] += n;
            p.unsynced += n;
            p.unsynced >= CHECKPOINT || p.written[i] == p.map.len(i)
        };
        self.shared.wake.notify_all();
        if sync_now {
            self.shared.sync.notify_one();
        }
        Ok(buf)
    }
}

/// Syncs the part file and then records, in the piece map, what was written before the sync:
/// each time it is woken (every [`CHECKPOINT`] bytes, a completed piece), and once more when the
/// workers are gone unless every piece is in (the commit syncs a complete file itself).
async fn syncer(shared: Arc<Shared>, part: std::path::PathBuf) -> Result<(), FetchError> {
    let io = |source| FetchError::Io {
        path: part.clone(),
        source,
    };
    let file = Arc::new(
        std::fs::OpenOptions::new()
            .write(true)
            .open(&part)
            .map_err(io)?,
    );
    loop {
        shared.sync.notified().await;
        let (written, halted, complete) = {
            let mut p = shared.lock();
            p.unsynced = 0;
            let complete = (0..p.written.len()).all(|i| p.written[i] == p.map.len(i));
            (p.written.clone(), p.halted, complete)
        };
        if halted && complete {
            return Ok(());
        }
        let f = Arc::clone(&file);
        tokio::task::spawn_blocking(move || f.sync_data())
            .await
            .map_err(|e| join_failed(&part, e))?
            .map_err(io)?;
        let map = {
            let mut p = shared.lock();
            for (done, w) in p.map.done.iter_mut().zip(&written) {
                *done = (*done).max(*w);
            }
            p.map.clone()
        };
        let path = pieces_path(&part);
        tokio::task::spawn_blocking(move || map.save(&path))
            .await
            .map_err(|e| join_failed(&part, e))??;
        if halted {
            return Ok(());
        }
    }
}

/// Hashes the part file from its start as the contiguous written prefix grows; `None` when the
/// transfer halted before the end.
fn hash_in_order(
    shared: &Shared,
    part: &Path,
    size: u64,
    need_sha512: bool,
) -> std::io::Result<Option<Digests>> {
    let mut file = File::open(part)?;
    let mut hasher = Hasher::new(need_sha512);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut hashed = 0u64;
    loop {
        let frontier = {
            let mut p = shared.lock();
            loop {
                let f = p.frontier();
                if f > hashed || hashed == size {
                    break f;
                }
                if p.halted || p.stop.is_some() {
                    return Ok(None);
                }
                p = shared.wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
        };
        if hashed == size {
            return Ok(Some(hasher.finish()));
        }
        file.seek(SeekFrom::Start(hashed))?;
        while hashed < frontier {
            let n = (frontier - hashed).min(READ_BUFFER as u64) as usize;
            file.read_exact(&mut buf[..n])?;
            hasher.update(&buf[..n]);
            hashed += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_file_once() {
        let map = PieceMap::new(10 * MIN_PIECE + 5, MIN_PIECE, "\"e\"".into());
        assert_eq!(map.done.len(), 11);
        let mut next = 0;
        for i in 0..map.done.len() {
            let (start, end) = map.range(i);
            assert_eq!(start, next);
            assert!(end > start);
            next = end;
        }
        assert_eq!(next, map.size);
        assert_eq!(map.len(10), 5);
    }

    #[test]
    fn piece_size_stays_within_bounds() {
        assert_eq!(piece_size(2 << 30, 16), MAX_PIECE);
        assert_eq!(piece_size(64 << 20, 16), MIN_PIECE);
        assert_eq!(piece_size(512 << 20, 16), 8 << 20);
    }

    #[test]
    fn a_piece_map_is_loaded_only_when_it_fits_the_asset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.part.pieces");
        let mut map = PieceMap::new(100, 40, "\"v\"".into());
        map.done = vec![40, 10, 0];
        map.save(&path).unwrap();
        assert_eq!(PieceMap::load(&path, 100), Some(map.clone()));
        assert_eq!(PieceMap::load(&path, 101), None);
        map.done = vec![41, 0, 0];
        map.save(&path).unwrap();
        assert_eq!(PieceMap::load(&path, 100), None);
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(PieceMap::load(&path, 100), None);
    }

    #[test]
    fn the_frontier_is_the_end_of_the_contiguous_written_prefix() {
        let map = PieceMap::new(100, 40, "\"v\"".into());
        let mut p = Progress {
            written: vec![0, 0, 0],
            map,
            queue: VecDeque::new(),
            stop: None,
            halted: false,
            unsynced: 0,
        };
        assert_eq!(p.frontier(), 0);
        p.written = vec![40, 5, 20];
        assert_eq!(p.frontier(), 45);
        p.written = vec![40, 40, 19];
        assert_eq!(p.frontier(), 99);
        p.written = vec![40, 40, 20];
        assert_eq!(p.frontier(), 100);
    }
}
