//! `refshare serve` and its secret key as an operator meets them: production without a
//! key, or with a key that does not open the database, exits 2 with one line naming
//! `REFSHARE_SECRET_KEY` (no panic); `test` generates a key beside the SQLite file and a
//! restart on the same database uses it again.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use refshare_app::seal::{Keyring, SecretKey};
use refshare_app::{App, AppConfig, Environment, SystemClock};

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refshare-key-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn url_of(db: &Path) -> String {
    format!("sqlite://{}?mode=rwc", db.display())
}

/// `refshare serve` on `db`, any port, with only the given REFSHARE_* settings.
fn serve(db: &Path, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_refshare"));
    c.args(["serve", "--database-url", &url_of(db), "--listen", "127.0.0.1:0"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("REFSHARE_") {
            c.env_remove(k);
        }
    }
    c.env("RUST_LOG", "info").envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Runs until it exits (at most 60 s); returns (exit code, stderr).
fn exits(mut c: Command) -> (Option<i32>, String) {
    let mut child = c.spawn().expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (status.code(), String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("refshare serve kept running where it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts and waits for the ready line (at most 60 s), then stops it.
fn starts(c: Command) {
    let mut child: Child = { c }.spawn().expect("the binary runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("refshare is ready") {
                let _ = tx.send(());
            }
        }
    });
    let ready = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(ready.is_ok(), "refshare serve did not start: {}", String::from_utf8_lossy(&out.stderr));
}

fn assert_refused_naming_the_key(code: Option<i32>, stderr: &str) {
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("REFSHARE_SECRET_KEY") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn production_refuses_to_start_without_a_key_or_with_another_key() {
    let dir = temp_dir();
    let db = dir.join("prod.db");
    let (code, stderr) = exits(serve(&db, &[("REFSHARE_ENVIRONMENT", "production")]));
    assert_refused_naming_the_key(code, &stderr);
    assert!(!db.exists(), "refused before creating the database");

    // A database sealed under key A does not start with key B.
    let a = SecretKey::generate();
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        let store = refshare_store::Store::open(&url_of(&db)).await.unwrap();
        let config = AppConfig {
            secret_keys: Some(Keyring::single(a.clone())),
            ..AppConfig::new("http://localhost", Environment::Production, String::new())
        };
        App::new(store.clone(), config, Arc::new(SystemClock)).await.unwrap();
        store.close().await;
    });
    let b = SecretKey::generate().to_text();
    let (code, stderr) = exits(serve(&db, &[("REFSHARE_ENVIRONMENT", "production"), ("REFSHARE_SECRET_KEY", &b)]));
    assert_refused_naming_the_key(code, &stderr);
    starts(serve(&db, &[("REFSHARE_ENVIRONMENT", "production"), ("REFSHARE_SECRET_KEY", &a.to_text())]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn test_environment_keeps_its_generated_key_beside_the_database() {
    let dir = temp_dir();
    let db = dir.join("test.db");
    starts(serve(&db, &[("REFSHARE_ENVIRONMENT", "test")]));
    let key_file = dir.join("test.db.key");
    let key = std::fs::read_to_string(&key_file).expect("a generated key file beside the database");
    assert!(SecretKey::parse(&key).is_ok());
    // A restart on the same database opens what the first run sealed.
    starts(serve(&db, &[("REFSHARE_ENVIRONMENT", "test")]));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key, "the same key");
    // Given another key explicitly, it refuses like production would.
    let (code, stderr) = exits(serve(&db, &[("REFSHARE_ENVIRONMENT", "test"), ("REFSHARE_SECRET_KEY", &SecretKey::generate().to_text())]));
    assert_refused_naming_the_key(code, &stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}
