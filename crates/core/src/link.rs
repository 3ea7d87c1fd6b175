//! Links between a partner and a client, with their full status history, and link
//! requests (the 409 path). A link is evaluated "as it was at an instant", so history is
//! a list of events, never an overwritten field.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Bps;
use crate::Instant;

/// Status of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinkStatus {
    Active,
    Archived,
    Deleted,
}

impl LinkStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            LinkStatus::Active => "active",
            LinkStatus::Archived => "archived",
            LinkStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<LinkStatus> {
        match s {
            "active" => Some(LinkStatus::Active),
            "archived" => Some(LinkStatus::Archived),
            "deleted" => Some(LinkStatus::Deleted),
            _ => None,
        }
    }

    /// Whether a link may move from `self` to `to` (SPEC §2).
    pub fn can_become(&self, to: LinkStatus) -> bool {
        matches!(
            (self, to),
            (LinkStatus::Active, LinkStatus::Archived)
                | (LinkStatus::Archived, LinkStatus::Active)
                | (LinkStatus::Active, LinkStatus::Deleted)
                | (LinkStatus::Archived, LinkStatus::Deleted)
        )
    }
}

/// One entry of a link's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEvent {
    pub at: Instant,
    pub status: LinkStatus,
    pub actor: String,
    pub reason: Option<String>,
}

/// A partner ↔ client link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub client_id: Uuid,
    pub external_tenant_id: String,
    pub is_attributed: bool,
    pub referral_fee_bps: Bps,
    pub linked_at: Instant,
    /// Status changes in time order; the first is `Active` at `linked_at`.
    pub history: Vec<LinkEvent>,
}

impl Link {
    /// The status the link had at `t`, or `None` if it did not exist yet.
    pub fn status_at(&self, t: Instant) -> Option<LinkStatus> {
        if t < self.linked_at {
            return None;
        }
        let mut status = LinkStatus::Active;
        for e in &self.history {
            if e.at <= t {
                status = e.status;
            } else {
                break;
            }
        }
        Some(status)
    }

    /// The status now (the last history entry).
    pub fn current_status(&self) -> LinkStatus {
        self.history.last().map(|e| e.status).unwrap_or(LinkStatus::Active)
    }

    /// When the link last entered `status` at or before `t`.
    pub fn entered_at(&self, status: LinkStatus, t: Instant) -> Option<Instant> {
        self.history.iter().filter(|e| e.status == status && e.at <= t).map(|e| e.at).last()
    }
}

/// Stored status of a link request. `Expired` is derived from the clock (see
/// [`LinkRequest::status_at`]) and may also be stored once a job has seen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinkRequestStatus {
    Pending,
    Approved,
    Declined,
    Expired,
}

impl LinkRequestStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            LinkRequestStatus::Pending => "pending",
            LinkRequestStatus::Approved => "approved",
            LinkRequestStatus::Declined => "declined",
            LinkRequestStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<LinkRequestStatus> {
        match s {
            "pending" => Some(LinkRequestStatus::Pending),
            "approved" => Some(LinkRequestStatus::Approved),
            "declined" => Some(LinkRequestStatus::Declined),
            "expired" => Some(LinkRequestStatus::Expired),
            _ => None,
        }
    }
}

/// A request by a partner to link an existing client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub client_id: Uuid,
    pub external_tenant_id: String,
    pub created_at: Instant,
    pub expires_at: Instant,
    pub status: LinkRequestStatus,
    /// When it was approved or declined.
    pub decided_at: Option<Instant>,
}

impl LinkRequest {
    /// The status at `t`: a pending request past `expires_at` is expired, whether or not
    /// a background job has noticed yet (SPEC §4.5).
    pub fn status_at(&self, t: Instant) -> LinkRequestStatus {
        match self.status {
            LinkRequestStatus::Approved | LinkRequestStatus::Declined => match self.decided_at {
                Some(d) if d > t => self.pending_or_expired(t),
                _ => self.status,
            },
            LinkRequestStatus::Pending | LinkRequestStatus::Expired => self.pending_or_expired(t),
        }
    }

    fn pending_or_expired(&self, t: Instant) -> LinkRequestStatus {
        if t >= self.expires_at {
            LinkRequestStatus::Expired
        } else {
            LinkRequestStatus::Pending
        }
    }
}
