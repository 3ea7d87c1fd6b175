//! What a page of reporting rows needs besides its earnings, in one statement: the
//! earnings' payouts and payments, cases and clients, the earnings they correct (the
//! partner's), the partner's decisions on the payouts and those the earnings name, the
//! payouts' CP invoice statuses and the decisions' links' tenant ids. Each part is the
//! `SELECT` its one-part read runs (`Tx::payouts_by_ids`, `Tx::cases_by_ids`, …, the same
//! column lists) as a branch of one `UNION ALL` ([`crate::union_read`]), read back by the
//! part's own decoder; the page's earning ids are one bind ([`crate::in_list::id_list_sql`]).
//! A page of 100 rows was ten statements, each a hop to the database and back.

use std::collections::HashMap;

use refshare_core::stage::CpInvoiceStatus;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::cases::{case_from, CASE_COLS};
use crate::clients::{client_from, CLIENT_COLS};
use crate::in_list::{id_list_bind, id_list_sql};
use crate::invoices::cp_status;
use crate::payouts::{decision_from, earning_from, payment_from, payout_from, DECISION_COLS, EARNING_COLS, PAYMENT_COLS, PAYOUT_COLS};
use crate::union_read::{union_sql, UnionPart};
use crate::{
    get, uuid, Backend, CaseRecord, ClientRecord, DecisionRecord, EarningRecord, PaymentRecord, PayoutRecord, Result, StoreError, Tx,
};

/// Everything the reporting rows of some earnings read besides the earnings themselves.
#[derive(Debug, Clone, Default)]
pub struct ReportRelated {
    pub payouts: HashMap<Uuid, PayoutRecord>,
    pub payments: HashMap<Uuid, PaymentRecord>,
    pub cases: HashMap<Uuid, CaseRecord>,
    pub clients: HashMap<Uuid, ClientRecord>,
    /// The earnings the page's earnings correct, the partner's only.
    pub corrected: Vec<EarningRecord>,
    /// The partner's decisions on the page's payouts and those the page's earnings and
    /// the corrected earnings name, each once, oldest first within each payout
    /// (`payout_id`, `decided_at`, `id`), as `Tx::decisions_of_payouts` orders them.
    pub decisions: Vec<DecisionRecord>,
    pub cp_invoices: HashMap<Uuid, CpInvoiceStatus>,
    /// Link id → external tenant id, for the decisions' links.
    pub tenants: HashMap<Uuid, String>,
}

/// The parts, in the order of their rows (the `k` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Payout = 0,
    Payment = 1,
    Case = 2,
    Client = 3,
    Corrected = 4,
    Decision = 5,
    CpInvoice = 6,
    Tenant = 7,
}

const PARTS: [Part; 8] =
    [Part::Payout, Part::Payment, Part::Case, Part::Client, Part::Corrected, Part::Decision, Part::CpInvoice, Part::Tenant];

/// `pg`: the page's earnings (`$1`, the id list); `po`: their payouts; `co`: the
/// partner's (`$2`) earnings they correct; `dd`: the partner's decisions on the payouts
/// and those the earnings name.
fn with_sql(backend: Backend) -> String {
    let ids = id_list_sql(backend, "$1");
    format!(
        "WITH pg AS (SELECT id, payout_id, case_id, decision_id, corrects_id FROM earnings WHERE id IN {ids}), \
         po AS (SELECT id, payment_id, cp_invoice_id FROM payouts WHERE id IN (SELECT payout_id FROM pg)), \
         co AS (SELECT id, decision_id FROM earnings WHERE id IN (SELECT corrects_id FROM pg) AND partner_id = $2), \
         dd AS (SELECT id, link_id FROM attribution_decisions WHERE payout_id IN (SELECT payout_id FROM pg) AND partner_id = $2 \
                UNION SELECT id, link_id FROM attribution_decisions \
                WHERE id IN (SELECT decision_id FROM pg UNION SELECT decision_id FROM co) AND partner_id = $2)"
    )
}

fn part_sql(part: Part) -> String {
    match part {
        Part::Payout => format!("SELECT {PAYOUT_COLS} FROM payouts WHERE id IN (SELECT id FROM po)"),
        Part::Payment => format!("SELECT {PAYMENT_COLS} FROM payments WHERE id IN (SELECT payment_id FROM po)"),
        Part::Case => format!("SELECT {CASE_COLS} FROM cases c WHERE c.id IN (SELECT case_id FROM pg)"),
        Part::Client => format!(
            "SELECT {CLIENT_COLS} FROM clients WHERE id IN (SELECT k.client_id FROM cases k WHERE k.id IN (SELECT case_id FROM pg))"
        ),
        Part::Corrected => format!("SELECT {EARNING_COLS} FROM earnings WHERE id IN (SELECT id FROM co)"),
        Part::Decision => format!("SELECT {DECISION_COLS} FROM attribution_decisions WHERE id IN (SELECT id FROM dd)"),
        Part::CpInvoice => "SELECT id, status FROM cp_invoices WHERE id IN (SELECT cp_invoice_id FROM po)".into(),
        Part::Tenant => "SELECT id, external_tenant_id FROM links WHERE id IN (SELECT link_id FROM dd)".into(),
    }
}

/// The one statement: `$1` the earning ids ([`id_list_bind`]), `$2` the partner.
pub(crate) fn related_sql(backend: Backend) -> String {
    let parts: Vec<UnionPart> =
        PARTS.iter().map(|p| UnionPart { k: *p as i64, sql: part_sql(*p), sort_int: None, sort_text: None }).collect();
    union_sql(&with_sql(backend), &parts)
}

impl Tx {
    /// What the reporting rows of the partner's earnings `earning_ids` read besides the
    /// earnings, in one statement.
    pub async fn report_related(&mut self, partner_id: Uuid, earning_ids: &[Uuid]) -> Result<ReportRelated> {
        if earning_ids.is_empty() {
            return Ok(ReportRelated::default());
        }
        let rows = sqlx::query(&related_sql(self.backend))
            .bind(id_list_bind(self.backend, earning_ids))
            .bind(partner_id.to_string())
            .fetch_all(self.conn())
            .await?;
        related_from(&rows)
    }
}

fn related_from(rows: &[AnyRow]) -> Result<ReportRelated> {
    let mut out = ReportRelated::default();
    for r in rows {
        let k: i64 = get(r, "k")?;
        let part = PARTS.iter().copied().find(|p| *p as i64 == k).ok_or_else(|| StoreError::Corrupt(format!("report part {k}")))?;
        match part {
            Part::Payout => {
                let p = payout_from(r)?;
                out.payouts.insert(p.id, p);
            }
            Part::Payment => {
                let p = payment_from(r)?;
                out.payments.insert(p.id, p);
            }
            Part::Case => {
                let c = case_from(r)?;
                out.cases.insert(c.id, c);
            }
            Part::Client => {
                let c = client_from(r)?;
                out.clients.insert(c.id, c);
            }
            Part::Corrected => out.corrected.push(earning_from(r)?),
            Part::Decision => out.decisions.push(decision_from(r)?),
            Part::CpInvoice => {
                out.cp_invoices.insert(uuid(&get::<String>(r, "id")?)?, cp_status(&get::<String>(r, "status")?)?);
            }
            Part::Tenant => {
                out.tenants.insert(uuid(&get::<String>(r, "id")?)?, get(r, "external_tenant_id")?);
            }
        }
    }
    out.decisions.sort_by_key(|d| (d.payout_id, d.decided_at, d.id));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_has_one_branch_per_part_and_binds_two_values() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let sql = related_sql(backend);
            assert_eq!(sql.matches(" UNION ALL ").count(), PARTS.len() - 1, "{sql}");
            assert!(sql.contains("$1") && sql.contains("$2") && !sql.contains("$3"), "{sql}");
        }
    }
}
