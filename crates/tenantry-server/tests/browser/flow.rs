//! The whole life of an organization in the dashboard, as its people click through it: once with
//! JavaScript on and once with it off (every action is a plain form).

use fantoccini::Locator;

use crate::common::PASSWORD;
use crate::harness::{xpath_literal, Browser};
use crate::world::{current_slug, sign_up, World};

const OWNER_EMAIL: &str = "olivia@acme.test";
const MEMBER_EMAIL: &str = "mia@acme.test";
const OTHER_EMAIL: &str = "oscar@elsewhere.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_life_of_an_org_with_javascript() {
    life_of_an_org(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_life_of_an_org_without_javascript() {
    life_of_an_org(false).await;
}

async fn life_of_an_org(javascript: bool) {
    let world = World::new().await;
    let app = &world.app;

    // Sign up: the personal org is shown, named after its owner.
    let owner = world.browser_with(javascript).await;
    sign_up(&owner, "Olivia Owner", OWNER_EMAIL).await;
    let personal = current_slug(&owner).await;
    assert_eq!(switcher(&owner).await, vec!["Olivia Owner (owner)".to_owned()]);
    // The dashboard's script runs exactly when JavaScript is on: it unhides the copy button.
    let copy = owner.find("button[data-copy]").await;
    let hidden = copy.prop("hidden").await.unwrap();
    assert_eq!(hidden.as_deref(), Some(if javascript { "false" } else { "true" }), "the copy button's state");

    // The address is confirmed with the emailed link; the reminder on every page goes.
    owner.wait_text("main .notice", "Confirm your email address").await;
    let verify = world.emailed_link(OWNER_EMAIL, "/verify-email/").await;
    owner.goto(&verify).await;
    owner.click_labelled("main form", "Confirm my email address").await;
    owner.expect_h1("Email address confirmed").await;
    owner.goto("/app").await;
    owner.expect_h1("Olivia Owner").await;
    assert!(!owner.exists("main .notice").await, "no reminder once confirmed");

    // A second org, from the header's link.
    owner.click_labelled("header", "New organization").await;
    owner.expect_h1("New organization").await;
    owner.fill("#name", "Acme Robotics").await;
    owner.fill("#slug", "acme-robotics").await;
    owner.click_labelled("main form", "Create organization").await;
    owner.expect_notice("Acme Robotics is ready.").await;
    owner.expect_path("/app/org/acme-robotics").await;
    owner.expect_h1("Acme Robotics").await;
    assert_eq!(switcher(&owner).await, vec!["Olivia Owner (owner)", "Acme Robotics (owner)"]);
    assert_eq!(selected_org(&owner).await, "acme-robotics");
    owner.wait_text("dl.facts", "Free").await;

    // The instance admin puts it on the team plan over the API; the overview says so.
    let org_id = owner.find("#org-id").await.text().await.unwrap();
    app.set_plan(&org_id, "team").await;
    owner.reload().await;
    owner.wait_text("dl.facts", "Team").await;

    // Invite from the members page: one invitation to keep (sent again), one to withdraw.
    owner.click_labelled("nav.side", "Members").await;
    owner.expect_h1("Members").await;
    invite(&owner, MEMBER_EMAIL, "developer").await;
    invite(&owner, OTHER_EMAIL, "viewer").await;
    let first_link = world.emailed_link(MEMBER_EMAIL, "/accept-invite/").await;
    let row = owner.row(MEMBER_EMAIL).await;
    owner.click_in(&row, "Resend").await;
    owner.expect_notice(&format!("A new invitation link was sent to {MEMBER_EMAIL}.")).await;
    let row = owner.row(OTHER_EMAIL).await;
    owner.click_in(&row, "Revoke").await;
    owner.expect_notice("The invitation was revoked.").await;
    assert!(!owner.texts("main").await.concat().contains(OTHER_EMAIL), "the revoked invitation is listed no more");

    // The invitee, in a browser of their own: the first link was replaced by the one sent again.
    let member = world.browser_with(javascript).await;
    member.goto(&first_link).await;
    member.expect_h1("This invitation link is not valid").await;
    let link = world.emailed_link(MEMBER_EMAIL, "/accept-invite/").await;
    assert_ne!(link, first_link);
    member.goto(&link).await;
    member.expect_h1("Join Acme Robotics").await;
    member.wait_text("main", "Olivia Owner invited you to join Acme Robotics as Developer").await;
    member.fill("#s-name", "Mia Member").await;
    member.fill("#s-email", MEMBER_EMAIL).await;
    member.fill("#s-password", PASSWORD).await;
    member.click_labelled("form[action$='/signup']", "Create account").await;
    member.wait_text("main", "Confirm your email address first").await;
    assert!(!member.exists("form[action$='/accept']").await, "no accepting before the address is confirmed");

    // The address is confirmed through the emailed link, which leads back to the invitation.
    let verify = world.emailed_link(MEMBER_EMAIL, "/verify-email/").await;
    member.goto(&verify).await;
    member.expect_h1("Confirm your email address").await;
    member.click_labelled("main form", "Confirm my email address").await;
    member.expect_h1("Email address confirmed").await;
    member.click_labelled("main", "Continue to your invitation").await;
    member.expect_h1("Join Acme Robotics").await;
    member.click_labelled("form[action$='/accept']", "Accept and join").await;
    member.expect_h1("Welcome to Acme Robotics").await;
    member.click_labelled("main", "Continue to Tenantry").await;
    member.expect_path("/app/org/acme-robotics").await;
    member.expect_h1("Acme Robotics").await;

    // In the dashboard the member switches to the org and sees a developer's view.
    member.goto("/app").await;
    member.expect_h1("Mia Member").await;
    assert_eq!(switcher(&member).await, vec!["Mia Member (owner)", "Acme Robotics (developer)"]);
    member.select("#org-switch", "acme-robotics").await;
    member.click_labelled("form.switcher", "Switch").await;
    member.expect_h1("Acme Robotics").await;
    member.expect_path("/app/org/acme-robotics").await;
    member.click_labelled("nav.side", "Members").await;
    member.expect_h1("Members").await;
    assert!(!member.exists("#invite").await, "a developer has no invite button");
    assert!(!nav(&member).await.contains(&"API keys".to_owned()), "a developer has no API keys section");
    // Switching was remembered: /app opens the org switched to.
    member.goto("/app").await;
    member.expect_path("/app/org/acme-robotics").await;

    // The owner makes the member an admin with the row's dropdown.
    owner.goto("/app/org/acme-robotics/members").await;
    let row = owner.row(MEMBER_EMAIL).await;
    let dropdown = row.find(Locator::Css("select")).await.expect("the member's role dropdown");
    assert_eq!(dropdown.prop("value").await.unwrap().as_deref(), Some("developer"));
    dropdown.select_by_value("admin").await.expect("choosing admin");
    owner.click_in(&row, "Save").await;
    owner.expect_notice("Mia Member now has the role admin.").await;
    let row = owner.row(MEMBER_EMAIL).await;
    let dropdown = row.find(Locator::Css("select")).await.unwrap();
    assert_eq!(dropdown.prop("value").await.unwrap().as_deref(), Some("admin"));

    // Suspension from the row's button (which submits the page's one shared form), and back.
    owner.click_in(&row, "Suspend").await;
    owner.expect_notice("Mia Member is suspended.").await;
    let row = owner.row(MEMBER_EMAIL).await;
    owner.click_in(&row, "Unsuspend").await;
    owner.expect_notice("Mia Member is no longer suspended.").await;

    // A team: created on the Teams page, with the member as its lead.
    owner.click_labelled("nav.side", "Teams").await;
    owner.expect_h1("Teams").await;
    owner.click("#new-team summary").await;
    owner.fill("#team-name", "Platform").await;
    owner.click_labelled("#new-team form", "Create team").await;
    owner.expect_notice("The team Platform was created.").await;
    owner.expect_path("/app/org/acme-robotics/teams/platform").await;
    owner.click("#add-member summary").await;
    owner.fill("#add-email", MEMBER_EMAIL).await;
    owner.select("#add-role", "lead").await;
    owner.click_labelled("#add-member form", "Add to team").await;
    owner.expect_notice("Mia Member joined the team.").await;
    let row = owner.row(MEMBER_EMAIL).await;
    let dropdown = row.find(Locator::Css("select")).await.expect("the team role dropdown");
    assert_eq!(dropdown.prop("value").await.unwrap().as_deref(), Some("lead"));
    owner.goto("/app/org/acme-robotics/members").await;
    assert!(owner.row(MEMBER_EMAIL).await.text().await.unwrap().contains("platform"), "the member's teams");

    // The member's next page shows the new powers.
    member.goto("/app/org/acme-robotics/members").await;
    member.expect_h1("Members").await;
    assert!(member.exists("#invite").await, "an admin has the invite button");
    let sections = nav(&member).await;
    for section in ["API keys", "Billing", "Audit log"] {
        assert!(sections.contains(&section.to_owned()), "an admin sees {section}: {sections:?}");
    }
    assert_eq!(switcher(&member).await, vec!["Mia Member (owner)", "Acme Robotics (admin)"]);

    // An API key: its secret is shown once, works, and is gone on reload.
    owner.goto("/app/org/acme-robotics").await;
    owner.click_labelled("nav.side", "API keys").await;
    owner.expect_h1("API keys").await;
    owner.click("details summary").await;
    owner.fill("#key-name", "CI deploys").await;
    let scope = owner.find("input[name=scopes][value='endpoints.view']").await;
    if !scope.is_selected().await.unwrap() {
        scope.click().await.unwrap();
    }
    owner.click_labelled("main form", "Create key").await;
    owner.expect_notice("The key was created.").await;
    let secret = owner.find("#new-secret").await.text().await.unwrap();
    assert!(secret.starts_with("tn_live_"), "a live key: {secret}");
    assert_eq!(app.verify_key(&secret, Some("endpoints.view")).await["valid"], true);
    let row = owner.row("CI deploys").await;
    assert!(row.text().await.unwrap().contains("active"));
    owner.reload().await;
    owner.expect_h1("API keys").await;
    assert!(!owner.exists("#new-secret").await, "the secret is shown only once");
    assert!(!owner.client.source().await.unwrap().contains(&secret), "the secret is nowhere in the page");

    // Revoked after a confirmation: the key stops working.
    let row = owner.row("CI deploys").await;
    owner.click_in(&row, "Revoke").await;
    owner.wait_text("main", "Revoke this key?").await;
    owner.click_labelled("main form", "Revoke key").await;
    owner.expect_notice("The key was revoked.").await;
    assert!(owner.row("CI deploys").await.text().await.unwrap().contains("revoked"));
    assert_eq!(app.verify_key(&secret, None).await["valid"], false);

    // The audit log lists what happened, and filters by action.
    owner.click_labelled("nav.side", "Audit log").await;
    owner.expect_h1("Audit log").await;
    let log = owner.find("main table").await.text().await.unwrap();
    for action in [
        "org.created",
        "invitation.created",
        "invitation.resent",
        "invitation.revoked",
        "invitation.accepted",
        "member.role_changed",
        "api_key.created",
        "api_key.revoked",
    ] {
        assert!(log.contains(action), "the audit log lists {action}:\n{log}");
    }
    owner.fill("#f-action", "api_key.").await;
    owner.click_labelled("main form", "Filter").await;
    owner.wait_text("main", "api_key.revoked").await;
    let actions = owner.texts("main tbody td code").await;
    assert_eq!(actions, vec!["api_key.revoked", "api_key.created"], "only key events, newest first");

    // Settings: saved by the owner; the admin's page, opened before, is stale and shows the
    // conflict instead of overwriting.
    member.goto("/app/org/acme-robotics/settings").await;
    member.expect_h1("Settings").await;
    owner.click_labelled("nav.side", "Settings").await;
    owner.expect_h1("Settings").await;
    owner.fill("#retention", "30").await;
    owner.click_labelled("form[action$='/settings']", "Save settings").await;
    owner.expect_notice("The settings were saved.").await;
    assert_eq!(owner.find("#retention").await.prop("value").await.unwrap().as_deref(), Some("30"));
    member.fill("#telegram-chat", "4242").await;
    member.click_labelled("form[action$='/settings']", "Save settings").await;
    member.wait_text("[role=alert]", "Someone changed these settings after you opened this page").await;
    assert_eq!(member.status().await, 412);
    assert_eq!(member.find("#retention").await.prop("value").await.unwrap().as_deref(), Some("30"));
    assert_eq!(member.find("#telegram-chat").await.prop("value").await.unwrap().as_deref(), Some(""));
    owner.fill("#org-name", "Acme Robotics Ltd").await;
    owner.click_labelled("form[action$='/settings/general']", "Save name").await;
    owner.expect_notice("The name was saved.").await;
    assert!(switcher(&owner).await.contains(&"Acme Robotics Ltd (owner)".to_owned()));

    // Ownership goes to the member, with the owner's password.
    owner.fill("#new-owner", MEMBER_EMAIL).await;
    owner.fill("#transfer-password", PASSWORD).await;
    owner.click_labelled("form[action$='/settings/transfer']", "Transfer ownership").await;
    owner.expect_notice("Mia Member now owns this organization.").await;
    assert!(owner.exists("a[href$='/settings/leave']").await, "the former owner may now leave");
    assert!(!owner.exists("form[action$='/settings/transfer']").await);
    assert!(switcher(&owner).await.contains(&"Acme Robotics Ltd (admin)".to_owned()));

    // The former owner leaves, after a confirmation.
    owner.click_labelled("main", "Leave…").await;
    owner.click_labelled("main form", "Leave organization").await;
    owner.expect_notice("You left the organization.").await;
    assert_eq!(switcher(&owner).await, vec!["Olivia Owner (owner)"]);

    // The new owner deletes the org, typing its slug.
    member.goto("/app/org/acme-robotics/settings").await;
    member.click_labelled("main", "Delete organization…").await;
    member.wait_text("main", "Delete Acme Robotics Ltd for good?").await;
    member.fill("#confirm-field", "acme-robotics").await;
    member.click_labelled("main form", "Delete organization").await;
    member.expect_notice("The organization was deleted.").await;
    assert_eq!(switcher(&member).await, vec!["Mia Member (owner)"]);

    // It is gone for everyone; the owner's personal org is untouched.
    owner.goto("/app/org/acme-robotics").await;
    owner.expect_h1("Not found").await;
    assert_eq!(owner.status().await, 404);
    owner.goto("/app").await;
    owner.expect_path(&format!("/app/org/{personal}")).await;
    owner.expect_h1("Olivia Owner").await;

    owner.close().await;
    member.close().await;
}

/// Opens the invite dialog on the members page and sends an invitation.
async fn invite(browser: &Browser, email: &str, role: &str) {
    let dialog = browser.find("#invite").await;
    if dialog.attr("open").await.unwrap().is_none() {
        browser.click("#invite summary").await;
    }
    browser.fill("#invite-email", email).await;
    browser.select("#invite-role", role).await;
    browser.click_labelled("#invite form", "Send invitation").await;
    browser.expect_notice(&format!("Invitation sent to {email}.")).await;
    let row = browser.find_xpath(&format!("//tr[td[normalize-space(.)={}]]", xpath_literal(email))).await;
    let text = row.text().await.unwrap();
    assert!(text.contains(role) && text.contains("pending"), "the invitation is listed as pending: {text}");
}

/// The org switcher's choices as shown.
async fn switcher(browser: &Browser) -> Vec<String> {
    browser.find("#org-switch").await;
    browser.texts("#org-switch option").await
}

/// The slug chosen in the switcher.
async fn selected_org(browser: &Browser) -> String {
    browser.find("#org-switch").await.prop("value").await.unwrap().unwrap_or_default()
}

/// The org navigation's sections.
async fn nav(browser: &Browser) -> Vec<String> {
    browser.find("nav.side").await;
    browser.texts("nav.side a").await
}
