//! Operations of the Customer API (`/customer-api`, `api::customer`). Every operation takes
//! either the client's own API key or a bearer token minted by its partner.

use super::schemas::*;

#[utoipa::path(
    get,
    path = "/customer-api/me",
    tag = "Customer API",
    summary = "The calling client's company profile",
    responses(
        (status = 200, description = "The profile.", body = CustomerProfile),
        (status = 401, description = "Missing, unknown or expired credentials.", body = ErrorBody),
    ),
    security(("XApiKey" = []), ("ClientBearer" = []))
)]
pub(super) fn customer_me() {}

#[utoipa::path(
    post,
    path = "/customer-api/cases",
    tag = "Customer API",
    summary = "Create a case",
    description = "The case's source is `partner_api` with a partner-minted token and `customer_api` with the client's key. With an `Idempotency-Key`, the same key and body replay the stored response (including a 422), and the same key with another body is a 422 `IdempotencyConflict`; 400s are not stored.",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, description = "Makes retries safe (1 to 255 visible ASCII characters)."),
    ),
    request_body = CreateCaseRequest,
    responses(
        (status = 200, description = "The created case.", body = InvoiceDto),
        (status = 400, description = "Invalid body or `Idempotency-Key`; every offending field is listed.", body = ErrorBody),
        (status = 401, description = "Missing, unknown or expired credentials.", body = ErrorBody),
        (status = 409, description = "A concurrent request created a case with the same `creditorReference`.", body = ErrorBody),
        (status = 422, description = "A business rule refused the case: `NoPartnerAvailable`, `MissingDebtCollectionContract`, `DuplicateReference` or `IdempotencyConflict`.", body = ErrorBody),
    ),
    security(("XApiKey" = []), ("ClientBearer" = []))
)]
pub(super) fn customer_create_case() {}

#[utoipa::path(
    get,
    path = "/customer-api/cases",
    tag = "Customer API",
    summary = "List the client's cases",
    params(
        ("Page" = Option<u32>, Query, minimum = 1, description = "1-based page (default 1)."),
        ("PageSize" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Default 10, at most 100."),
        ("Ids" = Option<Vec<Uuid>>, Query, style = Form, explode, description = "Case ids; repeat the key or separate with commas."),
        ("Statuses" = Option<Vec<Lifecycle>>, Query, style = Form, explode, description = "Lifecycles; repeat the key or separate with commas."),
        ("Sort" = Option<String>, Query, description = "`field:dir` with field `GrossAmount` or `DateCreated` and dir `asc` or `desc`."),
    ),
    responses(
        (status = 200, description = "A page of cases.", body = CustomerCaseList),
        (status = 400, description = "Invalid query parameter.", body = ErrorBody),
        (status = 401, description = "Missing, unknown or expired credentials.", body = ErrorBody),
    ),
    security(("XApiKey" = []), ("ClientBearer" = []))
)]
pub(super) fn customer_list_cases() {}

#[utoipa::path(
    get,
    path = "/customer-api/cases/{id}",
    tag = "Customer API",
    summary = "Get a case by id",
    params(("id" = Uuid, Path, description = "Case id.")),
    responses(
        (status = 200, description = "The case.", body = InvoiceDto),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing, unknown or expired credentials.", body = ErrorBody),
        (status = 404, description = "No such case for this client.", body = ErrorBody),
    ),
    security(("XApiKey" = []), ("ClientBearer" = []))
)]
pub(super) fn customer_get_case() {}

#[utoipa::path(
    get,
    path = "/customer-api/cases/case-reference/{caseReference}",
    tag = "Customer API",
    summary = "Get a case by its case reference",
    params(("caseReference" = String, Path, description = "The case reference.")),
    responses(
        (status = 200, description = "The case.", body = InvoiceDto),
        (status = 401, description = "Missing, unknown or expired credentials.", body = ErrorBody),
        (status = 404, description = "No such case for this client.", body = ErrorBody),
    ),
    security(("XApiKey" = []), ("ClientBearer" = []))
)]
pub(super) fn customer_case_by_reference() {}

#[utoipa::path(
    get,
    path = "/customer-api/cases/by-creditor-reference/{creditorReference}",
    tag = "Customer API",
    summary = "Get a case by the client's own reference",
    params(("creditorReference" = String, Path, description = "The client's reference for the case.")),
    responses(
        (status = 200, description = "The case.", body = InvoiceDto),
        (status = 401, description = "Missing, unknown or expired credentials.", body = ErrorBody),
        (status = 404, description = "No such case for this client.", body = ErrorBody),
    ),
    security(("XApiKey" = []), ("ClientBearer" = []))
)]
pub(super) fn customer_case_by_creditor_reference() {}
