//! `sesame guest invite|list|federate|federation …`: B2B guests (DIR-4) and the direct
//! federations they sign in through (SAML-SP-5).

use super::Conn;
use super::directory::TenantArg;
use super::federation::{DirectFederationCmd, FederateArgs, federate_direct, run_direct};
use super::output::{Column, print_list, print_one};
use crate::client::seg;
use clap::Subcommand;
use serde_json::{Map, Value};

const INVITED_COLS: &[Column] = &[
    ("e-mail", "invitation.email"),
    ("user", "user.userPrincipalName"),
    ("redemption link", "redeemUrl"),
];
const INVITATION_COLS: &[Column] = &[
    ("e-mail", "email"),
    ("domain", "domain"),
    ("invited", "invitedAt"),
    ("redeemed", "redeemedAt"),
    ("issuer", "issuer"),
    ("NameID", "nameId"),
];

#[derive(Debug, Subcommand)]
pub enum GuestCmd {
    /// Invite an address of a directly federated partner domain; prints the redemption link.
    Invite {
        #[command(flatten)]
        t: TenantArg,
        email: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// The tenant's invitations and whether they were redeemed.
    List {
        #[command(flatten)]
        t: TenantArg,
    },
    /// Federate a partner's domain directly with its IdP (refused for the tenant's own verified
    /// domains, logon URLs outside the domain and the allow-list, beyond 1,000 federations).
    Federate(Box<FederateArgs>),
    /// Direct federations: show, list, remove.
    #[command(subcommand)]
    Federation(DirectFederationCmd),
}

pub async fn run(conn: &Conn, cmd: GuestCmd) -> anyhow::Result<()> {
    match cmd {
        GuestCmd::Invite {
            t,
            email,
            display_name,
        } => {
            let c = conn.client()?;
            let mut body = Map::new();
            body.insert("email".into(), Value::from(email));
            if let Some(d) = display_name {
                body.insert("displayName".into(), Value::from(d));
            }
            let invited = c
                .post(
                    &format!("/tenants/{}/guests", seg(&t.tenant)),
                    Value::Object(body),
                )
                .await?;
            print_one(conn.output, &invited, INVITED_COLS);
        }
        GuestCmd::List { t } => {
            let c = conn.client()?;
            let all = c
                .get(&format!("/tenants/{}/guests", seg(&t.tenant)))
                .await?;
            print_list(
                conn.output,
                all.as_array().map(Vec::as_slice).unwrap_or_default(),
                INVITATION_COLS,
            );
        }
        GuestCmd::Federate(a) => federate_direct(conn, a).await?,
        GuestCmd::Federation(cmd) => run_direct(conn, cmd).await?,
    }
    Ok(())
}
