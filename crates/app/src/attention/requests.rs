//! The Clients tab's link requests (issue 10): the partner's requests that have not led to
//! a link, each with its state now (pending first, soonest expiry first; then those
//! declined or expired in the last [`RECENT_DAYS`] days, latest first), at most
//! [`PER_KIND`].

use chrono::Duration;
use refshare_core::link::{LinkRequest, LinkRequestStatus};
use refshare_store::PartnerRecord;

use super::{PER_KIND, RECENT_DAYS};
use crate::{App, AppError};

/// A link request with its state now.
#[derive(Debug, Clone)]
pub struct RequestState {
    pub request: LinkRequest,
    pub state: LinkRequestStatus,
}

/// The listed requests; `truncated` when there were more.
#[derive(Debug, Clone)]
pub struct RequestList {
    pub items: Vec<RequestState>,
    pub truncated: bool,
}

impl App {
    /// The partner's link requests that have not led to a link (see [`RequestList`]).
    pub async fn partner_open_link_requests(&self, partner: &PartnerRecord) -> Result<RequestList, AppError> {
        let now = self.now();
        let mut tx = self.store.read().await?;
        let mut rows = tx.open_link_requests_of_partner(partner.id, now - Duration::days(RECENT_DAYS), PER_KIND + 1).await?;
        let truncated = rows.len() > PER_KIND as usize;
        rows.truncate(PER_KIND as usize);
        let mut items: Vec<RequestState> =
            rows.into_iter().map(|r| RequestState { state: r.request.status_at(now), request: r.request }).collect();
        items.sort_by_key(|s| {
            let expiry_ms = s.request.expires_at.timestamp_millis();
            match s.state {
                LinkRequestStatus::Pending => (0, expiry_ms),
                _ => (1, -expiry_ms),
            }
        });
        Ok(RequestList { items, truncated })
    }
}
