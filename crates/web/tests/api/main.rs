//! End-to-end tests through HTTP on both backends: the seed situations of SPEC §5, tenant
//! isolation, idempotency, bad input, and webhooks.

mod bad_input;
mod consent;
mod dashboard;
mod disputes;
mod duplicate_reference;
mod edge;
mod fx_missing;
mod group_commit;
mod harness;
mod hosted_pages;
mod idempotency;
mod idempotent_refusals;
mod input_limits;
mod isolation;
mod ledger_props;
mod lists;
mod mail;
mod metrics;
mod metrics_access;
mod money;
mod money_sets;
mod overpayment;
mod page_headers;
mod payments_batch;
mod people;
mod read_pool;
mod replay;
mod scenarios;
mod search;
mod secrets;
mod signin;
mod statements;
mod text_input;
mod tokens;
mod webhooks;
