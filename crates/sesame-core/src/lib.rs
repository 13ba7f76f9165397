//! The identity provider's logic: tenants and their domains, the directory, passwords and
//! lockout, SSO sessions, sign-in and its log, admin tokens.
//!
//! `sesame-core` does no HTTP and no SQL. Side effects go through the `Store`, a [`Clock`], and
//! small connector traits the binary provides (such as [`TxtResolver`] for DNS). Everything
//! here can be unit-tested with an in-memory SQLite store and a fixed clock.

mod admin;
mod apps;
pub mod claims;
mod clock;
mod config_cache;
mod directory;
mod error;
pub mod federation;
pub mod federation_acs;
pub mod federation_inspect;
mod groups;
pub mod guests;
mod idp_metadata;
mod inputs;
pub mod keys;
pub mod metadata_refresh;
mod password;
pub mod portal;
pub mod provisioning;
mod saml_apps;
pub mod scim;
pub mod secrets;
mod signin;
pub mod slo;
pub mod sso;
mod users;

use sesame_model::TenantId;
use sesame_store::Store;
use std::sync::Arc;

pub use admin::{AdminScope, NewAdminToken};
pub use clock::{Clock, FixedClock, SystemClock};
pub use directory::{TxtResolver, VERIFICATION_PREFIX};
pub use error::{CoreError, CoreResult};
pub use inputs::*;
pub use password::PasswordHasher;
pub use saml_apps::{RELAY_STATE_MAX, saml_settings_from_metadata, validate_saml_settings};
pub use signin::{LockoutPolicy, SignInAttempt, SignInFailure, SignInOutcome, SignedIn};

/// Settings of the core that operators may change.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    pub lockout: LockoutPolicy,
    /// How long an SSO session lasts after sign-in.
    pub session_lifetime: time::Duration,
    /// The external base URL (no trailing slash): issuer and endpoint URLs derive from it.
    pub public_url: String,
    pub provisioning: provisioning::ProvisioningSettings,
    /// Hosts a direct federation's passive logon URL may use outside the partner's domain
    /// (SAML-SP-5; subdomains included).
    pub direct_federation_hosts: Vec<String>,
    /// Federations per tenant, domain and direct together (SAML-SP-5).
    pub max_federations: u32,
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            lockout: LockoutPolicy::default(),
            session_lifetime: time::Duration::hours(12),
            public_url: "http://127.0.0.1:8080".to_string(),
            provisioning: provisioning::ProvisioningSettings::default(),
            direct_federation_hosts: guests::DEFAULT_DIRECT_FEDERATION_HOSTS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            max_federations: sesame_model::MAX_FEDERATIONS_PER_TENANT,
        }
    }
}

/// The identity provider. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Core {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    dns: Arc<dyn TxtResolver>,
    passwords: PasswordHasher,
    settings: CoreSettings,
    /// Keeps ids generated within one millisecond in generation order (UUIDv7 counter).
    ids: Arc<std::sync::Mutex<uuid::ContextV7>>,
    master_key: Option<Arc<keys::MasterKey>>,
    key_cache: Arc<saml_apps::KeyCache>,
    /// Tenants, apps and active signing keys read on every sign-in (see `config_cache`).
    config: Arc<config_cache::ConfigCache>,
    /// Outbound SCIM requests (provisioning); the binary provides HTTP.
    scim_transport: Option<Arc<dyn provisioning::ScimTransport>>,
    /// Single Logout's back channel (SOAP calls to applications); the binary provides HTTP.
    soap_client: Option<Arc<dyn slo::SoapClient>>,
    /// This process, as the holder of provisioning leases.
    node_id: uuid::Uuid,
    /// Apps whose provisioning cycle runs in this process.
    running_cycles: Arc<std::sync::Mutex<std::collections::HashSet<sesame_model::AppId>>>,
}

impl Core {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        dns: Arc<dyn TxtResolver>,
        passwords: PasswordHasher,
        settings: CoreSettings,
    ) -> Self {
        Core {
            store,
            clock,
            dns,
            passwords,
            settings,
            ids: Arc::new(std::sync::Mutex::new(uuid::ContextV7::new())),
            master_key: None,
            key_cache: Arc::default(),
            config: Arc::default(),
            scim_transport: None,
            soap_client: None,
            node_id: uuid::Uuid::new_v4(),
            running_cycles: Arc::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    /// A fresh, time-ordered object id (UUIDv7 from the core's clock), monotonic per process.
    fn new_uuid(&self) -> uuid::Uuid {
        let now = self.clock.now();
        let nanos = now.unix_timestamp_nanos();
        let secs = u64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(0);
        let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
        uuid::Uuid::new_v7(uuid::Timestamp::from_unix(&*self.ids, secs, sub))
    }

    /// Checks that `tenant` exists, so that later writes report `tenant` NotFound clearly.
    async fn require_tenant(&self, tenant: TenantId) -> CoreResult<()> {
        self.store.get_tenant(tenant).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
