//! SPEC 8: an org admin sends a member a password reset email.

use serde_json::json;

use crate::common::{spawn_app, SERVICE_TOKEN};

#[tokio::test]
async fn an_org_manager_sends_a_member_a_reset_link_that_works() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let dev = app.signup("dev@example.com", "Dev").await;
    let eve = app.signup("eve@example.com", "Eve").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &bob, "admin").await;
    app.add_member(&org, &dev, "developer").await;
    let path = |user: &str| format!("/v1/orgs/{org}/members/{user}/reset-password");

    app.post(&path(&bob.user_id), Some(&dev.access), json!({})).await.expect(403);
    app.post(&path(&eve.user_id), Some(&ada.access), json!({})).await.expect(404);
    app.post(&path(&dev.user_id), Some(&eve.access), json!({})).await.expect(404);
    app.post(&path(&dev.user_id), Some(SERVICE_TOKEN), json!({})).await.expect(403);
    // An admin does not outrank the owner.
    app.post(&path(&ada.user_id), Some(&bob.access), json!({})).await.expect(403);
    assert_eq!(app.audit_count_of("member.password_reset_requested").await, 0);

    app.post(&path(&dev.user_id), Some(&bob.access), json!({})).await.expect(202);
    let token = app.emailed_token("dev@example.com", "/reset-password/").await;
    app.post("/v1/auth/password-reset/confirm", None, json!({ "token": token, "new_password": "a brand new one" }))
        .await
        .expect(204);
    app.post("/v1/auth/login", None, json!({ "email": "dev@example.com", "password": "a brand new one" }))
        .await
        .expect(200);
    let (actor, target): (String, String) =
        sqlx::query_as("SELECT actor_id, target_id FROM audit_events WHERE action = 'member.password_reset_requested'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((actor, target), (bob.user_id.clone(), dev.user_id.clone()));
}
