//! Role changes, removal and leaving (SPEC 3), custom roles, the audit rows they write, and the
//! authorization cache following every change at once.

use serde_json::{json, Value};

use crate::common::{spawn_app, Account, Response, TestApp};

/// An org with an owner, two admins, a developer and a viewer, all signed in.
struct Team {
    app: TestApp,
    org: String,
    owner: Account,
    admin: Account,
    admin2: Account,
    dev: Account,
    viewer: Account,
}

impl Team {
    async fn new() -> Self {
        let app = spawn_app().await;
        let owner = app.signup("owner@example.com", "Owner").await;
        let org = app.create_org(&owner, "Acme").await["id"].as_str().unwrap().to_owned();
        let mut accounts = Vec::new();
        for name in ["admin", "admin2", "dev", "viewer"] {
            accounts.push(app.signup(&format!("{name}@example.com"), name).await);
        }
        let [admin, admin2, dev, viewer] = accounts.try_into().ok().unwrap();
        let joining = [(&admin, "admin"), (&admin2, "admin"), (&dev, "developer"), (&viewer, "viewer")];
        app.add_members_beyond_plan(&org, &joining.map(|(account, role)| (account.user_id.as_str(), role))).await;
        Self { app, org, owner, admin, admin2, dev, viewer }
    }

    fn member_path(&self, who: &Account) -> String {
        format!("/v1/orgs/{}/members/{}", self.org, who.user_id)
    }

    async fn set_role(&self, by: &Account, who: &Account, role: &str) -> Response {
        self.app.patch(&self.member_path(who), Some(&by.access), json!({ "role": role })).await
    }

    async fn remove(&self, by: &Account, who: &Account) -> Response {
        self.app.delete(&self.member_path(who), Some(&by.access)).await
    }

    async fn create_role(&self, by: &Account, key: &str, permissions: &[&str]) -> Response {
        let body = json!({ "key": key, "name": key.to_uppercase(), "permissions": permissions });
        self.app.post(&format!("/v1/orgs/{}/roles", self.org), Some(&by.access), body).await
    }

    async fn role(&self, who: &Account) -> Option<String> {
        self.app.role_in_db(&self.org, &who.user_id).await
    }

    async fn allowed(&self, who: &Account, permission: &str) -> bool {
        self.app.allowed(&who.user_id, &self.org, permission).await
    }

    /// The org's audit actions after its setup.
    async fn changes(&self) -> Vec<String> {
        self.app.audit_after_setup(&self.org).await.into_iter().map(|(action, ..)| action).collect()
    }

    /// The newest audit row of the org.
    async fn last_change(&self) -> (String, String, String, Value) {
        self.app.audit_of(&self.org).await.pop().unwrap()
    }
}

#[tokio::test]
async fn an_admin_changes_a_role_once_with_one_audit_row() {
    let t = Team::new().await;
    let r = t.set_role(&t.admin, &t.dev, "viewer").await.expect(200);
    assert_eq!(r.body["data"]["role"], "viewer");
    assert_eq!(r.body["data"]["user_id"], t.dev.user_id.as_str());
    assert_eq!(t.role(&t.dev).await.as_deref(), Some("viewer"));
    let (action, actor, target, metadata) = t.last_change().await;
    assert_eq!(action, "member.role_changed");
    assert_eq!(actor, t.admin.user_id);
    assert_eq!(target, t.dev.user_id);
    assert_eq!(metadata, json!({ "from": "developer", "to": "viewer" }));

    // Asking for the role already held changes nothing and records nothing.
    t.set_role(&t.admin, &t.dev, "viewer").await.expect(200);
    assert_eq!(t.changes().await, ["member.role_changed"]);

    // The member sees their new role.
    let me = t.app.get(&format!("/v1/orgs/{}", t.org), Some(&t.dev.access)).await.expect(200);
    assert_eq!(me.body["data"]["role"], "viewer");
    let listed = t.app.get(&t.member_path(&t.dev), Some(&t.viewer.access)).await.expect(200);
    assert_eq!(listed.body["data"]["role"], "viewer");
}

#[tokio::test]
async fn bad_role_changes_are_refused_without_an_audit_row() {
    let t = Team::new().await;
    let r = t.set_role(&t.admin, &t.dev, "overlord").await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "role");
    let r = t.app.patch(&t.member_path(&t.dev), Some(&t.admin.access), json!({})).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "role");
    let stranger = t.app.insert_user("Stranger").await;
    let r = t
        .app
        .patch(&format!("/v1/orgs/{}/members/{stranger}", t.org), Some(&t.admin.access), json!({ "role": "viewer" }))
        .await
        .expect(404);
    assert_eq!(r.body["error"]["message"], "member not found");
    t.app
        .patch(&format!("/v1/orgs/{}/members/not-a-user", t.org), Some(&t.admin.access), json!({ "role": "viewer" }))
        .await
        .expect(404);
    // Without `members.change_role`.
    let r = t.set_role(&t.dev, &t.viewer, "developer").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("members.change_role"));
    assert_eq!(t.changes().await, Vec::<String>::new());
    assert_eq!(t.role(&t.dev).await.as_deref(), Some("developer"));
}

#[tokio::test]
async fn nobody_changes_their_own_role() {
    let t = Team::new().await;
    for (who, role) in [(&t.admin, "developer"), (&t.admin, "admin"), (&t.owner, "admin"), (&t.dev, "admin")] {
        let r = t.set_role(who, who, role).await.expect(403);
        assert_eq!(r.code(), "forbidden");
    }
    assert_eq!(t.role(&t.admin).await.as_deref(), Some("admin"));
    assert_eq!(t.role(&t.owner).await.as_deref(), Some("owner"));
    assert_eq!(t.changes().await, Vec::<String>::new());
}

#[tokio::test]
async fn the_owner_role_is_never_granted_and_the_owner_never_demoted_removed_or_leaving() {
    let t = Team::new().await;
    let r = t.set_role(&t.admin, &t.owner, "developer").await.expect(409);
    assert_eq!(r.code(), "last_owner");
    let r = t.set_role(&t.admin2, &t.owner, "admin").await.expect(409);
    assert_eq!(r.code(), "last_owner");
    for granter in [&t.owner, &t.admin] {
        let r = t.set_role(granter, &t.admin2, "owner").await.expect(403);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("transferring ownership"), "{}", r.body);
    }
    let r = t.remove(&t.admin, &t.owner).await.expect(409);
    assert_eq!(r.code(), "last_owner");
    let r = t.remove(&t.owner, &t.owner).await.expect(409);
    assert_eq!(r.code(), "last_owner");
    let r = t.app.post(&format!("/v1/orgs/{}/leave", t.org), Some(&t.owner.access), json!({})).await.expect(409);
    assert_eq!(r.code(), "last_owner");

    let (owner_id,): (String,) =
        sqlx::query_as("SELECT owner_id FROM orgs WHERE id = $1").bind(&t.org).fetch_one(&t.app.db).await.unwrap();
    assert_eq!(owner_id, t.owner.user_id);
    let owners: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'")
            .bind(&t.org)
            .fetch_all(&t.app.db)
            .await
            .unwrap();
    assert_eq!(owners, std::slice::from_ref(&t.owner.user_id));
    assert_eq!(t.role(&t.admin2).await.as_deref(), Some("admin"));
    assert_eq!(t.changes().await, Vec::<String>::new());
}

#[tokio::test]
async fn nobody_grants_or_strips_a_role_holding_a_permission_they_lack() {
    let t = Team::new().await;
    t.app.set_plan_in_db(&t.org, "team").await;
    // `endpoints.delete` is the owner's alone among the built-ins.
    t.create_role(&t.owner, "janitor", &["endpoints.view", "endpoints.delete"]).await.expect(201);
    t.create_role(&t.owner, "reader", &["endpoints.view"]).await.expect(201);

    let r = t.set_role(&t.admin, &t.dev, "janitor").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("endpoints.delete"), "{}", r.body);
    assert_eq!(t.role(&t.dev).await.as_deref(), Some("developer"));

    // The owner may; then the admin can neither change nor remove the janitor.
    t.set_role(&t.owner, &t.dev, "janitor").await.expect(200);
    let r = t.set_role(&t.admin, &t.dev, "reader").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("endpoints.delete"), "{}", r.body);
    t.remove(&t.admin, &t.dev).await.expect(403);
    assert_eq!(t.role(&t.dev).await.as_deref(), Some("janitor"));
    // Nor edit or delete the role.
    t.app
        .patch(&format!("/v1/orgs/{}/roles/janitor", t.org), Some(&t.admin.access), json!({ "name": "Mine" }))
        .await
        .expect(403);
    t.app
        .delete(&format!("/v1/orgs/{}/roles/janitor?reassign_to=reader", t.org), Some(&t.admin.access))
        .await
        .expect(403);

    // An admin may grant what they hold themselves, admin included, and act on equals.
    t.set_role(&t.admin, &t.viewer, "admin").await.expect(200);
    t.set_role(&t.admin, &t.admin2, "reader").await.expect(200);
    assert_eq!(
        t.changes().await,
        ["role.created", "role.created", "member.role_changed", "member.role_changed", "member.role_changed"]
    );
}

#[tokio::test]
async fn removal_and_leaving_end_membership_with_one_audit_row_each() {
    let t = Team::new().await;
    t.remove(&t.admin, &t.dev).await.expect(204);
    assert_eq!(t.role(&t.dev).await, None);
    let (action, actor, target, _) = t.last_change().await;
    assert_eq!(
        (action.as_str(), actor.as_str(), target.as_str()),
        ("member.removed", t.admin.user_id.as_str(), t.dev.user_id.as_str())
    );
    // Gone on the very next request, including for their still-valid access token.
    let r = t.app.get(&format!("/v1/orgs/{}", t.org), Some(&t.dev.access)).await.expect(404);
    assert_eq!(r.code(), "not_found");
    t.app.get(&t.member_path(&t.dev), Some(&t.admin.access)).await.expect(404);
    t.remove(&t.admin, &t.dev).await.expect(404);
    // Their account and their own org are untouched.
    t.app.get(&format!("/v1/orgs/{}", t.dev.personal_org), Some(&t.dev.access)).await.expect(200);

    // Without `members.remove`.
    let r = t.remove(&t.viewer, &t.admin2).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("members.remove"));

    // Leaving, and removing oneself, which is leaving.
    t.app.post(&format!("/v1/orgs/{}/leave", t.org), Some(&t.viewer.access), json!({})).await.expect(204);
    t.app.get(&format!("/v1/orgs/{}", t.org), Some(&t.viewer.access)).await.expect(404);
    t.app.post(&format!("/v1/orgs/{}/leave", t.org), Some(&t.viewer.access), json!({})).await.expect(404);
    t.remove(&t.admin2, &t.admin2).await.expect(204);
    let (action, actor, target, _) = t.last_change().await;
    assert_eq!(
        (action.as_str(), actor.as_str(), target.as_str()),
        ("member.left", t.admin2.user_id.as_str(), t.admin2.user_id.as_str())
    );

    assert_eq!(t.changes().await, ["member.removed", "member.left", "member.left"]);
    let org = t.app.get(&format!("/v1/orgs/{}", t.org), Some(&t.owner.access)).await.expect(200);
    assert_eq!(org.body["data"]["seat_count"], 2);
    let listed = t.app.get(&format!("/v1/orgs/{}/members", t.org), Some(&t.owner.access)).await.expect(200);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn authorize_follows_every_change_on_the_next_check() {
    let t = Team::new().await;
    t.app.set_plan_in_db(&t.org, "team").await;
    // Warm the cache with the current answers.
    assert!(t.allowed(&t.dev, "endpoints.create").await);
    assert!(!t.allowed(&t.dev, "billing.view").await);
    assert!(t.allowed(&t.admin2, "members.remove").await);

    t.set_role(&t.admin, &t.dev, "finance").await.expect(200);
    assert!(!t.allowed(&t.dev, "endpoints.create").await);
    assert!(t.allowed(&t.dev, "billing.view").await);

    t.remove(&t.admin, &t.admin2).await.expect(204);
    let answer = t.app.authorize(&t.admin2.user_id, &t.org, "members.remove").await;
    assert_eq!(answer["allowed"], false);
    assert!(answer["reason"].as_str().unwrap().contains("not a member"), "{answer}");

    assert!(t.allowed(&t.viewer, "endpoints.view").await);
    t.app.post(&format!("/v1/orgs/{}/leave", t.org), Some(&t.viewer.access), json!({})).await.expect(204);
    assert!(!t.allowed(&t.viewer, "endpoints.view").await);

    // By slug too: the slug cache never hides a change.
    assert!(t.app.allowed(&t.dev.user_id, "acme", "billing.view").await);

    // Custom roles: granted, edited, and deleted with reassignment.
    t.create_role(&t.owner, "support", &["endpoints.view"]).await.expect(201);
    t.set_role(&t.admin, &t.dev, "support").await.expect(200);
    assert!(t.allowed(&t.dev, "endpoints.view").await);
    assert!(!t.allowed(&t.dev, "requests.replay").await);
    assert!(!t.app.allowed(&t.dev.user_id, "acme", "requests.replay").await);
    t.app
        .patch(
            &format!("/v1/orgs/{}/roles/support", t.org),
            Some(&t.admin.access),
            json!({ "permissions": ["requests.replay"] }),
        )
        .await
        .expect(200);
    assert!(t.allowed(&t.dev, "requests.replay").await);
    assert!(t.app.allowed(&t.dev.user_id, "acme", "requests.replay").await);
    assert!(!t.allowed(&t.dev, "endpoints.view").await);
    t.app
        .delete(&format!("/v1/orgs/{}/roles/support?reassign_to=viewer", t.org), Some(&t.admin.access))
        .await
        .expect(204);
    let answer = t.app.authorize(&t.dev.user_id, &t.org, "endpoints.view").await;
    assert_eq!(answer["allowed"], true);
    assert!(answer["reason"].as_str().unwrap().contains("`viewer`"), "{answer}");
}

#[tokio::test]
async fn custom_roles_need_the_custom_roles_plan_feature() {
    let t = Team::new().await;
    for plan in ["free", "starter"] {
        t.app.set_plan_in_db(&t.org, plan).await;
        let r = t.create_role(&t.owner, "support", &["endpoints.view"]).await.expect(402);
        assert_eq!(r.code(), "plan_limit_reached");
        assert_eq!(r.body["error"]["details"]["feature"], "custom_roles");
    }
    for plan in ["team", "enterprise"] {
        t.app.set_plan_in_db(&t.org, plan).await;
        t.create_role(&t.owner, &format!("support_{plan}"), &["endpoints.view"]).await.expect(201);
    }
    // After a downgrade the roles can no longer be edited, but can still be cleaned up.
    t.app.set_plan_in_db(&t.org, "free").await;
    let path = format!("/v1/orgs/{}/roles/support_team", t.org);
    let r = t.app.patch(&path, Some(&t.owner.access), json!({ "name": "Helpdesk" })).await.expect(402);
    assert_eq!(r.body["error"]["details"]["feature"], "custom_roles");
    t.app.delete(&path, Some(&t.owner.access)).await.expect(204);
    assert_eq!(t.changes().await, ["role.created", "role.created", "role.deleted"]);
}

#[tokio::test]
async fn custom_role_definitions_are_validated() {
    let t = Team::new().await;
    t.app.set_plan_in_db(&t.org, "team").await;
    let roles = format!("/v1/orgs/{}/roles", t.org);
    let r = t.create_role(&t.admin, "support", &["endpoints.view", "endpoints.obliterate"]).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "permissions[1]");
    for (body, field) in [
        (json!({ "key": "X", "name": "x", "permissions": [] }), "key"),
        (json!({ "key": "a", "name": "x", "permissions": [] }), "key"),
        (json!({ "key": "has space", "name": "x", "permissions": [] }), "key"),
        (json!({ "key": "fine", "name": " ", "permissions": [] }), "name"),
        (json!({ "key": "fine", "name": "x".repeat(65), "permissions": [] }), "name"),
        (json!({ "key": "fine", "name": "x" }), "permissions"),
        (json!({ "key": "fine", "name": "x", "permissions": [], "extra": 1 }), "extra"),
    ] {
        let r = t.app.post(&roles, Some(&t.admin.access), body.clone()).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], field, "{body}");
    }
    // Not beyond the creator's own permissions.
    let r = t.create_role(&t.admin, "janitor", &["endpoints.delete"]).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("endpoints.delete"));
    // Not without `members.change_role`.
    t.create_role(&t.dev, "helper", &["endpoints.view"]).await.expect(403);

    // Keys are unique in the org, built-in keys included.
    let created =
        t.create_role(&t.admin, "support", &["requests.replay", "endpoints.view", "endpoints.view"]).await.expect(201);
    assert_eq!(
        created.body["data"],
        json!({ "key": "support", "name": "SUPPORT", "permissions": ["endpoints.view", "requests.replay"], "built_in": false })
    );
    for key in ["support", "admin", "owner"] {
        let r = t.create_role(&t.owner, key, &[]).await.expect(409);
        assert_eq!(r.code(), "role_exists", "{key}");
    }
    // Another org may use the same key.
    let other = t.app.create_org(&t.owner, "Other").await["id"].as_str().unwrap().to_owned();
    t.app.set_plan_in_db(&other, "team").await;
    t.app
        .post(
            &format!("/v1/orgs/{other}/roles"),
            Some(&t.owner.access),
            json!({ "key": "support", "name": "S", "permissions": [] }),
        )
        .await
        .expect(201);

    // Listed after the built-ins, to every member.
    let listed = t.app.get(&roles, Some(&t.viewer.access)).await.expect(200);
    let keys: Vec<(&str, bool)> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["built_in"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        keys,
        [
            ("owner", true),
            ("admin", true),
            ("developer", true),
            ("viewer", true),
            ("finance", true),
            ("support", false)
        ]
    );
    assert_eq!(t.changes().await, ["role.created"]);
    let (_, actor, target, metadata) = t.last_change().await;
    assert_eq!((actor.as_str(), target.as_str()), (t.admin.user_id.as_str(), "support"));
    assert_eq!(metadata["permissions"], json!(["endpoints.view", "requests.replay"]));
}

#[tokio::test]
async fn custom_roles_are_edited_with_one_audit_row_and_built_ins_never() {
    let t = Team::new().await;
    t.app.set_plan_in_db(&t.org, "team").await;
    t.create_role(&t.admin, "support", &["endpoints.view"]).await.expect(201);
    let path = format!("/v1/orgs/{}/roles/support", t.org);
    let r = t
        .app
        .patch(
            &path,
            Some(&t.admin2.access),
            json!({ "name": "Helpdesk", "permissions": ["endpoints.view", "requests.replay"] }),
        )
        .await
        .expect(200);
    assert_eq!(r.body["data"]["name"], "Helpdesk");
    assert_eq!(r.body["data"]["permissions"], json!(["endpoints.view", "requests.replay"]));
    let (action, actor, _, metadata) = t.last_change().await;
    assert_eq!((action.as_str(), actor.as_str()), ("role.updated", t.admin2.user_id.as_str()));
    assert_eq!(metadata["before"], json!({ "name": "SUPPORT", "permissions": ["endpoints.view"] }));
    assert_eq!(metadata["after"], json!({ "name": "Helpdesk", "permissions": ["endpoints.view", "requests.replay"] }));
    // The same values again: no change, no row.
    t.app.patch(&path, Some(&t.admin2.access), json!({ "name": "Helpdesk" })).await.expect(200);

    let r = t
        .app
        .patch(&path, Some(&t.admin.access), json!({ "permissions": ["org.transfer_ownership"] }))
        .await
        .expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("org.transfer_ownership"));
    let r = t.app.patch(&path, Some(&t.admin.access), json!({ "permissions": ["nope.nope"] })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "permissions[0]");
    t.app.patch(&path, Some(&t.dev.access), json!({ "name": "x" })).await.expect(403);
    t.app
        .patch(&format!("/v1/orgs/{}/roles/nothing", t.org), Some(&t.admin.access), json!({ "name": "x" }))
        .await
        .expect(404);
    for key in ["admin", "owner", "viewer"] {
        let path = format!("/v1/orgs/{}/roles/{key}", t.org);
        t.app.patch(&path, Some(&t.owner.access), json!({ "name": "Boss" })).await.expect(403);
        t.app.delete(&path, Some(&t.owner.access)).await.expect(403);
    }
    assert_eq!(t.changes().await, ["role.created", "role.updated"]);
}

#[tokio::test]
async fn deleting_a_role_in_use_needs_a_grantable_role_to_reassign_its_members_to() {
    let t = Team::new().await;
    t.app.set_plan_in_db(&t.org, "team").await;
    t.create_role(&t.owner, "support", &["endpoints.view"]).await.expect(201);
    t.create_role(&t.owner, "janitor", &["endpoints.delete"]).await.expect(201);
    t.set_role(&t.admin, &t.dev, "support").await.expect(200);
    t.set_role(&t.admin, &t.viewer, "support").await.expect(200);
    let path = format!("/v1/orgs/{}/roles/support", t.org);

    let r = t.app.delete(&path, Some(&t.admin.access)).await.expect(409);
    assert_eq!(r.code(), "role_in_use");
    assert_eq!(r.body["error"]["details"]["members"], 2);
    let r = t.app.delete(&format!("{path}?reassign_to=owner"), Some(&t.admin.access)).await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("transferring ownership"));
    t.app.delete(&format!("{path}?reassign_to=janitor"), Some(&t.admin.access)).await.expect(403);
    let r = t.app.delete(&format!("{path}?reassign_to=ghost"), Some(&t.admin.access)).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "reassign_to");
    let r = t.app.delete(&format!("{path}?reassign_to=support"), Some(&t.admin.access)).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "reassign_to");
    let r = t.app.delete(&format!("{path}?reasign_to=viewer"), Some(&t.admin.access)).await.expect(400);
    assert_eq!(r.code(), "invalid_request");
    assert_eq!(r.body["error"]["details"]["field"], "reasign_to");
    assert_eq!(t.role(&t.dev).await.as_deref(), Some("support"));

    t.app.delete(&format!("{path}?reassign_to=viewer"), Some(&t.admin.access)).await.expect(204);
    assert_eq!(t.role(&t.dev).await.as_deref(), Some("viewer"));
    assert_eq!(t.role(&t.viewer).await.as_deref(), Some("viewer"));
    let (action, _, target, metadata) = t.last_change().await;
    assert_eq!((action.as_str(), target.as_str()), ("role.deleted", "support"));
    assert_eq!(metadata, json!({ "reassigned_to": "viewer", "members_moved": 2 }));
    t.app.delete(&path, Some(&t.admin.access)).await.expect(404);

    // A role nobody holds goes without reassignment.
    t.app.delete(&format!("/v1/orgs/{}/roles/janitor", t.org), Some(&t.owner.access)).await.expect(204);
    assert_eq!(
        t.changes().await,
        ["role.created", "role.created", "member.role_changed", "member.role_changed", "role.deleted", "role.deleted"]
    );
}
