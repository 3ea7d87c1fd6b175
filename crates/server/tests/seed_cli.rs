//! `refshare seed` as an operator runs it: a fresh database gets a whole synthetic
//! platform whose last stdout line is the JSON summary; the data reconciles, the printed
//! key of the largest partner reads its transactions on the Referral API, the states and
//! sources are all there, the same `--seed` makes the same platform, and a database that
//! already holds data is refused. On SQLite and, when reachable, on PostgreSQL.

use std::io::{Read, Write};
use std::process::{Command, Output};
use std::sync::Arc;

use sqlx::Connection;

#[path = "common/pg.rs"]
mod pg;
use pg::TempPg;

const KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// The binary with no inherited `REFSHARE_*` setting but a secret key.
fn refshare(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_refshare"));
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("REFSHARE_") {
            c.env_remove(k);
        }
    }
    c.env("REFSHARE_SECRET_KEY", KEY).output().expect("the binary runs")
}

fn seed(url: &str, cases: u32, payments: u32, partners: u32, seed: u64) -> Output {
    let (c, p, n, s) = (cases.to_string(), payments.to_string(), partners.to_string(), seed.to_string());
    refshare(&["seed", "--cases", &c, "--payments", &p, "--partners", &n, "--seed", &s, "--database-url", url])
}

/// The JSON object on the last stdout line of a successful seed.
fn summary(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "seed failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().expect("a line on stdout");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {last}"))
}

/// A SQLite database path in the temp folder, removed (with its key file) on drop.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(tag: &str) -> TempDb {
        TempDb(std::env::temp_dir().join(format!("refshare-seed-{tag}-{}.db", uuid::Uuid::new_v4().simple())))
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", ".key"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// One integer from the database.
fn scalar(rt: &tokio::runtime::Runtime, url: &str, sql: &str) -> i64 {
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap();
        c.close().await.unwrap();
        n
    })
}

/// The distinct values of one text column.
fn distinct(rt: &tokio::runtime::Runtime, url: &str, table: &str, col: &str) -> Vec<String> {
    rt.block_on(async {
        let mut c = sqlx::AnyConnection::connect(url).await.unwrap();
        let mut v: Vec<String> = sqlx::query_scalar(&format!("SELECT DISTINCT {col} FROM {table}")).fetch_all(&mut c).await.unwrap();
        c.close().await.unwrap();
        v.sort();
        v
    })
}

/// `GET path` with the partner key against the real router over a local socket: (status, body).
fn referral_get(rt: &tokio::runtime::Runtime, url: &str, key: &str, path: &str) -> (u16, serde_json::Value) {
    rt.block_on(async {
        let store = refshare_store::Store::open(url).await.unwrap();
        let config = refshare_app::AppConfig::new("http://localhost", refshare_app::Environment::Test, String::new());
        let app = refshare_app::App::new(store.clone(), config, Arc::new(refshare_app::SystemClock)).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = refshare_web::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let (key, path) = (key.to_string(), path.to_string());
        let raw = tokio::task::spawn_blocking(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nXApiKey: {key}\r\nConnection: close\r\n\r\n").unwrap();
            let mut raw = String::new();
            s.read_to_string(&mut raw).unwrap();
            raw
        })
        .await
        .unwrap();
        server.abort();
        store.close().await;
        let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
        let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
        (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
    })
}

/// What every seeded platform must show, whatever the backend.
fn check_platform(rt: &tokio::runtime::Runtime, url: &str, s: &serde_json::Value) {
    assert_eq!((s["partners"].as_u64(), s["cases"].as_u64(), s["payments"].as_u64()), (Some(5), Some(2000), Some(2000)), "{s}");
    let clients = s["clients"].as_u64().unwrap();
    assert!(clients >= 5 * 8, "{s}");
    assert!(s["seconds"].is_number(), "{s}");
    assert_eq!(scalar(rt, url, "SELECT COUNT(*) FROM cases"), 2000);
    assert_eq!(scalar(rt, url, "SELECT COUNT(*) FROM payments"), 2000);
    assert_eq!(scalar(rt, url, "SELECT COUNT(*) FROM clients") as u64, clients);
    // Never more paid on a case than it is worth.
    assert_eq!(
        scalar(
            rt,
            url,
            "SELECT COUNT(*) FROM cases c WHERE c.amount_minor < (SELECT SUM(p.amount_minor) FROM payments p WHERE p.case_id = c.id)"
        ),
        0
    );

    // Every source, lifecycle, link and request state, and the engine's main reasons.
    assert_eq!(distinct(rt, url, "cases", "source"), ["csv_import", "customer_api", "operator", "partner_api", "web_app"]);
    assert_eq!(distinct(rt, url, "cases", "lifecycle"), ["Active", "Closed", "Paused", "PendingContractSigning"]);
    assert_eq!(distinct(rt, url, "links", "status"), ["active", "archived", "deleted"]);
    assert_eq!(distinct(rt, url, "link_requests", "status"), ["approved", "declined", "expired", "pending"]);
    let reasons = distinct(rt, url, "attribution_decisions", "reason");
    for r in ["attributed_client", "partner_channel", "non_attributed_other_channel", "case_before_link", "no_link", "link_archived"] {
        assert!(reasons.iter().any(|x| x == r), "no `{r}` among {reasons:?}");
    }
    assert!(distinct(rt, url, "cases", "currency").len() >= 4);
    let stages = distinct(rt, url, "ledger_entries", "stage");
    assert!(stages.iter().any(|s| s == "Pending") && stages.len() >= 2, "{stages:?}");
    assert!(scalar(rt, url, "SELECT COUNT(*) FROM client_users") as u64 >= clients);
    assert!(scalar(rt, url, "SELECT COUNT(*) FROM clients WHERE onboarding_completed_at IS NULL") > 0);
    // A new case continues after the seeded references.
    assert_eq!(scalar(rt, url, "SELECT value FROM counters WHERE name = 'case_reference'"), 12000);

    // The operator's proof agrees to the cent.
    let out = refshare(&["reconcile", "--database-url", url]);
    assert!(out.status.success(), "reconcile: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // The largest partner's key reads its transactions, with every USD rate there.
    let key = s["partnerKey"].as_str().expect("a key");
    assert!(key.starts_with("rsp_"), "{key}");
    let (status, body) = referral_get(rt, url, key, "/referral-api/reporting/transactions?PageSize=5");
    assert_eq!(status, 200, "{body}");
    assert!(!body["data"].as_array().unwrap().is_empty(), "{body}");
    assert!(body["page"]["totalResults"].as_i64().unwrap() > 5, "{body}");
    assert_eq!(body["missingFxRates"].as_array().map(Vec::len), Some(0), "{body}");
    // Its clients and the cases it may see (SPEC §5) come through too.
    for path in ["/referral-api/clients", "/referral-api/cases"] {
        let (status, body) = referral_get(rt, url, key, path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body["page"]["totalResults"].as_i64().unwrap() > 0, "{path}: {body}");
    }
    let (status, _) = referral_get(rt, url, "rsp_not-a-key", "/referral-api/reporting/transactions");
    assert_eq!(status, 401);
}

#[test]
fn seed_writes_a_platform_that_reconciles_and_serves_the_largest_partner_then_refuses_a_second_seed() {
    let rt = rt();
    let db = TempDb::new("sqlite");
    let url = db.url();
    let s = summary(&seed(&url, 2000, 2000, 5, 7));
    check_platform(&rt, &url, &s);

    let again = seed(&url, 10, 10, 1, 7);
    assert_eq!(again.status.code(), Some(1), "{}", String::from_utf8_lossy(&again.stdout));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));
    assert_eq!(scalar(&rt, &url, "SELECT COUNT(*) FROM cases"), 2000, "nothing added");
}

#[test]
fn the_same_seed_makes_the_same_platform_and_another_seed_another() {
    let rt = rt();
    let (a, b, c) = (TempDb::new("a"), TempDb::new("b"), TempDb::new("c"));
    let fingerprint = |db: &TempDb| {
        let url = db.url();
        (
            scalar(&rt, &url, "SELECT COUNT(*) FROM clients"),
            scalar(&rt, &url, "SELECT SUM(amount_minor) FROM payments"),
            scalar(&rt, &url, "SELECT COUNT(*) FROM earnings"),
            scalar(&rt, &url, "SELECT SUM(amount_minor) FROM ledger_entries WHERE stage <> 'Pending'"),
        )
    };
    let (sa, sb, sc) =
        (summary(&seed(&a.url(), 600, 900, 3, 42)), summary(&seed(&b.url(), 600, 900, 3, 42)), summary(&seed(&c.url(), 600, 900, 3, 43)));
    for key in ["partners", "clients", "cases", "payments"] {
        assert_eq!(sa[key], sb[key], "{key}");
    }
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_ne!(fingerprint(&a).1, fingerprint(&c).1, "another seed, other payments");
    assert_ne!(sa["partnerKey"], sb["partnerKey"], "keys are secrets, never derived from the seed");
    assert_eq!(sc["cases"], 600);
}

#[test]
fn bad_counts_exit_2_and_write_nothing() {
    let db = TempDb::new("bad");
    let out = seed(&db.url(), 0, 10, 3, 1);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--payments"));
    let out = seed(&db.url(), 10, 10, 0, 1);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--partners"));
}

#[test]
fn seed_on_postgres_reconciles_and_serves_the_largest_partner() {
    let rt = rt();
    let Some(db) = TempPg::create(&rt, "refshare_seed") else { return };
    let url = db.url.clone();
    let out = seed(&url, 2000, 2000, 5, 7);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // The seed refreshed the planner's statistics of what it wrote.
        let analyzed = "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_user_tables \
                        WHERE relname IN ('cases', 'payments', 'earnings') AND last_analyze IS NOT NULL";
        assert_eq!(scalar(&rt, &url, analyzed), 3, "cases, payments and earnings analysed");
        check_platform(&rt, &url, &summary(&out))
    }));
    rt.block_on(db.drop_database());
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
