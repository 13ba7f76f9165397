//! `sesame tenant|domain|user|group|app|signins|token …`.

use super::Conn;
use super::output::{Column, print_done, print_list, print_one};
use crate::client::{Client, seg};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use std::io::Read;

const TENANT_COLS: &[Column] = &[
    ("id", "id"),
    ("name", "name"),
    ("initial domain", "initialDomain"),
    ("created", "createdAt"),
];
const DOMAIN_COLS: &[Column] = &[
    ("domain", "name"),
    ("status", "status"),
    ("verification token", "verificationToken"),
];
const USER_COLS: &[Column] = &[
    ("id", "id"),
    ("userPrincipalName", "userPrincipalName"),
    ("displayName", "displayName"),
    ("enabled", "accountEnabled"),
    ("type", "userType"),
];
const USER_DETAIL: &[Column] = &[
    ("id", "id"),
    ("userPrincipalName", "userPrincipalName"),
    ("immutableId", "immutableId"),
    ("displayName", "displayName"),
    ("givenName", "givenName"),
    ("surname", "surname"),
    ("mail", "mail"),
    ("otherMails", "otherMails"),
    ("employeeId", "employeeId"),
    ("extensionAttributes", "extensionAttributes"),
    ("accountEnabled", "accountEnabled"),
    ("userType", "userType"),
    ("source", "source"),
    ("created", "createdAt"),
    ("updated", "updatedAt"),
];
const GROUP_COLS: &[Column] = &[
    ("id", "id"),
    ("displayName", "displayName"),
    ("description", "description"),
];
const APP_COLS: &[Column] = &[
    ("id", "id"),
    ("name", "name"),
    ("enabled", "enabled"),
    ("created", "createdAt"),
];
const ASSIGN_COLS: &[Column] = &[
    ("principal type", "principalType"),
    ("principal", "principal"),
    ("principal id", "principalId"),
    ("app role", "appRole"),
];
const SIGNIN_COLS: &[Column] = &[
    ("at", "at"),
    ("user", "userPrincipalName"),
    ("app", "app"),
    ("protocol", "protocol"),
    ("result", "result"),
    ("reason", "reason"),
    ("ip", "ip"),
    ("correlation id", "correlationId"),
];
const TOKEN_COLS: &[Column] = &[
    ("id", "id"),
    ("name", "name"),
    ("tenant", "tenantId"),
    ("created", "createdAt"),
];

#[derive(Debug, Args)]
pub struct TenantArg {
    /// Tenant id, initial domain or verified domain.
    #[arg(long, short, env = "SESAME_TENANT")]
    pub tenant: String,
}

impl TenantArg {
    fn path(&self) -> String {
        format!("/tenants/{}", seg(&self.tenant))
    }
}

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// List tenants.
    List,
    /// Create a tenant.
    Create {
        name: String,
        /// Initial domain [default: <name>.sesame.local].
        #[arg(long)]
        initial_domain: Option<String>,
    },
    /// Show one tenant.
    Show { tenant: String },
    /// Rename a tenant.
    Rename { tenant: String, name: String },
    /// Delete a tenant and everything in it.
    Delete { tenant: String },
}

pub async fn tenant(conn: &Conn, cmd: TenantCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    let o = conn.output;
    match cmd {
        TenantCmd::List => print_list(o, &c.get_all("/tenants").await?, TENANT_COLS),
        TenantCmd::Create {
            name,
            initial_domain,
        } => {
            let t = c
                .post(
                    "/tenants",
                    json!({ "name": name, "initialDomain": initial_domain }),
                )
                .await?;
            print_one(o, &t, TENANT_COLS);
        }
        TenantCmd::Show { tenant } => print_one(
            o,
            &c.get(&format!("/tenants/{}", seg(&tenant))).await?,
            TENANT_COLS,
        ),
        TenantCmd::Rename { tenant, name } => {
            let t = c
                .patch(
                    &format!("/tenants/{}", seg(&tenant)),
                    json!({ "name": name }),
                )
                .await?;
            print_one(o, &t, TENANT_COLS);
        }
        TenantCmd::Delete { tenant } => {
            c.delete(&format!("/tenants/{}", seg(&tenant))).await?;
            print_done(o, &format!("tenant {tenant} deleted"));
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum DomainCmd {
    /// List the tenant's custom domains.
    List(TenantArg),
    /// Add a domain; publish the TXT record it prints, then run `verify`.
    Add {
        #[command(flatten)]
        t: TenantArg,
        name: String,
    },
    /// Check the domain's DNS TXT record and mark it verified.
    Verify {
        #[command(flatten)]
        t: TenantArg,
        name: String,
    },
    /// Show a domain, its verification state and its verification token.
    Show {
        #[command(flatten)]
        t: TenantArg,
        name: String,
    },
    /// Remove a domain from the tenant, with its federation.
    Remove {
        #[command(flatten)]
        t: TenantArg,
        name: String,
    },
    /// Federate a verified domain with its users' SAML identity provider.
    Federate(Box<super::federation::FederateArgs>),
    /// A domain's federation: show, remove.
    #[command(subcommand)]
    Federation(super::federation::FederationCmd),
}

pub async fn domain(conn: &Conn, cmd: DomainCmd) -> anyhow::Result<()> {
    match cmd {
        DomainCmd::Federate(a) => return super::federation::federate(conn, a).await,
        DomainCmd::Federation(f) => return super::federation::run(conn, f).await,
        _ => {}
    }
    let c = conn.client()?;
    let o = conn.output;
    match cmd {
        DomainCmd::List(t) => print_list(
            o,
            &c.get_all(&format!("{}/domains", t.path())).await?,
            DOMAIN_COLS,
        ),
        DomainCmd::Add { t, name } => {
            let d = c
                .post(&format!("{}/domains", t.path()), json!({ "name": name }))
                .await?;
            print_one(o, &d, DOMAIN_COLS);
            if o == super::output::Output::Table {
                let token = d
                    .get("verificationToken")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let name = d.get("name").and_then(Value::as_str).unwrap_or("");
                println!("Publish this DNS record, then run `sesame domain verify {name}`:");
                println!("    {name}. IN TXT \"sesame-verification={token}\"");
            }
        }
        DomainCmd::Verify { t, name } => {
            let d = c
                .post(
                    &format!("{}/domains/{}/verify", t.path(), seg(&name)),
                    json!({}),
                )
                .await?;
            print_one(o, &d, DOMAIN_COLS);
        }
        DomainCmd::Show { t, name } => print_one(
            o,
            &c.get(&format!("{}/domains/{}", t.path(), seg(&name)))
                .await?,
            DOMAIN_COLS,
        ),
        DomainCmd::Remove { t, name } => {
            c.delete(&format!("{}/domains/{}", t.path(), seg(&name)))
                .await?;
            print_done(o, &format!("domain {name} removed"));
        }
        DomainCmd::Federate(_) | DomainCmd::Federation(_) => {}
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct UserFields {
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    given_name: Option<String>,
    #[arg(long)]
    surname: Option<String>,
    #[arg(long)]
    mail: Option<String>,
    #[arg(long)]
    employee_id: Option<String>,
    #[arg(long)]
    immutable_id: Option<String>,
    /// Enable or disable the account.
    #[arg(long)]
    enabled: Option<bool>,
}

impl UserFields {
    fn into_json(self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("displayName", self.display_name.map(Value::from));
        put("givenName", self.given_name.map(Value::from));
        put("surname", self.surname.map(Value::from));
        put("mail", self.mail.map(Value::from));
        put("employeeId", self.employee_id.map(Value::from));
        put("immutableId", self.immutable_id.map(Value::from));
        put("accountEnabled", self.enabled.map(Value::from));
        m
    }
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The password (visible in shell history; prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordArgs {
    fn read(&self) -> anyhow::Result<Option<String>> {
        if self.password_stdin {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the password from stdin")?;
            let p = s.trim_end_matches(['\n', '\r']).to_string();
            if p.is_empty() {
                bail!("no password on standard input");
            }
            return Ok(Some(p));
        }
        Ok(self.password.clone())
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// List the tenant's users.
    List(TenantArg),
    /// Create a user.
    Create {
        #[command(flatten)]
        t: TenantArg,
        user_principal_name: String,
        #[command(flatten)]
        fields: UserFields,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Show a user (id or UPN).
    Show {
        #[command(flatten)]
        t: TenantArg,
        user: String,
    },
    /// Change a user's attributes.
    Update {
        #[command(flatten)]
        t: TenantArg,
        user: String,
        #[arg(long)]
        user_principal_name: Option<String>,
        #[command(flatten)]
        fields: UserFields,
    },
    /// Set a user's password (clears a lockout).
    SetPassword {
        #[command(flatten)]
        t: TenantArg,
        user: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Delete a user; their sessions end and the applications with a SOAP logout endpoint are told.
    Delete {
        #[command(flatten)]
        t: TenantArg,
        user: String,
    },
    /// Import users from a CSV file (header: userPrincipalName,displayName,givenName,surname,mail,employeeId,immutableId,password).
    Import(super::import::ImportArgs),
}

pub async fn user(conn: &Conn, cmd: UserCmd) -> anyhow::Result<()> {
    if let UserCmd::Import(args) = cmd {
        return super::import::run(conn, args).await;
    }
    let c = conn.client()?;
    let o = conn.output;
    match cmd {
        UserCmd::List(t) => print_list(
            o,
            &c.get_all(&format!("{}/users", t.path())).await?,
            USER_COLS,
        ),
        UserCmd::Create {
            t,
            user_principal_name,
            fields,
            password,
        } => {
            let mut body = fields.into_json();
            body.insert("userPrincipalName".into(), Value::from(user_principal_name));
            if let Some(p) = password.read()? {
                body.insert("password".into(), Value::from(p));
            }
            print_one(
                o,
                &c.post(&format!("{}/users", t.path()), Value::Object(body))
                    .await?,
                USER_DETAIL,
            );
        }
        UserCmd::Show { t, user } => print_one(
            o,
            &c.get(&format!("{}/users/{}", t.path(), seg(&user))).await?,
            USER_DETAIL,
        ),
        UserCmd::Update {
            t,
            user,
            user_principal_name,
            fields,
        } => {
            let mut body = fields.into_json();
            if let Some(u) = user_principal_name {
                body.insert("userPrincipalName".into(), Value::from(u));
            }
            let u = c
                .patch(
                    &format!("{}/users/{}", t.path(), seg(&user)),
                    Value::Object(body),
                )
                .await?;
            print_one(o, &u, USER_DETAIL);
        }
        UserCmd::SetPassword { t, user, password } => {
            let Some(p) = password.read()? else {
                bail!("give --password or --password-stdin");
            };
            c.put(
                &format!("{}/users/{}/password", t.path(), seg(&user)),
                json!({ "password": p }),
            )
            .await?;
            print_done(o, &format!("password set for {user}"));
        }
        UserCmd::Delete { t, user } => {
            c.delete(&format!("{}/users/{}", t.path(), seg(&user)))
                .await?;
            print_done(o, &format!("user {user} deleted"));
        }
        UserCmd::Import(_) => {}
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// List the tenant's groups.
    List(TenantArg),
    /// Create a group.
    Create {
        #[command(flatten)]
        t: TenantArg,
        display_name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Show a group.
    Show {
        #[command(flatten)]
        t: TenantArg,
        group: String,
    },
    /// Delete a group: its members stay, the app assignments made through it go.
    Delete {
        #[command(flatten)]
        t: TenantArg,
        group: String,
    },
    /// List a group's members.
    Members {
        #[command(flatten)]
        t: TenantArg,
        group: String,
    },
    /// Add a user (id or UPN) to a group.
    AddMember {
        #[command(flatten)]
        t: TenantArg,
        group: String,
        user: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        #[command(flatten)]
        t: TenantArg,
        group: String,
        user: String,
    },
}

/// The object id of a user given by id or UPN.
async fn user_id(c: &Client, t: &TenantArg, user: &str) -> anyhow::Result<String> {
    let u = c.get(&format!("{}/users/{}", t.path(), seg(user))).await?;
    u.get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .context("the server returned a user without id")
}

pub async fn group(conn: &Conn, cmd: GroupCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    let o = conn.output;
    match cmd {
        GroupCmd::List(t) => print_list(
            o,
            &c.get_all(&format!("{}/groups", t.path())).await?,
            GROUP_COLS,
        ),
        GroupCmd::Create {
            t,
            display_name,
            description,
        } => {
            let g = c
                .post(
                    &format!("{}/groups", t.path()),
                    json!({ "displayName": display_name, "description": description }),
                )
                .await?;
            print_one(o, &g, GROUP_COLS);
        }
        GroupCmd::Show { t, group } => print_one(
            o,
            &c.get(&format!("{}/groups/{}", t.path(), seg(&group)))
                .await?,
            GROUP_COLS,
        ),
        GroupCmd::Delete { t, group } => {
            c.delete(&format!("{}/groups/{}", t.path(), seg(&group)))
                .await?;
            print_done(o, &format!("group {group} deleted"));
        }
        GroupCmd::Members { t, group } => {
            let ids = c
                .get_all(&format!("{}/groups/{}/members", t.path(), seg(&group)))
                .await?;
            let mut users = Vec::with_capacity(ids.len());
            for id in ids.iter().filter_map(Value::as_str) {
                users.push(c.get(&format!("{}/users/{}", t.path(), seg(id))).await?);
            }
            print_list(o, &users, USER_COLS);
        }
        GroupCmd::AddMember { t, group, user } => {
            let id = user_id(&c, &t, &user).await?;
            c.post(
                &format!("{}/groups/{}/members", t.path(), seg(&group)),
                json!({ "userId": id }),
            )
            .await?;
            print_done(o, &format!("{user} added to group {group}"));
        }
        GroupCmd::RemoveMember { t, group, user } => {
            c.delete(&format!(
                "{}/groups/{}/members/{}",
                t.path(),
                seg(&group),
                seg(&user)
            ))
            .await?;
            print_done(o, &format!("{user} removed from group {group}"));
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum AppCmd {
    /// List the tenant's applications.
    List(TenantArg),
    /// Create an application (for SAML, `app saml create`).
    Create {
        #[command(flatten)]
        t: TenantArg,
        name: String,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Show an application.
    Show {
        #[command(flatten)]
        t: TenantArg,
        app: String,
    },
    /// Rename, enable or disable an application.
    Update {
        #[command(flatten)]
        t: TenantArg,
        app: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
    },
    /// Delete an application with its settings, certificates, assignments and provisioning.
    Delete {
        #[command(flatten)]
        t: TenantArg,
        app: String,
    },
    /// Assign the app to a user (id or UPN) or a group (id).
    Assign {
        #[command(flatten)]
        t: TenantArg,
        app: String,
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        user: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        role: Option<String>,
    },
    /// Take the app away from a user (id or UPN) or a group (id).
    Unassign {
        #[command(flatten)]
        t: TenantArg,
        app: String,
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        user: Option<String>,
        #[arg(long)]
        group: Option<String>,
    },
    /// List who the app is assigned to.
    Assignments {
        #[command(flatten)]
        t: TenantArg,
        app: String,
    },
    /// SAML single sign-on: settings, metadata import, signing certificates.
    #[command(subcommand)]
    Saml(super::saml::SamlCmd),
}

pub async fn app(conn: &Conn, cmd: AppCmd) -> anyhow::Result<()> {
    if let AppCmd::Saml(cmd) = cmd {
        return super::saml::run(conn, cmd).await;
    }
    let c = conn.client()?;
    let o = conn.output;
    match cmd {
        AppCmd::List(t) => print_list(
            o,
            &c.get_all(&format!("{}/apps", t.path())).await?,
            APP_COLS,
        ),
        AppCmd::Create { t, name, disabled } => {
            let a = c
                .post(
                    &format!("{}/apps", t.path()),
                    json!({ "name": name, "enabled": !disabled }),
                )
                .await?;
            print_one(o, &a, APP_COLS);
        }
        AppCmd::Show { t, app } => print_one(
            o,
            &c.get(&format!("{}/apps/{}", t.path(), seg(&app))).await?,
            APP_COLS,
        ),
        AppCmd::Update {
            t,
            app,
            name,
            enabled,
        } => {
            let a = c
                .patch(
                    &format!("{}/apps/{}", t.path(), seg(&app)),
                    json!({ "name": name, "enabled": enabled }),
                )
                .await?;
            print_one(o, &a, APP_COLS);
        }
        AppCmd::Delete { t, app } => {
            c.delete(&format!("{}/apps/{}", t.path(), seg(&app)))
                .await?;
            print_done(o, &format!("app {app} deleted"));
        }
        AppCmd::Assign {
            t,
            app,
            user,
            group,
            role,
        } => {
            let (kind, id) = match (user, group) {
                (Some(u), _) => ("user", user_id(&c, &t, &u).await?),
                (None, Some(g)) => ("group", g),
                (None, None) => bail!("give --user or --group"),
            };
            let body = json!({ "principalType": kind, "principalId": id, "appRole": role });
            let a = c
                .post(
                    &format!("{}/apps/{}/assignments", t.path(), seg(&app)),
                    body,
                )
                .await?;
            let mut a = [a];
            if o == super::output::Output::Table {
                name_principals(&c, &t, &mut a).await;
            }
            print_one(o, &a[0], ASSIGN_COLS);
        }
        AppCmd::Unassign {
            t,
            app,
            user,
            group,
        } => {
            let (kind, id) = match (user, group) {
                (Some(u), _) => ("user", user_id(&c, &t, &u).await?),
                (None, Some(g)) => ("group", g),
                (None, None) => bail!("give --user or --group"),
            };
            c.delete(&format!(
                "{}/apps/{}/assignments/{kind}/{}",
                t.path(),
                seg(&app),
                seg(&id)
            ))
            .await?;
            print_done(o, &format!("{kind} {id} unassigned from app {app}"));
        }
        AppCmd::Assignments { t, app } => {
            let mut all = c
                .get_all(&format!("{}/apps/{}/assignments", t.path(), seg(&app)))
                .await?;
            if o == super::output::Output::Table {
                name_principals(&c, &t, &mut all).await;
            }
            print_list(o, &all, ASSIGN_COLS);
        }
        AppCmd::Saml(_) => {}
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct SignInsArgs {
    #[command(flatten)]
    t: TenantArg,
    /// Only this user's attempts (id or UPN).
    #[arg(long)]
    user: Option<String>,
    /// Only sign-ins to this application (id or name).
    #[arg(long)]
    app: Option<String>,
    /// Only sign-ins since: a duration back from now (`30m`, `12h`, `7d`) or an RFC 3339
    /// instant.
    #[arg(long, value_parser = since_instant)]
    since: Option<String>,
    /// success, failure or locked.
    #[arg(long)]
    result: Option<String>,
    #[arg(long)]
    correlation_id: Option<String>,
    /// Newest entries to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

pub async fn signins(conn: &Conn, args: SignInsArgs) -> anyhow::Result<()> {
    let c = conn.client()?;
    let mut query = vec![format!("limit={}", args.limit)];
    if let Some(u) = &args.user {
        query.push(format!("user={}", seg(&user_id(&c, &args.t, u).await?)));
    }
    if let Some(app) = &args.app {
        query.push(format!("app={}", seg(&app_id(&c, &args.t, app).await?)));
    }
    if let Some(r) = &args.result {
        query.push(format!("result={}", seg(r)));
    }
    if let Some(since) = &args.since {
        query.push(format!("since={}", seg(since)));
    }
    if let Some(cid) = &args.correlation_id {
        query.push(format!("correlationId={}", seg(cid)));
    }
    let page = c
        .get(&format!("{}/signins?{}", args.t.path(), query.join("&")))
        .await?;
    let mut items = page
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if conn.output == super::output::Output::Table {
        name_apps(&c, &args.t, &mut items).await;
    }
    print_list(conn.output, &items, SIGNIN_COLS);
    Ok(())
}

/// Gives each assignment its principal's name (`principal`) for the table: a user's UPN, a
/// group's display name; one removed since, or unreadable, keeps only its id.
async fn name_principals(c: &Client, t: &TenantArg, assignments: &mut [Value]) {
    for a in assignments {
        let (Some(kind), Some(id)) = (a["principalType"].as_str(), a["principalId"].as_str())
        else {
            continue;
        };
        let (collection, field) = match kind {
            "user" => ("users", "userPrincipalName"),
            "group" => ("groups", "displayName"),
            _ => continue,
        };
        if let Ok(p) = c
            .get(&format!("{}/{collection}/{}", t.path(), seg(id)))
            .await
        {
            a["principal"] = p[field].clone();
        }
    }
}

/// `--since`: an RFC 3339 instant as it is, or a duration back from now (`45s`, `30m`,
/// `12h`, `7d`) as the instant it reaches.
fn since_instant(given: &str) -> Result<String, String> {
    since_from(given, time::OffsetDateTime::now_utc())
}

fn since_from(given: &str, now: time::OffsetDateTime) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    if time::OffsetDateTime::parse(given, &Rfc3339).is_ok() {
        return Ok(given.to_owned());
    }
    let bad = || format!("{given:?} is neither a duration (30m, 12h, 7d) nor an RFC 3339 instant");
    let (unit_at, unit) = given.char_indices().last().ok_or_else(bad)?;
    let amount: i64 = given[..unit_at].parse().map_err(|_| bad())?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    amount
        .checked_mul(seconds)
        .filter(|s| *s >= 0)
        .and_then(|s| now.checked_sub(time::Duration::seconds(s)))
        .ok_or_else(|| format!("{given:?} reaches back too far"))?
        .format(&Rfc3339)
        .map_err(|e| e.to_string())
}

/// The id of the application `app` names: an id as it is, else the one application of that
/// name (case aside).
async fn app_id(c: &Client, t: &TenantArg, app: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(app).is_ok() {
        return Ok(app.to_owned());
    }
    let apps = c.get_all(&format!("{}/apps", t.path())).await?;
    let named: Vec<&str> = apps
        .iter()
        .filter(|a| {
            a["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(app))
        })
        .filter_map(|a| a["id"].as_str())
        .collect();
    match named[..] {
        [id] => Ok(id.to_owned()),
        [] => bail!("no application is named {app:?}; `sesame app list` shows them"),
        _ => bail!(
            "{} applications are named {app:?}; give the id of one: {}",
            named.len(),
            named.join(", ")
        ),
    }
}

/// Gives each sign-in of an application the application's name (`app`) for the table; an
/// application deleted since, or all when they cannot be listed, keep their ids.
async fn name_apps(c: &Client, t: &TenantArg, items: &mut [Value]) {
    if items.iter().all(|i| i["appId"].is_null()) {
        return;
    }
    let apps = c
        .get_all(&format!("{}/apps", t.path()))
        .await
        .unwrap_or_default();
    let name_of = |id: &str| {
        apps.iter()
            .find(|a| a["id"] == id)
            .and_then(|a| a["name"].as_str())
            .unwrap_or(id)
            .to_owned()
    };
    for item in items {
        if let Some(id) = item["appId"].as_str() {
            item["app"] = Value::from(name_of(id));
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// List admin tokens (never their secrets).
    List,
    /// Create an admin token; the secret is printed once.
    Create {
        name: String,
        /// Limit the token to this tenant (id or domain).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke an admin token.
    Delete { id: String },
}

pub async fn token(conn: &Conn, cmd: TokenCmd) -> anyhow::Result<()> {
    let c = conn.client()?;
    let o = conn.output;
    match cmd {
        TokenCmd::List => print_list(o, &c.get_all("/tokens").await?, TOKEN_COLS),
        TokenCmd::Create { name, tenant } => {
            let tenant_id = match tenant {
                Some(t) => c
                    .get(&format!("/tenants/{}", seg(&t)))
                    .await?
                    .get("id")
                    .cloned(),
                None => None,
            };
            let t = c
                .post("/tokens", json!({ "name": name, "tenantId": tenant_id }))
                .await?;
            let mut cols = TOKEN_COLS.to_vec();
            cols.push(("secret (shown once)", "secret"));
            print_one(o, &t, &cols);
        }
        TokenCmd::Delete { id } => {
            c.delete(&format!("/tokens/{}", seg(&id))).await?;
            print_done(o, &format!("token {id} revoked"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_back_or_an_instant() {
        let now = time::macros::datetime!(2026-11-22 12:00:00 UTC);
        assert_eq!(since_from("30m", now).unwrap(), "2026-11-22T11:30:00Z");
        assert_eq!(since_from("12h", now).unwrap(), "2026-11-22T00:00:00Z");
        assert_eq!(since_from("7d", now).unwrap(), "2026-11-15T12:00:00Z");
        assert_eq!(since_from("45s", now).unwrap(), "2026-11-22T11:59:15Z");
        assert_eq!(
            since_from("2026-11-01T08:00:00+01:00", now).unwrap(),
            "2026-11-01T08:00:00+01:00"
        );
        for bad in [
            "",
            "h",
            "5",
            "5y",
            "-5m",
            "5é",
            "99999999999999999d",
            "yesterday",
        ] {
            assert!(since_from(bad, now).is_err(), "{bad}");
        }
    }
}
