//! The admin console's webhook pages in Chromium with JavaScript off: an endpoint added with the
//! plain form, its secret shown once, a test event delivered and listed with its answer; the page
//! passes the accessibility check, fits 375 px, and is photographed for the README.

use std::path::PathBuf;

use crate::accessibility::check_page;
use crate::common::{config, ADMIN_TOKEN};
use crate::harness::DESKTOP_WIDTH;
use crate::world::World;

/// A receiver on loopback that accepts every delivery.
async fn receiver() -> String {
    let app = axum::Router::new().fallback(|| async { "ok" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/hooks/tenantry", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_is_added_tested_and_read_in_the_console_without_javascript() {
    let mut config = config();
    config.webhooks.allow_private_targets = true;
    let world = World::with_config(config).await;
    let target = receiver().await;
    let browser = world.browser_with(false).await;
    browser.goto("/admin").await;
    browser.fill("#token", ADMIN_TOKEN).await;
    browser.click_labelled("main form", "Sign in").await;
    browser.expect_h1("Organizations").await;

    browser.goto("/admin/webhooks").await;
    browser.expect_h1("Webhooks").await;
    check_page(&browser, "the webhooks page").await;
    browser.fill("#wh-url", &target).await;
    browser.fill("#wh-types", "member., org.").await;
    browser.fill("#wh-description", "The app's member sync").await;
    browser.click_labelled("main form", "Add endpoint").await;
    browser.expect_notice("Copy its signing secret now").await;
    let secret = browser.wait_text(".secret", "whsec_").await;
    check_page(&browser, "an endpoint's page").await;

    browser.click_labelled("main", "Send test event").await;
    browser.expect_notice("A test event is on its way.").await;
    assert!(!browser.run("return document.body.innerText;", vec![]).await.as_str().unwrap().contains(&secret));
    for _ in 0..100 {
        browser.reload().await;
        if browser.run("return document.body.innerText;", vec![]).await.as_str().unwrap().contains("succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    browser.wait_text("main table", "succeeded").await;
    browser.wait_text("main table", "webhook.test").await;

    let png = browser.client.screenshot().await.expect("a screenshot");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, DESKTOP_WIDTH);
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::write(directory.join("admin-webhook.png"), &png).expect("writing the screenshot");

    browser.set_width(375).await;
    browser.reload().await;
    let scrolled = browser.run("return document.documentElement.scrollWidth;", vec![]).await;
    assert!(scrolled.as_u64().unwrap() <= 375, "the endpoint page scrolls sideways at 375 px: {scrolled}");
    browser.close().await;
}
