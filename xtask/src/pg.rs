//! PostgreSQL for the tasks: a fresh database per run on a given server, and the throwaway
//! cluster of `.ci/pg-throwaway.sh`, each removed on drop.

use crate::util;
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .stdin(Stdio::null())
        .output()
        .context("cannot run psql (install postgresql-client)")?;
    if !out.status.success() {
        bail!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A database created for one run and dropped on drop.
pub struct FreshDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl FreshDatabase {
    pub fn create(admin_url: &str, prefix: &str) -> anyhow::Result<FreshDatabase> {
        let name = util::unique(prefix).to_lowercase();
        psql(admin_url, &format!("CREATE DATABASE \"{name}\""))?;
        Ok(FreshDatabase {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        if let Err(e) = psql(&self.admin_url, &sql) {
            eprintln!("warning: {e}");
        }
    }
}

/// A cluster started by `.ci/pg-throwaway.sh` in a state directory of our own (so that another
/// user's cluster is never reused or stopped), stopped on drop.
pub struct Throwaway {
    state: PathBuf,
    pub url: String,
}

impl Throwaway {
    pub fn start() -> anyhow::Result<Throwaway> {
        let state = std::env::temp_dir().join(util::unique("sesame-pg-xtask"));
        let script = util::project_root().join(".ci/pg-throwaway.sh");
        let out = Command::new("bash")
            .arg(&script)
            .env("SESAME_PG_DIR", &state)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("cannot run {}", script.display()))?;
        let guard = Throwaway {
            state,
            url: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        };
        if !out.status.success() || guard.url.is_empty() {
            bail!("{} failed", script.display());
        }
        Ok(guard)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let script = util::project_root().join(".ci/pg-throwaway.sh");
        let _ = Command::new("bash")
            .arg(&script)
            .arg("stop")
            .env("SESAME_PG_DIR", &self.state)
            .stdin(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        let cases = [
            (
                "postgres://u@127.0.0.1:5432/postgres",
                "postgres://u@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@h/db?sslmode=disable",
                "postgres://u:p@h/x?sslmode=disable",
            ),
            ("postgres://u@h:1", "postgres://u@h:1/x"),
        ];
        for (input, expected) in cases {
            assert_eq!(with_database(input, "x"), expected);
        }
    }
}
