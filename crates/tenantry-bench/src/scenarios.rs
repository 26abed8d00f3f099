//! The scenarios: what each one sends, and the data it needs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hyper::Method;
use serde_json::json;

use crate::client::{load, request, write_request, Call, MakeRequest, Rendered, Report};
use tenantry_core::tokens::{AccessClaims, TokenSigner, ISSUER};

use crate::seed::{seed, seed_sessions, signing_key, Dataset, Sizes, SEED_PASSWORD, TEAMS_PER_ORG};
use crate::{Args, SERVICE_TOKEN};

/// What a browser says it takes (`accept-encoding`): the dashboard scenario asks as one.
const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// Permissions the authorize scenario asks about: together with the seeded roles (owner, admin,
/// developer, viewer, finance) about half the checks are allowed.
const AUTHORIZE_PERMISSIONS: &[&str] =
    &["endpoints.view", "endpoints.create", "billing.view", "members.invite", "endpoints.delete", "audit.view"];

/// `subjects` bodies the authorize scenario picks from at random: a seeded member and one of the
/// permissions, with one check in eight about a user of another org (denied: not a member).
fn authorize_bodies(data: &Dataset, subjects: usize) -> Vec<String> {
    let count = data.members.len();
    (0..count.min(subjects) as u64)
        .map(|i| {
            let (org, user) = &data.members[mix(i, 1) as usize % count];
            let user = if i % 8 == 7 { &data.members[mix(i, 2) as usize % count].1 } else { user };
            let permission = AUTHORIZE_PERMISSIONS[i as usize % AUTHORIZE_PERMISSIONS.len()];
            json!({ "subject": { "user_id": user }, "org": org, "permission": permission }).to_string()
        })
        .collect()
}

/// Like `authorize_bodies`, each check naming a team of the subject's org: half the time their
/// own team (by id or slug, by turns), half another team of the org, so the team role decides
/// some checks the org role alone would deny.
fn authorize_team_bodies(data: &Dataset, subjects: usize) -> Vec<String> {
    let in_teams: Vec<(usize, usize)> =
        data.member_teams.iter().enumerate().filter_map(|(m, team)| team.map(|t| (m, t))).collect();
    let count = in_teams.len();
    (0..count.min(subjects) as u64)
        .map(|i| {
            let (m, own) = in_teams[mix(i, 3) as usize % count];
            let (org, user) = &data.members[m];
            let first_of_org = own - own % TEAMS_PER_ORG;
            let team = if i % 2 == 0 { own } else { first_of_org + (own + 1 + i as usize) % TEAMS_PER_ORG };
            let team = if i % 4 < 2 { data.teams[team].clone() } else { format!("team-{}", team % TEAMS_PER_ORG) };
            let permission = AUTHORIZE_PERMISSIONS[i as usize % AUTHORIZE_PERMISSIONS.len()];
            json!({ "subject": { "user_id": user }, "org": org, "team": team, "permission": permission }).to_string()
        })
        .collect()
}

/// A cheap, well-spread hash of two counters (SplitMix64), for picking requests at random.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A POST of `body` to `path` with the service token, as a host app sends it.
fn as_host_app(path: &str, body: String) -> Call {
    Call { method: Method::POST, path: path.to_owned(), token: Some(SERVICE_TOKEN.into()), body: Some(body) }
}

/// A POST of `body` to `path` without credentials (signing up, logging in).
fn anonymous_post(path: &str, body: serde_json::Value) -> Call {
    Call { method: Method::POST, path: path.to_owned(), token: None, body: Some(body.to_string()) }
}

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

    pub async fn dataset(&mut self) -> anyhow::Result<Arc<Dataset>> {
        if self.dataset.is_none() {
            let started = std::time::Instant::now();
            let sizes = Sizes {
                orgs: self.args.orgs,
                memberships: self.args.memberships,
                keys: self.args.keys,
                big_org_members: self.args.big_org_members,
            };
            let data = seed(&self.db_url, &sizes).await?;
            println!(
                "seeded {} orgs, {} memberships, {} API keys and an org of {} members in {:.1} s",
                data.orgs.len(),
                data.members.len(),
                data.keys.len(),
                sizes.big_org_members,
                started.elapsed().as_secs_f64()
            );
            self.flush_to_disk().await?;
            self.dataset = Some(Arc::new(data));
        }
        Ok(self.dataset.clone().expect("just seeded"))
    }

    /// Writes the seeded SQLite file out before anything is measured: left to the kernel, the
    /// gigabytes a `--scale` seed writes can reach the disk during the first scenarios and take
    /// the processor from them (health measured right after a scale seed once ran at two thirds of
    /// its figure later in the same run).
    async fn flush_to_disk(&self) -> anyhow::Result<()> {
        let Some(path) = self.db_url.strip_prefix("sqlite://") else { return Ok(()) };
        let started = std::time::Instant::now();
        let files = [path.to_owned(), format!("{path}-wal")];
        tokio::task::spawn_blocking(move || {
            for file in files.iter().filter(|file| std::path::Path::new(file).exists()) {
                std::fs::File::open(file)?.sync_all()?;
            }
            anyhow::Ok(())
        })
        .await??;
        println!("  database written to disk in {:.1} s", started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Posts each body once to `path` as the host app, so caches hold every entry the scenario
    /// will ask about (the first touch of each is a database read, measured apart by `--cold`).
    async fn warm(&self, path: &str, bodies: &[String]) -> anyhow::Result<()> {
        if self.args.cold {
            return Ok(());
        }
        let calls = bodies.iter().map(|body| as_host_app(path, body.clone())).collect();
        crate::client::each_once(self.addr, self.args.connections, calls).await
    }

    pub async fn run(&mut self, name: &str, duration: Duration) -> anyhow::Result<Report> {
        let random = |conn: usize, seq: u64| mix(conn as u64, seq) as usize;
        let make: MakeRequest = match name {
            "health" => {
                let health = Call { method: Method::GET, path: "/health".into(), token: None, body: None };
                Rendered::new([health]).picked_by(|_, _| 0)
            }
            "signup" => Arc::new(|conn, seq, out| {
                let email = format!("c{conn}-{seq}-{}@bench.test", ulid::Ulid::new());
                let body = json!({ "email": email, "password": SEED_PASSWORD, "display_name": "Bench" });
                write_request(out, &anonymous_post("/v1/auth/signup", body));
            }),
            "login" => {
                let data = self.dataset().await?;
                let count = data.members.len();
                Arc::new(move |conn, seq, out| {
                    let email = format!("seed{}@bench.test", (conn * 7919 + seq as usize) % count);
                    let body = json!({ "email": email, "password": SEED_PASSWORD });
                    write_request(out, &anonymous_post("/v1/auth/login", body));
                })
            }
            "authorize" => {
                let bodies = authorize_bodies(&*self.dataset().await?, self.args.subjects);
                self.warm("/v1/authorize", &bodies).await?;
                Rendered::new(bodies.into_iter().map(|body| as_host_app("/v1/authorize", body))).picked_by(random)
            }
            "authorize-team" => {
                let bodies = authorize_team_bodies(&*self.dataset().await?, self.args.subjects);
                self.warm("/v1/authorize", &bodies).await?;
                Rendered::new(bodies.into_iter().map(|body| as_host_app("/v1/authorize", body))).picked_by(random)
            }
            "verify" => {
                let data = self.dataset().await?;
                // Mostly plain checks; one in four also asks for a permission (one in eight denied).
                let bodies: Vec<String> = data
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(i, key)| match i % 8 {
                        0 => json!({ "key": key, "permission": "endpoints.delete" }),
                        4 => json!({ "key": key, "permission": "billing.view" }),
                        _ => json!({ "key": key }),
                    })
                    .map(|body| body.to_string())
                    .collect();
                self.warm("/v1/keys/verify", &bodies).await?;
                Rendered::new(bodies.into_iter().map(|body| as_host_app("/v1/keys/verify", body))).picked_by(random)
            }
            "me" => {
                let tokens = self.member_tokens(self.args.me_users).await?;
                let calls = |tokens: &[String]| -> Vec<Call> {
                    let me = |token: &String| Call {
                        method: Method::GET,
                        path: "/v1/me".into(),
                        token: Some(token.clone()),
                        body: None,
                    };
                    tokens.iter().map(me).collect()
                };
                if !self.args.cold {
                    crate::client::each_once(self.addr, self.args.connections, calls(&tokens)).await?;
                }
                Rendered::new(calls(&tokens)).picked_by(random)
            }
            "members" => {
                let data = self.dataset().await?;
                let big = data.big_org.as_ref().ok_or_else(|| anyhow::anyhow!("members needs --big-org-members"))?;
                let login = json!({ "email": big.owner_email, "password": SEED_PASSWORD });
                let (status, body) = request(self.addr, anonymous_post("/v1/auth/login", login)).await?;
                anyhow::ensure!(status == 200, "the big org's owner could not log in: {status}");
                let answer: serde_json::Value = serde_json::from_slice(&body)?;
                let token = answer["data"]["access_token"].as_str().unwrap_or_default().to_owned();
                // Pages of 100 starting anywhere in the org: the cursor is the last membership seen.
                let paths = std::iter::once(format!("/v1/orgs/{}/members?limit=100", big.id)).chain(
                    big.membership_ids.iter().step_by(97).map(|after| {
                        let cursor = URL_SAFE_NO_PAD.encode(format!("k:{after}"));
                        format!("/v1/orgs/{}/members?limit=100&cursor={cursor}", big.id)
                    }),
                );
                let pages =
                    paths.map(|path| Call { method: Method::GET, path, token: Some(token.clone()), body: None });
                Rendered::new(pages).picked_by(random)
            }
            "dashboard" => {
                let data = self.dataset().await?;
                let big = data.big_org.as_ref().ok_or_else(|| anyhow::anyhow!("dashboard needs --big-org-members"))?;
                let login = json!({ "email": big.owner_email, "password": SEED_PASSWORD });
                let (status, body) = request(self.addr, anonymous_post("/v1/auth/login", login)).await?;
                anyhow::ensure!(status == 200, "the big org's owner could not log in: {status}");
                let answer: serde_json::Value = serde_json::from_slice(&body)?;
                let token = answer["data"]["access_token"].as_str().unwrap_or_default().to_owned();
                // The owner's members page (role dropdowns, pending invitations) from anywhere in
                // the org, signed in with the dashboard's session cookie.
                let paths = std::iter::once(format!("/app/org/{}/members", big.id)).chain(
                    big.membership_ids.iter().step_by(97).map(|after| {
                        let cursor = URL_SAFE_NO_PAD.encode(format!("k:{after}"));
                        format!("/app/org/{}/members?cursor={cursor}", big.id)
                    }),
                );
                let paths: Vec<String> = paths.collect();
                // As a browser does, the load sends back the anti-forgery cookie the first page set
                // and takes compressed pages.
                let session = format!("tenantry_session={token}");
                let first = crate::client::page(self.addr, &paths[0], &session, None).await?;
                let cookies = std::iter::once(session).chain(first.set_cookies).collect::<Vec<_>>().join("; ");
                self.report_page_weight(&paths[0], &cookies).await?;
                let pages: Vec<Vec<u8>> = paths
                    .into_iter()
                    .map(|path| {
                        format!(
                            "GET {path} HTTP/1.1\r\nhost: localhost\r\naccept-encoding: {BROWSER_ENCODINGS}\r\ncookie: {cookies}\r\n\r\n"
                        )
                        .into_bytes()
                    })
                    .collect();
                Arc::new(move |conn, seq, out| out.extend_from_slice(&pages[random(conn, seq) % pages.len()]))
            }
            "org-rename" => self.org_renames().await?,
            "deliveries" => return self.deliveries(duration).await,
            other => anyhow::bail!("unknown scenario `{other}`"),
        };
        load(name, self.addr, self.args.connections, Duration::from_secs(1), duration, make).await
    }

    /// Prints what a members page weighs, alone and with the stylesheet and script it links (the
    /// page budget is 60 KB with both), and what it takes to send to a browser that takes gzip.
    async fn report_page_weight(&self, path: &str, cookies: &str) -> anyhow::Result<()> {
        let crate::client::Page { status, body: html, .. } =
            crate::client::page(self.addr, path, cookies, None).await?;
        let sent = crate::client::page(self.addr, path, cookies, Some(BROWSER_ENCODINGS)).await?.body.len();
        anyhow::ensure!(status == 200, "the members page answered {status}");
        let text = String::from_utf8_lossy(&html);
        let mut assets = 0;
        for marker in ["href=\"/assets/", "src=\"/assets/"] {
            for (at, _) in text.match_indices(marker) {
                let start = at + marker.len() - "/assets/".len();
                let Some(end) = text[start..].find('"') else { continue };
                let crate::client::Page { status, body, .. } =
                    crate::client::page(self.addr, &text[start..start + end], cookies, None).await?;
                anyhow::ensure!(status == 200, "an asset of the page answered {status}");
                assets += body.len();
            }
        }
        println!(
            "  a members page weighs {:.1} KB, {:.1} KB with its stylesheet and script; {:.1} KB sent gzip-compressed",
            html.len() as f64 / 1024.0,
            (html.len() + assets) as f64 / 1024.0,
            sent as f64 / 1024.0
        );
        Ok(())
    }

    /// Access tokens of `count` seeded members spread over the dataset, each signed in once (so
    /// setting up costs a password hash per member).
    async fn member_tokens(&mut self, count: usize) -> anyhow::Result<Vec<String>> {
        let data = self.dataset().await?;
        let count = count.min(data.members.len());
        let started = std::time::Instant::now();
        // Distinct users, spread over the memberships (the user of membership `m` is the m-th).
        let users: Vec<String> = (0..count).map(|n| data.members[n * data.members.len() / count].1.clone()).collect();
        let sessions = seed_sessions(&self.db_url, &users).await?;
        let signer = TokenSigner::from_key(&signing_key(&self.db_url).await?)?;
        let now = chrono::Utc::now().timestamp();
        let tokens = users
            .into_iter()
            .zip(sessions)
            .map(|(sub, sid)| {
                let claims = AccessClaims {
                    iss: ISSUER.into(),
                    sub,
                    sid,
                    amr: vec!["pwd".into()],
                    org_id: None,
                    role: None,
                    permissions: Vec::new(),
                    team_ids: Vec::new(),
                    iat: now,
                    exp: now + 3600,
                };
                signer.sign(&claims).map_err(anyhow::Error::from)
            })
            .collect::<anyhow::Result<Vec<String>>>()?;
        println!("  {count} members' sessions seeded and tokens signed in {:.1} s", started.elapsed().as_secs_f64());
        Ok(tokens)
    }

    /// An access token of the big org's owner.
    async fn big_org_owner(&mut self) -> anyhow::Result<(String, String)> {
        let data = self.dataset().await?;
        let big = data.big_org.as_ref().ok_or_else(|| anyhow::anyhow!("this scenario needs --big-org-members"))?;
        let login = json!({ "email": big.owner_email, "password": SEED_PASSWORD });
        let (status, body) = request(self.addr, anonymous_post("/v1/auth/login", login)).await?;
        anyhow::ensure!(status == 200, "the big org's owner could not log in: {status}");
        let answer: serde_json::Value = serde_json::from_slice(&body)?;
        Ok((big.id.clone(), answer["data"]["access_token"].as_str().unwrap_or_default().to_owned()))
    }

    /// The big org renamed by its owner, a new name each time: one audited change with its event
    /// per request.
    async fn org_renames(&mut self) -> anyhow::Result<MakeRequest> {
        let (org, token) = self.big_org_owner().await?;
        Ok(Arc::new(move |conn, seq, out| {
            let body = json!({ "name": format!("Big org {conn}-{seq}") }).to_string();
            let call = Call {
                method: Method::PATCH,
                path: format!("/v1/orgs/{org}"),
                token: Some(token.clone()),
                body: Some(body),
            };
            write_request(out, &call);
        }))
    }

    /// `org-rename` with `WEBHOOK_ENDPOINTS` endpoints listening for `org.updated` on a local
    /// receiver, so deliveries are asked for faster than changes are made; prints how fast they
    /// arrive, during the load and after it, until every one has.
    async fn deliveries(&mut self, duration: Duration) -> anyhow::Result<Report> {
        const WEBHOOK_ENDPOINTS: u64 = 4;
        let receiver = crate::receiver::Receiver::start().await?;
        for n in 0..WEBHOOK_ENDPOINTS {
            let url = format!("http://{}/hooks/{n}", receiver.addr);
            let create = Call {
                method: Method::POST,
                path: "/v1/admin/webhooks".into(),
                token: Some(crate::ADMIN_TOKEN.into()),
                body: Some(json!({ "url": url, "event_types": ["org.updated"] }).to_string()),
            };
            let (status, body) = request(self.addr, create).await?;
            anyhow::ensure!(status == 201, "the endpoint was not created: {status} {}", String::from_utf8_lossy(&body));
        }
        let make = self.org_renames().await?;
        let report =
            load("deliveries", self.addr, self.args.connections, Duration::from_secs(1), duration, make).await?;
        let (during, _) = receiver.received();
        // The warm-up second's changes are delivered too, so this is a floor.
        let expected = report.requests.saturating_sub(report.errors) * WEBHOOK_ENDPOINTS;
        let drain = std::time::Instant::now();
        let mut last = (0, std::time::Instant::now());
        loop {
            let (count, _) = receiver.received();
            if count >= expected || last.1.elapsed() > Duration::from_secs(10) {
                break;
            }
            if count != last.0 {
                last = (count, std::time::Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (count, span) = receiver.received();
        let span = span.unwrap_or_default().as_secs_f64().max(f64::EPSILON);
        println!(
            "deliveries: {count} delivered (at least {expected} due); {:.0}/s during the load, {:.0}/s from the first to the last, the backlog drained in {:.1} s",
            during as f64 / report.elapsed.as_secs_f64(),
            count as f64 / span,
            drain.elapsed().as_secs_f64()
        );
        Ok(report)
    }
}
