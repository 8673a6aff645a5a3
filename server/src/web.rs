//! Request guards shared by the dashboard and the API (CSRF, body size), and the session that
//! dashboard pages are rendered with.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use domain::Herald;
use tower_sessions::Session;

use crate::api::error_response;

/// The name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "herald_session";

/// Who may show Herald's pages in a frame (`HERALD_FRAME_ANCESTORS`), said on every response.
#[derive(Clone)]
pub struct FramePolicy {
    csp: HeaderValue,
    /// `DENY` when no site may frame Herald; absent otherwise (it cannot name sites, and
    /// browsers follow the CSP's `frame-ancestors` over it anyway).
    x_frame_options: Option<HeaderValue>,
    /// Framed: session cookies are also `Partitioned` (CHIPS), so browsers that block
    /// third-party cookies keep the framed session, apart from any other site's.
    partitioned: bool,
}

impl FramePolicy {
    pub fn new(config: &crate::Config) -> FramePolicy {
        let framed = config.frame_ancestors.is_some();
        FramePolicy {
            csp: HeaderValue::from_str(&config.content_security_policy()).unwrap_or(HeaderValue::from_static("frame-ancestors 'none'")),
            x_frame_options: (!framed).then_some(HeaderValue::from_static("DENY")),
            partitioned: framed,
        }
    }
}

/// Adds the frame policy to every response (pages, API, files).
pub async fn frame_policy(State(policy): State<FramePolicy>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy.csp.clone());
    if let Some(deny) = &policy.x_frame_options {
        headers.insert(header::X_FRAME_OPTIONS, deny.clone());
    }
    if policy.partitioned {
        let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
        if cookies.iter().any(|c| c.as_bytes().starts_with(SESSION_COOKIE.as_bytes())) {
            headers.remove(header::SET_COOKIE);
            for cookie in cookies {
                let text = cookie.to_str().unwrap_or_default();
                let value = if text.starts_with(SESSION_COOKIE) && !text.contains("Partitioned") {
                    HeaderValue::from_str(&format!("{text}; Partitioned")).unwrap_or(cookie)
                } else {
                    cookie
                };
                headers.append(header::SET_COOKIE, value);
            }
        }
    }
    response
}

/// Largest request body accepted by the dashboard and API; ingest allows more.
pub const MAX_BODY: usize = 64 * 1024;
const INGEST_PATH: &str = "/api/v1/events";

/// Ingest, directly or through the platform's tenant prefix (`/api/v1/tenants/{id}/events`).
fn is_ingest(path: &str) -> bool {
    path == INGEST_PATH
        || path
            .strip_prefix("/api/v1/tenants/")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(tenant, rest)| !tenant.is_empty() && rest == "events")
}

/// Refuses state-changing requests that a browser sent on behalf of another site.
///
/// A request passes when it carries the session's `x-csrf-token`, or when the browser's own
/// `Sec-Fetch-Site`/`Origin` headers show it came from this site (browsers always send one of
/// them on POST, and pages cannot forge them). Requests with an API key carry no ambient
/// authority and are not checked.
pub async fn csrf_guard(session: Session, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if text(header::AUTHORIZATION.as_str()).is_some_and(|v| v.starts_with("Bearer ")) {
        return next.run(request).await;
    }
    // An API call without the session cookie carries no ambient authority: let it through to
    // answer 401. (Dashboard forms are always checked, which also stops login CSRF.)
    let has_session = text(header::COOKIE.as_str()).is_some_and(|c| c.contains(&format!("{SESSION_COOKIE}=")));
    if request.uri().path().starts_with("/api/v1/") && !has_session {
        return next.run(request).await;
    }
    let verdict = if let Some(token) = text("x-csrf-token") {
        let expected = app::session::csrf_token(&session).await.ok().flatten();
        expected.is_some_and(|e| e == token)
    } else if let Some(site) = text("sec-fetch-site") {
        site == "same-origin"
    } else if let Some(origin) = text(header::ORIGIN.as_str()) {
        let host = text(header::HOST.as_str()).unwrap_or_default();
        origin.split("://").nth(1).is_some_and(|o| o == host)
    } else {
        false
    };
    if verdict {
        next.run(request).await
    } else {
        tracing::info!(path = %request.uri().path(), "refused a request without a valid CSRF token");
        error_response(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "Missing or invalid CSRF token: submit the form from the Herald dashboard, send x-csrf-token, or use an API key.",
        )
    }
}

/// Bodies declared too large but under this size are read and dropped before the 413, so the
/// client finishes sending and reads the answer (closing on unread data would reset the
/// connection and lose it); larger ones are cut off.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// Answers 413 with a JSON error, without keeping a body that declares itself too large.
pub async fn body_limit(request: Request<Body>, next: Next) -> Response {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let limit = if is_ingest(request.uri().path()) { domain::messages::MAX_BODY } else { MAX_BODY };
    if let Some(len) = declared.filter(|len| *len > limit) {
        if len <= DRAIN_LIMIT {
            let _ = axum::body::to_bytes(request.into_body(), DRAIN_LIMIT).await;
        }
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            &format!("The request body is larger than {} KiB.", limit / 1024),
        );
    }
    next.run(request).await
}

/// Reads the visitor's session before a dashboard page is rendered, for the page to render
/// with (see `app::pages::layout::Dashboard`). Server functions, the API and files don't need it.
pub async fn page_session(State(herald): State<Herald>, session: Session, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let page = request.method() == Method::GET
        && !path.contains('.')
        && !["/api/", "/rpc/", "/pkg/", "/healthz", "/readyz", "/metrics"].iter().any(|prefix| path.starts_with(prefix));
    if page {
        let info = app::api::ssr::session_info(&herald, &session).await;
        request.extensions_mut().insert(app::api::ssr::PageSession(info));
    }
    next.run(request).await
}
