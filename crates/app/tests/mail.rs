//! E-mail goes through SMTP when configured: a minimal SMTP server written here receives
//! the approval e-mail of a link request; with the server gone the notification is marked
//! `failed` with the error, and without SMTP it stays readable in the outbox.

use std::sync::{Arc, Mutex};

use refshare_app::clients::{CreateClientInput, DirectClientInput};
use refshare_app::{App, AppConfig, AppError, ClientError, Environment, SystemClock};
use refshare_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Accepts SMTP sessions and records each message's DATA.
async fn fake_smtp() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            store.lock().unwrap().push(data.take().unwrap());
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

async fn app_with(smtp_url: Option<String>) -> (App, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("refshare-mail-{}.db", uuid::Uuid::new_v4().simple()));
    let store = Store::open(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    let config = AppConfig {
        public_url: "http://refshare.test".into(),
        environment: Environment::Test,
        admin_token_hash: String::new(),
        smtp_url,
        case_prefix: "DEB-".into(),
        dispute_window_days: 30,
        cp_invoicing_day: 8,
        payment_terms_business_days: 10,
        metrics_token_hash: None,
        webhook_allow_loopback: false,
        secret_keys: Some(refshare_app::seal::Keyring::single(refshare_app::seal::SecretKey::generate())),
    };
    (App::new(store, config, Arc::new(SystemClock)).await.unwrap(), path)
}

/// Creates the situation that sends an approval e-mail; returns the approval URL.
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

async fn approval_mail_status(app: &App) -> (String, Option<String>) {
    let mut tx = app.store.begin().await.unwrap();
    let n = tx.notifications(Some("siri@solvik.test"), Some("link_approval_request"), 10).await.unwrap();
    assert_eq!(n.len(), 1);
    (n[0].status.clone(), n[0].error.clone())
}

#[tokio::test]
async fn approval_email_is_delivered_over_smtp() {
    let (port, received) = fake_smtp().await;
    let (app, path) = app_with(Some(format!("smtp://127.0.0.1:{port}"))).await;
    let url = request_link(&app).await;
    assert_eq!(approval_mail_status(&app).await, ("sent".to_string(), None));
    let mails = received.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: siri@solvik.test"), "{}", mails[0]);
    // Undo quoted-printable soft line breaks before looking for the URL.
    let body = mails[0].replace("=\n", "").replace("=3D", "=");
    assert!(body.contains(&url), "the e-mail carries the approval URL: {}", mails[0]);
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn unreachable_smtp_marks_the_notification_failed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, path) = app_with(Some(format!("smtp://127.0.0.1:{port}"))).await;
    request_link(&app).await;
    let (status, error) = approval_mail_status(&app).await;
    assert_eq!(status, "failed");
    assert!(error.is_some_and(|e| !e.is_empty()));
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn without_smtp_mail_stays_in_the_outbox() {
    let (app, path) = app_with(None).await;
    request_link(&app).await;
    assert_eq!(approval_mail_status(&app).await, ("outbox".to_string(), None));
    let _ = std::fs::remove_file(path);
}
