//! The `refshare` binary: `serve` (optionally with `--demo` data), `migrate`, and
//! `reconcile` (prove the ledger, earnings and reporting agree; exit 1 if not).

mod config;
mod demo;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use refshare_app::{App, AppConfig, SystemClock};
use refshare_store::Store;

#[derive(Parser)]
#[command(name = "refshare", version, about = "Referral-partner program for a debt-collection marketplace")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(config::ServeArgs),
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long, env = "REFSHARE_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Check that ledger entries, earnings and the reporting summary agree to the cent.
    Reconcile {
        #[arg(long, env = "REFSHARE_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()))
        .init();
    match Cli::parse().command {
        Command::Migrate { database_url } => {
            Store::open(&database_url).await.context("migrating the database")?;
            println!("database is up to date");
            Ok(())
        }
        Command::Serve(args) => serve(args).await,
        Command::Reconcile { database_url } => reconcile(&database_url).await,
    }
}

async fn reconcile(database_url: &str) -> anyhow::Result<()> {
    let store = Store::open(database_url).await.with_context(|| format!("opening the database ({})", redact(database_url)))?;
    let config = AppConfig {
        public_url: "http://localhost".into(),
        environment: refshare_app::Environment::Production,
        admin_token_hash: String::new(),
        smtp_url: None,
        smtp_ca_file: None,
        case_prefix: "DEB-".into(),
        dispute_window_days: 30,
        cp_invoicing_day: refshare_app::revenue::DEFAULT_CP_INVOICING_DAY,
        payment_terms_business_days: 10,
        metrics_token_hash: None,
        webhook_allow_loopback: false,
    };
    let app = App::new(store.clone(), config, Arc::new(SystemClock)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome = app.reconcile().await;
    store.close().await;
    match outcome {
        Ok(r) => {
            println!("ok: {} ledger entries, {} earnings, {} partners agree to the cent", r.entries, r.earnings, r.partners);
            Ok(())
        }
        Err(refshare_app::AppError::Conflict { message, .. }) => {
            eprintln!("discrepancy: {message}");
            std::process::exit(1);
        }
        Err(e) => Err(anyhow::anyhow!("reconciliation failed: {e}")),
    }
}

async fn serve(args: config::ServeArgs) -> anyhow::Result<()> {
    let settings = match args.check() {
        Ok(s) => s,
        Err(message) => {
            eprintln!("refshare: configuration error: {message}");
            std::process::exit(2);
        }
    };
    if settings.demo {
        demo::reset_database(&settings.database_url)?;
    }
    let store = Store::open(&settings.database_url)
        .await
        .with_context(|| format!("opening the database (REFSHARE_DATABASE_URL={})", redact(&settings.database_url)))?;
    let config = AppConfig {
        public_url: settings.public_url.clone(),
        environment: settings.environment,
        admin_token_hash: refshare_app::auth::hash_secret(&settings.admin_token),
        smtp_url: settings.smtp_url.clone(),
        smtp_ca_file: settings.smtp_ca_file.clone(),
        case_prefix: settings.case_prefix.clone(),
        dispute_window_days: settings.dispute_window_days,
        cp_invoicing_day: settings.cp_invoicing_day,
        payment_terms_business_days: settings.payment_terms_business_days,
        metrics_token_hash: settings.metrics_token.as_deref().map(refshare_app::auth::hash_secret),
        webhook_allow_loopback: settings.webhook_allow_loopback,
    };
    let app = App::new(store.clone(), config, Arc::new(SystemClock)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if settings.demo {
        let seeded = demo::seed(&app).await.map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?;
        demo::print(&settings, &seeded);
    } else if settings.admin_token_generated {
        println!("Operator token (set REFSHARE_ADMIN_TOKEN to keep it across restarts): {}", settings.admin_token);
    }

    let jobs = tokio::spawn(background_jobs(app.clone()));
    let webhooks = tokio::spawn(webhook_job(app.clone()));
    let mail = tokio::spawn(mail_job(app.clone()));
    let listener =
        tokio::net::TcpListener::bind(settings.listen).await.with_context(|| format!("binding REFSHARE_LISTEN={}", settings.listen))?;
    tracing::info!(listen = %settings.listen, public_url = %settings.public_url, environment = ?settings.environment, "refshare is ready");
    axum::serve(listener, refshare_web::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    jobs.abort();
    // A delivery cut off here is still claimed in the database and is retried when its
    // lease ends, with the same event id.
    webhooks.abort();
    // Likewise an e-mail cut off mid-send is retried when its claim's lease ends.
    mail.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Periodic work: record expired link requests (their e-mail goes through the mail loop),
/// run the monthly CP invoicing when due.
async fn background_jobs(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = app.expire_link_requests().await {
            tracing::warn!(error = %e, "link-request expiry job failed");
        }
        match app.run_due_cp_invoicing().await {
            Ok(Some(period)) => tracing::info!(%period, "collection-partner invoicing run done"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "collection-partner invoicing job failed"),
        }
    }
}

/// How often due webhook deliveries are sent.
const WEBHOOK_INTERVAL: Duration = Duration::from_secs(5);

/// Periodic work: send due webhook deliveries (SPEC §9).
async fn webhook_job(app: App) {
    let mut tick = tokio::time::interval(WEBHOOK_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app.deliver_webhooks().await {
            Ok(r) if r.attempted > 0 => tracing::info!(
                attempted = r.attempted,
                delivered = r.delivered,
                retrying = r.retrying,
                failed = r.failed,
                disabled = r.subscriptions_disabled,
                "webhook deliveries"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook delivery job failed"),
        }
    }
}

/// How often due e-mail is looked for when no commit woke the mail loop.
const MAIL_INTERVAL: Duration = Duration::from_secs(5);

/// Sends due e-mail (queued by use cases, or due for a retry), woken right after a
/// commit that queued mail and every few seconds otherwise. Mail never rides on a request.
async fn mail_job(app: App) {
    loop {
        match app.deliver_due_mail().await {
            Ok(r) if r.claimed > 0 => {
                tracing::info!(sent = r.sent, outbox = r.outbox, retrying = r.retrying, failed = r.failed, "e-mail delivery")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "e-mail delivery job failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(MAIL_INTERVAL) => {}
            _ = app.mailer_woken() => {}
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
