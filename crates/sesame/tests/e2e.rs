//! End to end: the real `sesame` binary on loopback, driven by its own CLI and a plain HTTP
//! client that signs in through the form like a browser would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::WorkDir;
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "sesame_at_e2e-global-admin-token-000000000000";
const BIN: &str = env!("CARGO_BIN_EXE_sesame");

struct Server {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Server {
    fn start(data: PathBuf, port: u16) -> Server {
        let child = Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&data)
            .env("SESAME_ADMIN_TOKEN", ADMIN)
            .env("SESAME_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let server = Server { child, port, data };
        server.wait_ready();
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(200) = poll::blocking_get(&format!("{}/readyz", self.url())) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not become ready");
    }

    /// SIGTERM, then wait: the graceful path.
    fn stop(mut self) -> PathBuf {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "graceful shutdown exits 0, got {status:?}"
        );
        std::mem::take(&mut self.data)
    }

    fn cli(&self, token: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("SESAME_SERVER", self.url())
            .env("SESAME_TOKEN", token)
            .output()
            .unwrap()
    }

    fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.cli(ADMIN, &all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny blocking GET for readiness polling, without a second HTTP client crate.
mod poll {
    pub fn blocking_get(url: &str) -> std::io::Result<u16> {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut s = std::net::TcpStream::connect(host)?;
        write!(
            s,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        Ok(buf.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0))
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn browser() -> ::reqwest::Client {
    ::reqwest::Client::builder()
        .cookie_store(true)
        .redirect(::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn submit(
    client: &::reqwest::Client,
    base: &str,
    tenant: &str,
    upn: &str,
    password: &str,
) -> ::reqwest::Response {
    let page = client
        .get(format!("{base}/{tenant}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    client
        .post(format!("{base}/{tenant}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", upn),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_lockout_logout_scopes_and_restart() {
    let work = WorkDir::new("e2e");
    let server = Server::start(work.to_path_buf(), free_port());
    let base = server.url();

    // The CLI creates a tenant, a user and a password.
    let tenant = server.cli_json(&[
        "tenant",
        "create",
        "Contoso",
        "--initial-domain",
        "contoso.example",
    ]);
    let tid = tenant["id"].as_str().unwrap().to_string();
    server.cli_json(&[
        "user",
        "create",
        "-t",
        "contoso.example",
        "alice@contoso.example",
        "--display-name",
        "Alice",
    ]);
    let out = server.cli(
        ADMIN,
        &[
            "user",
            "set-password",
            "-t",
            "contoso.example",
            "alice@contoso.example",
            "--password",
            "Correct-Horse-1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A plain HTTP client signs in through the form and gets a session.
    let alice = browser();
    let first = alice
        .get(format!("{base}/contoso.example/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let cookie = first
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.starts_with("sesame_csrf=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let r = submit(
        &alice,
        &base,
        "contoso.example",
        "alice@contoso.example",
        "Correct-Horse-1",
    )
    .await;
    assert_eq!(r.status(), 303);
    let session_cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        session_cookie.starts_with(&format!("sesame_session_{}=", tid.replace('-', ""))),
        "one session cookie per tenant: {session_cookie}"
    );
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    let landing = alice
        .get(format!("{base}/{tid}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        landing.contains("You are signed in") && landing.contains("alice@contoso.example"),
        "{landing}"
    );

    // A form without the CSRF token is refused.
    let forged = browser()
        .post(format!("{base}/contoso.example/login"))
        .form(&[
            ("username", "alice@contoso.example"),
            ("password", "Correct-Horse-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("SESAME-2010"));

    // A wrong password gives an error page and a sign-in log entry.
    let mallory = browser();
    let r = submit(
        &mallory,
        &base,
        "contoso.example",
        "alice@contoso.example",
        "wrong",
    )
    .await;
    assert_eq!(r.status(), 401);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("incorrect") && page.contains("SESAME-2001"),
        "{page}"
    );
    let log = server.cli_json(&["signins", "-t", "contoso.example", "--result", "failure"]);
    let entry = &log.as_array().unwrap()[0];
    assert_eq!(entry["userPrincipalName"], "alice@contoso.example");
    assert_eq!(entry["ip"], "127.0.0.1");
    assert!(entry["correlationId"].is_string());

    // Repeated failures lock the account; then even the right password fails.
    for _ in 0..4 {
        submit(
            &mallory,
            &base,
            "contoso.example",
            "alice@contoso.example",
            "wrong",
        )
        .await;
    }
    let r = submit(
        &mallory,
        &base,
        "contoso.example",
        "alice@contoso.example",
        "Correct-Horse-1",
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("locked"));
    let locked = server.cli_json(&["signins", "-t", "contoso.example", "--result", "locked"]);
    assert!(!locked.as_array().unwrap().is_empty());

    // Logout ends the session (the link on Sésame's own pages); a browser that does not say
    // where the request comes from is asked first.
    let asked = alice
        .get(format!("{base}/contoso.example/logout"))
        .send()
        .await
        .unwrap();
    assert!(asked.text().await.unwrap().contains("Sign out?"));
    let r = alice
        .get(format!("{base}/contoso.example/logout"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = alice.get(format!("{base}/{tid}/")).send().await.unwrap();
    assert_eq!(after.status(), 303, "signed out: back to the login page");

    // A tenant-limited admin token cannot read or change another tenant.
    server.cli_json(&[
        "tenant",
        "create",
        "Fabrikam",
        "--initial-domain",
        "fabrikam.example",
    ]);
    let tok = server.cli_json(&[
        "token",
        "create",
        "contoso-ops",
        "--tenant",
        "contoso.example",
    ]);
    let limited = tok["secret"].as_str().unwrap().to_string();
    let own = server.cli(&limited, &["user", "list", "-t", "contoso.example"]);
    assert!(own.status.success());
    for args in [
        vec!["user", "list", "-t", "fabrikam.example"],
        vec![
            "user",
            "create",
            "-t",
            "fabrikam.example",
            "eve@fabrikam.example",
        ],
        vec!["tenant", "delete", "fabrikam.example"],
    ] {
        let out = server.cli(&limited, &args);
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one clear line: {err}");
        assert!(
            err.starts_with("error: ") && err.contains("HTTP 403"),
            "{err}"
        );
    }

    // A restart keeps the data.
    let port = server.port;
    let data = server.stop();
    let server = Server::start(data, port);
    let users = server.cli_json(&["user", "list", "-t", "contoso.example"]);
    assert_eq!(users[0]["userPrincipalName"], "alice@contoso.example");
    let r = submit(
        &browser(),
        &server.url(),
        "contoso.example",
        "alice@contoso.example",
        "Correct-Horse-1",
    )
    .await;
    assert_eq!(r.status(), 403, "the lockout survives a restart");
}

#[test]
fn cli_errors_are_one_line_with_nonzero_exit() {
    let out = Command::new(BIN)
        .args(["tenant", "list"])
        .env("SESAME_SERVER", format!("http://127.0.0.1:{}", free_port()))
        .env("SESAME_TOKEN", ADMIN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach Sésame"), "{err}");
    let out = Command::new(BIN)
        .args(["tenant", "list"])
        .env_remove("SESAME_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no admin token"));
}

#[test]
fn first_start_prints_a_one_time_token() {
    let data = WorkDir::new("e2e");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&data)
        .env_remove("SESAME_ADMIN_TOKEN")
        .env_remove("NO_COLOR")
        .env("SESAME_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut text = String::new();
    while Instant::now() < deadline && !text.contains("SESAME_TOKEN=") {
        use std::io::Read;
        let mut buf = [0u8; 512];
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let _ = child.kill();
    let _ = child.wait();
    let token = text
        .split("SESAME_TOKEN=")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert!(token.starts_with("sesame_at_"), "{text}");
    // Logs written to a file carry no terminal colour codes.
    let log = std::fs::read_to_string(data.join("stderr.log")).unwrap();
    assert!(log.contains("created a new master key"), "{log}");
    assert!(!log.contains('\x1b'), "{log:?}");
    // A second start on the same store prints nothing: the token was one-time.
    let out = Command::new(BIN)
        .args(["admin", "bootstrap", "--name", "again"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .starts_with("sesame_at_")
    );
}
