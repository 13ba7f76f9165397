//! The reads every sign-in makes (session with its user, the user's roles in the app, the app's
//! participation in the session), run on the calling thread through rusqlite on the same
//! libsqlite3 and the same database file.
//!
//! sqlx runs each SQLite connection on a thread of its own: every query is a hand-over to that
//! thread and back, two context switches that cost more than the indexed lookup itself (on
//! the IdP benchmark the hops were about a third of the server's time outside RSA). A lookup
//! by primary key or unique index takes microseconds, less than the hops, so blocking the
//! runtime's thread for it is the cheaper choice. In WAL mode readers never wait for the
//! writer; should anything go wrong here (SQLITE_BUSY during a WAL recovery, a connection
//! that cannot open), the caller falls back to the sqlx pool, which reports errors as usual.

use crate::rows::{ParticipantRow, SessionUserRow};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Idle connections kept for reuse (one per runtime thread reading at once is enough; more
/// are opened when needed and closed after).
const KEEP: usize = 8;

#[derive(Debug)]
pub(crate) struct InlineReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl InlineReads {
    pub(crate) fn new(path: &Path) -> Self {
        InlineReads {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never sleep on this thread: a busy database means "use the pool".
        conn.busy_timeout(Duration::ZERO)?;
        Ok(conn)
    }

    /// `read` on an idle connection (or a new one); `None` when anything failed.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(c) => c,
            None => match self.open() {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "inline read connection unavailable");
                    return None;
                }
            },
        };
        match read(&conn) {
            Ok(value) => {
                if let Ok(mut idle) = self.idle.lock()
                    && idle.len() < KEEP
                {
                    idle.push(conn);
                }
                Some(value)
            }
            Err(e) => {
                // The connection is dropped: the next read opens a fresh one.
                tracing::debug!(error = %e, "inline read failed; using the pool");
                None
            }
        }
    }

    /// `Some(None)` when there is no such session.
    pub(crate) fn session_with_user(
        &self,
        tenant: &str,
        id_digest: &str,
    ) -> Option<Option<SessionUserRow>> {
        self.with(|conn| {
            conn.prepare_cached(crate::impls::SESSION_WITH_USER_SQL)?
                .query_row((tenant, id_digest), |r| {
                    Ok(SessionUserRow::from_columns((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    )))
                })
                .optional()
        })
    }

    /// `Some(None)` when the app has no participation in the session.
    pub(crate) fn session_participant(
        &self,
        tenant: &str,
        id_digest: &str,
        app: &str,
    ) -> Option<Option<ParticipantRow>> {
        self.with(|conn| {
            conn.prepare_cached(crate::impls::SESSION_PARTICIPANT_SQL)?
                .query_row((tenant, id_digest, app), |r| {
                    Ok(ParticipantRow {
                        app_id: r.get(0)?,
                        name_id: r.get(1)?,
                        name_id_format: r.get(2)?,
                        session_index: r.get(3)?,
                        at_ns: r.get(4)?,
                    })
                })
                .optional()
        })
    }

    pub(crate) fn user_app_roles(
        &self,
        tenant: &str,
        app: &str,
        user: &str,
    ) -> Option<Vec<Option<String>>> {
        self.with(|conn| {
            conn.prepare_cached(crate::impls::USER_APP_ROLES_SQL)?
                .query_map((tenant, app, user), |r| r.get(0))?
                .collect()
        })
    }
}
