//! Federation interoperability (issue 5): the real `sesame` binary as the service provider of
//! real third-party identity providers — Debian's SimpleSAMLphp 1.19 under Apache + mod_php, and
//! a pysaml2 IdP (`tests/interop/pysaml2_idp.py`) — for a whole federated domain (seed 001) and
//! for invited guests through direct federation (seed 002). Each captured Response is then run
//! through `sesame saml inspect` (OPS-3). A browser-like client (`tests/interop/browser.py`)
//! starts at Sésame's sign-in page with a user of the federated domain, is sent to
//! SimpleSAMLphp with an AuthnRequest (HTTP-POST), signs in there, comes back with the signed
//! Response and holds a Sésame session as the matched user. Signing out at Sésame then sends
//! the browser to the IdP with a signed LogoutRequest, which both IdPs verify (SimpleSAMLphp's
//! `validate.logout`, pysaml2's redirect-signature check) before ending their own session.
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
const GUEST: &str = "ann@partner.example";
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

/// Sésame (resolving TXT records through a dnsmasq of ours, and allowing loopback IdPs for
/// direct federation) with tenant contoso.example; Sésame's SP metadata saved in `work`.
struct Sesame {
    _server: Proc,
    _dns: Option<Proc>,
    dns_port: u16,
    url: String,
    tenant_id: String,
    sp_metadata: PathBuf,
}

fn sesame(work: &Path) -> Sesame {
    let port = free_port();
    let dns_port = free_dns_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = Proc(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(work.join("sesame"))
            .env("SESAME_ADMIN_TOKEN", ADMIN)
            .env("SESAME_DNS_SERVER", format!("127.0.0.1:{dns_port}"))
            // The partner IdPs of these tests live on loopback, outside partner.example.
            .env("SESAME_DIRECT_FEDERATION_HOSTS", "127.0.0.1")
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
    let sp_metadata = work.join("sesame-sp.xml");
    let fetched = Command::new("curl")
        .args(["-sf", &format!("{url}/{tenant_id}/sp/metadata.xml"), "-o"])
        .arg(&sp_metadata)
        .status()
        .unwrap();
    assert!(fetched.success(), "Sésame's SP metadata");
    Sesame {
        _server: server,
        _dns: None,
        dns_port,
        url,
        tenant_id,
        sp_metadata,
    }
}

/// What a partner IdP answers with for Alice, and where it lives.
struct Idp {
    _proc: Proc,
    entity_id: String,
    sso: String,
    logoff: String,
    /// The name of the cookie that holds the IdP's own session.
    session_cookie: &'static str,
    cert: PathBuf,
    /// The IdP's own log, for failure reports.
    log: PathBuf,
}

impl Idp {
    /// A browser walk's report with the newest lines of the IdP's log, for a failed assertion.
    fn failure_report(&self, report: &Value) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        format!("{report:#}\nIdP log (newest first):\n{}", tail.join("\n"))
    }
}

/// SimpleSAMLphp under Apache, releasing `email` as IDPEmail and as the emailaddress claim,
/// with `name_id` as persistent NameID.
fn simplesamlphp(work: &Path, sp_metadata: &Path, email: &str, name_id: &str) -> Idp {
    let port = free_port();
    let dir = work.join("simplesamlphp");
    let setup = Command::new("bash")
        .arg(interop_dir().join("ssp_idp.sh"))
        .arg("setup")
        .arg(&dir)
        .arg(port.to_string())
        .arg(sp_metadata)
        .args([IDP_USER, IDP_PASSWORD, email, name_id])
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "ssp_idp.sh: {}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let entity_id = String::from_utf8(setup.stdout).unwrap().trim().to_owned();
    let proc = Proc(
        Command::new("apache2")
            .arg("-X")
            .arg("-f")
            .arg(dir.join("httpd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port, "/simplesaml/saml2/idp/metadata.php", "SimpleSAMLphp");
    let base = format!("http://127.0.0.1:{port}/simplesaml/saml2/idp");
    Idp {
        _proc: proc,
        entity_id,
        sso: format!("{base}/SSOService.php"),
        logoff: format!("{base}/SingleLogoutService.php"),
        session_cookie: "SimpleSAMLAuthToken",
        cert: dir.join("config/idp.crt"),
        log: dir.join("logs/simplesamlphp.log"),
    }
}

/// The pysaml2 IdP of `tests/interop/pysaml2_idp.py`, answering like `simplesamlphp`.
fn pysaml2_idp(work: &Path, sp_metadata: &Path, email: &str, name_id: &str) -> Idp {
    let port = free_port();
    let dir = work.join("pysaml2-idp");
    let log = work.join("pysaml2-idp.log");
    let mut child = Command::new(venv_python())
        .arg(interop_dir().join("pysaml2_idp.py"))
        .args(["serve", "--dir"])
        .arg(&dir)
        .args(["--port", &port.to_string(), "--sp-metadata"])
        .arg(sp_metadata)
        .args([
            "--user",
            IDP_USER,
            "--password",
            IDP_PASSWORD,
            "--email",
            email,
        ])
        .args(["--immutable-id", name_id])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    let proc = Proc(child);
    assert_eq!(ready.trim(), "ready", "the pysaml2 IdP did not start");
    let base = format!("http://127.0.0.1:{port}");
    Idp {
        _proc: proc,
        entity_id: format!("{base}/idp"),
        sso: format!("{base}/sso"),
        logoff: format!("{base}/slo"),
        session_cookie: "pysaml2_idp_session",
        cert: dir.join("idp-cert.pem"),
        log,
    }
}

impl Sesame {
    /// Verifies partner.example through dnsmasq, creates Alice in it and returns her id and
    /// immutableId.
    fn verify_partner_domain(&mut self) -> (String, String) {
        let domain = cli(
            &self.url,
            &["domain", "add", "-t", "contoso.example", "partner.example"],
        );
        let token = domain["verificationToken"].as_str().unwrap();
        self._dns = Some(start_dnsmasq(
            &dnsmasq().unwrap(),
            self.dns_port,
            &format!("partner.example,sesame-verification={token}"),
        ));
        cli(
            &self.url,
            &[
                "domain",
                "verify",
                "-t",
                "contoso.example",
                "partner.example",
            ],
        );
        let user = cli(
            &self.url,
            &["user", "create", "-t", "contoso.example", USER],
        );
        let field = |f: &str| user[f].as_str().unwrap().to_owned();
        (field("id"), field("immutableId"))
    }

    /// `domain federate` (seed 001, Set-MsolDomainAuthentication) or `guest federate` (seed
    /// 002, direct federation) of partner.example with the IdP.
    fn federate(&self, kind: &str, idp: &Idp) {
        let f = cli(
            &self.url,
            &[
                kind,
                "federate",
                "-t",
                "contoso.example",
                "partner.example",
                "--issuer",
                &idp.entity_id,
                "--passive-logon-url",
                &idp.sso,
                "--logoff-url",
                &idp.logoff,
                "--signing-cert-file",
                idp.cert.to_str().unwrap(),
                // Both IdPs sign their LogoutResponses: only signed ones count.
                "--require-signed-logout-responses",
                "true",
            ],
        );
        assert_eq!(f["requireSignedLogoutResponses"], true, "{f:#}");
    }

    /// Walks from `start` to a session: Sésame must send an AuthnRequest to the IdP and take
    /// the Response at its ACS; the portal must then name `upn`, and the sign-in log hold a
    /// success of `user_id`.
    fn sign_in_through(
        &self,
        work: &Path,
        label: &str,
        start: &str,
        idp: &Idp,
        (user_id, upn): (&str, &str),
    ) {
        let report = walk(work, label, start);
        let show = || idp.failure_report(&report);
        assert!(report["error"].is_null(), "{}", show());
        let saml = report["saml"].as_array().unwrap();
        assert!(
            saml.iter()
                .any(|m| m["kind"] == "SAMLRequest" && m["action"] == idp.sso.as_str()),
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
        // The captured Response, inspected now (OPS-3), gets the ACS's verdict: refused, since
        // its request was answered; its signature by the configured key still passes.
        let captured = saml
            .iter()
            .find(|m| m["kind"] == "SAMLResponse")
            .and_then(|m| m["file"].as_str())
            .unwrap();
        let inspected = Command::new(BIN)
            .args([
                "saml",
                "inspect",
                "-t",
                "contoso.example",
                "--domain",
                "partner.example",
            ])
            .args([captured, "--output", "json"])
            .env("SESAME_SERVER", &self.url)
            .env("SESAME_TOKEN", ADMIN)
            .output()
            .unwrap();
        assert!(!inspected.status.success(), "{}", show());
        let report: Value = serde_json::from_slice(&inspected.stdout).unwrap();
        let signature = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rule"] == "assertion-signed-by-trusted-key")
            .cloned()
            .unwrap_or_default();
        assert_eq!(signature["passed"], true, "{report:#}");
        let portal = walk(
            work,
            label,
            &format!("{}/{}/myapps", self.url, self.tenant_id),
        );
        assert_eq!(portal["status"], 200, "{portal:#}");
        assert!(
            portal["body"].as_str().unwrap().contains(upn),
            "{upn} not on the portal: {portal:#}"
        );
        let log = cli(&self.url, &["signins", "-t", "contoso.example"]);
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["userId"] == user_id && e["result"] == "success"),
            "{log:#}"
        );
    }

    /// Signs out at Sésame: the browser goes on to the IdP with Sésame's LogoutRequest, which
    /// the IdP (set to require signed logout messages) accepts; it ends its own session and
    /// answers at Sésame's SLO endpoint with a signed LogoutResponse, which Sésame verifies
    /// before showing the signed-out page without a note. Signing in again
    /// from `start` then asks the IdP for the password again.
    fn sign_out_through(&self, work: &Path, label: &str, start: &str, idp: &Idp) {
        // The IdP's session cookie is held: only its end makes it ask for the password again.
        let jar = std::fs::read_to_string(work.join("cookies.txt")).unwrap();
        assert!(
            jar.contains(&format!("{}=", idp.session_cookie)),
            "no IdP session: {jar}"
        );
        let report = walk(
            work,
            &format!("{label}-sign-out"),
            &format!("{}/{}/logout", self.url, self.tenant_id),
        );
        let show = || idp.failure_report(&report);
        assert!(report["error"].is_null(), "{}", show());
        let saml = report["saml"].as_array().unwrap();
        let slo = format!("{}/{}/saml2", self.url, self.tenant_id);
        assert!(
            saml.iter()
                .any(|m| m["kind"] == "SAMLRequest" && m["action"] == idp.logoff.as_str()),
            "{}",
            show()
        );
        assert!(
            saml.iter()
                .any(|m| m["kind"] == "SAMLResponse" && m["action"] == slo.as_str()),
            "the IdP did not answer the LogoutRequest: {}",
            show()
        );
        let page = report["body"].as_str().unwrap();
        assert!(page.contains("Signed out"), "{}", show());
        // The IdP's signed LogoutResponse passed with the federation's certificate: no note
        // that it did not confirm.
        assert!(
            !page.contains("did not confirm") && !page.contains("could not be told"),
            "{}",
            show()
        );
        let again = walk(work, &format!("{label}-again"), start);
        assert!(again["error"].is_null(), "{again:#}");
        assert_eq!(
            again["idp_logins"], 1,
            "the IdP's session did not end: {again:#}"
        );
    }

    /// Domain federation (seed 001): Alice of the verified domain signs in at the IdP.
    fn domain_user_scenario(&mut self, work: &Path, make_idp: fn(&Path, &Path, &str, &str) -> Idp) {
        let (user_id, immutable_id) = self.verify_partner_domain();
        let idp = make_idp(work, &self.sp_metadata, USER, &immutable_id);
        self.federate("domain", &idp);
        let start = format!("{}/{}/login?login_hint={USER}", self.url, self.tenant_id);
        self.sign_in_through(work, "domain", &start, &idp, (&user_id, USER));
        self.sign_out_through(work, "domain", &start, &idp);
    }

    /// Direct federation (seed 002): Ann of the partner, invited as a guest, redeems her
    /// invitation by signing in at her own IdP.
    fn guest_scenario(&self, work: &Path, make_idp: fn(&Path, &Path, &str, &str) -> Idp) {
        let idp = make_idp(work, &self.sp_metadata, GUEST, "ann-at-partner-0001");
        self.federate("guest", &idp);
        let invited = cli(
            &self.url,
            &["guest", "invite", "-t", "contoso.example", GUEST],
        );
        let link = invited["redeemUrl"].as_str().unwrap().to_owned();
        let user = &invited["user"];
        let id = user["id"].as_str().unwrap();
        let upn = user["userPrincipalName"].as_str().unwrap();
        self.sign_in_through(work, "guest", &link, &idp, (id, upn));
        self.sign_out_through(work, "guest", &link, &idp);
        let guests = cli(&self.url, &["guest", "list", "-t", "contoso.example"]);
        assert!(
            guests
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["email"] == GUEST && !g["redeemedAt"].is_null()),
            "the invitation is not redeemed: {guests:#}"
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
    sesame(&work).domain_user_scenario(&work, simplesamlphp);
    clean(&work);
}

#[test]
fn a_federated_user_signs_in_through_a_pysaml2_idp() {
    if !peers_present(&pysaml2_peers()) {
        return;
    }
    let work = work_dir("fed-pysaml2");
    sesame(&work).domain_user_scenario(&work, pysaml2_idp);
    clean(&work);
}

#[test]
fn an_invited_guest_signs_in_through_simplesamlphp() {
    if !peers_present(&simplesamlphp_peers()) {
        return;
    }
    let work = work_dir("guest-ssp");
    sesame(&work).guest_scenario(&work, simplesamlphp);
    clean(&work);
}

#[test]
fn an_invited_guest_signs_in_through_a_pysaml2_idp() {
    if !peers_present(&pysaml2_peers()) {
        return;
    }
    let work = work_dir("guest-pysaml2");
    sesame(&work).guest_scenario(&work, pysaml2_idp);
    clean(&work);
}
