//! The page frame: partner branding (logo, colours, font), escaping by maud, and the
//! error pages.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use refshare_app::AppError;
use serde_json::Value;

/// Branding values as validated at partner creation; anything else falls back.
fn brand(b: &Value, key: &str, fallback: &str) -> String {
    b.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).unwrap_or(fallback).to_string()
}

pub fn page(title: &str, partner_name: &str, branding: &Value, body: Markup) -> Markup {
    let bg = brand(branding, "backgroundColorCode", "#0b3d91");
    let fg = brand(branding, "fontColor", "#ffffff");
    let font = brand(branding, "fontFamily", "system-ui, sans-serif");
    let logo = branding.get("logoUrl").and_then(|v| v.as_str()).filter(|s| s.starts_with("https://") || s.starts_with("http://"));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (partner_name) }
                style {
                    "body{margin:0;font-family:" (font) ";background:#f5f6f8;color:#1d2330}"
                    "header{background:" (bg) ";color:" (fg) ";padding:16px 24px;display:flex;align-items:center;gap:12px}"
                    "header img{height:32px}"
                    "main{max-width:720px;margin:24px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.1)}"
                    ".agreement{max-height:240px;overflow:auto;border:1px solid #d0d4dc;padding:12px;background:#fafbfc;font-size:14px}"
                    "label{display:block;margin:12px 0 4px}"
                    "input[type=text]{width:100%;padding:8px;font-size:16px;box-sizing:border-box}"
                    "button{padding:10px 18px;font-size:16px;margin-right:8px;cursor:pointer}"
                    ".primary{background:" (bg) ";color:" (fg) ";border:0;border-radius:4px}"
                    ".error{background:#fde8e8;border:1px solid #f5a3a3;padding:8px 12px;border-radius:4px}"
                    "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}"
                }
            }
            body {
                header {
                    @if let Some(l) = logo { img src=(l) alt=(partner_name); }
                    strong { (partner_name) }
                }
                main { (body) }
            }
        }
    }
}

/// A page for errors of the hosted flow (410 for used or expired tokens).
pub fn error_page(e: AppError) -> Response {
    let status = crate::error::status_of(&e);
    let message = match &e {
        AppError::NotFound(_) => "This link is not valid. Check that you copied the whole address.".to_string(),
        AppError::Validation(fields) => fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        AppError::Internal(cause) => {
            tracing::error!(%cause, "internal error on a hosted page");
            "Something went wrong on our side. Please try again later.".to_string()
        }
        other => other.to_string(),
    };
    let status = if status == StatusCode::UNAUTHORIZED { StatusCode::NOT_FOUND } else { status };
    let heading = if status == StatusCode::BAD_REQUEST { "The request could not be read" } else { "This link can no longer be used" };
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
