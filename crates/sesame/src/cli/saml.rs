//! `sesame app saml …`: SAML settings and signing certificates of applications.

use super::Conn;
use super::directory::TenantArg;
use super::output::{Column, print_done, print_list, print_one};
use crate::client::seg;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::path::PathBuf;

const CERT_COLS: &[Column] = &[
    ("id", "id"),
    ("thumbprint", "thumbprint"),
    ("active", "active"),
    ("not before", "notBefore"),
    ("not after", "notAfter"),
];
/// The settings in a table: nested values are written out for people by [`settings_view`]
/// (under `view.*`); `--output json` prints the settings as the API has them.
const SETTINGS_COLS: &[Column] = &[
    ("identifiers", "identifiers"),
    ("reply URLs", "view.replyUrls"),
    ("sign-on URL", "signOnUrl"),
    ("logout URL", "logoutUrl"),
    ("logout binding", "logoutBinding"),
    ("logout response URL", "logoutResponseUrl"),
    ("back-channel logout URL", "backChannelLogoutUrl"),
    ("relay state", "relayState"),
    ("NameID", "view.nameId"),
    ("claims", "view.claims"),
    ("signing mode", "signingMode"),
    ("algorithm", "signatureAlgorithm"),
    ("lifetime (s)", "assertionLifetimeSecs"),
    ("token encryption", "view.encryption"),
    ("signed requests", "requireSignedRequests"),
    ("verification certificates", "view.verification"),
];

/// Prints an application's SAML settings.
fn print_settings(o: super::output::Output, settings: &Value) {
    match o {
        super::output::Output::Json => print_one(o, settings, SETTINGS_COLS),
        super::output::Output::Table => print_one(o, &settings_view(settings), SETTINGS_COLS),
    }
}

/// `settings` with a `view` object of one-line-per-item texts for the table: reply URLs with
/// their index, the NameID and each claim with their source and transforms, the encryption
/// and verification certificates by whether and how many.
fn settings_view(settings: &Value) -> Value {
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    let lines = |items: Vec<String>| items.join("\n");
    let reply_urls = settings["replyUrls"]
        .as_array()
        .map_or_else(Vec::new, |urls| {
            urls.iter()
                .map(|u| {
                    let default = if u["isDefault"] == true {
                        ", default"
                    } else {
                        ""
                    };
                    format!("{} (index {}{default})", text(&u["url"]), u["index"])
                })
                .collect()
        });
    let claims = settings["attributes"]
        .as_array()
        .map_or_else(Vec::new, |attrs| {
            attrs
                .iter()
                .map(|a| {
                    let transforms: Vec<String> = a["transforms"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|t| match t["kind"].as_str() {
                            Some("join") => format!(
                                "join({:?}, {:?})",
                                text(&t["separator"]),
                                text(&t["suffix"])
                            ),
                            Some(kind) => kind.to_owned(),
                            None => t.to_string(),
                        })
                        .collect();
                    let through = if transforms.is_empty() {
                        String::new()
                    } else {
                        format!(" → {}", transforms.join(" → "))
                    };
                    format!("{} ← {}{through}", text(&a["name"]), source(&a["source"]))
                })
                .collect()
        });
    let encryption = match &settings["encryptionCertificate"] {
        Value::Null => "none".to_owned(),
        _ => format!("{} content", text(&settings["encryptionMethod"])),
    };
    let verification = settings["verificationCertificates"]
        .as_array()
        .map_or(0, Vec::len);
    let mut view = settings.clone();
    view["view"] = json!({
        "replyUrls": lines(reply_urls),
        "nameId": format!(
            "{} ← {}",
            text(&settings["nameId"]["format"]),
            source(&settings["nameId"]["source"])
        ),
        "claims": lines(claims),
        "encryption": encryption,
        "verification": verification.to_string(),
    });
    view
}

/// A NameID's or claim's source in words: a user field by its name, a constant quoted, the
/// others by their kind.
fn source(s: &Value) -> String {
    let detail = s
        .get("field")
        .or_else(|| s.get("value"))
        .and_then(Value::as_str);
    match (s["kind"].as_str(), detail) {
        (Some("user"), Some(field)) => field.to_owned(),
        (Some("constant"), Some(value)) => format!("{value:?}"),
        (Some(kind), _) => kind.to_owned(),
        _ => s.to_string(),
    }
}

#[derive(Debug, Subcommand)]
pub enum SamlCmd {
    /// Create a SAML application from SP metadata or from flags.
    Create(CreateArgs),
    /// Show an application's SAML settings.
    Show {
        #[command(flatten)]
        t: TenantArg,
        app: String,
    },
    /// Replace an application's SAML settings with a JSON file (as `show --output json` prints).
    Set {
        #[command(flatten)]
        t: TenantArg,
        app: String,
        #[arg(long)]
        settings_file: PathBuf,
    },
    /// Signing certificates: list, add (published, inactive), activate, remove.
    #[command(subcommand)]
    Cert(CertCmd),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    t: TenantArg,
    #[arg(long)]
    name: String,
    /// The SP's metadata XML file.
    #[arg(long, conflicts_with_all = ["metadata_url", "identifier"])]
    metadata_file: Option<PathBuf>,
    /// The SP's metadata URL (fetched by this CLI, then sent to the server).
    #[arg(long, conflicts_with = "identifier")]
    metadata_url: Option<String>,
    /// SP entityID (repeatable; the first is the Audience).
    #[arg(long)]
    identifier: Vec<String>,
    /// ACS URL (repeatable; the first is the default).
    #[arg(long)]
    reply_url: Vec<String>,
    #[arg(long)]
    sign_on_url: Option<String>,
    #[arg(long)]
    logout_url: Option<String>,
    /// Where the SP takes LogoutResponses, when not at --logout-url.
    #[arg(long, requires = "logout_url")]
    logout_response_url: Option<String>,
    /// The SP's SOAP SingleLogoutService: Sésame calls it itself, for sessions a logout ends
    /// without the browser that holds them.
    #[arg(long)]
    back_channel_logout_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CertCmd {
    /// List the app's signing certificates.
    List {
        #[command(flatten)]
        t: TenantArg,
        app: String,
    },
    /// Add a signing certificate (RSA-2048, 3 years), published in the metadata at once; it
    /// signs only once activated (unless it is the app's only one).
    Add {
        #[command(flatten)]
        t: TenantArg,
        app: String,
    },
    /// Sign with this certificate from now on.
    Activate {
        #[command(flatten)]
        t: TenantArg,
        app: String,
        id: String,
    },
    /// Remove a certificate (never the active one).
    Remove {
        #[command(flatten)]
        t: TenantArg,
        app: String,
        id: String,
    },
}

pub async fn run(conn: &Conn, cmd: SamlCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    let o = conn.output;
    let apps = |t: &TenantArg| format!("/tenants/{}/apps", seg(&t.tenant));
    match cmd {
        SamlCmd::Create(a) => {
            let metadata = match (&a.metadata_file, &a.metadata_url) {
                (Some(path), _) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                ),
                (None, Some(url)) => Some(fetch_metadata(url).await?),
                (None, None) => None,
            };
            let body = match metadata {
                Some(xml) => json!({ "name": a.name, "metadata": xml }),
                None => {
                    if a.identifier.is_empty() || a.reply_url.is_empty() {
                        bail!(
                            "give --metadata-file, --metadata-url, or at least one --identifier and --reply-url"
                        );
                    }
                    let reply_urls: Vec<Value> = a
                        .reply_url
                        .iter()
                        .enumerate()
                        .map(|(i, u)| json!({ "url": u, "index": i, "isDefault": i == 0 }))
                        .collect();
                    json!({ "name": a.name, "settings": {
                        "identifiers": a.identifier, "replyUrls": reply_urls,
                        "signOnUrl": a.sign_on_url, "logoutUrl": a.logout_url,
                        "logoutResponseUrl": a.logout_response_url,
                        "backChannelLogoutUrl": a.back_channel_logout_url,
                    }})
                }
            };
            let created = c.post(&format!("{}/saml", apps(&a.t)), body).await?;
            match o {
                super::output::Output::Json => {
                    println!("{}", serde_json::to_string_pretty(&created)?)
                }
                super::output::Output::Table => {
                    println!(
                        "application {} created",
                        created["app"]["id"].as_str().unwrap_or("")
                    );
                    print_settings(o, &created["app"]["saml"]);
                    print_one(o, &created["certificate"], CERT_COLS);
                }
            }
        }
        SamlCmd::Show { t, app } => print_settings(
            o,
            &c.get(&format!("{}/{}/saml", apps(&t), seg(&app))).await?,
        ),
        SamlCmd::Set {
            t,
            app,
            settings_file,
        } => {
            let text = std::fs::read_to_string(&settings_file)
                .with_context(|| format!("cannot read {}", settings_file.display()))?;
            let settings: Value =
                serde_json::from_str(&text).context("the settings file is not JSON")?;
            let a = c
                .put(&format!("{}/{}/saml", apps(&t), seg(&app)), settings)
                .await?;
            print_settings(o, &a["saml"]);
        }
        SamlCmd::Cert(CertCmd::List { t, app }) => print_list(
            o,
            &c.get_all(&format!("{}/{}/saml/certificates", apps(&t), seg(&app)))
                .await?,
            CERT_COLS,
        ),
        SamlCmd::Cert(CertCmd::Add { t, app }) => {
            let cert = c
                .post(
                    &format!("{}/{}/saml/certificates", apps(&t), seg(&app)),
                    json!({}),
                )
                .await?;
            print_one(o, &cert, CERT_COLS);
        }
        SamlCmd::Cert(CertCmd::Activate { t, app, id }) => {
            c.post(
                &format!(
                    "{}/{}/saml/certificates/{}/activate",
                    apps(&t),
                    seg(&app),
                    seg(&id)
                ),
                json!({}),
            )
            .await?;
            print_done(
                o,
                &format!("certificate {id} is now the active signing certificate"),
            );
        }
        SamlCmd::Cert(CertCmd::Remove { t, app, id }) => {
            c.delete(&format!(
                "{}/{}/saml/certificates/{}",
                apps(&t),
                seg(&app),
                seg(&id)
            ))
            .await?;
            print_done(o, &format!("certificate {id} removed"));
        }
    }
    Ok(())
}

/// Downloads SP metadata (at most 1 MiB).
async fn fetch_metadata(url: &str) -> anyhow::Result<String> {
    let res = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot fetch {url}"))?;
    if !res.status().is_success() {
        bail!("fetching {url} answered HTTP {}", res.status().as_u16());
    }
    let bytes = res.bytes().await.context("reading the metadata")?;
    if bytes.len() > 1024 * 1024 {
        bail!("the metadata at {url} is larger than 1 MiB");
    }
    String::from_utf8(bytes.to_vec()).context("the metadata is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_writes_nested_settings_out_for_people() {
        let settings = json!({
            "replyUrls": [
                { "url": "https://sp.example/acs", "index": 0, "isDefault": false },
                { "url": "https://sp.example/acs2", "index": 3, "isDefault": true },
            ],
            "nameId": { "format": "persistent", "source": { "kind": "pairwise" } },
            "attributes": [
                { "name": "mail", "source": { "kind": "user", "value": "mail" }, "transforms": [] },
                { "name": "login", "source": { "kind": "user", "value": "userPrincipalName" },
                  "transforms": [{ "kind": "extractMailPrefix" },
                                 { "kind": "join", "separator": "@", "suffix": "corp.example" }] },
                { "name": "tier", "source": { "kind": "constant", "value": "gold" }, "transforms": [] },
                { "name": "groups", "source": { "kind": "groups" }, "transforms": [] },
            ],
            "encryptionCertificate": "-----BEGIN CERTIFICATE-----…",
            "encryptionMethod": "aes256-gcm",
            "verificationCertificates": ["a", "b"],
        });
        let view = &settings_view(&settings)["view"];
        assert_eq!(
            view["replyUrls"],
            "https://sp.example/acs (index 0)\nhttps://sp.example/acs2 (index 3, default)"
        );
        assert_eq!(view["nameId"], "persistent ← pairwise");
        assert_eq!(
            view["claims"],
            "mail ← mail\n\
             login ← userPrincipalName → extractMailPrefix → join(\"@\", \"corp.example\")\n\
             tier ← \"gold\"\n\
             groups ← groups"
        );
        assert_eq!(view["encryption"], "aes256-gcm content");
        assert_eq!(view["verification"], "2");
        let plain = json!({ "nameId": { "format": "emailAddress",
            "source": { "kind": "user", "field": "userPrincipalName" } } });
        let view = &settings_view(&plain)["view"];
        assert_eq!(view["nameId"], "emailAddress ← userPrincipalName");
        assert_eq!(view["encryption"], "none");
        assert_eq!(view["verification"], "0");
        assert_eq!(view["claims"], "");
    }
}
