//! The OpenAPI 3.1 document of `/api/v1`, generated from the code: each handler's
//! `#[utoipa::path]` attribute and the `ToSchema` derives of the bodies it takes and gives.
//! Served at `GET /api/v1/openapi.json`; the dashboard's API reference page renders it.
//!
//! **Documenting a route** is one change, at the handler:
//! ```ignore
//! /// Frob a thing
//! ///
//! /// What it does, for a person reading the reference. (The doc comment's first paragraph is
//! /// the summary, the rest the description.)
//! #[utoipa::path(post, path = "/things/{id}/frob", tag = "Things",
//!     params(("id" = String, Path, description = "…")), request_body = FrobIn,
//!     responses((status = 200, description = "…", body = Thing), (status = 409, description = "…", body = ErrorBody)))]
//! async fn frob(…) -> Result<Json<Thing>, ApiError> { … }
//! ```
//! and the module's `routes()` registers it with `api.routes(routes!(frob))` (instead of
//! `api.get(path, handler)`): method and path then come from the attribute, so docs and router
//! cannot disagree. Bodies are named serde structs deriving `utoipa::ToSchema`. The answers
//! every route shares are added below and need not be listed: 401 (no or bad key), 403 on
//! writes (read-only, role, CSRF), 404 (an id not found; no tenant), and 400/413/415/422 where
//! there is a JSON body. A route that needs no key says `security(())`; a platform route says
//! `security(("platform_key" = []))` (and gets the 403 a tenant key or a session answers). A new
//! tag goes in [`ApiDoc`]'s list. A route registered without docs fails the test
//! `every_route_is_documented`.
//!
//! The tenant routes' copies under `/tenants/{tenant_id}/…` (a platform key acting for a
//! tenant) are documented from the originals by [`scoped_copy`], never by hand.

use axum::http::{header, Method};
use axum::response::IntoResponse;
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn, PathItem, Paths};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi as _;

use super::{ErrorBody, ErrorDetail};

/// Where the API is mounted; the document's paths include it.
pub const PREFIX: &str = "/api/v1";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Herald API",
        description = "Herald fans your platform's business events out to the webhook endpoints each tenant configures, \
signs and retries the deliveries, and keeps a log of every attempt.\n\n\
Authenticate with a tenant API key, `Authorization: Bearer hk_…` (create one in Settings or with `herald api-key create`); \
it acts as an admin of its tenant. A signed-in dashboard session works too; its writes also need the `x-csrf-token` from `GET /api/v1/me`.\n\n\
A booking platform holds one platform key instead, `Authorization: Bearer hkp_…` (`herald api-key create --platform`): \
it creates and manages tenants (`/api/v1/tenants`), opens dashboard links, and reaches every tenant route under \
`/api/v1/tenants/{tenant_id}/…`, acting as an admin of that tenant. A tenant key or a session answers 403 \
`platform_key_required` there; a platform key on a plain tenant route answers 403 `tenant_path_required`.\n\n\
Every error answers `{\"error\": {\"code\", \"message\", \"field\"?}}`, `field` naming the request field at fault. \
Times are RFC 3339 (UTC).",
    ),
    tags(
        (name = "Events", description = "Publish business events; Herald delivers each one to every active endpoint subscribed to its type."),
        (name = "Event types", description = "The catalog of event types, with each one's data schema and a sample."),
        (name = "Endpoints", description = "Where a tenant's events go: URL or email, subscriptions, auth header, filter, throttle, signing secret."),
        (name = "Deliveries", description = "The delivery log: every attempt with the request as sent and the response; replays."),
        (name = "Recovery jobs", description = "Send an endpoint's failed or skipped deliveries again, paced, with progress and cancel."),
        (name = "Settings", description = "The tenant's plan, retention and whether webhooks are sent at all."),
        (name = "Audit", description = "Who changed what, when, and from where."),
        (name = "Account", description = "The caller."),
        (name = "Platform: tenants", description = "The booking platform's own routes (platform key only): create, list, read and change tenants; one-time dashboard links."),
        (name = "Platform: acting for a tenant", description = "Every tenant route again under `/tenants/{tenant_id}`, for the platform key, acting as an admin of the tenant the path names (404 when there is none)."),
        (name = "Documentation", description = "This document."),
    ),
    components(schemas(ErrorBody, ErrorDetail)),
)]
struct ApiDoc;

/// The whole document: the documented routes' `paths` (relative to [`PREFIX`]) and the
/// schemas they use, with the shared answers and the security schemes.
pub fn document(paths: Paths, scoped: &[String], schemas: Vec<(String, RefOr<utoipa::openapi::schema::Schema>)>) -> OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("hk_…")
                .description(Some("A tenant API key: `Authorization: Bearer hk_…`. It acts as an admin of its tenant."))
                .build(),
        ),
    );
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "herald_session",
            "The dashboard's session cookie; writes also need `x-csrf-token` (from `GET /api/v1/me`) or the browser's same-origin headers.",
        ))),
    );
    components.add_security_scheme(
        PLATFORM,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("hkp_…")
                .description(Some("The booking platform's key: `Authorization: Bearer hkp_…` (`herald api-key create --platform`)."))
                .build(),
        ),
    );
    for (_, name, description) in SHARED.iter().chain([&PLATFORM_ONLY]) {
        components.responses.insert(name.to_string(), RefOr::T(error_response(description)));
    }
    for (path, mut item) in paths.paths {
        for (method, operation) in operations_mut(&mut item) {
            add_shared_answers(&method, &path, operation);
        }
        if scoped.contains(&path) {
            doc.paths.paths.insert(format!("{PREFIX}{}{path}", super::TENANT_SCOPE), scoped_copy(&item));
        }
        doc.paths.paths.insert(format!("{PREFIX}{path}"), item);
    }
    doc
}

/// The docs of a tenant route's copy under `/tenants/{tenant_id}`: the same operations with the
/// tenant's id as a parameter, for the platform key only, their ids suffixed `_for_tenant`.
fn scoped_copy(item: &PathItem) -> PathItem {
    let mut item = item.clone();
    for (_, operation) in operations_mut(&mut item) {
        operation.operation_id = operation.operation_id.take().map(|id| format!("{id}_for_tenant"));
        operation.tags = Some(vec!["Platform: acting for a tenant".to_string()]);
        operation.summary = operation.summary.take().map(|s| format!("{s} (for a tenant)"));
        operation.security = Some(vec![SecurityRequirement::new(PLATFORM, Vec::<String>::new())]);
        let mut tenant_id = Parameter::new("tenant_id");
        tenant_id.parameter_in = ParameterIn::Path;
        tenant_id.description = Some("The tenant the platform key acts for (`ten_…`); 404 when there is none.".to_string());
        tenant_id.schema = Some(utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String).into());
        operation.parameters.get_or_insert_with(Vec::new).insert(0, tenant_id);
        operation.responses.responses.insert("403".to_string(), platform_only_answer());
        // The links lead to the unscoped routes, which a platform key cannot use.
        for response in operation.responses.responses.values_mut() {
            if let RefOr::T(response) = response {
                response.links.clear();
            }
        }
    }
    item
}

const PLATFORM: &str = "platform_key";

/// The 403 of the platform's routes.
const PLATFORM_ONLY: (u16, &str, &str) = (
    403,
    "PlatformKeyRequired",
    "A tenant API key or a dashboard session (`platform_key_required`); on writes, also a suspended tenant (read-only).",
);

fn platform_only_answer() -> RefOr<utoipa::openapi::Response> {
    RefOr::Ref(Ref::new(format!("#/components/responses/{}", PLATFORM_ONLY.1)))
}

const BEARER: &str = "api_key";
const SESSION: &str = "session";

/// The answers many routes share: (status, component name, description).
const SHARED: [(u16, &str, &str); 7] = [
    (400, "BadJson", "The body is not valid JSON (`invalid_json`)."),
    (401, "Unauthenticated", "No API key or session, or a wrong, revoked or malformed key (`unauthenticated`)."),
    (
        403,
        "Forbidden",
        "Not allowed: the tenant is suspended or viewed by staff (read-only), the role is too low, or a session's write lacks the CSRF token.",
    ),
    (404, "NotFound", "No such object in the caller's tenant (another tenant's objects answer 404 too), or a staff session that is not viewing a tenant."),
    (413, "TooLarge", "The body is larger than the limit (64 KiB; 256 KiB for `POST /events`) (`payload_too_large`)."),
    (415, "NotJson", "The body was not sent with `content-type: application/json` (`unsupported_media_type`)."),
    (422, "Invalid", "A field is missing, of the wrong type or not a valid value; `field` names it."),
];

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
}

/// Adds the shared answers the route can give and does not describe itself, and the security
/// requirement unless it declares its own (`security(())`: none needed).
fn add_shared_answers(method: &Method, path: &str, operation: &mut Operation) {
    // Unique and stable, from the route (utoipa's default, the handler's name, repeats: `list`).
    let words: Vec<&str> = path.split(['/', '{', '}', '-', '.']).filter(|w| !w.is_empty()).collect();
    operation.operation_id = Some(format!("{}_{}", method.as_str().to_lowercase(), words.join("_")));
    let public = operation.security.as_ref().is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
    let platform_only = operation.security.as_ref().is_some_and(|s| *s == [SecurityRequirement::new(PLATFORM, Vec::<String>::new())]);
    if public {
        operation.security = Some(Vec::new());
    } else if operation.security.is_none() {
        operation.security =
            Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new()), SecurityRequirement::new(SESSION, Vec::<String>::new())]);
    }
    if platform_only {
        operation.responses.responses.entry("403".to_string()).or_insert_with(platform_only_answer);
    }
    let mut shared: Vec<u16> = Vec::new();
    if !public {
        shared.push(401);
        if *method != Method::GET {
            shared.push(403);
        }
    }
    // Every tenant route answers 404 to a staff session that is not viewing a tenant.
    if path.contains('{') || (!public && path != "/me") {
        shared.push(404);
    }
    if operation.request_body.is_some() {
        shared.extend([400, 413, 415, 422]);
    }
    for status in shared {
        let (_, name, _) = SHARED.iter().find(|(s, ..)| *s == status).expect("a shared answer");
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
    }
}

/// The methods a path item has operations for.
pub fn methods_of(item: &PathItem) -> Vec<Method> {
    let mut item = item.clone();
    operations_mut(&mut item).into_iter().map(|(method, _)| method).collect()
}

fn operations_mut(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::POST, &mut item.post),
        (Method::PUT, &mut item.put),
        (Method::PATCH, &mut item.patch),
        (Method::DELETE, &mut item.delete),
        (Method::HEAD, &mut item.head),
        (Method::OPTIONS, &mut item.options),
        (Method::TRACE, &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
    .collect()
}

/// The document as JSON. utoipa 5 writes a link's fields in snake case (`operation_id`);
/// OpenAPI spells them in camel case.
pub fn as_json(doc: OpenApi) -> serde_json::Value {
    fn fix_links(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(links)) = map.get_mut("links") {
                    for link in links.values_mut().filter_map(serde_json::Value::as_object_mut) {
                        for (snake, camel) in
                            [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")]
                        {
                            if let Some(v) = link.remove(snake) {
                                link.insert(camel.to_string(), v);
                            }
                        }
                    }
                }
                map.values_mut().for_each(fix_links);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(fix_links),
            _ => {}
        }
    }
    let mut json = serde_json::to_value(doc).expect("the OpenAPI document serializes");
    fix_links(&mut json);
    json
}

/// The document as JSON text, built once.
pub fn openapi_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| serde_json::to_string_pretty(&super::openapi()).expect("the OpenAPI document serializes"))
}

/// The OpenAPI document
///
/// This API's OpenAPI 3.1 document: every route, its parameters, bodies and answers.
#[utoipa::path(get, path = "/openapi.json", tag = "Documentation", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of `/api/v1`.", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_text())
}
