//! The use cases' errors, as typed facts. `AppError` names the area; each area has its own
//! enum whose variants carry what the caller needs to know (`DisputeError::WindowClosed
//! { deadline, .. }`). The web layer maps every variant to a status and the documented body
//! in one table (`web/src/error.rs`); internal errors keep their source chain for the log
//! and are never shown.

use std::fmt;

use refshare_core::link::LinkStatus;
use refshare_core::Instant;
use refshare_store::StoreError;
use uuid::Uuid;

/// One field's problem, for 400 responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is invalid; the message names every field and its problem.
    #[error("The request is invalid: {}", fields_text(.0))]
    Validation(Vec<FieldError>),
    #[error("unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Revenue(#[from] RevenueError),
    #[error(transparent)]
    Dispute(#[from] DisputeError),
    #[error(transparent)]
    Fx(#[from] FxError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    People(#[from] PeopleError),
    #[error(transparent)]
    Signin(#[from] SigninError),
    /// The same `Idempotency-Key` came with another request body.
    #[error("This Idempotency-Key was already used with a different request body.")]
    IdempotencyConflict,
    /// A transition lost a race with another request that changed `what` first; nothing
    /// was applied (the transaction rolls back).
    #[error("{what} changed while this request ran; nothing was applied. Read it again and retry.")]
    ConcurrentChange { what: String },
    /// A uniqueness rule refused a write that raced with another request.
    #[error("The request conflicts with data written at the same time; retry it.")]
    WriteConflict { constraint: String },
    #[error("internal error: {0}")]
    Internal(#[source] InternalError),
}

impl AppError {
    pub fn bad_field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError { field: field.into(), message: message.into() }])
    }

    /// See [`AppError::ConcurrentChange`].
    pub fn concurrent(what: impl Into<String>) -> AppError {
        AppError::ConcurrentChange { what: what.into() }
    }

    /// An internal failure described in words (an invariant the data broke).
    pub fn internal(context: impl Into<String>) -> AppError {
        AppError::Internal(InternalError::from(context.into()))
    }
}

/// `field: message` of each field error, joined by "; ".
fn fields_text(fields: &[FieldError]) -> String {
    fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
}

/// An internal failure: what went wrong, and the error that caused it (logged with its
/// whole source chain, never shown to the caller).
#[derive(Debug)]
pub struct InternalError {
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl InternalError {
    pub fn caused_by(context: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> InternalError {
        InternalError { context: context.into(), source: Some(Box::new(source)) }
    }

    /// The context and every cause, outermost first, joined by ": ".
    pub fn chain(&self) -> String {
        error_chain(self)
    }
}

/// An error and its sources, outermost first, joined by ": " (a source whose text the
/// chain already holds is skipped), at most 1,000 characters: for logs and stored reasons.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let m = s.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        next = s.source();
    }
    out.chars().take(1000).collect()
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl std::error::Error for InternalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<String> for InternalError {
    fn from(context: String) -> Self {
        InternalError { context, source: None }
    }
}

impl From<&str> for InternalError {
    fn from(context: &str) -> Self {
        InternalError { context: context.into(), source: None }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(constraint) => {
                // A race lost to a concurrent request; the constraint name stays in the log.
                tracing::info!(%constraint, "write refused by a uniqueness rule");
                AppError::WriteConflict { constraint }
            }
            other => AppError::Internal(InternalError::caused_by("storage", other)),
        }
    }
}

/// Creating, withdrawing and deleting clients (SPEC §4).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// 409 of `POST /clients`: the company is linked already (to this partner under
    /// `linked_as`, or to another partner).
    #[error("{}", match linked_as {
        Some(t) => format!("This company is already linked to you under externalTenantId `{t}`."),
        None => "This company is already linked to another referral partner.".to_string(),
    })]
    AlreadyLinked { external_tenant_id: String, linked_as: Option<String> },
    /// 409 of `POST /clients`: the company exists; a link request was sent to it.
    #[error("This company already has an account. We sent it a request to link it to you; it becomes linked when the company approves.")]
    ExistsNeedsLinking { external_tenant_id: String, approval_url: String },
    #[error("The client has not completed onboarding; send the onboarding URL again: {onboarding_url}")]
    OnboardingIncomplete { onboarding_url: String },
    #[error("Only clients you created (attributed) can be withdrawn.")]
    NotAttributed,
    #[error("The client already completed onboarding and cannot be withdrawn.")]
    OnboardingComplete,
    #[error("A case of this client has moved past PendingContractSigning.")]
    CasesStarted,
    #[error("{}", blockers.join(" "))]
    NotDeletable { blockers: Vec<String> },
    #[error("A client with one of these e-mail addresses already exists.")]
    EmailInUse,
}

/// Link requests, onboarding links and operator link changes (SPEC §2, §4.5).
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("This link request has expired. Ask the partner to send a new one.")]
    RequestExpired,
    #[error("This link request was already approved.")]
    RequestApproved,
    #[error("This link request was declined.")]
    RequestDeclined,
    #[error("Your account is already linked to a partner; this request can no longer be approved.")]
    ClientAlreadyLinked,
    #[error("The partner already uses this identifier for another account.")]
    TenantIdTakenForRequest,
    #[error("This onboarding link is no longer valid.")]
    OnboardingLinkInvalid,
    /// Consent (approve, decline, sign) came from a session that is not a user of the
    /// client (SPEC §11); nothing changed.
    #[error("Only a signed-in user of {company_name} can do this. Sign in with the address of one of its users.")]
    NotClientUser { company_name: String },
    #[error("A {} link cannot become {}.", from.as_str(), to.as_str())]
    IllegalTransition { from: LinkStatus, to: LinkStatus },
    #[error("The client has another active link; archive it first.")]
    ClientLinkedElsewhere,
    #[error("The partner uses this externalTenantId on another active link.")]
    ExternalTenantIdInUse,
}

/// Creating cases (SPEC §3).
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("A case with creditorReference `{creditor_reference}` already exists for this client.")]
    DuplicateReference { creditor_reference: String },
    #[error("No collection partner covers debtor country {country}.")]
    NoPartnerAvailable { country: String },
    #[error("The client has not signed the debt collection agreement yet; pass allowPendingContracts=true to create the case as PendingContractSigning.")]
    MissingContract,
}

/// Registering and reversing payments.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("externalId `{external_id}` was already registered on this case with a different amount.")]
    ExternalIdReused { external_id: String },
    #[error("Payments can only be registered on Active cases; {reference} is {lifecycle}.")]
    CaseNotActive { reference: String, lifecycle: &'static str },
    /// The payment is larger than what is still owed (amounts formatted with currency).
    #[error("The payment of {amount} exceeds what is still owed on {case_reference}: {remainder}. Send \"allowOverpayment\": true to book it anyway.")]
    ExceedsRemainder { case_reference: String, amount: String, remainder: String, remainder_minor: i64 },
    #[error("Payment {payment_id} was already reversed at {}.", at.format("%Y-%m-%d %H:%M UTC"))]
    AlreadyReversed { payment_id: Uuid, at: Instant },
}

/// The operator events of SPEC §6: commissions, CP invoicing, partner invoices.
#[derive(Debug, thiserror::Error)]
pub enum RevenueError {
    #[error("The commission on payout {payout_id} is already paid.")]
    CommissionAlreadyPaid { payout_id: Uuid },
    #[error("The payment behind payout {payout_id} was reversed; no commission is due on it.")]
    PaymentReversed { payout_id: Uuid },
    #[error("Period {period} ends at {}; it can be invoiced after that.", ends_at.format("%Y-%m-%d %H:%M UTC"))]
    PeriodNotEnded { period: String, ends_at: Instant },
    #[error("CP invoice {invoice_id} is {status}; only an issued invoice can be paid.")]
    CpInvoiceNotOpen { invoice_id: Uuid, status: &'static str },
    #[error("Partner invoice {invoice_id} is already {status}.")]
    PartnerInvoiceNotOpen { invoice_id: Uuid, status: String },
    #[error("Earning {earning_id} is {}; only earnings ready to invoice can be invoiced.", stage.unwrap_or("reversed (void)"))]
    EarningNotReady { earning_id: Uuid, stage: Option<&'static str> },
    #[error("This partner has no earnings ready to invoice.")]
    NothingToInvoice,
    #[error("What is ready to invoice nets to {} USD after pending clawbacks; nothing is invoiced until it is positive.", refshare_core::money::format_minor(*net_usd_minor, 2))]
    NetNotPositive { net_usd_minor: i64 },
}

/// Filing and resolving disputes (SPEC §7).
#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    #[error("Disputes on case {case_reference} were accepted until {} ({window_days} days after the end of the reporting period of its {payout}).", deadline.format("%Y-%m-%d %H:%M UTC"))]
    WindowClosed { case_reference: String, deadline: Instant, window_days: i64, payout: String },
    #[error("You already have an open dispute on case {case_reference}; it must be resolved before filing another.")]
    AlreadyOpen { case_reference: String },
    #[error("Dispute {dispute_id} was already resolved as {status} and cannot be resolved again.")]
    AlreadyResolved { dispute_id: Uuid, status: String },
    #[error("Dispute {dispute_id} was resolved by another request.")]
    ResolvedConcurrently { dispute_id: Uuid },
    #[error("No earning of this partner is held by the dispute, so there is no amount to adjust; resolve it as upheld or rejected.")]
    NothingToAdjust,
    #[error("The payment behind the disputed earning was reversed; there is nothing to adjust. Resolve the dispute as rejected.")]
    PaymentReversed,
    #[error("The partner never had a link with this client; an attribution correction needs one.")]
    NoLinkToCorrect,
    #[error("Every payout of this case already earns (for this partner or another) or was reversed; resolve the dispute as adjusted or rejected.")]
    NothingToCorrect,
}

/// Exchange rates.
#[derive(Debug, thiserror::Error)]
pub enum FxError {
    #[error("No USD exchange rate for {currency} on or before {date}; load one through POST /admin-api/v1/fx-rates.")]
    MissingRate { currency: String, date: String },
}

/// The ledger's proofs.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Reconciliation found the ledger and the records disagree.
    #[error("{detail}")]
    Discrepancy { detail: String },
}

/// Partner users and operators (issue 8).
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// The partner already has a user with this e-mail (compared case-insensitively).
    #[error("This partner already has a user with e-mail {email}.")]
    PartnerUserExists { email: String },
    /// An operator with this e-mail exists (compared case-insensitively).
    #[error("An operator with e-mail {email} already exists.")]
    OperatorExists { email: String },
    /// A signed-in operator whose role may only read tried to change something.
    #[error("Your operator role `{role}` may read but not change anything.")]
    OperatorMayNotChange { role: refshare_core::people::OperatorRole },
    /// A signed-in partner user's role does not allow the action.
    #[error("Your role `{role}` at this partner may not {action}.")]
    PartnerRoleForbids { role: refshare_core::people::PartnerRole, action: &'static str },
    /// A partner user tried to remove their own account from the team (another admin
    /// removes it, so a partner never loses its last admin by accident).
    #[error("You cannot remove yourself from the team; ask another admin.")]
    CannotRemoveSelf,
}

/// Passwordless sign-in and the hosted forms' CSRF check (issue 8).
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    /// The link's secret is unknown, used or expired (one answer for all three).
    #[error("This sign-in link is invalid, was already used or has expired. Request a new one.")]
    LinkInvalid,
    /// The code does not match a live sign-in mail of the address (or too many wrong codes).
    #[error("The code is wrong or has expired. Use the code of the latest sign-in e-mail, or request a new one.")]
    CodeInvalid,
    /// The per-IP limit of sign-in requests is reached.
    #[error("Too many sign-in requests from your network. Wait a minute and try again.")]
    TooManyRequests,
    /// A state-changing form came without its CSRF token (or with another's).
    #[error("The form expired. Reload the page and try again.")]
    CsrfRefused,
    /// A change to the Operator API authenticated by the session cookie came without
    /// `Content-Type: application/json` (or `text/csv`), a type no cross-site form or
    /// simple request can send.
    #[error("A change made with the session cookie must be sent with Content-Type: application/json (or text/csv for the ECB file and payment batches).")]
    SessionNeedsJson,
}
