//! [`serve`]: axum served with the limits a public server needs, which
//! `axum::serve` leaves out: a deadline for request headers (which is also the
//! keep-alive idle timeout, and the limit for a connection that sends nothing), one
//! for the whole request, body included, a cap on open connections and one per
//! client address, and a graceful
//! shutdown that does not wait for ever. HTTP/1.1; put a TLS terminator in front for
//! HTTP/2.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
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

use crate::{ApiError, Error, TrustedProxies};

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Connections open at once from one client address (an IPv6 /64 counts as
    /// one: a subscriber's allocation); beyond, a new one is closed at once, so one
    /// client cannot hold every slot of `max_connections`. The
    /// [`trusted_proxies`](Self::trusted_proxies) are exempt. Default 64.
    pub max_connections_per_address: usize,
    /// The proxies (load balancers, TLS terminators) in front of the server: every
    /// client behind them shares their address, so they are exempt from
    /// `max_connections_per_address`. The same list as
    /// [`WardenBuilder::trusted_proxies`](crate::WardenBuilder::trusted_proxies).
    /// Default none.
    pub trusted_proxies: TrustedProxies,
    /// On Ctrl-C or SIGTERM, how long in-flight requests may finish. Default 30 s.
    pub shutdown_grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_address: 64,
            trusted_proxies: TrustedProxies::default(),
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
    let per_client = PerClient::new(config.max_connections_per_address.max(1));
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
        let client = if config.trusted_proxies.contains(peer.ip()) {
            None
        } else {
            match per_client.open(peer.ip()) {
                Some(client) => Some(client),
                None => {
                    // Closed at once: waiting would let one client queue ahead of
                    // everyone else for the slots it already holds.
                    tracing::debug!(%peer, "connection refused: too many open from this client");
                    drop(stream);
                    continue;
                }
            }
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
            let _client = client;
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

/// Open connections per client: an IPv4 address, or an IPv6 /64.
struct PerClient {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open connection of a client; closing it (dropping this) frees its place.
struct ClientSlot {
    client: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerClient {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// A place for one more connection of `address`'s client, if it has room.
    fn open(&self, address: IpAddr) -> Option<ClientSlot> {
        let client = client_of(address);
        let mut open = self.open.lock().ok()?;
        let count = open.entry(client).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            client,
            open: Arc::clone(&self.open),
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(count) = open.get_mut(&self.client)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// What one client is: its IPv4 address (an IPv4-mapped IPv6 one read as IPv4), or
/// its IPv6 /64, which one subscriber can cycle through freely.
fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let client = |address: &str| client_of(address.parse().unwrap());
        assert_eq!(
            client("2001:db8:1:2:aaaa::1"),
            client("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assert_eq!(client("::ffff:192.0.2.1"), client("192.0.2.1"));
        let per_client = PerClient::new(1);
        let first = per_client.open("2001:db8::1".parse().unwrap());
        assert!(first.is_some());
        assert!(per_client.open("2001:db8::2".parse().unwrap()).is_none());
        drop(first);
        assert!(per_client.open("2001:db8::2".parse().unwrap()).is_some());
    }
}
