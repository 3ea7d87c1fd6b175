//! A page of the partner's client list in one statement (issue 9): the summary's counts,
//! the number of links that match, the page's links with their histories, their clients,
//! the clients' users, the per-client visible case counts, the kept earnings rows, and per
//! currency the estimate rates' state with the current USD rate.
//!
//! One row per link of the page (the item part), not one per child row: the link's
//! columns, its client as a JSON array of its columns, and the client's users, the link's
//! history and the partner's kept earnings rows on the client as JSON arrays of such rows
//! ([`JsonCols`]), each read with the row decoder of its own read (`Tx::links_by_ids`,
//! `Tx::clients_by_ids`, `Tx::client_users_of`, `Tx::with_histories`, the kept rows of
//! `Tx::partner_client_earnings_usd`), beside the client's case tallies
//! (`Tx::partner_case_counts_by_client`). Each row and column costs its conversion in the
//! driver: at 1M this page answered 12–31 % more searches a second on SQLite, and 4–22 %
//! on PostgreSQL, than eight parts of one row per child row (docs/PERFORMANCE.md, "Session
//! 11"). The summary (`Tx::partner_client_totals`, `Tx::partner_visible_case_count`, the
//! count of `Tx::partner_client_page`) and the rates are the other two parts of the
//! [`UnionRead`]: the rates part is `estimate_rates` with each currency's current rate
//! probed as `Tx::fx_rates_on_or_before` probes it, one row a currency.
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
use crate::{json_rows, JsonCols};
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
    Item = 1,
    Rates = 2,
}

const PARTS: [Part; 3] = [Part::Summary, Part::Item, Part::Rates];

/// The columns of an item beside its link's: the client, users, history and kept earnings
/// each as JSON (one row, or an array of rows; a row an array of its columns), and the
/// case tallies.
const ITEM_COLS: &str = "pos, client_json, users_json, events_json, cases_n, cases_closed, kept_json";

/// A JSON array of the values of `cols` of the row `alias`, in their order ([`JsonCols`]).
fn json_row(backend: Backend, alias: &str, cols: &str) -> String {
    let values: Vec<String> = names(cols).iter().map(|c| format!("{alias}.{c}")).collect();
    match backend {
        Backend::Sqlite => format!("json_array({})", values.join(", ")),
        Backend::Postgres => format!("json_build_array({})", values.join(", ")),
    }
}

/// A JSON array, as text, of `row` over the rows of `from` (`[]` when there are none).
fn json_array(backend: Backend, row: &str, from: &str) -> String {
    match backend {
        Backend::Sqlite => format!("(SELECT json_group_array({row}) {from})"),
        Backend::Postgres => format!("(SELECT COALESCE(CAST(json_agg({row}) AS TEXT), '[]') {from})"),
    }
}

/// The columns of a kept earnings row in an item.
const KEPT_COLS: &str = "client_id, currency, locked, n, usd";

/// One part's read.
fn part_sql(backend: Backend, part: Part, count: &str, rate_day: &str) -> ReadPart {
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
        // One row a link, in the page's order: the link's columns (`Tx::links_by_ids`), and
        // of its client the columns of `Tx::clients_by_ids`, the users of
        // `Tx::client_users_of`, the history of `Tx::with_histories`, the case counts of
        // `Tx::partner_case_counts_by_client` and the kept earnings rows of
        // `Tx::partner_client_earnings_usd`, each read by the page's 50 links alone.
        Part::Item => {
            let client = json_row(backend, "cl", CLIENT_COLS);
            let client = match backend {
                Backend::Sqlite => client,
                Backend::Postgres => format!("CAST({client} AS TEXT)"),
            };
            let users = json_array(backend, &json_row(backend, "u", USER_COLS), "FROM client_users u WHERE u.client_id = pg.client_id");
            let events = json_array(backend, &json_row(backend, "ev", EVENT_COLS), "FROM link_events ev WHERE ev.link_id = pg.link_id");
            let kept = json_array(
                backend,
                &json_row(backend, "k", KEPT_COLS),
                "FROM (SELECT client_id, currency, locked, n, usd_minor AS usd FROM client_earnings_totals \
                 WHERE partner_id = $1 AND client_id = pg.client_id AND n <> 0) k",
            );
            let tally = |what: &str| {
                format!(
                    "(SELECT CAST(SUM({what}) AS BIGINT) FROM partner_client_case_tallies t WHERE t.partner_id = $1 AND t.client_id = pg.client_id)"
                )
            };
            let closed =
                tally(&format!("CASE WHEN t.lifecycle = '{}' THEN t.n ELSE 0 END", refshare_core::case::Lifecycle::Closed.as_str()));
            let mut n = names(LINK_COLS);
            n.extend(names(ITEM_COLS));
            ReadPart::new(
                format!(
                    "SELECT {}, pg.pos AS pos, {client} AS client_json, {users} AS users_json, {events} AS events_json, \
                     {} AS cases_n, {closed} AS cases_closed, {kept} AS kept_json \
                     FROM pg JOIN links l ON l.id = pg.link_id JOIN clients cl ON cl.id = pg.client_id",
                    from_alias("l", LINK_COLS),
                    tally("t.n"),
                ),
                n,
            )
            .ordered("b.pos", "NULL")
        }
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

/// The column names of the JSON rows of an item, in their order.
struct JsonNames {
    client: Vec<String>,
    user: Vec<String>,
    event: Vec<String>,
    kept: Vec<String>,
}

impl JsonNames {
    fn get() -> &'static JsonNames {
        static NAMES: std::sync::OnceLock<JsonNames> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| JsonNames {
            client: names(CLIENT_COLS),
            user: names(USER_COLS),
            event: names(EVENT_COLS),
            kept: names(KEPT_COLS),
        })
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
    let json = JsonNames::get();
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
            Part::Item => {
                let mut link = link_from(r)?;
                let client: Vec<serde_json::Value> = serde_json::from_str(&r.value::<String>("client_json")?)
                    .map_err(|e| StoreError::Corrupt(format!("a page's client: {e}")))?;
                let client = client_from(&JsonCols { names: &json.client, values: &client })?;
                // As `Tx::with_histories` and `Tx::client_users_of` order them.
                let mut events: Vec<(i64, LinkEvent)> = Vec::new();
                for e in json_rows(&r.value::<String>("events_json")?)? {
                    let e = JsonCols { names: &json.event, values: &e };
                    events.push((e.value("seq")?, event_from(&e)?));
                }
                events.sort_by_key(|(seq, _)| *seq);
                link.history = events.into_iter().map(|(_, e)| e).collect();
                let mut users = json_rows(&r.value::<String>("users_json")?)?
                    .iter()
                    .map(|u| user_from(&JsonCols { names: &json.user, values: u }))
                    .collect::<Result<Vec<ClientUserRecord>>>()?;
                users.sort_by(|a, b| b.is_onboarding_user.cmp(&a.is_onboarding_user).then_with(|| a.id.cmp(&b.id)));
                if let Some(n) = r.value::<Option<i64>>("cases_n")? {
                    page.case_counts.insert(client.id, (n, r.value::<Option<i64>>("cases_closed")?.unwrap_or(0)));
                }
                for k in json_rows(&r.value::<String>("kept_json")?)? {
                    page.earnings.rows.push(kept_row_from(&JsonCols { names: &json.kept, values: &k }, "usd")?);
                }
                if !users.is_empty() {
                    page.users.insert(client.id, users);
                }
                page.links.push(link);
                page.clients.insert(client.id, client);
            }
            Part::Rates => {
                let (currency, built, rate_e8) = estimate_rate_from(r, "built", "rate_e8")?;
                page.earnings.estimate_rates.push((currency, built, rate_e8));
                if let Some(rate) = r.value::<Option<i64>>("usd_per_unit_e8")? {
                    page.rates.push((currency.code().to_string(), rate));
                }
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
            assert_eq!(read.slots(), (10, 6), "a link's text columns and the item's four JSON columns; its integers");
            assert!(read.sql.contains("FROM estimate_rates e"), "one row per currency");
            assert_eq!(read.sql.matches(" UNION ALL ").count() + 1, PARTS.len());
            let aggregate = if backend == Backend::Sqlite { "json_group_array(" } else { "json_agg(" };
            assert_eq!(read.sql.matches(aggregate).count(), 3, "users, history and kept earnings, each one array per item");
            let row =
                if backend == Backend::Sqlite { "json_array(cl.id, cl.company_name" } else { "json_build_array(cl.id, cl.company_name" };
            assert!(read.sql.contains(row), "the client as an array of its columns in CLIENT_COLS' order");
        }
    }
}
