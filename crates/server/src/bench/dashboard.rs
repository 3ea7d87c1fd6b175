//! The `dashboard` workload: every Partner Dashboard page (issue 10's speed goal: each
//! page ≤ 100 ms p99 for the largest partner at 1M cases), requested as a signed-in admin
//! of the benched partner through the same HTTP stack, beside the `/healthz` floor.
//!
//! The user is added to the partner and signed in through the app's own use cases (a
//! one-time link minted as `serve --demo` mints its printed ones, then the sign-in), so
//! the pages run the session lookup, the partner's branding and the page's reads exactly
//! as for a browser. Each page is its own line; a page that answers anything but 200 on
//! a `/dashboard` URL (e.g. a redirect to `/login`) aborts the bench.

use std::sync::Arc;

use chrono::Datelike;
use refshare_app::people::PartnerUserInput;

use super::load::{drive, Job};
use super::{caps, enc, terms, Ctx, Line, Outcome};

/// The session cookie of an admin of the benched partner.
async fn session_cookie(ctx: &Ctx) -> Result<String, String> {
    let email = format!("bench-{}@bench.example", ctx.run_id);
    let input = PartnerUserInput { email: Some(email.clone()), name: Some("Bench Admin".into()), role: Some("admin".into()) };
    ctx.app.add_partner_user(ctx.partner.id, input).await.map_err(|e| e.to_string())?;
    let link = ctx.app.demo_signin_link(&email, "/dashboard").await.map_err(|e| e.to_string())?;
    let secret = link.rsplit('/').next().unwrap_or_default();
    let signed = ctx.app.signin_with_link(secret).await.map_err(|e| e.to_string())?;
    Ok(format!("refshare_session={}", signed.cookie_value))
}

/// A GET with the session cookie: `Ok(1)` on a 200 that stayed on a dashboard URL.
fn page_job(ctx: &Ctx, cookie: String, paths: Arc<Vec<String>>) -> impl Fn(usize) -> Job + Send + Sync + 'static {
    let (http, base) = (ctx.http.clone(), ctx.base.clone());
    move |i| {
        let req = http.get(format!("{base}{}", paths[i % paths.len()])).header("cookie", cookie.clone());
        Box::pin(async move {
            let resp = req.send().await.map_err(|e| e.to_string())?;
            let (status, path) = (resp.status(), resp.url().path().to_string());
            let body = resp.bytes().await.map_err(|e| e.to_string())?;
            if status.is_success() && path.starts_with("/dashboard") {
                Ok(1)
            } else {
                Err(format!("{status} at {path}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])))
            }
        })
    }
}

pub(super) async fn dashboard(ctx: &mut Ctx) -> Result<Vec<Outcome>, String> {
    let floor = match ctx.healthz.clone() {
        Some(f) => f,
        None => super::healthz_line(ctx).await?.f,
    };
    let cookie = session_cookie(ctx).await?;
    let t = terms(ctx, 50).await?;
    let now = ctx.app.now();
    let (y, m) = if now.month() == 1 { (now.year() - 1, 12) } else { (now.year(), now.month() - 1) };
    let first = |v: &[String]| v.first().cloned().unwrap_or_default();
    let pages: Vec<(&str, Vec<String>)> = vec![
        ("overview", vec!["/dashboard".into()]),
        ("clients", vec!["/dashboard/clients".into()]),
        ("clients search", t.companies.iter().map(|w| format!("/dashboard/clients?q={}", enc(w))).collect()),
        ("cases", vec!["/dashboard/cases".into()]),
        ("cases search", t.debtors.iter().map(|w| format!("/dashboard/cases?q={}", enc(w))).collect()),
        ("case check", t.references.iter().take(20).map(|r| format!("/dashboard/cases/{}", enc(r))).collect()),
        ("earnings", vec!["/dashboard/earnings".into()]),
        ("earnings search", vec![format!("/dashboard/earnings?q={}", enc(&first(&t.references)))]),
        ("disputes", vec!["/dashboard/disputes".into()]),
        ("statement", vec![format!("/dashboard/statements/{y:04}-{m:02}")]),
        ("team", vec!["/dashboard/team".into()]),
        ("webhooks", vec!["/dashboard/webhooks".into()]),
        ("API keys", vec!["/dashboard/api-keys".into()]),
        ("settings", vec!["/dashboard/settings".into()]),
    ];
    let mut out = Vec::new();
    for (name, paths) in pages {
        if paths.is_empty() {
            continue;
        }
        eprintln!("bench: dashboard {name} …");
        let n = paths.len();
        let paths = Arc::new(paths);
        super::warm_up(ctx, &format!("dashboard {name}"), n, page_job(ctx, cookie.clone(), paths.clone())).await?;
        let f = drive(caps(ctx, ctx.args.concurrency, ctx.args.requests), page_job(ctx, cookie.clone(), paths)).await;
        let line = super::app_line(&format!("app page ({n} URL{})", if n == 1 { "" } else { "s" }), f)?;
        let p99 = line.f.p99_ms;
        out.push(Outcome {
            name: format!("dashboard {name}"),
            lines: vec![line, Line { what: "/healthz floor".into(), f: floor.clone() }],
            ratio: super::ratio(p99, floor.p99_ms),
            goal: "p99 ≤ 100 ms".into(),
            met: Some(p99 <= 100.0),
        });
    }
    Ok(out)
}
