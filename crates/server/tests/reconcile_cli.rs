//! `refshare reconcile` as an operator runs it: exit 0 with the counts on an agreeing
//! database, exit 1 naming the discrepancy when a ledger entry has no earning behind it.
//! (A missing database is exit 2: see `startup_cli.rs`.)

use std::process::Command;

fn reconcile(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_refshare")).args(["reconcile", "--database-url", url]).output().expect("the binary runs")
}

/// A migrated SQLite database in the temp folder, removed on drop.
struct TempDb {
    path: std::path::PathBuf,
    url: String,
}

impl TempDb {
    fn migrated(name: &str) -> TempDb {
        let path = std::env::temp_dir().join(format!("refshare-{name}-{}.db", std::process::id()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        // Reconcile never creates a database: `migrate` does.
        let migrated = Command::new(env!("CARGO_BIN_EXE_refshare")).args(["migrate", "--database-url", &url]).output().unwrap();
        assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
        TempDb { path, url }
    }

    /// The first column of the first row `q` returns, read as `T` (`None` without rows).
    /// Statements that change rows return none.
    fn first_cell<T>(&self, q: &str) -> Option<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::{Connection, Row};
            let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            let rows = sqlx::query(q).fetch_all(&mut c).await.unwrap();
            rows.first().and_then(|r| r.try_get::<T, _>(0).ok())
        })
    }

    /// Writes, as an outside edit would (foreign keys off), a partner and one ledger entry
    /// for an earning that does not exist, in `currency`.
    fn tamper(&self, currency: &str) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut c).await.unwrap();
            sqlx::query("INSERT INTO partners (id, company_name, contact_email, referral_fee_bps, approval_ttl_days, invoicing_trigger_mode, branding_json, created_at) VALUES ('00000000-0000-0000-0000-0000000000aa', 'P', 'p@p.test', 5000, 7, 'PayWhenPaid', '{}', 0)").execute(&mut c).await.unwrap();
            sqlx::query("INSERT INTO ledger_entries (id, partner_id, earning_id, stage, amount_minor, currency, cause, created_at) VALUES ('e1', '00000000-0000-0000-0000-0000000000aa', '00000000-0000-0000-0000-000000000001', 'Pending', 500, $1, 'manual', 0)")
                .bind(currency)
                .execute(&mut c)
                .await
                .unwrap();
        });
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

#[test]
fn reconcile_exits_zero_when_everything_agrees_and_one_on_a_discrepancy() {
    let db = TempDb::migrated("reconcile");
    let out = reconcile(&db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 0 ledger entries"), "{}", String::from_utf8_lossy(&out.stdout));

    db.tamper("GBP");
    let out = reconcile(&db.url);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("discrepancy") && err.contains("00000000-0000-0000-0000-000000000001"), "{err}");
}

/// A proof that cannot be completed (here: a stored currency this binary does not know) is
/// not a discrepancy: exit 3 with the cause, never "discrepancy".
#[test]
fn reconcile_that_cannot_complete_exits_three_not_as_a_discrepancy() {
    let db = TempDb::migrated("reconcile-corrupt");
    db.tamper("XYZ");
    let out = reconcile(&db.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("could not be completed") && err.contains("XYZ") && !err.contains("discrepancy"), "{err}");
}

/// A migrated SQLite database with a small seeded platform (300 cases and payments, three
/// partners).
fn seeded(name: &str) -> TempDb {
    let db = TempDb::migrated(name);
    let out = Command::new(env!("CARGO_BIN_EXE_refshare"))
        .args(["seed", "--cases", "300", "--payments", "300", "--partners", "3", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    db
}

/// Earnings written before the read model existed (migration 0019) get it at the next
/// start, and `reconcile` proves the stored stage against the stage rule: a wrong one is a
/// discrepancy naming the earning.
#[test]
fn the_earnings_read_model_is_filled_at_start_and_proved_by_reconcile() {
    let db = seeded("read-model");
    let sql = |q: &'static str| db.first_cell::<i64>(q);
    let live = sql("SELECT COUNT(*) FROM earnings WHERE voided_at IS NULL").unwrap();
    assert!(live > 10, "the seed wrote {live} live earnings");
    // As before migration 0019: no read model, so nothing in the totals either (0022,
    // 0033 and 0037 fill them from the rows with a stage or a payment date), and the estimate
    // totals not built (0025).
    // (0040's client totals likewise count only rows with a read model.)
    sql("UPDATE earnings SET stage = NULL, paid_at = NULL, fx_usd_per_unit_e8 = NULL");
    sql("DELETE FROM earning_totals");
    sql("DELETE FROM estimate_totals");
    sql("DELETE FROM month_totals");
    sql("DELETE FROM month_estimates");
    sql("DELETE FROM statement_totals");
    sql("DELETE FROM statement_estimates");
    sql("DELETE FROM client_earnings_totals");
    sql("UPDATE estimate_rates SET built = 0, rate_e8 = NULL");
    assert_eq!(sql("SELECT COUNT(*) FROM earnings WHERE stage IS NOT NULL"), Some(0));

    let out = reconcile(&db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sql("SELECT COUNT(*) FROM earnings WHERE voided_at IS NULL AND (stage IS NULL OR paid_at IS NULL)"), Some(0));

    sql("UPDATE earnings SET stage = CASE stage WHEN 'Pending' THEN 'Paid' ELSE 'Pending' END WHERE id = (SELECT MIN(id) FROM earnings WHERE voided_at IS NULL)");
    let out = reconcile(&db.url);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read model says"), "{err}");
}

/// The per-partner earnings totals (migration 0022) follow the seed's writes, and
/// `reconcile` proves them against the rows: a wrong totals row is a discrepancy naming its
/// partner, stage and currency.
#[test]
fn reconcile_proves_the_earnings_totals_and_names_a_wrong_row() {
    let db = seeded("totals");
    let sql = |q: &'static str| db.first_cell::<String>(q);
    let counted = sql("SELECT CAST(SUM(n) AS TEXT) FROM earning_totals").unwrap();
    let live = sql("SELECT CAST(COUNT(*) AS TEXT) FROM earnings WHERE voided_at IS NULL AND stage IS NOT NULL").unwrap();
    assert_eq!(counted, live, "the totals count every live earning");
    let out = reconcile(&db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let key = sql("SELECT partner_id || ' ' || stage || ' ' || currency FROM earning_totals WHERE locked = 1 AND n > 0 ORDER BY partner_id, stage, currency LIMIT 1").unwrap();
    sql("UPDATE earning_totals SET usd_minor = usd_minor + 1 WHERE rowid = (SELECT rowid FROM earning_totals WHERE locked = 1 AND n > 0 ORDER BY partner_id, stage, currency LIMIT 1)");
    let out = reconcile(&db.url);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    let mut parts = key.split(' ');
    let (partner, stage, currency) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    assert!(err.contains("earnings totals") && err.contains(partner) && err.contains(&format!("{stage} {currency}")), "{err}");
}

/// The estimate totals (migration 0025) are built by the seed's app and proved by
/// `reconcile`: a wrong row is a discrepancy naming it; so is an earning whose platform
/// fee is not its payout's.
#[test]
fn reconcile_proves_the_estimate_totals_and_the_platform_fees() {
    let db = seeded("estimates");
    let sql = |q: &'static str| db.first_cell::<String>(q);
    let counted = sql("SELECT CAST(SUM(n) AS TEXT) FROM estimate_totals").unwrap();
    let live =
        sql("SELECT CAST(COUNT(*) AS TEXT) FROM earnings WHERE voided_at IS NULL AND stage IS NOT NULL AND fx_usd_per_unit_e8 IS NULL")
            .unwrap();
    assert_eq!(counted, live, "the estimate totals count every live estimate");
    assert_eq!(sql("SELECT CAST(COUNT(*) AS TEXT) FROM estimate_rates WHERE built = 0"), Some("0".into()), "every currency is built");
    let out = reconcile(&db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let key = sql("SELECT partner_id || ' ' || stage || ' ' || currency FROM estimate_totals WHERE n > 0 ORDER BY partner_id, stage, currency LIMIT 1").unwrap();
    sql("UPDATE estimate_totals SET usd_minor = usd_minor + 1 WHERE rowid = (SELECT rowid FROM estimate_totals WHERE n > 0 ORDER BY partner_id, stage, currency LIMIT 1)");
    let out = reconcile(&db.url);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    let mut parts = key.split(' ');
    let (partner, stage, currency) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    assert!(err.contains("estimate totals") && err.contains(partner) && err.contains(&format!("{stage} {currency}")), "{err}");
    sql("UPDATE estimate_totals SET usd_minor = usd_minor - 1 WHERE rowid = (SELECT rowid FROM estimate_totals WHERE n > 0 ORDER BY partner_id, stage, currency LIMIT 1)");
    let out = reconcile(&db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let id = sql("SELECT MIN(id) FROM earnings").unwrap();
    sql("UPDATE earnings SET platform_fee_minor = platform_fee_minor + 1 WHERE id = (SELECT MIN(id) FROM earnings)");
    let out = reconcile(&db.url);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("platform fee") && err.contains(&id), "{err}");
}

/// The month totals and month estimates (migration 0033) follow the seed's writes and the
/// app's build of the estimates, and `reconcile` proves them: a wrong row of either is a
/// discrepancy naming its partner, month and currency.
#[test]
fn reconcile_proves_the_month_totals_and_names_a_wrong_row() {
    let db = seeded("months");
    let sql = |q: &'static str| db.first_cell::<String>(q);
    let counted = sql("SELECT CAST(SUM(n) AS TEXT) FROM month_totals").unwrap();
    let live = sql("SELECT CAST(COUNT(*) AS TEXT) FROM earnings WHERE voided_at IS NULL AND paid_at IS NOT NULL").unwrap();
    assert_eq!(counted, live, "the month totals count every live earning");
    let estimated = sql("SELECT CAST(SUM(n) AS TEXT) FROM month_estimates").unwrap();
    let live =
        sql("SELECT CAST(COUNT(*) AS TEXT) FROM earnings WHERE voided_at IS NULL AND paid_at IS NOT NULL AND fx_usd_per_unit_e8 IS NULL")
            .unwrap();
    assert_eq!(estimated, live, "the month estimates count every live estimate");
    let out = reconcile(&db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    for (table, named) in [("month_totals", "month totals"), ("month_estimates", "month estimates")] {
        let row = db.first_cell::<i64>(&format!("SELECT rowid FROM {table} WHERE n > 0 ORDER BY rowid LIMIT 1")).unwrap();
        let key = db
            .first_cell::<String>(&format!("SELECT partner_id || ' ' || month || ' ' || currency FROM {table} WHERE rowid = {row}"))
            .unwrap();
        db.first_cell::<String>(&format!("UPDATE {table} SET n = n + 1 WHERE rowid = {row}"));
        let out = reconcile(&db.url);
        assert_eq!(out.status.code(), Some(1), "{table}: {}", String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr);
        let mut parts = key.split(' ');
        let (partner, month, currency) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        assert!(err.contains(named) && err.contains(partner) && err.contains(&format!("{month} in {currency}")), "{err}");
        db.first_cell::<String>(&format!("UPDATE {table} SET n = n - 1 WHERE rowid = {row}"));
        let out = reconcile(&db.url);
        assert!(out.status.success(), "{table} restored: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The kept statement totals and estimates (migration 0037) follow the seed's writes and
/// the app's build of the estimates, and `reconcile` proves them: a wrong row of either is
/// a discrepancy naming its partner, month, stage and currency.
#[test]
fn reconcile_proves_the_statement_totals_and_names_a_wrong_row() {
    let db = seeded("statements");
    let sql = |q: &'static str| db.first_cell::<String>(q);
    let counted = sql("SELECT CAST(SUM(n) AS TEXT) FROM statement_totals").unwrap();
    let live = sql("SELECT CAST(COUNT(*) AS TEXT) FROM earnings WHERE voided_at IS NULL AND stage IS NOT NULL").unwrap();
    assert_eq!(counted, live, "the statement totals count every live earning");
    let estimated = sql("SELECT CAST(SUM(n) AS TEXT) FROM statement_estimates").unwrap();
    let live =
        sql("SELECT CAST(COUNT(*) AS TEXT) FROM earnings WHERE voided_at IS NULL AND stage IS NOT NULL AND fx_usd_per_unit_e8 IS NULL")
            .unwrap();
    assert_eq!(estimated, live, "the statement estimates count every live estimate");
    let out = reconcile(&db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    for (table, named) in [("statement_totals", "statement totals"), ("statement_estimates", "statement estimates")] {
        let row = db.first_cell::<i64>(&format!("SELECT rowid FROM {table} WHERE n > 0 ORDER BY rowid LIMIT 1")).unwrap();
        let key = db
            .first_cell::<String>(&format!(
                "SELECT partner_id || ' ' || month || ' ' || stage || ' ' || currency FROM {table} WHERE rowid = {row}"
            ))
            .unwrap();
        db.first_cell::<String>(&format!("UPDATE {table} SET usd_minor = usd_minor + 1 WHERE rowid = {row}"));
        let out = reconcile(&db.url);
        assert_eq!(out.status.code(), Some(1), "{table}: {}", String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr);
        let mut parts = key.split(' ');
        let (partner, month, stage, currency) =
            (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        assert!(err.contains(named) && err.contains(partner) && err.contains(&format!("{month} in {stage} {currency}")), "{err}");
        db.first_cell::<String>(&format!("UPDATE {table} SET usd_minor = usd_minor - 1 WHERE rowid = {row}"));
        let out = reconcile(&db.url);
        assert!(out.status.success(), "{table} restored: {}", String::from_utf8_lossy(&out.stderr));
    }
}
