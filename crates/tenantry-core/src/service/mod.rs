//! Use cases, one module per capability, over one shared context.
//!
//! [`Tenantry`] is that context: the store, the preset, the clock, the caches and the plumbing
//! every capability shares (loading a caller's access in `access`, the unit of work in
//! `unit_of_work`, letters in `email`, refusals in `security_events`). It offers no use case
//! itself; each capability is a small service borrowing it — `tenantry.members()`,
//! `tenantry.api_keys()`, … (listed in `capabilities!` below) — whose operations live in the
//! capability's module, and each rule is written in exactly one of them.
//!
//! Every write goes through `unit_of_work`: it opens a `Write` (or an `OrgWrite`, which loads the
//! caller's standing in the org and checks a typed `Permission`), and only `commit(event)` ends
//! it, so the change, its audit event and the cache invalidations the store reported commit
//! together. The caches themselves live in `crate::caches`.

pub mod access;
pub mod account_settings;
pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod authorize;
pub mod directory;
pub mod email;
pub mod events;
pub mod invitations;
pub mod members;
pub mod mfa;
pub mod notifications;
pub mod observed;
pub mod orgs;
pub mod outbox;
pub mod ownership;
pub mod plans;
pub mod principal;
pub mod roles;
pub mod security_events;
pub mod service_grants;
pub mod sessions;
pub mod settings;
pub mod teams;
pub mod unit_of_work;
pub mod usage;
pub mod webhooks;

use std::sync::Arc;

use chrono::Duration;
use tokio::sync::Notify;

use crate::caches::{
    grants, key_cache, key_usage, me, member_pages, pending_invitations, rate_limit, session_cache, throttle,
};
use crate::context::{Clock, Random};
use crate::domain::password::PasswordHasher;
use crate::domain::plan::BillingMode;
use crate::domain::preset::Preset;
use crate::domain::secret::{IssuedToken, TOKEN_BYTES};
use crate::store::{CacheChange, Store};
use crate::tokens;
use crate::Result;

pub use principal::{KeyPrincipal, Principal, RequestMeta, UserPrincipal};

/// Settings the use cases need from configuration.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Base of links in emails, without a trailing slash.
    pub public_url: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub email_token_ttl: Duration,
    /// Log emailed links at info level (when no SMTP server is configured, so a fresh install
    /// can still follow them).
    pub log_email_links: bool,
    pub password_hash_concurrency: usize,
    pub billing_mode: BillingMode,
    /// Whether changes write host apps' events beside their audit records. Always on in service;
    /// the benchmark turns it off to measure what events cost.
    pub host_events: bool,
    /// The key that seals TOTP secrets (base64 of 32 bytes); without one, a key is generated on
    /// first start and kept in the database.
    pub mfa_encryption_key: Option<MfaKey>,
}

/// The configured MFA key, never printed.
#[derive(Clone)]
pub struct MfaKey(pub String);

impl std::fmt::Debug for MfaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaKey(…)")
    }
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            access_token_ttl: Duration::minutes(15),
            refresh_token_ttl: Duration::days(30),
            email_token_ttl: Duration::hours(24),
            log_email_links: true,
            password_hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            billing_mode: BillingMode::Managed,
            host_events: true,
            mfa_encryption_key: None,
        }
    }
}

pub struct Tenantry {
    store: Arc<dyn Store>,
    preset: Arc<Preset>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    settings: ServiceSettings,
    passwords: PasswordHasher,
    tokens: tokens::TokenSigner,
    login_throttle: throttle::LoginThrottle,
    resends: account_settings::ResendThrottle,
    security_throttle: security_events::SecurityThrottle,
    grants: grants::GrantCache,
    session_cache: session_cache::SessionCache,
    member_pages: member_pages::MemberPageCache,
    /// The pending invitations org pages list.
    pending_invitations: pending_invitations::PendingInvitationCache,
    /// Users' accounts (their row and memberships) and orgs: what `me` answers with.
    me_cache: me::MeCache,
    keys: key_cache::KeyCache,
    rate_limits: rate_limit::RateLimiter,
    /// The minute whose old rate windows were last pruned from the database.
    rate_windows_pruned: std::sync::atomic::AtomicI64,
    key_usage: key_usage::KeyUsage,
    /// Seals and opens users' TOTP secrets.
    mfa_cipher: crate::domain::mfa::MfaCipher,
    outbox_ready: Arc<Notify>,
    /// Woken when a change with a host apps' event commits (the dispatcher fans it out).
    events_ready: Arc<Notify>,
    /// Woken when deliveries are queued (the sender attempts them).
    deliveries_ready: Arc<Notify>,
}

/// Declares the capabilities: for each, a service that borrows the shared context (and reads
/// it through `Deref`), and the accessor on [`Tenantry`] that hands it out. A service is one
/// pointer wide and free to make, so callers ask for one per call.
macro_rules! capabilities {
    ($($(#[$doc:meta])* $accessor:ident => $service:ident,)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy)]
            pub struct $service<'a> {
                context: &'a Tenantry,
            }

            impl std::ops::Deref for $service<'_> {
                type Target = Tenantry;

                fn deref(&self) -> &Tenantry {
                    self.context
                }
            }
        )*

        impl Tenantry {
            $(
                $(#[$doc])*
                pub fn $accessor(&self) -> $service<'_> {
                    $service { context: self }
                }
            )*
        }
    };
}

capabilities! {
    /// Sign-up, sign-in, tokens, profile, email verification and passwords (`accounts`,
    /// `account_settings`).
    accounts => Accounts,
    /// A user's sessions: listing and revoking them (`sessions`).
    sessions => Sessions,
    /// Second factors: TOTP enrolment, recovery codes, challenges and orgs that require them
    /// (`mfa`).
    mfa => Mfa,
    /// Orgs: creation, profile, deletion, switching and ownership transfer (`orgs`, `ownership`).
    orgs => Orgs,
    /// The dashboard's views of an org: overview, member search, the roles a caller may grant
    /// (`directory`).
    directory => Directory,
    /// An org's members: listing, role changes, removal, leaving (`members`).
    members => Members,
    /// An org's roles, built-in and custom (`roles`).
    roles => Roles,
    /// Teams and their members (`teams`).
    teams => Teams,
    /// Invitations: sending, accepting, revoking, resending (`invitations`).
    invitations => Invitations,
    /// API keys: creation, rolling, revoking and verification (`api_keys`).
    api_keys => ApiKeys,
    /// "May this user or key do P in org O?" and the grant caches behind it (`authorize`).
    authorization => Authorization,
    /// Plans and billing (`plans`).
    plans => Plans,
    /// Usage against the plan's limits, and metered counters (`usage`).
    metering => Metering,
    /// An org's settings document (`settings`).
    org_settings => OrgSettings,
    /// The audit log: appending, listing, exporting (`audit`).
    audit => Audit,
    /// The host apps' event feed (`events`).
    events => Events,
    /// Webhook endpoints and their deliveries (`webhooks`).
    webhooks => Webhooks,
    /// Notifications host apps send to an org's admins (`notifications`).
    notifications => Notifications,
    /// The instance admin's operations (`admin`).
    admin => Admin,
    /// The mail outbox's bookkeeping, for the mail sender (`outbox`).
    outbox => Outbox,
}

impl Tenantry {
    /// Builds the services, creating the instance's signing key on first start.
    pub async fn new(
        store: Arc<dyn Store>,
        preset: Arc<Preset>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
        settings: ServiceSettings,
    ) -> Result<Self> {
        let tokens = tokens::TokenSigner::load_or_create(store.as_ref(), clock.as_ref()).await?;
        let configured = settings.mfa_encryption_key.as_ref().map(|k| k.0.as_str());
        let mfa_cipher = mfa::load_cipher(store.as_ref(), random.as_ref(), configured).await?;
        Ok(Self {
            mfa_cipher,
            passwords: PasswordHasher::new(settings.password_hash_concurrency),
            login_throttle: throttle::LoginThrottle::default(),
            resends: account_settings::ResendThrottle::default(),
            security_throttle: security_events::SecurityThrottle::default(),
            grants: grants::GrantCache::default(),
            session_cache: session_cache::SessionCache::default(),
            member_pages: member_pages::MemberPageCache::default(),
            pending_invitations: pending_invitations::PendingInvitationCache::default(),
            me_cache: me::MeCache::default(),
            keys: key_cache::KeyCache::default(),
            rate_limits: rate_limit::RateLimiter::default(),
            rate_windows_pruned: std::sync::atomic::AtomicI64::new(0),
            key_usage: key_usage::KeyUsage::default(),
            outbox_ready: Arc::new(Notify::new()),
            events_ready: Arc::new(Notify::new()),
            deliveries_ready: Arc::new(Notify::new()),
            store,
            preset,
            clock,
            random,
            settings,
            tokens,
        })
    }

    pub fn preset(&self) -> &Preset {
        &self.preset
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The base of links in emails and pages, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.settings.public_url
    }

    /// A new random secret (≥ 128 bits, URL-safe), e.g. for a form's anti-forgery value.
    pub fn fresh_secret(&self) -> String {
        self.issue_token().plain
    }

    /// The public keys that verify access tokens, as a JWK set.
    pub fn jwks(&self) -> serde_json::Value {
        self.tokens.jwks()
    }

    /// Woken whenever a message is committed to the outbox.
    pub fn outbox_ready(&self) -> Arc<Notify> {
        self.outbox_ready.clone()
    }

    /// Woken whenever a change with a host apps' event commits.
    pub fn events_ready(&self) -> Arc<Notify> {
        self.events_ready.clone()
    }

    /// Woken whenever deliveries are queued.
    pub fn deliveries_ready(&self) -> Arc<Notify> {
        self.deliveries_ready.clone()
    }

    /// Drops what `change` names from the in-memory caches (also for changes other processes
    /// committed).
    pub fn apply_cache_change(&self, change: &CacheChange) {
        match change {
            CacheChange::Member { org, user } => {
                self.grants.forget_member(*org, *user);
                self.member_pages.forget_org(*org);
                self.me_cache.forget_member(*org, *user);
            }
            CacheChange::Org { org } => self.me_cache.forget_org(*org),
            CacheChange::OrgRoles { org } => {
                self.grants.forget_org_roles(*org);
                self.member_pages.forget_org(*org);
                self.me_cache.forget_org_members(*org);
            }
            CacheChange::OrgInvitations { org } => self.pending_invitations.forget_org(*org),
            CacheChange::Key { id, secret_hash } => self.keys.forget(*id, secret_hash),
            CacheChange::OrgPlan { org } => {
                self.keys.forget_org(*org);
                self.me_cache.forget_org(*org);
            }
            CacheChange::OrgTeams { org } => {
                self.grants.forget_org_teams(*org);
                self.member_pages.forget_org(*org);
            }
            CacheChange::OrgDeleted { org, slug } => {
                self.grants.forget_org(*org, slug);
                self.keys.forget_org(*org);
                self.member_pages.forget_org(*org);
                self.pending_invitations.forget_org(*org);
                self.me_cache.forget_org(*org);
            }
            CacheChange::UserStatus { user } => {
                self.grants.forget_user(*user);
                self.session_cache.forget_user(*user);
                self.me_cache.forget_user(*user);
            }
            CacheChange::User { user } => self.me_cache.forget_user(*user),
            CacheChange::Session { id } => self.session_cache.forget_session(*id),
            CacheChange::UserSessions { user } => self.session_cache.forget_user(*user),
            CacheChange::UserMfa { user } => self.grants.forget_user(*user),
            CacheChange::OrgSecurity { org } => self.grants.forget_org_security(*org),
        }
    }

    /// Empties every cache: after a gap in the stream of other processes' changes.
    pub fn clear_caches(&self) {
        self.grants.clear();
        self.session_cache.clear();
        self.member_pages.clear();
        self.pending_invitations.clear();
        self.me_cache.clear();
        self.keys.clear();
    }

    fn issue_token(&self) -> IssuedToken {
        let mut bytes = [0u8; TOKEN_BYTES];
        self.random.fill(&mut bytes);
        IssuedToken::from_random(bytes)
    }

    /// A short random lowercase suffix (for slugs).
    fn random_suffix(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut bytes = vec![0u8; len];
        self.random.fill(&mut bytes);
        bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
    }
}
