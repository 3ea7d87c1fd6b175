//! `GET /dashboard/cases/{reference}` — the self-serve check of SPEC §8 for one case,
//! from `App::partner_attribution_check` (the answer of `GET /referral-api/attribution/
//! cases/{reference}`): each check with its result, what the system found and what to do;
//! the payouts with decision, reason, fee and stage; why the case is not in the Cases tab
//! when it is not; and, while the window is open, the "Raise a dispute" form prefilled
//! from the check (`app::disputes::draft`), posted to `/dashboard/disputes`.
//! `GET /dashboard/check?reference=` is the Cases tab's lookup form: a redirect here.
//! An unknown reference and a case of a client never linked to the partner are the same
//! 404 page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use refshare_app::attribution::AttributionView;
use refshare_app::disputes::{draft, DisputeInput};
use refshare_app::{App, AppError};
use refshare_core::check::CheckStatus;
use refshare_core::people::PartnerPermission;
use serde::Deserialize;

use super::{day, money, DashQuery, Staff};
use crate::pages::PagePath;

const TAB: &str = "/dashboard/cases";

/// Where the dispute form posts (and what its CSRF token is bound to).
pub const DISPUTE_ACTION: &str = "/dashboard/disputes";

/// The page of a case's check.
pub fn case_path(reference: &str) -> String {
    format!("/dashboard/cases/{}", segment(reference))
}

/// A path segment, percent-encoded except for unreserved characters.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant as a `<time>` element: minutes, UTC.
pub fn time(t: refshare_core::Instant) -> Markup {
    html! { time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) { (t.format("%Y-%m-%d %H:%M UTC")) } }
}

/// "Check a case by reference": finds any case of a client linked to the partner, also
/// one the Cases tab does not list.
pub fn lookup_form() -> Markup {
    html! {
        form.filters method="get" action="/dashboard/check" {
            div {
                label for="reference" { "Check a case by reference" }
                input #reference type="text" name="reference" required maxlength="64";
            }
            div { button type="submit" { "Check" } }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LookupParams {
    reference: Option<String>,
}

/// The Cases tab's "check a case by reference" form: to the case's check page.
pub async fn lookup(State(app): State<App>, DashQuery(p): DashQuery<LookupParams>, staff: Staff) -> Response {
    match p.reference.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => staff.failure(&app, TAB, AppError::bad_field("reference", "is required")),
        Some(r) if r.chars().count() > 64 => staff.failure(&app, TAB, AppError::bad_field("reference", "must be at most 64 characters")),
        Some(r) => Redirect::to(&case_path(r)).into_response(),
    }
}

pub async fn show(State(app): State<App>, PagePath(reference): PagePath, staff: Staff) -> Response {
    match app.partner_attribution_check(&staff.partner, reference.trim()).await {
        Ok(view) => render(&app, &staff, &view, None, StatusCode::OK),
        Err(e) => staff.failure(&app, TAB, e),
    }
}

/// A refused dispute form: the values entered and why it was refused.
pub struct Refused<'a> {
    pub entered: &'a DisputeInput,
    pub error: &'a AppError,
}

fn check_label(id: &str) -> &str {
    match id {
        "link" => "Client link",
        "onboarding" => "Onboarding",
        "attribution_type" => "Attribution type",
        "creation_source" => "Creation source",
        "case_after_link" => "Case created after the link",
        "payouts" => "Payouts",
        other => other,
    }
}

fn status_tag(s: CheckStatus) -> Markup {
    match s {
        CheckStatus::Pass => html! { span.tag { "Pass" } },
        CheckStatus::Fail => html! { span.tag.warn { "Fail" } },
        CheckStatus::NotApplicable => html! { span.tag { "Not applicable" } },
    }
}

/// The check page, with the dispute form (refilled after a refusal).
pub fn render(app: &App, staff: &Staff, v: &AttributionView, refused: Option<Refused<'_>>, status: StatusCode) -> Response {
    let report = v.report.as_ref();
    let verdict = match report.map(|r| r.verdict) {
        Some(refshare_core::check::Verdict::Attributed) => "Attributed",
        Some(refshare_core::check::Verdict::NoPayoutYet) => "No payout yet",
        _ => "Not attributed",
    };
    let reason = report.map(|r| r.reason.as_str()).unwrap_or("no_link");
    let client = match &v.link {
        Some(l) => format!("{} ({})", v.client.company_name, l.external_tenant_id),
        None => v.request.as_ref().map(|r| r.external_tenant_id.clone()).unwrap_or_else(|| "—".into()),
    };
    let body = html! {
        p { a href=(TAB) { "← Cases" } }
        h1 { "Case " (v.case.reference) }
        dl {
            dt { "Client" } dd { (client) }
            dt { "Created" } dd { (time(v.case.created_at)) " via " (v.case.source.as_str()) }
            dt { "Lifecycle" } dd { (v.case.lifecycle.as_str()) }
            dt { "Verdict" } dd { strong { (verdict) } " " span.tag { (reason) } }
        }
        @if let Some(why) = &v.not_listed {
            section aria-labelledby="not-listed" {
                h2 #not-listed { "Why this case is not in your Cases tab" }
                p.callout { (why.explanation()) }
            }
        }
        h2 { "The checks" }
        @if let Some(r) = report {
            table {
                thead { tr { th scope="col" { "Check" } th scope="col" { "Result" } th scope="col" { "What the system found" } th scope="col" { "What to do" } } }
                tbody {
                    @for c in &r.checks {
                        tr {
                            th scope="row" { (check_label(c.id)) }
                            td { (status_tag(c.status)) }
                            td { (c.detail) }
                            td { (c.resolution.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
        @if let Some(url) = &v.onboarding_url {
            p { "Onboarding is pending. Send the client this link again: " a href=(url) { (url) } }
        }
        h2 { "Payouts" }
        @if v.payouts.is_empty() {
            p { "No payment has been registered on this case yet." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Date" } th scope="col" { "Decision" } th scope="col" { "Reason" } th.num scope="col" { "Fee" }
                    th scope="col" { "Stage" } th scope="col" { "What to do" }
                } }
                tbody {
                    @for p in &v.payouts {
                        tr {
                            td { (time(p.date)) }
                            td { @if p.decision.attributed { "Attributed" } @else { "Not attributed" } }
                            td { span.tag { (p.decision.reason.as_str()) } }
                            td.num { (money(p.decision.referral_fee_minor, p.decision.currency)) }
                            td {
                                @if let Some(r) = &p.voided { "Reversed: " (r) }
                                @else if let Some(s) = p.stage { (s.label()) }
                                @else { "—" }
                            }
                            td { @if p.decision.attributed { "—" } @else { (p.decision.reason.resolution()) } }
                        }
                    }
                }
            }
        }
        (dispute_section(app, staff, v, refused))
    };
    let mut res = staff.page(app, TAB, &format!("Case {}", v.case.reference), body);
    *res.status_mut() = status;
    res
}

fn dispute_section(app: &App, staff: &Staff, v: &AttributionView, refused: Option<Refused<'_>>) -> Markup {
    let may_file = app.require_partner_permission(&staff.session, staff.partner.id, PartnerPermission::FileDisputes).is_ok();
    let d = draft(v);
    let values = refused.as_ref().map(|r| r.entered).unwrap_or(&d.input);
    let val = |o: &Option<String>| o.clone().unwrap_or_default();
    html! {
        section aria-labelledby="dispute" {
            h2 #dispute { "Raise a dispute" }
            @if let Some(r) = &refused { p.error role="alert" { (refusal_text(r.error)) } }
            @if let Some(id) = v.open_dispute {
                p { "You have an open dispute on this case: " a href={ "/dashboard/disputes/" (id) } { "see the dispute" } "." }
            } @else if !v.dispute_allowed {
                @if let Some(dl) = v.dispute_deadline {
                    p { "The dispute window closed " (time(dl)) "." }
                } @else {
                    p { "No payout yet: a dispute is possible once a payment is registered on this case." }
                }
            } @else {
                @if let Some(dl) = v.dispute_deadline { p { "Disputes on this case are accepted until " strong { (time(dl)) } "." } }
                @if !may_file {
                    p { "Only your partner's admins can raise a dispute." }
                } @else {
                    @if let Some(po) = &d.payout {
                        p { "Disputed: payout " code { (po.payout_id) } " of " (day(po.date)) " (" (po.decision.reason.as_str()) ")." }
                    }
                    form method="post" action=(DISPUTE_ACTION) {
                        input type="hidden" name="csrf" value=(app.form_token(staff.session.csrf_binding(), DISPUTE_ACTION));
                        input type="hidden" name="caseReference" value=(v.case.reference);
                        label for="externalTenantId" { "Your externalTenantId for the client" }
                        input #externalTenantId type="text" name="externalTenantId" required maxlength="255" value=(val(&values.external_tenant_id));
                        label for="creationMethod" { "How the case was created, as you know it" }
                        input #creationMethod type="text" name="creationMethod" required maxlength="500" value=(val(&values.creation_method));
                        label for="expectedOutcome" { "The outcome you expect" }
                        textarea #expectedOutcome name="expectedOutcome" required maxlength="2000" rows="3" { (val(&values.expected_outcome)) }
                        label for="observation" { "What you observed" }
                        textarea #observation name="observation" required maxlength="4000" rows="5" { (val(&values.observation)) }
                        p { button.primary type="submit" { "Raise the dispute" } }
                    }
                }
            }
        }
    }
}

fn refusal_text(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        other => crate::error::message_of(other),
    }
}
