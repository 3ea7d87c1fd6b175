//! Operations and schemas of the operator's money routes (`api::money`): reversals, the
//! commission paid on a payout, the CP invoicing run and its payment, partner invoices,
//! and reconciliation.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::schemas::ErrorBody;

/// `DELETE /payments/{id}` body (optional).
#[derive(ToSchema)]
pub struct ReversalRequest {
    /// Shown to the partner with the voided earning or the clawback.
    pub reason: Option<String>,
}

/// An earning touched by a reversal.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ReversedEarning {
    pub earning_id: Uuid,
    pub partner_id: Uuid,
    /// `payout`, `correction`, `adjustment` or `clawback`.
    pub kind: String,
    /// Case currency, exact decimal; negative for a clawback.
    pub amount: f64,
    pub currency: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ReversalResult {
    pub reversal_id: Uuid,
    pub payment_id: Uuid,
    pub payout_id: Uuid,
    pub reason: String,
    pub reversed_at: DateTime<Utc>,
    /// Earnings not yet invoiced: voided.
    pub voided_earnings: Vec<ReversedEarning>,
    /// Earnings already invoiced: a clawback each, deducted from the next partner invoice.
    pub clawbacks: Vec<ReversedEarning>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CommissionPaid {
    pub payout_id: Uuid,
    /// `Paid`.
    pub commission_payment_status: String,
    #[schema(required = true)]
    pub commission_paid_at: Option<DateTime<Utc>>,
    /// Date of the USD rate locked on the payout's earnings.
    #[schema(required = true)]
    pub fx_rate_date: Option<String>,
    /// USD per unit of the case currency, 8 decimals.
    #[schema(required = true)]
    pub usd_per_unit: Option<f64>,
}

#[derive(ToSchema)]
pub struct InvoicingRunRequest {
    /// `YYYY-MM`; the period must have ended.
    pub period: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CpInvoice {
    pub id: Uuid,
    pub collection_partner_id: Uuid,
    pub period: String,
    /// Sum of the platform fees of its payouts, exact decimal.
    pub amount: f64,
    pub currency: String,
    /// `InvoiceIssued` or `PaymentReceived`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// Issue date plus the payment terms (`REFSHARE_PAYMENT_TERMS_DAYS` business days).
    #[schema(required = true)]
    pub due_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub paid_at: Option<DateTime<Utc>>,
    pub payout_ids: Vec<Uuid>,
}

#[derive(ToSchema)]
pub struct InvoicingRun {
    pub period: String,
    /// One per collection partner and currency; the same invoices on a re-run.
    pub invoices: Vec<CpInvoice>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerInvoiceRequest {
    pub partner_id: Uuid,
    /// Earnings to invoice; all that are ready when left out. Pending clawbacks are always
    /// included.
    pub earning_ids: Option<Vec<Uuid>>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerInvoice {
    pub id: Uuid,
    pub partner_id: Uuid,
    /// USD at the rates locked when the commissions were paid, clawbacks deducted.
    pub amount: f64,
    /// `USD`.
    pub currency: String,
    /// `Invoiced` or `Paid`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// Issue date plus the payment terms (`REFSHARE_PAYMENT_TERMS_DAYS` business days).
    #[schema(required = true)]
    pub due_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub paid_at: Option<DateTime<Utc>>,
    pub earning_ids: Vec<Uuid>,
}

#[derive(ToSchema)]
pub struct ReconcileResult {
    /// Always `true` on 200.
    pub ok: bool,
    /// Number of ledger entries.
    pub entries: i64,
    /// Number of earnings checked.
    pub earnings: i64,
    /// Number of partners whose reporting summary was checked.
    pub partners: i64,
}

#[utoipa::path(
    delete,
    path = "/admin-api/v1/payments/{id}",
    tag = "Operator API",
    summary = "Reverse a payment",
    description = "Records a reversal. Earnings not yet invoiced by the partner are voided; invoiced ones get a clawback deducted from the partner's next invoice. The payout's commission becomes `Credited`.",
    params(("id" = String, Path, description = "Payment id.")),
    request_body(content = Option<ReversalRequest>, description = "Optional reason."),
    responses(
        (status = 200, description = "What the reversal did.", body = ReversalResult),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown payment.", body = ErrorBody),
        (status = 409, description = "`AlreadyReversed`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_reverse_payment() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/payouts/{id}/commission-paid",
    tag = "Operator API",
    summary = "The collection partner paid the commission on a payout",
    description = "`Unpaid → Paid`; the USD rate of the day (latest on or before it) is locked on the payout's earnings, which stop being estimates.",
    params(("id" = String, Path, description = "Payout id.")),
    responses(
        (status = 200, description = "The payout's commission status and locked rate.", body = CommissionPaid),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown payout.", body = ErrorBody),
        (status = 409, description = "`CommissionAlreadyPaid` or `PaymentReversed`.", body = ErrorBody),
        (status = 422, description = "`MissingFxRate`: no USD rate for the currency on or before today.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_commission_paid() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/invoicing/collection-partners/run",
    tag = "Operator API",
    summary = "Run the monthly collection-partner invoicing",
    description = "One invoice per collection partner and currency for every payout whose commission was paid before the period ended and that no invoice bills yet. Runs by itself on the 8th for the previous month; a period runs once and re-running returns the same invoices.",
    request_body = InvoicingRunRequest,
    responses(
        (status = 200, description = "The period's invoices.", body = InvoicingRun),
        (status = 400, description = "`period` is not `YYYY-MM`.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 422, description = "`PeriodNotEnded`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_run_cp_invoicing() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/cp-invoices/{id}/paid",
    tag = "Operator API",
    summary = "The collection partner paid an invoice",
    params(("id" = String, Path, description = "CP invoice id.")),
    responses(
        (status = 200, description = "The invoice, `PaymentReceived`.", body = CpInvoice),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown invoice.", body = ErrorBody),
        (status = 409, description = "`InvoiceNotOpen`: already paid.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_cp_invoice_paid() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/partner-invoices",
    tag = "Operator API",
    summary = "Create a partner's invoice to the platform",
    request_body = PartnerInvoiceRequest,
    responses(
        (status = 201, description = "The invoice.", body = PartnerInvoice),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner, or an earning that is not this partner's.", body = ErrorBody),
        (status = 422, description = "`EarningNotReady` or `NothingToInvoice`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_create_partner_invoice() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/partner-invoices/{id}/paid",
    tag = "Operator API",
    summary = "The platform paid a partner's invoice",
    params(("id" = String, Path, description = "Partner invoice id.")),
    responses(
        (status = 200, description = "The invoice, `Paid`; its earnings are `Paid`.", body = PartnerInvoice),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown invoice.", body = ErrorBody),
        (status = 409, description = "`InvoiceNotOpen`: already paid.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_partner_invoice_paid() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/reconcile",
    tag = "Operator API",
    summary = "Reconcile the ledger, earnings and reporting",
    description = "Proves that every earning's ledger holding is exactly its amount in its current stage, that each partner's balances per stage and currency equal the reporting rows, and that the reporting summary equals its rows. Also `refshare reconcile` on the command line.",
    responses(
        (status = 200, description = "Everything agrees to the cent.", body = ReconcileResult),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 409, description = "`LedgerDiscrepancy`, naming the first one.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_reconcile() {}
