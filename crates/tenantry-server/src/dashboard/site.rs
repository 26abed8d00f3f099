//! The dashboard's fixed parts, settled at start-up: the host product's branding, where
//! "continue to the app" leads, and the stylesheet and script, each served under a name that
//! changes with its content so browsers may keep it for a year.

use sha2::{Digest, Sha256};

/// Branding and links from the configuration.
#[derive(Debug, Clone)]
pub struct Branding {
    pub name: String,
    pub logo_url: Option<String>,
    /// A CSS colour `#rgb` or `#rrggbb`, checked at start-up.
    pub accent_color: String,
    pub app_url: Option<String>,
}

impl Default for Branding {
    fn default() -> Self {
        Self { name: "Tenantry".into(), logo_url: None, accent_color: DEFAULT_ACCENT.into(), app_url: None }
    }
}

const DEFAULT_ACCENT: &str = "#4f46e5";
const STYLESHEET: &str = include_str!("../../assets/dashboard.css");
const SCRIPT: &str = include_str!("../../assets/dashboard.js");

/// A static file of the dashboard.
#[derive(Debug)]
pub struct Asset {
    /// `/assets/dashboard.<hash>.css`
    pub path: String,
    pub body: String,
    pub content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, extension: &str, body: String, content_type: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        Self { path: format!("/assets/{stem}.{hash}.{extension}"), body, content_type }
    }
}

/// Everything pages share that does not depend on the request.
pub struct Site {
    pub brand: Branding,
    /// Cookies carry `Secure` when the public URL is https.
    pub secure_cookies: bool,
    pub refresh_cookie_secs: i64,
    pub stylesheet: Asset,
    pub script: Asset,
    pub renewals: super::session::Renewals,
    /// The members table's rows, kept rendered.
    pub member_rows: super::member_rows::MemberRowsCache,
}

impl Site {
    pub fn new(brand: Branding, public_url: &str, refresh_cookie_secs: i64) -> Result<Self, String> {
        check_brand(&brand)?;
        let stylesheet =
            STYLESHEET.replace(&format!("--accent:{DEFAULT_ACCENT}"), &format!("--accent:{}", brand.accent_color));
        Ok(Self {
            secure_cookies: public_url.starts_with("https://"),
            refresh_cookie_secs,
            stylesheet: Asset::new("dashboard", "css", stylesheet, "text/css; charset=utf-8"),
            script: Asset::new("dashboard", "js", SCRIPT.to_owned(), "text/javascript; charset=utf-8"),
            brand,
            renewals: super::session::Renewals::default(),
            member_rows: super::member_rows::MemberRowsCache::default(),
        })
    }

    pub fn asset(&self, path: &str) -> Option<&Asset> {
        [&self.stylesheet, &self.script].into_iter().find(|asset| asset.path == path)
    }

    /// Where "continue to the app" leads: the host app when configured, else the dashboard.
    pub fn continue_url(&self) -> &str {
        self.brand.app_url.as_deref().unwrap_or("/app")
    }
}

/// Branding goes into pages and the stylesheet as it is, so it must not be able to break out
/// of either.
fn check_brand(brand: &Branding) -> Result<(), String> {
    let name = brand.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err("brand.name: must be 1 to 60 characters".into());
    }
    let hex = brand.accent_color.strip_prefix('#').unwrap_or("");
    if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("brand.accent_color: `{}` is not a colour like #4f46e5", brand.accent_color));
    }
    for (key, url) in [("brand.logo_url", &brand.logo_url), ("app_url", &brand.app_url)] {
        if let Some(url) = url {
            if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
                return Err(format!("{key}: `{url}` must be an http(s) URL or a path on this server"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accent_colour_reaches_the_stylesheet_and_renames_it() {
        let plain = Site::new(Branding::default(), "http://x", 60).unwrap();
        let brand = Branding { accent_color: "#0a7d5a".into(), ..Branding::default() };
        let branded = Site::new(brand, "http://x", 60).unwrap();
        assert!(branded.stylesheet.body.contains("--accent:#0a7d5a"));
        assert_ne!(plain.stylesheet.path, branded.stylesheet.path);
    }

    #[test]
    fn branding_that_could_break_out_of_css_or_html_is_refused() {
        for accent in ["red", "#12345", "#1234567", "#fff;}body{display:none", ""] {
            let brand = Branding { accent_color: accent.into(), ..Branding::default() };
            assert!(Site::new(brand, "http://x", 60).is_err(), "{accent}");
        }
        let brand = Branding { logo_url: Some("javascript:alert(1)".into()), ..Branding::default() };
        assert!(Site::new(brand, "http://x", 60).is_err());
    }
}
