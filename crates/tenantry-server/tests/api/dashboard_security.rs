//! Two-step verification and sessions in the dashboard, driven over HTTP with plain forms (as
//! with JavaScript off): set-up with the QR code, recovery codes shown once, the login's second
//! step, signing other sessions out, and an invitation into an org that requires MFA.

use chrono::Duration;
use serde_json::json;

use crate::common::{base32_decode, code_at_step, spawn_app, step_now, PASSWORD};
use crate::page_client::{Browser, Page};

/// The text of the first `<code class="secret">` on the page.
fn secret_on(page: &Page) -> Vec<u8> {
    let marker = "<code class=\"secret\">";
    let start = page.html.find(marker).unwrap_or_else(|| panic!("no secret in {}", page.html)) + marker.len();
    base32_decode(page.html[start..].split('<').next().unwrap())
}

#[tokio::test]
async fn setting_up_two_step_verification_and_logging_in_with_it() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);
    browser.log_in("ada@example.com", PASSWORD).await;

    let account = browser.get("/app/account").await;
    assert!(account.html.contains("Set up two-step verification"), "{}", account.html);
    let setup = browser.submit("/app/account/mfa", &account, &[]).await;
    assert_eq!((setup.status, setup.path.as_str()), (200, "/app/account/mfa"));
    assert!(setup.html.contains("<svg") && setup.html.contains("Scan this code"), "{}", setup.html);
    let secret = secret_on(&setup);

    // A wrong code is refused beside the field, with the same QR code shown again.
    let wrong = if code_at_step(&secret, step_now(&app)) == "000000" { "111111" } else { "000000" };
    let refused = browser.submit("/app/account/mfa/confirm", &setup, &[("code", wrong)]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.html.contains("class=\"field-error\""), "{}", refused.html);
    assert_eq!(secret_on(&refused), secret);

    let code = code_at_step(&secret, step_now(&app));
    let done = browser.submit("/app/account/mfa/confirm", &setup, &[("code", &code)]).await;
    assert_eq!(done.status, 200);
    assert!(done.html.contains("shown only this once"), "{}", done.html);
    let recovery_codes = done.html.matches("<li><code>").count();
    assert_eq!(recovery_codes, 10);
    let account = browser.get("/app/account").await;
    assert!(account.html.contains("Recovery codes left: 10"), "{}", account.html);

    // A new browser logs in in two steps.
    let other = Browser::new(&app);
    let login = other.get("/login").await;
    let step = other.submit("/login", &login, &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(step.status, 200);
    assert!(step.html.contains("Two-step verification") && step.html.contains("name=\"mfa_token\""), "{}", step.html);
    let mfa_token = hidden_value(&step, "mfa_token");
    let replay = other.submit("/login/mfa", &step, &[("mfa_token", &mfa_token), ("code", &code)]).await;
    assert_eq!(replay.status, 400, "the set-up's code is used: {}", replay.html);
    app.clock.advance(Duration::seconds(30));
    let code = code_at_step(&secret, step_now(&app));
    let home = other.submit("/login/mfa", &step, &[("mfa_token", &mfa_token), ("code", &code)]).await;
    assert_eq!(home.status, 200);
    assert!(home.path.starts_with("/app"), "{}", home.path);

    // The first browser sees the three sessions (signup's, its own, the other browser's) and
    // signs the others out.
    let account = browser.get("/app/account").await;
    assert_eq!(account.html.matches("/revoke\">").count(), 3, "{}", account.html);
    assert!(account.html.contains("two-step"));
    let after = browser.submit("/app/account/sessions/revoke-others", &account, &[]).await;
    assert!(after.html.contains("Every other session was signed out."), "{}", after.html);
    assert_eq!(other.get("/app/account").await.path, "/login");
}

/// The value of the hidden field `name`.
fn hidden_value(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.html.find(&marker).unwrap() + marker.len();
    page.html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_invitation_page_leads_through_set_up_into_an_org_that_requires_mfa() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.enrol_mfa(&ada).await;
    app.put(&format!("/v1/orgs/{org}/settings"), Some(&ada.access), json!({ "security": { "mfa_required": true } }))
        .await
        .expect(200);
    app.post(
        &format!("/v1/orgs/{org}/invitations"),
        Some(&ada.access),
        json!({ "email": "bob@example.com", "role": "viewer" }),
    )
    .await
    .expect(201);
    let token = app.emailed_token("bob@example.com", "/accept-invite/").await;
    app.signup("bob@example.com", "Bob").await;

    let browser = Browser::new(&app);
    browser.log_in("bob@example.com", PASSWORD).await;
    let invite = format!("/accept-invite/{token}");
    let page = browser.get(&invite).await;
    let refused = browser.submit(&format!("{invite}/accept"), &page, &[]).await;
    assert_eq!(refused.status, 403);
    assert!(refused.html.contains("requires two-step verification"), "{}", refused.html);

    let setup = browser.submit("/app/account/mfa", &refused, &[("next", &invite)]).await;
    let code = code_at_step(&secret_on(&setup), step_now(&app));
    let done = browser.submit("/app/account/mfa/confirm", &setup, &[("code", &code), ("next", &invite)]).await;
    assert!(done.html.contains(&format!("href=\"{invite}\"")), "continue leads back: {}", done.html);
    let page = browser.get(&invite).await;
    let joined = browser.submit(&format!("{invite}/accept"), &page, &[]).await;
    assert_eq!(joined.status, 200, "{}", joined.html);
    assert!(joined.html.contains("Welcome to Acme"), "{}", joined.html);
}

#[tokio::test]
async fn the_admin_console_resets_a_users_two_step_verification() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    app.enrol_mfa(&ada).await;
    let browser = Browser::new(&app);
    let page = browser.get("/admin").await;
    browser.submit("/admin/login", &page, &[("token", crate::common::ADMIN_TOKEN)]).await;
    let users = browser.get("/admin/users?q=ada").await;
    assert!(users.html.contains("Reset two-step verification of ada@example.com"), "{}", users.html);

    let action = format!("/admin/users/{}/mfa-reset", ada.user_id);
    let done = browser.submit(&action, &users, &[("q", "ada")]).await;
    assert_eq!(done.status, 200);
    assert!(done.html.contains("Two-step verification was removed"), "{}", done.html);
    app.get("/v1/me", Some(&ada.access)).await.expect(401);
    // Again: there is nothing to reset, said on the page.
    let again = browser.submit(&action, &users, &[("q", "ada")]).await;
    assert_eq!(again.status, 409);
    assert!(again.html.contains("no multi-factor authentication to reset"), "{}", again.html);
}

#[tokio::test]
async fn the_settings_page_names_the_members_requiring_mfa_would_refuse() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let bob = app.signup("bob@example.com", "Bob").await;
    let org = app.create_org(&ada, "Acme").await;
    let (id, slug) = (org["id"].as_str().unwrap(), org["slug"].as_str().unwrap());
    app.set_plan(id, "team").await;
    app.add_member(id, &bob, "viewer").await;
    let browser = Browser::new(&app);
    browser.log_in("ada@example.com", PASSWORD).await;
    let page = browser.get(&format!("/app/org/{slug}/settings")).await;
    assert!(
        page.html.contains(
            "2 member(s) have not set up two-step verification and would be refused: ada@example.com, bob@example.com."
        ),
        "{}",
        page.html
    );
}
