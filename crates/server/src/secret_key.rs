//! The secret key that seals secrets at rest (`app::seal`): `REFSHARE_SECRET_KEY` or
//! `REFSHARE_SECRET_KEY_FILE`, and during a rotation `REFSHARE_SECRET_KEY_OLD` or
//! `REFSHARE_SECRET_KEY_OLD_FILE`. `production` refuses to start without one. `test` (and
//! `--demo`) generate one when none is set and keep it in a file, so a restart on the same
//! database opens what the last run sealed: beside a SQLite database (`<file>.key`), in the
//! working directory for PostgreSQL (`refshare-secret.key`), nowhere for an in-memory one.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use refshare_app::seal::{Keyring, SecretKey};
use refshare_app::Environment;

/// The key settings as given.
#[derive(Debug, Clone, Default, Args)]
pub struct SecretKeyArgs {
    /// Key sealing the server secret and webhook secrets at rest: 32 bytes as Base64 or hex
    /// (`openssl rand -base64 32`). Required in production.
    #[arg(long, env = "REFSHARE_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// A file holding the key instead (Base64 or hex).
    #[arg(long, env = "REFSHARE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// The previous key during a rotation: what it sealed is sealed again under the new key
    /// at start.
    #[arg(long, env = "REFSHARE_SECRET_KEY_OLD", hide_env_values = true)]
    pub secret_key_old: Option<String>,
    /// A file holding the previous key instead.
    #[arg(long, env = "REFSHARE_SECRET_KEY_OLD_FILE")]
    pub secret_key_old_file: Option<PathBuf>,
}

/// Where the key comes from, once the settings are checked.
#[derive(Debug, Clone)]
pub enum KeyPlan {
    /// Given by the settings.
    Given(Keyring),
    /// Generated for `test`: read from this file, or created there on first start.
    Generated(PathBuf),
    /// Generated for `test` on an in-memory database: nothing to keep.
    Ephemeral,
}

/// The file that keeps a generated key for `database_url`, or `None` for an in-memory
/// SQLite database.
pub fn generated_key_path(database_url: &str) -> Option<PathBuf> {
    match database_url.strip_prefix("sqlite:") {
        Some(rest) => {
            let path = rest.trim_start_matches("//").split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                None
            } else {
                Some(PathBuf::from(format!("{path}.key")))
            }
        }
        None => Some(PathBuf::from("refshare-secret.key")),
    }
}

fn one_key(value: Option<&str>, file: Option<&Path>, setting: &str) -> Result<Option<SecretKey>, String> {
    let (text, source) = match (value, file) {
        (Some(_), Some(_)) => return Err(format!("{setting} and {setting}_FILE: set one of them, not both")),
        (Some(v), None) => (v.to_string(), setting.to_string()),
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{setting}_FILE: cannot read `{}`: {e}", f.display()))?;
            (text, format!("{setting}_FILE (`{}`)", f.display()))
        }
        (None, None) => return Ok(None),
    };
    SecretKey::parse(&text).map(Some).map_err(|e| format!("{source}: {e}"))
}

impl SecretKeyArgs {
    /// Checks the key settings for `environment`. The message names the setting.
    pub fn check(&self, environment: Environment, database_url: &str) -> Result<KeyPlan, String> {
        let current = one_key(self.secret_key.as_deref(), self.secret_key_file.as_deref(), "REFSHARE_SECRET_KEY")?;
        let previous = one_key(self.secret_key_old.as_deref(), self.secret_key_old_file.as_deref(), "REFSHARE_SECRET_KEY_OLD")?;
        match (current, previous, environment) {
            (Some(c), p, _) => {
                if p.as_ref() == Some(&c) {
                    return Err("REFSHARE_SECRET_KEY_OLD: is the same key as REFSHARE_SECRET_KEY".into());
                }
                Ok(KeyPlan::Given(Keyring::new(c, p)))
            }
            (None, Some(_), _) => Err("REFSHARE_SECRET_KEY_OLD: needs the new key in REFSHARE_SECRET_KEY (or REFSHARE_SECRET_KEY_FILE)".into()),
            (None, None, Environment::Production) => Err(
                "REFSHARE_SECRET_KEY (or REFSHARE_SECRET_KEY_FILE): required in production; it seals the server secret and webhook secrets \
                 in the database (generate one with `openssl rand -base64 32`)"
                    .into(),
            ),
            (None, None, Environment::Test) => Ok(generated_key_path(database_url).map_or(KeyPlan::Ephemeral, KeyPlan::Generated)),
        }
    }
}

impl KeyPlan {
    /// The keyring: the given one, or the generated key (read from its file, or created
    /// there with owner-only permissions).
    pub fn keyring(&self) -> Result<Keyring, String> {
        match self {
            KeyPlan::Given(k) => Ok(k.clone()),
            KeyPlan::Ephemeral => Ok(Keyring::single(SecretKey::generate())),
            KeyPlan::Generated(path) => load_or_create(path).map(Keyring::single),
        }
    }
}

fn load_or_create(path: &Path) -> Result<SecretKey, String> {
    let setting = format!("REFSHARE_SECRET_KEY (unset in test: generated key file `{}`)", path.display());
    let key = SecretKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(format!("{}\n", key.to_text()).as_bytes()).map_err(|e| format!("{setting}: cannot write: {e}"))?;
            tracing::info!(file = %path.display(), "generated a secret key for the test environment (set REFSHARE_SECRET_KEY to choose one)");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{setting}: cannot read: {e}"))?;
            SecretKey::parse(&text).map_err(|e| format!("{setting}: {e}"))
        }
        Err(e) => Err(format!("{setting}: cannot create: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(key: Option<&str>, old: Option<&str>) -> SecretKeyArgs {
        SecretKeyArgs { secret_key: key.map(String::from), secret_key_old: old.map(String::from), ..Default::default() }
    }

    #[test]
    fn production_needs_a_key_and_names_the_setting() {
        let err = args(None, None).check(Environment::Production, "sqlite://x.db").unwrap_err();
        assert!(err.starts_with("REFSHARE_SECRET_KEY"), "{err}");
        let key = SecretKey::generate().to_text();
        assert!(matches!(args(Some(&key), None).check(Environment::Production, "sqlite://x.db"), Ok(KeyPlan::Given(_))));
        let err = args(Some("short"), None).check(Environment::Production, "sqlite://x.db").unwrap_err();
        assert!(err.starts_with("REFSHARE_SECRET_KEY:"), "{err}");
        assert!(!err.contains("short"), "the value is never echoed: {err}");
        let err = args(None, Some(&key)).check(Environment::Test, "sqlite://x.db").unwrap_err();
        assert!(err.starts_with("REFSHARE_SECRET_KEY_OLD"), "{err}");
        let err = args(Some(&key), Some(&key)).check(Environment::Production, "sqlite://x.db").unwrap_err();
        assert!(err.starts_with("REFSHARE_SECRET_KEY_OLD"), "{err}");
        let both = SecretKeyArgs { secret_key: Some(key), secret_key_file: Some("k".into()), ..Default::default() };
        assert!(both.check(Environment::Production, "sqlite://x.db").unwrap_err().contains("REFSHARE_SECRET_KEY_FILE"));
    }

    #[test]
    fn where_a_generated_key_lives() {
        assert_eq!(generated_key_path("sqlite://data/refshare.db?mode=rwc"), Some(PathBuf::from("data/refshare.db.key")));
        assert_eq!(generated_key_path("sqlite:///tmp/r.db"), Some(PathBuf::from("/tmp/r.db.key")));
        assert_eq!(generated_key_path("sqlite::memory:"), None);
        assert_eq!(generated_key_path("postgres://u@h/db"), Some(PathBuf::from("refshare-secret.key")));
    }

    #[test]
    fn a_generated_key_is_kept_in_its_file_and_read_back() {
        let dir = std::env::temp_dir().join(format!("refshare-key-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/r.db?mode=rwc", dir.display());
        let plan = args(None, None).check(Environment::Test, &url).unwrap();
        let first = plan.keyring().unwrap();
        let path = dir.join("r.db.key");
        assert!(path.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let sealed = first.seal("p", b"v");
        let again = args(None, None).check(Environment::Test, &url).unwrap().keyring().unwrap();
        assert_eq!(again.open("p", &sealed, "x").unwrap().plaintext, b"v", "a restart reads the same key");
        // A key file named by the setting is read as given.
        let file = SecretKeyArgs { secret_key_file: Some(path.clone()), ..Default::default() };
        let given = file.check(Environment::Production, &url).unwrap().keyring().unwrap();
        assert_eq!(given.open("p", &sealed, "x").unwrap().plaintext, b"v");
        std::fs::write(&path, "garbage").unwrap();
        let err = file.check(Environment::Production, &url).unwrap_err();
        assert!(err.starts_with("REFSHARE_SECRET_KEY_FILE"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
