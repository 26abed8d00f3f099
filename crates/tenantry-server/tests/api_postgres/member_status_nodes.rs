//! SPEC 13a on several nodes: a member suspended through one node is refused by another on their
//! next request, by the org routes and by `/v1/authorize`, and admitted again once unsuspended.

use reqwest::Method;
use serde_json::json;

use crate::common::{spawn_app, SERVICE_TOKEN};

#[tokio::test]
async fn a_member_suspended_through_one_node_is_refused_by_the_other_on_the_next_request() {
    let app = spawn_app().await;
    let other = app.another_node().await;
    let ada = app.signup("ada@example.com", "Ada").await;
    let carol = app.signup("carol@example.com", "Carol").await;
    let org = app.create_org(&ada, "Acme").await["id"].as_str().unwrap().to_owned();
    app.set_plan(&org, "team").await;
    app.add_member(&org, &carol, "developer").await;
    let member = format!("/v1/orgs/{org}/members/{}", carol.user_id);
    let check = json!({ "subject": { "user_id": carol.user_id }, "org": org, "permission": "endpoints.view" });

    let (node, app_ref, token) = (other.as_str(), &app, carol.access.as_str());
    let on_other = move |method: Method, path: String| async move {
        app_ref.call_on(node, method, &path, Some(token), None).await
    };
    for round in 0..3 {
        // The other node caches Carol as an active developer …
        on_other(Method::GET, format!("/v1/orgs/{org}/members")).await.expect(200);
        on_other(Method::GET, format!("/v1/orgs/{org}")).await.expect(200);
        let r = app.call_on(&other, Method::POST, "/v1/authorize", Some(SERVICE_TOKEN), Some(check.clone())).await;
        assert_eq!(r.expect(200).body["data"]["allowed"], true, "round {round}");

        // … until she is suspended here.
        app.patch(&member, Some(&ada.access), json!({ "status": "suspended" })).await.expect(200);
        for path in [format!("/v1/orgs/{org}/members"), format!("/v1/orgs/{org}")] {
            let r = on_other(Method::GET, path.clone()).await;
            assert_eq!(r.status.as_u16(), 403, "round {round}: {path}: {}", r.body);
            assert_eq!(r.code(), "member_suspended");
        }
        let r = app.call_on(&other, Method::POST, "/v1/authorize", Some(SERVICE_TOKEN), Some(check.clone())).await;
        let decision = r.expect(200).body["data"].clone();
        assert_eq!(decision["allowed"], false, "round {round}");
        assert!(decision["reason"].as_str().unwrap().contains("suspended"), "{decision}");
        let r = app.call_on(&other, Method::GET, &member, Some(&ada.access), None).await.expect(200);
        assert_eq!(r.body["data"]["status"], "suspended");

        app.patch(&member, Some(&ada.access), json!({ "status": "active" })).await.expect(200);
        on_other(Method::GET, format!("/v1/orgs/{org}")).await.expect(200);
    }
}
