//! A lean HTTP/1.1 load client: one task per keep-alive connection, each sending requests back
//! to back and recording every latency in its own histogram.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request to send; `make` is called for each request with a per-connection counter.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<String>,
}

pub type MakeCall = Arc<dyn Fn(usize, u64) -> Call + Send + Sync>;

pub struct Report {
    pub name: String,
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
}

impl Report {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        write!(
            f,
            "{:<28} {:>10.0} {:>10.3} {:>10.3} {:>10.3} {:>8}",
            self.name,
            self.rps(),
            ms(self.latency.value_at_quantile(0.50)),
            ms(self.latency.value_at_quantile(0.99)),
            ms(self.latency.max()),
            self.errors
        )
    }
}

/// Sends one request on a fresh connection and returns its status and body (for setup, such as
/// logging in before a scenario).
pub async fn request(addr: SocketAddr, call: Call) -> anyhow::Result<(u16, Bytes)> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(driver);
    let mut builder = Request::builder().method(call.method).uri(call.path).header("host", "localhost");
    if let Some(token) = call.token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match call.body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Full::new(Bytes::from(body))
        }
        None => Full::new(Bytes::new()),
    };
    let response = sender.send_request(builder.body(body)?).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

fn http_request(call: Call) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut builder = Request::builder().method(call.method).uri(call.path).header("host", "localhost");
    if let Some(token) = call.token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match call.body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Full::new(Bytes::from(body))
        }
        None => Full::new(Bytes::new()),
    };
    Ok(builder.body(body)?)
}

/// Sends every call once, spread over `connections` keep-alive connections, before a scenario is
/// measured: what is measured then is the steady state, every cache filled once.
pub async fn each_once(addr: SocketAddr, connections: usize, calls: Vec<Call>) -> anyhow::Result<()> {
    let mut shares: Vec<Vec<Call>> = (0..connections).map(|_| Vec::new()).collect();
    for (i, call) in calls.into_iter().enumerate() {
        shares[i % connections].push(call);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for share in shares {
        tasks.spawn(async move {
            let stream = TcpStream::connect(addr).await?;
            let (mut sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(driver);
            for call in share {
                sender.ready().await?;
                sender.send_request(http_request(call)?).await?.into_body().collect().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok(())
}

/// Runs `connections` connections for `warmup` (not measured) then `duration`.
pub async fn load(
    name: &str,
    addr: SocketAddr,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    make: MakeCall,
) -> anyhow::Result<Report> {
    let start = Instant::now() + warmup;
    let end = start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for conn in 0..connections {
        let make = make.clone();
        tasks.spawn(async move { connection(addr, conn, start, end, make).await });
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut requests, mut errors) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        let (h, r, e) = result??;
        latency.add(h)?;
        requests += r;
        errors += e;
    }
    Ok(Report { name: name.to_owned(), requests, errors, elapsed: duration, latency })
}

async fn connection(
    addr: SocketAddr,
    conn: usize,
    start: Instant,
    end: Instant,
    make: MakeCall,
) -> anyhow::Result<(Histogram<u64>, u64, u64)> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(driver);
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut requests, mut errors) = (0u64, 0u64);
    let mut seq = 0u64;
    loop {
        let request = http_request(make(conn, seq))?;
        seq += 1;
        sender.ready().await?;
        let sent = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        let done = Instant::now();
        if sent >= start {
            if done > end {
                break;
            }
            latency.record((done - sent).as_micros().max(1) as u64)?;
            requests += 1;
            if !status.is_success() {
                errors += 1;
            }
        }
    }
    Ok((latency, requests, errors))
}
