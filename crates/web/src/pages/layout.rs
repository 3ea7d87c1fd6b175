//! The page frame: partner branding (logo, colours, font), escaping by maud, and the
//! error pages. A page's one stylesheet is inline and its SHA-256 goes into the page's
//! Content-Security-Policy (see `crate::headers`), so no other style and no script runs.

use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use refshare_app::AppError;
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

pub fn page(title: &str, partner_name: &str, branding: &Value, body: Markup) -> Page {
    let bg = brand(branding, "backgroundColorCode", "#0b3d91");
    let fg = brand(branding, "fontColor", "#ffffff");
    let font = brand(branding, "fontFamily", "system-ui, sans-serif");
    // Only https logos: the policy allows images from `https:` alone.
    let logo = branding.get("logoUrl").and_then(|v| v.as_str()).filter(|s| s.starts_with("https://"));
    let css = [
        format!("body{{margin:0;font-family:{font};background:#f5f6f8;color:#1d2330}}"),
        format!("header{{background:{bg};color:{fg};padding:16px 24px;display:flex;align-items:center;gap:12px}}"),
        "header img{height:32px}".to_string(),
        "main{max-width:720px;margin:24px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.1)}"
            .to_string(),
        ".agreement{max-height:240px;overflow:auto;border:1px solid #d0d4dc;padding:12px;background:#fafbfc;font-size:14px}".to_string(),
        "label{display:block;margin:12px 0 4px}".to_string(),
        "input[type=text],input[type=email]{width:100%;padding:8px;font-size:16px;box-sizing:border-box}".to_string(),
        "button{padding:10px 18px;font-size:16px;margin-right:8px;cursor:pointer}".to_string(),
        format!(".primary{{background:{bg};color:{fg};border:0;border-radius:4px}}"),
        ".error{background:#fde8e8;border:1px solid #f5a3a3;padding:8px 12px;border-radius:4px}".to_string(),
        "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}".to_string(),
    ]
    .concat();
    let style_hash = format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes())));
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (partner_name) }
                // Branding values cannot close the element or a declaration (see `brand`).
                style { (PreEscaped(&css)) }
            }
            body {
                header {
                    @if let Some(l) = logo { img src=(l) alt=(partner_name); }
                    strong { (partner_name) }
                }
                main { (body) }
            }
        }
    };
    Page { html, style_hash }
}

/// A page for errors of the hosted flow (410 for used or expired tokens).
pub fn error_page(e: AppError) -> Response {
    crate::error::log_internal(&e, "hosted page");
    let status = crate::error::status_of(&e);
    let message = match &e {
        AppError::NotFound(_) => "This link is not valid. Check that you copied the whole address.".to_string(),
        AppError::Validation(fields) => fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        other => crate::error::message_of(other),
    };
    let status = if status == StatusCode::UNAUTHORIZED { StatusCode::NOT_FOUND } else { status };
    let heading = match status {
        StatusCode::BAD_REQUEST => "The request could not be read",
        StatusCode::FORBIDDEN => "This form could not be accepted",
        _ => "This link can no longer be used",
    };
    let body = page(
        "Link unavailable",
        "refshare",
        &Value::Null,
        html! {
            h1 { (heading) }
            p.notice { (message) }
        },
    );
    (status, body).into_response()
}
