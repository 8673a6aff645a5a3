//! `GET /dashboard-link/{token}`: a one-time dashboard link (made by a platform key with
//! `POST /api/v1/tenants/{id}/dashboard-links`) signs its person into its tenant, in a session
//! pinned to that tenant, and opens the dashboard. A used, expired or unknown link answers
//! with a page that says so.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::Herald;
use tower_sessions::Session;

/// Where a link lands.
const LANDING: &str = "/endpoints";

pub async fn open(State(herald): State<Herald>, session: Session, Path(token): Path<String>, request: axum::extract::Request) -> Response {
    let (parts, _) = request.into_parts();
    // A HEAD (a link checker's) must not use up the link.
    if parts.method == axum::http::Method::HEAD {
        return (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response();
    }
    let ip = crate::api::client_ip(&herald, &parts);
    let signed_in = match herald.use_dashboard_link(&token, ip).await {
        Ok(link) => app::session::sign_in_pinned(&herald, &session, &link.user_id, &link.tenant_id).await,
        Err(err) => Err(err),
    };
    match signed_in {
        Ok(()) => {
            // The token is in this URL: keep it out of the next page's Referer, and out of caches.
            let mut response = Redirect::to(LANDING).into_response();
            response.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
            response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => problem_page(&err),
    }
}

/// A page a person can read (not an error dump), in the dashboard's style.
fn problem_page(err: &domain::Error) -> Response {
    let (status, title, text) = match err {
        domain::Error::Conflict { code: "dashboard_link_used", .. } => (
            StatusCode::GONE,
            "This link has already been used",
            "Dashboard links work once. Open Herald again from your platform to get a fresh link.",
        ),
        domain::Error::Conflict { code: "dashboard_link_expired", .. } => (
            StatusCode::GONE,
            "This link has expired",
            "Dashboard links work for a few minutes only. Open Herald again from your platform to get a fresh link.",
        ),
        domain::Error::NotFound(_) => (
            StatusCode::NOT_FOUND,
            "This link does not work",
            "It may have been mistyped or cut short. Open Herald again from your platform to get a fresh link.",
        ),
        domain::Error::Forbidden(_) => {
            (StatusCode::FORBIDDEN, "This workspace is suspended", "Nobody new can join it until the suspension is lifted.")
        }
        other => {
            tracing::error!(error = ?other, "dashboard link failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Herald could not open this link. Please try again in a moment.")
        }
    };
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Herald</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/pkg/herald.css"></head>
<body><main class="auth-page">
<div class="auth-brand"><span class="logo-mark">H</span>Herald</div>
<section class="auth-card" id="dashboard-link-problem">
<h1>{title}</h1>
<p class="muted">{text}</p>
<p class="auth-switch">Have a Herald password? <a href="/signin">Sign in</a></p>
</section>
<p class="auth-foot muted">Webhooks for booking and wellness platforms</p>
</main></body>
</html>"#
    );
    (status, [(header::CACHE_CONTROL, "no-store"), (header::REFERRER_POLICY, "no-referrer")], Html(page)).into_response()
}
