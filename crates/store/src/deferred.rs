//! Rows a transaction writes later than it decides them (issue 9): kept in the [`Tx`] and
//! written with one multi-row `INSERT` per table.
//!
//! - **Audit rows**, read back nowhere before the commit (the audit rows of the payments
//!   a group books): written by [`Tx::commit`], before the kept totals (which stay the
//!   transaction's last statements). A savepoint keeps the queue's length: rolling back to
//!   it drops what was deferred after it, as the database drops the rows written after it.
//! - **A payment's rows** (payment, payout, decision, earning with its read model, ledger
//!   entries; [`Tx::defer_payment`]), so that the payments of a group booked without
//!   savepoints cost one statement per table rather than one per row: written by
//!   [`Tx::flush_deferred_writes`], which the caller runs before it reads what they hold
//!   (a later payment on the same case re-reading it), and which every [`Tx::savepoint`]
//!   and [`Tx::commit`] runs first. So what is queued was always queued after the latest
//!   savepoint: rolling back to any savepoint drops the whole queue, and what was written
//!   after the savepoint the database undoes. Their totals' deltas are taken when they are
//!   queued, from the rows as written (the payout's platform fee, the case's client), as
//!   [`Tx::insert_earning_with_model`] takes them from what its insert returns.

use std::collections::HashMap;

use uuid::Uuid;

use crate::{
    AuditRecord, DecisionRecord, EarningReadModel, EarningRecord, LedgerEntryRecord, PaymentRecord, PayoutRecord, Result, Savepoint,
    StoreError, Tx,
};

/// The deferred rows of one transaction, and the audit queue's length at each savepoint.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    audit: Vec<AuditRecord>,
    saved: Vec<(Savepoint, usize)>,
    writes: Writes,
}

/// A payment's rows queued by [`Tx::defer_payment`] and its siblings, in the order the
/// foreign keys need them written.
#[derive(Debug, Default)]
struct Writes {
    payments: Vec<PaymentRecord>,
    payouts: Vec<PayoutRecord>,
    decisions: Vec<DecisionRecord>,
    earnings: Vec<(EarningRecord, EarningReadModel)>,
    ledger: Vec<LedgerEntryRecord>,
    /// The platform fee of each queued payout, by payout id (what the earnings' totals take).
    fees: HashMap<Uuid, i64>,
}

impl Writes {
    fn is_empty(&self) -> bool {
        self.payments.is_empty()
            && self.payouts.is_empty()
            && self.decisions.is_empty()
            && self.earnings.is_empty()
            && self.ledger.is_empty()
    }
}

impl Deferred {
    pub(crate) fn savepoint(&mut self, name: Savepoint) {
        debug_assert!(self.writes.is_empty(), "a savepoint is set after the deferred writes are flushed");
        self.saved.push((name, self.audit.len()));
    }

    /// Back to the queue at the latest savepoint `name`, which is forgotten.
    pub(crate) fn rollback_to(&mut self, name: Savepoint) {
        self.writes = Writes::default();
        if let Some(i) = self.saved.iter().rposition(|(n, _)| *n == name) {
            if let Some((_, len)) = self.saved.drain(i..).next() {
                self.audit.truncate(len);
            }
        }
    }

    /// Forgets the latest savepoint `name` (and any set after it), keeping the queue.
    pub(crate) fn release(&mut self, name: Savepoint) {
        if let Some(i) = self.saved.iter().rposition(|(n, _)| *n == name) {
            self.saved.truncate(i);
        }
    }
}

impl Tx {
    /// Queues an audit row for [`Tx::commit`]: the row [`Tx::insert_audit`] writes, for a
    /// transaction that does not read the audit trail back before it commits. Dropped
    /// with the transaction if it never commits.
    pub fn defer_audit(&mut self, a: AuditRecord) {
        self.deferred.audit.push(a);
    }

    /// Audit rows queued and not written yet.
    pub fn deferred_audit_rows(&self) -> usize {
        self.deferred.audit.len()
    }

    /// Queues a payment's first rows: what [`Tx::insert_payment`], [`Tx::insert_payout`]
    /// and [`Tx::insert_decision`] write (see the module for when they are written).
    pub fn defer_payment(&mut self, payment: PaymentRecord, payout: PayoutRecord, decision: DecisionRecord) {
        let w = &mut self.deferred.writes;
        w.fees.insert(payout.id, payout.platform_fee_minor);
        w.payments.push(payment);
        w.payouts.push(payout);
        w.decisions.push(decision);
    }

    /// Queues an earning of a payout queued with [`Tx::defer_payment`], with its read
    /// model: the row [`Tx::insert_earning_with_model`] writes, its totals' deltas taken
    /// now from the payout's platform fee and `client_id`, the client of the earning's case.
    pub fn defer_earning_with_model(&mut self, e: &EarningRecord, m: &EarningReadModel, client_id: Uuid) -> Result<()> {
        if m.earning_id != e.id {
            return Err(StoreError::Corrupt("a read model of another earning".into()));
        }
        let fee = *self
            .deferred
            .writes
            .fees
            .get(&e.payout_id)
            .ok_or_else(|| StoreError::Corrupt("an earning deferred without its payout".into()))?;
        self.totals.add_written(e, m, Some(fee), Some(client_id))?;
        self.deferred.writes.earnings.push((e.clone(), *m));
        Ok(())
    }

    /// Queues ledger entries of an earning queued with [`Tx::defer_earning_with_model`].
    pub fn defer_ledger_entries(&mut self, v: &[LedgerEntryRecord]) {
        self.deferred.writes.ledger.extend_from_slice(v);
    }

    /// Writes the queued payments' rows (one multi-row `INSERT` per table, in the order of
    /// their foreign keys) and clears the queue; nothing queued, nothing sent.
    pub async fn flush_deferred_writes(&mut self) -> Result<()> {
        if self.deferred.writes.is_empty() {
            return Ok(());
        }
        let w = std::mem::take(&mut self.deferred.writes);
        self.bulk_payments(&w.payments).await?;
        self.bulk_payouts(&w.payouts).await?;
        self.bulk_decisions(&w.decisions).await?;
        self.bulk_earning_rows(&w.earnings).await?;
        self.bulk_ledger_entries(&w.ledger).await
    }

    /// Writes every queued row (the payments' rows, then the audit rows) and clears the
    /// queues.
    pub(crate) async fn flush_deferred(&mut self) -> Result<()> {
        self.flush_deferred_writes().await?;
        let audit = std::mem::take(&mut self.deferred.audit);
        self.bulk_audit(&audit).await
    }
}
