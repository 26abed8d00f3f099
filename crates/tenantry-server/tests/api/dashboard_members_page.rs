//! The members page is served from what the caches keep (its rows rendered and compressed once
//! per viewer, the pending invitations by org), and it is never stale: each change is on the next
//! page, whoever made it and through whichever node, and one viewer's rows are never another's.
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

/// The shared form a row's role dropdown and "Save" belong to.
fn role_form(html: &str) -> &str {
    let start = html.find("<form id=\"member-role\"").expect("the shared role form");
    let end = start + html[start..].find("</form>").expect("the role form's end");
    &html[start..end]
}

/// Whether the row of `user` offers a role change, and to where it sends it.
fn offers_role_change(html: &str, slug: &str, user: &str) -> bool {
    let row = row_of(html, user);
    row.contains(&format!("name=\"role-{user}\" form=\"member-role\""))
        && row.contains(&format!("formaction=\"/app/org/{slug}/members/{user}/role\""))
}

/// Two viewers of the same page each get rows of their own: their own row marked and only the
/// actions they may take. The rows hold no secret (they are kept, and compressed, for all of a
/// viewer's browsers): each browser's anti-forgery value is in the page's shared forms only.
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
    assert!(offers_role_change(&ada_page, slug, grace));
    assert!(role_form(&ada_page).contains(&format!("value=\"{ada_csrf}\"")));
    assert!(row_of(&ada_page, ada).contains("<span class=\"tag\">you</span>"));
    assert!(!offers_role_change(&grace_page, slug, ada), "{}", row_of(&grace_page, ada));
    assert!(row_of(&grace_page, ada).contains(" disabled>"), "{}", row_of(&grace_page, ada));
    assert!(row_of(&grace_page, grace).contains("<span class=\"tag\">you</span>"));
    assert!(!row_of(&grace_page, ada).contains("<span class=\"tag\">you</span>"));
    assert!(offers_role_change(&grace_page, slug, &acme.dev.user_id));
    assert!(role_form(&grace_page).contains(&format!("value=\"{grace_csrf}\"")));
    assert!(!grace_page.contains(&ada_csrf), "Ada's anti-forgery value is on Grace's page");
    for (page, csrf) in [(&ada_page, &ada_csrf), (&grace_page, &grace_csrf)] {
        for user in [ada, grace, &acme.dev.user_id] {
            assert!(!row_of(page, user).contains(csrf.as_str()), "a row holds the anti-forgery value");
        }
    }

    // The same user in a second browser has that browser's value in the shared forms, and the
    // same rows.
    let second = signed_in(node, "ada@example.com").await;
    let second_page = members_page(&second, slug).await;
    let second_csrf = csrf_in(&second_page);
    assert_ne!(second_csrf, ada_csrf);
    assert!(role_form(&second_page).contains(&format!("value=\"{second_csrf}\"")));
    assert!(!second_page.contains(&ada_csrf));
    assert_eq!(row_of(&second_page, grace), row_of(&ada_page, grace));
    // And the first browser still has its own.
    assert!(role_form(&members_page(&ada_browser, slug).await).contains(&format!("value=\"{ada_csrf}\"")));

    // A row's "Save" sends the whole shared form; the change is the row's member's own dropdown.
    let form = [("csrf", ada_csrf.as_str()), (&*format!("role-{grace}"), "developer"), ("role-other", "viewer")];
    let saved = ada_browser.post(&format!("/app/org/{slug}/members/{grace}/role"), &form).await;
    assert_eq!(saved.status, 200, "{}", saved.html);
    assert_eq!(shown_role(&members_page(&ada_browser, slug).await, grace), "developer");
    let without = ada_browser.post(&format!("/app/org/{slug}/members/{grace}/role"), &form[..1]).await;
    assert_eq!(without.status, 400, "{}", without.html);
}

/// The members page in gzip to a browser that asks for it: the same page, its rows compressed
/// once and kept (and so fresh after a change); search results, rendered for one request, are not
/// compressed.
pub async fn the_page_is_sent_compressed_to_a_browser_that_accepts_gzip(app: &TestApp, node: &str) {
    let acme = acme(app).await;
    let (org, slug, dev) = (&acme.org, &acme.slug, &acme.dev.user_id);
    let browser = signed_in(node, "ada@example.com").await;
    let gzipped = |path: String| {
        let request = browser.client.get(format!("{node}{path}")).header("accept-encoding", "gzip, deflate, br");
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let vary = response.headers().get("vary").map(|v| v.to_str().unwrap().to_owned());
            assert!(vary.is_some_and(|v| v.contains("accept-encoding")));
            let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
            let body = response.bytes().await.unwrap();
            match encoding.as_deref() {
                Some("gzip") => {
                    let mut html = String::new();
                    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut html).unwrap();
                    (true, body.len(), html)
                }
                None => (false, body.len(), String::from_utf8(body.to_vec()).unwrap()),
                Some(other) => panic!("encoded as {other}"),
            }
        }
    };
    let plain = members_page(&browser, slug).await;
    let (compressed, sent, html) = gzipped(format!("/app/org/{slug}/members")).await;
    assert!(compressed);
    assert_eq!(html, plain);
    assert!(sent < plain.len(), "{sent} bytes sent for a page of {}", plain.len());

    let path = format!("/v1/orgs/{org}/members/{dev}");
    app.patch(&path, Some(&acme.ada.access), json!({ "role": "viewer" })).await.expect(200);
    let (_, _, html) = gzipped(format!("/app/org/{slug}/members")).await;
    assert_eq!(shown_role(&html, dev), "viewer");
    assert_eq!(html, members_page(&browser, slug).await);

    let (compressed, _, html) = gzipped(format!("/app/org/{slug}/members?q=dev")).await;
    assert!(!compressed, "search results reflect the query: they are sent as they are");
    assert_eq!(shown_role(&html, dev), "viewer");
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

#[tokio::test]
async fn the_members_page_is_sent_compressed_to_a_browser_that_accepts_gzip() {
    let app = spawn_app().await;
    the_page_is_sent_compressed_to_a_browser_that_accepts_gzip(&app, &app.base).await;
}
