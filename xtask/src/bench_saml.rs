//! `cargo xtask bench saml-idp`: signed SAML Responses per second for a user who is already
//! signed in, over HTTP, SP-initiated with the Redirect binding, at concurrency 1, 4 and 16 on
//! keep-alive connections, with p50/p99 latency — next to the raw RSA-2048 (PKCS#1 v1.5,
//! SHA-256) signing rate of aws-lc-rs measured in the same run, on one thread and on every core.
//! Goal: responses/s ≥ 0.8 × (raw sign rate per core × cores). Written to
//! `target/bench/saml-idp.json`; a MISS does not fail the command.
//!
//! The load generator runs in this process, on the same cores as the server, so it is always a
//! release build (`cargo xtask` re-runs itself as `target/release/xtask`) and one epoll thread
//! for every connection ([`crate::load`]). The HTTP floor (bare `/healthz` round trips) goes
//! through the same generator.

use crate::bench::{self, verdict};
use crate::fixture;
use crate::http::{self, Conn};
use crate::load;
use crate::util::{self, Server, TempDir};
use anyhow::{Context, bail};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, RsaKeyPair};
use base64::Engine;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SP: &str = "https://sp.bench.example/sp";
const ACS: &str = "https://sp.bench.example/acs";
const PASSWORD: &str = "Bench-Horse-1";
const CONCURRENCY: [usize; 3] = [1, 4, 16];
/// Wall time of each concurrency level.
const LEVEL: Duration = Duration::from_secs(10);
/// Requests prepared per level (each valid 3 minutes); a level stops early if they run out.
const POOL: usize = 40_000;
const RAW_TIME: Duration = Duration::from_secs(3);
const GOAL: f64 = 0.8;
/// Bare round trips timed for the HTTP floor (about 3 s).
const HEALTHZ_REQUESTS: usize = 200_000;

pub fn run() -> anyhow::Result<()> {
    if bench::reexec_release(&["bench", "saml-idp"])? {
        return Ok(());
    }
    let bin = util::build_release_sesame()?;
    let token = util::admin_token();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let dir = TempDir::new("sesame-bench-saml")?;
    let server = Server::start(&bench::spec(&bin, &token, &dir, None))?;
    let base = server.base_url();
    let (tenant, domain) = fixture::create_tenant(&bin, &base, &token, "SAML Bench")?;
    let upn = format!("bench@{domain}");
    cli_ok(
        &bin,
        &base,
        &token,
        &[
            "user",
            "create",
            "-t",
            &tenant,
            &upn,
            "--display-name",
            "Bench User",
            "--password",
            PASSWORD,
        ],
    )?;
    let created = cli_ok(
        &bin,
        &base,
        &token,
        &[
            "app",
            "saml",
            "create",
            "-t",
            &tenant,
            "--name",
            "Bench SP",
            "--identifier",
            SP,
            "--reply-url",
            ACS,
            "--output",
            "json",
        ],
    )?;
    let app = created["app"]["id"]
        .as_str()
        .with_context(|| format!("sesame app saml create: no app.id in {created}"))?
        .to_string();
    cli_ok(
        &bin,
        &base,
        &token,
        &["app", "assign", "-t", &tenant, &app, "--user", &upn],
    )?;
    let cookie = sign_in(server.port, &tenant, &upn)?;
    // One request by hand: the whole chain works before anything is timed.
    let mut conn = Conn::open(server.port)?;
    let check = sso(
        &mut conn,
        &make_pool(server.port, &tenant, 1, 0)?[0],
        &cookie,
    )?;
    println!(
        "SSO answers with a signed Response ({} bytes of page)",
        check.body.len()
    );

    let raw_before = raw_sign_rate(1, RAW_TIME)?;
    let raw_all_before = raw_sign_rate(cores, RAW_TIME)?;
    println!(
        "raw aws-lc-rs RSA-2048 sign: {raw_before:.0}/s on one thread, {raw_all_before:.0}/s on {cores} threads"
    );
    let mut levels = Vec::new();
    let server_pid = server.pid().context("the server is not running")?;
    for (i, c) in CONCURRENCY.into_iter().enumerate() {
        let pool = make_pool(server.port, &tenant, POOL, i + 1)?;
        let (server_cpu, client_cpu) = (cpu_seconds(server_pid)?, cpu_seconds(std::process::id())?);
        let r = level(server.port, &cookie, pool, c)?;
        let per_response = |before: f64, pid: u32| -> anyhow::Result<f64> {
            Ok((cpu_seconds(pid)? - before) * 1e6 / r.requests.max(1) as f64)
        };
        let cpu = Cpu {
            server_us: per_response(server_cpu, server_pid)?,
            client_us: per_response(client_cpu, std::process::id())?,
        };
        println!(
            "  c={c:<2}  {:>7.0} responses/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} in {:.1} s)  CPU per response: server {:.0} µs, load generator {:.0} µs",
            r.per_s, r.p50_ms, r.p99_ms, r.requests, r.seconds, cpu.server_us, cpu.client_us
        );
        levels.push((c, r, cpu));
    }
    // The floor under any answer over HTTP here: a bare keep-alive round trip, with the server,
    // the load generator and the kernel on the same cores (as for the Responses above).
    let healthz_per_s = healthz_rate(server.port, 16, HEALTHZ_REQUESTS)?;
    let raw_after = raw_sign_rate(1, RAW_TIME)?;
    let raw_per_core = (raw_before + raw_after) / 2.0;
    let capacity = raw_per_core * cores as f64;
    drop(server);

    println!();
    println!(
        "raw sign rate per core {raw_per_core:.0}/s (before {raw_before:.0}, after {raw_after:.0}) × {cores} cores = {capacity:.0}/s; goal {GOAL} × that = {:.0}/s",
        GOAL * capacity
    );
    let best = levels
        .iter()
        .map(|(_, r, _)| r.per_s)
        .fold(0.0_f64, f64::max);
    for (c, r, _) in &levels {
        println!(
            "  c={c:<2}  {:>7.0} responses/s  ratio {:.3}  p50 {:.2} ms  p99 {:.2} ms",
            r.per_s,
            r.per_s / capacity,
            r.p50_ms,
            r.p99_ms
        );
    }
    let ratio = best / capacity;
    println!(
        "best {best:.0} responses/s = {ratio:.3} × raw capacity  {}",
        verdict(ratio >= GOAL, "≥ 0.8 × raw sign rate per core × cores")
    );
    // Where the CPU goes: one RSA signature costs 1/raw_per_core seconds; the rest of the
    // server's time per Response is everything else it does.
    let sign_us = 1e6 / raw_per_core;
    if let Some((c, _, cpu)) = levels.iter().max_by(|a, b| a.1.per_s.total_cmp(&b.1.per_s)) {
        println!(
            "at c={c}: server {:.0} µs CPU per Response ({sign_us:.0} µs of it the RSA signature), load generator {:.0} µs",
            cpu.server_us, cpu.client_us
        );
    }

    // At the goal, a Response may cost the machine 1/GOAL signatures of CPU: what is left
    // beyond its own signature is shared by everything else, the bare HTTP round trip first.
    let budget_us = sign_us * (1.0 / GOAL - 1.0);
    let http_us = cores as f64 * 1e6 / healthz_per_s;
    println!(
        "HTTP floor: bare round trips (/healthz, c=16) {healthz_per_s:.0}/s = {http_us:.0} µs of machine CPU each; at the goal a Response may cost {budget_us:.0} µs beyond its signature, leaving {:.0} µs for all the IdP's own work",
        budget_us - http_us
    );
    if let Some((_, _, cpu)) = levels.iter().max_by(|a, b| a.1.per_s.total_cmp(&b.1.per_s)) {
        println!(
            "  measured beyond the signature: {:.0} µs (server {:.0} − {sign_us:.0} signature, load generator {:.0})",
            cpu.server_us + cpu.client_us - sign_us,
            cpu.server_us,
            cpu.client_us
        );
    }

    let report = json!({
        "scenario": "SP-initiated, HTTP-Redirect AuthnRequest, user already signed in, HTTP-POST Response page",
        "machine": { "cpus": cores },
        "raw_rsa2048_sign_per_s": {
            "one_thread_before": raw_before,
            "one_thread_after": raw_after,
            "per_core": raw_per_core,
            "all_threads": raw_all_before,
            "threads": cores,
        },
        "capacity_per_s": capacity,
        "levels": levels.iter().map(|(c, r, cpu)| json!({
            "concurrency": c,
            "requests": r.requests,
            "seconds": r.seconds,
            "responses_per_s": r.per_s,
            "p50_ms": r.p50_ms,
            "p99_ms": r.p99_ms,
            "ratio_to_capacity": r.per_s / capacity,
            "server_cpu_us_per_response": cpu.server_us,
            "load_generator_cpu_us_per_response": cpu.client_us,
        })).collect::<Vec<_>>(),
        "rsa_sign_us": sign_us,
        "http_floor": {
            "healthz_per_s": healthz_per_s,
            "machine_cpu_us_per_round_trip": http_us,
            "budget_beyond_signature_us_at_goal": budget_us,
        },
        "best_responses_per_s": best,
        "ratio": ratio,
        "goal": GOAL,
        "pass": ratio >= GOAL,
    });
    bench::write_report("saml-idp.json", &report)
}

/// Runs the CLI, fails on a non-zero exit, returns its stdout as JSON (or `null`).
fn cli_ok(bin: &Path, base: &str, token: &str, args: &[&str]) -> anyhow::Result<serde_json::Value> {
    let out = fixture::cli(bin, base, token)
        .args(args)
        .output()
        .with_context(|| format!("cannot run sesame {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "sesame {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
}

/// Signs in through the form and returns the tenant's session cookie as `name=value`.
fn sign_in(port: u16, tenant: &str, upn: &str) -> anyhow::Result<String> {
    let mut conn = Conn::open(port)?;
    let login = conn.get(&format!("/{tenant}/login"), None)?;
    if login.status != 200 {
        bail!("GET /{tenant}/login: HTTP {}", login.status);
    }
    let csrf_cookie = login
        .cookies()
        .into_iter()
        .find(|(k, _)| k == "sesame_csrf")
        .map(|(_, v)| v)
        .context("GET /login set no sesame_csrf cookie")?;
    let csrf = hidden_field(&login.text(), "csrf").context("no csrf field in the login form")?;
    let form = format!(
        "csrf={}&username={}&password={}",
        fixture::encode(&csrf),
        fixture::encode(upn),
        fixture::encode(PASSWORD)
    );
    let cookie = format!("sesame_csrf={csrf_cookie}");
    let res = conn.request(
        "POST",
        &format!("/{tenant}/login"),
        &[("Cookie", &cookie)],
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
    )?;
    if res.status != 303 {
        bail!("POST /{tenant}/login: HTTP {}: {}", res.status, res.text());
    }
    println!(
        "signed in as {upn} (redirected to {})",
        res.header("location").unwrap_or("?")
    );
    res.cookies()
        .into_iter()
        .find(|(k, _)| k.starts_with("sesame_session_"))
        .map(|(k, v)| format!("{k}={v}"))
        .context("no sesame_session_… cookie after signing in")
}

/// The `value` of `<input … name="{name}" value="…">`, with the entities the pages use undone.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let value = html.get(start..)?.split('"').next()?;
    Some(
        value
            .replace("&#43;", "+")
            .replace("&#x2B;", "+")
            .replace("&#x2F;", "/")
            .replace("&#61;", "=")
            .replace("&amp;", "&"),
    )
}

/// One SSO round trip; fails unless it is a 200 page carrying a `SAMLResponse`.
fn sso(conn: &mut Conn, path: &str, cookie: &str) -> anyhow::Result<http::Response> {
    let res = conn.request("GET", path, &[("Cookie", cookie)], None)?;
    if res.status != 200 || load::find(&res.body, b"name=\"SAMLResponse\"").is_none() {
        bail!(
            "GET {}…: HTTP {} without a SAMLResponse: {}",
            path.get(..60).unwrap_or(path),
            res.status,
            res.text().chars().take(400).collect::<String>()
        );
    }
    Ok(res)
}

/// `n` request paths, each a fresh AuthnRequest (unique ID, current IssueInstant).
fn make_pool(port: u16, tenant: &str, n: usize, batch: usize) -> anyhow::Result<Vec<String>> {
    let instant = rfc3339_now();
    let destination = format!("http://127.0.0.1:{port}/{tenant}/saml2");
    let nonce = util::unique("b").replace('_', "");
    (0..n)
        .map(|i| {
            let id = format!("_{nonce}-{batch}-{i}");
            let xml = authn_request(&id, &instant, &destination);
            Ok(format!(
                "/{tenant}/saml2?SAMLRequest={}",
                fixture::encode(&deflate_base64(&xml)?)
            ))
        })
        .collect()
}

fn authn_request(id: &str, instant: &str, destination: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{ACS}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{SP}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>"#
    )
}

/// Raw DEFLATE (RFC 1951) then base64, as the Redirect binding wants (bindings §3.4.4.1).
fn deflate_base64(xml: &str) -> anyhow::Result<String> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes())?;
    let bytes = enc.finish()?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Now as `YYYY-MM-DDThh:mm:ssZ`.
fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// CPU time per Response, of the server and of this process (the load generator).
struct Cpu {
    server_us: f64,
    client_us: f64,
}

/// User + system CPU seconds of process `pid` so far (`/proc/{pid}/stat`, in USER_HZ = 100
/// ticks per second on Linux).
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .with_context(|| format!("unexpected /proc/{pid}/stat: {stat}"))
    };
    // utime and stime are fields 14 and 15, i.e. the 12th and 13th after the name.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

pub struct Level {
    pub requests: usize,
    pub seconds: f64,
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// `concurrency` keep-alive connections work through `pool` for up to `LEVEL`; every answer
/// must be a 200 page carrying a `SAMLResponse`.
fn level(port: u16, cookie: &str, pool: Vec<String>, concurrency: usize) -> anyhow::Result<Level> {
    let mut paths = pool.iter();
    let mut next = |out: &mut Vec<u8>| {
        let Some(path) = paths.next() else {
            return false;
        };
        let _ = write!(
            out,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n"
        );
        true
    };
    let accept = |status: u16, body: &[u8]| {
        if status != 200 || load::find(body, b"name=\"SAMLResponse\"").is_none() {
            bail!(
                "HTTP {status} without a SAMLResponse: {}",
                String::from_utf8_lossy(body)
                    .chars()
                    .take(400)
                    .collect::<String>()
            );
        }
        Ok(())
    };
    let run = load::closed_loop(
        port,
        concurrency,
        Instant::now() + LEVEL,
        &mut next,
        &accept,
    )?;
    Ok(summarize(run.latencies, run.seconds))
}

/// Bare keep-alive `GET /healthz` round trips per second at `concurrency`, through the same
/// load generator as the Responses.
fn healthz_rate(port: u16, concurrency: usize, total: usize) -> anyhow::Result<f64> {
    let mut left = total;
    let mut next = |out: &mut Vec<u8>| {
        if left == 0 {
            return false;
        }
        left -= 1;
        let _ = write!(
            out,
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        );
        true
    };
    let accept = |status: u16, _: &[u8]| {
        if status != 200 {
            bail!("GET /healthz: HTTP {status}");
        }
        Ok(())
    };
    let until = Instant::now() + Duration::from_secs(600);
    let run = load::closed_loop(port, concurrency, until, &mut next, &accept)?;
    Ok(run.latencies.len() as f64 / run.seconds)
}

pub fn summarize(mut lat: Vec<Duration>, seconds: f64) -> Level {
    lat.sort();
    let pct = |p: f64| {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Level {
        requests: lat.len(),
        seconds,
        per_s: lat.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

/// RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second of aws-lc-rs over a SignedInfo-sized
/// message, on `threads` threads for `time`.
fn raw_sign_rate(threads: usize, time: Duration) -> anyhow::Result<f64> {
    let key = Arc::new(
        RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| anyhow::anyhow!("cannot generate an RSA key: {e}"))?,
    );
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let key = key.clone();
            std::thread::spawn(move || -> anyhow::Result<u64> {
                let rng = SystemRandom::new();
                let msg = [0x5a_u8; 600];
                let mut sig = vec![0_u8; key.public_modulus_len()];
                let mut n = 0_u64;
                while started.elapsed() < time {
                    key.sign(&signature::RSA_PKCS1_SHA256, &rng, &msg, &mut sig)
                        .map_err(|e| anyhow::anyhow!("RSA sign failed: {e}"))?;
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for w in workers {
        match w.join() {
            Ok(r) => total += r?,
            Err(_) => bail!("a signing thread panicked"),
        }
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_273_822), "2026-11-21T15:10:22Z");
    }

    #[test]
    fn redirect_encoding_round_trips() {
        let xml = authn_request("_a1", "2026-01-01T00:00:00Z", "http://127.0.0.1:1/t/saml2");
        let b64 = deflate_base64(&xml).unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default();
        let mut out = String::new();
        flate2::read::DeflateDecoder::new(&bytes[..])
            .read_to_string(&mut out)
            .unwrap_or_default();
        assert_eq!(out, xml);
    }

    #[test]
    fn percentiles() {
        let lat: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = summarize(lat, 1.0);
        assert_eq!((l.requests, l.p50_ms, l.p99_ms), (100, 50.0, 99.0));
    }

    #[test]
    fn hidden_fields() {
        let html = r#"<input type="hidden" name="csrf" value="a&#43;b&amp;c">"#;
        assert_eq!(hidden_field(html, "csrf").as_deref(), Some("a+b&c"));
        assert_eq!(hidden_field(html, "other"), None);
    }
}
