//! Multi-factor authentication (SPEC 14): TOTP enrolment and confirmation with recovery codes,
//! disabling it, the instance admin's reset, the second step of a login, and orgs that require
//! MFA of their members.
//!
//! A code is accepted once: the step it belongs to must be later than the last accepted step,
//! moved by one conditional update, so two requests racing with one code cannot both pass.
//! Wrong codes count against the login throttle (per account and address) and, on a login's
//! second step, against the `mfa_token` itself (five attempts).

use chrono::Duration;
use serde_json::json;

use super::accounts::SignedIn;
use super::unit_of_work::{Change, Event};
use super::{Mfa, Principal, RequestMeta, UserPrincipal};
use crate::domain::audit::Target;
use crate::domain::ids::{OrgId, OrgRef, UserId};
use crate::domain::mfa::{self, MfaCipher, TotpSecret, RECOVERY_CODES, SECRET_BYTES};
use crate::domain::models::{Member, User, UserStatus};
use crate::domain::permission::Permission;
use crate::domain::secret::hash_token;
use crate::store::{CacheChange, ReadTx, Stale, Store, StoredTotp, Tx};
use crate::{Error, Result};

/// How long the second step of a login may wait.
pub const MFA_TOKEN_TTL: Duration = Duration::minutes(5);
/// Codes one `mfa_token` may be tried with.
pub const MFA_TOKEN_ATTEMPTS: u32 = 5;
/// The issuer authenticator apps show beside the account.
const ISSUER: &str = "Tenantry";
/// At most this many members are listed by `mfa_impact`.
pub const MFA_IMPACT_LIMIT: u32 = 1000;

const MFA_KEY_SECRET: &str = "mfa_encryption_key";
const MFA_KEY_FINGERPRINT: &str = "mfa_encryption_key_fingerprint";

/// What enrolment hands the user: the secret, typed or scanned.
pub struct TotpEnrolment {
    pub secret: String,
    pub otpauth_url: String,
    pub qr_svg: String,
}

/// What a login answers: the session, or the second step it waits for.
pub enum LoginOutcome {
    SignedIn(Box<SignedIn>),
    MfaRequired { mfa_token: String },
}

/// The second factor a login's second step offers.
pub enum SecondFactor {
    Code(String),
    RecoveryCode(String),
}

impl SecondFactor {
    fn name(&self) -> &'static str {
        match self {
            Self::Code(_) => "totp",
            Self::RecoveryCode(_) => "recovery_code",
        }
    }
}

/// The refusal of a member of an org that requires MFA, on every org route but leaving.
pub(crate) fn mfa_required() -> Error {
    Error::Forbidden {
        code: "mfa_required",
        message: "this organization requires multi-factor authentication: enable it first (POST /v1/me/mfa/totp)"
            .to_owned(),
    }
}

fn wrong_code(field: &str) -> Error {
    Error::invalid(field, "is not a valid code (codes are accepted once, within 30 seconds either side)")
}

fn invalid_mfa_token() -> Error {
    Error::Unauthorized("the mfa_token is invalid, expired or used up; log in again".into())
}

/// The cipher that seals TOTP secrets: from the configured key, or (without one) a key generated
/// on first start and kept in the database. The key's fingerprint is kept too, so a configured key
/// that is not the one the stored secrets were sealed with stops start-up instead of locking
/// every enrolled user out.
pub(crate) async fn load_cipher(
    store: &dyn Store,
    random: &dyn crate::context::Random,
    configured: Option<&str>,
) -> Result<MfaCipher> {
    let mut tx = store.write().await?;
    let encoded = match configured {
        Some(key) => key.to_owned(),
        None => match tx.instance_secret(MFA_KEY_SECRET).await? {
            Some(key) => key,
            None => {
                let key = MfaCipher::new_key(random);
                tx.set_instance_secret(MFA_KEY_SECRET, &key).await?;
                tracing::info!(
                    "generated the MFA encryption key (set mfa.encryption_key to keep it outside the database)"
                );
                key
            }
        },
    };
    let cipher = MfaCipher::from_base64(&encoded).map_err(|e| Error::Internal(format!("mfa.encryption_key: {e}")))?;
    match tx.instance_secret(MFA_KEY_FINGERPRINT).await? {
        Some(stored) if stored != cipher.fingerprint() => {
            return Err(Error::Internal(
                "mfa.encryption_key is not the key this database's MFA secrets were sealed with".into(),
            ))
        }
        Some(_) => {}
        None => tx.set_instance_secret(MFA_KEY_FINGERPRINT, cipher.fingerprint()).await?,
    }
    tx.commit().await?;
    Ok(cipher)
}

impl Mfa<'_> {
    /// Starts (or restarts) enrolment: a new secret, pending until a code confirms it.
    pub async fn start_totp(&self, principal: &UserPrincipal) -> Result<TotpEnrolment> {
        let mut w = self.bookkeeping().await?;
        let user = w.tx().user(principal.user_id).await?.ok_or(Error::NotFound("user"))?;
        let mut bytes = vec![0u8; SECRET_BYTES];
        self.random.fill(&mut bytes);
        let secret = TotpSecret::from_bytes(bytes);
        let sealed = self.mfa_cipher.seal(&secret, &user.id.to_string(), self.random.as_ref());
        if !w.tx().put_pending_totp(user.id, &sealed, self.clock.now()).await? {
            return Err(Error::conflict("mfa_already_enabled", "multi-factor authentication is already enabled"));
        }
        w.commit().await?;
        Ok(enrolment(&secret, &user))
    }

    /// The enrolment waiting for its first code, if any (to show its QR code again).
    pub async fn pending_totp(&self, principal: &UserPrincipal) -> Result<Option<TotpEnrolment>> {
        let mut tx = self.store.read().await?;
        let user = tx.user(principal.user_id).await?.ok_or(Error::NotFound("user"))?;
        let Some(stored) = tx.totp(user.id).await?.filter(|t| t.confirmed_at.is_none()) else {
            return Ok(None);
        };
        let secret = self.open_secret(&stored.sealed, user.id)?;
        Ok(Some(enrolment(&secret, &user)))
    }

    /// Confirms enrolment with a first code and returns the recovery codes (shown this once).
    pub async fn confirm_totp(&self, principal: &UserPrincipal, code: &str, meta: &RequestMeta) -> Result<Vec<String>> {
        let throttle_key = format!("mfa:{}", principal.user_id);
        self.check_code_throttle(&throttle_key, meta)?;
        let mut w = self.write(meta).await?;
        let stored = w.tx().totp(principal.user_id).await?;
        let stored = match stored {
            Some(stored) if stored.confirmed_at.is_none() => stored,
            Some(_) => {
                return Err(Error::conflict("mfa_already_enabled", "multi-factor authentication is already enabled"))
            }
            None => return Err(Error::conflict("mfa_not_started", "start enrolment first (POST /v1/me/mfa/totp)")),
        };
        let secret = self.open_secret(&stored.sealed, principal.user_id)?;
        let Some(step) = secret.accepted_step(code, self.unix_now(), stored.last_step) else {
            self.record_code_failure(&throttle_key, meta);
            return Err(wrong_code("code"));
        };
        let stale = w.tx().confirm_totp(principal.user_id, step, self.clock.now()).await?;
        w.invalidate(stale);
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| mfa::recovery_code(self.random.as_ref())).collect();
        let hashes: Vec<String> = codes.iter().map(|c| mfa::recovery_code_hash(c)).collect();
        w.tx().replace_recovery_codes(principal.user_id, &hashes).await?;
        let event =
            Event::new("security.mfa_enabled", Target::new("user", principal.user_id), json!({ "factor": "totp" }));
        w.commit(Change::by_user(principal.user_id, event)).await?;
        Ok(codes)
    }

    /// Turns MFA off, with the password and a current code (or a recovery code).
    pub async fn disable_totp(
        &self,
        principal: &UserPrincipal,
        password: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let throttle_key = format!("mfa:{}", principal.user_id);
        self.check_code_throttle(&throttle_key, meta)?;
        let user = self.store.read().await?.user(principal.user_id).await?.ok_or(Error::NotFound("user"))?;
        if !self.passwords.verify(password, Some(&user.password_hash)).await {
            self.record_code_failure(&throttle_key, meta);
            return Err(Error::invalid("password", "is not the account's password"));
        }
        let mut w = self.write(meta).await?;
        let Some(stored) = w.tx().totp(user.id).await?.filter(|t| t.confirmed_at.is_some()) else {
            return Err(Error::conflict("mfa_not_enabled", "multi-factor authentication is not enabled"));
        };
        if !self.accept_factor(w.tx(), &user, &stored, &SecondFactor::Code(code.into())).await?
            && !self.accept_factor(w.tx(), &user, &stored, &SecondFactor::RecoveryCode(code.into())).await?
        {
            drop(w);
            self.record_code_failure(&throttle_key, meta);
            return Err(wrong_code("code"));
        }
        let stale = w.tx().delete_totp(user.id).await?.ok_or(Error::NotFound("user"))?;
        w.invalidate(stale);
        let event = Event::new("security.mfa_disabled", Target::new("user", user.id), json!({}));
        w.commit(Change::by_user(user.id, event)).await
    }

    /// The instance admin removes a user's MFA (a lost phone and lost recovery codes). The user's
    /// sessions end too: whoever holds them may be who took the phone.
    pub async fn reset_mfa(&self, principal: &Principal, user: &UserId, meta: &RequestMeta) -> Result<()> {
        if !matches!(principal, Principal::Admin) {
            return Err(Error::forbidden("only the instance admin may reset a user's MFA"));
        }
        let mut w = self.write(meta).await?;
        w.tx().user(*user).await?.ok_or(Error::NotFound("user"))?;
        let stale = w.tx().delete_totp(*user).await?.ok_or_else(|| {
            Error::conflict("mfa_not_enabled", "this user has no multi-factor authentication to reset")
        })?;
        w.invalidate(stale);
        let sessions = w.tx().revoke_user_sessions(*user, self.clock.now()).await?;
        w.invalidate(sessions);
        let event = Event::new("security.mfa_reset", Target::new("user", *user), json!({ "sessions_revoked": true }));
        w.commit(Change { org: None, actor: principal.actor(), event }).await
    }

    /// Whether the user has confirmed MFA, and how many recovery codes they have left.
    pub async fn mfa_status(&self, principal: &UserPrincipal) -> Result<(bool, u32)> {
        let mut tx = self.store.read().await?;
        let enabled = tx.has_mfa(principal.user_id).await?;
        let left = if enabled { tx.unused_recovery_codes(principal.user_id).await? } else { 0 };
        Ok((enabled, left))
    }

    /// The first step of a login with MFA: a token for the second step.
    pub(crate) async fn start_mfa_challenge(&self, user: &User) -> Result<String> {
        let token = self.issue_token();
        let mut w = self.bookkeeping().await?;
        let now = self.clock.now();
        w.tx().insert_mfa_challenge(&token.hash, user.id, now + MFA_TOKEN_TTL).await?;
        w.tx().prune_mfa_challenges(now - Duration::days(1)).await?;
        w.commit().await?;
        Ok(format!("mfa_{}", token.plain))
    }

    /// The second step of a login: a code or a recovery code for the `mfa_token`.
    pub async fn login_mfa(&self, mfa_token: &str, factor: SecondFactor, meta: &RequestMeta) -> Result<SignedIn> {
        let now = self.clock.now();
        let hash = hash_token(mfa_token.strip_prefix("mfa_").unwrap_or(mfa_token));
        let challenge = self.store.read().await?.mfa_challenge(&hash).await?.ok_or_else(invalid_mfa_token)?;
        if challenge.used || challenge.expires_at <= now {
            return Err(invalid_mfa_token());
        }
        // The attempt is counted in its own commit, so a wrong code still uses one up; the
        // token's own limit comes first, the account's throttle (across tokens) next.
        let mut w = self.bookkeeping().await?;
        let attempts = w.tx().count_mfa_attempt(&hash).await?;
        w.commit().await?;
        if attempts > MFA_TOKEN_ATTEMPTS {
            return Err(invalid_mfa_token());
        }
        let throttle_key = format!("mfa:{}", challenge.user_id);
        self.check_code_throttle(&throttle_key, meta)?;

        let mut w = self.bookkeeping().await?;
        let user = w.tx().user(challenge.user_id).await?.ok_or_else(invalid_mfa_token)?;
        if user.status != UserStatus::Active {
            return Err(Error::forbidden("this account is suspended"));
        }
        let stored = w.tx().totp(user.id).await?.filter(|t| t.confirmed_at.is_some()).ok_or_else(invalid_mfa_token)?;
        if !self.accept_factor(w.tx(), &user, &stored, &factor).await? {
            drop(w);
            self.record_code_failure(&throttle_key, meta);
            let field = if matches!(factor, SecondFactor::Code(_)) { "code" } else { "recovery_code" };
            return Err(wrong_code(field));
        }
        if !w.tx().use_mfa_challenge(&hash, now).await? {
            return Err(invalid_mfa_token());
        }
        let signed_in = self.accounts().signed_in(&mut w, &user, &["pwd", "otp"], meta).await?;
        w.audit(meta, self.login_change(&user, factor.name())).await?;
        w.commit().await?;
        Ok(signed_in)
    }

    /// Whether `factor` is a valid second factor of `user` now, using it up if so.
    async fn accept_factor(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        stored: &StoredTotp,
        factor: &SecondFactor,
    ) -> Result<bool> {
        match factor {
            SecondFactor::Code(code) => {
                let secret = self.open_secret(&stored.sealed, user.id)?;
                match secret.accepted_step(code, self.unix_now(), stored.last_step) {
                    Some(step) => Ok(tx.use_totp_step(user.id, step).await?),
                    None => Ok(false),
                }
            }
            SecondFactor::RecoveryCode(code) => {
                Ok(tx.use_recovery_code(user.id, &mfa::recovery_code_hash(code), self.clock.now()).await?)
            }
        }
    }

    fn open_secret(&self, sealed: &str, user: UserId) -> Result<TotpSecret> {
        self.mfa_cipher.open(sealed, &user.to_string()).map_err(|e| Error::Internal(e.to_string()))
    }

    fn unix_now(&self) -> u64 {
        u64::try_from(self.clock.now().timestamp()).unwrap_or(0)
    }

    fn check_code_throttle(&self, key: &str, meta: &RequestMeta) -> Result<()> {
        let ip = meta.ip.as_deref().unwrap_or("unknown");
        match self.login_throttle.retry_after(key, ip, self.clock.now()) {
            Some(retry_after_secs) => {
                Err(Error::RateLimited { message: "too many wrong codes; try again later".into(), retry_after_secs })
            }
            None => Ok(()),
        }
    }

    fn record_code_failure(&self, key: &str, meta: &RequestMeta) {
        let ip = meta.ip.as_deref().unwrap_or("unknown");
        self.login_throttle.record_failure(key, ip, self.clock.now());
    }

    /// Whether the org requires MFA of its members (cached; dropped when its settings change).
    pub(crate) async fn org_requires_mfa(&self, tx: &mut dyn ReadTx, org: OrgId) -> Result<bool> {
        if let Some(required) = self.grants.mfa_required(org) {
            return Ok(required);
        }
        let seen = self.grants.generation();
        let required = tx.org_settings(org).await?.is_some_and(|s| s.settings.security.mfa_required);
        self.grants.fill_mfa_required(org, required, seen);
        Ok(required)
    }

    /// Refuses a member of an org that requires MFA until they have it.
    pub(crate) async fn require_member_mfa(&self, tx: &mut dyn ReadTx, org: OrgId, user: UserId) -> Result<()> {
        if self.org_requires_mfa(tx, org).await? && !tx.has_mfa(user).await? {
            return Err(mfa_required());
        }
        Ok(())
    }

    /// The members an org turning `security.mfa_required` on would refuse (`org.manage`).
    pub async fn mfa_impact(&self, principal: &Principal, reference: &OrgRef) -> Result<Vec<Member>> {
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, Permission::OrgManage)?;
        Ok(tx.members_without_mfa(access.org.id, MFA_IMPACT_LIMIT).await?)
    }
}

fn enrolment(secret: &TotpSecret, user: &User) -> TotpEnrolment {
    let otpauth_url = secret.otpauth_url(ISSUER, user.email.as_str());
    TotpEnrolment { secret: secret.base32(), qr_svg: mfa::qr_svg(&otpauth_url), otpauth_url }
}

/// The change an org's `security.mfa_required` makes to its members' standing.
pub(crate) fn org_security_changed(org: OrgId) -> Stale {
    Stale::new(CacheChange::OrgSecurity { org })
}
