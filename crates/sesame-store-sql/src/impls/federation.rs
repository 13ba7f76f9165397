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

#[derive(sqlx::FromRow)]
pub(crate) struct GuestRow {
    tenant_id: String,
    email: String,
    user_id: String,
    domain: String,
    invited_ns: i64,
    redeemed_ns: Option<i64>,
    issuer: Option<String>,
    name_id: Option<String>,
}

fn instant(ns: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .map_err(|_| crate::error::corrupt("timestamp"))
}

impl GuestRow {
    pub(crate) fn into_model(self) -> StoreResult<sesame_model::GuestInvitation> {
        Ok(sesame_model::GuestInvitation {
            tenant_id: self
                .tenant_id
                .parse()
                .map_err(|_| crate::error::corrupt("guest invitation"))?,
            email: self.email,
            user_id: sesame_model::UserId(
                self.user_id
                    .parse()
                    .map_err(|_| crate::error::corrupt("guest invitation"))?,
            ),
            domain: self.domain,
            invited_at: instant(self.invited_ns)?,
            redeemed_at: self.redeemed_ns.map(instant).transpose()?,
            issuer: self.issuer,
            name_id: self.name_id,
        })
    }
}

pub(crate) const GUEST_COLUMNS: &str =
    "tenant_id, email, user_id, domain, invited_ns, redeemed_ns, issuer, name_id";

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
                self.insert_replay(
                    tenant.to_string(),
                    issuer,
                    assertion_id,
                    $crate::rows::ns(keep_until)?,
                )
                .await
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

            async fn put_direct_federation(
                &self,
                f: &sesame_model::DomainFederation,
                max_federations: u32,
            ) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let data = $crate::impls::federation::federation_json(f)?;
                let tenant = f.tenant_id.to_string();
                let mut tx = self.tx().await?;
                // Lock the tenant row: two creations cannot both pass the count.
                let exists: Option<String> =
                    sqlx::query_scalar(concat!("SELECT id FROM tenants WHERE id = $1", $fu))
                        .bind(&tenant)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                if exists.is_none() {
                    return Err(sesame_store::StoreError::NotFound("tenant"));
                }
                let own: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM domains WHERE tenant_id = $1 AND name = $2 \
                     AND status <> 'unverified'",
                )
                .bind(&tenant)
                .bind(&f.domain)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                if own.is_some() {
                    return Err(sesame_store::StoreError::Aborted(
                        "the domain is a verified domain of the tenant: federate it as a domain, not directly".into(),
                    ));
                }
                let count: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM domain_federations WHERE tenant_id = $1) + \
                     (SELECT COUNT(*) FROM direct_federations WHERE tenant_id = $1 AND domain <> $2)",
                )
                .bind(&tenant)
                .bind(&f.domain)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
                if count >= i64::from(max_federations) {
                    return Err(sesame_store::StoreError::Aborted(format!(
                        "a tenant has at most {max_federations} federations"
                    )));
                }
                sqlx::query(
                    "INSERT INTO direct_federations (tenant_id, domain, data) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, domain) DO UPDATE SET data = excluded.data",
                )
                .bind(&tenant)
                .bind(&f.domain)
                .bind(data)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }

            async fn update_federation(
                &self,
                f: &sesame_model::DomainFederation,
                direct: bool,
            ) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let data = $crate::impls::federation::federation_json(f)?;
                let (read, write) = if direct {
                    (
                        concat!(
                            "SELECT data FROM direct_federations WHERE tenant_id = $1 AND domain = $2",
                            $fu
                        ),
                        "UPDATE direct_federations SET data = $1 WHERE tenant_id = $2 AND domain = $3",
                    )
                } else {
                    (
                        concat!(
                            "SELECT data FROM domain_federations WHERE tenant_id = $1 AND domain = $2",
                            $fu
                        ),
                        "UPDATE domain_federations SET data = $1 WHERE tenant_id = $2 AND domain = $3",
                    )
                };
                let mut tx = self.tx().await?;
                let stored: Option<String> = sqlx::query_scalar(read)
                    .bind(f.tenant_id.to_string())
                    .bind(&f.domain)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                let stored = stored.ok_or(sesame_store::StoreError::NotFound("federation"))?;
                let stored = $crate::impls::federation::federation_from_json(&stored)?;
                if stored.updated_at != f.updated_at {
                    return Err(sesame_store::StoreError::Aborted(
                        "the federation was changed meanwhile".into(),
                    ));
                }
                sqlx::query(write)
                    .bind(data)
                    .bind(f.tenant_id.to_string())
                    .bind(&f.domain)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)
            }

            async fn get_direct_federation(
                &self,
                tenant: sesame_model::TenantId,
                domain: &str,
            ) -> sesame_store::StoreResult<sesame_model::DomainFederation> {
                let data: Option<String> = sqlx::query_scalar(
                    "SELECT data FROM direct_federations WHERE tenant_id = $1 AND domain = $2",
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

            async fn list_direct_federations(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::DomainFederation>> {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT data FROM direct_federations WHERE tenant_id = $1 ORDER BY domain",
                )
                .bind(tenant.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                rows.iter()
                    .map(|d| $crate::impls::federation::federation_from_json(d))
                    .collect()
            }

            async fn delete_direct_federation(
                &self,
                tenant: sesame_model::TenantId,
                domain: &str,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query(
                    "DELETE FROM direct_federations WHERE tenant_id = $1 AND domain = $2",
                )
                .bind(tenant.to_string())
                .bind(domain)
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("federation"));
                }
                Ok(())
            }

            async fn create_guest_invitation(
                &self,
                g: &sesame_model::GuestInvitation,
            ) -> sesame_store::StoreResult<()> {
                // The user must be the tenant's own (a cross-tenant binding cannot be written).
                let owner: Option<String> =
                    sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
                        .bind(g.user_id.to_string())
                        .fetch_optional(self.r())
                        .await
                        .map_err($crate::error::db)?;
                if owner.as_deref() != Some(g.tenant_id.to_string().as_str()) {
                    return Err(sesame_store::StoreError::NotFound("user"));
                }
                sqlx::query(
                    "INSERT INTO guest_invitations \
                     (tenant_id, email, user_id, domain, invited_ns, redeemed_ns, issuer, name_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(g.tenant_id.to_string())
                .bind(&g.email)
                .bind(g.user_id.to_string())
                .bind(&g.domain)
                .bind($crate::rows::ns(g.invited_at)?)
                .bind(g.redeemed_at.map($crate::rows::ns).transpose()?)
                .bind(g.issuer.as_deref())
                .bind(g.name_id.as_deref())
                .execute(self.w())
                .await
                .map_err(|e| {
                    if let Some(dbe) = e.as_database_error()
                        && dbe.kind() == sqlx::error::ErrorKind::UniqueViolation
                    {
                        return sesame_store::StoreError::Conflict("guest_invitation");
                    }
                    $crate::error::db_or_missing("user")(e)
                })?;
                Ok(())
            }

            async fn get_guest_invitation(
                &self,
                tenant: sesame_model::TenantId,
                email: &str,
            ) -> sesame_store::StoreResult<sesame_model::GuestInvitation> {
                sqlx::query_as::<_, $crate::impls::federation::GuestRow>(&format!(
                    "SELECT {} FROM guest_invitations WHERE tenant_id = $1 AND email = $2",
                    $crate::impls::federation::GUEST_COLUMNS
                ))
                .bind(tenant.to_string())
                .bind(email)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("guest_invitation"))?
                .into_model()
            }

            async fn list_guest_invitations(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::GuestInvitation>> {
                sqlx::query_as::<_, $crate::impls::federation::GuestRow>(&format!(
                    "SELECT {} FROM guest_invitations WHERE tenant_id = $1 ORDER BY email",
                    $crate::impls::federation::GUEST_COLUMNS
                ))
                .bind(tenant.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?
                .into_iter()
                .map($crate::impls::federation::GuestRow::into_model)
                .collect()
            }

            async fn redeem_guest_invitation(
                &self,
                tenant: sesame_model::TenantId,
                email: &str,
                issuer: &str,
                name_id: &str,
                at: time::OffsetDateTime,
            ) -> sesame_store::StoreResult<sesame_model::GuestInvitation> {
                sqlx::query(
                    "UPDATE guest_invitations SET redeemed_ns = $1, issuer = $2, name_id = $3 \
                     WHERE tenant_id = $4 AND email = $5 AND redeemed_ns IS NULL",
                )
                .bind($crate::rows::ns(at)?)
                .bind(issuer)
                .bind(name_id)
                .bind(tenant.to_string())
                .bind(email)
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                // Read from the writer: the binding just made (or an earlier one) is visible.
                sqlx::query_as::<_, $crate::impls::federation::GuestRow>(&format!(
                    "SELECT {} FROM guest_invitations WHERE tenant_id = $1 AND email = $2",
                    $crate::impls::federation::GUEST_COLUMNS
                ))
                .bind(tenant.to_string())
                .bind(email)
                .fetch_optional(self.w())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("guest_invitation"))?
                .into_model()
            }
        }
    };
}
pub(crate) use federation_impls;
