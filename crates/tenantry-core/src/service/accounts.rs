//! Accounts and sessions: signup (with the personal org), login, refresh-token rotation with reuse
//! detection, logout, the active org, email verification and password reset.

use std::sync::Arc;

use serde_json::json;

use super::mfa::LoginOutcome;
use super::orgs::NewOrg;
use super::unit_of_work::{Change, Event, Unit, Write};
use super::{Accounts, Principal, RequestMeta, UserPrincipal};
use crate::caches::me::Found;
use crate::caches::session_cache::CheckedToken;
use crate::domain::audit::Target;
use crate::domain::email::Email;
use crate::domain::ids::{OrgId, OrgRef, SessionId, UserId};
use crate::domain::models::{EmailTokenKind, MemberStatus, OrgWithRole, RefreshToken, Session, User, UserStatus};
use crate::domain::password::Password;
use crate::domain::secret::{hash_token, token_digest};
use crate::store::{ReadTx, StoreError, Tx};
use crate::tokens::{AccessClaims, ISSUER};
use crate::{Error, Result};

pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

pub struct SignupInput {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

#[derive(Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// What signup, login and refresh return.
pub struct SignedIn {
    pub tokens: TokenPair,
    pub user: User,
    /// The active org of the new session (signup: the personal org).
    pub org: Option<OrgWithRole>,
}

/// What `GET /v1/me` returns.
pub struct Me {
    pub user: User,
    pub orgs: Vec<OrgWithRole>,
    pub active_org_id: Option<OrgId>,
}

const BAD_CREDENTIALS: &str = "the email or password is incorrect";

fn parse_display_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "display_name",
            format!("must be 1 to {MAX_DISPLAY_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(name.to_owned())
}

impl Accounts<'_> {
    pub async fn signup(&self, input: SignupInput, meta: &RequestMeta) -> Result<SignedIn> {
        let email = Email::parse(&input.email).map_err(|e| Error::invalid("email", e))?;
        let password = Password::parse(input.password).map_err(|e| Error::invalid("password", e))?;
        let display_name = parse_display_name(&input.display_name)?;
        // Hash before taking the write lock: it is the slow part and needs no database.
        let password_hash = self.passwords.hash(&password).await;

        let now = self.clock.now();
        let mut w = self.write(meta).await?;
        if w.tx().user_by_email(&email).await?.is_some() {
            return Err(email_taken());
        }
        let user = User {
            id: UserId::new(),
            email: email.clone(),
            display_name: display_name.clone(),
            password_hash,
            email_verified_at: None,
            status: UserStatus::Active,
            created_at: now,
        };
        w.tx().insert_user(&user).await.map_err(|e| match e {
            StoreError::Unique(_) => email_taken(),
            other => other.into(),
        })?;
        let org = self
            .orgs()
            .insert_org(
                &mut w,
                user.id,
                NewOrg { name: display_name.clone(), slug: None, metadata: None, is_personal: true },
            )
            .await?;

        self.queue_verification(&mut w, &user).await?;

        let (tokens, _) = self.start_session(w.tx(), &user, Some(&org), &["pwd"], meta).await?;
        let metadata = json!({ "email": email.as_str(), "personal_org_id": org.org.id.to_string() });
        let event = Event::new("user.signed_up", Target::new("user", user.id), metadata);
        w.commit(Change { org: Some(org.org.id), ..Change::by_user(user.id, event) }).await?;
        Ok(SignedIn { tokens, user, org: Some(org) })
    }

    /// The first step of a login: the session, or, for an account with MFA, the token of the
    /// second step (`login_mfa`).
    pub async fn login(&self, email: &str, password: &str, meta: &RequestMeta) -> Result<LoginOutcome> {
        let ip = meta.ip.as_deref().unwrap_or("unknown");
        let throttle_key = email.trim().to_lowercase();
        let now = self.clock.now();
        if let Some(retry_after_secs) = self.login_throttle.retry_after(&throttle_key, ip, now) {
            return Err(Error::RateLimited {
                message: "too many failed logins; try again later".into(),
                retry_after_secs,
            });
        }
        let user = match Email::parse(email) {
            Ok(email) => self.store.read().await?.user_by_email(&email).await?,
            Err(_) => None,
        };
        // Runs one argon2 verification whether or not the account exists.
        let verified = self.passwords.verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await;
        let user = match user {
            Some(user) if verified => user,
            user => {
                self.login_throttle.record_failure(&throttle_key, ip, now);
                self.record_login_failure(&throttle_key, user.as_ref(), meta).await;
                return Err(Error::Unauthorized(BAD_CREDENTIALS.into()));
            }
        };
        self.login_throttle.record_success(&throttle_key, ip);
        if user.status == UserStatus::Suspended {
            return Err(Error::forbidden("this account is suspended"));
        }
        if self.store.read().await?.has_mfa(user.id).await? {
            return Ok(LoginOutcome::MfaRequired { mfa_token: self.mfa().start_mfa_challenge(&user).await? });
        }
        let mut w = self.write(meta).await?;
        let signed_in = self.signed_in(&mut w, &user, &["pwd"], meta).await?;
        w.commit(self.login_change(&user, "password")).await?;
        Ok(LoginOutcome::SignedIn(Box::new(signed_in)))
    }

    /// Starts a session in the user's first org, for a login that proved the factors `amr`.
    pub(crate) async fn signed_in(
        &self,
        w: &mut Unit<'_>,
        user: &User,
        amr: &[&str],
        meta: &RequestMeta,
    ) -> Result<SignedIn> {
        let first_org = w.tx().orgs_of_user(user.id, None).await?.into_iter().next();
        let (tokens, _) = self.start_session(w.tx(), user, first_org.as_ref(), amr, meta).await?;
        Ok(SignedIn { tokens, user: user.clone(), org: first_org })
    }

    /// Exchanges a refresh token for a new pair. A token that was already exchanged is a sign of
    /// theft: its whole session (every token descended from the same login) is revoked.
    pub async fn refresh(&self, refresh_token: &str) -> Result<SignedIn> {
        let invalid = || Error::Unauthorized("the refresh token is invalid or expired".into());
        let now = self.clock.now();
        let hash = hash_token(refresh_token);
        // Rotating a refresh token is bookkeeping; the login that started the session is audited.
        let mut w = self.bookkeeping().await?;
        let token = w.tx().refresh_token(&hash).await?.ok_or_else(invalid)?;
        let session = w.tx().session(token.session_id).await?.ok_or_else(invalid)?;
        if session.revoked_at.is_some() {
            return Err(invalid());
        }
        if token.used_at.is_some() || !w.tx().use_refresh_token(&hash, now).await? {
            let stale = w.tx().revoke_session(session.id, now).await?;
            w.invalidate(stale);
            w.commit().await?;
            tracing::warn!(session = %session.id, user = %session.user_id, "refresh token reused; session revoked");
            return Err(invalid());
        }
        if token.expires_at <= now {
            return Err(invalid());
        }
        let user = w.tx().user(session.user_id).await?.ok_or_else(invalid)?;
        if user.status != UserStatus::Active {
            return Err(invalid());
        }
        let org = match session.active_org_id {
            Some(org_id) => self.org_with_role(w.tx(), org_id, user.id).await?,
            None => None,
        };
        let tokens = self.continue_session(w.tx(), &session, &user, org.as_ref()).await?;
        w.commit().await?;
        Ok(SignedIn { tokens, user, org })
    }

    /// Ends the caller's session: its refresh token and every access token issued in it stop
    /// working at once.
    pub async fn logout(&self, principal: &UserPrincipal, meta: &RequestMeta) -> Result<()> {
        let mut w = self.write(meta).await?;
        let stale = w.tx().revoke_session(principal.session_id, self.clock.now()).await?;
        w.invalidate(stale);
        let event =
            Event::new("session.revoked", Target::new("session", principal.session_id), json!({ "reason": "logout" }));
        w.commit(Change::by_user(principal.user_id, event)).await
    }

    /// Checks an access token and the session behind it. `org_header` (the `x-organization-id`
    /// header) overrides the token's org; naming an org the user is not in is not found. Checked
    /// tokens and live sessions are remembered (`SessionCache`), so a request from a signed-in
    /// user usually needs no database read to say who they are.
    pub async fn authenticate(&self, access_token: &str, org_header: Option<&OrgRef>) -> Result<Principal> {
        let (hash, token, known_live) = self.checked_token(access_token)?;
        if !known_live {
            let proof = self.session_cache.live_proof(token.session_id, token.user_id);
            if !self.session_cache.is_live(token.session_id, token.user_id) {
                let seen = self.session_cache.generation();
                let mut tx = self.store.read().await?;
                let session = tx.session(token.session_id).await?.ok_or_else(no_longer_valid)?;
                if session.revoked_at.is_some() || session.user_id != token.user_id {
                    return Err(no_longer_valid());
                }
                let user = tx.user(token.user_id).await?.ok_or_else(no_longer_valid)?;
                if user.status != UserStatus::Active {
                    return Err(no_longer_valid());
                }
                self.session_cache.fill_live(token.session_id, token.user_id, seen);
            }
            self.session_cache.remember_token(hash, token, Some(proof));
        }
        let active_org = match org_header {
            // Naming an org that requires MFA the user lacks is allowed here: the org's routes
            // refuse it, while leaving the org and enrolling stay open.
            Some(reference) => Some(self.member_org_grant(token.user_id, reference).await?.0),
            None => token.org_id,
        };
        Ok(Principal::User(UserPrincipal { user_id: token.user_id, session_id: token.session_id, active_org }))
    }

    /// The claims of a validly signed, unexpired access token, with its digest (the token
    /// cache's key) and whether its session is known to be live.
    fn checked_token(&self, access_token: &str) -> Result<([u8; 32], CheckedToken, bool)> {
        let now = self.clock.now();
        let hash = token_digest(access_token);
        let (token, known_live) = match self.session_cache.checked_token(&hash) {
            Some(known) => known,
            None => {
                let claims = self.tokens.verify(access_token, now)?;
                let token = CheckedToken {
                    user_id: claims.sub.parse().map_err(|_| no_longer_valid())?,
                    session_id: claims.sid.parse().map_err(|_| no_longer_valid())?,
                    org_id: claims.org_id.and_then(|id| id.parse().ok()),
                    expires_at: claims.exp,
                };
                self.session_cache.remember_token(hash, token, None);
                (token, false)
            }
        };
        if token.expires_at <= now.timestamp() {
            return Err(Error::Unauthorized("the access token has expired".into()));
        }
        Ok((hash, token, known_live))
    }

    /// The caller's account and orgs. Host apps ask on every page load, so it is answered from
    /// memory (`MeCache`) and reads the database only for what a change made stale.
    pub async fn me(&self, principal: &UserPrincipal) -> Result<Me> {
        let (found, active_org_id) = self.my_account(principal).await?;
        Ok(Me { user: found.user().clone(), orgs: found.orgs(), active_org_id })
    }

    /// [`Self::me`] as `render` renders it (the API's JSON). The rendering is kept with the
    /// cached account and served again until the account or one of its orgs changes, so `render`
    /// must depend on nothing but the answer.
    pub async fn me_rendered(
        &self,
        principal: &UserPrincipal,
        render: impl FnOnce(&Me) -> Vec<u8>,
    ) -> Result<Arc<[u8]>> {
        let (found, active_org_id) = self.my_account(principal).await?;
        Ok(found
            .rendered(active_org_id, || render(&Me { user: found.user().clone(), orgs: found.orgs(), active_org_id })))
    }

    /// The caller's account and orgs, and their active org if they are still a member of it.
    pub(super) async fn my_account(&self, principal: &UserPrincipal) -> Result<(Found, Option<OrgId>)> {
        let id = principal.user_id;
        let seen = self.me_cache.generation();
        let found = match self.me_cache.get(id) {
            Some(found) => found,
            None => {
                let mut tx = self.store.read().await?;
                let user = tx.user(id).await?.ok_or(Error::NotFound("user"))?;
                let orgs = tx.orgs_of_user(id, None).await?;
                self.me_cache.fill(user, orgs, seen)
            }
        };
        let active_org_id = principal.active_org.filter(|org| found.is_member_of(*org));
        Ok((found, active_org_id))
    }

    /// Makes another of the caller's orgs active for the session and returns an access token for it.
    pub async fn switch_org(
        &self,
        principal: &UserPrincipal,
        reference: &OrgRef,
    ) -> Result<(String, i64, OrgWithRole)> {
        // Which org a session has active is the session's own state, not a change to audit.
        let mut w = self.bookkeeping().await?;
        let access = self.member_access(w.tx(), principal.user_id, reference).await?;
        w.tx().set_session_org(principal.session_id, Some(access.org.id)).await?;
        let membership = access.membership().cloned().expect("member_access yields a member");
        let org = OrgWithRole { org: access.org, membership };
        let session = w.tx().session(principal.session_id).await?.ok_or_else(no_longer_valid)?;
        w.tx().touch_session(session.id, self.clock.now()).await?;
        let (token, expires_in) = self.access_token(w.tx(), principal.user_id, &session, Some(&org)).await?;
        w.commit().await?;
        Ok((token, expires_in, org))
    }

    /// Confirms an email address with the token from the verification email.
    pub async fn verify_email(&self, token: &str, meta: &RequestMeta) -> Result<()> {
        let now = self.clock.now();
        let mut w = self.write(meta).await?;
        let user = w
            .tx()
            .consume_email_token(EmailTokenKind::VerifyEmail, &hash_token(token), now)
            .await?
            .ok_or_else(|| Error::invalid("token", "is invalid, expired or already used"))?;
        let stale = w.tx().set_email_verified(user, now).await?;
        w.invalidate(stale);
        w.commit(Change::by_user(user, Event::new("user.email_verified", Target::new("user", user), json!({})))).await
    }

    /// Sends a reset link if the address has an account. The caller learns nothing either way.
    pub async fn request_password_reset(&self, email: &str, meta: &RequestMeta) -> Result<()> {
        let email = Email::parse(email).map_err(|e| Error::invalid("email", e))?;
        let mut w = self.write(meta).await?;
        let Some(user) = w.tx().user_by_email(&email).await? else {
            return Ok(());
        };
        self.queue_password_reset(&mut w, &user).await?;
        let event = Event::new("user.password_reset_requested", Target::new("user", user.id), json!({}));
        w.commit(Change::by_user(user.id, event)).await
    }

    /// Sets a new password with the token from the reset email and ends every session of the
    /// user. Following the link proves control of the mailbox, so the address counts as verified.
    pub async fn confirm_password_reset(&self, token: &str, new_password: String, meta: &RequestMeta) -> Result<()> {
        let password = Password::parse(new_password).map_err(|e| Error::invalid("new_password", e))?;
        let hash = self.passwords.hash(&password).await;
        let now = self.clock.now();
        let mut w = self.write(meta).await?;
        let user_id = w
            .tx()
            .consume_email_token(EmailTokenKind::ResetPassword, &hash_token(token), now)
            .await?
            .ok_or_else(|| Error::invalid("token", "is invalid, expired or already used"))?;
        let stale = w.tx().set_password_hash(user_id, &hash).await?;
        w.invalidate(stale);
        let user = w.tx().user(user_id).await?.ok_or(Error::NotFound("user"))?;
        if user.email_verified_at.is_none() {
            let stale = w.tx().set_email_verified(user_id, now).await?;
            w.invalidate(stale);
            // Whoever held the account before its address was proven may not be its owner: keys
            // they made must not outlive the real owner taking it back.
            self.revoke_keys_of_unverified(&mut w, user_id).await?;
        }
        let stale = w.tx().revoke_user_sessions(user_id, now).await?;
        w.invalidate(stale);
        let event =
            Event::new("user.password_reset", Target::new("user", user_id), json!({ "sessions_revoked": true }));
        w.commit(Change::by_user(user_id, event)).await
    }

    /// Revokes every key `user` created, each with its audit event in its org's log.
    async fn revoke_keys_of_unverified(&self, w: &mut Write<'_>, user: UserId) -> Result<()> {
        let now = self.clock.now();
        for (id, org) in w.tx().unrevoked_keys_created_by(&user.to_string()).await? {
            let Some(stale) = w.tx().revoke_api_key(org, id, now).await?.into_option() else { continue };
            w.invalidate(stale);
            let metadata = json!({ "reason": "created before the account's email address was verified" });
            let event = Event::new("api_key.revoked", Target::new("api_key", id), metadata);
            w.audit(Change { org: Some(org), ..Change::by_user(user, event) }).await?;
        }
        Ok(())
    }

    /// Queues a verification email with a new link (links sent earlier keep working).
    pub(crate) async fn queue_verification(&self, w: &mut Unit<'_>, user: &User) -> Result<()> {
        let token = self.issue_token();
        let expires_at = self.clock.now() + self.settings.email_token_ttl;
        w.tx().insert_email_token(EmailTokenKind::VerifyEmail, &token.hash, user.id, expires_at).await?;
        w.queue_letter(self.verification_letter(&user.email, &user.display_name, &token.plain)).await
    }

    pub(crate) async fn queue_password_reset(&self, w: &mut Unit<'_>, user: &User) -> Result<()> {
        let token = self.issue_token();
        let expires_at = self.clock.now() + self.settings.email_token_ttl;
        w.tx().insert_email_token(EmailTokenKind::ResetPassword, &token.hash, user.id, expires_at).await?;
        w.queue_letter(self.password_reset_letter(&user.email, &user.display_name, &token.plain)).await
    }

    async fn org_with_role(&self, tx: &mut dyn ReadTx, org: OrgId, user: UserId) -> Result<Option<OrgWithRole>> {
        let Some(membership) = tx.membership(org, user).await? else {
            return Ok(None);
        };
        Ok(tx.org(org).await?.map(|org| OrgWithRole { org, membership }))
    }

    async fn start_session(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        org: Option<&OrgWithRole>,
        amr: &[&str],
        meta: &RequestMeta,
    ) -> Result<(TokenPair, Session)> {
        let now = self.clock.now();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            active_org_id: org.map(|o| o.org.id),
            created_at: now,
            revoked_at: None,
            amr: amr.iter().map(|f| (*f).to_owned()).collect(),
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.as_deref().map(|agent| agent.chars().take(300).collect()),
            last_used_at: Some(now),
        };
        tx.insert_session(&session).await?;
        let tokens = self.continue_session(tx, &session, user, org).await?;
        Ok((tokens, session))
    }

    async fn continue_session(
        &self,
        tx: &mut dyn Tx,
        session: &Session,
        user: &User,
        org: Option<&OrgWithRole>,
    ) -> Result<TokenPair> {
        let refresh = self.issue_token();
        tx.insert_refresh_token(&RefreshToken {
            hash: refresh.hash,
            session_id: session.id,
            expires_at: self.clock.now() + self.settings.refresh_token_ttl,
            used_at: None,
        })
        .await?;
        tx.touch_session(session.id, self.clock.now()).await?;
        let (access_token, expires_in) = self.access_token(tx, user.id, session, org).await?;
        Ok(TokenPair { access_token, refresh_token: refresh.plain, expires_in })
    }

    async fn access_token(
        &self,
        tx: &mut dyn ReadTx,
        user: UserId,
        session: &Session,
        org: Option<&OrgWithRole>,
    ) -> Result<(String, i64)> {
        let now = self.clock.now();
        let ttl = self.settings.access_token_ttl;
        // A suspended member's token names the org but grants nothing in it: host apps that read
        // tokens offline must not act on permissions the member may not use.
        // So does the token of a member without MFA in an org that requires it.
        let usable = match org {
            Some(org) if org.membership.status == MemberStatus::Active => {
                !self.mfa().org_requires_mfa(tx, org.org.id).await? || tx.has_mfa(user).await?
            }
            _ => false,
        };
        let (permissions, team_ids) = match org {
            Some(org) if usable => (
                self.permission_names(self.resolve_role(tx, org.org.id, org.role()).await?.permissions),
                tx.team_roles_of(org.org.id, user).await?.into_iter().map(|place| place.team.to_string()).collect(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub: user.to_string(),
            sid: session.id.to_string(),
            amr: session.amr.clone(),
            org_id: org.map(|o| o.org.id.to_string()),
            role: org.map(|o| o.role().to_owned()),
            permissions,
            team_ids,
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
        };
        Ok((self.tokens.sign(&claims)?, ttl.num_seconds()))
    }
}

fn email_taken() -> Error {
    Error::conflict("email_taken", "an account with this email already exists")
}

/// The refusal of an access token whose session, user or claims no longer hold.
fn no_longer_valid() -> Error {
    Error::Unauthorized("the access token is no longer valid".into())
}
