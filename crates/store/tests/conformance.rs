//! Store conformance suite: every test runs against SQLite and PostgreSQL.
//!
//! Each test is one `async fn(Store) -> TestResult`; the `conformance!` macro turns it into
//! `<name>_sqlite` and `<name>_postgres`, each on a fresh database (see `harness`). A
//! behaviour that differs between the backends is a failure here, whichever is "right".
//!
//! Run: `cargo test -p refshare-store --test conformance`; set
//! `REFSHARE_REQUIRE_POSTGRES=1` to fail instead of skipping when PostgreSQL is missing.

#[path = "conformance/fixtures.rs"]
mod fixtures;
#[path = "conformance/harness.rs"]
mod harness;

#[path = "conformance/attention.rs"]
mod attention;
#[path = "conformance/cases.rs"]
mod cases;
#[path = "conformance/clients.rs"]
mod clients;
#[path = "conformance/lifecycle.rs"]
mod lifecycle;
#[path = "conformance/links.rs"]
mod links;
#[path = "conformance/lists.rs"]
mod lists;
#[path = "conformance/misc.rs"]
mod misc;
#[path = "conformance/money.rs"]
mod money;
#[path = "conformance/months.rs"]
mod months;
#[path = "conformance/partner_sets.rs"]
mod partner_sets;
#[path = "conformance/partners.rs"]
mod partners;
#[path = "conformance/people.rs"]
mod people;
#[path = "conformance/pools.rs"]
mod pools;
#[path = "conformance/reporting.rs"]
mod reporting;
#[path = "conformance/search.rs"]
mod search;
#[path = "conformance/signin.rs"]
mod signin;
#[path = "conformance/statement_totals.rs"]
mod statement_totals;
#[path = "conformance/statements.rs"]
mod statements;
#[path = "conformance/webhooks.rs"]
mod webhooks;
