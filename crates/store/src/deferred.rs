//! Rows a transaction appends and reads back nowhere before its commit (the audit rows of
//! the payments a group books, issue 9): kept in the [`Tx`] and written by [`Tx::commit`]
//! with one multi-row `INSERT`, before the kept totals (which stay the transaction's last
//! statements). A savepoint keeps the queue's length: rolling back to it drops what was
//! deferred after it, as the database drops the rows written after it.

use crate::{AuditRecord, Result, Savepoint, Tx};

/// The deferred rows of one transaction, and the queue's length at each savepoint.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    audit: Vec<AuditRecord>,
    saved: Vec<(Savepoint, usize)>,
}

impl Deferred {
    pub(crate) fn savepoint(&mut self, name: Savepoint) {
        self.saved.push((name, self.audit.len()));
    }

    /// Back to the queue at the latest savepoint `name`, which is forgotten.
    pub(crate) fn rollback_to(&mut self, name: Savepoint) {
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

    /// Writes the queued rows (in the order queued) and clears the queue.
    pub(crate) async fn flush_deferred(&mut self) -> Result<()> {
        let audit = std::mem::take(&mut self.deferred.audit);
        self.bulk_audit(&audit).await
    }
}
