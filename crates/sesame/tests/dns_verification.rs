//! Domain verification against a real DNS server: Debian's dnsmasq on loopback, serving the TXT
//! record, with Sésame's resolver pointed at it (`--dns-server`).
//!
//! The verified domain is then federated, and `sesame saml inspect` (OPS-3) is checked against
//! the ACS of the same running server on the same files.
//!
//! Skipped (with a message) when dnsmasq is missing, unless `SESAME_REQUIRE_PEERS=1` (CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::WorkDir;
use serde_json::Value;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "sesame_at_dns-test-global-admin-token-000000000";
const BIN: &str = env!("CARGO_BIN_EXE_sesame");

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dnsmasq() -> Option<PathBuf> {
    ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A port free for both UDP and TCP.
fn free_dns_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn start_dnsmasq(bin: &PathBuf, port: u16, txt: &[&str]) -> Kill {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--user=root",
        "--pid-file=",
        &format!("--port={port}"),
    ]);
    for record in txt {
        cmd.arg(format!("--txt-record={record}"));
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Kill(child)
}

fn cli(url: &str, args: &[&str]) -> (bool, Value, String) {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let out = Command::new(BIN)
        .args(&all)
        .env("SESAME_SERVER", url)
        .env("SESAME_TOKEN", ADMIN)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn txt_record_served_by_dnsmasq_verifies_the_domain() {
    let Some(dnsmasq) = dnsmasq() else {
        assert!(
            std::env::var("SESAME_REQUIRE_PEERS").is_err(),
            "dnsmasq is required (apt-get install dnsmasq-base)"
        );
        eprintln!("skipped: dnsmasq not installed");
        return;
    };
    let dns_port = free_dns_port();
    let http_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = WorkDir::new("dns");
    let server = Kill(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{http_port}"),
                "--dns-server",
                &format!("127.0.0.1:{dns_port}"),
            ])
            .arg("--data-dir")
            .arg(&data)
            .env("SESAME_ADMIN_TOKEN", ADMIN)
            .env("SESAME_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{http_port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cli(&url, &["tenant", "list"]).0 {
        assert!(Instant::now() < deadline, "server not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    cli(
        &url,
        &[
            "tenant",
            "create",
            "Contoso",
            "--initial-domain",
            "contoso.example",
        ],
    );
    let (ok, domain, err) = cli(
        &url,
        &["domain", "add", "-t", "contoso.example", "fabrikam.example"],
    );
    assert!(ok, "{err}");
    let token = domain["verificationToken"].as_str().unwrap().to_string();

    // No DNS server answering: a clear failure, the domain stays unverified.
    let (ok, _, err) = cli(
        &url,
        &[
            "domain",
            "verify",
            "-t",
            "contoso.example",
            "fabrikam.example",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("SESAME-1422") && err.contains("DNS lookup failed"),
        "{err}"
    );

    // A server with other TXT records but not ours.
    {
        let _dns = start_dnsmasq(
            &dnsmasq,
            dns_port,
            &[
                "fabrikam.example,v=spf1 -all",
                "fabrikam.example,sesame-verification=someone-else",
            ],
        );
        let (ok, _, err) = cli(
            &url,
            &[
                "domain",
                "verify",
                "-t",
                "contoso.example",
                "fabrikam.example",
            ],
        );
        assert!(!ok);
        assert!(err.contains("no TXT record"), "{err}");
    }

    // The right record verifies it; then users may live in it and the tenant resolves by it.
    let record = format!("fabrikam.example,sesame-verification={token}");
    let _dns = start_dnsmasq(
        &dnsmasq,
        dns_port,
        &["fabrikam.example,v=spf1 -all", &record],
    );
    let (ok, verified, err) = cli(
        &url,
        &[
            "domain",
            "verify",
            "-t",
            "contoso.example",
            "fabrikam.example",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(verified["status"], "verified");
    let (ok, bob, err) = cli(
        &url,
        &[
            "user",
            "create",
            "-t",
            "fabrikam.example",
            "bob@fabrikam.example",
        ],
    );
    assert!(ok, "{err}");

    // The verified domain can now be federated with its users' identity provider (the
    // Set-MsolDomainAuthentication equivalent), shown, and removed again.
    let cert = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sesame-saml/testdata/keys/idp.cert.pem"
    );
    let (ok, fed, err) = cli(
        &url,
        &[
            "domain",
            "federate",
            "-t",
            "contoso.example",
            "fabrikam.example",
            "--issuer",
            "https://idp.fabrikam.example/",
            "--passive-logon-url",
            "https://idp.fabrikam.example/sso",
            "--logoff-url",
            "https://idp.fabrikam.example/slo",
            "--signing-cert-file",
            cert,
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(fed["issuerUri"], "https://idp.fabrikam.example/");
    assert_eq!(fed["allowSha1"], true, "seed 001's default");
    let (_, shown, _) = cli(
        &url,
        &[
            "domain",
            "show",
            "-t",
            "contoso.example",
            "fabrikam.example",
        ],
    );
    assert_eq!(shown["status"], "federated");
    inspect_with_the_cli(&url, &bob["immutableId"]);
    guests_with_the_cli(&url, cert);
    let (ok, _, err) = cli(
        &url,
        &[
            "domain",
            "federation",
            "remove",
            "-t",
            "contoso.example",
            "fabrikam.example",
        ],
    );
    assert!(ok, "{err}");
    let (_, shown, _) = cli(
        &url,
        &[
            "domain",
            "show",
            "-t",
            "contoso.example",
            "fabrikam.example",
        ],
    );
    assert_eq!(shown["status"], "verified");
    let (ok, _, err) = cli(
        &url,
        &[
            "domain",
            "federation",
            "show",
            "-t",
            "contoso.example",
            "fabrikam.example",
        ],
    );
    assert!(!ok && err.contains("HTTP 404"), "{err}");
    drop(server);
}

fn run_cli(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("SESAME_SERVER", url)
        .env("SESAME_TOKEN", ADMIN)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Response of the federated IdP (the test key whose certificate the federation trusts)
/// answering `request`, as Bob; `audience` is normally the request's Issuer (our SP entityID).
fn idp_response(request: &sesame_saml::AuthnRequest, immutable_id: &str, audience: &str) -> String {
    use sesame_saml::{Attribute, NameId, ResponseParams, SignWith, Signer, SigningMode, ns};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sesame-saml/testdata/keys");
    let key = sesame_xmlsec::SigningKey::from_pem(
        &std::fs::read_to_string(format!("{dir}/idp.key.pem")).unwrap(),
        &std::fs::read_to_string(format!("{dir}/idp.cert.pem")).unwrap(),
    )
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let acs = request.assertion_consumer_service_url.clone().unwrap();
    let nid = NameId {
        value: immutable_id.into(),
        format: Some(ns::nameid::PERSISTENT.into()),
        name_qualifier: None,
        sp_name_qualifier: None,
    };
    let attrs = vec![Attribute {
        name: "IDPEmail".into(),
        name_format: None,
        friendly_name: None,
        values: vec!["bob@fabrikam.example".into()],
    }];
    let assertion_id = format!("_a{}", uuid::Uuid::new_v4().simple());
    let p = ResponseParams {
        response_id: "_r1",
        assertion_id: &assertion_id,
        issue_instant: now,
        issuer: "https://idp.fabrikam.example/",
        destination: &acs,
        in_response_to: Some(request.id()),
        audience,
        name_id: &nid,
        subject_not_on_or_after: now + time::Duration::minutes(5),
        not_before: now - time::Duration::seconds(5),
        not_on_or_after: now + time::Duration::minutes(5),
        authn_instant: now,
        session_index: Some("_s1"),
        session_not_on_or_after: None,
        authn_context_class_ref: ns::AC_PASSWORD_PROTECTED_TRANSPORT,
        attributes: &attrs,
    };
    let signer = Signer {
        sign: SignWith::rsa_sha256(&key),
        mode: SigningMode::Assertion,
        encryption: None,
    };
    sesame_saml::build_response(&p, &signer).unwrap()
}

/// OPS-3 acceptance through the binary: `sesame saml inspect` prints the ACS's verdicts for
/// the same files (table and JSON), exits 0 only when all pass, and consumes nothing.
fn inspect_with_the_cli(url: &str, immutable_id: &Value) {
    use base64::Engine as _;
    let immutable_id = immutable_id.as_str().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Home-realm discovery: the AuthnRequest the login page posts to the IdP.
    let b64 = base64::engine::general_purpose::STANDARD;
    let start = || {
        let page = rt
            .block_on(async {
                http.get(format!(
                    "{url}/contoso.example/login?login_hint=bob@fabrikam.example"
                ))
                .send()
                .await?
                .text()
                .await
            })
            .unwrap();
        let value = page
            .split("name=\"SAMLRequest\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        sesame_saml::parse_authn_request(&String::from_utf8(b64.decode(value).unwrap()).unwrap())
            .unwrap()
    };
    // One request for each file: the ACS consumes a request even when it refuses the answer.
    let request = start();
    let other_request = start();
    let sp = request.issuer().to_owned();
    let acs = request.assertion_consumer_service_url.clone().unwrap();
    let dir = std::env::temp_dir().join(format!("sesame-inspect-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = idp_response(&request, immutable_id, &sp);
    let bad = idp_response(
        &other_request,
        immutable_id,
        "https://someone-else.example/sp",
    );
    let good_xml = dir.join("good.xml");
    let good_b64 = dir.join("good.b64");
    let bad_xml = dir.join("bad.xml");
    std::fs::write(&good_xml, &good).unwrap();
    std::fs::write(&good_b64, b64.encode(&good)).unwrap();
    std::fs::write(&bad_xml, &bad).unwrap();
    let inspect = |file: &PathBuf, extra: &[&str]| {
        let mut args = vec![
            "saml",
            "inspect",
            "--tenant",
            "contoso.example",
            "--domain",
            "fabrikam.example",
            file.to_str().unwrap(),
        ];
        args.extend(extra);
        run_cli(url, &args)
    };
    let post = |xml: &str| {
        rt.block_on(async {
            let res = http
                .post(&acs)
                .form(&[("SAMLResponse", b64.encode(xml))])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        })
    };

    // The tampered file: exit 1, the failed rule and what was compared, as the ACS says.
    let (ok, out, err) = inspect(&bad_xml, &[]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("SESAME-4004 (audience-restriction-includes-sp)"),
        "{err}"
    );
    let failed_row = out
        .lines()
        .find(|l| l.contains("audience-restriction-includes-sp"))
        .unwrap();
    assert!(
        failed_row.contains("FAIL") && failed_row.contains("someone-else"),
        "{out}"
    );
    let (ok, json, _) = {
        let (ok, out, err) = inspect(&bad_xml, &["--output", "json"]);
        (ok, serde_json::from_str::<Value>(&out).unwrap(), err)
    };
    assert!(!ok);
    assert_eq!(json["verdict"]["rule"], "audience-restriction-includes-sp");
    assert_eq!(json["verdict"]["code"], "SESAME-4004");

    // The valid file, as XML and as base64: exit 0, every row passes.
    let (ok, out, err) = inspect(&good_xml, &[]);
    assert!(ok, "{out}{err}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(out.contains("verdict: the ACS would accept"), "{out}");
    for rule in [
        "assertion-signed-by-trusted-key",
        "replay-cache",
        "user-matching",
    ] {
        assert!(
            out.lines().any(|l| l.contains(rule) && l.contains("pass")),
            "{rule}: {out}"
        );
    }
    let (ok, out, err) = inspect(&good_b64, &["--base64", "--output", "json"]);
    assert!(ok, "{out}{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["passed"], true);

    // The ACS agrees on both files; inspection consumed nothing, so the valid one signs in.
    let (status, text) = post(&bad);
    assert_eq!(status, 403);
    assert!(text.contains("SESAME-4004"), "{text}");
    let (status, text) = post(&good);
    assert_eq!(status, 303, "{text}");

    // Used now: inspect and the ACS both refuse it, for the same reason.
    let (ok, json, _) = {
        let (ok, out, err) = inspect(&good_xml, &["--output", "json"]);
        (ok, serde_json::from_str::<Value>(&out).unwrap(), err)
    };
    assert!(!ok);
    assert_eq!(json["verdict"]["code"], "SESAME-4002");
    let (status, text) = post(&good);
    assert_eq!(status, 400);
    assert!(text.contains("SESAME-4002"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// DIR-4 / SAML-SP-5 through the binary: a direct federation with a partner's domain, refused
/// for the tenant's own verified domain and for a logon URL outside the partner's domain, and an
/// invitation whose redemption link carries the tenant context.
fn guests_with_the_cli(url: &str, cert: &str) {
    let federate = |domain: &str, logon: &str| {
        cli(
            url,
            &[
                "guest",
                "federate",
                "-t",
                "contoso.example",
                domain,
                "--issuer",
                "https://sts.partner.example/idp",
                "--passive-logon-url",
                logon,
                "--logoff-url",
                "https://sts.partner.example/slo",
                "--signing-cert-file",
                cert,
            ],
        )
    };
    let (ok, _, err) = federate("fabrikam.example", "https://sts.fabrikam.example/sso");
    assert!(!ok && err.contains("verified domain"), "{err}");
    let (ok, _, err) = federate("partner.example", "https://sts.elsewhere.example/sso");
    assert!(!ok && err.contains("passiveLogonUrl"), "{err}");
    let (ok, fed, err) = federate("partner.example", "https://sts.partner.example/sso");
    assert!(ok, "{err}");
    assert_eq!(fed["domain"], "partner.example");
    let (ok, invited, err) = cli(
        url,
        &[
            "guest",
            "invite",
            "-t",
            "contoso.example",
            "ann@partner.example",
        ],
    );
    assert!(ok, "{err}");
    let link = invited["redeemUrl"].as_str().unwrap();
    let tenant = invited["invitation"]["tenantId"].as_str().unwrap();
    assert!(
        link.ends_with(&format!("/{tenant}/login?login_hint=ann%40partner.example")),
        "{link}"
    );
    let (ok, _, err) = cli(
        url,
        &[
            "guest",
            "invite",
            "-t",
            "contoso.example",
            "ann@partner.example",
        ],
    );
    assert!(!ok && err.contains("HTTP 409"), "{err}");
    let (ok, list, err) = cli(url, &["guest", "list", "-t", "contoso.example"]);
    assert!(ok, "{err}");
    assert_eq!(list[0]["email"], "ann@partner.example");
    assert!(list[0]["redeemedAt"].is_null());
    let (ok, _, err) = cli(
        url,
        &[
            "guest",
            "federation",
            "remove",
            "-t",
            "contoso.example",
            "partner.example",
        ],
    );
    assert!(ok, "{err}");
}
