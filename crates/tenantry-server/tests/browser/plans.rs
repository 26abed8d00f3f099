//! What the plan gates, with the reason shown; custom roles from the roles page offered in the
//! invite dialog; and the billing page changing the plan where the billing mode allows it.

use tenantry_server::config::{BillingConfig, BillingMode};

use crate::common::config;
use crate::world::{current_slug, log_in, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_gates_custom_roles_and_the_audit_log_with_the_reason_shown() {
    let world = World::new().await;
    let owner = world.app.signup("olivia@acme.test", "Olivia Owner").await;
    let browser = world.browser().await;
    log_in(&browser, "olivia@acme.test").await;
    let slug = current_slug(&browser).await;
    let base = format!("/app/org/{slug}");

    // On the free plan: the reasons, and no way around them on the page.
    browser.goto(&format!("{base}/roles")).await;
    browser.expect_h1("Roles").await;
    browser
        .wait_text("p.notice", "Custom roles are not part of the Free plan. They come with: Team, Enterprise.")
        .await;
    assert!(!browser.exists("#role-key").await);
    browser.goto(&format!("{base}/audit")).await;
    browser.expect_h1("Audit log").await;
    browser
        .wait_text("p.notice", "The audit log is not part of this organization's plan. It comes with: Starter")
        .await;
    assert!(!browser.exists("main table").await, "no events shown");
    browser.goto(&format!("{base}/billing")).await;
    browser.expect_h1("Billing").await;
    browser.wait_text("p.notice", "Plans change through Tenantry's billing, after payment").await;
    assert!(!browser.exists("form[action$='/billing/plan']").await, "no plan change in managed billing");

    // On the team plan a custom role is defined and offered when inviting.
    world.app.set_plan(&owner.personal_org, "team").await;
    browser.goto(&format!("{base}/roles")).await;
    browser.fill("#role-key", "support").await;
    browser.fill("#role-name", "Support").await;
    browser.click("input[name=permissions][value='endpoints.view']").await;
    browser.click_labelled("form[action$='/roles']", "Create role").await;
    browser.expect_notice("The role Support was created.").await;
    browser.wait_text("main table", "Custom").await;
    browser.goto(&format!("{base}/members")).await;
    browser.click("#invite summary").await;
    browser.select("#invite-role", "support").await;
    browser.fill("#invite-email", "sam@acme.test").await;
    browser.click_labelled("#invite form", "Send invitation").await;
    browser.expect_notice("Invitation sent to sam@acme.test.").await;
    assert!(browser.row("sam@acme.test").await.text().await.unwrap().contains("support"));

    // A custom role is deleted after a confirmation.
    browser.goto(&format!("{base}/roles/support/delete")).await;
    browser.click_labelled("main form", "Delete role").await;
    browser.wait_text("main", "The role was deleted.").await;
    assert!(!browser.find("main table").await.text().await.unwrap().contains("Support"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_open_billing_the_owner_changes_the_plan_on_the_billing_page() {
    let mut config = config();
    config.billing = BillingConfig { mode: BillingMode::Open };
    let world = World::with_config(config).await;
    world.app.signup("olivia@acme.test", "Olivia Owner").await;
    let browser = world.browser().await;
    log_in(&browser, "olivia@acme.test").await;
    let slug = current_slug(&browser).await;
    browser.goto(&format!("/app/org/{slug}/billing")).await;
    browser.wait_text("dl.facts", "Free").await;
    let row = browser.row("Team").await;
    browser.click_in(&row, "Switch to Team").await;
    browser.expect_notice("The plan was changed.").await;
    browser.wait_text("dl.facts", "Team").await;
    assert!(browser.find("tr[aria-current=true]").await.text().await.unwrap().contains("Team"));
    browser.goto(&format!("/app/org/{slug}")).await;
    browser.wait_text("dl.facts", "Team").await;
    browser.close().await;
}
