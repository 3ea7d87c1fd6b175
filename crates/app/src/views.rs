//! Composite read models the web layer renders: loaded together so a response is built
//! from one consistent transaction.

use refshare_store::{CaseRecord, ClientListRow, ClientRecord};

use crate::cases::CaseFailure;

/// A client as one partner sees it through its link: an item of its client list, the
/// answer of `GET /clients/{externalTenantId}` and of `POST /clients`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientState {
    /// What the partner sees of the link, the client and the client's users.
    pub client: ClientListRow,
    pub onboarding_url: Option<String>,
    pub cases_total: i64,
    pub cases_closed: i64,
    /// Sum of this partner's live earnings on the client, in US cents (locked rate, else
    /// the current one); earnings whose rate is missing are left out.
    pub earnings_usd_minor: i64,
    /// Some earning was left out of `earnings_usd_minor` for want of a rate.
    pub earnings_usd_partial: bool,
}

/// Outcome of the cases submitted with `POST /clients`.
#[derive(Debug, Clone, Default)]
pub struct CaseResults {
    pub successful: Vec<CaseRecord>,
    pub failed: Vec<CaseFailure>,
}

/// What `POST /clients` answers when it does not end in a 409.
#[derive(Debug, Clone)]
pub struct ClientCreated {
    pub state: ClientState,
    pub cases: CaseResults,
    /// The client the created cases name as their creditor: the new client's record; none
    /// on a repeated request, which creates no case.
    pub creditor: Option<ClientRecord>,
    /// 201 when onboarding is complete, 202 otherwise.
    pub onboarding_done: bool,
}

/// Counts of the partner's client list.
#[derive(Debug, Clone, Default)]
pub struct ClientsSummary {
    pub total_clients: i64,
    pub attributed_clients: i64,
    pub onboarding_complete: i64,
    pub onboarding_pending: i64,
    pub total_cases: i64,
}

/// One page of the partner's client list.
#[derive(Debug, Clone)]
pub struct ClientListing {
    pub items: Vec<ClientState>,
    /// How many clients match the filters (all pages).
    pub total: i64,
    /// Over all the partner's actively linked clients, whatever the filters.
    pub summary: ClientsSummary,
}
