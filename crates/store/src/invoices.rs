//! Invoices: the platform's monthly invoices to collection partners (and the record that
//! a period's run happened) and referral partners' invoices to the platform.

use refshare_core::stage::CpInvoiceStatus;
use refshare_core::Instant;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{at, currency, get, ms, opt_at, uuid, CpInvoiceRecord, PartnerInvoiceRecord, Result, StoreError, Tx};

pub(crate) fn cp_status(s: &str) -> Result<CpInvoiceStatus> {
    CpInvoiceStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("CP invoice status `{s}`")))
}

fn cp_invoice_from(r: &AnyRow) -> Result<CpInvoiceRecord> {
    Ok(CpInvoiceRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        collection_partner_id: uuid(&get::<String>(r, "collection_partner_id")?)?,
        period: get(r, "period")?,
        currency: currency(&get::<String>(r, "currency")?)?,
        amount_minor: get(r, "amount_minor")?,
        status: cp_status(&get::<String>(r, "status")?)?,
        created_at: at(get(r, "created_at")?),
        paid_at: opt_at(get(r, "paid_at")?),
        due_at: opt_at(get(r, "due_at")?),
    })
}

fn partner_invoice_from(r: &AnyRow) -> Result<PartnerInvoiceRecord> {
    Ok(PartnerInvoiceRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        currency: currency(&get::<String>(r, "currency")?)?,
        amount_minor: get(r, "amount_minor")?,
        status: get(r, "status")?,
        created_at: at(get(r, "created_at")?),
        paid_at: opt_at(get(r, "paid_at")?),
        due_at: opt_at(get(r, "due_at")?),
    })
}

const CP_COLS: &str = "id, collection_partner_id, period, currency, amount_minor, status, created_at, paid_at, due_at";
const PARTNER_COLS: &str = "id, partner_id, currency, amount_minor, status, created_at, paid_at, due_at";

impl Tx {
    pub async fn insert_cp_invoice(&mut self, i: &CpInvoiceRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO cp_invoices ({CP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(i.id.to_string())
            .bind(i.collection_partner_id.to_string())
            .bind(&i.period)
            .bind(i.currency.code())
            .bind(i.amount_minor)
            .bind(i.status.as_str())
            .bind(ms(i.created_at))
            .bind(i.paid_at.map(ms))
            .bind(i.due_at.map(ms))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn cp_invoice(&mut self, id: Uuid) -> Result<Option<CpInvoiceRecord>> {
        let row = sqlx::query(&format!("SELECT {CP_COLS} FROM cp_invoices WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(cp_invoice_from).transpose()
    }

    pub async fn cp_invoices_of_period(&mut self, period: &str) -> Result<Vec<CpInvoiceRecord>> {
        let rows = sqlx::query(&format!("SELECT {CP_COLS} FROM cp_invoices WHERE period = $1 ORDER BY collection_partner_id, currency"))
            .bind(period)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(cp_invoice_from).collect()
    }

    /// `InvoiceIssued → PaymentReceived`; `false` if the invoice was not issued-and-open.
    pub async fn set_cp_invoice_paid(&mut self, id: Uuid, at: Instant) -> Result<bool> {
        let r = sqlx::query("UPDATE cp_invoices SET status = 'PaymentReceived', paid_at = $1 WHERE id = $2 AND status = 'InvoiceIssued'")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// When the run of a period happened, if it did.
    pub async fn cp_invoicing_run(&mut self, period: &str) -> Result<Option<Instant>> {
        let row = sqlx::query("SELECT run_at FROM cp_invoicing_runs WHERE period = $1").bind(period).fetch_optional(self.conn()).await?;
        row.map(|r| Ok(at(get(&r, "run_at")?))).transpose()
    }

    pub async fn insert_cp_invoicing_run(&mut self, period: &str, at: Instant) -> Result<()> {
        sqlx::query("INSERT INTO cp_invoicing_runs (period, run_at) VALUES ($1, $2)")
            .bind(period)
            .bind(ms(at))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn insert_partner_invoice(&mut self, i: &PartnerInvoiceRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO partner_invoices ({PARTNER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(i.id.to_string())
            .bind(i.partner_id.to_string())
            .bind(i.currency.code())
            .bind(i.amount_minor)
            .bind(&i.status)
            .bind(ms(i.created_at))
            .bind(i.paid_at.map(ms))
            .bind(i.due_at.map(ms))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn partner_invoice(&mut self, id: Uuid) -> Result<Option<PartnerInvoiceRecord>> {
        let row = sqlx::query(&format!("SELECT {PARTNER_COLS} FROM partner_invoices WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(partner_invoice_from).transpose()
    }

    /// `Invoiced → Paid`; `false` if the invoice was not open.
    pub async fn set_partner_invoice_paid(&mut self, id: Uuid, at: Instant) -> Result<bool> {
        let r = sqlx::query("UPDATE partner_invoices SET status = 'Paid', paid_at = $1 WHERE id = $2 AND status = 'Invoiced'")
            .bind(ms(at))
            .bind(id.to_string())
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// (invoice id, status) of the CP invoices billing the partner's payouts.
    pub async fn cp_invoice_statuses_of_partner(&mut self, partner_id: Uuid) -> Result<Vec<(Uuid, CpInvoiceStatus)>> {
        let rows = sqlx::query(
            "SELECT id, status FROM cp_invoices WHERE id IN \
             (SELECT p.cp_invoice_id FROM payouts p JOIN earnings e ON e.payout_id = p.id WHERE e.partner_id = $1)",
        )
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|r| Ok((uuid(&get::<String>(r, "id")?)?, cp_status(&get::<String>(r, "status")?)?))).collect()
    }
}
