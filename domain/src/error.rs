//! One error type for the whole domain: each variant has a stable machine-readable code and a
//! message for people; `Internal` carries details for the log only, never for the user. The
//! web layers choose the HTTP status (`app::error::http_status`).

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

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. } | Error::Conflict { code, .. } | Error::Unauthorized { code, .. } => code,
            Error::Unauthenticated => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Gone(_) => "archived",
            Error::RateLimited(_) => "rate_limited",
            Error::Internal(_) => "internal",
        }
    }

    /// The input at fault, if one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { field, .. } | Error::Conflict { field, .. } => *field,
            _ => None,
        }
    }

    /// What people may read: internals are replaced by a generic message.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(_) => "Something went wrong on our side. Please try again.".to_string(),
            Error::Unauthenticated => "Sign in first, or send an API key as Authorization: Bearer hk_….".to_string(),
            other => other.to_string(),
        }
    }
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
