//! A webhook receiver on loopback for the `deliveries` scenario: answers every request 200 at
//! once and counts them, with the time of the first and the last.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Default)]
struct Tally {
    count: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    tally: Arc<Mutex<Tally>>,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let tally = Arc::new(Mutex::new(Tally::default()));
        let counted = tally.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counted = counted.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let counted = counted.clone();
                        async move {
                            let _ = request.into_body().collect().await;
                            let now = Instant::now();
                            let mut tally = counted.lock().expect("the tally's lock is never poisoned");
                            tally.count += 1;
                            tally.first.get_or_insert(now);
                            tally.last = Some(now);
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, tally })
    }

    /// Requests received so far, and the time from the first to the last.
    pub fn received(&self) -> (u64, Option<std::time::Duration>) {
        let tally = self.tally.lock().expect("the tally's lock is never poisoned");
        (tally.count, tally.first.zip(tally.last).map(|(first, last)| last - first))
    }
}
