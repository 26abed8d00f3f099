//! Two-step verification in Chromium with JavaScript off: set-up from the account page with the
//! QR code, the recovery codes shown once, the second step of the next login, the settings page's
//! word on who requiring it would refuse, and the console's reset. The pages pass the
//! accessibility check, fit 375 px, and the set-up page is photographed for the README.

use std::path::PathBuf;

use chrono::Duration;

use crate::accessibility::check_page;
use crate::common::{base32_decode, code_at_step, step_now, PASSWORD};
use crate::harness::{Browser, DESKTOP_WIDTH};
use crate::world::{sign_up, World};

async fn fits_375(browser: &Browser, what: &str) {
    // Resized, not reloaded: some of these pages answer a form and must not be posted again.
    browser.set_width(375).await;
    let scrolled = browser.run("return document.documentElement.scrollWidth;", vec![]).await;
    assert!(scrolled.as_u64().unwrap() <= 375, "{what} scrolls sideways at 375 px: {scrolled}");
    browser.set_width(DESKTOP_WIDTH).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_verification_is_set_up_and_asked_for_at_the_next_login_without_javascript() {
    let world = World::new().await;
    let browser = world.browser_with(false).await;
    sign_up(&browser, "Ada Lovelace", "ada@example.com").await;

    browser.goto("/app/account").await;
    browser.expect_h1("Your account").await;
    browser.click_labelled("main", "Set up two-step verification").await;
    browser.expect_h1("Set up two-step verification").await;
    browser.find(".qr svg").await;
    let secret = base32_decode(browser.wait_text(".secret", "").await.trim());
    check_page(&browser, "the two-step set-up page").await;

    let png = browser.client.screenshot().await.expect("a screenshot");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, DESKTOP_WIDTH);
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::write(directory.join("two-step-setup.png"), &png).expect("writing the screenshot");
    fits_375(&browser, "the set-up page").await;

    browser.fill("#code", &code_at_step(&secret, step_now(&world.app))).await;
    browser.click_labelled("main form", "Turn on two-step verification").await;
    browser.expect_h1("Two-step verification is on").await;
    assert_eq!(browser.all(".codes li").await.len(), 10);
    check_page(&browser, "the recovery codes").await;
    browser.click_labelled("main", "I saved them, continue").await;
    browser.find("nav.side").await;

    // The next login asks for a code after the password.
    browser.click_labelled("header", "Log out").await;
    browser.expect_notice("You are logged out.").await;
    browser.goto("/login").await;
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click_labelled("main form", "Log in").await;
    browser.expect_h1("Two-step verification").await;
    check_page(&browser, "the login's second step").await;
    fits_375(&browser, "the second step").await;
    world.app.clock.advance(Duration::seconds(30));
    browser.fill("#code", &code_at_step(&secret, step_now(&world.app))).await;
    browser.click_labelled("main form", "Verify").await;
    browser.find("nav.side").await;

    // The account page shows it on, and this session as a two-step one.
    browser.goto("/app/account").await;
    browser.wait_text("main", "Recovery codes left: 10").await;
    browser.wait_text("main table", "two-step").await;
    fits_375(&browser, "the account page").await;

    // The settings page names who requiring it would refuse.
    browser.goto("/app").await;
    browser.find("nav.side").await;
    let slug = crate::world::current_slug(&browser).await;
    browser.goto(&format!("/app/org/{slug}/settings")).await;
    browser.wait_text("main", "Every member has two-step verification.").await;
    check_page(&browser, "the settings page").await;
    fits_375(&browser, "the settings page").await;
    browser.close().await;

    // The admin console offers the reset beside each user.
    let console = world.browser_with(false).await;
    console.goto("/admin").await;
    console.fill("#token", crate::common::ADMIN_TOKEN).await;
    console.click_labelled("main form", "Sign in").await;
    // The sign-in lands on the organizations; going on before it has would race its redirect.
    console.expect_h1("Organizations").await;
    console.goto("/admin/users").await;
    console.expect_h1("Users").await;
    console.find("button[aria-label='Reset two-step verification of ada@example.com']").await;
    check_page(&console, "the console's users").await;
    fits_375(&console, "the console's users").await;
    console.close().await;
}
