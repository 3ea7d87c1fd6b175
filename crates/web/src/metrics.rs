//! `GET /metrics` in the Prometheus text format: HTTP requests per method, route template
//! and status with a latency histogram (recorded by the `track` middleware for the whole
//! process), the business gauges of `app::gauges` read at scrape time, and the payment
//! writer's group-commit counters (`app::payments_group`).
//!
//! Every label value is bounded: methods outside the standard set count as `other`, paths
//! no route matched share `unmatched`, statuses are the few the service answers. Access
//! (`App::authenticate_metrics`): only with `REFSHARE_METRICS_TOKEN` in `production`, and
//! per-partner series only for that token's bearer.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use refshare_app::App;

use crate::auth::Scraper;
use crate::error::ApiResult;

/// Upper bounds (seconds) of the latency histogram.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct RouteStats {
    count: u64,
    sum_seconds: f64,
    /// Cumulative counts per bucket, as Prometheus wants them.
    buckets: [u64; BUCKETS.len()],
}

/// (method, route template, status) → stats. One per process, like any Prometheus registry.
static HTTP: LazyLock<Mutex<BTreeMap<(String, String, u16), RouteStats>>> = LazyLock::new(Default::default);

/// The method label: a standard method, or `other` (clients may send any token).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: times every request and counts it under its route template (never the raw
/// path, so ids do not explode the label space).
pub async fn track(matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let method = method_label(req.method()).to_string();
    let route = matched.map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let res = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut map = HTTP.lock().expect("metrics lock");
    let stats = map.entry((method, route, res.status().as_u16())).or_default();
    stats.count += 1;
    stats.sum_seconds += seconds;
    for (i, le) in BUCKETS.iter().enumerate() {
        if seconds <= *le {
            stats.buckets[i] += 1;
        }
    }
    res
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Minor units as a decimal number with the currency's exponent (exact, no floats).
fn decimal(minor: i64, exponent: u32) -> String {
    refshare_core::money::format_minor(minor, exponent)
}

pub async fn metrics(State(app): State<App>, Scraper(access): Scraper) -> ApiResult<Response> {
    let gauges = app.gauges(access).await?;
    let mut out = String::new();
    {
        let map = HTTP.lock().expect("metrics lock");
        out.push_str("# HELP refshare_http_requests_total HTTP requests by method, route template and status.\n");
        out.push_str("# TYPE refshare_http_requests_total counter\n");
        for ((m, r, s), st) in map.iter() {
            let _ = writeln!(out, "refshare_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {}", label(r), st.count);
        }
        out.push_str("# HELP refshare_http_request_duration_seconds Time to answer, by method and route template.\n");
        out.push_str("# TYPE refshare_http_request_duration_seconds histogram\n");
        let mut per_route: BTreeMap<(&str, &str), RouteStats> = BTreeMap::new();
        for ((m, r, _), st) in map.iter() {
            let agg = per_route.entry((m, r)).or_default();
            agg.count += st.count;
            agg.sum_seconds += st.sum_seconds;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += st.buckets[i];
            }
        }
        for ((m, r), st) in &per_route {
            let r = label(r);
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "refshare_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{le}\"}} {}",
                    st.buckets[i]
                );
            }
            let _ = writeln!(out, "refshare_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}", st.count);
            let _ = writeln!(out, "refshare_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}", st.sum_seconds);
            let _ = writeln!(out, "refshare_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}", st.count);
        }
    }
    out.push_str(
        "# HELP refshare_ledger_balance Sum of ledger entries per revenue stage and currency (all partners), in currency units.\n",
    );
    out.push_str("# TYPE refshare_ledger_balance gauge\n");
    for (stage, currency, minor, exp) in &gauges.ledger {
        let _ = writeln!(out, "refshare_ledger_balance{{stage=\"{}\",currency=\"{currency}\"}} {}", stage.as_str(), decimal(*minor, *exp));
    }
    if !gauges.partner_ledger.is_empty() {
        out.push_str(
            "# HELP refshare_partner_ledger_balance Sum of ledger entries per partner, revenue stage and currency, in currency units.\n",
        );
        out.push_str("# TYPE refshare_partner_ledger_balance gauge\n");
        for (partner, stage, currency, minor, exp) in &gauges.partner_ledger {
            let _ = writeln!(
                out,
                "refshare_partner_ledger_balance{{partner=\"{partner}\",stage=\"{}\",currency=\"{currency}\"}} {}",
                stage.as_str(),
                decimal(*minor, *exp)
            );
        }
    }
    for (name, help, rows) in [
        ("refshare_webhook_deliveries", "Webhook deliveries by status.", &gauges.webhook_deliveries),
        ("refshare_notifications", "E-mails by delivery status.", &gauges.notifications),
        ("refshare_disputes", "Disputes by status.", &gauges.disputes),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (status, n) in rows {
            let _ = writeln!(out, "{name}{{status=\"{}\"}} {n}", label(status));
        }
    }
    out.push_str("# HELP refshare_fx_rates_missing FX rates (currency, date) that figures need and that are not loaded.\n");
    let _ = writeln!(out, "# TYPE refshare_fx_rates_missing gauge\nrefshare_fx_rates_missing {}", gauges.fx_rates_missing);
    let groups = app.payment_group_stats();
    for (name, kind, help, value) in [
        (
            "refshare_payment_groups_total",
            "counter",
            "Transactions the payment writer booked single payments in (group commit).",
            groups.groups,
        ),
        (
            "refshare_payment_group_payments_total",
            "counter",
            "Single payments booked through the payment writer's groups.",
            groups.payments,
        ),
        ("refshare_payment_group_largest", "gauge", "The largest group of single payments booked in one transaction.", groups.largest),
        (
            "refshare_payment_groups_retried_alone_total",
            "counter",
            "Groups whose transaction failed before its commit and were booked one payment at a time.",
            groups.retried_alone,
        ),
        (
            "refshare_payment_groups_rebooked_total",
            "counter",
            "Groups with a refused payment, booked again with a savepoint per payment.",
            groups.rebooked,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    }
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response())
}
