//! The seeds' team flows, sent as their documents show them: HelloJohn's organizations inside a
//! tenant, managed by the backend with the admin token (as Tenantry teams), and YipYap's
//! invitation naming `team_ids`.

use serde_json::json;
use tenantry_server::Config;

use crate::common::*;

/// HelloJohn's guide: Engineering and Design inside the Acme Corp tenant, Carol in both with
/// different roles, every request through the instance admin token.
#[tokio::test]
async fn hellojohns_organization_requests_work_with_the_admin_token() {
    let app = spawn_with(Config { preset: "hellojohn".into(), ..config() }).await;
    let owner = app.signup("owner@acme.com", "Owner").await;
    let tenant = app.create_org(&owner, "Acme Corp").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&tenant, "team").await;
    let admin = Some(ADMIN_TOKEN);
    let (alice, carol) = (app.insert_user("Alice").await, app.insert_user("Carol").await);
    for user in [&alice, &carol] {
        app.add_user(&tenant, user, "member").await;
    }

    // POST /v2/admin/tenants/{tenantId}/orgs
    let body = json!({ "name": "Engineering", "slug": "engineering", "metadata": { "team_lead": alice } });
    let engineering = app.post(&format!("/v1/orgs/{tenant}/teams"), admin, body).await.expect(201).body["data"].clone();
    assert_eq!(engineering["slug"], "engineering");
    assert_eq!(engineering["metadata"]["team_lead"], alice.as_str());
    app.post(&format!("/v1/orgs/{tenant}/teams"), admin, json!({ "name": "Design", "slug": "design" })).await.expect(201);

    // POST …/orgs/{orgId}/members: Carol is admin of Engineering and member of Design.
    let members = |team: &str| format!("/v1/orgs/{tenant}/teams/{team}/members");
    for (team, user, role) in [("engineering", &alice, "admin"), ("engineering", &carol, "admin"), ("design", &carol, "member")] {
        let r = app.post(&members(team), admin, json!({ "user_id": user, "role": role })).await.expect(201);
        assert_eq!(r.body["data"]["role"], role);
    }

    // GET …/orgs/{orgId}/members
    let listed = app.get(&members("engineering"), admin).await.expect(200).body["data"].clone();
    let mut entries: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned()))
        .collect();
    entries.sort();
    let mut expected = vec![(alice.clone(), "admin".to_owned()), (carol.clone(), "admin".to_owned())];
    expected.sort();
    assert_eq!(entries, expected);
    for field in ["email", "display_name", "joined_at"] {
        assert!(listed[0].get(field).is_some(), "entries carry {field}");
    }

    // POST …/orgs/{orgId}/invitations (the invitee need not be in the tenant yet).
    let body = json!({ "email": "newmember@acme.com", "role": "member", "expires_in": 604800, "team_ids": [engineering["id"]] });
    let invited = app.post(&format!("/v1/orgs/{tenant}/invitations"), admin, body).await.expect(201);
    let token = invited.body["data"]["token"].as_str().unwrap().to_owned();
    let newcomer = app.signup("newmember@acme.com", "New Member").await;
    let accepted = app.post(&format!("/v1/invitations/{token}/accept"), Some(&newcomer.access), json!({})).await;
    assert_eq!(accepted.expect(200).body["data"]["member"]["team_ids"], json!([engineering["id"]]));

    // Checks are answered per team.
    let check = |team: &str| json!({ "subject": { "user_id": carol }, "org": tenant, "team": team, "permission": "members.invite" });
    let answer = app.post("/v1/authorize", Some(SERVICE_TOKEN), check("engineering")).await.expect(200);
    assert_eq!(answer.body["data"]["allowed"], false, "HelloJohn's team admin holds team.manage only: {}", answer.body);
    let answer = app.post("/v1/authorize", Some(SERVICE_TOKEN), check("nowhere")).await.expect(200);
    assert_eq!(answer.body["data"]["reason"], "no such team in this organization");

    // DELETE …/orgs/{orgId}/members/{userId}, then DELETE …/orgs/{orgId}.
    app.delete(&format!("{}/{carol}", members("engineering")), admin).await.expect(204);
    app.delete(&format!("/v1/orgs/{tenant}/teams/design"), admin).await.expect(204);
    let left: Vec<String> =
        app.get(&members("engineering"), admin).await.expect(200).body["data"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap().to_owned()).collect();
    assert!(!left.contains(&carol));
    // Users stay in the tenant.
    app.get(&format!("/v1/orgs/{tenant}/members/{carol}"), admin).await.expect(200);

    // Each change is audited with the admin as actor.
    let actors: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, actor_type FROM audit_events WHERE org_id = $1 AND action LIKE 'team.%' ORDER BY seq",
    )
    .bind(&tenant)
    .fetch_all(&app.db)
    .await
    .unwrap();
    for (action, actor) in &actors {
        // The one exception: the invitee joining the team their invitation named.
        let by_invitee = action == "team.member_added" && actor == "user";
        assert!(actor == "admin" || by_invitee, "{action} by {actor}");
    }
    assert!(actors.iter().any(|(action, actor)| action == "team.deleted" && actor == "admin"), "{actors:?}");
}

/// YipYap's `POST /api/v1/users` body names teams: the invitee joins them.
#[tokio::test]
async fn yipyaps_invitation_with_team_ids_joins_the_teams() {
    let app = spawn_with(Config { preset: "yipyap".into(), ..config() }).await;
    let owner = app.signup("owner@example.com", "Owner").await;
    let org = app.create_org(&owner, "Example, Inc.").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    let team = app.post(&format!("/v1/orgs/{org}/teams"), Some(&owner.access), json!({ "name": "On call" })).await;
    let team = team.expect(201).body["data"]["id"].as_str().unwrap().to_owned();
    let body = json!({ "email": "new@example.com", "role": "member", "team_ids": [team] });
    let r = app.post(&format!("/v1/orgs/{org}/invitations"), Some(&owner.access), body).await.expect(201);
    assert_eq!(r.body["data"]["team_ids"], json!([team]));
    let token = r.body["data"]["token"].as_str().unwrap().to_owned();
    let invitee = app.signup("new@example.com", "New").await;
    let accepted = app.post(&format!("/v1/invitations/{token}/accept"), Some(&invitee.access), json!({})).await;
    assert_eq!(accepted.expect(200).body["data"]["member"]["team_ids"], json!([team]));
    let members = app.get(&format!("/v1/orgs/{org}/teams/{team}/members"), Some(&owner.access)).await.expect(200);
    assert_eq!(members.body["data"][0]["role"], "member", "YipYap's default team role");
    // The host app hears of each step: the team, the invitation, and the invitee joining both.
    let types = app.org_event_types(&org, 7).await;
    assert_eq!(
        types,
        [
            "org.created",
            "org.plan_changed",
            "team.created",
            "invitation.created",
            "team.member_added",
            "invitation.accepted",
            "member.added"
        ]
    );
}
