//! Cases: creation, lookups, lifecycle changes, and the two paged listings (a client's own
//! cases; the cases a partner may see, SPEC §5).

use refshare_core::case::{CaseSource, Lifecycle};
use refshare_core::money::{Bps, Currency};
use refshare_core::Instant;
use uuid::Uuid;

use crate::in_list::texts;
use crate::search::{partner_visible_set_sql, Search, PARTNER_VISIBLE_FROM, PARTNER_VISIBLE_SQL};
use crate::{at, get, ms, opt_uuid, uuid, Backend, CaseAssignment, CaseRecord, Cols, PageReq, Result, StoreError, Tx};

const LIFECYCLES: [Lifecycle; 4] = [Lifecycle::PendingContractSigning, Lifecycle::Active, Lifecycle::Paused, Lifecycle::Closed];

pub(crate) const CASE_COLS: &str = "c.id, c.reference, c.client_id, c.creditor_reference, c.source, c.creating_partner_id, c.created_at, c.updated_at, c.lifecycle, c.close_code, c.amount_minor, c.currency, c.debtor_type, c.debtor_name, c.debtor_country, c.details_json, c.collection_partner_id, c.success_fee_bps, c.platform_share_bps, \
    (SELECT CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) FROM payments p \
     WHERE p.case_id = c.id AND NOT EXISTS (SELECT 1 FROM payment_reversals r WHERE r.payment_id = p.id)) AS paid_minor";

pub(crate) fn case_from<R: Cols + ?Sized>(r: &R) -> Result<CaseRecord> {
    let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("{what} `{v}`"));
    let source: String = r.value("source")?;
    let lifecycle: String = r.value("lifecycle")?;
    let currency: String = r.value("currency")?;
    let details: String = r.value("details_json")?;
    let cp: Option<String> = r.value("collection_partner_id")?;
    let assignment = match cp {
        Some(cp) => Some(CaseAssignment {
            collection_partner_id: uuid(&cp)?,
            success_fee_bps: Bps(r.value::<Option<i64>>("success_fee_bps")?.unwrap_or(0) as u32),
            platform_share_bps: Bps(r.value::<Option<i64>>("platform_share_bps")?.unwrap_or(0) as u32),
        }),
        None => None,
    };
    Ok(CaseRecord {
        id: uuid(&r.value::<String>("id")?)?,
        reference: r.value("reference")?,
        client_id: uuid(&r.value::<String>("client_id")?)?,
        creditor_reference: r.value("creditor_reference")?,
        source: CaseSource::parse(&source).ok_or_else(|| corrupt("source", &source))?,
        creating_partner_id: opt_uuid(r.value("creating_partner_id")?)?,
        created_at: at(r.value("created_at")?),
        updated_at: at(r.value("updated_at")?),
        lifecycle: Lifecycle::parse(&lifecycle).ok_or_else(|| corrupt("lifecycle", &lifecycle))?,
        close_code: r.value("close_code")?,
        amount_minor: r.value("amount_minor")?,
        currency: Currency::parse(&currency).map_err(|_| corrupt("currency", &currency))?,
        debtor_type: r.value("debtor_type")?,
        debtor_name: r.value("debtor_name")?,
        debtor_country: r.value("debtor_country")?,
        details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        assignment,
        paid_minor: r.value("paid_minor")?,
    })
}

/// A bind value for dynamically built filters.
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// Filters of the partner's case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub external_tenant_id: Option<String>,
    pub created_from: Option<Instant>,
    pub created_to: Option<Instant>,
    pub lifecycles: Vec<Lifecycle>,
    /// Any of these creation sources (none: every source).
    pub sources: Vec<CaseSource>,
    /// Matches the reference, creditor reference, debtor name or the client's company name
    /// (case-insensitive substring; indexed from three characters, see `search`).
    pub query: Option<String>,
    pub ids: Vec<Uuid>,
    /// Sort column (`created_at`, `amount_minor`) and direction.
    pub sort: Option<(String, bool)>,
    /// Keyset pagination: only the cases after this one in the list's order. It narrows the
    /// page, not the total (the count is of the whole filtered list).
    pub after: Option<CaseCursor>,
}

impl CaseFilter {
    /// Whether anything narrows the partner's visible cases (the cursor does not count).
    pub fn narrows(&self) -> bool {
        self.external_tenant_id.is_some()
            || self.created_from.is_some()
            || self.created_to.is_some()
            || !self.lifecycles.is_empty()
            || !self.sources.is_empty()
            || self.query.is_some()
            || !self.ids.is_empty()
    }

    /// The sort column and whether it is ascending (default: newest first).
    fn order(&self) -> (&'static str, bool) {
        let (col, asc) = self.sort.clone().unwrap_or(("created_at".into(), false));
        let col = match col.as_str() {
            "amount_minor" => "c.amount_minor",
            _ => "c.created_at",
        };
        (col, asc)
    }

    /// The cursor of `case` in this filter's order, to ask for the cases after it.
    pub fn cursor_of(&self, case: &CaseRecord) -> CaseCursor {
        let value = match self.order().0 {
            "c.amount_minor" => case.amount_minor,
            _ => ms(case.created_at),
        };
        CaseCursor { value, id: case.id }
    }
}

/// A position in a case list: the sort column's value (epoch ms or minor units) and the
/// case id that breaks ties, as the list orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseCursor {
    pub value: i64,
    pub id: Uuid,
}

impl CaseCursor {
    /// The cursor as text (`<value>_<id>`), for a query parameter.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.value, self.id)
    }

    pub fn decode(s: &str) -> Option<CaseCursor> {
        let (value, id) = s.split_once('_')?;
        Some(CaseCursor { value: value.parse().ok()?, id: Uuid::parse_str(id).ok()? })
    }
}

/// Whose cases a list reads: a partner's (its id bound as `$1`) or one client's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Partner,
    Client,
}

/// Pushes the WHERE clauses and binds of `f`. A partner's indexed search is a FROM clause
/// instead (see [`Search::partner_from`], [`Search::partner_keys_from`]): returned, to
/// replace [`PARTNER_VISIBLE_FROM`].
fn push_filters(backend: Backend, scope: Scope, f: &CaseFilter, clauses: &mut Vec<String>, args: &mut Vec<Arg>) -> Option<String> {
    let next = |clauses: &mut Vec<String>, args: &mut Vec<Arg>, sql: &str, a: Arg| {
        args.push(a);
        clauses.push(sql.replace('?', &format!("${}", args.len())));
    };
    if let Some(t) = &f.external_tenant_id {
        next(clauses, args, "l.external_tenant_id = ?", Arg::Text(t.clone()));
    }
    if let Some(t) = f.created_from {
        next(clauses, args, "c.created_at >= ?", Arg::Int(ms(t)));
    }
    if let Some(t) = f.created_to {
        next(clauses, args, "c.created_at <= ?", Arg::Int(ms(t)));
    }
    if !f.lifecycles.is_empty() {
        let mut parts = Vec::new();
        for l in &f.lifecycles {
            args.push(Arg::Text(l.as_str().to_string()));
            parts.push(format!("c.lifecycle = ${}", args.len()));
        }
        clauses.push(format!("({})", parts.join(" OR ")));
    }
    if !f.sources.is_empty() {
        let mut parts = Vec::new();
        for s in &f.sources {
            args.push(Arg::Text(s.as_str().to_string()));
            parts.push(format!("c.source = ${}", args.len()));
        }
        clauses.push(format!("({})", parts.join(" OR ")));
    }
    if !f.ids.is_empty() {
        let mut parts = Vec::new();
        for id in &f.ids {
            args.push(Arg::Text(id.to_string()));
            parts.push(format!("c.id = ${}", args.len()));
        }
        clauses.push(format!("({})", parts.join(" OR ")));
    }
    if let Some(q) = &f.query {
        // Case-folded in Rust (SQLite folds ASCII only); user input is never SQL, LIKE or
        // FTS syntax (see `search`).
        let search = Search::new(q);
        if scope == Scope::Partner {
            if let Some((from, bind)) = search.partner_from(backend, args.len() + 1, "JOIN links l ON l.client_id = c.client_id") {
                args.push(Arg::Text(bind));
                return Some(from);
            }
            if let Some((from, bind)) = search.partner_keys_from(backend, args.len() + 1, "JOIN links l ON l.client_id = c.client_id") {
                args.push(Arg::Text(bind));
                return Some(from);
            }
        }
        let (sql, binds) = search.cases_clause(backend, args.len() + 1);
        args.extend(binds.into_iter().map(Arg::Text));
        clauses.push(sql);
    }
    None
}

/// The text a case is found by: reference, creditor reference and debtor name, lower-cased
/// (the search indexes of migration 0018 are built from it). Every writer of `cases` uses it.
pub(crate) fn search_key(c: &CaseRecord) -> String {
    format!("{}\n{}\n{}", c.reference, c.creditor_reference, c.debtor_name).to_lowercase()
}

/// The first millisecond of the UTC calendar month of `at`: the `month_ms` of the case
/// tallies (migration 0026).
pub(crate) fn month_start_ms(at: Instant) -> i64 {
    use chrono::{Datelike, TimeZone};
    let start = chrono::Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0).single().expect("the first of a month exists");
    ms(start)
}

fn order_by(f: &CaseFilter) -> String {
    let (col, asc) = f.order();
    let dir = if asc { "ASC" } else { "DESC" };
    format!("ORDER BY {col} {dir}, c.id {dir}")
}

/// The keyset clause of `f.after` (the rows after the cursor in `f`'s order), with its binds
/// pushed onto `args`.
fn push_cursor(f: &CaseFilter, clauses: &mut Vec<String>, args: &mut Vec<Arg>) {
    if let Some(cur) = f.after {
        let (col, asc) = f.order();
        let op = if asc { ">" } else { "<" };
        args.push(Arg::Int(cur.value));
        let v = args.len();
        args.push(Arg::Text(cur.id.to_string()));
        let id = args.len();
        clauses.push(format!("({col} {op} ${v} OR ({col} = ${v} AND c.id {op} ${id}))"));
    }
}

/// The FROM clause, WHERE clauses and binds of the partner's visible cases, filtered. A
/// search without other filters in the default order reads the partner's visible set
/// and its part of the search index only (see [`Search::partner_keys_only`]); on
/// PostgreSQL no filter at all in the default order reads the visible set alone
/// ([`partner_visible_set_sql`]).
fn partner_clauses(backend: Backend, partner_id: Uuid, f: &CaseFilter) -> (String, Vec<String>, Vec<Arg>) {
    let mut args = vec![Arg::Text(partner_id.to_string())];
    let only_query = CaseFilter { query: None, sort: None, after: None, ..f.clone() };
    if !only_query.narrows() && f.order() == ("c.created_at", false) {
        if let Some((from, clause, bind)) = f.query.as_deref().and_then(|q| Search::new(q).partner_keys_only(backend, 2)) {
            args.push(Arg::Text(bind));
            return (from, vec![clause], args);
        }
    }
    if let (false, ("c.created_at", false), Some((from, clause))) = (f.narrows(), f.order(), partner_visible_set_sql(backend)) {
        return (from.to_string(), vec![clause.to_string()], args);
    }
    let mut clauses = vec![format!("({PARTNER_VISIBLE_SQL})")];
    let from = push_filters(backend, Scope::Partner, f, &mut clauses, &mut args);
    (from.unwrap_or_else(|| PARTNER_VISIBLE_FROM.to_string()), clauses, args)
}

/// A list query: its WHERE clauses (filters and cursor) and binds.
struct Listed {
    /// The filters: what the total counts.
    filters: Vec<String>,
    /// The filters and the keyset cursor: what the page shows.
    page: Vec<String>,
    /// The filters' binds, then the cursor's.
    args: Vec<Arg>,
    filter_args: usize,
}

impl Listed {
    fn new(mut clauses: Vec<String>, mut args: Vec<Arg>, f: &CaseFilter) -> Listed {
        let (filters, filter_args) = (clauses.clone(), args.len());
        push_cursor(f, &mut clauses, &mut args);
        Listed { filters, page: clauses, args, filter_args }
    }

    fn count_sql(&self, from: &str) -> String {
        format!("SELECT COUNT(*) AS n {from} WHERE {}", self.filters.join(" AND "))
    }

    /// The page query (no cursor) with the total of the filtered list on every row
    /// (`total_n`). SQLite: a window count taken before the page's `LIMIT`. PostgreSQL: the
    /// matches (id and sort value) read once into a materialized CTE, then the page chosen
    /// from it by a top-N sort and the total counted from it: the window form let the
    /// planner walk `partner_case_keys_created` (0035) backwards through the partner's
    /// whole visible set, filtering every row by the search pattern, because the `ORDER
    /// BY … LIMIT` looked cheap on that index, although the window count reads every
    /// match anyway (PERFORMANCE.md, "PostgreSQL dashboard reads at 1M"). The same rows
    /// in the same order either way.
    fn list_counted_sql(&self, backend: Backend, from: &str, f: &CaseFilter, page: PageReq) -> String {
        let order = order_by(f);
        let filters = self.filters.join(" AND ");
        let (size, offset) = (page.size, page.offset());
        match backend {
            Backend::Sqlite => format!(
                "SELECT {CASE_COLS}, pg.total_n AS total_n FROM cases c JOIN \
                 (SELECT c.id AS page_id, COUNT(*) OVER () AS total_n {from} WHERE {filters} {order} LIMIT {size} OFFSET {offset}) pg \
                 ON pg.page_id = c.id {order}"
            ),
            Backend::Postgres => {
                let (col, asc) = f.order();
                let dir = if asc { "ASC" } else { "DESC" };
                format!(
                    "WITH hits AS MATERIALIZED (SELECT c.id AS page_id, {col} AS sort_v {from} WHERE {filters}) \
                     SELECT {CASE_COLS}, n.total_n AS total_n FROM \
                     (SELECT page_id FROM hits ORDER BY sort_v {dir}, page_id {dir} LIMIT {size} OFFSET {offset}) pg \
                     JOIN cases c ON c.id = pg.page_id CROSS JOIN (SELECT COUNT(*) AS total_n FROM hits) n {order}"
                )
            }
        }
    }

    /// The page query. With a cursor the page starts right after it (`page.page` is not
    /// used); without one at `page.offset()`.
    fn list_sql(&self, from: &str, order: &str, page: PageReq, keyset: bool) -> String {
        let offset = if keyset { 0 } else { page.offset() };
        // The page's ids first, then the page's rows: the sum of each case's payments is
        // computed for the page only, not for every row the sort has to look at.
        format!(
            "SELECT {CASE_COLS} FROM cases c JOIN (SELECT c.id AS page_id {from} WHERE {} {order} LIMIT {} OFFSET {offset}) pg \
             ON pg.page_id = c.id {order}",
            self.page.join(" AND "),
            page.size,
        )
    }
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    q
}

impl Tx {
    /// Allocates the next case reference number.
    pub async fn next_case_number(&mut self) -> Result<i64> {
        let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'case_reference' RETURNING value")
            .fetch_one(self.conn())
            .await?;
        get(&row, "value")
    }

    pub async fn insert_case(&mut self, c: &CaseRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO cases (id, reference, client_id, creditor_reference, source, creating_partner_id, created_at, updated_at, lifecycle, close_code,
             amount_minor, currency, debtor_type, debtor_name, debtor_country, details_json, collection_partner_id, success_fee_bps, platform_share_bps, search_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(c.id.to_string())
        .bind(&c.reference)
        .bind(c.client_id.to_string())
        .bind(&c.creditor_reference)
        .bind(c.source.as_str())
        .bind(c.creating_partner_id.map(|p| p.to_string()))
        .bind(ms(c.created_at))
        .bind(ms(c.updated_at))
        .bind(c.lifecycle.as_str())
        .bind(c.close_code.clone())
        .bind(c.amount_minor)
        .bind(c.currency.code())
        .bind(&c.debtor_type)
        .bind(&c.debtor_name)
        .bind(&c.debtor_country)
        .bind(c.details.to_string())
        .bind(c.assignment.map(|a| a.collection_partner_id.to_string()))
        .bind(c.assignment.map(|a| a.success_fee_bps.0 as i64))
        .bind(c.assignment.map(|a| a.platform_share_bps.0 as i64))
        .bind(search_key(c))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Writes the lifecycle, close code and assignment of a case.
    pub async fn update_case_state(&mut self, c: &CaseRecord) -> Result<()> {
        sqlx::query(
            "UPDATE cases SET lifecycle = $2, close_code = $3, collection_partner_id = $4, success_fee_bps = $5, platform_share_bps = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(c.id.to_string())
        .bind(c.lifecycle.as_str())
        .bind(c.close_code.clone())
        .bind(c.assignment.map(|a| a.collection_partner_id.to_string()))
        .bind(c.assignment.map(|a| a.success_fee_bps.0 as i64))
        .bind(c.assignment.map(|a| a.platform_share_bps.0 as i64))
        .bind(ms(c.updated_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Takes the case's row lock so that concurrent payments on one case run one after the
    /// other and each sees what the other booked before it checks what is still owed. On
    /// PostgreSQL `SELECT … FOR NO KEY UPDATE`: the lock an `UPDATE` of the row's non-key
    /// columns takes (so it waits for, and holds off, any other writer of the case, and
    /// lets the foreign-key checks of new payments through) without writing a new version
    /// of the row. On SQLite, which has one writer anyway, an `UPDATE` that changes nothing.
    pub async fn lock_case(&mut self, id: Uuid) -> Result<()> {
        let sql = match self.backend {
            crate::Backend::Postgres => "SELECT id FROM cases WHERE id = $1 FOR NO KEY UPDATE",
            crate::Backend::Sqlite => "UPDATE cases SET lifecycle = lifecycle WHERE id = $1",
        };
        sqlx::query(sql).bind(id.to_string()).execute(self.conn()).await?;
        Ok(())
    }

    /// [`Tx::lock_case`] for each of `ids`, in id order (the order every shared payment
    /// transaction takes them in), in one statement: on PostgreSQL the rows are locked as
    /// they come out of the `ORDER BY` (the text order of `COLLATE "C"` is the order of the
    /// ids' bytes, `Uuid`'s own); on SQLite, where the one writer connection already
    /// serialises writers, one `UPDATE` for all of them.
    pub async fn lock_cases(&mut self, ids: &std::collections::BTreeSet<Uuid>) -> Result<()> {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        if ids.is_empty() {
            return Ok(());
        }
        match self.backend {
            crate::Backend::Postgres => {
                sqlx::query("SELECT id FROM cases WHERE id = ANY(string_to_array($1, ',')) ORDER BY id COLLATE \"C\" FOR NO KEY UPDATE")
                    .bind(ids.join(","))
                    .execute(self.conn())
                    .await?;
            }
            crate::Backend::Sqlite => {
                self.rows_in("UPDATE cases SET lifecycle = lifecycle WHERE id IN ({in})", None, &ids).await?;
            }
        }
        Ok(())
    }

    async fn one_case(&mut self, clause: &str, arg: String) -> Result<Option<CaseRecord>> {
        let row = sqlx::query(&format!("SELECT {CASE_COLS} FROM cases c WHERE {clause}")).bind(arg).fetch_optional(self.conn()).await?;
        row.as_ref().map(case_from).transpose()
    }

    pub async fn case(&mut self, id: Uuid) -> Result<Option<CaseRecord>> {
        self.one_case("c.id = $1", id.to_string()).await
    }

    pub async fn case_by_reference(&mut self, reference: &str) -> Result<Option<CaseRecord>> {
        self.one_case("c.reference = $1", reference.to_string()).await
    }

    /// The cases with these references (one query per `IN_CHUNK` references); unknown
    /// references are left out.
    pub async fn cases_by_references(&mut self, references: &[String]) -> Result<Vec<CaseRecord>> {
        let mut refs = references.to_vec();
        refs.sort();
        refs.dedup();
        let rows = self.rows_in(&format!("SELECT {CASE_COLS} FROM cases c WHERE c.reference IN ({{in}})"), None, &refs).await?;
        rows.iter().map(case_from).collect()
    }

    pub async fn case_by_creditor_reference(&mut self, client_id: Uuid, creditor_reference: &str) -> Result<Option<CaseRecord>> {
        let row = sqlx::query(&format!("SELECT {CASE_COLS} FROM cases c WHERE c.client_id = $1 AND c.creditor_reference = $2"))
            .bind(client_id.to_string())
            .bind(creditor_reference)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(case_from).transpose()
    }

    pub async fn cases_of_client(&mut self, client_id: Uuid) -> Result<Vec<CaseRecord>> {
        let rows = sqlx::query(&format!("SELECT {CASE_COLS} FROM cases c WHERE c.client_id = $1 ORDER BY c.created_at, c.id"))
            .bind(client_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(case_from).collect()
    }

    /// A page of a client's own cases, with the total count.
    pub async fn client_cases_page(&mut self, client_id: Uuid, f: &CaseFilter, page: PageReq) -> Result<(Vec<CaseRecord>, i64)> {
        let mut args = vec![Arg::Text(client_id.to_string())];
        let mut clauses = vec!["c.client_id = $1".to_string()];
        // A client's own list has no link, so the tenant filter does not apply.
        let f = CaseFilter { external_tenant_id: None, ..f.clone() };
        push_filters(self.backend, Scope::Client, &f, &mut clauses, &mut args);
        let listed = Listed::new(clauses, args, &f);
        let total = self.count_listed("FROM cases c", &listed).await?;
        let cases = self.list_listed("FROM cases c", &listed, &f, page).await?;
        Ok((cases, total))
    }

    /// A page of the cases visible to a partner now (SPEC §5), with the total count. Without
    /// a cursor both come from one statement (the total counted over the matches read once:
    /// a window count on SQLite, a materialized CTE on PostgreSQL); a cursor, or a page
    /// past the end, counts apart.
    pub async fn partner_cases_page(&mut self, partner_id: Uuid, f: &CaseFilter, page: PageReq) -> Result<(Vec<CaseRecord>, i64)> {
        if f.after.is_some() {
            let total = self.partner_cases_count(partner_id, f).await?;
            return Ok((self.partner_cases(partner_id, f, page).await?, total));
        }
        let (listed, from) = self.partner_listed(partner_id, f);
        let sql = listed.list_counted_sql(self.backend, &from, f, page);
        let rows = bind_all(sqlx::query(&sql), &listed.args).fetch_all(self.conn()).await?;
        let total = match rows.first() {
            Some(r) => get(r, "total_n")?,
            None => self.count_listed(&from, &listed).await?,
        };
        Ok((rows.iter().map(case_from).collect::<Result<_>>()?, total))
    }

    /// A page of the cases visible to a partner now (SPEC §5), in `f`'s order: at
    /// `page.offset()`, or with `f.after` the `page.size` cases right after that cursor
    /// (keyset pagination: rows inserted meanwhile neither shift nor repeat the pages).
    pub async fn partner_cases(&mut self, partner_id: Uuid, f: &CaseFilter, page: PageReq) -> Result<Vec<CaseRecord>> {
        let (listed, from) = self.partner_listed(partner_id, f);
        self.list_listed(&from, &listed, f, page).await
    }

    /// How many cases visible to the partner now match `f` (the cursor aside).
    pub async fn partner_cases_count(&mut self, partner_id: Uuid, f: &CaseFilter) -> Result<i64> {
        let (listed, from) = self.partner_listed(partner_id, f);
        self.count_listed(&from, &listed).await
    }

    /// The partner's list query and its FROM clause.
    fn partner_listed(&self, partner_id: Uuid, f: &CaseFilter) -> (Listed, String) {
        let (from, clauses, args) = partner_clauses(self.backend, partner_id, f);
        (Listed::new(clauses, args, f), from)
    }

    /// The database's plan for the page query of [`Tx::partner_cases_page`] (SQLite
    /// `EXPLAIN QUERY PLAN` details, PostgreSQL `EXPLAIN` lines): to check that a search
    /// uses its index.
    pub async fn partner_cases_plan(&mut self, partner_id: Uuid, f: &CaseFilter, page: PageReq) -> Result<Vec<String>> {
        let (listed, from) = self.partner_listed(partner_id, f);
        let sql = listed.list_sql(&from, &order_by(f), page, f.after.is_some());
        self.plan(&sql, &listed.args).await
    }

    /// The database's plan for [`Tx::partner_cases_count`].
    pub async fn partner_cases_count_plan(&mut self, partner_id: Uuid, f: &CaseFilter) -> Result<Vec<String>> {
        let (listed, from) = self.partner_listed(partner_id, f);
        let sql = listed.count_sql(&from);
        self.plan(&sql, &listed.args[..listed.filter_args]).await
    }

    pub(crate) async fn plan(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<String>> {
        let (sql, col) = match self.backend {
            Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {sql}"), "detail"),
            Backend::Postgres => (format!("EXPLAIN {sql}"), "QUERY PLAN"),
        };
        let rows = bind_all(sqlx::query(&sql), args).fetch_all(self.conn()).await?;
        rows.iter().map(|r| get::<String>(r, col)).collect()
    }

    /// PostgreSQL: plan this transaction as if its tables were large (no sequential scans
    /// while an index can do), for plan checks on a small database. SQLite: nothing.
    pub async fn plan_as_if_large(&mut self) -> Result<()> {
        if self.backend == Backend::Postgres {
            self.simple("SET LOCAL enable_seqscan = off").await?;
        }
        Ok(())
    }

    async fn count_listed(&mut self, from: &str, listed: &Listed) -> Result<i64> {
        let sql = listed.count_sql(from);
        get(&bind_all(sqlx::query(&sql), &listed.args[..listed.filter_args]).fetch_one(self.conn()).await?, "n")
    }

    async fn list_listed(&mut self, from: &str, listed: &Listed, f: &CaseFilter, page: PageReq) -> Result<Vec<CaseRecord>> {
        let sql = listed.list_sql(from, &order_by(f), page, f.after.is_some());
        let rows = bind_all(sqlx::query(&sql), &listed.args).fetch_all(self.conn()).await?;
        rows.iter().map(case_from).collect()
    }
}

impl Tx {
    /// Counts of the cases visible to a partner now, by lifecycle, and how many of them were
    /// created since the start of the UTC month of `month_of`: read from the partner's
    /// tallies (migration 0026, a few rows per month of history), not from its cases.
    pub async fn partner_case_counts(&mut self, partner_id: Uuid, month_of: Instant) -> Result<(Vec<(Lifecycle, i64)>, i64)> {
        let rows = sqlx::query(
            "SELECT lifecycle, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(CASE WHEN month_ms >= $2 THEN n ELSE 0 END) AS BIGINT) AS recent \
             FROM partner_case_tallies WHERE partner_id = $1 GROUP BY lifecycle",
        )
        .bind(partner_id.to_string())
        .bind(month_start_ms(month_of))
        .fetch_all(self.conn())
        .await?;
        let mut by = Vec::new();
        let mut recent = 0i64;
        for r in &rows {
            let lifecycle: String = get(r, "lifecycle")?;
            let l = Lifecycle::parse(&lifecycle).ok_or_else(|| StoreError::Corrupt(format!("lifecycle `{lifecycle}`")))?;
            let n: i64 = get(r, "n")?;
            recent += get::<i64>(r, "recent")?;
            if n > 0 {
                by.push((l, n));
            }
        }
        by.sort_by_key(|(l, _)| LIFECYCLES.iter().position(|x| x == l));
        Ok((by, recent))
    }

    /// How many cases the partner sees now: the sum of its tallies (migration 0026).
    pub async fn partner_visible_case_count(&mut self, partner_id: Uuid) -> Result<i64> {
        let row = sqlx::query("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM partner_case_tallies WHERE partner_id = $1")
            .bind(partner_id.to_string())
            .fetch_one(self.conn())
            .await?;
        get(&row, "n")
    }

    /// The counts of [`Tx::partner_case_counts`] computed from the cases themselves through
    /// [`PARTNER_VISIBLE_SQL`] (one pass over the partner's visible cases): what the tallies
    /// must equal, for tests and checks.
    pub async fn partner_case_counts_from_cases(&mut self, partner_id: Uuid, month_of: Instant) -> Result<(Vec<(Lifecycle, i64)>, i64)> {
        let sums: Vec<String> = LIFECYCLES
            .iter()
            .enumerate()
            .map(|(i, l)| format!("CAST(COALESCE(SUM(CASE WHEN c.lifecycle = '{}' THEN 1 ELSE 0 END), 0) AS BIGINT) AS n{i}", l.as_str()))
            .collect();
        let row = sqlx::query(&format!(
            "SELECT {}, CAST(COALESCE(SUM(CASE WHEN c.created_at >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS recent \
             {PARTNER_VISIBLE_FROM} WHERE ({PARTNER_VISIBLE_SQL})",
            sums.join(", ")
        ))
        .bind(partner_id.to_string())
        .bind(month_start_ms(month_of))
        .fetch_one(self.conn())
        .await?;
        let mut by = Vec::new();
        for (i, l) in LIFECYCLES.iter().enumerate() {
            let n: i64 = get(&row, &format!("n{i}"))?;
            if n > 0 {
                by.push((*l, n));
            }
        }
        Ok((by, get(&row, "recent")?))
    }

    /// Per client of `client_ids`: how many of its cases the partner sees now and how many
    /// of those are closed, from the per-client tallies (migration 0036; one query per
    /// `IN_CHUNK` clients, a few rows a client). Clients without visible cases are absent
    /// or (0, 0).
    pub async fn partner_case_counts_by_client(
        &mut self,
        partner_id: Uuid,
        client_ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, (i64, i64)>> {
        let mut out = std::collections::HashMap::new();
        let sql = format!(
            "SELECT client_id, CAST(SUM(n) AS BIGINT) AS n, \
             CAST(SUM(CASE WHEN lifecycle = '{}' THEN n ELSE 0 END) AS BIGINT) AS closed \
             FROM partner_client_case_tallies WHERE partner_id = $1 AND client_id IN ({{in}}) GROUP BY client_id",
            Lifecycle::Closed.as_str(),
        );
        for r in self.rows_in(&sql, Some(&partner_id.to_string()), &texts(client_ids)).await? {
            out.insert(uuid(&get::<String>(&r, "client_id")?)?, (get(&r, "n")?, get(&r, "closed")?));
        }
        Ok(out)
    }

    /// The counts of [`Tx::partner_case_counts_by_client`] computed from the cases
    /// themselves through [`PARTNER_VISIBLE_SQL`]: what the tallies must equal, for tests
    /// and checks. Clients without visible cases are absent.
    pub async fn partner_case_counts_by_client_from_cases(
        &mut self,
        partner_id: Uuid,
        client_ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, (i64, i64)>> {
        let mut out = std::collections::HashMap::new();
        let sql = format!(
            "SELECT c.client_id AS client_id, COUNT(*) AS n, \
             CAST(COALESCE(SUM(CASE WHEN c.lifecycle = '{}' THEN 1 ELSE 0 END), 0) AS BIGINT) AS closed \
             {PARTNER_VISIBLE_FROM} WHERE ({PARTNER_VISIBLE_SQL}) AND c.client_id IN ({{in}}) GROUP BY c.client_id",
            Lifecycle::Closed.as_str(),
        );
        for r in self.rows_in(&sql, Some(&partner_id.to_string()), &texts(client_ids)).await? {
            out.insert(uuid(&get::<String>(&r, "client_id")?)?, (get(&r, "n")?, get(&r, "closed")?));
        }
        Ok(out)
    }

    /// The debtor countries and the collection partners of the cases visible to the partner
    /// now (each once, sorted), for the filter options: one pass over the visible cases
    /// (each case row read once for both columns), the distinct pairs deduplicated here.
    pub async fn partner_case_options(&mut self, partner_id: Uuid) -> Result<(Vec<String>, Vec<Uuid>)> {
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT c.debtor_country AS country, c.collection_partner_id AS cp {PARTNER_VISIBLE_FROM} WHERE ({PARTNER_VISIBLE_SQL})"
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        let mut countries = std::collections::BTreeSet::new();
        let mut cps = std::collections::BTreeSet::new();
        for r in &rows {
            countries.insert(get::<String>(r, "country")?);
            if let Some(cp) = get::<Option<String>>(r, "cp")? {
                cps.insert(uuid(&cp)?);
            }
        }
        Ok((countries.into_iter().collect(), cps.into_iter().collect()))
    }

    /// Cases with any of the partner's earnings (one query for reporting).
    pub async fn cases_of_partner_earnings(&mut self, partner_id: Uuid) -> Result<Vec<CaseRecord>> {
        let rows =
            sqlx::query(&format!("SELECT {CASE_COLS} FROM cases c WHERE c.id IN (SELECT case_id FROM earnings WHERE partner_id = $1)"))
                .bind(partner_id.to_string())
                .fetch_all(self.conn())
                .await?;
        rows.iter().map(case_from).collect()
    }
}
