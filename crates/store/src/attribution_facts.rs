//! The facts of the self-serve attribution check (SPEC §8) in one statement: the case, its
//! client, the client's links (with their histories) and link requests, the case's
//! decisions, earnings and the earnings' sync rows, and the partner's open dispute.
//!
//! Each part is the `SELECT` its own method runs (`Tx::case_by_reference`,
//! `Tx::links_of_client`, …, the same column lists), as one part of a [`UnionRead`], read
//! back by that part's own row decoder and ordered by part and then by each part's own
//! order. One round trip, one snapshot on both backends, so the read needs no transaction
//! (`Store::read_statement`). The parts find the case and its client as scalar subqueries
//! of the one-row `kc` (`= (SELECT …)`, not `IN`): PostgreSQL plans the statement about a
//! quarter faster than with semi-joins (it is planned afresh until the connection's
//! prepared statement goes generic).

use std::collections::HashMap;

use refshare_core::link::{Link, LinkEvent};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::cases::{case_from, CASE_COLS};
use crate::clients::{client_from, CLIENT_COLS};
use crate::earning_sets::{sync_row_from, SYNC_EXTRA_COLS, SYNC_FROM};
use crate::links::{event_from, events_part, link_from, links_part, request_from, requests_part};
use crate::payouts::{decision_from, earning_from, DECISION_COLS, EARNING_COLS};
use crate::union_read::{names, Part as ReadPart, UnionRead};
use crate::{get, uuid, CaseRecord, ClientRecord, Cols, DecisionRecord, EarningRecord, EarningSyncRow, LinkRequestRecord, Result, Tx};

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

/// `cols` with every name prefixed by `alias.`.
fn prefixed(alias: &str, cols: &str) -> String {
    cols.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// One part's read.
fn part_sql(part: Part) -> ReadPart {
    let kc = "(SELECT kc.case_id FROM kc)";
    let kcl = "(SELECT kc.client_id FROM kc)";
    match part {
        Part::Case => ReadPart::new(format!("SELECT {CASE_COLS} FROM cases c WHERE c.id = {kc}"), names(CASE_COLS)),
        Part::Client => ReadPart::new(format!("SELECT {CLIENT_COLS} FROM clients WHERE id = {kcl}"), names(CLIENT_COLS)),
        Part::Link => links_part(&format!("= {kcl}")),
        Part::Event => events_part(&format!("= {kcl}")),
        Part::Request => requests_part(&format!("= {kcl}")),
        Part::Decision => ReadPart::new(
            format!(
                "SELECT {} FROM attribution_decisions d JOIN payouts p ON p.id = d.payout_id WHERE p.case_id = {kc}",
                prefixed("d", DECISION_COLS)
            ),
            names(DECISION_COLS),
        )
        .ordered("b.decided_at", "b.id"),
        Part::Earning => ReadPart::new(format!("SELECT {EARNING_COLS} FROM earnings WHERE case_id = {kc}"), names(EARNING_COLS))
            .ordered("b.created_at", "b.id"),
        Part::Sync => {
            let cols = format!("{}, {SYNC_EXTRA_COLS}", prefixed("e", EARNING_COLS));
            ReadPart::new(format!("SELECT {cols} FROM {SYNC_FROM} WHERE e.case_id = {kc}"), names(&cols))
        }
        Part::Dispute => {
            ReadPart::new(format!("SELECT id FROM disputes WHERE case_id = {kc} AND partner_id = $2 AND status = 'open'"), names("id"))
        }
    }
}

/// The one statement: `$1` the case's id or reference, `$2` the partner (only
/// `with_dispute`).
fn facts_sql(by_reference: bool, with_dispute: bool) -> UnionRead {
    let case_clause = if by_reference { "c.reference = $1" } else { "c.id = $1" };
    let parts: Vec<ReadPart> = PARTS.iter().filter(|p| with_dispute || **p != Part::Dispute).map(|p| part_sql(*p)).collect();
    UnionRead::new(&format!("kc AS (SELECT c.id AS case_id, c.client_id AS client_id FROM cases c WHERE {case_clause})"), &parts)
}

/// [`facts_sql`] built once per process for each of its four forms (it runs for every
/// attribution check).
fn facts_read(by_reference: bool, with_dispute: bool) -> &'static UnionRead {
    static READS: [std::sync::OnceLock<UnionRead>; 4] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new(), std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    READS[usize::from(by_reference) * 2 + usize::from(with_dispute)].get_or_init(|| facts_sql(by_reference, with_dispute))
}

impl Tx {
    /// The attribution check's facts for one case in one statement; `None` when there is no
    /// such case. With `partner`, also its open dispute on the case.
    pub async fn attribution_facts(&mut self, case: FactsCase<'_>, partner: Option<Uuid>) -> Result<Option<AttributionFacts>> {
        let (by_reference, key) = match case {
            FactsCase::Id(id) => (false, id.to_string()),
            FactsCase::Reference(r) => (true, r.to_string()),
        };
        let read = facts_read(by_reference, partner.is_some());
        let mut q = sqlx::query(&read.sql).bind(key);
        if let Some(p) = partner {
            q = q.bind(p.to_string());
        }
        let rows = q.fetch_all(self.conn()).await?;
        facts_from(&rows, read)
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
    let sql = &facts_read(true, true).sql;
    for _ in 0..=CUSTOM_PLANS_BEFORE_GENERIC {
        let run = sqlx::query(sql).bind(String::new()).bind(Uuid::nil().to_string()).fetch_all(&mut *conn).await;
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
        .bind(&facts_read(true, true).sql)
        .fetch_one(self.conn())
        .await?;
        Ok(Some((get(&row, "generic")?, get(&row, "custom")?)))
    }
}

fn facts_from(rows: &[AnyRow], read: &UnionRead) -> Result<Option<AttributionFacts>> {
    let mut case = None;
    let mut client = None;
    let mut links = Vec::new();
    let mut events: HashMap<Uuid, Vec<LinkEvent>> = HashMap::new();
    let (mut requests, mut decisions, mut earnings, mut sync_rows) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut open_dispute = None;
    for row in read.rows(rows) {
        let (i, r) = row?;
        let r = &r;
        match PARTS[i] {
            Part::Case => case = Some(case_from(r)?),
            Part::Client => client = Some(client_from(r)?),
            Part::Link => links.push(link_from(r)?),
            Part::Event => events.entry(uuid(&r.value::<String>("link_id")?)?).or_default().push(event_from(r)?),
            Part::Request => requests.push(request_from(r)?),
            Part::Decision => decisions.push(decision_from(r)?),
            Part::Earning => earnings.push(earning_from(r)?),
            Part::Sync => sync_rows.push(sync_row_from(r)?),
            Part::Dispute => {
                if open_dispute.is_none() {
                    open_dispute = Some(uuid(&r.value::<String>("id")?)?);
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
    fn every_branch_names_the_same_columns() {
        let case = names(CASE_COLS);
        assert_eq!(case.first().map(String::as_str), Some("id"));
        assert_eq!(case.last().map(String::as_str), Some("paid_minor"));
        for (by_reference, with_dispute) in [(true, true), (false, false)] {
            let read = facts_sql(by_reference, with_dispute);
            assert_eq!(read.sql.matches(" UNION ALL ").count() + 1, if with_dispute { 9 } else { 8 });
            let cols = crate::union_read::tests::check_slots(&read);
            assert!(cols.len() > 20, "{cols:?}");
        }
    }
}
