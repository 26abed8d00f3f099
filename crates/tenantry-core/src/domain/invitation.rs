//! Invitations: their states and lifetimes.
//!
//! An invitation leaves `pending` once, for `accepted`, `revoked` or `declined`. `expired` is
//! mostly derived: a pending invitation whose `expires_at` has passed is expired without anyone
//! writing it, so expiry needs no background job and tests move a clock instead of sleeping. The
//! stored state turns `expired` only when something needs the row to stop counting as pending
//! (a new invitation to the same address).

use chrono::{DateTime, Duration, Utc};

use super::email::Email;
use super::ids::{InvitationId, OrgId};

/// How long an invitation lasts when the inviter does not say.
pub const DEFAULT_TTL: Duration = Duration::days(7);
/// The longest an invitation may last.
pub const MAX_TTL: Duration = Duration::days(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Expired,
    Revoked,
    Declined,
}

impl InvitationState {
    pub const ALL: [Self; 5] = [Self::Pending, Self::Accepted, Self::Expired, Self::Revoked, Self::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub email: Email,
    /// The key of the role the invitee will hold.
    pub role: String,
    /// Teams the invitee joins with the org; kept as given.
    pub team_ids: Vec<String>,
    /// The id of whoever issued the current token: a user (`usr_…`) or an API key (`key_…`).
    pub invited_by: String,
    /// As stored; see [`Invitation::state_at`] for the state in force.
    pub state: InvitationState,
    /// SHA-256 of the current token.
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// When it left `pending` (accepted, declined or revoked).
    pub responded_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// The state in force at `now`: a pending invitation past its expiry is expired.
    pub fn state_at(&self, now: DateTime<Utc>) -> InvitationState {
        match self.state {
            InvitationState::Pending if self.expires_at <= now => InvitationState::Expired,
            state => state,
        }
    }
}

/// Parses a requested lifetime in seconds: at least one second, at most [`MAX_TTL`].
pub fn parse_ttl(seconds: Option<u64>) -> Result<Duration, String> {
    let Some(seconds) = seconds else {
        return Ok(DEFAULT_TTL);
    };
    let max = MAX_TTL.num_seconds() as u64;
    if seconds == 0 || seconds > max {
        return Err(format!("must be a number of seconds from 1 to {max} (30 days)"));
    }
    Ok(Duration::seconds(seconds as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(state: InvitationState, expires_at: DateTime<Utc>) -> Invitation {
        Invitation {
            id: InvitationId::new(),
            org_id: OrgId::new(),
            email: Email::parse("ada@example.com").unwrap(),
            role: "viewer".into(),
            team_ids: Vec::new(),
            invited_by: "usr_01HX2Z8Q6Y3V4W5T6R7S8P9N0M".into(),
            state,
            token_hash: String::new(),
            expires_at,
            created_at: expires_at - DEFAULT_TTL,
            responded_at: None,
        }
    }

    #[test]
    fn a_pending_invitation_expires_at_its_expiry_and_no_other_state_does() {
        let at = Utc::now();
        let pending = invitation(InvitationState::Pending, at);
        assert_eq!(pending.state_at(at - Duration::milliseconds(1)), InvitationState::Pending);
        assert_eq!(pending.state_at(at), InvitationState::Expired);
        let accepted = invitation(InvitationState::Accepted, at);
        assert_eq!(accepted.state_at(at + Duration::days(1)), InvitationState::Accepted);
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in InvitationState::ALL {
            assert_eq!(InvitationState::parse(state.as_str()), Some(state));
        }
        assert_eq!(InvitationState::parse("gone"), None);
    }

    #[test]
    fn lifetimes_default_to_a_week_and_stop_at_thirty_days() {
        assert_eq!(parse_ttl(None), Ok(DEFAULT_TTL));
        assert_eq!(parse_ttl(Some(604_800)), Ok(Duration::days(7)));
        assert_eq!(parse_ttl(Some(2_592_000)), Ok(MAX_TTL));
        assert!(parse_ttl(Some(2_592_001)).is_err());
        assert!(parse_ttl(Some(0)).is_err());
    }
}
