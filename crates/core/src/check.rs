//! The self-serve attribution check (SPEC §8): the checks a support article asks a human
//! to make, evaluated from the same facts the engine uses, each with a resolution.

use serde::Serialize;
use uuid::Uuid;

use crate::attribution::{decide_for_partner, CaseFacts, ClientFacts, Reason};
use crate::case::CaseSource;
use crate::link::{Link, LinkRequestStatus, LinkStatus};
use crate::Instant;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    NotApplicable,
}

/// One line of the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    pub id: &'static str,
    pub status: CheckStatus,
    pub detail: String,
    pub resolution: Option<String>,
}

/// A stored payout decision as the check shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutFacts {
    pub payout_id: Uuid,
    pub at: Instant,
    pub partner_id: Option<Uuid>,
    pub reason: Reason,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Attributed,
    NotAttributed,
    NoPayoutYet,
}

/// The whole check for one partner and one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub verdict: Verdict,
    pub reason: Reason,
    pub checks: Vec<CheckItem>,
}

fn fmt_t(t: Instant) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn item(id: &'static str, status: CheckStatus, detail: String, resolution: Option<&str>) -> CheckItem {
    CheckItem { id, status, detail, resolution: resolution.map(str::to_string) }
}

/// Builds the check for `partner` at `now`. `payouts` are the case's stored decisions
/// that concern this partner, in any order.
pub fn self_serve_check(partner: Uuid, case: CaseFacts, client: ClientFacts<'_>, payouts: &[PayoutFacts], now: Instant) -> CheckReport {
    use CheckStatus::*;
    let current = decide_for_partner(partner, case, client, now);
    let link: Option<&Link> = current.link_id.and_then(|id| client.links.iter().find(|l| l.id == id));
    let mut checks = Vec::with_capacity(6);

    // 1. link
    checks.push(match (link, current.link_request_id) {
        (Some(l), _) => match l.status_at(now) {
            Some(LinkStatus::Active) => item("link", Pass, format!("Link active since {}.", fmt_t(l.linked_at)), None),
            Some(s) => item(
                "link",
                Fail,
                format!(
                    "Link created {} and {} since {}.",
                    fmt_t(l.linked_at),
                    s.as_str(),
                    l.entered_at(s, now).map(fmt_t).unwrap_or_default()
                ),
                Some(current.reason.resolution()),
            ),
            None => item("link", Fail, "No link existed.".into(), Some(Reason::NoLink.resolution())),
        },
        (None, Some(rid)) => {
            let r = client.requests.iter().find(|r| r.id == rid).expect("request comes from the facts");
            let detail = match r.status_at(now) {
                LinkRequestStatus::Pending => {
                    format!("Link request pending since {}; it expires {}.", fmt_t(r.created_at), fmt_t(r.expires_at))
                }
                LinkRequestStatus::Expired => format!("Link request of {} expired {}.", fmt_t(r.created_at), fmt_t(r.expires_at)),
                LinkRequestStatus::Declined => format!(
                    "Link request of {} was declined{}.",
                    fmt_t(r.created_at),
                    r.decided_at.map(|d| format!(" {}", fmt_t(d))).unwrap_or_default()
                ),
                LinkRequestStatus::Approved => "Link request approved, but no link was created.".into(),
            };
            item("link", Fail, detail, Some(current.reason.resolution()))
        }
        (None, None) => item("link", Fail, "The link was never created.".into(), Some(Reason::NoLink.resolution())),
    });

    // 2. onboarding
    // Without a link the partner must learn nothing about the company, not even this.
    checks.push(match client.onboarding_completed_at {
        _ if link.is_none() => item("onboarding", NotApplicable, "No link, so onboarding does not apply yet.".into(), None),
        Some(done) if done <= now => item("onboarding", Pass, format!("Onboarding completed {}.", fmt_t(done)), None),
        _ => {
            item("onboarding", Fail, "The client has not signed the agreement yet.".into(), Some(Reason::OnboardingIncomplete.resolution()))
        }
    });

    // 3. attribution type, 4. creation source
    let own_channel = case.source == CaseSource::PartnerApi && case.creating_partner == Some(partner);
    match link {
        Some(l) if l.is_attributed => {
            checks.push(item("attribution_type", Pass, "Attributed client: every case of this client earns.".into(), None));
            checks.push(item("creation_source", Pass, format!("Case created via {}; any source qualifies.", case.source.as_str()), None));
        }
        Some(_) => {
            checks.push(item(
                "attribution_type",
                NotApplicable,
                "Non-attributed client (linked through an approval): only cases you submit earn.".into(),
                None,
            ));
            checks.push(if own_channel {
                item("creation_source", Pass, "Case created through your partner integration (partner_api).".into(), None)
            } else {
                item(
                    "creation_source",
                    Fail,
                    format!("Case created via {}, not through your partner integration.", case.source.as_str()),
                    Some(Reason::NonAttributedOtherChannel.resolution()),
                )
            });
        }
        None => {
            checks.push(item("attribution_type", NotApplicable, "No link.".into(), None));
            checks.push(item("creation_source", NotApplicable, format!("Case created via {}.", case.source.as_str()), None));
        }
    }

    // 5. case after link
    checks.push(match link {
        Some(l) if case.created_at >= l.linked_at => item(
            "case_after_link",
            Pass,
            format!("Case created {}, after the link ({}).", fmt_t(case.created_at), fmt_t(l.linked_at)),
            None,
        ),
        Some(l) => item(
            "case_after_link",
            Fail,
            format!("Case created {}, before the link ({}).", fmt_t(case.created_at), fmt_t(l.linked_at)),
            Some(Reason::CaseBeforeLink.resolution()),
        ),
        None => item("case_after_link", NotApplicable, "No link.".into(), None),
    });

    // 6. payouts
    let mut mine: Vec<&PayoutFacts> = payouts.iter().collect();
    mine.sort_by_key(|p| (p.at, p.payout_id));
    let latest = mine.last();
    checks.push(match latest {
        None => item("payouts", NotApplicable, "No payment has been registered on this case yet.".into(), None),
        Some(_) => {
            let earning = mine.iter().filter(|p| p.reason.is_attributed()).count();
            let status = if latest.is_some_and(|p| p.reason.is_attributed()) { Pass } else { Fail };
            let failing = mine.iter().rev().find(|p| !p.reason.is_attributed());
            item(
                "payouts",
                status,
                format!("{} payout(s), {} earning.", mine.len(), earning),
                if status == Fail { failing.map(|p| p.reason.resolution()) } else { None },
            )
        }
    });

    let (verdict, reason) = match latest {
        Some(p) if p.reason.is_attributed() => (Verdict::Attributed, p.reason),
        Some(p) => (Verdict::NotAttributed, p.reason),
        None => (Verdict::NoPayoutYet, current.reason),
    };
    CheckReport { verdict, reason, checks }
}

#[cfg(test)]
mod tests;
