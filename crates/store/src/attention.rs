//! Bounded reads behind the Partner Dashboard's Attention list and client timeline
//! (issue 10; `app::attention`, `app::timeline`). Each returns at most `limit` rows and
//! starts from an index on the partner or on one client (migration 0027 and earlier), so
//! none reads the partner's whole history.

use refshare_core::link::Link;
use refshare_core::Instant;
use uuid::Uuid;

use crate::cases::{case_from, CASE_COLS};
use crate::in_list::texts;
use crate::links::{link_from, request_from, LINK_COLS, REQUEST_COLS};
use crate::payouts::{decision_from, DECISION_COLS};
use crate::{at, get, ms, opt_at, uuid, CaseRecord, DecisionRecord, LinkRequestRecord, Result, Tx};

/// A partner's link with the client's name and onboarding state.
#[derive(Debug, Clone)]
pub struct LinkWithClient {
    pub link: Link,
    pub company_name: String,
    pub onboarding_completed_at: Option<Instant>,
}

/// A recent case of a non-attributed client that came through another channel than the
/// partner's integration, with the partner's tenant id and the client's name.
#[derive(Debug, Clone)]
pub struct OutsideCase {
    pub case: CaseRecord,
    pub external_tenant_id: String,
    pub company_name: String,
}

/// A case with a payout that did not earn for the partner, and the instant of the case's
/// latest payout (what its dispute deadline follows).
#[derive(Debug, Clone)]
pub struct DisputableCase {
    pub case: CaseRecord,
    pub last_payout_at: Instant,
}

/// One of the partner's decisions with the reference of its case.
#[derive(Debug, Clone)]
pub struct DecisionOnCase {
    pub decision: DecisionRecord,
    pub case_reference: String,
}

/// `LINK_COLS` qualified with the alias `l`.
fn link_cols() -> String {
    LINK_COLS.split(", ").map(|c| format!("l.{c}")).collect::<Vec<_>>().join(", ")
}

fn with_client(r: &sqlx::any::AnyRow) -> Result<LinkWithClient> {
    Ok(LinkWithClient {
        link: link_from(r)?,
        company_name: get(r, "company_name")?,
        onboarding_completed_at: opt_at(get(r, "onboarding_completed_at")?),
    })
}

impl Tx {
    /// PostgreSQL: no parallel workers for the rest of this (read) transaction; SQLite:
    /// nothing. The Attention list's reads each stop after a few dozen index entries, but
    /// the planner costs them by the whole range they might walk and at 1M planned the
    /// closing dispute windows as a parallel `Gather Merge`: starting the workers took
    /// longer (20–26 ms under load) than the read itself. One `SET LOCAL`, the same plans
    /// otherwise, the same rows.
    pub async fn without_parallel_workers(&mut self) -> Result<()> {
        if self.backend == crate::Backend::Postgres {
            self.simple("SET LOCAL max_parallel_workers_per_gather = 0").await?;
        }
        Ok(())
    }

    /// The partner's link requests still pending at `now` (undecided, not yet expired),
    /// soonest expiry first (`link_requests_partner_pending`).
    pub async fn pending_link_requests_of_partner(&mut self, partner_id: Uuid, now: Instant, limit: u32) -> Result<Vec<LinkRequestRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLS} FROM link_requests WHERE partner_id = $1 AND status = 'pending' AND expires_at > $2 \
             ORDER BY expires_at, id LIMIT {limit}"
        ))
        .bind(partner_id.to_string())
        .bind(ms(now))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(request_from).collect()
    }

    /// The partner's link requests not approved whose expiry is at or after `since`, to
    /// clients it has no active link with, latest expiry first (`link_requests_partner_tenant`
    /// by its leading column): the pending ones and those declined or expired lately.
    pub async fn open_link_requests_of_partner(&mut self, partner_id: Uuid, since: Instant, limit: u32) -> Result<Vec<LinkRequestRecord>> {
        let cols = REQUEST_COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols} FROM link_requests r WHERE r.partner_id = $1 AND r.status <> 'approved' AND r.expires_at >= $2 \
             AND NOT EXISTS (SELECT 1 FROM links l WHERE l.partner_id = $1 AND l.client_id = r.client_id AND l.status = 'active') \
             ORDER BY r.expires_at DESC, r.id LIMIT {limit}"
        ))
        .bind(partner_id.to_string())
        .bind(ms(since))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(request_from).collect()
    }

    /// The partner's link requests under this external tenant id, oldest first
    /// (`link_requests_partner_tenant`).
    pub async fn link_requests_by_tenant(&mut self, partner_id: Uuid, external_tenant_id: &str) -> Result<Vec<LinkRequestRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLS} FROM link_requests WHERE partner_id = $1 AND external_tenant_id = $2 ORDER BY created_at, id"
        ))
        .bind(partner_id.to_string())
        .bind(external_tenant_id)
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(request_from).collect()
    }

    /// The partner's active links whose client has not completed onboarding, longest
    /// waiting first (`links_partner_active`, then the client by key). No histories.
    pub async fn onboarding_pending_links(&mut self, partner_id: Uuid, limit: u32) -> Result<Vec<LinkWithClient>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, cl.company_name, cl.onboarding_completed_at FROM links l JOIN clients cl ON cl.id = l.client_id \
             WHERE l.partner_id = $1 AND l.status = 'active' AND cl.onboarding_completed_at IS NULL \
             ORDER BY l.linked_at, l.id LIMIT {limit}",
            link_cols()
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(with_client).collect()
    }

    /// The partner's archived links to clients it has no active link with now, most
    /// recently changed first, with their histories (`links_partner_client`; the last
    /// event of each from its `(link_id, seq)` key).
    pub async fn archived_links_of_partner(&mut self, partner_id: Uuid, limit: u32) -> Result<Vec<LinkWithClient>> {
        let rows = sqlx::query(&format!(
            "SELECT {}, cl.company_name, cl.onboarding_completed_at, \
             (SELECT MAX(e.at) FROM link_events e WHERE e.link_id = l.id) AS changed_at \
             FROM links l JOIN clients cl ON cl.id = l.client_id \
             WHERE l.partner_id = $1 AND l.status = 'archived' \
             AND NOT EXISTS (SELECT 1 FROM links a WHERE a.partner_id = $1 AND a.client_id = l.client_id AND a.status = 'active') \
             ORDER BY changed_at DESC, l.id LIMIT {limit}",
            link_cols()
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        let found = rows.iter().map(with_client).collect::<Result<Vec<_>>>()?;
        let links = self.with_histories(found.iter().map(|f| f.link.clone()).collect()).await?;
        Ok(found.into_iter().zip(links).map(|(f, link)| LinkWithClient { link, ..f }).collect())
    }

    /// Cases created since `since` (and after the link) for clients the partner is actively
    /// linked to without attribution, through any channel but the partner's own API: they
    /// will not earn. Newest first (`links_partner_active`, then per client the covering
    /// `cases_partner_list`, which holds the source and creating partner). The page is
    /// chosen on those index entries first; only its `limit` cases and clients are read
    /// (joining each candidate's client before the sort read ~1,560 clients at 1M).
    pub async fn recent_outside_cases(&mut self, partner_id: Uuid, since: Instant, limit: u32) -> Result<Vec<OutsideCase>> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLS}, o.tenant AS tenant, cl.company_name AS company FROM \
             (SELECT c.id AS case_id, l.client_id AS client_id, l.external_tenant_id AS tenant \
              FROM links l JOIN cases c ON c.client_id = l.client_id \
              WHERE l.partner_id = $1 AND l.status = 'active' AND l.is_attributed = 0 \
              AND c.created_at >= $2 AND c.created_at >= l.linked_at \
              AND NOT (c.source = 'partner_api' AND COALESCE(c.creating_partner_id, '') = $1) \
              ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}) o \
             JOIN cases c ON c.id = o.case_id JOIN clients cl ON cl.id = o.client_id \
             ORDER BY c.created_at DESC, c.id DESC"
        ))
        .bind(partner_id.to_string())
        .bind(ms(since))
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| Ok(OutsideCase { case: case_from(r)?, external_tenant_id: get(r, "tenant")?, company_name: get(r, "company")? }))
            .collect()
    }

    /// Up to `limit` cases with a payout in `[from, to)` that did not earn for the partner
    /// (a decision naming it, not attributed), no payout from `to` on (so their dispute
    /// deadline follows that period) and no dispute by the partner: the disputes whose
    /// window closes with that period. In the order of those payouts, each case with the
    /// instant of its latest payout.
    ///
    /// The decisions come in index order from `attribution_decisions_partner_unearned`
    /// (partial, covering: partner, instant, payout), each probing its payout by key,
    /// `payouts_case_created` for a later payout and `disputes_case_partner`; the read stops
    /// after `4 × limit` qualifying payouts, so it never walks the whole period. (A
    /// non-attributed payout that earns through a correction belongs to a disputed case:
    /// the dispute probe skips it.)
    pub async fn disputable_cases(&mut self, partner_id: Uuid, from: Instant, to: Instant, limit: u32) -> Result<Vec<DisputableCase>> {
        let rows = sqlx::query(&format!(
            "SELECT p.case_id AS case_id FROM attribution_decisions d JOIN payouts p ON p.id = d.payout_id \
             WHERE d.partner_id = $1 AND d.attributed = 0 AND d.decided_at >= $2 AND d.decided_at < $3 \
             AND NOT EXISTS (SELECT 1 FROM payouts q WHERE q.case_id = p.case_id AND q.created_at >= $3) \
             AND NOT EXISTS (SELECT 1 FROM disputes x WHERE x.case_id = p.case_id AND x.partner_id = $1) \
             ORDER BY d.decided_at, d.payout_id LIMIT {}",
            limit.saturating_mul(4)
        ))
        .bind(partner_id.to_string())
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.conn())
        .await?;
        let mut ids: Vec<Uuid> = Vec::new();
        for r in &rows {
            let id = uuid(&get::<String>(r, "case_id")?)?;
            if !ids.contains(&id) && ids.len() < limit as usize {
                ids.push(id);
            }
        }
        // The cases and the instant of each one's latest payout in one statement
        // (`payouts_case_created` backwards, one entry per case).
        let sql = format!(
            "SELECT {CASE_COLS}, (SELECT MAX(q.created_at) FROM payouts q WHERE q.case_id = c.id) AS last_at \
             FROM cases c WHERE c.id IN ({{in}})"
        );
        let mut found = std::collections::HashMap::new();
        for r in self.rows_in(&sql, None, &texts(&ids)).await? {
            let case = case_from(&r)?;
            if let Some(last) = get::<Option<i64>>(&r, "last_at")? {
                found.insert(case.id, DisputableCase { last_payout_at: at(last), case });
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// The client's cases created in `[from, to]`, newest first, at most `limit`, and how
    /// many there are (`cases_client`).
    pub async fn client_cases_between(
        &mut self,
        client_id: Uuid,
        from: Instant,
        to: Instant,
        limit: u32,
    ) -> Result<(Vec<CaseRecord>, i64)> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLS} FROM cases c WHERE c.client_id = $1 AND c.created_at >= $2 AND c.created_at <= $3 \
             ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}"
        ))
        .bind(client_id.to_string())
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.conn())
        .await?;
        let cases = rows.iter().map(case_from).collect::<Result<Vec<_>>>()?;
        let n = sqlx::query("SELECT COUNT(*) AS n FROM cases WHERE client_id = $1 AND created_at >= $2 AND created_at <= $3")
            .bind(client_id.to_string())
            .bind(ms(from))
            .bind(ms(to))
            .fetch_one(self.conn())
            .await?;
        Ok((cases, get(&n, "n")?))
    }

    /// The decisions naming the partner on the payouts of the client's cases, newest
    /// first, at most `limit`, and how many there are (`cases_client`, then
    /// `payouts_case_created` and `attribution_decisions_payout`: one client's payouts).
    pub async fn partner_decisions_on_client(
        &mut self,
        partner_id: Uuid,
        client_id: Uuid,
        limit: u32,
    ) -> Result<(Vec<DecisionOnCase>, i64)> {
        let cols = DECISION_COLS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ");
        let from = "FROM cases c JOIN payouts p ON p.case_id = c.id JOIN attribution_decisions d ON d.payout_id = p.id \
                    WHERE c.client_id = $1 AND d.partner_id = $2";
        let rows = sqlx::query(&format!(
            "SELECT {cols}, c.reference AS case_reference {from} ORDER BY d.decided_at DESC, d.id DESC LIMIT {limit}"
        ))
        .bind(client_id.to_string())
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        let items = rows
            .iter()
            .map(|r| Ok(DecisionOnCase { decision: decision_from(r)?, case_reference: get(r, "case_reference")? }))
            .collect::<Result<Vec<_>>>()?;
        let n = sqlx::query(&format!("SELECT COUNT(*) AS n {from}"))
            .bind(client_id.to_string())
            .bind(partner_id.to_string())
            .fetch_one(self.conn())
            .await?;
        Ok((items, get(&n, "n")?))
    }
}
