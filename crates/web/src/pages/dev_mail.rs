//! `/dev/mail` (test environment only): the outbox as a page, newest first, with the
//! links of each mail clickable, so the sign-in, invitation and approval flows work
//! without an SMTP server. `?to=` shows one address's mail. In `production` the page is
//! absent (404): the app refuses to read the outbox there.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use maud::{html, Markup};
use refshare_app::{App, AppError};

use super::layout::{error_page, platform_page};
use crate::extract::check_form_text;

/// The longest `to` filter accepted (an e-mail address).
const MAX_TO_CHARS: usize = 254;

pub async fn show(State(app): State<App>, uri: Uri) -> Response {
    let raw = uri.query().unwrap_or_default();
    if let Err(e) = check_form_text(raw.as_bytes()) {
        return error_page(e);
    }
    let to =
        url::form_urlencoded::parse(raw.as_bytes()).find(|(k, _)| k == "to").map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    if to.as_ref().is_some_and(|t| t.chars().count() > MAX_TO_CHARS) {
        return error_page(AppError::bad_field("to", format!("must be at most {MAX_TO_CHARS} characters")));
    }
    let mails = match app.test_outbox(to.as_deref()).await {
        Ok(m) => m,
        Err(e) => return error_page(e),
    };
    platform_page(
        StatusCode::OK,
        "Outbox (test environment)",
        html! {
            h1 { "Outbox" }
            p { "The test environment's e-mail, newest first (at most " (refshare_app::notify::OUTBOX_PAGE_MAX)
                "). Use the links here instead of a mailbox. This page does not exist in production." }
            form method="get" action="/dev/mail" {
                label for="to" { "Only mail to" }
                " "
                input id="to" name="to" type="email" value=(to.clone().unwrap_or_default()) autocomplete="email";
                " "
                button type="submit" { "Show" }
                @if to.is_some() { " " a href="/dev/mail" { "Show all" } }
            }
            @if mails.is_empty() {
                p { "No mail." }
            }
            @for m in &mails {
                article class="mail" aria-labelledby=(format!("mail-{}", m.id)) {
                    h2 id=(format!("mail-{}", m.id)) { (m.subject) }
                    p {
                        "To " strong { (m.to_addr) } ", "
                        time datetime=(m.created_at.to_rfc3339()) { (m.created_at.format("%Y-%m-%d %H:%M:%S UTC")) }
                        " · " (m.kind) " · " (m.status)
                    }
                    pre { (linked(&m.body)) }
                }
            }
        },
    )
}

/// `text` with every `http://` or `https://` word made a link (the rest escaped).
fn linked(text: &str) -> Markup {
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"].iter().filter_map(|p| rest.find(p)).min() {
        let end = rest[start..].find(char::is_whitespace).map_or(rest.len(), |e| start + e);
        parts.push((false, &rest[..start]));
        parts.push((true, &rest[start..end]));
        rest = &rest[end..];
    }
    parts.push((false, rest));
    html! {
        @for (is_link, s) in parts {
            @if is_link { a href=(s) { (s) } } @else { (s) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::linked;

    #[test]
    fn links_become_anchors_and_the_rest_is_escaped() {
        let html = linked("Sign in: http://x.test/login/abc\nor <b>not</b> https://y.test").into_string();
        assert_eq!(
            html,
            "Sign in: <a href=\"http://x.test/login/abc\">http://x.test/login/abc</a>\nor &lt;b&gt;not&lt;/b&gt; \
             <a href=\"https://y.test\">https://y.test</a>"
        );
    }
}
