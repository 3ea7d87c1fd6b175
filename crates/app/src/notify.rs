//! E-mail notifications (SPEC §9). Use cases only enqueue: [`enqueue`] writes a `queued`
//! row in the use case's own transaction, so the mail exists exactly when the change
//! does, and no request waits for (or fails because of) an SMTP server.
//!
//! The mailer, [`App::deliver_due_mail`], runs off the request path (the server's mail
//! loop; the test harness after each request). It claims due rows with a lease, so
//! several processes on one database never send the same row twice while the lease
//! holds, and settles each one:
//! - no SMTP configured: `outbox` (kept readable, never sent, no `sent_at`);
//! - accepted by the SMTP server: `sent` with `sent_at`;
//! - refused or unreachable: retried after [`retry_delay_ms`] (1 min doubling, by the
//!   Clock); after [`MAX_ATTEMPTS`] attempts, or at once on a permanent (5xx) refusal or
//!   an unusable address, `failed` with the error.
//!
//! SMTP URLs: `smtp://` (plain), `smtp://…?tls=required` (STARTTLS, refused if the server
//! does not offer it) and `smtps://` (implicit TLS), through lettre with rustls.

use std::path::Path;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use refshare_store::{NotificationRecord, Tx};
use uuid::Uuid;

use crate::error::error_chain;
use crate::{App, AppError};

/// Sender address of every e-mail; its display name is the configured platform's name.
pub const FROM_ADDRESS: &str = "no-reply@refshare.local";

/// Notification kinds.
pub mod kind {
    pub const LINK_APPROVAL_REQUEST: &str = "link_approval_request";
    pub const LINK_APPROVED: &str = "link_approved";
    pub const LINK_DECLINED: &str = "link_declined";
    pub const LINK_EXPIRED: &str = "link_expired";
    pub const ONBOARDING_INVITATION: &str = "onboarding_invitation";
    /// A partner user was added by an operator (issue 8).
    pub const PARTNER_USER_INVITATION: &str = "partner_user_invitation";
}

/// Notification statuses.
pub mod status {
    /// Waiting for the mailer (or claimed by one until `next_attempt_at`).
    pub const QUEUED: &str = "queued";
    /// Accepted by the SMTP server at `sent_at`.
    pub const SENT: &str = "sent";
    /// No SMTP server configured: stored for reading only.
    pub const OUTBOX: &str = "outbox";
    /// Given up; `error` says why.
    pub const FAILED: &str = "failed";
}

/// SMTP attempts per e-mail, the first included.
pub const MAX_ATTEMPTS: i64 = 8;
/// Wait after the first failed attempt; each further failure doubles it.
pub const FIRST_RETRY_MS: i64 = 60_000;
/// E-mails claimed per batch.
const BATCH: u32 = 5;
/// Batches per pass, so one pass ends even when the queue keeps filling.
const MAX_BATCHES: usize = 20;
/// Timeout of each SMTP command.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on one whole send (connect, TLS, dialogue).
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a claimed batch is reserved: longer than a batch of sends can take.
const LEASE_MS: i64 = 2 * BATCH as i64 * SEND_TIMEOUT.as_millis() as i64;

/// The wait before the next attempt after `attempts` failed ones (1 min, 2, 4, … 64 min:
/// eight attempts span about two hours).
pub fn retry_delay_ms(attempts: i64) -> i64 {
    FIRST_RETRY_MS << (attempts - 1).clamp(0, 20)
}

/// The most mails `/dev/mail` lists.
pub const OUTBOX_PAGE_MAX: u32 = 100;

impl App {
    /// The test environment's outbox (`/dev/mail`): the newest mails, optionally to one
    /// address, as queued (their links readable, as in `test` they are). In `production`
    /// there is no such outbox: not found.
    pub async fn test_outbox(&self, to: Option<&str>) -> Result<Vec<NotificationRecord>, AppError> {
        if self.config.environment != crate::Environment::Test {
            return Err(AppError::NotFound("page"));
        }
        let mut tx = self.store.read().await?;
        Ok(tx.notifications(to, None, OUTBOX_PAGE_MAX).await?)
    }
}

/// Queues an e-mail inside `tx`; it is due at once.
pub async fn enqueue(
    tx: &mut Tx,
    app: &App,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
    related_id: Option<String>,
) -> Result<(), AppError> {
    insert(tx, app, Uuid::new_v4(), kind, to, subject, body, related_id, None).await
}

/// Queues an e-mail that carries a secret. In `production` the stored `body` is
/// `masked_body` and the real text is kept sealed (`sealed_body`) until the mailer has
/// settled the mail; in `test` the body stays readable (how integrators sign in).
pub async fn enqueue_secret(
    tx: &mut Tx,
    app: &App,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
    masked_body: String,
) -> Result<(), AppError> {
    enqueue_secret_related(tx, app, kind, to, subject, body, masked_body, None).await
}

/// [`enqueue_secret`] with the id of what the mail is about.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue_secret_related(
    tx: &mut Tx,
    app: &App,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
    masked_body: String,
    related_id: Option<String>,
) -> Result<(), AppError> {
    let id = Uuid::new_v4();
    match app.config.environment {
        crate::Environment::Test => insert(tx, app, id, kind, to, subject, body, related_id, None).await,
        crate::Environment::Production => {
            let sealed = app.keyring()?.seal(&sealed_place(id), body.as_bytes());
            insert(tx, app, id, kind, to, subject, masked_body, related_id, Some(sealed)).await
        }
    }
}

/// The associated data a sealed mail body is bound to (its row).
fn sealed_place(id: Uuid) -> String {
    format!("notification:{id}")
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Tx,
    app: &App,
    id: Uuid,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
    related_id: Option<String>,
    sealed_body: Option<String>,
) -> Result<(), AppError> {
    let now = app.now();
    tx.insert_notification(&NotificationRecord {
        id,
        kind: kind.into(),
        to_addr: to.into(),
        subject: subject.into(),
        body,
        related_id,
        status: status::QUEUED.into(),
        error: None,
        created_at: now,
        sent_at: None,
        attempts: 0,
        next_attempt_at: Some(now),
        sealed_body,
    })
    .await?;
    Ok(())
}

/// What one pass of [`App::deliver_due_mail`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailReport {
    pub claimed: usize,
    pub sent: usize,
    pub outbox: usize,
    /// Failed attempts that will be retried.
    pub retrying: usize,
    /// E-mails given up on.
    pub failed: usize,
}

/// Why one attempt did not send.
struct Failure {
    message: String,
    /// Retrying cannot help (a 5xx refusal, an address that does not parse).
    permanent: bool,
}

impl Failure {
    fn transient(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), permanent: false }
    }
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

impl App {
    /// Tells the mail loop that a committed change queued mail, so it need not wait for
    /// its next tick. Cheap; does nothing when no loop runs.
    pub fn wake_mailer(&self) {
        self.mail_wake.notify_one();
    }

    /// Resolves when [`App::wake_mailer`] was called since the last wait.
    pub async fn mailer_woken(&self) {
        self.mail_wake.notified().await;
    }

    /// Sends (or moves to the outbox) every due e-mail; safe to call anytime, from any
    /// number of processes. Errors are the database's; SMTP failures are recorded on the
    /// rows and retried.
    pub async fn deliver_due_mail(&self) -> Result<MailReport, AppError> {
        let mut report = MailReport::default();
        let mut transport: Option<Result<Transport, String>> = None;
        for _ in 0..MAX_BATCHES {
            let now = self.now();
            let lease = now + chrono::Duration::milliseconds(LEASE_MS);
            let mut tx = self.store.begin().await?;
            let claimed = tx.claim_due_notifications(now, lease, BATCH).await?;
            tx.commit().await?;
            let n = claimed.len();
            report.claimed += n;
            for mail in claimed {
                self.deliver_mail(mail, lease, &mut transport, &mut report).await?;
            }
            if n < BATCH as usize {
                break;
            }
        }
        Ok(report)
    }

    async fn deliver_mail(
        &self,
        mut n: NotificationRecord,
        claimed_until: refshare_core::Instant,
        transport: &mut Option<Result<Transport, String>>,
        report: &mut MailReport,
    ) -> Result<(), AppError> {
        let outcome = match &self.config.smtp_url {
            None => None,
            Some(url) => {
                let t = transport.get_or_insert_with(|| smtp_transport(url, self.config.smtp_ca_file.as_deref()));
                // A masked mail is sent with its real text, opened only here.
                let body = match &n.sealed_body {
                    None => Ok(n.body.clone()),
                    Some(sealed) => self
                        .keyring()
                        .map_err(|e| e.to_string())
                        .and_then(|k| k.open(&sealed_place(n.id), sealed, "mail body").map_err(|e| e.to_string()))
                        .map(|o| String::from_utf8_lossy(&o.plaintext).into_owned()),
                };
                Some(match (t, body) {
                    (_, Err(e)) => Err(Failure { message: format!("the sealed mail body cannot be opened: {e}"), permanent: true }),
                    (Ok(t), Ok(body)) => match tokio::time::timeout(SEND_TIMEOUT, send(t, &self.platform().name, &n, body)).await {
                        Ok(r) => r,
                        Err(_) => Err(Failure::transient(format!("no answer within {} s", SEND_TIMEOUT.as_secs()))),
                    },
                    (Err(e), Ok(_)) => Err(Failure::transient(e.clone())),
                })
            }
        };
        let at = self.now();
        match outcome {
            None => {
                n.status = status::OUTBOX.into();
                n.next_attempt_at = None;
                report.outbox += 1;
            }
            Some(Ok(())) => {
                n.attempts += 1;
                n.status = status::SENT.into();
                n.sent_at = Some(at);
                n.error = None;
                n.next_attempt_at = None;
                report.sent += 1;
            }
            Some(Err(f)) => {
                n.attempts += 1;
                tracing::warn!(notification = %n.id, attempt = n.attempts, error = %f.message, "e-mail delivery failed");
                n.error = Some(f.message);
                if f.permanent || n.attempts >= MAX_ATTEMPTS {
                    n.status = status::FAILED.into();
                    n.next_attempt_at = None;
                    report.failed += 1;
                } else {
                    n.next_attempt_at = Some(at + chrono::Duration::milliseconds(retry_delay_ms(n.attempts)));
                    report.retrying += 1;
                }
            }
        }
        if n.status != status::QUEUED {
            // Settled for good: the secret is not kept.
            n.sealed_body = None;
        }
        let mut tx = self.store.begin().await?;
        if !tx.settle_notification(&n, claimed_until).await? {
            tracing::warn!(notification = %n.id, "e-mail claim expired before it was settled; another mailer owns it now");
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn send(transport: &Transport, sender_name: &str, n: &NotificationRecord, body: String) -> Result<(), Failure> {
    let permanent = |message: String| Failure { message, permanent: true };
    let from = Mailbox::new(Some(sender_name.to_string()), FROM_ADDRESS.parse().map_err(|e| permanent(format!("bad sender: {e}")))?);
    let to: Mailbox = n.to_addr.parse().map_err(|e| permanent(format!("bad recipient: {e}")))?;
    let msg = Message::builder().from(from).to(to).subject(n.subject.clone()).body(body).map_err(|e| permanent(e.to_string()))?;
    transport.send(msg).await.map(|_| ()).map_err(|e| Failure { permanent: e.is_permanent(), message: error_chain(&e) })
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: no encryption (a local relay or a development catcher).
    Plain,
    /// `smtp://…?tls=required`: STARTTLS, and no mail if the server does not offer it.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
}

/// Checks an SMTP URL (the forms of the module header) and says how it is secured.
pub fn smtp_security(url: &str) -> Result<SmtpSecurity, String> {
    let u = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if u.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    let mut tls = None;
    for (k, v) in u.query_pairs() {
        match k.as_ref() {
            "tls" if tls.is_none() => tls = Some(v.into_owned()),
            other => return Err(format!("unsupported URL parameter `{other}`: only tls=required is known")),
        }
    }
    match (u.scheme(), tls.as_deref()) {
        ("smtp", None) => Ok(SmtpSecurity::Plain),
        ("smtp", Some("required")) => Ok(SmtpSecurity::StartTls),
        ("smtp", Some(v)) => Err(format!("tls={v} is not supported: use tls=required (STARTTLS) or smtps:// (implicit TLS)")),
        ("smtps", None) => Ok(SmtpSecurity::ImplicitTls),
        ("smtps", Some(_)) => Err("smtps:// is TLS already and takes no tls parameter".into()),
        (scheme, _) => Err(format!("unsupported scheme `{scheme}`: use smtp://, smtp://…?tls=required or smtps://")),
    }
}

/// Checks an SMTP URL at start-up, so bad configuration fails early.
pub fn check_smtp_url(url: &str) -> Result<(), String> {
    smtp_transport(url, None).map(|_| ())
}

/// Checks the CA file that the SMTP server's certificate is verified with (besides the
/// public roots): readable, holding a PEM certificate, and used by a TLS URL.
pub fn check_smtp_ca_file(path: &Path, url: Option<&str>) -> Result<(), String> {
    match url.map(smtp_security) {
        None => return Err("set only with an SMTP URL (REFSHARE_SMTP_URL)".into()),
        Some(Ok(SmtpSecurity::Plain)) => {
            return Err("the SMTP URL uses no TLS: use smtps:// or smtp://…?tls=required, or drop the CA file".into())
        }
        Some(_) => {}
    }
    root_certificate(path).map(|_| ())
}

fn root_certificate(path: &Path) -> Result<Certificate, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(format!("`{}` holds no PEM certificate", path.display()));
    }
    Certificate::from_pem(&pem).map_err(|e| format!("`{}` is not a usable PEM certificate: {e}", path.display()))
}

/// Builds a transport from the URL (lettre's `from_url`: credentials, default ports 25 /
/// 587 / 465, EHLO name from the path), trusting `ca_file` in addition to the public
/// roots when given.
fn smtp_transport(url: &str, ca_file: Option<&Path>) -> Result<Transport, String> {
    let security = smtp_security(url)?;
    let mut builder = Transport::from_url(url).map_err(|e| format!("bad SMTP URL: {e}"))?;
    if let (Some(path), SmtpSecurity::StartTls | SmtpSecurity::ImplicitTls) = (ca_file, security) {
        let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        let params = TlsParameters::builder(host)
            .add_root_certificate(root_certificate(path)?)
            .build_rustls()
            .map_err(|e| format!("TLS settings: {e}"))?;
        builder = builder.tls(match security {
            SmtpSecurity::ImplicitTls => Tls::Wrapper(params),
            _ => Tls::Required(params),
        });
    }
    Ok(builder.timeout(Some(SMTP_TIMEOUT)).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_one_minute_doubling() {
        let waits: Vec<i64> = (1..MAX_ATTEMPTS).map(|a| retry_delay_ms(a) / 60_000).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 64]);
    }

    #[test]
    fn smtp_urls_say_how_they_are_secured() {
        for (url, want) in [
            ("smtp://relay.local", Ok(SmtpSecurity::Plain)),
            ("smtp://u:p@relay.local:2525", Ok(SmtpSecurity::Plain)),
            ("smtp://u:p@mail.example:587?tls=required", Ok(SmtpSecurity::StartTls)),
            ("smtps://u:p@mail.example", Ok(SmtpSecurity::ImplicitTls)),
        ] {
            assert_eq!(smtp_security(url), want, "{url}");
            assert!(check_smtp_url(url).is_ok(), "{url}");
        }
        for url in [
            "http://mail.example",
            "smtp://mail.example?tls=opportunistic",
            "smtp://mail.example?tls=require",
            "smtp://mail.example?starttls=1",
            "smtps://mail.example?tls=required",
            "smtp://",
            "not a url",
        ] {
            assert!(check_smtp_url(url).is_err(), "{url} is refused");
        }
    }

    #[test]
    fn a_ca_file_needs_a_tls_url_and_a_certificate() {
        let dir = std::env::temp_dir();
        let empty = dir.join(format!("refshare-ca-{}.pem", Uuid::new_v4().simple()));
        std::fs::write(&empty, "not a certificate").unwrap();
        assert!(check_smtp_ca_file(&empty, Some("smtps://mail.example")).unwrap_err().contains("no PEM certificate"));
        assert!(check_smtp_ca_file(&empty, Some("smtp://mail.example")).unwrap_err().contains("no TLS"));
        assert!(check_smtp_ca_file(&empty, None).is_err());
        assert!(check_smtp_ca_file(&dir.join("refshare-missing.pem"), Some("smtps://mail.example")).unwrap_err().contains("cannot read"));
        let _ = std::fs::remove_file(empty);
    }
}
