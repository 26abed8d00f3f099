//! Organizations: create, list, read, update, slugs, members and cross-org isolation.

use serde_json::json;

use crate::common::{spawn_app, Account, TestApp, ADMIN_TOKEN, PASSWORD};

async fn members_page(app: &TestApp, who: &Account, org: &str, query: &str) -> (Vec<String>, Option<String>) {
    let r = app.get(&format!("/v1/orgs/{org}/members?{query}"), Some(&who.access)).await.expect(200);
    let ids = r.body["data"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap().to_owned()).collect();
    (ids, r.body["pagination"]["next_cursor"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn creating_an_org_makes_the_caller_its_owner() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let r = app
        .post("/v1/orgs", Some(&ada.access), json!({ "name": "Acme, Inc.", "metadata": { "region": "eu" } }))
        .await
        .expect(201);
    let org = &r.body["data"];
    assert_eq!(org["slug"], "acme-inc");
    assert_eq!(org["owner_id"], ada.user_id.as_str());
    assert_eq!(org["is_personal"], false);
    assert_eq!(org["role"], "owner");
    assert_eq!(org["seat_count"], 1);
    assert_eq!(org["metadata"]["region"], "eu");

    let mine = app.get("/v1/orgs", Some(&ada.access)).await.expect(200);
    let roles: Vec<(&str, &str)> = mine.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["slug"].as_str().unwrap(), o["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, vec![("ada", "owner"), ("acme-inc", "owner")]);
    assert!(mine.body["pagination"]["next_cursor"].is_null());

    // Readable by id and by slug.
    let by_id = app.get(&format!("/v1/orgs/{}", org["id"].as_str().unwrap()), Some(&ada.access)).await.expect(200);
    let by_slug = app.get("/v1/orgs/acme-inc", Some(&ada.access)).await.expect(200);
    assert_eq!(by_id.body, by_slug.body);
}

#[tokio::test]
async fn my_org_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    for i in 0..4 {
        app.create_org(&ada, &format!("Org number {i}")).await;
    }
    let first = app.get("/v1/orgs?limit=2", Some(&ada.access)).await.expect(200);
    let cursor = first.body["pagination"]["next_cursor"].as_str().unwrap().to_owned();
    let second = app.get(&format!("/v1/orgs?limit=2&cursor={cursor}"), Some(&ada.access)).await.expect(200);
    let cursor = second.body["pagination"]["next_cursor"].as_str().unwrap().to_owned();
    let third = app.get(&format!("/v1/orgs?limit=2&cursor={cursor}"), Some(&ada.access)).await.expect(200);
    assert_eq!(third.body["data"].as_array().unwrap().len(), 1);
    assert!(third.body["pagination"]["next_cursor"].is_null());
    let mut slugs: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|r| {
            r.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["slug"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    slugs.dedup();
    assert_eq!(slugs.len(), 5);
}

#[tokio::test]
async fn slug_rules_are_enforced() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    for (slug, why) in [
        ("ab", "short"),
        ("Acme", "uppercase"),
        ("acme_inc", "underscore"),
        ("-acme", "leading hyphen"),
        ("admin", "reserved"),
    ] {
        let r = app.post("/v1/orgs", Some(&ada.access), json!({ "name": "X", "slug": slug })).await;
        assert_eq!(r.status, 400, "{why}: {}", r.body);
        assert_eq!(r.body["error"]["details"]["field"], "slug");
    }
    app.post("/v1/orgs", Some(&ada.access), json!({ "name": "Acme", "slug": "acme" })).await.expect(201);
    let taken = app.post("/v1/orgs", Some(&ada.access), json!({ "name": "Other", "slug": "acme" })).await.expect(409);
    assert_eq!(taken.code(), "slug_taken");

    // Derived from the name, with a suffix when the plain slug is taken.
    let derived = app.post("/v1/orgs", Some(&ada.access), json!({ "name": "Acme" })).await.expect(201);
    let slug = derived.body["data"]["slug"].as_str().unwrap();
    assert!(slug.starts_with("acme-") && slug.len() == "acme-".len() + 6, "{slug}");
    // A name with nothing usable still gets a valid slug.
    let odd = app.post("/v1/orgs", Some(&ada.access), json!({ "name": "日本" })).await.expect(201);
    assert!(odd.body["data"]["slug"].as_str().unwrap().starts_with("org-"));

    // Slugs never change.
    let r = app.patch("/v1/orgs/acme", Some(&ada.access), json!({ "slug": "acme-two" })).await.expect(400);
    assert_eq!(r.body["error"]["details"]["field"], "slug");
}

#[tokio::test]
async fn the_owner_renames_and_edits_metadata_and_each_change_is_audited() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await;
    let path = format!("/v1/orgs/{}", org["id"].as_str().unwrap());
    let r = app
        .patch(&path, Some(&ada.access), json!({ "name": "Acme Corp", "metadata": { "tier": "gold" } }))
        .await
        .expect(200);
    assert_eq!(r.body["data"]["name"], "Acme Corp");
    assert_eq!(r.body["data"]["metadata"]["tier"], "gold");
    assert_eq!(r.body["data"]["slug"], "acme");

    let (action, metadata): (String, String) =
        sqlx::query_as("SELECT action, metadata FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(action, "org.updated");
    let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!(metadata["name"]["before"], "Acme");
    assert_eq!(metadata["name"]["after"], "Acme Corp");

    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "metadata": [1, 2] }), "metadata"),
        (json!({ "metadata": { "big": "x".repeat(9000) } }), "metadata"),
        (json!({ "name": 5 }), "name"),
    ] {
        let r = app.patch(&path, Some(&ada.access), body).await.expect(400);
        assert_eq!(r.body["error"]["details"]["field"], field);
    }
}

#[tokio::test]
async fn updating_an_org_needs_org_manage() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await;
    let org_id = org["id"].as_str().unwrap();
    app.set_plan(org_id, "team").await;
    for (role, allowed) in [("admin", true), ("developer", false), ("viewer", false), ("finance", false)] {
        let member = app.signup(&format!("{role}@example.com"), role).await;
        app.add_member(org_id, &member, role).await;
        let r = app
            .patch(&format!("/v1/orgs/{org_id}"), Some(&member.access), json!({ "name": format!("By {role}") }))
            .await;
        if allowed {
            r.expect(200);
        } else {
            let r = r.expect(403);
            assert_eq!(r.code(), "forbidden");
            assert!(r.body["error"]["message"].as_str().unwrap().contains("org.manage"));
        }
        // Every member may read the org and its member list.
        app.get(&format!("/v1/orgs/{org_id}"), Some(&member.access)).await.expect(200);
        app.get(&format!("/v1/orgs/{org_id}/members"), Some(&member.access)).await.expect(200);
    }
}

#[tokio::test]
async fn another_orgs_objects_are_not_found() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let eve = app.signup("eve@example.com", "Eve").await;
    let org = app.create_org(&ada, "Acme").await;
    let id = org["id"].as_str().unwrap();
    for path in [
        format!("/v1/orgs/{id}"),
        "/v1/orgs/acme".into(),
        format!("/v1/orgs/{id}/members"),
        "/v1/orgs/acme/members".into(),
    ] {
        let r = app.get(&path, Some(&eve.access)).await.expect(404);
        assert_eq!(r.code(), "not_found");
        // Indistinguishable from an org that does not exist.
        let missing = app
            .get(&path.replace(id, "org_01HXNOTANORGATALL0000000000").replace("acme", "no-such-org"), Some(&eve.access))
            .await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.body["error"]["message"], r.body["error"]["message"]);
    }
    app.patch(&format!("/v1/orgs/{id}"), Some(&eve.access), json!({ "name": "Mine now" })).await.expect(404);
    let still = app.get(&format!("/v1/orgs/{id}"), Some(&ada.access)).await.expect(200);
    assert_eq!(still.body["data"]["name"], "Acme");
}

#[tokio::test]
async fn member_lists_page_stably_while_members_join() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    app.set_plan(&org_id, "team").await;
    let mut expected = vec![ada.user_id.clone()];
    for i in 0..5 {
        let member = app.signup(&format!("m{i}@example.com"), &format!("Member {i}")).await;
        app.add_member(&org_id, &member, "developer").await;
        expected.push(member.user_id);
    }
    let (first, cursor) = members_page(&app, &ada, &org_id, "limit=3").await;
    assert_eq!(first, expected[..3]);
    // Someone joins between pages: the next page neither repeats nor skips anyone.
    let late = app.signup("late@example.com", "Late").await;
    app.add_member(&org_id, &late, "viewer").await;
    expected.push(late.user_id);
    let (second, cursor) = members_page(&app, &ada, &org_id, &format!("limit=3&cursor={}", cursor.unwrap())).await;
    assert_eq!(second, expected[3..6]);
    let (third, cursor) = members_page(&app, &ada, &org_id, &format!("limit=3&cursor={}", cursor.unwrap())).await;
    assert_eq!(third, expected[6..]);
    assert!(cursor.is_none());

    let seats = app.get(&format!("/v1/orgs/{org_id}"), Some(&ada.access)).await.expect(200);
    assert_eq!(seats.body["data"]["seat_count"], 7);

    for bad in ["limit=0", "limit=101", "limit=ten", "cursor=%%%"] {
        let r = app.get(&format!("/v1/orgs/{org_id}/members?{bad}"), Some(&ada.access)).await.expect(400);
        assert_eq!(r.code(), "invalid_request", "{bad}");
    }
}

/// (user id, email, display name, role) of each member on the first page.
async fn member_rows(app: &TestApp, who: &Account, org: &str) -> Vec<(String, String, String, String)> {
    let r = app.get(&format!("/v1/orgs/{org}/members?limit=100"), Some(&who.access)).await.expect(200);
    let text = |m: &serde_json::Value, field: &str| m[field].as_str().unwrap().to_owned();
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (text(m, "user_id"), text(m, "email"), text(m, "display_name"), text(m, "role")))
        .collect()
}

#[tokio::test]
async fn member_pages_show_each_change_on_the_next_read() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "starter").await;
    let ada_row = (ada.user_id.clone(), "ada@example.com".to_owned(), "Ada".to_owned(), "owner".to_owned());
    let bob_as = |role: &str| (bob.user_id.clone(), "bob@example.com".to_owned(), "Bob".to_owned(), role.to_owned());
    // Each step reads the same page twice, so the second read can come from a cache that the
    // next change must make stale.
    let page_is = |expected: Vec<(String, String, String, String)>| {
        let (app, ada, org) = (&app, &ada, &org);
        async move {
            assert_eq!(member_rows(app, ada, org).await, expected);
            assert_eq!(member_rows(app, ada, org).await, expected);
        }
    };
    page_is(vec![ada_row.clone()]).await;

    let added = json!({ "user_id": bob.user_id, "role": "developer" });
    app.post(&format!("/v1/admin/orgs/{org}/members"), Some(ADMIN_TOKEN), added).await.expect(201);
    page_is(vec![ada_row.clone(), bob_as("developer")]).await;

    let member = format!("/v1/orgs/{org}/members/{}", bob.user_id);
    app.patch(&member, Some(&ada.access), json!({ "role": "admin" })).await.expect(200);
    page_is(vec![ada_row.clone(), bob_as("admin")]).await;

    let transfer = json!({ "new_owner_user_id": bob.user_id, "current_password": PASSWORD });
    app.post(&format!("/v1/orgs/{org}/transfer-ownership"), Some(&ada.access), transfer).await.expect(200);
    let ada_now = |role: &str| (ada.user_id.clone(), "ada@example.com".to_owned(), "Ada".to_owned(), role.to_owned());
    page_is(vec![ada_now("admin"), bob_as("owner")]).await;

    app.post(&format!("/v1/orgs/{org}/leave"), Some(&ada.access), json!({})).await.expect(204);
    assert_eq!(member_rows(&app, &bob, &org).await, vec![bob_as("owner")]);
    app.get(&format!("/v1/orgs/{org}/members"), Some(&ada.access)).await.expect(404);
}

#[tokio::test]
async fn each_membership_shows_its_users_email_and_name_and_they_cannot_drift_apart() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada Lovelace").await;
    let bob = app.signup("bob@example.com", "Bob \"the builder\"").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    // Added behind the service's back: the database itself copies the user's details. (The seat
    // count is then recounted, as the service would have kept it.)
    sqlx::query("INSERT INTO memberships (id, org_id, user_id, role, joined_at) VALUES ($1, $2, $3, 'viewer', 0)")
        .bind(format!("mem_{}", ulid::Ulid::new()))
        .bind(&org)
        .bind(&bob.user_id)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE orgs SET seat_count = (SELECT COUNT(*) FROM memberships WHERE org_id = $1) WHERE id = $1")
        .bind(&org)
        .execute(&app.db)
        .await
        .unwrap();
    // Found by user id: the row's id comes from this test's clock, so its place on the page says
    // nothing about the copy being checked here.
    let rows = member_rows(&app, &ada, &org).await;
    assert_eq!(rows.len(), 2);
    let bobs_row = rows.iter().find(|row| row.0 == bob.user_id).expect("Bob is listed");
    assert_eq!(*bobs_row, (bob.user_id.clone(), "bob@example.com".into(), "Bob \"the builder\"".into(), "viewer".into()));
    let one = app.get(&format!("/v1/orgs/{org}/members/{}", bob.user_id), Some(&ada.access)).await.expect(200);
    assert_eq!(one.body["data"]["email"], "bob@example.com");

    // Changing a user's email or name without their memberships' copies is refused.
    for change in ["email = 'robert@example.com'", "display_name = 'Robert'"] {
        let refused =
            sqlx::query(&format!("UPDATE users SET {change} WHERE id = $1")).bind(&bob.user_id).execute(&app.db).await;
        assert!(refused.unwrap_err().to_string().contains("copied into memberships"), "{change}");
    }
    // Other columns stay writable.
    sqlx::query("UPDATE users SET status = 'active' WHERE id = $1").bind(&bob.user_id).execute(&app.db).await.unwrap();
}
