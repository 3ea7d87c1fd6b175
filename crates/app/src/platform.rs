//! Who runs the installation, as the hosted pages, sign-in pages, error pages and mails
//! name it: the platform's name, legal entity, support address, terms and privacy links
//! (`REFSHARE_PLATFORM_NAME`, `REFSHARE_PLATFORM_LEGAL_ENTITY`, `REFSHARE_SUPPORT_EMAIL`,
//! `REFSHARE_TERMS_URL`, `REFSHARE_PRIVACY_URL`). Checked once at start.

use refshare_core::parse::Email;

use crate::Environment;

/// The platform's name when none is configured.
pub const DEFAULT_PLATFORM_NAME: &str = "refshare";

/// Longest platform name and legal entity.
const MAX_NAME_CHARS: usize = 100;
const MAX_LEGAL_ENTITY_CHARS: usize = 200;

/// The platform's identity; optional parts are shown only when set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub name: String,
    pub legal_entity: Option<String>,
    pub support_email: Option<String>,
    pub terms_url: Option<String>,
    pub privacy_url: Option<String>,
}

impl Default for Platform {
    fn default() -> Platform {
        Platform { name: DEFAULT_PLATFORM_NAME.into(), legal_entity: None, support_email: None, terms_url: None, privacy_url: None }
    }
}

/// Which setting a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformSetting {
    Name,
    LegalEntity,
    SupportEmail,
    TermsUrl,
    PrivacyUrl,
}

/// The raw values, as configured (empty counts as unset).
#[derive(Debug, Clone, Default)]
pub struct PlatformInput {
    pub name: Option<String>,
    pub legal_entity: Option<String>,
    pub support_email: Option<String>,
    pub terms_url: Option<String>,
    pub privacy_url: Option<String>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn text(v: &str, max: usize) -> Result<String, String> {
    if v.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(v.to_string())
}

/// An absolute link for the footer: https, or http too outside `production`.
fn link(v: &str, environment: Environment) -> Result<String, String> {
    let url = url::Url::parse(v).map_err(|e| format!("`{v}` is not a URL ({e})"))?;
    match (url.scheme(), environment) {
        ("https", _) | ("http", Environment::Test) => {}
        (_, Environment::Production) => return Err(format!("`{v}` must be an https:// URL")),
        _ => return Err(format!("`{v}` must be an http:// or https:// URL")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{v}` has no host"));
    }
    Ok(url.to_string())
}

impl Platform {
    /// Checks the configured values; an error names the setting and the cause.
    pub fn check(input: &PlatformInput, environment: Environment) -> Result<Platform, (PlatformSetting, String)> {
        let name = match set(&input.name) {
            Some(n) => text(n, MAX_NAME_CHARS).map_err(|e| (PlatformSetting::Name, e))?,
            None => DEFAULT_PLATFORM_NAME.into(),
        };
        let legal_entity =
            set(&input.legal_entity).map(|v| text(v, MAX_LEGAL_ENTITY_CHARS)).transpose().map_err(|e| (PlatformSetting::LegalEntity, e))?;
        let support_email = set(&input.support_email)
            .map(|v| Email::parse(v).map(|e| e.as_str().to_string()).map_err(|_| format!("`{v}` is not an e-mail address")))
            .transpose()
            .map_err(|e| (PlatformSetting::SupportEmail, e))?;
        let terms_url = set(&input.terms_url).map(|v| link(v, environment)).transpose().map_err(|e| (PlatformSetting::TermsUrl, e))?;
        let privacy_url =
            set(&input.privacy_url).map(|v| link(v, environment)).transpose().map_err(|e| (PlatformSetting::PrivacyUrl, e))?;
        Ok(Platform { name, legal_entity, support_email, terms_url, privacy_url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(f: impl FnOnce(&mut PlatformInput)) -> PlatformInput {
        let mut i = PlatformInput::default();
        f(&mut i);
        i
    }

    #[test]
    fn unset_and_empty_values_are_absent_and_the_name_defaults() {
        let p = Platform::check(&input(|i| i.terms_url = Some("  ".into())), Environment::Production).unwrap();
        assert_eq!(p, Platform::default());
        assert_eq!(p.name, "refshare");
    }

    #[test]
    fn links_are_https_in_production() {
        let http = input(|i| i.privacy_url = Some("http://platform.example/privacy".into()));
        assert_eq!(Platform::check(&http, Environment::Production).unwrap_err().0, PlatformSetting::PrivacyUrl);
        assert!(Platform::check(&http, Environment::Test).is_ok());
        let ok = input(|i| {
            i.name = Some("Collectly".into());
            i.terms_url = Some("https://collectly.example/terms".into());
            i.support_email = Some("Help@Collectly.example".into());
        });
        let p = Platform::check(&ok, Environment::Production).unwrap();
        assert_eq!((p.name.as_str(), p.support_email.as_deref()), ("Collectly", Some("help@collectly.example")));
        for (bad, setting) in [
            (input(|i| i.terms_url = Some("javascript:alert(1)".into())), PlatformSetting::TermsUrl),
            (input(|i| i.terms_url = Some("collectly.example/terms".into())), PlatformSetting::TermsUrl),
            (input(|i| i.support_email = Some("help".into())), PlatformSetting::SupportEmail),
            (input(|i| i.name = Some("x".repeat(101))), PlatformSetting::Name),
            (input(|i| i.legal_entity = Some("A\u{7}B".into())), PlatformSetting::LegalEntity),
        ] {
            assert_eq!(Platform::check(&bad, Environment::Test).unwrap_err().0, setting, "{bad:?}");
        }
    }
}
