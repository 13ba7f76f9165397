//! Groups with their members, and applications with their assignments.

macro_rules! group_impls {
    ($store:ty, for_update = $fu:literal) => {
        impl $store {
            /// NotFound `what` unless `SELECT COUNT(*) ... WHERE tenant_id = $1 AND id = $2` finds it.
            async fn must_exist(
                tx: &mut sqlx::Transaction<'static, <Self as $crate::Backend>::Db>,
                sql: &'static str,
                tenant: String,
                id: String,
                what: &'static str,
            ) -> sesame_store::StoreResult<()> {
                let n: i64 = sqlx::query_scalar(sql)
                    .bind(tenant)
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err($crate::error::db)?;
                if n == 0 {
                    return Err(sesame_store::StoreError::NotFound(what));
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::GroupStore for $store {
            async fn create_group(&self, g: &sesame_model::Group) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO groups (id, tenant_id, display_name, name_lower, description, \
                     version, created_ns) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(g.id.to_string())
                .bind(g.tenant_id.to_string())
                .bind(&g.display_name)
                .bind($crate::rows::fold(&g.display_name))
                .bind(&g.description)
                .bind(g.version)
                .bind($crate::rows::ns(g.created_at)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("tenant"))?;
                Ok(())
            }

            async fn get_group(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::GroupId,
            ) -> sesame_store::StoreResult<sesame_model::Group> {
                sqlx::query_as::<_, $crate::rows::GroupRow>(
                    "SELECT * FROM groups WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("group"))?
                .into_model()
            }

            async fn list_groups(
                &self,
                tenant: sesame_model::TenantId,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::Group>> {
                let limit = $crate::rows::limit(page);
                let rows = sqlx::query_as::<_, $crate::rows::GroupRow>(
                    "SELECT * FROM groups WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                )
                .bind(tenant.to_string())
                .bind(page.after.as_deref().unwrap_or(""))
                .bind(limit + 1)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                let items = $crate::rows::all(rows, $crate::rows::GroupRow::into_model)?;
                Ok($crate::rows::page(items, limit, |g| g.id.to_string()))
            }

            async fn update_group(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::GroupId,
                update: sesame_store::Update<'_, sesame_model::Group>,
            ) -> sesame_store::StoreResult<sesame_model::Group> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let mut g = sqlx::query_as::<_, $crate::rows::GroupRow>(concat!(
                    "SELECT * FROM groups WHERE tenant_id = $1 AND id = $2",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or(sesame_store::StoreError::NotFound("group"))?
                .into_model()?;
                let version = g.version;
                update(&mut g)?;
                g.id = id;
                g.tenant_id = tenant;
                g.version = version + 1;
                sqlx::query(
                    "UPDATE groups SET display_name = $3, name_lower = $4, description = $5, \
                     version = $6, created_ns = $7 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(id.to_string())
                .bind(&g.display_name)
                .bind($crate::rows::fold(&g.display_name))
                .bind(&g.description)
                .bind(g.version)
                .bind($crate::rows::ns(g.created_at)?)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(g)
            }

            async fn delete_group(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::GroupId,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query("DELETE FROM groups WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_string())
                    .bind(id.to_string())
                    .execute(self.w())
                    .await
                    .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("group"));
                }
                Ok(())
            }

            async fn add_member(
                &self,
                tenant: sesame_model::TenantId,
                group: sesame_model::GroupId,
                user: sesame_model::UserId,
            ) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let t = tenant.to_string();
                Self::must_exist(&mut tx, "SELECT COUNT(*) FROM groups WHERE tenant_id = $1 AND id = $2",
                    t.clone(), group.to_string(), "group").await?;
                Self::must_exist(&mut tx, "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND id = $2",
                    t.clone(), user.to_string(), "user").await?;
                sqlx::query("INSERT INTO group_members (group_id, user_id, tenant_id) VALUES ($1, $2, $3)")
                    .bind(group.to_string())
                    .bind(user.to_string())
                    .bind(t)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::error::db_or_missing("user"))?;
                tx.commit().await.map_err(db)
            }

            async fn remove_member(
                &self,
                tenant: sesame_model::TenantId,
                group: sesame_model::GroupId,
                user: sesame_model::UserId,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query(
                    "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
                )
                .bind(tenant.to_string())
                .bind(group.to_string())
                .bind(user.to_string())
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("group.member"));
                }
                Ok(())
            }

            async fn list_members(
                &self,
                tenant: sesame_model::TenantId,
                group: sesame_model::GroupId,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::UserId>> {
                use $crate::error::db;
                let exists: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM groups WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.to_string())
                        .bind(group.to_string())
                        .fetch_one(self.r())
                        .await
                        .map_err(db)?;
                if exists == 0 {
                    return Err(sesame_store::StoreError::NotFound("group"));
                }
                let limit = $crate::rows::limit(page);
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT user_id FROM group_members WHERE tenant_id = $1 AND group_id = $2 \
                     AND user_id > $3 ORDER BY user_id LIMIT $4",
                )
                .bind(tenant.to_string())
                .bind(group.to_string())
                .bind(page.after.as_deref().unwrap_or(""))
                .bind(limit + 1)
                .fetch_all(self.r())
                .await
                .map_err(db)?;
                let items = $crate::rows::all(rows, |s| {
                    s.parse::<sesame_model::UserId>()
                        .map_err(|_| $crate::error::corrupt("group member"))
                })?;
                Ok($crate::rows::page(items, limit, |u| u.to_string()))
            }

            async fn list_user_groups(
                &self,
                tenant: sesame_model::TenantId,
                user: sesame_model::UserId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::GroupId>> {
                let rows: Vec<String> = sqlx::query_scalar(
                    "SELECT group_id FROM group_members WHERE tenant_id = $1 AND user_id = $2 \
                     ORDER BY group_id",
                )
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, |s| {
                    s.parse::<sesame_model::GroupId>()
                        .map_err(|_| $crate::error::corrupt("group member"))
                })
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::AppStore for $store {
            async fn create_app(&self, a: &sesame_model::Application) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO apps (id, tenant_id, name, enabled, version, created_ns, saml_json) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(a.id.to_string())
                .bind(a.tenant_id.to_string())
                .bind(&a.name)
                .bind(a.enabled)
                .bind(a.version)
                .bind($crate::rows::ns(a.created_at)?)
                .bind($crate::rows::saml_json(a)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("tenant"))?;
                Ok(())
            }

            async fn get_app(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::AppId,
            ) -> sesame_store::StoreResult<sesame_model::Application> {
                sqlx::query_as::<_, $crate::rows::AppRow>(
                    "SELECT * FROM apps WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("app"))?
                .into_model()
            }

            async fn list_apps(
                &self,
                tenant: sesame_model::TenantId,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::Application>> {
                let limit = $crate::rows::limit(page);
                let rows = sqlx::query_as::<_, $crate::rows::AppRow>(
                    "SELECT * FROM apps WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                )
                .bind(tenant.to_string())
                .bind(page.after.as_deref().unwrap_or(""))
                .bind(limit + 1)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                let items = $crate::rows::all(rows, $crate::rows::AppRow::into_model)?;
                Ok($crate::rows::page(items, limit, |a| a.id.to_string()))
            }

            async fn update_app(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::AppId,
                update: sesame_store::Update<'_, sesame_model::Application>,
            ) -> sesame_store::StoreResult<sesame_model::Application> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let mut a = sqlx::query_as::<_, $crate::rows::AppRow>(concat!(
                    "SELECT * FROM apps WHERE tenant_id = $1 AND id = $2",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or(sesame_store::StoreError::NotFound("app"))?
                .into_model()?;
                let version = a.version;
                update(&mut a)?;
                a.id = id;
                a.tenant_id = tenant;
                a.version = version + 1;
                sqlx::query(
                    "UPDATE apps SET name = $3, enabled = $4, version = $5, created_ns = $6, \
                     saml_json = $7 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant.to_string())
                .bind(id.to_string())
                .bind(&a.name)
                .bind(a.enabled)
                .bind(a.version)
                .bind($crate::rows::ns(a.created_at)?)
                .bind($crate::rows::saml_json(&a)?)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(a)
            }

            async fn delete_app(
                &self,
                tenant: sesame_model::TenantId,
                id: sesame_model::AppId,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query("DELETE FROM apps WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.to_string())
                    .bind(id.to_string())
                    .execute(self.w())
                    .await
                    .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("app"));
                }
                Ok(())
            }

            async fn assign(&self, a: &sesame_model::Assignment) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let t = a.tenant_id.to_string();
                Self::must_exist(&mut tx, "SELECT COUNT(*) FROM apps WHERE tenant_id = $1 AND id = $2",
                    t.clone(), a.app_id.to_string(), "app").await?;
                let (user_id, group_id) = $crate::rows::principal_columns(a.principal);
                match a.principal {
                    sesame_model::Principal::User(u) => Self::must_exist(&mut tx,
                        "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND id = $2",
                        t.clone(), u.to_string(), "user").await?,
                    sesame_model::Principal::Group(g) => Self::must_exist(&mut tx,
                        "SELECT COUNT(*) FROM groups WHERE tenant_id = $1 AND id = $2",
                        t.clone(), g.to_string(), "group").await?,
                }
                sqlx::query(
                    "INSERT INTO assignments (app_id, tenant_id, user_id, group_id, app_role, \
                     created_ns) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(a.app_id.to_string())
                .bind(t)
                .bind(user_id)
                .bind(group_id)
                .bind(&a.app_role)
                .bind($crate::rows::ns(a.created_at)?)
                .execute(&mut *tx)
                .await
                .map_err($crate::error::db_or_missing("app"))?;
                tx.commit().await.map_err(db)
            }

            async fn unassign(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                principal: sesame_model::Principal,
            ) -> sesame_store::StoreResult<()> {
                let (user_id, group_id) = $crate::rows::principal_columns(principal);
                let done = sqlx::query(
                    "DELETE FROM assignments WHERE tenant_id = $1 AND app_id = $2 \
                     AND (user_id = $3 OR group_id = $4)",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(user_id)
                .bind(group_id)
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("assignment"));
                }
                Ok(())
            }

            async fn list_assignments(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::Assignment>> {
                use $crate::error::db;
                let exists: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM apps WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.to_string())
                        .bind(app.to_string())
                        .fetch_one(self.r())
                        .await
                        .map_err(db)?;
                if exists == 0 {
                    return Err(sesame_store::StoreError::NotFound("app"));
                }
                let rows = sqlx::query_as::<_, $crate::rows::AssignmentRow>(
                    "SELECT * FROM assignments WHERE tenant_id = $1 AND app_id = $2 \
                     ORDER BY created_ns, user_id, group_id",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .fetch_all(self.r())
                .await
                .map_err(db)?;
                $crate::rows::all(rows, $crate::rows::AssignmentRow::into_model)
            }

            async fn user_app_roles(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                user: sesame_model::UserId,
            ) -> sesame_store::StoreResult<Vec<Option<String>>> {
                if let Some(roles) = self.inline_user_app_roles(tenant, app, user) {
                    return Ok(roles);
                }
                sqlx::query_scalar($crate::impls::USER_APP_ROLES_SQL)
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(user.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)
            }

            async fn list_principal_assignments(
                &self,
                tenant: sesame_model::TenantId,
                principal: sesame_model::Principal,
            ) -> sesame_store::StoreResult<Vec<sesame_model::Assignment>> {
                let (user_id, group_id) = $crate::rows::principal_columns(principal);
                let rows = sqlx::query_as::<_, $crate::rows::AssignmentRow>(
                    "SELECT * FROM assignments WHERE tenant_id = $1 \
                     AND (user_id = $2 OR group_id = $3) ORDER BY app_id",
                )
                .bind(tenant.to_string())
                .bind(user_id)
                .bind(group_id)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::rows::AssignmentRow::into_model)
            }
        }
    };
}
pub(crate) use group_impls;
