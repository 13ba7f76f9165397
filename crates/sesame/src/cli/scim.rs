//! `sesame scim token …`: bearer tokens of a tenant's SCIM server (issue 6).

use super::Conn;
use super::directory::TenantArg;
use super::output::{Column, print_done, print_list, print_one};
use crate::client::seg;
use anyhow::bail;
use clap::Subcommand;
use serde_json::json;

const TOKEN_COLS: &[Column] = &[
    ("id", "id"),
    ("name", "name"),
    ("created", "createdAt"),
    ("expires", "expiresAt"),
];

#[derive(Debug, Subcommand)]
pub enum ScimCmd {
    /// SCIM bearer tokens: create (the secret is printed once), list, revoke.
    #[command(subcommand)]
    Token(ScimTokenCmd),
}

#[derive(Debug, Subcommand)]
pub enum ScimTokenCmd {
    /// Create a token for the tenant's SCIM endpoint `/{tenant}/scim/v2`.
    Create {
        #[command(flatten)]
        t: TenantArg,
        /// What the token is for.
        #[arg(long, default_value = "SCIM")]
        name: String,
        /// Lifetime: `365d`, `12h`, `30m` or a number of days; no expiry when omitted.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List the tenant's tokens (never their secrets).
    List {
        #[command(flatten)]
        t: TenantArg,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        #[command(flatten)]
        t: TenantArg,
        id: String,
    },
}

/// Seconds in a lifetime such as `365d`, `12h`, `30m` or `90` (days).
fn lifetime_secs(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_lowercase()),
        _ => (s, 'd'),
    };
    let n: u64 = match num.trim().parse() {
        Ok(n) if n > 0 => n,
        _ => bail!("--expires must look like 365d, 12h or 30m"),
    };
    let per = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        _ => bail!("--expires takes d (days), h (hours) or m (minutes)"),
    };
    Ok(n.saturating_mul(per))
}

pub async fn scim(conn: &Conn, cmd: ScimCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    let o = conn.output;
    let path = |t: &TenantArg| format!("/tenants/{}/scim/tokens", seg(&t.tenant));
    match cmd {
        ScimCmd::Token(ScimTokenCmd::Create { t, name, expires }) => {
            let secs = expires.as_deref().map(lifetime_secs).transpose()?;
            let created = c
                .post(&path(&t), json!({ "name": name, "expiresInSecs": secs }))
                .await?;
            let mut cols = TOKEN_COLS.to_vec();
            cols.push(("secret (shown once)", "secret"));
            print_one(o, &created, &cols);
        }
        ScimCmd::Token(ScimTokenCmd::List { t }) => {
            print_list(o, &c.get_all(&path(&t)).await?, TOKEN_COLS)
        }
        ScimCmd::Token(ScimTokenCmd::Revoke { t, id }) => {
            c.delete(&format!("{}/{}", path(&t), seg(&id))).await?;
            print_done(o, &format!("SCIM token {id} revoked"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::lifetime_secs;

    #[test]
    fn lifetimes() {
        assert_eq!(lifetime_secs("365d").ok(), Some(365 * 86_400));
        assert_eq!(lifetime_secs("12h").ok(), Some(43_200));
        assert_eq!(lifetime_secs("30M").ok(), Some(1_800));
        assert_eq!(lifetime_secs("7").ok(), Some(7 * 86_400));
        assert!(lifetime_secs("0d").is_err());
        assert!(lifetime_secs("1y").is_err());
        assert!(lifetime_secs("d").is_err());
    }
}
