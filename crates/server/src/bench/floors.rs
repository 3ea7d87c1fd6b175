//! The raw-SQL floors of `refshare bench`: for each read workload, the SQL a page of it
//! needs at least, run straight through sqlx (and, on PostgreSQL, by pgbench). One
//! function per workload, written against the current schema (migration 0019's earnings
//! read model, 0022's earnings totals, 0025's estimate totals, 0018's, 0023's, 0029's and
//! 0035's search indexes), the store's one visibility fragment ([`refshare_store::PARTNER_VISIBLE_SQL`]) and its
//! search SQL (`refshare_store::partner_*_sql`); when the store's queries change,
//! these are the only place to align.

use refshare_store::reporting::unfiltered_report_sql;
use refshare_store::{partner_any_link_cases_from, partner_case_keys_sql, partner_link_match_sql, Backend, CurrentRates};

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
}

/// One statement with its binds (`$1`, `$2`, … in order).
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: String,
    pub binds: Vec<Bind>,
}

fn stmt(sql: impl Into<String>, binds: &[&str]) -> Stmt {
    Stmt { sql: sql.into(), binds: binds.iter().map(|b| Bind::Text(b.to_string())).collect() }
}

/// The search value of a query of three characters or more, as the store binds it:
/// an FTS5 phrase on SQLite, an escaped `LIKE` pattern on PostgreSQL.
pub fn search_value(backend: Backend, query: &str) -> String {
    let lower = query.to_lowercase();
    match backend {
        Backend::Sqlite => format!("\"{}\"", lower.replace('"', "\"\"")),
        Backend::Postgres => format!("%{}%", lower.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")),
    }
}

/// Reporting page 1 (`GET /referral-api/reporting/transactions?PageSize=100`): the
/// statements the store runs for it ([`refshare_store::reporting::unfiltered_report_sql`]):
/// the 100 newest live earnings of the partner, its estimate totals (rows whose USD rate
/// is not locked, summed at the current rates; migration 0025) beside the rates' state,
/// and its earnings totals (migration 0022) for the locked rows.
pub fn reporting_page(backend: Backend, partner_id: &str, rates: &CurrentRates) -> Result<Vec<Stmt>, String> {
    let sql = unfiltered_report_sql(backend, rates, 100).map_err(|e| e.to_string())?;
    Ok(sql.into_iter().map(|s| stmt(s, &[partner_id])).collect())
}

/// Case search (`GET /referral-api/cases?Query=…`, page 1 of 10): visible cases whose
/// reference, creditor reference, debtor name or client name contains the query, newest
/// first, and their count, as the store runs them ([`partner_case_keys_sql`]: the
/// partner's part of the index and its visible cases, migration 0029): one statement,
/// the page's ids with the window count of all matches, then the page's rows.
pub fn case_search(backend: Backend, partner_id: &str, query: &str) -> Vec<Stmt> {
    let value = search_value(backend, query);
    let (from, clause) = partner_case_keys_sql(backend, "$2");
    let from = format!("{from} WHERE {clause}");
    let order = "ORDER BY c.created_at DESC, c.id DESC";
    let cols = "c.id, c.reference, c.debtor_name, c.amount_minor, c.currency, c.lifecycle, c.created_at";
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT {cols}, pg.total_n FROM cases c JOIN (SELECT c.id AS page_id, COUNT(*) OVER () AS total_n {from} {order} LIMIT 10 OFFSET 0) pg \
             ON pg.page_id = c.id {order}"
        ),
        Backend::Postgres => format!(
            "WITH hits AS MATERIALIZED (SELECT c.id AS page_id, c.created_at AS sort_v {from}) \
             SELECT {cols}, n.total_n FROM (SELECT page_id FROM hits ORDER BY sort_v DESC, page_id DESC LIMIT 10 OFFSET 0) pg \
             JOIN cases c ON c.id = pg.page_id CROSS JOIN (SELECT COUNT(*) AS total_n FROM hits) n {order}"
        ),
    };
    vec![stmt(sql, &[partner_id, &value])]
}

/// Client search (`GET /referral-api/clients?Query=…`, page 1 of 50): the raw SQL of what
/// the reference's list answers (`GetClientsResponse`), read as cheaply as SQL reads it.
/// The partner's active links whose tenant id or client name contains the query (the
/// partner's part of the index of migration 0029), newest link first, with each link's
/// client, and per client what its list item shows beside them: its users (`users`), its
/// visible case tallies (`caseStats.casesTotal`, `casesClosed`) and the partner's kept
/// earnings on it (`caseStats.earningsUsd`), each one correlated aggregate of the page's 50
/// clients; then the number that match with the partner's summary (`ClientsSummary`).
///
/// Not read: the rates' state, which the app reads besides (whether the kept USD figures are
/// at today's rate). Until
/// session 11 this floor read only the first statement's link and client columns and the
/// count, which cannot answer the page (docs/PERFORMANCE.md, "Session 11").
pub fn client_search(backend: Backend, partner_id: &str, query: &str) -> Vec<Stmt> {
    let matches = partner_link_match_sql(backend, "$2");
    let value = search_value(backend, query);
    let from = format!("FROM links l JOIN clients cl ON cl.id = l.client_id WHERE l.partner_id = $1 AND l.status = 'active' AND {matches}");
    let users = match backend {
        Backend::Sqlite => {
            "SELECT group_concat(u.name || char(31) || u.email, char(30)) FROM client_users u WHERE u.client_id = pg.client_id"
        }
        Backend::Postgres => {
            "SELECT string_agg(u.name || chr(31) || u.email, chr(30) ORDER BY u.is_onboarding_user DESC, u.id) \
             FROM client_users u WHERE u.client_id = pg.client_id"
        }
    };
    let closed = refshare_core::case::Lifecycle::Closed.as_str();
    vec![
        stmt(
            format!(
                "SELECT pg.*, ({users}) AS users, \
                 (SELECT CAST(SUM(t.n) AS BIGINT) FROM partner_client_case_tallies t WHERE t.partner_id = $1 AND t.client_id = pg.client_id) AS cases_total, \
                 (SELECT CAST(SUM(t.n) AS BIGINT) FROM partner_client_case_tallies t WHERE t.partner_id = $1 AND t.client_id = pg.client_id \
                  AND t.lifecycle = '{closed}') AS cases_closed, \
                 (SELECT CAST(SUM(k.usd_minor) AS BIGINT) FROM client_earnings_totals k WHERE k.partner_id = $1 AND k.client_id = pg.client_id AND k.n <> 0) AS earnings_usd \
                 FROM (SELECT l.id, l.external_tenant_id, l.is_attributed, l.referral_fee_bps, l.linked_at, cl.id AS client_id, \
                 cl.company_name, cl.support_email, cl.country, cl.registration_number, cl.details_json, cl.onboarding_completed_at {from} \
                 ORDER BY l.linked_at DESC, l.id DESC LIMIT 50 OFFSET 0) pg ORDER BY pg.linked_at DESC, pg.id DESC"
            ),
            &[partner_id, &value],
        ),
        stmt(
            format!(
                "SELECT (SELECT COUNT(*) {from}) AS n, t.clients, t.attributed, t.onboarded, \
                 (SELECT CAST(SUM(v.n) AS BIGINT) FROM partner_case_tallies v WHERE v.partner_id = $1) AS cases \
                 FROM partner_client_totals t WHERE t.partner_id = $1"
            ),
            &[partner_id, &value],
        ),
    ]
}

/// Earnings search (`GET /referral-api/reporting/transactions?Search=…`, page 1 of 100):
/// the partner's live earnings on cases whose key or client name contains the query, from
/// the partner's part of the index over every case of every client it has or had a link
/// to, as the store runs it ([`partner_any_link_cases_from`]: SQLite `partner_cases_fts`,
/// migration 0023; PostgreSQL `partner_cases_trgm`, migration 0035).
pub fn transaction_search(backend: Backend, partner_id: &str, query: &str) -> Vec<Stmt> {
    let from = partner_any_link_cases_from(backend, "$2", "JOIN earnings e ON e.case_id = c.id");
    let value = search_value(backend, query);
    vec![stmt(
        format!(
            "SELECT e.id, e.amount_minor, e.currency, e.stage, e.paid_at, c.reference, c.debtor_name \
             {from} WHERE e.partner_id = $1 AND e.voided_at IS NULL \
             ORDER BY e.paid_at DESC, e.created_at DESC, e.id DESC LIMIT 100"
        ),
        &[partner_id, &value],
    )]
}

/// The statements as a pgbench script: binds inlined as SQL literals, one statement a
/// line (pgbench ends a command at the end of its line).
pub fn pgbench_script(stmts: &[Stmt]) -> String {
    let mut out = String::new();
    for s in stmts {
        let mut sql = s.sql.clone();
        // Highest placeholder first, so `$1` does not eat the start of `$10`.
        for (i, b) in s.binds.iter().enumerate().rev() {
            let Bind::Text(v) = b;
            sql = sql.replace(&format!("${}", i + 1), &format!("'{}'", v.replace('\'', "''")));
        }
        out.push_str(&sql.split_whitespace().collect::<Vec<_>>().join(" "));
        out.push_str(";\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_scripts_inline_binds_as_literals_one_statement_a_line() {
        let s = Stmt { sql: "SELECT $1,\n  $2".into(), binds: vec![Bind::Text("a'b".into()), Bind::Text("%x%".into())] };
        assert_eq!(pgbench_script(&[s.clone(), s]), "SELECT 'a''b', '%x%';\nSELECT 'a''b', '%x%';\n");
    }

    #[test]
    fn search_values_are_bound_as_the_store_binds_them() {
        assert_eq!(search_value(Backend::Sqlite, "Ab\"c"), "\"ab\"\"c\"");
        assert_eq!(search_value(Backend::Postgres, "50%_a"), "%50\\%\\_a%");
    }
}
