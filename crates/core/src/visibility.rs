//! The one visibility rule of SPEC §5 (last paragraph): which cases a partner sees in its
//! Cases views. The store's SQL twin is `refshare_store::PARTNER_VISIBLE_SQL`; a
//! conformance test checks on generated data that both agree for every (case, partner).

use uuid::Uuid;

use crate::attribution::CaseFacts;
use crate::case::CaseSource;
use crate::link::{Link, LinkStatus};
use crate::Instant;

/// Whether `partner` sees the case at `now` through `link` (a link of the case's client):
/// the link is this partner's and active now, the case was created at or after the link's
/// `linkedAt`, and the link is attributed or the case came in through this partner's own
/// partner API.
pub fn visible_to_partner(partner: Uuid, case: CaseFacts, link: &Link, now: Instant) -> bool {
    link.partner_id == partner
        && link.status_at(now) == Some(LinkStatus::Active)
        && case.created_at >= link.linked_at
        && (link.is_attributed || (case.source == CaseSource::PartnerApi && case.creating_partner == Some(partner)))
}
