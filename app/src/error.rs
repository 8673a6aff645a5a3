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

#[cfg(feature = "ssr")]
impl From<domain::Error> for AppError {
    /// Logs internals, sets the HTTP status, and keeps only the public shape.
    fn from(err: domain::Error) -> Self {
        if let domain::Error::Internal(detail) = &err {
            tracing::error!(%detail, "server function failed");
        }
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::from_u16(err.status()).unwrap_or(axum::http::StatusCode::BAD_REQUEST));
        }
        let body = err.body();
        AppError { code: body.code, message: body.message, field: body.field }
    }
}
