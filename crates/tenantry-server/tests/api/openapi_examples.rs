//! Every request-body example in the OpenAPI document is one the server accepts: the test reads
//! the document, and sends each operation's example as it is, with the caller the operation is
//! for and its path filled with real objects, made first (several by the examples themselves).
//! Only the placeholder ids the examples carry are swapped for the ids of those objects.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{config, spawn_with, TestApp, ADMIN_TOKEN, HOST_TOKEN};

/// The user id and team id the examples use as placeholders.
const EXAMPLE_USER: &str = "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M";
const EXAMPLE_TEAM: &str = "team_01HX2Z8Q6Y3V4W5T6R7S8P9N0M";

/// Operations whose example cannot be accepted as it stands, and why.
const NOT_EXERCISED: &[(&str, &str)] = &[
    ("verify_email", "its token comes from an email sent to the address; the example's cannot be valid"),
    ("confirm_password_reset", "its token comes from the reset email; the example's cannot be valid"),
    ("confirm_totp", "its code is the authenticator app's code of this 30-second step"),
    ("disable_totp", "its code is the authenticator app's code of this 30-second step"),
    ("create_webhook", "its URL must resolve to a public address, which a test must not contact"),
];

/// Operations whose example is well formed but names a secret or session the test does not hold:
/// the answer is this refusal of the credential, not of the request.
const REFUSED_CREDENTIAL: &[(&str, u16)] = &[
    ("refresh", 401),   // a made-up refresh token
    ("login_mfa", 401), // a made-up `mfa_token`
];

struct Example {
    method: String,
    path: String,
    operation_id: String,
    body: Value,
}

fn examples(doc: &Value) -> Vec<Example> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let operation_id = operation["operationId"].as_str().unwrap().to_owned();
            let Some(content) = operation.get("requestBody").map(|b| &b["content"]["application/json"]) else {
                continue;
            };
            let body = content["example"].clone();
            assert!(!body.is_null(), "{method} {path} ({operation_id}) has a request body but no example");
            out.push(Example { method: method.clone(), path: path.clone(), operation_id, body });
        }
    }
    out
}

/// The order the examples run in: the ones that make what later ones name come first, and the
/// org's deletion last.
fn stage(example: &Example) -> u8 {
    match example.operation_id.as_str() {
        "signup" => 0,
        "create_org" => 1,
        "create_team" | "create_key" | "create_role" | "add_member" => 2,
        "delete_org" => 9,
        _ => 5,
    }
}

/// Who sends an operation's example: the instance admin for its routes, a host app for the host
/// apps' operations, else the user who signed up (the org's owner).
fn caller<'a>(example: &Example, user: &'a str) -> &'a str {
    match example.operation_id.as_str() {
        _ if example.path.starts_with("/v1/admin/") => ADMIN_TOKEN,
        "change_plan" => ADMIN_TOKEN,
        "authorize" | "verify_key" | "meter" | "add_event" | "send_notification" | "set_billing_customer" => HOST_TOKEN,
        _ => user,
    }
}

#[tokio::test]
async fn every_request_body_example_is_accepted() {
    let mut config = config();
    // The webhook whose update the example makes points at this machine.
    config.webhooks.allow_private_targets = true;
    let app = spawn_with(config).await;
    let doc = app.get("/openapi.json", None).await.expect(200).body;
    let mut examples = examples(&doc);
    examples.sort_by_key(stage);

    // Every exception names an operation with an example.
    let listed = NOT_EXERCISED.iter().map(|(id, _)| *id).chain(REFUSED_CREDENTIAL.iter().map(|(id, _)| *id));
    for id in listed {
        assert!(examples.iter().any(|e| e.operation_id == *id), "{id} is listed but has no example");
    }

    let mut world = World::default();
    for example in &examples {
        if NOT_EXERCISED.iter().any(|(id, _)| *id == example.operation_id) {
            continue;
        }
        let path = world.fill(example);
        let body = world.substitute(&example.body);
        let token = caller(example, &world.user_token).to_owned();
        let method: Method = example.method.to_uppercase().parse().unwrap();
        let r = app.call(method, &path, Some(&token), Some(body)).await;
        let status = r.status.as_u16();
        let label = format!("{} {} ({})", example.method.to_uppercase(), path, example.operation_id);
        assert!(![400, 415, 422].contains(&status), "{label}: the example is refused with {status}: {}", r.body);
        match REFUSED_CREDENTIAL.iter().find(|(id, _)| *id == example.operation_id) {
            Some((_, expected)) => assert_eq!(status, *expected, "{label}: {}", r.body),
            None => assert!(r.status.is_success(), "{label}: {status} {}", r.body),
        }
        world.learn(&app, example, &r.body).await;
    }
}

/// The objects the examples act on, made as the run goes.
#[derive(Default)]
struct World {
    user_token: String,
    /// The example org (`acme`), made by the create-org example.
    org: String,
    /// A second org of the same owner, for the operations that would end the first one's use
    /// (transferring it) or that need an org the member is not yet in.
    other_org: String,
    /// An org member (a developer), for member, team and ownership examples.
    member: String,
    team: String,
    key: String,
    webhook: String,
}

impl World {
    /// The example's path with its parameters filled.
    fn fill(&self, example: &Example) -> String {
        let org = match example.operation_id.as_str() {
            "add_member" | "transfer_ownership" => &self.other_org,
            _ => &self.org,
        };
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        values.insert("org", org);
        values.insert("user", &self.member);
        values.insert("team", &self.team);
        values.insert("metric", "endpoints");
        values.insert("id", &self.webhook);
        let key = if example.path.contains("/roles/") { "support" } else { &self.key };
        values.insert("key", key);
        let mut path = example.path.clone();
        for (name, value) in values {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        assert!(!path.contains('{'), "{}: a path parameter is not filled: {path}", example.operation_id);
        path
    }

    /// The example's body with its placeholder ids replaced by the real ones.
    fn substitute(&self, body: &Value) -> Value {
        let text = body.to_string().replace(EXAMPLE_USER, &self.member).replace(EXAMPLE_TEAM, &self.team);
        serde_json::from_str(&text).unwrap()
    }

    /// Notes what an answer made, and makes what the next examples need.
    async fn learn(&mut self, app: &TestApp, example: &Example, answer: &Value) {
        let data = &answer["data"];
        match example.operation_id.as_str() {
            "signup" => {
                self.user_token = data["access_token"].as_str().unwrap().to_owned();
                // As after following the emailed link: keys and invitations need a verified address.
                app.set_verified_in_db(data["user"]["id"].as_str().unwrap(), true).await;
            }
            "create_org" => {
                self.org = data["id"].as_str().unwrap().to_owned();
                app.set_plan(&self.org, "team").await;
                let other = app
                    .post("/v1/orgs", Some(&self.user_token), json!({ "name": "Examples Two" }))
                    .await
                    .expect(201);
                self.other_org = other.body["data"]["id"].as_str().unwrap().to_owned();
                app.set_plan(&self.other_org, "team").await;
                self.member = app.insert_user("Member").await;
                app.add_user(&self.org, &self.member, "developer").await;
                let webhook = app
                    .post(
                        "/v1/admin/webhooks",
                        Some(ADMIN_TOKEN),
                        json!({ "url": "http://127.0.0.1:9/hooks", "event_types": ["webhook.test"] }),
                    )
                    .await
                    .expect(201);
                self.webhook = webhook.body["data"]["id"].as_str().unwrap().to_owned();
            }
            "create_team" => self.team = data["id"].as_str().unwrap().to_owned(),
            "create_key" => self.key = data["id"].as_str().unwrap().to_owned(),
            _ => {}
        }
    }
}
