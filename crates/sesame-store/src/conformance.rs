//! The conformance suite every `Store` backend must pass (feature `conformance`).
//!
//! Each case is a plain `pub async fn case(store: &dyn Store)` that starts from an empty store;
//! [`conformance_tests!`] turns the whole list into one `#[tokio::test]` per case:
//!
//! ```ignore
//! async fn fresh() -> std::sync::Arc<dyn sesame_store::Store> { /* a new, empty store */ }
//! sesame_store::conformance_tests!(fresh());
//! ```
//!
//! The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.
//!
//! Contract details pinned down here rather than in the trait docs:
//! - Times are stored exactly: an `OffsetDateTime` reads back equal to the nanosecond (equality
//!   of `OffsetDateTime` compares instants, so a backend may return it in UTC).
//! - Pages are keyset pages ordered by id (ids are UUIDv7, so creation order); `next` is `None`
//!   exactly when no item follows, a `limit` of 0 means the default and no page exceeds
//!   `PageRequest::MAX_LIMIT`. The sign-in log is ordered newest first.
//! - Updates cannot change a record's id or tenant, and the store (not the closure) sets the
//!   new `version`: the stored version plus one.
//! - `list_members` and `list_assignments` answer NotFound for a group/app outside the tenant;
//!   `list_user_groups` and `list_principal_assignments` answer an empty list.
//!
//! Panicking is how a case reports failure, so `unwrap` is allowed in this module.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod directory;
mod federation;
mod groups;
mod provisioning;
mod saml;
mod scim;
mod security;
mod users;

pub use directory::*;
pub use federation::*;
pub use groups::*;
pub use provisioning::*;
pub use saml::*;
pub use scim::*;
pub use security::*;
pub use users::*;

use crate::{Store, StoreError};
use sesame_model::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;
use uuid::Uuid;

/// Expands to one `#[tokio::test]` per conformance case; `$factory` is an expression evaluated
/// anew for each case, a future yielding a fresh empty store: an `Arc<dyn Store>`, or an
/// `Option<Arc<dyn Store>>` whose `None` skips the case (a backend that is not configured; the
/// factory says why).
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::__conformance_cases!(
            $factory;
            // tenants and domains
            tenant_create_get,
            tenant_duplicate_id_conflict,
            tenant_initial_domain_conflict,
            tenant_get_missing_not_found,
            tenant_update_closure,
            tenant_update_aborted_leaves_unchanged,
            tenant_update_missing_not_found,
            tenant_delete_and_not_found,
            tenant_delete_cascades_everything,
            tenant_list_pagination,
            domain_add_get_list,
            domain_duplicate_conflict,
            domain_add_missing_tenant_not_found,
            domain_other_tenants_initial_domain_conflict,
            domain_verified_elsewhere_cannot_be_added,
            domain_cannot_be_verified_in_second_tenant,
            domain_unverified_in_two_tenants_allowed,
            domain_update_and_delete,
            domain_missing_not_found,
            find_tenant_by_initial_and_verified_domain,
            find_tenant_by_domain_ignores_unverified,
            isolation_tenant_scoped_directory,
            // users and credentials
            user_create_get_round_trip,
            user_duplicate_id_conflict,
            user_upn_unique_case_insensitive,
            user_same_upn_in_two_tenants,
            user_immutable_id_unique,
            users_found_by_prefix,
            user_find_by_upn_and_immutable_id,
            user_create_in_missing_tenant_not_found,
            user_get_missing_not_found,
            user_update_bumps_version,
            user_update_aborted_leaves_unchanged,
            user_update_upn_conflict_leaves_unchanged,
            user_update_keeps_identity,
            user_delete_and_not_found,
            user_delete_cascades,
            user_list_pagination,
            user_count,
            user_concurrent_updates_no_lost_writes,
            password_put_get_replace,
            password_not_found_sentinels,
            password_concurrent_updates_no_lost_writes,
            isolation_users_and_passwords,
            // groups and applications
            group_crud,
            group_display_name_unique_case_insensitive,
            group_not_found_sentinels,
            group_update_aborted_and_conflict,
            group_members,
            group_member_sentinels,
            group_members_pagination,
            group_delete_removes_memberships_and_assignments,
            app_crud,
            app_not_found_sentinels,
            app_list_pagination,
            assignments_to_users_and_groups,
            assignment_sentinels,
            user_app_roles_direct_and_through_groups,
            isolation_groups_and_apps,
            // SAML applications
            app_saml_settings_round_trip,
            app_certificates_add_list_activate_delete,
            app_certificate_sentinels_and_isolation,
            app_delete_removes_certificates,
            session_participants_recorded_and_cascaded,
            participant_sessions_found_by_name_id,
            sso_writes_concurrent_callers,
            tenant_certificate_once_per_tenant,
            // sessions, sign-in log, admin tokens, misc
            session_create_get_delete,
            session_sentinels,
            session_read_with_its_user,
            session_delete_user_sessions,
            session_purge_expired,
            sign_in_newest_first,
            sign_in_filters,
            sign_in_pagination,
            sign_in_isolation_and_missing_tenant,
            admin_token_crud,
            admin_token_conflicts,
            admin_token_removed_with_its_tenant,
            // SCIM tokens and SCIM fields of users
            scim_token_crud,
            scim_token_conflicts_and_cascade,
            user_scim_fields_round_trip,
            group_scim_attributes,
            // federation with external SAML IdPs
            federation_put_get_list_delete,
            federation_requires_verified_domain_and_isolation,
            replay_cache_refuses_second_use,
            replay_cache_concurrent_writers,
            authn_requests_taken_once,
            // outbound provisioning
            provisioning_job_crud,
            provisioned_objects_and_log,
            change_log_records_directory_writes,
            federation_lookups_are_read_only,
            direct_federation_limits,
            guest_invitations_bind_once,
            federation_update_never_creates,
            times_round_trip_exactly,
            unicode_round_trips,
            page_limits_default_and_max,
            ping_and_backend_name,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fresh = $crate::conformance::IntoFresh::into_fresh($factory.await);
                let Some(store) = fresh else { return };
                $crate::conformance::$case(&*store).await;
            }
        )*
    };
}

/// What a conformance factory may yield; `None` skips the case.
pub trait IntoFresh {
    fn into_fresh(self) -> Option<Arc<dyn Store>>;
}

impl IntoFresh for Arc<dyn Store> {
    fn into_fresh(self) -> Option<Arc<dyn Store>> {
        Some(self)
    }
}

impl IntoFresh for Option<Arc<dyn Store>> {
    fn into_fresh(self) -> Option<Arc<dyn Store>> {
        self
    }
}

// ---- fixtures -------------------------------------------------------------------------------

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A UUIDv7 strictly greater than every id this process made before, so creation order is id
/// order even within one millisecond.
pub fn seq_id() -> Uuid {
    let ms = u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap();
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&n.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

/// The current time; deliberately with nanoseconds, which a backend must keep.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn tenant_fixture(name: &str) -> Tenant {
    let id = seq_id();
    Tenant {
        id: TenantId(id),
        name: name.to_owned(),
        initial_domain: format!("t{}.sesame.test", id.simple()),
        created_at: now(),
    }
}

pub async fn new_tenant(store: &dyn Store, name: &str) -> Tenant {
    let t = tenant_fixture(name);
    store.create_tenant(&t).await.unwrap();
    t
}

pub fn user_fixture(tenant: &Tenant, upn: &str) -> User {
    User::new(UserId(seq_id()), tenant.id, upn.to_owned(), now())
}

pub async fn new_user(store: &dyn Store, tenant: &Tenant, upn: &str) -> User {
    let u = user_fixture(tenant, upn);
    store.create_user(&u).await.unwrap();
    u
}

pub fn group_fixture(tenant: &Tenant, name: &str) -> Group {
    Group {
        id: GroupId(seq_id()),
        tenant_id: tenant.id,
        display_name: name.to_owned(),
        description: None,
        version: 1,
        created_at: now(),
    }
}

pub async fn new_group(store: &dyn Store, tenant: &Tenant, name: &str) -> Group {
    let g = group_fixture(tenant, name);
    store.create_group(&g).await.unwrap();
    g
}

pub fn app_fixture(tenant: &Tenant, name: &str) -> Application {
    Application {
        id: AppId(seq_id()),
        tenant_id: tenant.id,
        name: name.to_owned(),
        enabled: true,
        saml: None,
        version: 1,
        created_at: now(),
    }
}

pub async fn new_app(store: &dyn Store, tenant: &Tenant, name: &str) -> Application {
    let a = app_fixture(tenant, name);
    store.create_app(&a).await.unwrap();
    a
}

pub fn domain_fixture(tenant: &Tenant, name: &str, status: DomainStatus) -> Domain {
    Domain {
        tenant_id: tenant.id,
        name: name.to_owned(),
        status,
        verification_token: format!("tok-{}", seq_id().simple()),
        created_at: now(),
        verified_at: (status != DomainStatus::Unverified).then(now),
    }
}

pub fn password_fixture(user: &User) -> PasswordCredential {
    PasswordCredential {
        tenant_id: user.tenant_id,
        user_id: user.id,
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        failed_attempts: 0,
        locked_until: None,
        updated_at: now(),
    }
}

pub fn session_fixture(user: &User, expires_at: OffsetDateTime) -> Session {
    Session {
        id_digest: format!("{:064x}", seq_id().as_u128()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        authenticated_at: now(),
        expires_at,
    }
}

pub fn sign_in_fixture(tenant: &Tenant, user: Option<&User>, result: SignInResult) -> SignInEvent {
    SignInEvent {
        id: SignInId(seq_id()),
        tenant_id: tenant.id,
        at: now(),
        user_id: user.map(|u| u.id),
        user_principal_name: user.map_or("nobody@x.test".to_owned(), |u| {
            u.user_principal_name.clone()
        }),
        app_id: None,
        protocol: "password".to_owned(),
        result,
        reason: (result != SignInResult::Success).then(|| "SESAME-1001".to_owned()),
        ip: Some("127.0.0.1".to_owned()),
        correlation_id: seq_id().to_string(),
    }
}

pub fn admin_token_fixture(name: &str, tenant: Option<&Tenant>) -> AdminToken {
    AdminToken {
        id: AdminTokenId(seq_id()),
        name: name.to_owned(),
        tenant_id: tenant.map(|t| t.id),
        digest: format!("{:064x}", seq_id().as_u128()),
        created_at: now(),
    }
}

pub fn page(limit: u32, after: Option<String>) -> PageRequest {
    PageRequest { limit, after }
}

/// Reads every page of a keyset listing with a small limit, checking the page invariants.
pub async fn collect_pages<T, F, Fut>(limit: u32, mut fetch: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = crate::StoreResult<Page<T>>>,
{
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..10_000 {
        let p = fetch(page(limit, after.clone())).await.unwrap();
        assert!(
            p.items.len() <= limit as usize,
            "page larger than its limit"
        );
        match p.next {
            Some(next) => {
                assert_eq!(
                    p.items.len(),
                    limit as usize,
                    "short page with a next cursor"
                );
                all.extend(p.items);
                after = Some(next);
            }
            None => {
                all.extend(p.items);
                return all;
            }
        }
    }
    panic!("pagination never ended");
}

/// Asserts that `result` is the error `expected` (compared by variant and text).
#[track_caller]
pub fn assert_err<T: std::fmt::Debug>(result: crate::StoreResult<T>, expected: StoreError) {
    match result {
        Err(e)
            if std::mem::discriminant(&e) == std::mem::discriminant(&expected)
                && e.to_string() == expected.to_string() => {}
        other => panic!("expected Err({expected:?}), got {other:?}"),
    }
}

/// Asserts a NotFound of any kind (the exact noun is the backend's choice in a few places).
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: crate::StoreResult<T>) {
    match result {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}
