//! pgbench beside the raw SQL on PostgreSQL: the same statements as scripts (one chosen
//! at random per transaction when there are several), `-c C -j C -T s`, each
//! transaction's latency taken from pgbench's own per-transaction log (`-l`), so its
//! p50/p99 are computed like the bench's. Its connections run with the app's session
//! settings (`PGOPTIONS`, `store::POSTGRES_SESSION`).

use std::path::Path;
use std::process::Command;

use super::load::{percentile, Figure};

/// Runs pgbench on `database_url` with `scripts` for `seconds` at `clients`.
pub async fn run(database_url: &str, scripts: &[String], clients: usize, seconds: u64) -> Result<Figure, String> {
    let url = url::Url::parse(database_url).map_err(|e| format!("pgbench: {e}"))?;
    let dir = std::env::temp_dir().join(format!("refshare-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("pgbench: {e}"))?;
    let mut cmd = Command::new("pgbench");
    cmd.args(["-n", "-l", "-c", &clients.to_string(), "-j", &clients.to_string(), "-T", &seconds.to_string()]);
    cmd.arg(format!("--log-prefix={}", dir.join("tx").display()));
    for (i, s) in scripts.iter().enumerate() {
        let file = dir.join(format!("script{i}.sql"));
        std::fs::write(&file, s).map_err(|e| format!("pgbench: {e}"))?;
        cmd.arg("-f").arg(&file);
    }
    cmd.args(["-h", url.host_str().unwrap_or("127.0.0.1"), "-p", &url.port().unwrap_or(5432).to_string()]);
    if !url.username().is_empty() {
        cmd.args(["-U", url.username()]);
    }
    // The app's session settings, so pgbench reads as the app reads.
    let options: Vec<String> = refshare_store::POSTGRES_SESSION.iter().map(|(name, value)| format!("-c {name}={value}")).collect();
    cmd.env("PGOPTIONS", options.join(" "));
    if let Some(p) = url.password() {
        cmd.env("PGPASSWORD", p);
    }
    cmd.arg(url.path().trim_start_matches('/'));
    cmd.current_dir(&dir);
    let output = tokio::task::spawn_blocking(move || cmd.output()).await.map_err(|e| e.to_string())?;
    let output = output.map_err(|e| format!("pgbench could not start (is it installed?): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!("pgbench failed: {} {}", stdout.trim(), String::from_utf8_lossy(&output.stderr).trim()));
    }
    let latencies = read_logs(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let tps = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("tps ="))
        .and_then(|l| l.split('=').nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("pgbench printed no tps: {stdout}"))?;
    Ok(figure(latencies?, tps, seconds as f64))
}

/// Every transaction's latency in ms from the `tx*` log files
/// (`client transaction latency_us script epoch us` per line).
fn read_logs(dir: &Path) -> Result<Vec<f64>, String> {
    let mut ms = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("tx") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
        ms.extend(parse_log(&text));
    }
    Ok(ms)
}

fn parse_log(text: &str) -> Vec<f64> {
    text.lines().filter_map(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok()).map(|us| us / 1000.0).collect()
}

fn figure(mut ms: Vec<f64>, tps: f64, seconds: f64) -> Figure {
    ms.sort_by(|a, b| a.total_cmp(b));
    Figure {
        count: ms.len() as u64,
        items: ms.len() as u64,
        errors: 0,
        first_error: None,
        p50_ms: percentile(&ms, 0.5),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
        mean_ms: if ms.is_empty() { f64::NAN } else { ms.iter().sum::<f64>() / ms.len() as f64 },
        rate: tps,
        seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_logs_give_latencies_in_ms() {
        let log = "0 0 1500 0 1700000000 123\n0 1 2500 0 1700000000 456\n";
        assert_eq!(parse_log(log), vec![1.5, 2.5]);
        let f = figure(parse_log(log), 800.0, 1.0);
        assert_eq!((f.p50_ms, f.p99_ms, f.max_ms, f.mean_ms, f.rate), (1.5, 2.5, 2.5, 2.0, 800.0));
    }
}
