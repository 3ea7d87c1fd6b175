//! A partner's month statement read section by section (issues 9 and 10): the totals per
//! stage and currency as one SQL aggregate over the month's live earnings (each row's US
//! cents rounded by [`usd_minor_sql`]), the section counts, and the lines of each section
//! in its order — all of them, or one keyset page ([`StatementCursor`]) — each with what
//! its line shows from the section's query and reads by id of the rows it returned (never
//! a query per line: one statement per read whatever the number of ids, `Tx::rows_in_one`).
//!
//! Sections and their order, `(date, payout id, earning id)`:
//! - earnings: the partner's earnings created in the month but its live clawbacks (the
//!   voided ones too: a voided earning stays in the month it was booked), by creation;
//! - reversals: the live clawbacks created in the month (by creation) and the earnings
//!   voided in the month (by the void);
//! - not earned: the month's payouts on clients that have or had a link to the partner on
//!   which the partner has no earning, by creation.
//!
//! The earnings of a month are read on `earnings_partner_statement` (migration 0034:
//! partner, creation, payout, id and every column the totals and a page's filter need),
//! so the totals are index-only and a page stops after its rows; the voids on the partial
//! indexes of migration 0028; the payouts on their client's range of
//! `payouts_client_created` (migration 0038) as [`Tx::statement_not_earned_lines`]
//! describes.

use refshare_core::attribution::Reason;
use refshare_core::case::CaseSource;
use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use std::collections::HashMap;

use uuid::Uuid;

use crate::cases::{bind_all, Arg};
use crate::in_list::sorted_unique;
use crate::reporting::{rate_case_sql, usd_minor_sql, CurrentRates};
use crate::{at, currency, get, ms, opt_at, opt_uuid, uuid, Backend, Result, StoreError, Tx};

/// A position in one section of a statement: the line's date, payout and earning (none
/// for a payout that did not earn), as the section orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatementCursor {
    pub date: Instant,
    pub payout_id: Uuid,
    pub earning_id: Option<Uuid>,
}

impl StatementCursor {
    /// The cursor as text (`<epoch ms>_<payout id>[_<earning id>]`), for a query parameter.
    pub fn encode(&self) -> String {
        match self.earning_id {
            Some(e) => format!("{}_{}_{}", ms(self.date), self.payout_id, e),
            None => format!("{}_{}", ms(self.date), self.payout_id),
        }
    }

    pub fn decode(s: &str) -> Option<StatementCursor> {
        let mut parts = s.split('_');
        let date = chrono::DateTime::from_timestamp_millis(parts.next()?.parse().ok()?)?;
        let payout_id = Uuid::parse_str(parts.next()?).ok()?;
        let earning_id = match parts.next() {
            Some(e) => Some(Uuid::parse_str(e).ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(StatementCursor { date, payout_id, earning_id })
    }
}

/// Which lines of a section to read: after `after` (from the start when `None`), at most
/// `limit` (all when `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StatementWindow {
    pub after: Option<StatementCursor>,
    pub limit: Option<i64>,
}

impl StatementWindow {
    /// Every line of the section.
    pub fn all() -> StatementWindow {
        StatementWindow::default()
    }

    fn limit_sql(&self) -> String {
        self.limit.map(|n| format!(" LIMIT {}", n.max(0))).unwrap_or_default()
    }
}

/// One stage and currency of a month's live earnings (earnings and clawbacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTotal {
    pub stage: RevenueStage,
    pub currency: Currency,
    pub count: i64,
    pub amount_minor: i64,
    /// US cents of the rows that have a figure (locked rate, else the current one).
    pub usd_minor: i64,
    /// Rows without a USD figure (no locked rate and no current one).
    pub usd_missing: i64,
    /// How many of `count` are clawbacks (the reversals section).
    pub clawbacks: i64,
}

/// An earning as a line of the earnings or reversals section shows it.
#[derive(Debug, Clone)]
pub struct EarningLine {
    pub id: Uuid,
    pub payout_id: Uuid,
    pub kind: EarningKind,
    /// The line's date: the creation, or the void for a void line.
    pub date: Instant,
    /// The earning's amount as stored (a void line shows it negated).
    pub amount_minor: i64,
    pub currency: Currency,
    /// The read model's stage; `None` when voided.
    pub stage: Option<RevenueStage>,
    /// The rate the line converts at: the read model's locked rate for a live earning, the
    /// payout's for a voided one; `None` for an estimate.
    pub fx_usd_per_unit_e8: Option<i64>,
    pub note: Option<String>,
    pub voided_at: Option<Instant>,
    pub void_reason: Option<String>,
    /// This line is the void of the earning (reversals section).
    pub is_void: bool,
    pub case_reference: String,
    /// The stored reason code of the line's decision (the partner's), if any: for a live
    /// earning the report's (its own, the corrected earning's, the payout's latest); for a
    /// voided one its own.
    pub reason: Option<String>,
    /// The tenant of the line's decision's link (empty without one): for a voided
    /// earning its own decision's, else the payout's latest naming the partner.
    pub external_tenant_id: String,
}

/// A payout the partner did not earn, as its statement line needs it
/// ([`Tx::payouts_not_earned`]).
#[derive(Debug, Clone)]
pub struct NotEarned {
    pub payout_id: Uuid,
    pub created_at: Instant,
    pub currency: Currency,
    pub payment_amount_minor: i64,
    pub case_id: Uuid,
    pub case_reference: String,
    pub client_id: Uuid,
    pub case_created_at: Instant,
    pub case_source: CaseSource,
    pub creating_partner_id: Option<Uuid>,
    /// The payout's latest decision (any partner's).
    pub latest: Option<LatestDecision>,
}

/// What a statement reads of a payout's latest decision.
#[derive(Debug, Clone, Copy)]
pub struct LatestDecision {
    pub partner_id: Option<Uuid>,
    pub reason: Reason,
    pub link_id: Option<Uuid>,
}

/// What a "did not earn" line shows of its payout, payment and case
/// ([`Tx::not_earned_shown`]).
struct NotEarnedShown {
    currency: Currency,
    payment_amount_minor: i64,
    case_id: Uuid,
    case_reference: String,
    client_id: Uuid,
    case_created_at: Instant,
    case_source: CaseSource,
    creating_partner_id: Option<Uuid>,
}

impl NotEarnedShown {
    /// From a row of the case (`id`, `client_id`, `created_at`, `source`,
    /// `creating_partner_id`, `reference`), the payout's currency and the payment's amount.
    fn of(case: &sqlx::any::AnyRow, code: &str, payment_amount_minor: i64) -> Result<NotEarnedShown> {
        let source: String = get(case, "source")?;
        Ok(NotEarnedShown {
            currency: currency(code)?,
            payment_amount_minor,
            case_id: uuid(&get::<String>(case, "id")?)?,
            case_reference: get(case, "reference")?,
            client_id: uuid(&get::<String>(case, "client_id")?)?,
            case_created_at: at(get(case, "created_at")?),
            case_source: CaseSource::parse(&source).ok_or_else(|| StoreError::Corrupt(format!("case source `{source}`")))?,
            creating_partner_id: opt_uuid(get(case, "creating_partner_id")?)?,
        })
    }
}

/// A link's identity and tenant without its history: (id, client, external tenant id,
/// linked at).
#[derive(Debug, Clone)]
pub struct LinkTenant {
    pub id: Uuid,
    pub client_id: Uuid,
    pub external_tenant_id: String,
    pub linked_at: Instant,
}

/// The decision the report shows for a live earning `e` (its own, else the corrected
/// earning's, else the payout's latest naming the partner `$1`), and the payout's latest
/// naming the partner alone.
pub(crate) const DECISION_OF_EARNING: &str = "COALESCE(e.decision_id, \
     (SELECT x.decision_id FROM earnings x WHERE x.id = e.corrects_id AND COALESCE(x.partner_id, '') = $1), \
     (SELECT d2.id FROM attribution_decisions d2 WHERE d2.payout_id = e.payout_id AND COALESCE(d2.partner_id, '') = $1 \
      ORDER BY d2.decided_at DESC, d2.id DESC LIMIT 1))";
const LATEST_OF_PAYOUT: &str = "(SELECT d3.id FROM attribution_decisions d3 WHERE d3.payout_id = e.payout_id \
     AND COALESCE(d3.partner_id, '') = $1 ORDER BY d3.decided_at DESC, d3.id DESC LIMIT 1)";

/// The columns of an earning line, over a derived table `e` of earnings (`id`, `payout_id`,
/// `case_id`, `decision_id`, `corrects_id`, `kind`, `amount_minor`, `currency`,
/// `created_at`, `note`, `stage`, `fx`, `voided_at`, `void_reason`, `d` the line's date,
/// `is_void`), with the case's reference joined after the page is chosen so its lookups
/// run for its rows only. The line's decision is computed once (`rdid`); a voided
/// earning's tenant comes from its own decision, else the payout's latest (`vdid`, looked
/// up for voided rows only). The decisions' reasons and links and the links' tenants are
/// read afterwards by id for the distinct ids of the lines ([`Tx::earning_lines`]): joined
/// here on those computed ids, PostgreSQL's planner hashed every decision of the partner
/// (93,506 rows, twice, for the largest partner at 1M) instead of probing the lines' own;
/// as scalar sub-selects per line (one sub-plan run per line) the statement took 592–846
/// ms against 282–317 ms plus 141–178 ms for the read by id, whose one index scan probes
/// the sorted ids in order (`EXPLAIN ANALYZE`, same month).
fn line_sql(inner: &str, order_limit: &str) -> String {
    format!(
        "SELECT e.id, e.payout_id, e.kind, e.amount_minor, e.currency, e.created_at, e.note, e.stage, e.voided_at, e.void_reason, \
         e.d, e.is_void, \
         CASE WHEN e.voided_at IS NULL THEN e.fx ELSE (SELECT p.fx_usd_per_unit_e8 FROM payouts p WHERE p.id = e.payout_id) END AS rate, \
         c.reference AS reference, e.rdid AS rdid, e.vdid AS vdid FROM \
         (SELECT e.*, CASE WHEN e.voided_at IS NULL THEN {DECISION_OF_EARNING} ELSE e.decision_id END AS rdid, \
         CASE WHEN e.voided_at IS NULL THEN NULL ELSE COALESCE(e.decision_id, {LATEST_OF_PAYOUT}) END AS vdid \
         FROM ({inner}{order_limit}) e) e \
         JOIN cases c ON c.id = e.case_id \
         ORDER BY e.d, e.payout_id, e.id"
    )
}

/// The columns of the derived table [`line_sql`] reads, from `earnings e`; `date` is the
/// line's date column and `is_void` 0 or 1.
fn inner_cols(date: &str, is_void: u8) -> String {
    format!(
        "SELECT e.id AS id, e.payout_id AS payout_id, e.case_id AS case_id, e.decision_id AS decision_id, e.corrects_id AS corrects_id, \
         e.kind AS kind, e.amount_minor AS amount_minor, e.currency AS currency, e.created_at AS created_at, e.note AS note, \
         e.stage AS stage, e.fx_usd_per_unit_e8 AS fx, e.voided_at AS voided_at, e.void_reason AS void_reason, \
         e.{date} AS d, CAST({is_void} AS BIGINT) AS is_void FROM earnings e"
    )
}

/// `(date, payout, earning) > cursor` over the columns given, with the date's lower bound
/// repeated alone so the index range starts there. Binds `$4..$6`.
fn after_sql(date: &str, payout: &str, id: &str) -> String {
    format!(" AND {date} >= $4 AND ({date} > $4 OR ({date} = $4 AND ({payout} > $5 OR ({payout} = $5 AND {id} > $6))))")
}

fn cursor_args(after: &Option<StatementCursor>) -> Vec<Arg> {
    match after {
        Some(c) => vec![
            Arg::Int(ms(c.date)),
            Arg::Text(c.payout_id.to_string()),
            Arg::Text(c.earning_id.map(|e| e.to_string()).unwrap_or_default()),
        ],
        None => Vec::new(),
    }
}

/// An earning line as its row reads it, with the ids of its decisions (`rdid`, `vdid`)
/// whose reason and tenant are filled in afterwards.
fn earning_line_from(r: &sqlx::any::AnyRow) -> Result<(EarningLine, Option<Uuid>, Option<Uuid>)> {
    let kind: String = get(r, "kind")?;
    let stage: Option<String> = get(r, "stage")?;
    let is_void: i64 = get(r, "is_void")?;
    let line = EarningLine {
        id: uuid(&get::<String>(r, "id")?)?,
        payout_id: uuid(&get::<String>(r, "payout_id")?)?,
        kind: EarningKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("earning kind `{kind}`")))?,
        date: at(get(r, "d")?),
        amount_minor: get(r, "amount_minor")?,
        currency: currency(&get::<String>(r, "currency")?)?,
        stage: stage.as_deref().map(|s| RevenueStage::parse(s).ok_or_else(|| StoreError::Corrupt(format!("stage `{s}`")))).transpose()?,
        fx_usd_per_unit_e8: get(r, "rate")?,
        note: get(r, "note")?,
        voided_at: opt_at(get(r, "voided_at")?),
        void_reason: get(r, "void_reason")?,
        is_void: is_void != 0,
        case_reference: get(r, "reference")?,
        reason: None,
        external_tenant_id: String::new(),
    };
    Ok((line, opt_uuid(get(r, "rdid")?)?, opt_uuid(get(r, "vdid")?)?))
}

impl Tx {
    /// The partner's live earnings created in `[from, to)` per stage and currency: count,
    /// amounts, clawbacks, and US cents with each row rounded as `convert_minor` does (at
    /// its locked rate, else at `rates`), in one aggregate on the statement index.
    pub async fn statement_totals(
        &mut self,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        rates: &CurrentRates,
    ) -> Result<Vec<StatementTotal>> {
        let usd = usd_minor_sql("e.amount_minor", "e.r", "e.d");
        let (d, r) = rate_case_sql(rates, "currency")?;
        let clawback = EarningKind::Clawback.as_str();
        // The month's rows first, on their covering index (`earnings_partner_statement`),
        // each with its divisor and rate from `CASE`s: joined with the rate table in one
        // step, SQLite's planner read every earning of the partner through another index
        // and scanned the rate table per row (142 ms, then 60 ms with the rows first, then
        // about 36 ms of CPU with the `CASE`s, for the largest partner's month at 1M).
        let sql = format!(
            "WITH e AS MATERIALIZED (SELECT stage, currency, kind, amount_minor, COALESCE(fx_usd_per_unit_e8, {r}) AS r, {d} AS d \
             FROM earnings WHERE partner_id = $1 AND created_at >= $2 AND created_at < $3 AND voided_at IS NULL) \
             SELECT stage, currency, COUNT(*) AS n, CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS amount, \
             CAST(COALESCE(SUM(usd), 0) AS BIGINT) AS usd, CAST(SUM(CASE WHEN usd IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS usd_missing, \
             CAST(SUM(CASE WHEN kind = '{clawback}' THEN 1 ELSE 0 END) AS BIGINT) AS clawbacks \
             FROM (SELECT e.stage AS stage, e.currency AS currency, e.kind AS kind, e.amount_minor AS amount_minor, {usd} AS usd FROM e) x \
             GROUP BY stage, currency ORDER BY stage, currency"
        );
        let rows = sqlx::query(&sql).bind(partner_id.to_string()).bind(ms(from)).bind(ms(to)).fetch_all(self.conn()).await?;
        rows.iter()
            .map(|r| {
                let stage: Option<String> = get(r, "stage")?;
                Ok(StatementTotal {
                    stage: stage
                        .as_deref()
                        .and_then(RevenueStage::parse)
                        .ok_or_else(|| StoreError::Corrupt(format!("a live earning has no valid stage in its read model ({stage:?})")))?,
                    currency: currency(&get::<String>(r, "currency")?)?,
                    count: get(r, "n")?,
                    amount_minor: get(r, "amount")?,
                    usd_minor: get(r, "usd")?,
                    usd_missing: get(r, "usd_missing")?,
                    clawbacks: get(r, "clawbacks")?,
                })
            })
            .collect()
    }

    /// How many of the partner's earnings were created in `[from, to)` and are voided, and
    /// how many were voided in it (the partial indexes of migration 0028).
    pub async fn statement_void_counts(&mut self, partner_id: Uuid, from: Instant, to: Instant) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM earnings WHERE partner_id = $1 AND created_at >= $2 AND created_at < $3 \
             AND voided_at IS NOT NULL) AS created, \
             (SELECT COUNT(*) FROM earnings WHERE partner_id = $1 AND voided_at >= $2 AND voided_at < $3) AS voided",
        )
        .bind(partner_id.to_string())
        .bind(ms(from))
        .bind(ms(to))
        .fetch_one(self.conn())
        .await?;
        Ok((get(&row, "created")?, get(&row, "voided")?))
    }

    /// The currencies of the month's voided lines (voided earnings created in the month,
    /// voids in the month) that convert at the current rate: no locked rate on their
    /// payout. Only `currencies` are looked for (those without a current rate).
    pub async fn statement_void_estimate_currencies(
        &mut self,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        currencies: &[Currency],
    ) -> Result<Vec<Currency>> {
        if currencies.is_empty() {
            return Ok(Vec::new());
        }
        // Codes are three ASCII letters from the currency table: nothing here is user input.
        let list = currencies.iter().map(|c| format!("'{}'", c.code())).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT v.currency AS currency FROM \
             (SELECT currency, payout_id FROM earnings WHERE partner_id = $1 AND voided_at IS NOT NULL AND created_at >= $2 AND created_at < $3 \
             UNION SELECT currency, payout_id FROM earnings WHERE partner_id = $1 AND voided_at >= $2 AND voided_at < $3) v \
             JOIN payouts p ON p.id = v.payout_id WHERE v.currency IN ({list}) AND p.fx_usd_per_unit_e8 IS NULL ORDER BY v.currency"
        ))
        .bind(partner_id.to_string())
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|r| currency(&get::<String>(r, "currency")?)).collect()
    }

    /// The earnings section of the partner's statement for `[from, to)` in `w`: the
    /// earnings created in it but the live clawbacks, voided ones included, by (creation,
    /// payout, id).
    pub async fn statement_earning_lines(
        &mut self,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        w: StatementWindow,
    ) -> Result<Vec<EarningLine>> {
        let clawback = EarningKind::Clawback.as_str();
        let mut inner = format!(
            "{} WHERE e.partner_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND (e.voided_at IS NOT NULL OR e.kind <> '{clawback}')",
            inner_cols("created_at", 0)
        );
        if w.after.is_some() {
            inner.push_str(&after_sql("e.created_at", "e.payout_id", "e.id"));
        }
        let sql = line_sql(&inner, &format!(" ORDER BY e.created_at, e.payout_id, e.id{}", w.limit_sql()));
        self.earning_lines(&sql, partner_id, from, to, &w.after).await
    }

    /// The reversals section of the partner's statement for `[from, to)` in `w`: the live
    /// clawbacks created in it and the voids in it, by (date, payout, id).
    pub async fn statement_reversal_lines(
        &mut self,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        w: StatementWindow,
    ) -> Result<Vec<EarningLine>> {
        let clawback = EarningKind::Clawback.as_str();
        // The month's live clawbacks, over the earnings table named `t`.
        let clawbacks_of = |t: &str| {
            let mut c =
                format!("{t}.partner_id = $1 AND {t}.created_at >= $2 AND {t}.created_at < $3 AND {t}.voided_at IS NULL AND {t}.kind = '{clawback}'");
            if w.after.is_some() {
                c.push_str(&after_sql(&format!("{t}.created_at"), &format!("{t}.payout_id"), &format!("{t}.id")));
            }
            c
        };
        let clawbacks = match self.backend {
            // The clawbacks' ids first, index-only on `earnings_partner_statement` (which
            // holds `kind` and `voided_at`), then their rows by id: read in one range with
            // their rows, PostgreSQL fetched the heap page of every earning of the month to
            // find the few clawbacks (12,000 pages for none, 95–218 ms against 6–11 ms, for
            // the largest partner's month at 1M).
            Backend::Postgres => {
                format!("{} WHERE e.id IN (SELECT k.id FROM earnings k WHERE {})", inner_cols("created_at", 0), clawbacks_of("k"))
            }
            Backend::Sqlite => format!("{} WHERE {}", inner_cols("created_at", 0), clawbacks_of("e")),
        };
        let mut voids = format!("{} WHERE e.partner_id = $1 AND e.voided_at >= $2 AND e.voided_at < $3", inner_cols("voided_at", 1));
        if w.after.is_some() {
            voids.push_str(&after_sql("e.voided_at", "e.payout_id", "e.id"));
        }
        let inner = format!("SELECT * FROM ({clawbacks} UNION ALL {voids}) u");
        let sql = line_sql(&inner, &format!(" ORDER BY u.d, u.payout_id, u.id{}", w.limit_sql()));
        self.earning_lines(&sql, partner_id, from, to, &w.after).await
    }

    async fn earning_lines(
        &mut self,
        sql: &str,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        after: &Option<StatementCursor>,
    ) -> Result<Vec<EarningLine>> {
        let mut args = vec![Arg::Text(partner_id.to_string()), Arg::Int(ms(from)), Arg::Int(ms(to))];
        args.extend(cursor_args(after));
        let rows = bind_all(sqlx::query(sql), &args).fetch_all(self.conn()).await?;
        let lines = rows.iter().map(earning_line_from).collect::<Result<Vec<_>>>()?;
        drop(rows);
        // The partner's decisions of the lines (the reason, and the link for the tenant),
        // then those links' tenants: each id probed on its primary key, one statement per
        // table on PostgreSQL (`rows_in_one`).
        let decision_ids = sorted_unique(lines.iter().flat_map(|(_, r, v)| [*r, *v]).flatten());
        let mut decisions: HashMap<Uuid, (String, Option<Uuid>)> = HashMap::with_capacity(decision_ids.len());
        let partner = partner_id.to_string();
        // The partner is compared here, not in SQL: with it there, SQLite read every
        // decision of the partner per chunk (`attribution_decisions_partner`) instead of
        // probing the ids.
        for r in self
            .rows_in_one("SELECT id, partner_id, reason, link_id FROM attribution_decisions WHERE id IN ({in})", None, &decision_ids)
            .await?
        {
            if get::<Option<String>>(&r, "partner_id")?.as_deref() == Some(partner.as_str()) {
                decisions.insert(uuid(&get::<String>(&r, "id")?)?, (get(&r, "reason")?, opt_uuid(get(&r, "link_id")?)?));
            }
        }
        // The link a line's tenant comes from: the report's decision's for a live earning,
        // else the voided line's own decision's (or the payout's latest).
        let link_of = |l: &EarningLine, rdid: &Option<Uuid>, vdid: &Option<Uuid>| {
            let d = if l.voided_at.is_none() { rdid } else { vdid };
            d.and_then(|d| decisions.get(&d)).and_then(|(_, link)| *link)
        };
        let link_ids = sorted_unique(lines.iter().filter_map(|(l, r, v)| link_of(l, r, v)));
        let mut tenants: HashMap<Uuid, String> = HashMap::with_capacity(link_ids.len());
        for r in self.rows_in_one("SELECT id, external_tenant_id FROM links WHERE id IN ({in})", None, &link_ids).await? {
            tenants.insert(uuid(&get::<String>(&r, "id")?)?, get(&r, "external_tenant_id")?);
        }
        Ok(lines
            .into_iter()
            .map(|(mut l, rdid, vdid)| {
                l.reason = rdid.and_then(|d| decisions.get(&d)).map(|(reason, _)| reason.clone());
                l.external_tenant_id = link_of(&l, &rdid, &vdid).and_then(|id| tenants.get(&id)).cloned().unwrap_or_default();
                l
            })
            .collect())
    }

    /// The payouts created in `[from, to)` on the cases of clients that have or had a link
    /// to the partner, on which the partner has no earning (statements: "did not earn"),
    /// every one, oldest first ([`Tx::statement_not_earned_lines`]).
    pub async fn payouts_not_earned(&mut self, partner_id: Uuid, from: Instant, to: Instant) -> Result<Vec<NotEarned>> {
        self.statement_not_earned_lines(partner_id, from, to, StatementWindow::all()).await
    }

    /// The partner's "did not earn" payouts of `[from, to)` in `w`, by (creation, payout),
    /// with what their line needs: the payment's amount, the case's reference and
    /// attribution facts, and the payout's latest decision (any partner's; the caller uses
    /// it only when it names this partner). The partner's clients come from
    /// `links_partner_client`, the period's payouts of each client from one range of
    /// `payouts_client_created` (migration 0038: the date compared in the index), and the
    /// missing earning is one probe of `earnings_payout_partner` per payout (migration
    /// 0024): no pass over the partner's cases, its earnings or the period's payouts. The
    /// page is chosen on those index columns alone; what its lines show is then read for
    /// its payouts only ([`Tx::not_earned_shown`]), and their decisions by payout
    /// (`attribution_decisions_payout`, the latest picked here: as a sub-select per payout
    /// each one sorted its payout's decisions, then was read again by id). Joined by payout
    /// id in one read with the page, PostgreSQL's planner (seeing the 5,175 ids) hashed a
    /// parallel scan of every payment instead.
    pub async fn statement_not_earned_lines(
        &mut self,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        w: StatementWindow,
    ) -> Result<Vec<NotEarned>> {
        let after =
            if w.after.is_some() { " AND p.created_at >= $4 AND (p.created_at > $4 OR (p.created_at = $4 AND p.id > $5))" } else { "" };
        let sql = format!(
            "{candidates}{after} ORDER BY p.created_at, p.id{limit}",
            candidates = not_earned_candidates_sql("p.id AS payout_id, p.created_at AS created_at"),
            limit = w.limit_sql(),
        );
        let mut args = vec![Arg::Text(partner_id.to_string()), Arg::Int(ms(from)), Arg::Int(ms(to))];
        if let Some(c) = w.after {
            args.push(Arg::Int(ms(c.date)));
            args.push(Arg::Text(c.payout_id.to_string()));
        }
        let rows = bind_all(sqlx::query(&sql), &args).fetch_all(self.conn()).await?;
        let picked =
            rows.iter().map(|r| Ok((uuid(&get::<String>(r, "payout_id")?)?, at(get(r, "created_at")?)))).collect::<Result<Vec<_>>>()?;
        drop(rows);
        let ids = sorted_unique(picked.iter().map(|(id, _)| *id));
        let mut shown = self.not_earned_shown(&ids).await?;
        // Each payout's latest decision: the greatest (decided at, id), as `ORDER BY
        // decided_at DESC, id DESC` picks it (ids are lower-case hexadecimal UUIDs of one
        // length, so their text order is the same on both backends).
        let mut latest: HashMap<Uuid, (i64, String, LatestDecision)> = HashMap::with_capacity(ids.len());
        for r in self
            .rows_in_one(
                "SELECT id, payout_id, decided_at, partner_id, reason, link_id FROM attribution_decisions WHERE payout_id IN ({in})",
                None,
                &ids,
            )
            .await?
        {
            let key = (get::<i64>(&r, "decided_at")?, get::<String>(&r, "id")?);
            let payout_id = uuid(&get::<String>(&r, "payout_id")?)?;
            if latest.get(&payout_id).is_some_and(|(at, id, _)| (*at, id.as_str()) > (key.0, key.1.as_str())) {
                continue;
            }
            let reason: String = get(&r, "reason")?;
            let d = LatestDecision {
                partner_id: opt_uuid(get(&r, "partner_id")?)?,
                reason: Reason::parse(&reason).ok_or_else(|| StoreError::Corrupt(format!("reason `{reason}`")))?,
                link_id: opt_uuid(get(&r, "link_id")?)?,
            };
            latest.insert(payout_id, (key.0, key.1, d));
        }
        let mut out = Vec::with_capacity(picked.len());
        for (payout_id, created_at) in picked {
            // A payout, case or payment that is not there leaves the line out (the inner
            // joins this replaces did the same; the foreign keys rule it out).
            let Some(s) = shown.remove(&payout_id) else { continue };
            out.push(NotEarned {
                payout_id,
                created_at,
                currency: s.currency,
                payment_amount_minor: s.payment_amount_minor,
                case_id: s.case_id,
                case_reference: s.case_reference,
                client_id: s.client_id,
                case_created_at: s.case_created_at,
                case_source: s.case_source,
                creating_partner_id: s.creating_partner_id,
                latest: latest.get(&payout_id).map(|(_, _, d)| *d),
            });
        }
        Ok(out)
    }

    /// What the "did not earn" lines of these payouts show of their payout, payment and
    /// case, by payout id (a payout whose case or payment is missing is left out), each
    /// row probed on its primary key. SQLite: one statement joining the three tables (its
    /// planner probes each by key in a nested loop). PostgreSQL: one statement per table
    /// (`Tx::rows_in_one`); joined, with the 5,175 ids visible its planner hashed a
    /// parallel seq scan of all 1M payments (868 ms).
    async fn not_earned_shown(&mut self, ids: &[String]) -> Result<HashMap<Uuid, NotEarnedShown>> {
        let mut out = HashMap::with_capacity(ids.len());
        if self.backend == Backend::Sqlite {
            for r in self
                .rows_in_one(
                    "SELECT p.id AS payout_id, p.currency AS currency, pm.amount_minor AS amount_minor, c.id AS id, \
                     c.client_id AS client_id, c.created_at AS created_at, c.source AS source, \
                     c.creating_partner_id AS creating_partner_id, c.reference AS reference \
                     FROM payouts p JOIN cases c ON c.id = p.case_id JOIN payments pm ON pm.id = p.payment_id WHERE p.id IN ({in})",
                    None,
                    ids,
                )
                .await?
            {
                let s = NotEarnedShown::of(&r, &get::<String>(&r, "currency")?, get(&r, "amount_minor")?)?;
                out.insert(uuid(&get::<String>(&r, "payout_id")?)?, s);
            }
            return Ok(out);
        }
        let mut payouts: HashMap<Uuid, (Uuid, Uuid, String)> = HashMap::with_capacity(ids.len());
        for r in self.rows_in_one("SELECT id, case_id, payment_id, currency FROM payouts WHERE id IN ({in})", None, ids).await? {
            let case_id = uuid(&get::<String>(&r, "case_id")?)?;
            payouts.insert(uuid(&get::<String>(&r, "id")?)?, (case_id, uuid(&get::<String>(&r, "payment_id")?)?, get(&r, "currency")?));
        }
        let mut cases: HashMap<Uuid, sqlx::any::AnyRow> = HashMap::new();
        let case_ids = sorted_unique(payouts.values().map(|(case_id, _, _)| *case_id));
        for r in self
            .rows_in_one(
                "SELECT id, client_id, created_at, source, creating_partner_id, reference FROM cases WHERE id IN ({in})",
                None,
                &case_ids,
            )
            .await?
        {
            cases.insert(uuid(&get::<String>(&r, "id")?)?, r);
        }
        let mut payments: HashMap<Uuid, i64> = HashMap::with_capacity(payouts.len());
        let payment_ids = sorted_unique(payouts.values().map(|(_, payment_id, _)| *payment_id));
        for r in self.rows_in_one("SELECT id, amount_minor FROM payments WHERE id IN ({in})", None, &payment_ids).await? {
            payments.insert(uuid(&get::<String>(&r, "id")?)?, get(&r, "amount_minor")?);
        }
        for (payout_id, (case_id, payment_id, code)) in payouts {
            let (Some(c), Some(amount)) = (cases.get(&case_id), payments.get(&payment_id)) else { continue };
            out.insert(payout_id, NotEarnedShown::of(c, &code, *amount)?);
        }
        Ok(out)
    }

    /// How many "did not earn" payouts the partner's statement of `[from, to)` has.
    pub async fn statement_not_earned_count(&mut self, partner_id: Uuid, from: Instant, to: Instant) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM ({}) y", not_earned_candidates_sql("p.id AS payout_id"));
        let row = sqlx::query(&sql).bind(partner_id.to_string()).bind(ms(from)).bind(ms(to)).fetch_one(self.conn()).await?;
        get(&row, "n")
    }

    /// The partner's links to these clients, without history, oldest first (statements:
    /// the tenant of a payout that did not earn).
    pub async fn partner_link_tenants_of_clients(&mut self, partner_id: Uuid, client_ids: &[Uuid]) -> Result<Vec<LinkTenant>> {
        let ids = crate::in_list::sorted_unique(client_ids.iter().copied());
        let rows = self
            .rows_in_one(
                "SELECT id, client_id, external_tenant_id, linked_at FROM links WHERE partner_id = $1 AND client_id IN ({in}) \
                 ORDER BY linked_at, id",
                Some(&partner_id.to_string()),
                &ids,
            )
            .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(LinkTenant {
                    id: uuid(&get::<String>(r, "id")?)?,
                    client_id: uuid(&get::<String>(r, "client_id")?)?,
                    external_tenant_id: get(r, "external_tenant_id")?,
                    linked_at: at(get(r, "linked_at")?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|l| (l.linked_at, l.id));
        Ok(out)
    }
}

/// The "did not earn" payouts of partner `$1` in `[$2, $3)`, selecting `cols` of `p`, the
/// payout, that `payouts_client_created` holds (client, creation, id): one range of that
/// index per client the partner has or had a link to (`links_partner_client`, each client
/// once however many links), then one probe of `earnings_payout_partner` per payout.
fn not_earned_candidates_sql(cols: &str) -> String {
    format!(
        "SELECT {cols} FROM payouts p \
         WHERE p.client_id IN (SELECT l.client_id FROM links l WHERE l.partner_id = $1) \
         AND p.created_at >= $2 AND p.created_at < $3 \
         AND NOT EXISTS (SELECT 1 FROM earnings e WHERE e.payout_id = p.id AND e.partner_id = $1)"
    )
}
