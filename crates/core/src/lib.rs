//! refshare-core: the pure domain of the referral-partner program.
//!
//! Money, links and their history, link requests, cases, fee splits, the attribution
//! engine (SPEC §5), the one case-visibility rule (SPEC §5), the self-serve check (SPEC §8) and revenue stages. Nothing here does
//! I/O or reads a clock: every instant is an argument.

pub mod attribution;
pub mod calendar;
pub mod case;
pub mod check;
pub mod fees;
pub mod ledger;
pub mod link;
pub mod money;
pub mod owed;
pub mod parse;
pub mod people;
pub mod stage;
pub mod visibility;

/// An instant in UTC. Stored with millisecond precision.
pub type Instant = chrono::DateTime<chrono::Utc>;
