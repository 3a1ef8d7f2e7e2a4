//! The HTTP edge: the accept loop, with a header-read timeout, a connection limit, HTTP/1.1
//! keep-alive and graceful shutdown, and the timeouts applied to every request.
//!
//! A client must send a request's headers within `header_timeout` of the connection opening
//! (or of the previous answer on a kept-alive connection), and must not pause longer than that
//! while sending a body; the server must produce a response head within `request_timeout`
//! (a streamed body, such as an export, may take longer). Past `max_connections` open
//! connections, new ones are not accepted: they wait in the kernel's listen backlog until a
//! connection closes, so a burst is served late rather than refused.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// How the server meets the network (`[server]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Time a client has to send a request's headers; also the longest pause allowed while it
    /// sends a body, and how long an idle kept-alive connection stays open.
    pub header_timeout: Duration,
    /// Time the server has to produce a response head (answered 503 past it).
    pub request_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Served over HTTPS (the public URL is `https://`): answers carry
    /// `Strict-Transport-Security`.
    pub https: bool,
}

impl Default for Edge {
    fn default() -> Edge {
        Edge {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 512,
            https: false,
        }
    }
}

/// Accept connections on `listener` and serve `app` on each until `shutdown` completes; then
/// stop accepting, let in-flight requests finish and close idle connections.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    edge: &Edge,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    let slots = Arc::new(tokio::sync::Semaphore::new(edge.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(edge.header_timeout)
        .keep_alive(true);
    loop {
        // Take a slot before accepting: past the limit, connections wait in the backlog.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's (gone, timed out, malformed): nothing to report.
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// After a failed `accept`: per-connection errors are ignored; others (such as running out of
/// file descriptors) are logged and followed by a pause so the loop does not spin.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
