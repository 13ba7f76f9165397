//! Test data and CLI calls shared by `durability` and `bench`: a tenant created through the
//! CLI, a CSV of users whose every field depends on the row, and paging through the user list.

use crate::http;
use anyhow::{Context, bail};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// One CSV row, as the store must hold it after the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub mail: String,
    pub employee_id: String,
}

impl Row {
    pub fn new(i: usize, domain: &str) -> Row {
        Row {
            user_principal_name: format!("user{i:05}@{domain}"),
            display_name: format!("Imported User {i}"),
            given_name: format!("Given{i}"),
            surname: format!("Surname{}", (i * 7919) % 100_003),
            mail: format!("user{i:05}.mail{}@example.test", i % 97),
            employee_id: format!("E{:08}", i * 31 + 7),
        }
    }

    /// `(API field, expected value)` for every field the CSV sets.
    pub fn fields(&self) -> [(&'static str, &str); 6] {
        [
            ("userPrincipalName", &self.user_principal_name),
            ("displayName", &self.display_name),
            ("givenName", &self.given_name),
            ("surname", &self.surname),
            ("mail", &self.mail),
            ("employeeId", &self.employee_id),
        ]
    }
}

/// Writes `n` rows to `path` and returns them keyed by lower-case UPN.
pub fn write_csv(path: &Path, domain: &str, n: usize) -> anyhow::Result<HashMap<String, Row>> {
    let mut text =
        String::from("userPrincipalName,displayName,givenName,surname,mail,employeeId\n");
    let mut rows = HashMap::with_capacity(n);
    for i in 1..=n {
        let r = Row::new(i, domain);
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.user_principal_name, r.display_name, r.given_name, r.surname, r.mail, r.employee_id
        ));
        rows.insert(r.user_principal_name.to_lowercase(), r);
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(rows)
}

/// The `sesame` CLI pointed at `server` with `token`, JSON output.
pub fn cli(bin: &Path, server: &str, token: &str) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env("SESAME_SERVER", server)
        .env("SESAME_TOKEN", token)
        .env_remove("SESAME_TENANT")
        .stdin(Stdio::null());
    cmd
}

/// A tenant created through `sesame tenant create`: `(id, initial domain)`.
pub fn create_tenant(
    bin: &Path,
    server: &str,
    token: &str,
    name: &str,
) -> anyhow::Result<(String, String)> {
    let out = cli(bin, server, token)
        .args(["tenant", "create", name, "--output", "json"])
        .output()
        .context("cannot run sesame tenant create")?;
    if !out.status.success() {
        bail!(
            "sesame tenant create failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let tenant: Value =
        serde_json::from_slice(&out.stdout).context("sesame tenant create: output is not JSON")?;
    let field = |f: &str| {
        tenant
            .get(f)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("sesame tenant create: no {f} in {tenant}"))
    };
    Ok((field("id")?, field("initialDomain")?))
}

/// Every user of `tenant`, paging with `limit=1000` through `nextCursor`.
pub fn list_users(port: u16, token: &str, tenant: &str) -> anyhow::Result<Vec<Value>> {
    let mut conn = http::Conn::open(port)?;
    let mut users = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/tenants/{}/users?limit=1000", encode(tenant));
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", encode(c)));
        }
        let res = conn.get(&path, Some(token))?;
        if res.status != 200 {
            bail!(
                "GET {path}: HTTP {}: {}",
                res.status,
                String::from_utf8_lossy(&res.body)
            );
        }
        let page = res.json()?;
        let items = page
            .get("items")
            .and_then(Value::as_array)
            .with_context(|| format!("GET {path}: no items"))?;
        users.extend(items.iter().cloned());
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(users),
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_differ_in_every_field() {
        let (a, b) = (Row::new(1, "t.example"), Row::new(2, "t.example"));
        for ((_, x), (_, y)) in a.fields().iter().zip(b.fields().iter()) {
            assert_ne!(x, y);
        }
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(encode("a b+/=@x"), "a%20b%2B%2F%3D%40x");
        assert_eq!(encode("Az09-._~"), "Az09-._~");
    }
}
