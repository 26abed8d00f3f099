//! The host product's branding from the configuration: its name and accent colour on the pages.

use crate::common::config;
use crate::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_the_host_products_name_and_colour() {
    let mut config = config();
    config.preset = "hookdeploy".into();
    config.brand.name = "HookDeploy".into();
    config.brand.accent_color = "#0a7c66".into();
    let world = World::with_config(config).await;
    let browser = world.browser().await;

    browser.goto("/").await;
    browser.expect_h1("HookDeploy").await;
    browser.goto("/signup").await;
    browser.expect_h1("Create your HookDeploy account").await;
    let colour = browser.find("main button[type=submit]").await.css_value("background-color").await.unwrap();
    assert_eq!(colour, "rgba(10, 124, 102, 1)", "the accent colour");
    browser.fill("#display_name", "Hana Hook").await;
    browser.fill("#email", "hana@hookdeploy.test").await;
    browser.fill("#password", crate::common::PASSWORD).await;
    browser.click_labelled("main form", "Create account").await;
    browser.expect_h1("Hana Hook").await;
    for path in ["/app/new-org", "/login", "/logout"] {
        browser.goto(path).await;
        browser.find("h1").await;
        let title = browser.client.title().await.unwrap();
        assert!(title.ends_with("· HookDeploy"), "{path}: {title}");
        let text = browser.find("body").await.text().await.unwrap();
        assert!(!text.contains("Tenantry"), "{path} says Tenantry: {text}");
    }
    assert_eq!(browser.find("header .brand").await.text().await.unwrap(), "HookDeploy");
    browser.close().await;
}
