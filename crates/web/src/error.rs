//! The one error table: every use-case error becomes a status and the documented body
//! `{error, message, businessErrors:[{type, message, solutionUrl}]}` (409 of
//! `POST /clients`: `{type, message, data}`). 5xx bodies say nothing; the cause is logged
//! once, here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use refshare_app::AppError;
use serde_json::json;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

/// Builds the standard error body.
pub fn error_body(error: &str, message: &str, kind: &str) -> serde_json::Value {
    json!({
        "error": error,
        "message": message,
        "businessErrors": [{"type": kind, "message": message, "solutionUrl": null}],
    })
}

/// The status code an error maps to.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Validation(_) => StatusCode::BAD_REQUEST,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } | AppError::ClientConflict { .. } => StatusCode::CONFLICT,
        AppError::Business { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Gone(_) => StatusCode::GONE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let body = match &self.0 {
            AppError::Validation(fields) => {
                let message = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
                json!({
                    "error": "ValidationError",
                    "message": format!("The request is invalid: {message}"),
                    "businessErrors": fields.iter().map(|f| json!({"type": "ValidationError", "message": format!("{}: {}", f.field, f.message), "solutionUrl": null, "field": f.field})).collect::<Vec<_>>(),
                })
            }
            AppError::Unauthorized => error_body("Unauthorized", "Missing or invalid credentials.", "Unauthorized"),
            AppError::Forbidden(m) => error_body("Forbidden", m, "Forbidden"),
            AppError::NotFound(what) => error_body("NotFound", &format!("The {what} was not found."), "NotFound"),
            AppError::Conflict { kind, message } => error_body("Conflict", message, kind),
            AppError::ClientConflict { kind, message, data } => json!({"type": kind, "message": message, "data": data}),
            AppError::Business { kind, message } => error_body(kind, message, kind),
            AppError::Gone(m) => error_body("Gone", m, "Gone"),
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                error_body("InternalError", "Something went wrong on our side. Please retry later.", "InternalError")
            }
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
