//! Logging in and out, coming back to the page that asked for it, and removing a member after
//! a confirmation.

use crate::common::PASSWORD;
use crate::world::{log_in, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_returns_to_the_page_and_logging_out_ends_the_session() {
    let world = World::new().await;
    let org = world.team_org("olivia@acme.test", "Olivia Owner", "Acme Robotics").await;
    let members = format!("/app/org/{}/members", org.slug);
    let browser = world.browser().await;

    // A visitor is sent to log in, and comes back afterwards.
    browser.goto(&members).await;
    browser.expect_h1("Log in to Tenantry").await;
    assert!(browser.path().await.starts_with("/login?next="), "{}", browser.path().await);
    browser.fill("#email", "olivia@acme.test").await;
    browser.fill("#password", "not the password").await;
    browser.click_labelled("main form", "Log in").await;
    browser.find("[role=alert]").await;
    assert_eq!(browser.status().await, 401);
    assert_eq!(browser.find("#email").await.prop("value").await.unwrap().as_deref(), Some("olivia@acme.test"));
    browser.fill("#password", PASSWORD).await;
    browser.click_labelled("main form", "Log in").await;
    browser.expect_h1("Members").await;
    browser.expect_path(&members).await;

    // The session cookie is out of reach of scripts.
    let cookies = browser.client.get_all_cookies().await.unwrap();
    let session = cookies.iter().find(|c| c.name() == "tenantry_session").expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert!(!browser.run("return document.cookie;", vec![]).await.as_str().unwrap().contains("tenantry_session"));

    // Logging out from the header.
    browser.click_labelled("header", "Log out").await;
    browser.expect_notice("You are logged out.").await;
    browser.expect_path("/login").await;
    browser.goto("/app").await;
    browser.expect_h1("Log in to Tenantry").await;

    // A return path off this server is not followed.
    browser.goto("/login?next=//evil.example/x").await;
    browser.fill("#email", "olivia@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click_labelled("main form", "Log in").await;
    browser.find("nav.side").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.host_str(), Some("127.0.0.1"), "stayed on this server: {url}");
    assert!(url.path().starts_with("/app/org/"), "{url}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_is_removed_after_a_confirmation() {
    let world = World::new().await;
    let org = world.team_org("olivia@acme.test", "Olivia Owner", "Acme Robotics").await;
    let dev = world.member(&org, "dan@acme.test", "Dan Developer", "developer").await;
    let owner = world.browser().await;
    log_in(&owner, "olivia@acme.test").await;
    owner.goto(&format!("/app/org/{}/members", org.slug)).await;

    // Cancel first: nothing happens.
    let row = owner.row("dan@acme.test").await;
    owner.click_in(&row, "Remove").await;
    owner.expect_h1("Remove member").await;
    owner.wait_text("main", "Remove Dan Developer (dan@acme.test) from Acme Robotics?").await;
    owner.click_labelled("main form", "Cancel").await;
    owner.expect_h1("Members").await;
    owner.row("dan@acme.test").await;
    assert_eq!(world.app.role_in_db(&org.id, &dev.user_id).await.as_deref(), Some("developer"));

    // Then for real.
    let row = owner.row("dan@acme.test").await;
    owner.click_in(&row, "Remove").await;
    owner.expect_h1("Remove member").await;
    owner.click_labelled("main form", "Remove member").await;
    owner.expect_notice("The member was removed.").await;
    assert!(!owner.find("main table").await.text().await.unwrap().contains("dan@acme.test"));
    assert_eq!(world.app.role_in_db(&org.id, &dev.user_id).await, None);

    // The owner's own row offers neither a dropdown nor removal.
    let own = owner.row("olivia@acme.test").await;
    assert!(!own.find(fantoccini::Locator::Css("select")).await.unwrap().is_enabled().await.unwrap());
    assert!(own.find(fantoccini::Locator::Css("a[href$='/remove']")).await.is_err());
    owner.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_renewed_until_the_refresh_token_ends() {
    let world = World::new().await;
    let org = world.team_org("olivia@acme.test", "Olivia Owner", "Acme Robotics").await;
    let members = format!("/app/org/{}/members", org.slug);
    let browser = world.browser().await;
    log_in(&browser, "olivia@acme.test").await;
    let session = || async { browser.client.get_named_cookie("tenantry_session").await.unwrap().value().to_owned() };
    let first = session().await;

    // Past the access token's 15 minutes the next page renews it from the refresh cookie.
    world.app.clock.advance(chrono::Duration::minutes(16));
    browser.goto(&members).await;
    browser.expect_h1("Members").await;
    assert_ne!(session().await, first, "a new access token");

    // Past the refresh token's 30 days the visitor logs in again.
    world.app.clock.advance(chrono::Duration::days(31));
    browser.goto(&members).await;
    browser.expect_h1("Log in to Tenantry").await;
    browser.close().await;
}
