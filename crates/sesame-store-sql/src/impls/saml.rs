//! SAML signing certificates of applications.

macro_rules! saml_impls {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl sesame_store::AppCertificateStore for $store {
            async fn add_app_certificate(
                &self,
                c: &sesame_model::AppCertificate,
            ) -> sesame_store::StoreResult<()> {
                // Inserted only if the app belongs to the certificate's tenant.
                let done = sqlx::query(
                    "INSERT INTO app_certificates (id, tenant_id, app_id, certificate, thumbprint, \
                     sealed_private_key, active, not_before_ns, not_after_ns, created_ns) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE EXISTS \
                     (SELECT 1 FROM apps WHERE tenant_id = $2 AND id = $3)",
                )
                .bind(c.id.to_string())
                .bind(c.tenant_id.to_string())
                .bind(c.app_id.to_string())
                .bind(&c.certificate)
                .bind(&c.thumbprint)
                .bind(&c.sealed_private_key)
                .bind(c.active)
                .bind($crate::rows::ns(c.not_before)?)
                .bind($crate::rows::ns(c.not_after)?)
                .bind($crate::rows::ns(c.created_at)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("app"))?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("app"));
                }
                Ok(())
            }

            async fn list_app_certificates(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
            ) -> sesame_store::StoreResult<Vec<sesame_model::AppCertificate>> {
                let rows = sqlx::query_as::<_, $crate::rows::AppCertificateRow>(
                    "SELECT * FROM app_certificates WHERE tenant_id = $1 AND app_id = $2 \
                     ORDER BY created_ns, id",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::rows::AppCertificateRow::into_model)
            }

            async fn activate_app_certificate(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                id: uuid::Uuid,
            ) -> sesame_store::StoreResult<()> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                let found = sqlx::query(
                    "UPDATE app_certificates SET active = TRUE \
                     WHERE tenant_id = $1 AND app_id = $2 AND id = $3",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if found.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("app_certificate"));
                }
                sqlx::query(
                    "UPDATE app_certificates SET active = FALSE \
                     WHERE tenant_id = $1 AND app_id = $2 AND id <> $3",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }

            async fn delete_app_certificate(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                id: uuid::Uuid,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query(
                    "DELETE FROM app_certificates WHERE tenant_id = $1 AND app_id = $2 AND id = $3",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(id.to_string())
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("app_certificate"));
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::TenantKeyStore for $store {
            async fn get_tenant_certificate(
                &self,
                tenant: sesame_model::TenantId,
            ) -> sesame_store::StoreResult<sesame_model::TenantCertificate> {
                sqlx::query_as::<_, $crate::rows::TenantCertificateRow>(
                    "SELECT * FROM tenant_certificates WHERE tenant_id = $1",
                )
                .bind(tenant.to_string())
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("tenant_certificate"))?
                .into_model()
            }

            async fn create_tenant_certificate(
                &self,
                c: &sesame_model::TenantCertificate,
            ) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO tenant_certificates (tenant_id, certificate, thumbprint, \
                     sealed_private_key, not_before_ns, not_after_ns, created_ns) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(c.tenant_id.to_string())
                .bind(&c.certificate)
                .bind(&c.thumbprint)
                .bind(&c.sealed_private_key)
                .bind($crate::rows::ns(c.not_before)?)
                .bind($crate::rows::ns(c.not_after)?)
                .bind($crate::rows::ns(c.created_at)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("tenant"))?;
                Ok(())
            }
        }
    };
}
pub(crate) use saml_impls;
