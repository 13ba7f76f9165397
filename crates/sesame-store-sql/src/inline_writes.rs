//! The group commit's batches written on the runtime thread that runs it, through rusqlite on
//! the same database file (`group_commit.rs`).
//!
//! Through sqlx, a batch is a hand-over to the writer connection's thread and back, and another
//! one when the connection returns to its pool (sqlx pings every connection it takes back):
//! four context switches for a write of a few tens of microseconds, on every sign-in. Here the
//! rows go through statements prepared once, in one transaction, on the calling thread.
//!
//! This connection is a second writer beside sqlx's single one, so it never waits for the
//! write lock (busy timeout zero, no sleeping on a runtime thread): when sqlx's writer holds
//! the lock, or anything else goes wrong, the batch is not written here and the group commit
//! sends it through sqlx's writer, in line with every other write. sqlx's writer, finding the
//! lock taken for the length of one batch, waits in SQLite's busy handler on its own thread.

use crate::error::conflict_rule;
use crate::group_commit::{Value, Write};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, ToSql, ffi};
use sesame_store::{StoreError, StoreResult};
use std::path::{Path, PathBuf};
use std::time::Duration;

const REPLAY_SQL: &str = "INSERT INTO saml_replay_cache \
    (tenant_id, issuer, assertion_id, keep_until_ns) VALUES (?1, ?2, ?3, ?4) \
    ON CONFLICT DO NOTHING";

/// The upsert of `add_session_participant`: written only when the session and the app are in
/// the tenant. (The WHERE also tells SQLite's parser the ON CONFLICT is the upsert's.)
const PARTICIPANT_SQL: &str = "INSERT INTO session_participants (session_digest, tenant_id, \
    app_id, name_id, name_id_format, session_index, at_ns) \
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 \
    WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.tenant_id = ?2 AND s.id_digest = ?1) \
    AND EXISTS (SELECT 1 FROM apps a WHERE a.tenant_id = ?2 AND a.id = ?3) \
    ON CONFLICT (session_digest, app_id) DO UPDATE SET name_id = excluded.name_id, \
    name_id_format = excluded.name_id_format, session_index = excluded.session_index, \
    at_ns = excluded.at_ns";

const SIGN_IN_SQL: &str = "INSERT INTO sign_ins (id, tenant_id, at_ns, user_id, \
    user_principal_name, app_id, protocol, result, reason, ip, correlation_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// Commits between two checkpoints. A sign-in's commit writes about three WAL pages (the right
/// edges of the log's three B-trees), so this keeps near the writer's `WAL_AUTOCHECKPOINT`
/// pages (`sqlite.rs`).
const CHECKPOINT_EVERY: u32 = crate::sqlite::WAL_AUTOCHECKPOINT / 3;

#[derive(Debug)]
pub(crate) struct InlineWrites {
    path: PathBuf,
    /// Opened on first use, and again after a failure.
    conn: Option<Connection>,
    /// Commits since the last checkpoint was asked for.
    commits: u32,
}

impl InlineWrites {
    pub(crate) fn new(path: &Path) -> Self {
        InlineWrites {
            path: path.to_path_buf(),
            conn: None,
            commits: 0,
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::ZERO)?;
        // The settings of sqlx's writer (`sqlite.rs`): the same durability, the same checks.
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints are not run here, on a runtime thread, but on sqlx's (`checkpoint_due`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(conn)
    }

    /// Writes `rows` in one transaction and returns the answer of each once committed; `None`
    /// when nothing was written (the write lock was taken, or the database failed).
    pub(crate) fn write<'a>(
        &mut self,
        rows: impl ExactSizeIterator<Item = &'a Write> + Clone,
    ) -> Option<Vec<StoreResult<()>>> {
        if self.conn.is_none() {
            match self.open() {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    tracing::debug!(error = %e, "inline write connection unavailable");
                    return None;
                }
            }
        }
        let conn = self.conn.as_mut()?;
        match write_rows(conn, rows) {
            Ok(answers) => {
                self.commits += 1;
                Some(answers)
            }
            Err(e) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                if e.sqlite_error_code() != Some(ErrorCode::DatabaseBusy) {
                    tracing::debug!(error = %e, "inline write failed; using the pool");
                    // A fresh connection next time.
                    self.conn = None;
                }
                None
            }
        }
    }
}

impl InlineWrites {
    /// Whether enough has been committed here since the last time to copy the WAL back into
    /// the database: every [`CHECKPOINT_EVERY`] commits.
    pub(crate) fn checkpoint_due(&mut self) -> bool {
        let due = self.commits >= CHECKPOINT_EVERY;
        if due {
            self.commits = 0;
        }
        due
    }
}

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::MaybeText(Some(v)) => ValueRef::Text(v.as_bytes()),
            Value::MaybeText(None) => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
        }))
    }
}

/// `Err` when the transaction could not be written; a row's own constraint violation is that
/// row's answer (SQLite undoes the statement, not the transaction).
fn write_rows<'a>(
    conn: &Connection,
    rows: impl ExactSizeIterator<Item = &'a Write>,
) -> rusqlite::Result<Vec<StoreResult<()>>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        let sql = match row {
            Write::Replay { .. } => REPLAY_SQL,
            Write::Participant { .. } => PARTICIPANT_SQL,
            Write::SignIn { .. } => SIGN_IN_SQL,
        };
        let written = conn
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(row.values()));
        answers.push(match written {
            Ok(0) => Err(match row {
                Write::Replay { .. } => StoreError::Conflict("assertion"),
                _ => StoreError::NotFound("session"),
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(row_error(row, e)?),
        });
    }
    conn.execute_batch("COMMIT")?;
    Ok(answers)
}

/// The answer for a row whose statement violated a constraint, as the pool's statements
/// would give it; any other error ends the transaction.
fn row_error(row: &Write, e: rusqlite::Error) -> rusqlite::Result<StoreError> {
    let rusqlite::Error::SqliteFailure(code, message) = &e else {
        return Err(e);
    };
    if code.code != ErrorCode::ConstraintViolation {
        return Err(e);
    }
    if code.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY {
        return Ok(StoreError::NotFound(match row {
            Write::Participant { .. } => "session",
            _ => "tenant",
        }));
    }
    let unique = code.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
        || code.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY;
    match (
        unique,
        message.as_deref().and_then(|m| conflict_rule(None, m)),
    ) {
        (true, Some(rule)) => Ok(StoreError::Conflict(rule)),
        _ => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use sesame_model::SignInQuery;
    use sesame_model::SignInResult;
    use sesame_store::SignInLog;
    use sesame_store::conformance::{new_tenant, page, sign_in_fixture, tenant_fixture};

    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    async fn file_store() -> (SqliteStore, Scratch) {
        let path =
            std::env::temp_dir().join(format!("sesame-inline-w-{}.db", uuid::Uuid::new_v4()));
        let store = SqliteStore::open(&format!("sqlite:{}", path.display()))
            .await
            .unwrap();
        (store, Scratch(path))
    }

    fn replay(tenant: &str, id: &str) -> Write {
        Write::Replay {
            tenant: tenant.to_owned(),
            issuer: "https://idp.example/".into(),
            assertion_id: id.to_owned(),
            keep_until_ns: i64::MAX,
        }
    }

    /// Each row gets the answer its own statement would give, the rows that were right are
    /// committed, and the answers match those of the pool's batch statements.
    #[tokio::test]
    async fn each_row_gets_its_own_answer_in_one_commit() {
        let (store, scratch) = file_store().await;
        let t = new_tenant(&store, "A").await;
        let tenant = t.id.to_string();
        let ok = sign_in_fixture(&t, None, SignInResult::Success);
        let ghost = sign_in_fixture(&tenant_fixture("ghost"), None, SignInResult::Failure);
        let participant = Write::Participant {
            tenant: tenant.clone(),
            session_digest: "ab".repeat(32),
            app: uuid::Uuid::now_v7().to_string(),
            name_id: "alice".into(),
            name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
            session_index: "_s1".into(),
            at_ns: 1,
        };
        let rows = [
            replay(&tenant, "_a1"),
            replay(&tenant, "_a1"),
            Write::sign_in(&ghost).unwrap(),
            participant,
            Write::sign_in(&ok).unwrap(),
            Write::sign_in(&ok).unwrap(),
        ];
        let mut inline = InlineWrites::new(&scratch.0);
        let answers = inline.write(rows.iter()).unwrap();
        let answers: Vec<_> = answers.iter().map(|a| format!("{a:?}")).collect();
        assert_eq!(
            answers,
            [
                "Ok(())",
                "Err(Conflict(\"assertion\"))",
                "Err(NotFound(\"tenant\"))",
                "Err(NotFound(\"session\"))",
                "Ok(())",
                "Err(Conflict(\"sign_in.id\"))",
            ]
        );
        let listed = store
            .list_sign_ins(t.id, &SignInQuery::default(), &page(10, None))
            .await
            .unwrap();
        assert_eq!(listed.items, [ok]);
        let again = inline.write([replay(&tenant, "_a1")].iter()).unwrap();
        assert!(matches!(
            again[..],
            [Err(StoreError::Conflict("assertion"))]
        ));
    }

    /// While sqlx's writer holds the write lock nothing is written inline (no waiting on the
    /// runtime's thread); the store's write then goes through the pool and lands once the lock
    /// is free.
    #[tokio::test]
    async fn a_taken_write_lock_sends_the_batch_through_the_pool() {
        let (store, scratch) = file_store().await;
        let t = new_tenant(&store, "A").await;
        let tx = store.tx().await.unwrap();
        let e = sign_in_fixture(&t, None, SignInResult::Success);
        let mut inline = InlineWrites::new(&scratch.0);
        assert!(inline.write([Write::sign_in(&e).unwrap()].iter()).is_none());

        let pending = tokio::spawn({
            let store = store.clone();
            let e = e.clone();
            async move { store.append_sign_in(&e).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!pending.is_finished(), "written while the lock was taken");
        tx.commit().await.unwrap();
        pending.await.unwrap().unwrap();
        let listed = store
            .list_sign_ins(t.id, &SignInQuery::default(), &page(10, None))
            .await
            .unwrap();
        assert_eq!(listed.items, [e]);
        // And inline again once the lock is free.
        let next = sign_in_fixture(&t, None, SignInResult::Failure);
        assert!(matches!(
            inline
                .write([Write::sign_in(&next).unwrap()].iter())
                .as_deref(),
            Some([Ok(())])
        ));
    }

    /// The inline connection never checkpoints on the runtime's thread, yet the WAL is
    /// copied back into the database file: sqlx's writer is asked to, every CHECKPOINT_EVERY
    /// commits.
    #[tokio::test]
    async fn the_wal_is_checkpointed_off_the_runtime_thread() {
        let (store, scratch) = file_store().await;
        let t = new_tenant(&store, "A").await;
        let db_size = || std::fs::metadata(&scratch.0).unwrap().len();
        let before = db_size();
        for _ in 0..CHECKPOINT_EVERY {
            let e = sign_in_fixture(&t, None, SignInResult::Success);
            store.append_sign_in(&e).await.unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while db_size() <= before && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(db_size() > before, "the sign-ins never left the WAL");
    }
}
