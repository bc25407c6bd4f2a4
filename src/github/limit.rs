//! How many API calls run at once: an adaptive limit, separate from the transfers' connections.
//!
//! A re-check is mostly conditional GETs answered `304`, which cost no quota; what bounds it is
//! latency, so many run at once. GitHub's secondary limits forbid more than 100 concurrent
//! requests and answer too many too fast with `403`/`429`; servers under load answer `5xx`. So
//! the limit moves: it starts at [`INITIAL`] (or the ceiling, if lower), doubles per round trip
//! while answers come back clean and fast (slow start), then grows by one per `limit` clean,
//! fast answers; a `403`/`429` rate-limit answer, a `5xx` or a transport failure halves it (at
//! most once per [`CUT_SPACING`], so one burst of errors counts once). It never goes below 1 or
//! above the ceiling (`settings.concurrency`, at most 100). "Fast" means no slower than twice
//! the fastest answer seen plus [`SLACK`]: a queue building up at the server stops the growth
//! before errors do.
//!
//! Asset transfers do not take these permits: they have their own (`download.concurrency`).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Where the limit starts.
pub const INITIAL: usize = 8;

/// The most it may ever be: GitHub's documented cap on concurrent requests.
pub const MAX_CONCURRENT: usize = 100;

/// Cuts closer together than this count as one.
const CUT_SPACING: Duration = Duration::from_secs(1);

/// Latency an answer may add to twice the fastest one and still count as fast.
const SLACK: Duration = Duration::from_millis(25);

/// The adaptive limit on API calls in flight.
#[derive(Debug)]
pub struct ApiLimit {
    permits: Semaphore,
    ceiling: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The current limit.
    limit: usize,
    /// Permits out on loan that must be forgotten when they come back (after a cut).
    debt: usize,
    /// Clean, fast answers since the limit last grew (after slow start).
    credit: usize,
    /// Doubling per round trip until the first cut.
    slow_start: bool,
    /// The fastest clean answer seen.
    fastest: Option<Duration>,
    /// When the limit was last cut.
    last_cut: Option<Instant>,
    /// The highest the limit reached, for the log and tests.
    peak: usize,
}

/// A held API permit; dropping it returns it (or retires it, after a cut).
#[derive(Debug)]
pub struct ApiPermit<'a> {
    limit: &'a ApiLimit,
    permit: Option<SemaphorePermit<'a>>,
}

impl Drop for ApiPermit<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            let mut st = self.limit.lock();
            if st.debt > 0 {
                st.debt -= 1;
                p.forget();
            }
        }
    }
}

impl ApiLimit {
    /// A limit between 1 and `ceiling` (capped at [`MAX_CONCURRENT`]), starting at
    /// `INITIAL` (8) or the ceiling, whichever is lower.
    pub fn new(ceiling: usize) -> ApiLimit {
        let ceiling = ceiling.clamp(1, MAX_CONCURRENT);
        let start = INITIAL.min(ceiling);
        ApiLimit {
            permits: Semaphore::new(start),
            ceiling,
            state: Mutex::new(State {
                limit: start,
                debt: 0,
                credit: 0,
                slow_start: true,
                fastest: None,
                last_cut: None,
                peak: start,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a permit.
    pub async fn acquire(&self) -> ApiPermit<'_> {
        ApiPermit {
            limit: self,
            // Never closed; if it were, the call would go ahead unlimited.
            permit: self.permits.acquire().await.ok(),
        }
    }

    /// The limit now.
    pub fn current(&self) -> usize {
        self.lock().limit
    }

    /// The highest the limit has been.
    pub fn peak(&self) -> usize {
        self.lock().peak
    }

    /// A call was answered cleanly (2xx or 304) after `latency`.
    pub fn answered(&self, latency: Duration) {
        let mut st = self.lock();
        let fastest = *st.fastest.get_or_insert(latency);
        if latency < fastest {
            st.fastest = Some(latency);
        }
        if latency > fastest * 2 + SLACK || st.limit >= self.ceiling {
            return;
        }
        if !st.slow_start {
            st.credit += 1;
            if st.credit < st.limit {
                return;
            }
            st.credit = 0;
        }
        st.limit += 1;
        st.peak = st.peak.max(st.limit);
        if st.debt > 0 {
            st.debt -= 1;
        } else {
            self.permits.add_permits(1);
        }
    }

    /// A call met a rate limit, a server error or a transport failure: halve the limit.
    pub fn troubled(&self) {
        let mut st = self.lock();
        let now = Instant::now();
        if st
            .last_cut
            .is_some_and(|t| now.duration_since(t) < CUT_SPACING)
        {
            return;
        }
        st.last_cut = Some(now);
        st.slow_start = false;
        st.credit = 0;
        let new = (st.limit / 2).max(1);
        let cut = st.limit - new;
        st.limit = new;
        let forgotten = self.permits.forget_permits(cut);
        st.debt += cut - forgotten;
        tracing::debug!(
            "rate limit, server error or transport failure: API calls at once cut to {new}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(50);

    #[test]
    fn grows_fast_until_trouble_then_halves_and_grows_slowly() {
        let l = ApiLimit::new(32);
        assert_eq!(l.current(), INITIAL);
        for _ in 0..8 {
            l.answered(MS);
        }
        assert_eq!(l.current(), 16);
        for _ in 0..100 {
            l.answered(MS);
        }
        assert_eq!(l.current(), 32, "never above the ceiling");
        l.troubled();
        assert_eq!(l.current(), 16);
        l.troubled();
        assert_eq!(l.current(), 16, "one burst of errors is one cut");
        for _ in 0..15 {
            l.answered(MS);
        }
        assert_eq!(l.current(), 16);
        l.answered(MS);
        assert_eq!(l.current(), 17, "one more per `limit` clean answers");
        assert_eq!(l.peak(), 32);
    }

    #[test]
    fn slow_answers_do_not_grow_it() {
        let l = ApiLimit::new(64);
        l.answered(MS);
        let before = l.current();
        for _ in 0..50 {
            l.answered(MS * 4);
        }
        assert_eq!(l.current(), before);
    }

    #[tokio::test]
    async fn a_cut_takes_back_permits_in_use_when_they_return() {
        let l = ApiLimit::new(8);
        let held: Vec<_> = futures_util::future::join_all((0..8).map(|_| l.acquire())).await;
        l.troubled();
        assert_eq!(l.current(), 4);
        drop(held);
        assert_eq!(l.permits.available_permits(), 4);
        let _a = l.acquire().await;
        assert_eq!(l.permits.available_permits(), 3);
    }

    #[test]
    fn the_ceiling_is_at_most_100_and_at_least_1() {
        assert_eq!(ApiLimit::new(1000).ceiling, MAX_CONCURRENT);
        let l = ApiLimit::new(0);
        assert_eq!(l.current(), 1);
        l.troubled();
        assert_eq!(l.current(), 1);
    }
}
