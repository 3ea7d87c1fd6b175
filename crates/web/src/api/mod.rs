//! The JSON APIs, one module per surface.

pub mod admin;
pub mod customer;
pub mod referral;
pub mod webhooks;
