//! The one error table: every use-case error becomes a status, a type (the documented
//! `businessErrors[0].type`) and the body `{error, message, businessErrors:[{type, message,
//! solutionUrl}]}` (409 of `POST /clients`: `{type, message, data}`). The message is the
//! error's own text, built from its facts. 5xx bodies say nothing; the cause is logged
//! once, here, with its whole source chain.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use refshare_app::{
    AppError, CaseError, ClientError, DisputeError, FxError, LedgerError, LinkError, PaymentError, PeopleError, RevenueError, SigninError,
};
use serde_json::{json, Value};

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

/// Builds the standard error body.
pub fn error_body(error: &str, message: &str, kind: &str) -> Value {
    json!({
        "error": error,
        "message": message,
        "businessErrors": [{"type": kind, "message": message, "solutionUrl": null}],
    })
}

use StatusCode as S;

/// The table: each error's status and type.
pub fn classify(e: &AppError) -> (StatusCode, &'static str) {
    match e {
        AppError::Validation(_) => (S::BAD_REQUEST, "ValidationError"),
        AppError::Unauthorized => (S::UNAUTHORIZED, "Unauthorized"),
        AppError::Forbidden(_) => (S::FORBIDDEN, "Forbidden"),
        AppError::NotFound(_) => (S::NOT_FOUND, "NotFound"),
        AppError::IdempotencyConflict => (S::UNPROCESSABLE_ENTITY, "IdempotencyConflict"),
        AppError::ConcurrentChange { .. } => (S::CONFLICT, "ConcurrentChange"),
        AppError::WriteConflict { .. } => (S::CONFLICT, "Conflict"),
        AppError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "InternalError"),
        AppError::Client(e) => match e {
            ClientError::AlreadyLinked { .. } => (S::CONFLICT, "AlreadyLinkedToAnotherPartner"),
            ClientError::ExistsNeedsLinking { .. } => (S::CONFLICT, "ClientExistsNeedsLinking"),
            ClientError::OnboardingIncomplete { .. } => (S::UNPROCESSABLE_ENTITY, "OnboardingIncomplete"),
            ClientError::NotAttributed => (S::CONFLICT, "NotAttributed"),
            ClientError::OnboardingComplete => (S::CONFLICT, "OnboardingComplete"),
            ClientError::CasesStarted => (S::CONFLICT, "CasesStarted"),
            ClientError::NotDeletable { .. } => (S::CONFLICT, "NotDeletable"),
            ClientError::EmailInUse => (S::CONFLICT, "ClientExists"),
        },
        AppError::Link(e) => match e {
            LinkError::RequestExpired
            | LinkError::RequestApproved
            | LinkError::RequestDeclined
            | LinkError::ClientAlreadyLinked
            | LinkError::TenantIdTakenForRequest
            | LinkError::OnboardingLinkInvalid => (S::GONE, "Gone"),
            LinkError::IllegalTransition { .. } => (S::CONFLICT, "IllegalLinkTransition"),
            LinkError::ClientLinkedElsewhere => (S::CONFLICT, "ClientLinkedElsewhere"),
            LinkError::ExternalTenantIdInUse => (S::CONFLICT, "ExternalTenantIdInUse"),
            LinkError::NotClientUser { .. } => (S::FORBIDDEN, "NotClientUser"),
        },
        AppError::Case(e) => match e {
            CaseError::DuplicateReference { .. } => (S::UNPROCESSABLE_ENTITY, "DuplicateReference"),
            CaseError::NoPartnerAvailable { .. } => (S::UNPROCESSABLE_ENTITY, "NoPartnerAvailable"),
            CaseError::MissingContract => (S::UNPROCESSABLE_ENTITY, "MissingDebtCollectionContract"),
        },
        AppError::Payment(e) => match e {
            PaymentError::ExternalIdReused { .. } => (S::CONFLICT, "ExternalIdReused"),
            PaymentError::CaseNotActive { .. } => (S::CONFLICT, "CaseNotActive"),
            PaymentError::AlreadyReversed { .. } => (S::CONFLICT, "AlreadyReversed"),
            PaymentError::ExceedsRemainder { .. } => (S::UNPROCESSABLE_ENTITY, "PaymentExceedsRemainder"),
        },
        AppError::Revenue(e) => match e {
            RevenueError::CommissionAlreadyPaid { .. } => (S::CONFLICT, "CommissionAlreadyPaid"),
            RevenueError::PaymentReversed { .. } => (S::CONFLICT, "PaymentReversed"),
            RevenueError::PeriodNotEnded { .. } => (S::UNPROCESSABLE_ENTITY, "PeriodNotEnded"),
            RevenueError::CpInvoiceNotOpen { .. } | RevenueError::PartnerInvoiceNotOpen { .. } => (S::CONFLICT, "InvoiceNotOpen"),
            RevenueError::EarningNotReady { .. } => (S::UNPROCESSABLE_ENTITY, "EarningNotReady"),
            RevenueError::NothingToInvoice | RevenueError::NetNotPositive { .. } => (S::UNPROCESSABLE_ENTITY, "NothingToInvoice"),
        },
        AppError::Dispute(e) => match e {
            DisputeError::WindowClosed { .. } => (S::UNPROCESSABLE_ENTITY, "DisputeWindowClosed"),
            DisputeError::AlreadyOpen { .. } => (S::CONFLICT, "DisputeAlreadyOpen"),
            DisputeError::AlreadyResolved { .. } | DisputeError::ResolvedConcurrently { .. } => (S::CONFLICT, "DisputeAlreadyResolved"),
            DisputeError::NothingToAdjust => (S::UNPROCESSABLE_ENTITY, "NothingToAdjust"),
            DisputeError::PaymentReversed => (S::UNPROCESSABLE_ENTITY, "PaymentReversed"),
            DisputeError::NoLinkToCorrect => (S::UNPROCESSABLE_ENTITY, "NoLinkToCorrect"),
            DisputeError::NothingToCorrect => (S::UNPROCESSABLE_ENTITY, "NothingToCorrect"),
        },
        AppError::Fx(FxError::MissingRate { .. }) => (S::UNPROCESSABLE_ENTITY, "MissingFxRate"),
        AppError::Ledger(LedgerError::Discrepancy { .. }) => (S::CONFLICT, "LedgerDiscrepancy"),
        AppError::People(e) => match e {
            PeopleError::PartnerUserExists { .. } | PeopleError::OperatorExists { .. } => (S::CONFLICT, "UserExists"),
            PeopleError::OperatorMayNotChange { .. } | PeopleError::PartnerRoleForbids { .. } => (S::FORBIDDEN, "RoleForbids"),
            PeopleError::CannotRemoveSelf => (S::CONFLICT, "CannotRemoveSelf"),
        },
        AppError::Signin(e) => match e {
            SigninError::LinkInvalid => (S::GONE, "SignInLinkInvalid"),
            SigninError::CodeInvalid => (S::UNPROCESSABLE_ENTITY, "SignInCodeInvalid"),
            SigninError::TooManyRequests => (S::TOO_MANY_REQUESTS, "TooManyRequests"),
            SigninError::CsrfRefused | SigninError::SessionNeedsJson => (S::FORBIDDEN, "CsrfRefused"),
        },
    }
}

/// The status code an error maps to.
pub fn status_of(e: &AppError) -> StatusCode {
    classify(e).0
}

/// The message shown to the caller: the error's own text, except for what must not leak.
pub fn message_of(e: &AppError) -> String {
    match e {
        AppError::Unauthorized => "Missing or invalid credentials.".into(),
        AppError::NotFound(what) => format!("The {what} was not found."),
        AppError::Internal(_) => "Something went wrong on our side. Please retry later.".into(),
        other => other.to_string(),
    }
}

/// Logs an internal error's whole source chain; other errors are the caller's business.
pub fn log_internal(e: &AppError, place: &str) {
    if let AppError::Internal(cause) = e {
        tracing::error!(cause = %cause.chain(), place, "internal error");
    }
}

/// The JSON body of an error.
pub fn body_of(e: &AppError) -> Value {
    let (status, kind) = classify(e);
    let message = message_of(e);
    match e {
        AppError::Validation(fields) => {
            json!({
                "error": "ValidationError",
                "message": message,
                "businessErrors": fields.iter().map(|f| json!({"type": "ValidationError", "message": format!("{}: {}", f.field, f.message), "solutionUrl": null, "field": f.field})).collect::<Vec<_>>(),
            })
        }
        AppError::Client(ClientError::AlreadyLinked { external_tenant_id, .. }) => {
            json!({"type": kind, "message": message, "data": {"externalTenantId": external_tenant_id}})
        }
        AppError::Client(ClientError::ExistsNeedsLinking { external_tenant_id, approval_url }) => json!({
            "type": kind,
            "message": message,
            "data": {"externalTenantId": external_tenant_id, "onboardingLinks": {"url": approval_url}},
        }),
        _ => {
            // 409 and 410 keep their class name in `error`; a 422 names the rule.
            let error = match status {
                S::CONFLICT => "Conflict",
                S::GONE => "Gone",
                _ => kind,
            };
            error_body(error, &message, kind)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        log_internal(&self.0, "api");
        (status_of(&self.0), Json(body_of(&self.0))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use refshare_app::InternalError;

    #[test]
    fn facts_become_status_type_and_message() {
        let deadline = chrono::DateTime::from_timestamp_millis(1_775_000_000_000).unwrap();
        let closed = AppError::from(DisputeError::WindowClosed {
            case_reference: "DEB-7".into(),
            deadline,
            window_days: 30,
            payout: "latest payout".into(),
        });
        assert_eq!(classify(&closed), (S::UNPROCESSABLE_ENTITY, "DisputeWindowClosed"));
        let body = body_of(&closed);
        assert_eq!(body["businessErrors"][0]["type"], "DisputeWindowClosed");
        assert!(body["message"].as_str().unwrap().contains(&deadline.format("%Y-%m-%d %H:%M UTC").to_string()), "{body}");

        let race = AppError::concurrent("payout 1");
        assert_eq!(classify(&race), (S::CONFLICT, "ConcurrentChange"));
        assert_eq!(body_of(&race)["error"], "Conflict");

        let needs =
            AppError::from(ClientError::ExistsNeedsLinking { external_tenant_id: "t-1".into(), approval_url: "https://x/l/1".into() });
        let body = body_of(&needs);
        assert_eq!(
            (body["type"].as_str(), body["data"]["onboardingLinks"]["url"].as_str()),
            (Some("ClientExistsNeedsLinking"), Some("https://x/l/1"))
        );
        assert_eq!(status_of(&AppError::from(LinkError::RequestExpired)), S::GONE);

        let taken = AppError::from(PeopleError::OperatorExists { email: "ada@platform.test".into() });
        assert_eq!(classify(&taken), (S::CONFLICT, "UserExists"));
        let body = body_of(&taken);
        assert_eq!(body["error"], "Conflict");
        assert!(body["message"].as_str().unwrap().contains("ada@platform.test"), "{body}");
    }

    #[test]
    fn an_internal_error_keeps_its_chain_for_the_log_and_shows_nothing() {
        let io = std::io::Error::other("disk on fire at /var/lib/secret");
        let e = AppError::Internal(InternalError::caused_by("storage", io));
        let AppError::Internal(inner) = &e else { unreachable!() };
        assert_eq!(inner.chain(), "storage: disk on fire at /var/lib/secret");
        let shown = body_of(&e).to_string();
        assert!(!shown.contains("disk") && !shown.contains("storage"), "{shown}");
        assert_eq!(status_of(&e), S::INTERNAL_SERVER_ERROR);
    }
}
