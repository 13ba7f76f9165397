//! Tenants and domains, including the rule that a domain name is claimed by one tenant.

macro_rules! directory_impls {
    ($store:ty, for_update = $fu:literal) => {
        #[async_trait::async_trait]
        impl sesame_store::TenantStore for $store {
            async fn create_tenant(&self, t: &sesame_model::Tenant) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                self.lock_names(&mut tx).await?;
                let claimed: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM domains WHERE name = $1 AND status <> 'unverified'",
                )
                .bind(&t.initial_domain)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
                if claimed > 0 {
                    return Err(sesame_store::StoreError::Conflict("tenant.initial_domain"));
                }
                sqlx::query(
                    "INSERT INTO tenants (id, name, initial_domain, created_ns) VALUES ($1, $2, $3, $4)",
                )
                .bind(t.id.to_string())
                .bind(&t.name)
                .bind(&t.initial_domain)
                .bind($crate::rows::ns(t.created_at)?)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)
            }

            async fn get_tenant(
                &self,
                id: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<sesame_model::Tenant> {
                sqlx::query_as::<_, $crate::rows::TenantRow>("SELECT * FROM tenants WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(self.r())
                    .await
                    .map_err($crate::error::db)?
                    .ok_or(sesame_store::StoreError::NotFound("tenant"))?
                    .into_model()
            }

            async fn find_tenant_by_domain(
                &self,
                domain: &str,
            ) -> sesame_store::StoreResult<sesame_model::Tenant> {
                let domain = domain.to_lowercase();
                sqlx::query_as::<_, $crate::rows::TenantRow>(
                    "SELECT * FROM tenants WHERE initial_domain = $1 OR id IN \
                     (SELECT tenant_id FROM domains WHERE name = $1 AND status <> 'unverified') \
                     LIMIT 1",
                )
                .bind(domain)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("tenant"))?
                .into_model()
            }

            async fn list_tenants(
                &self,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::Tenant>> {
                let limit = $crate::rows::limit(page);
                let rows = sqlx::query_as::<_, $crate::rows::TenantRow>(
                    "SELECT * FROM tenants WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(page.after.as_deref().unwrap_or(""))
                .bind(limit + 1)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                let items = $crate::rows::all(rows, $crate::rows::TenantRow::into_model)?;
                Ok($crate::rows::page(items, limit, |t| t.id.to_string()))
            }

            async fn update_tenant(
                &self,
                id: sesame_model::TenantId,
                update: sesame_store::Update<'_, sesame_model::Tenant>,
            ) -> sesame_store::StoreResult<sesame_model::Tenant> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                self.lock_names(&mut tx).await?;
                let mut t = sqlx::query_as::<_, $crate::rows::TenantRow>(concat!(
                    "SELECT * FROM tenants WHERE id = $1",
                    $fu
                ))
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or(sesame_store::StoreError::NotFound("tenant"))?
                .into_model()?;
                let before = t.initial_domain.clone();
                update(&mut t)?;
                t.id = id;
                if t.initial_domain != before {
                    let claimed: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM domains WHERE name = $1 AND status <> 'unverified'",
                    )
                    .bind(&t.initial_domain)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    if claimed > 0 {
                        return Err(sesame_store::StoreError::Conflict("tenant.initial_domain"));
                    }
                }
                sqlx::query(
                    "UPDATE tenants SET name = $2, initial_domain = $3, created_ns = $4 WHERE id = $1",
                )
                .bind(id.to_string())
                .bind(&t.name)
                .bind(&t.initial_domain)
                .bind($crate::rows::ns(t.created_at)?)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(t)
            }

            async fn delete_tenant(&self, id: sesame_model::TenantId) -> sesame_store::StoreResult<()> {
                // Everything the tenant owns references it (directly or through its users,
                // groups and apps) with ON DELETE CASCADE; the change log does not (the
                // cascade itself writes entries), so it is emptied in the same transaction.
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("tenant"));
                }
                sqlx::query("DELETE FROM directory_changes WHERE tenant_id = $1")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::DomainStore for $store {
            async fn add_domain(&self, d: &sesame_model::Domain) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                self.lock_names(&mut tx).await?;
                let tenant: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = $1")
                    .bind(d.tenant_id.to_string())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                if tenant == 0 {
                    return Err(sesame_store::StoreError::NotFound("tenant"));
                }
                // Taken: another tenant's initial domain, or verified/federated anywhere.
                let taken: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM tenants WHERE initial_domain = $1) + \
                     (SELECT COUNT(*) FROM domains WHERE name = $1 AND status <> 'unverified')",
                )
                .bind(&d.name)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
                if taken > 0 {
                    return Err(sesame_store::StoreError::Conflict("domain.name"));
                }
                sqlx::query(
                    "INSERT INTO domains (tenant_id, name, status, verification_token, created_ns, \
                     verified_ns) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(d.tenant_id.to_string())
                .bind(&d.name)
                .bind(d.status.as_str())
                .bind(&d.verification_token)
                .bind($crate::rows::ns(d.created_at)?)
                .bind($crate::rows::opt_ns(d.verified_at)?)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)
            }

            async fn get_domain(
                &self,
                tenant: sesame_model::TenantId,
                name: &str,
            ) -> sesame_store::StoreResult<sesame_model::Domain> {
                sqlx::query_as::<_, $crate::rows::DomainRow>(
                    "SELECT * FROM domains WHERE tenant_id = $1 AND name = $2",
                )
                .bind(tenant.to_string())
                .bind(name)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("domain"))?
                .into_model()
            }

            async fn list_domains(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::Domain>> {
                let rows = sqlx::query_as::<_, $crate::rows::DomainRow>(
                    "SELECT * FROM domains WHERE tenant_id = $1 ORDER BY name",
                )
                .bind(tenant.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::rows::DomainRow::into_model)
            }

            async fn update_domain(
                &self,
                tenant: sesame_model::TenantId,
                name: &str,
                update: sesame_store::Update<'_, sesame_model::Domain>,
            ) -> sesame_store::StoreResult<sesame_model::Domain> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                self.lock_names(&mut tx).await?;
                let mut d = sqlx::query_as::<_, $crate::rows::DomainRow>(concat!(
                    "SELECT * FROM domains WHERE tenant_id = $1 AND name = $2",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or(sesame_store::StoreError::NotFound("domain"))?
                .into_model()?;
                update(&mut d)?;
                d.tenant_id = tenant;
                d.name = name.to_owned();
                if d.status != sesame_model::DomainStatus::Unverified {
                    let taken: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM domains WHERE name = $1 AND tenant_id <> $2 \
                         AND status <> 'unverified'",
                    )
                    .bind(name)
                    .bind(tenant.to_string())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    if taken > 0 {
                        return Err(sesame_store::StoreError::Conflict("domain.name"));
                    }
                }
                sqlx::query(
                    "UPDATE domains SET status = $3, verification_token = $4, created_ns = $5, \
                     verified_ns = $6 WHERE tenant_id = $1 AND name = $2",
                )
                .bind(tenant.to_string())
                .bind(name)
                .bind(d.status.as_str())
                .bind(&d.verification_token)
                .bind($crate::rows::ns(d.created_at)?)
                .bind($crate::rows::opt_ns(d.verified_at)?)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(d)
            }

            async fn delete_domain(
                &self,
                tenant: sesame_model::TenantId,
                name: &str,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query("DELETE FROM domains WHERE tenant_id = $1 AND name = $2")
                    .bind(tenant.to_string())
                    .bind(name)
                    .execute(self.w())
                    .await
                    .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("domain"));
                }
                Ok(())
            }
        }
    };
}
pub(crate) use directory_impls;
