//! Business gauges for the metrics endpoint, read from the database at scrape time: the
//! ledger's balances per stage and currency, rows per status of webhook deliveries,
//! e-mails and disputes, and the FX rates that figures need and that are not loaded;
//! per partner only for a scrape with [`MetricsAccess::PerTenant`].

use refshare_core::money::checked_add;
use refshare_core::stage::RevenueStage;
use refshare_store::StatusTable;

use crate::auth::MetricsAccess;
use crate::fx::overflow;
use crate::{App, AppError};

/// One scrape's worth of business figures.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// (stage, currency code, minor units, currency exponent) summed over all partners.
    pub ledger: Vec<(RevenueStage, String, i64, u32)>,
    /// (partner id, stage, currency code, minor units, exponent); empty unless per-tenant.
    pub partner_ledger: Vec<(uuid::Uuid, RevenueStage, String, i64, u32)>,
    pub webhook_deliveries: Vec<(String, i64)>,
    pub notifications: Vec<(String, i64)>,
    pub disputes: Vec<(String, i64)>,
    /// (currency, date) pairs missing from the rate table (`GET /fx-rates/missing`).
    pub fx_rates_missing: usize,
}

impl App {
    pub async fn gauges(&self, access: MetricsAccess) -> Result<Gauges, AppError> {
        // Before this read's transaction: SQLite has one connection.
        let fx_rates_missing = self.missing_fx_rates().await?.len();
        let mut tx = self.store.read().await?;
        let mut ledger: Vec<(RevenueStage, String, i64, u32)> = Vec::new();
        let balances = tx.ledger_balances(None).await?;
        let partner_ledger = match access {
            MetricsAccess::PerTenant => balances
                .iter()
                .map(|b| (b.partner_id, b.stage, b.currency.code().to_string(), b.amount_minor, b.currency.exponent()))
                .collect(),
            MetricsAccess::Totals => Vec::new(),
        };
        for b in balances {
            match ledger.iter_mut().find(|(s, c, _, _)| *s == b.stage && c == b.currency.code()) {
                Some(row) => row.2 = checked_add(row.2, b.amount_minor).map_err(overflow)?,
                None => ledger.push((b.stage, b.currency.code().to_string(), b.amount_minor, b.currency.exponent())),
            }
        }
        Ok(Gauges {
            ledger,
            partner_ledger,
            webhook_deliveries: tx.status_counts(StatusTable::WebhookDeliveries).await?,
            notifications: tx.status_counts(StatusTable::Notifications).await?,
            disputes: tx.status_counts(StatusTable::Disputes).await?,
            fx_rates_missing,
        })
    }
}
