//! Federation interoperability (issue 5): the real `sesame` binary as the service provider of
//! real third-party identity providers — Debian's SimpleSAMLphp 1.19 under Apache + mod_php, and
//! a pysaml2 IdP (`tests/interop/pysaml2_idp.py`) — for a whole federated domain (seed 001). A browser-like client (`tests/interop/browser.py`)
//! starts at Sésame's sign-in page with a user of the federated domain, is sent to
//! SimpleSAMLphp with an AuthnRequest (HTTP-POST), signs in there, comes back with the signed
//! Response and holds a Sésame session as the matched user.
//!
//! Peers: `apache2`, `libapache2-mod-php`, `simplesamlphp`, `xmlsec1`, `dnsmasq` (to verify the
//! domain) and `pysaml2` + `requests` in `target/interop-venv`; `.ci/install-peers.sh` installs them. A missing peer
//! skips the test with a message, unless `SESAME_REQUIRE_PEERS=1` (CI) makes it a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{BIN, Proc, cli_as, free_port, wait_for};

use serde_json::Value;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const ADMIN: &str = "sesame_at_federation-interop-admin-token-000000";
const USER: &str = "alice@partner.example";
const IDP_USER: &str = "alice";
const IDP_PASSWORD: &str = "Partner-Pass-1";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn venv_python() -> PathBuf {
    std::env::var_os("SESAME_INTEROP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv"))
        .join("bin/python")
}

fn dnsmasq() -> Option<PathBuf> {
    ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn has(path: &str) -> bool {
    Path::new(path).exists()
}

fn has_python_module(module: &str) -> bool {
    Command::new(venv_python())
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn simplesamlphp_peers() -> Vec<(&'static str, bool)> {
    vec![
        ("apache2", has("/usr/sbin/apache2")),
        (
            "libapache2-mod-php",
            has("/usr/lib/apache2/modules/libphp8.2.so"),
        ),
        ("simplesamlphp", has("/usr/share/simplesamlphp/www")),
        ("dnsmasq", dnsmasq().is_some()),
        (
            "requests in target/interop-venv",
            has_python_module("requests"),
        ),
    ]
}

fn pysaml2_peers() -> Vec<(&'static str, bool)> {
    vec![
        ("xmlsec1", has("/usr/bin/xmlsec1")),
        ("dnsmasq", dnsmasq().is_some()),
        (
            "pysaml2 and requests in target/interop-venv",
            has_python_module("saml2, requests"),
        ),
    ]
}

/// True when every peer is installed; otherwise skips (or fails when peers are required).
fn peers_present(checks: &[(&str, bool)]) -> bool {
    let missing: Vec<&str> = checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("SESAME_REQUIRE_PEERS").as_deref() != Ok("1"),
        "SESAME_REQUIRE_PEERS=1 and peers are missing: {missing:?} (run .ci/install-peers.sh)"
    );
    eprintln!("SKIPPED: missing peers {missing:?}; install them with .ci/install-peers.sh");
    false
}

/// A port free for both UDP and TCP (DNS).
fn free_dns_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn cli(url: &str, args: &[&str]) -> Value {
    cli_as(url, ADMIN, args)
}

fn start_dnsmasq(bin: &Path, port: u16, txt: &str) -> Proc {
    let child = Command::new(bin)
        .args([
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--user=root",
            "--pid-file=",
            &format!("--port={port}"),
            &format!("--txt-record={txt}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Proc(child)
}

/// Runs `browser.py walk` from `start`; returns its JSON report.
fn walk(dir: &Path, label: &str, start: &str) -> Value {
    let out = Command::new(venv_python())
        .arg(interop_dir().join("browser.py"))
        .args(["walk", "--jar"])
        .arg(dir.join("cookies.txt"))
        .args(["--start", start, "--label", label, "--out-dir"])
        .arg(dir.join("messages"))
        .args(["--idp-user", IDP_USER, "--idp-password", IDP_PASSWORD])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "browser.py printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Sésame (resolving TXT records through a dnsmasq of ours) with tenant contoso.example, the
/// verified domain partner.example and its user Alice; Sésame's SP metadata saved in `work`.
struct Sesame {
    _server: Proc,
    _dns: Proc,
    url: String,
    tenant_id: String,
    immutable_id: String,
    sp_metadata: PathBuf,
}

fn sesame_with_a_verified_domain(work: &Path) -> Sesame {
    let dns_port = free_dns_port();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = Proc(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(work.join("sesame"))
            .env("SESAME_ADMIN_TOKEN", ADMIN)
            .env("SESAME_DNS_SERVER", format!("127.0.0.1:{dns_port}"))
            .env("SESAME_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port, "/readyz", "sesame");
    let tenant = cli(
        &url,
        &[
            "tenant",
            "create",
            "Contoso",
            "--initial-domain",
            "contoso.example",
        ],
    );
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    let domain = cli(
        &url,
        &["domain", "add", "-t", "contoso.example", "partner.example"],
    );
    let token = domain["verificationToken"].as_str().unwrap();
    let dns = start_dnsmasq(
        &dnsmasq().unwrap(),
        dns_port,
        &format!("partner.example,sesame-verification={token}"),
    );
    cli(
        &url,
        &[
            "domain",
            "verify",
            "-t",
            "contoso.example",
            "partner.example",
        ],
    );
    let user = cli(&url, &["user", "create", "-t", "contoso.example", USER]);
    let immutable_id = user["immutableId"].as_str().unwrap().to_owned();
    let sp_metadata = work.join("sesame-sp.xml");
    let fetched = Command::new("curl")
        .args(["-sf", &format!("{url}/{tenant_id}/sp/metadata.xml"), "-o"])
        .arg(&sp_metadata)
        .status()
        .unwrap();
    assert!(fetched.success(), "Sésame's SP metadata");
    Sesame {
        _server: server,
        _dns: dns,
        url,
        tenant_id,
        immutable_id,
        sp_metadata,
    }
}

impl Sesame {
    /// Federates partner.example with the IdP, as seed 001 does with Set-MsolDomainAuthentication.
    fn federate(&self, issuer: &str, sso: &str, logoff: &str, cert: &Path) {
        cli(
            &self.url,
            &[
                "domain",
                "federate",
                "-t",
                "contoso.example",
                "partner.example",
                "--issuer",
                issuer,
                "--passive-logon-url",
                sso,
                "--logoff-url",
                logoff,
                "--signing-cert-file",
                cert.to_str().unwrap(),
            ],
        );
    }

    /// Walks from Sésame's sign-in page with Alice's name to a session: Sésame must send an
    /// AuthnRequest to `sso` and take the Response at its ACS; the portal must then name her.
    fn sign_in_through(&self, work: &Path, label: &str, sso: &str, evidence: impl Fn() -> String) {
        let report = walk(
            work,
            label,
            &format!("{}/{}/login?login_hint={USER}", self.url, self.tenant_id),
        );
        let show = || format!("{report:#}\n{}", evidence());
        assert!(report["error"].is_null(), "{}", show());
        let saml = report["saml"].as_array().unwrap();
        assert!(
            saml.iter()
                .any(|m| m["kind"] == "SAMLRequest" && m["action"] == sso),
            "{}",
            show()
        );
        let acs = format!("{}/{}/saml2/acs", self.url, self.tenant_id);
        assert!(
            saml.iter()
                .any(|m| m["kind"] == "SAMLResponse" && m["action"] == acs.as_str()),
            "{}",
            show()
        );
        let portal = walk(
            work,
            label,
            &format!("{}/{}/myapps", self.url, self.tenant_id),
        );
        assert_eq!(portal["status"], 200, "{portal:#}");
        assert!(
            portal["body"].as_str().unwrap().contains(USER),
            "{portal:#}"
        );
        let log = cli(&self.url, &["signins", "-t", "contoso.example"]);
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["userPrincipalName"] == USER && e["result"] == "success"),
            "{log:#}"
        );
    }
}

fn work_dir(name: &str) -> PathBuf {
    let work = std::env::temp_dir().join(format!("sesame-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    work
}

fn clean(work: &Path) {
    if std::env::var_os("SESAME_INTEROP_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(work);
    }
}

#[test]
fn a_federated_user_signs_in_through_simplesamlphp() {
    if !peers_present(&simplesamlphp_peers()) {
        return;
    }
    let work = work_dir("fed-ssp");
    let sesame = sesame_with_a_verified_domain(&work);
    let ssp_port = free_port();
    let ssp_dir = work.join("simplesamlphp");
    let setup = Command::new("bash")
        .arg(interop_dir().join("ssp_idp.sh"))
        .arg("setup")
        .arg(&ssp_dir)
        .arg(ssp_port.to_string())
        .arg(&sesame.sp_metadata)
        .args([IDP_USER, IDP_PASSWORD, USER, &sesame.immutable_id])
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "ssp_idp.sh: {}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let entity_id = String::from_utf8(setup.stdout).unwrap().trim().to_owned();
    let _ssp = Proc(
        Command::new("apache2")
            .arg("-X")
            .arg("-f")
            .arg(ssp_dir.join("httpd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(
        ssp_port,
        "/simplesaml/saml2/idp/metadata.php",
        "SimpleSAMLphp",
    );
    let base = format!("http://127.0.0.1:{ssp_port}/simplesaml/saml2/idp");
    let sso = format!("{base}/SSOService.php");
    sesame.federate(
        &entity_id,
        &sso,
        &format!("{base}/SingleLogoutService.php"),
        &ssp_dir.join("config/idp.crt"),
    );
    sesame.sign_in_through(&work, "ssp", &sso, || {
        let log =
            std::fs::read_to_string(ssp_dir.join("logs/simplesamlphp.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        format!("SimpleSAMLphp log (newest first):\n{}", tail.join("\n"))
    });
    clean(&work);
}

#[test]
fn a_federated_user_signs_in_through_a_pysaml2_idp() {
    if !peers_present(&pysaml2_peers()) {
        return;
    }
    let work = work_dir("fed-pysaml2");
    let sesame = sesame_with_a_verified_domain(&work);
    let idp_port = free_port();
    let idp_dir = work.join("pysaml2-idp");
    let log = std::fs::File::create(work.join("pysaml2-idp.log")).unwrap();
    let mut child = Command::new(venv_python())
        .arg(interop_dir().join("pysaml2_idp.py"))
        .args(["serve", "--dir"])
        .arg(&idp_dir)
        .args(["--port", &idp_port.to_string(), "--sp-metadata"])
        .arg(&sesame.sp_metadata)
        .args([
            "--user",
            IDP_USER,
            "--password",
            IDP_PASSWORD,
            "--email",
            USER,
        ])
        .args(["--immutable-id", &sesame.immutable_id])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    let _idp = Proc(child);
    assert_eq!(ready.trim(), "ready", "the pysaml2 IdP did not start");
    let base = format!("http://127.0.0.1:{idp_port}");
    let sso = format!("{base}/sso");
    sesame.federate(
        &format!("{base}/idp"),
        &sso,
        &format!("{base}/slo"),
        &idp_dir.join("idp-cert.pem"),
    );
    sesame.sign_in_through(&work, "pysaml2", &sso, || {
        std::fs::read_to_string(work.join("pysaml2-idp.log")).unwrap_or_default()
    });
    clean(&work);
}
