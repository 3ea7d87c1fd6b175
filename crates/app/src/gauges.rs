//! Business gauges for the metrics endpoint, read from the database at scrape time: the
//! ledger's balances per stage and currency, and rows per status of webhook deliveries,
//! e-mails and disputes.

use refshare_core::money::checked_add;
use refshare_core::stage::RevenueStage;
use refshare_store::StatusTable;

use crate::fx::overflow;
use crate::{App, AppError};

/// One scrape's worth of business figures.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// (stage, currency code, minor units, currency exponent) summed over all partners.
    pub ledger: Vec<(RevenueStage, String, i64, u32)>,
    pub webhook_deliveries: Vec<(String, i64)>,
    pub notifications: Vec<(String, i64)>,
    pub disputes: Vec<(String, i64)>,
}

impl App {
    pub async fn gauges(&self) -> Result<Gauges, AppError> {
        let mut tx = self.store.begin().await?;
        let mut ledger: Vec<(RevenueStage, String, i64, u32)> = Vec::new();
        for b in tx.ledger_balances(None).await? {
            match ledger.iter_mut().find(|(s, c, _, _)| *s == b.stage && c == b.currency.code()) {
                Some(row) => row.2 = checked_add(row.2, b.amount_minor).map_err(overflow)?,
                None => ledger.push((b.stage, b.currency.code().to_string(), b.amount_minor, b.currency.exponent())),
            }
        }
        Ok(Gauges {
            ledger,
            webhook_deliveries: tx.status_counts(StatusTable::WebhookDeliveries).await?,
            notifications: tx.status_counts(StatusTable::Notifications).await?,
            disputes: tx.status_counts(StatusTable::Disputes).await?,
        })
    }
}
