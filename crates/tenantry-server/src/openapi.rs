//! The OpenAPI 3.1 document. Paths come from the handlers' annotations as they are routed, so
//! the document cannot list a route the router lacks or miss one it serves.

use serde_json::json;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
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

/// The error answers that whole classes of operations share, added here once instead of on each
/// of the ~90 annotations (where they were missed); `routes::api` applies it to every route. Each rule follows from a layer every such
/// request passes through, so the document says what the server really answers:
///
/// - a JSON body (`ApiJson`): 400 for malformed JSON or a bad field, 413 past `BODY_LIMIT`
///   (`DefaultBodyLimit`), 415 when the content type is not `application/json`;
/// - query parameters (`ApiQuery`, `Pagination`): 400 for a malformed or out-of-range value;
/// - a bearer requirement (the `Caller`, `AuthUser` and `AdminAuth` extractors): 401 without
///   valid credentials, 403 for a caller of the wrong kind or without the permission, and 429
///   because a request with an API key is counted against the key's rate limit (`key_auth`)
///   before it reaches the handler, whatever the route;
/// - a path naming something: 404 when it does not exist or is not the caller's to see.
///
/// Handler-specific answers (402, 409, 410, 412, login throttling …) stay on the annotations.
pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let parameters = operation.parameters.iter().flatten();
                let has_query = parameters.clone().any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let has_path = parameters.clone().any(|p| matches!(p.parameter_in, ParameterIn::Path));
                let has_body = operation.request_body.is_some();
                let secured = operation.security.as_ref().is_some_and(|requirements| {
                    // `security((), …)` (an empty requirement) makes credentials optional.
                    !requirements.is_empty()
                        && requirements.iter().all(|r| serde_json::to_value(r).is_ok_and(|v| v != json!({})))
                });
                if has_body || has_query {
                    add(operation, 400, "invalid_request: malformed JSON, or a field or parameter out of its range (`details.field` names it)");
                }
                if has_body {
                    add(operation, 413, "payload_too_large: the body is over 1 MiB");
                    add(operation, 415, "unsupported_media_type: the body is not sent as `application/json`");
                }
                if secured {
                    add(operation, 401, "unauthorized: no bearer token, or one that is not (or no longer) valid");
                    add(operation, 403, "forbidden: the caller may not do this (wrong kind of caller, a permission or scope missing, a suspended member …)");
                    add(
                        operation,
                        429,
                        "rate_limited: the API key's requests for this minute are spent (see `Retry-After`)",
                    );
                }
                if has_path {
                    add(
                        operation,
                        404,
                        "not_found: what the path names does not exist, or is not visible to the caller",
                    );
                }
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response {
                        if response.description.is_empty() {
                            response.description = default_description(status).to_owned();
                        }
                        if status == "429" {
                            response.headers.entry("Retry-After".to_owned()).or_insert_with(|| {
                                HeaderBuilder::new()
                                    .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
                                    .description(Some("Seconds to wait before trying again"))
                                    .build()
                            });
                        }
                    }
                }
                for parameter in operation.parameters.iter_mut().flatten() {
                    pagination_parameter(parameter);
                }
                let request = operation.request_body.iter_mut().flat_map(|body| body.content.values_mut());
                let answers = operation.responses.responses.values_mut().flat_map(|response| match response {
                    RefOr::T(response) => Some(response.content.values_mut()),
                    RefOr::Ref(_) => None,
                });
                for content in request.chain(answers.flatten()) {
                    if let Some(schema) = &mut content.schema {
                        free_form_objects(schema);
                    }
                }
            }
        }
        if let Some(components) = &mut openapi.components {
            for schema in components.schemas.values_mut() {
                free_form_objects(schema);
            }
        }
    }
}

/// Declares every object without declared properties (metadata, details, payloads, event data)
/// as taking any keys: `additionalProperties: true`. Without it, generated clients type such an
/// object as an empty record.
fn free_form_objects(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) => {
            let is_object = match &object.schema_type {
                SchemaType::Type(t) => *t == Type::Object,
                SchemaType::Array(types) => types.contains(&Type::Object),
                SchemaType::AnyValue => false,
            };
            if is_object && object.properties.is_empty() && object.additional_properties.is_none() {
                object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(true)));
            }
            for property in object.properties.values_mut() {
                free_form_objects(property);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                free_form_objects(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(free_form_objects),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(free_form_objects),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(free_form_objects),
        _ => {}
    }
}

/// Adds an error answer with the error body, unless the annotation already documents the status.
fn add(operation: &mut Operation, status: u16, description: &str) {
    operation.responses.responses.entry(status.to_string()).or_insert_with(|| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build(),
        )
    });
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" | "201" | "202" => "success",
        "204" => "done; no body",
        "400" => "invalid_request: malformed JSON, or a field or parameter out of its range (`details.field` names it)",
        "401" => "unauthorized: no bearer token, or one that is not (or no longer) valid",
        "402" => "plan_limit_reached: the org's plan does not allow this",
        "403" => "forbidden: the caller may not do this",
        "404" => "not_found",
        "409" => "conflict",
        "410" => "gone",
        "412" => "precondition_failed",
        "429" => "rate_limited: too many requests or attempts (see `Retry-After`)",
        _ => "error",
    }
}

/// `limit` and `cursor` mean the same on every list (`Pagination`): `limit` is a whole number
/// from 1 to 100, `cursor` a `next_cursor` from the previous page (anything else is a 400).
fn pagination_parameter(parameter: &mut Parameter) {
    if !matches!(parameter.parameter_in, ParameterIn::Query) {
        return;
    }
    match parameter.name.as_str() {
        "limit" => {
            parameter.description = Some("Items per page: 1–100, default 20.".to_owned());
            parameter.schema = Some(RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(100))
                    .default(Some(json!(20)))
                    .build(),
            )));
        }
        "cursor" => {
            parameter.description = Some(
                "The `pagination.next_cursor` of the previous page; absent (or empty) for the first page. \
                 Cursors are opaque: one this API did not issue is a 400."
                    .to_owned(),
            );
            parameter.schema = Some(RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(Type::String).build())));
        }
        _ => {}
    }
}
