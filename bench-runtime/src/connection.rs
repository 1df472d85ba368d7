//! One connection of the HTTP server: serves it, and closes it when it sits idle or trickles a
//! request head for too long.
//!
//! hyper's own `header_read_timeout` times the first request head and the wait for the next
//! request with one duration, so it cannot give a short head timeout and a long idle one. Here a
//! watchdog per connection looks, at every tick, at three counters: bytes read (kept by the
//! connection's stream), and requests begun and answered (kept by the service). Nothing in
//! flight and no new byte since the last answer is idleness; new bytes but no request yet is a
//! request head on its way. An idle connection is asked to shut down gracefully: HTTP/1.1
//! closes at once, HTTP/2 sends GOAWAY. A connection whose head is late is dropped: hyper would
//! wait for the head to end before closing, and there is no request to finish. A request in
//! flight is never timed, however long it runs.

use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use crate::{Runtime, RuntimeConfig};

/// What the server asks of its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Keep serving.
    Serving,
    /// Finish the request in flight, then close.
    Finish,
    /// Close now.
    Close,
}

/// The connection timeouts of a [`RuntimeConfig`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    header: Duration,
    idle: Duration,
}

impl Timeouts {
    pub(crate) fn of(config: &RuntimeConfig) -> Self {
        Self {
            header: config.header_timeout,
            idle: config.idle_timeout,
        }
    }

    /// How often a watchdog looks: a tenth of the shorter timeout, so a connection is closed
    /// at most 10% late, but not so often that idle connections cost CPU.
    fn tick(&self) -> Duration {
        (self.header.min(self.idle) / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

/// Serves `stream` on its own task until it closes, the watchdog closes it or the server stops.
pub(crate) fn spawn(
    stream: TcpStream,
    runtime: Arc<Runtime>,
    builder: &auto::Builder<TokioExecutor>,
    timeouts: Timeouts,
    mut stop: watch::Receiver<Stop>,
) {
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(MeteredStream::new(stream, activity.clone()));
    let requests = activity.clone();
    let service = service_fn(move |request| {
        let in_flight = InFlight::begin(&requests);
        let runtime = runtime.clone();
        async move {
            let answer = crate::api::route(runtime, request).await;
            drop(in_flight);
            answer
        }
    });
    let connection = builder.serve_connection(io, service).into_owned();
    let mut watchdog = Watchdog::new(timeouts, activity);
    tokio::spawn(async move {
        let mut connection = pin!(connection);
        let mut ticks = tokio::time::interval(timeouts.tick());
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut closing_since = None;
        loop {
            tokio::select! {
                ended = connection.as_mut() => {
                    if let Err(err) = ended {
                        tracing::debug!("connection ended with an error: {err}");
                    }
                    return;
                }
                _ = ticks.tick() => {
                    let now = Instant::now();
                    match (watchdog.expired(now), closing_since) {
                        (Some(why @ Expired::Head(_)), _) => {
                            tracing::debug!("closing a connection: {why}");
                            return;
                        }
                        (Some(why), None) => {
                            tracing::debug!("closing a connection: {why}");
                            connection.as_mut().graceful_shutdown();
                            closing_since = Some(now);
                        }
                        // Still open a whole idle timeout after being asked to close, with
                        // nothing in flight: the peer ignores the GOAWAY, so drop it.
                        (Some(_), Some(since)) if now - since >= timeouts.idle => return,
                        _ => {}
                    }
                }
                changed = stop.changed() => {
                    let stop = if changed.is_ok() { *stop.borrow_and_update() } else { Stop::Close };
                    match stop {
                        Stop::Serving => {}
                        Stop::Finish => connection.as_mut().graceful_shutdown(),
                        Stop::Close => return,
                    }
                }
            }
        }
    });
}

/// Counters shared by a connection's stream, its service and its watchdog.
#[derive(Debug, Default)]
struct Activity {
    bytes_read: AtomicU64,
    requests_begun: AtomicU64,
    requests_answered: AtomicU64,
    /// The connection began with the HTTP/2 preface. Its bytes then say nothing about request
    /// heads: pings and window updates flow without any request.
    http2: AtomicBool,
}

/// A request in flight; counts itself answered when dropped, so a service future that hyper
/// drops (the peer went away) counts too.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.requests_begun.fetch_add(1, Ordering::Relaxed);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.requests_answered.fetch_add(1, Ordering::Release);
    }
}

/// Why a watchdog closes its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    Idle(Duration),
    Head(Duration),
}

impl std::fmt::Display for Expired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expired::Idle(after) => write!(f, "idle for {after:?}"),
            Expired::Head(after) => write!(f, "request head incomplete after {after:?}"),
        }
    }
}

/// Times one connection's idle spells and request heads from its [`Activity`].
#[derive(Debug)]
struct Watchdog {
    timeouts: Timeouts,
    activity: Arc<Activity>,
    /// Requests answered when the current idle spell began.
    answered: u64,
    /// Bytes read when the current idle spell began.
    bytes_at_rest: u64,
    /// When the current idle spell began: the connection opened or a request was answered.
    rest_since: Instant,
    /// When bytes of a request head were first seen in this idle spell.
    head_since: Option<Instant>,
    /// A request was in flight at the last look.
    busy: bool,
}

impl Watchdog {
    fn new(timeouts: Timeouts, activity: Arc<Activity>) -> Self {
        Self {
            timeouts,
            activity,
            answered: 0,
            bytes_at_rest: 0,
            rest_since: Instant::now(),
            head_since: None,
            busy: false,
        }
    }

    /// Looks at the connection at `now`; says why it should close, if it should.
    fn expired(&mut self, now: Instant) -> Option<Expired> {
        // Answered before begun: every begin counted in an answer seen here is seen too.
        let answered = self.activity.requests_answered.load(Ordering::Acquire);
        let begun = self.activity.requests_begun.load(Ordering::Relaxed);
        if begun != answered {
            self.busy = true;
            return None;
        }
        let bytes = self.activity.bytes_read.load(Ordering::Relaxed);
        if self.busy || answered != self.answered {
            self.busy = false;
            self.answered = answered;
            self.bytes_at_rest = bytes;
            self.rest_since = now;
            self.head_since = None;
            return None;
        }
        if bytes != self.bytes_at_rest && !self.activity.http2.load(Ordering::Relaxed) {
            let head_since = *self.head_since.get_or_insert(now);
            let waited = now - head_since;
            (waited >= self.timeouts.header).then_some(Expired::Head(waited))
        } else {
            let waited = now - self.rest_since;
            (waited >= self.timeouts.idle).then_some(Expired::Idle(waited))
        }
    }
}

/// The client preface of HTTP/2 with prior knowledge (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How much of the HTTP/2 preface a connection's first bytes have matched.
#[derive(Debug, Clone, Copy)]
enum Preface {
    Matched(usize),
    Http2,
    Http1,
}

impl Preface {
    /// The state once `read` follows the bytes matched so far.
    fn after(self, read: &[u8]) -> Self {
        let Preface::Matched(seen) = self else {
            return self;
        };
        let compared = read.len().min(H2_PREFACE.len() - seen);
        if read[..compared] != H2_PREFACE[seen..seen + compared] {
            Preface::Http1
        } else if seen + compared == H2_PREFACE.len() {
            Preface::Http2
        } else {
            Preface::Matched(seen + compared)
        }
    }
}

/// A connection's TCP stream, counting the bytes read and recognising HTTP/2 by its preface.
struct MeteredStream {
    stream: TcpStream,
    activity: Arc<Activity>,
    preface: Preface,
}

impl MeteredStream {
    fn new(stream: TcpStream, activity: Arc<Activity>) -> Self {
        Self {
            stream,
            activity,
            preface: Preface::Matched(0),
        }
    }

    fn note_read(&mut self, read: &[u8]) {
        if let Preface::Matched(_) = self.preface {
            self.preface = self.preface.after(read);
            if let Preface::Http2 = self.preface {
                self.activity.http2.store(true, Ordering::Relaxed);
            }
        }
        self.activity
            .bytes_read
            .fetch_add(read.len() as u64, Ordering::Relaxed);
    }
}

impl AsyncRead for MeteredStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.stream).poll_read(cx, buf))?;
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            this.note_read(read);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MeteredStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn watchdog() -> (Watchdog, Arc<Activity>, Instant) {
        let timeouts = Timeouts {
            header: 10 * SECOND,
            idle: 60 * SECOND,
        };
        let activity = Arc::new(Activity::default());
        let watchdog = Watchdog::new(timeouts, activity.clone());
        let opened = watchdog.rest_since;
        (watchdog, activity, opened)
    }

    #[test]
    fn a_connection_that_never_asks_expires_after_the_idle_timeout() {
        let (mut watchdog, _, opened) = watchdog();
        assert_eq!(watchdog.expired(opened + 59 * SECOND), None);
        assert_eq!(
            watchdog.expired(opened + 60 * SECOND),
            Some(Expired::Idle(60 * SECOND))
        );
    }

    #[test]
    fn a_request_in_flight_is_never_timed_and_its_answer_starts_a_new_idle_spell() {
        let (mut watchdog, activity, opened) = watchdog();
        activity.bytes_read.store(100, Ordering::Relaxed);
        let request = InFlight::begin(&activity);
        assert_eq!(watchdog.expired(opened + SECOND), None);
        assert_eq!(watchdog.expired(opened + 1000 * SECOND), None);
        drop(request);
        assert_eq!(watchdog.expired(opened + 1001 * SECOND), None);
        assert_eq!(watchdog.expired(opened + 1060 * SECOND), None);
        assert!(matches!(
            watchdog.expired(opened + 1061 * SECOND),
            Some(Expired::Idle(_))
        ));
    }

    #[test]
    fn a_request_begun_and_answered_between_two_looks_counts_as_activity() {
        let (mut watchdog, activity, opened) = watchdog();
        assert_eq!(watchdog.expired(opened + 50 * SECOND), None);
        drop(InFlight::begin(&activity));
        assert_eq!(watchdog.expired(opened + 70 * SECOND), None);
        assert!(watchdog.expired(opened + 130 * SECOND).is_some());
    }

    #[test]
    fn a_request_head_expires_after_the_header_timeout_from_its_first_bytes() {
        let (mut watchdog, activity, opened) = watchdog();
        assert_eq!(watchdog.expired(opened + 5 * SECOND), None);
        activity.bytes_read.store(10, Ordering::Relaxed);
        assert_eq!(watchdog.expired(opened + 6 * SECOND), None);
        activity.bytes_read.store(20, Ordering::Relaxed);
        assert_eq!(watchdog.expired(opened + 15 * SECOND), None);
        assert_eq!(
            watchdog.expired(opened + 16 * SECOND),
            Some(Expired::Head(10 * SECOND))
        );
    }

    #[test]
    fn http2_bytes_without_a_stream_are_idleness_not_a_request_head() {
        let (mut watchdog, activity, opened) = watchdog();
        activity.http2.store(true, Ordering::Relaxed);
        activity.bytes_read.store(100, Ordering::Relaxed);
        assert_eq!(watchdog.expired(opened + SECOND), None);
        assert_eq!(watchdog.expired(opened + 30 * SECOND), None);
        assert!(matches!(
            watchdog.expired(opened + 60 * SECOND),
            Some(Expired::Idle(_))
        ));
    }

    #[test]
    fn the_http2_preface_is_recognised_across_reads() {
        let split = H2_PREFACE.split_at(5);
        let preface = Preface::Matched(0).after(split.0).after(split.1);
        assert!(matches!(preface, Preface::Http2));
        let after = preface.after(b"anything");
        assert!(matches!(after, Preface::Http2));
        let http1 = Preface::Matched(0).after(b"PRI").after(b"NCIPAL");
        assert!(matches!(http1, Preface::Http1));
        assert!(matches!(
            Preface::Matched(0).after(b"GET / HTTP/1.1\r\n"),
            Preface::Http1
        ));
        assert!(matches!(
            Preface::Matched(0).after(b"PRI *"),
            Preface::Matched(5)
        ));
    }

    #[test]
    fn the_tick_is_a_tenth_of_the_shorter_timeout_within_bounds() {
        let tick = |header, idle| Timeouts { header, idle }.tick();
        assert_eq!(tick(10 * SECOND, 60 * SECOND), SECOND);
        assert_eq!(tick(SECOND, 60 * SECOND), SECOND / 10);
        assert_eq!(
            tick(60 * SECOND, Duration::from_millis(20)),
            Duration::from_millis(10)
        );
        assert_eq!(tick(3600 * SECOND, 3600 * SECOND), SECOND);
    }
}
