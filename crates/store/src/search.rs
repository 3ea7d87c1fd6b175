//! Indexed, case-insensitive substring search (issue 9) and the one SQL fragment of the
//! SPEC §5 visibility rule.
//!
//! The query is lower-cased in Rust (Unicode; the stored `cases.search_key` is lower-cased
//! the same way by its writer). The indexes are kept by the database in the writing
//! transaction (migration 0018): on SQLite FTS5 tables with the trigram tokenizer
//! (`cases_fts`, `clients_fts`, `links_fts`, filled by triggers), on PostgreSQL `pg_trgm`
//! GIN indexes (`cases.search_key`, `lower(clients.company_name)`,
//! `lower(links.external_tenant_id)`).
//!
//! A query of [`MIN_INDEXED_CHARS`] characters or more is answered from the index: SQLite
//! `MATCH` on the query quoted as one FTS phrase (so input is never FTS syntax),
//! PostgreSQL `LIKE '%…%'` with `%`, `_` and `\` escaped. A trigram index cannot answer a
//! shorter query; it falls back to `LIKE` on the rows the other filters already selected
//! (there, SQLite's `lower()` folds only ASCII letters of company names and tenant ids).
//!
//! A partner's searches read only that partner's part of an index (migrations 0023 and
//! 0029, and 0035 on PostgreSQL): [`partner_matches_from`] and
//! [`partner_any_link_cases_from`] (cases, any link), [`partner_case_keys_sql`] (the cases
//! the partner sees now, for a search without other filters) and
//! [`partner_link_match_sql`] (the partner's links, for the client list).

use crate::Backend;

/// Queries with at least this many characters use the trigram index.
pub const MIN_INDEXED_CHARS: usize = 3;

/// SPEC §5 visibility as SQL, the twin of `refshare_core::visibility::visible_to_partner`.
/// Used with [`PARTNER_VISIBLE_FROM`] (cases `c` joined with the client's links `l`) and
/// the partner's id bound as `$1`. `l.status` is the link's status now (its last history
/// event, written with it). Every partner-facing case query uses this fragment.
pub const PARTNER_VISIBLE_SQL: &str = "l.partner_id = $1 AND l.status = 'active' AND c.created_at >= l.linked_at \
     AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = $1))";

/// The FROM clause that [`PARTNER_VISIBLE_SQL`] expects.
pub const PARTNER_VISIBLE_FROM: &str = "FROM cases c JOIN links l ON l.client_id = c.client_id";

/// The width of a partner's part of `partner_cases_fts`: its rowids are
/// `partners.rowid * PART_WIDTH + cases.rowid` (migration 0023).
pub const PART_WIDTH: i64 = 1 << 40;

/// SQLite: `FROM` the cases `c` in the partner's (`$1`) part of `partner_cases_fts` that
/// match the FTS phrase `phrase` (a placeholder), then `joins`. The rowid bounds let FTS5
/// read only that part of each doclist; `CROSS JOIN` keeps the matches the outer loop
/// (without it SQLite walks the partner's whole list and probes the matches).
pub fn partner_matches_from(phrase: &str, joins: &str) -> String {
    let w = PART_WIDTH;
    format!(
        "FROM (SELECT f.rowid % {w} AS case_rowid FROM partner_cases_fts f WHERE partner_cases_fts MATCH {phrase} \
         AND f.rowid BETWEEN (SELECT p.rowid * {w} FROM partners p WHERE p.id = $1) \
         AND (SELECT p.rowid * {w} + {} FROM partners p WHERE p.id = $1)) m \
         CROSS JOIN cases c ON c.rowid = m.case_rowid {joins}",
        w - 1
    )
}

/// The FROM clause of the cases `c` of every client the partner (`$1`) has or had a link
/// to (any status) whose key or client name contains the search value bound as `bind`
/// (three characters or more), then `joins`: on SQLite the partner's part of
/// `partner_cases_fts` ([`partner_matches_from`], migration 0023), on PostgreSQL its part
/// of `partner_cases_trgm` (migration 0035). The candidate set of the partner's earnings
/// search: an earning stays the partner's after its link is archived. On PostgreSQL
/// `OFFSET 0` keeps the matches a relation of their own, joined from (as in
/// `Search::partner_keys_from`).
pub fn partner_any_link_cases_from(backend: Backend, bind: &str, joins: &str) -> String {
    match backend {
        Backend::Sqlite => partner_matches_from(bind, joins),
        Backend::Postgres => format!(
            "FROM (SELECT k.case_id FROM partner_cases_trgm k WHERE k.partner_id = $1 AND k.search_key LIKE {bind} ESCAPE '\\' OFFSET 0) m \
             JOIN cases c ON c.id = m.case_id {joins}"
        ),
    }
}

/// The condition that the partner's (`$1`) link `l` matches the search value bound as
/// `bind` (three characters or more): its tenant id or client name contains the query,
/// read from the partner's part of the index of migration 0029 (SQLite `partner_links_fts`
/// with an FTS phrase, PostgreSQL `link_search_keys` with an escaped `LIKE` pattern).
pub fn partner_link_match_sql(backend: Backend, bind: &str) -> String {
    let w = PART_WIDTH;
    match backend {
        Backend::Sqlite => format!(
            "l.rowid IN (SELECT f.rowid % {w} FROM partner_links_fts f WHERE partner_links_fts MATCH {bind} \
             AND f.rowid BETWEEN (SELECT p.rowid * {w} FROM partners p WHERE p.id = $1) \
             AND (SELECT p.rowid * {w} + {} FROM partners p WHERE p.id = $1))",
            w - 1
        ),
        Backend::Postgres => {
            format!("l.id IN (SELECT k.link_id FROM link_search_keys k WHERE k.partner_id = $1 AND k.search_key LIKE {bind} ESCAPE '\\')")
        }
    }
}

/// The FROM clause and condition of the partner's (`$1`) visible cases whose key or client
/// name contains the search value bound as `bind` (three characters or more), read as
/// cases `c` whose `id` and `created_at` are the case's, so the newest-first page and the
/// count read no case row and no link (migration 0029): SQLite joins the matches of the
/// partner's part of `partner_cases_fts` with `partner_visible_cases` by case rowid;
/// PostgreSQL reads `partner_case_keys` alone. Both hold exactly the cases the partner
/// sees now (the SPEC §5 rule, kept by triggers).
pub fn partner_case_keys_sql(backend: Backend, bind: &str) -> (String, String) {
    let w = PART_WIDTH;
    match backend {
        Backend::Sqlite => (
            format!(
                "FROM (SELECT f.rowid % {w} AS case_rowid FROM partner_cases_fts f WHERE partner_cases_fts MATCH {bind} \
                 AND f.rowid BETWEEN (SELECT p.rowid * {w} FROM partners p WHERE p.id = $1) \
                 AND (SELECT p.rowid * {w} + {} FROM partners p WHERE p.id = $1)) m \
                 CROSS JOIN partner_visible_cases c ON c.case_rowid = m.case_rowid",
                w - 1
            ),
            "c.partner_rowid = (SELECT p.rowid FROM partners p WHERE p.id = $1)".to_string(),
        ),
        Backend::Postgres => {
            ("FROM partner_case_keys c".to_string(), format!("c.partner_id = $1 AND c.search_key LIKE {bind} ESCAPE '\\'"))
        }
    }
}

/// PostgreSQL: the FROM clause and condition of every case the partner (`$1`) sees now,
/// read as cases `c` (`id`, `created_at`) from `partner_case_keys` (migration 0029) in
/// the order of its index `(partner_id, created_at, id)` (migration 0035), so the
/// unfiltered list's newest-first page (and its keyset pages) and its count read no case
/// row and no link. `None` on SQLite, whose list reads the covering `cases_partner_list`
/// (migration 0020).
pub fn partner_visible_set_sql(backend: Backend) -> Option<(&'static str, &'static str)> {
    (backend == Backend::Postgres).then_some(("FROM partner_case_keys c", "c.partner_id = $1"))
}

/// A search query, lower-cased, and what it binds.
pub(crate) struct Search {
    lower: String,
}

impl Search {
    pub(crate) fn new(query: &str) -> Search {
        Search { lower: query.to_lowercase() }
    }

    /// Whether the trigram index can answer it.
    pub(crate) fn indexed(&self) -> bool {
        self.lower.chars().count() >= MIN_INDEXED_CHARS
    }

    /// `%…%` with `%`, `_` and `\` escaped (for `LIKE … ESCAPE '\'`).
    pub(crate) fn like_pattern(&self) -> String {
        let escaped = self.lower.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    }

    /// The query as one FTS5 phrase: in double quotes, every `"` doubled. Inside a phrase
    /// nothing is syntax (`*`, `OR`, `NEAR(`, `-`, `:` are plain text).
    pub(crate) fn fts_phrase(&self) -> String {
        format!("\"{}\"", self.lower.replace('"', "\"\""))
    }

    /// The value to bind for the indexed clauses and the short `search_key` match.
    pub(crate) fn bind_value(&self, backend: Backend) -> String {
        if backend == Backend::Sqlite && self.indexed() {
            self.fts_phrase()
        } else {
            self.like_pattern()
        }
    }

    /// SQLite, short queries: `LIKE` patterns for a column that is not lower-cased (company
    /// names, tenant ids). SQLite's `LIKE` and `lower()` fold ASCII only, so every
    /// non-ASCII letter is tried in its lower and upper case (at most four patterns for
    /// two characters).
    fn case_variants(&self) -> Vec<String> {
        let mut variants = vec![String::new()];
        for ch in self.lower.chars() {
            let mut forms = vec![ch.to_lowercase().collect::<String>()];
            if !ch.is_ascii() {
                forms.push(ch.to_uppercase().collect());
                forms.dedup();
            }
            variants = variants.iter().flat_map(|v| forms.iter().map(move |f| format!("{v}{f}"))).collect();
        }
        variants.into_iter().map(|v| Search { lower: v }.like_pattern()).collect()
    }

    /// `column LIKE …` for a column that is not lower-cased, on the short path: binds
    /// pushed onto `binds` (placeholders numbered after `first_bind - 1`).
    fn short_match(&self, backend: Backend, column: &str, first_bind: usize, binds: &mut Vec<String>) -> String {
        let patterns = match backend {
            Backend::Sqlite => self.case_variants(),
            Backend::Postgres => vec![self.like_pattern()],
        };
        let column = match backend {
            Backend::Sqlite => column.to_string(),
            Backend::Postgres => format!("lower({column})"),
        };
        let mut parts = Vec::new();
        for p in patterns {
            binds.push(p);
            parts.push(format!("{column} LIKE ${} ESCAPE '\\'", first_bind + binds.len() - 1));
        }
        format!("({})", parts.join(" OR "))
    }

    /// A condition on cases `c`: the reference, creditor reference, debtor name or the
    /// client's company name contains the query; with the values to bind as `$first_bind`,
    /// `$first_bind + 1`, ….
    pub(crate) fn cases_clause(&self, backend: Backend, first_bind: usize) -> (String, Vec<String>) {
        let n = first_bind;
        let mut binds = vec![self.bind_value(backend)];
        let sql = match (backend, self.indexed()) {
            (Backend::Sqlite, true) => format!(
                "(c.rowid IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ${n}) \
                 OR c.client_id IN (SELECT cl.id FROM clients cl WHERE cl.rowid IN (SELECT rowid FROM clients_fts WHERE clients_fts MATCH ${n})))"
            ),
            (Backend::Postgres, true) => format!(
                "(c.id IN (SELECT s.id FROM cases s WHERE s.search_key LIKE ${n} ESCAPE '\\') \
                 OR c.client_id IN (SELECT cl.id FROM clients cl WHERE lower(cl.company_name) LIKE ${n} ESCAPE '\\'))"
            ),
            (_, false) => {
                let name = self.short_match(backend, "cl.company_name", n, &mut binds);
                format!("(c.search_key LIKE ${n} ESCAPE '\\' OR EXISTS (SELECT 1 FROM clients cl WHERE cl.id = c.client_id AND {name}))")
            }
        };
        (sql, binds)
    }

    /// A partner's search (the partner's id bound as `$1`) on SQLite, from three
    /// characters: the FROM clause that starts from the cases of the partner's part of
    /// `partner_cases_fts` (migration 0023) that match — their key or their client's name
    /// contains the query — and joins `joins` to them, with the FTS phrase to bind as
    /// `$bind`. The part holds every case of every client the partner has a link to, so
    /// the caller's restriction (the SPEC §5 visibility, or the partner's own earnings)
    /// lies inside it. The cost follows the partner's matches, not the platform's.
    /// `None` elsewhere: the caller adds [`Search::cases_clause`] to its WHERE clause.
    pub(crate) fn partner_from(&self, backend: Backend, bind: usize, joins: &str) -> Option<(String, String)> {
        (backend == Backend::Sqlite && self.indexed()).then(|| (partner_matches_from(&format!("${bind}"), joins), self.fts_phrase()))
    }

    /// A partner's (`$1`) earnings search from three characters: the FROM clause of
    /// [`partner_any_link_cases_from`] with `joins`, and the value to bind as `$bind`.
    /// `None` for a shorter query: the caller adds [`Search::cases_clause`].
    pub(crate) fn partner_any_link_from(&self, backend: Backend, bind: usize, joins: &str) -> Option<(String, String)> {
        self.indexed().then(|| (partner_any_link_cases_from(backend, &format!("${bind}"), joins), self.bind_value(backend)))
    }

    /// PostgreSQL, a partner's (`$1`) search from three characters with other filters: the
    /// FROM clause that starts from the matches in the partner's part of
    /// `partner_case_keys` (migration 0029: the cases it sees now) and joins the cases `c`
    /// and `joins` to them, with the value to bind as `$bind`. `OFFSET 0` keeps the
    /// matches a relation of their own, so the planner joins from them (a semi-join
    /// `c.id IN (…)` was planned as a probe per visible case of the partner: 0.7 s at
    /// 1M). `None` elsewhere.
    pub(crate) fn partner_keys_from(&self, backend: Backend, bind: usize, joins: &str) -> Option<(String, String)> {
        (backend == Backend::Postgres && self.indexed()).then(|| {
            (
                format!(
                    "FROM (SELECT k.id FROM partner_case_keys k WHERE k.partner_id = $1 AND k.search_key LIKE ${bind} ESCAPE '\\' OFFSET 0) m \
                     JOIN cases c ON c.id = m.id {joins}"
                ),
                self.like_pattern(),
            )
        })
    }

    /// A partner's (`$1`) search from three characters and nothing else: the FROM clause
    /// and condition of [`partner_case_keys_sql`], with the value to bind as `$bind`.
    pub(crate) fn partner_keys_only(&self, backend: Backend, bind: usize) -> Option<(String, String, String)> {
        self.indexed().then(|| {
            let (from, clause) = partner_case_keys_sql(backend, &format!("${bind}"));
            (from, clause, self.bind_value(backend))
        })
    }

    /// A condition on the partner's (`$1`) links `l`: the external tenant id or the
    /// client's company name contains the query; binds as for [`Search::cases_clause`].
    /// From three characters it reads only the partner's part of the index (migration
    /// 0029): SQLite `partner_links_fts` (rowid bounds as in [`partner_matches_from`]),
    /// PostgreSQL `link_search_keys`.
    pub(crate) fn links_clause(&self, backend: Backend, first_bind: usize) -> (String, Vec<String>) {
        let n = first_bind;
        match (backend, self.indexed()) {
            (Backend::Sqlite, true) => (partner_link_match_sql(backend, &format!("${n}")), vec![self.fts_phrase()]),
            (Backend::Postgres, true) => (partner_link_match_sql(backend, &format!("${n}")), vec![self.like_pattern()]),
            (_, false) => {
                let mut binds = Vec::new();
                let tenant = self.short_match(backend, "l.external_tenant_id", n, &mut binds);
                let first_name_bind = n + binds.len();
                let mut name_binds = Vec::new();
                let name = self.short_match(backend, "cl.company_name", first_name_bind, &mut name_binds);
                binds.extend(name_binds);
                (format!("({tenant} OR EXISTS (SELECT 1 FROM clients cl WHERE cl.id = l.client_id AND {name}))"), binds)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_one_fts_phrase_whatever_it_contains() {
        assert_eq!(Search::new("Ab\"c").fts_phrase(), "\"ab\"\"c\"");
        assert_eq!(Search::new("x OR y*").fts_phrase(), "\"x or y*\"");
        assert_eq!(Search::new("NEAR(a").fts_phrase(), "\"near(a\"");
    }

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(Search::new("50%_A\\").like_pattern(), "%50\\%\\_a\\\\%");
    }

    #[test]
    fn only_queries_of_three_characters_use_the_index() {
        assert!(!Search::new("ab").indexed());
        assert!(!Search::new("äö").indexed());
        assert!(Search::new("äöü").indexed());
        assert_eq!(Search::new("ab").bind_value(Backend::Sqlite), "%ab%");
        assert_eq!(Search::new("abc").bind_value(Backend::Sqlite), "\"abc\"");
        assert_eq!(Search::new("abc").bind_value(Backend::Postgres), "%abc%");
    }

    #[test]
    fn short_sqlite_patterns_try_both_cases_of_non_ascii_letters() {
        assert_eq!(Search::new("Öl").case_variants(), vec!["%öl%", "%Öl%"]);
        assert_eq!(Search::new("ab").case_variants(), vec!["%ab%"]);
        assert_eq!(Search::new("æø").case_variants(), vec!["%æø%", "%æØ%", "%Æø%", "%ÆØ%"]);
        assert_eq!(Search::new("_").case_variants(), vec!["%\\_%"]);
    }
}
