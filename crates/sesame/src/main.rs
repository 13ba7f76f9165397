//! `sesame`: the identity provider's server and its admin command line.

mod cli;
mod client;
mod config;
mod dns;
mod metadata;
mod outbound;
mod scim_transport;
#[cfg(test)]
mod scripted_http;
mod serve;
mod soap_client;

use clap::{Parser, Subcommand};

/// mimalloc: per-thread free lists; the sign-in path allocates many small buffers per Response.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use cli::Conn;
use cli::directory::*;

#[derive(Debug, Parser)]
#[command(
    name = "sesame",
    version,
    about = "Sésame: identity provider and federation hub"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(config::ServeArgs),
    /// Operator commands that work on the store directly.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Tenants.
    Tenant {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: TenantCmd,
    },
    /// Custom domains and their DNS verification.
    Domain {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: DomainCmd,
    },
    /// Users.
    User {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Groups and members.
    Group {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: GroupCmd,
    },
    /// Enterprise applications and assignments.
    App {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: AppCmd,
    },
    /// The sign-in log of a tenant, newest first.
    Signins {
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        args: SignInsArgs,
    },
    /// Admin API tokens.
    Token {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Outbound SCIM provisioning of an application.
    Provision {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: cli::provision::ProvisionCmd,
    },
    /// B2B guests: invitations and the direct federations they sign in through.
    Guest {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: cli::guests::GuestCmd,
    },
    /// SAML tools: `inspect` runs the ACS's rules on a federated IdP's Response (OPS-3).
    Saml {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: cli::inspect::SamlToolCmd,
    },
    /// The tenant's SCIM 2.0 server: bearer tokens.
    Scim {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: cli::scim::ScimCmd,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCmd {
    /// Create a global admin token directly in the store and print it (recovery, automation).
    Bootstrap {
        #[command(flatten)]
        serve: config::ServeArgs,
        /// Name of the token.
        #[arg(long, default_value = "bootstrap")]
        name: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line: the message and its causes, no backtrace.
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Admin(AdminCmd::Bootstrap { serve: args, name }) => {
            let config = config::Config::resolve(&args)?;
            let core = serve::open_core(&config).await?;
            let created = core.create_admin_token(&name, None).await?;
            println!("{}", created.secret);
            Ok(())
        }
        Command::Tenant { conn, cmd } => tenant(&conn, cmd).await,
        Command::Domain { conn, cmd } => domain(&conn, cmd).await,
        Command::User { conn, cmd } => user(&conn, cmd).await,
        Command::Group { conn, cmd } => group(&conn, cmd).await,
        Command::App { conn, cmd } => app(&conn, cmd).await,
        Command::Signins { conn, args } => signins(&conn, args).await,
        Command::Token { conn, cmd } => token(&conn, cmd).await,
        Command::Scim { conn, cmd } => cli::scim::scim(&conn, cmd).await,
        Command::Provision { conn, cmd } => cli::provision::provision(&conn, cmd).await,
        Command::Guest { conn, cmd } => cli::guests::run(&conn, cmd).await,
        Command::Saml { conn, cmd } => cli::inspect::run(&conn, cmd).await,
    }
}

#[cfg(test)]
mod cli_tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command says in `--help` what it does: a list of bare names leaves people to
    /// guess.
    #[test]
    fn every_command_has_a_help_line() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                let here = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(here.clone());
                }
                walk(sub, &here, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "sesame", &mut missing);
        assert!(missing.is_empty(), "commands without help: {missing:?}");
    }
}
