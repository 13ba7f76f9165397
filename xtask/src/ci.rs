//! `cargo xtask ci`: what CI and the README's test command run, in order, stopping at the first
//! failure. A throwaway PostgreSQL is started when `SESAME_TEST_POSTGRES_URL` is unset, so the
//! store conformance suite and the durability test run on both backends, and is stopped at the
//! end, also after a failure. Both fuzz targets of `sesame-xmlsec` run for 60 s each after the
//! tests; any crash fails CI. `crates/sesame-xmlsec` gets its own fmt, clippy and test steps only
//! while it is a standalone crate outside the workspace.

use crate::pg::Throwaway;
use crate::util;
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub fn run() -> anyhow::Result<()> {
    let root = util::project_root();
    let xmlsec = root.join("crates/sesame-xmlsec");
    let mut timings: Vec<(String, Duration)> = Vec::new();
    let result = run_steps(&root, &xmlsec, &mut timings);
    println!();
    println!("ci summary");
    for (name, took) in &timings {
        println!("  {:>7.1} s  {name}", took.as_secs_f64());
    }
    match &result {
        Ok(()) => println!("ci: PASS"),
        Err(e) => println!("ci: FAIL: {e:#}"),
    }
    result
}

fn run_steps(
    root: &Path,
    xmlsec: &Path,
    timings: &mut Vec<(String, Duration)>,
) -> anyhow::Result<()> {
    let mut step = |name: &str, f: &mut dyn FnMut() -> anyhow::Result<()>| {
        println!();
        println!("==> {name}");
        let started = Instant::now();
        let result = f();
        let took = started.elapsed();
        timings.push((name.to_string(), took));
        match &result {
            Ok(()) => println!("<== {name}: ok ({:.1} s)", took.as_secs_f64()),
            Err(e) => println!("<== {name}: FAILED ({:.1} s): {e:#}", took.as_secs_f64()),
        }
        result.with_context(|| format!("step `{name}` failed"))
    };

    warn_if_disk_is_short(root);
    step("cargo fmt --all -- --check", &mut || {
        cargo(root, &["fmt", "--all", "--", "--check"], &[])
    })?;
    step(
        "cargo clippy --workspace --all-targets -- -D warnings",
        &mut || {
            cargo(
                root,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )
        },
    )?;

    // Held until the function returns: its Drop stops the cluster on success and failure alike.
    let mut throwaway: Option<Throwaway> = None;
    let mut pg_url = String::new();
    step("PostgreSQL for the tests", &mut || {
        match std::env::var("SESAME_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => {
                println!("using SESAME_TEST_POSTGRES_URL from the environment");
                pg_url = url;
            }
            _ => {
                let t = Throwaway::start()?;
                println!("started a throwaway cluster: {}", t.url);
                pg_url = t.url.clone();
                throwaway = Some(t);
            }
        }
        Ok(())
    })?;
    // xmlsec's differential tests against xmlsec1 must run, not skip, in CI.
    let test_env = [("SESAME_TEST_POSTGRES_URL", pg_url.as_str()), XMLSEC_ENV];

    step("cargo test --workspace", &mut || {
        let suites = cargo_test(root, &test_env)?;
        println!();
        for (backend, file) in [
            ("SQLite", "tests/sqlite.rs"),
            ("PostgreSQL", "tests/postgres.rs"),
        ] {
            match suites.iter().find(|(f, _)| f == file) {
                Some((_, result)) => {
                    println!("store conformance suite on {backend} ({file}): {result}")
                }
                None => bail!("the store conformance suite did not run on {backend} ({file})"),
            }
        }
        Ok(())
    })?;

    if standalone(xmlsec) {
        step("crates/sesame-xmlsec: cargo fmt --check", &mut || {
            cargo(xmlsec, &["fmt", "--check"], &[])
        })?;
        step(
            "crates/sesame-xmlsec: cargo clippy --all-targets -- -D warnings",
            &mut || {
                cargo(
                    xmlsec,
                    &["clippy", "--all-targets", "--", "-D", "warnings"],
                    &[],
                )
            },
        )?;
        step(
            "crates/sesame-xmlsec: cargo test (SESAME_REQUIRE_XMLSEC1=1)",
            &mut || cargo(xmlsec, &["test"], &[XMLSEC_ENV]),
        )?;
    }

    step(
        &format!(
            "cargo xtask fuzz ({} s per target)",
            crate::fuzz::DEFAULT_SECONDS
        ),
        &mut || {
            for r in crate::fuzz::run_with(crate::fuzz::DEFAULT_SECONDS, None)? {
                println!(
                    "fuzz {}: {} runs, no crash ({:.1} s)",
                    r.target,
                    r.runs.map_or_else(|| "?".to_string(), |n| n.to_string()),
                    r.took.as_secs_f64()
                );
            }
            Ok(())
        },
    )?;

    step("cargo xtask durability", &mut || {
        crate::durability::run_with(Some(&pg_url))
    })?;
    drop(throwaway);
    Ok(())
}

const XMLSEC_ENV: (&str, &str) = ("SESAME_REQUIRE_XMLSEC1", "1");

/// Free space a run needs on the build directory's file system: a clean build of every profile
/// and test binary takes about 6 GiB without incremental caches, 9 GiB with them, and the
/// PostgreSQL cluster, durability and fuzz runs write next to it.
const DISK_NEEDED_GIB: u64 = 12;

/// A full disk shows up late and far from its cause (PostgreSQL stops mid-suite and every later
/// conformance case fails), so say it first.
fn warn_if_disk_is_short(root: &Path) {
    let Ok(out) = Command::new("df").args(["-Pk"]).arg(root).output() else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    // POSIX format: the second line's fourth field is the space available, in KiB.
    let available_kib = text
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(kib) = available_kib {
        let gib = kib / (1024 * 1024);
        println!("disk: {gib} GiB free under {}", root.display());
        if gib < DISK_NEEDED_GIB {
            println!(
                "warning: less than {DISK_NEEDED_GIB} GiB free; the build, PostgreSQL and the \
                 durability run may fail with \"No space left on device\""
            );
        }
    }
}

/// Whether `dir` is a crate with a `[workspace]` of its own, outside the root workspace, whose
/// checks `cargo … --workspace` at the root does not cover.
fn standalone(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|m| m.lines().any(|l| l.trim() == "[workspace]"))
}

fn cargo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<()> {
    let mut cmd = util::cargo();
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo {} exited with {status}", args.join(" "));
    }
    Ok(())
}

/// `cargo test --workspace`, echoed line by line; returns `(test file, result line)` for each
/// integration test binary of `sesame-store-sql`, so the log can say on which backends the
/// conformance suite ran.
fn cargo_test(root: &Path, env: &[(&str, &str)]) -> anyhow::Result<Vec<(String, String)>> {
    let (reader, writer) = std::io::pipe().context("cannot create a pipe")?;
    let mut cmd: Command = util::cargo();
    cmd.current_dir(root)
        .args(["test", "--workspace"])
        .stdout(writer.try_clone()?)
        .stderr(writer);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = util::ChildGuard(Some(cmd.spawn().context("cannot run cargo test")?));
    // Our copies of the pipe's write end are gone with `cmd`; EOF comes when cargo exits.
    drop(cmd);
    let mut suites = Vec::new();
    let mut current: Option<String> = None;
    for line in BufReader::new(reader).lines() {
        let line = line.context("reading cargo test's output")?;
        println!("{line}");
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            current = rest
                .split_whitespace()
                .next()
                .filter(|f| f.starts_with("tests/"))
                .map(str::to_string);
        } else if trimmed.starts_with("test result:")
            && let Some(file) = current.take()
        {
            suites.push((file, trimmed.to_string()));
        }
    }
    let status = match child.0.as_mut() {
        Some(c) => c.wait().context("waiting for cargo test")?,
        None => bail!("cargo test was not started"),
    };
    if !status.success() {
        bail!("cargo test --workspace exited with {status}");
    }
    Ok(suites)
}
