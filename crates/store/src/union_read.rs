//! Several reads in one statement (issue 9): each read, a "part", is the `SELECT` its own
//! method runs, with the same columns, as one branch of a `UNION ALL` ordered by part and
//! then by the part's own order. One round trip and one snapshot on both backends. Used by
//! the attribution check's facts (`attribution_facts`), the client list page
//! (`client_page`) and the reads of a group of payments (`group_reads`).
//!
//! The parts share positional columns (`t1…` text, `i1…` integers: a part's n-th text
//! column is `tn`), so a row is as wide as the widest part rather than every part's
//! columns side by side: each column of each row costs its conversion in the driver
//! (`AnyRow`), `NULL` or not. A part's row is read by that part's own decoder through
//! [`Slotted`], which maps the part's column names to its positions. Every column is text
//! or an integer (the only two types the schema uses); the integer ones are those named in
//! [`INT_COLS`], and a branch's `NULL` carries its type, as PostgreSQL needs.

use sqlx::any::AnyRow;

use crate::{get, Result, Slotted, StoreError};

/// The names of the integer columns any part reads (a name is an integer in every table
/// that has it); every other column is text.
pub(crate) const INT_COLS: &[&str] = &[
    // cases, payments, decisions, earnings and their sync rows
    "created_at",
    "updated_at",
    "amount_minor",
    "success_fee_bps",
    "platform_share_bps",
    "paid_minor",
    "attributed",
    "referral_fee_minor",
    "voided_at",
    "s_fx",
    "s_paid_at",
    "rm_paid_at",
    "rm_fx",
    // clients, their users, links and link requests
    "onboarding_completed_at",
    "is_onboarding_user",
    "last_sign_in_at",
    "is_attributed",
    "referral_fee_bps",
    "linked_at",
    "at",
    "seq",
    "expires_at",
    "decided_at",
    // partners and webhook subscriptions
    "approval_ttl_days",
    "is_active",
    "is_test_mode",
    "previous_secret_until",
    "consecutive_failures",
    // the client page's summary, positions, tallies, kept earnings and rates
    "s_clients",
    "s_attributed",
    "s_onboarded",
    "s_cases",
    "s_total",
    "pos",
    "cases_n",
    "cases_closed",
    "n",
    "closed",
    "built",
    "rate_e8",
    "locked",
    "usd",
    "usd_per_unit_e8",
];

/// One read of the statement.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// The read's own `SELECT`.
    pub(crate) sql: String,
    /// The names of its output columns, in order.
    pub(crate) names: Vec<String>,
    /// Its order within the part: an integer and a text expression over the branch's row
    /// `b` (`"NULL"` for a part whose order does not matter).
    pub(crate) sort_i: &'static str,
    pub(crate) sort_t: &'static str,
}

impl Part {
    /// A part whose rows come in any order.
    pub(crate) fn new(sql: String, names: Vec<String>) -> Part {
        Part { sql, names, sort_i: "NULL", sort_t: "NULL" }
    }

    /// The part's rows in this order (see [`Part::sort_i`]).
    pub(crate) fn ordered(self, sort_i: &'static str, sort_t: &'static str) -> Part {
        Part { sort_i, sort_t, ..self }
    }
}

/// The statement of some parts and how to read its rows back.
#[derive(Debug, Clone)]
pub(crate) struct UnionRead {
    pub(crate) sql: String,
    /// Per part its column names and their positions in the row (after `k`: the text
    /// slots, then the integer slots).
    own: Vec<(Vec<String>, Vec<usize>)>,
    /// The text and the integer slots of a row (tests check the layout with them).
    #[cfg_attr(not(test), allow(dead_code))]
    texts: usize,
    #[cfg_attr(not(test), allow(dead_code))]
    ints: usize,
}

impl UnionRead {
    /// The statement of `parts` (part `i` has `k = i`) after `with` (CTEs without the
    /// `WITH`, or empty).
    pub(crate) fn new(with: &str, parts: &[Part]) -> UnionRead {
        let is_int = |c: &String| INT_COLS.contains(&c.as_str());
        let texts = parts.iter().map(|p| p.names.iter().filter(|c| !is_int(c)).count()).max().unwrap_or(0);
        let int_slots = parts.iter().map(|p| p.names.iter().filter(|c| is_int(c)).count()).max().unwrap_or(0);
        let own: Vec<(Vec<String>, Vec<usize>)> = parts
            .iter()
            .map(|p| {
                let (mut t, mut i) = (0, 0);
                let at = p
                    .names
                    .iter()
                    .map(|c| {
                        if is_int(c) {
                            i += 1;
                            texts + i
                        } else {
                            t += 1;
                            t
                        }
                    })
                    .collect();
                (p.names.clone(), at)
            })
            .collect();
        // A sort column only when some part orders by it: every column of every row costs
        // its conversion in the driver.
        let by_i = parts.iter().any(|p| p.sort_i != "NULL");
        let by_t = parts.iter().any(|p| p.sort_t != "NULL");
        let branches: Vec<String> = parts
            .iter()
            .zip(&own)
            .enumerate()
            .map(|(k, (part, (names, at)))| {
                let cols: Vec<String> = (1..=texts + int_slots)
                    .map(|slot| {
                        let name = if slot <= texts { format!("t{slot}") } else { format!("i{}", slot - texts) };
                        match at.iter().position(|a| *a == slot) {
                            Some(i) => format!("b.{} AS {name}", names[i]),
                            None if slot <= texts => format!("CAST(NULL AS TEXT) AS {name}"),
                            None => format!("CAST(NULL AS BIGINT) AS {name}"),
                        }
                    })
                    .collect();
                let mut sorts = String::new();
                if by_i {
                    match part.sort_i {
                        "NULL" => sorts.push_str(", CAST(NULL AS BIGINT) AS sort_i"),
                        e => sorts.push_str(&format!(", CAST({e} AS BIGINT) AS sort_i")),
                    }
                }
                if by_t {
                    match part.sort_t {
                        "NULL" => sorts.push_str(", CAST(NULL AS TEXT) AS sort_t"),
                        e => sorts.push_str(&format!(", {e} AS sort_t")),
                    }
                }
                format!("SELECT CAST({k} AS BIGINT) AS k, {}{sorts} FROM ({}) b", cols.join(", "), part.sql)
            })
            .collect();
        let with = if with.is_empty() { String::new() } else { format!("WITH {with} ") };
        let order = ["k", if by_i { ", sort_i" } else { "" }, if by_t { ", sort_t" } else { "" }].concat();
        let sql = format!("{with}{} ORDER BY {order}", branches.join(" UNION ALL "));
        UnionRead { sql, own, texts, ints: int_slots }
    }

    /// The text and integer slots of a row.
    #[cfg(test)]
    pub(crate) fn slots(&self) -> (usize, usize) {
        (self.texts, self.ints)
    }

    /// Each row of the statement as its part's index and the part's view of it.
    pub(crate) fn rows<'a>(&'a self, rows: &'a [AnyRow]) -> impl Iterator<Item = Result<(usize, Slotted<'a>)>> + 'a {
        rows.iter().map(move |row| {
            let k: i64 = get(row, "k")?;
            let (names, at) = usize::try_from(k)
                .ok()
                .and_then(|i| self.own.get(i))
                .ok_or_else(|| StoreError::Corrupt(format!("a row of no part ({k})")))?;
            Ok((k as usize, Slotted { row, names, at }))
        })
    }
}

/// The output names of a column list (`a, t.b, (…) AS c` → `a, b, c`), split at the
/// commas outside parentheses.
pub(crate) fn names(cols: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    let bytes = cols.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn names_split_outside_parentheses_and_take_aliases() {
        assert_eq!(names("a, t.b, (SELECT x, y FROM z) AS c"), vec!["a", "b", "c"]);
    }

    /// Every branch of `u` names the same columns, and each part's own column sits in its
    /// own slot (no two in one); returns the branches' column names.
    pub(crate) fn check_slots(u: &UnionRead) -> Vec<String> {
        let branches: Vec<&str> = u.sql.split(" UNION ALL ").collect();
        assert_eq!(branches.len(), u.own.len());
        let outer: Vec<Vec<String>> = branches
            .iter()
            .map(|b| {
                let list = &b[b.find("SELECT CAST(").expect("outer select")..];
                let list = &list["SELECT ".len()..list.find(" FROM (").expect("inner select")];
                names(list)
            })
            .collect();
        assert!(outer.iter().all(|n| *n == outer[0]), "{}", u.sql);
        let sorts = outer[0].iter().filter(|n| n.starts_with("sort_")).count();
        assert_eq!(outer[0].len(), 1 + u.texts + u.ints + sorts, "{:?}", outer[0]);
        for (b, (own, at)) in branches.iter().zip(&u.own) {
            for (name, slot) in own.iter().zip(at) {
                let col = &outer[0][*slot];
                let (mid, last) = (format!("b.{name} AS {col},"), format!("b.{name} AS {col} FROM ("));
                assert!(b.contains(&mid) || b.contains(&last), "{name} as {col} in {b}");
            }
            let mut sorted = at.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), at.len());
        }
        outer[0].clone()
    }

    #[test]
    fn parts_share_positional_slots_by_type() {
        let parts = [
            Part::new("SELECT a, n FROM x".into(), names("a, n")),
            Part::new("SELECT seq, b, c FROM y".into(), names("seq, b, c")).ordered("b.seq", "b.b"),
        ];
        let u = UnionRead::new("", &parts);
        assert_eq!(u.slots(), (2, 1));
        assert_eq!(check_slots(&u), ["k", "t1", "t2", "i1", "sort_i", "sort_t"]);
        assert!(u.sql.contains("CAST(b.seq AS BIGINT) AS sort_i, b.b AS sort_t FROM (SELECT seq, b, c FROM y) b"), "{}", u.sql);
        assert!(u.sql.ends_with(" ORDER BY k, sort_i, sort_t"));
        assert!(UnionRead::new("w AS (SELECT 1)", &parts).sql.starts_with("WITH w AS (SELECT 1) SELECT CAST(0 AS BIGINT) AS k"));
    }

    #[test]
    fn a_sort_column_only_when_some_part_orders_by_it() {
        let unordered = [Part::new("SELECT a FROM x".into(), names("a")), Part::new("SELECT seq FROM y".into(), names("seq"))];
        let u = UnionRead::new("", &unordered);
        assert_eq!(check_slots(&u), ["k", "t1", "i1"]);
        assert!(u.sql.ends_with(" ORDER BY k"), "{}", u.sql);
        let by_int = [unordered[0].clone(), unordered[1].clone().ordered("b.seq", "NULL")];
        let u = UnionRead::new("", &by_int);
        assert_eq!(check_slots(&u), ["k", "t1", "i1", "sort_i"]);
        assert!(u.sql.contains("CAST(NULL AS BIGINT) AS sort_i FROM (SELECT a FROM x) b"), "{}", u.sql);
        assert!(u.sql.ends_with(" ORDER BY k, sort_i"), "{}", u.sql);
    }
}
