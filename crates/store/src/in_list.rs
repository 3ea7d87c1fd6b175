//! Reading rows by lists of ids: one statement per [`IN_CHUNK`] ids, so a list of any
//! length stays within both backends' parameter limits and costs a fixed number of
//! queries per chunk, never one per id; or ([`Tx::rows_in_one`]) one statement for the
//! whole list, the ids bound as one text parameter.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{Backend, Result, Tx};

/// Ids bound per `IN (…)` list, well below both backends' parameter limits.
pub(crate) const IN_CHUNK: usize = 500;

/// `$first, $first+1, …` for `n` binds.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The ids as bound text, sorted and without repeats.
pub(crate) fn sorted_unique(ids: impl IntoIterator<Item = Uuid>) -> Vec<String> {
    let mut v: Vec<Uuid> = ids.into_iter().collect();
    v.sort();
    v.dedup();
    v.into_iter().map(|u| u.to_string()).collect()
}

/// The ids as bound text, in their order.
pub(crate) fn texts(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// The ids as one bound text parameter `$n`, and what `IN ({in})` becomes to match a column
/// against them: `= ANY(string_to_array($n, ','))` over the ids joined by commas on
/// PostgreSQL (an id is a UUID, so it holds none), `IN (SELECT value FROM json_each($n))`
/// over them as a JSON array on SQLite.
pub(crate) fn in_one(backend: Backend, n: usize, ids: &[String]) -> (String, String) {
    match backend {
        Backend::Postgres => (format!("= ANY(string_to_array(${n}, ','))"), ids.join(",")),
        Backend::Sqlite => (format!("IN (SELECT value FROM json_each(${n}))"), serde_json::Value::from(ids).to_string()),
    }
}

impl Tx {
    /// The rows of `sql` for every id, where `{in}` in `sql` stands for the list of one
    /// chunk's placeholders; with `lead`, it is bound first as `$1` (the list starts at
    /// `$2`). Rows come chunk by chunk, each chunk in the statement's order.
    pub(crate) async fn rows_in(&mut self, sql: &str, lead: Option<&str>, ids: &[String]) -> Result<Vec<AnyRow>> {
        let first = if lead.is_some() { 2 } else { 1 };
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = sql.replace("{in}", &placeholders(first, chunk.len()));
            let mut q = sqlx::query(&sql);
            if let Some(lead) = lead {
                q = q.bind(lead.to_string());
            }
            for id in chunk {
                q = q.bind(id.clone());
            }
            out.extend(q.fetch_all(self.conn()).await?);
        }
        Ok(out)
    }

    /// The rows of `sql` for every id as [`Tx::rows_in`] reads them, but in one statement
    /// whatever the number of ids, the ids bound as one text parameter: `IN ({in})` in
    /// `sql` becomes [`in_one`]'s match. Each backend answers it with
    /// one probe of the column's index per id, as the chunks did. A statement is a round
    /// trip on PostgreSQL (under load each costs milliseconds: the month statement's 20,000
    /// ids were 80 of them), and on SQLite a message to the connection's worker thread and
    /// 500 binds per chunk (the same 20,000 ids were 41 statements). Rows come in the
    /// statement's order.
    pub(crate) async fn rows_in_one(&mut self, sql: &str, lead: Option<&str>, ids: &[String]) -> Result<Vec<AnyRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        debug_assert!(sql.contains("IN ({in})"), "rows_in_one needs `IN ({{in}})`: {sql}");
        let n = if lead.is_some() { 2 } else { 1 };
        let (list, bound) = in_one(self.backend, n, ids);
        let sql = sql.replace("IN ({in})", &list);
        let mut q = sqlx::query(&sql);
        if let Some(lead) = lead {
            q = q.bind(lead.to_string());
        }
        Ok(q.bind(bound).fetch_all(self.conn()).await?)
    }
}
