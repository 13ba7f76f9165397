//! `sesame domain federate|federation show|remove`: the `Set-MsolDomainAuthentication`
//! equivalent (SAML-SP-1).

use super::Conn;
use super::directory::TenantArg;
use super::output::{Column, print_done, print_one};
use crate::client::seg;
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Map, Value};
use std::path::PathBuf;

const FEDERATION_COLS: &[Column] = &[
    ("domain", "domain"),
    ("issuer", "issuerUri"),
    ("passive logon URL", "passiveLogonUrl"),
    ("logoff URL", "logoffUrl"),
    ("active logon URL", "activeLogonUrl"),
    ("protocol", "preferredProtocol"),
    ("brand name", "brandName"),
    ("metadata URL", "metadataUrl"),
    ("allow SHA-1", "allowSha1"),
    ("clock skew (s)", "clockSkewSecs"),
    ("unsolicited", "allowUnsolicited"),
    ("signed logout responses", "requireSignedLogoutResponses"),
    ("IdP answers logout", "idpAnswersLogout"),
];

#[derive(Debug, Args)]
pub struct FederateArgs {
    #[command(flatten)]
    t: TenantArg,
    /// The verified domain whose users sign in at their own identity provider.
    domain: String,
    /// The IdP's SAML metadata file (fills issuer, logon/logoff URLs and certificates).
    #[arg(long)]
    metadata_file: Option<PathBuf>,
    /// The IdP's entityID.
    #[arg(long)]
    issuer: Option<String>,
    #[arg(long)]
    passive_logon_url: Option<String>,
    #[arg(long)]
    logoff_url: Option<String>,
    #[arg(long)]
    active_logon_url: Option<String>,
    /// PEM file of a signing certificate (repeatable).
    #[arg(long)]
    signing_cert_file: Vec<PathBuf>,
    #[arg(long)]
    brand_name: Option<String>,
    #[arg(long)]
    metadata_url: Option<String>,
    /// PEM file of the certificate whose key signs the IdP's metadata (a federation operator's):
    /// the metadata file and every refresh from the metadata URL must be signed with it.
    #[arg(long)]
    metadata_signing_cert_file: Option<PathBuf>,
    /// Accept SHA-1 signatures (default true, for IdPs set up for Azure AD).
    #[arg(long)]
    allow_sha1: Option<bool>,
    #[arg(long)]
    clock_skew_secs: Option<u32>,
    /// Accept IdP-initiated (unsolicited) responses (default false).
    #[arg(long)]
    allow_unsolicited: Option<bool>,
    /// Count the IdP's LogoutResponses only when signed (default false).
    #[arg(long)]
    require_signed_logout_responses: Option<bool>,
    /// Whether the IdP answers LogoutRequests at Sésame's SLO endpoint (default true); false
    /// for a logoff page that never sends the browser back.
    #[arg(long)]
    idp_answers_logout: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum FederationCmd {
    /// Show a domain's federation settings.
    Show {
        #[command(flatten)]
        t: TenantArg,
        domain: String,
    },
    /// Remove a domain's federation; its users can no longer sign in through their IdP.
    Remove {
        #[command(flatten)]
        t: TenantArg,
        domain: String,
    },
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn path(t: &TenantArg, domain: &str) -> String {
    format!(
        "/tenants/{}/domains/{}/federation",
        seg(&t.tenant),
        seg(domain)
    )
}

pub async fn federate(conn: &Conn, a: Box<FederateArgs>) -> anyhow::Result<()> {
    let c = conn.client()?;
    let f = c.put(&path(&a.t, &a.domain), body(a)?).await?;
    print_one(conn.output, &f, FEDERATION_COLS);
    Ok(())
}

/// The settings of a domain or direct federation, as the API takes them.
fn body(a: Box<FederateArgs>) -> anyhow::Result<Value> {
    let mut body = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            body.insert(k.to_string(), v);
        }
    };
    put(
        "metadataXml",
        a.metadata_file
            .as_ref()
            .map(read)
            .transpose()?
            .map(Value::from),
    );
    put("issuerUri", a.issuer.map(Value::from));
    put("passiveLogonUrl", a.passive_logon_url.map(Value::from));
    put("logoffUrl", a.logoff_url.map(Value::from));
    put("activeLogonUrl", a.active_logon_url.map(Value::from));
    put("brandName", a.brand_name.map(Value::from));
    put("metadataUrl", a.metadata_url.map(Value::from));
    put(
        "metadataSigningCertificate",
        a.metadata_signing_cert_file
            .as_ref()
            .map(read)
            .transpose()?
            .map(Value::from),
    );
    put("allowSha1", a.allow_sha1.map(Value::from));
    put("clockSkewSecs", a.clock_skew_secs.map(Value::from));
    put("allowUnsolicited", a.allow_unsolicited.map(Value::from));
    put(
        "requireSignedLogoutResponses",
        a.require_signed_logout_responses.map(Value::from),
    );
    put("idpAnswersLogout", a.idp_answers_logout.map(Value::from));
    let certs = a
        .signing_cert_file
        .iter()
        .map(read)
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !certs.is_empty() {
        body.insert("signingCertificates".into(), Value::from(certs));
    }
    Ok(Value::Object(body))
}

/// `sesame guest federate DOMAIN …`: a direct federation with a partner's domain (SAML-SP-5).
pub async fn federate_direct(conn: &Conn, a: Box<FederateArgs>) -> anyhow::Result<()> {
    let c = conn.client()?;
    let p = direct_path(&a.t, &a.domain);
    let f = c.put(&p, body(a)?).await?;
    print_one(conn.output, &f, FEDERATION_COLS);
    Ok(())
}

fn direct_path(t: &TenantArg, domain: &str) -> String {
    format!(
        "/tenants/{}/directfederations/{}",
        seg(&t.tenant),
        seg(domain)
    )
}

/// `sesame guest federation show|remove|list`.
pub async fn run_direct(conn: &Conn, cmd: DirectFederationCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    match cmd {
        DirectFederationCmd::Show { t, domain } => print_one(
            conn.output,
            &c.get(&direct_path(&t, &domain)).await?,
            FEDERATION_COLS,
        ),
        DirectFederationCmd::List { t } => {
            let all = c
                .get(&format!("/tenants/{}/directfederations", seg(&t.tenant)))
                .await?;
            super::output::print_list(
                conn.output,
                all.as_array().map(Vec::as_slice).unwrap_or_default(),
                FEDERATION_COLS,
            );
        }
        DirectFederationCmd::Remove { t, domain } => {
            c.delete(&direct_path(&t, &domain)).await?;
            print_done(
                conn.output,
                &format!(
                    "direct federation with {domain} removed; its guests can no longer sign in"
                ),
            );
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum DirectFederationCmd {
    /// Show a partner domain's direct federation.
    Show {
        #[command(flatten)]
        t: TenantArg,
        domain: String,
    },
    /// The tenant's direct federations.
    List {
        #[command(flatten)]
        t: TenantArg,
    },
    /// Remove a direct federation; its guests can no longer sign in.
    Remove {
        #[command(flatten)]
        t: TenantArg,
        domain: String,
    },
}

pub async fn run(conn: &Conn, cmd: FederationCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    match cmd {
        FederationCmd::Show { t, domain } => print_one(
            conn.output,
            &c.get(&path(&t, &domain)).await?,
            FEDERATION_COLS,
        ),
        FederationCmd::Remove { t, domain } => {
            c.delete(&path(&t, &domain)).await?;
            print_done(
                conn.output,
                &format!("federation of {domain} removed; its users sign in with a password again"),
            );
        }
    }
    Ok(())
}
