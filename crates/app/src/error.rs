//! The use cases' error type. Variants are facts the web layer maps to a status and the
//! documented error body; internal causes are logged once there and never shown.

use refshare_store::StoreError;

/// One field's problem, for 400 responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409 with the error body (`kind` goes to `businessErrors[0].type`).
    #[error("{message}")]
    Conflict { kind: String, message: String },
    /// 409 of `POST /clients`: `{type, message, data}`.
    #[error("{message}")]
    ClientConflict { kind: String, message: String, data: serde_json::Value },
    /// 422: a business rule refused the request.
    #[error("{message}")]
    Business { kind: String, message: String },
    /// 410: a hosted-page token that can no longer be used.
    #[error("{0}")]
    Gone(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError { field: field.into(), message: message.into() }])
    }

    pub fn conflict(kind: &str, message: impl Into<String>) -> AppError {
        AppError::Conflict { kind: kind.into(), message: message.into() }
    }

    /// A transition lost a race with another request that changed the same record first;
    /// nothing was applied (the transaction rolls back).
    pub fn concurrent(what: &str) -> AppError {
        AppError::conflict(
            "ConcurrentChange",
            format!("{what} changed while this request ran; nothing was applied. Read it again and retry."),
        )
    }

    pub fn business(kind: &str, message: impl Into<String>) -> AppError {
        AppError::Business { kind: kind.into(), message: message.into() }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => {
                // A race lost to a concurrent request; the constraint name stays in the log.
                tracing::info!(constraint = %what, "write refused by a uniqueness rule");
                AppError::conflict("Conflict", "The request conflicts with data written at the same time; retry it.")
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}
