//! `refshare seed`: writes a synthetic platform (`app::seed`) into a fresh database, with
//! a progress bar on stderr and, as the last line on stdout, one JSON object:
//! `{"partners","clients","cases","payments","partnerKey","seconds"}`.
//!
//! It migrates the database first (like `serve`), runs in `test` unless told otherwise
//! (`REFSHARE_ENVIRONMENT`), and refuses (exit 1) a database that already holds partners,
//! clients, cases or collection partners: seeding adds a whole platform, never a part of
//! one to someone's data. Bad arguments exit 2. The secret key is taken as `serve` takes
//! it (in `test`, the generated key file beside a SQLite database), so that the approval
//! links of the seeded link requests work on the server started afterwards.

use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use refshare_app::seed::{SeedProgress, SeedRefusal, SeedSpec};
use refshare_app::{App, AppConfig, Environment, SystemClock};
use refshare_store::{OpenOptions, Store};

use crate::config::EnvName;
use crate::{database_failure, described, Exit};

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Cases to create.
    #[arg(long, default_value_t = 10_000)]
    pub cases: u64,
    /// Payments to register on them.
    #[arg(long, default_value_t = 10_000)]
    pub payments: u64,
    /// Referral partners (the first holds about 10 % of the cases).
    #[arg(long, default_value_t = 20)]
    pub partners: u32,
    /// Seed of the generator: the same seed makes the same platform (API keys aside).
    #[arg(long, default_value_t = 9)]
    pub seed: u64,
    #[arg(long, env = "REFSHARE_DATABASE_URL", default_value = crate::config::DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// `test` (the default here) or `production`.
    #[arg(long, env = "REFSHARE_ENVIRONMENT", value_enum)]
    pub environment: Option<EnvName>,
    /// Prefix of case references, as `serve` is configured.
    #[arg(long, env = "REFSHARE_CASE_PREFIX", default_value = "DEB-")]
    pub case_prefix: String,
    #[command(flatten)]
    pub secret_key: crate::secret_key::SecretKeyArgs,
}

/// The bar on stderr (hidden when stderr is not a terminal).
struct Bar(ProgressBar);

impl SeedProgress for Bar {
    fn phase(&self, name: &str, total: u64) {
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.set_message(name.to_string());
        self.0.reset_eta();
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

pub async fn run(args: SeedArgs) -> Result<(), Exit> {
    let started = std::time::Instant::now();
    let environment = match args.environment {
        Some(EnvName::Production) => Environment::Production,
        _ => Environment::Test,
    };
    let prefix = &args.case_prefix;
    if prefix.is_empty() || prefix.len() > 10 || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Exit::startup(format!("REFSHARE_CASE_PREFIX / --case-prefix: `{prefix}` must be 1–10 letters, digits or `-`")));
    }
    let keys = args
        .secret_key
        .check(environment, &args.database_url)
        .and_then(|plan| plan.keyring())
        .map_err(|message| Exit::startup(format!("configuration error: {message}")))?;
    let store = Store::open_with(&args.database_url, &OpenOptions::create()).await.map_err(database_failure)?;
    let config = AppConfig {
        case_prefix: args.case_prefix.clone(),
        secret_keys: Some(keys),
        ..AppConfig::new("http://localhost", environment, String::new())
    };
    let app =
        App::new(store.clone(), config, Arc::new(SystemClock)).await.map_err(|e| Exit::startup(format!("starting: {}", described(&e))))?;
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg:>20} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let spec = SeedSpec { cases: args.cases, payments: args.payments, partners: args.partners, seed: args.seed };
    let outcome = app.seed(spec, &Bar(bar.clone())).await;
    bar.finish_and_clear();
    if matches!(outcome, Ok(Ok(_))) {
        bar.set_message("analyze");
        let analyzed = async {
            let mut tx = store.begin().await?;
            tx.merge_search_indexes().await?;
            tx.analyze().await?;
            tx.commit().await
        };
        analyzed.await.map_err(|e| Exit {
            code: 1,
            line: format!("seed: merging the search indexes or refreshing the planner's statistics failed: {e}"),
        })?;
    }
    store.close().await;
    let summary = match outcome {
        Ok(Ok(s)) => s,
        Ok(Err(SeedRefusal::NotEmpty)) => {
            return Err(Exit {
                code: 1,
                line: "seed: the database already holds data (partners, clients or cases); seed a fresh database".into(),
            })
        }
        Ok(Err(SeedRefusal::Bad(m))) => return Err(Exit::startup(format!("seed: {m}"))),
        Err(e) => return Err(Exit { code: 1, line: format!("seed failed: {}", described(&e)) }),
    };
    println!(
        "{}",
        serde_json::json!({
            "partners": summary.partners,
            "clients": summary.clients,
            "cases": summary.cases,
            "payments": summary.payments,
            "partnerKey": summary.partner_key,
            "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
