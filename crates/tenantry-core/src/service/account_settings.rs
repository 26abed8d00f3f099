//! What a signed-in user changes on their own account: the password (knowing the current one)
//! and a new verification email.
//!
//! Changing the password keeps the session that changed it and ends every other one: whoever
//! else held the old password is signed out at once, while the person at the keyboard carries on.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::unit_of_work::{Change, Event};
use super::{Accounts, RequestMeta, UserPrincipal};
use crate::domain::audit::Target;
use crate::domain::email::Email;
use crate::domain::ids::UserId;
use crate::domain::password::Password;
use crate::{Error, Result};

/// The shortest wait between two verification emails a user asks for. Someone who signed up
/// with another person's address must not be able to flood that mailbox.
pub const RESEND_INTERVAL: Duration = Duration::minutes(1);

/// When each user last asked for a verification email, on this node. Per node is enough: the
/// point is to slow a flood down, not to count exactly.
#[derive(Default)]
pub struct ResendThrottle {
    last: Mutex<HashMap<UserId, DateTime<Utc>>>,
}

impl ResendThrottle {
    /// `Some(seconds to wait)` when `user` asked too recently; otherwise notes this request.
    fn admit(&self, user: UserId, now: DateTime<Utc>) -> Option<u64> {
        let mut last = self.last.lock().expect("throttle lock is never poisoned");
        if last.len() > 10_000 {
            last.retain(|_, at| now < *at + RESEND_INTERVAL);
        }
        if let Some(at) = last.get(&user) {
            let wait = *at + RESEND_INTERVAL - now;
            if wait > Duration::zero() {
                return Some(wait.num_seconds().max(1).unsigned_abs());
            }
        }
        last.insert(user, now);
        None
    }
}

impl Accounts<'_> {
    /// Sets a new password after checking the current one (throttled like a login). The calling
    /// session stays; every other session of the user ends.
    pub async fn change_password(
        &self,
        principal: &UserPrincipal,
        current_password: &str,
        new_password: String,
        meta: &RequestMeta,
    ) -> Result<()> {
        let password = Password::parse(new_password).map_err(|e| Error::invalid("new_password", e))?;
        let user = self.store.read().await?.user(principal.user_id).await?.ok_or(Error::NotFound("user"))?;
        self.orgs().check_password(&user.email.to_string(), &user.password_hash, current_password, meta).await?;
        // Hashed before the write transaction: it is the slow part and needs no database.
        let hash = self.passwords.hash(&password).await;
        let now = self.clock.now();
        let mut w = self.write(meta).await?;
        let changed = w.tx().set_password_hash(user.id, &hash).await?;
        w.invalidate(changed);
        let stale = w.tx().revoke_other_sessions(user.id, principal.session_id, now).await?;
        w.invalidate(stale);
        let metadata = json!({ "other_sessions_revoked": true });
        w.commit(Change::by_user(user.id, Event::new("user.password_changed", Target::new("user", user.id), metadata)))
            .await
    }

    /// Emails a new verification link to the user's address, unless it is confirmed already.
    /// Links sent earlier keep working until they expire. Returns the address written to.
    pub async fn resend_verification(&self, principal: &UserPrincipal, meta: &RequestMeta) -> Result<Email> {
        let now = self.clock.now();
        let mut w = self.write(meta).await?;
        let user = w.tx().user(principal.user_id).await?.ok_or(Error::NotFound("user"))?;
        if user.email_verified_at.is_some() {
            return Err(Error::conflict("already_verified", "your email address is already confirmed"));
        }
        if let Some(retry_after_secs) = self.resends.admit(user.id, now) {
            return Err(Error::RateLimited {
                message: "a confirmation email was sent a moment ago; wait a minute before asking again".into(),
                retry_after_secs,
            });
        }
        self.queue_verification(&mut w, &user).await?;
        let event = Event::new("user.verification_requested", Target::new("user", user.id), json!({}));
        w.commit(Change::by_user(user.id, event)).await?;
        Ok(user.email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_verification_email_a_minute_per_user() {
        let throttle = ResendThrottle::default();
        let (ada, grace) = (UserId::new(), UserId::new());
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(throttle.admit(ada, t0), None);
        assert_eq!(throttle.admit(ada, t0 + Duration::seconds(20)), Some(40));
        assert_eq!(throttle.admit(grace, t0 + Duration::seconds(20)), None, "each user has their own interval");
        assert_eq!(throttle.admit(ada, t0 + RESEND_INTERVAL), None);
    }
}
