//! `warden::serve`'s limits, from a raw socket: slow headers and idle keep-alive
//! connections are cut off, a slow body gets 408, connections beyond the cap wait,
//! and handlers see the client's address.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use warden::{ServeConfig, TrustedProxies, serve_on};

fn app() -> Router {
    Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route("/echo", post(|body: String| async move { body }))
}

/// Serves `app()` with `config` on an ephemeral port; the sender stops it.
async fn start(config: ServeConfig) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        serve_on(listener, app(), config, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (addr, stop)
}

/// Reads until the server closes the connection (or `limit` passes); what it sent.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut received)).await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_cut_off() {
    let (addr, _stop) = start(ServeConfig {
        header_read_timeout: Duration::from_secs(1),
        ..ServeConfig::default()
    })
    .await;
    // A connection that never sends a byte does not keep its slot.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let closed = read_to_close(&mut silent, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "a silent connection is disconnected");

    // Slowloris: a request line, then nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let closed = read_to_close(&mut slow, Duration::from_secs(10)).await;
    assert!(
        closed.is_some(),
        "a client sending headers slowly is disconnected"
    );

    // Idle keep-alive: answered, then closed when nothing more comes.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut idle, Duration::from_secs(10))
        .await
        .expect("an idle connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with("127.0.0.1"),
        "handlers see the client's address: {answer}"
    );
}

#[tokio::test]
async fn a_slow_body_is_answered_408() {
    let (addr, _stop) = start(ServeConfig {
        request_timeout: Duration::from_secs(1),
        ..ServeConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .await
        .unwrap();
    let mut received = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut received))
        .await
        .expect("answered before the test's limit")
        .unwrap();
    let answer = String::from_utf8_lossy(&received[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#"{"detail":"Request Timeout"}"#),
        "{answer}"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let (addr, stop) = start(ServeConfig {
        max_connections: 1,
        ..ServeConfig::default()
    })
    .await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let url = format!("http://{addr}/peer");
    // One connection, open and idle, takes the only slot.
    let holder = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = client
        .get(&url)
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(
        waiting.is_err(),
        "a second connection is not served while the first is open"
    );
    drop(holder);
    let served = client
        .get(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    // Shutdown returns once in-flight requests are done.
    stop.send(()).unwrap();
}

/// A connection from `from` (a loopback address: Linux routes all of 127/8 to lo).
async fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Sends `GET /peer` on a kept-alive connection; the answer, or `None` when the
/// server closed the connection without one.
async fn get_peer(stream: &mut TcpStream) -> Option<String> {
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .ok()?;
    let mut buffer = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
        .await
        .ok()?
        .ok()?;
    (read > 0).then(|| String::from_utf8_lossy(&buffer[..read]).into_owned())
}

/// With two connections per address, a client holding two open connections has
/// its third closed unanswered, while another address is still served; once it
/// closes one, it is served again.
#[tokio::test]
async fn one_client_cannot_hold_more_than_its_connections() {
    let (addr, _stop) = start(ServeConfig {
        max_connections_per_address: 2,
        ..ServeConfig::default()
    })
    .await;
    let mut first = connect_from("127.0.0.1", addr).await;
    let mut second = connect_from("127.0.0.1", addr).await;
    for held in [&mut first, &mut second] {
        let answer = get_peer(held).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let mut third = connect_from("127.0.0.1", addr).await;
    assert_eq!(get_peer(&mut third).await, None, "the third is closed");
    let mut other = connect_from("127.0.0.2", addr).await;
    let answer = get_peer(&mut other).await.unwrap();
    assert!(answer.ends_with("127.0.0.2"), "{answer}");

    drop(first);
    let mut again = None;
    for _ in 0..100 {
        let mut stream = connect_from("127.0.0.1", addr).await;
        if let Some(answer) = get_peer(&mut stream).await {
            again = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(again.unwrap().starts_with("HTTP/1.1 200"));
}

/// Behind a TLS terminator every client is the proxy: its address is exempt.
#[tokio::test]
async fn trusted_proxies_are_exempt_from_the_per_address_cap() {
    let (addr, _stop) = start(ServeConfig {
        max_connections_per_address: 1,
        trusted_proxies: TrustedProxies::parse(["127.0.0.1"]).unwrap(),
        ..ServeConfig::default()
    })
    .await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from("127.0.0.1", addr).await;
        let answer = get_peer(&mut stream).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        streams.push(stream);
    }
}
