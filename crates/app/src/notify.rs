//! E-mail notifications (SPEC §9). A notification is written in the same transaction as
//! the change it announces (status `queued`) and delivered after commit: over SMTP when
//! configured (`sent` / `failed` with the error), otherwise kept in the readable outbox
//! (`outbox`). Either way support can answer "was the approval e-mail sent?".

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use refshare_store::{NotificationRecord, Tx};
use uuid::Uuid;

use crate::{App, AppError};

/// Sender address of every e-mail.
pub const FROM: &str = "refshare <no-reply@refshare.local>";

/// Notification kinds.
pub mod kind {
    pub const LINK_APPROVAL_REQUEST: &str = "link_approval_request";
    pub const LINK_APPROVED: &str = "link_approved";
    pub const LINK_DECLINED: &str = "link_declined";
    pub const LINK_EXPIRED: &str = "link_expired";
    pub const ONBOARDING_INVITATION: &str = "onboarding_invitation";
}

/// Queues an e-mail inside `tx`.
pub async fn enqueue(
    tx: &mut Tx,
    app: &App,
    kind: &str,
    to: &str,
    subject: &str,
    body: String,
    related_id: Option<String>,
) -> Result<(), AppError> {
    tx.insert_notification(&NotificationRecord {
        id: Uuid::new_v4(),
        kind: kind.into(),
        to_addr: to.into(),
        subject: subject.into(),
        body,
        related_id,
        status: "queued".into(),
        error: None,
        created_at: app.now(),
        sent_at: None,
    })
    .await?;
    Ok(())
}

impl App {
    /// Delivers every queued notification. Called after commits; safe to call anytime.
    pub async fn deliver_notifications(&self) -> Result<(), AppError> {
        let queued = self.store.begin().await?.queued_notifications().await?;
        for n in queued {
            let (status, error) = match &self.config.smtp_url {
                None => ("outbox", None),
                Some(url) => match send_smtp(url, &n).await {
                    Ok(()) => ("sent", None),
                    Err(e) => {
                        tracing::warn!(notification = %n.id, error = %e, "e-mail delivery failed");
                        ("failed", Some(e))
                    }
                },
            };
            let mut tx = self.store.begin().await?;
            tx.set_notification_status(n.id, status, error.as_deref(), Some(self.now())).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

async fn send_smtp(url: &str, n: &NotificationRecord) -> Result<(), String> {
    let to: Mailbox = n.to_addr.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let msg = Message::builder()
        .from(FROM.parse().map_err(|e| format!("bad sender: {e}"))?)
        .to(to)
        .subject(n.subject.clone())
        .body(n.body.clone())
        .map_err(|e| e.to_string())?;
    let transport = smtp_transport(url)?;
    transport.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
}

/// Builds a transport from `smtp://[user:pass@]host[:port]`. Plain SMTP only: meant for
/// a local relay or a development catcher (TLS relays are a documented gap).
fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let u = url::Url::parse(url).map_err(|e| format!("bad SMTP URL: {e}"))?;
    if u.scheme() != "smtp" {
        return Err(format!("unsupported SMTP URL scheme `{}`: use smtp://", u.scheme()));
    }
    let host = u.host_str().ok_or("SMTP URL has no host")?.to_string();
    let mut b =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(u.port().unwrap_or(25)).timeout(Some(Duration::from_secs(10)));
    if !u.username().is_empty() {
        b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
            u.username().to_string(),
            u.password().unwrap_or("").to_string(),
        ));
    }
    Ok(b.build())
}

/// Checks an SMTP URL at start-up, so bad configuration fails early.
pub fn check_smtp_url(url: &str) -> Result<(), String> {
    smtp_transport(url).map(|_| ())
}
