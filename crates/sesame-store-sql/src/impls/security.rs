//! Sessions, the sign-in log and admin tokens: single-statement reads and writes.

macro_rules! security_impls {
    ($store:ty, for_update = $fu:literal) => {
        impl $store {
            /// Ends every session of the user in one transaction, and deletes the user too
            /// when `and_user`: what ended, or None when there is no such user.
            ///
            /// PostgreSQL may end the transaction as a deadlock's victim (an application's
            /// deletion locks participants in its own order): it is run again, a few times, so
            /// that disabling or deleting an account does not fail for it.
            pub(crate) async fn end_user_sessions(
                &self,
                tenant: sesame_model::TenantId,
                user: sesame_model::UserId,
                and_user: bool,
            ) -> sesame_store::StoreResult<Option<sesame_store::EndedSessions>> {
                let mut attempt = 1;
                loop {
                    match self.end_user_sessions_once(tenant, user, and_user).await {
                        Err(e) if attempt < 3 && $crate::error::lost_deadlock(&e) => {
                            tracing::warn!(%user, attempt, "ending a user's sessions lost a deadlock; trying again");
                            attempt += 1;
                        }
                        done => return done,
                    }
                }
            }

            async fn end_user_sessions_once(
                &self,
                tenant: sesame_model::TenantId,
                user: sesame_model::UserId,
                and_user: bool,
            ) -> sesame_store::StoreResult<Option<sesame_store::EndedSessions>> {
                use $crate::error::db;
                let mut tx = self.tx().await?;
                // Locked first on PostgreSQL (SQLite's writer lock covers it all): the user, so
                // that no session is created meanwhile; its sessions, so that no application
                // joins one; their participants, so that none changes. An SSO under way waits,
                // then finds its session gone, rather than being cascaded away untold between
                // the read of the participants and the delete.
                let user_exists: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT id FROM users WHERE tenant_id = $1 AND id = $2",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                if user_exists.is_none() {
                    return Ok(None);
                }
                let sessions: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT id_digest FROM sessions WHERE tenant_id = $1 AND user_id = $2 \
                     ORDER BY id_digest",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
                if sessions.is_empty() && !and_user {
                    return Ok(Some(sesame_store::EndedSessions::default()));
                }
                let rows = sqlx::query_as::<_, $crate::rows::ParticipantRow>(concat!(
                    "SELECT p.app_id, p.name_id, p.name_id_format, p.session_index, p.at_ns \
                     FROM session_participants p JOIN sessions s \
                     ON s.id_digest = p.session_digest AND s.tenant_id = p.tenant_id \
                     WHERE s.tenant_id = $1 AND s.user_id = $2 \
                     ORDER BY p.at_ns, p.app_id, p.session_digest",
                    $fu
                ))
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
                let participants = $crate::rows::all(rows, $crate::rows::ParticipantRow::into_model)?;
                let done =
                    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                        .bind(tenant.to_string())
                        .bind(user.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                if and_user {
                    // Credential, memberships and assignments go by ON DELETE CASCADE.
                    sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.to_string())
                        .bind(user.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
                tx.commit().await.map_err(db)?;
                Ok(Some(sesame_store::EndedSessions {
                    sessions: done.rows_affected(),
                    participants,
                }))
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::SessionStore for $store {
            async fn create_session(
                &self,
                s: &sesame_model::Session,
            ) -> sesame_store::StoreResult<()> {
                // Inserted only if the user belongs to the session's tenant.
                let done = sqlx::query(
                    "INSERT INTO sessions (id_digest, tenant_id, user_id, authenticated_ns, \
                     expires_ns) SELECT $1, $2, $3, $4, $5 WHERE EXISTS \
                     (SELECT 1 FROM users WHERE tenant_id = $2 AND id = $3)",
                )
                .bind(&s.id_digest)
                .bind(s.tenant_id.to_string())
                .bind(s.user_id.to_string())
                .bind($crate::rows::ns(s.authenticated_at)?)
                .bind($crate::rows::ns(s.expires_at)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("user"))?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("user"));
                }
                Ok(())
            }

            async fn get_session(
                &self,
                tenant: sesame_model::TenantId,
                id_digest: &str,
            ) -> sesame_store::StoreResult<sesame_model::Session> {
                sqlx::query_as::<_, $crate::rows::SessionRow>(
                    "SELECT * FROM sessions WHERE tenant_id = $1 AND id_digest = $2",
                )
                .bind(tenant.to_string())
                .bind(id_digest)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("session"))?
                .into_model()
            }

            async fn get_session_with_user(
                &self,
                tenant: sesame_model::TenantId,
                id_digest: &str,
            ) -> sesame_store::StoreResult<(sesame_model::Session, sesame_model::User)> {
                if let Some(row) = self.inline_session_with_user(tenant, id_digest) {
                    return row
                        .ok_or(sesame_store::StoreError::NotFound("session"))?
                        .into_model();
                }
                sqlx::query_as::<_, $crate::rows::SessionUserRow>(
                    $crate::impls::SESSION_WITH_USER_SQL,
                )
                .bind(tenant.to_string())
                .bind(id_digest)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("session"))?
                .into_model()
            }

            async fn delete_session(
                &self,
                tenant: sesame_model::TenantId,
                id_digest: &str,
            ) -> sesame_store::StoreResult<()> {
                let done =
                    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND id_digest = $2")
                        .bind(tenant.to_string())
                        .bind(id_digest)
                        .execute(self.w())
                        .await
                        .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("session"));
                }
                Ok(())
            }

            async fn delete_user_sessions(
                &self,
                tenant: sesame_model::TenantId,
                user: sesame_model::UserId,
            ) -> sesame_store::StoreResult<sesame_store::EndedSessions> {
                Ok(self
                    .end_user_sessions(tenant, user, false)
                    .await?
                    .unwrap_or_default())
            }

            async fn add_session_participant(
                &self,
                tenant: sesame_model::TenantId,
                id_digest: &str,
                p: &sesame_model::SessionParticipant,
            ) -> sesame_store::StoreResult<()> {
                self.upsert_participant(tenant, id_digest, p).await
            }

            async fn get_session_participant(
                &self,
                tenant: sesame_model::TenantId,
                id_digest: &str,
                app: sesame_model::AppId,
            ) -> sesame_store::StoreResult<Option<sesame_model::SessionParticipant>> {
                let row = match self.inline_session_participant(tenant, id_digest, app) {
                    Some(row) => row,
                    None => sqlx::query_as::<_, $crate::rows::ParticipantRow>(
                        $crate::impls::SESSION_PARTICIPANT_SQL,
                    )
                    .bind(tenant.to_string())
                    .bind(id_digest)
                    .bind(app.to_string())
                    .fetch_optional(self.r())
                    .await
                    .map_err($crate::error::db)?,
                };
                row.map($crate::rows::ParticipantRow::into_model).transpose()
            }

            async fn list_session_participants(
                &self,
                tenant: sesame_model::TenantId,
                id_digest: &str,
            ) -> sesame_store::StoreResult<Vec<sesame_model::SessionParticipant>> {
                let rows = sqlx::query_as::<_, $crate::rows::ParticipantRow>(
                    "SELECT * FROM session_participants WHERE tenant_id = $1 AND session_digest = $2 \
                     ORDER BY at_ns, app_id",
                )
                .bind(tenant.to_string())
                .bind(id_digest)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::rows::ParticipantRow::into_model)
            }

            async fn find_participant_sessions(
                &self,
                tenant: sesame_model::TenantId,
                app: sesame_model::AppId,
                name_id: &str,
                session_index: Option<&str>,
                now: time::OffsetDateTime,
            ) -> sesame_store::StoreResult<Vec<String>> {
                sqlx::query_scalar(
                    "SELECT p.session_digest FROM session_participants p JOIN sessions s \
                     ON s.id_digest = p.session_digest AND s.tenant_id = p.tenant_id \
                     WHERE p.tenant_id = $1 AND p.app_id = $2 AND p.name_id = $3 \
                     AND ($4 IS NULL OR p.session_index = $4) AND s.expires_ns > $5 \
                     ORDER BY p.at_ns, p.session_digest",
                )
                .bind(tenant.to_string())
                .bind(app.to_string())
                .bind(name_id)
                .bind(session_index)
                .bind($crate::rows::ns(now)?)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)
            }

            async fn purge_expired_sessions(
                &self,
                now: time::OffsetDateTime,
            ) -> sesame_store::StoreResult<u64> {
                // Sessions locked in digest order on PostgreSQL, as a user's removal locks
                // them: the two cannot deadlock.
                let done = sqlx::query(concat!(
                    "DELETE FROM sessions WHERE id_digest IN (SELECT id_digest FROM sessions \
                     WHERE expires_ns < $1 ORDER BY id_digest",
                    $fu,
                    ")"
                ))
                .bind($crate::rows::ns(now)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db)?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::SignInLog for $store {
            async fn append_sign_in(
                &self,
                e: &sesame_model::SignInEvent,
            ) -> sesame_store::StoreResult<()> {
                self.insert_sign_in(e).await
            }

            async fn list_sign_ins(
                &self,
                tenant: sesame_model::TenantId,
                query: &sesame_model::SignInQuery,
                page: &sesame_model::PageRequest,
            ) -> sesame_store::StoreResult<sesame_model::Page<sesame_model::SignInEvent>> {
                let limit = $crate::rows::limit(page);
                // Newest first: ids are UUIDv7, and "~" sorts after every id.
                let rows = sqlx::query_as::<_, $crate::rows::SignInRow>(
                    "SELECT * FROM sign_ins WHERE tenant_id = $1 AND id < $2 \
                     AND ($3 IS NULL OR user_id = $3) AND ($4 IS NULL OR result = $4) \
                     AND ($5 IS NULL OR correlation_id = $5) AND ($6 IS NULL OR app_id = $6) \
                     AND ($7 IS NULL OR at_ns >= $7) ORDER BY id DESC LIMIT $8",
                )
                .bind(tenant.to_string())
                .bind(page.after.as_deref().unwrap_or("~"))
                .bind(query.user_id.map(|u| u.to_string()))
                .bind(query.result.map(|r| r.as_str()))
                .bind(&query.correlation_id)
                .bind(query.app_id.map(|a| a.to_string()))
                .bind(query.since.map($crate::rows::ns_clamped))
                .bind(limit + 1)
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                let items = $crate::rows::all(rows, $crate::rows::SignInRow::into_model)?;
                Ok($crate::rows::page(items, limit, |e| e.id.to_string()))
            }
        }

        #[async_trait::async_trait]
        impl sesame_store::AdminTokenStore for $store {
            async fn create_admin_token(
                &self,
                t: &sesame_model::AdminToken,
            ) -> sesame_store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO admin_tokens (id, name, tenant_id, digest, created_ns) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(t.id.to_string())
                .bind(&t.name)
                .bind(t.tenant_id.map(|x| x.to_string()))
                .bind(&t.digest)
                .bind($crate::rows::ns(t.created_at)?)
                .execute(self.w())
                .await
                .map_err($crate::error::db_or_missing("tenant"))?;
                Ok(())
            }

            async fn find_admin_token(
                &self,
                digest: &str,
            ) -> sesame_store::StoreResult<sesame_model::AdminToken> {
                sqlx::query_as::<_, $crate::rows::AdminTokenRow>(
                    "SELECT * FROM admin_tokens WHERE digest = $1",
                )
                .bind(digest)
                .fetch_optional(self.r())
                .await
                .map_err($crate::error::db)?
                .ok_or(sesame_store::StoreError::NotFound("admin_token"))?
                .into_model()
            }

            async fn list_admin_tokens(
                &self,
            ) -> sesame_store::StoreResult<Vec<sesame_model::AdminToken>> {
                let rows = sqlx::query_as::<_, $crate::rows::AdminTokenRow>(
                    "SELECT * FROM admin_tokens ORDER BY id",
                )
                .fetch_all(self.r())
                .await
                .map_err($crate::error::db)?;
                $crate::rows::all(rows, $crate::rows::AdminTokenRow::into_model)
            }

            async fn delete_admin_token(
                &self,
                id: sesame_model::AdminTokenId,
            ) -> sesame_store::StoreResult<()> {
                let done = sqlx::query("DELETE FROM admin_tokens WHERE id = $1")
                    .bind(id.to_string())
                    .execute(self.w())
                    .await
                    .map_err($crate::error::db)?;
                if done.rows_affected() == 0 {
                    return Err(sesame_store::StoreError::NotFound("admin_token"));
                }
                Ok(())
            }

            async fn count_admin_tokens(&self) -> sesame_store::StoreResult<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_tokens")
                    .fetch_one(self.r())
                    .await
                    .map_err($crate::error::db)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    };
}
pub(crate) use security_impls;
