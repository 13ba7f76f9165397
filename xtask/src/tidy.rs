//! `cargo xtask tidy`: the hygiene checks behind ARCHITECTURE.md's invariants.
//!
//! Each check is a small pure function over a crate's dependency list or one source file's text,
//! so that the unit tests below can prove, with tiny inline inputs, that every rule catches what
//! it is meant to catch. `tidy_passes_on_the_repository` runs them on the real tree, which makes
//! plain `cargo test --workspace` fail on a violation.

use crate::util;
use anyhow::{Context, bail};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// One broken rule, printed as `path:line: rule: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub line: usize,
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.path, self.line, self.rule, self.message
        )
    }
}

/// `cargo xtask tidy`: prints every violation and fails when there is any.
pub fn run() -> anyhow::Result<()> {
    let root = util::project_root();
    let violations = check_repository(&root)?;
    for v in &violations {
        println!("{v}");
    }
    if !violations.is_empty() {
        bail!("tidy: {} violation(s)", violations.len());
    }
    println!("tidy: ok");
    Ok(())
}

/// Runs every check on the tree rooted at `root`.
pub fn check_repository(root: &Path) -> anyhow::Result<Vec<Violation>> {
    let mut violations = Vec::new();
    let crates = read_crates(root)?;
    violations.extend(check_dependencies(&crates));
    for dir in crate_dirs(root)? {
        violations.extend(check_crate_doc(root, &dir)?);
    }
    let mut files = Vec::new();
    collect_rs_files(&root.join("crates"), &mut files)?;
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let rel = relative(root, &file);
        violations.extend(check_source(&rel, &text));
    }
    Ok(violations)
}

// ---------------------------------------------------------------------------------------------
// (a) Dependency direction.

/// A crate and its direct dependencies, as `cargo metadata` reports them.
#[derive(Debug, Clone)]
pub struct CrateDeps {
    pub name: String,
    /// Path of the crate's Cargo.toml relative to the root, for messages.
    pub manifest: String,
    /// The manifest's text, used only to find a dependency's line.
    pub manifest_text: String,
    /// `(package name, is a dev-dependency)`.
    pub deps: Vec<(String, bool)>,
}

const PROTOCOL_CRATES: &[&str] = &[
    "sesame-rsa-sha1",
    "sesame-xmlsec",
    "sesame-saml",
    "sesame-wsfed",
    "sesame-oidc",
    "sesame-scim",
];

/// The `sesame-*` crates a crate may depend on, or `None` when only the generic rules apply.
fn allowed_sesame_deps(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "sesame-model" => &[],
        "sesame-store" => &["sesame-model"],
        "sesame-store-sql" => &["sesame-model", "sesame-store"],
        // The RSA-SHA1 FFI shim depends on nothing of ours; protocol crates may use it.
        "sesame-rsa-sha1" | "sesame-oidc" | "sesame-scim" => &[],
        "sesame-xmlsec" => &["sesame-rsa-sha1"],
        "sesame-saml" => &["sesame-xmlsec", "sesame-rsa-sha1"],
        "sesame-wsfed" => &["sesame-saml", "sesame-xmlsec", "sesame-rsa-sha1"],
        _ => return None,
    })
}

/// Third-party crates a crate must not depend on directly.
fn forbidden_external_deps(name: &str) -> &'static [&'static str] {
    if PROTOCOL_CRATES.contains(&name) {
        return &["tokio", "axum", "hyper", "sqlx", "reqwest"];
    }
    match name {
        "sesame-model" | "sesame-store" => &["axum", "hyper", "sqlx", "reqwest", "tower"],
        "sesame-core" => &["axum", "hyper", "sqlx", "reqwest", "tower", "tower-http"],
        "sesame-web" => &["sqlx"],
        _ => &[],
    }
}

/// Sésame crates that `name` must not depend on even though no allow-list covers it.
fn forbidden_sesame_deps(name: &str) -> &'static [&'static str] {
    match name {
        "sesame-core" => &["sesame-store-sql", "sesame-web"],
        "sesame-web" => &["sesame-store-sql"],
        _ => &[],
    }
}

pub fn check_dependencies(crates: &[CrateDeps]) -> Vec<Violation> {
    let mut out = Vec::new();
    for c in crates {
        let allowed = allowed_sesame_deps(&c.name);
        for (dep, dev) in &c.deps {
            let mut complain = |message: String| {
                out.push(Violation {
                    path: c.manifest.clone(),
                    line: manifest_line(&c.manifest_text, dep),
                    rule: "deps",
                    message,
                });
            };
            // Tests may use any crate but the binary: a test-only store backend is fine.
            if dep == "sesame" {
                complain(format!(
                    "{} depends on the `sesame` binary crate; nothing may",
                    c.name
                ));
                continue;
            }
            if *dev {
                continue;
            }
            if forbidden_external_deps(&c.name).contains(&dep.as_str()) {
                complain(format!("{} must not depend on {dep}", c.name));
            }
            if forbidden_sesame_deps(&c.name).contains(&dep.as_str()) {
                complain(format!("{} must not depend on {dep}", c.name));
            }
            if let Some(allowed) = allowed
                && dep.starts_with("sesame")
                && !allowed.contains(&dep.as_str())
            {
                let list = if allowed.is_empty() {
                    "no sesame crate".to_string()
                } else {
                    allowed.join(", ")
                };
                complain(format!("{} may depend on {list}, not on {dep}", c.name));
            }
        }
    }
    out
}

/// The line of `dep`'s entry in a manifest (1 when it cannot be found).
fn manifest_line(text: &str, dep: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(dep).is_some_and(|rest| {
                rest.starts_with([' ', '=', '.']) || (rest.is_empty() && l.starts_with('['))
            }) || l.ends_with(&format!(".{dep}]"))
        })
        .map_or(1, |i| i + 1)
}

/// The workspace's crates, plus crates under `crates/` that the workspace excludes (each read
/// through its own manifest).
fn read_crates(root: &Path) -> anyhow::Result<Vec<CrateDeps>> {
    let mut crates = metadata_crates(root, &root.join("Cargo.toml"))?;
    for dir in crate_dirs(root)? {
        let manifest = dir.join("Cargo.toml");
        let known = crates.iter().any(|c| root.join(&c.manifest) == manifest);
        if !known && manifest.is_file() {
            for c in metadata_crates(root, &manifest)? {
                if !crates.iter().any(|k| k.manifest == c.manifest) {
                    crates.push(c);
                }
            }
        }
    }
    Ok(crates)
}

fn metadata_crates(root: &Path, manifest: &Path) -> anyhow::Result<Vec<CrateDeps>> {
    let output = util::cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed for {}: {}",
            manifest.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let json: Value = serde_json::from_slice(&output.stdout).context("cargo metadata output")?;
    parse_metadata(root, &json)
}

fn parse_metadata(root: &Path, json: &Value) -> anyhow::Result<Vec<CrateDeps>> {
    let packages = json
        .get("packages")
        .and_then(Value::as_array)
        .context("cargo metadata: no packages")?;
    let mut out = Vec::new();
    for p in packages {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let manifest_path = PathBuf::from(
            p.get("manifest_path")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let manifest_text = std::fs::read_to_string(&manifest_path).unwrap_or_default();
        let deps = p
            .get("dependencies")
            .and_then(Value::as_array)
            .map(|deps| {
                deps.iter()
                    .filter_map(|d| {
                        let dep = d.get("name").and_then(Value::as_str)?;
                        let dev = d.get("kind").and_then(Value::as_str) == Some("dev");
                        Some((dep.to_string(), dev))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(CrateDeps {
            name: name.to_string(),
            manifest: relative(root, &manifest_path),
            manifest_text,
            deps,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// (d) Crate doc comments.

fn check_crate_doc(root: &Path, dir: &Path) -> anyhow::Result<Vec<Violation>> {
    let mut out = Vec::new();
    for entry in ["src/lib.rs", "src/main.rs"] {
        let file = dir.join(entry);
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        out.extend(check_doc_comment(&relative(root, &file), &text));
    }
    Ok(out)
}

/// A crate root must open with a `//!` comment saying what the crate owns.
pub fn check_doc_comment(path: &str, text: &str) -> Option<Violation> {
    let first = text.lines().find(|l| !l.trim().is_empty());
    if first.is_some_and(|l| l.trim_start().starts_with("//!")) {
        return None;
    }
    Some(Violation {
        path: path.to_string(),
        line: 1,
        rule: "doc",
        message: "a crate root must start with a `//!` comment saying what the crate owns"
            .to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// (b), (c), (e) Source text.

const CLOCK_READS: &[&str] = &[
    "SystemTime::now",
    "OffsetDateTime::now",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "Uuid::now_v7",
];

/// Runs the per-file rules that apply to `path` (relative to the root, `/`-separated).
pub fn check_source(path: &str, text: &str) -> Vec<Violation> {
    let krate = path
        .strip_prefix("crates/")
        .and_then(|p| p.split('/').next())
        .unwrap_or("");
    let sql_allowed = krate == "sesame-store-sql";
    let clock_checked = (PROTOCOL_CRATES.contains(&krate) || krate == "sesame-core")
        && path != "crates/sesame-core/src/clock.rs"
        // Benchmarks and profiling examples time the code; they are not the protocol.
        && !path.contains("/benches/")
        && !path.contains("/examples/");
    let test_file = is_test_file(path);
    let mut in_tests = test_file;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.starts_with("#[cfg(test)]") && raw.starts_with('#') {
            // Module-level test code starts here and, by convention, runs to the end of file.
            in_tests = true;
        }
        if line.starts_with("//") {
            continue;
        }
        let mut push = |rule: &'static str, message: String| {
            out.push(Violation {
                path: path.to_string(),
                line: i + 1,
                rule,
                message,
            });
        };
        if !sql_allowed {
            if let Some(what) = sql_statement(line) {
                push(
                    "sql",
                    format!("SQL ({what}) outside crates/sesame-store-sql"),
                );
            }
            if uses_sqlx(line) {
                push(
                    "sql",
                    "the sqlx crate is used outside crates/sesame-store-sql".to_string(),
                );
            }
        }
        if clock_checked && let Some(read) = CLOCK_READS.iter().find(|c| line.contains(*c)) {
            push(
                "clock",
                format!("`{read}` reads the clock; take `now` from the caller or a Clock"),
            );
        }
        if !in_tests {
            for mac in ["todo!(", "unimplemented!("] {
                if contains_word(line, mac) {
                    push("todo", format!("`{mac}…)` in non-test code"));
                }
            }
        }
    }
    out
}

fn is_test_file(path: &str) -> bool {
    path.contains("/tests/") || path.contains("/benches/") || path.ends_with("/tests.rs")
}

/// The kind of SQL statement on `line`, if any. Only upper-case keywords count: that is how
/// SQL is written in string literals, while prose in lower case stays legal.
pub fn sql_statement(line: &str) -> Option<&'static str> {
    for phrase in [
        "INSERT INTO",
        "DELETE FROM",
        "CREATE TABLE",
        "CREATE INDEX",
        "CREATE UNIQUE INDEX",
        "ALTER TABLE",
        "DROP TABLE",
    ] {
        if contains_word(line, phrase) {
            return Some(phrase);
        }
    }
    if let Some(at) = find_word(line, "SELECT")
        && find_word(&line[at..], "FROM").is_some()
    {
        return Some("SELECT … FROM");
    }
    if let Some(at) = find_word(line, "UPDATE") {
        let rest = line[at + "UPDATE".len()..].trim_start();
        let ident_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
            .unwrap_or(rest.len());
        if ident_len > 0
            && find_word(&rest[ident_len..], "SET")
                .is_some_and(|p| rest[ident_len..][..p].trim().is_empty())
        {
            return Some("UPDATE … SET");
        }
    }
    None
}

fn uses_sqlx(line: &str) -> bool {
    contains_word(line, "sqlx::")
        || line.starts_with("use sqlx")
        || line.starts_with("extern crate sqlx")
}

fn contains_word(haystack: &str, needle: &str) -> bool {
    find_word(haystack, needle).is_some()
}

/// Where `needle` occurs in `haystack` not glued to an identifier character on its left (nor,
/// when it ends with one, on its right).
fn find_word(haystack: &str, needle: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(pos) = haystack[from..].find(needle) {
        let at = from + pos;
        let before_ok = !haystack[..at].chars().next_back().is_some_and(is_ident);
        let after = &haystack[at + needle.len()..];
        let after_ok = !needle.chars().next_back().is_some_and(is_ident)
            || !after.chars().next().is_some_and(is_ident);
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + needle.len();
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Walking the tree.

/// `crates/*` directories and `xtask`.
fn crate_dirs(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = vec![root.join("xtask")];
    for entry in std::fs::read_dir(root.join("crates")).context("cannot list crates/")? {
        let path = entry?.path();
        if path.join("Cargo.toml").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if name == "target" || name.starts_with('.') {
                continue;
            }
            collect_rs_files(&path, out)?;
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `(crate, its dependencies as (name, is dev), expected violations)`.
    type DepCase<'a> = (&'a str, &'a [(&'a str, bool)], usize);

    fn krate(name: &str, deps: &[(&str, bool)]) -> CrateDeps {
        CrateDeps {
            name: name.to_string(),
            manifest: format!("crates/{name}/Cargo.toml"),
            manifest_text: String::new(),
            deps: deps.iter().map(|(d, dev)| (d.to_string(), *dev)).collect(),
        }
    }

    fn dep_messages(c: CrateDeps) -> Vec<String> {
        check_dependencies(&[c])
            .into_iter()
            .map(|v| v.message)
            .collect()
    }

    #[test]
    fn dependency_rules() {
        let cases: &[DepCase] = &[
            ("sesame-model", &[("serde", false)], 0),
            ("sesame-model", &[("sesame-store", false)], 1),
            ("sesame-store", &[("sesame-model", false)], 0),
            ("sesame-store", &[("sesame-core", false)], 1),
            (
                "sesame-store-sql",
                &[("sesame-store", false), ("sqlx", false)],
                0,
            ),
            ("sesame-store-sql", &[("sesame-web", false)], 1),
            ("sesame-xmlsec", &[("tokio", false)], 1),
            ("sesame-xmlsec", &[("sesame-rsa-sha1", false)], 0),
            ("sesame-xmlsec", &[("sesame-saml", false)], 1),
            ("sesame-saml", &[("sesame-rsa-sha1", false)], 0),
            ("sesame-rsa-sha1", &[("aws-lc-sys", false)], 0),
            ("sesame-rsa-sha1", &[("sesame-xmlsec", false)], 1),
            ("sesame-rsa-sha1", &[("tokio", false)], 1),
            ("sesame-saml", &[("sesame-xmlsec", false)], 0),
            ("sesame-saml", &[("sesame-wsfed", false)], 1),
            (
                "sesame-wsfed",
                &[("sesame-saml", false), ("reqwest", false)],
                1,
            ),
            ("sesame-oidc", &[("sesame-model", false)], 1),
            (
                "sesame-core",
                &[("tokio", false), ("sesame-store", false)],
                0,
            ),
            ("sesame-core", &[("axum", false)], 1),
            ("sesame-core", &[("tower", false)], 1),
            ("sesame-core", &[("sesame-store-sql", true)], 0),
            ("sesame-core", &[("sesame-store-sql", false)], 1),
            ("sesame-web", &[("sqlx", false)], 1),
            ("sesame-web", &[("axum", false), ("sesame-core", false)], 0),
            ("sesame-web", &[("sesame", true)], 1),
            ("xtask", &[("sesame", false)], 1),
        ];
        for (name, deps, expected) in cases {
            let got = dep_messages(krate(name, deps));
            assert_eq!(got.len(), *expected, "{name} {deps:?}: {got:?}");
        }
    }

    #[test]
    fn dependency_line_is_found() {
        let text =
            "[package]\nname = \"x\"\n\n[dependencies]\nserde.workspace = true\ntokio = \"1\"\n";
        assert_eq!(manifest_line(text, "tokio"), 6);
        assert_eq!(manifest_line(text, "serde"), 5);
        assert_eq!(manifest_line(text, "absent"), 1);
    }

    fn rules(path: &str, text: &str) -> Vec<&'static str> {
        check_source(path, text)
            .into_iter()
            .map(|v| v.rule)
            .collect()
    }

    #[test]
    fn sql_outside_store_sql_is_flagged() {
        let core = "crates/sesame-core/src/users.rs";
        for line in [
            r#"let q = "SELECT id, name FROM users WHERE id = ?";"#,
            r#"q("INSERT INTO users (id) VALUES (?)")"#,
            r#"q("UPDATE users SET name = ?")"#,
            r#"q("DELETE FROM users")"#,
            r#"q("CREATE TABLE users (id TEXT)")"#,
            "use sqlx::Row;",
            "let p: sqlx::SqlitePool = todo;",
        ] {
            assert_eq!(rules(core, line), ["sql"], "{line}");
        }
        for line in [
            "// SELECT id FROM users is fine in a comment",
            "let selected = from_here(update, set);",
            "let f = \"info,sqlx=warn\";",
            "/// Users UPDATE and SET in prose are not statements: UPDATE them, then SET.",
        ] {
            assert!(rules(core, line).is_empty(), "{line}");
        }
        let store = "crates/sesame-store-sql/src/sqlite.rs";
        assert!(rules(store, r#"q("SELECT id FROM users")"#).is_empty());
    }

    #[test]
    fn clock_reads_in_core_and_protocols_are_flagged() {
        let line = "let now = OffsetDateTime::now_utc();";
        assert_eq!(rules("crates/sesame-core/src/users.rs", line), ["clock"]);
        assert_eq!(rules("crates/sesame-saml/src/rules.rs", line), ["clock"]);
        assert_eq!(
            rules("crates/sesame-xmlsec/src/verify.rs", "Instant::now()"),
            ["clock"]
        );
        assert_eq!(
            rules("crates/sesame-oidc/src/lib.rs", "Uuid::now_v7()"),
            ["clock"]
        );
        assert!(rules("crates/sesame-core/src/clock.rs", line).is_empty());
        assert!(rules("crates/sesame-xmlsec/examples/prof.rs", "Instant::now()").is_empty());
        assert!(rules("crates/sesame-xmlsec/benches/b.rs", "Instant::now()").is_empty());
        assert!(rules("crates/sesame-web/src/lib.rs", line).is_empty());
        assert!(rules("crates/sesame/src/serve.rs", "Instant::now()").is_empty());
    }

    #[test]
    fn todo_outside_tests_is_flagged() {
        let path = "crates/sesame-web/src/lib.rs";
        assert_eq!(rules(path, "fn f() { todo!() }"), ["todo"]);
        assert_eq!(rules(path, "fn f() { unimplemented!(\"x\") }"), ["todo"]);
        assert!(
            rules(
                path,
                "fn f() {}\n#[cfg(test)]\nmod t { fn g() { todo!() } }"
            )
            .is_empty()
        );
        assert!(rules("crates/sesame-web/tests/api.rs", "todo!()").is_empty());
        assert!(rules(path, "fn my_todo!(x)").is_empty());
    }

    #[test]
    fn violations_carry_path_and_line() {
        let v = check_source(
            "crates/sesame-core/src/a.rs",
            "fn a() {}\nfn b() { todo!() }\n",
        );
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].to_string(),
            "crates/sesame-core/src/a.rs:2: todo: `todo!(…)` in non-test code"
        );
    }

    #[test]
    fn crate_roots_need_a_doc_comment() {
        assert!(check_doc_comment("a/lib.rs", "//! What this owns.\nmod a;\n").is_none());
        assert!(check_doc_comment("a/lib.rs", "\n//! What this owns.\n").is_none());
        assert!(check_doc_comment("a/lib.rs", "mod a;\n").is_some());
        assert!(check_doc_comment("a/lib.rs", "// plain comment\n").is_some());
        assert!(check_doc_comment("a/lib.rs", "").is_some());
    }

    /// The repository itself passes tidy, so `cargo test --workspace` catches violations.
    #[test]
    fn tidy_passes_on_the_repository() {
        let root = util::project_root();
        let violations = check_repository(&root).unwrap();
        let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(
            violations.is_empty(),
            "tidy violations:\n{}",
            text.join("\n")
        );
    }
}
