//! Partner reporting over the earnings read model (issue 9, migration 0019): a partner's
//! live earnings filtered, ordered and paged in SQL, the seven-bucket summary as one
//! `GROUP BY` aggregate with the exact USD rounding done in SQL ([`usd_minor_sql`]), the
//! set-based checks of `reconcile`, and batch loaders by id (`… WHERE id IN (…)`). What a
//! page's rows show beside their earnings is one read ([`crate::report_parts`]).
//!
//! The filters of the reference API map onto `earnings e` (stage, referral status, paid
//! date) and join only where a filter needs it: `payouts p` (commission status,
//! collection partner, platform revenue), `cp_invoices ci` (the platform's invoicing
//! status), `cases c` (countries, search via [`crate::search`]), and the earning's
//! decision and link (the external tenant id, a correlated subquery).

use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, ReferralInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use uuid::Uuid;

use crate::cases::{bind_all, case_from, Arg, CASE_COLS};
use crate::in_list::sorted_unique;
use crate::invoices::cp_status;
use crate::payouts::{earning_from, payout_from, EARNING_COLS, PAYOUT_COLS};
use crate::search::Search;
use crate::{at, currency, get, ms, uuid, Backend, CaseRecord, EarningRecord, PayoutRecord, Result, StoreError, Tx};

/// Values per `IN (…)` list; longer lists are read in chunks.

/// The SQL of `core::money::convert_minor(amount, exponent, rate_e8, 2)`: US cents of
/// `amount` minor units at `rate` (USD per unit, 1e-8), rounded half to even, with
/// `d` = 10^exponent · 10^6. `amount`, `rate` and `d` are SQL expressions (columns,
/// preferably: each is repeated). NULL when `rate` or `d` is NULL.
///
/// Exact in 64-bit integers: with a = |amount|, r = rh·d + rl and a = ah·d + al,
/// a·r / d = a·rh + ah·rl + al·rl / d, so q = a·rh + ah·rl + (al·rl) div d and the
/// remainder is (al·rl) mod d; one more when 2·rem > d, or on a tie when q is odd; the
/// sign is put back afterwards (half-to-even is symmetric). For |amount| ≤ 10^13
/// (`MAX_AMOUNT_MINOR`) and rate ≤ 10^exponent·10^8 (`max_rate_e8`), exponent ∈ {0, 2, 3}:
/// rh ≤ 100 so a·rh ≤ 10^15; ah·rl < a ≤ 10^13; al·rl < d² ≤ 10^18 < 2^63 ≈ 9.2·10^18;
/// 2·rem < 2·d ≤ 2·10^9. No intermediate leaves the `i64` range (SQLite would silently
/// turn it into a REAL; the conformance test runs the maxima).
pub fn usd_minor_sql(amount: &str, rate: &str, d: &str) -> String {
    let a = format!("ABS({amount})");
    let rh = format!("({rate} / {d})");
    let rl = format!("({rate} % {d})");
    let ah = format!("({a} / {d})");
    let al = format!("({a} % {d})");
    let q = format!("({a} * {rh} + {ah} * {rl} + ({al} * {rl}) / {d})");
    let rem2 = format!("(2 * (({al} * {rl}) % {d}))");
    format!(
        "(CASE WHEN {rate} IS NULL OR {d} IS NULL THEN NULL ELSE \
         (CASE WHEN {amount} < 0 THEN -1 ELSE 1 END) * ({q} + CASE WHEN {rem2} > {d} THEN 1 WHEN {rem2} = {d} THEN {q} % 2 ELSE 0 END) END)"
    )
}

/// `d` of [`usd_minor_sql`] for a currency: 10^exponent · 10^6; only exponents 0, 2 and
/// 3 are within the proved bounds.
pub fn usd_divisor(c: Currency) -> Result<i64> {
    match c.exponent() {
        0 => Ok(1_000_000),
        2 => Ok(100_000_000),
        3 => Ok(1_000_000_000),
        e => Err(StoreError::Corrupt(format!("currency {} has {e} decimals: no exact USD rounding in SQL for it", c.code()))),
    }
}

/// A derived table `(cur, d, r)` with one row per known currency: its divisor for
/// [`usd_minor_sql`] and its current USD rate (`rates`; NULL when none is loaded). USD
/// itself converts at 1.
pub(crate) fn rate_table_sql(rates: &[(Currency, i64)]) -> Result<String> {
    let rows: Vec<String> = rate_rows(rates)?
        .into_iter()
        .map(|(code, d, rate)| format!("SELECT '{code}' AS cur, CAST({d} AS BIGINT) AS d, {} AS r", rate_literal(rate)))
        .collect();
    Ok(format!("({})", rows.join(" UNION ALL ")))
}

/// The same figures as [`rate_table_sql`] as two `CASE` expressions on the currency
/// column `currency` (divisor, rate; `NULL` where the table has none), for a query that
/// converts many rows of one table: evaluated per row, without a join.
pub(crate) fn rate_case_sql(rates: &[(Currency, i64)], currency: &str) -> Result<(String, String)> {
    let rows = rate_rows(rates)?;
    let d: Vec<String> = rows.iter().map(|(code, d, _)| format!("WHEN '{code}' THEN CAST({d} AS BIGINT)")).collect();
    let r: Vec<String> = rows.iter().map(|(code, _, rate)| format!("WHEN '{code}' THEN {}", rate_literal(*rate))).collect();
    Ok((format!("(CASE {currency} {} END)", d.join(" ")), format!("(CASE {currency} {} END)", r.join(" "))))
}

/// Per currency: its code, the divisor of its USD conversion and the rate `rates` gives it
/// (USD converts at 1). Codes are three ASCII letters and the figures integers: nothing
/// here is user input.
fn rate_rows(rates: &[(Currency, i64)]) -> Result<Vec<(String, i64, Option<i64>)>> {
    Currency::all()
        .map(|c| {
            let d = usd_divisor(c)?;
            let rate = if c.code() == "USD" { Some(100_000_000) } else { rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r) };
            Ok((c.code().to_string(), d, rate))
        })
        .collect()
}

fn rate_literal(rate: Option<i64>) -> String {
    rate.map_or("CAST(NULL AS BIGINT)".to_string(), |r| format!("CAST({r} AS BIGINT)"))
}

/// Filters of a partner's report; lists are "any of", filters are ANDed.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Bounds on the payment's date (inclusive).
    pub paid_from: Option<Instant>,
    pub paid_to: Option<Instant>,
    /// The external tenant id of the link behind the earning's decision.
    pub external_tenant_id: Option<String>,
    pub stages: Vec<RevenueStage>,
    pub commission_statuses: Vec<CommissionStatus>,
    pub cp_invoice_statuses: Vec<CpInvoiceStatus>,
    pub referral_statuses: Vec<ReferralInvoiceStatus>,
    /// Debtor countries, alpha-2.
    pub countries: Vec<String>,
    pub collection_partner_ids: Vec<Uuid>,
    /// Case reference, creditor reference, debtor name or client name contains it
    /// (case-insensitive, indexed from three characters; see [`crate::search`]).
    pub search: Option<String>,
    /// The collection partner paid the platform's invoice.
    pub recognized: Option<bool>,
}

/// The order of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOrder {
    /// Payment date, then creation, then id.
    PaidAt,
    /// The earning in US cents (rows without a figure first), then creation, then id.
    UsdAmount,
}

/// Where a keyset page starts: after the row with these keys (in the report's order by
/// payment date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportCursor {
    pub paid_at: Instant,
    pub created_at: Instant,
    pub id: Uuid,
}

/// What part of the filtered rows to return.
#[derive(Debug, Clone, Copy)]
pub struct ReportWindow {
    pub order: ReportOrder,
    pub ascending: bool,
    pub limit: i64,
    pub offset: i64,
    /// Keyset paging (order by payment date only; `offset` is then ignored).
    pub after: Option<ReportCursor>,
}

/// The current USD rates a report converts estimates at: per currency with a loaded rate.
/// Per known currency (`Currency::all`, written into the statement) with a valid rate
/// dated on or before the day `day` (an SQL expression), the latest such rate: rows `x` of
/// (`currency`, `usd_per_unit_e8`), in no order ([`Tx::fx_rates_on_or_before`]). One
/// backward probe of the primary key per currency, not a pass over `fx_rates` for its
/// currencies.
pub(crate) fn current_rates_sql(day: &str) -> String {
    let known = Currency::all().map(|c| format!("SELECT '{}' AS currency", c.code())).collect::<Vec<_>>().join(" UNION ALL ");
    format!(
        "SELECT x.currency AS currency, x.usd_per_unit_e8 AS usd_per_unit_e8 FROM (SELECT c.currency AS currency, \
         {} AS usd_per_unit_e8 FROM ({known}) c) x \
         WHERE x.usd_per_unit_e8 IS NOT NULL",
        current_rate_sql("c.currency", day)
    )
}

/// The day `YYYY-MM-DD` as an SQL literal, checked to be one. A rate probe with a known
/// day is planned as a backward range of `fx_rates`' primary key; PostgreSQL's generic
/// plan of a bound day probes with a bitmap scan and a sort (1.1–1.2 ms for the 35
/// currencies at 1M against 0.2–0.3 ms).
pub(crate) fn day_literal(day: &str) -> Result<String> {
    let valid = day.len() == 10 && day.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !valid {
        return Err(StoreError::Corrupt(format!("rate day {day:?} is not YYYY-MM-DD")));
    }
    Ok(format!("'{day}'"))
}

/// The latest valid rate of the currency `currency` (a column) dated on or before the day
/// bound as `bind`, `NULL` when there is none: one backward probe of the primary key
/// (currency, rate_date), not a correlated MAX over every stored rate.
pub(crate) fn current_rate_sql(currency: &str, bind: &str) -> String {
    const VALID: &str =
        "length(g.rate_date) = 10 AND g.rate_date >= '1999-01-01' AND g.rate_date <= '2100-12-31' AND g.usd_per_unit_e8 > 0";
    format!(
        "(SELECT g.usd_per_unit_e8 FROM fx_rates g WHERE g.currency = {currency} AND g.rate_date <= {bind} AND {VALID} \
         ORDER BY g.rate_date DESC LIMIT 1)"
    )
}

pub type CurrentRates = [(Currency, i64)];

/// One group of the summary aggregate: the filtered live earnings of one stage and
/// currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryGroup {
    pub stage: RevenueStage,
    pub currency: Currency,
    pub count: i64,
    /// US cents of the rows that have a figure.
    pub usd_minor: i64,
    /// Rows without a USD figure (their rate is missing).
    pub usd_missing: i64,
    /// The platform's revenue in US cents over the payout earnings that have a figure.
    pub platform_usd_minor: i64,
    pub platform_usd_missing: i64,
    /// The sum of the amounts in the currency.
    pub amount_minor: i64,
}

impl SummaryGroup {
    /// The group of `stage` and `currency` in `groups`, added with nothing in it when
    /// missing (summaries summed row by row).
    pub fn of(groups: &mut Vec<SummaryGroup>, stage: RevenueStage, currency: Currency) -> &mut SummaryGroup {
        let i = match groups.iter().position(|g| g.stage == stage && g.currency == currency) {
            Some(i) => i,
            None => {
                groups.push(SummaryGroup {
                    stage,
                    currency,
                    count: 0,
                    usd_minor: 0,
                    usd_missing: 0,
                    platform_usd_minor: 0,
                    platform_usd_missing: 0,
                    amount_minor: 0,
                });
                groups.len() - 1
            }
        };
        &mut groups[i]
    }
}

/// The FROM clause, WHERE clauses and binds of a partner's filtered live earnings.
struct Query {
    from: String,
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Query {
    fn bind(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    fn any_of(&mut self, column: &str, values: Vec<String>) {
        if values.is_empty() {
            return;
        }
        let ps: Vec<String> = values.into_iter().map(|v| self.bind(Arg::Text(v))).collect();
        self.clauses.push(format!("{column} IN ({})", ps.join(", ")));
    }

    fn sql_where(&self) -> String {
        self.clauses.join(" AND ")
    }
}

/// The earning's decision as the report shows it: its own, else the one of the earning it
/// corrects, else the payout's latest naming the partner (`$1`). The partner is compared
/// through `COALESCE` so that SQLite looks the rows up by id and payout, never by walking
/// the partner's index.
const DECISION_OF_EARNING: &str = "COALESCE(e.decision_id, \
     (SELECT x.decision_id FROM earnings x WHERE x.id = e.corrects_id AND COALESCE(x.partner_id, '') = $1), \
     (SELECT d2.id FROM attribution_decisions d2 WHERE d2.payout_id = e.payout_id AND COALESCE(d2.partner_id, '') = $1 \
      ORDER BY d2.decided_at DESC, d2.id DESC LIMIT 1))";

/// The query of the partner's rows `f` selects; `with_fx` joins the current rates as `fx` (USD figures; the
/// order by payment date needs none, so its page walks `earnings_partner_paid` alone).
fn build(backend: Backend, partner_id: Uuid, f: &ReportFilter, with_fx: bool, rates: &CurrentRates) -> Result<Query> {
    let need_cp = !f.cp_invoice_statuses.is_empty() || f.recognized.is_some();
    let need_payout = need_cp || !f.commission_statuses.is_empty() || !f.collection_partner_ids.is_empty();
    let need_case = !f.countries.is_empty() || f.search.is_some();
    let search = f.search.as_deref().map(Search::new);
    let mut args = vec![Arg::Text(partner_id.to_string())];
    // Indexed: from the partner's matching cases to their earnings (the partner's earnings
    // are on cases of clients it has had a link to, all in its part of the index: SQLite
    // 0023, PostgreSQL 0035).
    let driven = search.as_ref().and_then(|s| s.partner_any_link_from(backend, 2, "JOIN earnings e ON e.case_id = c.id"));
    let mut from = match &driven {
        Some((from, bind)) => {
            args.push(Arg::Text(bind.clone()));
            from.clone()
        }
        None => "FROM earnings e".to_string(),
    };
    if with_fx {
        from.push_str(&format!(" LEFT JOIN {} fx ON fx.cur = e.currency", rate_table_sql(rates)?));
    }
    if need_payout {
        from.push_str(" JOIN payouts p ON p.id = e.payout_id");
    }
    if need_cp {
        from.push_str(" LEFT JOIN cp_invoices ci ON ci.id = p.cp_invoice_id");
    }
    if need_case && driven.is_none() {
        from.push_str(" JOIN cases c ON c.id = e.case_id");
    }
    let mut q = Query { from, clauses: vec!["e.partner_id = $1".into(), "e.voided_at IS NULL".into()], args };
    if let Some(t) = f.paid_from {
        let p = q.bind(Arg::Int(ms(t)));
        q.clauses.push(format!("e.paid_at >= {p}"));
    }
    if let Some(t) = f.paid_to {
        let p = q.bind(Arg::Int(ms(t)));
        q.clauses.push(format!("e.paid_at <= {p}"));
    }
    q.any_of("e.stage", f.stages.iter().map(|s| s.as_str().to_string()).collect());
    q.any_of("e.referral_invoice_status", f.referral_statuses.iter().map(|s| s.as_str().to_string()).collect());
    q.any_of("p.commission_status", f.commission_statuses.iter().map(|s| s.as_str().to_string()).collect());
    let not_invoiced = CpInvoiceStatus::NotInvoiced.as_str();
    q.any_of(&format!("COALESCE(ci.status, '{not_invoiced}')"), f.cp_invoice_statuses.iter().map(|s| s.as_str().to_string()).collect());
    q.any_of("c.debtor_country", f.countries.clone());
    q.any_of("p.collection_partner_id", f.collection_partner_ids.iter().map(|s| s.to_string()).collect());
    let received = CpInvoiceStatus::PaymentReceived.as_str();
    match f.recognized {
        Some(true) => q.clauses.push(format!("ci.status = '{received}'")),
        Some(false) => q.clauses.push(format!("(ci.status IS NULL OR ci.status <> '{received}')")),
        None => {}
    }
    if let Some(t) = &f.external_tenant_id {
        let p = q.bind(Arg::Text(t.clone()));
        q.clauses.push(format!(
            "COALESCE((SELECT l.external_tenant_id FROM attribution_decisions d JOIN links l ON l.id = d.link_id \
             WHERE COALESCE(d.partner_id, '') = $1 AND d.id = {DECISION_OF_EARNING}), '') = {p}"
        ));
    }
    if let (Some(s), None) = (&search, &driven) {
        let (sql, binds) = s.cases_clause(backend, q.args.len() + 1);
        q.args.extend(binds.into_iter().map(Arg::Text));
        q.clauses.push(sql);
    }
    Ok(q)
}

/// The summary aggregate over the rows `q` selects. The platform's revenue is the
/// earning's copy of its payout's fee at the earning's rate (the payout's locked one, read
/// model), so no payout is read.
fn summary_sql(q: &Query) -> String {
    let usd = earning_usd_sql();
    let platform = usd_minor_sql("e.platform_fee_minor", "COALESCE(e.fx_usd_per_unit_e8, fx.r)", "fx.d");
    let payout = EarningKind::Payout.as_str();
    format!(
        "SELECT stage, currency, COUNT(*) AS n, CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS amount, \
         CAST(COALESCE(SUM(usd), 0) AS BIGINT) AS usd, CAST(SUM(CASE WHEN usd IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS usd_missing, \
         CAST(COALESCE(SUM(pusd), 0) AS BIGINT) AS pusd, CAST(SUM(CASE WHEN pusd IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS pusd_missing \
         FROM (SELECT e.stage AS stage, e.currency AS currency, e.amount_minor AS amount_minor, {usd} AS usd, \
         CASE WHEN e.kind = '{payout}' THEN {platform} ELSE 0 END AS pusd {} WHERE {}) x \
         GROUP BY stage, currency ORDER BY stage, currency",
        q.from,
        q.sql_where()
    )
}

/// The SQL of an unfiltered report's first page of `limit` rows by payment date, newest
/// first, as [`Tx::report_page`] and [`Tx::report_summary`] run it when the estimate
/// totals are at the current rates: the page, the estimate totals with the rates' state
/// ([`crate::estimates`]) and the earnings totals, each with the partner id as its one
/// bind (`$1`). `refshare bench` runs exactly these as its raw floor.
pub fn unfiltered_report_sql(backend: Backend, rates: &CurrentRates, limit: i64) -> Result<Vec<String>> {
    let f = ReportFilter::default();
    let q = build(backend, Uuid::nil(), &f, false, rates)?;
    let cols = EARNING_COLS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
    let page = format!(
        "SELECT {cols} {} WHERE {} ORDER BY e.paid_at DESC, e.created_at DESC, e.id DESC LIMIT {limit} OFFSET 0",
        q.from,
        q.sql_where()
    );
    Ok(vec![page, crate::estimates::partner_estimates_sql(backend, 0), crate::totals::partner_totals_sql(backend, 0)])
}

/// Adds `g` to the group of its stage and currency in `groups` (or appends it), checked.
fn merge_group(groups: &mut Vec<SummaryGroup>, g: SummaryGroup) -> Result<()> {
    let overflow = || StoreError::Corrupt("summary overflow".into());
    match groups.iter_mut().find(|x| x.stage == g.stage && x.currency == g.currency) {
        Some(x) => {
            x.count = x.count.checked_add(g.count).ok_or_else(overflow)?;
            x.amount_minor = x.amount_minor.checked_add(g.amount_minor).ok_or_else(overflow)?;
            x.usd_minor = x.usd_minor.checked_add(g.usd_minor).ok_or_else(overflow)?;
            x.usd_missing = x.usd_missing.checked_add(g.usd_missing).ok_or_else(overflow)?;
            x.platform_usd_minor = x.platform_usd_minor.checked_add(g.platform_usd_minor).ok_or_else(overflow)?;
            x.platform_usd_missing = x.platform_usd_missing.checked_add(g.platform_usd_missing).ok_or_else(overflow)?;
        }
        None => groups.push(g),
    }
    Ok(())
}

/// Whether the summary of `f` can read the earnings totals: no filter but stages (the
/// totals are per stage). Every field is named, so a new filter has to be decided here.
pub fn totals_answer(f: &ReportFilter) -> bool {
    let ReportFilter {
        paid_from,
        paid_to,
        external_tenant_id,
        stages: _,
        commission_statuses,
        cp_invoice_statuses,
        referral_statuses,
        countries,
        collection_partner_ids,
        search,
        recognized,
    } = f;
    paid_from.is_none()
        && paid_to.is_none()
        && external_tenant_id.is_none()
        && commission_statuses.is_empty()
        && cp_invoice_statuses.is_empty()
        && referral_statuses.is_empty()
        && countries.is_empty()
        && collection_partner_ids.is_empty()
        && search.is_none()
        && recognized.is_none()
}

/// The earning's US cents in a report query (`e`, `fx` in scope).
fn earning_usd_sql() -> String {
    usd_minor_sql("e.amount_minor", "COALESCE(e.fx_usd_per_unit_e8, fx.r)", "fx.d")
}

impl Tx {
    /// The page of the partner's filtered live earnings in `window`.
    pub async fn report_page(
        &mut self,
        partner_id: Uuid,
        f: &ReportFilter,
        rates: &CurrentRates,
        w: ReportWindow,
    ) -> Result<Vec<EarningRecord>> {
        let mut q = build(self.backend, partner_id, f, w.order == ReportOrder::UsdAmount, rates)?;
        let dir = if w.ascending { "ASC" } else { "DESC" };
        let order = match w.order {
            ReportOrder::PaidAt => format!("e.paid_at {dir}, e.created_at {dir}, e.id {dir}"),
            ReportOrder::UsdAmount => {
                let usd = earning_usd_sql();
                format!("CASE WHEN {usd} IS NULL THEN 0 ELSE 1 END {dir}, {usd} {dir}, e.created_at {dir}, e.id {dir}")
            }
        };
        let mut offset = w.offset;
        if let Some(c) = w.after {
            if w.order != ReportOrder::PaidAt {
                return Err(StoreError::Corrupt("a keyset cursor needs the order by payment date".into()));
            }
            let cmp = if w.ascending { ">" } else { "<" };
            let (p, cr, id) = (q.bind(Arg::Int(ms(c.paid_at))), q.bind(Arg::Int(ms(c.created_at))), q.bind(Arg::Text(c.id.to_string())));
            q.clauses.push(format!(
                "(e.paid_at {cmp} {p} OR (e.paid_at = {p} AND (e.created_at {cmp} {cr} OR (e.created_at = {cr} AND e.id {cmp} {id}))))"
            ));
            offset = 0;
        }
        let cols = EARNING_COLS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let sql =
            format!("SELECT {cols} {} WHERE {} ORDER BY {order} LIMIT {} OFFSET {}", q.from, q.sql_where(), w.limit.max(0), offset.max(0));
        let rows = bind_all(sqlx::query(&sql), &q.args).fetch_all(self.conn()).await?;
        rows.iter().map(earning_from).collect()
    }

    /// The summary of the partner's filtered live earnings per stage and currency: counts,
    /// amounts, US cents (each row rounded as `convert_minor` does, then summed) and the
    /// platform's revenue on the payout earnings. No row leaves the database. Without a
    /// filter but stages ([`totals_answer`]) the rows whose rate is locked come from the
    /// earnings totals ([`crate::totals`]) and the estimates from the estimate totals
    /// ([`crate::estimates`]) of every currency they hold at its current rate, two indexed
    /// reads; only the estimates of the other currencies are aggregated. Any other filter
    /// aggregates its rows.
    pub async fn report_summary(&mut self, partner_id: Uuid, f: &ReportFilter, rates: &CurrentRates) -> Result<Vec<SummaryGroup>> {
        let from_totals = totals_answer(f);
        let mut cached: Vec<SummaryGroup> = Vec::new();
        let mut q = build(self.backend, partner_id, f, true, rates)?;
        let mut aggregate = true;
        if from_totals {
            q.clauses.push("e.fx_usd_per_unit_e8 IS NULL".into());
            let cache = self.estimate_cache_of_partner(partner_id, &f.stages).await?;
            let current = |c: Currency| rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r);
            let usable: Vec<crate::EstimateRate> =
                cache.rates.iter().copied().filter(|r| r.built && r.rate_e8 == current(r.currency)).collect();
            for (k, t) in cache.rows {
                let Some(rate) = usable.iter().find(|r| r.currency == k.currency) else { continue };
                let missing = rate.rate_e8.is_none();
                merge_group(
                    &mut cached,
                    SummaryGroup {
                        stage: k.stage,
                        currency: k.currency,
                        count: t.count,
                        usd_minor: t.usd_minor,
                        usd_missing: if missing { t.count } else { 0 },
                        platform_usd_minor: t.platform_usd_minor,
                        platform_usd_missing: if missing { t.payout_count } else { 0 },
                        amount_minor: t.amount_minor,
                    },
                )?;
            }
            if Currency::all().all(|c| usable.iter().any(|r| r.currency == c)) {
                aggregate = false;
            } else if !usable.is_empty() {
                let codes: Vec<String> = usable.iter().map(|r| format!("'{}'", r.currency.code())).collect();
                q.clauses.push(format!("e.currency NOT IN ({})", codes.join(", ")));
            }
        }
        let mut groups = Vec::new();
        if aggregate {
            let sql = summary_sql(&q);
            let rows = bind_all(sqlx::query(&sql), &q.args).fetch_all(self.conn()).await?;
            for r in &rows {
                let stage: Option<String> = get(r, "stage")?;
                let stage = stage
                    .as_deref()
                    .and_then(RevenueStage::parse)
                    .ok_or_else(|| StoreError::Corrupt(format!("a live earning has no valid stage in its read model ({stage:?})")))?;
                groups.push(SummaryGroup {
                    stage,
                    currency: currency(&get::<String>(r, "currency")?)?,
                    count: get(r, "n")?,
                    amount_minor: get(r, "amount")?,
                    usd_minor: get(r, "usd")?,
                    usd_missing: get(r, "usd_missing")?,
                    platform_usd_minor: get(r, "pusd")?,
                    platform_usd_missing: get(r, "pusd_missing")?,
                });
            }
        }
        if from_totals {
            for g in cached {
                merge_group(&mut groups, g)?;
            }
            for (k, t) in self.earning_totals_of_partner(partner_id, &f.stages).await?.into_iter().filter(|(k, _)| k.locked) {
                merge_group(
                    &mut groups,
                    SummaryGroup {
                        stage: k.stage,
                        currency: k.currency,
                        count: t.count,
                        usd_minor: t.usd_minor,
                        usd_missing: 0,
                        platform_usd_minor: t.platform_usd_minor,
                        platform_usd_missing: 0,
                        amount_minor: t.amount_minor,
                    },
                )?;
            }
            groups.sort_by(|a, b| (a.stage.as_str(), a.currency.code()).cmp(&(b.stage.as_str(), b.currency.code())));
        }
        Ok(groups)
    }

    /// The cases of every client the partner has or had a link to (any status) whose key or
    /// client name contains `query`, one entry per row the index holds, in id order: the
    /// candidate set the earnings search starts from
    /// ([`crate::search::partner_any_link_cases_from`]), for tests and checks. `None` for a
    /// query too short for the index.
    pub async fn partner_any_link_cases(&mut self, partner_id: Uuid, query: &str) -> Result<Option<Vec<Uuid>>> {
        let Some((from, bind)) = Search::new(query).partner_any_link_from(self.backend, 2, "") else { return Ok(None) };
        let rows = sqlx::query(&format!("SELECT c.id AS id {from} ORDER BY c.id"))
            .bind(partner_id.to_string())
            .bind(bind)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(|r| uuid(&get::<String>(r, "id")?)).collect::<Result<Vec<_>>>().map(Some)
    }

    pub async fn earnings_by_ids(&mut self, ids: impl IntoIterator<Item = Uuid>) -> Result<Vec<EarningRecord>> {
        let rows = self.rows_in(&format!("SELECT {EARNING_COLS} FROM earnings WHERE id IN ({{in}})"), None, &sorted_unique(ids)).await?;
        rows.iter().map(earning_from).collect()
    }

    pub async fn payouts_by_ids(&mut self, ids: impl IntoIterator<Item = Uuid>) -> Result<Vec<PayoutRecord>> {
        let rows = self.rows_in(&format!("SELECT {PAYOUT_COLS} FROM payouts WHERE id IN ({{in}})"), None, &sorted_unique(ids)).await?;
        rows.iter().map(payout_from).collect()
    }

    pub async fn cases_by_ids(&mut self, ids: impl IntoIterator<Item = Uuid>) -> Result<Vec<CaseRecord>> {
        let rows = self.rows_in_one(&format!("SELECT {CASE_COLS} FROM cases c WHERE c.id IN ({{in}})"), None, &sorted_unique(ids)).await?;
        rows.iter().map(case_from).collect()
    }

    /// Per (partner, stage, currency) the sum of the live earnings' amounts by the stage
    /// their read model stores (`reconcile`).
    pub async fn live_earning_sums(&mut self) -> Result<Vec<(Uuid, Option<RevenueStage>, Currency, i64)>> {
        let rows = sqlx::query(
            "SELECT partner_id, stage, currency, CAST(SUM(amount_minor) AS BIGINT) AS amount FROM earnings \
             WHERE voided_at IS NULL GROUP BY partner_id, stage, currency ORDER BY partner_id, stage, currency",
        )
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                let stage: Option<String> = get(r, "stage")?;
                Ok((
                    uuid(&get::<String>(r, "partner_id")?)?,
                    stage.as_deref().and_then(RevenueStage::parse),
                    currency(&get::<String>(r, "currency")?)?,
                    get(r, "amount")?,
                ))
            })
            .collect()
    }

    /// Every payout's settlement facts: (id, commission status, CP invoice, locked rate,
    /// platform fee) for `reconcile`.
    pub async fn payout_facts(&mut self) -> Result<Vec<PayoutFacts>> {
        let rows = sqlx::query(
            "SELECT p.id, p.commission_status, ci.status AS cp_status, p.fx_usd_per_unit_e8, p.platform_fee_minor, p.currency, m.paid_at \
             FROM payouts p LEFT JOIN cp_invoices ci ON ci.id = p.cp_invoice_id JOIN payments m ON m.id = p.payment_id",
        )
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                let commission: String = get(r, "commission_status")?;
                let cp: Option<String> = get(r, "cp_status")?;
                Ok(PayoutFacts {
                    id: uuid(&get::<String>(r, "id")?)?,
                    commission: CommissionStatus::parse(&commission)
                        .ok_or_else(|| StoreError::Corrupt(format!("commission status `{commission}`")))?,
                    cp_invoice: cp.as_deref().map(cp_status).transpose()?.unwrap_or(CpInvoiceStatus::NotInvoiced),
                    fx_usd_per_unit_e8: get(r, "fx_usd_per_unit_e8")?,
                    platform_fee_minor: get(r, "platform_fee_minor")?,
                    currency: currency(&get::<String>(r, "currency")?)?,
                    paid_at: at(get(r, "paid_at")?),
                })
            })
            .collect()
    }

    /// The latest rate dated on or before `date` (`YYYY-MM-DD`) of every currency that has
    /// one, with the validity rules of [`Tx::fx_rate_on_or_before`].
    pub async fn fx_rates_on_or_before(&mut self, date: &str) -> Result<Vec<(String, i64)>> {
        let sql = format!("{} ORDER BY x.currency", current_rates_sql(&day_literal(date)?));
        let rows = sqlx::query(&sql).fetch_all(self.conn()).await?;
        rows.iter().map(|r| Ok((get(r, "currency")?, get(r, "usd_per_unit_e8")?))).collect()
    }

    /// Evaluates [`usd_minor_sql`] on literal inputs (conformance tests of the rounding).
    pub async fn eval_usd_minor_sql(&mut self, amount_minor: i64, rate_e8: i64, c: Currency) -> Result<Option<i64>> {
        let d = usd_divisor(c)?;
        let sql = format!(
            "SELECT {} AS usd FROM (SELECT CAST($1 AS BIGINT) AS a, CAST($2 AS BIGINT) AS r, CAST($3 AS BIGINT) AS d) t",
            usd_minor_sql("t.a", "t.r", "t.d")
        );
        let row = sqlx::query(&sql).bind(amount_minor).bind(rate_e8).bind(d).fetch_one(self.conn()).await?;
        get(&row, "usd")
    }
}

/// A payout's facts for `reconcile`'s set-based checks.
#[derive(Debug, Clone)]
pub struct PayoutFacts {
    pub id: Uuid,
    pub commission: CommissionStatus,
    pub cp_invoice: CpInvoiceStatus,
    pub fx_usd_per_unit_e8: Option<i64>,
    pub platform_fee_minor: i64,
    pub currency: Currency,
    /// The payment's date.
    pub paid_at: Instant,
}
