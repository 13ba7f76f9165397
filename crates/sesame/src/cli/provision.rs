//! `sesame provision …`: outbound SCIM provisioning of an application (issue 6).

use super::Conn;
use super::directory::TenantArg;
use super::output::{Column, Output, print_done, print_list, print_one};
use crate::client::{Client, seg};
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct AppArg {
    #[command(flatten)]
    pub t: TenantArg,
    /// Application id.
    #[arg(long)]
    pub app: String,
}

impl AppArg {
    fn path(&self) -> String {
        format!(
            "/tenants/{}/apps/{}/provisioning",
            seg(&self.t.tenant),
            seg(&self.app)
        )
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scope {
    Assigned,
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Profile {
    Generic,
    Aws,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnUnassign {
    Disable,
    Delete,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogResult {
    Success,
    Failure,
    Skipped,
}

#[derive(Debug, Subcommand)]
pub enum ProvisionCmd {
    /// Set up or change provisioning to the app's SCIM endpoint (Tenant URL + Secret Token).
    Configure(ConfigureArgs),
    /// Settings and state (token never shown).
    Show(AppArg),
    /// State of the engine: status, cursor, running or last cycle with its counts.
    Status(AppArg),
    /// "Test connection": the target's ServiceProviderConfig and a filtered user query.
    Test(AppArg),
    /// Run a cycle now and follow it with a progress bar (`--no-wait` to return at once).
    Run {
        #[command(flatten)]
        a: AppArg,
        #[arg(long)]
        no_wait: bool,
    },
    /// Provision one user now (on demand) and show what was done.
    RunUser {
        #[command(flatten)]
        a: AppArg,
        /// User id.
        #[arg(long)]
        user: String,
    },
    /// The provisioning log, newest first.
    Logs {
        #[command(flatten)]
        a: AppArg,
        #[arg(long)]
        cycle: Option<String>,
        #[arg(long, value_enum)]
        result: Option<LogResult>,
        /// Only entries about this user or group id.
        #[arg(long)]
        object: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Stop scheduled cycles.
    Pause(AppArg),
    /// Resume scheduled cycles (also lifts a quarantine).
    Resume(AppArg),
    /// Forget the cursor: the next cycle compares everything again (no duplicates are made).
    Reset(AppArg),
    /// Stop provisioning the app (accounts stay at the target).
    Remove(AppArg),
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    #[command(flatten)]
    pub a: AppArg,
    /// The target's SCIM base URL ("Tenant URL").
    #[arg(long)]
    pub url: Option<String>,
    /// A file holding the target's bearer token ("Secret Token"); `-` reads stdin.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub scope: Option<Scope>,
    /// Target quirks: `aws` for AWS IAM Identity Center.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// What happens to users who leave the scope.
    #[arg(long, value_enum)]
    pub on_unassign: Option<OnUnassign>,
    /// Push assigned groups with their members.
    #[arg(long)]
    pub push_groups: Option<bool>,
    /// Interval between cycles: `40m`, `1h`, `30s`.
    #[arg(long)]
    pub interval: Option<String>,
    /// Requests in flight at once.
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Requests per second at most (0: unlimited).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Attribute mappings as a JSON file (a list of {target, source, required}).
    #[arg(long)]
    pub mappings_file: Option<PathBuf>,
}

const STATUS_COLS: &[Column] = &[
    ("app", "appId"),
    ("target", "config.tenantUrl"),
    ("profile", "config.profile"),
    ("scope", "config.scope"),
    ("paused", "config.paused"),
    ("status", "state.status"),
    ("initial cycle done", "state.initialDone"),
    ("change cursor", "state.changeCursor"),
    ("running", "state.running.kind"),
    ("running progress", "state.running.processed"),
    ("running total", "state.running.total"),
    ("last cycle", "state.lastCycle.kind"),
    ("last finished", "state.lastCycle.finishedAt"),
    ("last counts", "state.lastCycle.counts"),
    ("last error", "state.lastCycle.error"),
    ("next run", "state.nextRunAt"),
];

const LOG_COLS: &[Column] = &[
    ("at", "at"),
    ("object", "display"),
    ("action", "action"),
    ("result", "result"),
    ("request", "request"),
    ("status", "statusCode"),
    ("reason", "reason"),
];

fn interval_secs(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_lowercase()),
        _ => (s, 's'),
    };
    let n: u64 = num
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .context("--interval must look like 40m, 1h or 30s")?;
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => bail!("--interval takes s, m or h"),
    };
    Ok(n.saturating_mul(per))
}

fn read_token(path: &PathBuf) -> anyhow::Result<String> {
    let raw = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    Ok(raw.trim().to_owned())
}

fn enum_value<T: ValueEnum>(v: &T) -> Value {
    let name = v
        .to_possible_value()
        .map(|p| p.get_name().to_owned())
        .unwrap_or_default();
    Value::String(match name.as_str() {
        "assigned" => "assignedOnly".to_owned(),
        "all" => "allUsers".to_owned(),
        other => other.to_owned(),
    })
}

fn configure_body(args: &ConfigureArgs) -> anyhow::Result<Value> {
    let mut body = Map::new();
    if let Some(u) = &args.url {
        body.insert("tenantUrl".into(), json!(u));
    }
    if let Some(f) = &args.token_file {
        body.insert("token".into(), json!(read_token(f)?));
    }
    if let Some(s) = &args.scope {
        body.insert("scope".into(), enum_value(s));
    }
    if let Some(p) = &args.profile {
        body.insert("profile".into(), enum_value(p));
    }
    if let Some(o) = &args.on_unassign {
        body.insert("onUnassign".into(), enum_value(o));
    }
    if let Some(g) = args.push_groups {
        body.insert("pushGroups".into(), json!(g));
    }
    if let Some(i) = &args.interval {
        body.insert("intervalSecs".into(), json!(interval_secs(i)?));
    }
    if let Some(c) = args.concurrency {
        body.insert("concurrency".into(), json!(c));
    }
    if let Some(r) = args.rate_limit {
        body.insert("rateLimit".into(), json!(r));
    }
    if let Some(f) = &args.mappings_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let mappings: Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", f.display()))?;
        body.insert("mappings".into(), mappings);
    }
    Ok(Value::Object(body))
}

/// Follows a requested cycle until it ends: a progress bar on a terminal, nothing in JSON.
async fn follow(
    c: &Client,
    path: &str,
    before: Option<Value>,
    output: Output,
) -> anyhow::Result<Value> {
    let bar = match output {
        Output::Table => {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} objects {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message("waiting for the scheduler");
            Some(bar)
        }
        Output::Json => None,
    };
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let job = c.get(path).await?;
        let state = &job["state"];
        if let (Some(bar), Some(running)) = (&bar, state.get("running").filter(|r| !r.is_null())) {
            bar.set_length(running["total"].as_u64().unwrap_or(0));
            bar.set_position(running["processed"].as_u64().unwrap_or(0));
            bar.set_message(running["kind"].as_str().unwrap_or("").to_owned());
        }
        let requested = state["runRequested"].as_bool().unwrap_or(false);
        let running = !state["running"].is_null();
        let last = state.get("lastCycle").cloned().filter(|l| !l.is_null());
        if !requested
            && !running
            && last.as_ref().map(|l| &l["id"]) != before.as_ref().map(|b| &b["id"])
        {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            return Ok(last.unwrap_or(Value::Null));
        }
    }
}

const CYCLE_COLS: &[Column] = &[
    ("cycle", "id"),
    ("kind", "kind"),
    ("started", "startedAt"),
    ("finished", "finishedAt"),
    ("objects", "total"),
    ("created", "counts.created"),
    ("updated", "counts.updated"),
    ("disabled", "counts.disabled"),
    ("deleted", "counts.deleted"),
    ("unchanged", "counts.unchanged"),
    ("failed", "counts.failed"),
    ("error", "error"),
];

pub async fn provision(conn: &Conn, cmd: ProvisionCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    let o = conn.output;
    match cmd {
        ProvisionCmd::Configure(args) => {
            let job = c.put(&args.a.path(), configure_body(&args)?).await?;
            print_one(o, &job, STATUS_COLS);
        }
        ProvisionCmd::Show(a) => {
            let job = c.get(&a.path()).await?;
            match o {
                Output::Json => print_one(o, &job, &[]),
                Output::Table => {
                    print_one(o, &job, STATUS_COLS);
                    let mappings = job["config"]["mappings"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    print_list(
                        o,
                        &mappings,
                        &[
                            ("target", "target"),
                            ("source", "source.kind"),
                            ("field", "source.value"),
                            ("required", "required"),
                        ],
                    );
                }
            }
        }
        ProvisionCmd::Status(a) => print_one(o, &c.get(&a.path()).await?, STATUS_COLS),
        ProvisionCmd::Test(a) => {
            let report = c.post(&format!("{}/test", a.path()), json!({})).await?;
            let checks = report["checks"].as_array().cloned().unwrap_or_default();
            match o {
                Output::Json => print_one(o, &report, &[]),
                Output::Table => print_list(
                    o,
                    &checks,
                    &[
                        ("request", "request"),
                        ("status", "status"),
                        ("ok", "ok"),
                        ("detail", "detail"),
                    ],
                ),
            }
            if !report["ok"].as_bool().unwrap_or(false) {
                bail!("the target did not pass the connection test");
            }
        }
        ProvisionCmd::Run { a, no_wait } => {
            let before = c.get(&a.path()).await?["state"]["lastCycle"].clone();
            c.post(&format!("{}/run", a.path()), json!({})).await?;
            if no_wait {
                print_done(o, "cycle requested; it starts within seconds");
                return Ok(());
            }
            let before = Some(before).filter(|b| !b.is_null());
            let cycle = follow(&c, &a.path(), before, o).await?;
            print_one(o, &cycle, CYCLE_COLS);
            if cycle["error"].is_string() {
                bail!("the cycle stopped early");
            }
        }
        ProvisionCmd::RunUser { a, user } => {
            let done = c
                .post(&format!("{}/users/{}", a.path(), seg(&user)), json!({}))
                .await?;
            let items = done["items"].as_array().cloned().unwrap_or_default();
            print_list(o, &items, LOG_COLS);
            if items.iter().any(|e| e["result"] == "failure") {
                bail!("the user was not provisioned");
            }
        }
        ProvisionCmd::Logs {
            a,
            cycle,
            result,
            object,
            limit,
        } => {
            let mut q = format!("limit={limit}");
            if let Some(cy) = &cycle {
                q.push_str(&format!("&cycle={}", seg(cy)));
            }
            if let Some(r) = &result {
                q.push_str(&format!("&result={}", enum_value(r).as_str().unwrap_or("")));
            }
            if let Some(ob) = &object {
                q.push_str(&format!("&object={}", seg(ob)));
            }
            let page = c.get(&format!("{}/logs?{q}", a.path())).await?;
            print_list(
                o,
                page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]),
                LOG_COLS,
            );
        }
        ProvisionCmd::Pause(a) => {
            c.post(&format!("{}/pause", a.path()), json!({})).await?;
            print_done(o, "provisioning paused");
        }
        ProvisionCmd::Resume(a) => {
            c.post(&format!("{}/resume", a.path()), json!({})).await?;
            print_done(o, "provisioning resumed");
        }
        ProvisionCmd::Reset(a) => {
            c.post(&format!("{}/reset", a.path()), json!({})).await?;
            print_done(o, "provisioning reset: the next cycle is an initial one");
        }
        ProvisionCmd::Remove(a) => {
            c.delete(&a.path()).await?;
            print_done(o, "provisioning removed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::interval_secs;

    #[test]
    fn intervals() {
        assert_eq!(interval_secs("40m").ok(), Some(2400));
        assert_eq!(interval_secs("1h").ok(), Some(3600));
        assert_eq!(interval_secs("30").ok(), Some(30));
        assert!(interval_secs("0m").is_err());
        assert!(interval_secs("1d").is_err());
    }
}
