//! Many rows per statement: the multi-row `INSERT` every bulk writer uses (the seed and
//! the set-based ledger sync), placeholder lists for `IN (…)` and `VALUES` sets, and the
//! bulk writers shared by both. A statement carries as many rows as fit in
//! [`MAX_PARAMS`] bind parameters (below SQLite's 32,766 and PostgreSQL's 65,535), so
//! every full chunk of a table has the same SQL text and is prepared once per connection
//! (sqlx's statement cache). The caller decides the transaction.

use crate::{inline_values, ms, AuditRecord, Backend, LedgerEntryRecord, Result, SqlValue, Tx, WebhookDeliveryRecord, WebhookEventRecord};

/// Most bind parameters in one statement.
pub const MAX_PARAMS: usize = 30_000;

/// Most rows in one statement, whatever the width of the table.
pub(crate) const MAX_ROWS: usize = 5_000;

/// One bind value of a bulk row.
pub(crate) enum V {
    T(String),
    OT(Option<String>),
    I(i64),
    OI(Option<i64>),
}

impl V {
    /// The value as [`inline_values`] writes it in.
    fn literal(&self) -> SqlValue {
        match self {
            V::T(s) | V::OT(Some(s)) => SqlValue::Text(s.clone()),
            V::I(i) | V::OI(Some(i)) => SqlValue::Int(*i),
            V::OT(None) | V::OI(None) => SqlValue::Null,
        }
    }
}

pub(crate) fn t(s: impl ToString) -> V {
    V::T(s.to_string())
}

pub(crate) fn ot<S: ToString>(s: Option<S>) -> V {
    V::OT(s.map(|s| s.to_string()))
}

/// `INSERT INTO table (cols, derived) VALUES ($1, …), (…)` for `rows` rows; SQLite gets
/// anonymous `?` parameters (numbered ones are looked up by name there, which costs
/// quadratic time in a statement of thousands). Each derived column is a `(name,
/// expression)` whose `{}` stands for one more bind of the row (e.g. a case's client read
/// from its case id), after the plain columns' binds.
///
/// On SQLite a row with derived columns is a row of a `VALUES` set that a `SELECT`
/// computes them from (`v.columnN`): each scalar subquery written into a `VALUES` row
/// opens its own cursor, and SQLite walks every cursor open on a table to open the next,
/// so thousands of rows cost quadratic time (measured in the seed: three quarters of its
/// time in `sqlite3BtreeCursor`). In the `SELECT` each expression is one subquery.
fn insert_sql(backend: Backend, table: &str, cols: &[&str], derived: &[(&str, &str)], rows: usize) -> String {
    let names: Vec<&str> = cols.iter().copied().chain(derived.iter().map(|(name, _)| *name)).collect();
    let width = cols.len() + derived.len();
    if backend == Backend::Sqlite && !derived.is_empty() {
        let plain = (1..=cols.len()).map(|i| format!("v.column{i}"));
        let computed = derived.iter().enumerate().map(|(i, (_, expr))| expr.replace("{}", &format!("v.column{}", cols.len() + i + 1)));
        let row = format!("({})", vec!["?"; width].join(", "));
        return format!(
            "INSERT INTO {table} ({}) SELECT {} FROM (VALUES {}) v",
            names.join(", "),
            plain.chain(computed).collect::<Vec<_>>().join(", "),
            vec![row.as_str(); rows].join(", ")
        );
    }
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        let first = r * width + 1;
        let plain = cols.iter().enumerate().map(|(i, _)| ph(backend, first + i));
        let computed = derived.iter().enumerate().map(|(i, (_, expr))| expr.replace("{}", &ph(backend, first + cols.len() + i)));
        sql.push('(');
        sql.push_str(&plain.chain(computed).collect::<Vec<_>>().join(", "));
        sql.push(')');
    }
    sql
}

/// The `n`-th bind placeholder (1-based) of a generated statement: `?` on SQLite (whose
/// numbered parameters cost quadratic time in long statements), `$n` on PostgreSQL. A
/// statement built with it binds its values in textual order.
pub(crate) fn ph(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".into(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `ph, ph, …` for `count` values numbered from `first`.
pub(crate) fn ph_list(backend: Backend, first: usize, count: usize) -> String {
    (first..first + count).map(|n| ph(backend, n)).collect::<Vec<_>>().join(", ")
}

impl Tx {
    /// Writes `rows` (each one value per column of `cols`) in as few statements as fit.
    pub(crate) async fn bulk_insert(&mut self, table: &str, cols: &[&str], rows: Vec<Vec<V>>) -> Result<()> {
        self.bulk_insert_derived(table, cols, &[], rows).await
    }

    /// [`Tx::bulk_insert`] with derived columns (see `insert_sql`): each row holds its
    /// plain columns' values, then one value per derived column.
    pub(crate) async fn bulk_insert_derived(
        &mut self,
        table: &str,
        cols: &[&str],
        derived: &[(&str, &str)],
        rows: Vec<Vec<V>>,
    ) -> Result<()> {
        let width = cols.len() + derived.len();
        let per_statement = (MAX_PARAMS / width).clamp(1, MAX_ROWS);
        let mut rows = rows.into_iter().peekable();
        let mut full_sql: Option<String> = None;
        while rows.peek().is_some() {
            let chunk: Vec<Vec<V>> = rows.by_ref().take(per_statement).collect();
            let sql = if chunk.len() == per_statement {
                full_sql.get_or_insert_with(|| insert_sql(self.backend, table, cols, derived, per_statement)).clone()
            } else {
                insert_sql(self.backend, table, cols, derived, chunk.len())
            };
            if self.upserts.is_some() {
                // Inside the commit on PostgreSQL: queued with the kept totals' upserts, its
                // values written in (`Tx::upsert`); one that cannot be first sends the queue.
                let values: Vec<SqlValue> = chunk.iter().flatten().map(V::literal).collect();
                if let Some(text) = inline_values(&sql, &values) {
                    if let Some(queue) = self.upserts.as_mut() {
                        queue.push_str(&text);
                        queue.push_str(";\n");
                    }
                    continue;
                }
                let queued = self.upserts.replace(String::new()).unwrap_or_default();
                if !queued.is_empty() {
                    self.simple(&queued).await?;
                }
            }
            let mut q = sqlx::query(&sql);
            for row in chunk {
                debug_assert_eq!(row.len(), width);
                for v in row {
                    q = match v {
                        V::T(s) => q.bind(s),
                        V::OT(s) => q.bind(s),
                        V::I(i) => q.bind(i),
                        V::OI(i) => q.bind(i),
                    };
                }
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Outbox events, many per statement (the rows `insert_webhook_event` writes).
    pub async fn bulk_webhook_events(&mut self, v: &[WebhookEventRecord]) -> Result<()> {
        let rows =
            v.iter().map(|e| vec![t(e.id), t(e.partner_id), t(&e.event_type), t(e.payload.to_string()), V::I(ms(e.created_at))]).collect();
        self.bulk_insert("webhook_events", &["id", "partner_id", "event_type", "payload_json", "created_at"], rows).await
    }

    /// Deliveries, many per statement (the rows `insert_webhook_delivery` writes).
    pub async fn bulk_webhook_deliveries(&mut self, v: &[WebhookDeliveryRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|d| {
                vec![
                    t(d.id),
                    t(d.event_id),
                    t(d.subscription_id),
                    t(d.status.as_str()),
                    V::I(d.attempts),
                    V::OI(d.next_attempt_at.map(ms)),
                    V::OI(d.last_status_code),
                    ot(d.last_error.as_ref()),
                    V::OI(d.delivered_at.map(ms)),
                    V::I(ms(d.created_at)),
                ]
            })
            .collect();
        let cols = [
            "id",
            "event_id",
            "subscription_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
        ];
        self.bulk_insert("webhook_deliveries", &cols, rows).await
    }

    pub async fn bulk_ledger_entries(&mut self, v: &[LedgerEntryRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|e| {
                vec![
                    t(e.id),
                    t(e.partner_id),
                    t(e.earning_id),
                    t(e.stage.as_str()),
                    V::I(e.amount_minor),
                    t(e.currency.code()),
                    t(&e.cause),
                    ot(e.cause_id.as_ref()),
                    V::I(ms(e.created_at)),
                ]
            })
            .collect();
        let cols = ["id", "partner_id", "earning_id", "stage", "amount_minor", "currency", "cause", "cause_id", "created_at"];
        self.bulk_insert("ledger_entries", &cols, rows).await
    }

    pub async fn bulk_audit(&mut self, v: &[AuditRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|a| vec![t(a.id), V::I(ms(a.at)), t(&a.actor), t(&a.action), t(&a.entity), t(&a.entity_id), t(a.detail.to_string())])
            .collect();
        self.bulk_insert("audit_log", &["id", "at", "actor", "action", "entity", "entity_id", "detail_json"], rows).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_insert_statement_numbers_every_parameter_once() {
        use crate::Backend;
        assert_eq!(super::insert_sql(Backend::Postgres, "t", &["a", "b"], &[], 2), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert_eq!(super::insert_sql(Backend::Sqlite, "t", &["a", "b"], &[], 2), "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
    }

    #[test]
    fn a_derived_column_takes_the_next_parameter_of_its_row() {
        use crate::Backend;
        let derived = [("c", "(SELECT x FROM u WHERE id = {})")];
        assert_eq!(
            super::insert_sql(Backend::Postgres, "t", &["a", "b"], &derived, 2),
            "INSERT INTO t (a, b, c) VALUES ($1, $2, (SELECT x FROM u WHERE id = $3)), ($4, $5, (SELECT x FROM u WHERE id = $6))"
        );
        assert_eq!(
            super::insert_sql(Backend::Sqlite, "t", &["a"], &derived, 2),
            "INSERT INTO t (a, c) SELECT v.column1, (SELECT x FROM u WHERE id = v.column2) FROM (VALUES (?, ?), (?, ?)) v",
            "on SQLite one subquery for all rows, over the rows' values"
        );
    }
}
