//! Every org endpoint against every role of `standard`: success or 403 exactly as SPEC 3 and
//! 10a say, and 404 for a member of another org. Each endpoint is one row of `ROWS`; a new
//! endpoint is covered by adding its row.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{spawn_app, Account, TestApp};
use crate::spec_table::{holds, ROLES};

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// Every member (SPEC 3: any member may read the org and its member list).
    AnyMember,
    /// Members whose role holds this permission; everyone else gets 403.
    Permission(&'static str),
    /// Every member but the owner, who gets 409 `last_owner` (leaving).
    AnyMemberButOwner,
}

struct Row {
    method: &'static str,
    /// `{org}` is the org, `{user}` a fresh `developer` to act on, `{key}` a fresh custom role.
    path: &'static str,
    need: Need,
    /// JSON text; `{n}` becomes a number unique to the call.
    body: Option<&'static str>,
}

const ROWS: &[Row] = &[
    Row { method: "GET", path: "/v1/orgs/{org}", need: Need::AnyMember, body: None },
    Row {
        method: "PATCH",
        path: "/v1/orgs/{org}",
        need: Need::Permission("org.manage"),
        body: Some(r#"{"name": "Renamed {n}"}"#),
    },
    Row { method: "GET", path: "/v1/orgs/{org}/members", need: Need::AnyMember, body: None },
    Row { method: "GET", path: "/v1/orgs/{org}/members/{user}", need: Need::AnyMember, body: None },
    Row {
        method: "PATCH",
        path: "/v1/orgs/{org}/members/{user}",
        need: Need::Permission("members.change_role"),
        body: Some(r#"{"role": "viewer"}"#),
    },
    Row {
        method: "DELETE",
        path: "/v1/orgs/{org}/members/{user}",
        need: Need::Permission("members.remove"),
        body: None,
    },
    Row { method: "POST", path: "/v1/orgs/{org}/leave", need: Need::AnyMemberButOwner, body: Some("{}") },
    Row { method: "GET", path: "/v1/orgs/{org}/roles", need: Need::AnyMember, body: None },
    Row { method: "GET", path: "/v1/orgs/{org}/audit-events", need: Need::Permission("audit.view"), body: None },
    Row {
        method: "GET",
        path: "/v1/orgs/{org}/audit-events/export?format=jsonl",
        need: Need::Permission("audit.view"),
        body: None,
    },
    Row {
        method: "POST",
        path: "/v1/orgs/{org}/roles",
        need: Need::Permission("members.change_role"),
        body: Some(r#"{"key": "role_{n}", "name": "Role {n}", "permissions": ["endpoints.view"]}"#),
    },
    Row {
        method: "PATCH",
        path: "/v1/orgs/{org}/roles/{key}",
        need: Need::Permission("members.change_role"),
        body: Some(r#"{"name": "Renamed {n}", "permissions": ["endpoints.view", "requests.replay"]}"#),
    },
    Row {
        method: "DELETE",
        path: "/v1/orgs/{org}/roles/{key}",
        need: Need::Permission("members.change_role"),
        body: None,
    },
];

struct Fixture {
    org: String,
    members: BTreeMap<&'static str, Account>,
    outsider: Account,
    calls: usize,
}

impl Fixture {
    async fn new(app: &TestApp) -> Self {
        let owner = app.signup("owner@example.com", "Owner").await;
        let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
        // Custom roles are on the `team` plan; the role rows need them.
        app.set_plan_in_db(&org, "team").await;
        let mut members = BTreeMap::from([("owner", owner)]);
        for role in &ROLES[1..] {
            let account = app.signup(&format!("{role}@example.com"), role).await;
            app.add_member(&org, &account, role).await;
            members.insert(*role, account);
        }
        // A member, indeed the owner, of another org.
        let outsider = app.signup("eve@example.com", "Eve").await;
        app.create_org(&outsider, "Elsewhere").await;
        Self { org, members, outsider, calls: 0 }
    }

    /// The row's path and body with fresh objects to act on.
    async fn request(&mut self, app: &TestApp, row: &Row) -> (String, Option<Value>) {
        self.calls += 1;
        let n = self.calls;
        let mut path = row.path.replace("{org}", &self.org);
        if path.contains("{user}") {
            let user = app.insert_user(&format!("Target {n}")).await;
            app.add_user(&self.org, &user, "developer").await;
            path = path.replace("{user}", &user);
        }
        if path.contains("{key}") {
            let key = format!("fixture_{n}");
            sqlx::query(
                "INSERT INTO custom_roles (id, org_id, key, name, permissions, created_at) VALUES ($1, $2, $3, $4, '[\"endpoints.view\"]', 0)",
            )
            .bind(format!("role_{}", ulid::Ulid::new()))
            .bind(&self.org)
            .bind(&key)
            .bind(format!("Fixture {n}"))
            .execute(&app.db)
            .await
            .unwrap();
            path = path.replace("{key}", &key);
        }
        let body = row.body.map(|b| serde_json::from_str(&b.replace("{n}", &n.to_string())).unwrap());
        (path, body)
    }
}

#[tokio::test]
async fn every_org_endpoint_admits_exactly_the_roles_the_spec_names() {
    let app = spawn_app().await;
    let mut fx = Fixture::new(&app).await;
    let mut wrong = Vec::new();
    for row in ROWS {
        for role in ROLES {
            let (path, body) = fx.request(&app, row).await;
            let token = fx.members[role].access.clone();
            let r = app.call(row.method.parse().unwrap(), &path, Some(&token), body).await;
            let label = format!("{role}: {} {}", row.method, row.path);
            let ok = match row.need {
                Need::AnyMember => r.status.is_success(),
                Need::AnyMemberButOwner if role == "owner" => r.status == 409 && r.code() == "last_owner",
                Need::AnyMemberButOwner => r.status.is_success(),
                Need::Permission(p) if holds(role, p) => r.status.is_success(),
                Need::Permission(p) => {
                    r.status == 403
                        && r.code() == "forbidden"
                        && r.body["error"]["message"].as_str().unwrap_or("").contains(p)
                }
            };
            if !ok {
                wrong.push(format!("{label} (needs {:?}) -> {} {}", row.need, r.status, r.body));
            }
            if r.status.is_success() && row.path.ends_with("/leave") {
                app.add_member(&fx.org, &fx.members[role], role).await;
            }
        }
    }
    assert!(wrong.is_empty(), "endpoints that disagree with the spec:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_member_of_another_org_gets_404_from_every_org_endpoint() {
    let app = spawn_app().await;
    let mut fx = Fixture::new(&app).await;
    let token = fx.outsider.access.clone();
    for row in ROWS {
        for by_slug in [false, true] {
            let (path, body) = fx.request(&app, row).await;
            let path = if by_slug { path.replacen(&fx.org, "acme", 1) } else { path };
            let r = app.call(row.method.parse().unwrap(), &path, Some(&token), body).await;
            assert_eq!(r.status, 404, "{} {path}: {}", row.method, r.body);
            assert_eq!(r.code(), "not_found");
            assert_eq!(r.body["error"]["message"], "organization not found", "{} {path}", row.method);
        }
    }
    // Nothing was changed by any of those calls: past the fixture's own rows (the org's creation
    // and the members it adds), the org's audit log is empty.
    let changes: Vec<String> = app.audit_after_setup(&fx.org).await.into_iter().map(|(action, ..)| action).collect();
    assert_eq!(changes, Vec::<String>::new());
}
