//! Cases: creation sources (SPEC §3), lifecycle and debtor types.

use serde::{Deserialize, Serialize};

/// The channel that created a case. Set once, never changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSource {
    PartnerApi,
    WebApp,
    CsvImport,
    CustomerApi,
    Operator,
}

impl CaseSource {
    pub const ALL: [CaseSource; 5] =
        [CaseSource::PartnerApi, CaseSource::WebApp, CaseSource::CsvImport, CaseSource::CustomerApi, CaseSource::Operator];

    pub fn as_str(&self) -> &'static str {
        match self {
            CaseSource::PartnerApi => "partner_api",
            CaseSource::WebApp => "web_app",
            CaseSource::CsvImport => "csv_import",
            CaseSource::CustomerApi => "customer_api",
            CaseSource::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<CaseSource> {
        CaseSource::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether this channel is a partner channel (SPEC §3).
    pub fn is_partner_channel(&self) -> bool {
        matches!(self, CaseSource::PartnerApi)
    }
}

/// Where a case is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lifecycle {
    PendingContractSigning,
    Active,
    Paused,
    Closed,
}

impl Lifecycle {
    pub fn as_str(&self) -> &'static str {
        match self {
            Lifecycle::PendingContractSigning => "PendingContractSigning",
            Lifecycle::Active => "Active",
            Lifecycle::Paused => "Paused",
            Lifecycle::Closed => "Closed",
        }
    }

    pub fn parse(s: &str) -> Option<Lifecycle> {
        [Lifecycle::PendingContractSigning, Lifecycle::Active, Lifecycle::Paused, Lifecycle::Closed]
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
    }
}

/// Close codes we set ourselves.
pub mod close_code {
    pub const NO_PARTNER_AVAILABLE: &str = "NoPartnerAvailable";
    pub const CASE_NEVER_STARTED_INTERNAL: &str = "CaseNeverStartedInternal";
}

/// Whether the debtor is a company or a private person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DebtorType {
    Company,
    Private,
}

impl DebtorType {
    pub fn as_str(&self) -> &'static str {
        match self {
            DebtorType::Company => "Company",
            DebtorType::Private => "Private",
        }
    }

    pub fn parse(s: &str) -> Option<DebtorType> {
        match s.to_ascii_lowercase().as_str() {
            "company" => Some(DebtorType::Company),
            "private" | "person" | "individual" => Some(DebtorType::Private),
            _ => None,
        }
    }
}
