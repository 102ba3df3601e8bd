//! Connections, with the limits `axum::serve` does not have: HTTP/1.1 by hyper, one
//! task per connection, and a watchdog on each that closes it when
//!
//! - a request head is not complete within `header_timeout` of its first byte;
//! - it sits idle between requests (keep-alive) for `idle_timeout`;
//! - a response write has made no progress for `write_timeout` (a client that stopped
//!   reading: its response, and the work making it, are dropped).
//!
//! At most `max_connections` are open at once (more wait in the kernel's backlog). On
//! shutdown, idle connections close at once, requests in flight get `shutdown_grace` to
//! finish, and whatever is left after that is dropped.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use super::Limits;

/// Accepts and serves connections until `shutdown` completes, then lets them finish
/// within the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let open = Arc::new(AtomicUsize::new(0));
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors, or a connection reset before it was
                // accepted: try again shortly rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stop = stop_rx.clone();
        let open = Arc::clone(&open);
        open.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            connection(stream, peer, app, limits, stop).await;
            open.fetch_sub(1, Ordering::SeqCst);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection task ends within the grace period (it drops itself then); a
    // little more lets them do so.
    let deadline = Instant::now() + limits.shutdown_grace + Duration::from_millis(500);
    while open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One connection: hyper serving `app`, and the watchdog.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        stream,
        activity: Arc::clone(&activity),
    });
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = Busy::start(Arc::clone(&activity));
            let app = app.clone();
            async move {
                let response = app
                    .oneshot(request.map(Body::new))
                    .await
                    .unwrap_or_else(|e: Infallible| match e {});
                // The request counts as in flight until its body is written out.
                Ok::<_, Infallible>(response.map(|body| Body::new(Tracked { body, busy })))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.keep_alive(true).max_buf_size(64 * 1024);
    let mut conn = pin!(builder.serve_connection(io, service));
    let tick = (limits
        .header_timeout
        .min(limits.write_timeout)
        .min(limits.idle_timeout)
        / 4)
    .clamp(Duration::from_millis(50), Duration::from_millis(500));
    let mut watchdog = tokio::time::interval(tick);
    watchdog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            changed = stop.changed(), if stopping.is_none() => {
                let _ = changed;
                conn.as_mut().graceful_shutdown();
                stopping = Some(Instant::now());
            }
            _ = watchdog.tick() => {
                if activity.expired(&limits, stopping) {
                    // Dropping the connection closes the socket and drops the request
                    // it was serving, and with it the work making its response.
                    return;
                }
            }
        }
    }
}

/// What the watchdog knows of one connection, in milliseconds since it opened.
struct Activity {
    opened: Instant,
    /// Requests whose response is not written out yet.
    in_flight: AtomicUsize,
    /// When the current request head began arriving (0: not reading one).
    head_since: AtomicU64,
    /// When the connection last did anything: a byte read or written, a response done.
    last: AtomicU64,
    /// When a write began waiting for the client to read (0: none waits).
    blocked_since: AtomicU64,
}

const NEVER: u64 = 0;

impl Activity {
    fn new() -> Self {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            head_since: AtomicU64::new(NEVER),
            last: AtomicU64::new(1),
            blocked_since: AtomicU64::new(NEVER),
        }
    }

    /// Milliseconds since the connection opened, never 0 (0 means "not set").
    fn now(&self) -> u64 {
        (self.opened.elapsed().as_millis() as u64).max(1)
    }

    fn read(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let now = self.now();
        self.last.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            let _ =
                self.head_since
                    .compare_exchange(NEVER, now, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    fn wrote(&self, bytes: usize) {
        if bytes > 0 {
            self.last.store(self.now(), Ordering::Relaxed);
            self.blocked_since.store(NEVER, Ordering::Relaxed);
        }
    }

    fn write_blocked(&self) {
        let now = self.now();
        let _ =
            self.blocked_since
                .compare_exchange(NEVER, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Whether the connection has broken one of its limits.
    fn expired(&self, limits: &Limits, stopping: Option<Instant>) -> bool {
        if stopping.is_some_and(|since| since.elapsed() >= limits.shutdown_grace) {
            return true;
        }
        let now = self.now();
        let older_than = |since: u64, limit: Duration| {
            since != NEVER && now.saturating_sub(since) >= limit.as_millis() as u64
        };
        if older_than(
            self.blocked_since.load(Ordering::Relaxed),
            limits.write_timeout,
        ) {
            return true;
        }
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return false;
        }
        let head = self.head_since.load(Ordering::Relaxed);
        if head != NEVER {
            return older_than(head, limits.header_timeout);
        }
        older_than(self.last.load(Ordering::Relaxed), limits.idle_timeout)
    }
}

/// A request in flight on a connection, from its head to the end of its response.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.head_since.store(NEVER, Ordering::Relaxed);
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.now();
        self.0.last.store(now, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that ends its request's [`Busy`] when it is done (or dropped).
struct Tracked {
    body: Body,
    busy: Busy,
}

impl hyper::body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let _ = &self.busy;
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket, reporting reads, writes and blocked writes to the watchdog.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            self.activity.read(buf.filled().len() - before);
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        match &result {
            Poll::Ready(Ok(n)) => self.activity.wrote(*n),
            Poll::Pending => self.activity.write_blocked(),
            Poll::Ready(Err(_)) => {}
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        match &result {
            Poll::Ready(Ok(n)) => self.activity.wrote(*n),
            Poll::Pending => self.activity.write_blocked(),
            Poll::Ready(Err(_)) => {}
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.stream).poll_flush(cx);
        if result.is_pending() {
            self.activity.write_blocked();
        }
        result
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
