//! `sesame user import FILE.csv`: creates users through the API, several requests in flight,
//! with a progress bar. With `--output json` each row's outcome is printed as one JSON line
//! the moment the server answers, so a caller always knows exactly what was created.

use super::Conn;
use super::output::Output;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use tokio::task::JoinSet;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    t: super::directory::TenantArg,
    /// CSV file with a header row; `userPrincipalName` is required, other known columns optional.
    file: PathBuf,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

/// CSV header → API field. Unknown headers are refused rather than silently dropped.
const COLUMNS: &[&str] = &[
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "employeeId",
    "immutableId",
    "password",
];

pub async fn run(conn: &Conn, args: ImportArgs) -> anyhow::Result<()> {
    let client = conn.client()?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let headers = reader.headers().context("reading the CSV header")?.clone();
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            bail!(
                "unknown CSV column {h:?}; known columns: {}",
                COLUMNS.join(", ")
            );
        }
    }
    if !headers.iter().any(|h| h == "userPrincipalName") {
        bail!("the CSV file needs a userPrincipalName column");
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("CSV row {}", i + 2))?;
        let mut body = Map::new();
        for (h, v) in headers.iter().zip(record.iter()) {
            if !v.is_empty() {
                body.insert(h.to_string(), Value::from(v));
            }
        }
        rows.push((i + 2, body));
    }

    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} users ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let path = format!("/tenants/{}/users", crate::client::seg(&args.t.tenant));
    let mut in_flight = JoinSet::new();
    let mut rows = rows.into_iter();
    let mut created = 0usize;
    let mut failures: Vec<(usize, String, String)> = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
    loop {
        while in_flight.len() < args.concurrency.max(1) {
            let Some((line, body)) = rows.next() else {
                break;
            };
            let c = client.clone();
            let path = path.clone();
            in_flight.spawn(async move {
                let upn = body
                    .get("userPrincipalName")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let result = c.post(&path, Value::Object(body)).await;
                (line, upn, result)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let (line, upn, result) = joined.context("an import task failed")?;
        bar.inc(1);
        match result {
            Ok(user) => {
                created += 1;
                *outcomes.entry("created").or_default() += 1;
                if conn.output == Output::Json {
                    let id = user.get("id").cloned().unwrap_or(Value::Null);
                    let _ = writeln!(
                        stdout,
                        "{}",
                        json!({ "line": line, "userPrincipalName": upn, "status": "created", "id": id })
                    );
                    let _ = stdout.flush();
                }
            }
            Err(e) => {
                *outcomes.entry("failed").or_default() += 1;
                if conn.output == Output::Json {
                    let _ = writeln!(
                        stdout,
                        "{}",
                        json!({ "line": line, "userPrincipalName": upn, "status": "failed", "error": e.to_string() })
                    );
                    let _ = stdout.flush();
                }
                failures.push((line, upn, e.to_string()));
            }
        }
    }
    bar.finish_and_clear();
    if conn.output == Output::Table {
        for (line, upn, err) in failures.iter().take(20) {
            println!("line {line}: {upn}: {err}");
        }
        if failures.len() > 20 {
            println!("… and {} more failures", failures.len() - 20);
        }
        println!("{created} user(s) created, {} failed", failures.len());
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} rows failed",
            failures.len(),
            created + failures.len()
        );
    }
    Ok(())
}
