//! The facts of the self-serve attribution check (SPEC §8) in one statement: the case, its
//! client, the client's links (with their histories) and link requests, the case's
//! decisions, earnings and the earnings' sync rows, and the partner's open dispute.
//!
//! Each part is the `SELECT` its own method runs (`Tx::case_by_reference`,
//! `Tx::links_of_client`, …, the same column lists), as one branch of a `UNION ALL`: a
//! branch names every column of every part, `NULL` for those not its own, so each row is
//! read back by that part's own row decoder, and the whole is ordered by part and then by
//! each part's own order. One round trip, one snapshot on both backends, so the read needs
//! no transaction (`Store::read_statement`). The parts find the case and its client as
//! scalar subqueries of the one-row `kc` (`= (SELECT …)`, not `IN`): PostgreSQL plans the
//! statement about a quarter faster than with semi-joins (it is planned afresh until the
//! connection's prepared statement goes generic).

use std::collections::HashMap;

use refshare_core::link::{Link, LinkEvent};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::cases::{case_from, CASE_COLS};
use crate::clients::{client_from, CLIENT_COLS};
use crate::earning_sets::{sync_row_from, SYNC_EXTRA_COLS, SYNC_FROM};
use crate::links::{event_from, link_from, request_from, LINK_COLS, REQUEST_COLS};
use crate::payouts::{decision_from, earning_from, DECISION_COLS, EARNING_COLS};
use crate::{
    get, uuid, CaseRecord, ClientRecord, DecisionRecord, EarningRecord, EarningSyncRow, LinkRequestRecord, Result, StoreError, Tx,
};

/// How the check names its case.
#[derive(Debug, Clone, Copy)]
pub enum FactsCase<'a> {
    Id(Uuid),
    Reference(&'a str),
}

/// Everything the attribution check reads, as the one-part reads give it.
#[derive(Debug, Clone)]
pub struct AttributionFacts {
    pub case: CaseRecord,
    /// `None` only if the case's client row is missing.
    pub client: Option<ClientRecord>,
    /// Every partner's links to the client with their histories, as `Tx::links_of_client`.
    pub links: Vec<Link>,
    /// Every partner's link requests to the client, as `Tx::link_requests_of_client`.
    pub requests: Vec<LinkRequestRecord>,
    /// As `Tx::decisions_of_case`.
    pub decisions: Vec<DecisionRecord>,
    /// As `Tx::earnings_of_case`.
    pub earnings: Vec<EarningRecord>,
    /// The sync rows of the case's earnings (any order), as `Tx::earning_sync_rows` gives
    /// them.
    pub sync_rows: Vec<EarningSyncRow>,
    /// The partner's open dispute on the case (`Tx::open_dispute_of_case`); `None` when no
    /// partner was given.
    pub open_dispute: Option<Uuid>,
}

/// The parts of the statement, in the order of their rows (the `k` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Case = 0,
    Client = 1,
    Link = 2,
    Event = 3,
    Request = 4,
    Decision = 5,
    Earning = 6,
    Sync = 7,
    Dispute = 8,
}

const PARTS: [Part; 9] =
    [Part::Case, Part::Client, Part::Link, Part::Event, Part::Request, Part::Decision, Part::Earning, Part::Sync, Part::Dispute];

/// The integer columns of the parts; every other column is text (the only two types the
/// schema uses). A branch's `NULL` for a column must carry its type on PostgreSQL.
const BIGINT_COLS: &[&str] = &[
    "created_at",
    "updated_at",
    "amount_minor",
    "success_fee_bps",
    "platform_share_bps",
    "paid_minor",
    "onboarding_completed_at",
    "is_attributed",
    "referral_fee_bps",
    "linked_at",
    "at",
    "seq",
    "expires_at",
    "decided_at",
    "attributed",
    "referral_fee_minor",
    "voided_at",
    "s_fx",
    "s_paid_at",
    "rm_paid_at",
    "rm_fx",
];

/// The output names of a column list (`a, t.b, (…) AS c` → `a, b, c`), split at the
/// commas outside parentheses.
pub(crate) fn names(cols: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    let bytes = cols.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                out.push(name_of(&cols[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(name_of(&cols[start..]));
    out
}

fn name_of(col: &str) -> String {
    let col = col.trim();
    let tail = match col.rfind(" AS ") {
        Some(i) => &col[i + 4..],
        None => col,
    };
    tail.rsplit('.').next().unwrap_or(tail).trim().to_string()
}

/// `cols` with every name prefixed by `alias.`.
fn prefixed(alias: &str, cols: &str) -> String {
    cols.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// One part's inner `SELECT` (its own columns, as its own read names them) and its order
/// keys (an integer, then a text; `NULL` for a part of at most one row).
fn part_sql(part: Part, case_clause: &str) -> (String, &'static str, &'static str) {
    let kc = "(SELECT kc.case_id FROM kc)";
    let kcl = "(SELECT kc.client_id FROM kc)";
    match part {
        Part::Case => (format!("SELECT {CASE_COLS} FROM cases c WHERE {case_clause}"), "NULL", "NULL"),
        Part::Client => (format!("SELECT {CLIENT_COLS} FROM clients WHERE id = {kcl}"), "NULL", "NULL"),
        Part::Link => (format!("SELECT {LINK_COLS} FROM links WHERE client_id = {kcl}"), "linked_at", "id"),
        Part::Event => (
            format!(
                "SELECT ev.link_id, ev.at, ev.status, ev.actor, ev.reason, ev.seq FROM link_events ev \
                 WHERE ev.link_id IN (SELECT l.id FROM links l WHERE l.client_id = {kcl})"
            ),
            "seq",
            "link_id",
        ),
        Part::Request => (format!("SELECT {REQUEST_COLS} FROM link_requests WHERE client_id = {kcl}"), "created_at", "id"),
        Part::Decision => (
            format!(
                "SELECT {} FROM attribution_decisions d JOIN payouts p ON p.id = d.payout_id WHERE p.case_id = {kc}",
                prefixed("d", DECISION_COLS)
            ),
            "decided_at",
            "id",
        ),
        Part::Earning => (format!("SELECT {EARNING_COLS} FROM earnings WHERE case_id = {kc}"), "created_at", "id"),
        Part::Sync => {
            (format!("SELECT {}, {SYNC_EXTRA_COLS} FROM {SYNC_FROM} WHERE e.case_id = {kc}", prefixed("e", EARNING_COLS)), "NULL", "NULL")
        }
        Part::Dispute => (
            "SELECT id FROM disputes WHERE case_id = (SELECT kc.case_id FROM kc) AND partner_id = $2 AND status = 'open'".into(),
            "NULL",
            "NULL",
        ),
    }
}

/// The one statement: `$1` the case's id or reference, `$2` the partner (only
/// `with_dispute`).
fn facts_sql(by_reference: bool, with_dispute: bool) -> String {
    let case_clause = if by_reference { "c.reference = $1" } else { "c.id = $1" };
    let parts: Vec<Part> = PARTS.iter().copied().filter(|p| with_dispute || *p != Part::Dispute).collect();
    let inner: Vec<(Part, String, &str, &str)> = parts
        .iter()
        .map(|p| {
            let (sql, sort_i, sort_t) = part_sql(*p, "c.id = (SELECT kc.case_id FROM kc)");
            (*p, sql, sort_i, sort_t)
        })
        .collect();
    // Every column any part names, in order of first appearance.
    let mut all: Vec<String> = Vec::new();
    let mut own: Vec<Vec<String>> = Vec::new();
    for (_, sql, _, _) in &inner {
        let cols = sql.strip_prefix("SELECT ").and_then(|s| s.split(" FROM ").next()).expect("a part is SELECT … FROM");
        // The case's columns hold a subquery with its own FROM: take its names from the list.
        let n = if sql.starts_with(&format!("SELECT {CASE_COLS}")) { names(CASE_COLS) } else { names(cols) };
        for c in &n {
            if !all.contains(c) {
                all.push(c.clone());
            }
        }
        own.push(n);
    }
    let branches: Vec<String> = inner
        .iter()
        .zip(&own)
        .map(|((part, sql, sort_i, sort_t), names)| {
            let cols: Vec<String> = all
                .iter()
                .map(|c| match (names.contains(c), BIGINT_COLS.contains(&c.as_str())) {
                    (true, _) => format!("b.{c} AS {c}"),
                    (false, true) => format!("CAST(NULL AS BIGINT) AS {c}"),
                    (false, false) => format!("CAST(NULL AS TEXT) AS {c}"),
                })
                .collect();
            let sort_i = if *sort_i == "NULL" { "CAST(NULL AS BIGINT)".to_string() } else { format!("b.{sort_i}") };
            let sort_t = if *sort_t == "NULL" { "CAST(NULL AS TEXT)".to_string() } else { format!("b.{sort_t}") };
            format!(
                "SELECT CAST({} AS BIGINT) AS k, {}, {sort_i} AS sort_i, {sort_t} AS sort_t FROM ({sql}) b",
                *part as i64,
                cols.join(", ")
            )
        })
        .collect();
    format!(
        "WITH kc AS (SELECT c.id AS case_id, c.client_id AS client_id FROM cases c WHERE {case_clause}) {} ORDER BY k, sort_i, sort_t",
        branches.join(" UNION ALL ")
    )
}

impl Tx {
    /// The attribution check's facts for one case in one statement; `None` when there is no
    /// such case. With `partner`, also its open dispute on the case.
    pub async fn attribution_facts(&mut self, case: FactsCase<'_>, partner: Option<Uuid>) -> Result<Option<AttributionFacts>> {
        let (by_reference, key) = match case {
            FactsCase::Id(id) => (false, id.to_string()),
            FactsCase::Reference(r) => (true, r.to_string()),
        };
        let sql = facts_sql(by_reference, partner.is_some());
        let mut q = sqlx::query(&sql).bind(key);
        if let Some(p) = partner {
            q = q.bind(p.to_string());
        }
        let rows = q.fetch_all(self.conn()).await?;
        facts_from(&rows)
    }
}

/// How many times PostgreSQL plans a prepared statement for its parameters before it
/// weighs a generic plan, made once and reused (the server's rule, `plancache.c`).
pub const CUSTOM_PLANS_BEFORE_GENERIC: usize = 5;

/// PostgreSQL: runs the partner's check statement on a new connection until the server
/// keeps a generic plan for it: [`CUSTOM_PLANS_BEFORE_GENERIC`] custom plans and the one
/// that makes the generic plan, for a case that does not exist. The statement is large (a
/// branch per part, each naming every column): planning it takes 1.5–2 ms on a quiet
/// 2-core machine and 10–50 ms under load, against 0.6 ms to run it, so without this the
/// first six checks on every connection wait for the planner (docs/PERFORMANCE.md, "The
/// attribution check's plans"). Afterwards the connection's prepared statement runs the
/// kept generic plan (about 0.1 ms to look up). A failure is only logged: the schema may
/// not be there yet (a connection opened before the migrations), and the check then plans
/// as it would have.
pub(crate) async fn warm_partner_check_plan(conn: &mut sqlx::AnyConnection) {
    let sql = facts_sql(true, true);
    for _ in 0..=CUSTOM_PLANS_BEFORE_GENERIC {
        let run = sqlx::query(&sql).bind(String::new()).bind(Uuid::nil().to_string()).fetch_all(&mut *conn).await;
        if let Err(e) = run {
            tracing::debug!(error = %e, "the attribution check's plan was not warmed");
            return;
        }
    }
}

impl Tx {
    /// PostgreSQL: how many generic and custom plans this connection's prepared partner
    /// check statement has run ([`warm_partner_check_plan`]; `pg_prepared_statements`),
    /// `(0, 0)` if it is not prepared here. SQLite prepares no plans to keep: `None`.
    pub async fn partner_check_plans(&mut self) -> Result<Option<(i64, i64)>> {
        if self.backend != crate::Backend::Postgres {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT COALESCE(SUM(generic_plans), 0)::BIGINT AS generic, COALESCE(SUM(custom_plans), 0)::BIGINT AS custom \
             FROM pg_prepared_statements WHERE statement = $1",
        )
        .bind(facts_sql(true, true))
        .fetch_one(self.conn())
        .await?;
        Ok(Some((get(&row, "generic")?, get(&row, "custom")?)))
    }
}

fn facts_from(rows: &[AnyRow]) -> Result<Option<AttributionFacts>> {
    let mut case = None;
    let mut client = None;
    let mut links = Vec::new();
    let mut events: HashMap<Uuid, Vec<LinkEvent>> = HashMap::new();
    let (mut requests, mut decisions, mut earnings, mut sync_rows) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut open_dispute = None;
    for r in rows {
        let k: i64 = get(r, "k")?;
        let part = PARTS.iter().copied().find(|p| *p as i64 == k).ok_or_else(|| StoreError::Corrupt(format!("facts part {k}")))?;
        match part {
            Part::Case => case = Some(case_from(r)?),
            Part::Client => client = Some(client_from(r)?),
            Part::Link => links.push(link_from(r)?),
            Part::Event => events.entry(uuid(&get::<String>(r, "link_id")?)?).or_default().push(event_from(r)?),
            Part::Request => requests.push(request_from(r)?),
            Part::Decision => decisions.push(decision_from(r)?),
            Part::Earning => earnings.push(earning_from(r)?),
            Part::Sync => sync_rows.push(sync_row_from(r)?),
            Part::Dispute => {
                if open_dispute.is_none() {
                    open_dispute = Some(uuid(&get::<String>(r, "id")?)?);
                }
            }
        }
    }
    let Some(case) = case else { return Ok(None) };
    for l in &mut links {
        l.history = events.remove(&l.id).unwrap_or_default();
    }
    Ok(Some(AttributionFacts { case, client, links, requests, decisions, earnings, sync_rows, open_dispute }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_outside_parentheses_and_take_aliases() {
        assert_eq!(names("a, t.b, (SELECT x, y FROM z) AS c"), vec!["a", "b", "c"]);
        let case = names(CASE_COLS);
        assert_eq!(case.first().map(String::as_str), Some("id"));
        assert_eq!(case.last().map(String::as_str), Some("paid_minor"));
    }

    #[test]
    fn every_branch_names_the_same_columns() {
        for (by_reference, with_dispute) in [(true, true), (false, false)] {
            let sql = facts_sql(by_reference, with_dispute);
            let branches: Vec<&str> = sql.split(" UNION ALL ").collect();
            assert_eq!(branches.len(), if with_dispute { 9 } else { 8 });
            let outer: Vec<Vec<String>> = branches
                .iter()
                .map(|b| {
                    let list = &b[b.find("SELECT CAST(").expect("outer select")..];
                    let list = &list["SELECT ".len()..list.find(" FROM (SELECT").expect("inner select")];
                    names(list)
                })
                .collect();
            assert!(outer.iter().all(|n| *n == outer[0]), "{sql}");
            assert!(outer[0].len() > 60, "{:?}", outer[0]);
        }
    }
}
