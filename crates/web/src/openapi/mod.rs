//! The project's own OpenAPI 3.1 document, generated from code with `utoipa`.
//!
//! Every route of the router is declared here once, on a private documentation function
//! (`referral`, `customer`, `admin`, `pages`), with its full path, tag, credentials,
//! parameters, body and every status the handler can answer. The bodies are described by
//! the schema types in `schemas`. `tests/openapi.rs` compares the documented operations
//! with the `.route(...)` calls of the router source, both ways, so an undocumented route
//! fails the tests.
//!
//! The document is built once and served from memory.

#![allow(dead_code)]

mod admin;
mod attention;
mod customer;
mod dashboard;
mod dashboard_check;
mod disputes;
mod money;
mod pages;
mod referral;
mod schemas;
mod signin;
mod webhooks;

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, ResponseBuilder, Schema, Type};
use utoipa::{Modify, OpenApi};

/// Base paths of the credentialed JSON APIs.
const API_BASES: [&str; 3] = ["/referral-api/", "/customer-api/", "/admin-api/v1/"];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "refshare",
        description = "Referral-partner revenue sharing. One server serves the Referral Partner API (`/referral-api`, wire-compatible with Debitura's Referral Partner API v1), the Customer API (`/customer-api`), the Operator API (`/admin-api/v1`), the hosted client pages and the service endpoints. JSON is camelCase (PascalCase property names bind too: only the first letter of each name is folded, so `ExternalTenantId` binds but `externaltenantid` does not), query parameters are PascalCase (names matched case-insensitively), and every JSON error has the body `{error, message, businessErrors:[{type, message, solutionUrl}]}`. Text never holds control characters (U+0000 to U+001F; tab and line breaks only in free-text properties such as `comments` or `reason`): 400 naming the field. Numbers are plain decimals (no exponent form); amounts are at most 10^13 minor units. Unknown or missing credentials answer 401 on every API endpoint; another tenant's object answers 404.",
        license(name = "MIT")
    ),
    paths(
        referral::referral_create_client,
        referral::referral_list_clients,
        referral::referral_get_client,
        referral::referral_delete_client,
        referral::referral_withdraw_client,
        referral::referral_is_deletable,
        referral::referral_token,
        referral::referral_me,
        referral::referral_list_cases,
        referral::referral_get_case,
        referral::referral_transactions,
        referral::referral_filter_options,
        referral::referral_attribution,
        attention::referral_attention,
        attention::referral_client_timeline,
        webhooks::referral_list_webhooks,
        webhooks::referral_create_webhook,
        webhooks::referral_get_webhook,
        webhooks::referral_update_webhook,
        webhooks::referral_delete_webhook,
        webhooks::referral_test_webhook,
        webhooks::referral_webhook_deliveries,
        customer::customer_me,
        customer::customer_create_case,
        customer::customer_list_cases,
        customer::customer_get_case,
        customer::customer_case_by_reference,
        customer::customer_case_by_creditor_reference,
        admin::admin_create_partner,
        admin::admin_list_partners,
        admin::admin_get_partner,
        admin::admin_update_partner,
        admin::admin_rotate_key,
        admin::admin_list_keys,
        admin::admin_revoke_key,
        admin::admin_add_partner_user,
        admin::admin_list_partner_users,
        admin::admin_remove_partner_user,
        admin::admin_add_operator,
        admin::admin_list_operators,
        admin::admin_change_partner_user,
        admin::admin_change_operator,
        admin::admin_create_collection_partner,
        admin::admin_list_collection_partners,
        admin::admin_create_client,
        admin::admin_issue_client_key,
        admin::admin_create_case,
        admin::admin_register_payment,
        admin::admin_register_payment_batch,
        admin::admin_attribution,
        admin::admin_list_links,
        admin::admin_get_link,
        admin::admin_delete_link,
        admin::admin_archive_link,
        admin::admin_unarchive_link,
        admin::admin_notifications,
        webhooks::admin_webhooks,
        webhooks::admin_webhook_deliveries,
        admin::admin_load_rates,
        admin::admin_missing_rates,
        admin::admin_audit,
        admin::admin_expire_link_requests,
        admin::admin_test_clock,
        admin::admin_advance_test_clock,
        money::admin_reverse_payment,
        money::admin_commission_paid,
        money::admin_run_cp_invoicing,
        money::admin_cp_invoice_paid,
        money::admin_create_partner_invoice,
        money::admin_partner_invoice_paid,
        money::admin_reconcile,
        disputes::referral_file_dispute,
        disputes::referral_list_disputes,
        disputes::referral_get_dispute,
        disputes::referral_statement,
        disputes::admin_list_disputes,
        disputes::admin_get_dispute,
        disputes::admin_resolve_dispute,
        pages::onboarding_show,
        pages::onboarding_sign,
        pages::onboarding_signin,
        pages::agreement_download,
        pages::approval_show,
        pages::approval_decide,
        pages::approval_signin,
        signin::login_show,
        signin::login_request,
        signin::login_confirm_page,
        signin::login_confirm,
        signin::login_code,
        signin::account,
        signin::account_choose,
        signin::logout,
        dashboard::overview,
        dashboard::clients,
        dashboard::clients_csv,
        attention::dashboard_client_timeline,
        dashboard::cases,
        dashboard::cases_csv,
        dashboard::earnings,
        dashboard::earnings_csv,
        dashboard_check::dashboard_check_lookup,
        dashboard_check::dashboard_case_check,
        dashboard_check::dashboard_disputes,
        dashboard_check::dashboard_dispute_file,
        dashboard_check::dashboard_dispute,
        dashboard_check::dashboard_statements,
        dashboard_check::dashboard_statement,
        dashboard::team,
        dashboard::team_invite,
        dashboard::team_remove,
        dashboard::api_keys,
        dashboard::api_keys_issue,
        dashboard::api_keys_revoke,
        dashboard::settings,
        dashboard::settings_save,
        dashboard::webhooks,
        dashboard::webhooks_create,
        dashboard::webhooks_test,
        dashboard::webhook_log,
        dashboard::webhook_delete,
        pages::healthz,
        pages::openapi_json,
        pages::metrics,
        pages::dev_mail,
    ),
    components(responses(schemas::InternalError, schemas::PayloadTooLarge)),
    modifiers(&SecuritySchemes, &CommonResponses, &OptionalBodies, &OperatorSessions),
    tags(
        (name = "Referral Partner API", description = "`/referral-api`: for referral partners, authenticated with the partner's `XApiKey`."),
        (name = "Customer API", description = "`/customer-api`: a client's cases, authenticated with the client's `XApiKey` or a bearer token minted by its partner through `POST /referral-api/oauth/token`."),
        (name = "Operator API", description = "`/admin-api/v1`: the platform operator, authenticated with the operator bearer token (every right) or, without an `Authorization` header, the session cookie of a signed-in operator (an `admin` may do everything, a `viewer` only GET: 403 `RoleForbids`; a session's change must be sent as `application/json`, or `text/csv` for the ECB file and payment batches, else 403 `CsrfRefused`). Bodies refuse properties they do not know (400 naming each), except the case object of operator case creation, which keeps them."),
        (name = "Hosted pages", description = "Partner-branded HTML pages for clients: onboarding with agreement signing, and link approval. The URL shows the page; signing, approving and declining need a session of a user of that client, which the page's own sign-in form starts; forms work without JavaScript. Also the platform's sign-in by e-mail (`/login`) and the session pages (`/account`, `/account/choose`, `/logout`), whose credential is the session cookie."),
        (name = "Partner Dashboard", description = "`/dashboard`: HTML pages and CSV exports for the signed-in users of a referral partner (the session cookie of a partner user; see `/login`). Only the user's own partner is shown."),
        (name = "Service", description = "Health, metrics, this document, and the test environment's outbox (`/dev/mail`)."),
    )
)]
struct ApiDoc;

/// The credentials the operations refer to.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "XApiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "XApiKey",
                "API key in the `XApiKey` header: the partner's key on `/referral-api`, the client's own key on `/customer-api`.",
            ))),
        );
        components.add_security_scheme(
            "ClientBearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "`Authorization: Bearer <accessToken>` minted by the client's partner with `POST /referral-api/oauth/token` (valid 30 minutes).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "MetricsBearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`Authorization: Bearer <REFSHARE_METRICS_TOKEN>`, required only when that setting is given."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "OperatorBearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`Authorization: Bearer <operator token>` (`REFSHARE_ADMIN_TOKEN`)."))
                    .build(),
            ),
        );
    }
}

/// Every Operator API operation also takes an operator's session (the `OperatorSession`
/// cookie), and every one that is not a GET answers 403 to a session that may not make it.
struct OperatorSessions;

impl Modify for OperatorSessions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "OperatorSession",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "refshare_session",
                "The session cookie of a signed-in operator (`__Host-refshare_session` in `production`), acting as that operator (chosen on `/account`, or its only account). Used only when no `Authorization` header is sent.",
            ))),
        );
        let forbidden = RefOr::T(
            ResponseBuilder::new()
                .description("With a session only: `RoleForbids` (a `viewer` changes nothing), or `CsrfRefused` (a change not sent as `application/json` or `text/csv`). Nothing was changed.")
                .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
                .build(),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/admin-api/v1/") {
                continue;
            }
            let session = || SecurityRequirement::new("OperatorSession", Vec::<String>::new());
            if let Some(op) = item.get.as_mut() {
                op.security.get_or_insert_with(Vec::new).push(session());
            }
            for op in [item.put.as_mut(), item.post.as_mut(), item.delete.as_mut(), item.patch.as_mut()].into_iter().flatten() {
                op.security.get_or_insert_with(Vec::new).push(session());
                op.responses.responses.entry("403".into()).or_insert_with(|| forbidden.clone());
            }
        }
    }
}

/// Statuses every operation of a kind can answer, added here rather than on each
/// operation: 500 (the error body, or an HTML page on the hosted pages) and, where a body
/// is read, 413 for bodies over [`crate::MAX_BODY_BYTES`].
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let text = |description: &str, content_type: &str| {
            let schema = ObjectBuilder::new().schema_type(Type::String).build();
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(content_type, ContentBuilder::new().schema(Some(schema)).build())
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = API_BASES.iter().any(|b| path.starts_with(b));
            let page = path.starts_with("/onboarding/") || path.starts_with("/link-requests/");
            for op in operations(item) {
                let responses = &mut op.responses.responses;
                if api {
                    responses.entry("500".into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name("InternalError")));
                } else if page {
                    responses.entry("500".into()).or_insert_with(|| text("Internal error page.", "text/html"));
                }
                if op.request_body.is_some() {
                    // The APIs' edge gives the body limit's 413 the error body; the pages keep it plain.
                    let too_large = if api {
                        RefOr::Ref(Ref::from_response_name("PayloadTooLarge"))
                    } else {
                        text("The body is larger than 1 MiB.", "text/plain")
                    };
                    responses.entry("413".into()).or_insert(too_large);
                }
            }
        }
    }
}

/// An `Option<_>` request body (`MaybeJson` in the handlers) is one that may be left out,
/// not one that may be `null`: keep `required` unset and drop the `null` alternative.
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let is_null = |s: &RefOr<Schema>| serde_json::to_value(s).ok() == Some(serde_json::json!({"type": "null"}));
        for item in openapi.paths.paths.values_mut() {
            for op in operations(item) {
                let Some(body) = op.request_body.as_mut() else {
                    continue;
                };
                if body.required.is_some() {
                    continue;
                }
                for content in body.content.values_mut() {
                    if let Some(RefOr::T(Schema::OneOf(one))) = &content.schema {
                        let rest: Vec<_> = one.items.iter().filter(|s| !is_null(s)).cloned().collect();
                        if rest.len() == 1 && one.items.len() == 2 {
                            content.schema = rest.into_iter().next();
                        }
                    }
                }
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The document as JSON, built on first use.
pub fn spec() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises"))
}

/// `GET /openapi.json`.
pub async fn document() -> Json<serde_json::Value> {
    Json(spec().clone())
}
