//! Domain verification against a real DNS server: Debian's dnsmasq on loopback, serving the TXT
//! record, with Sésame's resolver pointed at it (`--dns-server`).
//!
//! Skipped (with a message) when dnsmasq is missing, unless `SESAME_REQUIRE_PEERS=1` (CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    let data = std::env::temp_dir().join(format!("sesame-dns-{}", uuid::Uuid::new_v4()));
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
    let (ok, _, err) = cli(
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
