//! The crash run of issue 9 (correctness, not timing): `refshare serve` on a seeded
//! platform takes batches of payments (`POST /admin-api/v1/payments/batch`, unique
//! externalIds); it is killed with SIGKILL while a batch is in flight, after that batch's
//! first transaction committed; restarted on the same database, every acknowledged payment
//! is there exactly once, the unacknowledged batch sent again answers `replayed` for each
//! item that was committed and `created` for the rest, and `refshare reconcile` exits 0.
//! On SQLite and, when reachable, on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, Row};

#[path = "common/pg.rs"]
mod pg;
use pg::TempPg;

const KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const TOKEN: &str = "crash-run-operator-token-0123456789abcdef";

/// The binary with no inherited `REFSHARE_*` setting but a secret key.
fn refshare(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_refshare"));
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("REFSHARE_") {
            c.env_remove(k);
        }
    }
    c.env("REFSHARE_SECRET_KEY", KEY);
    c
}

fn ok(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{what} failed ({}): {stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
}

/// A free loopback port (bound and released; `serve` takes it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `serve`, killed (SIGKILL) on drop unless already killed.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(url: &str, http: &reqwest::Client) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let child = refshare(&["serve", "--listen", &listen, "--database-url", url])
            .env("REFSHARE_ENVIRONMENT", "test")
            .env("REFSHARE_ADMIN_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve runs");
        let server = Server { child, base: format!("http://{listen}") };
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await {
                if r.status().is_success() {
                    return server;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60), "serve did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush beyond what was committed.
    fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A batch body of `items` (externalId, case reference).
fn body(items: &[(String, String)]) -> String {
    json!({"payments": items.iter().map(|(x, case)| json!({"case": case, "amount": 1.00, "externalId": x})).collect::<Vec<_>>()})
        .to_string()
}

async fn send(http: &reqwest::Client, base: &str, body: String) -> Result<Value, String> {
    let r = http
        .post(format!("{base}/admin-api/v1/payments/batch"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let bytes = r.bytes().await.map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{status}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{status}: {value}"));
    }
    Ok(value)
}

/// The payments of these externalIds: externalId → ids (more than one would be a double).
async fn stored(url: &str, prefix: &str) -> BTreeMap<String, Vec<String>> {
    let mut c = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query("SELECT external_id, id FROM payments WHERE external_id LIKE $1")
        .bind(format!("{prefix}%"))
        .fetch_all(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.get::<String, _>(0)).or_default().push(r.get::<String, _>(1));
    }
    out
}

/// References of active cases with a collection partner and at least 100.00 still owed,
/// in a two-decimal currency.
async fn payable_cases(url: &str) -> Vec<String> {
    let mut c = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT c.reference FROM cases c WHERE c.lifecycle = 'Active' AND c.collection_partner_id IS NOT NULL \
         AND c.currency IN ('EUR', 'USD', 'GBP', 'DKK', 'SEK', 'NOK') AND c.amount_minor >= 10000 ORDER BY c.reference",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    rows.iter().map(|r| r.get::<String, _>(0)).collect()
}

async fn crash_run(url: &str) {
    sqlx::any::install_default_drivers();
    ok(refshare(&["seed", "--cases", "2000", "--payments", "0", "--partners", "5", "--database-url", url]).output().unwrap(), "seed");
    let cases = payable_cases(url).await;
    assert!(cases.len() >= 200, "the seed has payable cases: {}", cases.len());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let prefix = format!("CRASH-{}-", uuid::Uuid::new_v4().simple());
    // Payment n of batch b; case chosen round-robin, at most a few 1.00 payments per case.
    let item = |b: usize, i: usize| (format!("{prefix}b{b}-{i:05}"), cases[(b * 7919 + i) % cases.len()].clone());

    let mut server = Server::start(url, &http).await;
    // Acknowledged: externalId → paymentId from a 200 answer.
    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    for b in 0..3 {
        let items: Vec<_> = (0..200).map(|i| item(b, i)).collect();
        let answer = send(&http, &server.base, body(&items)).await.expect("an answered batch");
        assert_eq!(answer["created"], 200, "{answer}");
        for (r, (x, _)) in answer["results"].as_array().unwrap().iter().zip(&items) {
            assert_eq!(r["status"], "created", "{r}");
            acknowledged.insert(x.clone(), r["paymentId"].as_str().unwrap().to_string());
        }
    }

    // The batch in flight: 5,000 payments, committed 1,000 per transaction. Killed as soon
    // as its first items are visible in the database.
    let in_flight: Vec<_> = (0..5000).map(|i| item(3, i)).collect();
    let flight_prefix = format!("{prefix}b3-");
    let request = {
        let (http, base, body) = (http.clone(), server.base.clone(), body(&in_flight));
        tokio::spawn(async move { send(&http, &base, body).await })
    };
    let started = Instant::now();
    while stored(url, &flight_prefix).await.is_empty() && !request.is_finished() {
        assert!(started.elapsed() < Duration::from_secs(120), "the batch never committed anything");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill9();
    match request.await.unwrap() {
        // Answered before the kill: acknowledged like the others.
        Ok(answer) => {
            eprintln!("note: the in-flight batch was answered before the kill");
            for (r, (x, _)) in answer["results"].as_array().unwrap().iter().zip(&in_flight) {
                if r["status"] == "created" {
                    acknowledged.insert(x.clone(), r["paymentId"].as_str().unwrap().to_string());
                }
            }
        }
        Err(e) => eprintln!("the in-flight batch got no answer: {e}"),
    }
    drop(server);

    // Restart on the same database.
    let server = Server::start(url, &http).await;
    let after = stored(url, &prefix).await;
    for (x, ids) in &after {
        assert_eq!(ids.len(), 1, "{x} is stored {} times", ids.len());
    }
    for (x, id) in &acknowledged {
        assert_eq!(after.get(x), Some(&vec![id.clone()]), "acknowledged payment {x} ({id}) is there exactly once");
    }
    let committed: BTreeSet<&String> = in_flight.iter().map(|(x, _)| x).filter(|x| after.contains_key(*x)).collect();
    eprintln!("{} of {} in-flight payments were committed before the kill", committed.len(), in_flight.len());
    assert!(!committed.is_empty(), "the kill came after the first commit of the batch");
    // Whole transactions only: the committed part is a prefix of 1,000-payment chunks.
    assert_eq!(committed.len() % 1000, 0, "a batch commits whole chunks of 1,000");

    // The unacknowledged batch again: replayed where committed, created elsewhere.
    let answer = send(&http, &server.base, body(&in_flight)).await.expect("the retry is answered");
    assert_eq!(
        answer["rejected"],
        0,
        "{}",
        answer["results"].as_array().unwrap().iter().find(|r| r["status"] == "rejected").unwrap_or(&Value::Null)
    );
    assert_eq!(answer["replayed"].as_u64().unwrap() as usize, committed.len());
    assert_eq!(answer["created"].as_u64().unwrap() as usize, in_flight.len() - committed.len());
    for (r, (x, _)) in answer["results"].as_array().unwrap().iter().zip(&in_flight) {
        let expected = if committed.contains(x) { "replayed" } else { "created" };
        assert_eq!(r["status"], expected, "{x}: {r}");
        if committed.contains(x) {
            assert_eq!(after[x], vec![r["paymentId"].as_str().unwrap().to_string()], "a replay answers the stored payment");
        }
    }
    drop(server);
    let final_state = stored(url, &prefix).await;
    assert_eq!(final_state.len(), 3 * 200 + in_flight.len());
    assert!(final_state.values().all(|ids| ids.len() == 1), "no payment twice");
    let out = ok(refshare(&["reconcile", "--database-url", url]).output().unwrap(), "reconcile");
    assert!(out.starts_with("ok:"), "{out}");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn a_killed_server_keeps_every_acknowledged_payment_once_on_sqlite() {
    let path = std::env::temp_dir().join(format!("refshare-crash-{}.db", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    rt().block_on(crash_run(&url));
    for suffix in ["", "-wal", "-shm", ".key"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn a_killed_server_keeps_every_acknowledged_payment_once_on_postgres() {
    let rt = rt();
    let Some(db) = TempPg::create(&rt, "refshare_crash") else { return };
    rt.block_on(async {
        crash_run(&db.url).await;
        db.drop_database().await;
    });
}
