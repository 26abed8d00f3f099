//! Accessibility basics checked in the browser (every control labelled, one `h1`, headings in
//! order, a `main` landmark; the members page usable at 375 px), and the screenshots the README
//! shows.

use std::path::PathBuf;

use serde_json::json;

use crate::harness::{Browser, Driver, DESKTOP_WIDTH};
use crate::world::{log_in, Fixture, World};

/// Builds an org with some life in it: members of each role, pending invitations, API keys (one
/// revoked) and the audit events all that wrote.
async fn lively_org(world: &World) -> Fixture {
    let app = &world.app;
    let org = world.team_org("olivia@acme.test", "Olivia Owner", "Acme Robotics").await;
    let token = Some(org.owner.access.as_str());
    let mut members = Vec::new();
    for (email, name, role) in [
        ("ada@acme.test", "Ada Admin", "admin"),
        ("dan@acme.test", "Dan Developer", "developer"),
        ("fay@acme.test", "Fay Finance", "finance"),
        ("vic@acme.test", "Vic Viewer", "viewer"),
    ] {
        members.push(world.member(&org, email, name, role).await);
    }
    let (dan, vic) = (&members[1], &members[3]);
    for (email, role) in [("ivy@acme.test", "developer"), ("max@acme.test", "viewer")] {
        app.post(&format!("/v1/orgs/{}/invitations", org.id), token, json!({ "email": email, "role": role }))
            .await
            .expect(201);
    }
    for (name, scopes) in
        [("CI deploys", vec!["endpoints.create", "endpoints.view"]), ("Status page", vec!["endpoints.view"])]
    {
        app.post(&format!("/v1/orgs/{}/api-keys", org.id), token, json!({ "name": name, "scopes": scopes }))
            .await
            .expect(201);
    }
    let old = app
        .post(
            &format!("/v1/orgs/{}/api-keys", org.id),
            token,
            json!({ "name": "Old deploy key", "scopes": ["endpoints.view"] }),
        )
        .await
        .expect(201);
    let old = old.body["data"]["id"].as_str().expect("the key's id");
    app.delete(&format!("/v1/orgs/{}/api-keys/{old}", org.id), token).await.expect(204);
    app.post(
        &format!("/v1/orgs/{}/teams", org.id),
        token,
        json!({ "name": "Platform", "description": "Deploys and uptime" }),
    )
    .await
    .expect(201);
    for (user, role) in [(&dan.user_id, "lead"), (&vic.user_id, "member")] {
        app.post(
            &format!("/v1/orgs/{}/teams/platform/members", org.id),
            token,
            json!({ "user_id": user, "role": role }),
        )
        .await
        .expect(201);
    }
    org
}

/// What the page shown lacks of the basics: one `h1` first, headings in order, one `main`
/// landmark, a declared language and a label on every control.
async fn problems_of_page(browser: &Browser) -> Vec<String> {
    let facts = browser
        .run(
            "const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')];
             const unlabelled = controls
               .filter(c => !(c.labels && [...c.labels].some(l => l.textContent.trim()))
                 && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
               .map(c => c.outerHTML.slice(0, 160));
             const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1]);
             return {
               h1: document.querySelectorAll('h1').length,
               main: document.querySelectorAll('main, [role=main]').length,
               lang: document.documentElement.lang,
               unlabelled,
               levels,
             };",
            vec![],
        )
        .await;
    let mut problems = Vec::new();
    if facts["h1"] != 1 {
        problems.push(format!("{} h1 elements", facts["h1"]));
    }
    if facts["main"] != 1 {
        problems.push(format!("{} main landmarks", facts["main"]));
    }
    if facts["lang"] != "en" {
        problems.push(format!("language {}", facts["lang"]));
    }
    for control in facts["unlabelled"].as_array().unwrap() {
        problems.push(format!("no label: {control}"));
    }
    let levels: Vec<u64> = facts["levels"].as_array().unwrap().iter().map(|l| l.as_u64().unwrap()).collect();
    if levels.first() != Some(&1) {
        problems.push(format!("the first heading is not the h1: {levels:?}"));
    }
    if levels.windows(2).any(|pair| pair[1] > pair[0] + 1) {
        problems.push(format!("a heading level is skipped: {levels:?}"));
    }
    problems
}

pub(crate) async fn check_page(browser: &Browser, what: &str) {
    let problems = problems_of_page(browser).await;
    assert!(problems.is_empty(), "{what} ({}): {problems:#?}", browser.path().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accessibility_check_finds_what_it_looks_for() {
    let driver = Driver::start().await;
    let browser = driver.browser("http://127.0.0.1:9", true).await;
    browser
        .goto(
            "data:text/html,<html><body><h2>Late</h2><h1>One</h1><h1>Two</h1><h4>Deep</h4>\
             <label for=a>A</label><input id=a><input id=b name=b><select></select>\
             <label><input type=checkbox> wrapped</label></body></html>",
        )
        .await;
    let problems = problems_of_page(&browser).await;
    let expected = [
        "2 h1 elements",
        "0 main landmarks",
        "language \"\"",
        "no label: \"<input id=\\\"b\\\" name=\\\"b\\\">\"",
        "no label: \"<select></select>\"",
        "the first heading is not the h1: [2, 1, 1, 4]",
        "a heading level is skipped: [2, 1, 1, 4]",
    ];
    assert_eq!(problems, expected);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_have_labels_one_heading_and_a_main_landmark() {
    let world = World::new().await;
    let org = lively_org(&world).await;
    let browser = world.browser().await;
    for path in ["/", "/login", "/signup", "/forgot-password", "/admin"] {
        browser.goto(path).await;
        browser.find("h1").await;
        check_page(&browser, path).await;
    }
    log_in(&browser, "olivia@acme.test").await;
    let dan = world.app.login("dan@acme.test").await;
    let me = world.app.get("/v1/me", Some(&dan)).await.expect(200);
    let dan_id = me.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    let base = format!("/app/org/{}", org.slug);
    let mut paths: Vec<String> = [
        "",
        "/members",
        "/teams",
        "/teams/platform",
        "/teams/platform/delete",
        "/api-keys",
        "/roles",
        "/billing",
        "/audit",
        "/settings",
        "/settings/delete",
    ]
    .iter()
    .map(|p| format!("{base}{p}"))
    .collect();
    paths.push(format!("{base}/members/{dan_id}/remove"));
    paths.push(format!("{base}/members?q=ada"));
    paths.push("/app/new-org".into());
    paths.push("/app/account".into());
    paths.push("/app/org/nowhere".into());
    for path in &paths {
        browser.goto(path).await;
        browser.find("h1").await;
        check_page(&browser, path).await;
    }
    // The members page with the invite dialog open, and with a refused form's message.
    browser.goto(&format!("{base}/members")).await;
    browser.click("#invite summary").await;
    check_page(&browser, "the open invite dialog").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_page_fits_a_375_pixel_screen() {
    let world = World::new().await;
    let org = lively_org(&world).await;
    let browser = world.browser().await;
    log_in(&browser, "olivia@acme.test").await;
    browser.set_width(375).await;
    browser.goto(&format!("/app/org/{}/members", org.slug)).await;
    browser.row("vic@acme.test").await;
    browser.click("#invite summary").await;
    let widths = browser
        .run(
            "return { body: document.body.scrollWidth, page: document.documentElement.scrollWidth, \
             viewport: document.documentElement.clientWidth };",
            vec![],
        )
        .await;
    let viewport = widths["viewport"].as_u64().unwrap();
    assert_eq!(viewport, 375, "{widths}");
    assert!(widths["body"].as_u64().unwrap() <= viewport, "the body overflows at 375 px: {widths}");
    assert!(widths["page"].as_u64().unwrap() <= viewport, "the page scrolls sideways at 375 px: {widths}");
    // The controls stay within the screen, reachable without scrolling sideways.
    for css in ["#invite-email", "#invite-role", "#q", "#org-switch", "td select:not([disabled])"] {
        let (x, _, width, _) = browser.find(css).await.rectangle().await.unwrap();
        assert!(x >= 0.0 && x + width <= viewport as f64 + 0.5, "{css} sticks out: x {x}, width {width}");
    }
    // The team page too, with its add-member dialog open.
    browser.goto(&format!("/app/org/{}/teams/platform", org.slug)).await;
    browser.row("dan@acme.test").await;
    browser.click("#add-member summary").await;
    let page = browser.run("return document.documentElement.scrollWidth;", vec![]).await;
    assert!(page.as_u64().unwrap() <= viewport, "the team page scrolls sideways at 375 px: {page}");
    for css in ["#add-email", "#add-role", "td select"] {
        let (x, _, width, _) = browser.find(css).await.rectangle().await.unwrap();
        assert!(x >= 0.0 && x + width <= viewport as f64 + 0.5, "{css} sticks out: x {x}, width {width}");
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_members_api_keys_and_audit_pages() {
    let world = World::new().await;
    let org = lively_org(&world).await;
    let browser = world.browser().await;
    log_in(&browser, "olivia@acme.test").await;
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&directory).expect("docs/screenshots");
    for (page, file, shown) in [
        ("members", "members.png", "vic@acme.test"),
        ("teams/platform", "team.png", "dan@acme.test"),
        ("api-keys", "api-keys.png", "CI deploys"),
        ("audit", "audit.png", "api_key.revoked"),
    ] {
        browser.goto(&format!("/app/org/{}/{page}", org.slug)).await;
        browser.wait_text("main table", shown).await;
        let png = browser.client.screenshot().await.expect("a screenshot");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{file} is a PNG");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width, DESKTOP_WIDTH, "{file} is {DESKTOP_WIDTH} px wide");
        std::fs::write(directory.join(file), &png).expect("writing the screenshot");
    }
    browser.close().await;
}
