//! The OpenAPI 3.1 document. Paths come from the handlers' annotations as they are routed, so
//! the document cannot list a route the router lacks or miss one it serves.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tenantry",
        description = "The organization layer of a multi-tenant SaaS: accounts, organizations, members, roles and permissions, invitations, API keys, plans and the audit log."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Signup, login, tokens and email flows"),
        (name = "orgs", description = "Organizations"),
        (name = "members", description = "Members of an organization"),
        (name = "roles", description = "Built-in and custom roles"),
        (name = "teams", description = "Teams of an organization and their members"),
        (name = "api keys", description = "An organization's API keys"),
        (name = "invitations", description = "Invitations by email and their answers"),
        (name = "billing", description = "Plans, usage and the billing customer"),
        (name = "host apps", description = "Hot paths for the host app's backend: authorization checks, key verification, metering"),
        (name = "admin", description = "Instance administration"),
        (name = "meta", description = "Health, keys and this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token (JWT), the instance admin token, a service token, or (for /metrics) the metrics token"))
                    .build(),
            ),
        );
    }
}
