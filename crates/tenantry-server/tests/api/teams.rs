//! Teams (SPEC 13): teams and team roles over HTTP, checks naming a team, integrity with org
//! membership, the plan's `teams` limit, invitations naming teams, tokens and audit.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

/// An org on the `team` plan owned by Ada, and its id.
async fn org_of(app: &TestApp, ada: &Account, name: &str) -> String {
    let org = app.create_org(ada, name).await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    org
}

async fn create_team(app: &TestApp, token: &str, org: &str, name: &str) -> Value {
    app.post(&format!("/v1/orgs/{org}/teams"), Some(token), json!({ "name": name })).await.expect(201).body["data"]
        .clone()
}

async fn add_to_team(app: &TestApp, token: &str, org: &str, team: &str, user: &str, role: &str) -> Response {
    app.post(&format!("/v1/orgs/{org}/teams/{team}/members"), Some(token), json!({ "user_id": user, "role": role }))
        .await
}

async fn check(app: &TestApp, user: &str, org: &str, team: Option<&str>, permission: &str) -> Value {
    let mut body = json!({ "subject": { "user_id": user }, "org": org, "permission": permission });
    if let Some(team) = team {
        body["team"] = json!(team);
    }
    app.post("/v1/authorize", Some(SERVICE_TOKEN), body).await.expect(200).body["data"].clone()
}

async fn team_rows_of(app: &TestApp, user: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM team_members WHERE user_id = $1").bind(user).fetch_one(&app.db).await.unwrap()
}

async fn claims_of(app: &TestApp, token: &str) -> Value {
    let jwks = app.get("/.well-known/jwks.json", None).await.expect(200).body;
    let decoding = DecodingKey::from_ed_components(jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
    jsonwebtoken::decode::<Value>(token, &decoding, &Validation::new(Algorithm::EdDSA)).unwrap().claims
}

#[tokio::test]
async fn carol_holds_a_different_team_role_in_each_team_and_checks_are_answered_per_team() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_of(&app, &ada, "Acme").await;
    let carol = app.insert_user("Carol").await;
    app.add_user(&org, &carol, "viewer").await;
    let eng = create_team(&app, &ada.access, &org, "Engineering").await;
    let design = create_team(&app, &ada.access, &org, "Design").await;
    assert_eq!(eng["slug"], "engineering");
    assert_eq!(eng["member_count"], 0);
    let (eng_id, design_id) = (eng["id"].as_str().unwrap(), design["id"].as_str().unwrap());
    add_to_team(&app, &ada.access, &org, eng_id, &carol, "lead").await.expect(201);
    add_to_team(&app, &ada.access, &org, "design", &carol, "member").await.expect(201);

    // Her org role (viewer) may not create endpoints; her lead role in Engineering may.
    let plain = check(&app, &carol, &org, None, "endpoints.create").await;
    assert_eq!(plain["allowed"], false, "{plain}");
    let in_eng = check(&app, &carol, &org, Some("engineering"), "endpoints.create").await;
    assert_eq!(in_eng["allowed"], true, "{in_eng}");
    assert!(in_eng["reason"].as_str().unwrap().contains("team role `lead` in team `engineering`"), "{in_eng}");
    let in_design = check(&app, &carol, &org, Some(design_id), "endpoints.create").await;
    assert_eq!(in_design["allowed"], false, "{in_design}");
    assert!(in_design["reason"].as_str().unwrap().contains("team role `member`"), "{in_design}");
    // What the org role grants is granted in any team, and the reason names the org role.
    let view = check(&app, &carol, &org, Some("design"), "endpoints.view").await;
    assert_eq!(view["allowed"], true);
    assert!(view["reason"].as_str().unwrap().starts_with("role `viewer`"), "{view}");

    // A batch mixing teams, answered in order.
    let checks: Vec<Value> = [Some("engineering"), Some("design"), None]
        .iter()
        .map(|team| {
            let mut c = json!({ "subject": { "user_id": carol }, "org": org, "permission": "endpoints.edit" });
            if let Some(team) = team {
                c["team"] = json!(team);
            }
            c
        })
        .collect();
    let r = app.post("/v1/authorize", Some(SERVICE_TOKEN), json!({ "checks": checks })).await.expect(200);
    let allowed: Vec<bool> = r.body["data"].as_array().unwrap().iter().map(|d| d["allowed"].as_bool().unwrap()).collect();
    assert_eq!(allowed, [true, false, false]);

    // Her member object and the team's member list carry the teams.
    let member = app.get(&format!("/v1/orgs/{org}/members/{carol}"), Some(&ada.access)).await.expect(200);
    let mut teams: Vec<&str> =
        member.body["data"]["team_ids"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    teams.sort();
    let mut expected = vec![eng_id, design_id];
    expected.sort();
    assert_eq!(teams, expected);
    let listed = app.get(&format!("/v1/orgs/{org}/teams/engineering/members"), Some(&ada.access)).await.expect(200);
    assert_eq!(listed.body["data"][0]["user_id"], carol.as_str());
    assert_eq!(listed.body["data"][0]["role"], "lead");
    let team = app.get(&format!("/v1/orgs/{org}/teams/{eng_id}"), Some(&ada.access)).await.expect(200);
    assert_eq!(team.body["data"]["member_count"], 1);
}

#[tokio::test]
async fn checks_follow_every_team_change_at_once() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_of(&app, &ada, "Acme").await;
    let carol = app.insert_user("Carol").await;
    app.add_user(&org, &carol, "viewer").await;
    let eng = create_team(&app, &ada.access, &org, "Engineering").await;
    let eng_id = eng["id"].as_str().unwrap();
    let allowed = |team: &'static str| {
        let (app, carol, org) = (&app, carol.clone(), org.clone());
        async move { check(app, &carol, &org, Some(team), "endpoints.create").await["allowed"].as_bool().unwrap() }
    };
    // Cached as "not in the team" …
    assert!(!allowed("engineering").await);
    add_to_team(&app, &ada.access, &org, eng_id, &carol, "member").await.expect(201);
    assert!(!allowed("engineering").await);
    // … then each change is seen by the next check.
    let path = format!("/v1/orgs/{org}/teams/{eng_id}/members/{carol}");
    app.patch(&path, Some(&ada.access), json!({ "role": "lead" })).await.expect(200);
    assert!(allowed("engineering").await);
    app.patch(&format!("/v1/orgs/{org}/teams/{eng_id}"), Some(&ada.access), json!({ "slug": "platform" }))
        .await
        .expect(200);
    assert_eq!(check(&app, &carol, &org, Some("engineering"), "endpoints.view").await["reason"], "no such team in this organization");
    assert!(allowed("platform").await);
    app.delete(&path, Some(&ada.access)).await.expect(204);
    assert!(!allowed("platform").await);
    add_to_team(&app, &ada.access, &org, eng_id, &carol, "lead").await.expect(201);
    assert!(allowed("platform").await);
    app.delete(&format!("/v1/orgs/{org}/teams/{eng_id}"), Some(&ada.access)).await.expect(204);
    let gone = check(&app, &carol, &org, Some("platform"), "endpoints.create").await;
    assert_eq!(gone, json!({ "allowed": false, "reason": "no such team in this organization" }));
    assert_eq!(team_rows_of(&app, &carol).await, 0);
    let member = app.get(&format!("/v1/orgs/{org}/members/{carol}"), Some(&ada.access)).await.expect(200);
    assert_eq!(member.body["data"]["team_ids"], json!([]));

    // Teams are audited, each event naming the team.
    let actions: Vec<String> = app.audit_after_setup(&org).await.into_iter().map(|(a, ..)| a).collect();
    for action in [
        "team.created",
        "team.member_added",
        "team.member_role_changed",
        "team.updated",
        "team.member_removed",
        "team.deleted",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action} missing from {actions:?}");
    }
}

#[tokio::test]
async fn a_team_lead_manages_only_their_own_team_and_grants_nothing_they_lack() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_of(&app, &ada, "Acme").await;
    let lee = app.signup("lee@example.com", "Lee").await;
    app.add_member(&org, &lee, "viewer").await;
    let dan = app.insert_user("Dan").await;
    app.add_user(&org, &dan, "viewer").await;
    create_team(&app, &ada.access, &org, "Engineering").await;
    create_team(&app, &ada.access, &org, "Design").await;
    add_to_team(&app, &ada.access, &org, "engineering", &lee.user_id, "lead").await.expect(201);

    // Lee leads Engineering: adds, promotes and removes there, and edits the team …
    add_to_team(&app, &lee.access, &org, "engineering", &dan, "member").await.expect(201);
    let dan_path = format!("/v1/orgs/{org}/teams/engineering/members/{dan}");
    app.patch(&dan_path, Some(&lee.access), json!({ "role": "lead" })).await.expect(200);
    app.patch(&format!("/v1/orgs/{org}/teams/engineering"), Some(&lee.access), json!({ "description": "Builders" }))
        .await
        .expect(200);
    app.delete(&dan_path, Some(&lee.access)).await.expect(204);
    // … but not Design, nor creating or deleting teams (org `teams.manage`).
    let r = add_to_team(&app, &lee.access, &org, "design", &dan, "member").await.expect(403);
    assert_eq!(r.code(), "forbidden");
    app.delete(&format!("/v1/orgs/{org}/teams/engineering"), Some(&lee.access)).await.expect(403);
    app.post(&format!("/v1/orgs/{org}/teams"), Some(&lee.access), json!({ "name": "Mine" })).await.expect(403);

    // A key holding only `teams.manage` manages teams but cannot hand out what it lacks.
    let key = app.create_key(&ada, &org, &["teams.manage"]).await;
    let r = add_to_team(&app, &key.secret, &org, "design", &dan, "member").await.expect(403);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("endpoints.view"), "{}", r.body);
    // An unknown team role is named.
    let r = add_to_team(&app, &ada.access, &org, "design", &dan, "captain").await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "role", "{}", r.body);
}

#[tokio::test]
async fn another_orgs_team_is_not_found_in_paths_bodies_and_checks() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let eve = app.signup("eve@example.com", "Eve").await;
    let org = org_of(&app, &ada, "Acme").await;
    let other = org_of(&app, &eve, "Evil").await;
    let theirs = create_team(&app, &eve.access, &other, "Secret").await;
    let theirs_id = theirs["id"].as_str().unwrap();
    let carol = app.insert_user("Carol").await;
    app.add_user(&org, &carol, "viewer").await;

    for (method, path) in [
        (Method::GET, format!("/v1/orgs/{org}/teams/{theirs_id}")),
        (Method::GET, format!("/v1/orgs/{org}/teams/{theirs_id}/members")),
        (Method::DELETE, format!("/v1/orgs/{org}/teams/{theirs_id}")),
        (Method::DELETE, format!("/v1/orgs/{org}/teams/{theirs_id}/members/{carol}")),
    ] {
        let r = app.call(method, &path, Some(&ada.access), None).await.expect(404);
        assert_eq!(r.code(), "not_found");
    }
    add_to_team(&app, &ada.access, &org, theirs_id, &carol, "member").await.expect(404);
    // Eve cannot put a member of Ada's org in her team, nor read Ada's org's teams.
    let r = add_to_team(&app, &eve.access, &other, theirs_id, &carol, "member").await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "user_id");
    app.get(&format!("/v1/orgs/{org}/teams"), Some(&eve.access)).await.expect(404);
    // An invitation naming it is refused, naming the entry.
    let r = app
        .post(
            &format!("/v1/orgs/{org}/invitations"),
            Some(&ada.access),
            json!({ "email": "new@example.com", "team_ids": [theirs_id] }),
        )
        .await
        .expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "team_ids[0]", "{}", r.body);
    // A check naming it is answered like one naming no team at all.
    let answer = check(&app, &carol, &org, Some(theirs_id), "endpoints.view").await;
    assert_eq!(answer, json!({ "allowed": false, "reason": "no such team in this organization" }));
    let missing = check(&app, &carol, &org, Some("team_01J00000000000000000000000"), "endpoints.view").await;
    assert_eq!(missing, answer);
}

#[tokio::test]
async fn leaving_removal_and_org_deletion_leave_no_team_rows() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_of(&app, &ada, "Acme").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let carol = app.insert_user("Carol").await;
    app.add_member(&org, &bob, "developer").await;
    app.add_user(&org, &carol, "viewer").await;
    create_team(&app, &ada.access, &org, "Engineering").await;
    create_team(&app, &ada.access, &org, "Design").await;
    for team in ["engineering", "design"] {
        add_to_team(&app, &ada.access, &org, team, &bob.user_id, "member").await.expect(201);
        add_to_team(&app, &ada.access, &org, team, &carol, "member").await.expect(201);
        add_to_team(&app, &ada.access, &org, team, &ada.user_id, "lead").await.expect(201);
    }
    assert_eq!(team_rows_of(&app, &carol).await, 2);
    app.delete(&format!("/v1/orgs/{org}/members/{carol}"), Some(&ada.access)).await.expect(204);
    assert_eq!(team_rows_of(&app, &carol).await, 0);
    app.post(&format!("/v1/orgs/{org}/leave"), Some(&bob.access), json!({})).await.expect(204);
    assert_eq!(team_rows_of(&app, &bob.user_id).await, 0);
    let team = app.get(&format!("/v1/orgs/{org}/teams/design"), Some(&ada.access)).await.expect(200);
    assert_eq!(team.body["data"]["member_count"], 1);

    let slug = app.get(&format!("/v1/orgs/{org}"), Some(&ada.access)).await.expect(200).body["data"]["slug"].clone();
    app.delete_with(&format!("/v1/orgs/{org}"), Some(&ada.access), json!({ "confirm_slug": slug })).await.expect(204);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE org_id = $1")
        .bind(&org)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(team_rows_of(&app, &ada.user_id).await, 0);
}

#[tokio::test]
async fn an_invitation_joins_the_teams_that_still_exist_and_lists_the_rest() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_of(&app, &ada, "Acme").await;
    let eng = create_team(&app, &ada.access, &org, "Engineering").await;
    let design = create_team(&app, &ada.access, &org, "Design").await;
    let ids = [eng["id"].as_str().unwrap(), design["id"].as_str().unwrap()];
    let r = app
        .post(
            &format!("/v1/orgs/{org}/invitations"),
            Some(&ada.access),
            json!({ "email": "grace@example.com", "role": "viewer", "team_ids": ids }),
        )
        .await
        .expect(201);
    let token = r.body["data"]["token"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/orgs/{org}/teams/design"), Some(&ada.access)).await.expect(204);

    let grace = app.signup("grace@example.com", "Grace").await;
    let r = app.post(&format!("/v1/invitations/{token}/accept"), Some(&grace.access), json!({})).await.expect(200);
    assert_eq!(r.body["data"]["member"]["team_ids"], json!([ids[0]]));
    assert_eq!(r.body["data"]["skipped_team_ids"], json!([ids[1]]));
    let members = app.get(&format!("/v1/orgs/{org}/teams/engineering/members"), Some(&ada.access)).await.expect(200);
    assert_eq!(members.body["data"][0]["user_id"], grace.user_id.as_str());
    assert_eq!(members.body["data"][0]["role"], "member", "the preset's default team role");

    // Her token for the org carries the team.
    let r = app.post("/v1/auth/switch-org", Some(&grace.access), json!({ "org_id": org })).await.expect(200);
    let claims = claims_of(&app, r.body["data"]["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["team_ids"], json!([ids[0]]));
}

#[tokio::test]
async fn concurrent_team_creations_never_pass_the_plans_limit() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "starter").await;
    let attempts = (0..20).map(|i| {
        let (app, token, org) = (&app, ada.access.clone(), org.clone());
        async move { app.post(&format!("/v1/orgs/{org}/teams"), Some(&token), json!({ "name": format!("Team {i}") })).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 3, "the starter plan allows 3 teams");
    for refused in results.iter().filter(|r| r.status != 201) {
        assert_eq!(refused.status, 402, "{}", refused.body);
        assert_eq!(refused.code(), "plan_limit_reached");
        assert_eq!(refused.body["error"]["details"]["limit"], "teams");
    }
    let listed = app.get(&format!("/v1/orgs/{org}/teams?limit=100"), Some(&ada.access)).await.expect(200);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn team_input_is_checked_field_by_field() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = org_of(&app, &ada, "Acme").await;
    let teams = format!("/v1/orgs/{org}/teams");
    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "Ok", "slug": "Not A Slug" }), "slug"),
        (json!({ "name": "Ok", "metadata": [1] }), "metadata"),
        (json!({ "name": "Ok", "description": "x".repeat(501) }), "description"),
    ] {
        let r = app.post(&teams, Some(&ada.access), body).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], field, "{}", r.body);
    }
    create_team(&app, &ada.access, &org, "Engineering").await;
    let r = app.post(&teams, Some(&ada.access), json!({ "name": "Other", "slug": "engineering" })).await.expect(409);
    assert_eq!(r.code(), "slug_taken");
    // The same name again gets a slug of its own.
    let again = create_team(&app, &ada.access, &org, "Engineering").await;
    assert_ne!(again["slug"], "engineering");
    assert!(again["slug"].as_str().unwrap().starts_with("engineering-"));
}
