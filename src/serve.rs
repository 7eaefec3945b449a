//! [`serve`]: axum served with the limits a public server needs, which
//! `axum::serve` leaves out: a deadline for request headers (which is also the
//! keep-alive idle timeout, and the limit for a connection that sends nothing), one
//! for the whole request, body included, a cap on open connections, and a graceful
//! shutdown that does not wait for ever. HTTP/1.1; put a TLS terminator in front for
//! HTTP/2.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::{ApiError, Error};

/// The limits [`serve`] applies. The defaults suit an API behind a load balancer or
/// exposed directly; every one can be changed.
///
/// ```
/// use std::time::Duration;
/// let limits = warden::ServeConfig {
///     max_connections: 10_000,
///     ..warden::ServeConfig::default()
/// };
/// assert_eq!(limits.header_read_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// A client has this long to send a request's headers, counted from when the
    /// connection is ready for one: a new connection, or a kept-alive one after its
    /// last response (the idle timeout). Slow-header clients (Slowloris) are cut
    /// off. Default 10 s.
    pub header_read_timeout: Duration,
    /// The whole request, body read and answer, within this: 408 after. Default 30 s.
    pub request_timeout: Duration,
    /// Connections open at once; beyond, new ones wait in the listen backlog until
    /// one closes. Default 1024.
    pub max_connections: usize,
    /// On Ctrl-C or SIGTERM, how long in-flight requests may finish. Default 30 s.
    pub shutdown_grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Binds `addr` and serves `app` with [`ServeConfig::default`] until Ctrl-C (or
/// SIGTERM), then drains in-flight requests. Handlers can extract the client's
/// address with `ConnectInfo<SocketAddr>`.
pub async fn serve(app: Router, addr: impl tokio::net::ToSocketAddrs) -> Result<(), Error> {
    serve_with(app, addr, ServeConfig::default()).await
}

/// [`serve`] with other limits.
pub async fn serve_with(
    app: Router,
    addr: impl tokio::net::ToSocketAddrs,
    config: ServeConfig,
) -> Result<(), Error> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    serve_on(listener, app, config, shutdown_signal()).await
}

/// Serves `app` on a bound listener with `config`'s limits until `shutdown`
/// resolves, then drains in-flight requests for at most
/// [`shutdown_grace`](ServeConfig::shutdown_grace).
pub async fn serve_on(
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let deadline = config.request_timeout;
    let app = app.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            match tokio::time::timeout(deadline, next.run(request)).await {
                Ok(response) => response,
                Err(_) => request_timeout(),
            }
        },
    ));
    // HTTP/1.1 only: telling HTTP/1 from HTTP/2 is a read without a deadline, and
    // hyper's HTTP/2 has none for a connection that stays open and silent.
    // Browsers speak HTTP/2 only over TLS, which a terminator in front handles.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: pause rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<_>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let first_byte = config.header_read_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            // hyper's header deadline starts with the first byte: a connection that
            // sends none would hold its slot for ever.
            let mut first = [0u8; 1];
            match tokio::time::timeout(first_byte, stream.peek(&mut first)).await {
                Ok(Ok(1..)) => {}
                // Silent past the deadline, closed, or broken.
                _ => return,
            }
            let connection = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(config.shutdown_grace) => {
            tracing::warn!("shutdown grace elapsed with requests still in flight");
        }
    }
    Ok(())
}

fn request_timeout() -> Response {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        serde_json::Value::from("Request Timeout"),
    )
    .into_response()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, never resolve: the server keeps running.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
