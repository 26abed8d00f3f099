//! The frame around every page: branding, the org switcher and account links of a signed-in
//! viewer, the org's navigation showing only the sections the viewer's role opens, and the
//! notice or refusal of the last form.

use axum::http::StatusCode;
use tenantry_core::domain::permission::Permission;
use tenantry_core::service::access::OrgAccess;
use tenantry_core::service::accounts::Me;
use tenantry_core::Error;

use super::site::Site;
use crate::error::ApiError;
use crate::routes::pages::describe;

pub struct Shell {
    pub brand: String,
    pub logo_url: Option<String>,
    pub stylesheet: String,
    pub script: String,
    pub title: String,
    pub csrf: String,
    pub flash: Option<String>,
    pub bar: Option<UserBar>,
    pub nav: Vec<NavItem>,
    /// A page of the instance admin's console: its navigation and sign-out instead of an org's.
    pub admin: bool,
}

/// The signed-in viewer's part of the header.
pub struct UserBar {
    pub name: String,
    /// The viewer has not confirmed their email address yet.
    pub unverified: bool,
    pub orgs: Vec<SwitchOrg>,
}

pub struct SwitchOrg {
    pub slug: String,
    pub name: String,
    pub role: String,
    pub current: bool,
}

pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// The sections of an org's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Members,
    Teams,
    ApiKeys,
    Roles,
    Billing,
    Audit,
    Settings,
}

impl Shell {
    pub fn new(site: &Site, title: String, csrf: String, flash: Option<String>) -> Self {
        Self {
            brand: site.brand.name.clone(),
            logo_url: site.brand.logo_url.clone(),
            stylesheet: site.stylesheet.path.clone(),
            script: site.script.path.clone(),
            title,
            csrf,
            flash,
            bar: None,
            nav: Vec::new(),
            admin: false,
        }
    }

    /// Adds the viewer's header: their name and their orgs, `current` selected.
    pub fn with_viewer(mut self, me: &Me, current: Option<&str>) -> Self {
        let orgs = me
            .orgs
            .iter()
            .map(|o| SwitchOrg {
                slug: o.org.slug.to_string(),
                name: o.org.name.clone(),
                role: o.membership.role.clone(),
                current: Some(o.org.slug.as_str()) == current,
            })
            .collect();
        let unverified = me.user.email_verified_at.is_none();
        self.bar = Some(UserBar { name: me.user.display_name.clone(), unverified, orgs });
        self
    }

    /// Adds the org's navigation. `holds` answers whether the viewer holds a permission.
    pub fn with_org_nav(mut self, access: &OrgAccess, here: Section, holds: impl Fn(Permission) -> bool) -> Self {
        let base = format!("/app/org/{}", access.org.slug);
        let sections = [
            (Section::Overview, "", "Overview", true),
            (Section::Members, "/members", "Members", true),
            (Section::Teams, "/teams", "Teams", true),
            (Section::ApiKeys, "/api-keys", "API keys", holds(Permission::ApiKeysManage)),
            (Section::Roles, "/roles", "Roles", true),
            (Section::Billing, "/billing", "Billing", holds(Permission::BillingView)),
            (Section::Audit, "/audit", "Audit log", holds(Permission::AuditView)),
            (Section::Settings, "/settings", "Settings", true),
        ];
        self.nav = sections
            .into_iter()
            .filter(|(_, _, _, shown)| *shown)
            .map(|(section, path, label, _)| NavItem { href: format!("{base}{path}"), label, current: section == here })
            .collect();
        self
    }
}

/// The sections of the instance admin's console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminSection {
    Orgs,
    Users,
    Outbox,
    Webhooks,
}

impl Shell {
    /// Makes this a page of the admin console, `here` being its section.
    pub fn with_admin_nav(mut self, here: AdminSection) -> Self {
        let sections = [
            (AdminSection::Orgs, "/admin/orgs", "Organizations"),
            (AdminSection::Users, "/admin/users", "Users"),
            (AdminSection::Outbox, "/admin/outbox", "Email outbox"),
            (AdminSection::Webhooks, "/admin/webhooks", "Webhooks"),
        ];
        self.nav = sections
            .into_iter()
            .map(|(section, href, label)| NavItem { href: href.to_owned(), label, current: section == here })
            .collect();
        self.admin = true;
        self
    }
}

/// A refusal of a form, shown on top of the page and beside the field it names.
#[derive(Debug, Default, Clone)]
pub struct Problem {
    pub field: Option<String>,
    pub message: Option<String>,
}

impl Problem {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn text(message: impl Into<String>) -> Self {
        Self { field: None, message: Some(message.into()) }
    }

    /// The page status and the problem for a service's refusal.
    pub fn from_error(error: Error) -> (StatusCode, Self) {
        let error = ApiError::from(error);
        let field = error.details.as_ref().and_then(|d| d["field"].as_str()).map(str::to_owned);
        (error.status, Self { field, message: Some(describe(&error)) })
    }

    /// The message, when it is about `field`.
    pub fn at(&self, field: &str) -> Option<&str> {
        match (&self.field, &self.message) {
            (Some(f), Some(m)) if f == field || f.starts_with(&format!("{field}[")) => Some(m),
            _ => None,
        }
    }
}
