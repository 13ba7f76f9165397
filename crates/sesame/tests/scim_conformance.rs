//! SCIM conformance (issue 6): the real `sesame` binary on loopback, a tenant and a SCIM token
//! made with the CLI, and scim2-tester (python-scim, as a library) run against
//! `/{tenant}/scim/v2` by `tests/scim/run_scim2_tester.py`. Every check must pass.
//!
//! scim2-tester lives in a virtualenv at `target/scim-venv` (`.ci/run` creates it). Without it
//! the test is skipped with a message, unless `SESAME_REQUIRE_PEERS=1` makes that a failure.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "sesame_at_scim-conformance-admin-token-00000000";
const BIN: &str = env!("CARGO_BIN_EXE_sesame");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = write!(
        s,
        "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}

fn cli(url: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(args)
        .args(["--output", "json"])
        .env("SESAME_SERVER", url)
        .env("SESAME_TOKEN", ADMIN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn venv_python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join("target/scim-venv/bin/python")
}

#[test]
fn scim2_tester_passes_every_check() {
    let python = venv_python();
    let has_tester = python.exists()
        && Command::new(&python)
            .args(["-c", "import scim2_tester, scim2_client.engines.httpx2"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_tester {
        assert!(
            std::env::var("SESAME_REQUIRE_PEERS").as_deref() != Ok("1"),
            "scim2-tester is required: python3 -m venv target/scim-venv && \
             target/scim-venv/bin/pip install scim2-tester 'scim2-client[httpx2]'"
        );
        eprintln!("skipped: no scim2-tester in target/scim-venv (see .ci/run)");
        return;
    }
    let data = std::env::temp_dir().join(format!("sesame-scim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&data)
            .env("SESAME_ADMIN_TOKEN", ADMIN)
            .env("SESAME_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready(port) {
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}");
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
    let token = cli(
        &url,
        &[
            "scim",
            "token",
            "create",
            "-t",
            "contoso.example",
            "--expires",
            "1d",
        ],
    );
    let secret = token["secret"].as_str().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scim/run_scim2_tester.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(format!("{url}/contoso.example/scim/v2"))
        .arg(secret)
        .arg("contoso.example")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "scim2-tester reported failures:\n{report}"
    );
    assert!(report.contains("failed=0"));
    let _ = std::fs::remove_dir_all(&data);
}
