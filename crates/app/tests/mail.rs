//! E-mail leaves the request path and goes out through SMTP: a small SMTP server written
//! here (plain, STARTTLS, or implicit TLS with a certificate made by `rcgen`) receives
//! what the mailer sends. Use cases only queue; `deliver_due_mail` sends, on SQLite and
//! PostgreSQL, and two mailers on one database never send the same e-mail twice.

use std::sync::{Arc, Mutex};

use refshare_app::clients::{CreateClientInput, DirectClientInput};
use refshare_app::{App, AppConfig, AppError, ClientError, Environment, SystemClock};
use refshare_store::{NotificationRecord, Store};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::rustls;

/// One message the fake server accepted.
#[derive(Debug, Clone)]
struct Received {
    data: String,
    /// The session was encrypted when DATA was sent.
    tls: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No TLS on offer.
    Plain,
    /// Plain greeting, STARTTLS offered in EHLO.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

struct FakeSmtp {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    /// The CA (here: the self-signed certificate itself) as PEM, in a temp file.
    ca_file: std::path::PathBuf,
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

impl FakeSmtp {
    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Starts an SMTP server on 127.0.0.1 with a certificate for `localhost`.
async fn fake_smtp(mode: Mode) -> FakeSmtp {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let ca_file = std::env::temp_dir().join(format!("refshare-smtp-ca-{}.pem", uuid::Uuid::new_v4().simple()));
    std::fs::write(&ca_file, cert.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let out = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            let (out, acceptor) = (out.clone(), acceptor.clone());
            tokio::spawn(async move {
                if mode == Mode::Implicit {
                    let Ok(tls) = acceptor.accept(sock).await else { return };
                    let mut r = BufReader::new(tls);
                    if reply(&mut r, b"220 fake ESMTP\r\n").await {
                        dialogue(&mut r, true, false, &out).await;
                    }
                    return;
                }
                let mut r = BufReader::new(sock);
                if !reply(&mut r, b"220 fake ESMTP\r\n").await {
                    return;
                }
                if dialogue(&mut r, false, mode == Mode::StartTls, &out).await == Step::StartTls {
                    let Ok(tls) = acceptor.accept(r.into_inner()).await else { return };
                    dialogue(&mut BufReader::new(tls), true, false, &out).await;
                }
            });
        }
    });
    FakeSmtp { port, received, ca_file }
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    Closed,
    StartTls,
}

async fn reply<S: AsyncWrite + AsyncRead + Unpin>(r: &mut BufReader<S>, line: &[u8]) -> bool {
    r.get_mut().write_all(line).await.is_ok() && r.get_mut().flush().await.is_ok()
}

/// Runs SMTP commands until QUIT, a closed connection, or STARTTLS.
async fn dialogue<S: AsyncWrite + AsyncRead + Unpin>(
    r: &mut BufReader<S>,
    tls: bool,
    offer_starttls: bool,
    out: &Mutex<Vec<Received>>,
) -> Step {
    let mut data: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line).await {
            Ok(0) | Err(_) => return Step::Closed,
            Ok(_) => {}
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if let Some(d) = data.as_mut() {
            if l == "." {
                out.lock().unwrap().push(Received { data: data.take().unwrap(), tls });
                reply(r, b"250 queued\r\n").await;
            } else {
                d.push_str(l);
                d.push('\n');
            }
            continue;
        }
        let verb = l.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" if offer_starttls => b"250-fake\r\n250 STARTTLS\r\n",
            "EHLO" | "HELO" => b"250 fake\r\n",
            "STARTTLS" if offer_starttls => {
                reply(r, b"220 go ahead\r\n").await;
                return Step::StartTls;
            }
            "DATA" => {
                data = Some(String::new());
                b"354 go ahead\r\n"
            }
            "QUIT" => {
                reply(r, b"221 bye\r\n").await;
                return Step::Closed;
            }
            _ => b"250 ok\r\n",
        };
        if !reply(r, answer).await {
            return Step::Closed;
        }
    }
}

/// A database of either backend, removed when dropped.
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Db {
    fn sqlite() -> (Db, String) {
        let path = std::env::temp_dir().join(format!("refshare-mail-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        (Db::Sqlite(path), url)
    }

    /// `None` (with a notice) when PostgreSQL is unreachable, unless
    /// `REFSHARE_REQUIRE_POSTGRES=1`.
    async fn postgres() -> Option<(Db, String)> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let admin = std::env::var("REFSHARE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) if std::env::var("REFSHARE_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!("PostgreSQL is required: {e}"),
            Err(e) => {
                eprintln!("notice: skipping PostgreSQL mail test, {admin} unreachable: {e}");
                return None;
            }
        };
        let name = format!("refshare_mail_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
        Some((Db::Postgres { admin_url: admin, name: name.clone() }, format!("{base}/{name}")))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match self {
            Db::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Db::Postgres { admin_url, name } => {
                let (url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async {
                        use sqlx::Connection;
                        if let Ok(mut c) = sqlx::AnyConnection::connect(&url).await {
                            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

fn config(smtp_url: Option<String>, smtp_ca_file: Option<std::path::PathBuf>) -> AppConfig {
    AppConfig {
        smtp_url,
        smtp_ca_file,
        secret_keys: Some(test_keys()),
        platform: refshare_app::platform::Platform { name: "Collectly".into(), ..Default::default() },
        ..AppConfig::new("http://refshare.test", Environment::Test, String::new())
    }
}

/// One secret key for every App of this test binary, so two Apps can share a database.
fn test_keys() -> refshare_app::seal::Keyring {
    static KEYS: std::sync::OnceLock<refshare_app::seal::Keyring> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| refshare_app::seal::Keyring::single(refshare_app::seal::SecretKey::generate())).clone()
}

async fn open_app(url: &str, config: AppConfig) -> App {
    App::new(Store::open(url).await.unwrap(), config, Arc::new(SystemClock)).await.unwrap()
}

async fn app_with(smtp_url: Option<String>, ca_file: Option<std::path::PathBuf>) -> (App, Db) {
    let (db, url) = Db::sqlite();
    (open_app(&url, config(smtp_url, ca_file)).await, db)
}

/// Creates the situation that queues an approval e-mail; returns the approval URL.
async fn request_link(app: &App) -> String {
    let (partner, _) = app
        .create_partner(serde_json::from_value(serde_json::json!({"companyName": "Ledgerly", "contactEmail": "p@ledgerly.test"})).unwrap())
        .await
        .unwrap();
    let direct: DirectClientInput = serde_json::from_value(serde_json::json!({
        "companyName": "Solvik AS", "country": "NO", "supportEmail": "post@solvik.test", "users": [{"name": "Siri", "email": "siri@solvik.test"}], "onboardingDone": true,
    }))
    .unwrap();
    app.create_direct_client(direct).await.unwrap();
    let input: CreateClientInput = serde_json::from_value(serde_json::json!({
        "externalTenantId": "sol", "client": {"name": "Solvik AS", "country": "NO", "supportEmail": "x@solvik.test"}, "users": [{"name": "Siri", "email": "siri@solvik.test"}],
    }))
    .unwrap();
    match app.create_client(&partner, input).await {
        Err(AppError::Client(ClientError::ExistsNeedsLinking { approval_url, .. })) => approval_url,
        other => panic!("expected a link request, got {other:?}"),
    }
}

async fn approval_mail(app: &App) -> NotificationRecord {
    let mut tx = app.store.begin().await.unwrap();
    let n = tx.notifications(Some("siri@solvik.test"), Some("link_approval_request"), 10).await.unwrap();
    assert_eq!(n.len(), 1);
    n[0].clone()
}

#[tokio::test]
async fn the_request_only_queues_and_the_mailer_sends() {
    let smtp = fake_smtp(Mode::Plain).await;
    let (app, _db) = app_with(Some(format!("smtp://127.0.0.1:{}", smtp.port)), None).await;
    let url = request_link(&app).await;
    let queued = approval_mail(&app).await;
    assert_eq!((queued.status.as_str(), queued.attempts, queued.sent_at), ("queued", 0, None), "the use case only queues");
    assert!(smtp.received().is_empty(), "nothing was sent on the request path");

    let report = app.deliver_due_mail().await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1));
    let sent = approval_mail(&app).await;
    assert_eq!((sent.status.as_str(), sent.attempts, sent.error, sent.next_attempt_at), ("sent", 1, None, None));
    assert!(sent.sent_at.is_some_and(|t| t >= sent.created_at));
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert!(!mails[0].tls);
    assert!(mails[0].data.contains("To: siri@solvik.test"), "{}", mails[0].data);
    // Undo quoted-printable soft line breaks before looking for the URL.
    let body = mails[0].data.replace("=\n", "").replace("=3D", "=");
    assert!(body.contains(&url), "the e-mail carries the approval URL: {}", mails[0].data);
    assert_eq!(app.deliver_due_mail().await.unwrap().claimed, 0, "a sent e-mail is not sent again");
}

#[tokio::test]
async fn without_smtp_mail_stays_in_the_outbox_unsent() {
    let (app, _db) = app_with(None, None).await;
    request_link(&app).await;
    app.deliver_due_mail().await.unwrap();
    let n = approval_mail(&app).await;
    assert_eq!((n.status.as_str(), n.sent_at, n.error, n.next_attempt_at), ("outbox", None, None, None), "outbox mail was never sent");
}

#[tokio::test]
async fn unreachable_smtp_is_retried_later() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, _db) = app_with(Some(format!("smtp://127.0.0.1:{port}")), None).await;
    request_link(&app).await;
    let before = app.now();
    let report = app.deliver_due_mail().await.unwrap();
    assert_eq!((report.retrying, report.failed), (1, 0));
    let n = approval_mail(&app).await;
    assert_eq!((n.status.as_str(), n.attempts, n.sent_at), ("queued", 1, None));
    assert!(n.error.is_some_and(|e| !e.is_empty()));
    let next = n.next_attempt_at.unwrap();
    assert!(next >= before + chrono::Duration::minutes(1) && next <= app.now() + chrono::Duration::minutes(1), "retry in a minute: {next}");
    assert_eq!(app.deliver_due_mail().await.unwrap().claimed, 0, "not due again before its time");
}

/// Two mailers (two pools, as two server processes) drain one database at the same time.
async fn two_mailers_send_each_mail_once(db_url: &str) {
    let smtp = fake_smtp(Mode::Plain).await;
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let a = open_app(db_url, config(Some(smtp_url.clone()), None)).await;
    let b = open_app(db_url, config(Some(smtp_url), None)).await;
    const N: usize = 24;
    let mut tx = a.store.begin().await.unwrap();
    for i in 0..N {
        refshare_app::notify::enqueue(&mut tx, &a, "test", &format!("u{i}@example.test"), &format!("mail {i}"), format!("body {i}"), None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let (ra, rb) = tokio::join!(tokio::spawn(async move { a.deliver_due_mail().await }), {
        let b = b.clone();
        tokio::spawn(async move { b.deliver_due_mail().await })
    });
    let (ra, rb) = (ra.unwrap().unwrap(), rb.unwrap().unwrap());
    assert_eq!(ra.sent + rb.sent, N, "every e-mail sent by one of them: {ra:?} {rb:?}");
    let mut subjects: Vec<String> =
        smtp.received().iter().map(|m| m.data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap().to_string()).collect();
    assert_eq!(subjects.len(), N, "no e-mail was sent twice");
    assert!(
        smtp.received().iter().all(|m| m.data.lines().any(|l| l == "From: Collectly <no-reply@refshare.local>")),
        "the sender is named after the platform"
    );
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), N);
    let mut tx = b.store.begin().await.unwrap();
    let rows = tx.notifications(None, Some("test"), 100).await.unwrap();
    assert!(rows.iter().all(|n| n.status == "sent" && n.attempts == 1), "{rows:?}");
}

#[tokio::test]
async fn two_mailers_send_each_mail_once_sqlite() {
    let (_db, url) = Db::sqlite();
    two_mailers_send_each_mail_once(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mailers_send_each_mail_once_postgres() {
    if let Some((_db, url)) = Db::postgres().await {
        two_mailers_send_each_mail_once(&url).await;
    }
}

/// Sends the approval e-mail through `url` trusting the fake server's certificate.
async fn deliver_over(mode: Mode, url: impl Fn(u16) -> String, trust: bool) -> (NotificationRecord, Vec<Received>) {
    let smtp = fake_smtp(mode).await;
    let (app, _db) = app_with(Some(url(smtp.port)), trust.then(|| smtp.ca_file.clone())).await;
    request_link(&app).await;
    app.deliver_due_mail().await.unwrap();
    (approval_mail(&app).await, smtp.received())
}

#[tokio::test]
async fn starttls_sends_over_tls() {
    let (n, mails) = deliver_over(Mode::StartTls, |p| format!("smtp://localhost:{p}?tls=required"), true).await;
    assert_eq!((n.status.as_str(), n.error), ("sent", None));
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls, "the message travelled after STARTTLS");
    assert!(mails[0].data.contains("To: siri@solvik.test"));
}

#[tokio::test]
async fn implicit_tls_sends_over_tls() {
    let (n, mails) = deliver_over(Mode::Implicit, |p| format!("smtps://localhost:{p}"), true).await;
    assert_eq!((n.status.as_str(), n.error), ("sent", None));
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls, "the session was TLS from the first byte");
}

#[tokio::test]
async fn an_untrusted_certificate_sends_nothing() {
    for (mode, url) in [
        (Mode::Implicit, (|p| format!("smtps://localhost:{p}")) as fn(u16) -> String),
        (Mode::StartTls, |p| format!("smtp://localhost:{p}?tls=required")),
    ] {
        let (n, mails) = deliver_over(mode, url, false).await;
        assert_eq!((n.status.as_str(), n.attempts), ("queued", 1), "{mode:?}: retried later");
        assert!(n.error.as_deref().is_some_and(|e| e.to_lowercase().contains("certificate")), "{mode:?}: {:?}", n.error);
        assert!(mails.is_empty(), "{mode:?}");
    }
}

#[tokio::test]
async fn required_starttls_never_falls_back_to_plain_text() {
    let (n, mails) = deliver_over(Mode::Plain, |p| format!("smtp://localhost:{p}?tls=required"), true).await;
    assert_eq!(n.status, "queued");
    assert!(n.error.is_some());
    assert!(mails.is_empty(), "nothing went out unencrypted");
}

#[tokio::test]
async fn a_commit_that_queues_mail_wakes_the_mailer() {
    let (app, _db) = app_with(None, None).await;
    let woken = |app: App| async move { tokio::time::timeout(std::time::Duration::from_millis(200), app.mailer_woken()).await.is_ok() };
    assert!(!woken(app.clone()).await, "nothing queued, nothing wakes the mail loop");
    request_link(&app).await;
    assert!(woken(app.clone()).await, "the mail loop is woken after the commit");
}

/// In `production` the log keeps a masked sign-in mail; the mailer sends the real text
/// (opened from its sealed copy, which is then dropped), and its link signs in.
#[tokio::test]
async fn production_sends_the_real_signin_mail_and_keeps_it_masked() {
    let smtp = fake_smtp(Mode::Plain).await;
    let (db, url) = Db::sqlite();
    let _db = db;
    let mut c = config(Some(format!("smtp://127.0.0.1:{}", smtp.port)), None);
    c.environment = Environment::Production;
    let app = open_app(&url, c).await;
    let direct: DirectClientInput = serde_json::from_value(serde_json::json!({
        "companyName": "Solvik AS", "country": "NO", "supportEmail": "post@solvik.test", "users": [{"name": "Siri", "email": "siri@solvik.test"}], "onboardingDone": true,
    }))
    .unwrap();
    app.create_direct_client(direct).await.unwrap();
    app.request_signin("siri@solvik.test", "10.0.0.1").await.unwrap();

    let stored = |app: App| async move {
        let mut tx = app.store.begin().await.unwrap();
        tx.notifications(Some("siri@solvik.test"), Some("sign_in"), 10).await.unwrap().remove(0)
    };
    let queued = stored(app.clone()).await;
    assert!(
        queued.body.contains("/login/********") && !queued.body.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() >= 6),
        "masked: {}",
        queued.body
    );
    assert!(queued.sealed_body.as_deref().is_some_and(|s| !s.contains("/login/")), "the real text is sealed");

    assert_eq!(app.deliver_due_mail().await.unwrap().sent, 1);
    let sent = stored(app.clone()).await;
    assert_eq!(
        (sent.status.as_str(), sent.sealed_body.as_deref(), sent.body),
        ("sent", None, queued.body),
        "masked, and the sealed copy dropped"
    );
    let data = smtp.received().remove(0).data.replace("=\n", "").replace("=3D", "=");
    let secret =
        data.split("http://refshare.test/login/").nth(1).and_then(|s| s.split_whitespace().next()).expect("the real link").to_string();
    assert!(secret.len() == 64 && secret.chars().all(|c| c.is_ascii_hexdigit()), "{data}");
    app.signin_with_link(&secret).await.expect("the mailed link signs in");
}
