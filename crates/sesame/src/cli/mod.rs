//! Admin CLI subcommands: each calls the admin API and prints a table or JSON.

pub mod directory;
pub mod federation;
pub mod guests;
pub mod import;
pub mod inspect;
pub mod output;
pub mod provision;
pub mod saml;
pub mod scim;

use clap::Args;

/// How to reach the server, shared by every API subcommand.
#[derive(Debug, Clone, Args)]
pub struct Conn {
    /// Sésame's base URL.
    #[arg(
        long,
        env = "SESAME_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// Admin token.
    #[arg(long, env = "SESAME_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table", global = true)]
    pub output: output::Output,
}

impl Conn {
    pub fn client(&self) -> anyhow::Result<crate::client::Client> {
        crate::client::Client::new(&self.server, self.token.clone())
    }
}
