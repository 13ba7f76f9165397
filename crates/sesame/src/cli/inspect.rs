//! `sesame saml inspect`: the SSO test tool, offline part (OPS-3). Sends a captured Response
//! to the admin API (`POST …/domains/{domain}/federation/inspect`), which runs exactly the
//! ACS's rules against the domain's federation without consuming the outstanding request or
//! writing the replay cache, and prints each rule's verdict. Exit status 0 only when the ACS
//! would accept the Response.

use super::Conn;
use super::directory::TenantArg;
use super::output::Output;
use crate::client::seg;
use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};
use std::io::Read as _;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum SamlToolCmd {
    /// Run the ACS's rules on a Response from a federated IdP and print every verdict
    /// (nothing is consumed or recorded). Exit status 0 only when all pass.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    t: TenantArg,
    /// The federated domain whose IdP sent the Response.
    #[arg(long)]
    domain: String,
    /// The Response: an XML file, or the base64 `SAMLResponse` value; `-` reads standard input.
    file: PathBuf,
    /// The file holds the base64 `SAMLResponse` value (detected when it does not start with `<`).
    #[arg(long)]
    base64: bool,
}

/// The `SAMLResponse` value to send: the file's base64 as is, or its XML encoded as the
/// HTTP-POST binding does (so the server decodes it exactly as the ACS would).
fn saml_response_value(raw: &[u8], force_base64: bool) -> anyhow::Result<String> {
    let text = std::str::from_utf8(raw).context("the file is not UTF-8")?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        bail!("the file is empty");
    }
    if !force_base64 && trimmed.starts_with('<') {
        return Ok(B64.encode(trimmed.as_bytes()));
    }
    // A value copied from a form may still be URL-encoded.
    let value = trimmed.strip_prefix("SAMLResponse=").unwrap_or(trimmed);
    let value = if value.contains('%') {
        urlencoding::decode(value)
            .context("the SAMLResponse value is not valid URL encoding")?
            .into_owned()
    } else {
        value.to_owned()
    };
    Ok(value.split_whitespace().collect())
}

fn read_input(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut raw = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut raw)
            .context("cannot read standard input")?;
    } else {
        raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(raw)
}

pub async fn run(conn: &Conn, cmd: SamlToolCmd) -> anyhow::Result<()> {
    let SamlToolCmd::Inspect(a) = cmd;
    let value = saml_response_value(&read_input(&a.file)?, a.base64)?;
    let c = conn.client()?;
    let path = format!(
        "/tenants/{}/domains/{}/federation/inspect",
        seg(&a.t.tenant),
        seg(&a.domain)
    );
    let report = c.post(&path, json!({ "samlResponse": value })).await?;
    match conn.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_else(|_| report.to_string())
        ),
        Output::Table => print_table(&report),
    }
    if report.get("passed").and_then(Value::as_bool) == Some(true) {
        return Ok(());
    }
    let verdict = &report["verdict"];
    bail!(
        "the ACS would refuse this Response: {} ({})",
        verdict["code"].as_str().unwrap_or("?"),
        verdict["rule"].as_str().unwrap_or("?")
    )
}

fn print_table(report: &Value) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["rule", "verdict", "against", "compared", "code"]);
    let empty = Vec::new();
    for c in report["checks"].as_array().unwrap_or(&empty) {
        let passed = c["passed"].as_bool() == Some(true);
        t.add_row([
            c["rule"].as_str().unwrap_or("").to_owned(),
            if passed { "pass" } else { "FAIL" }.to_owned(),
            match c["against"].as_str() {
                Some("store") => "stored state (read only)",
                _ => "message",
            }
            .to_owned(),
            c["detail"].as_str().unwrap_or("").to_owned(),
            c["code"].as_str().unwrap_or("").to_owned(),
        ]);
    }
    println!("{t}");
    for n in report["notChecked"].as_array().unwrap_or(&empty) {
        println!("not checked: {}", n.as_str().unwrap_or(""));
    }
    println!(
        "read only: the outstanding request was not consumed, the replay cache not written, \
         no session opened, no sign-in log entry written"
    );
    if report["passed"].as_bool() == Some(true) {
        println!("verdict: the ACS would accept this Response now");
    } else {
        let v = &report["verdict"];
        println!(
            "verdict: the ACS would refuse it with {} ({}), HTTP {}",
            v["code"].as_str().unwrap_or("?"),
            v["rule"].as_str().unwrap_or("?"),
            v["status"]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::saml_response_value;
    use base64::Engine as _;

    #[test]
    fn xml_is_encoded_and_base64_is_kept() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("<samlp:Response/>");
        let check = |raw: &str, force: bool, want: &str| {
            assert_eq!(saml_response_value(raw.as_bytes(), force).unwrap(), want);
        };
        check("  <samlp:Response/>\n", false, &b64);
        check(&format!("{b64}\n"), false, &b64);
        check(&format!("{}\n{}", &b64[..8], &b64[8..]), true, &b64);
        check(
            &format!("SAMLResponse={}", b64.replace('=', "%3D")),
            false,
            &b64,
        );
        assert!(saml_response_value(b"  \n", false).is_err());
        assert!(saml_response_value(&[0xff, 0xfe], false).is_err());
    }
}
