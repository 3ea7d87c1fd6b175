//! End-to-end tests through HTTP on both backends: the seed situations of SPEC §5, tenant
//! isolation, idempotency, bad input, and webhooks.

mod bad_input;
mod disputes;
mod harness;
mod idempotency;
mod input_limits;
mod isolation;
mod ledger_props;
mod metrics;
mod money;
mod scenarios;
mod statements;
mod text_input;
mod webhooks;
