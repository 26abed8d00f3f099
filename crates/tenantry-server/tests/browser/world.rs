//! A test's world: the server under test, its `chromedriver`, and the steps people take on the
//! dashboard that several tests share.

use serde_json::{json, Value};

use tenantry_server::Config;

use crate::common::{spawn_app, spawn_with, Account, TestApp, ADMIN_TOKEN, PASSWORD};
use crate::harness::{Browser, Driver};

pub struct World {
    pub app: TestApp,
    pub driver: Driver,
}

impl World {
    pub async fn new() -> Self {
        Self::with_app(spawn_app().await).await
    }

    /// A world whose server runs with `config`.
    pub async fn with_config(config: Config) -> Self {
        Self::with_app(spawn_with(config).await).await
    }

    async fn with_app(app: TestApp) -> Self {
        let driver = Driver::start().await;
        Self { app, driver }
    }

    /// A new browser (its own cookies) with JavaScript on.
    pub async fn browser(&self) -> Browser {
        self.driver.browser(&self.app.base, true).await
    }

    /// A new browser with JavaScript on or off.
    pub async fn browser_with(&self, javascript: bool) -> Browser {
        self.driver.browser(&self.app.base, javascript).await
    }

    /// The link after `marker` (e.g. `/accept-invite/`) in the newest email to `to`, as sent.
    pub async fn emailed_link(&self, to: &str, marker: &str) -> String {
        let message = self.app.last_email_to(to).await;
        let text = message["text"].as_str().expect("the email's text");
        let link = text
            .split_whitespace()
            .find(|word| word.contains(marker))
            .unwrap_or_else(|| panic!("no {marker} link in the email to {to}: {text}"));
        assert!(link.starts_with(&self.app.base), "the emailed link {link} leads to this server ({})", self.app.base);
        link.to_owned()
    }
}

/// Signs up on `/signup`; the browser lands on the new personal org's overview.
pub async fn sign_up(browser: &Browser, name: &str, email: &str) {
    browser.goto("/signup").await;
    browser.expect_h1("Create your Tenantry account").await;
    browser.fill("#display_name", name).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click_labelled("main form", "Create account").await;
    browser.expect_notice(&format!("We sent a link to {email}")).await;
    browser.expect_h1(name).await;
}

/// Logs in on `/login`.
pub async fn log_in(browser: &Browser, email: &str) {
    browser.goto("/login").await;
    browser.expect_h1("Log in").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click_labelled("main form", "Log in").await;
    browser.find("nav.side").await;
}

/// The slug of the org whose page the browser shows (from its address).
pub async fn current_slug(browser: &Browser) -> String {
    let path = browser.path().await;
    path.strip_prefix("/app/org/")
        .and_then(|rest| rest.split(['/', '?']).next())
        .unwrap_or_else(|| panic!("not on an org page: {path}"))
        .to_owned()
}

/// An org made over the API by a new user (address confirmed), on the team plan (set by the
/// instance admin).
pub struct Fixture {
    pub owner: Account,
    pub slug: String,
    pub id: String,
}

impl World {
    pub async fn team_org(&self, owner_email: &str, owner_name: &str, org_name: &str) -> Fixture {
        let owner = self.app.verified_signup(owner_email, owner_name).await;
        let org = self.app.create_org(&owner, org_name).await;
        let id = org["id"].as_str().expect("the org's id").to_owned();
        let slug = org["slug"].as_str().expect("the org's slug").to_owned();
        self.app.set_plan(&id, "team").await;
        Fixture { owner, slug, id }
    }

    /// A new user, signed up over the API (address not confirmed), added to `org` with `role`.
    pub async fn member(&self, org: &Fixture, email: &str, name: &str, role: &str) -> Account {
        let account = self.app.signup(email, name).await;
        self.app.add_member(&org.id, &account, role).await;
        // Joined when the org was made, as pages would show a real member.
        sqlx::query(
            "UPDATE memberships SET joined_at = (SELECT MAX(joined_at) FROM memberships WHERE org_id = $1) \
             WHERE org_id = $1 AND user_id = $2",
        )
        .bind(&org.id)
        .bind(&account.user_id)
        .execute(&self.app.db)
        .await
        .expect("setting the joining time");
        account
    }

    /// Whether any email went to `to`.
    pub async fn emailed(&self, to: &str) -> bool {
        let outbox = self.app.get("/v1/admin/outbox?limit=100", Some(ADMIN_TOKEN)).await.expect(200);
        outbox.body["data"].as_array().expect("the outbox").iter().any(|m| m["to"] == to)
    }
}

/// Builds a form in the page (as a forger would) and submits it with the browser's cookies.
pub async fn forge_post(browser: &Browser, action: &str, fields: &[(&str, &str)]) {
    let fields: Vec<Value> = fields.iter().map(|(k, v)| json!([k, v])).collect();
    browser
        .run(
            "const [action, fields] = arguments;
             const form = document.createElement('form');
             form.method = 'post';
             form.action = action;
             for (const [name, value] of fields) {
               const input = document.createElement('input');
               input.type = 'hidden';
               input.name = name;
               input.value = value;
               form.appendChild(input);
             }
             document.body.appendChild(form);
             form.submit();",
            vec![json!(action), json!(fields)],
        )
        .await;
}
