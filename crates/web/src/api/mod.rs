//! The JSON APIs, one module per surface.

pub mod admin;
pub mod attention;
pub mod customer;
pub mod disputes;
pub mod money;
pub mod payments_batch;
pub mod referral;
pub mod statements;
pub mod webhooks;
