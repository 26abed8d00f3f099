//! The members page is served from what the caches keep (its rows rendered once per viewer and
//! browser, the pending invitations by org), and it is never stale: each change is on the next
//! page, whoever made it and through whichever node, and one browser's rows are never another's.
//! The scenarios take the node whose pages are read, so the PostgreSQL run repeats them with the
//! changes made through another node (`tests/api_postgres/members_page_nodes.rs`).

use chrono::Duration;
use serde_json::json;

use crate::common::{spawn_app, Account, TestApp, PASSWORD};
use crate::page_client::{csrf_in, Browser};

/// Ada owns Acme (on `team`), where Grace is an admin and Dev a developer.
struct Acme {
    ada: Account,
    grace: Account,
    dev: Account,
    org: String,
    slug: String,
}

async fn acme(app: &TestApp) -> Acme {
    let ada = app.verified_signup("ada@example.com", "Ada").await;
    let grace = app.verified_signup("grace@example.com", "Grace").await;
    let dev = app.verified_signup("dev@example.com", "Dev").await;
    let created = app.create_org(&ada, "Acme").await;
    let org = created["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &grace, "admin").await;
    app.add_member(&org, &dev, "developer").await;
    Acme { ada, grace, dev, org, slug: created["slug"].as_str().unwrap().to_owned() }
}

/// The browser of `email`, logged in on the node at `node`.
async fn signed_in(node: &str, email: &str) -> Browser {
    let browser = Browser::at(node);
    browser.log_in(email, PASSWORD).await;
    browser
}

/// The members page as `browser` gets it.
async fn members_page(browser: &Browser, slug: &str) -> String {
    let page = browser.get(&format!("/app/org/{slug}/members")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.html
}

/// The row of `user` on a members page.
fn row_of<'a>(html: &'a str, user: &str) -> &'a str {
    let marker = format!("id=\"role-{user}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no row of {user} in {html}"));
    let start = html[..at].rfind("<tr>").expect("the row's start");
    let end = at + html[at..].find("</tr>").expect("the row's end");
    &html[start..end]
}

/// The role the row of `user` shows as held (the selected option of its dropdown, or the one
/// option of a disabled dropdown).
fn shown_role(html: &str, user: &str) -> String {
    let row = row_of(html, user);
    if let Some(at) = row.find(" selected>") {
        let value = row[..at].rfind("value=\"").expect("the option's value") + "value=\"".len();
        return row[value..at].trim_end_matches('"').to_owned();
    }
    let option = row.find("<option>").expect("the disabled dropdown's option") + "<option>".len();
    row[option..].split('<').next().unwrap().to_owned()
}

/// The teams cell of the row of `user`.
fn shown_teams(html: &str, user: &str) -> String {
    let row = row_of(html, user);
    let marker = "<td class=\"opt small\">";
    let start = row.find(marker).expect("the teams cell") + marker.len();
    row[start..].split("</td>").next().unwrap().to_owned()
}

/// The "Pending invitations" part of a members page.
fn pending_part(html: &str) -> &str {
    let start = html.find("<h2>Pending invitations</h2>").expect("the pending invitations");
    &html[start..]
}

/// Role changes, team changes and invitations coming and going, made through the API of the
/// first node, are each on the next members page `node` serves.
pub async fn every_change_is_on_the_next_page(app: &TestApp, node: &str) {
    let acme = acme(app).await;
    let (org, slug, dev) = (&acme.org, &acme.slug, &acme.dev.user_id);
    let browser = signed_in(node, "ada@example.com").await;
    let html = members_page(&browser, slug).await;
    assert_eq!(shown_role(&html, dev), "developer");
    assert_eq!(shown_teams(&html, dev), "");
    assert!(pending_part(&html).contains("No invitations are waiting."));
    // Asked again with nothing changed, the page is the same.
    assert_eq!(members_page(&browser, slug).await, html);

    let path = format!("/v1/orgs/{org}/members/{dev}");
    app.patch(&path, Some(&acme.ada.access), json!({ "role": "viewer" })).await.expect(200);
    assert_eq!(shown_role(&members_page(&browser, slug).await, dev), "viewer");

    let team = app.post(&format!("/v1/orgs/{org}/teams"), Some(&acme.ada.access), json!({ "name": "Platform" })).await;
    let team = team.expect(201).body["data"]["id"].as_str().unwrap().to_owned();
    let add = json!({ "user_id": dev, "role": "member" });
    app.post(&format!("/v1/orgs/{org}/teams/{team}/members"), Some(&acme.ada.access), add).await.expect(201);
    assert_eq!(shown_teams(&members_page(&browser, slug).await, dev), "platform");
    let rename = json!({ "slug": "infrastructure" });
    app.patch(&format!("/v1/orgs/{org}/teams/{team}"), Some(&acme.ada.access), rename).await.expect(200);
    assert_eq!(shown_teams(&members_page(&browser, slug).await, dev), "infrastructure");

    let invite = json!({ "email": "newcomer@example.com", "role": "viewer" });
    let invited = app.post(&format!("/v1/orgs/{org}/invitations"), Some(&acme.grace.access), invite).await;
    let invitation = invited.expect(201).body["data"]["id"].as_str().unwrap().to_owned();
    assert!(pending_part(&members_page(&browser, slug).await).contains("newcomer@example.com"));
    app.delete(&format!("/v1/orgs/{org}/invitations/{invitation}"), Some(&acme.ada.access)).await.expect(204);
    assert!(!pending_part(&members_page(&browser, slug).await).contains("newcomer@example.com"));

    // An invitation stops being pending when it expires, with no change to the org at all.
    let invite = json!({ "email": "late@example.com", "role": "viewer" });
    app.post(&format!("/v1/orgs/{org}/invitations"), Some(&acme.ada.access), invite).await.expect(201);
    assert!(pending_part(&members_page(&browser, slug).await).contains("late@example.com"));
    app.clock.advance(Duration::days(8));
    let html = members_page(&browser, slug).await;
    assert!(!pending_part(&html).contains("late@example.com"), "{}", pending_part(&html));
}

/// Two viewers of the same page each get rows of their own: their own anti-forgery value in
/// every form, their own row marked, and only the actions they may take.
pub async fn each_viewer_gets_rows_of_their_own(app: &TestApp, node: &str) {
    let acme = acme(app).await;
    let (slug, ada, grace) = (&acme.slug, &acme.ada.user_id, &acme.grace.user_id);
    let ada_browser = signed_in(node, "ada@example.com").await;
    let grace_browser = signed_in(node, "grace@example.com").await;
    let ada_page = members_page(&ada_browser, slug).await;
    let grace_page = members_page(&grace_browser, slug).await;
    let (ada_csrf, grace_csrf) = (csrf_in(&ada_page), csrf_in(&grace_page));
    assert_ne!(ada_csrf, grace_csrf);

    // Ada, the owner, may change Grace's role; Grace, an admin, may not change the owner's.
    assert!(row_of(&ada_page, grace).contains(&format!("value=\"{ada_csrf}\"")));
    assert!(row_of(&ada_page, ada).contains("<span class=\"tag\">you</span>"));
    assert!(!row_of(&grace_page, ada).contains("<form"), "{}", row_of(&grace_page, ada));
    assert!(row_of(&grace_page, grace).contains("<span class=\"tag\">you</span>"));
    assert!(!row_of(&grace_page, ada).contains("<span class=\"tag\">you</span>"));
    let dev_row = row_of(&grace_page, &acme.dev.user_id);
    assert!(dev_row.contains(&format!("value=\"{grace_csrf}\"")), "{dev_row}");
    assert!(!grace_page.contains(&ada_csrf), "Ada's anti-forgery value is on Grace's page");

    // The same user in a second browser has that browser's value in every form.
    let second = signed_in(node, "ada@example.com").await;
    let second_page = members_page(&second, slug).await;
    let second_csrf = csrf_in(&second_page);
    assert_ne!(second_csrf, ada_csrf);
    assert!(row_of(&second_page, grace).contains(&format!("value=\"{second_csrf}\"")));
    assert!(!second_page.contains(&ada_csrf));
    // And the first browser still has its own.
    assert!(row_of(&members_page(&ada_browser, slug).await, grace).contains(&format!("value=\"{ada_csrf}\"")));
}

#[tokio::test]
async fn every_change_is_on_the_next_members_page() {
    let app = spawn_app().await;
    every_change_is_on_the_next_page(&app, &app.base).await;
}

#[tokio::test]
async fn each_viewer_of_a_members_page_gets_rows_of_their_own() {
    let app = spawn_app().await;
    each_viewer_gets_rows_of_their_own(&app, &app.base).await;
}
