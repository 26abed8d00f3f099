//! Invitations: inviting someone by email, listing, revoking and resending invitations, the
//! public preview, and the invitee's accept or decline.
//!
//! Rules, each checked inside the transaction that acts on it:
//! - Inviting takes `members.invite`, and the role must exist and be grantable by the inviter
//!   (`check_grant`). Resending re-checks both for the resender, who becomes the inviter.
//! - The plan's member limit counts members plus pending invitations, at invite, at a resend that
//!   revives an expired invitation, and at acceptance (where the invitation accepted is one of
//!   the pending ones turning into a member). A downgrade in between therefore blocks acceptance.
//! - Accepting re-checks that the role still exists and that the inviter may still grant it
//!   (see [`Invitations::check_inviter_grant`]); if not, the invitation stays pending so an admin can
//!   resend it under their own name.
//! - Only the invited person may answer: a signed-in user whose verified email is the invited
//!   one. Anyone else is refused and the invitation stays pending.
//! - Only a pending, unexpired invitation can be accepted, declined or revoked, exactly once: the
//!   store moves it out of `pending` with a conditional update.
//! - The token is shown once, to the inviter (create and resend) and in the email; only its hash
//!   is stored, and it never appears in lists, previews or audit events.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::access::{OrgAccess, Standing};
use super::unit_of_work::{Change, Event, Unit, Write};
use super::{Invitations, Principal, RequestMeta, UserPrincipal};
use crate::domain::audit::{Actor, Target};
use crate::domain::email::Email;
use crate::domain::ids::{ApiKeyId, InvitationId, MembershipId, OrgRef, TeamId, TeamRef, UserId};
use crate::domain::invitation::{parse_ttl, Invitation, InvitationState, DEFAULT_TTL};
use crate::domain::models::{Member, MemberStatus, Membership, Org, OrgWithRole, User};
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::permission::Permission;
use crate::domain::permission::Role;
use crate::domain::secret::hash_token;
use crate::domain::team::TeamMembership;
use crate::store::{MaybeStale, ReadTx, Stale, StoreError, Tx};
use crate::{Error, Result};

/// The most teams one invitation may name.
pub const MAX_TEAM_IDS: usize = 50;

/// What an inviter asks for.
pub struct NewInvitation {
    pub email: String,
    /// A role of the org; the preset's default invitation role when absent.
    pub role: Option<String>,
    pub team_ids: Vec<String>,
    /// Lifetime in seconds; 7 days when absent, at most 30 days.
    pub expires_in: Option<u64>,
}

/// An invitation with its token, as its inviter sees it once.
pub struct IssuedInvitation {
    pub invitation: Invitation,
    pub token: String,
    pub accept_url: String,
}

/// What anyone holding the token may see, and how the signed-in viewer, if any, stands.
pub struct InvitationPreview {
    pub org_name: String,
    pub inviter_name: String,
    pub role: String,
    pub role_name: String,
    pub state: InvitationState,
    pub expires_at: DateTime<Utc>,
    pub viewer: Option<Viewer>,
}

/// The signed-in user looking at an invitation.
pub struct Viewer {
    pub email: Email,
    pub display_name: String,
    pub fit: InviteeFit,
}

/// Whether a user may answer an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteeFit {
    /// The invited person, verified: may accept or decline.
    Invitee,
    /// Signed in with another address than the invited one.
    OtherAddress,
    /// The invited address, not verified yet.
    Unverified,
    /// The invited person, already a member of the org.
    AlreadyMember,
}

impl InviteeFit {
    fn of(invitation: &Invitation, user: &User, is_member: bool) -> Self {
        if user.email != invitation.email {
            Self::OtherAddress
        } else if user.email_verified_at.is_none() {
            Self::Unverified
        } else if is_member {
            Self::AlreadyMember
        } else {
            Self::Invitee
        }
    }

    fn check(self) -> Result<()> {
        match self {
            Self::Invitee => Ok(()),
            Self::OtherAddress => Err(Error::forbidden(
                "this invitation was sent to another email address; sign in with the invited address",
            )),
            Self::Unverified => Err(Error::forbidden("confirm your email address before answering this invitation")),
            Self::AlreadyMember => Err(already_member("you are")),
        }
    }
}

/// An accepted invitation: the org joined and the new membership.
pub struct Accepted {
    pub org: OrgWithRole,
    pub member: Member,
    /// Teams the invitation named that were deleted before it was accepted (not joined).
    pub skipped_team_ids: Vec<String>,
}

fn already_member(who: &str) -> Error {
    Error::conflict("already_member", format!("{who} already a member of this org"))
}

fn invitation_exists(existing: &Invitation) -> Error {
    Error::Conflict {
        code: "invitation_exists",
        message: format!("{} already has a pending invitation ({}); resend or revoke it", existing.email, existing.id),
        details: Some(json!({ "invitation_id": existing.id.to_string() })),
    }
}

fn not_pending(state: InvitationState) -> Error {
    Error::conflict("invitation_not_pending", format!("the invitation is {}, no longer pending", state.as_str()))
}

fn expired() -> Error {
    Error::Gone { code: "invitation_expired", message: "the invitation has expired; ask for a new one".into() }
}

fn role_unavailable(role: &str) -> Error {
    Error::Conflict {
        code: "role_unavailable",
        message: format!("the role `{role}` no longer exists in this org; ask for a new invitation"),
        details: Some(json!({ "role": role })),
    }
}

/// Refuses unless the invitation is pending at `now`: 410 when it expired, 409 otherwise.
fn require_pending(invitation: &Invitation, now: DateTime<Utc>) -> Result<()> {
    match invitation.state_at(now) {
        InvitationState::Pending => Ok(()),
        InvitationState::Expired => Err(expired()),
        state => Err(not_pending(state)),
    }
}

/// The invitation as in force at `now` (its `state` resolved for expiry).
fn settled(mut invitation: Invitation, now: DateTime<Utc>) -> Invitation {
    invitation.state = invitation.state_at(now);
    invitation
}

fn parse_team_ids(raw: Vec<String>) -> Result<Vec<String>> {
    if raw.len() > MAX_TEAM_IDS {
        return Err(Error::invalid("team_ids", format!("must name at most {MAX_TEAM_IDS} teams")));
    }
    let mut ids: Vec<String> = Vec::with_capacity(raw.len());
    for (i, id) in raw.into_iter().enumerate() {
        let well_formed = id.strip_prefix("team_").is_some_and(|rest| ulid::Ulid::from_string(rest).is_ok());
        if !well_formed {
            return Err(Error::invalid(format!("team_ids[{i}]"), "must be a team id (team_…)"));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A unique index refused a second pending invitation for the address (a concurrent invite).
fn pending_invitation_raced() -> Error {
    Error::conflict("invitation_exists", "the address already has a pending invitation")
}

/// Moves a pending invitation to `to`; refused when it stopped being pending meanwhile.
async fn close_pending(
    tx: &mut dyn Tx,
    invitation: &Invitation,
    to: InvitationState,
    now: DateTime<Utc>,
) -> Result<Stale> {
    let closed = tx.set_invitation_state(invitation.org_id, invitation.id, InvitationState::Pending, to, now).await?;
    closed.ok_or(not_pending(to))
}

impl Invitations<'_> {
    /// The pending invitation `token` names and the signed-in invitee answering it.
    async fn invitee_answer(&self, tx: &mut dyn ReadTx, me: &UserPrincipal, token: &str) -> Result<(Invitation, User)> {
        let invitation = tx.invitation_by_token(&hash_token(token)).await?.ok_or(Error::NotFound("invitation"))?;
        require_pending(&invitation, self.clock.now())?;
        let user = tx.user(me.user_id).await?.ok_or_else(|| Error::Unauthorized("the user no longer exists".into()))?;
        Ok((invitation, user))
    }

    /// Queues the invitation email, naming the inviter as the invitee will see them.
    async fn queue_invitation_letter(
        &self,
        w: &mut Unit<'_>,
        invitation: &Invitation,
        org: &Org,
        role_name: &str,
        token: &str,
    ) -> Result<()> {
        let inviter = self.inviter_name(w.tx(), org, &invitation.invited_by).await?;
        w.queue_letter(self.invitation_letter(invitation, &org.name, &inviter, role_name, token)).await
    }

    pub async fn create_invitation(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        input: NewInvitation,
        meta: &RequestMeta,
    ) -> Result<IssuedInvitation> {
        let email = Email::parse(&input.email).map_err(|e| Error::invalid("email", e))?;
        let ttl = parse_ttl(input.expires_in).map_err(|e| Error::invalid("expires_in", e))?;
        let team_ids = parse_team_ids(input.team_ids)?;
        let mut w = self.org_write(principal, reference, Some(Permission::MembersInvite), meta).await?;
        let org = w.access.org.clone();
        self.require_verified_email(w.tx(), principal).await?;
        let role_key = input.role.unwrap_or_else(|| self.preset.default_invite_role.clone());
        let role = self
            .roles()
            .find_role(w.tx(), org.id, &role_key)
            .await?
            .ok_or_else(|| Error::invalid("role", format!("`{role_key}` is not a role of this org")))?;
        self.roles().check_grant(&w.access, &role)?;
        for (i, id) in team_ids.iter().enumerate() {
            let team: TeamRef = id.as_str().into();
            if w.tx().team(org.id, &team).await?.is_none() {
                return Err(Error::invalid(format!("team_ids[{i}]"), "is not a team of this organization"));
            }
        }
        if self.is_member_by_email(w.tx(), &org, &email).await? {
            return Err(already_member(&format!("{email} is")));
        }
        let now = self.clock.now();
        let freed = self.free_pending_slot(w.tx(), &org, &email, None, now).await?;
        w.invalidate_all(freed);
        self.ensure_member_room(w.tx(), &org, now, false).await?;

        let token = self.issue_token();
        let invitation = Invitation {
            id: InvitationId::new(),
            org_id: org.id,
            email,
            role: role.key.clone(),
            team_ids,
            invited_by: w.access.actor().id,
            state: InvitationState::Pending,
            token_hash: token.hash,
            expires_at: now + ttl,
            created_at: now,
            responded_at: None,
        };
        let stale = w.tx().insert_invitation(&invitation).await.map_err(|e| match e {
            StoreError::Unique(_) => pending_invitation_raced(),
            other => other.into(),
        })?;
        w.invalidate(stale);
        self.queue_invitation_letter(&mut w, &invitation, &org, &role.name, &token.plain).await?;
        let metadata = json!({
            "email": invitation.email.as_str(),
            "role": invitation.role,
            "team_ids": invitation.team_ids,
            "expires_at": invitation.expires_at,
        });
        w.commit(Event::new("invitation.created", Target::new("invitation", invitation.id), metadata)).await?;
        Ok(IssuedInvitation { invitation, accept_url: self.accept_invite_url(&token.plain), token: token.plain })
    }

    /// The org's invitations in creation order, optionally only those in `state`.
    pub async fn list_invitations(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        state: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Invitation>> {
        let state = state
            .filter(|s| !s.is_empty())
            .map(|s| {
                InvitationState::parse(s).ok_or_else(|| {
                    Error::invalid("state", "must be one of pending, accepted, expired, revoked, declined")
                })
            })
            .transpose()?;
        let mut tx = self.store.read().await?;
        let access = self.org_access(tx.as_mut(), principal, reference).await?;
        self.require(&access, Permission::MembersInvite)?;
        let now = self.clock.now();
        let rows = tx.list_invitations(access.org.id, state, now, page).await?;
        Ok(Page::from_rows(rows, page, |inv| inv.id.to_string()).map(|inv| settled(inv, now)))
    }

    /// Revokes a pending invitation: its link stops working.
    pub async fn revoke_invitation(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        id: InvitationId,
        meta: &RequestMeta,
    ) -> Result<()> {
        let mut w = self.org_write(principal, reference, Some(Permission::MembersInvite), meta).await?;
        let org = w.access.org.clone();
        let invitation = self.find_invitation(w.tx(), &org, id).await?;
        let now = self.clock.now();
        require_pending(&invitation, now)?;
        let stale = close_pending(w.tx(), &invitation, InvitationState::Revoked, now).await?;
        w.invalidate(stale);
        let metadata = json!({ "email": invitation.email.as_str(), "role": invitation.role });
        w.commit(Event::new("invitation.revoked", Target::new("invitation", invitation.id), metadata)).await?;
        Ok(())
    }

    /// Sends a pending or expired invitation again with a new token (the old link stops working)
    /// and a fresh lifetime of 7 days. The resender becomes the inviter: the email names them and
    /// acceptance re-checks their standing.
    pub async fn resend_invitation(
        &self,
        principal: &Principal,
        reference: &OrgRef,
        id: InvitationId,
        meta: &RequestMeta,
    ) -> Result<IssuedInvitation> {
        let mut w = self.org_write(principal, reference, Some(Permission::MembersInvite), meta).await?;
        let org = w.access.org.clone();
        self.require_verified_email(w.tx(), principal).await?;
        let mut invitation = self.find_invitation(w.tx(), &org, id).await?;
        let now = self.clock.now();
        let state = invitation.state_at(now);
        if !matches!(state, InvitationState::Pending | InvitationState::Expired) {
            return Err(not_pending(state));
        }
        let role = self
            .roles()
            .find_role(w.tx(), org.id, &invitation.role)
            .await?
            .ok_or_else(|| role_unavailable(&invitation.role))?;
        self.roles().check_grant(&w.access, &role)?;
        if self.is_member_by_email(w.tx(), &org, &invitation.email).await? {
            return Err(already_member(&format!("{} is", invitation.email)));
        }
        if state == InvitationState::Expired {
            let freed = self.free_pending_slot(w.tx(), &org, &invitation.email, Some(invitation.id), now).await?;
            w.invalidate_all(freed);
            self.ensure_member_room(w.tx(), &org, now, false).await?;
        }

        let token = self.issue_token();
        let expires_at = now + DEFAULT_TTL;
        let previous_inviter = invitation.invited_by.clone();
        let inviter_id = w.access.actor().id;
        let reissued = w
            .tx()
            .reissue_invitation(
                invitation.org_id,
                invitation.id,
                invitation.state,
                &token.hash,
                expires_at,
                &inviter_id,
            )
            .await
            .map_err(|e| match e {
                StoreError::Unique(_) => pending_invitation_raced(),
                other => other.into(),
            })?;
        w.invalidate(reissued.ok_or(not_pending(state))?);
        invitation.state = InvitationState::Pending;
        invitation.token_hash = token.hash;
        invitation.expires_at = expires_at;
        invitation.invited_by = inviter_id;
        invitation.responded_at = None;

        self.queue_invitation_letter(&mut w, &invitation, &org, &role.name, &token.plain).await?;
        let metadata = json!({
            "email": invitation.email.as_str(),
            "role": invitation.role,
            "expires_at": invitation.expires_at,
            "previous_state": state.as_str(),
            "previous_inviter": previous_inviter,
        });
        w.commit(Event::new("invitation.resent", Target::new("invitation", invitation.id), metadata)).await?;
        Ok(IssuedInvitation { invitation, accept_url: self.accept_invite_url(&token.plain), token: token.plain })
    }

    /// What the holder of `token` may see; with a signed-in `viewer`, also whether they may
    /// answer it. Unknown (and superseded) tokens are not found.
    pub async fn preview_invitation(&self, token: &str, viewer: Option<&UserPrincipal>) -> Result<InvitationPreview> {
        let mut tx = self.store.read().await?;
        let invitation = tx.invitation_by_token(&hash_token(token)).await?.ok_or(Error::NotFound("invitation"))?;
        let org = tx.org(invitation.org_id).await?.ok_or(Error::NotFound("invitation"))?;
        let inviter_name = self.inviter_name(tx.as_mut(), &org, &invitation.invited_by).await?;
        let role_name = match self.roles().find_role(tx.as_mut(), org.id, &invitation.role).await? {
            Some(role) => role.name,
            None => invitation.role.clone(),
        };
        let viewer = match viewer {
            Some(principal) => match tx.user(principal.user_id).await? {
                Some(user) => {
                    let is_member = tx.membership(org.id, user.id).await?.is_some();
                    let fit = InviteeFit::of(&invitation, &user, is_member);
                    Some(Viewer { email: user.email, display_name: user.display_name, fit })
                }
                None => None,
            },
            None => None,
        };
        Ok(InvitationPreview {
            org_name: org.name,
            inviter_name,
            role: invitation.role.clone(),
            role_name,
            state: invitation.state_at(self.clock.now()),
            expires_at: invitation.expires_at,
            viewer,
        })
    }

    /// The invitee joins the org with the invited role.
    pub async fn accept_invitation(&self, principal: &Principal, token: &str, meta: &RequestMeta) -> Result<Accepted> {
        let me = principal.user()?;
        let mut w = self.write(meta).await?;
        let (invitation, user) = self.invitee_answer(w.tx(), me, token).await?;
        let now = self.clock.now();
        let tx = w.tx();
        let org = tx.org(invitation.org_id).await?.ok_or(Error::NotFound("invitation"))?;
        let is_member = tx.membership(org.id, user.id).await?.is_some();
        InviteeFit::of(&invitation, &user, is_member).check()?;
        // An org that requires MFA admits no one without it, from the first request on.
        self.mfa().require_member_mfa(tx, org.id, user.id).await?;
        let role = self
            .roles()
            .find_role(tx, org.id, &invitation.role)
            .await?
            .ok_or_else(|| role_unavailable(&invitation.role))?;
        self.check_inviter_grant(tx, &org, &invitation, &role).await?;
        self.ensure_member_room(tx, &org, now, true).await?;
        let closed = close_pending(tx, &invitation, InvitationState::Accepted, now).await?;
        let membership = Membership {
            id: MembershipId::new(),
            org_id: org.id,
            user_id: user.id,
            role: role.key.clone(),
            status: MemberStatus::Active,
            joined_at: now,
        };
        let stale = tx.insert_membership(&membership).await.map_err(|e| match e {
            StoreError::Unique(_) => already_member("you are"),
            other => other.into(),
        })?;
        w.invalidate_all([closed, stale]);
        let (joined, skipped_team_ids) = self.join_invited_teams(&mut w, &invitation, user.id, now).await?;
        let accepted = Event::new(
            "invitation.accepted",
            Target::new("invitation", invitation.id),
            json!({ "email": invitation.email.as_str(), "role": role.key, "user_id": user.id.to_string() }),
        );
        w.audit(Change { org: Some(org.id), actor: principal.actor(), event: accepted }).await?;
        let org = w.tx().org(org.id).await?.ok_or(Error::NotFound("organization"))?;
        let metadata = json!({
            "role": role.key,
            "invitation_id": invitation.id.to_string(),
            "invited_by": invitation.invited_by,
        });
        let added = Event::new("member.added", Target::new("user", user.id), metadata);
        w.commit(Change { org: Some(org.id), actor: principal.actor(), event: added }).await?;
        let member = Member {
            membership: membership.clone(),
            email: user.email,
            display_name: user.display_name,
            team_ids: joined,
        };
        Ok(Accepted { org: OrgWithRole { org, membership }, member, skipped_team_ids })
    }

    /// Puts a new member in the teams their invitation names, with the preset's default team
    /// role; teams deleted since the invitation was sent are skipped and returned.
    async fn join_invited_teams(
        &self,
        w: &mut Write<'_>,
        invitation: &Invitation,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(Vec<TeamId>, Vec<String>)> {
        let (mut joined, mut skipped) = (Vec::new(), Vec::new());
        for id in &invitation.team_ids {
            let team: TeamRef = id.as_str().into();
            let Some(team) = w.tx().team(invitation.org_id, &team).await? else {
                skipped.push(id.clone());
                continue;
            };
            let membership = TeamMembership {
                org_id: invitation.org_id,
                team_id: team.id,
                user_id: user,
                role: self.preset.default_team_role.clone(),
                joined_at: now,
            };
            let stale = w.tx().insert_team_member(&membership).await?;
            w.invalidate(stale);
            let metadata = json!({ "user_id": user.to_string(), "role": membership.role, "team_slug": team.slug, "invitation_id": invitation.id.to_string() });
            w.audit(Change {
                org: Some(invitation.org_id),
                actor: Actor::new("user", user),
                event: Event::new("team.member_added", Target::new("team", team.id), metadata),
            })
            .await?;
            joined.push(team.id);
        }
        Ok((joined, skipped))
    }

    /// The invitee turns the invitation down; it cannot be accepted afterwards.
    pub async fn decline_invitation(
        &self,
        principal: &Principal,
        token: &str,
        meta: &RequestMeta,
    ) -> Result<Invitation> {
        let me = principal.user()?;
        let mut w = self.write(meta).await?;
        let (mut invitation, user) = self.invitee_answer(w.tx(), me, token).await?;
        let now = self.clock.now();
        // Declining is allowed to someone who joined meanwhile: it only closes the invitation.
        InviteeFit::of(&invitation, &user, false).check()?;
        let stale = close_pending(w.tx(), &invitation, InvitationState::Declined, now).await?;
        w.invalidate(stale);
        let metadata = json!({ "email": invitation.email.as_str(), "role": invitation.role });
        let event = Event::new("invitation.declined", Target::new("invitation", invitation.id), metadata);
        w.commit(Change { org: Some(invitation.org_id), actor: principal.actor(), event }).await?;
        invitation.state = InvitationState::Declined;
        invitation.responded_at = Some(now);
        Ok(invitation)
    }

    /// An invitation of `org` by id; another org's is not found.
    async fn find_invitation(&self, tx: &mut dyn ReadTx, org: &Org, id: InvitationId) -> Result<Invitation> {
        tx.invitation(org.id, id).await?.ok_or(Error::NotFound("invitation"))
    }

    async fn is_member_by_email(&self, tx: &mut dyn ReadTx, org: &Org, email: &Email) -> Result<bool> {
        Ok(match tx.user_by_email(email).await? {
            Some(user) => tx.membership(org.id, user.id).await?.is_some(),
            None => false,
        })
    }

    /// Refuses while `email` has another pending invitation to `org`; one that lapsed is marked
    /// expired so it stops holding the address's pending slot (what that made stale is returned).
    async fn free_pending_slot(
        &self,
        tx: &mut dyn Tx,
        org: &Org,
        email: &Email,
        except: Option<InvitationId>,
        now: DateTime<Utc>,
    ) -> Result<MaybeStale> {
        let Some(existing) = tx.pending_invitation_for(org.id, email).await? else {
            return Ok(None.into());
        };
        if Some(existing.id) == except {
            return Ok(None.into());
        }
        if existing.state_at(now) == InvitationState::Pending {
            return Err(invitation_exists(&existing));
        }
        let expired = tx
            .set_invitation_state(
                existing.org_id,
                existing.id,
                InvitationState::Pending,
                InvitationState::Expired,
                existing.expires_at,
            )
            .await?;
        Ok(expired)
    }

    /// Refuses unless one more member fits the org's plan, counting members and pending
    /// invitations. `converting` says one of those pending invitations is the one turning into
    /// the new member, so it is not counted twice.
    pub(crate) async fn ensure_member_room(
        &self,
        tx: &mut dyn ReadTx,
        org: &Org,
        now: DateTime<Utc>,
        converting: bool,
    ) -> Result<()> {
        let plan = self.preset.plan(&org.plan).ok_or_else(|| {
            Error::Internal(format!("org {} is on the plan `{}`, which is not defined", org.id, org.plan))
        })?;
        let pending = tx.count_pending_invitations(org.id, now).await?;
        let others = pending.saturating_sub(u64::from(converting));
        if plan.members_fit(org.seat_count + others, 1) {
            return Ok(());
        }
        let max = plan.members.unwrap_or_default();
        Err(Error::PlanLimit {
            message: format!(
                "the `{}` plan allows {max} member(s), pending invitations included; {} has {} member(s) and {} \
                 pending invitation(s): upgrade the plan{}",
                org.plan,
                org.name,
                org.seat_count,
                pending,
                if converting { " before accepting" } else { " or revoke a pending invitation" },
            ),
            details: json!({
                "limit": "members",
                "plan": org.plan,
                "max": max,
                "members": org.seat_count,
                "pending_invitations": pending,
            }),
        })
    }

    /// Re-checks at acceptance that whoever issued the invitation may still grant its role: a
    /// member who left, was suspended, lost `members.invite`, or could no longer grant the role (demoted, or a
    /// custom role widened meanwhile) no longer vouches for it, nor does a revoked or expired
    /// API key.
    async fn check_inviter_grant(
        &self,
        tx: &mut dyn ReadTx,
        org: &Org,
        invitation: &Invitation,
        role: &Role,
    ) -> Result<()> {
        let refused = || {
            Error::forbidden(format!(
                "whoever invited you can no longer grant the role `{}` in {}; ask them to send a new invitation",
                role.key, org.name
            ))
        };
        let admin = Principal::Admin.actor();
        let access = if invitation.invited_by == admin.id {
            // The instance admin manages every org with its owner's permissions, and stays.
            OrgAccess {
                org: org.clone(),
                permissions: self.preset.owner().permissions,
                standing: Standing::Operator { actor: admin },
            }
        } else if let Ok(user) = invitation.invited_by.parse::<UserId>() {
            // A suspended member vouches for nothing while the suspension lasts.
            let Some(membership) = tx.membership(org.id, user).await?.filter(|m| m.status == MemberStatus::Active)
            else {
                return Err(refused());
            };
            let own = self.resolve_role(tx, org.id, &membership.role).await?;
            OrgAccess {
                org: org.clone(),
                permissions: own.permissions,
                standing: Standing::Member { membership, role: own },
            }
        } else {
            // An API key vouches for its invitations while it is active.
            let key_id: ApiKeyId = invitation.invited_by.parse().map_err(|_| refused())?;
            let key = tx.api_key_by_id(key_id).await?.filter(|k| k.key.org_id == org.id).ok_or_else(refused)?;
            if key.key.is_revoked() || key.key.is_expired(self.clock.now()) {
                return Err(refused());
            }
            let scopes = self.api_keys().key_scopes(&key.key);
            OrgAccess { org: org.clone(), permissions: scopes, standing: Standing::Key { key_id } }
        };
        self.require(&access, Permission::MembersInvite)
            .and_then(|()| self.roles().check_grant(&access, role))
            .map_err(|_| refused())
    }

    /// How the inviter is named in the email and the preview: a user by their display name, an
    /// API key by its org.
    async fn inviter_name(&self, tx: &mut dyn ReadTx, org: &Org, invited_by: &str) -> Result<String> {
        if let Ok(user) = invited_by.parse::<UserId>() {
            if let Some(user) = tx.user(user).await? {
                return Ok(user.display_name);
            }
        }
        Ok(org.name.clone())
    }
}
