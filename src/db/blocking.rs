//! A small tokio runtime owned by a remote database backend, so the synchronous [`VersionDb`]
//! trait can drive async clients from any thread.
//!
//! [`VersionDb`]: super::VersionDb

use std::path::PathBuf;

use super::DbError;

/// The runtime of one remote database. Called from inside another runtime (an async task, or
/// `spawn_blocking`), it blocks on a scoped thread of its own instead, so it never nests
/// runtimes.
pub(super) struct Blocking {
    location: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Blocking {
    fn drop(&mut self) {
        // Dropping a runtime blocks; this may run inside an async context, where that panics.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Blocking {
    /// A one-worker runtime for the database at `location`, its thread named `name`.
    pub(super) fn new(location: &str, name: &str) -> Result<Blocking, DbError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|source| DbError::Io {
                path: PathBuf::from(location),
                context: "cannot start the database client's runtime",
                source,
            })?;
        Ok(Blocking {
            location: location.to_string(),
            runtime: Some(runtime),
        })
    }

    /// Runs `fut` to completion on the runtime, from any thread.
    pub(super) fn block_on<F>(&self, fut: F) -> Result<F::Output, DbError>
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        let Some(rt) = self.runtime.as_ref() else {
            return Err(DbError::Io {
                path: PathBuf::from(&self.location),
                context: "the database client's runtime is gone",
                source: std::io::Error::other("runtime shut down"),
            });
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(rt.block_on(fut));
        }
        // Inside some runtime: blocking on ours here could nest runtimes, so block on a thread
        // that has no runtime context.
        std::thread::scope(|s| s.spawn(|| rt.block_on(fut)).join()).map_err(|_| DbError::Io {
            path: PathBuf::from(&self.location),
            context: "the database request panicked",
            source: std::io::Error::other("panic"),
        })
    }
}

/// A uniformly random wait in `[1 ms, cap]` (full jitter), so conflicting writers spread out.
pub(super) fn jitter(cap: std::time::Duration) -> std::time::Duration {
    let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(1);
    std::time::Duration::from_millis(fastrand::u64(1..=cap_ms))
}
