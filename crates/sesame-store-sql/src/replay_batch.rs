//! Group commit of the SAML replay cache on SQLite (issue 5, `bench saml-acs`).
//!
//! Every accepted assertion is one INSERT; on SQLite all writes go through one connection, so
//! under load the ACS waits for the writer, not the CPU. Callers hand their row to one task,
//! which writes whatever has queued up as a single multi-row INSERT … ON CONFLICT DO NOTHING
//! RETURNING, and answers each caller once the batch is committed: a row that was not
//! inserted was already there (Conflict `assertion`, a replay). Semantics are those of one
//! INSERT per call; only the number of commits changes.

use sesame_store::{StoreError, StoreResult};
use sqlx::SqlitePool;
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot};

/// Rows per statement (4 parameters each, far below SQLite's limit).
const MAX_BATCH: usize = 128;

struct Pending {
    tenant: String,
    issuer: String,
    assertion_id: String,
    keep_until_ns: i64,
    reply: oneshot::Sender<StoreResult<()>>,
}

#[derive(Debug, Clone)]
pub(crate) struct ReplayBatcher {
    tx: mpsc::Sender<Pending>,
}

impl ReplayBatcher {
    /// Starts the writing task on the current runtime.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(writer, rx));
        ReplayBatcher { tx }
    }

    pub(crate) async fn remember(
        &self,
        tenant: String,
        issuer: &str,
        assertion_id: &str,
        keep_until_ns: i64,
    ) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Backend("the replay-cache writer has stopped".into());
        self.tx
            .send(Pending {
                tenant,
                issuer: issuer.to_owned(),
                assertion_id: assertion_id.to_owned(),
                keep_until_ns,
                reply,
            })
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
        flush(&writer, batch).await;
    }
}

type Key = (String, String, String);

fn key(p: &Pending) -> Key {
    (p.tenant.clone(), p.issuer.clone(), p.assertion_id.clone())
}

async fn flush(writer: &SqlitePool, batch: Vec<Pending>) {
    // The same assertion twice in one batch: the first is written, the others are replays.
    let mut seen = HashSet::new();
    let (rows, replays): (Vec<Pending>, Vec<Pending>) =
        batch.into_iter().partition(|p| seen.insert(key(p)));
    for p in replays {
        let _ = p.reply.send(Err(StoreError::Conflict("assertion")));
    }
    let mut sql = String::from(
        "INSERT INTO saml_replay_cache (tenant_id, issuer, assertion_id, keep_until_ns) VALUES ",
    );
    for i in 0..rows.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        let n = i * 4;
        sql.push_str(&format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4));
    }
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING tenant_id, issuer, assertion_id");
    let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
    for p in &rows {
        q = q
            .bind(&p.tenant)
            .bind(&p.issuer)
            .bind(&p.assertion_id)
            .bind(p.keep_until_ns);
    }
    match q.fetch_all(writer).await {
        Ok(inserted) => {
            let inserted: HashSet<Key> = inserted.into_iter().collect();
            for p in rows {
                let r = if inserted.contains(&key(&p)) {
                    Ok(())
                } else {
                    Err(StoreError::Conflict("assertion"))
                };
                let _ = p.reply.send(r);
            }
        }
        // One bad row (a tenant deleted meanwhile) fails the statement: write the rows one by
        // one so that each caller gets its own answer.
        Err(_) => {
            for p in rows {
                let r = sqlx::query(
                    "INSERT INTO saml_replay_cache (tenant_id, issuer, assertion_id, keep_until_ns) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&p.tenant)
                .bind(&p.issuer)
                .bind(&p.assertion_id)
                .bind(p.keep_until_ns)
                .execute(writer)
                .await
                .map(|_| ())
                .map_err(crate::impls::federation::insert_error("assertion"));
                let _ = p.reply.send(r);
            }
        }
    }
}
