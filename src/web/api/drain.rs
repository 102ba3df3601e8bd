//! Refusing a request without breaking the connection under the client: a request
//! refused before its body was read (a bad package name, a wrong token, a declared size
//! above the limit) has its body read and thrown away — up to [`DRAIN_LIMIT`] bytes,
//! within [`DRAIN_TIME`] — before the answer goes out.
//!
//! Without this, the server closes a connection whose client is still sending: the
//! kernel answers the unread bytes with a reset, and the client often sees "connection
//! reset" in place of the `400`/`401`/`413` it was sent. (nginx's "lingering close"
//! does the same for GitLab.) A body larger than the bound is not read: a client that
//! waits for `100 Continue` (curl does above 1 MiB) never sends it anyway.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::Frame;

/// The most of a refused request's body that is read before answering.
pub const DRAIN_LIMIT: u64 = 1 << 20;
/// How long the server waits for it.
pub const DRAIN_TIME: Duration = Duration::from_secs(2);

/// The body as the handler sees it: a view of the one the middleware keeps, so that
/// what the handler leaves unread is still there after it answers.
struct Shared(Arc<Mutex<Option<Body>>>);

impl HttpBody for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(body) = slot.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            // Read to its end: nothing is left to drain.
            *slot = None;
        }
        polled
    }
}

/// Middleware: reads what a refused request left unread.
pub async fn drain_refused(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let kept = Arc::new(Mutex::new(Some(body)));
    let request = Request::from_parts(parts, Body::new(Shared(Arc::clone(&kept))));
    let response = next.run(request).await;
    if response.status().is_client_error() {
        let rest = kept.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(rest) = rest {
            let _ = tokio::time::timeout(DRAIN_TIME, discard(rest)).await;
        }
    }
    response
}

/// Reads `body` and drops what comes, until it ends, fails, or brought more than
/// [`DRAIN_LIMIT`] bytes.
async fn discard(mut body: Body) {
    let mut seen = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            seen += data.len() as u64;
        }
        if seen > DRAIN_LIMIT {
            return;
        }
    }
}
