//! The role-trait implementations, written once for both backends.
//!
//! Both backends speak the same SQL (positional `$n` parameters, portable column types), so
//! each aggregate is a macro expanded for `SqliteStore` and `PostgresStore`. What differs is
//! supplied by the store type: `r()` (pool for reads), `w()` (pool for single-statement
//! writes), `tx()` (a write transaction: `BEGIN IMMEDIATE` on SQLite), `lock_names()`
//! (serializes domain-name claims on PostgreSQL), the `for_update` suffix that locks the
//! row an update closure reads (` FOR UPDATE` on PostgreSQL; SQLite's writer lock suffices),
//! and the writes of every sign-in that SQLite group-commits (`insert_replay`,
//! `upsert_participant`, `insert_sign_in`: see `group_commit.rs`).

/// The reads of every sign-in, shared by the sqlx implementations and SQLite's inline path
/// (`inline_reads.rs`). Both unique indexes (app_id, user_id) and (app_id, group_id) serve
/// the second. rusqlite binds by position: each `$n` must first appear in order `$1, $2, $3`
/// (SQLite numbers named parameters by first appearance).
pub(crate) const SESSION_WITH_USER_SQL: &str = "SELECT s.id_digest, s.tenant_id, s.user_id, \
     s.authenticated_ns, s.expires_ns, u.data FROM sessions s JOIN users u \
     ON u.id = s.user_id AND u.tenant_id = s.tenant_id \
     WHERE s.tenant_id = $1 AND s.id_digest = $2";
pub(crate) const SESSION_PARTICIPANT_SQL: &str = "SELECT app_id, name_id, name_id_format, \
     session_index, at_ns FROM session_participants \
     WHERE tenant_id = $1 AND session_digest = $2 AND app_id = $3";
pub(crate) const USER_APP_ROLES_SQL: &str = "SELECT app_role FROM assignments \
     WHERE tenant_id = $1 AND app_id = $2 AND (user_id = $3 OR group_id IN \
     (SELECT group_id FROM group_members WHERE tenant_id = $1 AND user_id = $3)) \
     ORDER BY created_ns";

mod directory;
pub(crate) mod federation;
mod groups;
pub(crate) mod provisioning;
mod saml;
pub(crate) mod scim;
mod security;
mod users;

pub(crate) use directory::directory_impls;
pub(crate) use federation::federation_impls;
pub(crate) use groups::group_impls;
pub(crate) use provisioning::provisioning_impls;
pub(crate) use saml::saml_impls;
pub(crate) use scim::scim_impls;
pub(crate) use security::security_impls;
pub(crate) use users::user_impls;

/// Expands every role trait for `$store`.
macro_rules! store_impls {
    ($store:ty, for_update = $fu:literal) => {
        $crate::impls::directory_impls!($store, for_update = $fu);
        $crate::impls::user_impls!($store, for_update = $fu);
        $crate::impls::group_impls!($store, for_update = $fu);
        $crate::impls::security_impls!($store, for_update = $fu);
        $crate::impls::saml_impls!($store);
        $crate::impls::scim_impls!($store);
        $crate::impls::federation_impls!($store, for_update = $fu);
        $crate::impls::provisioning_impls!($store, for_update = $fu);
    };
}
pub(crate) use store_impls;
