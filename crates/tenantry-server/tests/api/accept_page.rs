//! The pages behind emailed links: `/accept-invite/{token}` in each state and the whole browser
//! flow (sign up from the page, verify, accept), plus the verification and reset pages. Driven
//! over HTTP by a client that keeps cookies, as a browser does.

use serde_json::json;

use crate::common::{spawn_app, Account, TestApp, PASSWORD};

struct Browser {
    client: reqwest::Client,
    base: String,
}

struct Page {
    status: u16,
    html: String,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self { client: reqwest::Client::builder().cookie_store(true).build().unwrap(), base: app.base.clone() }
    }

    async fn get(&self, path: &str) -> Page {
        let r = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        Self::page(r).await
    }

    /// Submits a form as a browser does: its hidden anti-forgery field included.
    async fn submit(&self, path: &str, from: &Page, fields: &[(&str, &str)]) -> Page {
        let csrf = csrf_in(&from.html);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        let r = self.client.post(format!("{}{path}", self.base)).form(&form).send().await.unwrap();
        Self::page(r).await
    }

    async fn page(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/html"), "a page, not {content_type}");
        Page { status, html: r.text().await.unwrap() }
    }
}

fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no form in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn org_with_invitation(app: &TestApp, email: &str) -> (Account, String, String, String) {
    let ada = app.signup("ada@example.com", "Ada").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    let r = app
        .post(&format!("/v1/orgs/{org}/invitations"), Some(&ada.access), json!({ "email": email, "role": "developer" }))
        .await
        .expect(201);
    let data = &r.body["data"];
    (ada, org, data["id"].as_str().unwrap().to_owned(), data["token"].as_str().unwrap().to_owned())
}

async fn state_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM invitations WHERE id = $1").bind(id).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_visitor_signs_up_from_the_page_verifies_and_accepts() {
    let app = spawn_app().await;
    let (ada, org, id, token) = org_with_invitation(&app, "grace@example.com").await;
    let browser = Browser::new(&app);
    let path = format!("/accept-invite/{token}");

    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    for shown in ["Acme", "Ada", "Developer", "Create account", "Log in"] {
        assert!(page.html.contains(shown), "{shown} missing: {}", page.html);
    }
    assert!(!page.html.contains("grace@example.com"), "the page does not reveal the invited address");

    // Sign up from the page: back on the page, signed in but not verified yet.
    let page = browser
        .submit(
            &format!("{path}/signup"),
            &page,
            &[("display_name", "Grace"), ("email", "grace@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Signed in as grace@example.com"), "{}", page.html);
    assert!(page.html.contains("Confirm your email address first"), "{}", page.html);
    assert!(!page.html.contains("Accept and join"));

    // The verification link leads to a page whose button confirms the address.
    let verify = app.emailed_token("grace@example.com", "/verify-email/").await;
    let page = browser.get(&format!("/verify-email/{verify}")).await;
    assert_eq!(page.status, 200);
    let page = browser.submit(&format!("/verify-email/{verify}"), &page, &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("confirmed"));
    let back = format!("href=\"/accept-invite/{token}\"");
    assert!(page.html.contains(&back), "a way back to the invitation: {}", page.html);

    let page = browser.get(&path).await;
    assert!(page.html.contains("Accept and join"), "{}", page.html);
    let page = browser.submit(&format!("{path}/accept"), &page, &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("You joined <strong>Acme</strong>"), "{}", page.html);
    assert_eq!(state_of(&app, &id).await, "accepted");

    let members = app.get(&format!("/v1/orgs/{org}/members"), Some(&ada.access)).await.expect(200);
    let grace = members.body["data"].as_array().unwrap().iter().find(|m| m["email"] == "grace@example.com").cloned();
    assert_eq!(grace.expect("Grace is a member")["role"], "developer");

    let page = browser.get(&path).await;
    assert!(page.html.contains("already accepted"), "{}", page.html);
}

#[tokio::test]
async fn a_member_of_another_address_logs_out_and_the_invitee_logs_in() {
    let app = spawn_app().await;
    let (_, _, id, token) = org_with_invitation(&app, "grace@example.com").await;
    app.verified_signup("grace@example.com", "Grace").await;
    app.verified_signup("mallory@example.com", "Mallory").await;
    let browser = Browser::new(&app);
    let path = format!("/accept-invite/{token}");

    let page = browser.get(&path).await;
    let page = browser
        .submit(&format!("{path}/login"), &page, &[("email", "grace@example.com"), ("password", "wrong password")])
        .await;
    assert_eq!(page.status, 401);
    assert!(page.html.contains("incorrect"), "{}", page.html);

    let page = browser
        .submit(&format!("{path}/login"), &page, &[("email", "mallory@example.com"), ("password", PASSWORD)])
        .await;
    assert!(page.html.contains("sent to another email address"), "{}", page.html);
    assert!(!page.html.contains("Accept and join"));
    let refused = browser.submit(&format!("{path}/accept"), &page, &[]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(state_of(&app, &id).await, "pending");

    let page = browser.submit(&format!("{path}/logout"), &page, &[]).await;
    assert!(page.html.contains("Log in"), "{}", page.html);
    let page = browser
        .submit(&format!("{path}/login"), &page, &[("email", "grace@example.com"), ("password", PASSWORD)])
        .await;
    assert!(page.html.contains("Decline"), "{}", page.html);
    let page = browser.submit(&format!("{path}/decline"), &page, &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("You declined"), "{}", page.html);
    assert_eq!(state_of(&app, &id).await, "declined");
    let page = browser.get(&path).await;
    assert!(page.html.contains("was declined"), "{}", page.html);
}

#[tokio::test]
async fn each_state_of_an_invitation_has_a_clear_page() {
    let app = spawn_app().await;
    let (ada, org, id, token) = org_with_invitation(&app, "grace@example.com").await;
    let browser = Browser::new(&app);

    let page = browser.get("/accept-invite/not-a-token-we-ever-issued-at-all").await;
    assert_eq!(page.status, 404);
    assert!(page.html.contains("not valid"));
    let page = browser.get("/accept-invite/%3Cscript%3E").await;
    assert_eq!(page.status, 404);
    assert!(!page.html.contains("<script>"));

    app.clock.advance(chrono::Duration::days(8));
    let ada = Account { access: app.login("ada@example.com").await, ..ada };
    let page = browser.get(&format!("/accept-invite/{token}")).await;
    assert_eq!(page.status, 410);
    assert!(page.html.contains("has expired"), "{}", page.html);

    // Resent: the old link is no longer valid, the new one is pending; revoked afterwards.
    let r =
        app.post(&format!("/v1/orgs/{org}/invitations/{id}/resend"), Some(&ada.access), json!({})).await.expect(200);
    let fresh = r.body["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(browser.get(&format!("/accept-invite/{token}")).await.status, 404);
    assert_eq!(browser.get(&format!("/accept-invite/{fresh}")).await.status, 200);
    app.delete(&format!("/v1/orgs/{org}/invitations/{id}"), Some(&ada.access)).await.expect(204);
    let page = browser.get(&format!("/accept-invite/{fresh}")).await;
    assert_eq!(page.status, 410);
    assert!(page.html.contains("withdrawn"), "{}", page.html);
    assert!(!page.html.contains("<form"), "nothing to do on a withdrawn invitation");
}

#[tokio::test]
async fn forms_without_the_anti_forgery_value_change_nothing() {
    let app = spawn_app().await;
    let (_, _, id, token) = org_with_invitation(&app, "grace@example.com").await;
    app.verified_signup("grace@example.com", "Grace").await;
    let browser = Browser::new(&app);
    let path = format!("/accept-invite/{token}");
    let page = browser.get(&path).await;
    browser.submit(&format!("{path}/login"), &page, &[("email", "grace@example.com"), ("password", PASSWORD)]).await;

    // A forged form (another site's) has no way to know the value in the visitor's cookie.
    let forged = browser
        .client
        .post(format!("{}{path}/accept", app.base))
        .form(&[("csrf", "guessed-value-guessed-value")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let missing = browser.client.post(format!("{}{path}/accept", app.base)).form(&[("x", "1")]).send().await.unwrap();
    assert_eq!(missing.status(), 403);
    // A fresh browser without cookies cannot replay a real value either.
    let stranger = Browser::new(&app);
    let r = stranger
        .client
        .post(format!("{}{path}/accept", app.base))
        .form(&[("csrf", csrf_in(&page.html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(state_of(&app, &id).await, "pending");
}

#[tokio::test]
async fn pages_escape_what_they_show_and_set_safe_cookies_and_headers() {
    let app = spawn_app().await;
    let ada = app.signup("ada@example.com", "<i>Ada</i>").await;
    let org = app.create_org(&ada, "<b>Acme</b> & \"Co\"").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    let r = app
        .post(
            &format!("/v1/orgs/{org}/invitations"),
            Some(&ada.access),
            json!({ "email": "g@example.com", "role": "viewer" }),
        )
        .await
        .expect(201);
    let token = r.body["data"]["token"].as_str().unwrap();
    let r = app.client.get(format!("{}/accept-invite/{token}", app.base)).send().await.unwrap();
    let headers = r.headers().clone();
    let html = r.text().await.unwrap();
    // Escaped as the dashboard's templates escape: numeric character references.
    assert!(html.contains("&#60;b&#62;Acme&#60;/b&#62; &#38; &#34;Co&#34;"), "{html}");
    assert!(html.contains("&#60;i&#62;Ada&#60;/i&#62;"));
    assert!(!html.contains("<b>Acme") && !html.contains("<i>Ada"));
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    let csrf_cookie = headers["set-cookie"].to_str().unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"), "{csrf_cookie}");

    // The session cookie after logging in from the page is HttpOnly and SameSite too.
    let csrf = csrf_in(&html);
    let cookie = csrf_cookie.split(';').next().unwrap().to_owned();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/accept-invite/{token}/login", app.base))
        .header("cookie", cookie)
        .form(&[("csrf", csrf.as_str()), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = r.headers()["set-cookie"].to_str().unwrap();
    assert!(session.starts_with("tenantry_session="), "{session}");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    // The dashboard's refresh cookie too, so the session outlives the access token.
    let refresh = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("tenantry_refresh="))
        .expect("a refresh cookie");
    assert!(refresh.contains("HttpOnly") && refresh.contains("SameSite=Lax"), "{refresh}");
}

#[tokio::test]
async fn the_verification_page_confirms_only_on_its_form() {
    let app = spawn_app().await;
    let ada = app.signup_unverified("ada@example.com", "Ada").await;
    let token = app.emailed_token("ada@example.com", "/verify-email/").await;
    let browser = Browser::new(&app);
    let page = browser.get(&format!("/verify-email/{token}")).await;
    assert_eq!(page.status, 200);
    let me = app.get("/v1/me", Some(&ada.access)).await.expect(200);
    assert_eq!(me.body["data"]["user"]["email_verified"], false, "opening the link changes nothing");
    let done = browser.submit(&format!("/verify-email/{token}"), &page, &[]).await;
    assert_eq!(done.status, 200);
    let me = app.get("/v1/me", Some(&ada.access)).await.expect(200);
    assert_eq!(me.body["data"]["user"]["email_verified"], true);
    let again = browser.submit(&format!("/verify-email/{token}"), &page, &[]).await;
    assert_eq!(again.status, 400);
    assert!(again.html.contains("not valid"));
}

#[tokio::test]
async fn the_reset_page_sets_a_new_password_on_its_form() {
    let app = spawn_app().await;
    app.signup("ada@example.com", "Ada").await;
    app.post("/v1/auth/password-reset/request", None, json!({ "email": "ada@example.com" })).await.expect(202);
    let token = app.emailed_token("ada@example.com", "/reset-password/").await;
    let browser = Browser::new(&app);
    let page = browser.get(&format!("/reset-password/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("name=\"new_password\""));
    let short = browser.submit(&format!("/reset-password/{token}"), &page, &[("new_password", "short")]).await;
    assert_eq!(short.status, 400);
    assert!(short.html.contains("name=\"new_password\""), "the form again: {}", short.html);
    let done = browser.submit(&format!("/reset-password/{token}"), &short, &[("new_password", "a new secret")]).await;
    assert_eq!(done.status, 200, "{}", done.html);
    app.post("/v1/auth/login", None, json!({ "email": "ada@example.com", "password": "a new secret" }))
        .await
        .expect(200);
    let stale = browser.get("/reset-password/bad").await;
    assert_eq!(stale.status, 400);
}

#[tokio::test]
async fn the_pages_are_not_part_of_the_api_document() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json", None).await.expect(200).body;
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for page in ["/accept-invite", "/verify-email", "/reset-password"] {
        assert!(!paths.iter().any(|p| p.starts_with(page)), "{page} is documented: {paths:?}");
    }
}

#[tokio::test]
async fn the_pages_wear_the_brand_and_lead_on_into_the_app() {
    let mut config = crate::common::config();
    config.brand.name = "HookDeploy".into();
    let app = crate::common::spawn_with(config).await;
    let (_, _, _, token) = org_with_invitation(&app, "grace@example.com").await;
    let browser = Browser::new(&app);
    let path = format!("/accept-invite/{token}");

    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("New to HookDeploy?"), "{}", page.html);
    assert!(page.html.contains("· HookDeploy</title>"), "{}", page.html);
    assert!(!page.html.contains("Tenantry"), "the host product's name only: {}", page.html);
    assert!(page.html.contains("<link rel=\"stylesheet\" href=\"/assets/dashboard."), "the dashboard's stylesheet");
    assert!(!page.html.contains("<style"), "no inline style");

    let page = browser
        .submit(
            &format!("{path}/signup"),
            &page,
            &[("display_name", "Grace"), ("email", "grace@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(page.html.contains("Signed in as grace@example.com"), "{}", page.html);
    let verify = app.emailed_token("grace@example.com", "/verify-email/").await;
    let page = browser.get(&format!("/verify-email/{verify}")).await;
    assert!(page.html.contains("HookDeploy") && !page.html.contains("Tenantry"), "{}", page.html);
    browser.submit(&format!("/verify-email/{verify}"), &page, &[]).await;
    let page = browser.get(&path).await;
    let page = browser.submit(&format!("{path}/accept"), &page, &[]).await;
    assert!(page.html.contains("You joined <strong>Acme</strong>"), "{}", page.html);
    assert!(page.html.contains("href=\"/app/org/acme\">Continue to HookDeploy</a>"), "{}", page.html);

    // Signed in on the invitation page is signed in to the dashboard: the org opens.
    let org = browser.get("/app/org/acme").await;
    assert_eq!(org.status, 200, "{}", org.html);
    assert!(org.html.contains("Acme"));
}

#[tokio::test]
async fn with_an_app_url_the_pages_lead_to_the_host_app() {
    let mut config = crate::common::config();
    config.app_url = Some("https://app.hookdeploy.example/".into());
    let app = crate::common::spawn_with(config).await;
    app.signup("ada@example.com", "Ada").await;
    let token = app.emailed_token("ada@example.com", "/verify-email/").await;
    let browser = Browser::new(&app);
    let page = browser.get(&format!("/verify-email/{token}")).await;
    let done = browser.submit(&format!("/verify-email/{token}"), &page, &[]).await;
    assert_eq!(done.status, 200);
    assert!(done.html.contains("href=\"https://app.hookdeploy.example/\""), "{}", done.html);
}
