//! A page of the partner's client list in one statement (issue 9): the summary's counts,
//! the number of links that match, the page's links with their histories, their clients,
//! the clients' users, the per-client visible case counts, the kept earnings rows, and per
//! currency the estimate rates' state with the current USD rate.
//!
//! Each part is the `SELECT` of its own read, with the same columns and the same row
//! decoder (`Tx::partner_client_totals`, `Tx::partner_visible_case_count`,
//! `Tx::partner_client_page`, `Tx::links_by_ids`, `Tx::clients_by_ids`,
//! `Tx::client_users_of`, `Tx::partner_case_counts_by_client`, the kept rows of
//! `Tx::partner_client_earnings_usd`), as one part of a [`UnionRead`]. The rates part is
//! `estimate_rates` with each currency's current rate probed as `Tx::fx_rates_on_or_before`
//! probes it: one row a currency, and no scan of `fx_rates` for its currencies.
//!
//! The page's links are the `MATERIALIZED` CTE `pg` (link, client, position): either the
//! filtered, date-ordered page itself or the links whose ids are bound (the name orders,
//! which sort in Rust first). One round trip and one snapshot on both backends, so a
//! date-ordered page needs no transaction (`Store::read_statement`).

use std::collections::HashMap;

use refshare_core::link::{Link, LinkEvent};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::cases::bind_all;
use crate::client_totals::{estimate_rate_from, kept_row_from, KeptClientEarnings};
use crate::clients::{client_from, user_from, ACTIVE_LINKS, CLIENT_COLS, USER_COLS};
use crate::links::{event_from, link_from, EVENT_COLS, LINK_COLS};
use crate::reporting::{current_rate_sql, day_literal};
use crate::union_read::{from_alias, names, Part as ReadPart, UnionRead};
use crate::{
    uuid, Backend, ClientOrder, ClientRecord, ClientUserRecord, Cols, PageReq, PartnerClientFilter, PartnerClientTotals, Result,
    StoreError, Tx,
};

/// Which links make the page.
#[derive(Debug, Clone, Copy)]
pub enum ClientPageOf<'a> {
    /// The links matching the filter, in a date order (`LinkedDesc` or `LinkedAsc`), one
    /// page of them, with their count.
    Filtered(&'a PartnerClientFilter, ClientOrder, PageReq),
    /// These links, in this order (a page `Tx::partner_client_page` chose by name), of
    /// `total` that match.
    Links(&'a [Uuid], i64),
}

/// Everything a page of the client list reads, as the one-part reads give it.
#[derive(Debug, Clone)]
pub struct ClientPageRows {
    /// As `Tx::partner_client_totals`.
    pub totals: PartnerClientTotals,
    /// As `Tx::partner_visible_case_count`.
    pub visible_cases: i64,
    /// The links that match (all pages), as `Tx::partner_client_page` counts them.
    pub total: i64,
    /// The page's links in the page's order with their histories, as `Tx::links_by_ids`.
    pub links: Vec<Link>,
    /// As `Tx::clients_by_ids` for the links' clients.
    pub clients: HashMap<Uuid, ClientRecord>,
    /// As `Tx::client_users_of`.
    pub users: HashMap<Uuid, Vec<ClientUserRecord>>,
    /// As `Tx::partner_case_counts_by_client`.
    pub case_counts: HashMap<Uuid, (i64, i64)>,
    /// As `Tx::fx_rates_on_or_before` (by currency code) for the currencies `estimate_rates`
    /// holds (every currency; one it lacked would be stale, and the page read part by
    /// part).
    pub rates: Vec<(String, i64)>,
    /// The kept earnings rows of the page's clients and the estimate rates' state, as
    /// `Tx::partner_client_earnings_usd` reads them.
    pub earnings: KeptClientEarnings,
}

/// The parts of the statement, in the order of their rows (the `k` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Summary = 0,
    Link = 1,
    Event = 2,
    Client = 3,
    User = 4,
    Tally = 5,
    Kept = 6,
    Rates = 7,
}

const PARTS: [Part; 8] = [Part::Summary, Part::Link, Part::Event, Part::Client, Part::User, Part::Tally, Part::Kept, Part::Rates];

/// One part's read.
fn part_sql(part: Part, count: &str, rate_day: &str) -> ReadPart {
    let page_clients = "(SELECT pg.client_id FROM pg)";
    match part {
        Part::Summary => ReadPart::new(
            format!(
                "SELECT t.clients AS s_clients, t.attributed AS s_attributed, t.onboarded AS s_onboarded, \
                 (SELECT CAST(COALESCE(SUM(v.n), 0) AS BIGINT) FROM partner_case_tallies v WHERE v.partner_id = $1) AS s_cases, \
                 {count} AS s_total \
                 FROM (SELECT 1 AS one) o LEFT JOIN partner_client_totals t ON t.partner_id = $1"
            ),
            names("s_clients, s_attributed, s_onboarded, s_cases, s_total"),
        ),
        Part::Link => {
            let mut n = names(LINK_COLS);
            n.push("pos".into());
            ReadPart::new(format!("SELECT {}, pg.pos AS pos FROM pg JOIN links l ON l.id = pg.link_id", from_alias("l", LINK_COLS)), n)
                .ordered("b.pos", "NULL")
        }
        Part::Event => ReadPart::new(
            format!("SELECT {} FROM link_events ev WHERE ev.link_id IN (SELECT pg.link_id FROM pg)", from_alias("ev", EVENT_COLS)),
            names(EVENT_COLS),
        )
        .ordered("b.seq", "b.link_id"),
        Part::Client => ReadPart::new(format!("SELECT {CLIENT_COLS} FROM clients WHERE id IN {page_clients}"), names(CLIENT_COLS)),
        // `is_onboarding_user DESC, id` within a client, as `Tx::client_users_of`.
        Part::User => ReadPart::new(format!("SELECT {USER_COLS} FROM client_users WHERE client_id IN {page_clients}"), names(USER_COLS))
            .ordered("0 - b.is_onboarding_user", "b.id"),
        Part::Tally => ReadPart::new(
            format!(
                "SELECT client_id, CAST(SUM(n) AS BIGINT) AS n, \
                 CAST(SUM(CASE WHEN lifecycle = '{}' THEN n ELSE 0 END) AS BIGINT) AS closed \
                 FROM partner_client_case_tallies WHERE partner_id = $1 AND client_id IN {page_clients} GROUP BY client_id",
                refshare_core::case::Lifecycle::Closed.as_str()
            ),
            names("client_id, n, closed"),
        ),
        Part::Kept => ReadPart::new(
            format!(
                "SELECT client_id, currency, locked, n, usd_minor AS usd FROM client_earnings_totals \
                 WHERE partner_id = $1 AND client_id IN {page_clients} AND n <> 0"
            ),
            names("client_id, currency, locked, n, usd"),
        ),
        // Per currency of `estimate_rates` (every currency: migration 0025) its state and
        // its current rate: one row each, one probe of `fx_rates` each.
        Part::Rates => ReadPart::new(
            format!(
                "SELECT e.currency AS currency, e.built AS built, e.rate_e8 AS rate_e8, {} AS usd_per_unit_e8 FROM estimate_rates e",
                current_rate_sql("e.currency", rate_day)
            ),
            names("currency, built, rate_e8, usd_per_unit_e8"),
        ),
    }
}

/// The statement: after `with`, the CTEs that end with `pg`, the page's links (`link_id`,
/// `client_id`, `pos`), every part.
fn page_sql(with: &str, count: &str, rate_day: &str) -> UnionRead {
    let parts: Vec<ReadPart> = PARTS.iter().map(|p| part_sql(*p, count, rate_day)).collect();
    UnionRead::new(with, &parts)
}

impl Tx {
    /// A page of the partner's client list and everything it shows, in one statement (see
    /// the module): links as `of` says, the current rates those of `rate_day`
    /// (`YYYY-MM-DD`). The name orders are not answered here (`Tx::partner_client_page`
    /// sorts their names in Rust; pass its ids as `ClientPageOf::Links`).
    pub async fn partner_client_page_rows(&mut self, partner_id: Uuid, of: ClientPageOf<'_>, rate_day: &str) -> Result<ClientPageRows> {
        // The day is written into the statement as a checked literal, not bound (`day_literal`).
        let day = day_literal(rate_day)?;
        let (read, args, given_total) = match of {
            ClientPageOf::Filtered(f, order, page) => {
                let dir = match order {
                    ClientOrder::LinkedDesc => "DESC",
                    ClientOrder::LinkedAsc => "ASC",
                    ClientOrder::NameAsc | ClientOrder::NameDesc => {
                        return Err(StoreError::Corrupt("a client page by name is chosen by partner_client_page".into()))
                    }
                };
                let (where_, args) = self.partner_client_where(partner_id, f);
                let numbered = |from: &str| {
                    format!(
                        "pg AS MATERIALIZED (SELECT p.id AS link_id, p.client_id AS client_id, \
                         ROW_NUMBER() OVER (ORDER BY p.linked_at {dir}, p.id {dir}) AS pos \
                         FROM (SELECT l.id AS id, l.client_id AS client_id, l.linked_at AS linked_at {from} \
                         ORDER BY l.linked_at {dir}, l.id {dir} LIMIT {} OFFSET {}) p)",
                        page.size,
                        page.offset()
                    )
                };
                // A search's matches are found once (`m`) for the page and the count; without
                // one, the page is the first rows of the partner's links in date order (an
                // index range) and the count a pass over them, as `Tx::partner_client_page`.
                let (with, count) = if f.query.is_some() {
                    let m = format!(
                        "m AS MATERIALIZED (SELECT l.id AS id, l.client_id AS client_id, l.linked_at AS linked_at {ACTIVE_LINKS}{where_})"
                    );
                    (format!("{m}, {}", numbered("FROM m l")), "(SELECT COUNT(*) FROM m)".to_string())
                } else {
                    (numbered(&format!("{ACTIVE_LINKS}{where_}")), format!("(SELECT COUNT(*) {ACTIVE_LINKS}{where_})"))
                };
                (page_sql(&with, &count, &day), args, None)
            }
            ClientPageOf::Links(ids, total) => {
                let mut args = vec![crate::cases::Arg::Text(partner_id.to_string())];
                let (pg, bound) = match self.backend {
                    Backend::Postgres => (
                        "SELECT l.id AS link_id, l.client_id AS client_id, u.pos AS pos \
                         FROM unnest(string_to_array($2, ',')) WITH ORDINALITY AS u(id, pos) JOIN links l ON l.id = u.id",
                        ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","),
                    ),
                    Backend::Sqlite => (
                        "SELECT l.id AS link_id, l.client_id AS client_id, CAST(j.key AS BIGINT) AS pos \
                         FROM json_each($2) j JOIN links l ON l.id = j.value",
                        serde_json::Value::from(ids.iter().map(Uuid::to_string).collect::<Vec<_>>()).to_string(),
                    ),
                };
                args.push(crate::cases::Arg::Text(bound));
                (page_sql(&format!("pg AS MATERIALIZED ({pg})"), "CAST(NULL AS BIGINT)", &day), args, Some(total))
            }
        };
        let rows = bind_all(sqlx::query(&read.sql), &args).fetch_all(self.conn()).await?;
        page_from(&rows, given_total, &read)
    }
}

fn page_from(rows: &[AnyRow], given_total: Option<i64>, read: &UnionRead) -> Result<ClientPageRows> {
    let mut page = ClientPageRows {
        totals: PartnerClientTotals::default(),
        visible_cases: 0,
        total: given_total.unwrap_or(0),
        links: Vec::new(),
        clients: HashMap::new(),
        users: HashMap::new(),
        case_counts: HashMap::new(),
        rates: Vec::new(),
        earnings: KeptClientEarnings::default(),
    };
    let mut events: HashMap<Uuid, Vec<LinkEvent>> = HashMap::new();
    for row in read.rows(rows) {
        let (i, r) = row?;
        let r = &r;
        match PARTS[i] {
            Part::Summary => {
                // No `partner_client_totals` row: no active link, all zero.
                page.totals = PartnerClientTotals {
                    clients: r.value::<Option<i64>>("s_clients")?.unwrap_or(0),
                    attributed: r.value::<Option<i64>>("s_attributed")?.unwrap_or(0),
                    onboarding_complete: r.value::<Option<i64>>("s_onboarded")?.unwrap_or(0),
                };
                page.visible_cases = r.value("s_cases")?;
                if given_total.is_none() {
                    page.total = r.value("s_total")?;
                }
            }
            Part::Link => page.links.push(link_from(r)?),
            Part::Event => events.entry(uuid(&r.value::<String>("link_id")?)?).or_default().push(event_from(r)?),
            Part::Client => {
                let c = client_from(r)?;
                page.clients.insert(c.id, c);
            }
            Part::User => {
                let u = user_from(r)?;
                page.users.entry(u.client_id).or_default().push(u);
            }
            Part::Tally => {
                page.case_counts.insert(uuid(&r.value::<String>("client_id")?)?, (r.value("n")?, r.value("closed")?));
            }
            Part::Kept => page.earnings.rows.push(kept_row_from(r, "usd")?),
            Part::Rates => {
                let (currency, built, rate_e8) = estimate_rate_from(r, "built", "rate_e8")?;
                page.earnings.estimate_rates.push((currency, built, rate_e8));
                if let Some(rate) = r.value::<Option<i64>>("usd_per_unit_e8")? {
                    page.rates.push((currency.code().to_string(), rate));
                }
            }
        }
    }
    for l in &mut page.links {
        l.history = events.remove(&l.id).unwrap_or_default();
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_branch_names_the_same_columns_and_each_part_its_own_in_its_slots() {
        let read = page_sql("pg AS MATERIALIZED (SELECT 1)", "CAST(NULL AS BIGINT)", "'2026-11-30'");
        crate::union_read::tests::check_slots(&read);
        assert_eq!(read.slots(), (13, 5), "the clients' text columns, the summary's five counts");
        assert!(read.sql.contains("FROM estimate_rates e"), "one row per currency");
        assert_eq!(read.sql.matches(" UNION ALL ").count() + 1, PARTS.len());
    }
}
