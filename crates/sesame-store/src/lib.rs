//! The storage contract of Sésame.
//!
//! One `Store` made of role traits, one per aggregate (tenants, domains, users, credentials,
//! groups, applications, sessions, sign-in log, admin tokens). Every tenant-scoped method takes a
//! `TenantId`, so a cross-tenant read cannot be written. Updates are read-modify-write closures
//! that the backend runs inside one transaction, so concurrent updates never lose a write.
//! This crate holds no SQL and performs no I/O; `sesame-store-sql` implements it, and
//! [`conformance`] (feature `conformance`) is the suite every backend must pass.

use async_trait::async_trait;
use sesame_model::*;
use time::OffsetDateTime;

#[cfg(feature = "conformance")]
pub mod conformance;
mod federation;
mod provisioning;
mod scim;

pub use federation::FederationStore;
pub use provisioning::ProvisioningStore;
pub use scim::{ScimGroupStore, ScimTokenStore};

/// A record kind or uniqueness rule (`app_certificate`, `user.upn`) as people read it in an
/// error message ("signing certificate not found", "a user with this userPrincipalName
/// already exists"); the identifiers themselves stay what callers match on.
pub fn in_words(what: &'static str) -> &'static str {
    match what {
        "admin_token" => "admin token",
        "app" => "application",
        "app.id" => "an application with this id",
        "app_certificate" => "signing certificate",
        "assertion" => "assertion ID",
        "authn_request" => "AuthnRequest",
        "domain.name" => "a domain with this name",
        "group.display_name" => "a group with this displayName",
        "group.id" => "a group with this id",
        "group.member" => "group member",
        "guest_invitation" => "guest invitation",
        "scim_token" => "SCIM token",
        "sign_in.id" => "a sign-in with this id",
        "saml settings" => "SAML settings",
        "tenant.id" => "a tenant with this id",
        "tenant.initial_domain" => "a tenant with this initial domain",
        "tenant_certificate" => "tenant signing key",
        "user.id" => "a user with this id",
        "user.immutable_id" => "a user with this immutableId",
        "user.upn" => "a user with this userPrincipalName",
        other => other,
    }
}

/// The sentinels are part of the contract: callers match on them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist in this tenant.
    #[error("{} not found", in_words(.0))]
    NotFound(&'static str),
    /// A uniqueness rule was violated; the text names the rule (e.g. `user.upn`).
    #[error("{} already exists", in_words(.0))]
    Conflict(&'static str),
    /// An update closure refused the change; nothing was written.
    #[error("update refused: {0}")]
    Aborted(String),
    /// The backend failed (I/O, connection, corrupt row). Never shown to users verbatim.
    #[error("storage backend error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The user fields with a prefix index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLookup {
    UserPrincipalName,
    DisplayName,
}

/// What [`SessionStore::delete_user_sessions`] or [`UserStore::delete_user`] ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndedSessions {
    pub sessions: u64,
    /// The applications reached in those sessions, with what each was issued.
    pub participants: Vec<SessionParticipant>,
}

/// A read-modify-write step run inside the backend's transaction.
pub type Update<'a, T> = Box<dyn FnOnce(&mut T) -> StoreResult<()> + Send + 'a>;

#[async_trait]
pub trait TenantStore {
    /// Conflict `tenant.id` or `tenant.initial_domain`.
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    async fn get_tenant(&self, id: TenantId) -> StoreResult<Tenant>;
    /// The tenant whose initial domain, or verified/federated domain, is `domain` (lower-case).
    async fn find_tenant_by_domain(&self, domain: &str) -> StoreResult<Tenant>;
    async fn list_tenants(&self, page: &PageRequest) -> StoreResult<Page<Tenant>>;
    async fn update_tenant(&self, id: TenantId, update: Update<'_, Tenant>) -> StoreResult<Tenant>;
    /// Deletes the tenant and everything it owns.
    async fn delete_tenant(&self, id: TenantId) -> StoreResult<()>;
}

#[async_trait]
pub trait DomainStore {
    /// Conflict `domain.name` when the tenant has it, or when another tenant has it verified
    /// or federated, or when it is a tenant's initial domain.
    async fn add_domain(&self, domain: &Domain) -> StoreResult<()>;
    async fn get_domain(&self, tenant: TenantId, name: &str) -> StoreResult<Domain>;
    async fn list_domains(&self, tenant: TenantId) -> StoreResult<Vec<Domain>>;
    /// Conflict `domain.name` when the change would verify a name another tenant has verified.
    async fn update_domain(
        &self,
        tenant: TenantId,
        name: &str,
        update: Update<'_, Domain>,
    ) -> StoreResult<Domain>;
    async fn delete_domain(&self, tenant: TenantId, name: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait UserStore {
    /// Conflict `user.upn` (case-insensitive, per tenant), `user.immutable_id` or `user.id`.
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, tenant: TenantId, id: UserId) -> StoreResult<User>;
    /// `upn` is compared case-insensitively.
    async fn find_user_by_upn(&self, tenant: TenantId, upn: &str) -> StoreResult<User>;
    async fn find_user_by_immutable_id(
        &self,
        tenant: TenantId,
        immutable_id: &str,
    ) -> StoreResult<User>;
    async fn list_users(&self, tenant: TenantId, page: &PageRequest) -> StoreResult<Page<User>>;
    /// Users whose `field`, compared case-insensitively (Unicode lower case), starts with
    /// `prefix`: at most `limit`, ordered by that field then id. Served by an index.
    async fn find_users_by_prefix(
        &self,
        tenant: TenantId,
        field: UserLookup,
        prefix: &str,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
    async fn count_users(&self, tenant: TenantId) -> StoreResult<u64>;
    /// Runs `update` on the stored user in a transaction, bumps `version`, and returns the result.
    async fn update_user(
        &self,
        tenant: TenantId,
        id: UserId,
        update: Update<'_, User>,
    ) -> StoreResult<User>;
    /// Deletes the user with its credential, sessions, memberships and assignments, in one
    /// transaction: the sessions it ended and the applications reached in them (as
    /// [`SessionStore::delete_user_sessions`]), read under the same lock as the delete, so
    /// that no session created meanwhile goes untold. NotFound `user`.
    async fn delete_user(&self, tenant: TenantId, id: UserId) -> StoreResult<EndedSessions>;
}

#[async_trait]
pub trait CredentialStore {
    /// NotFound `password` when the user has no local password.
    async fn get_password(&self, tenant: TenantId, user: UserId)
    -> StoreResult<PasswordCredential>;
    /// Creates or replaces the user's password credential. NotFound `user` if no such user.
    async fn put_password(&self, credential: &PasswordCredential) -> StoreResult<()>;
    async fn update_password(
        &self,
        tenant: TenantId,
        user: UserId,
        update: Update<'_, PasswordCredential>,
    ) -> StoreResult<PasswordCredential>;
}

#[async_trait]
pub trait GroupStore {
    /// Conflict `group.display_name` (case-insensitive, per tenant) or `group.id`.
    async fn create_group(&self, group: &Group) -> StoreResult<()>;
    async fn get_group(&self, tenant: TenantId, id: GroupId) -> StoreResult<Group>;
    async fn list_groups(&self, tenant: TenantId, page: &PageRequest) -> StoreResult<Page<Group>>;
    async fn update_group(
        &self,
        tenant: TenantId,
        id: GroupId,
        update: Update<'_, Group>,
    ) -> StoreResult<Group>;
    async fn delete_group(&self, tenant: TenantId, id: GroupId) -> StoreResult<()>;
    /// NotFound `group` / `user`; Conflict `group.member` if already a member.
    async fn add_member(&self, tenant: TenantId, group: GroupId, user: UserId) -> StoreResult<()>;
    /// NotFound `group.member` if the user is not a member.
    async fn remove_member(
        &self,
        tenant: TenantId,
        group: GroupId,
        user: UserId,
    ) -> StoreResult<()>;
    async fn list_members(
        &self,
        tenant: TenantId,
        group: GroupId,
        page: &PageRequest,
    ) -> StoreResult<Page<UserId>>;
    async fn list_user_groups(&self, tenant: TenantId, user: UserId) -> StoreResult<Vec<GroupId>>;
}

#[async_trait]
pub trait AppStore {
    /// Conflict `app.id`.
    async fn create_app(&self, app: &Application) -> StoreResult<()>;
    async fn get_app(&self, tenant: TenantId, id: AppId) -> StoreResult<Application>;
    async fn list_apps(
        &self,
        tenant: TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<Application>>;
    async fn update_app(
        &self,
        tenant: TenantId,
        id: AppId,
        update: Update<'_, Application>,
    ) -> StoreResult<Application>;
    async fn delete_app(&self, tenant: TenantId, id: AppId) -> StoreResult<()>;
    /// NotFound `app` / `user` / `group`; Conflict `assignment` if the principal already has it.
    async fn assign(&self, assignment: &Assignment) -> StoreResult<()>;
    /// NotFound `assignment`.
    async fn unassign(&self, tenant: TenantId, app: AppId, principal: Principal)
    -> StoreResult<()>;
    async fn list_assignments(&self, tenant: TenantId, app: AppId) -> StoreResult<Vec<Assignment>>;
    /// The assignments that give `user` access to `app` (made to the user or to one of the
    /// user's groups), as their app roles (`None` for an assignment without one): empty when
    /// the user is not assigned, or when the app or the user is not in the tenant. One read,
    /// whatever the number of assignments of the app (the check of every sign-in).
    async fn user_app_roles(
        &self,
        tenant: TenantId,
        app: AppId,
        user: UserId,
    ) -> StoreResult<Vec<Option<String>>>;
    /// Assignments of one principal, across the tenant's applications.
    async fn list_principal_assignments(
        &self,
        tenant: TenantId,
        principal: Principal,
    ) -> StoreResult<Vec<Assignment>>;
}

/// SAML signing certificates of applications (several published, one active).
#[async_trait]
pub trait AppCertificateStore {
    /// NotFound `app`; Conflict `app_certificate` on a duplicate id.
    async fn add_app_certificate(&self, cert: &AppCertificate) -> StoreResult<()>;
    /// Oldest first.
    async fn list_app_certificates(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> StoreResult<Vec<AppCertificate>>;
    /// Makes `id` the only active certificate of the app, atomically. NotFound `app_certificate`.
    async fn activate_app_certificate(
        &self,
        tenant: TenantId,
        app: AppId,
        id: uuid::Uuid,
    ) -> StoreResult<()>;
    /// NotFound `app_certificate`.
    async fn delete_app_certificate(
        &self,
        tenant: TenantId,
        app: AppId,
        id: uuid::Uuid,
    ) -> StoreResult<()>;
}

/// The tenant's own signing certificate (one per tenant).
#[async_trait]
pub trait TenantKeyStore {
    /// NotFound `tenant_certificate` when the tenant has none yet.
    async fn get_tenant_certificate(&self, tenant: TenantId) -> StoreResult<TenantCertificate>;
    /// Conflict `tenant_certificate` when the tenant already has one (another node won the
    /// race); NotFound `tenant` when the tenant does not exist.
    async fn create_tenant_certificate(&self, cert: &TenantCertificate) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionStore {
    /// Conflict `session` if the digest exists.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// NotFound `session` if absent (expiry is the caller's check).
    async fn get_session(&self, tenant: TenantId, id_digest: &str) -> StoreResult<Session>;
    /// The session and its user in one read (the check of every signed-in request).
    /// NotFound `session` if absent (expiry and the user's state are the caller's checks).
    async fn get_session_with_user(
        &self,
        tenant: TenantId,
        id_digest: &str,
    ) -> StoreResult<(Session, User)>;
    /// NotFound `session` if absent.
    async fn delete_session(&self, tenant: TenantId, id_digest: &str) -> StoreResult<()>;
    /// Ends every session of the user, in one transaction: how many, and the applications
    /// reached in them (oldest first), which may still hold sessions of their own.
    async fn delete_user_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> StoreResult<EndedSessions>;
    /// Records (or refreshes) an application reached in the session. NotFound `session` / `app`.
    async fn add_session_participant(
        &self,
        tenant: TenantId,
        id_digest: &str,
        participant: &SessionParticipant,
    ) -> StoreResult<()>;
    /// The application's participation in the session (the NameID and SessionIndex its last
    /// Response carried), if it has had one (read before each Response: an unchanged
    /// participant keeps its SessionIndex and is not written again).
    async fn get_session_participant(
        &self,
        tenant: TenantId,
        id_digest: &str,
        app: AppId,
    ) -> StoreResult<Option<SessionParticipant>>;
    /// The applications reached in the session, oldest first (empty when none or no session).
    async fn list_session_participants(
        &self,
        tenant: TenantId,
        id_digest: &str,
    ) -> StoreResult<Vec<SessionParticipant>>;
    /// The sessions (their id digests) unexpired at `now` in which `app` received `name_id` —
    /// with `session_index` when given — oldest first: the sessions a LogoutRequest names
    /// (SAML core §3.7.3.2), found without the browser's cookie.
    async fn find_participant_sessions(
        &self,
        tenant: TenantId,
        app: AppId,
        name_id: &str,
        session_index: Option<&str>,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<String>>;
    /// Removes sessions that expired before `now`, across tenants (housekeeping).
    async fn purge_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait SignInLog {
    async fn append_sign_in(&self, event: &SignInEvent) -> StoreResult<()>;
    /// Newest first; the cursor is the id of the last event of the previous page.
    async fn list_sign_ins(
        &self,
        tenant: TenantId,
        query: &SignInQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<SignInEvent>>;
}

#[async_trait]
pub trait AdminTokenStore {
    /// Conflict `admin_token` on a duplicate id or digest.
    async fn create_admin_token(&self, token: &AdminToken) -> StoreResult<()>;
    async fn find_admin_token(&self, digest: &str) -> StoreResult<AdminToken>;
    async fn list_admin_tokens(&self) -> StoreResult<Vec<AdminToken>>;
    async fn delete_admin_token(&self, id: AdminTokenId) -> StoreResult<()>;
    async fn count_admin_tokens(&self) -> StoreResult<u64>;
}

/// Everything Sésame keeps. Backends implement the role traits; this trait adds health.
#[async_trait]
pub trait Store:
    TenantStore
    + DomainStore
    + UserStore
    + CredentialStore
    + GroupStore
    + AppStore
    + AppCertificateStore
    + TenantKeyStore
    + SessionStore
    + SignInLog
    + AdminTokenStore
    + ScimTokenStore
    + ScimGroupStore
    + FederationStore
    + ProvisioningStore
    + Send
    + Sync
{
    /// Ok when the backend answers a trivial query (readiness).
    async fn ping(&self) -> StoreResult<()>;
    /// `sqlite` or `postgres`, for logs and metrics.
    fn backend_name(&self) -> &'static str;
}
