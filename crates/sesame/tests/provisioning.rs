//! Outbound provisioning end to end (issue 6): the real `sesame` binary pushes a tenant's users
//! and groups to two real SCIM targets — a second Sésame tenant's SCIM server, and the PyPI
//! reference server `scim2-server` (python-scim) — driven through the `sesame provision` CLI.
//!
//! scim2-server lives in the virtualenv `target/scim-venv` (`.ci/run` installs it). Without it
//! that test is skipped with a message, unless `SESAME_REQUIRE_PEERS=1` makes it a failure.

// A panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{BIN, Proc, cli_as, free_port, wait_for};

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "sesame_at_provisioning-e2e-admin-token-0000000";

fn start_sesame(data: &Path, port: u16) -> Proc {
    let p = Proc(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data)
            .env("SESAME_ADMIN_TOKEN", ADMIN)
            .env("SESAME_LOG", "warn")
            .env("SESAME_PROVISIONING_LEASE_SECS", "3")
            .env("SESAME_PROVISIONING_RETRY_MS", "50")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port, "/readyz", "sesame");
    p
}

fn cli(url: &str, args: &[&str]) -> Value {
    cli_as(url, ADMIN, args)
}

/// The admin API and SCIM endpoints over HTTP.
struct Api {
    http: ::reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Self {
        Api {
            http: ::reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let m = ::reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(m, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, v) = self
            .call(method, &format!("/api/v1{path}"), ADMIN, Some(body))
            .await;
        assert!(status < 300, "{method} {path}: {status} {v}");
        v
    }
}

struct Source {
    tenant: String,
    app: String,
    group: String,
    users: Vec<(String, String)>,
    nameless: String,
}

/// Tenant `name` with `n` users (plus one without given name and surname), a group holding
/// them all assigned to an app.
async fn source_tenant(api: &Api, name: &str, n: usize) -> Source {
    let t = api
        .admin(
            "POST",
            "/tenants",
            json!({ "name": name, "initialDomain": format!("{name}.example") }),
        )
        .await;
    let tenant = t["id"].as_str().unwrap().to_owned();
    let group = api
        .admin(
            "POST",
            &format!("/tenants/{tenant}/groups"),
            json!({ "displayName": "Cloud users" }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut users = Vec::new();
    for i in 0..=n {
        let upn = if i == n {
            format!("nameless@{name}.example")
        } else {
            format!("user{i:04}@{name}.example")
        };
        let body = if i == n {
            json!({ "userPrincipalName": upn })
        } else {
            json!({ "userPrincipalName": upn, "givenName": format!("Given{i}"),
                "surname": format!("Sur{i}"), "displayName": format!("User {i}"),
                "mail": upn })
        };
        let id = api
            .admin("POST", &format!("/tenants/{tenant}/users"), body)
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        api.admin(
            "POST",
            &format!("/tenants/{tenant}/groups/{group}/members"),
            json!({ "userId": id }),
        )
        .await;
        users.push((id, upn));
    }
    let nameless = users.pop().unwrap().0;
    let app = api
        .admin(
            "POST",
            &format!("/tenants/{tenant}/apps"),
            json!({ "name": "Cloud" }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.admin(
        "POST",
        &format!("/tenants/{tenant}/apps/{app}/assignments"),
        json!({ "principalType": "group", "principalId": group }),
    )
    .await;
    Source {
        tenant,
        app,
        group,
        users,
        nameless,
    }
}

fn status(url: &str, s: &Source) -> Value {
    cli(
        url,
        &[
            "provision",
            "status",
            "--tenant",
            &s.tenant,
            "--app",
            &s.app,
        ],
    )
}

/// Waits until the job has no running cycle and no pending request, returning its last cycle.
fn wait_idle(url: &str, s: &Source) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let job = status(url, s);
        let st = &job["state"];
        if st["running"].is_null() && st["runRequested"] == false && !st["lastCycle"].is_null() {
            return st["lastCycle"].clone();
        }
        assert!(Instant::now() < deadline, "the cycle never ended: {job}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every resource of a SCIM collection, all pages.
async fn scim_all(api: &Api, base: &str, token: &str, kind: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut start = 1;
    loop {
        let (st, page) = api
            .call(
                "GET",
                &format!("{base}/{kind}?startIndex={start}&count=200"),
                token,
                None,
            )
            .await;
        assert_eq!(st, 200, "{page}");
        let items = page["Resources"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return out;
        }
        start += items.len();
        out.extend(items);
    }
}

fn write_token(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join("target-token");
    std::fs::write(&path, token).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisions_a_group_of_500_into_a_second_tenant_and_survives_a_kill() {
    let data = std::env::temp_dir().join(format!("sesame-prov-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = start_sesame(&data, port);
    let api = Api::new(&url);
    let src = source_tenant(&api, "contoso", 500).await;

    // The target: another tenant's SCIM server, with its own token.
    let target = api
        .admin(
            "POST",
            "/tenants",
            json!({ "name": "Fabrikam", "initialDomain": "fabrikam.example" }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = api
        .admin(
            "POST",
            &format!("/tenants/{target}/scim/tokens"),
            json!({ "name": "from contoso" }),
        )
        .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/{target}/scim/v2");
    let t = Target {
        api: Api::new(&url),
        url: format!("{url}{base}"),
        base,
        token,
    };
    group_of_500_with_a_kill(&data, port, server, &api, &src, &t).await;
    let _ = std::fs::remove_dir_all(&data);
}

/// A SCIM target: its base as an absolute URL (for the provisioning settings) and as the path
/// under `api`'s host.
struct Target {
    api: Api,
    base: String,
    url: String,
    token: String,
}

/// The scenario against `t`: a group of 500 users (and one without names) assigned
/// to the app; the initial cycle is killed with the server after 100 objects and resumed on
/// restart; then a rename, a member leaving the group, and a cycle with nothing to do.
async fn group_of_500_with_a_kill(
    data: &Path,
    port: u16,
    mut server: Proc,
    api: &Api,
    src: &Source,
    t: &Target,
) {
    let url = format!("http://127.0.0.1:{port}");
    let token_file = write_token(data, &t.token);
    // Fabrikam's users live in its own domain: userName is the UPN moved there (an expression
    // mapping), the other mappings are the AWS defaults.
    let mut mappings = aws_default_mappings();
    mappings[0]["transforms"] = json!([
        { "kind": "extractMailPrefix" },
        { "kind": "join", "separator": "@", "suffix": "fabrikam.example" },
    ]);
    let mappings_file = data.join("mappings.json");
    std::fs::write(&mappings_file, mappings.to_string()).unwrap();
    cli(
        &url,
        &[
            "provision",
            "configure",
            "--mappings-file",
            mappings_file.to_str().unwrap(),
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
            "--url",
            &t.url,
            "--token-file",
            token_file.to_str().unwrap(),
            "--profile",
            "aws",
            "--interval",
            "1h",
            "--rate-limit",
            "150",
            "--concurrency",
            "4",
        ],
    );
    let test = cli(
        &url,
        &[
            "provision",
            "test",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
        ],
    );
    assert_eq!(test["ok"], true, "{test}");

    // Start the initial cycle, kill the server in the middle of it, start it again.
    cli(
        &url,
        &[
            "provision",
            "run",
            "--no-wait",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = status(&url, src);
        if job["state"]["running"]["processed"].as_u64().unwrap_or(0) >= 100 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cycle did not progress: {job}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    server = start_sesame(data, port);
    let cycle = wait_idle(&url, src);
    assert_eq!(cycle["kind"], "initial", "{cycle}");
    assert!(cycle["error"].is_null(), "{cycle}");

    // Exactly the 500 named users, once each; the nameless one failed with the reason.
    let users = scim_all(&t.api, &t.base, &t.token, "Users").await;
    let names: std::collections::BTreeSet<&str> = users
        .iter()
        .filter_map(|u| u["userName"].as_str())
        .collect();
    let why = cli(
        &url,
        &[
            "provision",
            "logs",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
            "--limit",
            "3",
        ],
    );
    assert_eq!(
        users.len(),
        500,
        "duplicates or missing users; cycle {cycle} {why}"
    );
    assert_eq!(names.len(), 500);
    assert!(
        src.users
            .iter()
            .all(|(_, upn)| names.contains(in_fabrikam(upn).as_str()))
    );
    let failures = cli(
        &url,
        &[
            "provision",
            "logs",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
            "--result",
            "failure",
        ],
    );
    let failures = failures.as_array().unwrap();
    assert!(
        failures
            .iter()
            .any(|e| e["sourceId"] == src.nameless.as_str()
                && e["reason"].as_str().unwrap_or("").contains(
                    "has no displayName/givenName/surname; the target requires displayName, name.givenName, name.familyName"
                )),
        "{failures:?}"
    );
    // The group, once, with its 500 members.
    let groups = scim_all(&t.api, &t.base, &t.token, "Groups").await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["displayName"], "Cloud users");
    let target_group = groups[0]["id"].as_str().unwrap().to_owned();
    let (_, g) = t
        .api
        .call(
            "GET",
            &format!("{}/Groups/{target_group}", t.base),
            &t.token,
            None,
        )
        .await;
    assert_eq!(g["members"].as_array().map(Vec::len), Some(500), "{g}");

    // A rename reaches the target in the next (incremental) cycle, and only it.
    let (renamed_id, renamed_upn) = src.users[7].clone();
    api.admin(
        "PATCH",
        &format!("/tenants/{}/users/{renamed_id}", src.tenant),
        json!({ "givenName": "Renamed", "surname": "Person" }),
    )
    .await;
    let cycle = run_cycle(&url, src);
    assert_eq!(cycle["kind"], "incremental", "{cycle}");
    assert_eq!(cycle["counts"]["updated"], 1, "{cycle}");
    assert_eq!(cycle["counts"]["created"], 0, "{cycle}");
    let found = scim_find(&t.api, &t.base, &t.token, &in_fabrikam(&renamed_upn)).await;
    assert_eq!(found["name"]["givenName"], "Renamed");
    assert_eq!(found["name"]["familyName"], "Person");

    // Leaving the group (the app's only assignment) disables the account and drops the member.
    let (gone_id, gone_upn) = src.users[3].clone();
    leave_group(api, src, &gone_id).await;
    let cycle = run_cycle(&url, src);
    assert_eq!(cycle["counts"]["disabled"], 1, "{cycle}");
    let gone = scim_find(&t.api, &t.base, &t.token, &in_fabrikam(&gone_upn)).await;
    assert_eq!(gone["active"], false, "{gone}");
    let (_, g) = t
        .api
        .call(
            "GET",
            &format!("{}/Groups/{target_group}", t.base),
            &t.token,
            None,
        )
        .await;
    assert_eq!(g["members"].as_array().map(Vec::len), Some(499), "{g}");

    // Nothing changed: a cycle sends nothing.
    let cycle = run_cycle(&url, src);
    let c = &cycle["counts"];
    assert_eq!(
        (
            c["created"].as_u64(),
            c["updated"].as_u64(),
            c["disabled"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{cycle}"
    );
    drop(server);
}

/// A manual cycle through the CLI, which waits for its end and prints it.
fn run_cycle(url: &str, s: &Source) -> Value {
    cli(
        url,
        &["provision", "run", "--tenant", &s.tenant, "--app", &s.app],
    )
}

/// Removes the user from the source's group (the app's only assignment).
async fn leave_group(api: &Api, s: &Source, user: &str) {
    api.call(
        "DELETE",
        &format!(
            "/api/v1/tenants/{}/groups/{}/members/{user}",
            s.tenant, s.group
        ),
        ADMIN,
        None,
    )
    .await;
}

fn in_fabrikam(upn: &str) -> String {
    upn.replace("@contoso.example", "@fabrikam.example")
}

/// The AWS profile's default mappings, as `provision show --output json` prints them.
fn aws_default_mappings() -> Value {
    let user = |f: &str| json!({ "kind": "user", "value": f });
    json!([
        { "target": "userName", "source": user("userPrincipalName"), "required": true },
        { "target": "active", "source": { "kind": "accountEnabled" } },
        { "target": "displayName", "source": user("displayName"), "required": true },
        { "target": "name.givenName", "source": user("givenName"), "required": true },
        { "target": "name.familyName", "source": user("surname"), "required": true },
        { "target": "emails[type eq \"work\"].value", "source": user("mail") },
        { "target": "externalId", "source": user("objectId") },
    ])
}

async fn scim_find(api: &Api, scim: &str, token: &str, user_name: &str) -> Value {
    let filter = format!("userName eq \"{user_name}\"");
    let (st, page) = api
        .call(
            "GET",
            &format!("{scim}/Users?filter={}", urlencoding::encode(&filter)),
            token,
            None,
        )
        .await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(page["totalResults"], 1, "{page}");
    page["Resources"][0].clone()
}

fn venv_bin(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/scim-venv/bin")
        .join(name)
}

/// The token `reference_server` accepts.
const REFERENCE_TOKEN: &str = "reference-server-token";

/// scim2-server (python-scim) on a free loopback port: the process and its base URL. `None`
/// (the test is skipped) when it is not installed, unless `SESAME_REQUIRE_PEERS=1`.
fn reference_server() -> Option<(Proc, String)> {
    let server_bin = venv_bin("scim2-server");
    if !server_bin.exists() {
        assert!(
            std::env::var("SESAME_REQUIRE_PEERS").as_deref() != Ok("1"),
            "scim2-server is required: target/scim-venv/bin/pip install scim2-server"
        );
        eprintln!("skipped: no scim2-server in target/scim-venv (see .ci/run)");
        return None;
    }
    let port = free_port();
    let p = Proc(
        Command::new(&server_bin)
            .args([
                "--port",
                &port.to_string(),
                "--bearer-token",
                REFERENCE_TOKEN,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port, "/ServiceProviderConfig", "scim2-server");
    Some((p, format!("http://127.0.0.1:{port}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisions_a_group_of_500_into_scim2_server_and_survives_a_kill() {
    let Some((_target, target)) = reference_server() else {
        return;
    };
    let data = std::env::temp_dir().join(format!("sesame-prov-ref500-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let server = start_sesame(&data, port);
    let api = Api::new(&url);
    let src = source_tenant(&api, "contoso", 500).await;
    let t = Target {
        api: Api::new(&target),
        base: String::new(),
        url: target.clone(),
        token: REFERENCE_TOKEN.to_owned(),
    };
    group_of_500_with_a_kill(&data, port, server, &api, &src, &t).await;
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisions_into_the_scim2_reference_server() {
    let Some((_target, target)) = reference_server() else {
        return;
    };
    let target_token = REFERENCE_TOKEN;
    let data = std::env::temp_dir().join(format!("sesame-prov-ref-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _server = start_sesame(&data, port);
    let api = Api::new(&url);
    let src = source_tenant(&api, "northwind", 20).await;
    let token_file = write_token(&data, target_token);
    cli(
        &url,
        &[
            "provision",
            "configure",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
            "--url",
            &target,
            "--token-file",
            token_file.to_str().unwrap(),
            "--profile",
            "generic",
            "--interval",
            "1h",
        ],
    );
    let test = cli(
        &url,
        &[
            "provision",
            "test",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
        ],
    );
    assert_eq!(test["ok"], true, "{test}");
    let cycle = run_cycle(&url, &src);
    // The generic profile does not require names: all 21 users are created.
    assert_eq!(cycle["counts"]["created"].as_u64(), Some(22), "{cycle}");
    assert_eq!(cycle["counts"]["failed"].as_u64(), Some(0), "{cycle}");
    let ref_api = Api::new(&target);
    let users = scim_all(&ref_api, "", target_token, "Users").await;
    assert_eq!(users.len(), 21);
    let one = users
        .iter()
        .find(|u| u["userName"] == "user0005@northwind.example")
        .unwrap();
    assert_eq!(one["name"]["givenName"], "Given5");
    assert_eq!(one["emails"][0]["value"], "user0005@northwind.example");
    let groups = scim_all(&ref_api, "", target_token, "Groups").await;
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0]["members"].as_array().map(Vec::len),
        Some(21),
        "{groups:?}"
    );

    // Update and unassignment.
    let (id, upn) = src.users[5].clone();
    api.admin(
        "PATCH",
        &format!("/tenants/{}/users/{id}", src.tenant),
        json!({ "givenName": "Changed", "mail": null }),
    )
    .await;
    let (gone_id, gone_upn) = src.users[2].clone();
    leave_group(&api, &src, &gone_id).await;
    let cycle = run_cycle(&url, &src);
    assert_eq!(cycle["counts"]["updated"].as_u64(), Some(2), "{cycle}");
    assert_eq!(cycle["counts"]["disabled"].as_u64(), Some(1), "{cycle}");
    let users = scim_all(&ref_api, "", target_token, "Users").await;
    let changed = users
        .iter()
        .find(|u| u["userName"] == upn.as_str())
        .unwrap();
    assert_eq!(changed["name"]["givenName"], "Changed");
    assert!(
        changed["emails"].as_array().is_none_or(Vec::is_empty),
        "{changed}"
    );
    let gone = users
        .iter()
        .find(|u| u["userName"] == gone_upn.as_str())
        .unwrap();
    assert_eq!(gone["active"], false);
    let groups = scim_all(&ref_api, "", target_token, "Groups").await;
    assert_eq!(
        groups[0]["members"].as_array().map(Vec::len),
        Some(20),
        "{groups:?}"
    );

    // On-demand provisioning of one user: sent at once, outside any cycle, and logged.
    let (id, upn) = src.users[9].clone();
    api.admin(
        "PATCH",
        &format!("/tenants/{}/users/{id}", src.tenant),
        json!({ "displayName": "On Demand" }),
    )
    .await;
    let pushed = cli(
        &url,
        &[
            "provision",
            "run-user",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
            "--user",
            &id,
        ],
    );
    let pushed = pushed.as_array().unwrap();
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert_eq!(pushed[0]["action"], "update");
    assert_eq!(pushed[0]["result"], "success");
    assert_eq!(
        pushed[0]["request"],
        format!(
            "PATCH /Users/{}",
            scim_find(&ref_api, "", target_token, &upn).await["id"]
                .as_str()
                .unwrap()
        )
    );
    assert!(pushed[0]["cycleId"].is_null());
    assert_eq!(
        scim_find(&ref_api, "", target_token, &upn).await["displayName"],
        "On Demand"
    );

    // Deprovisioning by deletion, when configured so.
    cli(
        &url,
        &[
            "provision",
            "configure",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
            "--on-unassign",
            "delete",
        ],
    );
    let (del_id, del_upn) = src.users[11].clone();
    leave_group(&api, &src, &del_id).await;
    let cycle = run_cycle(&url, &src);
    assert_eq!(cycle["counts"]["deleted"].as_u64(), Some(1), "{cycle}");
    let filter = format!("userName eq \"{del_upn}\"");
    let (_, page) = ref_api
        .call(
            "GET",
            &format!("/Users?filter={}", urlencoding::encode(&filter)),
            target_token,
            None,
        )
        .await;
    assert_eq!(page["totalResults"], 0, "{page}");

    // Pause stops the schedule (a manual run still runs); reset makes the next cycle an
    // initial one, which finds everything already in place.
    let job = cli(
        &url,
        &[
            "provision",
            "pause",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
        ],
    );
    assert_eq!(job["ok"], true);
    assert_eq!(status(&url, &src)["config"]["paused"], true);
    cli(
        &url,
        &[
            "provision",
            "reset",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
        ],
    );
    let cycle = run_cycle(&url, &src);
    assert_eq!(cycle["kind"], "initial", "{cycle}");
    let c = &cycle["counts"];
    assert_eq!(
        (
            c["created"].as_u64(),
            c["updated"].as_u64(),
            c["failed"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{cycle}"
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_target_is_quarantined_after_three_failed_cycles() {
    let data = std::env::temp_dir().join(format!("sesame-prov-q-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _server = start_sesame(&data, port);
    let api = Api::new(&url);
    let src = source_tenant(&api, "adatum", 3).await;
    let token_file = write_token(&data, "whatever");
    let closed = free_port();
    cli(
        &url,
        &[
            "provision",
            "configure",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
            "--url",
            &format!("http://127.0.0.1:{closed}/scim/v2"),
            "--token-file",
            token_file.to_str().unwrap(),
            "--interval",
            "1h",
        ],
    );
    // "Test connection" says what is wrong, and fails.
    let out = Command::new(BIN)
        .args([
            "provision",
            "test",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
        ])
        .env("SESAME_SERVER", &url)
        .env("SESAME_TOKEN", ADMIN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot connect to the target"));
    for n in 1..=3 {
        let out = Command::new(BIN)
            .args([
                "provision",
                "run",
                "--output",
                "json",
                "--tenant",
                &src.tenant,
                "--app",
                &src.app,
            ])
            .env("SESAME_SERVER", &url)
            .env("SESAME_TOKEN", ADMIN)
            .output()
            .unwrap();
        assert!(!out.status.success(), "cycle {n} should fail");
        let cycle: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            cycle["error"]
                .as_str()
                .unwrap_or("")
                .contains("cannot connect to the target"),
            "{cycle}"
        );
        let job = status(&url, &src);
        let quarantined = job["state"]["status"].get("quarantined").is_some();
        assert_eq!(quarantined, n == 3, "after cycle {n}: {job}");
        // Nothing was consumed: the next good cycle still starts from the beginning.
        assert_eq!(job["state"]["initialDone"], false);
    }
    cli(
        &url,
        &[
            "provision",
            "resume",
            "--tenant",
            &src.tenant,
            "--app",
            &src.app,
        ],
    );
    let job = status(&url, &src);
    assert_eq!(job["state"]["status"], "active", "{job}");
    let _ = std::fs::remove_dir_all(&data);
}
