//! The instance admin's console `/admin`, driven over HTTP by a client that keeps cookies: signing
//! in with the admin token, orgs and users with search, suspending, setting plans, the outbox.

use serde_json::json;

use crate::common::{spawn_app, TestApp, ADMIN_TOKEN, PASSWORD};
use crate::page_client::{csrf_in, Browser, Page};

/// A browser signed in to the console.
async fn admin_browser(app: &TestApp) -> (Browser, Page) {
    let browser = Browser::new(app);
    let page = browser.get("/admin").await;
    let page = browser.submit("/admin/login", &page, &[("token", ADMIN_TOKEN)]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    (browser, page)
}

#[tokio::test]
async fn the_console_opens_only_with_the_admin_token() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);

    let page = browser.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("name=\"token\"") && page.html.contains("<label for=\"token\">"), "{}", page.html);
    for path in ["/admin/orgs", "/admin/users", "/admin/outbox"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 401, "{path}");
        assert!(page.html.contains("name=\"token\""), "{path} shows the sign-in form");
        assert!(!page.html.contains("ada@example.com"), "{path} shows nothing of the instance");
    }

    // A wrong token is refused with a clear message and recorded as the API records one.
    let refused_before = app.audit_count_of("security.unauthenticated").await;
    let page = browser.get("/admin").await;
    let wrong = browser.submit("/admin/login", &page, &[("token", "not-the-admin-token")]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("That is not the admin token of this instance."), "{}", wrong.html);
    assert!(!browser.cookies_for("/admin").contains("tenantry_admin="));
    assert_eq!(app.audit_count_of("security.unauthenticated").await, refused_before + 1);
    assert_eq!(browser.get("/admin/users").await.status, 401);

    // The right one opens the console, where it was asked for.
    let page = browser.get("/admin/users").await;
    let page = browser.submit("/admin/login", &page, &[("token", ADMIN_TOKEN), ("next", "/admin/users")]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_eq!(page.path, "/admin/users");
    assert!(page.html.contains("ada@example.com"), "{}", page.html);
    assert!(browser.cookies_for("/admin").contains("tenantry_admin="));
    assert!(!browser.cookies_for("/app").contains("tenantry_admin="), "the cookie goes only to /admin");

    let page = browser.submit("/admin/logout", &page, &[]).await;
    assert_eq!(page.path, "/admin");
    assert!(page.html.contains("signed out"), "{}", page.html);
    assert_eq!(browser.get("/admin/orgs").await.status, 401);
}

#[tokio::test]
async fn the_admin_cookie_is_http_only_strict_and_short_lived() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let page = browser.get("/admin").await;
    let csrf_cookie = browser.cookies_for("/admin");
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/admin/login", app.base))
        .header("cookie", csrf_cookie)
        .form(&[("csrf", csrf_in(&page.html).as_str()), ("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/orgs");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tenantry_admin="))
        .expect("the console's cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=3600"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
}

#[tokio::test]
async fn a_suspension_from_the_console_ends_the_users_sessions() {
    let app = spawn_app().await;
    let grace = app.signup("grace@example.com", "Grace").await;
    app.signup("ada@example.com", "Ada").await;
    let (admin, _) = admin_browser(&app).await;

    let page = admin.get("/admin/users?q=grace").await;
    assert!(page.html.contains("grace@example.com"), "{}", page.html);
    assert!(!page.html.contains("ada@example.com"), "the search narrows the list");
    let suspend = format!("/admin/users/{}/suspend", grace.user_id);
    assert!(page.html.contains(&format!("action=\"{suspend}\"")), "{}", page.html);

    // Someone else's browser, even with a valid form, is not the admin.
    let stranger = Browser::new(&app);
    let own = stranger.get("/admin").await;
    let refused = stranger.submit(&suspend, &own, &[]).await;
    assert_eq!(refused.status, 401);
    app.get("/v1/me", Some(&grace.access)).await.expect(200);

    // A form without the anti-forgery field changes nothing either.
    let forged = admin.post(&suspend, &[("q", "grace")]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.html.contains("security check failed"), "{}", forged.html);
    app.get("/v1/me", Some(&grace.access)).await.expect(200);

    let page = admin.submit(&suspend, &page, &[("q", "grace")]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_eq!(page.path, "/admin/users");
    assert!(page.html.contains("grace@example.com is suspended"), "{}", page.html);
    assert!(page.html.contains("<strong>suspended</strong>"), "{}", page.html);

    // The user's next API request is refused, and logging in too.
    app.get("/v1/me", Some(&grace.access)).await.expect(401);
    let login = json!({ "email": "grace@example.com", "password": PASSWORD });
    app.post("/v1/auth/login", None, login.clone()).await.expect(403);

    let page = admin.submit(&format!("/admin/users/{}/unsuspend", grace.user_id), &page, &[]).await;
    assert!(page.html.contains("grace@example.com may log in again"), "{}", page.html);
    app.post("/v1/auth/login", None, login).await.expect(200);
    assert_eq!(app.audit_count_of("user.suspended").await, 1);
    assert_eq!(app.audit_count_of("user.unsuspended").await, 1);
}

#[tokio::test]
async fn the_plan_of_an_org_is_set_from_the_console() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme Rockets").await["id"].as_str().unwrap().to_owned();
    app.create_org(&ada, "Globex").await;
    let (admin, _) = admin_browser(&app).await;

    let page = admin.get("/admin/orgs?q=acme").await;
    assert!(page.html.contains("Acme Rockets") && !page.html.contains("Globex"), "{}", page.html);
    let action = format!("/admin/orgs/{org}/plan");
    assert!(page.html.contains(&format!("action=\"{action}\"")), "{}", page.html);

    let unknown = admin.submit(&action, &page, &[("plan", "platinum"), ("q", "acme")]).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.html.contains("is not a plan"), "{}", unknown.html);

    let page = admin.submit(&action, &page, &[("plan", "team"), ("q", "acme")]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_eq!(page.path, "/admin/orgs");
    assert!(page.html.contains("Acme Rockets is now on the"), "{}", page.html);
    let shown = app.get(&format!("/v1/orgs/{org}"), Some(&ada.access)).await.expect(200);
    assert_eq!(shown.body["data"]["plan"], "team");
    let actor: String = sqlx::query_scalar("SELECT actor_type FROM audit_events WHERE action = 'org.plan_changed'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(actor, "admin");
}

#[tokio::test]
async fn the_outbox_shows_every_email_newest_first() {
    let app = spawn_app().await;
    app.signup("first@example.com", "First").await;
    app.clock.advance(chrono::Duration::seconds(5));
    app.signup("second@example.com", "Second").await;
    let (admin, _) = admin_browser(&app).await;

    let page = admin.get("/admin/outbox").await;
    assert_eq!(page.status, 200);
    let first = page.html.find("first@example.com").expect("the first email is listed");
    let second = page.html.find("second@example.com").expect("the second email is listed");
    assert!(second < first, "newest first");
    assert!(page.html.contains("Confirm your email address"), "the subject: {}", page.html);
    assert!(page.html.contains("/verify-email/"), "the text: {}", page.html);
    assert!(page.html.contains("not yet"), "not sent yet: {}", page.html);
}

#[tokio::test]
async fn the_console_manages_webhook_endpoints_with_plain_forms() {
    let mut config = crate::common::config();
    config.webhooks.allow_private_targets = true;
    let app = crate::common::spawn_with(config).await;
    let receiver = crate::webhooks::Receiver::start().await;
    let (browser, page) = admin_browser(&app).await;
    assert!(page.html.contains("href=\"/admin/webhooks\""), "the console links its webhooks");
    assert_eq!(Browser::new(&app).get("/admin/webhooks").await.status, 401);

    // A refused form says why beside the field and keeps what was typed.
    let list = browser.get("/admin/webhooks").await;
    let refused = browser
        .submit("/admin/webhooks", &list, &[("url", "ftp://x.example"), ("event_types", "org."), ("description", "Ops")])
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.html.contains("must be an http or https URL"), "{}", refused.html);
    assert!(refused.html.contains("value=\"org.\""), "the types typed are kept");

    // Created: the secret is shown once, then never again.
    let created = browser
        .submit("/admin/webhooks", &list, &[("url", &receiver.base), ("event_types", "org."), ("description", "Ops")])
        .await;
    assert_eq!(created.status, 200, "{}", created.html);
    assert!(created.path.starts_with("/admin/webhooks/wh_"), "{}", created.path);
    let secret_start = created.html.find("whsec_").expect("the secret is shown");
    let secret: String = created.html[secret_start..].chars().take_while(|c| *c != '<').collect();
    let again = browser.get(&created.path).await;
    assert!(!again.html.contains(&secret), "the secret is shown only once");

    // A test event goes out and its delivery is listed with the answer.
    let tested = browser.submit(&format!("{}/test", created.path), &again, &[]).await;
    assert!(tested.html.contains("A test event is on its way."), "{}", tested.html);
    receiver.wait_for(1).await;
    let mut shown = browser.get(&created.path).await;
    for _ in 0..100 {
        if shown.html.contains("succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        shown = browser.get(&created.path).await;
    }
    assert!(shown.html.contains("webhook.test") && shown.html.contains("succeeded"), "{}", shown.html);

    // Rotating shows the new secret once; disabling and deleting take effect.
    let rotated = browser.submit(&format!("{}/rotate", created.path), &shown, &[]).await;
    assert!(rotated.html.contains("whsec_") && !rotated.html.contains(&secret), "{}", rotated.html);
    let disabled = browser.submit(&format!("{}/enabled", created.path), &rotated, &[("enabled", "false")]).await;
    assert!(disabled.html.contains("The endpoint is disabled"), "{}", disabled.html);
    let forged = browser.post(&format!("{}/delete", created.path), &[]).await;
    assert_ne!(forged.status, 200, "a form without its anti-forgery value is refused");
    let confirm = browser.get(&format!("{}/delete", created.path)).await;
    let deleted = browser.submit(&format!("{}/delete", created.path), &confirm, &[]).await;
    assert_eq!(deleted.path, "/admin/webhooks");
    assert!(deleted.html.contains("No endpoint yet."), "{}", deleted.html);
    let listed = app.get("/v1/admin/webhooks", Some(ADMIN_TOKEN)).await.expect(200);
    assert_eq!(listed.body["data"], json!([]));
}
