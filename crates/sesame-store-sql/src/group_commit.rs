//! Group commit of the SQLite writes every sign-in makes: the SAML replay cache (issue 5,
//! `bench saml-acs`), the sign-in log and the SSO session participants (issue 4,
//! `bench saml-idp`).
//!
//! On SQLite all writes are serialized, so one commit per call makes the writer the bottleneck
//! long before the CPU. Callers hand their row to one task, which writes whatever has queued up
//! in one transaction and answers each caller once it is committed. The answers are those of
//! one statement per call:
//! - replay cache: INSERT … ON CONFLICT DO NOTHING; a row not inserted was already there
//!   (Conflict `assertion`, a replay), including a second copy within the batch;
//! - participants: the upsert of `add_session_participant` (only when the session and the app
//!   are in the tenant, else NotFound `session`); for one (session, app) the last one wins;
//! - sign-in log: plain INSERT.
//!
//! On a database file the task writes the batch itself (`inline_writes.rs`). Otherwise — in
//! memory, or when sqlx's writer holds the write lock — it goes through sqlx's writer as one
//! multi-row statement per kind (RETURNING the rows written); when a statement fails there (a
//! row whose tenant was deleted meanwhile), the batch is rolled back and every row is written
//! again on its own, so that each caller gets its own answer.

use crate::error::{db, db_or_missing};
use crate::impls::federation::insert_error;
use crate::inline_writes::InlineWrites;
use crate::rows::ns;
use sesame_model::{SessionParticipant, SignInEvent};
use sesame_store::{StoreError, StoreResult};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
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

/// One value of a row, as both paths bind it.
pub(crate) enum Value<'a> {
    Text(&'a str),
    MaybeText(Option<&'a str>),
    Int(i64),
}

impl Write {
    /// The row's values in the order of its statement's columns, the same for both paths:
    /// replay (tenant, issuer, assertion id, keep until); participant (session digest, tenant,
    /// app, NameID, its format, SessionIndex, at); sign-in (the columns of `sign_ins`).
    pub(crate) fn values(&self) -> Vec<Value<'_>> {
        use Value::{Int, MaybeText, Text};
        match self {
            Write::Replay {
                tenant,
                issuer,
                assertion_id,
                keep_until_ns,
            } => vec![
                Text(tenant),
                Text(issuer),
                Text(assertion_id),
                Int(*keep_until_ns),
            ],
            Write::Participant {
                tenant,
                session_digest,
                app,
                name_id,
                name_id_format,
                session_index,
                at_ns,
            } => vec![
                Text(session_digest),
                Text(tenant),
                Text(app),
                Text(name_id),
                Text(name_id_format),
                Text(session_index),
                Int(*at_ns),
            ],
            Write::SignIn {
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
            } => vec![
                Text(id),
                Text(tenant),
                Int(*at_ns),
                MaybeText(user.as_deref()),
                Text(user_principal_name),
                MaybeText(app.as_deref()),
                Text(protocol),
                Text(result),
                MaybeText(reason.as_deref()),
                MaybeText(ip.as_deref()),
                Text(correlation_id),
            ],
        }
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
    /// Starts the writing task on the current runtime; `file`, the database's file, to write
    /// on the task's thread when the write lock is free (`inline_writes.rs`).
    pub(crate) fn start(writer: SqlitePool, file: Option<&Path>) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let inline = file.map(InlineWrites::new);
        tokio::spawn(run(writer, inline, rx));
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

async fn run(
    writer: SqlitePool,
    mut inline: Option<InlineWrites>,
    mut rx: mpsc::Receiver<Pending>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        if inline.is_some() {
            // One turn of the runtime's queue first: sign-ins already under way on this
            // thread add their rows to this commit instead of paying for one each. (Through
            // the pool, the hand-over to its thread leaves that time by itself.)
            tokio::task::yield_now().await;
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let written = inline
            .as_mut()
            .and_then(|w| w.write(batch.iter().map(|p| &p.write)));
        let answers = match written {
            Some(answers) => answers,
            None => write_through_pool(&writer, &batch).await,
        };
        for (p, answer) in batch.into_iter().zip(answers) {
            let _ = p.reply.send(answer);
        }
        if inline.as_mut().is_some_and(InlineWrites::checkpoint_due) {
            tokio::spawn(checkpoint(writer.clone()));
        }
    }
}

/// Copies the WAL back into the database on sqlx's writer thread, so that no runtime thread
/// waits for it (nor for its fsync); writers go on appending meanwhile (a passive checkpoint
/// does not take the write lock).
async fn checkpoint(writer: SqlitePool) {
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(&writer)
        .await
    {
        tracing::warn!(error = %e, "WAL checkpoint failed");
    }
}

/// The answer of each row of `batch`, written through sqlx's writer: the whole batch in one
/// transaction, or, when a statement fails, each row on its own.
async fn write_through_pool(writer: &SqlitePool, batch: &[Pending]) -> Vec<StoreResult<()>> {
    let mut conn = match writer.acquire().await {
        Ok(conn) => conn,
        Err(_) => {
            let unavailable = || StoreError::Backend("the database writer is unavailable".into());
            return batch.iter().map(|_| Err(unavailable())).collect();
        }
    };
    if let Ok(answers) = write_batch(&mut conn, batch).await {
        return answers;
    }
    let mut answers = Vec::with_capacity(batch.len());
    for p in batch {
        answers.push(
            match write_batch(&mut conn, std::slice::from_ref(p)).await {
                Ok(mut one) => one.pop().unwrap_or(Ok(())),
                Err(e) => Err(e),
            },
        );
    }
    answers
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
    let (sql, kind) = script(&replays, &participants, &sign_ins);
    // Prepared once per batch shape (rows of each kind) and kept in the writer's statement
    // cache, sized for them in `sqlite.rs`.
    let mut q = sqlx::query_as::<Sqlite, Returned>(&sql);
    for &i in replays.iter().chain(&participants).chain(&sign_ins) {
        q = bind(q, &batch[i].write);
    }
    // One round trip to the connection's thread for the whole batch.
    let returned = match q.fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(e) => {
            if kind.is_none() {
                // The script stopped inside its transaction.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            }
            return Err(match kind {
                Some(Kind::Replay) => insert_error("assertion")(e),
                Some(Kind::Participant) => db_or_missing("session")(e),
                Some(Kind::SignIn) => db_or_missing("tenant")(e),
                None => db(e),
            });
        }
    };
    let written: HashSet<Returned> = returned.into_iter().collect();
    for (i, p) in batch.iter().enumerate() {
        let key = match &p.write {
            Write::Replay {
                tenant,
                issuer,
                assertion_id,
                ..
            } if replays.contains(&i) => returned_key(REPLAY, tenant, issuer, assertion_id),
            Write::Participant {
                session_digest,
                app,
                ..
            } => returned_key(PARTICIPANT, session_digest, app, ""),
            _ => continue,
        };
        if !written.contains(&key) {
            answers[i] = Err(match p.write {
                Write::Replay { .. } => StoreError::Conflict("assertion"),
                _ => StoreError::NotFound("session"),
            });
        }
    }
    Ok(answers)
}

/// What the RETURNING clauses give back: a tag naming the statement, then the row's key.
type Returned = (String, String, String, String);
const REPLAY: &str = "replay";
const PARTICIPANT: &str = "participant";

fn returned_key(tag: &str, a: &str, b: &str, c: &str) -> Returned {
    (tag.to_owned(), a.to_owned(), b.to_owned(), c.to_owned())
}

#[derive(Clone, Copy)]
enum Kind {
    Replay,
    Participant,
    SignIn,
}

/// One multi-row statement per kind, numbered in that order; inside BEGIN … COMMIT when there
/// are several. Also the kind when there is only one (its errors are that statement's).
fn script(replays: &[usize], participants: &[usize], sign_ins: &[usize]) -> (String, Option<Kind>) {
    let mut sql = String::new();
    let mut next = 0;
    let mut kinds = Vec::new();
    if !replays.is_empty() {
        kinds.push(Kind::Replay);
        sql.push_str(
            "INSERT INTO saml_replay_cache (tenant_id, issuer, assertion_id, keep_until_ns) \
             VALUES ",
        );
        placeholders(&mut sql, &mut next, replays.len(), 4);
        let _ = write!(
            sql,
            " ON CONFLICT DO NOTHING RETURNING '{REPLAY}', tenant_id, issuer, assertion_id;"
        );
    }
    if !participants.is_empty() {
        kinds.push(Kind::Participant);
        // VALUES columns are column1…column7; both rows must be in the tenant: the session,
        // and the app. (The WHERE also tells SQLite's parser the ON CONFLICT is the upsert's.)
        sql.push_str(
            "INSERT INTO session_participants (session_digest, tenant_id, app_id, name_id, \
             name_id_format, session_index, at_ns) SELECT * FROM (VALUES ",
        );
        placeholders(&mut sql, &mut next, participants.len(), 7);
        let _ = write!(
            sql,
            ") AS v WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.tenant_id = v.column2 \
             AND s.id_digest = v.column1) AND EXISTS (SELECT 1 FROM apps a \
             WHERE a.tenant_id = v.column2 AND a.id = v.column3) \
             ON CONFLICT (session_digest, app_id) DO UPDATE SET name_id = excluded.name_id, \
             name_id_format = excluded.name_id_format, session_index = excluded.session_index, \
             at_ns = excluded.at_ns RETURNING '{PARTICIPANT}', session_digest, app_id, '';"
        );
    }
    if !sign_ins.is_empty() {
        kinds.push(Kind::SignIn);
        sql.push_str(
            "INSERT INTO sign_ins (id, tenant_id, at_ns, user_id, user_principal_name, app_id, \
             protocol, result, reason, ip, correlation_id) VALUES ",
        );
        placeholders(&mut sql, &mut next, sign_ins.len(), 11);
        sql.push(';');
    }
    match kinds.as_slice() {
        [one] => (sql, Some(*one)),
        _ => (format!("BEGIN IMMEDIATE; {sql} COMMIT;"), None),
    }
}

type Query<'q> = sqlx::query::QueryAs<'q, Sqlite, Returned, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds the row's values in the order of its statement's columns.
fn bind<'q>(mut q: Query<'q>, write: &'q Write) -> Query<'q> {
    for value in write.values() {
        q = match value {
            Value::Text(v) => q.bind(v),
            Value::MaybeText(v) => q.bind(v),
            Value::Int(v) => q.bind(v),
        };
    }
    q
}

/// `($n, …)` for each of `rows` rows of `width` values, numbering on from `next`.
fn placeholders(sql: &mut String, next: &mut usize, rows: usize, width: usize) {
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            *next += 1;
            let sep = if c == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}${next}");
        }
        sql.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_rows_then_columns_across_statements() {
        let mut sql = String::new();
        let mut next = 0;
        placeholders(&mut sql, &mut next, 2, 3);
        sql.push_str("; ");
        placeholders(&mut sql, &mut next, 1, 2);
        assert_eq!(sql, "($1, $2, $3), ($4, $5, $6); ($7, $8)");
    }
}
