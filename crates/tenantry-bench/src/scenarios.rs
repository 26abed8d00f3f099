//! The scenarios: what each one sends, and the data it needs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::Method;
use serde_json::json;

use crate::client::{load, Call, MakeCall, Report};
use crate::seed::{seed, Dataset, SEED_PASSWORD};
use crate::Args;

pub struct Context {
    addr: SocketAddr,
    db_url: String,
    args: Args,
    dataset: Option<Arc<Dataset>>,
}

impl Context {
    pub fn new(addr: SocketAddr, db_url: String, args: Args) -> Self {
        Self { addr, db_url, args, dataset: None }
    }

    async fn dataset(&mut self) -> anyhow::Result<Arc<Dataset>> {
        if self.dataset.is_none() {
            let started = std::time::Instant::now();
            let data = seed(&self.db_url, self.args.orgs, self.args.memberships).await?;
            println!(
                "seeded {} orgs and {} memberships in {:.1} s",
                data.orgs.len(),
                data.members.len(),
                started.elapsed().as_secs_f64()
            );
            self.dataset = Some(Arc::new(data));
        }
        Ok(self.dataset.clone().expect("just seeded"))
    }

    pub async fn run(&mut self, name: &str, duration: Duration) -> anyhow::Result<Report> {
        let make: MakeCall = match name {
            "health" => Arc::new(|_, _| Call { method: Method::GET, path: "/health".into(), token: None, body: None }),
            "signup" => Arc::new(|conn, seq| {
                Call {
                method: Method::POST,
                path: "/v1/auth/signup".into(),
                token: None,
                body: Some(
                    json!({ "email": format!("c{conn}-{seq}-{}@bench.test", ulid::Ulid::new()), "password": SEED_PASSWORD, "display_name": "Bench" })
                        .to_string(),
                ),
            }
            }),
            "login" => {
                let data = self.dataset().await?;
                let count = data.members.len();
                Arc::new(move |conn, seq| {
                    Call {
                    method: Method::POST,
                    path: "/v1/auth/login".into(),
                    token: None,
                    body: Some(
                        json!({ "email": format!("seed{}@bench.test", (conn * 7919 + seq as usize) % count), "password": SEED_PASSWORD })
                            .to_string(),
                    ),
                }
                })
            }
            other => anyhow::bail!("unknown scenario `{other}`"),
        };
        load(name, self.addr, self.args.connections, Duration::from_secs(1), duration, make).await
    }
}
