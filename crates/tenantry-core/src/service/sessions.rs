//! A user's sessions (SPEC 14): list them, end one, end every other one. An ended session's
//! access tokens stop working on the next request, on every node (the session cache is told).

use serde_json::json;

use super::unit_of_work::{Change, Event};
use super::{RequestMeta, Sessions, UserPrincipal};
use crate::domain::audit::Target;
use crate::domain::ids::SessionId;
use crate::domain::models::Session;
use crate::{Error, Result};

/// A session as its owner sees it.
pub struct SessionInfo {
    pub session: Session,
    /// Whether it is the session of the request.
    pub current: bool,
}

impl Sessions<'_> {
    /// The caller's live sessions, most recently used first.
    pub async fn list_sessions(&self, principal: &UserPrincipal) -> Result<Vec<SessionInfo>> {
        let sessions = self.store.read().await?.live_sessions(principal.user_id).await?;
        Ok(sessions
            .into_iter()
            .map(|session| SessionInfo { current: session.id == principal.session_id, session })
            .collect())
    }

    /// Ends one of the caller's sessions (the current one too: that is a logout).
    pub async fn revoke_session(&self, principal: &UserPrincipal, id: &SessionId, meta: &RequestMeta) -> Result<()> {
        let mut w = self.write(meta).await?;
        let stale = w
            .tx()
            .revoke_session_of(principal.user_id, *id, self.clock.now())
            .await?
            .ok_or(Error::NotFound("session"))?;
        w.invalidate(stale);
        let event = Event::new("session.revoked", Target::new("session", id), json!({ "reason": "revoked" }));
        w.commit(Change::by_user(principal.user_id, event)).await
    }

    /// Ends every session of the caller but the current one.
    pub async fn revoke_other_sessions(&self, principal: &UserPrincipal, meta: &RequestMeta) -> Result<()> {
        let mut w = self.write(meta).await?;
        let stale = w.tx().revoke_other_sessions(principal.user_id, principal.session_id, self.clock.now()).await?;
        w.invalidate(stale);
        let event = Event::new(
            "session.revoked_others",
            Target::new("session", principal.session_id),
            json!({ "kept": principal.session_id.to_string() }),
        );
        w.commit(Change::by_user(principal.user_id, event)).await
    }
}
