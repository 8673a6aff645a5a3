//! One error type for the whole domain. Every variant maps to one HTTP status and a stable
//! machine-readable code; `Internal` carries details for the log only, never for the user.

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; `field` names the offending input when there is one.
    #[error("{message}")]
    Invalid { code: &'static str, message: String, field: Option<&'static str> },
    #[error("not signed in")]
    Unauthenticated,
    /// A credential (API key) was presented but is not valid.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or belonging to another tenant (we never tell the two apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String, field: Option<&'static str> },
    /// The thing existed but its content was archived.
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("internal error")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid { code: "invalid_input", message: message.into(), field: Some(field) }
    }

    pub fn conflict(code: &'static str, field: Option<&'static str>, message: impl Into<String>) -> Self {
        Error::Conflict { code, message: message.into(), field }
    }

    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        Error::Internal(format!("{context}: {err}"))
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Invalid { .. } => 422,
            Error::Unauthenticated | Error::Unauthorized { .. } => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::Conflict { .. } => 409,
            Error::Gone(_) => 410,
            Error::RateLimited(_) => 429,
            Error::Internal(_) => 500,
        }
    }

    /// The public shape of this error; internals are replaced by a generic message.
    pub fn body(&self) -> ErrorBody {
        let (code, field) = match self {
            Error::Invalid { code, field, .. } | Error::Conflict { code, field, .. } => (*code, *field),
            Error::Unauthenticated => ("unauthenticated", None),
            Error::Unauthorized { code, .. } => (*code, None),
            Error::Forbidden(_) => ("forbidden", None),
            Error::NotFound(_) => ("not_found", None),
            Error::Gone(_) => ("archived", None),
            Error::RateLimited(_) => ("rate_limited", None),
            Error::Internal(_) => ("internal", None),
        };
        let message = match self {
            Error::Internal(_) => "Something went wrong on our side. Please try again.".to_string(),
            Error::Unauthenticated => "Sign in first, or send an API key as Authorization: Bearer hk_….".to_string(),
            other => other.to_string(),
        };
        ErrorBody { code: code.to_string(), message, field: field.map(str::to_string) }
    }
}

/// `{"code": "...", "message": "...", "field": "..."}` — the inner object of every API error.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound("record"),
            _ => Error::Internal(format!("database: {err}")),
        }
    }
}

/// True when the error is a violation of a unique constraint (same check on both databases).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
