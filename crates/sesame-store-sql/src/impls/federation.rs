//! Federation with external SAML IdPs (issue 5): domain federations (settings as JSON, the
//! domain's status kept in step in the same transaction), the replay cache and outstanding
//! AuthnRequests. Row types and error mapping live here so the aggregate stays in one file.

use sesame_model::{DomainFederation, OutstandingAuthnRequest};
use sesame_store::{StoreError, StoreResult};
use sqlx::error::ErrorKind;
use time::OffsetDateTime;

pub(crate) fn federation_json(f: &DomainFederation) -> StoreResult<String> {
    serde_json::to_string(f).map_err(|_| StoreError::Backend("cannot encode federation".into()))
}

pub(crate) fn federation_from_json(data: &str) -> StoreResult<DomainFederation> {
    serde_json::from_str(data).map_err(|_| crate::error::corrupt("federation"))
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuthnRequestRow {
    tenant_id: String,
    id: String,
    domain: String,
    continue_to: Option<String>,
    expires_ns: i64,
}

impl AuthnRequestRow {
    pub(crate) fn into_model(self) -> StoreResult<OutstandingAuthnRequest> {
        Ok(OutstandingAuthnRequest {
            tenant_id: self
                .tenant_id
                .parse()
                .map_err(|_| crate::error::corrupt("authn request"))?,
            id: self.id,
            domain: self.domain,
            continue_to: self.continue_to,
            expires_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.expires_ns))
                .map_err(|_| crate::error::corrupt("timestamp"))?,
        })
    }
}

/// A unique violation is Conflict `what`; a missing tenant is NotFound `tenant`.
pub(crate) fn insert_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| {
        if let Some(dbe) = err.as_database_error()
            && dbe.kind() == ErrorKind::UniqueViolation
        {
            return StoreError::Conflict(what);
        }
        crate::error::db_or_missing("tenant")(err)
    }
}

macro_rules! federation_impls {
    ($store:ty, for_update = $fu:literal) => {
        #[async_trait::async_trait]
        impl sesame_store::FederationStore for $store {
            async fn put_federation(
                &self,
                f: &sesame_model::DomainFederation,
            ) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let data = $crate::impls::federation::federation_json(f)?;
                let mut tx = self.tx().await?;
                let status: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT status FROM domains WHERE tenant_id = $1 AND name = $2",
                    $fu
                ))
                .bind(f.tenant_id.to_string())
                .bind(&f.domain)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                match status.as_deref() {
                    None => return Err(sesame_store::StoreError::NotFound("domain")),
                    Some("unverified") => {
                        return Err(sesame_store::StoreError::Aborted(
                            "the domain must be verified before it is federated".into(),
                        ));
                    }
                    Some(_) => {}
                }
                sqlx::query(
                    "INSERT INTO domain_federations (tenant_id, domain, data) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, domain) DO UPDATE SET data = excluded.data",
                )
                .bind(f.tenant_id.to_string())
                .bind(&f.domain)
                .bind(data)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                sqlx::query(
                    "UPDATE domains SET status = 'federated' WHERE tenant_id = $1 AND name = $2",
                )
                .bind(f.tenant_id.to_string())
                .bind(&f.domain)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }

            async fn get_federation(
                &self,
                tenant: sesame_model::TenantId,
                domain: &str,
            ) -> sesame_store::StoreResult<sesame_model::DomainFederation> {
                let data: Option<String> = sqlx::query_scalar(
                    "SELECT data FROM domain_federations WHERE tenant_id = $1 AND domain = $2",
                )
                .bind(tenant.to_string())
                .bind(domain)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?;
                let data = data.ok_or(sesame_store::StoreError::NotFound("federation"))?;
                let mut f = $crate::impls::federation::federation_from_json(&data)?;
                f.tenant_id = tenant;
                f.domain = domain.to_owned();
                Ok(f)
            }

            async fn list_federations(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::DomainFederation>> {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT data FROM domain_federations WHERE tenant_id = $1 ORDER BY domain",
                )
                .bind(tenant.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                rows.iter()
                    .map(|d| $crate::impls::federation::federation_from_json(d))
                    .collect()
            }

            async fn delete_federation(
                &self,
                tenant: sesame_model::TenantId,
                domain: &str,
            ) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let done = sqlx::query(
                    "DELETE FROM domain_federations WHERE tenant_id = $1 AND domain = $2",
                )
                .bind(tenant.to_string())
                .bind(domain)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("federation"));
                }
                sqlx::query(
                    "UPDATE domains SET status = 'verified' WHERE tenant_id = $1 AND name = $2 \
                     AND status = 'federated'",
                )
                .bind(tenant.to_string())
                .bind(domain)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }

            async fn remember_assertion(
                &self,
                tenant: sesame_model::TenantId,
                issuer: &str,
                assertion_id: &str,
                keep_until: time::OffsetDateTime,
            ) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO saml_replay_cache (tenant_id, issuer, assertion_id, keep_until_ns) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(tenant.to_string())
                .bind(issuer)
                .bind(assertion_id)
                .bind($crate::rows::ns(keep_until)?)
                .execute(self.w())
                .await
                .map_err($crate::impls::federation::insert_error("assertion"))?;
                Ok(())
            }

            async fn assertion_seen(
                &self,
                tenant: sesame_model::TenantId,
                issuer: &str,
                assertion_id: &str,
            ) -> sesame_store::StoreResult<bool> {
                let row: Option<(i64,)> = sqlx::query_as(
                    "SELECT keep_until_ns FROM saml_replay_cache \
                     WHERE tenant_id = $1 AND issuer = $2 AND assertion_id = $3",
                )
                .bind(tenant.to_string())
                .bind(issuer)
                .bind(assertion_id)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?;
                Ok(row.is_some())
            }

            async fn purge_expired_assertions(
                &self,
                now: time::OffsetDateTime,
            ) -> sesame_store::StoreResult<u64> {
                let done = sqlx::query("DELETE FROM saml_replay_cache WHERE keep_until_ns < $1")
                    .bind($crate::rows::ns(now)?)
                    .execute(self.w())
                    .await
                    .map_err($crate::error::db)?;
                Ok(done.rows_affected())
            }

            async fn save_authn_request(
                &self,
                r: &sesame_model::OutstandingAuthnRequest,
            ) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO saml_authn_requests (tenant_id, id, domain, continue_to, expires_ns) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(r.tenant_id.to_string())
                .bind(&r.id)
                .bind(&r.domain)
                .bind(r.continue_to.as_deref())
                .bind($crate::rows::ns(r.expires_at)?)
                .execute(self.w())
                .await
                .map_err($crate::impls::federation::insert_error("authn_request"))?;
                Ok(())
            }

            async fn take_authn_request(
                &self,
                tenant: sesame_model::TenantId,
                id: &str,
            ) -> sesame_store::StoreResult<sesame_model::OutstandingAuthnRequest> {
                // One statement: two nodes taking the same request cannot both get it.
                sqlx::query_as::<_, $crate::impls::federation::AuthnRequestRow>(
                    "DELETE FROM saml_authn_requests WHERE tenant_id = $1 AND id = $2 \
                     RETURNING tenant_id, id, domain, continue_to, expires_ns",
                )
                .bind(tenant.to_string())
                .bind(id)
                .fetch_optional(self.w())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("authn_request"))?
                .into_model()
            }

            async fn find_authn_request(
                &self,
                tenant: sesame_model::TenantId,
                id: &str,
            ) -> sesame_store::StoreResult<sesame_model::OutstandingAuthnRequest> {
                sqlx::query_as::<_, $crate::impls::federation::AuthnRequestRow>(
                    "SELECT tenant_id, id, domain, continue_to, expires_ns \
                     FROM saml_authn_requests WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(id)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("authn_request"))?
                .into_model()
            }

            async fn purge_expired_authn_requests(
                &self,
                now: time::OffsetDateTime,
            ) -> sesame_store::StoreResult<u64> {
                let done = sqlx::query("DELETE FROM saml_authn_requests WHERE expires_ns < $1")
                    .bind($crate::rows::ns(now)?)
                    .execute(self.w())
                    .await
                    .map_err($crate::error::db)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use federation_impls;
