//! The dashboard over HTTP, as a browser without JavaScript drives it: forms with the
//! anti-forgery field, redirects after each change, and refusals shown as pages exactly where
//! the API refuses. (The real-browser suite is `tests/browser`.)

use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::common::{spawn_app, spawn_with, Account, TestApp, PASSWORD};

/// A cookie-keeping client that does not follow redirects, so each step can be checked.
struct Browser {
    client: reqwest::Client,
    base: String,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    headers: reqwest::header::HeaderMap,
    html: String,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Self { client, base: app.base.clone() }
    }

    async fn get(&self, path: &str) -> Page {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        Self::page(response).await
    }

    /// Follows redirects from `path` to the page they end at.
    async fn open(&self, path: &str) -> (String, Page) {
        let mut path = path.to_owned();
        for _ in 0..5 {
            let page = self.get(&path).await;
            match page.location.clone() {
                Some(next) if page.status == StatusCode::SEE_OTHER => path = next,
                _ => return (path, page),
            }
        }
        panic!("too many redirects from {path}");
    }

    /// The anti-forgery value of this browser (set by the first page it opened).
    async fn csrf(&self) -> String {
        let page = self.get("/logout").await;
        let marker = "name=\"csrf\" value=\"";
        let start = page.html.find(marker).expect("a form with the csrf field") + marker.len();
        page.html[start..].split('"').next().unwrap().to_owned()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(String, String)> = vec![("csrf".into(), self.csrf().await)];
        form.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self.post_raw(path, &form).await
    }

    async fn post_raw(&self, path: &str, form: &[(String, String)]) -> Page {
        let response = self.client.post(format!("{}{path}", self.base)).form(form).send().await.unwrap();
        Self::page(response).await
    }

    async fn log_in(app: &TestApp, email: &str) -> Self {
        let browser = Self::new(app);
        let page = browser.post("/login", &[("email", email), ("password", PASSWORD), ("next", "/app")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
        browser
    }

    async fn page(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, headers, html: response.text().await.unwrap() }
    }
}

async fn slug_of(app: &TestApp, account: &Account, org: &str) -> String {
    let r = app.get(&format!("/v1/orgs/{org}"), Some(&account.access)).await.expect(200);
    r.body["data"]["slug"].as_str().unwrap().to_owned()
}

/// An org on the team plan owned by Ada, with Grace as `role`: the accounts and the org's slug.
async fn team_with(app: &TestApp, role: &str) -> (Account, Account, String) {
    let ada = app.verified_signup("ada@example.com", "Ada").await;
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    let org = app.create_org(&ada, "Analytical Engines").await;
    let id = org["id"].as_str().unwrap();
    app.set_plan(id, "team").await;
    app.add_member(id, &grace, role).await;
    (ada, grace, org["slug"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn logging_in_through_the_form_opens_the_active_org_with_the_switcher() {
    let app = spawn_app().await;
    let ada = app.verified_signup("ada@example.com", "Ada Lovelace").await;
    let personal = slug_of(&app, &ada, &ada.personal_org).await;
    let browser = Browser::log_in(&app, "ada@example.com").await;
    let (path, page) = browser.open("/app").await;
    assert_eq!(path, format!("/app/org/{personal}"));
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<select id=\"org-switch\" name=\"org\">"), "{}", page.html);
    assert!(page.html.contains("Ada Lovelace (owner)"));
    assert!(page.html.contains("Requests this month"));
}

#[tokio::test]
async fn a_visitor_is_sent_to_log_in_and_comes_back_only_to_this_server() {
    let app = spawn_app().await;
    app.verified_signup("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);
    let page = browser.get("/app/new-org").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/login?next=%2Fapp%2Fnew-org"));
    for (next, expected) in
        [("//evil.example/x", "/app"), ("https://evil.example", "/app"), ("/app/new-org", "/app/new-org")]
    {
        let browser = Browser::new(&app);
        let page =
            browser.post("/login", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!(page.location.as_deref(), Some(expected), "next = {next}");
    }
}

#[tokio::test]
async fn a_wrong_password_is_shown_on_the_login_page_without_a_session() {
    let app = spawn_app().await;
    app.verified_signup("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);
    let page = browser.post("/login", &[("email", "ada@example.com"), ("password", "wrong password!")]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.html.contains("The email or password is incorrect."), "{}", page.html);
    assert_eq!(browser.get("/app").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_without_the_anti_forgery_field_change_nothing() {
    let app = spawn_app().await;
    let (_ada, _grace, slug) = team_with(&app, "developer").await;
    let browser = Browser::log_in(&app, "ada@example.com").await;
    let form = vec![("email".to_owned(), "new@example.com".to_owned()), ("role".to_owned(), "viewer".to_owned())];
    let page = browser.post_raw(&format!("/app/org/{slug}/invitations"), &form).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.html.contains("security check failed"), "{}", page.html);
    let mut wrong = form.clone();
    wrong.push(("csrf".into(), "not-the-cookie-value-at-all-0123456789".into()));
    assert_eq!(browser.post_raw(&format!("/app/org/{slug}/invitations"), &wrong).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count_of("invitation.created").await, 0);
}

#[tokio::test]
async fn a_forged_role_change_is_refused_exactly_as_the_api_refuses_it() {
    let app = spawn_app().await;
    let (ada, grace, slug) = team_with(&app, "admin").await;
    let dev = app.verified_signup("dev@example.com", "Dev").await;
    let org =
        app.get(&format!("/v1/orgs/{slug}"), Some(&ada.access)).await.body["data"]["id"].as_str().unwrap().to_owned();
    app.add_member(&org, &dev, "developer").await;
    let browser = Browser::log_in(&app, "grace@example.com").await;

    // The dropdown offers no owner role, and an admin may not act on the owner's row.
    let (_, members) = browser.open(&format!("/app/org/{slug}/members")).await;
    assert!(!members.html.contains(&format!("formaction=\"/app/org/{slug}/members/{}/role\"", ada.user_id)));
    assert!(members.html.contains(&format!("formaction=\"/app/org/{slug}/members/{}/role\"", dev.user_id)));

    let owner_grant =
        browser.post(&format!("/app/org/{slug}/members/{}/role", dev.user_id), &[("role", "owner")]).await;
    assert_eq!(owner_grant.status, StatusCode::FORBIDDEN, "{}", owner_grant.html);
    assert!(owner_grant.html.contains("only given by transferring ownership"), "{}", owner_grant.html);
    let demote_owner =
        browser.post(&format!("/app/org/{slug}/members/{}/role", ada.user_id), &[("role", "viewer")]).await;
    let api = app
        .patch(
            &format!("/v1/orgs/{org}/members/{}", ada.user_id),
            Some(&grace.access),
            serde_json::json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(demote_owner.status, api.status, "the page refuses as the API does ({})", api.body);
    assert!(demote_owner.status.is_client_error());
    let own = browser.post(&format!("/app/org/{slug}/members/{}/role", grace.user_id), &[("role", "viewer")]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count_of("member.role_changed").await, 0);

    let allowed = browser.post(&format!("/app/org/{slug}/members/{}/role", dev.user_id), &[("role", "viewer")]).await;
    assert_eq!(allowed.status, StatusCode::SEE_OTHER);
    assert_eq!(app.role_in_db(&org, &dev.user_id).await.as_deref(), Some("viewer"));
}

#[tokio::test]
async fn a_viewer_sees_no_invite_form_and_a_forged_invitation_is_refused() {
    let app = spawn_app().await;
    let (_ada, _grace, slug) = team_with(&app, "viewer").await;
    let browser = Browser::log_in(&app, "grace@example.com").await;
    let (_, page) = browser.open(&format!("/app/org/{slug}/members")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("Send invitation"));
    assert!(!page.html.contains("API keys</a>"), "the viewer's navigation has no API keys");
    let forged =
        browser.post(&format!("/app/org/{slug}/invitations"), &[("email", "x@example.com"), ("role", "viewer")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count_of("invitation.created").await, 0);
}

#[tokio::test]
async fn another_orgs_pages_and_forms_are_not_found() {
    let app = spawn_app().await;
    let (_ada, _grace, slug) = team_with(&app, "admin").await;
    app.verified_signup("mallory@example.com", "Mallory").await;
    let browser = Browser::log_in(&app, "mallory@example.com").await;
    for path in ["", "/members", "/api-keys", "/audit", "/settings", "/billing", "/roles"] {
        let page = browser.get(&format!("/app/org/{slug}{path}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.html.contains("Not found"));
    }
    let forged =
        browser.post(&format!("/app/org/{slug}/invitations"), &[("email", "x@example.com"), ("role", "viewer")]).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    let missing = browser.get("/app/org/no-such-org/members").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let existing = browser.get(&format!("/app/org/{slug}/members")).await;
    assert_eq!(missing.html, existing.html, "another org's page is indistinguishable from a missing one");
}

#[tokio::test]
async fn a_stale_settings_form_shows_a_conflict_instead_of_overwriting() {
    let app = spawn_app().await;
    let (_ada, _grace, slug) = team_with(&app, "admin").await;
    let owner = Browser::log_in(&app, "ada@example.com").await;
    let admin = Browser::log_in(&app, "grace@example.com").await;
    let form = |retention: &'static str| {
        vec![
            ("version", "0"),
            ("email_enabled", "on"),
            ("slack_webhook_url", ""),
            ("telegram_bot_token", ""),
            ("telegram_chat_id", ""),
            ("retention_days", retention),
        ]
    };
    let first = owner.post(&format!("/app/org/{slug}/settings"), &form("30")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.html);
    let stale = admin.post(&format!("/app/org/{slug}/settings"), &form("60")).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert!(stale.html.contains("Someone changed these settings"), "{}", stale.html);
    assert!(
        stale.html.contains("name=\"retention_days\" min=\"1\" max=\"90\" value=\"30\""),
        "shows the current value"
    );
}

#[tokio::test]
async fn a_new_keys_secret_is_shown_once() {
    let app = spawn_app().await;
    let (_ada, _grace, slug) = team_with(&app, "admin").await;
    let browser = Browser::log_in(&app, "ada@example.com").await;
    let created = browser
        .post(
            &format!("/app/org/{slug}/api-keys"),
            &[("name", "CI"), ("scopes", "endpoints.view"), ("scopes", "endpoints.create")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    assert!(!created.location.as_deref().unwrap().contains("tn_"), "no secret in the URL");
    let shown = browser.get(&format!("/app/org/{slug}/api-keys")).await;
    let start = shown.html.find("id=\"new-secret\">").expect("the secret is shown") + "id=\"new-secret\">".len();
    let secret = shown.html[start..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("tn_live_"));
    assert_eq!(app.verify_key(&secret, Some("endpoints.view")).await["code"], "VALID");
    let again = browser.get(&format!("/app/org/{slug}/api-keys")).await;
    assert!(!again.html.contains(&secret), "shown only once");
}

#[tokio::test]
async fn pages_forbid_framing_inline_script_and_leaking_referrers() {
    let app = spawn_app().await;
    let page = Browser::new(&app).get("/login").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    app.verified_signup("ada@example.com", "Ada").await;
    let browser = Browser::new(&app);
    let login = browser.post("/login", &[("email", "ada@example.com"), ("password", PASSWORD)]).await;
    let cookies: Vec<&str> = login.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let session = cookies.iter().find(|c| c.starts_with("tenantry_session=")).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let stylesheet =
        page.html.split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let asset = browser.get(&stylesheet).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert!(asset.headers["cache-control"].to_str().unwrap().contains("immutable"));
}

#[tokio::test]
async fn members_are_found_by_name_or_email() {
    let app = spawn_app().await;
    let (_ada, _grace, slug) = team_with(&app, "developer").await;
    let browser = Browser::log_in(&app, "ada@example.com").await;
    let found = browser.get(&format!("/app/org/{slug}/members?q=GRACE")).await;
    assert!(found.html.contains("grace@example.com"));
    assert!(!found.html.contains("<td>ada@example.com</td>"));
    let by_name = browser.get(&format!("/app/org/{slug}/members?q=ad")).await;
    assert!(by_name.html.contains("<td>ada@example.com</td>"));
}

#[tokio::test]
async fn the_pages_carry_the_host_products_brand() {
    let mut config = crate::common::config();
    config.preset = "hookdeploy".into();
    config.brand.name = "HookDeploy".into();
    config.brand.accent_color = "#0a7d5a".into();
    let app = spawn_with(config).await;
    let page = Browser::new(&app).get("/login").await;
    assert!(page.html.contains("Log in to HookDeploy"));
    assert!(!page.html.contains("Tenantry"), "{}", page.html);
}

#[tokio::test]
async fn teams_are_created_filled_and_led_from_their_pages() {
    let app = spawn_app().await;
    let (ada, _grace, slug) = team_with(&app, "viewer").await;
    let ada_browser = Browser::log_in(&app, "ada@example.com").await;

    // A team is created with the form and opens on its own page.
    let created = ada_browser.post(&format!("/app/org/{slug}/teams"), &[("name", "Engineering")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    assert_eq!(created.location.as_deref(), Some(format!("/app/org/{slug}/teams/engineering").as_str()));
    let empty_name = ada_browser.post(&format!("/app/org/{slug}/teams"), &[("name", " ")]).await;
    assert_eq!(empty_name.status, StatusCode::BAD_REQUEST);
    assert!(empty_name.html.contains("class=\"field-error\""), "{}", empty_name.html);

    // Members are added by email, with a team role; an unknown email is named beside its field.
    let team = format!("/app/org/{slug}/teams/engineering");
    let unknown = ada_browser.post(&format!("{team}/members"), &[("email", "nobody@example.com"), ("role", "member")]).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.html.contains("no member of this organization has this email"), "{}", unknown.html);
    let added = ada_browser.post(&format!("{team}/members"), &[("email", "grace@example.com"), ("role", "lead")]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let (_, page) = ada_browser.open(&team).await;
    assert!(page.html.contains("grace@example.com"), "{}", page.html);
    let (_, members) = ada_browser.open(&format!("/app/org/{slug}/members")).await;
    assert!(members.html.contains("<td class=\"opt small\">engineering</td>"), "the member's teams are listed");

    // Grace leads the team: she manages its members but may not delete it or create teams.
    let grace_browser = Browser::log_in(&app, "grace@example.com").await;
    let (_, led) = grace_browser.open(&team).await;
    assert!(led.html.contains("Add to team"), "{}", led.html);
    assert!(!led.html.contains("Delete team"));
    let (_, list) = grace_browser.open(&format!("/app/org/{slug}/teams")).await;
    assert!(!list.html.contains("Create team"));
    let forged = grace_browser.post(&format!("{team}/delete"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let demote_owner = grace_browser
        .post(&format!("{team}/members"), &[("email", "ada@example.com"), ("role", "member")])
        .await;
    assert_eq!(demote_owner.status, StatusCode::SEE_OTHER, "a lead adds org members to their team");
    let role = grace_browser.post(&format!("{team}/members/{}/role", ada.user_id), &[("role", "lead")]).await;
    assert_eq!(role.status, StatusCode::SEE_OTHER);

    // The owner deletes it after the confirmation page.
    let (_, confirm) = ada_browser.open(&format!("{team}/delete")).await;
    assert!(confirm.html.contains("Delete team"));
    let deleted = ada_browser.post(&format!("{team}/delete"), &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count_of("team.deleted").await, 1);
}

#[tokio::test]
async fn the_teams_page_explains_the_plans_limit_and_hides_other_orgs_teams() {
    let app = spawn_app().await;
    let (ada, _grace, slug) = team_with(&app, "viewer").await;
    let org = app.get(&format!("/v1/orgs/{slug}"), Some(&ada.access)).await.body["data"]["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "free").await;
    let browser = Browser::log_in(&app, "ada@example.com").await;
    let (_, page) = browser.open(&format!("/app/org/{slug}/teams")).await;
    assert!(page.html.contains("0 of 1 teams on the Free plan."), "{}", page.html);
    browser.post(&format!("/app/org/{slug}/teams"), &[("name", "Only")]).await;
    let (_, page) = browser.open(&format!("/app/org/{slug}/teams")).await;
    assert!(page.html.contains("as many teams as its plan allows"), "{}", page.html);
    let refused = browser.post(&format!("/app/org/{slug}/teams"), &[("name", "Second")]).await;
    assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED);

    app.verified_signup("mallory@example.com", "Mallory").await;
    let mallory = Browser::log_in(&app, "mallory@example.com").await;
    for path in ["/teams", "/teams/only", "/teams/only/delete"] {
        assert_eq!(mallory.get(&format!("/app/org/{slug}{path}")).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let forged = mallory.post(&format!("/app/org/{slug}/teams/only/delete"), &[]).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
}

/// SPEC 15's budget: a page of 50 members with role dropdowns, the owner viewing, weighs at most
/// 60 KB together with the stylesheet and script it links.
#[tokio::test]
async fn a_members_page_of_fifty_weighs_at_most_60_kb_with_its_stylesheet_and_script() {
    let app = spawn_app().await;
    let ada = app.verified_signup("ada.lovelace@analytical-engines.example", "Ada Lovelace").await;
    let org = app.create_org(&ada, "Analytical Engines International").await;
    let (id, slug) = (org["id"].as_str().unwrap(), org["slug"].as_str().unwrap().to_owned());
    app.set_plan(id, "enterprise").await;
    for n in 0..55 {
        let email = format!("member.number.{n:03}@analytical-engines.example");
        let member = app.signup(&email, &format!("Member Number {n:03} Babbage")).await;
        app.add_member(id, &member, ["developer", "viewer", "admin"][n % 3]).await;
    }
    let browser = Browser::log_in(&app, "ada.lovelace@analytical-engines.example").await;
    let page = browser.get(&format!("/app/org/{slug}/members")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html.matches("<select id=\"role-").count(), 50, "a full page of role dropdowns");
    let mut weight = page.html.len();
    for marker in ["href=\"/assets/", "src=\"/assets/"] {
        for (at, _) in page.html.match_indices(marker) {
            let start = at + marker.len() - "/assets/".len();
            let end = start + page.html[start..].find('"').unwrap();
            let asset = browser.get(&page.html[start..end]).await;
            assert_eq!(asset.status, StatusCode::OK);
            weight += asset.html.len();
        }
    }
    println!("a members page of 50 weighs {weight} bytes with its assets (HTML {})", page.html.len());
    assert!(weight <= 60 * 1024, "the page weighs {weight} bytes with its assets (HTML {})", page.html.len());
}
