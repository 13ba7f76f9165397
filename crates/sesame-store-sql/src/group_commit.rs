//! Group commit of the SQLite writes every sign-in makes: the SAML replay cache (issue 5,
//! `bench saml-acs`), the sign-in log and the SSO session participants (issue 4,
//! `bench saml-idp`).
//!
//! On SQLite all writes go through one connection, so one commit per call makes the writer the
//! bottleneck long before the CPU. Callers hand their row to one task, which writes whatever has
//! queued up as one multi-row statement per kind, in one transaction, and answers each caller
//! once it is committed. The answers are those of one statement per call:
//! - replay cache: INSERT … ON CONFLICT DO NOTHING RETURNING; a row not inserted was already
//!   there (Conflict `assertion`, a replay), including a second copy within the batch;
//! - participants: the upsert of `add_session_participant` (only when the session and the app
//!   are in the tenant, else NotFound `session`); for one (session, app) the last one wins;
//! - sign-in log: plain INSERT.
//!
//! When a statement fails (a row whose tenant was deleted meanwhile), the batch is rolled back
//! and every row is written again on its own, so that each caller gets its own answer.

use crate::error::{db, db_or_missing};
use crate::impls::federation::insert_error;
use crate::rows::ns;
use sesame_model::{SessionParticipant, SignInEvent};
use sesame_store::{StoreError, StoreResult};
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use tokio::sync::{mpsc, oneshot};

/// Rows per batch (at most 11 parameters each: far below SQLite's limit of 32,766).
const MAX_BATCH: usize = 128;

/// One row to write, already encoded.
pub(crate) enum Write {
    Replay {
        tenant: String,
        issuer: String,
        assertion_id: String,
        keep_until_ns: i64,
    },
    Participant {
        tenant: String,
        session_digest: String,
        app: String,
        name_id: String,
        name_id_format: String,
        session_index: String,
        at_ns: i64,
    },
    SignIn {
        id: String,
        tenant: String,
        at_ns: i64,
        user: Option<String>,
        user_principal_name: String,
        app: Option<String>,
        protocol: String,
        result: &'static str,
        reason: Option<String>,
        ip: Option<String>,
        correlation_id: String,
    },
}

impl Write {
    pub(crate) fn participant(
        tenant: String,
        session_digest: &str,
        p: &SessionParticipant,
    ) -> StoreResult<Write> {
        Ok(Write::Participant {
            tenant,
            session_digest: session_digest.to_owned(),
            app: p.app_id.to_string(),
            name_id: p.name_id.clone(),
            name_id_format: p.name_id_format.clone(),
            session_index: p.session_index.clone(),
            at_ns: ns(p.at)?,
        })
    }

    pub(crate) fn sign_in(e: &SignInEvent) -> StoreResult<Write> {
        Ok(Write::SignIn {
            id: e.id.to_string(),
            tenant: e.tenant_id.to_string(),
            at_ns: ns(e.at)?,
            user: e.user_id.map(|u| u.to_string()),
            user_principal_name: e.user_principal_name.clone(),
            app: e.app_id.map(|a| a.to_string()),
            protocol: e.protocol.clone(),
            result: e.result.as_str(),
            reason: e.reason.clone(),
            ip: e.ip.clone(),
            correlation_id: e.correlation_id.clone(),
        })
    }
}

struct Pending {
    write: Write,
    reply: oneshot::Sender<StoreResult<()>>,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    tx: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Starts the writing task on the current runtime.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(writer, rx));
        GroupCommit { tx }
    }

    /// Writes `write` with whatever else is waiting; returns once it is committed.
    pub(crate) async fn write(&self, write: Write) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Backend("the group-commit writer has stopped".into());
        self.tx
            .send(Pending { write, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(writer: SqlitePool, mut rx: mpsc::Receiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let Ok(mut conn) = writer.acquire().await else {
            for p in batch {
                let _ = p.reply.send(Err(StoreError::Backend(
                    "the database writer is unavailable".into(),
                )));
            }
            continue;
        };
        match write_batch(&mut conn, &batch).await {
            Ok(answers) => {
                for (p, answer) in batch.into_iter().zip(answers) {
                    let _ = p.reply.send(answer);
                }
            }
            Err(_) => {
                for p in batch {
                    let answer = match write_batch(&mut conn, std::slice::from_ref(&p)).await {
                        Ok(mut one) => one.pop().unwrap_or(Ok(())),
                        Err(e) => Err(e),
                    };
                    let _ = p.reply.send(answer);
                }
            }
        }
    }
}

/// Writes `batch` in one transaction; the answer of each row, in order. `Err` when a statement
/// failed: nothing was written.
async fn write_batch(
    conn: &mut SqliteConnection,
    batch: &[Pending],
) -> StoreResult<Vec<StoreResult<()>>> {
    let mut answers: Vec<StoreResult<()>> = (0..batch.len()).map(|_| Ok(())).collect();
    let mut replays = Vec::new();
    let mut participants = Vec::new();
    let mut sign_ins = Vec::new();
    let mut seen_replays = HashSet::new();
    let mut last_participant = HashMap::new();
    for (i, p) in batch.iter().enumerate() {
        match &p.write {
            Write::Replay {
                tenant,
                issuer,
                assertion_id,
                ..
            } => {
                if seen_replays.insert((tenant, issuer, assertion_id)) {
                    replays.push(i);
                } else {
                    answers[i] = Err(StoreError::Conflict("assertion"));
                }
            }
            Write::Participant {
                session_digest,
                app,
                ..
            } => {
                // Earlier upserts of the same row are overwritten by the last: same answer.
                last_participant.insert((session_digest, app), i);
            }
            Write::SignIn { .. } => sign_ins.push(i),
        }
    }
    participants.extend(last_participant.values().copied());
    participants.sort_unstable();
    let kinds = [
        !replays.is_empty(),
        !participants.is_empty(),
        !sign_ins.is_empty(),
    ];
    let (inserted, upserted) = if kinds.iter().filter(|k| **k).count() > 1 {
        // Dropped without a commit, the transaction rolls back.
        let mut tx = conn.begin().await.map_err(db)?;
        let written = write_rows(&mut tx, batch, &replays, &participants, &sign_ins).await?;
        tx.commit().await.map_err(db)?;
        written
    } else {
        write_rows(conn, batch, &replays, &participants, &sign_ins).await?
    };
    for i in replays {
        if let Write::Replay {
            tenant,
            issuer,
            assertion_id,
            ..
        } = &batch[i].write
            && !inserted.contains(&(tenant.clone(), issuer.clone(), assertion_id.clone()))
        {
            answers[i] = Err(StoreError::Conflict("assertion"));
        }
    }
    for (i, p) in batch.iter().enumerate() {
        if let Write::Participant {
            session_digest,
            app,
            ..
        } = &p.write
            && !upserted.contains(&(session_digest.clone(), app.clone()))
        {
            answers[i] = Err(StoreError::NotFound("session"));
        }
    }
    Ok(answers)
}

async fn write_rows(
    conn: &mut SqliteConnection,
    batch: &[Pending],
    replays: &[usize],
    participants: &[usize],
    sign_ins: &[usize],
) -> StoreResult<(HashSet<ReplayKey>, HashSet<(String, String)>)> {
    let inserted = insert_replays(conn, batch, replays).await?;
    let upserted = upsert_participants(conn, batch, participants).await?;
    insert_sign_ins(conn, batch, sign_ins).await?;
    Ok((inserted, upserted))
}

/// `(${n+1}, …, ${n+width})` for each of `rows` rows.
fn placeholders(sql: &mut String, rows: usize, width: usize) {
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            let sep = if c == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}${}", r * width + c + 1);
        }
        sql.push(')');
    }
}

type ReplayKey = (String, String, String);

async fn insert_replays(
    conn: &mut SqliteConnection,
    batch: &[Pending],
    rows: &[usize],
) -> StoreResult<HashSet<ReplayKey>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let mut sql = String::from(
        "INSERT INTO saml_replay_cache (tenant_id, issuer, assertion_id, keep_until_ns) VALUES ",
    );
    placeholders(&mut sql, rows.len(), 4);
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING tenant_id, issuer, assertion_id");
    let mut q = sqlx::query_as::<Sqlite, ReplayKey>(&sql);
    for &i in rows {
        if let Write::Replay {
            tenant,
            issuer,
            assertion_id,
            keep_until_ns,
        } = &batch[i].write
        {
            q = q
                .bind(tenant)
                .bind(issuer)
                .bind(assertion_id)
                .bind(keep_until_ns);
        }
    }
    let inserted = q
        .fetch_all(&mut *conn)
        .await
        .map_err(insert_error("assertion"))?;
    Ok(inserted.into_iter().collect())
}

async fn upsert_participants(
    conn: &mut SqliteConnection,
    batch: &[Pending],
    rows: &[usize],
) -> StoreResult<HashSet<(String, String)>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    // VALUES columns are column1…column7; both rows must be in the tenant: the session, and
    // the app. (The WHERE also tells SQLite's parser the ON CONFLICT is the upsert's.)
    let mut sql = String::from(
        "INSERT INTO session_participants (session_digest, tenant_id, app_id, name_id, \
         name_id_format, session_index, at_ns) SELECT * FROM (VALUES ",
    );
    placeholders(&mut sql, rows.len(), 7);
    sql.push_str(
        ") AS v WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.tenant_id = v.column2 \
         AND s.id_digest = v.column1) AND EXISTS (SELECT 1 FROM apps a \
         WHERE a.tenant_id = v.column2 AND a.id = v.column3) \
         ON CONFLICT (session_digest, app_id) DO UPDATE SET name_id = excluded.name_id, \
         name_id_format = excluded.name_id_format, session_index = excluded.session_index, \
         at_ns = excluded.at_ns RETURNING session_digest, app_id",
    );
    let mut q = sqlx::query_as::<Sqlite, (String, String)>(&sql);
    for &i in rows {
        if let Write::Participant {
            tenant,
            session_digest,
            app,
            name_id,
            name_id_format,
            session_index,
            at_ns,
        } = &batch[i].write
        {
            q = q
                .bind(session_digest)
                .bind(tenant)
                .bind(app)
                .bind(name_id)
                .bind(name_id_format)
                .bind(session_index)
                .bind(at_ns);
        }
    }
    let upserted = q
        .fetch_all(&mut *conn)
        .await
        .map_err(db_or_missing("session"))?;
    Ok(upserted.into_iter().collect())
}

async fn insert_sign_ins(
    conn: &mut SqliteConnection,
    batch: &[Pending],
    rows: &[usize],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO sign_ins (id, tenant_id, at_ns, user_id, user_principal_name, app_id, \
         protocol, result, reason, ip, correlation_id) VALUES ",
    );
    placeholders(&mut sql, rows.len(), 11);
    let mut q = sqlx::query::<Sqlite>(&sql);
    for &i in rows {
        if let Write::SignIn {
            id,
            tenant,
            at_ns,
            user,
            user_principal_name,
            app,
            protocol,
            result,
            reason,
            ip,
            correlation_id,
        } = &batch[i].write
        {
            q = q
                .bind(id)
                .bind(tenant)
                .bind(at_ns)
                .bind(user)
                .bind(user_principal_name)
                .bind(app)
                .bind(protocol)
                .bind(*result)
                .bind(reason)
                .bind(ip)
                .bind(correlation_id);
        }
    }
    q.execute(&mut *conn)
        .await
        .map_err(db_or_missing("tenant"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_rows_then_columns() {
        let mut sql = String::new();
        placeholders(&mut sql, 2, 3);
        assert_eq!(sql, "($1, $2, $3), ($4, $5, $6)");
    }
}
