//! SCIM server bearer tokens (issue 6): single-statement reads and writes.
//!
//! The row type and the mapping of unique violations live here rather than in `rows.rs` and
//! `error.rs`, so that the SCIM aggregate stays in one file.

use sesame_model::ScimToken;
use sesame_store::{StoreError, StoreResult};
use sqlx::error::ErrorKind;
use time::OffsetDateTime;

#[derive(sqlx::FromRow)]
pub(crate) struct ScimTokenRow {
    id: String,
    tenant_id: String,
    name: String,
    digest: String,
    created_ns: i64,
    expires_ns: Option<i64>,
}

fn time(n: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(n))
        .map_err(|_| crate::error::corrupt("timestamp"))
}

impl ScimTokenRow {
    pub(crate) fn into_model(self) -> StoreResult<ScimToken> {
        Ok(ScimToken {
            id: self
                .id
                .parse()
                .map_err(|_| crate::error::corrupt("scim token"))?,
            tenant_id: self
                .tenant_id
                .parse()
                .map_err(|_| crate::error::corrupt("scim token"))?,
            name: self.name,
            digest: self.digest,
            created_at: time(self.created_ns)?,
            expires_at: self.expires_ns.map(time).transpose()?,
        })
    }
}

/// A duplicate id or digest is Conflict `scim_token`; a missing tenant is NotFound `tenant`.
pub(crate) fn insert_error(err: sqlx::Error) -> StoreError {
    if let Some(dbe) = err.as_database_error()
        && dbe.kind() == ErrorKind::UniqueViolation
    {
        return StoreError::Conflict("scim_token");
    }
    crate::error::db_or_missing("tenant")(err)
}

macro_rules! scim_impls {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl sesame_store::ScimTokenStore for $store {
            async fn create_scim_token(
                &self,
                t: &sesame_model::ScimToken,
            ) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO scim_tokens (id, tenant_id, name, digest, created_ns, expires_ns) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(t.id.to_string())
                .bind(t.tenant_id.to_string())
                .bind(&t.name)
                .bind(&t.digest)
                .bind($crate::rows::ns(t.created_at)?)
                .bind($crate::rows::opt_ns(t.expires_at)?)
                .execute(self.w())
                .await
                .map_err($crate::impls::scim::insert_error)?;
                Ok(())
            }

            async fn find_scim_token(
                &self,
                digest: &str,
            ) -> sesame_store::StoreResult<sesame_model::ScimToken> {
                sqlx::query_as::<_, $crate::impls::scim::ScimTokenRow>(
                    "SELECT * FROM scim_tokens WHERE digest = $1",
                )
                .bind(digest)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("scim_token"))?
                .into_model()
            }

            async fn list_scim_tokens(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::ScimToken>> {
                let rows = sqlx::query_as::<_, $crate::impls::scim::ScimTokenRow>(
                    "SELECT * FROM scim_tokens WHERE tenant_id = $1 ORDER BY created_ns, id",
                )
                .bind(tenant.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::impls::scim::ScimTokenRow::into_model)
            }

            async fn delete_scim_token(
                &self,
                tenant: sesame_model::TenantId,
                id: uuid::Uuid,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query("DELETE FROM scim_tokens WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_string())
                    .bind(id.to_string())
                    .execute(self.w())
                    .await
                    .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("scim_token"));
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::ScimGroupStore for $store {
            async fn get_group_scim_attributes(
                &self,
                tenant: sesame_model::TenantId,
                group: sesame_model::GroupId,
            ) -> sesame_store::StoreResult<Option<serde_json::Map<String, serde_json::Value>>> {
                let data: Option<String> = sqlx::query_scalar(
                    "SELECT data FROM scim_group_attributes WHERE tenant_id = $1 AND group_id = $2",
                )
                .bind(tenant.to_string())
                .bind(group.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?;
                data.map(|d| {
                    serde_json::from_str(&d).map_err(|_| $crate::error::corrupt("group SCIM data"))
                })
                .transpose()
            }

            async fn put_group_scim_attributes(
                &self,
                tenant: sesame_model::TenantId,
                group: sesame_model::GroupId,
                attributes: &serde_json::Map<String, serde_json::Value>,
            ) -> sesame_store::StoreResult<()> {
                let data = serde_json::to_string(attributes).map_err(|_| {
                    sesame_store::StoreError::Backend("cannot encode group SCIM data".into())
                })?;
                // Written only if the group belongs to the tenant.
                let done = sqlx::query(
                    "INSERT INTO scim_group_attributes (group_id, tenant_id, data) \
                     SELECT $1, $2, $3 WHERE EXISTS \
                     (SELECT 1 FROM groups WHERE tenant_id = $2 AND id = $1) \
                     ON CONFLICT (group_id) DO UPDATE SET data = excluded.data",
                )
                .bind(group.to_string())
                .bind(tenant.to_string())
                .bind(data)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("group"))?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("group"));
                }
                Ok(())
            }
        }
    };
}
pub(crate) use scim_impls;
