//! The overview's Attention list: the app's `Attention` view as a table, most urgent
//! first (the order and every sentence are the app's). Each row names the client (a link
//! to its timeline) or the case, the deadline as a `<time>`, what happened and what to do.

use maud::{html, Markup};
use refshare_app::attention::Attention;
use refshare_core::Instant;

use super::day;

/// `<time>` of an instant, shown as its day.
pub(super) fn time(t: Instant) -> Markup {
    html! { time datetime=(crate::wire::ts(t)) { (day(t)) } }
}

/// The path of a client's timeline (the tenant id percent-encoded as one path segment).
pub(super) fn timeline_href(external_tenant_id: &str) -> String {
    let mut out = String::from("/dashboard/clients/");
    for b in external_tenant_id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Attention section of the overview.
pub(super) fn section(a: &Attention) -> Markup {
    html! {
        h2 #attention { "Needs your attention" }
        @if a.items.is_empty() {
            p { "Nothing needs your attention right now: no pending approvals or onboarding, no archived links, no recent cases that will not earn, no open disputes or closing dispute windows." }
        } @else {
            table {
                caption.muted { "Most urgent first: deadlines first, soonest first." }
                thead { tr {
                    th scope="col" { "What" } th scope="col" { "Client" } th scope="col" { "Case" }
                    th scope="col" { "Deadline" } th scope="col" { "Why it matters and what to do" }
                } }
                tbody {
                    @for i in &a.items {
                        tr data-kind=(i.kind.as_str()) {
                            td { span.tag.warn { (i.kind.label()) } br; span.muted { "since " (time(i.since)) } }
                            td {
                                a href=(timeline_href(&i.external_tenant_id)) { code { (i.external_tenant_id) } }
                                @if let Some(n) = &i.company_name { br; (n) }
                            }
                            td { @if let Some(r) = &i.case_reference { a href=(super::check::case_path(r)) { (r) } } @else { "—" } }
                            td { @if let Some(d) = i.deadline { (time(d)) } @else { "—" } }
                            td {
                                (i.explanation) br;
                                strong { "To do: " } (i.action)
                                @if let Some(u) = &i.url { br; a href=(u) { "Onboarding link to send again" } }
                            }
                        }
                    }
                }
            }
            @if !a.truncated.is_empty() {
                p.muted { "Only the first 25 of each are shown for: "
                    @for (n, k) in a.truncated.iter().enumerate() { @if n > 0 { ", " } (k.label()) } "." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_is_one_encoded_path_segment() {
        assert_eq!(timeline_href("acme-1_x.y~"), "/dashboard/clients/acme-1_x.y~");
        assert_eq!(timeline_href("a b/c?d"), "/dashboard/clients/a%20b%2Fc%3Fd");
        assert_eq!(timeline_href("ø"), "/dashboard/clients/%C3%B8");
    }
}
