//! `/app/account`, driven over HTTP by a client that keeps cookies: the profile, changing the
//! password, a new verification email, and forms refused without their anti-forgery field.

use serde_json::json;

use crate::common::{spawn_app, TestApp, ADMIN_TOKEN, PASSWORD};
use crate::page_client::Browser;

const NEW_PASSWORD: &str = "a brand new secret";

/// How many emails went to `to`.
async fn emails_to(app: &TestApp, to: &str) -> usize {
    let r = app.get("/v1/admin/outbox?limit=100", Some(ADMIN_TOKEN)).await.expect(200);
    r.body["data"].as_array().unwrap().iter().filter(|m| m["to"] == to).count()
}

#[tokio::test]
async fn the_account_page_shows_the_profile() {
    let app = spawn_app().await;
    app.signup_unverified("ada@example.com", "Ada Lovelace").await;
    let browser = Browser::new(&app);
    assert_eq!(browser.get("/app/account").await.path, "/login", "a visitor is sent to log in");
    browser.log_in("ada@example.com", PASSWORD).await;

    let page = browser.get("/app/account").await;
    assert_eq!(page.status, 200);
    for shown in ["<h1>Your account</h1>", "Ada Lovelace", "ada@example.com", "not confirmed", "Member since"] {
        assert!(page.html.contains(shown), "{shown} missing: {}", page.html);
    }
    for label in ["<label for=\"current-password\">", "<label for=\"new-password\">"] {
        assert!(page.html.contains(label), "{label} missing");
    }
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let elsewhere = app.signup("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);
    browser.log_in("ada@example.com", PASSWORD).await;
    let page = browser.get("/app/account").await;

    let wrong = browser
        .submit(
            "/app/account/password",
            &page,
            &[("current_password", "not my password"), ("new_password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert!(
        wrong.html.contains("<p class=\"field-error\">Current_password is not your password.</p>"),
        "beside the field: {}",
        wrong.html
    );
    let short = browser
        .submit("/app/account/password", &page, &[("current_password", PASSWORD), ("new_password", "short")])
        .await;
    assert_eq!(short.status, 400);
    assert!(short.html.contains("must be 8 to 128 characters"), "{}", short.html);
    app.get("/v1/me", Some(&elsewhere.access)).await.expect(200);
    assert_eq!(app.audit_count_of("user.password_changed").await, 0);

    let done = browser
        .submit("/app/account/password", &page, &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD)])
        .await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert_eq!(done.path, "/app/account");
    assert!(done.html.contains("Your password was changed."), "{}", done.html);

    // The other session ended; this browser's goes on.
    app.get("/v1/me", Some(&elsewhere.access)).await.expect(401);
    app.post("/v1/auth/refresh", None, json!({ "refresh_token": elsewhere.refresh })).await.expect(401);
    let page = browser.get("/app/account").await;
    assert_eq!((page.status, page.path.as_str()), (200, "/app/account"), "{}", page.html);

    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(401);
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": NEW_PASSWORD })).await.expect(200);
    assert_eq!(app.audit_count_of("user.password_changed").await, 1);
}

#[tokio::test]
async fn a_new_confirmation_email_goes_to_the_outbox_once_a_minute() {
    let app = spawn_app().await;
    let ada = app.signup_unverified("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);
    browser.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(emails_to(&app, "ada@example.com").await, 1, "the one sent at signup");

    let page = browser.get("/app/account").await;
    let sent = browser.submit("/app/account/verification", &page, &[]).await;
    assert_eq!(sent.status, 200, "{}", sent.html);
    assert!(sent.html.contains("We sent a new link to ada@example.com"), "{}", sent.html);
    assert_eq!(emails_to(&app, "ada@example.com").await, 2);
    assert_eq!(app.audit_count_of("user.verification_requested").await, 1);

    let again = browser.submit("/app/account/verification", &page, &[]).await;
    assert_eq!(again.status, 429, "{}", again.html);
    assert_eq!(emails_to(&app, "ada@example.com").await, 2);

    // The new link confirms the address; then there is nothing more to send.
    let token = app.emailed_token("ada@example.com", "/verify-email/").await;
    app.post("/v1/auth/verify-email", None, json!({ "token": token })).await.expect(204);
    let me = app.get("/v1/me", Some(&ada.access)).await.expect(200);
    assert_eq!(me.body["data"]["user"]["email_verified"], true);
    let page = browser.get("/app/account").await;
    assert!(page.html.contains("confirmed") && !page.html.contains("/app/account/verification"), "{}", page.html);
    app.clock.advance(chrono::Duration::minutes(2));
    let confirmed = browser.submit("/app/account/verification", &page, &[]).await;
    assert_eq!(confirmed.status, 409);
    assert!(confirmed.html.contains("already confirmed"), "{}", confirmed.html);
}

#[tokio::test]
async fn a_form_without_its_anti_forgery_field_is_refused_with_a_page() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);
    browser.log_in("ada@example.com", PASSWORD).await;

    let forged =
        browser.post("/app/account/password", &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD)]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.html.contains("security check failed"), "{}", forged.html);
    assert!(forged.html.contains("/assets/dashboard."), "the dashboard's look: {}", forged.html);
    let resend = browser.post("/app/account/verification", &[]).await;
    assert_eq!(resend.status, 403);

    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": PASSWORD })).await.expect(200);
    assert_eq!(app.audit_count_of("user.password_changed").await, 0);
    assert_eq!(app.audit_count_of("user.verification_requested").await, 0);
}
