//! The end-to-end harness: a fresh database per test (a SQLite file, or a PostgreSQL
//! database created and dropped around the test), the whole router driven with
//! `oneshot`, and a clock that moves one millisecond per read so every event has its own
//! instant.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use refshare_app::seal::{Keyring, SecretKey};
use refshare_app::{App, AppConfig, AppError, Clock, Environment};
use refshare_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const ADMIN_TOKEN: &str = "test-operator-token-0123456789abcdef";

/// Starts at 2026-03-10T12:00:00Z and advances 1 ms per reading.
pub struct SteppingClock(AtomicI64);

impl Clock for SteppingClock {
    fn now(&self) -> refshare_core::Instant {
        chrono::DateTime::from_timestamp_millis(self.0.fetch_add(1, Ordering::SeqCst)).expect("in range")
    }
}

enum Db {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
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
                // Drop may run during a panic or inside the test runtime: use a thread
                // with its own runtime.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
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

pub struct TestApp {
    pub router: Router,
    #[allow(dead_code)]
    pub app: App,
    /// Run one mail pass after each request, as the server's mail loop would, so a test
    /// reads the mail's outcome deterministically (default `true`).
    pub deliver_mail_after_requests: bool,
    url: String,
    clock: Arc<SteppingClock>,
    /// The secret key the App seals secrets with (kept across restarts).
    pub keys: Keyring,
    /// The cookies of each client user `submit_form` signed in, by address.
    jars: Mutex<HashMap<String, Jar>>,
    _db: Db,
}

/// A browser's cookies.
#[derive(Debug, Clone, Default)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    /// The `cookie` header, if there are cookies.
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    /// Takes the response's `set-cookie` headers (an empty value or `Max-Age=0` removes).
    pub fn take(&mut self, headers: &axum::http::HeaderMap) {
        for c in headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let Some((k, v)) = pair.split_once('=') else { continue };
            if v.is_empty() || c.contains("Max-Age=0") {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_string(), v.to_string());
            }
        }
    }
}

/// The CSRF token of the form in `html` that posts to `action`, if there is one.
pub fn form_csrf(html: &str, action: &str) -> Option<String> {
    let form = html.split(&format!("action=\"{action}\"")).nth(1)?;
    let form = form.split("</form>").next()?;
    form.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).map(str::to_string)
}

/// A response: status and JSON body (or the text as a JSON string for HTML).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
    pub headers: axum::http::HeaderMap,
}

impl Resp {
    /// The `location` header of a redirect.
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }
}

pub fn pg_admin_url() -> String {
    std::env::var("REFSHARE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl TestApp {
    pub async fn sqlite() -> Option<TestApp> {
        Self::sqlite_in(Environment::Test).await
    }

    pub async fn sqlite_in(env: Environment) -> Option<TestApp> {
        let path = std::env::temp_dir().join(format!("refshare-e2e-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Db::Sqlite(path);
        Some(Self::build(&url, db, env).await)
    }

    /// `None` (with a notice) when PostgreSQL is unreachable, unless
    /// `REFSHARE_REQUIRE_POSTGRES=1`, which turns that into a failure.
    pub async fn postgres() -> Option<TestApp> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let admin = pg_admin_url();
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("REFSHARE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                    panic!("PostgreSQL is required (REFSHARE_REQUIRE_POSTGRES=1) but unreachable at {admin}: {e}");
                }
                eprintln!("notice: skipping PostgreSQL end-to-end test, {admin} unreachable: {e}");
                return None;
            }
        };
        let name = format!("refshare_e2e_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).expect("admin URL has a database");
        let url = format!("{base}/{name}");
        let db = Db::Postgres { admin_url: admin, name };
        Some(Self::build(&url, db, Environment::Test).await)
    }

    async fn build(url: &str, db: Db, environment: Environment) -> TestApp {
        let start = chrono::DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").expect("valid").timestamp_millis();
        let clock = Arc::new(SteppingClock(AtomicI64::new(start)));
        let keys = Keyring::single(SecretKey::generate());
        let app = Self::open_app(url, environment, false, clock.clone(), keys.clone()).await.expect("app");
        TestApp {
            router: refshare_web::router(app.clone()),
            app,
            deliver_mail_after_requests: true,
            url: url.to_string(),
            clock,
            keys,
            jars: Mutex::default(),
            _db: db,
        }
    }

    async fn open_app(
        url: &str,
        environment: Environment,
        webhook_allow_loopback: bool,
        clock: Arc<SteppingClock>,
        keys: Keyring,
    ) -> Result<App, AppError> {
        let store = Store::open(url).await.expect("open store");
        let config = AppConfig {
            webhook_allow_loopback,
            secret_keys: Some(keys),
            ..AppConfig::new("http://refshare.test", environment, refshare_app::auth::hash_secret(ADMIN_TOKEN))
        };
        let app = App::new(store.clone(), config, clock).await;
        if app.is_err() {
            store.close().await;
        }
        app
    }

    /// Drops the App and builds a new one over the same database and clock, as a process
    /// restart would (the test-clock offset is reloaded from the database).
    #[allow(dead_code)]
    pub async fn restart(&mut self, environment: Environment, webhook_allow_loopback: bool) {
        let app = Self::open_app(&self.url, environment, webhook_allow_loopback, self.clock.clone(), self.keys.clone()).await.expect("app");
        self.app.store.close().await;
        self.router = refshare_web::router(app.clone());
        self.app = app;
    }

    /// Restarts with other secret keys (in `test`, webhooks may reach loopback); on failure
    /// the running App stays.
    #[allow(dead_code)]
    pub async fn restart_with_keys(&mut self, keys: Keyring) -> Result<(), AppError> {
        let app = Self::open_app(&self.url, Environment::Test, true, self.clock.clone(), keys.clone()).await?;
        self.app.store.close().await;
        self.router = refshare_web::router(app.clone());
        self.app = app;
        self.keys = keys;
        Ok(())
    }

    /// A second App over the same database, clock and keys, with its own router: another
    /// server process (on SQLite its own writer connection, on PostgreSQL its own pool).
    #[allow(dead_code)]
    pub async fn another_process(&self) -> (App, Router) {
        let app = Self::open_app(&self.url, Environment::Test, false, self.clock.clone(), self.keys.clone()).await.expect("app");
        (app.clone(), refshare_web::router(app))
    }

    /// Rebuilds the App over the same database and clock with a changed configuration.
    #[allow(dead_code)]
    pub async fn reconfigure(&mut self, change: impl FnOnce(&mut AppConfig)) {
        let mut config = (*self.app.config).clone();
        change(&mut config);
        let store = Store::open(&self.url).await.expect("open store");
        let app = App::new(store, config, self.clock.clone()).await.expect("app");
        self.app.store.close().await;
        self.router = refshare_web::router(app.clone());
        self.app = app;
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        if self.deliver_mail_after_requests {
            self.app.deliver_due_mail().await.expect("mail pass");
        }
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, body, text, headers }
    }

    /// A page request in a browser with the cookies of `jar` (which keeps what is set).
    /// Form `fields` make it a POST; `extra` headers are added.
    pub async fn browse(&self, jar: &mut Jar, path: &str, fields: Option<&[(&str, &str)]>, extra: &[(&str, &str)]) -> Resp {
        let mut b = Request::builder().uri(path);
        if let Some(cookie) = jar.header() {
            b = b.header("cookie", cookie);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let req = match fields {
            Some(fields) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    form.append_pair(k, v);
                }
                b.method("POST").header("content-type", "application/x-www-form-urlencoded").body(Body::from(form.finish()))
            }
            None => b.body(Body::empty()),
        }
        .expect("request");
        let r = self.send(req).await;
        jar.take(&r.headers);
        r
    }

    /// A JSON request with optional headers.
    pub async fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .expect("request");
        self.send(req).await
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        self.call(method, &format!("/admin-api/v1{path}"), &[("authorization", &auth)], body).await
    }

    pub async fn partner(&self, key: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call(method, &format!("/referral-api{path}"), &[("XApiKey", key)], body).await
    }

    pub async fn customer_key(&self, key: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call(method, &format!("/customer-api{path}"), &[("XApiKey", key)], body).await
    }

    pub async fn customer_bearer(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        let auth = format!("Bearer {token}");
        self.call(method, &format!("/customer-api{path}"), &[("authorization", &auth)], body).await
    }

    /// Creates a partner; returns (id, api key).
    pub async fn new_partner(&self, name: &str) -> (String, String) {
        let r = self
            .admin(
                "POST",
                "/partners",
                Some(json!({"companyName": name, "contactEmail": format!("{}@partners.test", name.to_lowercase())})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (r.body["id"].as_str().unwrap().into(), r.body["apiKey"].as_str().unwrap().into())
    }

    /// Collection partners covering GB/IE (15 % / 40 %) and DK/SE (20 % / 20 %).
    pub async fn collection_partners(&self) {
        for body in [
            json!({"name": "Britannia Collect", "countries": ["GB", "IE"], "successFeePercentage": 15, "platformSharePercentage": 40}),
            json!({"name": "Nordic Recovery", "countries": ["DK", "SE"], "successFeePercentage": 20, "platformSharePercentage": 20}),
        ] {
            let r = self.admin("POST", "/collection-partners", Some(body)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let r = self.admin("POST", "/fx-rates", Some(json!({"date": "2026-01-01", "rates": [{"currency": "GBP", "usdPerUnit": 1.25}, {"currency": "DKK", "usdPerUnit": 0.15}]}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    /// A client that signed up directly; returns (client id, its API key).
    pub async fn direct_client(&self, company: &str, email: &str) -> (String, String) {
        let r = self
            .admin("POST", "/clients", Some(json!({"companyName": company, "country": "GB", "supportEmail": email, "users": [{"name": "Owner Person", "email": email}], "onboardingDone": true})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (r.body["id"].as_str().unwrap().into(), r.body["apiKey"].as_str().unwrap().into())
    }

    pub async fn advance_days(&self, days: i64) {
        let r = self.admin("POST", "/test-clock/advance", Some(json!({"days": days}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    /// Registers a payment; returns the response body.
    pub async fn pay(&self, case_ref: &str, amount: &str, external_id: &str) -> Resp {
        let amount: Value = serde_json::from_str(amount).unwrap();
        self.admin("POST", &format!("/cases/{case_ref}/payments"), Some(json!({"amount": amount, "externalId": external_id}))).await
    }

    /// The partner's self-serve check.
    pub async fn check(&self, key: &str, case_ref: &str) -> Resp {
        self.partner(key, "GET", &format!("/attribution/cases/{case_ref}"), None).await
    }

    /// Submits a hosted consent form the way the client does: finds the mail in the
    /// notification log that carries `path` (the approval request or the onboarding
    /// invitation), signs in as its recipient through the page's sign-in form and the
    /// mailed link (a cookie jar, kept per recipient and re-used while its session lives),
    /// then reads the page and posts the fields with the session's CSRF token.
    pub async fn submit_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let to = self.consent_mail_recipient(path).await;
        let mut jar = self.jars.lock().unwrap().get(&to).cloned().unwrap_or_default();
        let mut page = self.browse(&mut jar, path, None, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        if form_csrf(&page.text, path).is_none() {
            self.sign_in_from_page(&mut jar, path, &to).await;
            page = self.browse(&mut jar, path, None, &[]).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        }
        let csrf = form_csrf(&page.text, path).unwrap_or_else(|| panic!("no form to {path} after signing in as {to}: {}", page.text));
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let r = self.browse(&mut jar, path, Some(&all), &[("user-agent", "refshare-tests")]).await;
        self.jars.lock().unwrap().insert(to, jar);
        r
    }

    /// The recipient of the approval request or onboarding invitation mail carrying `path`.
    pub async fn consent_mail_recipient(&self, path: &str) -> String {
        let url = format!("http://refshare.test{path}");
        for kind in ["link_approval_request", "onboarding_invitation"] {
            let r = self.admin("GET", &format!("/notifications?kind={kind}"), None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let found = r.body["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["body"].as_str().unwrap_or_default().split_whitespace().any(|w| w == url));
            if let Some(n) = found {
                return n["to"].as_str().unwrap().to_string();
            }
        }
        panic!("no approval or invitation mail carries {path}");
    }

    /// The link path and the code of the newest sign-in mail to `to`.
    pub async fn latest_signin_mail(&self, to: &str) -> (String, String) {
        let r = self.admin("GET", &format!("/notifications?to={to}&kind=sign_in"), None).await;
        let body = r.body["notifications"][0]["body"].as_str().unwrap_or_else(|| panic!("no sign-in mail to {to}: {}", r.text)).to_string();
        let link = body.split("http://refshare.test").nth(1).and_then(|s| s.split_whitespace().next()).expect("a link").to_string();
        let code = body.split("code on the sign-in page: ").nth(1).and_then(|s| s.split_whitespace().next()).expect("a code").to_string();
        (link, code)
    }

    /// Signs the browser in as `email` from the consent page `path`: its sign-in form, the
    /// mailed link's confirm button, and back to the page.
    pub async fn sign_in_from_page(&self, jar: &mut Jar, path: &str, email: &str) {
        let page = self.browse(jar, path, None, &[]).await;
        let action = format!("{path}/sign-in");
        let csrf = form_csrf(&page.text, &action).unwrap_or_else(|| panic!("no sign-in form on {path}: {}", page.text));
        let sent = self.browse(jar, &action, Some(&[("csrf", &csrf), ("email", email)]), &[]).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
        let (link, _) = self.latest_signin_mail(email).await;
        let confirm = self.browse(jar, &link, None, &[]).await;
        assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text);
        let csrf = form_csrf(&confirm.text, &link).expect("the confirm button's form");
        let done = self.browse(jar, &link, Some(&[("csrf", &csrf)]), &[]).await;
        assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, Some(path)), "{}", done.text);
    }
}

/// The path part of a URL handed out by the service.
pub fn path_of(url: &str) -> String {
    url.strip_prefix("http://refshare.test").unwrap_or(url).to_string()
}

/// A valid case body.
pub fn case_body(creditor_ref: &str, amount: &str, currency: &str, country: &str) -> Value {
    json!({
        "currencyCode": currency,
        "amountToRecover": serde_json::from_str::<Value>(amount).unwrap(),
        "creditorReference": creditor_ref,
        "debtor": {"type": "Company", "name": format!("Debtor of {creditor_ref}"), "countryAlpha2": country},
    })
}

/// A `POST /clients` body.
pub fn client_body(tenant: &str, company: &str, email: &str, cases: Vec<Value>) -> Value {
    json!({
        "externalTenantId": tenant,
        "client": {"name": company, "country": "GB", "supportEmail": email},
        "users": [{"name": "Onboarding User", "email": email, "isOnboardingUser": true}],
        "cases": cases,
    })
}

/// Generates `sqlite` and `postgres` tests from one scenario.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    if let Some(t) = $crate::harness::TestApp::sqlite().await {
                        super::$name(t).await;
                    }
                }
                #[tokio::test]
                async fn postgres() {
                    if let Some(t) = $crate::harness::TestApp::postgres().await {
                        super::$name(t).await;
                    }
                }
            }
        )*
    };
}

/// An exact decimal JSON number, as the service writes money (`dec("30.00")`).
pub fn dec(s: &str) -> Value {
    serde_json::from_str(s).expect("a JSON number")
}
