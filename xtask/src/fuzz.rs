//! `cargo xtask fuzz [--seconds N] [--corpus DIR]`: both cargo-fuzz targets of
//! `crates/sesame-xmlsec/fuzz` (`parse_verify`, `decrypt`) for a bounded time each, seeded from
//! `fuzz/seeds/<target>`, growing `fuzz/corpus/<target>` (or `DIR/<target>`). Any crash, leak,
//! timeout or out-of-memory fails the command; libFuzzer leaves the input under
//! `fuzz/artifacts/<target>/`. cargo-fuzz is installed when missing; stable Rust is enough with
//! `RUSTC_BOOTSTRAP=1` (what the crate's README says).

use crate::util;
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const TARGETS: [&str; 2] = ["parse_verify", "decrypt"];
pub const DEFAULT_SECONDS: u64 = 60;

/// One target's run.
#[derive(Debug)]
pub struct FuzzRun {
    pub target: &'static str,
    pub took: Duration,
    /// From libFuzzer's closing `Done N runs in S second(s)` line.
    pub runs: Option<u64>,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (seconds, corpus) = parse_args(args)?;
    run_with(seconds, corpus.as_deref())?;
    Ok(())
}

fn parse_args(args: &[String]) -> anyhow::Result<(u64, Option<PathBuf>)> {
    let mut seconds = DEFAULT_SECONDS;
    let mut corpus = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                let v = it.next().context("--seconds needs a value")?;
                seconds = v
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .with_context(|| format!("--seconds: {v:?} is not a positive number"))?;
            }
            "--corpus" => {
                corpus = Some(PathBuf::from(
                    it.next().context("--corpus needs a directory")?,
                ));
            }
            other => bail!(
                "unknown argument {other:?}; usage: cargo xtask fuzz [--seconds N] [--corpus DIR]"
            ),
        }
    }
    Ok((seconds, corpus))
}

/// Runs every target for `seconds`; `corpus_base` replaces `fuzz/corpus`.
pub fn run_with(seconds: u64, corpus_base: Option<&Path>) -> anyhow::Result<Vec<FuzzRun>> {
    let crate_dir = util::project_root().join("crates/sesame-xmlsec");
    let fuzz_dir = crate_dir.join("fuzz");
    let corpus_base = corpus_base
        .map(Path::to_path_buf)
        .unwrap_or_else(|| fuzz_dir.join("corpus"));
    ensure_cargo_fuzz()?;
    let mut runs = Vec::new();
    for target in TARGETS {
        let corpus = corpus_base.join(target);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("cannot create {}", corpus.display()))?;
        let seeds = fuzz_dir.join("seeds").join(target);
        if !seeds.is_dir() {
            bail!("no seeds at {}", seeds.display());
        }
        std::fs::create_dir_all(fuzz_dir.join("artifacts").join(target))?;
        println!(
            "fuzz: {target} for {seconds} s (corpus {})",
            corpus.display()
        );
        let started = Instant::now();
        let done = fuzz_one(&crate_dir, target, &corpus, &seeds, seconds)?;
        let took = started.elapsed();
        println!(
            "fuzz: {target}: no crash, {} runs, {:.1} s (build included)",
            done.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
            took.as_secs_f64()
        );
        runs.push(FuzzRun {
            target,
            took,
            runs: done,
        });
    }
    Ok(runs)
}

/// `cargo fuzz --version`, else `cargo install cargo-fuzz --locked`.
fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let present = util::cargo()
        .args(["fuzz", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    println!("fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)…");
    let status = util::cargo()
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context("cannot run cargo install")?;
    if !status.success() {
        bail!("cargo install cargo-fuzz --locked failed ({status})");
    }
    Ok(())
}

/// One `cargo fuzz run -O`; libFuzzer's progress chatter is counted, not echoed; everything else
/// (build errors, crash reports) is. Returns the number of runs.
fn fuzz_one(
    crate_dir: &Path,
    target: &str,
    corpus: &Path,
    seeds: &Path,
    seconds: u64,
) -> anyhow::Result<Option<u64>> {
    let (reader, writer) = std::io::pipe().context("cannot create a pipe")?;
    let mut cmd = util::cargo();
    cmd.current_dir(crate_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "-O", target])
        .arg(corpus)
        .arg(seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-rss_limit_mb=2048")
        .stdout(writer.try_clone()?)
        .stderr(writer);
    let mut child = util::ChildGuard(Some(cmd.spawn().context("cannot run cargo fuzz")?));
    drop(cmd);
    let mut progress = 0usize;
    let mut runs = None;
    for line in BufReader::new(reader).lines() {
        let line = line.context("reading cargo fuzz's output")?;
        if let Some(n) = done_runs(&line) {
            runs = Some(n);
        }
        if is_progress(&line) {
            progress += 1;
        } else {
            println!("  {line}");
        }
    }
    let status = match child.0.as_mut() {
        Some(c) => c.wait().context("waiting for cargo fuzz")?,
        None => bail!("cargo fuzz was not started"),
    };
    println!("  ({progress} progress lines not shown)");
    if !status.success() {
        bail!(
            "cargo fuzz run {target} failed ({status}); the input is under crates/sesame-xmlsec/fuzz/artifacts/{target}/"
        );
    }
    Ok(runs)
}

/// libFuzzer's chatter: per-input lines (`#123 NEW …`), new-function notes, and the
/// recommended dictionary at the end; `INITED` and `DONE` are kept.
fn is_progress(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with('#') && !t.contains("INITED") && !t.contains("DONE"))
        || t.starts_with("NEW_FUNC")
        || t.starts_with('"')
}

/// `N` from libFuzzer's `Done N runs in S second(s)`.
fn done_runs(line: &str) -> Option<u64> {
    line.trim()
        .strip_prefix("Done ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let a = |v: &[&str]| parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(a(&[]).ok(), Some((60, None)));
        assert_eq!(
            a(&["--seconds", "5", "--corpus", "/tmp/c"]).ok(),
            Some((5, Some(PathBuf::from("/tmp/c"))))
        );
        assert!(a(&["--seconds", "0"]).is_err());
        assert!(a(&["--seconds"]).is_err());
        assert!(a(&["--what"]).is_err());
    }

    #[test]
    fn libfuzzer_done_line() {
        assert_eq!(done_runs("Done 470198 runs in 61 second(s)"), Some(470_198));
        assert_eq!(done_runs("#470198 DONE cov: 1 ft: 2"), None);
        assert!(is_progress("#84\tNEW    cov: 2067 ft: 6430"));
        assert!(is_progress("\tNEW_FUNC[1/10]: 0x55 in drop_in_place"));
        assert!(is_progress("\"<samlp\" # Uses: 44"));
        assert!(!is_progress("#84\tINITED cov: 2067"));
        assert!(!is_progress("==123== ERROR: libFuzzer: deadly signal"));
        assert!(!is_progress("SUMMARY: libFuzzer: deadly signal"));
    }
}
