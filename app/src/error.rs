//! The error every server function returns: the same `{code, message, field}` the JSON API
//! uses, so forms can put the message under the field at fault.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    /// The message when it concerns `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let bad_request = matches!(value, ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_));
        #[cfg(feature = "ssr")]
        if bad_request {
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(axum::http::StatusCode::BAD_REQUEST);
            }
        }
        let message = match value {
            ServerFnErrorErr::Request(_) => "Herald could not be reached. Check your connection and try again.".to_string(),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                "The form was incomplete. Reload the page and try again.".to_string()
            }
            other => format!("Something went wrong: {other}"),
        };
        let code = if bad_request { "bad_request" } else { "request_failed" };
        AppError { code: code.into(), message, field: None }
    }
}

/// The HTTP status a domain error answers with, for server functions and the JSON API alike.
#[cfg(feature = "ssr")]
pub fn http_status(err: &domain::Error) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    use domain::Error;
    match err {
        Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Unauthenticated | Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::Gone(_) => StatusCode::GONE,
        Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The public shape of a domain error (the inner object of every JSON API error too).
    pub fn public(err: &domain::Error) -> AppError {
        AppError { code: err.code().to_string(), message: err.public_message(), field: err.field().map(str::to_string) }
    }
}

#[cfg(feature = "ssr")]
impl From<domain::Error> for AppError {
    /// Logs internals, sets the HTTP status, and keeps only the public shape.
    fn from(err: domain::Error) -> Self {
        if let domain::Error::Internal(detail) = &err {
            tracing::error!(%detail, "server function failed");
        }
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http_status(&err));
        }
        AppError::public(&err)
    }
}
