//! A page of the partner's client list in one statement (issue 9): the summary's counts,
//! the number of links that match, and per link of the page what the list shows of it
//! ([`ClientListRow`]: the reference's client list item, the dashboard's row) with the
//! client's visible case counts and the kept earnings rows; per currency the estimate
//! rates' state with the current USD rate.
//!
//! The list reads only what it shows, not whole records: of the link and its client the
//! columns an item shows (the link's status from `links.status`, not its history), of each
//! user its name and e-mail, as a JSON array of `[name, email]` in the order of
//! `Tx::client_users_of`; the kept earnings rows of `Tx::partner_client_earnings_usd` as a
//! JSON array of `[currency, locked, n, usd]`; the case tallies of
//! `Tx::partner_case_counts_by_client`. That is the item part of the [`UnionRead`], one
//! row per link. The other part is one row: the summary (`Tx::partner_client_totals`,
//! `Tx::partner_visible_case_count`, the count of `Tx::partner_client_page`) and, as a JSON
//! array of `[currency, built, rate_e8, usd_per_unit_e8]`, `estimate_rates` with each
//! currency's current rate probed as `Tx::fx_rates_on_or_before` probes it. The JSON arrays
//! are decoded into typed tuples (no `serde_json::Value`). Each row and column costs its
//! conversion in the driver, so the statement returns 51 rows for a page of 50, of the
//! columns the page shows (docs/PERFORMANCE.md, "Session 11" and "Session 12").
//!
//! The page's links are the `MATERIALIZED` CTE `pg` (link, client, position): either the
//! filtered, date-ordered page itself or the links whose ids are bound (the name orders,
//! which sort in Rust first). One round trip and one snapshot on both backends, so a
//! date-ordered page needs no transaction (`Store::read_statement`).

use std::collections::HashMap;

use refshare_core::link::{Link, LinkStatus};
use refshare_core::money::Bps;
use refshare_core::Instant;
use serde::Deserialize;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::cases::bind_all;
use crate::client_totals::KeptClientEarnings;
use crate::clients::ACTIVE_LINKS;
use crate::reporting::{current_rate_sql, day_literal};
use crate::union_read::{names, Part as ReadPart, UnionRead};
use crate::{at, currency, opt_at, uuid};
use crate::{
    Backend, ClientOrder, ClientRecord, ClientUserRecord, Cols, PageReq, PartnerClientFilter, PartnerClientTotals, Result, StoreError, Tx,
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
    /// What the list shows of the page's links, in the page's order (as
    /// [`ClientListRow::of`] makes of `Tx::links_by_ids`, `Tx::clients_by_ids` and
    /// `Tx::client_users_of`).
    pub items: Vec<ClientListRow>,
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

/// What a client list item shows of the client's details (`details_json`): the members
/// the app writes as text; one that holds no text shows as none, the others are not read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShownDetails {
    #[serde(default, deserialize_with = "text_or_none")]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "text_or_none")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "text_or_none")]
    pub zip_code: Option<String>,
}

fn text_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// A user of a client as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserContact {
    pub name: String,
    pub email: String,
}

/// What the client list shows of one of the partner's links: the reference's client list
/// item (`GetClientsResponse`) and the dashboard's row, without the whole link, client and
/// user records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientListRow {
    pub link_id: Uuid,
    pub external_tenant_id: String,
    pub is_attributed: bool,
    pub referral_fee_bps: Bps,
    pub linked_at: Instant,
    /// The link's status now (`links.status`: its history's last event).
    pub status: LinkStatus,
    pub client_id: Uuid,
    pub company_name: String,
    pub support_email: Option<String>,
    pub country: String,
    pub registration_number: Option<String>,
    pub details: ShownDetails,
    pub onboarding_completed_at: Option<Instant>,
    /// In the order of `Tx::client_users_of`: the onboarding user first, then by id.
    pub users: Vec<UserContact>,
}

impl ClientListRow {
    /// What the list shows of `link`, its client and the client's users (in the order of
    /// `Tx::client_users_of`).
    pub fn of(link: &Link, client: &ClientRecord, users: &[ClientUserRecord]) -> Result<ClientListRow> {
        Ok(ClientListRow {
            link_id: link.id,
            external_tenant_id: link.external_tenant_id.clone(),
            is_attributed: link.is_attributed,
            referral_fee_bps: link.referral_fee_bps,
            linked_at: link.linked_at,
            status: link.current_status(),
            client_id: client.id,
            company_name: client.company_name.clone(),
            support_email: client.support_email.clone(),
            country: client.country.clone(),
            registration_number: client.registration_number.clone(),
            details: ShownDetails::deserialize(&client.details).map_err(|e| StoreError::Corrupt(format!("a client's details: {e}")))?,
            onboarding_completed_at: client.onboarding_completed_at,
            users: users.iter().map(|u| UserContact { name: u.name.clone(), email: u.email.clone() }).collect(),
        })
    }
}

/// The parts of the statement, in the order of their rows (the `k` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Summary = 0,
    Item = 1,
}

const PARTS: [Part; 2] = [Part::Summary, Part::Item];

/// The columns of an item: what the list shows of the link and its client, the users and
/// the kept earnings rows as JSON arrays of arrays, and the case tallies.
const ITEM_COLS: &str = "link_id, external_tenant_id, is_attributed, referral_fee_bps, linked_at, status, client_id, company_name, \
     support_email, country, registration_number, details_json, onboarding_completed_at, pos, users_json, cases_n, cases_closed, kept_json";

/// A JSON array, as text, of the arrays `[cols…]` over the rows of `from`, in `order`
/// (`[]` when there are none).
fn json_array(backend: Backend, cols: &str, from: &str, order: &str) -> String {
    match backend {
        Backend::Sqlite => format!("(SELECT json_group_array(json_array({cols}){order}) {from})"),
        Backend::Postgres => format!("(SELECT COALESCE(CAST(json_agg(json_build_array({cols}){order}) AS TEXT), '[]') {from})"),
    }
}

/// The item part, one per backend (its text does not depend on the page).
fn item_part(backend: Backend) -> ReadPart {
    static PARTS: [std::sync::OnceLock<ReadPart>; 2] = [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    let slot = match backend {
        Backend::Sqlite => &PARTS[0],
        Backend::Postgres => &PARTS[1],
    };
    slot.get_or_init(|| {
        // As `Tx::client_users_of` orders them.
        let users = json_array(
            backend,
            "u.name, u.email",
            "FROM client_users u WHERE u.client_id = pg.client_id",
            " ORDER BY u.is_onboarding_user DESC, u.id",
        );
        // The kept rows `Tx::partner_client_earnings_usd` reads.
        let kept = json_array(
            backend,
            "k.currency, k.locked, k.n, k.usd_minor",
            "FROM client_earnings_totals k WHERE k.partner_id = $1 AND k.client_id = pg.client_id AND k.n <> 0",
            "",
        );
        let tally = |what: &str| {
            format!(
                "(SELECT CAST(SUM({what}) AS BIGINT) FROM partner_client_case_tallies t WHERE t.partner_id = $1 AND t.client_id = pg.client_id)"
            )
        };
        let closed = tally(&format!("CASE WHEN t.lifecycle = '{}' THEN t.n ELSE 0 END", refshare_core::case::Lifecycle::Closed.as_str()));
        ReadPart::new(
            format!(
                "SELECT l.id AS link_id, l.external_tenant_id AS external_tenant_id, l.is_attributed AS is_attributed, \
                 l.referral_fee_bps AS referral_fee_bps, l.linked_at AS linked_at, l.status AS status, cl.id AS client_id, \
                 cl.company_name AS company_name, cl.support_email AS support_email, cl.country AS country, \
                 cl.registration_number AS registration_number, cl.details_json AS details_json, \
                 cl.onboarding_completed_at AS onboarding_completed_at, pg.pos AS pos, {users} AS users_json, \
                 {} AS cases_n, {closed} AS cases_closed, {kept} AS kept_json \
                 FROM pg JOIN links l ON l.id = pg.link_id JOIN clients cl ON cl.id = pg.client_id",
                tally("t.n"),
            ),
            names(ITEM_COLS),
        )
        .ordered("b.pos", "NULL")
    })
    .clone()
}

/// One part's read.
fn part_sql(backend: Backend, part: Part, count: &str, rate_day: &str) -> ReadPart {
    match part {
        // The counts, and per currency of `estimate_rates` (every currency: migration 0025)
        // its state and its current rate, one probe of `fx_rates` each, as one JSON array
        // of `[currency, built, rate_e8, usd_per_unit_e8]` (one row, not one a currency).
        Part::Summary => {
            let rates = json_array(
                backend,
                &format!("e.currency, e.built, e.rate_e8, {}", current_rate_sql("e.currency", rate_day)),
                "FROM estimate_rates e",
                "",
            );
            ReadPart::new(
                format!(
                    "SELECT t.clients AS s_clients, t.attributed AS s_attributed, t.onboarded AS s_onboarded, \
                     (SELECT CAST(COALESCE(SUM(v.n), 0) AS BIGINT) FROM partner_case_tallies v WHERE v.partner_id = $1) AS s_cases, \
                     {count} AS s_total, {rates} AS s_rates_json \
                     FROM (SELECT 1 AS one) o LEFT JOIN partner_client_totals t ON t.partner_id = $1"
                ),
                names("s_clients, s_attributed, s_onboarded, s_cases, s_total, s_rates_json"),
            )
        }
        // One row a link, in the page's order: what the list shows of it and of its client
        // (`Tx::links_by_ids`, `Tx::clients_by_ids`), the client's users
        // (`Tx::client_users_of`), case counts (`Tx::partner_case_counts_by_client`) and
        // kept earnings rows (`Tx::partner_client_earnings_usd`), each read by the page's
        // links alone.
        Part::Item => item_part(backend),
    }
}

/// The statement: after `with`, the CTEs that end with `pg`, the page's links (`link_id`,
/// `client_id`, `pos`), every part.
fn page_sql(backend: Backend, with: &str, count: &str, rate_day: &str) -> UnionRead {
    let parts: Vec<ReadPart> = PARTS.iter().map(|p| part_sql(backend, *p, count, rate_day)).collect();
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
                (page_sql(self.backend, &with, &count, &day), args, None)
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
                (page_sql(self.backend, &format!("pg AS MATERIALIZED ({pg})"), "CAST(NULL AS BIGINT)", &day), args, Some(total))
            }
        };
        let rows = bind_all(sqlx::query(&read.sql), &args).fetch_all(self.conn()).await?;
        page_from(&rows, given_total, &read)
    }
}

/// A JSON array of `T` a statement built (the users and kept rows of an item).
fn json_of<'a, T: Deserialize<'a>>(text: &'a str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a page's {what}: {e}")))
}

/// An item's row: what the list shows of the link, its client and users, and into `page`
/// the client's case counts and kept earnings rows.
fn item_from<R: Cols + ?Sized>(r: &R, page: &mut ClientPageRows) -> Result<ClientListRow> {
    let client_id = uuid(&r.value::<String>("client_id")?)?;
    let status: String = r.value("status")?;
    let details: String = r.value("details_json")?;
    let users: Vec<(String, String)> = json_of(&r.value::<String>("users_json")?, "users")?;
    if let Some(n) = r.value::<Option<i64>>("cases_n")? {
        page.case_counts.insert(client_id, (n, r.value::<Option<i64>>("cases_closed")?.unwrap_or(0)));
    }
    let kept: Vec<(String, i64, i64, i64)> = json_of(&r.value::<String>("kept_json")?, "kept earnings")?;
    for (code, locked, n, usd) in kept {
        page.earnings.rows.push((client_id, currency(&code)?, locked != 0, n, usd));
    }
    Ok(ClientListRow {
        link_id: uuid(&r.value::<String>("link_id")?)?,
        external_tenant_id: r.value("external_tenant_id")?,
        is_attributed: r.value::<i64>("is_attributed")? != 0,
        referral_fee_bps: Bps(u32::try_from(r.value::<i64>("referral_fee_bps")?).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        linked_at: at(r.value("linked_at")?),
        status: LinkStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("link status {status}")))?,
        client_id,
        company_name: r.value("company_name")?,
        support_email: r.value("support_email")?,
        country: r.value("country")?,
        registration_number: r.value("registration_number")?,
        details: json_of(&details, "client details")?,
        onboarding_completed_at: opt_at(r.value("onboarding_completed_at")?),
        users: users.into_iter().map(|(name, email)| UserContact { name, email }).collect(),
    })
}

fn page_from(rows: &[AnyRow], given_total: Option<i64>, read: &UnionRead) -> Result<ClientPageRows> {
    let mut page = ClientPageRows {
        totals: PartnerClientTotals::default(),
        visible_cases: 0,
        total: given_total.unwrap_or(0),
        items: Vec::new(),
        case_counts: HashMap::new(),
        rates: Vec::new(),
        earnings: KeptClientEarnings::default(),
    };
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
                let rates: Vec<(String, i64, Option<i64>, Option<i64>)> = json_of(&r.value::<String>("s_rates_json")?, "rates")?;
                for (code, built, rate_e8, current) in rates {
                    let c = currency(&code)?;
                    page.earnings.estimate_rates.push((c, built != 0, rate_e8));
                    if let Some(rate) = current {
                        page.rates.push((code, rate));
                    }
                }
            }
            Part::Item => {
                let item = item_from(r, &mut page)?;
                page.items.push(item);
            }
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_branch_names_the_same_columns_and_each_part_its_own_in_its_slots() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let read = page_sql(backend, "pg AS MATERIALIZED (SELECT 1)", "CAST(NULL AS BIGINT)", "'2026-11-30'");
            crate::union_read::tests::check_slots(&read);
            assert_eq!(read.slots(), (11, 7), "an item's text columns (two of them JSON arrays); its integers");
            assert!(read.sql.contains("FROM estimate_rates e) AS s_rates_json"), "the rates in the summary's row");
            assert_eq!(read.sql.matches(" UNION ALL ").count() + 1, PARTS.len());
            let aggregate = if backend == Backend::Sqlite { "json_group_array(" } else { "json_agg(" };
            assert_eq!(read.sql.matches(aggregate).count(), 3, "the rates; users and kept earnings, each one array per item");
            assert!(
                read.sql.contains("array(u.name, u.email) ORDER BY u.is_onboarding_user DESC, u.id)"),
                "users as `[name, email]`, in order"
            );
            assert!(!read.sql.contains("link_events"), "a link's status is its column, not its history");
        }
    }
}
