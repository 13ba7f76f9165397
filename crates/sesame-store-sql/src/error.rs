//! Translation of sqlx errors into the store's sentinels.
//!
//! Uniqueness is enforced by the database; this module turns a violated constraint into the
//! `Conflict` rule it stands for. PostgreSQL names the constraint; SQLite names the columns
//! ("UNIQUE constraint failed: users.tenant_id, users.upn_lower"), so each rule lists both.
//! Backend messages are logged, and the error returned carries only a generic description so
//! that no bound value (a digest, a hash) travels up to an HTTP response.

use sesame_store::StoreError;
use sqlx::error::ErrorKind;

/// (PostgreSQL constraint name, SQLite column list, Conflict rule).
const UNIQUE_RULES: &[(&str, &str, &str)] = &[
    ("tenants_pkey", "tenants.id", "tenant.id"),
    (
        "tenants_initial_domain_key",
        "tenants.initial_domain",
        "tenant.initial_domain",
    ),
    (
        "domains_pkey",
        "domains.tenant_id, domains.name",
        "domain.name",
    ),
    ("domains_verified_name_key", "domains.name", "domain.name"),
    ("users_pkey", "users.id", "user.id"),
    (
        "users_upn_key",
        "users.tenant_id, users.upn_lower",
        "user.upn",
    ),
    (
        "users_immutable_id_key",
        "users.tenant_id, users.immutable_id",
        "user.immutable_id",
    ),
    ("groups_pkey", "groups.id", "group.id"),
    (
        "groups_display_name_key",
        "groups.tenant_id, groups.name_lower",
        "group.display_name",
    ),
    (
        "group_members_pkey",
        "group_members.group_id, group_members.user_id",
        "group.member",
    ),
    ("apps_pkey", "apps.id", "app.id"),
    (
        "assignments_user_key",
        "assignments.app_id, assignments.user_id",
        "assignment",
    ),
    (
        "assignments_group_key",
        "assignments.app_id, assignments.group_id",
        "assignment",
    ),
    (
        "app_certificates_pkey",
        "app_certificates.id",
        "app_certificate",
    ),
    (
        "tenant_certificates_pkey",
        "tenant_certificates.tenant_id",
        "tenant_certificate",
    ),
    ("sessions_pkey", "sessions.id_digest", "session"),
    (
        "sign_ins_pkey",
        "sign_ins.tenant_id, sign_ins.id",
        "sign_in.id",
    ),
    ("admin_tokens_pkey", "admin_tokens.id", "admin_token"),
    (
        "admin_tokens_digest_key",
        "admin_tokens.digest",
        "admin_token",
    ),
];

/// The Conflict rule named by a unique violation, from its constraint name (PostgreSQL) or its
/// message (SQLite).
pub(crate) fn conflict_rule(constraint: Option<&str>, message: &str) -> Option<&'static str> {
    if let Some(name) = constraint {
        return UNIQUE_RULES
            .iter()
            .find(|(pg, _, _)| *pg == name)
            .map(|(_, _, rule)| *rule);
    }
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?.trim();
    UNIQUE_RULES
        .iter()
        .find(|(_, cols, _)| *cols == columns)
        .map(|(_, _, rule)| *rule)
}

/// Maps any sqlx error: unique violations to `Conflict`, the rest to `Backend`.
pub(crate) fn db(err: sqlx::Error) -> StoreError {
    if let Some(dbe) = err.as_database_error()
        && dbe.kind() == ErrorKind::UniqueViolation
        && let Some(rule) = conflict_rule(dbe.constraint(), dbe.message())
    {
        return StoreError::Conflict(rule);
    }
    backend(err)
}

/// Like [`db`], but a foreign-key violation means the parent named `missing` does not exist.
pub(crate) fn db_or_missing(missing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| {
        if let Some(dbe) = err.as_database_error()
            && dbe.kind() == ErrorKind::ForeignKeyViolation
        {
            return StoreError::NotFound(missing);
        }
        db(err)
    }
}

/// A backend failure: the detail goes to the log, the caller gets its category only.
pub(crate) fn backend(err: sqlx::Error) -> StoreError {
    let code = err.as_database_error().and_then(|d| d.code());
    if code.as_deref() == Some(DEADLOCK_DETECTED) {
        // Its callers may run the transaction again.
        tracing::warn!(error = %err, "storage transaction ended to break a deadlock");
    } else {
        tracing::error!(error = %err, "storage backend error");
    }
    let what = match &err {
        sqlx::Error::Database(d) => backend_code(&d.code().unwrap_or_default()),
        sqlx::Error::PoolTimedOut => "connection pool timed out".to_owned(),
        sqlx::Error::PoolClosed => "connection pool closed".to_owned(),
        sqlx::Error::Io(e) => format!("I/O error: {}", e.kind()),
        sqlx::Error::Migrate(e) => format!("migration failed: {e}"),
        sqlx::Error::ColumnDecode { index, .. } => format!("corrupt column {index}"),
        sqlx::Error::Configuration(_) => "invalid database configuration".to_owned(),
        _ => "database request failed".to_owned(),
    };
    StoreError::Backend(what)
}

/// PostgreSQL's `deadlock_detected`: the transaction was rolled back to break a deadlock, and
/// may be run again.
const DEADLOCK_DETECTED: &str = "40P01";

/// Whether `err` (from [`backend`]) is a transaction ended to break a deadlock.
pub(crate) fn lost_deadlock(err: &StoreError) -> bool {
    matches!(err, StoreError::Backend(what) if *what == backend_code(DEADLOCK_DETECTED))
}

fn backend_code(code: &str) -> String {
    format!("database error (code {code})")
}

/// A stored row that cannot be turned back into a record.
pub(crate) fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "corrupt row in store");
    StoreError::Backend(format!("corrupt {what} row"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn postgres_constraint_names_map_to_rules() {
        assert_eq!(
            conflict_rule(Some("users_upn_key"), "whatever"),
            Some("user.upn")
        );
        assert_eq!(
            conflict_rule(Some("domains_verified_name_key"), ""),
            Some("domain.name")
        );
        assert_eq!(
            conflict_rule(Some("admin_tokens_digest_key"), ""),
            Some("admin_token")
        );
        assert_eq!(conflict_rule(Some("no_such_constraint"), ""), None);
    }

    #[test]
    fn sqlite_messages_map_to_rules() {
        let msg = "UNIQUE constraint failed: users.tenant_id, users.upn_lower";
        assert_eq!(conflict_rule(None, msg), Some("user.upn"));
        let msg = "UNIQUE constraint failed: users.tenant_id, users.immutable_id";
        assert_eq!(conflict_rule(None, msg), Some("user.immutable_id"));
        let msg = "UNIQUE constraint failed: group_members.group_id, group_members.user_id";
        assert_eq!(conflict_rule(None, msg), Some("group.member"));
        assert_eq!(conflict_rule(None, "UNIQUE constraint failed: x.y"), None);
        assert_eq!(conflict_rule(None, "FOREIGN KEY constraint failed"), None);
    }

    #[test]
    fn every_rule_has_both_spellings() {
        for (pg, cols, rule) in UNIQUE_RULES {
            assert_eq!(conflict_rule(Some(pg), ""), Some(*rule));
            let msg = format!("UNIQUE constraint failed: {cols}");
            assert_eq!(conflict_rule(None, &msg), Some(*rule));
        }
    }
}
