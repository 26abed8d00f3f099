//! The API's operations as typed methods. Path segments (org and team slugs, user and key ids)
//! are percent-encoded, so a name can never reach another path.

use reqwest::Method;
use tenantry_types::{
    AcceptedInvitationView, AddTeamMemberBody, ApiKeyView, AuditEventView, AuthorizeAnswer, AuthorizeBody,
    ChangeMemberBody, ChangePlanBody, CreateKeyBody, CreateOrgBody, CreateTeamBody, DecisionView, InvitationView,
    InviteBody, IssuedInvitationView, IssuedKeyView, LoginBody, LoginView, MeView, MemberView, OrgView, PlanView,
    RefreshBody, RoleView, RollKeyBody, SessionView, SignupBody, SwitchOrgBody, SwitchedView, TeamMemberView, TeamView,
    TokenBody, TransferBody, UpdateOrgBody, UsageView, VerificationView, VerifyBody,
};

use crate::{Client, ClientError};

use path_segment as seg;

type Result<T> = std::result::Result<T, ClientError>;

/// One path segment, percent-encoded (everything but unreserved characters), for paths built
/// by hand with [`Client::call`].
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Accounts and sessions.
impl Client {
    pub async fn signup(&self, body: &SignupBody) -> Result<SessionView> {
        self.send(Method::POST, "/v1/auth/signup", body).await
    }

    /// A session, or (for an account with MFA) the challenge for `/v1/auth/login/mfa`.
    pub async fn login(&self, body: &LoginBody) -> Result<LoginView> {
        self.send(Method::POST, "/v1/auth/login", body).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<SessionView> {
        self.send(Method::POST, "/v1/auth/refresh", &RefreshBody { refresh_token: refresh_token.to_owned() }).await
    }

    /// Ends the session of this client's access token.
    pub async fn logout(&self) -> Result<()> {
        self.call(Method::POST, "/v1/auth/logout").no_content().await
    }

    pub async fn verify_email(&self, token: &str) -> Result<()> {
        self.call(Method::POST, "/v1/auth/verify-email").json(&TokenBody { token: token.to_owned() }).no_content().await
    }

    /// The caller, every org they belong to with their role, and the token's active org.
    pub async fn me(&self) -> Result<MeView> {
        self.get("/v1/me").await
    }

    /// An access token whose active org is `org` (an id or slug).
    pub async fn switch_org(&self, org: &str) -> Result<SwitchedView> {
        self.send(Method::POST, "/v1/auth/switch-org", &SwitchOrgBody { org_id: org.to_owned() }).await
    }
}

/// Organizations, plans and ownership.
impl Client {
    /// The caller's orgs.
    pub async fn orgs(&self) -> Result<Vec<OrgView>> {
        self.list_all("/v1/orgs", &[], None).await
    }

    pub async fn org(&self, org: &str) -> Result<OrgView> {
        self.get(&format!("/v1/orgs/{}", seg(org))).await
    }

    pub async fn create_org(&self, body: &CreateOrgBody) -> Result<OrgView> {
        self.send(Method::POST, "/v1/orgs", body).await
    }

    pub async fn update_org(&self, org: &str, body: &UpdateOrgBody) -> Result<OrgView> {
        self.send(Method::PATCH, &format!("/v1/orgs/{}", seg(org)), body).await
    }

    pub async fn transfer_ownership(&self, org: &str, body: &TransferBody) -> Result<OrgView> {
        self.send(Method::POST, &format!("/v1/orgs/{}/transfer-ownership", seg(org)), body).await
    }

    pub async fn plans(&self) -> Result<Vec<PlanView>> {
        self.get("/v1/plans").await
    }

    /// Sets the org's plan (the billing backend's or the instance admin's call in `managed` mode).
    pub async fn change_plan(&self, org: &str, plan: &str) -> Result<OrgView> {
        let body = ChangePlanBody { plan: plan.to_owned() };
        self.send(Method::PUT, &format!("/v1/orgs/{}/plan", seg(org)), &body).await
    }

    pub async fn usage(&self, org: &str) -> Result<UsageView> {
        self.get(&format!("/v1/orgs/{}/usage", seg(org))).await
    }
}

/// Members, roles and invitations.
impl Client {
    pub async fn members(&self, org: &str) -> Result<Vec<MemberView>> {
        self.list_all(&format!("/v1/orgs/{}/members", seg(org)), &[], None).await
    }

    pub async fn member(&self, org: &str, user_id: &str) -> Result<MemberView> {
        self.get(&format!("/v1/orgs/{}/members/{}", seg(org), seg(user_id))).await
    }

    pub async fn change_member(&self, org: &str, user_id: &str, body: &ChangeMemberBody) -> Result<MemberView> {
        self.send(Method::PATCH, &format!("/v1/orgs/{}/members/{}", seg(org), seg(user_id)), body).await
    }

    pub async fn remove_member(&self, org: &str, user_id: &str) -> Result<()> {
        self.call(Method::DELETE, &format!("/v1/orgs/{}/members/{}", seg(org), seg(user_id))).no_content().await
    }

    pub async fn roles(&self, org: &str) -> Result<Vec<RoleView>> {
        self.get(&format!("/v1/orgs/{}/roles", seg(org))).await
    }

    pub async fn invite(&self, org: &str, body: &InviteBody) -> Result<IssuedInvitationView> {
        self.send(Method::POST, &format!("/v1/orgs/{}/invitations", seg(org)), body).await
    }

    pub async fn invitations(&self, org: &str) -> Result<Vec<InvitationView>> {
        self.list_all(&format!("/v1/orgs/{}/invitations", seg(org)), &[], None).await
    }

    pub async fn revoke_invitation(&self, org: &str, invitation_id: &str) -> Result<()> {
        let path = format!("/v1/orgs/{}/invitations/{}", seg(org), seg(invitation_id));
        self.call(Method::DELETE, &path).no_content().await
    }

    /// Accepts an invitation as this client's user (whose verified email it was sent to).
    pub async fn accept_invitation(&self, token: &str) -> Result<AcceptedInvitationView> {
        self.call(Method::POST, &format!("/v1/invitations/{}/accept", seg(token))).data().await
    }
}

/// Teams.
impl Client {
    pub async fn teams(&self, org: &str) -> Result<Vec<TeamView>> {
        self.list_all(&format!("/v1/orgs/{}/teams", seg(org)), &[], None).await
    }

    pub async fn create_team(&self, org: &str, body: &CreateTeamBody) -> Result<TeamView> {
        self.send(Method::POST, &format!("/v1/orgs/{}/teams", seg(org)), body).await
    }

    pub async fn team_members(&self, org: &str, team: &str) -> Result<Vec<TeamMemberView>> {
        self.list_all(&format!("/v1/orgs/{}/teams/{}/members", seg(org), seg(team)), &[], None).await
    }

    pub async fn add_team_member(&self, org: &str, team: &str, body: &AddTeamMemberBody) -> Result<TeamMemberView> {
        self.send(Method::POST, &format!("/v1/orgs/{}/teams/{}/members", seg(org), seg(team)), body).await
    }
}

/// API keys.
impl Client {
    pub async fn api_keys(&self, org: &str) -> Result<Vec<ApiKeyView>> {
        self.list_all(&format!("/v1/orgs/{}/api-keys", seg(org)), &[], None).await
    }

    /// A new key; its secret is in this answer only.
    pub async fn create_api_key(&self, org: &str, body: &CreateKeyBody) -> Result<IssuedKeyView> {
        self.send(Method::POST, &format!("/v1/orgs/{}/api-keys", seg(org)), body).await
    }

    pub async fn roll_api_key(&self, org: &str, key_id: &str, body: &RollKeyBody) -> Result<IssuedKeyView> {
        self.send(Method::POST, &format!("/v1/orgs/{}/api-keys/{}/roll", seg(org), seg(key_id)), body).await
    }

    pub async fn revoke_api_key(&self, org: &str, key_id: &str) -> Result<()> {
        self.call(Method::DELETE, &format!("/v1/orgs/{}/api-keys/{}", seg(org), seg(key_id))).no_content().await
    }
}

/// The host app's hot paths (with a service token).
impl Client {
    /// Whether a key is good, and (with `permission`) whether its scopes grant it.
    pub async fn verify_key(&self, key: &str, permission: Option<&str>) -> Result<VerificationView> {
        let body = VerifyBody { key: key.to_owned(), permission: permission.map(str::to_owned) };
        self.send(Method::POST, "/v1/keys/verify", &body).await
    }

    /// One check (`body.org` …) or a batch (`body.checks`).
    pub async fn authorize(&self, body: &AuthorizeBody) -> Result<AuthorizeAnswer> {
        self.send(Method::POST, "/v1/authorize", body).await
    }

    /// One check's decision.
    pub async fn check(&self, body: &AuthorizeBody) -> Result<DecisionView> {
        match self.authorize(body).await? {
            AuthorizeAnswer::Single(decision) => Ok(decision),
            AuthorizeAnswer::Batch(_) => Err(ClientError::Unexpected {
                status: reqwest::StatusCode::OK,
                detail: "a batch answer to a single check".to_owned(),
            }),
        }
    }

    /// The org's audit events, newest first (at most `limit`).
    pub async fn audit_events(&self, org: &str, limit: Option<usize>) -> Result<Vec<AuditEventView>> {
        self.list_all(&format!("/v1/orgs/{}/audit-events", seg(org)), &[], limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::path_segment as seg;

    #[test]
    fn a_segment_cannot_reach_another_path() {
        assert_eq!(seg("acme-inc"), "acme-inc");
        assert_eq!(seg("../admin"), "..%2Fadmin");
        assert_eq!(seg("a b?c#d"), "a%20b%3Fc%23d");
    }
}
