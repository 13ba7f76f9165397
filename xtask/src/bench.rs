//! `cargo xtask bench`: the foundation's figures on a release build — cold start to `/readyz`,
//! idle RSS, and users imported per second through the API with `sesame user import` on SQLite
//! and PostgreSQL, next to a same-run baseline (`GET /healthz` at the same concurrency through
//! the same server stack) so that figures from different machines compare as ratios.
//! Targets are reported as PASS or MISS; missing one does not fail the command.

use crate::fixture;
use crate::http;
use crate::pg::{FreshDatabase, Throwaway};
use crate::util::{self, ServeSpec, Server, TempDir};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const USERS: usize = 10_000;
const CONCURRENCY: [usize; 2] = [8, 32];
const COLD_START_RUNS: usize = 5;
const TARGET_USERS_PER_S: f64 = 2_000.0;
const TARGET_RSS_MB: f64 = 30.0;
const TARGET_COLD_START_MS: f64 = 200.0;

/// `cargo xtask bench [saml-idp|saml-acs|scim]`: the foundation figures by default.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None | Some("foundation") => foundation(),
        Some("saml-idp") => crate::bench_saml::run(),
        Some("scim") => crate::bench_scim::run(&args[1..]),
        Some("saml-acs") => saml_acs(),
        Some(other) => {
            bail!("unknown benchmark {other:?}; try foundation, saml-idp, saml-acs or scim")
        }
    }
}

fn foundation() -> anyhow::Result<()> {
    let bin = util::build_release_sesame()?;
    let token = util::admin_token();

    let cold = cold_start(&bin, &token)?;
    let median_ms = median(&cold);
    println!(
        "cold start to /readyz: median {median_ms:.1} ms of {COLD_START_RUNS} ({})  {}",
        cold.iter()
            .map(|ms| format!("{ms:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        verdict(median_ms <= TARGET_COLD_START_MS, "≤ 200 ms")
    );

    let rss_mb = idle_rss(&bin, &token)?;
    println!(
        "idle RSS: {rss_mb:.1} MB  {}",
        verdict(rss_mb <= TARGET_RSS_MB, "≤ 30 MB")
    );

    let mut imports = Vec::new();
    for c in CONCURRENCY {
        imports.push(import_run(&bin, &token, "sqlite", None, c)?);
    }

    // PostgreSQL: the given server, else a throwaway cluster of our own, else skipped.
    let mut throwaway: Option<Throwaway> = None;
    let pg_url = match std::env::var("SESAME_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => match Throwaway::start() {
            Ok(t) => {
                let url = t.url.clone();
                throwaway = Some(t);
                Some(url)
            }
            Err(e) => {
                println!("PostgreSQL skipped: {e:#}");
                None
            }
        },
    };
    if let Some(url) = &pg_url {
        for c in CONCURRENCY {
            let db = FreshDatabase::create(url, "sesame_bench")?;
            imports.push(import_run(&bin, &token, "postgres", Some(&db.url), c)?);
        }
    }
    drop(throwaway);

    println!();
    println!("import through the API ({USERS} users, `sesame user import`)");
    for r in &imports {
        let target = if r.backend == "sqlite" {
            verdict(r.users_per_s >= TARGET_USERS_PER_S, "≥ 2,000/s")
        } else {
            String::new()
        };
        println!(
            "  {:<8} c={:<2}  {:>7.0} users/s  ({:.2} s)   baseline GET /healthz {:>8.0} req/s   ratio {:.3}  {target}",
            r.backend,
            r.concurrency,
            r.users_per_s,
            r.seconds,
            r.healthz_per_s,
            r.users_per_s / r.healthz_per_s
        );
    }

    let report = json!({
        "users": USERS,
        "cold_start_ms": { "runs": cold, "median": median_ms, "target": TARGET_COLD_START_MS,
                           "pass": median_ms <= TARGET_COLD_START_MS },
        "idle_rss_mb": { "value": rss_mb, "target": TARGET_RSS_MB, "pass": rss_mb <= TARGET_RSS_MB },
        "import": imports.iter().map(|r| json!({
            "backend": r.backend,
            "concurrency": r.concurrency,
            "seconds": r.seconds,
            "users_per_s": r.users_per_s,
            "healthz_per_s": r.healthz_per_s,
            "ratio_to_healthz": r.users_per_s / r.healthz_per_s,
            "target": if r.backend == "sqlite" { json!(TARGET_USERS_PER_S) } else { Value::Null },
            "pass": if r.backend == "sqlite" { json!(r.users_per_s >= TARGET_USERS_PER_S) } else { Value::Null },
        })).collect::<Vec<_>>(),
        "machine": { "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
    });
    let out = util::project_root().join("target/bench");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let file = out.join("foundation.json");
    std::fs::write(&file, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!();
    println!("written to {}", file.display());
    Ok(())
}

/// In a debug build of xtask: builds `sesame` and `xtask` in release mode and runs
/// `target/release/xtask <args>` instead, so that load generators and raw crypto loops are
/// optimised. Returns `true` when it did (the child's failure is ours).
pub fn reexec_release(args: &[&str]) -> anyhow::Result<bool> {
    if !cfg!(debug_assertions) {
        return Ok(false);
    }
    println!("building sesame and xtask (release)…");
    let status = util::cargo()
        .current_dir(util::project_root())
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "sesame",
            "-p",
            "xtask",
        ])
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p sesame -p xtask failed");
    }
    let bin = util::release_dir().join("xtask");
    let status = std::process::Command::new(&bin)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !status.success() {
        bail!("{} {} failed ({status})", bin.display(), args.join(" "));
    }
    Ok(true)
}

/// Writes `report` to `target/bench/<name>`.
/// The federation ACS benchmark lives with the code it measures (`sesame-core/benches`).
fn saml_acs() -> anyhow::Result<()> {
    let status = std::process::Command::new(env!("CARGO"))
        .args(["bench", "-p", "sesame-core", "--bench", "saml_acs"])
        .current_dir(util::project_root())
        .status()
        .context("cannot run cargo bench")?;
    if !status.success() {
        bail!("the saml-acs benchmark failed");
    }
    Ok(())
}

pub fn write_report(name: &str, report: &Value) -> anyhow::Result<()> {
    let out = util::project_root().join("target/bench");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let file = out.join(name);
    std::fs::write(&file, serde_json::to_string_pretty(report)?)
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!();
    println!("written to {}", file.display());
    Ok(())
}

pub fn verdict(pass: bool, target: &str) -> String {
    format!("[{} target {target}]", if pass { "PASS" } else { "MISS" })
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn spec(bin: &Path, token: &str, dir: &TempDir, database_url: Option<&str>) -> ServeSpec {
    ServeSpec {
        bin: bin.to_path_buf(),
        data_dir: dir.path().join("data"),
        database_url: database_url.map(str::to_string),
        token: token.to_string(),
        log: dir.path().join("server.log"),
    }
}

/// Milliseconds from spawn to the first 200 of `/readyz`, each run on a fresh data directory.
fn cold_start(bin: &Path, token: &str) -> anyhow::Result<Vec<f64>> {
    let mut runs = Vec::new();
    for _ in 0..COLD_START_RUNS {
        let dir = TempDir::new("sesame-bench-cold")?;
        let mut server = Server::spawn(&spec(bin, token, &dir, None))?;
        let took = server.wait_ready(Duration::from_secs(30))?;
        runs.push(took.as_secs_f64() * 1000.0);
    }
    Ok(runs)
}

/// VmRSS of a server that has started, answered a few requests and settled.
fn idle_rss(bin: &Path, token: &str) -> anyhow::Result<f64> {
    let dir = TempDir::new("sesame-bench-rss")?;
    let server = Server::start(&spec(bin, token, &dir, None))?;
    let (tenant, _) = fixture::create_tenant(bin, &server.base_url(), token, "rss")?;
    let mut conn = http::Conn::open(server.port)?;
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/tenants"] {
        conn.get(path, Some(token))?;
    }
    fixture::list_users(server.port, token, &tenant)?;
    std::thread::sleep(Duration::from_secs(1));
    let pid = server.pid().context("the server is not running")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("cannot read /proc/<pid>/status")?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/<pid>/status")?;
    Ok(kb / 1024.0)
}

struct ImportRun {
    backend: &'static str,
    concurrency: usize,
    seconds: f64,
    users_per_s: f64,
    healthz_per_s: f64,
}

fn import_run(
    bin: &Path,
    token: &str,
    backend: &'static str,
    database_url: Option<&str>,
    concurrency: usize,
) -> anyhow::Result<ImportRun> {
    println!("import: {backend}, concurrency {concurrency}…");
    let dir = TempDir::new("sesame-bench-import")?;
    let server = Server::start(&spec(bin, token, &dir, database_url))?;
    let healthz_per_s = healthz_rate(server.port, concurrency, USERS)?;
    let (tenant, domain) = fixture::create_tenant(bin, &server.base_url(), token, "bench")?;
    let csv = dir.path().join("users.csv");
    fixture::write_csv(&csv, &domain, USERS)?;
    let started = Instant::now();
    let out = fixture::cli(bin, &server.base_url(), token)
        .args(["user", "import", "--tenant", &tenant, "--output", "json"])
        .arg("--concurrency")
        .arg(concurrency.to_string())
        .arg(&csv)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run sesame user import")?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "sesame user import failed ({backend}, c={concurrency}): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stored = fixture::list_users(server.port, token, &tenant)?.len();
    if stored != USERS {
        bail!("{stored} users stored after importing {USERS}");
    }
    Ok(ImportRun {
        backend,
        concurrency,
        seconds,
        users_per_s: USERS as f64 / seconds,
        healthz_per_s,
    })
}

/// `total` GETs of `/healthz` over `concurrency` keep-alive connections; requests per second.
pub fn healthz_rate(port: u16, concurrency: usize, total: usize) -> anyhow::Result<f64> {
    let per_conn = total.div_ceil(concurrency);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut conn = http::Conn::open(port)?;
                for _ in 0..per_conn {
                    let r = conn.get("/healthz", None)?;
                    if r.status != 200 {
                        bail!("GET /healthz: HTTP {}", r.status);
                    }
                }
                Ok(())
            })
        })
        .collect();
    for w in workers {
        match w.join() {
            Ok(r) => r?,
            Err(_) => bail!("a /healthz worker panicked"),
        }
    }
    Ok((per_conn * concurrency) as f64 / started.elapsed().as_secs_f64())
}
