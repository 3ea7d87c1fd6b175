//! The page frame: the partner's branding (logo, colours, font) in the header of the
//! hosted pages with a line naming the platform that provides the service, and on every
//! page a footer with the platform's name, legal entity, support address, terms and privacy
//! links (only those configured). Escaping by maud. A page's one stylesheet is inline and
//! its SHA-256 goes into the page's Content-Security-Policy (see `crate::headers`), so no
//! other style and no script runs.
//!
//! Partner pages get the platform passed in ([`page`]). Pages of the platform alone (the
//! sign-in pages, [`platform_page`]) and the error pages ([`error_page`]) are also answered
//! from extractors that have no App at hand: they leave their content in the response and
//! the [`frame_platform_pages`] layer, which holds the App, frames them.

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_SECURITY_POLICY};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use refshare_app::platform::Platform;
use refshare_app::{App, AppError};
use refshare_store::PartnerRecord;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Branding values as validated at partner creation; anything else (a character that
/// could end the stylesheet or a declaration) falls back.
fn brand(b: &Value, key: &str, fallback: &str) -> String {
    b.get(key)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty() && !s.contains(['<', '>', ';', '{', '}', '\\', '"']) && !s.chars().any(char::is_control))
        .unwrap_or(fallback)
        .to_string()
}

/// A rendered page: its HTML, and the hash of its stylesheet that its CSP allows.
pub struct Page {
    html: Markup,
    style_hash: String,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let csp = crate::headers::page_csp(Some(&self.style_hash));
        ([(CONTENT_SECURITY_POLICY, csp)], self.html).into_response()
    }
}

/// A hosted page in the partner's branding: `partner`'s logo and name in the header, with
/// the platform named beside them and in the footer.
pub fn page(platform: &Platform, title: &str, partner: &PartnerRecord, body: Markup) -> Page {
    frame(platform, title, Some(partner), None, body)
}

/// The navigation of a signed-in area (the Partner Dashboard): its tabs, the current one,
/// who is signed in, and the sign-out form's CSRF token.
pub struct Nav<'a> {
    /// (path, label) of each tab, in order.
    pub tabs: &'a [(&'a str, &'a str)],
    /// The path of the current tab.
    pub active: &'a str,
    pub user_name: &'a str,
    pub logout_csrf: String,
}

/// A page of a signed-in area in the partner's branding: the tabs under the header and a
/// wider main column for tables.
pub fn nav_page(platform: &Platform, title: &str, partner: &PartnerRecord, nav: &Nav<'_>, body: Markup) -> Page {
    frame(platform, title, Some(partner), Some(nav), body)
}

/// The platform's footer: its name, legal entity and the links that are configured.
fn footer(p: &Platform) -> Markup {
    let has_links = p.support_email.is_some() || p.terms_url.is_some() || p.privacy_url.is_some();
    html! {
        footer {
            p {
                strong { (p.name) }
                @if let Some(entity) = &p.legal_entity { " · " (entity) }
            }
            @if has_links {
                ul {
                    @if let Some(email) = &p.support_email {
                        li { "Support: " a href={ "mailto:" (email) } { (email) } }
                    }
                    @if let Some(url) = &p.terms_url { li { a href=(url) { "Terms of service" } } }
                    @if let Some(url) = &p.privacy_url { li { a href=(url) { "Privacy notice" } } }
                }
            }
        }
    }
}

fn frame(platform: &Platform, title: &str, partner: Option<&PartnerRecord>, nav: Option<&Nav<'_>>, body: Markup) -> Page {
    let none = Value::Null;
    let branding = partner.map_or(&none, |p| &p.branding);
    let bg = brand(branding, "backgroundColorCode", "#0b3d91");
    let fg = brand(branding, "fontColor", "#ffffff");
    let font = brand(branding, "fontFamily", "system-ui, sans-serif");
    // Only https logos: the policy allows images from `https:` alone.
    let logo = branding.get("logoUrl").and_then(|v| v.as_str()).filter(|s| s.starts_with("https://"));
    // Buttons and inputs take the page's font; links, focus rings and secondary buttons
    // share one blue (contrast above 4.5:1 on white and on the page background). Under
    // 600 pixels the card fills the width and the spacing shrinks.
    let css = [
        format!("body{{margin:0;font-family:{font};background:#f5f6f8;color:#1d2330;line-height:1.5}}"),
        format!("header{{background:{bg};color:{fg};padding:16px 24px;display:flex;align-items:center;justify-content:space-between;flex-wrap:wrap;gap:8px 24px}}"),
        ".brand{display:flex;align-items:center;gap:12px;font-size:20px;min-width:0;overflow-wrap:anywhere}".to_string(),
        "header img{height:32px;max-width:160px;object-fit:contain}".to_string(),
        ".by{margin:0;font-size:14px}".to_string(),
        "main{max-width:720px;margin:24px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.1);overflow-wrap:break-word}"
            .to_string(),
        "h1,h2,h3{line-height:1.25}h1{margin:8px 0 16px;font-size:30px}h2{margin:28px 0 8px;font-size:22px}".to_string(),
        "a{color:#1d4ed8}".to_string(),
        ":focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}".to_string(),
        "main li{margin:4px 0}li form{margin:8px 0 12px}".to_string(),
        ".agreement{max-height:420px;overflow:auto;border:1px solid #d0d4dc;border-radius:4px;padding:4px 16px;margin-bottom:16px;background:#fafbfc;font-size:14px;line-height:1.5}".to_string(),
        ".agreement h3{font-size:15px;margin:16px 0 4px}".to_string(),
        "label{display:block;margin:12px 0 4px;font-weight:600}".to_string(),
        "label:has(>input[type=checkbox]){display:flex;gap:10px;align-items:flex-start;font-weight:400;margin:16px 0}".to_string(),
        "input[type=checkbox]{width:20px;height:20px;margin:2px 0 0;flex:none;accent-color:#1d4ed8}".to_string(),
        "input[type=text],input[type=email]{width:100%;padding:8px 10px;font:inherit;border:1px solid #8a93a6;border-radius:4px;box-sizing:border-box}".to_string(),
        "button{font:inherit;padding:8px 18px;margin:4px 8px 4px 0;cursor:pointer;border:1px solid #1d4ed8;border-radius:4px;background:#fff;color:#1d4ed8;max-width:100%}".to_string(),
        "button:hover{background:#eef2fb}".to_string(),
        format!(".primary,.primary:hover{{background:{bg};color:{fg};border-color:{bg}}}"),
        ".error{background:#fde8e8;border:1px solid #f5a3a3;padding:8px 12px;border-radius:4px}".to_string(),
        "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dt{color:#4a5263}dd{margin:0;min-width:0}".to_string(),
        "footer{max-width:720px;margin:0 auto 32px;padding:0 32px;font-size:14px;color:#4a5263}".to_string(),
        "footer ul{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 20px}".to_string(),
        "@media (max-width:600px){header{padding:12px 16px}.brand{font-size:18px}main{margin:0 0 24px;padding:16px 20px;border-radius:0}h1{font-size:26px}footer{padding:0 20px}}".to_string(),
    ];
    let mut css = css.concat();
    if nav.is_some() {
        css.push_str(&WIDE_CSS.concat());
    }
    let style_hash = format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes())));
    let owner = partner.map_or(platform.name.as_str(), |p| p.company_name.as_str());
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (owner) }
                // Branding values cannot close the element or a declaration (see `brand`).
                style { (PreEscaped(&css)) }
            }
            body {
                header {
                    @match partner {
                        Some(p) => {
                            div.brand {
                                @if let Some(l) = logo { img src=(l) alt=(p.company_name); }
                                strong { (p.company_name) }
                            }
                            p.by { "Debt collection by " strong { (platform.name) } }
                        }
                        None => div.brand { strong { (platform.name) } },
                    }
                }
                @if let Some(n) = nav { (tabs(n)) }
                main.wide[nav.is_some()] { (body) }
                (footer(platform))
            }
        }
    };
    Page { html, style_hash }
}

/// The styles a signed-in area adds: tabs, wide tables, figures, the chart and pagers.
const WIDE_CSS: [&str; 16] = [
    "nav.tabs{background:#fff;border-bottom:1px solid #d0d4dc;padding:0 24px}",
    "nav.tabs ul{list-style:none;margin:0 auto;padding:0;max-width:1160px;display:flex;flex-wrap:wrap;gap:0 4px;align-items:center}",
    "nav.tabs a{display:block;padding:12px 10px;text-decoration:none;border-bottom:3px solid transparent}",
    "nav.tabs a[aria-current=page]{border-bottom-color:#1d4ed8;color:#1d2330;font-weight:600}",
    "nav.tabs .who{margin-left:auto;display:flex;gap:8px;align-items:center;color:#4a5263;font-size:14px}nav.tabs .who form{margin:0}",
    "main.wide,footer{max-width:1160px}main.wide{overflow-x:auto}",
    "table{border-collapse:collapse;width:100%;font-size:14px;margin:8px 0 16px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}th{background:#f5f6f8;font-weight:600}td.num,th.num{text-align:right;white-space:nowrap}",
    ".figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin:8px 0 16px;padding:0;list-style:none}.figures li{border:1px solid #e3e6eb;border-radius:6px;padding:10px 12px;margin:0}.figures .n{display:block;font-size:20px;font-weight:600}.figures .l{color:#4a5263;font-size:14px}",
    "form.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end;margin:8px 0 16px}form.filters label{margin:0 0 4px}form.filters input[type=text],form.filters select{width:auto;min-width:180px}",
    "select{font:inherit;padding:7px 8px;border:1px solid #8a93a6;border-radius:4px;background:#fff}",
    ".pager{display:flex;gap:16px;align-items:center;margin:8px 0}.muted{color:#4a5263}",
    "svg.chart{width:100%;height:auto;max-width:760px}svg.chart .bar{fill:#1d4ed8}svg.chart text{font-size:11px;fill:#4a5263}",
    ".tag{display:inline-block;padding:0 6px;border-radius:4px;background:#eef2fb;font-size:13px}.warn{background:#fff4e5}",
    "@media (max-width:600px){nav.tabs{padding:0 8px}nav.tabs a{padding:10px 6px}}",
    "textarea,input[type=month]{width:100%;padding:8px 10px;font:inherit;border:1px solid #8a93a6;border-radius:4px;box-sizing:border-box}form.filters input[type=month]{width:auto}.callout{background:#fff4e5;border:1px solid #f0c36d;padding:8px 12px;border-radius:4px}.pre{white-space:pre-wrap}",
    "input[type=url]{width:100%;padding:8px 10px;font:inherit;border:1px solid #8a93a6;border-radius:4px;box-sizing:border-box}.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}.notice{background:#e8f5ec;border:1px solid #8fd1a5;padding:8px 12px;border-radius:4px}code.key{font-size:15px;word-break:break-all}fieldset{border:1px solid #d0d4dc;border-radius:4px;margin:12px 0}",
];

/// The tabs of a signed-in area, with who is signed in and a sign-out button.
fn tabs(n: &Nav<'_>) -> Markup {
    html! {
        nav.tabs aria-label="Dashboard" {
            ul {
                @for (path, label) in n.tabs {
                    li {
                        @if *path == n.active { a href=(path) aria-current="page" { (label) } }
                        @else { a href=(path) { (label) } }
                    }
                }
                li.who {
                    span { (n.user_name) }
                    form method="post" action="/logout" {
                        input type="hidden" name="csrf" value=(n.logout_csrf);
                        button type="submit" { "Sign out" }
                    }
                }
            }
        }
    }
}

/// A page of the platform alone, framed by [`frame_platform_pages`].
#[derive(Clone)]
struct Unframed {
    title: String,
    body: Markup,
}

/// A page of the platform (no partner branding) with this status; the
/// [`frame_platform_pages`] layer adds the platform's header and footer.
pub fn platform_page(status: StatusCode, title: &str, body: Markup) -> Response {
    let mut res = status.into_response();
    res.extensions_mut().insert(Unframed { title: title.to_string(), body });
    res
}

/// Layer over every route: frames the responses of [`platform_page`] and [`error_page`]
/// with the configured platform, keeping their status and headers (cookies).
pub async fn frame_platform_pages(State(app): State<App>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.extensions().get::<Unframed>().is_none() {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let Some(u) = parts.extensions.remove::<Unframed>() else { unreachable!("checked above") };
    let (framed, body) = frame(app.platform(), &u.title, None, None, u.body).into_response().into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.extend(framed.headers);
    Response::from_parts(parts, body)
}

/// A page for errors of the hosted flow (410 for used or expired tokens).
pub fn error_page(e: AppError) -> Response {
    crate::error::log_internal(&e, "hosted page");
    let status = crate::error::status_of(&e);
    let message = match &e {
        AppError::NotFound(_) => "Check that you copied the whole address.".to_string(),
        AppError::Validation(fields) => fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        other => crate::error::message_of(other),
    };
    let status = if status == StatusCode::UNAUTHORIZED { StatusCode::NOT_FOUND } else { status };
    let heading = match status {
        StatusCode::BAD_REQUEST => "The request could not be read",
        StatusCode::FORBIDDEN => "This form could not be accepted",
        StatusCode::NOT_FOUND => "This link is not valid",
        _ => "This link can no longer be used",
    };
    platform_page(
        status,
        "Link unavailable",
        html! {
            h1 { (heading) }
            p.notice { (message) }
        },
    )
}
