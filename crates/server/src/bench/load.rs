//! The load generator of `refshare bench`: `C` workers take request numbers from one
//! counter until a count or a time cap is reached, time each request, and the figures
//! (p50/p99/max latency, completed per second) are computed once at the end. The same
//! driver runs HTTP requests, raw SQL floors and plain write loops, so every figure and
//! its limit are measured the same way.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One unit of work (request `i`): `Ok(n)` counts `n` completed items (1 for a request,
/// 1,000 for a batch), `Err` names why it failed.
pub type Job = Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>;

/// Caps of one run.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub concurrency: usize,
    pub requests: usize,
    pub duration: Duration,
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    /// Units of work done (requests, statements or transactions).
    pub count: u64,
    /// Items completed (requests; payments for ingestion).
    pub items: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Items per second over the wall time of the run.
    pub rate: f64,
    pub seconds: f64,
}

/// Runs `make(i)` for i = 0, 1, … on `caps.concurrency` workers until `caps.requests`
/// were started or `caps.duration` has passed.
pub async fn drive<F>(caps: Caps, make: F) -> Figure
where
    F: Fn(usize) -> Job + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let samples: Arc<Mutex<Vec<(Duration, Result<u64, String>)>>> = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let deadline = started + caps.duration;
    let mut workers = Vec::new();
    for _ in 0..caps.concurrency.max(1) {
        let (make, next, samples) = (make.clone(), next.clone(), samples.clone());
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= caps.requests || Instant::now() >= deadline {
                    break;
                }
                let t0 = Instant::now();
                let outcome = make(i).await;
                mine.push((t0.elapsed(), outcome));
            }
            samples.lock().expect("not poisoned").extend(mine);
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let samples = std::mem::take(&mut *samples.lock().expect("not poisoned"));
    figure(samples, seconds)
}

fn figure(samples: Vec<(Duration, Result<u64, String>)>, seconds: f64) -> Figure {
    let mut f = Figure { seconds, ..Figure::default() };
    let mut ms: Vec<f64> = Vec::with_capacity(samples.len());
    for (d, outcome) in samples {
        f.count += 1;
        ms.push(d.as_secs_f64() * 1000.0);
        match outcome {
            Ok(n) => f.items += n,
            Err(e) => {
                f.errors += 1;
                f.first_error.get_or_insert(e);
            }
        }
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    f.p50_ms = percentile(&ms, 0.50);
    f.p99_ms = percentile(&ms, 0.99);
    f.max_ms = ms.last().copied().unwrap_or(0.0);
    f.mean_ms = if ms.is_empty() { 0.0 } else { ms.iter().sum::<f64>() / ms.len() as f64 };
    f.rate = if seconds > 0.0 { f.items as f64 / seconds } else { 0.0 };
    f
}

/// The nearest-rank percentile of sorted values (0 when there are none).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[tokio::test]
    async fn a_run_stops_at_its_request_cap_and_counts_errors() {
        let caps = Caps { concurrency: 3, requests: 10, duration: Duration::from_secs(60) };
        let f = drive(caps, |i| {
            Box::pin(async move {
                if i % 5 == 0 {
                    Err(format!("bad {i}"))
                } else {
                    Ok(2)
                }
            })
        })
        .await;
        assert_eq!(f.count, 10);
        assert_eq!(f.errors, 2);
        assert_eq!(f.items, 16);
        assert!(f.first_error.unwrap().starts_with("bad "));
    }
}
