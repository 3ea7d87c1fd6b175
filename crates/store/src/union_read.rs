//! Several reads as one statement: each part is the `SELECT` its own one-part read runs
//! (the same column list), made one branch of a `UNION ALL`. A branch names every column
//! of every part, `NULL` for those not its own (typed, as PostgreSQL needs), plus the
//! part's number `k` and two order keys, so each row is read back by its part's own row
//! decoder and the whole comes ordered by part and then by each part's own order. One
//! round trip and one snapshot on both backends. Used by the attribution check's facts
//! ([`crate::attribution_facts`]) and the reporting rows ([`crate::report_rows`]).

/// The integer columns of the parts; every other column is text (the only two types the
/// schema uses). A branch's `NULL` for a column must carry its type on PostgreSQL.
const BIGINT_COLS: &[&str] = &[
    "created_at",
    "updated_at",
    "amount_minor",
    "success_fee_bps",
    "platform_share_bps",
    "paid_minor",
    "onboarding_completed_at",
    "is_attributed",
    "referral_fee_bps",
    "linked_at",
    "at",
    "seq",
    "expires_at",
    "decided_at",
    "attributed",
    "referral_fee_minor",
    "voided_at",
    "s_fx",
    "s_paid_at",
    "rm_paid_at",
    "rm_fx",
    "success_fee_minor",
    "platform_fee_minor",
    "commission_paid_at",
    "fx_usd_per_unit_e8",
    "paid_at",
    "is_overpayment",
];

/// One branch: the part's number (its rows' `k`), its `SELECT … FROM …`, and its order
/// keys (an integer column, then a text column, of its own; `None` for a part whose
/// order does not matter).
pub(crate) struct UnionPart {
    pub k: i64,
    pub sql: String,
    pub sort_int: Option<&'static str>,
    pub sort_text: Option<&'static str>,
}

/// The output names of a column list (`a, t.b, (…) AS c` → `a, b, c`), split at the
/// commas outside parentheses.
pub(crate) fn names(cols: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, b) in cols.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                out.push(name_of(&cols[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(name_of(&cols[start..]));
    out
}

fn name_of(col: &str) -> String {
    let col = col.trim();
    let tail = match col.rfind(" AS ") {
        Some(i) => &col[i + 4..],
        None => col,
    };
    tail.rsplit('.').next().unwrap_or(tail).trim().to_string()
}

/// `cols` with every name prefixed by `alias.`.
pub(crate) fn prefixed(alias: &str, cols: &str) -> String {
    cols.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// The column list of `SELECT <cols> FROM …`: up to the first ` FROM ` outside
/// parentheses (a column may be a subquery with a `FROM` of its own).
fn select_list(sql: &str) -> &str {
    let body = sql.strip_prefix("SELECT ").expect("a part is SELECT … FROM");
    let mut depth = 0i32;
    for (i, b) in body.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b' ' if depth == 0 && body[i..].starts_with(" FROM ") => return &body[..i],
            _ => {}
        }
    }
    panic!("a part is SELECT … FROM: {sql}")
}

/// `with` (a `WITH …` clause, or empty), then the parts as one `UNION ALL` ordered by
/// `k`, `sort_i`, `sort_t`.
pub(crate) fn union_sql(with: &str, parts: &[UnionPart]) -> String {
    // Every column any part names, in order of first appearance.
    let mut all: Vec<String> = Vec::new();
    let own: Vec<Vec<String>> = parts.iter().map(|p| names(select_list(&p.sql))).collect();
    for n in &own {
        for c in n {
            if !all.contains(c) {
                all.push(c.clone());
            }
        }
    }
    let branches: Vec<String> = parts
        .iter()
        .zip(&own)
        .map(|(part, names)| {
            let cols: Vec<String> = all
                .iter()
                .map(|c| match (names.contains(c), BIGINT_COLS.contains(&c.as_str())) {
                    (true, _) => format!("b.{c} AS {c}"),
                    (false, true) => format!("CAST(NULL AS BIGINT) AS {c}"),
                    (false, false) => format!("CAST(NULL AS TEXT) AS {c}"),
                })
                .collect();
            let sort_i = part.sort_int.map_or("CAST(NULL AS BIGINT)".to_string(), |c| format!("b.{c}"));
            let sort_t = part.sort_text.map_or("CAST(NULL AS TEXT)".to_string(), |c| format!("b.{c}"));
            format!(
                "SELECT CAST({} AS BIGINT) AS k, {}, {sort_i} AS sort_i, {sort_t} AS sort_t FROM ({}) b",
                part.k,
                cols.join(", "),
                part.sql
            )
        })
        .collect();
    let with = if with.is_empty() { String::new() } else { format!("{with} ") };
    format!("{with}{} ORDER BY k, sort_i, sort_t", branches.join(" UNION ALL "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_outside_parentheses_and_take_aliases() {
        assert_eq!(names("a, t.b, (SELECT x, y FROM z) AS c"), vec!["a", "b", "c"]);
    }

    #[test]
    fn the_select_list_ends_at_the_outer_from() {
        assert_eq!(select_list("SELECT a, (SELECT x FROM z) AS c FROM t WHERE 1"), "a, (SELECT x FROM z) AS c");
    }

    #[test]
    fn every_branch_names_the_same_columns_typed_where_null() {
        let parts = [
            UnionPart { k: 0, sql: "SELECT id, amount_minor FROM a".into(), sort_int: None, sort_text: Some("id") },
            UnionPart { k: 1, sql: "SELECT id, note FROM b".into(), sort_int: None, sort_text: None },
        ];
        let sql = union_sql("WITH x AS (SELECT 1)", &parts);
        assert_eq!(
            sql,
            "WITH x AS (SELECT 1) SELECT CAST(0 AS BIGINT) AS k, b.id AS id, b.amount_minor AS amount_minor, CAST(NULL AS TEXT) AS note, \
             CAST(NULL AS BIGINT) AS sort_i, b.id AS sort_t FROM (SELECT id, amount_minor FROM a) b UNION ALL \
             SELECT CAST(1 AS BIGINT) AS k, b.id AS id, CAST(NULL AS BIGINT) AS amount_minor, b.note AS note, \
             CAST(NULL AS BIGINT) AS sort_i, CAST(NULL AS TEXT) AS sort_t FROM (SELECT id, note FROM b) b ORDER BY k, sort_i, sort_t"
        );
    }
}
