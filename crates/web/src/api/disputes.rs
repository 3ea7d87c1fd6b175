//! Disputes on the wire (SPEC §7): the partner's routes (`partner`, under `/referral-api`)
//! and the operator's (`operator`, under `/admin-api/v1`), with the one dispute JSON both
//! render.

pub mod operator;
pub mod partner;

use refshare_app::disputes::DisputeView;
use serde_json::{json, Value};

use crate::wire::{num, opt_ts, ts};

/// A dispute: `{id, caseReference, client, creationMethod, expectedOutcome, observation,
/// status, resolution, deadline, createdAt, checkAtFiling}`.
pub fn dispute_json(v: &DisputeView) -> Value {
    let d = &v.dispute;
    let resolution = (d.status != "open").then(|| {
        json!({
            "outcome": d.status,
            "reason": d.resolution_reason.as_deref().filter(|r| !r.is_empty()),
            "amount": d.resolved_amount_minor.map(|a| num(a, v.currency.exponent())),
            "currency": v.currency.code(),
            "resolvedAt": opt_ts(d.resolved_at),
        })
    });
    json!({
        "id": d.id,
        "caseReference": v.case_reference,
        "client": {
            "companyName": Some(d.company_name.as_str()).filter(|c| !c.is_empty()),
            "externalTenantId": d.external_tenant_id,
        },
        "creationMethod": d.creation_method,
        "expectedOutcome": d.expected_outcome,
        "observation": d.observation,
        "status": d.status,
        "resolution": resolution,
        "deadline": ts(d.deadline),
        "createdAt": ts(d.created_at),
        "checkAtFiling": d.check,
    })
}
