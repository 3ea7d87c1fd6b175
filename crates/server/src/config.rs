//! Configuration of `refshare serve`: flags or environment (flags win), checked at start so
//! a bad setting fails with a message that names it.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};
use refshare_app::agreement::{self, Agreement, Agreements};
use refshare_app::platform::{Platform, PlatformInput, PlatformSetting};
use refshare_app::Environment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvName {
    Production,
    Test,
}

/// How log lines are written (`REFSHARE_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines; colours only when stdout is a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `text` (the default when unset) or `json`.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, String> {
        match value.map(str::trim) {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("REFSHARE_LOG_FORMAT / --log-format: `{other}` must be `text` or `json`")),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    #[arg(long, env = "REFSHARE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PostgreSQL: connections in the pool (1–256).
    #[arg(long, env = "REFSHARE_DB_POOL_SIZE", default_value_t = refshare_store::default_pool_size(),
          value_parser = pool_size("REFSHARE_DB_POOL_SIZE / --db-pool-size"))]
    pub db_pool_size: u32,
    /// SQLite on a file: read-only connections beside the one writer (1–256).
    #[arg(long, env = "REFSHARE_SQLITE_READERS", default_value_t = refshare_store::DEFAULT_SQLITE_READERS,
          value_parser = pool_size("REFSHARE_SQLITE_READERS / --sqlite-readers"))]
    pub sqlite_readers: u32,
    /// Address and port to listen on.
    #[arg(long, env = "REFSHARE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Base of every URL the service hands out (default `http://{listen}`).
    #[arg(long, env = "REFSHARE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `production` or `test` (`--demo` implies `test`).
    #[arg(long, env = "REFSHARE_ENVIRONMENT", value_enum)]
    pub environment: Option<EnvName>,
    /// Operator API bearer token (at least 32 characters); generated and printed if unset.
    #[arg(long, env = "REFSHARE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// `smtp://[user:pass@]host[:port]` (plain), `…?tls=required` (STARTTLS) or `smtps://…`
    /// (implicit TLS); unset keeps e-mail in the outbox only.
    #[arg(long, env = "REFSHARE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// PEM file of a CA to trust for the SMTP server's certificate (besides the public roots).
    #[arg(long, env = "REFSHARE_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// Let webhooks reach 127.0.0.1 over plain http (honoured only in `test`).
    #[arg(long, env = "REFSHARE_WEBHOOK_ALLOW_LOOPBACK")]
    pub webhook_allow_loopback: bool,
    /// Prefix of case references (letters, digits and `-`, 1–10 characters).
    #[arg(long, env = "REFSHARE_CASE_PREFIX", default_value = "DEB-")]
    pub case_prefix: String,
    /// Days after the end of a payout's reporting month during which disputes are accepted.
    #[arg(long, env = "REFSHARE_DISPUTE_WINDOW_DAYS", default_value_t = 30)]
    pub dispute_window_days: i64,
    /// Day of the month (1–28) on which the previous month's collection-partner invoicing runs.
    #[arg(long, env = "REFSHARE_CP_INVOICING_DAY", default_value_t = refshare_app::revenue::DEFAULT_CP_INVOICING_DAY)]
    pub cp_invoicing_day: u32,
    /// Payment terms of invoices, in business days.
    #[arg(long, env = "REFSHARE_PAYMENT_TERMS_DAYS", default_value_t = 10)]
    pub payment_terms_days: u32,
    /// Bearer token that `/metrics` requires (at least 32 characters). Unset: `/metrics` is
    /// 404 in `production`, and open without per-partner figures in `test`.
    #[arg(long, env = "REFSHARE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Sign-in requests (`POST /login`) accepted per IP address per minute.
    #[arg(long, env = "REFSHARE_SIGNIN_PER_IP_PER_MINUTE", default_value_t = refshare_app::signin::DEFAULT_PER_IP_PER_MINUTE)]
    pub signin_per_ip_per_minute: u32,
    /// Most single payments booked in one transaction (group commit); 1 books each alone.
    #[arg(long, env = "REFSHARE_PAYMENT_GROUP_MAX", default_value_t = refshare_app::payments_group::MAX_GROUP_PAYMENTS)]
    pub payment_group_max: usize,
    /// Payment writers booking groups of single payments side by side (1 to 64); unset:
    /// one on SQLite, four on PostgreSQL.
    #[arg(long, env = "REFSHARE_PAYMENT_WRITERS")]
    pub payment_writers: Option<usize>,
    /// The platform's name on the hosted, sign-in and error pages and in mails.
    #[arg(long, env = "REFSHARE_PLATFORM_NAME")]
    pub platform_name: Option<String>,
    /// The legal entity that operates the platform, in the pages' footer.
    #[arg(long, env = "REFSHARE_PLATFORM_LEGAL_ENTITY")]
    pub platform_legal_entity: Option<String>,
    /// The support e-mail address the pages show (a `mailto:` link).
    #[arg(long, env = "REFSHARE_SUPPORT_EMAIL")]
    pub support_email: Option<String>,
    /// The platform's terms of service (https in `production`).
    #[arg(long, env = "REFSHARE_TERMS_URL")]
    pub terms_url: Option<String>,
    /// The platform's privacy notice (https in `production`).
    #[arg(long, env = "REFSHARE_PRIVACY_URL")]
    pub privacy_url: Option<String>,
    /// The agreement clients sign: a text file whose first line is `Version: <id>`.
    /// Unset: the sample shipped with refshare.
    #[arg(long, env = "REFSHARE_AGREEMENT_FILE")]
    pub agreement_file: Option<std::path::PathBuf>,
    /// A folder of earlier agreement versions (`*.md`, `*.txt`) that stay downloadable.
    #[arg(long, env = "REFSHARE_AGREEMENT_ARCHIVE_DIR")]
    pub agreement_archive_dir: Option<std::path::PathBuf>,
    /// Start on a fresh demo database with seeded data, and print how to use it.
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub secret_key: crate::secret_key::SecretKeyArgs,
}

/// A number of connections (within [`refshare_store::POOL_SIZE_RANGE`]) for the setting
/// `name`; anything else is refused naming it (clap then exits 2).
fn pool_size(name: &'static str) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync + 'static {
    move |value| {
        let range = refshare_store::POOL_SIZE_RANGE;
        value
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| format!("{name}: `{value}` must be a whole number between {} and {}", range.start(), range.end()))
    }
}

/// Settings after checking.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    /// PostgreSQL pool size.
    pub db_pool_size: u32,
    /// SQLite reader connections.
    pub sqlite_readers: u32,
    pub listen: SocketAddr,
    pub public_url: String,
    pub environment: Environment,
    pub admin_token: String,
    pub admin_token_generated: bool,
    pub smtp_url: Option<String>,
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// Webhooks may reach loopback over http (test environment only).
    pub webhook_allow_loopback: bool,
    pub case_prefix: String,
    pub dispute_window_days: i64,
    pub cp_invoicing_day: u32,
    pub payment_terms_business_days: u32,
    pub metrics_token: Option<String>,
    pub signin_per_ip_per_minute: u32,
    pub payment_group_max: usize,
    pub payment_writers: Option<usize>,
    pub platform: Platform,
    pub agreements: Agreements,
    pub demo: bool,
    /// Where the key sealing secrets at rest comes from.
    pub secret_key: crate::secret_key::KeyPlan,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://refshare.db?mode=rwc";
pub const DEMO_DATABASE_URL: &str = "sqlite://refshare-demo.db?mode=rwc";

impl ServeArgs {
    pub fn check(self) -> Result<Settings, String> {
        let database_url =
            self.database_url.clone().unwrap_or_else(|| if self.demo { DEMO_DATABASE_URL } else { DEFAULT_DATABASE_URL }.to_string());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres:") || database_url.starts_with("postgresql:")) {
            return Err(format!("REFSHARE_DATABASE_URL / --database-url: `{database_url}` must start with sqlite:// or postgres://"));
        }
        let listen: SocketAddr = self
            .listen
            .parse()
            .map_err(|_| format!("REFSHARE_LISTEN / --listen: `{}` is not an address:port such as 127.0.0.1:8080", self.listen))?;
        let public_url = self.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
        let parsed =
            url::Url::parse(&public_url).map_err(|e| format!("REFSHARE_PUBLIC_URL / --public-url: `{public_url}` is not a URL ({e})"))?;
        if parsed.scheme() != "http" && parsed.scheme() != "https" {
            return Err(format!("REFSHARE_PUBLIC_URL / --public-url: `{public_url}` must be http or https"));
        }
        let environment = match (self.environment, self.demo) {
            (Some(EnvName::Production), true) => {
                return Err("REFSHARE_ENVIRONMENT / --environment: --demo runs in `test`, not `production`".into())
            }
            (Some(EnvName::Production), false) | (None, false) => Environment::Production,
            _ => Environment::Test,
        };
        let (admin_token, generated) = match self.admin_token.clone() {
            Some(t) if t.trim().len() >= 32 => (t.trim().to_string(), false),
            Some(_) => return Err("REFSHARE_ADMIN_TOKEN / --admin-token: must be at least 32 characters".into()),
            None => (refshare_app::auth::new_api_key("rsa"), true),
        };
        if let Some(smtp) = &self.smtp_url {
            refshare_app::notify::check_smtp_url(smtp).map_err(|e| format!("REFSHARE_SMTP_URL / --smtp-url: {e}"))?;
        }
        if let Some(ca) = &self.smtp_ca_file {
            refshare_app::notify::check_smtp_ca_file(ca, self.smtp_url.as_deref())
                .map_err(|e| format!("REFSHARE_SMTP_CA_FILE / --smtp-ca-file: {e}"))?;
        }
        if self.webhook_allow_loopback && environment == Environment::Production {
            return Err("REFSHARE_WEBHOOK_ALLOW_LOOPBACK / --webhook-allow-loopback: only allowed in the `test` environment".into());
        }
        let prefix = &self.case_prefix;
        if prefix.is_empty() || prefix.len() > 10 || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("REFSHARE_CASE_PREFIX / --case-prefix: `{prefix}` must be 1–10 letters, digits or `-`"));
        }
        if !(1..=365).contains(&self.dispute_window_days) {
            return Err("REFSHARE_DISPUTE_WINDOW_DAYS / --dispute-window-days: must be between 1 and 365".into());
        }
        if !(1..=28).contains(&self.cp_invoicing_day) {
            return Err("REFSHARE_CP_INVOICING_DAY / --cp-invoicing-day: must be a day between 1 and 28".into());
        }
        if !(1..=120).contains(&self.payment_terms_days) {
            return Err("REFSHARE_PAYMENT_TERMS_DAYS / --payment-terms-days: must be between 1 and 120 business days".into());
        }
        if self.metrics_token.as_deref().is_some_and(|t| t.trim().len() < 32) {
            return Err("REFSHARE_METRICS_TOKEN / --metrics-token: must be at least 32 characters".into());
        }
        if !(1..=100_000).contains(&self.signin_per_ip_per_minute) {
            return Err("REFSHARE_SIGNIN_PER_IP_PER_MINUTE / --signin-per-ip-per-minute: must be between 1 and 100000".into());
        }
        if !refshare_app::payments_group::GROUP_MAX_RANGE.contains(&self.payment_group_max) {
            return Err("REFSHARE_PAYMENT_GROUP_MAX / --payment-group-max: must be between 1 and 1000".into());
        }
        if self.payment_writers.is_some_and(|n| !refshare_app::payments_group::WRITERS_RANGE.contains(&n)) {
            return Err("REFSHARE_PAYMENT_WRITERS / --payment-writers: must be between 1 and 64".into());
        }
        let mut platform_input = PlatformInput {
            name: self.platform_name.clone(),
            legal_entity: self.platform_legal_entity.clone(),
            support_email: self.support_email.clone(),
            terms_url: self.terms_url.clone(),
            privacy_url: self.privacy_url.clone(),
        };
        if self.demo {
            crate::demo::platform_defaults(&mut platform_input);
        }
        let platform = Platform::check(&platform_input, environment).map_err(|(setting, e)| {
            let name = match setting {
                PlatformSetting::Name => "REFSHARE_PLATFORM_NAME / --platform-name",
                PlatformSetting::LegalEntity => "REFSHARE_PLATFORM_LEGAL_ENTITY / --platform-legal-entity",
                PlatformSetting::SupportEmail => "REFSHARE_SUPPORT_EMAIL / --support-email",
                PlatformSetting::TermsUrl => "REFSHARE_TERMS_URL / --terms-url",
                PlatformSetting::PrivacyUrl => "REFSHARE_PRIVACY_URL / --privacy-url",
            };
            format!("{name}: {e}")
        })?;
        let current = match &self.agreement_file {
            Some(path) => Agreement::load(path).map_err(|e| format!("REFSHARE_AGREEMENT_FILE / --agreement-file: {e}"))?,
            None => Agreement::sample(),
        };
        let earlier = match &self.agreement_archive_dir {
            Some(dir) => agreement::load_dir(dir).map_err(|e| format!("REFSHARE_AGREEMENT_ARCHIVE_DIR / --agreement-archive-dir: {e}"))?,
            None => Vec::new(),
        };
        let agreements =
            Agreements::new(current, earlier).map_err(|e| format!("REFSHARE_AGREEMENT_ARCHIVE_DIR / --agreement-archive-dir: {e}"))?;
        let secret_key = self.secret_key.check(environment, &database_url)?;
        Ok(Settings {
            secret_key,
            database_url,
            db_pool_size: self.db_pool_size,
            sqlite_readers: self.sqlite_readers,
            listen,
            public_url: public_url.trim_end_matches('/').to_string(),
            environment,
            admin_token,
            admin_token_generated: generated,
            smtp_url: self.smtp_url,
            smtp_ca_file: self.smtp_ca_file,
            webhook_allow_loopback: self.webhook_allow_loopback,
            case_prefix: self.case_prefix,
            dispute_window_days: self.dispute_window_days,
            cp_invoicing_day: self.cp_invoicing_day,
            payment_terms_business_days: self.payment_terms_days,
            metrics_token: self.metrics_token.map(|t| t.trim().to_string()),
            signin_per_ip_per_minute: self.signin_per_ip_per_minute,
            payment_group_max: self.payment_group_max,
            payment_writers: self.payment_writers,
            platform,
            agreements,
            demo: self.demo,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn check(args: &[&str]) -> Result<Settings, String> {
        let mut all = vec!["refshare"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map_err(|e| e.to_string())?.serve.check()
    }

    #[test]
    fn defaults_are_sqlite_production_and_a_generated_token() {
        let s = check(&["--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="]).unwrap();
        assert!(s.database_url.starts_with("sqlite://"));
        assert_eq!(s.environment, Environment::Production);
        assert!(s.admin_token_generated && s.admin_token.len() >= 32);
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert_eq!((s.case_prefix.as_str(), s.dispute_window_days, s.cp_invoicing_day), ("DEB-", 30, 8));
        assert_eq!(s.signin_per_ip_per_minute, 60);
        assert_eq!((s.payment_group_max, s.payment_writers), (64, None));
        assert_eq!((s.db_pool_size, s.sqlite_readers), (refshare_store::default_pool_size(), 4));
        assert_eq!(s.platform, Platform::default());
        assert!(s.agreements.current().is_sample());
        assert_eq!(s.agreements.current().version(), "SDCA-2026-01");
    }

    #[test]
    fn the_platform_and_the_agreement_file_are_read() {
        let dir = std::env::temp_dir().join(format!("refshare-agreements-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("current.md");
        std::fs::write(&file, "Version: ACME-2\n\n# Terms\n\nThe text.\n").unwrap();
        let archive = dir.join("archive");
        std::fs::create_dir_all(&archive).unwrap();
        std::fs::write(archive.join("ACME-1.txt"), "Version: ACME-1\n\nThe old text.\n").unwrap();
        let s = check(&[
            "--environment",
            "test",
            "--platform-name",
            "Collectly",
            "--platform-legal-entity",
            "Collectly GmbH",
            "--support-email",
            "help@collectly.example",
            "--terms-url",
            "https://collectly.example/terms",
            "--privacy-url",
            "http://collectly.example/privacy",
            "--agreement-file",
            file.to_str().unwrap(),
            "--agreement-archive-dir",
            archive.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(s.platform.name, "Collectly");
        assert_eq!(s.platform.legal_entity.as_deref(), Some("Collectly GmbH"));
        assert_eq!(s.platform.privacy_url.as_deref(), Some("http://collectly.example/privacy"), "http is allowed in test");
        assert_eq!(s.agreements.current().version(), "ACME-2");
        assert!(s.agreements.version("ACME-1").is_some() && !s.agreements.current().is_sample());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn smtp_urls_with_tls_are_accepted() {
        for url in ["smtp://relay.local:2525", "smtp://u:p@mail.example:587?tls=required", "smtps://u:p@mail.example"] {
            assert_eq!(check(&["--environment", "test", "--smtp-url", url]).unwrap().smtp_url.as_deref(), Some(url));
        }
    }

    #[test]
    fn the_pool_sizes_are_read_and_checked() {
        let s = check(&["--environment", "test", "--db-pool-size", "32", "--sqlite-readers", " 1 "]).unwrap();
        assert_eq!((s.db_pool_size, s.sqlite_readers), (32, 1));
        let s = check(&["--environment", "test", "--db-pool-size", "256", "--sqlite-readers", "256"]).unwrap();
        assert_eq!((s.db_pool_size, s.sqlite_readers), (256, 256));
        for (flag, setting) in [("--db-pool-size", "REFSHARE_DB_POOL_SIZE"), ("--sqlite-readers", "REFSHARE_SQLITE_READERS")] {
            for bad in ["0", "257", "-1", "four", "", "2.5"] {
                let err = check(&["--environment", "test", &format!("{flag}={bad}")]).unwrap_err();
                assert!(err.contains(setting) && err.contains("between 1 and 256"), "{flag} {bad:?}: {err}");
            }
        }
    }

    #[test]
    fn demo_implies_test_and_its_own_database() {
        let s = check(&["--demo"]).unwrap();
        assert_eq!(s.environment, Environment::Test);
        assert_eq!(s.database_url, DEMO_DATABASE_URL);
    }

    #[test]
    fn log_format_is_text_or_json_and_anything_else_names_the_setting() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("text")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("json")), Ok(LogFormat::Json));
        let err = LogFormat::parse(Some("xml")).unwrap_err();
        assert!(err.contains("REFSHARE_LOG_FORMAT") && err.contains("xml"), "{err}");
    }

    #[test]
    fn bad_settings_fail_naming_the_setting() {
        let long_name = "x".repeat(101);
        let unversioned = std::env::temp_dir().join(format!("refshare-unversioned-{}.md", std::process::id()));
        std::fs::write(&unversioned, "# Terms\n\nNo version line.\n").unwrap();
        let unversioned = unversioned.to_str().unwrap().to_string();
        for (args, setting) in [
            (vec!["--database-url", "mysql://x"], "REFSHARE_DATABASE_URL"),
            (vec!["--listen", "localhost"], "REFSHARE_LISTEN"),
            (vec!["--public-url", "not a url"], "REFSHARE_PUBLIC_URL"),
            (vec!["--public-url", "ftp://x"], "REFSHARE_PUBLIC_URL"),
            (vec!["--admin-token", "short"], "REFSHARE_ADMIN_TOKEN"),
            (vec!["--smtp-url", "smtp://mail.example?tls=opportunistic"], "REFSHARE_SMTP_URL"),
            (vec!["--smtp-url", "http://mail.example"], "REFSHARE_SMTP_URL"),
            (vec!["--smtp-ca-file", "/nonexistent/ca.pem"], "REFSHARE_SMTP_CA_FILE"),
            (vec!["--smtp-url", "smtp://relay.local", "--smtp-ca-file", "/nonexistent/ca.pem"], "REFSHARE_SMTP_CA_FILE"),
            (vec!["--smtp-url", "smtps://mail.example", "--smtp-ca-file", "/nonexistent/ca.pem"], "REFSHARE_SMTP_CA_FILE"),
            (vec!["--webhook-allow-loopback"], "REFSHARE_WEBHOOK_ALLOW_LOOPBACK"),
            (vec!["--demo", "--environment", "production"], "REFSHARE_ENVIRONMENT"),
            (vec!["--case-prefix", "DEB "], "REFSHARE_CASE_PREFIX"),
            (vec!["--dispute-window-days", "0"], "REFSHARE_DISPUTE_WINDOW_DAYS"),
            (vec!["--cp-invoicing-day", "31"], "REFSHARE_CP_INVOICING_DAY"),
            (vec!["--payment-terms-days", "0"], "REFSHARE_PAYMENT_TERMS_DAYS"),
            (vec!["--metrics-token", "short"], "REFSHARE_METRICS_TOKEN"),
            (vec!["--signin-per-ip-per-minute", "0"], "REFSHARE_SIGNIN_PER_IP_PER_MINUTE"),
            (vec!["--payment-group-max", "0"], "REFSHARE_PAYMENT_GROUP_MAX"),
            (vec!["--payment-group-max", "1001"], "REFSHARE_PAYMENT_GROUP_MAX"),
            (vec!["--payment-writers", "0"], "REFSHARE_PAYMENT_WRITERS"),
            (vec!["--payment-writers", "65"], "REFSHARE_PAYMENT_WRITERS"),
            (vec!["--environment", "test", "--platform-name", &long_name], "REFSHARE_PLATFORM_NAME"),
            (vec!["--environment", "test", "--platform-legal-entity", "A\u{7}B"], "REFSHARE_PLATFORM_LEGAL_ENTITY"),
            (vec!["--environment", "test", "--support-email", "help"], "REFSHARE_SUPPORT_EMAIL"),
            (vec!["--terms-url", "http://collectly.example/terms"], "REFSHARE_TERMS_URL"),
            (vec!["--environment", "test", "--privacy-url", "collectly.example/privacy"], "REFSHARE_PRIVACY_URL"),
            (vec!["--environment", "test", "--agreement-file", "/nonexistent/sdca.md"], "REFSHARE_AGREEMENT_FILE"),
            (vec!["--environment", "test", "--agreement-file", &unversioned], "REFSHARE_AGREEMENT_FILE"),
            (vec!["--environment", "test", "--agreement-archive-dir", "/nonexistent"], "REFSHARE_AGREEMENT_ARCHIVE_DIR"),
            (vec![], "REFSHARE_SECRET_KEY"),
            (vec!["--secret-key", "short"], "REFSHARE_SECRET_KEY"),
        ] {
            let err = check(&args).unwrap_err();
            assert!(err.contains(setting), "{args:?}: {err}");
        }
        let _ = std::fs::remove_file(&unversioned);
    }
}
