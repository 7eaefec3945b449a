//! Load harness: a guarded route against a bare axum handler returning the same
//! JSON, side by side in one run on loopback, then the guarded route again while a
//! flood of logins hashes passwords.
//!
//! ```text
//! cargo bench --bench load                 # 5 s per phase, 32 connections
//! LOAD_SECONDS=10 LOAD_CONNECTIONS=64 cargo bench --bench load
//! ```
//!
//! The client is a minimal HTTP/1.1 keep-alive loop over raw TCP so that the client's
//! own cost stays small and equal for both servers. Client and server share the
//! machine: read the ratio, not the absolute numbers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use warden::{MemoryStore, User, Warden, auth_backend, protected};

#[auth_backend(
    name = "jwt",
    lifetime = 3600,
    secret = "load-test-secret-that-is-at-least-32-bytes"
)]
struct Jwt;

#[protected(active)]
async fn guarded(user: User) -> Json<User> {
    Json(user)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Stats {
    requests: u64,
    errors: u64,
    latencies_us: Vec<u64>,
    elapsed: Duration,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> f64 {
        self.latencies_us.sort_unstable();
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
    }
}

/// One keep-alive connection sending `request` until `stop`.
async fn connection(
    addr: String,
    request: Arc<Vec<u8>>,
    stop: Arc<AtomicBool>,
) -> (u64, u64, Vec<u64>) {
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (mut ok, mut errors, mut latencies) = (0, 0, Vec::new());
    let mut buffer = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        if stream.write_all(&request).await.is_err() {
            break;
        }
        // Read one response: headers, then Content-Length bytes.
        let mut read = 0;
        let (status, total) = loop {
            let n = match stream.read(&mut buffer[read..]).await {
                Ok(0) | Err(_) => return (ok, errors + 1, latencies),
                Ok(n) => n,
            };
            read += n;
            if let Some(end) = find(&buffer[..read], b"\r\n\r\n") {
                let head = std::str::from_utf8(&buffer[..end]).unwrap_or("");
                let status = head.get(9..12).unwrap_or("000").to_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                break (status, end + 4 + length);
            }
        };
        while read < total {
            match stream.read(&mut buffer[read..total]).await {
                Ok(0) | Err(_) => return (ok, errors + 1, latencies),
                Ok(n) => read += n,
            }
        }
        latencies.push(start.elapsed().as_micros() as u64);
        if status == "200" {
            ok += 1
        } else {
            errors += 1
        }
    }
    (ok, errors, latencies)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn run(addr: &str, request: Vec<u8>, connections: u64, seconds: u64) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let request = Arc::new(request);
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            tokio::spawn(connection(
                addr.to_owned(),
                Arc::clone(&request),
                Arc::clone(&stop),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut stats = Stats {
        requests: 0,
        errors: 0,
        latencies_us: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (ok, errors, latencies) = task.await.expect("client task");
        stats.requests += ok;
        stats.errors += errors;
        stats.latencies_us.extend(latencies);
    }
    stats.elapsed = start.elapsed();
    stats
}

fn get_request(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

fn report(name: &str, stats: &mut Stats) {
    println!(
        "{name:<34} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}",
        stats.rps(),
        stats.percentile(0.50),
        stats.percentile(0.99),
        stats.errors
    );
}

fn main() {
    let seconds = env_number("LOAD_SECONDS", 5);
    let connections = env_number("LOAD_CONNECTIONS", 32);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let warden = Warden::builder().store(MemoryStore::new()).backend::<Jwt>().unwrap().build().unwrap();
        let user = warden
            .manager()
            .ensure_superuser("load@example.com", "load-test-password".into())
            .await
            .unwrap();
        let token = warden.strategy("jwt").unwrap().issue(&user.id.to_string()).unwrap();
        let bare_body = serde_json::to_value(&user).unwrap();
        let app = Router::new()
            .route("/bare", get(move || { let body = bare_body.clone(); async move { Json(body) } }))
            .route("/guarded", get(guarded))
            .merge(warden.routes())
            .with_state(warden);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        println!("{connections} connections, {seconds} s per phase, addr {addr}");
        let mut bare = run(&addr, get_request("/bare", None), connections, seconds).await;
        report("bare axum handler, same JSON", &mut bare);
        let mut guarded = run(&addr, get_request("/guarded", Some(&token)), connections, seconds).await;
        report("#[protected(active)] handler", &mut guarded);
        println!("guarded / bare throughput ratio: {:.2}", guarded.rps() / bare.rps());

        // A login flood (16 clients logging in non-stop) beside the guarded traffic.
        let login = "username=load%40example.com&password=load-test-password";
        let login_request = format!(
            "POST /auth/jwt/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{login}",
            login.len()
        )
        .into_bytes();
        let flood_addr = addr.clone();
        let flood = tokio::spawn(async move { run(&flood_addr, login_request, 16, seconds).await });
        let mut during = run(&addr, get_request("/guarded", Some(&token)), connections, seconds).await;
        let mut logins = flood.await.unwrap();
        report("#[protected] during login flood", &mut during);
        report("logins (16 clients)", &mut logins);
        println!(
            "guarded p50 during flood / without: {:.2}",
            during.percentile(0.5) / guarded.percentile(0.5).max(0.001)
        );
    });
}
