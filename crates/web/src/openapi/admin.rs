//! Operations of the Operator API (`/admin-api/v1`, `api::admin`). Every operation takes
//! the operator token (or an operator's session, added to each by `OperatorSessions` in
//! `mod.rs`); ids that are not UUIDs answer 404 like unknown ones.

use super::schemas::*;

#[utoipa::path(
    post,
    path = "/admin-api/v1/partners",
    tag = "Operator API",
    summary = "Create a referral partner with its first API key",
    request_body = CreatePartnerRequest,
    responses(
        (status = 201, description = "The partner; `apiKey` is shown only here.", body = PartnerCreated),
        (status = 400, description = "Invalid body; every offending field is listed.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_create_partner() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/partners",
    tag = "Operator API",
    summary = "List referral partners",
    responses(
        (status = 200, description = "Every partner.", body = PartnerList),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_list_partners() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/partners/{id}",
    tag = "Operator API",
    summary = "Get a referral partner",
    params(("id" = Uuid, Path, description = "Partner id.")),
    responses(
        (status = 200, description = "The partner.", body = Partner),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_get_partner() {}

#[utoipa::path(
    patch,
    path = "/admin-api/v1/partners/{id}",
    tag = "Operator API",
    summary = "Change a referral partner",
    description = "Only the given fields change. A fee change affects only links created afterwards.",
    params(("id" = Uuid, Path, description = "Partner id.")),
    request_body = UpdatePartnerRequest,
    responses(
        (status = 200, description = "The changed partner.", body = Partner),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_update_partner() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/partners/{id}/api-keys",
    tag = "Operator API",
    summary = "Issue another API key for a partner",
    description = "Existing keys stay valid until revoked.",
    params(("id" = Uuid, Path, description = "Partner id.")),
    responses(
        (status = 201, description = "The new key; `apiKey` is shown only here.", body = IssuedApiKey),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_rotate_key() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/partners/{id}/api-keys",
    tag = "Operator API",
    summary = "List a partner's API keys (prefixes only)",
    params(("id" = Uuid, Path, description = "Partner id.")),
    responses(
        (status = 200, description = "The keys.", body = ApiKeyList),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_list_keys() {}

#[utoipa::path(
    delete,
    path = "/admin-api/v1/partners/{id}/api-keys/{keyId}",
    tag = "Operator API",
    summary = "Revoke a partner's API key",
    params(
        ("id" = Uuid, Path, description = "Partner id."),
        ("keyId" = Uuid, Path, description = "API key id."),
    ),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner or key.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_revoke_key() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/collection-partners",
    tag = "Operator API",
    summary = "Create a collection partner",
    request_body = CollectionPartnerRequest,
    responses(
        (status = 201, description = "The collection partner.", body = CollectionPartner),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_create_collection_partner() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/collection-partners",
    tag = "Operator API",
    summary = "List collection partners",
    responses(
        (status = 200, description = "Every collection partner.", body = CollectionPartnerList),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_list_collection_partners() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/clients",
    tag = "Operator API",
    summary = "Create a client that signed up directly (not via a partner)",
    request_body = DirectClientRequest,
    responses(
        (status = 201, description = "The client; `apiKey` is shown only here.", body = DirectClientCreated),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 409, description = "`ClientExists`: a client with one of these e-mail addresses exists.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_create_client() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/clients/{clientId}/api-key",
    tag = "Operator API",
    summary = "Issue a client API key",
    description = "Replaces the client's previous key, which stops working.",
    params(("clientId" = Uuid, Path, description = "Client id.")),
    responses(
        (status = 201, description = "The new key; `apiKey` is shown only here.", body = ClientApiKey),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown client.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_issue_client_key() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/clients/{clientId}/cases",
    tag = "Operator API",
    summary = "Create a case on a client's behalf (source `operator`)",
    params(("clientId" = Uuid, Path, description = "Client id.")),
    request_body = CreateCaseRequest,
    responses(
        (status = 201, description = "The created case (`creditor` is null).", body = InvoiceDto),
        (status = 400, description = "Invalid body, or properties `CreateCaseRequest` does not list (each named).", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown client.", body = ErrorBody),
        (status = 409, description = "A concurrent request created a case with the same `creditorReference`.", body = ErrorBody),
        (status = 422, description = "`NoPartnerAvailable`, `MissingDebtCollectionContract` or `DuplicateReference`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_create_case() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/cases/{caseIdOrReference}/payments",
    tag = "Operator API",
    summary = "Register a debtor payment",
    description = "Writes the payout, its attribution decision and, when attributed, the partner's earning. A payment larger than what is still owed on the case (its `remainder`: the amount less the live payments) is refused with 422 `PaymentExceedsRemainder` unless the body says `allowOverpayment: true`; then it is booked with `isOverpayment: true` (also in the audit entry). Concurrent payments on one case are checked one after the other. The same `externalId` again answers the first result (200). With an `Idempotency-Key`, the same key and request (case and body) replay the stored response, status and body, including a 422; the same key with another request is a 422 `IdempotencyConflict`; 400, 404 and 409 answers are not stored.",
    params(
        ("caseIdOrReference" = String, Path, description = "Case id or case reference."),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, description = "Makes retries safe (1 to 255 visible ASCII characters); one scope for all operators."),
    ),
    request_body = PaymentRequest,
    responses(
        (status = 201, description = "Registered.", body = PaymentResult),
        (status = 200, description = "Replay: a payment with this `externalId` exists; its result.", body = PaymentResult),
        (status = 400, description = "Invalid body (amount, externalId) or `Idempotency-Key`.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown case.", body = ErrorBody),
        (status = 409, description = "`CaseNotActive`: payments are registered on Active cases only; `ExternalIdReused` with another amount.", body = ErrorBody),
        (status = 422, description = "`PaymentExceedsRemainder` (the message states the remainder with its currency), or `IdempotencyConflict`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_register_payment() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/payments/batch",
    tag = "Operator API",
    summary = "Register up to 10,000 debtor payments at once",
    description = "Each item is decided exactly as `POST /cases/{caseIdOrReference}/payments` would decide it: the same validation, the same refusal above what is still owed unless `allowOverpayment`, the same decision, earning, ledger entries, webhook events and audit entry. A bad item is rejected with the error body the single endpoint would have answered and does not stop the others. `externalId` is required, so a retried batch is safe: an item whose `externalId` is already booked on its case with the same amount is `replayed` (with another amount it is rejected with `ExternalIdReused`); the same holds for a repeated `externalId` within the batch. Items are booked in order, up to 1,000 per transaction; a case's payments are checked one after the other, as single payments are. The body is JSON, or `text/csv` with the header `case,amount,externalId,paidAt` (names matched case-insensitively; an optional fifth column `allowOverpayment` takes `true`, `false` or nothing), one row per payment, fields quoted as in RFC 4180 within a line, blank lines skipped, an empty `paidAt` meaning now; a malformed row rejects its item (its `index` counts the rows after the header). The answer is 200 whatever became of the items.",
    request_body(content(
        (PaymentBatchRequest = "application/json"),
        (String = "text/csv", example = json!("case,amount,externalId,paidAt\nDEB-2026-00001,12.34,bank-8812,2026-03-01T10:00:00Z\n"))
    )),
    responses(
        (status = 200, description = "One result per item, in order.", body = PaymentBatchResult),
        (status = 400, description = "Not a batch: invalid JSON, `payments` missing or not an array, more than 10,000 payments, a property no item may have (each named, e.g. `payments[3].amout`), or a CSV header other than `case,amount,externalId,paidAt`. Nothing was booked.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_register_payment_batch() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/cases/{caseIdOrReference}/attribution",
    tag = "Operator API",
    summary = "Attribution check of any case, with every stored decision",
    params(("caseIdOrReference" = String, Path, description = "Case id or case reference.")),
    responses(
        (status = 200, description = "The check.", body = OperatorAttributionCheck),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown case.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_attribution() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/links",
    tag = "Operator API",
    summary = "List links",
    params(
        ("partnerId" = Option<Uuid>, Query, description = "Only this partner's links."),
        ("clientId" = Option<Uuid>, Query, description = "Only this client's links."),
    ),
    responses(
        (status = 200, description = "The links with their history.", body = LinkList),
        (status = 400, description = "`partnerId` or `clientId` is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_list_links() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/links/{linkId}",
    tag = "Operator API",
    summary = "Get a link with its status history",
    params(("linkId" = Uuid, Path, description = "Link id.")),
    responses(
        (status = 200, description = "The link.", body = Link),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown link.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_get_link() {}

#[utoipa::path(
    delete,
    path = "/admin-api/v1/links/{linkId}",
    tag = "Operator API",
    summary = "Delete a link (audited)",
    params(("linkId" = Uuid, Path, description = "Link id.")),
    request_body(content = Option<LinkChangeRequest>, description = "Optional reason."),
    responses(
        (status = 200, description = "The deleted link.", body = Link),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown link.", body = ErrorBody),
        (status = 409, description = "`IllegalLinkTransition`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_delete_link() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/links/{linkId}/archive",
    tag = "Operator API",
    summary = "Archive a link (audited)",
    params(("linkId" = Uuid, Path, description = "Link id.")),
    request_body(content = Option<LinkChangeRequest>, description = "Optional reason."),
    responses(
        (status = 200, description = "The archived link.", body = Link),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown link.", body = ErrorBody),
        (status = 409, description = "`IllegalLinkTransition`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_archive_link() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/links/{linkId}/unarchive",
    tag = "Operator API",
    summary = "Reactivate an archived link (audited)",
    params(("linkId" = Uuid, Path, description = "Link id.")),
    request_body(content = Option<LinkChangeRequest>, description = "Optional reason."),
    responses(
        (status = 200, description = "The active link.", body = Link),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown link.", body = ErrorBody),
        (status = 409, description = "`IllegalLinkTransition`, `ClientLinkedElsewhere` or `ExternalTenantIdInUse`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_unarchive_link() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/notifications",
    tag = "Operator API",
    summary = "Stored e-mails with their delivery status (latest 200)",
    params(
        ("to" = Option<String>, Query, description = "Recipient address."),
        ("kind" = Option<String>, Query, description = "Notification kind."),
    ),
    responses(
        (status = 200, description = "The notifications.", body = NotificationList),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_notifications() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/fx-rates",
    tag = "Operator API",
    summary = "Load USD exchange rates (JSON, or the ECB reference-rate CSV)",
    description = "JSON gives USD per unit for a date. `text/csv` takes the European Central Bank's daily or historical reference-rate file (`Date, USD, JPY, …` with units per EUR); each rate is converted exactly to USD per unit (`usd_per_eur / ccy_per_eur`, half-even at 8 decimals), EUR included.",
    request_body(content((FxRatesRequest = "application/json"), (String = "text/csv"))),
    responses(
        (status = 200, description = "How many rates were stored.", body = FxRatesLoaded),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_load_rates() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/fx-rates/missing",
    tag = "Operator API",
    summary = "USD rates that figures need and that are not loaded",
    description = "Today's rate of every currency that a figure shown now converts at the current rate (payouts whose rate is not locked yet, cases with a collection partner for their potential revenue) and that has no rate dated on or before today. Reports show those USD figures as null until the rate is loaded; the `refshare_fx_rates_missing` metric counts the same pairs.",
    responses(
        (status = 200, description = "The missing (currency, date) pairs, in order.", body = MissingFxRates),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_missing_rates() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/audit",
    tag = "Operator API",
    summary = "The audit trail",
    description = "Who did what when: every operator action and every state change of links, earnings, invoices and disputes. Oldest first; filters are ANDed.",
    params(
        ("entity" = Option<String>, Query, description = "Entity kind, e.g. `link`, `client`, `case`, `earning`, `payout`, `cp_invoice`, `partner_invoice`, `dispute`, `payment`, `partner` (also its users: `partner.user_added`, `partner.user_removed`), `operator`."),
        ("id" = Option<String>, Query, description = "Entity id."),
        ("actor" = Option<String>, Query, description = "`operator` (the operator token), `operator:<id>:<email>` (a signed-in operator), `email:<address>` (sign-in and sessions), `system`, `cli` (`refshare operator add`), `partner:<id>` or `client:<id>`."),
        ("action" = Option<String>, Query, description = "e.g. `earning.stage_changed`, `dispute.resolved`."),
        ("page" = Option<u32>, Query, description = "1-based page (default 1)."),
        ("pageSize" = Option<u32>, Query, description = "Entries per page (default 100, at most 100)."),
    ),
    responses(
        (status = 200, description = "Audit entries.", body = AuditList),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_audit() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/jobs/expire-link-requests",
    tag = "Operator API",
    summary = "Expire overdue link requests now (and send their e-mails)",
    responses(
        (status = 200, description = "How many requests expired.", body = ExpiredLinkRequests),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_expire_link_requests() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/test-clock",
    tag = "Operator API",
    summary = "The service clock (test environment only)",
    responses(
        (status = 200, description = "Now and the offset from real time.", body = TestClock),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 403, description = "Production environment.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_test_clock() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/test-clock/advance",
    tag = "Operator API",
    summary = "Move the service clock forward (test environment only)",
    description = "Link requests that expire on the way are expired and their e-mails sent.",
    request_body = AdvanceClockRequest,
    responses(
        (status = 200, description = "The new time.", body = TestClock),
        (status = 400, description = "Invalid body, or a move backwards or beyond 3650 days.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 403, description = "Production environment.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_advance_test_clock() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/partners/{id}/users",
    tag = "Operator API",
    summary = "Add a user to a partner and send the invitation e-mail",
    description = "The user starts `invited`. The invitation e-mail (kind `partner_user_invitation`) says they will sign in at `{publicUrl}/login` with this address. The same address may belong to users of other partners, to client users and to operators. Audited as `partner.user_added`.",
    params(("id" = Uuid, Path, description = "Partner id.")),
    request_body = PartnerUserRequest,
    responses(
        (status = 201, description = "The user.", body = PartnerUser),
        (status = 400, description = "Invalid body (each field named), or properties `PartnerUserRequest` does not list.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner.", body = ErrorBody),
        (status = 409, description = "`UserExists`: the partner already has a user with this e-mail (compared case-insensitively).", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_add_partner_user() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/partners/{id}/users",
    tag = "Operator API",
    summary = "List a partner's users",
    description = "Oldest first.",
    params(
        ("id" = Uuid, Path, description = "Partner id."),
        ("page" = Option<u32>, Query, description = "1-based page (default 1)."),
        ("pageSize" = Option<u32>, Query, description = "Users per page (default 100, at most 100)."),
    ),
    responses(
        (status = 200, description = "One page of users.", body = PartnerUserList),
        (status = 400, description = "Invalid `page` or `pageSize`.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_list_partner_users() {}

#[utoipa::path(
    delete,
    path = "/admin-api/v1/partners/{id}/users/{userId}",
    tag = "Operator API",
    summary = "Remove a partner's user",
    description = "The user is deleted (the address can be invited again); audited as `partner.user_removed`. Another partner's user is 404.",
    params(
        ("id" = Uuid, Path, description = "Partner id."),
        ("userId" = Uuid, Path, description = "User id."),
    ),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner, or no such user at this partner.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_remove_partner_user() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/operators",
    tag = "Operator API",
    summary = "Add an operator",
    description = "The operator starts `invited`; `role` defaults to `viewer` (least privilege). No e-mail is sent. Audited as `operator.created`. The first operator of a fresh install is added with `refshare operator add`.",
    request_body = OperatorRequest,
    responses(
        (status = 201, description = "The operator.", body = OperatorPerson),
        (status = 400, description = "Invalid body (each field named), or properties `OperatorRequest` does not list.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 409, description = "`UserExists`: an operator with this e-mail exists (compared case-insensitively).", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_add_operator() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/operators",
    tag = "Operator API",
    summary = "List operators",
    description = "Oldest first.",
    params(
        ("page" = Option<u32>, Query, description = "1-based page (default 1)."),
        ("pageSize" = Option<u32>, Query, description = "Operators per page (default 100, at most 100)."),
    ),
    responses(
        (status = 200, description = "One page of operators.", body = OperatorList),
        (status = 400, description = "Invalid `page` or `pageSize`.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_list_operators() {}

#[utoipa::path(
    patch,
    path = "/admin-api/v1/partners/{id}/users/{userId}",
    tag = "Operator API",
    summary = "Change a partner user's role, or disable / re-enable them",
    description = "Only the given properties change. `status` `disabled` stops the user signing in, and a session acting as them loses access at its next request; `active` re-enables a disabled user as `active` if they ever signed in, else `invited` (on an enabled user it changes nothing). `invited` cannot be set. Audited as `partner.user_changed` (with the old and new role and status) when something changed. Another partner's user is 404.",
    params(
        ("id" = Uuid, Path, description = "Partner id."),
        ("userId" = Uuid, Path, description = "User id."),
    ),
    request_body = PersonChangeRequest,
    responses(
        (status = 200, description = "The user as it is now.", body = PartnerUser),
        (status = 400, description = "`role` or `status` not one of the accepted words, or properties `PersonChangeRequest` does not list.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown partner, or no such user at this partner.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_change_partner_user() {}

#[utoipa::path(
    patch,
    path = "/admin-api/v1/operators/{operatorId}",
    tag = "Operator API",
    summary = "Change an operator's role, or disable / re-enable them",
    description = "Only the given properties change; the same status rule as for partner users. A disabled operator's session loses access to this API at its next request. Audited as `operator.changed` when something changed. The operator token is not an operator and is unaffected.",
    params(("operatorId" = Uuid, Path, description = "Operator id.")),
    request_body = PersonChangeRequest,
    responses(
        (status = 200, description = "The operator as it is now.", body = OperatorPerson),
        (status = 400, description = "`role` or `status` not one of the accepted words, or properties `PersonChangeRequest` does not list.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "Unknown operator.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_change_operator() {}
