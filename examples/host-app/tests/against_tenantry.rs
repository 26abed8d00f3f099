//! The example host app against a real Tenantry (started in-process on a scratch SQLite
//! database): access tokens verified offline with the JWKS, `require(permission)` by role, and API
//! keys verified by Tenantry — all through `tenantry-client`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tenantry_client::host::HostAuth;
use tenantry_client::types::{AdminAddMemberBody, CreateKeyBody, CreateOrgBody, OutboxView, SignupBody};
use tenantry_client::Client;
use tenantry_server::{Application, Config};

const ADMIN_TOKEN: &str = "admin-secret";
const SERVICE_TOKEN: &str = "host-secret";

struct World {
    tenantry: Client,
    app: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        bind: "127.0.0.1:0".into(),
        admin_token: Some(ADMIN_TOKEN.into()),
        service_tokens: vec![SERVICE_TOKEN.into()],
        database: tenantry_server::config::DatabaseConfig {
            url: format!("sqlite://{}/tenantry.db?mode=rwc", dir.path().display()),
            ..Default::default()
        },
        ..Config::default()
    };
    let tenantry = Application::build(config, Default::default()).await.expect("Tenantry starts");
    let base = format!("http://{}", tenantry.local_addr());
    tokio::spawn(tenantry.run(std::future::pending()));

    let auth = HostAuth::new(&base, Some(SERVICE_TOKEN)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, host_app_example::app(auth)).await });
    World { tenantry: Client::new(&base).unwrap(), app, http: reqwest::Client::new(), _dir: dir }
}

impl World {
    async fn signup(&self, email: &str) -> Client {
        let body =
            SignupBody { email: email.into(), password: "correct horse battery".into(), display_name: email.into() };
        let session = self.tenantry.signup(&body).await.unwrap();
        self.tenantry.clone().with_token(session.access_token)
    }

    fn admin(&self) -> Client {
        self.tenantry.clone().with_token(ADMIN_TOKEN)
    }

    /// Confirms the address with the token of its verification email, from the outbox.
    async fn verify_email(&self, email: &str) {
        let outbox: Vec<OutboxView> = self.admin().list_all("/v1/admin/outbox", &[], Some(100)).await.unwrap();
        let text = &outbox.iter().find(|m| m.to == email).expect("a verification email").text;
        let token = text.split("/verify-email/").nth(1).unwrap().split(|c: char| c.is_whitespace()).next().unwrap();
        self.tenantry.verify_email(token).await.unwrap();
    }

    async fn app(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.app));
        if let Some((header, value)) = auth {
            request = request.header(header, value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn bearer(token: &str) -> Option<(&'static str, String)> {
    Some(("authorization", format!("Bearer {token}")))
}

async fn call(
    world: &World,
    method: reqwest::Method,
    path: &str,
    auth: Option<(&str, String)>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    world.app(method, path, auth.as_ref().map(|(h, v)| (*h, v.as_str())), body).await
}

#[tokio::test]
async fn roles_decide_what_a_token_may_do_in_the_host_app() {
    let world = start().await;
    let ada = world.signup("ada@example.com").await;
    let org = ada.create_org(&CreateOrgBody { name: "Acme".into(), ..Default::default() }).await.unwrap();
    let owner = ada.switch_org(&org.slug).await.unwrap().access_token;

    // The owner adds an endpoint and sees it.
    let (status, created) = call(
        &world,
        reqwest::Method::POST,
        "/endpoints",
        bearer(&owner),
        Some(json!({"url": "https://acme.test/hook"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let ada_id = ada.me().await.unwrap().user.id;
    assert_eq!(created["created_by"], ada_id.as_str());
    let (status, list) = call(&world, reqwest::Method::GET, "/endpoints", bearer(&owner), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);

    // A viewer of the same org sees it, and may not add one (a free org has one seat).
    world.admin().change_plan(&org.slug, "team").await.unwrap();
    let bob = world.signup("bob@example.com").await;
    let bob_id = bob.me().await.unwrap().user.id;
    let body = AdminAddMemberBody { user_id: bob_id, role: "viewer".into() };
    let _: Value =
        world.admin().send(reqwest::Method::POST, &format!("/v1/admin/orgs/{}/members", org.id), &body).await.unwrap();
    let viewer = bob.switch_org(&org.slug).await.unwrap().access_token;
    let (status, list) = call(&world, reqwest::Method::GET, "/endpoints", bearer(&viewer), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["url"], "https://acme.test/hook");
    let (status, refusal) =
        call(&world, reqwest::Method::POST, "/endpoints", bearer(&viewer), Some(json!({"url": "https://x.test"})))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refusal["error"]["code"], "forbidden");

    // In his personal org Bob is the owner, and sees that org's endpoints: none.
    let personal = bob.me().await.unwrap().active_org_id.unwrap();
    assert_ne!(personal, org.id);
    let personal_token = bob.switch_org(&personal).await.unwrap().access_token;
    let (status, list) = call(&world, reqwest::Method::GET, "/endpoints", bearer(&personal_token), None).await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn a_missing_or_forged_token_is_refused() {
    let world = start().await;
    let ada = world.signup("ada@example.com").await;
    let me = ada.me().await.unwrap();
    let token = ada.switch_org(&me.active_org_id.unwrap()).await.unwrap().access_token;
    let (status, _) = call(&world, reqwest::Method::GET, "/endpoints", bearer(&token), None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = call(&world, reqwest::Method::GET, "/endpoints", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");

    // The same claims under a signature of another key.
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", "A".repeat(86));
    let (status, _) = call(&world, reqwest::Method::GET, "/endpoints", bearer(&forged), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A key id the server never had.
    let header = r#"{"alg":"EdDSA","typ":"JWT","kid":"not-the-servers"}"#;
    let encoded = URL_SAFE_NO_PAD.encode(header);
    let (_, rest) = token.split_once('.').unwrap();
    let (status, _) =
        call(&world, reqwest::Method::GET, "/endpoints", bearer(&format!("{encoded}.{rest}")), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_keys_are_verified_by_tenantry_with_their_scopes() {
    let world = start().await;
    let ada = world.signup("ada@example.com").await;
    world.verify_email("ada@example.com").await;
    let org = ada.me().await.unwrap().active_org_id.unwrap();
    let owner = ada.switch_org(&org).await.unwrap().access_token;
    call(&world, reqwest::Method::POST, "/endpoints", bearer(&owner), Some(json!({"url": "https://acme.test/a"})))
        .await;

    let viewing = ada
        .create_api_key(
            &org,
            &CreateKeyBody { name: "reader".into(), scopes: vec!["endpoints.view".into()], ..Default::default() },
        )
        .await
        .unwrap();
    let (status, list) =
        call(&world, reqwest::Method::GET, "/api/endpoints", Some(("x-api-key", viewing.secret.clone())), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["url"], "https://acme.test/a");

    let creating = ada
        .create_api_key(
            &org,
            &CreateKeyBody { name: "writer".into(), scopes: vec!["endpoints.create".into()], ..Default::default() },
        )
        .await
        .unwrap();
    let (status, _) =
        call(&world, reqwest::Method::GET, "/api/endpoints", Some(("x-api-key", creating.secret)), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    ada.revoke_api_key(&org, &viewing.key.id).await.unwrap();
    let (status, body) =
        call(&world, reqwest::Method::GET, "/api/endpoints", Some(("x-api-key", viewing.secret)), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "the API key is not valid (revoked)");
    let (status, _) =
        call(&world, reqwest::Method::GET, "/api/endpoints", Some(("x-api-key", "tn_live_nope".into())), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
