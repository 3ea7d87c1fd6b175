//! The partner's live earnings per client, kept (issue 9, migration 0040): what the client
//! list shows as each client's earnings (`partner_client_earnings_usd`) without a pass over
//! the page's earnings.
//!
//! `client_earnings_totals`: per (partner, client, currency, locked) over the live earnings
//! with a stored stage or payment date (every live earning has them: `reconcile`) and a
//! client (migration 0032): rows and US cents, each row rounded as [`usd_minor_sql`]
//! rounds it, then summed, at
//! - the row's locked rate (`locked` 1): kept by the earnings totals' deltas
//!   ([`crate::totals`]), flushed at commit after them, keys sorted;
//! - the currency's estimate rate (`locked` 0, the rate not locked): kept with the estimate
//!   totals ([`crate::estimates`]): converted at flush time at the rate `estimate_rates`
//!   holds (built currencies only; USD cents 0 while that rate is NULL), re-based by
//!   [`Tx::rebuild_estimates`] with one aggregate.
//!
//! A read uses a currency's estimate rows only when `estimate_rates` is built at the rate
//! the caller converts at; otherwise that currency's estimate rows are aggregated from the
//! earnings (as every row was before 0040). `reconcile` proves the table against the rows
//! with [`client_totals_sql`] and [`client_estimates_sql`], the aggregates 0040 filled it
//! with.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use refshare_core::money::Currency;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::clients::ClientEarningsUsd;
use crate::in_list::texts;
use crate::month_totals::KeyValue;
use crate::reporting::{rate_table_sql, usd_minor_sql, CurrentRates};
use crate::totals::divisor_table_sql;
use crate::{currency, get, uuid, Cols, Result, StoreError, Tx};

/// The key of a `client_earnings_totals` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientTotalsKey {
    pub partner_id: Uuid,
    pub client_id: Uuid,
    pub currency: Currency,
    /// The rows' USD rate is locked: cents at that rate; else at the estimate rate.
    pub locked: bool,
}

/// The sums of one `client_earnings_totals` row (or a delta of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientSums {
    pub count: i64,
    pub usd_minor: i64,
}

impl ClientSums {
    /// `self + sign · other`, checked.
    pub(crate) fn add(self, other: ClientSums, sign: i64) -> Result<ClientSums> {
        let f = |a: i64, b: i64| {
            b.checked_mul(sign).and_then(|b| a.checked_add(b)).ok_or_else(|| StoreError::Corrupt("client totals overflow".into()))
        };
        Ok(ClientSums { count: f(self.count, other.count)?, usd_minor: f(self.usd_minor, other.usd_minor)? })
    }
}

/// Which live earnings the kept rows count (as the deltas of [`crate::totals`] see them).
const COUNTED: &str = "e.voided_at IS NULL AND (e.stage IS NOT NULL OR e.paid_at IS NOT NULL) AND e.client_id IS NOT NULL";

/// The locked rows (`locked` 1) of the live earnings `e` that `clause` selects, grouped by
/// key: the fill of migration 0040 and `reconcile`.
pub fn client_totals_sql(clause: &str) -> Result<String> {
    let usd = usd_minor_sql("e.amount_minor", "e.fx_usd_per_unit_e8", "c.d");
    Ok(format!(
        "SELECT e.partner_id AS partner_id, e.client_id AS client_id, e.currency AS currency, CAST(1 AS BIGINT) AS locked, \
         CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd \
         FROM earnings e LEFT JOIN {} c ON c.cur = e.currency \
         WHERE {COUNTED} AND e.fx_usd_per_unit_e8 IS NOT NULL AND ({clause}) \
         GROUP BY e.partner_id, e.client_id, e.currency",
        divisor_table_sql()?
    ))
}

/// The estimate rows (`locked` 0) of the live earnings `e` without a locked rate that
/// `clause` selects, in the currencies `estimate_rates` holds as built, each row converted
/// at that rate (USD cents 0 when it is NULL): the re-basing, the fill of migration 0040
/// and `reconcile`.
pub fn client_estimates_sql(clause: &str) -> Result<String> {
    let usd = usd_minor_sql("e.amount_minor", "fx.r", "fx.d");
    Ok(format!(
        "SELECT e.partner_id AS partner_id, e.client_id AS client_id, e.currency AS currency, CAST(0 AS BIGINT) AS locked, \
         CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd \
         FROM earnings e JOIN (SELECT r.currency AS cur, c.d AS d, r.rate_e8 AS r FROM estimate_rates r \
         JOIN {} c ON c.cur = r.currency WHERE r.built = 1) fx ON fx.cur = e.currency \
         WHERE {COUNTED} AND e.fx_usd_per_unit_e8 IS NULL AND ({clause}) \
         GROUP BY e.partner_id, e.client_id, e.currency",
        divisor_table_sql()?
    ))
}

fn key_of(r: &AnyRow) -> Result<ClientTotalsKey> {
    Ok(ClientTotalsKey {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        client_id: uuid(&get::<String>(r, "client_id")?)?,
        currency: currency(&get::<String>(r, "currency")?)?,
        locked: get::<i64>(r, "locked")? != 0,
    })
}

fn row_of(r: &AnyRow) -> Result<(ClientTotalsKey, ClientSums)> {
    Ok((key_of(r)?, ClientSums { count: get(r, "n")?, usd_minor: get(r, "usd")? }))
}

const KEY_COLS: [&str; 4] = ["partner_id", "client_id", "currency", "locked"];
const SUM_COLS: [&str; 2] = ["n", "usd_minor"];

fn upsert_rows(deltas: BTreeMap<ClientTotalsKey, ClientSums>) -> Vec<(Vec<KeyValue>, Vec<i64>)> {
    deltas
        .into_iter()
        .map(|(k, s)| {
            let key = vec![
                KeyValue::Text(k.partner_id.to_string()),
                KeyValue::Text(k.client_id.to_string()),
                KeyValue::Text(k.currency.code().to_string()),
                KeyValue::Int(i64::from(k.locked)),
            ];
            (key, vec![s.count, s.usd_minor])
        })
        .collect()
}

/// The live earnings of the partner (`$1`) on the clients `IN ({in})`, each at its locked
/// rate, else at `rates`, rounded on its own, summed per client in SQL (rows without a
/// rate counted apart), restricted by `extra` (`e`).
fn client_earnings_sql(rates: &CurrentRates, extra: &str) -> Result<String> {
    // One range of `earnings_partner_client_live` (migration 0032) per client and
    // currency: `CROSS JOIN` makes SQLite walk the rate table outside (one probe per
    // currency, rather than a scan of the rate table per earning); every stored currency
    // is in it. The locked rate is the read model's copy of the payout's (migration
    // 0019): no payout or case row is read.
    let usd = usd_minor_sql("e.amount_minor", "COALESCE(e.fx_usd_per_unit_e8, fx.r)", "fx.d");
    Ok(format!(
        "SELECT client_id, CAST(COALESCE(SUM(usd), 0) AS BIGINT) AS usd, \
         CAST(SUM(CASE WHEN usd IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS missing \
         FROM (SELECT e.client_id AS client_id, {usd} AS usd \
               FROM {} fx CROSS JOIN earnings e \
               WHERE e.currency = fx.cur AND e.partner_id = $1 AND e.client_id IN ({{in}}) AND e.voided_at IS NULL{extra}) x \
         GROUP BY client_id",
        rate_table_sql(rates)?
    ))
}

/// What a client page's earnings are read from (one read with the page's other rows, or
/// [`Tx::partner_client_earnings_usd`]'s own): the state of every currency's estimate rows
/// (`estimate_rates`) and the page's kept rows of `client_earnings_totals` that count
/// something.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptClientEarnings {
    /// Per currency: built, and the rate its estimate rows are at.
    pub(crate) estimate_rates: Vec<(Currency, bool, Option<i64>)>,
    /// Per kept row: client, currency, locked, count, US cents.
    pub(crate) rows: Vec<(Uuid, Currency, bool, i64, i64)>,
}

/// A kept row of `client_earnings_totals` (`client_id`, `currency`, `locked`, `n` and the
/// US cents in `usd`).
pub(crate) fn kept_row_from<R: Cols + ?Sized>(r: &R, usd: &str) -> Result<(Uuid, Currency, bool, i64, i64)> {
    Ok((
        uuid(&r.value::<String>("client_id")?)?,
        currency(&r.value::<String>("currency")?)?,
        r.value::<i64>("locked")? != 0,
        r.value("n")?,
        r.value(usd)?,
    ))
}

/// A row of `estimate_rates` (`currency`, then `built` and `rate_e8` as named).
pub(crate) fn estimate_rate_from<R: Cols + ?Sized>(r: &R, built: &str, rate: &str) -> Result<(Currency, bool, Option<i64>)> {
    Ok((currency(&r.value::<String>("currency")?)?, r.value::<i64>(built)? != 0, r.value(rate)?))
}

impl KeptClientEarnings {
    /// Per client with kept rows, its US cents at `rates` (the current rates; a locked rate
    /// wins) from the kept rows of the currencies whose estimate rows are built at `rates`,
    /// and the currencies that are not (stale): their unlocked earnings must be aggregated
    /// from the rows and added ([`Tx::partner_client_earnings_usd`] does).
    pub fn usd(&self, rates: &CurrentRates) -> Result<(HashMap<Uuid, ClientEarningsUsd>, BTreeSet<Currency>)> {
        let overflow = || StoreError::Corrupt("client earnings overflow".into());
        let current =
            |c: Currency| if c.code() == "USD" { Some(100_000_000) } else { rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r) };
        // The currencies whose estimate rows are at `rates`, and whether each has a rate.
        let mut usable: HashMap<Currency, bool> = HashMap::new();
        for &(c, built, rate_e8) in &self.estimate_rates {
            if built && rate_e8 == current(c) {
                usable.insert(c, rate_e8.is_some());
            }
        }
        let stale: BTreeSet<Currency> = Currency::all().filter(|c| !usable.contains_key(c)).collect();
        let mut out: HashMap<Uuid, ClientEarningsUsd> = HashMap::new();
        for &(client, c, locked, n, usd) in &self.rows {
            let e = out.entry(client).or_default();
            match (locked, usable.get(&c)) {
                (true, _) | (false, Some(true)) => e.usd_minor = e.usd_minor.checked_add(usd).ok_or_else(overflow)?,
                (false, Some(false)) => e.usd_missing = e.usd_missing.checked_add(n).ok_or_else(overflow)?,
                // A stale currency's row: its earnings are aggregated from the rows.
                (false, None) => {}
            }
        }
        Ok((out, stale))
    }
}

impl Tx {
    /// Writes the pending locked client deltas, keys sorted, and clears them. Run by
    /// [`Tx::commit`] right after the earnings totals.
    pub(crate) async fn flush_client_totals(&mut self) -> Result<()> {
        let deltas = std::mem::take(&mut self.totals.clients);
        self.upsert_sums("client_earnings_totals", &KEY_COLS, &SUM_COLS, upsert_rows(deltas)).await
    }

    /// Adds converted client estimate deltas (`locked` false, keys sorted by the map); run
    /// by [`Tx::commit`] with the estimate totals, under the same rate locks.
    pub(crate) async fn add_client_estimates(&mut self, deltas: BTreeMap<ClientTotalsKey, ClientSums>) -> Result<()> {
        self.upsert_sums("client_earnings_totals", &KEY_COLS, &SUM_COLS, upsert_rows(deltas)).await
    }

    /// Recomputes the client estimate rows of the currencies in `list` (quoted codes, comma
    /// separated) at the rates `estimate_rates` now holds; part of
    /// [`Tx::rebuild_estimates`], after the rate rows are updated.
    pub(crate) async fn rebuild_client_estimates(&mut self, list: &str) -> Result<()> {
        sqlx::query(&format!("DELETE FROM client_earnings_totals WHERE locked = 0 AND currency IN ({list})")).execute(self.conn()).await?;
        let sql = client_estimates_sql(&format!("e.currency IN ({list})"))?;
        sqlx::query(&format!(
            "INSERT INTO client_earnings_totals (partner_id, client_id, currency, locked, n, usd_minor) \
             SELECT partner_id, client_id, currency, locked, n, usd FROM ({sql}) t"
        ))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Per client of `client_ids` with live earnings of the partner on its cases, their US
    /// cents at `rates` (the current rates; a locked rate wins), as
    /// [`Tx::partner_client_earnings_usd_from_rows`] sums them: from the kept rows of
    /// `client_earnings_totals` (migration 0040; one read per `IN_CHUNK` clients, a few
    /// rows a client, with the estimate rates' state), except for the currencies whose estimate rows are not at `rates`,
    /// whose unlocked earnings are aggregated from the rows. Clients without such earnings
    /// are absent.
    pub async fn partner_client_earnings_usd(
        &mut self,
        partner_id: Uuid,
        client_ids: &[Uuid],
        rates: &CurrentRates,
    ) -> Result<HashMap<Uuid, ClientEarningsUsd>> {
        // One statement: the estimate rates' state (`k` 'r': `locked` is `built`, `n` the
        // rate) and the page's kept rows (`k` 'c').
        let sql = "SELECT 'r' AS k, CAST(NULL AS TEXT) AS client_id, currency, built AS locked, rate_e8 AS n, CAST(0 AS BIGINT) AS usd \
                   FROM estimate_rates \
                   UNION ALL SELECT 'c' AS k, client_id, currency, locked, n, usd_minor AS usd FROM client_earnings_totals \
                   WHERE partner_id = $1 AND client_id IN ({in}) AND n <> 0";
        let overflow = || StoreError::Corrupt("client earnings overflow".into());
        let rows = self.rows_in(sql, Some(&partner_id.to_string()), &texts(client_ids)).await?;
        let mut kept = KeptClientEarnings::default();
        for r in &rows {
            if get::<String>(r, "k")? == "c" {
                kept.rows.push(kept_row_from(r, "usd")?);
            } else {
                kept.estimate_rates.push(estimate_rate_from(r, "locked", "n")?);
            }
        }
        let (mut out, stale) = kept.usd(rates)?;
        if !stale.is_empty() {
            // Codes are three ASCII letters: nothing here is user input.
            let list = stale.iter().map(|c| format!("'{}'", c.code())).collect::<Vec<_>>().join(", ");
            let extra = format!(" AND e.fx_usd_per_unit_e8 IS NULL AND e.currency IN ({list})");
            for (client, x) in self.client_earnings_of_rows(partner_id, client_ids, rates, &extra).await? {
                let e = out.entry(client).or_default();
                e.usd_minor = e.usd_minor.checked_add(x.usd_minor).ok_or_else(overflow)?;
                e.usd_missing = e.usd_missing.checked_add(x.usd_missing).ok_or_else(overflow)?;
            }
        }
        Ok(out)
    }

    /// What [`Tx::partner_client_earnings_usd`] answers, aggregated from the earnings
    /// themselves (one aggregate per `IN_CHUNK` clients): for tests and checks.
    pub async fn partner_client_earnings_usd_from_rows(
        &mut self,
        partner_id: Uuid,
        client_ids: &[Uuid],
        rates: &CurrentRates,
    ) -> Result<HashMap<Uuid, ClientEarningsUsd>> {
        self.client_earnings_of_rows(partner_id, client_ids, rates, "").await
    }

    async fn client_earnings_of_rows(
        &mut self,
        partner_id: Uuid,
        client_ids: &[Uuid],
        rates: &CurrentRates,
        extra: &str,
    ) -> Result<HashMap<Uuid, ClientEarningsUsd>> {
        let sql = client_earnings_sql(rates, extra)?;
        let mut out = HashMap::new();
        for r in self.rows_in(&sql, Some(&partner_id.to_string()), &texts(client_ids)).await? {
            out.insert(
                uuid(&get::<String>(&r, "client_id")?)?,
                ClientEarningsUsd { usd_minor: get(&r, "usd")?, usd_missing: get(&r, "missing")? },
            );
        }
        Ok(out)
    }

    /// Every stored client totals row that counts something, by key (`reconcile`).
    pub async fn client_earnings_totals(&mut self) -> Result<Vec<(ClientTotalsKey, ClientSums)>> {
        self.keyed_rows(
            "SELECT partner_id, client_id, currency, locked, n, usd_minor AS usd FROM client_earnings_totals WHERE n <> 0 OR usd_minor <> 0",
            row_of,
        )
        .await
    }

    /// The client totals recomputed from the rows (locked rows, and the estimate rows of
    /// the built currencies at the rates `estimate_rates` holds), by key (`reconcile`).
    pub async fn client_earnings_totals_from_rows(&mut self) -> Result<Vec<(ClientTotalsKey, ClientSums)>> {
        let sql = format!("{} UNION ALL {}", client_totals_sql("1 = 1")?, client_estimates_sql("1 = 1")?);
        self.keyed_rows(&sql, row_of).await
    }

    /// Overwrites (or adds) a client totals row (tests of `reconcile`).
    pub async fn corrupt_client_earnings_totals(&mut self, key: ClientTotalsKey, s: ClientSums) -> Result<()> {
        sqlx::query("DELETE FROM client_earnings_totals WHERE partner_id = $1 AND client_id = $2 AND currency = $3 AND locked = $4")
            .bind(key.partner_id.to_string())
            .bind(key.client_id.to_string())
            .bind(key.currency.code())
            .bind(i64::from(key.locked))
            .execute(self.conn())
            .await?;
        let mut one = BTreeMap::new();
        one.insert(key, s);
        self.upsert_sums("client_earnings_totals", &KEY_COLS, &SUM_COLS, upsert_rows(one)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fills of migration 0040 are the aggregates `reconcile` proves the table
    /// against, on each backend.
    #[test]
    fn migration_fills_with_the_reconciled_aggregates() {
        let migrations = [
            include_str!("../migrations/sqlite/0040_client_earnings_totals.sql"),
            include_str!("../migrations/postgres/0040_client_earnings_totals.sql"),
        ];
        let (totals, estimates) = (client_totals_sql("1 = 1").unwrap(), client_estimates_sql("1 = 1").unwrap());
        if std::env::var("PRINT_CLIENT_TOTALS_SQL").is_ok() {
            println!("{totals}\n{estimates}\n");
        }
        for m in migrations {
            assert!(m.contains(&totals), "the locked fill is not client_totals_sql(\"1 = 1\")");
            assert!(m.contains(&estimates), "the estimates fill is not client_estimates_sql(\"1 = 1\")");
        }
    }
}
