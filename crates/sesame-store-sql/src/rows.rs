//! Row shapes shared by both backends and their conversion to and from model records.
//!
//! Columns hold only portable types (TEXT, BIGINT, BOOLEAN) so one set of row structs and one
//! SQL dialect serve SQLite and PostgreSQL. Ids are UUID strings; times are Unix nanoseconds,
//! so a stored `OffsetDateTime` reads back equal to the nanosecond (in UTC).

use crate::error::corrupt;
use sesame_model::*;
use sesame_store::{StoreError, StoreResult};
use std::str::FromStr;
use time::OffsetDateTime;

pub(crate) fn ns(t: OffsetDateTime) -> StoreResult<i64> {
    i64::try_from(t.unix_timestamp_nanos())
        .map_err(|_| StoreError::Backend("timestamp out of storable range".to_owned()))
}

/// [`ns`] for a bound in a query: an instant beyond what nanoseconds hold (before 1677, after
/// 2262) is the nearest one they do, which every stored time is on the same side of.
pub(crate) fn ns_clamped(t: OffsetDateTime) -> i64 {
    ns(t).unwrap_or(if t.unix_timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

pub(crate) fn opt_ns(t: Option<OffsetDateTime>) -> StoreResult<Option<i64>> {
    t.map(ns).transpose()
}

fn time(n: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(n)).map_err(|_| corrupt("timestamp"))
}

fn id<T: FromStr>(s: &str, what: &str) -> StoreResult<T> {
    s.parse().map_err(|_| corrupt(what))
}

/// The effective page size: 0 means the default, and no page exceeds the maximum.
pub(crate) fn limit(page: &PageRequest) -> i64 {
    let l = if page.limit == 0 {
        PageRequest::DEFAULT_LIMIT
    } else {
        page.limit.min(PageRequest::MAX_LIMIT)
    };
    i64::from(l)
}

/// Cuts a list fetched with `limit + 1` rows into a page; `key` gives an item's cursor.
pub(crate) fn page<T>(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    };
    Page { items, next }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    id: String,
    name: String,
    initial_domain: String,
    created_ns: i64,
}

impl TenantRow {
    pub(crate) fn into_model(self) -> StoreResult<Tenant> {
        Ok(Tenant {
            id: id(&self.id, "tenant")?,
            name: self.name,
            initial_domain: self.initial_domain,
            created_at: time(self.created_ns)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DomainRow {
    tenant_id: String,
    name: String,
    status: String,
    verification_token: String,
    created_ns: i64,
    verified_ns: Option<i64>,
}

impl DomainRow {
    pub(crate) fn into_model(self) -> StoreResult<Domain> {
        Ok(Domain {
            tenant_id: id(&self.tenant_id, "domain")?,
            name: self.name,
            status: DomainStatus::parse(&self.status).ok_or_else(|| corrupt("domain"))?,
            verification_token: self.verification_token,
            created_at: time(self.created_ns)?,
            verified_at: self.verified_ns.map(time).transpose()?,
        })
    }
}

/// Users keep their indexed keys in columns and the whole record as JSON.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    data: String,
}

impl UserRow {
    pub(crate) fn into_model(self) -> StoreResult<User> {
        serde_json::from_str(&self.data).map_err(|_| corrupt("user"))
    }
}

pub(crate) fn user_json(user: &User) -> StoreResult<String> {
    serde_json::to_string(user).map_err(|_| StoreError::Backend("cannot encode user".to_owned()))
}

/// The case-insensitive key of a UPN or group name (Unicode lower case, same on every backend).
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

#[derive(sqlx::FromRow)]
pub(crate) struct PasswordRow {
    tenant_id: String,
    user_id: String,
    hash: String,
    failed_attempts: i64,
    locked_until_ns: Option<i64>,
    updated_ns: i64,
}

impl PasswordRow {
    pub(crate) fn into_model(self) -> StoreResult<PasswordCredential> {
        Ok(PasswordCredential {
            tenant_id: id(&self.tenant_id, "password")?,
            user_id: id(&self.user_id, "password")?,
            hash: self.hash,
            failed_attempts: u32::try_from(self.failed_attempts)
                .map_err(|_| corrupt("password"))?,
            locked_until: self.locked_until_ns.map(time).transpose()?,
            updated_at: time(self.updated_ns)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    id: String,
    tenant_id: String,
    display_name: String,
    description: Option<String>,
    version: i64,
    created_ns: i64,
}

impl GroupRow {
    pub(crate) fn into_model(self) -> StoreResult<Group> {
        Ok(Group {
            id: id(&self.id, "group")?,
            tenant_id: id(&self.tenant_id, "group")?,
            display_name: self.display_name,
            description: self.description,
            version: self.version,
            created_at: time(self.created_ns)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AppRow {
    id: String,
    tenant_id: String,
    name: String,
    enabled: bool,
    version: i64,
    created_ns: i64,
    saml_json: Option<String>,
}

/// The JSON column of an application's SAML settings.
pub(crate) fn saml_json(app: &Application) -> StoreResult<Option<String>> {
    app.saml
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|_| StoreError::Backend("cannot encode SAML settings".to_owned()))
}

impl AppRow {
    pub(crate) fn into_model(self) -> StoreResult<Application> {
        let saml = match &self.saml_json {
            Some(j) => Some(serde_json::from_str(j).map_err(|_| corrupt("app"))?),
            None => None,
        };
        Ok(Application {
            id: id(&self.id, "app")?,
            tenant_id: id(&self.tenant_id, "app")?,
            name: self.name,
            enabled: self.enabled,
            saml,
            version: self.version,
            created_at: time(self.created_ns)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AssignmentRow {
    tenant_id: String,
    app_id: String,
    user_id: Option<String>,
    group_id: Option<String>,
    app_role: Option<String>,
    created_ns: i64,
}

impl AssignmentRow {
    pub(crate) fn into_model(self) -> StoreResult<Assignment> {
        let principal = match (self.user_id, self.group_id) {
            (Some(u), None) => Principal::User(id(&u, "assignment")?),
            (None, Some(g)) => Principal::Group(id(&g, "assignment")?),
            _ => return Err(corrupt("assignment")),
        };
        Ok(Assignment {
            tenant_id: id(&self.tenant_id, "assignment")?,
            app_id: id(&self.app_id, "assignment")?,
            principal,
            app_role: self.app_role,
            created_at: time(self.created_ns)?,
        })
    }
}

/// The (user_id, group_id) column pair of a principal.
pub(crate) fn principal_columns(p: Principal) -> (Option<String>, Option<String>) {
    match p {
        Principal::User(u) => (Some(u.to_string()), None),
        Principal::Group(g) => (None, Some(g.to_string())),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id_digest: String,
    tenant_id: String,
    user_id: String,
    authenticated_ns: i64,
    expires_ns: i64,
}

impl SessionRow {
    pub(crate) fn into_model(self) -> StoreResult<Session> {
        Ok(Session {
            id_digest: self.id_digest,
            tenant_id: id(&self.tenant_id, "session")?,
            user_id: id(&self.user_id, "session")?,
            authenticated_at: time(self.authenticated_ns)?,
            expires_at: time(self.expires_ns)?,
        })
    }
}

/// A session joined with its user's document.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionUserRow {
    #[sqlx(flatten)]
    session: SessionRow,
    data: String,
}

impl SessionUserRow {
    /// A row read by rusqlite, in [`crate::impls::SESSION_WITH_USER_SQL`]'s column order.
    pub(crate) fn from_columns(
        (id_digest, tenant_id, user_id, authenticated_ns, expires_ns, data): (
            String,
            String,
            String,
            i64,
            i64,
            String,
        ),
    ) -> Self {
        SessionUserRow {
            session: SessionRow {
                id_digest,
                tenant_id,
                user_id,
                authenticated_ns,
                expires_ns,
            },
            data,
        }
    }

    pub(crate) fn into_model(self) -> StoreResult<(Session, User)> {
        let user = UserRow { data: self.data }.into_model()?;
        Ok((self.session.into_model()?, user))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SignInRow {
    id: String,
    tenant_id: String,
    at_ns: i64,
    user_id: Option<String>,
    user_principal_name: String,
    app_id: Option<String>,
    protocol: String,
    result: String,
    reason: Option<String>,
    ip: Option<String>,
    correlation_id: String,
}

impl SignInRow {
    pub(crate) fn into_model(self) -> StoreResult<SignInEvent> {
        Ok(SignInEvent {
            id: id(&self.id, "sign-in")?,
            tenant_id: id(&self.tenant_id, "sign-in")?,
            at: time(self.at_ns)?,
            user_id: self.user_id.map(|u| id(&u, "sign-in")).transpose()?,
            user_principal_name: self.user_principal_name,
            app_id: self.app_id.map(|a| id(&a, "sign-in")).transpose()?,
            protocol: self.protocol,
            result: SignInResult::parse(&self.result).ok_or_else(|| corrupt("sign-in"))?,
            reason: self.reason,
            ip: self.ip,
            correlation_id: self.correlation_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AdminTokenRow {
    id: String,
    name: String,
    tenant_id: Option<String>,
    digest: String,
    created_ns: i64,
}

impl AdminTokenRow {
    pub(crate) fn into_model(self) -> StoreResult<AdminToken> {
        Ok(AdminToken {
            id: id(&self.id, "admin token")?,
            name: self.name,
            tenant_id: self.tenant_id.map(|t| id(&t, "admin token")).transpose()?,
            digest: self.digest,
            created_at: time(self.created_ns)?,
        })
    }
}

/// Converts fetched rows, failing on the first corrupt one.
pub(crate) fn all<R, T>(rows: Vec<R>, f: impl Fn(R) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(f).collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct AppCertificateRow {
    id: String,
    tenant_id: String,
    app_id: String,
    certificate: String,
    thumbprint: String,
    sealed_private_key: Vec<u8>,
    active: bool,
    not_before_ns: i64,
    not_after_ns: i64,
    created_ns: i64,
}

impl AppCertificateRow {
    pub(crate) fn into_model(self) -> StoreResult<sesame_model::AppCertificate> {
        Ok(sesame_model::AppCertificate {
            id: self.id.parse().map_err(|_| corrupt("app certificate"))?,
            tenant_id: id(&self.tenant_id, "app certificate")?,
            app_id: id(&self.app_id, "app certificate")?,
            certificate: self.certificate,
            thumbprint: self.thumbprint,
            sealed_private_key: self.sealed_private_key,
            active: self.active,
            not_before: time(self.not_before_ns)?,
            not_after: time(self.not_after_ns)?,
            created_at: time(self.created_ns)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ParticipantRow {
    pub(crate) app_id: String,
    pub(crate) name_id: String,
    pub(crate) name_id_format: String,
    pub(crate) session_index: String,
    pub(crate) at_ns: i64,
}

impl ParticipantRow {
    pub(crate) fn into_model(self) -> StoreResult<sesame_model::SessionParticipant> {
        Ok(sesame_model::SessionParticipant {
            app_id: id(&self.app_id, "session participant")?,
            name_id: self.name_id,
            name_id_format: self.name_id_format,
            session_index: self.session_index,
            at: time(self.at_ns)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantCertificateRow {
    tenant_id: String,
    certificate: String,
    thumbprint: String,
    sealed_private_key: Vec<u8>,
    not_before_ns: i64,
    not_after_ns: i64,
    created_ns: i64,
}

impl TenantCertificateRow {
    pub(crate) fn into_model(self) -> StoreResult<sesame_model::TenantCertificate> {
        Ok(sesame_model::TenantCertificate {
            tenant_id: id(&self.tenant_id, "tenant certificate")?,
            certificate: self.certificate,
            thumbprint: self.thumbprint,
            sealed_private_key: self.sealed_private_key,
            not_before: time(self.not_before_ns)?,
            not_after: time(self.not_after_ns)?,
            created_at: time(self.created_ns)?,
        })
    }
}
