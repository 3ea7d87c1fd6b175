//! The `refshare` binary: `serve` (optionally with `--demo` data), `migrate`,
//! `reconcile` (prove the ledger, earnings and reporting agree; exit 1 if not), and
//! `operator add` (the first operator of a fresh install), `seed` (a synthetic
//! platform for benchmarks and demos) and `bench` (the benchmark harness, on seed data).
//!
//! Start-up failures (a bad setting, a port in use, an unreachable database, a schema
//! from a newer binary, a missing database for an admin command) end the process with
//! exit code 2 and one line on stderr naming the setting and the cause: never a panic or
//! a backtrace. Only `serve` and `migrate` create or upgrade a database.

mod bench;
mod config;
mod demo;
mod secret_key;
mod seed;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use refshare_app::{App, AppConfig, SystemClock};
use refshare_store::{OpenOptions, Store, StoreError};

#[derive(Parser)]
#[command(name = "refshare", version, about = "Referral-partner program for a debt-collection marketplace")]
struct Cli {
    /// Log lines as `text` (colours only on a terminal) or `json` (one object per line).
    #[arg(long, env = "REFSHARE_LOG_FORMAT", global = true)]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(config::ServeArgs),
    /// Create the database if needed, apply its migrations, and exit.
    Migrate {
        #[arg(long, env = "REFSHARE_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Check that ledger entries, earnings and the reporting summary agree to the cent
    /// (on an existing, migrated database; never creates one).
    Reconcile {
        #[arg(long, env = "REFSHARE_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Write a synthetic platform (partners, clients, cases, payments) into a fresh
    /// database, for benchmarks and demos; the last stdout line is a JSON summary.
    Seed(seed::SeedArgs),
    /// Benchmark the read path and ingestion on a seeded database, each figure beside a
    /// limit measured in the same run; WRITES payments into that database (use a copy).
    Bench(bench::BenchArgs),
    /// Platform staff (on an existing, migrated database; never creates one).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator (status `invited`) and print it: exit 1 if an operator already has
    /// this e-mail, 2 on bad input.
    Add {
        /// The operator's e-mail address (unique among operators, any case).
        email: String,
        /// Display name; defaults to the part of the address before `@`.
        #[arg(long)]
        name: Option<String>,
        /// `admin` (the default here: the first operator adds the others) or `viewer`.
        #[arg(long)]
        role: Option<String>,
        #[arg(long, env = "REFSHARE_DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

/// Why the process stops early: an exit code and one line for stderr.
struct Exit {
    code: u8,
    line: String,
}

impl Exit {
    /// A start-up failure (exit 2).
    fn startup(line: impl Into<String>) -> Exit {
        Exit { code: 2, line: line.into() }
    }
}

/// An error for the log or the terminal: an internal error with its whole source chain.
fn described(e: &refshare_app::AppError) -> String {
    match e {
        refshare_app::AppError::Internal(cause) => cause.chain(),
        other => other.to_string(),
    }
}

/// The database setting and why it cannot be used (the URL never shows its password).
fn database_failure(e: StoreError) -> Exit {
    let hint = match &e {
        StoreError::Missing(_) => " (admin commands never create a database: start `refshare serve` or run `refshare migrate` first)",
        StoreError::SchemaTooNew(_) => " (run the newer refshare binary that migrated it)",
        _ => "",
    };
    Exit::startup(format!("REFSHARE_DATABASE_URL / --database-url: {e}{hint}"))
}

/// mimalloc rather than glibc's malloc: per-thread heaps, no arena lock between the
/// runtime's threads and the database driver's (see `Cargo.toml`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match config::LogFormat::parse(cli.log_format.as_deref()) {
        Ok(f) => f,
        Err(message) => return stop(Exit::startup(format!("configuration error: {message}"))),
    };
    // A seed's statements are large by design: sqlx's slow-statement warnings would only
    // repeat them. The bench prints its table on stdout: only warnings go beside it.
    let default_filter = match cli.command {
        Command::Seed(_) => "info,sqlx=error",
        Command::Bench(_) => "warn,sqlx=error",
        _ => "info,sqlx=warn,tower_http=info",
    };
    init_logging(format, default_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return stop(Exit::startup(format!("cannot start the async runtime: {e}"))),
    };
    match runtime.block_on(run(cli.command, format)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(exit) => stop(exit),
    }
}

/// Prints the one line (newlines folded, so it stays one) and returns the exit code.
fn stop(exit: Exit) -> ExitCode {
    eprintln!("refshare: {}", exit.line.replace(['\n', '\r'], " "));
    ExitCode::from(exit.code)
}

/// Logs go to stdout: coloured text on a terminal, plain text otherwise, or JSON lines.
fn init_logging(format: config::LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        config::LogFormat::Json => builder.json().init(),
        config::LogFormat::Text => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            builder.with_ansi(std::io::stdout().is_terminal() && !no_color).init()
        }
    }
}

async fn run(command: Command, format: config::LogFormat) -> Result<(), Exit> {
    match command {
        Command::Migrate { database_url } => {
            let store = Store::open_with(&database_url, &OpenOptions::create()).await.map_err(database_failure)?;
            store.close().await;
            println!("database is up to date");
            Ok(())
        }
        Command::Serve(args) => serve(args, format).await,
        Command::Reconcile { database_url } => reconcile(&database_url).await,
        Command::Seed(args) => seed::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Operator { command: OperatorCommand::Add { email, name, role, database_url } } => {
            add_operator(&database_url, &email, name.as_deref(), role.as_deref()).await
        }
    }
}

/// The App of an admin command: an existing database on this binary's schema, no secret
/// key (nothing sealed is read or written), no mail sent.
async fn admin_app(database_url: &str) -> Result<(Store, App), Exit> {
    let store = Store::open_with(database_url, &OpenOptions::existing()).await.map_err(database_failure)?;
    let config = AppConfig::new("http://localhost", refshare_app::Environment::Production, String::new());
    let app =
        App::new(store.clone(), config, Arc::new(SystemClock)).await.map_err(|e| Exit::startup(format!("starting: {}", described(&e))))?;
    Ok((store, app))
}

/// `refshare operator add`: 0 and the operator on stdout; 1 if the address is taken (or
/// the write failed); 2 on bad input or an unusable database.
async fn add_operator(database_url: &str, email: &str, name: Option<&str>, role: Option<&str>) -> Result<(), Exit> {
    let (store, app) = admin_app(database_url).await?;
    let outcome = app.add_operator_from_cli(email, name, role).await;
    store.close().await;
    match outcome {
        Ok(op) => {
            println!("operator added: {} <{}> role {} status {} id {}", op.name, op.email, op.role, op.status, op.id);
            Ok(())
        }
        Err(refshare_app::AppError::Validation(fields)) => {
            // Named as typed on the command line.
            let arg = |f: &str| match f {
                "email" => "EMAIL".to_string(),
                other => format!("--{other}"),
            };
            let text = fields.iter().map(|f| format!("{}: {}", arg(&f.field), f.message)).collect::<Vec<_>>().join("; ");
            Err(Exit::startup(format!("operator add: {text}")))
        }
        Err(e) => Err(Exit { code: 1, line: format!("operator add: {}", described(&e)) }),
    }
}

async fn reconcile(database_url: &str) -> Result<(), Exit> {
    let (store, app) = admin_app(database_url).await?;
    let outcome = app.reconcile().await;
    store.close().await;
    match outcome {
        Ok(r) => {
            println!("ok: {} ledger entries, {} earnings, {} partners agree to the cent", r.entries, r.earnings, r.partners);
            Ok(())
        }
        Err(refshare_app::AppError::Ledger(refshare_app::LedgerError::Discrepancy { detail })) => {
            Err(Exit { code: 1, line: format!("discrepancy: {detail}") })
        }
        // Not a finding about the ledger: the proof could not be completed (exit 3).
        Err(e) => Err(Exit { code: 3, line: format!("reconciliation could not be completed: {}", described(&e)) }),
    }
}

async fn serve(args: config::ServeArgs, format: config::LogFormat) -> Result<(), Exit> {
    let settings = args.check().map_err(|message| Exit::startup(format!("configuration error: {message}")))?;
    // The port first: a second instance must fail before it prints a token or touches a
    // database.
    let listener = tokio::net::TcpListener::bind(settings.listen).await.map_err(|e| {
        let cause = match e.kind() {
            std::io::ErrorKind::AddrInUse => "the address is already in use (is refshare already running?)".to_string(),
            _ => e.to_string(),
        };
        Exit::startup(format!("REFSHARE_LISTEN / --listen: cannot listen on {}: {cause}", settings.listen))
    })?;
    if settings.demo {
        demo::reset_database(&settings.database_url).map_err(|e| Exit::startup(format!("REFSHARE_DATABASE_URL / --database-url: {e}")))?;
    }
    let secret_keys = settings.secret_key.keyring().map_err(|message| Exit::startup(format!("configuration error: {message}")))?;
    let options = OpenOptions { pool_size: settings.db_pool_size, sqlite_readers: settings.sqlite_readers, ..OpenOptions::create() };
    let store = Store::open_with(&settings.database_url, &options).await.map_err(database_failure)?;
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
        secret_keys: Some(secret_keys),
        signin_per_ip_per_minute: settings.signin_per_ip_per_minute,
        payment_group_max: settings.payment_group_max,
        payment_writers: settings.payment_writers,
        platform: settings.platform.clone(),
        agreements: settings.agreements.clone(),
    };
    // A key that does not open the sealed secrets is a start-up failure naming the setting.
    let app = App::new(store.clone(), config, Arc::new(SystemClock)).await.map_err(|e| {
        Exit::startup(match e {
            refshare_app::AppError::Internal(m) => m.chain(),
            e => format!("starting: {e}"),
        })
    })?;
    // Every database connection is opened before the first request rather than by it (on
    // PostgreSQL each also warms the attribution check's plan).
    store.open_every_connection().await.map_err(|e| Exit::startup(format!("opening the database connections: {e}")))?;
    // Notices for the person starting it go to stdout beside text logs, and to stderr when
    // stdout carries JSON lines only.
    let mut notice: Box<dyn std::io::Write> = match format {
        config::LogFormat::Text => Box::new(std::io::stdout()),
        config::LogFormat::Json => Box::new(std::io::stderr()),
    };
    if settings.demo {
        let seeded = demo::seed(&app).await.map_err(|e| Exit::startup(format!("seeding demo data: {}", described(&e))))?;
        demo::print(&settings, &seeded, &mut notice);
    } else if settings.admin_token_generated {
        let _ = writeln!(notice, "Operator token (set REFSHARE_ADMIN_TOKEN to keep it across restarts): {}", settings.admin_token);
    }
    drop(notice);

    let jobs = tokio::spawn(background_jobs(app.clone()));
    let webhooks = tokio::spawn(webhook_job(app.clone()));
    let mail = tokio::spawn(mail_job(app.clone()));
    let checkpoints = tokio::spawn(wal_checkpoint_job(store.clone()));
    tracing::info!(listen = %settings.listen, public_url = %settings.public_url, environment = ?settings.environment, "refshare is ready");
    if settings.environment == refshare_app::Environment::Production && !settings.public_url.starts_with("https://") {
        // Sign-in cookies are `Secure` in production: browsers drop them over plain http.
        tracing::warn!(public_url = %settings.public_url, "REFSHARE_PUBLIC_URL is not https: in production sign-in cookies are Secure, so signing in through it will not work");
    }
    if settings.environment == refshare_app::Environment::Production && settings.agreements.current().is_sample() {
        tracing::warn!("REFSHARE_AGREEMENT_FILE is not set: clients are shown and sign the SAMPLE agreement shipped with refshare");
    }
    let served = axum::serve(listener, refshare_web::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    jobs.abort();
    // A delivery cut off here is still claimed in the database and is retried when its
    // lease ends, with the same event id.
    webhooks.abort();
    // Likewise an e-mail cut off mid-send is retried when its claim's lease ends.
    mail.abort();
    checkpoints.abort();
    store.close().await;
    served.map_err(|e| Exit { code: 1, line: format!("serving stopped: {e}") })?;
    tracing::info!("stopped");
    Ok(())
}

/// Periodic work: record expired link requests (their e-mail goes through the mail loop),
/// run the monthly CP invoicing when due, re-base the estimate totals when a rate dated
/// ahead has become current.
async fn background_jobs(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = app.expire_link_requests().await {
            tracing::warn!(error = %described(&e), "link-request expiry job failed");
        }
        match app.run_due_cp_invoicing().await {
            Ok(Some(period)) => tracing::info!(%period, "collection-partner invoicing run done"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %described(&e), "collection-partner invoicing job failed"),
        }
        if let Err(e) = app.refresh_estimates().await {
            tracing::warn!(error = %described(&e), "estimate totals refresh failed");
        }
    }
}

/// How often the SQLite write-ahead log is checkpointed and restarted.
const WAL_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(10);

/// SQLite on a file: every [`WAL_CHECKPOINT_INTERVAL`], copies the write-ahead log into
/// the database and restarts it ([`Store::checkpoint_wal`]), so that readers, always busy
/// under load, do not keep it growing. Ends at once on PostgreSQL and in-memory SQLite.
pub(crate) async fn wal_checkpoint_job(store: Store) {
    let mut tick = tokio::time::interval(WAL_CHECKPOINT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.checkpoint_wal().await {
            Ok(None) => return,
            Ok(Some(c)) => {
                tracing::debug!(restarted = c.restarted, log_frames = c.log_frames, copied_frames = c.copied_frames, "WAL checkpoint")
            }
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
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
            Err(e) => tracing::warn!(error = %described(&e), "webhook delivery job failed"),
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
            Err(e) => tracing::warn!(error = %described(&e), "e-mail delivery job failed"),
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
