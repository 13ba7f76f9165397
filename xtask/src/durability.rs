//! `cargo xtask durability`: the foundation's acceptance test "kill -9 of the server during
//! `sesame user import` of 10,000 users; after restart every user the CLI reported as created
//! exists, and no record is half-written".
//!
//! The CLI prints one JSON line per row as soon as the server answers, so the lines read before
//! the kill are exactly the promises the server made. After a restart on the same store, every
//! promised user must be there, and every stored user (promised or caught in flight) must equal
//! its CSV row field by field.

use crate::fixture::{self, Row};
use crate::pg::FreshDatabase;
use crate::util::{self, ChildGuard, ServeSpec, Server, TempDir};
use anyhow::{Context, bail};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

const USERS: usize = 10_000;
const KILL_AFTER_CREATED: usize = 3_000;

/// `cargo xtask durability`: SQLite, and PostgreSQL when `SESAME_TEST_POSTGRES_URL` is set.
pub fn run() -> anyhow::Result<()> {
    let url = std::env::var("SESAME_TEST_POSTGRES_URL").ok();
    run_with(url.as_deref().filter(|u| !u.is_empty()))
}

/// Runs on SQLite, and on a fresh database of the PostgreSQL server at `postgres` if given.
pub fn run_with(postgres: Option<&str>) -> anyhow::Result<()> {
    let bin = util::build_release_sesame()?;
    let mut outcomes = vec![("sqlite", run_backend(&bin, None))];
    match postgres {
        Some(url) => {
            let outcome = FreshDatabase::create(url, "sesame_durability")
                .and_then(|db| run_backend(&bin, Some(&db.url)));
            outcomes.push(("postgres", outcome));
        }
        None => println!("durability: SESAME_TEST_POSTGRES_URL is unset; PostgreSQL skipped"),
    }
    println!();
    println!("durability summary");
    let mut failed = 0;
    for (backend, outcome) in &outcomes {
        match outcome {
            Ok(r) => {
                println!("  {backend:<8} {}", r.summary());
                if !r.problems.is_empty() {
                    failed += 1;
                    for p in r.problems.iter().take(20) {
                        println!("      {p}");
                    }
                    if r.problems.len() > 20 {
                        println!("      … and {} more", r.problems.len() - 20);
                    }
                }
            }
            Err(e) => {
                failed += 1;
                println!("  {backend:<8} ERROR: {e:#}");
            }
        }
    }
    if failed > 0 {
        bail!("durability: {failed} backend(s) failed");
    }
    println!("durability: PASS");
    Ok(())
}

/// What one run saw.
#[derive(Debug, Default)]
struct Report {
    reported_created: usize,
    reported_failed: usize,
    stored: usize,
    stored_unreported: usize,
    cli_exit: String,
    rate_before_kill: f64,
    problems: Vec<String>,
}

impl Report {
    fn summary(&self) -> String {
        format!(
            "{} — CLI reported {} created, {} failed (exit: {}); {:.0} users/s before the kill; \
             after restart {} stored, {} of them created but unreported (in flight at the kill); \
             {} problem(s)",
            if self.problems.is_empty() {
                "PASS"
            } else {
                "FAIL"
            },
            self.reported_created,
            self.reported_failed,
            self.cli_exit,
            self.rate_before_kill,
            self.stored,
            self.stored_unreported,
            self.problems.len()
        )
    }
}

fn run_backend(bin: &Path, database_url: Option<&str>) -> anyhow::Result<Report> {
    let backend = if database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    println!("durability [{backend}]: starting the server");
    let dir = TempDir::new("sesame-durability")?;
    let spec = ServeSpec {
        bin: bin.to_path_buf(),
        data_dir: dir.path().join("data"),
        database_url: database_url.map(str::to_string),
        token: util::admin_token(),
        log: dir.path().join("server.log"),
    };
    let mut server = Server::start(&spec)?;
    let (tenant, domain) =
        fixture::create_tenant(bin, &server.base_url(), &spec.token, "durability")?;
    let csv = dir.path().join("users.csv");
    let rows = fixture::write_csv(&csv, &domain, USERS)?;

    println!(
        "durability [{backend}]: importing {USERS} users into {domain}; SIGKILL after {KILL_AFTER_CREATED} created"
    );
    let mut cli = ChildGuard(Some(
        fixture::cli(bin, &server.base_url(), &spec.token)
            .args(["user", "import", "--tenant", &tenant, "--output", "json"])
            .arg(&csv)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot run sesame user import")?,
    ));
    let child = cli.0.as_mut().context("the CLI was not started")?;
    let stdout = child.stdout.take().context("no CLI stdout")?;
    let stderr = child.stderr.take().context("no CLI stderr")?;
    // Drain stderr (the progress bar) on the side so the CLI never blocks on it.
    let stderr_reader = std::thread::spawn(move || {
        let mut last = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !line.trim().is_empty() {
                last = line;
            }
        }
        last
    });

    let mut report = Report::default();
    // Lower-case UPN → the id the CLI reported.
    let mut promised: HashMap<String, String> = HashMap::new();
    let started = Instant::now();
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading the CLI's output")?;
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            report
                .problems
                .push(format!("CLI printed a non-JSON line: {line}"));
            continue;
        };
        let upn = v
            .get("userPrincipalName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        match v.get("status").and_then(Value::as_str) {
            Some("created") => {
                report.reported_created += 1;
                let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
                promised.insert(upn, id.to_string());
            }
            Some("failed") => report.reported_failed += 1,
            _ => report
                .problems
                .push(format!("CLI printed an unknown line: {line}")),
        }
        if !killed && report.reported_created >= KILL_AFTER_CREATED {
            report.rate_before_kill =
                report.reported_created as f64 / started.elapsed().as_secs_f64();
            server.kill9()?;
            killed = true;
            println!(
                "durability [{backend}]: server killed (SIGKILL) after {} users reported created",
                report.reported_created
            );
        }
    }
    let status = match cli.0.as_mut() {
        Some(c) => c.wait().context("waiting for the CLI")?,
        None => bail!("the CLI was not started"),
    };
    let last_stderr = stderr_reader.join().unwrap_or_default();
    report.cli_exit = match status.code() {
        Some(c) => format!("{c}"),
        None => "signal".to_string(),
    };
    if !killed {
        bail!(
            "the import ended after {} created before the kill point ({KILL_AFTER_CREATED}); CLI said: {last_stderr}",
            report.reported_created
        );
    }
    let total = report.reported_created + report.reported_failed;
    if total != USERS {
        report.problems.push(format!(
            "the CLI reported {total} rows, not {USERS} (last stderr line: {last_stderr})"
        ));
    }

    println!("durability [{backend}]: restarting on the same store");
    drop(server);
    let server = Server::start(&spec)?;
    let stored = fixture::list_users(server.port, &spec.token, &tenant)?;
    report.stored = stored.len();
    check_store(&rows, &promised, &stored, &mut report);
    Ok(report)
}

/// Compares the stored users with the CLI's promises and the CSV rows.
fn check_store(
    rows: &HashMap<String, Row>,
    promised: &HashMap<String, String>,
    stored: &[Value],
    report: &mut Report,
) {
    let mut seen: HashSet<String> = HashSet::new();
    for user in stored {
        let upn = user
            .get("userPrincipalName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        if !seen.insert(upn.clone()) {
            report.problems.push(format!("{upn}: stored twice"));
            continue;
        }
        let Some(row) = rows.get(&upn) else {
            report
                .problems
                .push(format!("{upn}: stored but not in the CSV: {user}"));
            continue;
        };
        match promised.get(&upn) {
            None => report.stored_unreported += 1,
            Some(id) => {
                let stored_id = user.get("id").and_then(Value::as_str).unwrap_or_default();
                if stored_id != id {
                    report.problems.push(format!(
                        "{upn}: the CLI reported id {id}, the store has {stored_id}"
                    ));
                }
            }
        }
        report.problems.extend(half_written(row, user));
    }
    let mut missing: Vec<&String> = promised.keys().filter(|u| !seen.contains(*u)).collect();
    missing.sort();
    for upn in missing {
        report
            .problems
            .push(format!("{upn}: reported created but missing after restart"));
    }
}

/// The fields of `user` that differ from its CSV row.
fn half_written(row: &Row, user: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (field, expected) in row.fields() {
        let got = user.get(field).and_then(Value::as_str);
        if got != Some(expected) {
            out.push(format!(
                "{}: {field} is {got:?}, the CSV says {expected:?}",
                row.user_principal_name
            ));
        }
    }
    let immutable = user.get("immutableId").and_then(Value::as_str);
    if immutable.is_none_or(str::is_empty) {
        out.push(format!("{}: no immutableId", row.user_principal_name));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(row: &Row, id: &str) -> Value {
        json!({
            "id": id, "userPrincipalName": row.user_principal_name, "immutableId": "abc",
            "displayName": row.display_name, "givenName": row.given_name, "surname": row.surname,
            "mail": row.mail, "employeeId": row.employee_id,
        })
    }

    #[test]
    fn checks_catch_lost_duplicated_and_half_written_users() {
        let rows: HashMap<String, Row> = (1..=3)
            .map(|i| Row::new(i, "t.example"))
            .map(|r| (r.user_principal_name.clone(), r))
            .collect();
        let r = |i: usize| Row::new(i, "t.example");
        let promised: HashMap<String, String> = [(r(1), "a"), (r(2), "b")]
            .into_iter()
            .map(|(row, id)| (row.user_principal_name, id.to_string()))
            .collect();

        let mut ok = Report::default();
        let stored = [user(&r(1), "a"), user(&r(2), "b"), user(&r(3), "c")];
        check_store(&rows, &promised, &stored, &mut ok);
        assert!(ok.problems.is_empty(), "{:?}", ok.problems);
        assert_eq!(ok.stored_unreported, 1);

        let mut half = user(&r(2), "b");
        half["mail"] = Value::Null;
        let cases: Vec<(Vec<Value>, &str)> = vec![
            (vec![user(&r(1), "a")], "missing after restart"),
            (vec![user(&r(1), "a"), half], "mail is None"),
            (vec![user(&r(1), "a"), user(&r(2), "x")], "reported id b"),
            (
                vec![user(&r(1), "a"), user(&r(1), "a"), user(&r(2), "b")],
                "stored twice",
            ),
            (
                vec![user(&r(1), "a"), user(&r(2), "b"), user(&r(9), "z")],
                "not in the CSV",
            ),
        ];
        for (stored, expected) in cases {
            let mut report = Report::default();
            check_store(&rows, &promised, &stored, &mut report);
            assert!(
                report.problems.iter().any(|p| p.contains(expected)),
                "{expected}: {:?}",
                report.problems
            );
        }
    }
}
