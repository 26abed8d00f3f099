//! Driving Debian's Chromium over WebDriver: one `chromedriver` per test, started in its own
//! process group on a free port and killed together with every browser it started when the test
//! ends (passing or failing); a headless browser session per person in the test, with its own
//! profile; and helpers that poll for what a page should show instead of sleeping.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(10);
/// How often a waiting test looks again.
const POLL: Duration = Duration::from_millis(25);

/// The desktop width pages are tested (and screenshots taken) at.
pub const DESKTOP_WIDTH: u32 = 1280;

/// `sh -c` script: `$1 --port=$2` in the background while process `$3` lives, then the end of
/// the whole process group.
const WATCHDOG: &str =
    r#""$1" --port="$2" >/dev/null 2>&1 & while kill -0 "$3" 2>/dev/null; do sleep 1; done; kill -KILL 0"#;

/// A running `chromedriver`, killed with its browsers when dropped.
pub struct Driver {
    child: Child,
    url: String,
    /// The browser profiles of this test's sessions.
    profiles: tempfile::TempDir,
}

impl Driver {
    pub async fn start() -> Self {
        for path in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: the browser tests drive Debian's Chromium; install it with \
                 `apt-get install chromium chromium-driver` (.ci/run does this when it is missing)"
            );
        }
        let port = free_port();
        // A watchdog shell leads the process group: it starts chromedriver and, should this test
        // process die without dropping the driver, ends the group (chromedriver and its browsers).
        let child = Command::new("sh")
            .args(["-c", WATCHDOG, "chromedriver-watchdog", CHROMEDRIVER, &port.to_string()])
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{CHROMEDRIVER} could not be started: {e}"));
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profiles: tempfile::tempdir().expect("a directory for browser profiles"),
        };
        driver.wait_until_ready().await;
        driver
    }

    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = client.get(format!("{}/status", self.url)).send().await {
                if let Ok(status) = response.json::<Value>().await {
                    if status["value"]["ready"] == json!(true) {
                        return;
                    }
                }
            }
            assert!(Instant::now() < deadline, "{CHROMEDRIVER} did not become ready within 20 s");
            tokio::time::sleep(POLL).await;
        }
    }

    /// A new headless browser session (its own profile, so its own cookies) for `base`, with
    /// JavaScript on or off.
    pub async fn browser(&self, base: &str, javascript: bool) -> Browser {
        let profile = tempfile::tempdir_in(self.profiles.path()).expect("a profile directory").keep();
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                // Tests run as root in a container: no user namespace for the sandbox.
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                format!("--window-size={DESKTOP_WIDTH},900"),
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if !javascript {
            options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("no browser session from {CHROMEDRIVER} with {CHROMIUM}: {e}"));
        let browser = Browser { client, base: base.to_owned(), javascript };
        browser.check_javascript_setting().await;
        browser
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browsers it started.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// One person's browser.
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub javascript: bool,
}

impl Browser {
    /// Proves the session runs page scripts exactly when it should: the one JavaScript file of
    /// the dashboard is requested either way, and only a session with scripts sees its effect.
    async fn check_javascript_setting(&self) {
        self.client
            .goto("data:text/html,<p id=x>off</p><script>document.getElementById('x').textContent='on'</script>")
            .await
            .expect("a data page opens");
        let shown = self.client.find(Locator::Css("#x")).await.expect("the probe").text().await.expect("its text");
        let expected = if self.javascript { "on" } else { "off" };
        assert_eq!(shown, expected, "the browser's JavaScript setting did not take effect");
    }

    /// Opens `path` on the server under test (or a whole URL).
    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with('/') { format!("{}{path}", self.base) } else { path.to_owned() };
        self.client.goto(&url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    pub async fn reload(&self) {
        self.client.refresh().await.expect("reload");
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// What the page says, for failure messages.
    pub async fn describe(&self) -> String {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let text: String = text.chars().take(1500).collect();
        format!("at {url}:\n{text}")
    }

    /// The element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(PATIENCE).every(POLL).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element `{css}` ({e}) {}", self.describe().await),
        }
    }

    /// The element found by an XPath expression, waiting for it to appear.
    pub async fn find_xpath(&self, xpath: &str) -> Element {
        match self.client.wait().at_most(PATIENCE).every(POLL).for_element(Locator::XPath(xpath)).await {
            Ok(element) => element,
            Err(e) => panic!("no element at `{xpath}` ({e}) {}", self.describe().await),
        }
    }

    /// Every element matching `css` now (no waiting).
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.expect("find_all")
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self.all(css).await.is_empty()
    }

    /// The texts of every element matching `css` now.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.all(css).await {
            texts.push(element.text().await.expect("an element's text"));
        }
        texts
    }

    /// Types `value` into the field `css` (emptied first).
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|e| panic!("clearing `{css}`: {e}"));
        field.send_keys(value).await.unwrap_or_else(|e| panic!("typing into `{css}`: {e}"));
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        element.click().await.unwrap_or_else(|e| panic!("clicking `{css}`: {e}"));
    }

    /// Clicks the button or link whose text is `label` (inside `within`, a CSS selector).
    pub async fn click_labelled(&self, within: &str, label: &str) {
        let scope = self.find(within).await;
        self.click_in(&scope, label).await;
    }

    /// The table row with a cell whose whole text is `cell`.
    pub async fn row(&self, cell: &str) -> Element {
        self.find_xpath(&format!("//tr[td[normalize-space(.)={}]]", xpath_literal(cell))).await
    }

    /// Clicks the button or link labelled `label` inside `scope`.
    pub async fn click_in(&self, scope: &Element, label: &str) {
        let xpath = format!(".//*[(self::button or self::a) and normalize-space(.)={}]", xpath_literal(label));
        let target = match scope.find(Locator::XPath(&xpath)).await {
            Ok(target) => target,
            Err(e) => panic!("no button or link `{label}` ({e}) {}", self.describe().await),
        };
        target.click().await.unwrap_or_else(|e| panic!("clicking `{label}`: {e}"));
    }

    /// Chooses the option with `value` in the dropdown `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let select = self.find(css).await;
        select.select_by_value(value).await.unwrap_or_else(|e| panic!("choosing `{value}` in `{css}`: {e}"));
    }

    /// Waits until the element `css` exists and its text contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            for element in self.client.find_all(Locator::Css(css)).await.unwrap_or_default() {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("no `{css}` saying “{needle}” {}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the page's heading to contain `needle`.
    pub async fn expect_h1(&self, needle: &str) {
        self.wait_text("h1", needle).await;
    }

    /// Waits for the notice the last form left (`role=status`) to contain `needle`.
    pub async fn expect_notice(&self, needle: &str) {
        self.wait_text("[role=status]", needle).await;
    }

    /// Waits until the browser is at `path` (path and query).
    pub async fn expect_path(&self, path: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.path().await == path {
                return;
            }
            if Instant::now() > deadline {
                panic!("expected to be at {path} {}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The HTTP status the current document was served with.
    pub async fn status(&self) -> u16 {
        let status = self
            .client
            .execute("return performance.getEntriesByType('navigation')[0].responseStatus;", vec![])
            .await
            .expect("reading the navigation status");
        status.as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or_else(|| panic!("no status: {status}"))
    }

    /// Runs `script` in the page (WebDriver runs it even when the page's own scripts are off).
    pub async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("running a script: {e}"))
    }

    /// The anti-forgery value the page's forms carry.
    pub async fn csrf(&self) -> String {
        self.find("input[name=csrf]").await.prop("value").await.expect("the csrf value").expect("a csrf value")
    }

    /// Makes the window's viewport `width` CSS pixels wide (and checks it is).
    pub async fn set_width(&self, width: u32) {
        self.client.set_window_size(width, 900).await.expect("resizing the window");
        let inner = self.run("return window.innerWidth;", vec![]).await;
        assert_eq!(inner, json!(width), "the viewport did not take the width");
    }

    pub async fn close(self) {
        self.client.close().await.expect("closing the browser session");
    }
}

/// `text` as an XPath string literal.
pub fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
