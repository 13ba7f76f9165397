//! Prometheus metrics: requests by route and status, latency by route, sign-ins by result.
//! A small registry of our own: a handful of series does not need a metrics framework.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    sign_ins: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut m) = self.inner.lock() else { return };
        *m.requests
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let h = m.latency.entry(route.to_string()).or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.counts[i] += 1;
            }
        }
    }

    pub fn record_sign_in(&self, result: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.sign_ins.entry(result.to_string()).or_default() += 1;
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let Ok(m) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        out.push_str(
            "# HELP sesame_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE sesame_http_requests_total counter\n");
        for ((route, method, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "sesame_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                label(route),
                label(method)
            );
        }
        out.push_str("# HELP sesame_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE sesame_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            let route = label(route);
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "sesame_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "sesame_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP sesame_sign_ins_total Sign-in attempts by result.\n");
        out.push_str("# TYPE sesame_sign_ins_total counter\n");
        for result in ["success", "failure", "locked"] {
            let n = m.sign_ins.get(result).copied().unwrap_or(0);
            let _ = writeln!(out, "sesame_sign_ins_total{{result=\"{result}\"}} {n}");
        }
        out
    }
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: counts every request under its route template (never the raw path, which
/// would let clients create unbounded series).
pub async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    metrics.record_request(
        &route,
        &method,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.record_request("/healthz", "GET", 200, 0.002);
        m.record_request("/healthz", "GET", 200, 0.2);
        m.record_sign_in("failure");
        let text = m.render();
        assert!(text.contains(
            "sesame_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "sesame_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 1"
        ));
        assert!(text.contains(
            "sesame_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("sesame_sign_ins_total{result=\"failure\"} 1"));
        assert!(text.contains("sesame_sign_ins_total{result=\"success\"} 0"));
    }
}
