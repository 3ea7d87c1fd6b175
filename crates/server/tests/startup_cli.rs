//! Starting the binary as an operator would, and failing: each start-up failure exits 2
//! with one line on stderr naming the setting and the cause (no panic, no backtrace even
//! with `RUST_BACKTRACE=1`), admin commands never create a database, and logs are plain
//! text off a terminal or JSON lines on request.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "common/pg.rs"]
mod pg;
use pg::TempPg;

/// The binary with a backtrace requested, colours allowed, a secret key and no other
/// inherited settings.
fn refshare(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_refshare"));
    c.args(args).env("RUST_BACKTRACE", "1").env_remove("NO_COLOR").env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("REFSHARE_") {
            c.env_remove(k);
        }
    }
    // Production needs a secret key; these tests are about other settings.
    c.env("REFSHARE_SECRET_KEY", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
    c
}

/// Runs to completion, killing the child if it takes longer than `limit`.
fn run(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary runs");
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("refshare did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child.wait_with_output().expect("output"), started.elapsed())
}

/// Exit code 2 and exactly one line on stderr, which is returned.
fn one_line_exit_2(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}\nstdout: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "one line, got: {err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace") && !err.contains("Caused by"), "{err}");
    err
}

fn temp_db(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("refshare-startup-{tag}-{}.db", uuid::Uuid::new_v4().simple()))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

const ADMIN_TOKEN: &str = "startup-test-operator-token-0123456789";

#[test]
fn a_port_in_use_exits_2_before_printing_a_token_or_creating_a_database() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let path = temp_db("port");
    let (out, _) = run(refshare(&["serve", "--listen", &addr, "--database-url", &sqlite_url(&path)]), Duration::from_secs(30));
    let err = one_line_exit_2(&out);
    assert!(err.contains("REFSHARE_LISTEN") && err.contains(&addr) && err.contains("already in use"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Operator token"), "no token printed");
    assert!(!path.exists(), "no database created");
    drop(taken);
}

#[test]
fn a_refused_database_connection_exits_2_naming_the_setting_without_the_password() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://refshare:s3cret-pw@127.0.0.1:{port}/refshare?sslmode=disable");
    let (out, took) = run(refshare(&["serve", "--listen", "127.0.0.1:0", "--database-url", &url]), Duration::from_secs(30));
    let err = one_line_exit_2(&out);
    assert!(err.contains("REFSHARE_DATABASE_URL") && err.contains("cannot connect"), "{err}");
    assert!(err.contains("refshare:***@127.0.0.1") && !err.contains("s3cret-pw"), "{err}");
    assert!(took < Duration::from_secs(10), "a refusal is reported at once, took {took:?}");
}

#[test]
fn a_database_that_never_answers_times_out_within_10_seconds() {
    // Accepts the connection and never says a word, like a host behind a dropping firewall.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let url = format!("postgres://refshare:s3cret-pw@127.0.0.1:{port}/refshare?sslmode=disable");
    let (out, took) = run(refshare(&["migrate", "--database-url", &url]), Duration::from_secs(30));
    let err = one_line_exit_2(&out);
    assert!(err.contains("REFSHARE_DATABASE_URL") && err.contains("no answer within 10 s") && !err.contains("s3cret-pw"), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn a_schema_newer_than_the_binary_exits_2() {
    let path = temp_db("schema");
    let url = sqlite_url(&path);
    let (out, _) = run(refshare(&["migrate", "--database-url", &url]), Duration::from_secs(60));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101, 'from the future', TRUE, X'00', 0)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    });
    for args in [vec!["serve", "--listen", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN], vec!["reconcile"], vec!["migrate"]] {
        let mut args = args.clone();
        args.extend(["--database-url", url.as_str()]);
        let (out, _) = run(refshare(&args), Duration::from_secs(30));
        let err = one_line_exit_2(&out);
        assert!(err.contains("REFSHARE_DATABASE_URL") && err.contains("newer than this binary"), "{args:?}: {err}");
    }
    remove_db(&path);
}

#[test]
fn admin_commands_never_create_a_sqlite_database() {
    let path = temp_db("missing");
    // The URL even asks for creation (`mode=rwc`, as the default URL does).
    let (out, _) = run(refshare(&["reconcile", "--database-url", &sqlite_url(&path)]), Duration::from_secs(30));
    let err = one_line_exit_2(&out);
    assert!(err.contains("REFSHARE_DATABASE_URL") && err.contains("does not exist"), "{err}");
    assert!(!path.exists(), "reconcile created {}", path.display());
    // The default database in the working directory: still nothing created.
    let dir = std::env::temp_dir().join(format!("refshare-startup-cwd-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, _) = run(
        {
            let mut c = refshare(&["reconcile"]);
            c.current_dir(&dir);
            c
        },
        Duration::from_secs(30),
    );
    let err = one_line_exit_2(&out);
    assert!(err.contains("refshare.db") && err.contains("does not exist"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written in the working directory");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn admin_commands_refuse_an_empty_postgres_database_and_leave_it_empty() {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(db) = TempPg::create(&rt, "refshare_startup") else { return };
    let url = db.url.clone();
    let (out, _) = run(refshare(&["reconcile", "--database-url", &url]), Duration::from_secs(30));
    let tables: i64 = rt.block_on(async {
        let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_one(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
        db.drop_database().await;
        n
    });
    let err = one_line_exit_2(&out);
    assert!(err.contains("REFSHARE_DATABASE_URL") && err.contains("no refshare schema") && err.contains("refshare migrate"), "{err}");
    assert_eq!(tables, 0, "reconcile created tables");
}

/// A running `serve`: its stdout lines arrive on a channel; killed on drop.
struct Server(Child, mpsc::Receiver<String>, PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        remove_db(&self.2);
    }
}

fn start(extra_env: &[(&str, &str)]) -> Server {
    let path = temp_db("logs");
    let mut cmd = refshare(&["serve", "--listen", "127.0.0.1:0", "--database-url", &sqlite_url(&path)]);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    spawn(cmd, path)
}

/// Spawns `serve` (its database at `path`, removed on drop), reading its stdout.
fn spawn(mut cmd: Command, path: PathBuf) -> Server {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("serve runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Server(child, rx, path)
}

/// Stdout lines up to and including the one that says the server is ready.
fn lines_until_ready(s: &Server) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = s.1.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("not ready; stdout so far: {lines:#?}"));
        let ready = line.contains("refshare is ready");
        lines.push(line);
        if ready {
            return lines;
        }
    }
}

#[test]
fn logs_off_a_terminal_have_no_colours() {
    let s = start(&[]);
    let lines = lines_until_ready(&s);
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "ANSI escapes in {lines:#?}");
    assert!(lines.iter().any(|l| l.contains("Operator token")), "the generated token is still shown: {lines:#?}");
}

#[test]
fn json_log_format_writes_one_object_per_line_on_stdout() {
    let s = start(&[("REFSHARE_LOG_FORMAT", "json")]);
    let lines = lines_until_ready(&s);
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{line}");
    }
    let ready: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(ready["fields"]["message"], "refshare is ready");
}

#[test]
fn a_bad_log_format_exits_2_naming_the_setting() {
    let path = temp_db("format");
    let mut cmd = refshare(&["serve", "--listen", "127.0.0.1:0", "--database-url", &sqlite_url(&path)]);
    cmd.env("REFSHARE_LOG_FORMAT", "xml");
    let (out, _) = run(cmd, Duration::from_secs(30));
    let err = one_line_exit_2(&out);
    assert!(err.contains("REFSHARE_LOG_FORMAT") && err.contains("xml"), "{err}");
    assert!(!path.exists());
}

#[test]
fn a_bad_platform_setting_or_agreement_file_exits_2_naming_the_setting() {
    let unversioned = std::env::temp_dir().join(format!("refshare-startup-agreement-{}.md", uuid::Uuid::new_v4().simple()));
    std::fs::write(&unversioned, "# Terms\n\nA text without its version line.\n").unwrap();
    for (setting, value, cause) in [
        ("REFSHARE_TERMS_URL", "http://platform.example/terms", "https://"),
        ("REFSHARE_SUPPORT_EMAIL", "support", "not an e-mail address"),
        ("REFSHARE_AGREEMENT_FILE", unversioned.to_str().unwrap(), "Version: <id>"),
    ] {
        let path = temp_db("platform");
        let mut cmd = refshare(&["serve", "--listen", "127.0.0.1:0", "--database-url", &sqlite_url(&path)]);
        cmd.env(setting, value);
        let (out, _) = run(cmd, Duration::from_secs(30));
        let err = one_line_exit_2(&out);
        assert!(err.contains(setting) && err.contains(cause), "{setting}: {err}");
        assert!(!path.exists(), "{setting}: no database created");
    }
    let _ = std::fs::remove_file(&unversioned);
}

/// `serve --demo` prints a one-time Partner Dashboard sign-in link per demo partner user,
/// and the outbox page holds their invitations.
#[test]
fn the_demo_prints_working_dashboard_sign_in_links() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let path = std::env::temp_dir().join(format!("refshare-startup-{}-demo.db", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}", path.display());
    let s = spawn(refshare(&["serve", "--demo", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url]), path);
    let lines = lines_until_ready(&s);
    let links: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains("@ledgerly.example>") || l.contains("@invoicehub.example>"))
        .filter_map(|l| l.rsplit_once(": ").map(|(_, link)| link))
        .collect();
    assert_eq!(links.len(), 3, "an admin for each partner and a member: {lines:#?}");
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        for link in &links {
            assert!(link.starts_with(&format!("{base}/login/")), "{link}");
            let r = http.get(*link).send().await.unwrap();
            assert_eq!(r.status(), 200, "{link}");
            assert!(r.text().await.unwrap().contains("<form"), "the confirm form of {link}");
        }
        let outbox = http.get(format!("{base}/dev/mail?to=lena@ledgerly.example")).send().await.unwrap();
        assert_eq!(outbox.status(), 200);
        assert!(outbox.text().await.unwrap().contains("You were added to Ledgerly"), "the invitation is in the outbox");
    });
}
