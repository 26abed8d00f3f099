//! A client that keeps cookies and submits forms as a browser does, for the tests of the
//! dashboard's pages.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};

use crate::common::TestApp;

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    jar: Arc<Jar>,
}

pub struct Page {
    pub status: u16,
    pub html: String,
    /// Where the browser ended up after following redirects.
    pub path: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self::at(&app.base)
    }

    /// A browser of the server at `base` (another node).
    pub fn at(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
        Self { client, base: base.to_owned(), jar }
    }

    pub async fn get(&self, path: &str) -> Page {
        let r = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        Self::page(r).await
    }

    /// Submits a form of `from` as a browser does: its hidden anti-forgery field included.
    pub async fn submit(&self, action: &str, from: &Page, fields: &[(&str, &str)]) -> Page {
        let csrf = csrf_in(&from.html);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    /// Posts exactly `fields`, as a forged form would.
    pub async fn post(&self, action: &str, fields: &[(&str, &str)]) -> Page {
        let r = self.client.post(format!("{}{action}", self.base)).form(fields).send().await.unwrap();
        Self::page(r).await
    }

    /// Logs in on the dashboard's login page.
    pub async fn log_in(&self, email: &str, password: &str) -> Page {
        let page = self.get("/login").await;
        let page = self.submit("/login", &page, &[("email", email), ("password", password)]).await;
        assert_eq!(page.status, 200, "logged in: {}", page.html);
        page
    }

    /// The `name=value` pairs the browser would send to `path`.
    pub fn cookies_for(&self, path: &str) -> String {
        let url = format!("{}{path}", self.base).parse().unwrap();
        self.jar.cookies(&url).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    async fn page(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let path = r.url().path().to_owned();
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/html"), "a page, not {content_type}");
        Page { status, html: r.text().await.unwrap(), path }
    }
}

/// The anti-forgery value of the first form on a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no form in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}
