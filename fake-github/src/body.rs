//! Response bodies that can end normally, break off, stall or reset the connection (for
//! transfer faults), sent in chunks through an optional [`Meter`] that counts the bytes and can
//! hold them at a chosen point (for crash tests).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a truncated body waits, after its last bytes, before it breaks the connection.
const ABORT_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// The largest frame a body sends at once, so a [`Meter`] can hold a transfer mid-body.
const CHUNK: usize = 64 * 1024;

/// What happens after the body's bytes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// The body ends normally.
    End,
    /// The body fails, so the server drops the connection (HTTP/1.1) or resets the stream (h2).
    Abort,
    /// Nothing more is ever sent, and the connection stays open.
    Stall,
    /// The TCP connection is reset (RST), whatever the protocol.
    Reset,
}

/// Counts the body bytes handed to connections and can hold every metered body once a total is
/// reached, so a test can kill a client at an exact point of a transfer instead of guessing with
/// a timer. One per server; only asset-origin bodies are metered.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    state: Mutex<MeterState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct MeterState {
    /// Body bytes sent so far.
    sent: u64,
    /// Hold once `sent` reaches this.
    hold_at: Option<u64>,
    /// Whether a body is waiting at the hold point.
    held: bool,
    /// The bodies waiting, woken on release.
    waiting: Vec<Waker>,
}

impl Meter {
    fn lock(&self) -> MutexGuard<'_, MeterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many of `want` bytes may be sent now (0: wait; `waker` is woken on release).
    fn allow(&self, want: usize, waker: &Waker) -> usize {
        let mut state = self.lock();
        let mut allowed = want as u64;
        if let Some(at) = state.hold_at {
            let left = at.saturating_sub(state.sent);
            if left == 0 {
                if !state.held {
                    state.held = true;
                    self.changed.notify_all();
                }
                state.waiting.push(waker.clone());
                return 0;
            }
            allowed = allowed.min(left);
        }
        state.sent = state.sent.saturating_add(allowed);
        usize::try_from(allowed).unwrap_or(want)
    }

    /// Body bytes sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.lock().sent
    }

    /// Holds every metered body once `more` further bytes have been sent.
    pub(crate) fn hold_after(&self, more: u64) {
        let mut state = self.lock();
        state.hold_at = Some(state.sent.saturating_add(more));
        state.held = false;
    }

    /// Waits up to `timeout` until a body is held; true if one is.
    pub(crate) fn wait_held(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while !state.held {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        true
    }

    /// Lifts the hold and wakes the held bodies.
    pub(crate) fn release(&self) {
        let waiting = {
            let mut state = self.lock();
            state.hold_at = None;
            state.held = false;
            std::mem::take(&mut state.waiting)
        };
        for waker in waiting {
            waker.wake();
        }
    }
}

/// A response body: some bytes, then [`After`].
#[derive(Debug)]
pub(crate) struct FakeBody {
    data: Option<Bytes>,
    after: After,
    /// A short pause before an abort, so the bytes already sent are flushed to the socket first
    /// (hyper discards unflushed output when a body fails).
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Counts (and may hold) the bytes sent.
    meter: Option<Arc<Meter>>,
    /// The connection's reset switch, for [`After::Reset`].
    reset: Option<Arc<AtomicBool>>,
}

impl FakeBody {
    pub(crate) fn new(data: Bytes, after: After) -> FakeBody {
        FakeBody {
            data: (!data.is_empty()).then_some(data),
            after,
            pause: None,
            meter: None,
            reset: None,
        }
    }

    /// Counts this body's bytes on `meter`.
    pub(crate) fn metered(mut self, meter: Arc<Meter>) -> FakeBody {
        self.meter = Some(meter);
        self
    }

    /// The switch that resets this body's connection (see [`ResettableIo`]).
    pub(crate) fn with_reset(mut self, reset: Arc<AtomicBool>) -> FakeBody {
        self.reset = Some(reset);
        self
    }
}

impl Body for FakeBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.as_mut() {
            let mut take = data.len().min(CHUNK);
            if let Some(meter) = &this.meter {
                take = meter.allow(take, cx.waker());
                if take == 0 {
                    return Poll::Pending;
                }
            }
            let chunk = data.split_to(take);
            if data.is_empty() {
                this.data = None;
            }
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match this.after {
            After::End => Poll::Ready(None),
            After::Abort | After::Reset => {
                let pause = this
                    .pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(ABORT_PAUSE)));
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let reset = this.after == After::Reset;
                this.after = After::End;
                if reset && let Some(switch) = &this.reset {
                    switch.store(true, Ordering::SeqCst);
                }
                Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    if reset {
                        "fake-github: connection reset by a fault"
                    } else {
                        "fake-github: body truncated by a fault"
                    },
                ))))
            }
            // Never woken: the connection hangs until the client gives up or the server stops.
            After::Stall => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.after == After::End
    }

    fn size_hint(&self) -> SizeHint {
        match self.after {
            After::End => SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64)),
            After::Abort | After::Stall | After::Reset => SizeHint::default(),
        }
    }
}

/// A server-side TCP stream that can be reset: once its switch is on, every read and write fails
/// and dropping it sends an RST (`SO_LINGER` 0) instead of a FIN, as a crashed or hostile peer
/// or middlebox would.
#[derive(Debug)]
pub(crate) struct ResettableIo {
    inner: tokio::net::TcpStream,
    reset: Arc<AtomicBool>,
}

impl ResettableIo {
    pub(crate) fn new(inner: tokio::net::TcpStream, reset: Arc<AtomicBool>) -> ResettableIo {
        ResettableIo { inner, reset }
    }

    fn is_reset(&self) -> bool {
        self.reset.load(Ordering::SeqCst)
    }
}

fn reset_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "fake-github: connection reset by a fault",
    )
}

impl AsyncRead for ResettableIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.is_reset() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.is_reset() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.is_reset() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.is_reset() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl Drop for ResettableIo {
    fn drop(&mut self) {
        if self.is_reset() {
            // Closing with a zero linger time sends an RST.
            let _ = self.inner.set_zero_linger();
        }
    }
}
