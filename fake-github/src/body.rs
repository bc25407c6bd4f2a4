//! Response bodies that can end normally, break off, or stall (for transfer faults).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// How long a truncated body waits, after its last bytes, before it breaks the connection.
const ABORT_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// What happens after the body's bytes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// The body ends normally.
    End,
    /// The body fails, so the server drops the connection (HTTP/1.1) or resets the stream (h2).
    Abort,
    /// Nothing more is ever sent, and the connection stays open.
    Stall,
}

/// A response body: some bytes, then [`After`].
#[derive(Debug)]
pub(crate) struct FakeBody {
    data: Option<Bytes>,
    after: After,
    /// A short pause before an abort, so the bytes already sent are flushed to the socket first
    /// (hyper discards unflushed output when a body fails).
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl FakeBody {
    pub(crate) fn new(data: Bytes, after: After) -> FakeBody {
        FakeBody {
            data: (!data.is_empty()).then_some(data),
            after,
            pause: None,
        }
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
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match this.after {
            After::End => Poll::Ready(None),
            After::Abort => {
                let pause = this
                    .pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(ABORT_PAUSE)));
                if pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.after = After::End;
                Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "fake-github: body truncated by a fault",
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
            After::Abort | After::Stall => SizeHint::default(),
        }
    }
}
