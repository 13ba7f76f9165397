//! Users and their password credentials.
//!
//! A user row keeps its lookup keys (tenant, folded UPN, immutableId) in indexed columns, under
//! unique indexes, and the full record as JSON. `create_user` is one INSERT, so an import is
//! one short transaction per user.

macro_rules! user_impls {
    ($store:ty, for_update = $fu:literal) => {
        #[async_trait::async_trait]
        impl sesame_store::UserStore for $store {
            async fn create_user(&self, u: &sesame_model::User) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, tenant_id, upn_lower, immutable_id, data, \
                     display_name_lower) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(u.id.to_string())
                .bind(u.tenant_id.to_string())
                .bind($crate::rows::fold(&u.user_principal_name))
                .bind(&u.immutable_id)
                .bind($crate::rows::user_json(u)?)
                .bind(u.display_name.as_deref().map($crate::rows::fold))
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("tenant"))?;
                Ok(())
            }

            async fn get_user(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::UserId,
            ) -> sesame_store::StoreResult<sesame_model::User> {
                sqlx::query_as::<_, $crate::rows::UserRow>(
                    "SELECT data FROM users WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("user"))?
                .into_model()
            }

            async fn find_users_by_prefix(
                &self,
                tenant: sesame_model::TenantId,
                field: sesame_store::UserLookup,
                prefix: &str,
                limit: u32,
            ) -> sesame_store::StoreResult<Vec<sesame_model::User>> {
                // A range on the folded column: [prefix, prefix + the last code point).
                let low = $crate::rows::fold(prefix);
                let high = format!("{low}{}", char::MAX);
                let sql = match field {
                    sesame_store::UserLookup::UserPrincipalName => {
                        "SELECT data FROM users WHERE tenant_id = $1 AND upn_lower >= $2 \
                         AND upn_lower < $3 ORDER BY upn_lower, id LIMIT $4"
                    }
                    sesame_store::UserLookup::DisplayName => {
                        "SELECT data FROM users WHERE tenant_id = $1 AND display_name_lower >= $2 \
                         AND display_name_lower < $3 ORDER BY display_name_lower, id LIMIT $4"
                    }
                };
                let rows = sqlx::query_as::<_, $crate::rows::UserRow>(sql)
                    .bind(tenant.to_string())
                    .bind(&low)
                    .bind(&high)
                    .bind(i64::from(limit))
                    .fetch_all(self.r())
                    .await
                    .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::rows::UserRow::into_model)
            }

            async fn find_user_by_upn(
                &self,
                tenant: sesame_model::TenantId,
                upn: &str,
            ) -> sesame_store::StoreResult<sesame_model::User> {
                sqlx::query_as::<_, $crate::rows::UserRow>(
                    "SELECT data FROM users WHERE tenant_id = $1 AND upn_lower = $2",
                )
                .bind(tenant.to_string())
                .bind($crate::rows::fold(upn))
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("user"))?
                .into_model()
            }

            async fn find_user_by_immutable_id(
                &self,
                tenant: sesame_model::TenantId,
                immutable_id: &str,
            ) -> sesame_store::StoreResult<sesame_model::User> {
                sqlx::query_as::<_, $crate::rows::UserRow>(
                    "SELECT data FROM users WHERE tenant_id = $1 AND immutable_id = $2",
                )
                .bind(tenant.to_string())
                .bind(immutable_id)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("user"))?
                .into_model()
            }

            async fn list_users(
                &self,
                tenant: sesame_model::TenantId,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::User>> {
                let limit = $crate::rows::limit(page);
                let rows = sqlx::query_as::<_, $crate::rows::UserRow>(
                    "SELECT data FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                )
                .bind(tenant.to_string())
                .bind(page.after.as_deref().unwrap_or(""))
                .bind(limit + 1)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                let items = $crate::rows::all(rows, $crate::rows::UserRow::into_model)?;
                Ok($crate::rows::page(items, limit, |u| u.id.to_string()))
            }

            async fn count_users(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .fetch_one(self.r())
                    .await
                    .map_err($crate::error::db)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn update_user(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::UserId,
                update: sesame_store::Update<'_, sesame_model::User>,
            ) -> sesame_store::StoreResult<sesame_model::User> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let mut u = sqlx::query_as::<_, $crate::rows::UserRow>(concat!(
                    "SELECT data FROM users WHERE tenant_id = $1 AND id = $2",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or(sesame_store::StoreError::NotFound("user"))?
                .into_model()?;
                let version = u.version;
                update(&mut u)?;
                // Identity is not the closure's to change; the version is the store's.
                u.id = id;
                u.tenant_id = tenant;
                u.version = version + 1;
                sqlx::query(
                    "UPDATE users SET upn_lower = $3, immutable_id = $4, data = $5, \
                     display_name_lower = $6 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(id.to_string())
                .bind($crate::rows::fold(&u.user_principal_name))
                .bind(&u.immutable_id)
                .bind($crate::rows::user_json(&u)?)
                .bind(u.display_name.as_deref().map($crate::rows::fold))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(u)
            }

            async fn delete_user(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::UserId,
            ) -> sesame_store::StoreResult<sesame_store::EndedSessions> {
                self.end_user_sessions(tenant, id, true)
                    .await?
                    .ok_or(sesame_store::StoreError::NotFound("user"))
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::CredentialStore for $store {
            async fn get_password(
                &self,
                tenant: sesame_model::TenantId,
                user: sesame_model::UserId,
            ) -> sesame_store::StoreResult<sesame_model::PasswordCredential> {
                sqlx::query_as::<_, $crate::rows::PasswordRow>(
                    "SELECT * FROM passwords WHERE tenant_id = $1 AND user_id = $2",
                )
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("password"))?
                .into_model()
            }

            async fn put_password(
                &self,
                c: &sesame_model::PasswordCredential,
            ) -> sesame_store::StoreResult<()> {
                // One statement: inserts only if the user exists in that tenant, else replaces.
                let done = sqlx::query(
                    "INSERT INTO passwords (user_id, tenant_id, hash, failed_attempts, \
                     locked_until_ns, updated_ns) \
                     SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS \
                     (SELECT 1 FROM users WHERE id = $1 AND tenant_id = $2) \
                     ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, \
                     failed_attempts = excluded.failed_attempts, \
                     locked_until_ns = excluded.locked_until_ns, updated_ns = excluded.updated_ns",
                )
                .bind(c.user_id.to_string())
                .bind(c.tenant_id.to_string())
                .bind(&c.hash)
                .bind(i64::from(c.failed_attempts))
                .bind($crate::rows::opt_ns(c.locked_until)?)
                .bind($crate::rows::ns(c.updated_at)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("user"))?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("user"));
                }
                Ok(())
            }

            async fn update_password(
                &self,
                tenant: sesame_model::TenantId,
                user: sesame_model::UserId,
                update: sesame_store::Update<'_, sesame_model::PasswordCredential>,
            ) -> sesame_store::StoreResult<sesame_model::PasswordCredential> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let mut c = sqlx::query_as::<_, $crate::rows::PasswordRow>(concat!(
                    "SELECT * FROM passwords WHERE tenant_id = $1 AND user_id = $2",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or(sesame_store::StoreError::NotFound("password"))?
                .into_model()?;
                update(&mut c)?;
                c.tenant_id = tenant;
                c.user_id = user;
                sqlx::query(
                    "UPDATE passwords SET hash = $3, failed_attempts = $4, locked_until_ns = $5, \
                     updated_ns = $6 WHERE tenant_id = $1 AND user_id = $2",
                )
                .bind(tenant.to_string())
                .bind(user.to_string())
                .bind(&c.hash)
                .bind(i64::from(c.failed_attempts))
                .bind($crate::rows::opt_ns(c.locked_until)?)
                .bind($crate::rows::ns(c.updated_at)?)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(c)
            }
        }
    };
}
pub(crate) use user_impls;
