//! Org slugs: the URL-safe, immutable name of an org (`/app/org/{slug}`).
//!
//! Rules: lowercase `a-z`, `0-9` and `-`, 3 to 48 characters, no leading, trailing or doubled
//! hyphen, and not a reserved word (route names and words that would confuse people).

use std::fmt;

use serde::Serialize;

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 48;

/// Words a slug may not be: they collide with routes of Tenantry or of typical host apps, or
/// would let an org pose as the service itself.
pub const RESERVED: &[&str] = &[
    "about",
    "accept-invite",
    "account",
    "admin",
    "administrator",
    "api",
    "app",
    "apps",
    "assets",
    "auth",
    "billing",
    "blog",
    "dashboard",
    "docs",
    "help",
    "health",
    "invitations",
    "login",
    "logout",
    "me",
    "new",
    "null",
    "oauth",
    "openapi",
    "org",
    "orgs",
    "organization",
    "organizations",
    "owner",
    "personal",
    "root",
    "security",
    "settings",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "tenantry",
    "undefined",
    "user",
    "users",
    "v1",
    "v2",
    "www",
];

#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("must be {MIN_LEN} to {MAX_LEN} characters")]
    Length,
    #[error("may contain only lowercase letters, digits and single hyphens, and may not start or end with a hyphen")]
    Characters,
    #[error("is a reserved word")]
    Reserved,
}

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        if raw.len() < MIN_LEN || raw.len() > MAX_LEN {
            return Err(SlugError::Length);
        }
        let allowed = raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !allowed || raw.starts_with('-') || raw.ends_with('-') || raw.contains("--") {
            return Err(SlugError::Characters);
        }
        if RESERVED.contains(&raw) {
            return Err(SlugError::Reserved);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The slug a name suggests, before any uniqueness suffix: ASCII letters and digits kept
    /// (lowercased), every other run of characters turned into one hyphen. Returns `None` when the
    /// name yields nothing usable (too short, or reserved); callers then fall back to a random slug.
    pub fn suggest_from_name(name: &str) -> Option<Self> {
        let mut out = String::with_capacity(name.len());
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        // Leave room for a "-xxxxxx" uniqueness suffix.
        out.truncate(MAX_LEN - 7);
        let trimmed = out.trim_end_matches('-');
        Self::parse(trimmed).ok()
    }

    /// `base` with a suffix appended, used when the suggested slug is taken.
    pub fn with_suffix(base: Option<&Slug>, suffix: &str) -> Self {
        let text = match base {
            Some(base) => format!("{}-{suffix}", base.0),
            None => format!("org-{suffix}"),
        };
        Self::parse(&text).expect("a valid slug plus a lowercase alphanumeric suffix stays valid")
    }

    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slug({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_refuses() {
        assert!(Slug::parse("acme-inc").is_ok());
        assert_eq!(Slug::parse("ab"), Err(SlugError::Length));
        assert_eq!(Slug::parse(&"a".repeat(49)), Err(SlugError::Length));
        assert_eq!(Slug::parse("Acme"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("-acme"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("acme--inc"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("acme_inc"), Err(SlugError::Characters));
        assert_eq!(Slug::parse("admin"), Err(SlugError::Reserved));
    }

    #[test]
    fn suggests_from_names() {
        assert_eq!(Slug::suggest_from_name("Acme, Inc.").unwrap().as_str(), "acme-inc");
        assert_eq!(Slug::suggest_from_name("  Ünïcode Team ").unwrap().as_str(), "n-code-team");
        assert!(Slug::suggest_from_name("Jo").is_none());
        assert!(Slug::suggest_from_name("Admin").is_none());
    }

    proptest! {
        #[test]
        fn every_suggestion_is_a_valid_slug_with_room_for_a_suffix(name in ".{0,80}") {
            if let Some(slug) = Slug::suggest_from_name(&name) {
                prop_assert!(Slug::parse(slug.as_str()).is_ok());
                let suffixed = Slug::with_suffix(Some(&slug), "a1b2c3");
                prop_assert!(suffixed.as_str().len() <= MAX_LEN);
            }
        }
    }
}
