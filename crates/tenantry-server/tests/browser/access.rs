//! What a page shows follows the viewer's role, and the server refuses what the page would not
//! offer: forged forms, forms without the anti-forgery value, and another org's addresses.

use crate::world::{forge_post, log_in, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_no_invite_button_and_forged_invitations_are_refused() {
    let world = World::new().await;
    let org = world.team_org("olivia@acme.test", "Olivia Owner", "Acme Robotics").await;
    world.member(&org, "vic@acme.test", "Vic Viewer", "viewer").await;
    world.member(&org, "ada@acme.test", "Ada Admin", "admin").await;
    let members = format!("/app/org/{}/members", org.slug);
    let invitations = format!("/app/org/{}/invitations", org.slug);

    // The viewer's members page offers nothing to change.
    let viewer = world.browser().await;
    log_in(&viewer, "vic@acme.test").await;
    viewer.goto(&members).await;
    viewer.expect_h1("Members").await;
    viewer.row("ada@acme.test").await;
    assert!(!viewer.exists("#invite").await, "no invite button for a viewer");
    assert!(!viewer.exists(&format!("form[action='{invitations}']")).await);
    assert!(!viewer.texts("h2").await.contains(&"Pending invitations".to_owned()));
    assert!(!viewer.exists("a[href$='/remove']").await, "no remove button for a viewer");
    for dropdown in viewer.all("td select").await {
        assert!(!dropdown.is_enabled().await.unwrap(), "a viewer's role dropdowns are disabled");
    }

    // A forged invitation with the viewer's own cookies and anti-forgery value: refused as a
    // page, as the API refuses it, and nobody is invited.
    let csrf = viewer.csrf().await;
    forge_post(&viewer, &invitations, &[("csrf", &csrf), ("email", "mallory@evil.test"), ("role", "admin")]).await;
    viewer.wait_text("[role=alert]", "does not have the permission `members.invite`").await;
    assert_eq!(viewer.status().await, 403);
    viewer.expect_h1("Members").await;
    assert!(!world.emailed("mallory@evil.test").await, "the forged invitation sent nothing");

    // A forged role change (making the viewer's colleague the owner... or the viewer an admin).
    let ada = viewer.row("ada@acme.test").await;
    let ada_id = ada
        .find(fantoccini::Locator::Css("select"))
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap()
        .unwrap()
        .trim_start_matches("role-")
        .to_owned();
    let csrf = viewer.csrf().await;
    forge_post(&viewer, &format!("{members}/{ada_id}/role"), &[("csrf", &csrf), ("role", "viewer")]).await;
    viewer.wait_text("[role=alert]", "does not have the permission `members.change_role`").await;
    assert_eq!(viewer.status().await, 403);
    assert_eq!(world.app.role_in_db(&org.id, &ada_id).await.as_deref(), Some("admin"));

    // An admin may invite, but not as owner: an option added to the dropdown is refused.
    let admin = world.browser().await;
    log_in(&admin, "ada@acme.test").await;
    admin.goto(&members).await;
    admin.find("#invite").await;
    let offered = admin.all("#invite-role option").await;
    let mut values = Vec::new();
    for option in offered {
        values.push(option.attr("value").await.unwrap().unwrap_or_default());
    }
    assert!(!values.contains(&"owner".to_owned()), "owner is not offered: {values:?}");
    admin
        .run(
            "const o = document.createElement('option'); o.value = 'owner'; o.textContent = 'Owner'; \
             document.getElementById('invite-role').appendChild(o);",
            vec![],
        )
        .await;
    admin.click("#invite summary").await;
    admin.fill("#invite-email", "mallory@evil.test").await;
    admin.select("#invite-role", "owner").await;
    admin.click_labelled("#invite form", "Send invitation").await;
    admin.wait_text("[role=alert]", "only given by transferring ownership").await;
    assert_eq!(admin.status().await, 403);
    assert!(!world.emailed("mallory@evil.test").await, "the forged invitation sent nothing");
    // The refused form keeps what was typed.
    assert_eq!(admin.find("#invite-email").await.prop("value").await.unwrap().as_deref(), Some("mallory@evil.test"));

    viewer.close().await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_anti_forgery_value_are_refused() {
    let world = World::new().await;
    let org = world.team_org("olivia@acme.test", "Olivia Owner", "Acme Robotics").await;
    let owner = world.browser().await;
    log_in(&owner, "olivia@acme.test").await;
    owner.goto(&format!("/app/org/{}/members", org.slug)).await;
    owner.click("#invite summary").await;
    owner.fill("#invite-email", "ivy@acme.test").await;
    owner.run("document.querySelector('#invite input[name=csrf]').remove();", vec![]).await;
    owner.click_labelled("#invite form", "Send invitation").await;
    owner.expect_h1("This form has expired").await;
    assert_eq!(owner.status().await, 403);
    assert!(!world.emailed("ivy@acme.test").await, "nothing was sent");

    // A wrong value is no better than none.
    owner.goto(&format!("/app/org/{}/members", org.slug)).await;
    owner.click("#invite summary").await;
    owner.fill("#invite-email", "ivy@acme.test").await;
    owner.run("document.querySelector('#invite input[name=csrf]').value = 'A'.repeat(43);", vec![]).await;
    owner.click_labelled("#invite form", "Send invitation").await;
    owner.expect_h1("This form has expired").await;
    assert_eq!(owner.status().await, 403);
    assert!(!world.emailed("ivy@acme.test").await, "nothing was sent");

    // Logging out is a form too.
    owner.goto(&format!("/app/org/{}", org.slug)).await;
    owner.run("document.querySelector('form[action=\"/logout\"] input[name=csrf]').remove();", vec![]).await;
    owner.click_labelled("form[action='/logout']", "Log out").await;
    owner.expect_h1("This form has expired").await;
    owner.goto(&format!("/app/org/{}", org.slug)).await;
    owner.expect_h1("Acme Robotics").await;
    owner.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_orgs_addresses_are_not_found() {
    let world = World::new().await;
    let alpha = world.team_org("alice@alpha.test", "Alice Alpha", "Alpha Labs").await;
    let beta = world.team_org("bob@beta.test", "Bob Beta", "Beta Works").await;
    let bob = &beta.owner.user_id;
    let alice = world.browser().await;
    log_in(&alice, "alice@alpha.test").await;

    // Typed addresses of Beta's pages, and of Beta's member under Alpha's name.
    let typed = [
        format!("/app/org/{}", beta.slug),
        format!("/app/org/{}/members", beta.slug),
        format!("/app/org/{}/members?q=bob", beta.slug),
        format!("/app/org/{}/members/{bob}/remove", beta.slug),
        format!("/app/org/{}/api-keys", beta.slug),
        format!("/app/org/{}/roles", beta.slug),
        format!("/app/org/{}/billing", beta.slug),
        format!("/app/org/{}/audit", beta.slug),
        format!("/app/org/{}/settings", beta.slug),
        format!("/app/org/{}/settings/delete", beta.slug),
        format!("/app/org/{}/members/{bob}/remove", alpha.slug),
        format!("/app/org/{}", beta.id),
    ];
    for path in &typed {
        alice.goto(path).await;
        alice.expect_h1("Not found").await;
        assert_eq!(alice.status().await, 404, "{path}");
        let text = alice.find("main").await.text().await.unwrap();
        assert!(!text.contains("Beta") && !text.contains("bob@beta.test"), "{path} tells nothing of Beta: {text}");
    }

    // Forms posted to Beta's addresses with Alice's own anti-forgery value.
    alice.goto(&format!("/app/org/{}", alpha.slug)).await;
    let csrf = alice.csrf().await;
    let forged = [
        (format!("/app/org/{}/invitations", beta.slug), vec![("email", "eve@alpha.test"), ("role", "viewer")]),
        (format!("/app/org/{}/members/{bob}/role", beta.slug), vec![("role", "viewer")]),
        ("/app/switch".to_owned(), vec![("org", beta.slug.as_str())]),
    ];
    for (action, fields) in forged {
        alice.goto(&format!("/app/org/{}", alpha.slug)).await;
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        forge_post(&alice, &action, &fields).await;
        alice.wait_text("main", "There is nothing here, or it is not yours to see").await;
        assert_eq!(alice.status().await, 404, "{action}");
    }
    // Beta's member under Alpha's name: the members page says there is no such member.
    forge_post(&alice, &format!("/app/org/{}/members/{bob}/role", alpha.slug), &[("csrf", &csrf), ("role", "viewer")])
        .await;
    alice.find("[role=alert]").await;
    assert_eq!(alice.status().await, 404);
    alice.expect_h1("Members").await;
    assert!(!world.emailed("eve@alpha.test").await);
    assert_eq!(world.app.role_in_db(&beta.id, bob).await.as_deref(), Some("owner"));
    alice.close().await;
}
