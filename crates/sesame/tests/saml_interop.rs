//! SAML interoperability: the real `sesame` binary on loopback as the identity provider of real
//! third-party service providers — Debian's Shibboleth SP 3 (shibd + Apache with mod_shib) and a
//! pysaml2 SP — driven by a browser-like client (`tests/interop/browser.py`, Python `requests`),
//! and by a real browser: Debian's headless Chromium (`tests/interop/chromium.py`, over
//! chromedriver), with the SP on another site. Every Response Sésame emits in the scripted
//! tests is also checked on its own by `xmlsec1 --verify`.
//!
//! Peers: `apache2`, `shibd` and `mod_shib` (Debian), `xmlsec1`, `chromium` and
//! `chromium-driver` (Debian), and a virtualenv with pysaml2, requests and selenium at
//! `target/interop-venv` (or `SESAME_INTEROP_VENV`); `.ci/install-peers.sh` installs them. A missing peer skips its test with a message, unless `SESAME_REQUIRE_PEERS=1` (CI),
//! which turns it into a failure.
//!
//! Each test runs its scenarios one after the other and reports every failed scenario at the
//! end, with the evidence (final status, page text, the SP's log), rather than stopping at the
//! first. Work files (saved SAML messages, configs, logs) stay in `$TMPDIR/sesame-interop-*`
//! when a test fails, or always with `SESAME_INTEROP_KEEP=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "sesame_at_interop-global-admin-token-0000000000";
const BIN: &str = env!("CARGO_BIN_EXE_sesame");
const TENANT: &str = "contoso.example";
const ALICE: &str = "alice@contoso.example";
const BOB: &str = "bob@contoso.example";
const PASSWORD: &str = "Correct-Horse-1";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("SESAME_INTEROP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/interop-venv"));
    venv.join("bin/python")
}

// ---------------------------------------------------------------------------------------------
// Peers: present, or skipped (or failed in CI).

fn peers_required() -> bool {
    std::env::var("SESAME_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// `None` when every peer is there; else what is missing.
fn missing(checks: &[(&str, bool)]) -> Option<String> {
    let gone: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| *n)
        .collect();
    (!gone.is_empty()).then(|| gone.join(", "))
}

/// True when the test may run; prints why it skips, or panics when peers are required.
fn peers_present(test: &str, checks: &[(&str, bool)]) -> bool {
    match missing(checks) {
        None => true,
        Some(what) if peers_required() => {
            panic!(
                "{test}: SESAME_REQUIRE_PEERS=1 and peers are missing: {what} (run .ci/install-peers.sh)"
            )
        }
        Some(what) => {
            eprintln!(
                "SKIPPED {test}: missing peers: {what}. Install them with `bash .ci/install-peers.sh` \
                 (SESAME_REQUIRE_PEERS=1 makes this a failure)."
            );
            false
        }
    }
}

fn has_xmlsec1() -> bool {
    Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn has_pysaml2() -> bool {
    Command::new(venv_python())
        .args(["-c", "import saml2, requests"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn has_chromium() -> bool {
    Path::new("/usr/bin/chromium").exists()
        && Path::new("/usr/bin/chromedriver").exists()
        && Command::new(venv_python())
            .args(["-c", "import selenium"])
            .output()
            .is_ok_and(|o| o.status.success())
}

fn has_shibboleth() -> bool {
    Path::new("/usr/sbin/shibd").exists()
        && Path::new("/usr/sbin/apache2").exists()
        && Path::new("/usr/lib/apache2/modules/mod_shib.so").exists()
}

// ---------------------------------------------------------------------------------------------
// Processes and HTTP.

/// A child process killed (and reaped) when dropped, on success and on panic alike.
struct Proc {
    name: String,
    child: Option<Child>,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> Proc {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.to_string(),
            child: Some(child),
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn assert_running(&mut self) {
        if let Some(c) = self.child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            panic!("{} exited early: {status}", self.name);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.0 GET (no chunking, connection closed by the server): status and body.
fn http_get(url: &str) -> std::io::Result<(u16, String)> {
    http_get_with_cookie(url, None)
}

fn http_get_with_cookie(url: &str, cookie: Option<&str>) -> std::io::Result<(u16, String)> {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n{cookie}\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn wait_http(url: &str, what: &str, procs: &mut [&mut Proc]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok((status, _)) = http_get(url)
            && status != 0
            && status < 500
        {
            return;
        }
        for p in procs.iter_mut() {
            p.assert_running();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not answer at {url} within 60 s");
}

fn work_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sesame-interop-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn tail(path: &Path, lines: usize) -> String {
    let text = read(path);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------------------------
// Sésame.

struct Sesame {
    /// Killed on drop.
    _proc: Proc,
    port: u16,
    /// What browsers reach (`--public-url`); the tests' own calls go to [`Sesame::url`].
    public_url: String,
    tenant_id: String,
}

impl Sesame {
    fn start(dir: &Path) -> Sesame {
        let port = free_port();
        Self::start_at(dir, port, &format!("http://127.0.0.1:{port}"))
    }

    /// Sésame listening on 127.0.0.1:`port`, users reaching it at `public_url`.
    fn start_at(dir: &Path, port: u16, public_url: &str) -> Sesame {
        let data = dir.join("sesame-data");
        let log = std::fs::File::create(dir.join("sesame.log")).unwrap();
        let mut proc = Proc::spawn(
            "sesame serve",
            Command::new(BIN)
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .args(["--public-url", public_url])
                .arg("--data-dir")
                .arg(&data)
                .env("SESAME_ADMIN_TOKEN", ADMIN)
                .env("SESAME_LOG", "info")
                .stdout(Stdio::null())
                .stderr(log),
        );
        wait_http(
            &format!("http://127.0.0.1:{port}/readyz"),
            "sesame",
            &mut [&mut proc],
        );
        let mut s = Sesame {
            _proc: proc,
            port,
            public_url: public_url.to_string(),
            tenant_id: String::new(),
        };
        let tenant = s.cli_json(&["tenant", "create", "Contoso", "--initial-domain", TENANT]);
        s.tenant_id = tenant["id"].as_str().unwrap().to_string();
        for (upn, given, sn) in [(ALICE, "Alice", "Martin"), (BOB, "Bob", "Durand")] {
            s.cli_json(&[
                "user",
                "create",
                "-t",
                TENANT,
                upn,
                "--display-name",
                &format!("{given} {sn}"),
                "--given-name",
                given,
                "--surname",
                sn,
                "--mail",
                upn,
                "--password",
                PASSWORD,
            ]);
        }
        s
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The IdP's entityID.
    fn entity_id(&self) -> String {
        format!("{}/{}/", self.url(), self.tenant_id)
    }

    fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("SESAME_SERVER", self.url())
            .env("SESAME_TOKEN", ADMIN)
            .output()
            .unwrap()
    }

    fn cli_ok(&self, args: &[&str]) {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "sesame {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.cli(&all);
        assert!(
            out.status.success(),
            "sesame {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "sesame {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Creates a SAML app from the SP's metadata file and assigns Alice; returns its id.
    fn create_app(&self, name: &str, sp_metadata: &Path) -> String {
        let created = self.cli_json(&[
            "app",
            "saml",
            "create",
            "-t",
            TENANT,
            "--name",
            name,
            "--metadata-file",
            sp_metadata.to_str().unwrap(),
        ]);
        let id = created["app"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("app saml create printed no app id: {created}"))
            .to_string();
        self.cli_ok(&["app", "assign", "-t", TENANT, &id, "--user", ALICE]);
        // The assignments table names who, not only their ids.
        let table = self.cli(&["app", "assignments", "-t", TENANT, &id]);
        let table = String::from_utf8_lossy(&table.stdout);
        assert!(table.contains(&format!("┆ {ALICE} ")), "{table}");
        id
    }

    fn settings(&self, app: &str) -> Value {
        self.cli_json(&["app", "saml", "show", "-t", TENANT, app])
    }

    /// Applies `change` to the app's current settings.
    fn update_settings(&self, dir: &Path, app: &str, change: impl FnOnce(&mut Value)) {
        let mut settings = self.settings(app);
        change(&mut settings);
        let file = dir.join(format!("settings-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&file, serde_json::to_string_pretty(&settings).unwrap()).unwrap();
        self.cli_ok(&[
            "app",
            "saml",
            "set",
            "-t",
            TENANT,
            app,
            "--settings-file",
            file.to_str().unwrap(),
        ]);
    }

    fn certificates(&self, app: &str) -> Vec<Value> {
        let v = self.cli_json(&["app", "saml", "cert", "list", "-t", TENANT, app]);
        match v {
            Value::Array(a) => a,
            Value::Object(ref o) if o.get("items").is_some_and(Value::is_array) => {
                o["items"].as_array().unwrap().clone()
            }
            other => panic!("cert list printed no list: {other}"),
        }
    }

    /// The active signing certificate, as a PEM file in `dir`.
    fn active_cert_pem(&self, dir: &Path, app: &str) -> PathBuf {
        let certs = self.certificates(app);
        let active = certs
            .iter()
            .find(|c| c["active"] == json!(true))
            .unwrap_or_else(|| panic!("no active certificate in {certs:?}"));
        let path = dir.join(format!("idp-cert-{}.pem", active["id"].as_str().unwrap()));
        std::fs::write(&path, pem(active["certificate"].as_str().unwrap())).unwrap();
        path
    }

    fn metadata_url(&self, app: &str) -> String {
        format!(
            "{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={app}",
            self.url(),
            self.tenant_id
        )
    }

    /// Downloads the app's IdP metadata into `file`; returns the document.
    fn fetch_metadata(&self, app: &str, file: &Path) -> String {
        let url = self.metadata_url(app);
        let (status, body) = http_get(&url).unwrap();
        assert_eq!(status, 200, "GET {url}: {body}");
        assert!(
            body.contains("IDPSSODescriptor"),
            "GET {url} is not IdP metadata: {body}"
        );
        std::fs::write(file, &body).unwrap();
        body
    }
}

/// Base64 DER to PEM.
fn pem(der_b64: &str) -> String {
    let clean: String = der_b64.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in clean.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The `X509Certificate` values of a metadata document.
fn metadata_certs(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find("X509Certificate>") {
        let after = &rest[at + "X509Certificate>".len()..];
        if let Some(end) = after.find('<') {
            let v: String = after[..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if !v.is_empty() && !out.contains(&v) {
                out.push(v);
            }
        }
        rest = after;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The browser and the xmlsec1 oracle.

struct Browser {
    jar: PathBuf,
    out: PathBuf,
}

#[derive(Debug)]
struct Walk {
    status: u16,
    url: String,
    body: String,
    hops: Value,
    saml: Vec<Value>,
    /// The sign-in form was filled in on the way.
    signed_in: bool,
    error: Option<String>,
}

impl Walk {
    fn responses(&self) -> Vec<PathBuf> {
        self.saml
            .iter()
            .filter(|s| s["kind"] == "SAMLResponse")
            .map(|s| PathBuf::from(s["file"].as_str().unwrap()))
            .collect()
    }

    fn summary(&self) -> String {
        let hops: Vec<String> = self
            .hops
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|h| {
                        let url: String = h[1].as_str().unwrap_or("").chars().take(110).collect();
                        format!("  {} {} {url}", h[0].as_str().unwrap_or(""), h[2])
                    })
                    .collect()
            })
            .unwrap_or_default();
        format!(
            "final status {} at {}; browser error: {:?}\nhops:\n{}\npage text: {}",
            self.status,
            self.url.chars().take(150).collect::<String>(),
            self.error,
            hops.join("\n"),
            page_text(&self.body)
        )
    }
}

/// The visible text of a page, shortened: what a person would read.
fn page_text(html: &str) -> String {
    let mut doc = html.to_string();
    for tag in ["style", "script"] {
        let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
        while let Some(a) = doc.find(&open) {
            let end = doc[a..]
                .find(&close)
                .map_or(doc.len(), |b| a + b + close.len());
            doc.replace_range(a..end, " ");
        }
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in doc.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let squeezed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    squeezed.chars().take(700).collect()
}

impl Browser {
    fn new(dir: &Path, name: &str) -> Browser {
        Browser {
            jar: dir.join(format!("jar-{name}.txt")),
            out: dir.join("messages"),
        }
    }

    fn walk(&self, label: &str, start: &str, user: Option<&str>) -> Walk {
        let mut cmd = Command::new(venv_python());
        cmd.arg(interop_dir().join("browser.py"))
            .args(["walk", "--start", start, "--label", label])
            .arg("--jar")
            .arg(&self.jar)
            .arg("--out-dir")
            .arg(&self.out);
        if let Some(u) = user {
            cmd.args(["--user", u, "--password", PASSWORD]);
        }
        let out = cmd.output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "browser.py printed no JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        Walk {
            status: v["status"].as_u64().unwrap_or(0) as u16,
            url: v["url"].as_str().unwrap_or("").to_string(),
            body: v["body"].as_str().unwrap_or("").to_string(),
            hops: v["hops"].clone(),
            saml: v["saml"].as_array().cloned().unwrap_or_default(),
            signed_in: v["signed_in"] == json!(true),
            error: v["error"].as_str().map(str::to_string),
        }
    }
}

/// `xmlsec1 --verify` of a saved Response with the IdP's certificate; an EncryptedAssertion is
/// first decrypted with one of `decrypt_keys`.
fn xmlsec_verify(file: &Path, cert: &Path, decrypt_keys: &[PathBuf]) -> Result<(), String> {
    let xml = read(file);
    let mut target = file.to_path_buf();
    if xml.contains("EncryptedAssertion") && !xml.contains(":Signature") && decrypt_keys.is_empty()
    {
        return Err("an encrypted assertion and no key to decrypt it".into());
    }
    if xml.contains("EncryptedAssertion") {
        let mut errors = Vec::new();
        let decrypted = file.with_extension("decrypted.xml");
        let mut ok = false;
        for key in decrypt_keys {
            let out = Command::new("xmlsec1")
                .args(["--decrypt", "--privkey-pem"])
                .arg(key)
                .arg("--output")
                .arg(&decrypted)
                .arg(file)
                .output()
                .map_err(|e| e.to_string())?;
            if out.status.success() {
                ok = true;
                break;
            }
            errors.push(String::from_utf8_lossy(&out.stderr).to_string());
        }
        if !ok {
            return Err(format!(
                "xmlsec1 --decrypt failed on {}: {}",
                file.display(),
                errors.join("\n")
            ));
        }
        target = decrypted;
    }
    let out = Command::new("xmlsec1")
        .args([
            "--verify",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--pubkey-cert-pem",
        ])
        .arg(cert)
        .arg(&target)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "xmlsec1 --verify failed on {}: {}",
            target.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario bookkeeping.

#[derive(Default)]
struct Report {
    results: Vec<(String, Result<(), String>)>,
}

impl Report {
    fn run(&mut self, name: &str, f: impl FnOnce() -> Result<(), String>) {
        eprintln!("--- scenario: {name}");
        let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(p) => Err(p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panicked".into())),
        };
        match &r {
            Ok(()) => eprintln!("    ok: {name}"),
            Err(e) => eprintln!("    FAILED: {name}: {e}"),
        }
        self.results.push((name.to_string(), r));
    }

    fn finish(self, test: &str, dir: &Path, logs: &[PathBuf]) {
        eprintln!("\n{test}: results");
        for (name, r) in &self.results {
            eprintln!("  {:6} {name}", if r.is_ok() { "ok" } else { "FAILED" });
        }
        let failed: Vec<String> = self
            .results
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|e| format!("== {n}\n{e}")))
            .collect();
        if failed.is_empty() {
            if std::env::var_os("SESAME_INTEROP_KEEP").is_some() {
                eprintln!("{test}: work files kept in {}", dir.display());
            } else {
                let _ = std::fs::remove_dir_all(dir);
            }
            return;
        }
        let mut msg = format!(
            "{test}: {} of {} scenarios failed (work files kept in {}):\n\n{}",
            failed.len(),
            self.results.len(),
            dir.display(),
            failed.join("\n\n")
        );
        for log in logs {
            msg.push_str(&format!(
                "\n\n--- last lines of {}:\n{}",
                log.display(),
                tail(log, 25)
            ));
        }
        panic!("{msg}");
    }
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// A successful sign-in: the SP's protected page with these lines, and every Response verified.
/// Alice signs in to `first` (and Sésame), then to `other` on the same session, then logs
/// out at `first` (by `binding`), which must hear a plain Success: the final walk.
fn logout_from_first_of_two(
    b: &Browser,
    first: &PySp,
    other: &PySp,
    expected: &[String],
    cert: &Path,
    binding: &str,
) -> Result<Walk, String> {
    let w = b.walk(
        "two-sps-first",
        &first.url("/login?binding=redirect"),
        Some(ALICE),
    );
    expect_signed_in(&w, expected, cert, &[])?;
    let w = b.walk("two-sps-other", &other.url("/login?binding=redirect"), None);
    check(w.body.contains("protected=yes") && !w.signed_in, || {
        format!(
            "the session did not sign in to the other SP: {}",
            w.summary()
        )
    })?;
    let w = b.walk(
        "two-sps-slo",
        &first.url(&format!("/logout?binding={binding}")),
        None,
    );
    check(
        w.error.is_none()
            && w.body.contains("logged_out=yes")
            && w.body.contains("sub_status=None"),
        || format!("the first SP did not get a full Success: {}", w.summary()),
    )?;
    Ok(w)
}

fn expect_signed_in(
    w: &Walk,
    lines: &[String],
    cert: &Path,
    decrypt_keys: &[PathBuf],
) -> Result<(), String> {
    check(w.error.is_none() && w.status == 200, || {
        format!("no protected page: {}", w.summary())
    })?;
    check(w.body.contains("protected=yes"), || {
        format!("not the protected page: {}", w.summary())
    })?;
    for line in lines {
        check(w.body.lines().any(|l| l.trim() == line), || {
            format!("the protected page lacks `{line}`: {}", w.summary())
        })?;
    }
    let responses = w.responses();
    check(!responses.is_empty(), || {
        format!("no SAMLResponse was posted: {}", w.summary())
    })?;
    for r in &responses {
        xmlsec_verify(r, cert, decrypt_keys)?;
    }
    Ok(())
}

/// Sésame refused: an error page with a `SESAME-` code, a 4xx status, and no Response posted.
fn expect_error_page(w: &Walk, sesame: &Sesame) -> Result<(), String> {
    check((400..500).contains(&w.status), || {
        format!("expected a 4xx error page: {}", w.summary())
    })?;
    check(w.url.starts_with(&sesame.url()), || {
        format!("the error page is not Sésame's: {}", w.summary())
    })?;
    check(w.body.contains("SESAME-"), || {
        format!("the error page has no SESAME- code: {}", w.summary())
    })?;
    check(w.responses().is_empty(), || {
        format!("a SAMLResponse was posted anyway: {}", w.summary())
    })
}

/// The sign-in log has successes and failures that name the application; its table shows
/// the application by `name` and the protocol.
fn sign_in_log_mentions(sesame: &Sesame, app: &str, name: &str) -> Result<(), String> {
    let table = sesame.cli(&["signins", "-t", TENANT]);
    let table = String::from_utf8_lossy(&table.stdout);
    check(
        table.lines().any(|l| {
            l.contains(&format!("┆ {name} ")) && l.contains("┆ saml ") && l.contains("┆ success ")
        }),
        || format!("no successful SAML sign-in of {name} in the table:\n{table}"),
    )?;
    // Filtered by the application's name: its sign-ins only.
    let only = sesame.cli_json(&["signins", "-t", TENANT, "--app", name]);
    let only = only.as_array().cloned().unwrap_or_default();
    check(
        !only.is_empty() && only.iter().all(|e| e["appId"] == app),
        || format!("signins --app {name} lists other sign-ins: {only:?}"),
    )?;
    let v = sesame.cli_json(&["signins", "-t", TENANT]);
    let entries = v
        .as_array()
        .cloned()
        .or_else(|| v["items"].as_array().cloned())
        .unwrap_or_default();
    let about_app: Vec<&Value> = entries
        .iter()
        .filter(|e| e.to_string().contains(app))
        .collect();
    let has = |result: &str| about_app.iter().any(|e| e["result"] == json!(result));
    check(has("success") && has("failure"), || {
        format!(
            "expected successful and failed sign-ins naming app {app} in the sign-in log; {} of {} entries name it: {}",
            about_app.len(),
            entries.len(),
            serde_json::to_string(&entries.iter().take(3).collect::<Vec<_>>()).unwrap_or_default()
        )
    })
}

/// Whether the browser still has a Sésame session: `/{tenant-id}/` shows no sign-in form.
fn sesame_session_alive(b: &Browser, sesame: &Sesame) -> Result<bool, String> {
    let w = b.walk(
        "session-check",
        &format!("{}/{}/", sesame.url(), sesame.tenant_id),
        None,
    );
    match w.error.as_deref() {
        Some(e) if e.contains("sign-in form appeared") => Ok(false),
        Some(e) => Err(format!("checking Sésame's session: {e}: {}", w.summary())),
        None if w.status == 200 => Ok(true),
        None => Err(format!("checking Sésame's session: {}", w.summary())),
    }
}

fn expect_sesame_session_gone(b: &Browser, sesame: &Sesame) -> Result<(), String> {
    check(!sesame_session_alive(b, sesame)?, || {
        "Sésame's session survived single logout: /{tenant-id}/ does not ask to sign in".into()
    })
}

// ---------------------------------------------------------------------------------------------
// pysaml2.

struct PySp {
    proc: Proc,
    /// The SP's URL for browsers.
    base: String,
    dir: PathBuf,
    log: PathBuf,
}

impl PySp {
    fn script() -> PathBuf {
        interop_dir().join("pysaml2_sp.py")
    }

    /// Writes keys and metadata for an SP on a fresh port; returns (port, metadata file).
    fn prepare(dir: &Path, entity_id: Option<&str>) -> (u16, PathBuf) {
        Self::prepare_at(dir, entity_id, "127.0.0.1", None)
    }

    /// [`PySp::prepare`] for an SP on `host`, reached at `public_url` when given.
    fn prepare_at(
        dir: &Path,
        entity_id: Option<&str>,
        host: &str,
        public_url: Option<&str>,
    ) -> (u16, PathBuf) {
        let port = free_port();
        (
            port,
            Self::prepare_with(dir, port, entity_id, host, public_url),
        )
    }

    /// [`PySp::prepare`] for an SP on a chosen port (its entity ID names it); returns the
    /// metadata file.
    fn prepare_on(dir: &Path, port: u16, entity_id: Option<&str>) -> PathBuf {
        Self::prepare_with(dir, port, entity_id, "127.0.0.1", None)
    }

    fn prepare_with(
        dir: &Path,
        port: u16,
        entity_id: Option<&str>,
        host: &str,
        public_url: Option<&str>,
    ) -> PathBuf {
        let mut cmd = Command::new(venv_python());
        cmd.arg(Self::script())
            .args(["metadata", "--port", &port.to_string(), "--host", host])
            .arg("--dir")
            .arg(dir);
        if let Some(e) = entity_id {
            cmd.args(["--entity-id", e]);
        }
        if let Some(u) = public_url {
            cmd.args(["--public-url", u]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "pysaml2_sp.py metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = dir.join("sp-metadata.xml");
        std::fs::write(&file, &out.stdout).unwrap();
        file
    }

    fn start(dir: &Path, port: u16, idp_metadata: &Path, entity_id: Option<&str>) -> PySp {
        Self::start_at(dir, port, idp_metadata, entity_id, "127.0.0.1", None)
    }

    /// [`PySp::start`] listening on `host` (a loopback address), reached at `public_url` when
    /// given.
    fn start_at(
        dir: &Path,
        port: u16,
        idp_metadata: &Path,
        entity_id: Option<&str>,
        host: &str,
        public_url: Option<&str>,
    ) -> PySp {
        std::fs::create_dir_all(dir).unwrap();
        let log = dir.join("pysaml2_sp.log");
        let mut cmd = Command::new(venv_python());
        cmd.arg(Self::script())
            .args(["serve", "--port", &port.to_string(), "--host", host])
            .arg("--dir")
            .arg(dir)
            .arg("--idp-metadata")
            .arg(idp_metadata)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(e) = entity_id {
            cmd.args(["--entity-id", e]);
        }
        if let Some(u) = public_url {
            cmd.args(["--public-url", u]);
        }
        let mut proc = Proc::spawn("pysaml2_sp.py serve", &mut cmd);
        wait_http(
            &format!("http://{host}:{port}/metadata"),
            "the pysaml2 SP",
            &mut [&mut proc],
        );
        PySp {
            proc,
            base: public_url
                .map(String::from)
                .unwrap_or_else(|| format!("http://{host}:{port}")),
            dir: dir.to_path_buf(),
            log,
        }
    }

    /// `path` at the URL browsers reach the SP at.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn key(&self, use_: &str) -> PathBuf {
        self.dir.join(format!("sp-{use_}-key.pem"))
    }

    fn cert(&self, use_: &str) -> String {
        read(&self.dir.join(format!("sp-{use_}-cert.pem")))
    }

    fn reload(&mut self) -> Result<(), String> {
        self.proc.assert_running();
        let (status, body) = http_get(&self.url("/reload")).map_err(|e| e.to_string())?;
        check(status == 200, || {
            format!("pysaml2 SP could not re-read the IdP metadata: {status} {body}")
        })
    }
}

fn alice_lines_pysaml2() -> Vec<String> {
    vec![format!("nameid={ALICE}")]
}

/// Alice's default claims (Entra's claim names), as pysaml2 shows them: its built-in
/// converters turn the `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/…` names into
/// friendly ones.
fn alice_attrs_pysaml2() -> Vec<String> {
    vec![
        "attr.givenName=Alice".into(),
        "attr.surname=Martin".into(),
        format!("attr.emailAddress={ALICE}"),
        format!("attr.name={ALICE}"),
    ]
}

#[test]
fn pysaml2_sp() {
    if !peers_present(
        "pysaml2_sp",
        &[
            ("xmlsec1", has_xmlsec1()),
            ("pysaml2 + requests in target/interop-venv", has_pysaml2()),
        ],
    ) {
        return;
    }
    let dir = work_dir("pysaml2");
    let sesame = Sesame::start(&dir);
    let sp_dir = dir.join("sp");
    let (sp_port, sp_md) = PySp::prepare(&sp_dir, None);
    let app = sesame.create_app("pysaml2", &sp_md);
    let idp_md = dir.join("idp-metadata.xml");
    sesame.fetch_metadata(&app, &idp_md);
    let mut sp = PySp::start(&sp_dir, sp_port, &idp_md, None);
    // A second SP Sésame does not know (its metadata was never imported).
    let stranger_dir = dir.join("stranger");
    let stranger_port = free_port();
    let stranger_id = format!("http://127.0.0.1:{stranger_port}/unknown-sp");
    let mut stranger = PySp::start(&stranger_dir, stranger_port, &idp_md, Some(&stranger_id));
    // Another application of the same user's session, for Single Logout across applications.
    let other_dir = dir.join("other");
    let other_port = free_port();
    let other_id = format!("http://127.0.0.1:{other_port}/other-sp");
    let other_md = PySp::prepare_on(&other_dir, other_port, Some(&other_id));
    let other_app = sesame.create_app("pysaml2-other", &other_md);
    let other_idp_md = dir.join("idp-metadata-other.xml");
    sesame.fetch_metadata(&other_app, &other_idp_md);
    let mut other = PySp::start(&other_dir, other_port, &other_idp_md, Some(&other_id));

    // Plain assertions first, whatever the metadata import chose.
    sesame.update_settings(&dir, &app, |s| {
        s["encryptionCertificate"] = Value::Null;
        s["relayState"] = json!("idp-initiated-relay");
    });
    let cert = sesame.active_cert_pem(&dir, &app);
    let mut expected = alice_lines_pysaml2();
    expected.extend(alice_attrs_pysaml2());
    let mut report = Report::default();

    report.run("pysaml2: SP-initiated, HTTP-Redirect", || {
        let b = Browser::new(&dir, "redirect");
        let w = b.walk(
            "sp-redirect",
            &sp.url("/login?binding=redirect"),
            Some(ALICE),
        );
        expect_signed_in(&w, &expected, &cert, &[])
    });
    report.run("pysaml2: SSO session reused (no second sign-in)", || {
        let b = Browser::new(&dir, "redirect");
        let w = b.walk(
            "sp-redirect-again",
            &sp.url("/login?binding=redirect&relay=again"),
            None,
        );
        expect_signed_in(&w, &alice_lines_pysaml2(), &cert, &[])
    });
    report.run("pysaml2: ForceAuthn asks again despite the session", || {
        let b = Browser::new(&dir, "redirect");
        let w = b.walk(
            "force-authn",
            &sp.url("/login?binding=redirect&force=1"),
            Some(ALICE),
        );
        expect_signed_in(&w, &alice_lines_pysaml2(), &cert, &[])?;
        check(w.signed_in, || {
            format!("ForceAuthn did not show the sign-in form: {}", w.summary())
        })
    });
    report.run(
        "pysaml2: IsPassive without a session answers NoPassive",
        || {
            let b = Browser::new(&dir, "passive");
            let w = b.walk(
                "is-passive",
                &sp.url("/login?binding=redirect&passive=1"),
                None,
            );
            check(w.error.is_none() && !w.signed_in, || {
                format!("IsPassive must not show the sign-in form: {}", w.summary())
            })?;
            check(
                w.url == sp.url("/acs") && w.body.contains("StatusNoPassive"),
                || {
                    format!(
                        "the SP should receive a NoPassive Response: {}",
                        w.summary()
                    )
                },
            )
        },
    );
    report.run("pysaml2: SP-initiated, HTTP-POST", || {
        let b = Browser::new(&dir, "post");
        let w = b.walk("sp-post", &sp.url("/login?binding=post"), Some(ALICE));
        expect_signed_in(&w, &expected, &cert, &[])
    });
    report.run("pysaml2: IdP-initiated (launch link)", || {
        let b = Browser::new(&dir, "launch");
        let w = b.walk(
            "idp-initiated",
            &format!("{}/{TENANT}/apps/{app}/launch", sesame.url()),
            Some(ALICE),
        );
        expect_signed_in(&w, &expected, &cert, &[])?;
        check(
            w.body.contains("in_response_to=\n") || w.body.contains("in_response_to=None"),
            || {
                format!(
                    "an IdP-initiated Response should answer no request: {}",
                    w.summary()
                )
            },
        )?;
        check(w.body.contains("relay_state=idp-initiated-relay"), || {
            format!("the app's relay state did not come back: {}", w.summary())
        })
    });
    report.run("pysaml2: single logout from the SP (HTTP-Redirect)", || {
        let b = Browser::new(&dir, "redirect");
        check(sesame_session_alive(&b, &sesame)?, || {
            "no Sésame session before logging out".into()
        })?;
        let w = b.walk("slo-redirect", &sp.url("/logout?binding=redirect"), None);
        check(
            w.error.is_none() && w.body.contains("logged_out=yes"),
            || {
                format!(
                    "the SP did not get a successful LogoutResponse: {}",
                    w.summary()
                )
            },
        )?;
        expect_sesame_session_gone(&b, &sesame)
    });
    report.run("pysaml2: single logout from the SP (HTTP-POST)", || {
        let b = Browser::new(&dir, "post");
        check(sesame_session_alive(&b, &sesame)?, || {
            "no Sésame session before logging out".into()
        })?;
        let w = b.walk("slo-post", &sp.url("/logout?binding=post"), None);
        check(
            w.error.is_none() && w.body.contains("logged_out=yes"),
            || {
                format!(
                    "the SP did not get a successful LogoutResponse: {}",
                    w.summary()
                )
            },
        )?;
        expect_sesame_session_gone(&b, &sesame)
    });
    // From the first SP: Sésame sends the browser to the other with a signed LogoutRequest
    // (by the binding the other's settings name), pysaml2 verifies it and answers with a signed
    // LogoutResponse, which Sésame verifies before answering the first SP with a plain Success.
    for binding in ["redirect", "post"] {
        report.run(
            &format!(
                "pysaml2: single logout reaches the session's other SP ({binding}), which answers"
            ),
            || {
                sesame.update_settings(&dir, &other_app, |s| {
                    s["logoutBinding"] = json!(binding);
                });
                let b = Browser::new(&dir, &format!("two-sps-{binding}"));
                let w = logout_from_first_of_two(&b, &sp, &other, &expected, &cert, "redirect")?;
                // (method, URL) of each hop.
                let hops: Vec<(&str, &str)> = w
                    .hops
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|h| Some((h[0].as_str()?, h[1].as_str()?)))
                    .collect();
                let to_other = hops.iter().position(|(m, u)| match binding {
                    "post" => *m == "POST" && *u == other.url("/slo"),
                    _ => u.starts_with(&other.url("/slo?SAMLRequest=")),
                });
                let Some(to_other) = to_other else {
                    return Err(format!(
                        "the logout did not visit the other SP by {binding}: {}",
                        w.summary()
                    ));
                };
                // The other SP's answer came back to Sésame, signed (so Sésame's check ran).
                check(
                    hops[to_other + 1..].iter().any(|(m, u)| {
                        u.starts_with(&sesame.url())
                            && match binding {
                                "post" => *m == "POST",
                                _ => u.contains("SAMLResponse=") && u.contains("&Signature="),
                            }
                    }),
                    || {
                        format!(
                            "no signed LogoutResponse from the other SP: {}",
                            w.summary()
                        )
                    },
                )?;
                let w = b.walk("two-sps-after", &other.url("/protected"), None);
                check(!w.body.contains("protected=yes"), || {
                    format!("the other SP still has a session: {}", w.summary())
                })?;
                expect_sesame_session_gone(&b, &sesame)
            },
        );
    }
    // The other SP's SOAP SingleLogoutService, imported from its metadata, is Sésame's back
    // channel: with no front-channel endpoint, Sésame calls it itself over HTTP with a signed
    // LogoutRequest in a SOAP envelope; pysaml2 verifies it, ends its session and answers with
    // a signed LogoutResponse, which Sésame verifies; the browser never visits the other SP.
    // And the same when the first SP logs out over SOAP itself, server to server: pysaml2
    // POSTs its signed LogoutRequest to Sésame's SOAP endpoint (from Sésame's metadata) and
    // verifies the signed LogoutResponse in the answer; no browser carries anything.
    for first_binding in ["redirect", "soap"] {
        report.run(
            &format!(
                "pysaml2: logout ({first_binding} from the first SP) reaches the other over SOAP"
            ),
            || {
                let front_channel = sesame.settings(&other_app)["logoutUrl"].clone();
                let soap = other.url("/slo/soap");
                sesame.update_settings(&dir, &other_app, |s| {
                    s["logoutUrl"] = Value::Null;
                });
                let result = (|| {
                    check(
                        sesame.settings(&other_app)["backChannelLogoutUrl"] == json!(soap),
                        || format!("the metadata import did not keep the SOAP endpoint {soap}"),
                    )?;
                    let b = Browser::new(&dir, &format!("two-sps-soap-{first_binding}"));
                    let w =
                        logout_from_first_of_two(&b, &sp, &other, &expected, &cert, first_binding)?;
                    // Over SOAP, pysaml2 read (and verified) Sésame's signature.
                    check(
                        first_binding != "soap" || w.body.contains("signed=yes"),
                        || format!("the SOAP LogoutResponse was not signed: {}", w.summary()),
                    )?;
                    check(!w.hops.to_string().contains(&other.url("/")), || {
                        format!("the browser visited the other SP: {}", w.summary())
                    })?;
                    let w = b.walk("soap-after", &other.url("/protected"), None);
                    check(!w.body.contains("protected=yes"), || {
                        format!("the other SP still has a session: {}", w.summary())
                    })?;
                    expect_sesame_session_gone(&b, &sesame)
                })();
                sesame.update_settings(&dir, &other_app, |s| {
                    s["logoutUrl"] = front_channel.clone();
                });
                result
            },
        );
    }
    // AES-256-GCM by default; AES-128-CBC when the app asks for it (SPs that read no GCM).
    for (method, algorithm) in [
        ("aes256-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm"),
        ("aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes128-cbc"),
    ] {
        report.run(&format!("pysaml2: encrypted assertion ({method})"), || {
            let enc = sp.cert("encrypt");
            sesame.update_settings(&dir, &app, |s| {
                s["encryptionCertificate"] = json!(enc);
                s["encryptionMethod"] = json!(method);
            });
            let b = Browser::new(&dir, &format!("encrypted-{method}"));
            let w = b.walk(
                &format!("encrypted-{method}"),
                &sp.url("/login?binding=redirect"),
                Some(ALICE),
            );
            let r = expect_signed_in(&w, &expected, &cert, &[sp.key("encrypt")]).and_then(|()| {
                check(w.body.contains("encrypted=True"), || {
                    format!("the assertion was not encrypted: {}", w.summary())
                })?;
                for r in w.responses() {
                    let xml = read(&r);
                    check(
                        xml.contains("EncryptedAssertion") && !xml.contains(":Assertion "),
                        || format!("{} carries a plaintext assertion", r.display()),
                    )?;
                    check(xml.contains(&format!("Algorithm=\"{algorithm}\"")), || {
                        format!("{} is not encrypted with {algorithm}", r.display())
                    })?;
                }
                Ok(())
            });
            sesame.update_settings(&dir, &app, |s| {
                s["encryptionCertificate"] = Value::Null;
                s["encryptionMethod"] = json!("aes256-gcm");
            });
            r
        });
    }
    report.run("pysaml2: signed AuthnRequests required", || {
        let signing = sp.cert("signing");
        sesame.update_settings(&dir, &app, |s| {
            s["requireSignedRequests"] = json!(true);
            s["verificationCertificates"] = json!([signing]);
        });
        let run = || -> Result<(), String> {
            let b = Browser::new(&dir, "signed-redirect");
            let w = b.walk(
                "signed-redirect",
                &sp.url("/login?binding=redirect&sign=1"),
                Some(ALICE),
            );
            expect_signed_in(&w, &expected, &cert, &[])
                .map_err(|e| format!("signed, HTTP-Redirect: {e}"))?;
            let b = Browser::new(&dir, "signed-post");
            let w = b.walk(
                "signed-post",
                &sp.url("/login?binding=post&sign=1"),
                Some(ALICE),
            );
            expect_signed_in(&w, &expected, &cert, &[])
                .map_err(|e| format!("signed, HTTP-POST: {e}"))?;
            let b = Browser::new(&dir, "unsigned");
            let w = b.walk(
                "unsigned-refused",
                &sp.url("/login?binding=redirect&sign=0"),
                Some(ALICE),
            );
            expect_error_page(&w, &sesame).map_err(|e| format!("unsigned while required: {e}"))?;
            // Signed by a key Sésame does not know: the stranger's, under our SP's name is not
            // possible with pysaml2, so sign with the right SP after swapping the certificate.
            let other = read(&stranger_dir.join("sp-signing-cert.pem"));
            sesame.update_settings(&dir, &app, |s| {
                s["verificationCertificates"] = json!([other])
            });
            let b = Browser::new(&dir, "badsig");
            let w = b.walk(
                "bad-signature",
                &sp.url("/login?binding=redirect&sign=1"),
                Some(ALICE),
            );
            expect_error_page(&w, &sesame).map_err(|e| format!("signed by an unknown key: {e}"))
        };
        let r = run();
        sesame.update_settings(&dir, &app, |s| {
            s["requireSignedRequests"] = json!(false);
            s["verificationCertificates"] = json!([]);
        });
        r
    });
    report.run("pysaml2: unregistered ACS URL refused", || {
        let b = Browser::new(&dir, "bad-acs");
        let evil = sp.url("/evil-acs");
        let w = b.walk(
            "unregistered-acs",
            &sp.url(&format!("/login?binding=redirect&acs={}", urlencode(&evil))),
            Some(ALICE),
        );
        expect_error_page(&w, &sesame)
    });
    report.run("pysaml2: unknown SP refused", || {
        let b = Browser::new(&dir, "stranger");
        let w = b.walk(
            "unknown-sp",
            &stranger.url("/login?binding=redirect"),
            Some(ALICE),
        );
        expect_error_page(&w, &sesame)
    });
    report.run("pysaml2: user not assigned refused", || {
        let b = Browser::new(&dir, "bob");
        let w = b.walk(
            "not-assigned",
            &sp.url("/login?binding=redirect"),
            Some(BOB),
        );
        expect_error_page(&w, &sesame)
    });
    report.run("pysaml2: disabled app refused", || {
        sesame.cli_ok(&["app", "update", "-t", TENANT, &app, "--enabled", "false"]);
        let b = Browser::new(&dir, "disabled");
        let w = b.walk(
            "disabled-app",
            &sp.url("/login?binding=redirect"),
            Some(ALICE),
        );
        let r = expect_error_page(&w, &sesame);
        sesame.cli_ok(&["app", "update", "-t", TENANT, &app, "--enabled", "true"]);
        r
    });
    report.run("pysaml2: signing certificate rollover", || {
        let login = sp.url("/login?binding=redirect");
        rollover(
            &sesame,
            &dir,
            &app,
            &idp_md,
            &cert,
            || sp.reload(),
            |label, new_cert| {
                let b = Browser::new(&dir, label);
                let w = b.walk(label, &login, Some(ALICE));
                expect_signed_in(&w, &alice_lines_pysaml2(), new_cert, &[])
            },
        )
    });

    report.run("pysaml2: sign-in log entries for the app", || {
        sign_in_log_mentions(&sesame, &app, "pysaml2")
    });

    stranger.proc.stop();
    other.proc.stop();
    sp.proc.stop();
    let logs = [
        sp.log.clone(),
        other.log.clone(),
        stranger.log.clone(),
        dir.join("sesame.log"),
    ];
    drop(sesame);
    report.finish("pysaml2_sp", &dir, &logs);
}

/// Rollover: add a certificate (metadata lists both), the SP re-reads metadata and still signs
/// in with the old one active; activate the new one; the SP signs in, and Responses now verify
/// with the new certificate and not with the old.
fn rollover(
    sesame: &Sesame,
    dir: &Path,
    app: &str,
    idp_md: &Path,
    old_cert: &Path,
    mut reload: impl FnMut() -> Result<(), String>,
    mut login: impl FnMut(&str, &Path) -> Result<(), String>,
) -> Result<(), String> {
    let before = sesame.certificates(app);
    let added = sesame.cli_json(&["app", "saml", "cert", "add", "-t", TENANT, app]);
    let new_id = added["id"]
        .as_str()
        .ok_or_else(|| format!("cert add printed no id: {added}"))?
        .to_string();
    let md = sesame.fetch_metadata(app, idp_md);
    let published = metadata_certs(&md);
    check(
        published.len() > before.len() && published.len() >= 2,
        || {
            format!(
                "the metadata should publish both certificates, it has {}",
                published.len()
            )
        },
    )?;
    reload()?;
    login("rollover-old-active", old_cert).map_err(|e| format!("before activation: {e}"))?;
    sesame.cli_ok(&[
        "app", "saml", "cert", "activate", "-t", TENANT, app, &new_id,
    ]);
    let new_cert = sesame.active_cert_pem(dir, app);
    login("rollover-new-active", &new_cert).map_err(|e| format!("after activation: {e}"))?;
    // The Responses after activation are signed with the new key, not the old one.
    let last = std::fs::read_dir(dir.join("messages"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rollover-new-active") && n.contains("SAMLResponse"))
        })
        .collect::<Vec<_>>();
    for r in &last {
        check(xmlsec_verify(r, old_cert, &[]).is_err(), || {
            format!("{} still verifies with the old certificate", r.display())
        })?;
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Shibboleth SP 3.

struct ShibSp {
    dir: PathBuf,
    port: u16,
    shibd: Proc,
    apache: Proc,
}

impl ShibSp {
    fn script() -> PathBuf {
        interop_dir().join("shib_sp.sh")
    }

    fn setup(dir: &Path, port: u16, shibd_port: u16, idp_entity: &str, idp_md: &Path) {
        let out = Command::new("bash")
            .arg(Self::script())
            .arg("setup")
            .arg(dir)
            .args([&port.to_string(), &shibd_port.to_string(), idp_entity])
            .arg(idp_md)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shib_sp.sh setup: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts shibd and waits for its log to say the listener started. Not by connecting to
    /// its port: shibd 3.4.1 has crashed here ("malloc(): unsorted double linked list
    /// corrupted") when a connection closes without a message.
    fn start_shibd(dir: &Path) -> Proc {
        let log = dir.join("logs/shibd.log");
        let started = |text: &str| text.matches("listener service starting").count();
        let before = started(&read(&log));
        let mut p = Proc::spawn(
            "shibd",
            Command::new("/usr/sbin/shibd")
                .args(["-F", "-f", "-c"])
                .arg(dir.join("shibboleth2.xml"))
                .arg("-p")
                .arg(dir.join("run/shibd.pid"))
                .stdout(std::fs::File::create(dir.join("logs/shibd.out")).unwrap())
                .stderr(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join("logs/shibd.err"))
                        .unwrap(),
                ),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while started(&read(&log)) <= before {
            p.assert_running();
            assert!(
                Instant::now() < deadline,
                "shibd did not start its listener within 60 s: {}",
                tail(&log, 20)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    fn start(dir: &Path, idp_entity: &str, idp_md: &Path) -> ShibSp {
        let port = free_port();
        let shibd_port = free_port();
        Self::setup(dir, port, shibd_port, idp_entity, idp_md);
        let shibd = Self::start_shibd(dir);
        let apache = Self::start_apache(dir, port);
        ShibSp {
            dir: dir.to_path_buf(),
            port,
            shibd,
            apache,
        }
    }

    fn start_apache(dir: &Path, port: u16) -> Proc {
        let mut apache = Proc::spawn(
            "apache2",
            Command::new("/usr/sbin/apache2")
                .arg("-X")
                .arg("-f")
                .arg(dir.join("httpd.conf"))
                .stdout(Stdio::null())
                .stderr(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join("logs/apache.err"))
                        .unwrap(),
                ),
        );
        wait_http(
            &format!("http://127.0.0.1:{port}/Shibboleth.sso/Metadata"),
            "Apache with mod_shib",
            &mut [&mut apache],
        );
        apache
    }

    /// The SP re-reads the IdP's metadata by starting again: Apache first, then shibd, then
    /// both again (mod_shib keeps connections to the old shibd otherwise, which has crashed
    /// shibd 3.4.1 here). Sessions are lost.
    fn restart(&mut self) -> Result<(), String> {
        self.apache.stop();
        self.shibd.stop();
        self.shibd = Self::start_shibd(&self.dir);
        self.apache = Self::start_apache(&self.dir, self.port);
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn keys(&self) -> Vec<PathBuf> {
        ["encrypt", "signing"]
            .iter()
            .map(|u| self.dir.join(format!("sp-{u}-key.pem")))
            .collect()
    }

    fn logs(&self) -> Vec<PathBuf> {
        ["shibd.log", "apache-error.log", "apache.err", "shibd.err"]
            .iter()
            .map(|l| self.dir.join("logs").join(l))
            .collect()
    }
}

fn alice_lines_shib() -> Vec<String> {
    vec![
        format!("nameid={ALICE}"),
        format!("upn={ALICE}"),
        format!("mail={ALICE}"),
        "givenName=Alice".into(),
        "sn=Martin".into(),
    ]
}

/// A placeholder IdP so that shibd starts before Sésame knows the SP (its metadata comes from
/// the running SP); the real metadata replaces it and shibd restarts.
fn placeholder_idp_metadata(entity: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}placeholder">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{entity}placeholder"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"#
    )
}

#[test]
fn shibboleth_sp() {
    if !peers_present(
        "shibboleth_sp",
        &[
            ("xmlsec1", has_xmlsec1()),
            (
                "apache2 + shibd + mod_shib (libapache2-mod-shib)",
                has_shibboleth(),
            ),
            (
                "requests in target/interop-venv (browser.py)",
                has_pysaml2(),
            ),
        ],
    ) {
        return;
    }
    let dir = work_dir("shibboleth");
    let sesame = Sesame::start(&dir);
    let sp_dir = dir.join("sp");
    std::fs::create_dir_all(&sp_dir).unwrap();
    let idp_md = sp_dir.join("idp-metadata.xml");
    std::fs::write(&idp_md, placeholder_idp_metadata(&sesame.entity_id())).unwrap();
    let mut sp = ShibSp::start(&sp_dir, &sesame.entity_id(), &idp_md);

    let (status, sp_md) = http_get(&sp.url("/Shibboleth.sso/Metadata")).unwrap();
    assert_eq!(status, 200, "Shibboleth metadata: {sp_md}");
    let sp_md_file = dir.join("shib-sp-metadata.xml");
    std::fs::write(&sp_md_file, &sp_md).unwrap();
    let app = sesame.create_app("Shibboleth", &sp_md_file);
    sesame.fetch_metadata(&app, &idp_md);
    sp.restart().unwrap();
    let cert = sesame.active_cert_pem(&dir, &app);
    let keys = sp.keys();
    let mut report = Report::default();

    report.run("shibboleth: SP-initiated, HTTP-Redirect", || {
        let b = Browser::new(&dir, "shib-redirect");
        let w = b.walk("shib-sp-redirect", &sp.url("/secure/whoami"), Some(ALICE));
        expect_signed_in(&w, &alice_lines_shib(), &cert, &keys)
    });
    report.run("shibboleth: IdP-initiated (launch link)", || {
        let home = sp.url("/secure/whoami");
        sesame.update_settings(&dir, &app, |s| s["relayState"] = json!(home));
        let b = Browser::new(&dir, "shib-launch");
        let w = b.walk(
            "shib-idp-initiated",
            &format!("{}/{TENANT}/apps/{app}/launch", sesame.url()),
            Some(ALICE),
        );
        expect_signed_in(&w, &alice_lines_shib(), &cert, &keys)
    });
    report.run("shibboleth: single logout from the SP", || {
        let b = Browser::new(&dir, "shib-redirect");
        check(sesame_session_alive(&b, &sesame)?, || {
            "no Sésame session before logging out".into()
        })?;
        let w = b.walk("shib-slo", &sp.url("/Shibboleth.sso/Logout"), None);
        let lower = w.body.to_lowercase();
        check(
            w.error.is_none()
                && w.status == 200
                && w.url.starts_with(&sp.url("/"))
                && lower.contains("logout")
                && !lower.contains("partial")
                && !lower.contains("error"),
            || format!("Shibboleth did not report a global logout: {}", w.summary()),
        )?;
        expect_sesame_session_gone(&b, &sesame)?;
        let w = b.walk("shib-after-slo", &sp.url("/secure/whoami"), None);
        check(
            w.error
                .as_deref()
                .is_some_and(|e| e.contains("sign-in form")),
            || format!("the SP session should be gone too: {}", w.summary()),
        )
    });
    // Shibboleth's SOAP SingleLogoutService, imported from its metadata, is Sésame's back
    // channel. Signing out at Sésame with no front-channel endpoint set: Sésame POSTs a signed
    // LogoutRequest to shibd, which verifies it against Sésame's metadata, ends its own session
    // for that NameID and SessionIndex and answers; the browser never visits the SP.
    report.run(
        "shibboleth: sign-out at Sésame reaches the SP over the SOAP back channel",
        || {
            let soap = sp.url("/Shibboleth.sso/SLO/SOAP");
            let settings = sesame.settings(&app);
            check(settings["backChannelLogoutUrl"] == json!(soap), || {
                format!("the metadata import did not keep the SOAP endpoint {soap}: {settings}")
            })?;
            let front_channel = settings["logoutUrl"].clone();
            sesame.update_settings(&dir, &app, |s| s["logoutUrl"] = Value::Null);
            let result = (|| {
                let b = Browser::new(&dir, "shib-soap");
                let w = b.walk("shib-soap-sign-in", &sp.url("/secure/whoami"), Some(ALICE));
                expect_signed_in(&w, &alice_lines_shib(), &cert, &keys)?;
                let w = b.walk(
                    "shib-soap-sign-out",
                    &format!("{}/{TENANT}/logout", sesame.url()),
                    None,
                );
                check(w.body.contains("Signed out"), || {
                    format!("Sésame's sign-out did not end: {}", w.summary())
                })?;
                check(!w.hops.to_string().contains(&sp.url("/")), || {
                    format!("the browser visited the SP: {}", w.summary())
                })?;
                // Sésame read shibd's answer and took it as a confirmation.
                let log = std::fs::read_to_string(dir.join("sesame.log")).unwrap_or_default();
                check(
                    log.contains("told over the back channel")
                        && !log.contains("back-channel LogoutRequest failed"),
                    || "Sésame's log does not show a confirmed back-channel logout".into(),
                )?;
                let w = b.walk("shib-soap-after", &sp.url("/secure/whoami"), None);
                check(
                    w.error
                        .as_deref()
                        .is_some_and(|e| e.contains("sign-in form")),
                    || format!("the SP session should be gone: {}", w.summary()),
                )
            })();
            sesame.update_settings(&dir, &app, |s| s["logoutUrl"] = front_channel.clone());
            result
        },
    );
    report.run("shibboleth: user not assigned refused", || {
        let b = Browser::new(&dir, "shib-bob");
        let w = b.walk("shib-not-assigned", &sp.url("/secure/whoami"), Some(BOB));
        expect_error_page(&w, &sesame)
    });
    report.run("shibboleth: signing certificate rollover", || {
        // `sp` is borrowed mutably by `reload`: the login closure uses the URL only.
        let whoami = sp.url("/secure/whoami");
        let reload = || sp.restart();
        let keys = keys.clone();
        rollover(
            &sesame,
            &dir,
            &app,
            &idp_md,
            &cert,
            reload,
            |label, new_cert| {
                let b = Browser::new(&dir, label);
                let w = b.walk(label, &whoami, Some(ALICE));
                expect_signed_in(&w, &alice_lines_shib(), new_cert, &keys)
            },
        )
    });

    report.run("shibboleth: sign-in log entries for the app", || {
        sign_in_log_mentions(&sesame, &app, "Shibboleth")
    });

    let mut logs = sp.logs();
    logs.push(dir.join("sesame.log"));
    sp.apache.stop();
    sp.shibd.stop();
    drop(sesame);
    report.finish("shibboleth_sp", &dir, &logs);
}

// ---------------------------------------------------------------------------------------------
// A real browser.

/// Another loopback address than Sésame's 127.0.0.1: another site for the browser, whose
/// SameSite rules then apply as between a real SP and Sésame.
const OTHER_SITE: &str = "127.0.0.2";

/// One page a `chromium.py` scenario ended on.
struct Step {
    name: String,
    url: String,
    text: String,
}

/// What `tests/interop/chromium.py` saw.
struct ChromiumRun {
    steps: Vec<Step>,
    /// Sésame's session cookie before the logout.
    session_cookie: Option<String>,
}

/// Runs `tests/interop/chromium.py`: its steps, or what went wrong.
fn chromium_run(
    dir: &Path,
    sesame: &Sesame,
    sp: &PySp,
    binding: &str,
    javascript: bool,
) -> Result<ChromiumRun, String> {
    // coreutils' timeout: a browser that hangs fails the test instead of stalling CI.
    let mut cmd = Command::new("timeout");
    cmd.args(["--kill-after=10", "240"])
        .arg(venv_python())
        .arg(interop_dir().join("chromium.py"))
        .args([
            "--sesame",
            &sesame.public_url,
            "--tenant",
            &sesame.tenant_id,
        ])
        .args(["--sp", &sp.url(""), "--user", ALICE, "--password", PASSWORD])
        .args(["--app", CHROMIUM_APP, "--binding", binding])
        .arg("--work-dir")
        .arg(dir);
    if !javascript {
        cmd.arg("--no-javascript");
    }
    let out = cmd.output().map_err(|e| format!("chromium.py: {e}"))?;
    let report: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "chromium.py printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let steps: Vec<Step> = report["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| Step {
            name: s["name"].as_str().unwrap_or("").into(),
            url: s["url"].as_str().unwrap_or("").into(),
            text: s["text"].as_str().unwrap_or("").into(),
        })
        .collect();
    let done: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    eprintln!(
        "chromium ({}): steps {done:?} in {} s",
        if javascript {
            "JavaScript"
        } else {
            "no JavaScript"
        },
        report["seconds"]
    );
    match report["error"].as_str() {
        Some(e) => Err(format!("Chromium stopped after steps {done:?}: {e}")),
        None => Ok(ChromiumRun {
            steps,
            session_cookie: report["session_cookie"].as_str().map(String::from),
        }),
    }
}

fn step<'a>(run: &'a Result<ChromiumRun, String>, name: &str) -> Result<&'a Step, String> {
    run.as_ref()
        .map_err(Clone::clone)?
        .steps
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("Chromium never reached step {name}"))
}

/// The SP's protected page, showing Alice's NameID.
fn expect_protected(step: &Step, sp: &PySp) -> Result<(), String> {
    check(
        step.url.starts_with(&sp.url("/protected"))
            && step
                .text
                .lines()
                .any(|l| l.trim() == format!("nameid={ALICE}")),
        || {
            format!(
                "{}: not Alice on the SP's page: {} {:?}",
                step.name, step.url, step.text
            )
        },
    )
}

/// The scenarios of `chromium.py` (see there), checked; `binding` carries the AuthnRequests.
fn chromium_scenarios(report: &mut Report, dir: &Path, sesame: &Sesame, sp: &PySp, binding: &str) {
    let steps = chromium_run(dir, sesame, sp, binding, true);
    report.run(
        &format!("chromium: SP-initiated sign-in ({binding}), Response page posts itself"),
        || expect_protected(step(&steps, "sign-in")?, sp),
    );
    report.run(
        &format!("chromium: the SSO session is reused ({binding})"),
        || expect_protected(step(&steps, "sso-again")?, sp),
    );
    report.run(
        "chromium: the SP's ACS may send the browser on to another site",
        || {
            let to = step(&steps, "acs-redirect")?;
            let my_apps = format!("{}/{}/myapps", sesame.public_url, sesame.tenant_id);
            check(to.url.starts_with(&my_apps), || {
                format!("not on My Apps after the ACS: {} {:?}", to.url, to.text)
            })
        },
    );
    report.run("chromium: My Apps lists the app, its link signs in", || {
        expect_protected(step(&steps, "my-apps")?, sp)
    });
    report.run("chromium: Single Logout from the SP over HTTP-POST", || {
        let slo = step(&steps, "slo-post")?;
        check(
            slo.text.lines().any(|l| l.trim() == "logged_out=yes"),
            || {
                format!(
                    "the SP did not get a Success LogoutResponse: {:?}",
                    slo.text
                )
            },
        )?;
        let after = step(&steps, "after-slo")?;
        check(after.url.contains("/login"), || {
            format!(
                "the browser is still signed in to Sésame: {} {:?}",
                after.url, after.text
            )
        })?;
        // The browser dropped its cookie; the session must be over on Sésame's side too.
        let cookie = steps.as_ref()?.session_cookie.as_deref();
        let cookie = cookie.ok_or("Chromium saw no Sésame session cookie")?;
        let prefix = if sesame.public_url.starts_with("https://") {
            "__Host-"
        } else {
            ""
        };
        let name = format!(
            "{prefix}sesame_session_{}",
            sesame.tenant_id.replace('-', "")
        );
        let my_apps = format!("{}/{}/myapps", sesame.url(), sesame.tenant_id);
        let (status, body) = http_get_with_cookie(&my_apps, Some(&format!("{name}={cookie}")))
            .map_err(|e| e.to_string())?;
        check(status == 303, || {
            format!("the old session cookie still opens My Apps: {status} {body}")
        })
    });
    report.run(
        "chromium: another site sending the browser to sign out: asked first, the confirmation signs out",
        || {
            let asks = step(&steps, "sign-out-asks")?;
            check(
                asks.text.contains("Another site is signing you out"),
                || format!("no confirmation: {} {:?}", asks.url, asks.text),
            )?;
            let done = step(&steps, "sign-out-confirmed")?;
            check(done.text.contains("You have signed out"), || {
                format!(
                    "the confirmation did not sign out: {} {:?}",
                    done.url, done.text
                )
            })?;
            let after = step(&steps, "after-sign-out")?;
            check(after.url.contains("/login"), || {
                format!(
                    "still signed in after confirming: {} {:?}",
                    after.url, after.text
                )
            })
        },
    );
    report.run(
        "chromium without JavaScript: the Response page's button",
        || {
            let steps = chromium_run(dir, sesame, sp, binding, false);
            expect_protected(step(&steps, "sign-in")?, sp)
        },
    );
}

/// The app's name in Sésame, the link Chromium clicks on My Apps.
const CHROMIUM_APP: &str = "Expenses";

fn chromium_peers(test: &str) -> bool {
    peers_present(
        test,
        &[
            ("xmlsec1", has_xmlsec1()),
            ("pysaml2 + requests in target/interop-venv", has_pysaml2()),
            (
                "chromium + chromium-driver (Debian), selenium in target/interop-venv",
                has_chromium(),
            ),
        ],
    )
}

/// Sésame's pages in Debian's headless Chromium with a pysaml2 SP on another site, over plain
/// HTTP (AuthnRequests redirected): the two-step sign-in form, the Response page that posts
/// itself (its script allowed by the CSP nonce) or, without JavaScript, through its button; the
/// SSO session reused; My Apps and its launch link; Single Logout started by the SP over
/// HTTP-POST from its own site — a request that carries no `SameSite=Lax` cookie of Sésame's, so
/// the session is found by the LogoutRequest's NameID and SessionIndex — after which the old
/// session cookie opens nothing.
#[test]
fn chromium_with_pysaml2_sp() {
    if !chromium_peers("chromium_with_pysaml2_sp") {
        return;
    }
    let dir = work_dir("chromium");
    let sesame = Sesame::start(&dir);
    let sp_dir = dir.join("sp");
    let (sp_port, sp_md) = PySp::prepare_at(&sp_dir, None, OTHER_SITE, None);
    let app = sesame.create_app(CHROMIUM_APP, &sp_md);
    let idp_md = dir.join("idp-metadata.xml");
    sesame.fetch_metadata(&app, &idp_md);
    let sp = PySp::start_at(&sp_dir, sp_port, &idp_md, None, OTHER_SITE, None);
    let mut report = Report::default();
    chromium_scenarios(&mut report, &dir, &sesame, &sp, "redirect");
    let logs = [dir.join("sesame.log"), sp.log.clone()];
    report.finish("chromium_with_pysaml2_sp", &dir, &logs);
}

/// A TLS terminator (`tests/interop/tls_proxy.py`) on `host`:`port` in front of a plain-HTTP
/// server on `host`:`upstream`.
struct TlsFront {
    _proc: Proc,
}

impl TlsFront {
    fn start(dir: &Path, host: &str, port: u16, upstream: u16) -> TlsFront {
        std::fs::create_dir_all(dir).unwrap();
        let log = std::fs::File::create(dir.join("tls_proxy.log")).unwrap();
        let mut proc = Proc::spawn(
            "tls_proxy.py",
            Command::new(venv_python())
                .arg(interop_dir().join("tls_proxy.py"))
                .args(["--listen", &format!("{host}:{port}")])
                .args(["--upstream", &format!("{host}:{upstream}")])
                .arg("--dir")
                .arg(dir)
                .stdout(Stdio::piped())
                .stderr(log),
        );
        let stdout = proc.child.as_mut().and_then(|c| c.stdout.take()).unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "tls_proxy.py did not start");
        TlsFront { _proc: proc }
    }
}

/// The same in production's shape: Sésame and the SP each behind a TLS terminator, so that
/// Sésame's session and logout-progress cookies are `Secure; SameSite=None`, and AuthnRequests
/// POSTed by the SP from its own site: the browser sends the session along, and the second
/// sign-in needs no password (with `SameSite=Lax` it would ask again).
#[test]
fn chromium_over_https_with_pysaml2_sp() {
    if !chromium_peers("chromium_over_https_with_pysaml2_sp") {
        return;
    }
    let dir = work_dir("chromium-https");
    let (sesame_port, sesame_front_port) = (free_port(), free_port());
    let _sesame_front = TlsFront::start(
        &dir.join("tls-sesame"),
        "127.0.0.1",
        sesame_front_port,
        sesame_port,
    );
    let sesame = Sesame::start_at(
        &dir,
        sesame_port,
        &format!("https://127.0.0.1:{sesame_front_port}"),
    );
    let sp_dir = dir.join("sp");
    let sp_front_port = free_port();
    let sp_url = format!("https://{OTHER_SITE}:{sp_front_port}");
    let (sp_port, sp_md) = PySp::prepare_at(&sp_dir, None, OTHER_SITE, Some(&sp_url));
    let _sp_front = TlsFront::start(&dir.join("tls-sp"), OTHER_SITE, sp_front_port, sp_port);
    let app = sesame.create_app(CHROMIUM_APP, &sp_md);
    let idp_md = dir.join("idp-metadata.xml");
    sesame.fetch_metadata(&app, &idp_md);
    let sp = PySp::start_at(&sp_dir, sp_port, &idp_md, None, OTHER_SITE, Some(&sp_url));
    let mut report = Report::default();
    chromium_scenarios(&mut report, &dir, &sesame, &sp, "post");
    let logs = [dir.join("sesame.log"), sp.log.clone()];
    report.finish("chromium_over_https_with_pysaml2_sp", &dir, &logs);
}
