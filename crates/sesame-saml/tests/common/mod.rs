//! Shared helpers of the integration tests: test data, keys, external tools.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sesame_xmlsec::{SigningKey, TrustedKeys};

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(testdata(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn key_path(name: &str) -> String {
    testdata(&format!("keys/{name}")).display().to_string()
}

pub fn signing_key(name: &str) -> SigningKey {
    SigningKey::from_pem(
        &read(&format!("keys/{name}.key.pem")),
        &read(&format!("keys/{name}.cert.pem")),
    )
    .unwrap()
}

pub fn trusted(names: &[&str]) -> TrustedKeys {
    let mut keys = TrustedKeys::new();
    for name in names {
        keys.add_certificate_pem(&read(&format!("keys/{name}.cert.pem")))
            .unwrap();
    }
    keys
}

pub fn cert_der(name: &str) -> Vec<u8> {
    sesame_xmlsec::pem_decode(&read(&format!("keys/{name}.cert.pem")), "CERTIFICATE").unwrap()
}

/// A tool on PATH, or None (then the caller skips) unless `require_env` is set.
pub fn tool(name: &str, require_env: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os(require_env).is_none(),
            "{name} is required ({require_env} is set) but not installed"
        );
        eprintln!("SKIP: {name} not installed (set {require_env}=1 to make this a failure)");
    }
    found
}

pub fn pysaml2_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import saml2"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("SESAME_REQUIRE_PEERS").is_none(),
            "pysaml2 is required (SESAME_REQUIRE_PEERS is set) but not importable"
        );
        eprintln!(
            "SKIP: pysaml2 not installed (pip install pysaml2; set SESAME_REQUIRE_PEERS=1 to require)"
        );
    }
    ok
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sesame-saml-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn write(&self, name: &str, content: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a command; returns (success, stdout, stderr).
pub fn run(bin: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
