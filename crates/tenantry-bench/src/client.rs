//! A lean HTTP/1.1 load client: one task per keep-alive connection, each sending requests back
//! to back and recording every latency in its own histogram.
//!
//! The load itself is written and read as raw HTTP/1.1 on the socket (one task, one buffer per
//! connection, headers parsed with `httparse`) rather than through a full client: the client
//! shares the machine's cores with the server, and every cycle it spends is one the server does
//! not get. Setup requests go through hyper.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request to send.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<String>,
}

/// Appends a connection's next request, as HTTP/1.1 bytes, to the buffer; called with the
/// connection's number and a per-connection counter.
pub type MakeRequest = Arc<dyn Fn(usize, u64, &mut Vec<u8>) + Send + Sync>;

/// Requests rendered once, before the load starts, each sent as it is: the client spends nothing
/// per request on building them.
pub struct Rendered(Vec<Vec<u8>>);

impl Rendered {
    pub fn new(calls: impl IntoIterator<Item = Call>) -> Self {
        Self(
            calls
                .into_iter()
                .map(|call| {
                    let mut bytes = Vec::new();
                    write_request(&mut bytes, &call);
                    bytes
                })
                .collect(),
        )
    }

    /// A load that picks one of the requests for each send with `pick(connection, counter)`.
    pub fn picked_by(self, pick: impl Fn(usize, u64) -> usize + Send + Sync + 'static) -> MakeRequest {
        Arc::new(move |conn, seq, out| out.extend_from_slice(&self.0[pick(conn, seq) % self.0.len()]))
    }
}

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
    let response = sender.send_request(http_request(call)?).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// A page of the dashboard as a browser gets it.
pub struct Page {
    pub status: u16,
    /// The cookies the page sets, each as `name=value` (as a browser sends them back).
    pub set_cookies: Vec<String>,
    pub body: Bytes,
}

/// `path` as a browser sending `cookies` (a `cookie` header), and taking the encodings
/// `accept_encoding` names, gets it (the body as sent).
pub async fn page(addr: SocketAddr, path: &str, cookies: &str, accept_encoding: Option<&str>) -> anyhow::Result<Page> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(driver);
    let request = Request::builder().uri(path).header("host", "localhost").header("cookie", cookies);
    let request = match accept_encoding {
        Some(encodings) => request.header("accept-encoding", encodings),
        None => request,
    };
    let request = request.body(Full::new(Bytes::new()))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let set_cookies = response
        .headers()
        .get_all(hyper::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    Ok(Page { status, set_cookies, body: response.into_body().collect().await?.to_bytes() })
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
    make: MakeRequest,
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
    make: MakeRequest,
) -> anyhow::Result<(Histogram<u64>, u64, u64)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut requests, mut errors) = (0u64, 0u64);
    let (mut outgoing, mut incoming) = (Vec::with_capacity(1024), Vec::with_capacity(64 * 1024));
    let mut seq = 0u64;
    loop {
        outgoing.clear();
        make(conn, seq, &mut outgoing);
        seq += 1;
        let sent = Instant::now();
        stream.write_all(&outgoing).await?;
        let status = read_response(&mut stream, &mut incoming).await?;
        let done = Instant::now();
        if sent >= start {
            if done > end {
                break;
            }
            latency.record((done - sent).as_micros().max(1) as u64)?;
            requests += 1;
            if !(200..300).contains(&status) {
                errors += 1;
            }
        }
    }
    Ok((latency, requests, errors))
}

/// `call` as an HTTP/1.1 request on a keep-alive connection.
pub fn write_request(out: &mut Vec<u8>, call: &Call) {
    use std::io::Write;
    let body = call.body.as_deref().unwrap_or("");
    let _ = write!(out, "{} {} HTTP/1.1\r\nhost: localhost\r\n", call.method, call.path);
    if let Some(token) = &call.token {
        let _ = write!(out, "authorization: Bearer {token}\r\n");
    }
    if call.body.is_some() {
        out.extend_from_slice(b"content-type: application/json\r\n");
    }
    let _ = write!(out, "content-length: {}\r\n\r\n{body}", body.len());
}

/// Reads one whole response (the server always sends `content-length`) and returns its status.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<u16> {
    buffer.clear();
    loop {
        if stream.read_buf(buffer).await? == 0 {
            anyhow::bail!("the server closed the connection");
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head) = response.parse(buffer)? else { continue };
        let status = response.code.unwrap_or(0);
        let length = response
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case("content-length"))
            .and_then(|header| std::str::from_utf8(header.value).ok()?.parse::<usize>().ok())
            .ok_or_else(|| anyhow::anyhow!("a response without content-length (status {status})"))?;
        while buffer.len() < head + length {
            if stream.read_buf(buffer).await? == 0 {
                anyhow::bail!("the server closed the connection mid-response");
            }
        }
        return Ok(status);
    }
}
