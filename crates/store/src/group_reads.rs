//! What a group of payments reads before it books them (issue 9, the app's
//! `payments_group` and batch chunks), in one statement over the cases it locked: the
//! cases, the `externalId`s stored on them, their clients, the clients' links (with their
//! histories) and link requests, and the partners of those links, requests and cases with
//! their webhook subscriptions.
//!
//! Each part is the `SELECT` of its own read (`Tx::cases_by_ids`,
//! `Tx::payment_external_ids_of_cases`, `Tx::clients_by_ids`, `Tx::links_of_clients`,
//! `Tx::link_requests_of_clients`, `Tx::partner`, `Tx::webhook_subscriptions_of`), the same
//! columns and row decoder, as one part of a [`UnionRead`]: one round trip where the reads
//! one by one take nine, which on PostgreSQL is most of what a group of two payments waits
//! for besides its writes.

use std::collections::{HashMap, HashSet};

use refshare_core::link::{Link, LinkEvent};
use uuid::Uuid;

use crate::cases::{case_from, CASE_COLS};
use crate::clients::{client_from, CLIENT_COLS};
use crate::in_list::{in_one, sorted_unique};
use crate::links::{event_from, events_part, link_from, links_part, request_from, requests_part};
use crate::partners::{partner_from, PARTNER_COLS};
use crate::union_read::{names, Part as ReadPart, UnionRead};
use crate::webhooks::{subscription_from, SUB_COLS};
use crate::{uuid, CaseRecord, ClientRecord, Cols, LinkRequestRecord, PartnerRecord, Result, Tx, WebhookSubscriptionRecord};

/// Everything [`Tx::payment_group_rows`] reads, as the one-part reads give it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaymentGroupRows {
    /// As `Tx::cases_by_ids`.
    pub cases: Vec<CaseRecord>,
    /// As `Tx::payment_external_ids_of_cases`.
    pub stored_keys: HashSet<(Uuid, String)>,
    /// As `Tx::clients_by_ids` for the cases' clients.
    pub clients: HashMap<Uuid, ClientRecord>,
    /// As `Tx::links_of_clients`.
    pub links: HashMap<Uuid, Vec<Link>>,
    /// As `Tx::link_requests_of_clients`.
    pub requests: HashMap<Uuid, Vec<LinkRequestRecord>>,
    /// As `Tx::partner`, for every partner of those links and requests and every partner
    /// that created one of the cases.
    pub partners: HashMap<Uuid, PartnerRecord>,
    /// As `Tx::webhook_subscriptions_of` for each of those partners (a partner without any
    /// is absent).
    pub subscriptions: HashMap<Uuid, Vec<WebhookSubscriptionRecord>>,
}

/// The parts of the statement, in the order of their rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Case,
    Key,
    Client,
    Link,
    Event,
    Request,
    Partner,
    Subscription,
}

const PARTS: [Part; 8] = [Part::Case, Part::Key, Part::Client, Part::Link, Part::Event, Part::Request, Part::Partner, Part::Subscription];

/// One part's read: `ids` the cases, `kc` their clients, `kp` the partners.
fn part_sql(part: Part, in_ids: &str) -> ReadPart {
    let kc = "(SELECT kc.client_id FROM kc)";
    match part {
        Part::Case => ReadPart::new(format!("SELECT {CASE_COLS} FROM cases c WHERE c.id {in_ids}"), names(CASE_COLS)),
        Part::Key => ReadPart::new(
            format!("SELECT case_id, external_id FROM payments WHERE case_id {in_ids} AND external_id IS NOT NULL"),
            names("case_id, external_id"),
        ),
        Part::Client => ReadPart::new(format!("SELECT {CLIENT_COLS} FROM clients WHERE id IN {kc}"), names(CLIENT_COLS)),
        Part::Link => links_part(&format!("IN {kc}")),
        Part::Event => events_part(&format!("IN {kc}")),
        Part::Request => requests_part(&format!("IN {kc}")),
        Part::Partner => {
            ReadPart::new(format!("SELECT {PARTNER_COLS} FROM partners WHERE id IN (SELECT kp.partner_id FROM kp)"), names(PARTNER_COLS))
        }
        Part::Subscription => ReadPart::new(
            format!("SELECT {SUB_COLS} FROM webhook_subscriptions WHERE partner_id IN (SELECT kp.partner_id FROM kp)"),
            names(SUB_COLS),
        )
        .ordered("b.created_at", "b.id"),
    }
}

/// The statement, the case ids matched by `in_ids` (a match on the one bound list).
fn group_sql(in_ids: &str) -> UnionRead {
    let parts: Vec<ReadPart> = PARTS.iter().map(|p| part_sql(*p, in_ids)).collect();
    let with = format!(
        "kc AS (SELECT DISTINCT c.client_id AS client_id FROM cases c WHERE c.id {in_ids}), \
         kp AS (SELECT l.partner_id AS partner_id FROM links l WHERE l.client_id IN (SELECT kc.client_id FROM kc) \
         UNION SELECT r.partner_id FROM link_requests r WHERE r.client_id IN (SELECT kc.client_id FROM kc) \
         UNION SELECT c.creating_partner_id FROM cases c WHERE c.id {in_ids} AND c.creating_partner_id IS NOT NULL)"
    );
    UnionRead::new(&with, &parts)
}

/// The statement of `backend`, built once per process: its text is the same for every
/// group (the ids are one bound list), and it runs for every group of payments.
fn group_read(backend: crate::Backend) -> &'static UnionRead {
    static READS: [std::sync::OnceLock<UnionRead>; 2] = [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    let slot = match backend {
        crate::Backend::Sqlite => 0,
        crate::Backend::Postgres => 1,
    };
    READS[slot].get_or_init(|| group_sql(&in_one(backend, 1, &[]).0))
}

impl Tx {
    /// What a group of payments on `case_ids` reads, in one statement (see the module).
    /// Call it holding the cases' locks, as the reads one by one would be.
    pub async fn payment_group_rows(&mut self, case_ids: &[Uuid]) -> Result<PaymentGroupRows> {
        let ids = sorted_unique(case_ids.iter().copied());
        if ids.is_empty() {
            return Ok(PaymentGroupRows::default());
        }
        let (_, bound) = in_one(self.backend, 1, &ids);
        let read = group_read(self.backend);
        let rows = sqlx::query(&read.sql).bind(bound).fetch_all(self.conn()).await?;
        let mut out = PaymentGroupRows::default();
        let mut links = Vec::new();
        let mut events: HashMap<Uuid, Vec<LinkEvent>> = HashMap::new();
        for row in read.rows(&rows) {
            let (i, r) = row?;
            let r = &r;
            match PARTS[i] {
                Part::Case => out.cases.push(case_from(r)?),
                Part::Key => {
                    out.stored_keys.insert((uuid(&r.value::<String>("case_id")?)?, r.value("external_id")?));
                }
                Part::Client => {
                    let c = client_from(r)?;
                    out.clients.insert(c.id, c);
                }
                Part::Link => links.push(link_from(r)?),
                Part::Event => events.entry(uuid(&r.value::<String>("link_id")?)?).or_default().push(event_from(r)?),
                Part::Request => {
                    let q = request_from(r)?;
                    out.requests.entry(q.request.client_id).or_default().push(q);
                }
                Part::Partner => {
                    let p = partner_from(r)?;
                    out.partners.insert(p.id, p);
                }
                Part::Subscription => {
                    let s = subscription_from(r)?;
                    out.subscriptions.entry(s.partner_id).or_default().push(s);
                }
            }
        }
        for mut l in links {
            l.history = events.remove(&l.id).unwrap_or_default();
            out.links.entry(l.client_id).or_default().push(l);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_branch_names_the_same_columns() {
        for backend in [crate::Backend::Sqlite, crate::Backend::Postgres] {
            let (in_ids, _) = in_one(backend, 1, &["x".to_string()]);
            let read = group_sql(&in_ids);
            assert_eq!(read.sql.matches(" UNION ALL ").count() + 1, PARTS.len());
            crate::union_read::tests::check_slots(&read);
            assert_eq!(group_read(backend).sql, read.sql, "the kept statement is the one built");
        }
    }
}
