//! Generating vouchers: names by Mikhmon's scheme, the whole batch written to SQLite as
//! `planned` BEFORE anything is sent, then created on the router in one pipelined batch with
//! progress. Each answer marks its voucher `created` or `failed`; a voucher whose answer was lost
//! with the connection stays `planned` until [`reconcile_batch`] asks the router which of them
//! exist. So konter always knows exactly which vouchers of a batch are on the router.

use std::collections::HashSet;
use std::path::Path;

use chrono::NaiveDateTime;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::domain::hotspot::{self as rules, GenerateError, GenerateSpec, Rng, VoucherMode};
use crate::routeros::{Client, NewUser, RosError, UserFilter as RosUserFilter, UserProps};
use crate::store::hotspot::{BatchView, CREATED, FAILED, MISSING, PLANNED};
use crate::store::{Store, StoreError};

/// Commands in flight at once while creating a batch.
pub const WINDOW: usize = 32;

#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub profile: String,
    pub minutes: u32,
    /// Blok as typed: `A`, `blok-a`, `BLOK-A`.
    pub blok: String,
    pub count: usize,
    pub mode: VoucherMode,
    pub name_len: usize,
    pub created_by: String,
    /// The date in the comment (`mm.dd.yy`).
    pub date: chrono::NaiveDate,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum GenEvent {
    Planned { batch: i64, count: usize },
    Progress { done: usize, total: usize },
    Reconciling { batch: i64, unknown: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenerateReport {
    pub batch: i64,
    pub requested: usize,
    pub created: usize,
    pub failed: usize,
    pub missing: usize,
    /// Answers lost and not yet reconciled (the router could not be asked).
    pub unknown: usize,
    pub status: String,
    pub error: Option<String>,
}

impl GenerateReport {
    fn of(b: &BatchView) -> GenerateReport {
        GenerateReport {
            batch: b.id,
            requested: b.count as usize,
            created: b.count_in(CREATED),
            failed: b.count_in(FAILED),
            missing: b.count_in(MISSING),
            unknown: b.count_in(PLANNED),
            status: b.status.clone(),
            error: b.error.clone(),
        }
    }
}

#[derive(Debug)]
pub enum GenError {
    Request(String),
    Rules(GenerateError),
    Router(RosError),
    Store(StoreError),
}

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GenError::Request(m) => f.write_str(m),
            GenError::Rules(e) => write!(f, "{e}"),
            GenError::Router(e) => write!(f, "{e}"),
            GenError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for GenError {}

impl From<StoreError> for GenError {
    fn from(e: StoreError) -> Self {
        GenError::Store(e)
    }
}

impl From<RosError> for GenError {
    fn from(e: RosError) -> Self {
        GenError::Router(e)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, GenError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| GenError::Request(format!("internal error: {e}")))?
        .map_err(GenError::Store)
}

fn send(tx: Option<&mpsc::UnboundedSender<GenEvent>>, e: GenEvent) {
    if let Some(tx) = tx {
        let _ = tx.send(e);
    }
}

/// Generates and creates one batch. Returns the report even when the batch was interrupted;
/// errors only when nothing was sent (bad request, unknown profile, router unreachable).
pub async fn generate(
    client: &Client,
    db: &Path,
    router: &str,
    req: &GenerateRequest,
    now: NaiveDateTime,
    tx: Option<&mpsc::UnboundedSender<GenEvent>>,
) -> Result<GenerateReport, GenError> {
    let letters = rules::blok_letters(&req.blok).ok_or_else(|| {
        GenError::Request(format!(
            "'{}' is not a blok; give its letters, e.g. A or BLOK-A",
            req.blok
        ))
    })?;
    let profiles = client.user_profiles().await?;
    if !profiles.iter().any(|p| p.name == req.profile) {
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        return Err(GenError::Request(format!(
            "profile '{}' does not exist on the router (it has: {}); create it there or pick one of those",
            req.profile,
            names.join(", ")
        )));
    }
    let spec = GenerateSpec {
        mode: req.mode,
        profile: req.profile.clone(),
        minutes: req.minutes,
        blok_letters: letters.clone(),
        count: req.count,
        name_len: req.name_len,
        date: req.date,
    };
    let dbp = db.to_path_buf();
    let existing: HashSet<String> =
        blocking(move || Store::open(&dbp)?.hotspot_known_names()).await?;
    let vouchers = rules::generate_vouchers(&spec, &existing, &mut Rng::new(req.seed))
        .map_err(GenError::Rules)?;
    // The record comes first: nothing is sent before every voucher is planned in SQLite.
    let (dbp, r, p, b, m, v, by) = (
        db.to_path_buf(),
        router.to_string(),
        req.profile.clone(),
        format!("BLOK-{letters}"),
        req.mode,
        vouchers.clone(),
        req.created_by.clone(),
    );
    let batch =
        blocking(move || Store::open(&dbp)?.hotspot_plan_batch(&r, &p, &b, m, &v, &by, now))
            .await?;
    send(
        tx,
        GenEvent::Planned {
            batch,
            count: vouchers.len(),
        },
    );
    let users: Vec<NewUser> = vouchers
        .iter()
        .map(|v| NewUser {
            name: v.name.clone(),
            password: v.password.clone(),
            profile: v.profile.clone(),
            limit_uptime: v.limit_uptime.clone(),
            comment: v.comment.clone(),
            ..Default::default()
        })
        .collect();

    // A writer thread marks each voucher as its answer arrives.
    let (wtx, wrx) = std::sync::mpsc::channel::<(String, Result<String, RosError>)>();
    let dbp = db.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        let store = Store::open(&dbp)?;
        for (name, r) in wrx {
            match r {
                Ok(id) => {
                    store.hotspot_mark_voucher(batch, &name, CREATED, Some(&id), None, now)?
                }
                // A lost answer: the router may or may not have the user; reconcile decides.
                Err(e) if e.is_connection_problem() => store.hotspot_mark_voucher(
                    batch,
                    &name,
                    PLANNED,
                    None,
                    Some(&e.to_string()),
                    now,
                )?,
                Err(e) => store.hotspot_mark_voucher(
                    batch,
                    &name,
                    FAILED,
                    None,
                    Some(&e.to_string()),
                    now,
                )?,
            }
        }
        Ok(())
    });
    let total = users.len();
    let mut done = 0;
    // Pipelined adds, WINDOW in flight, answers handled in order. (Written out here rather than
    // through `Client::add_hotspot_users` so the future stays `Send` for `tokio::spawn`.)
    let mut results: Vec<Result<String, RosError>> = Vec::with_capacity(total);
    let mut inflight = futures::stream::FuturesOrdered::new();
    let mut next = 0;
    loop {
        while next < total && inflight.len() < WINDOW {
            let u = &users[next];
            let i = next;
            inflight.push_back(async move { (i, client.add_hotspot_user(u).await) });
            next += 1;
        }
        let Some((i, r)) = futures::StreamExt::next(&mut inflight).await else {
            break;
        };
        done += 1;
        let _ = wtx.send((users[i].name.clone(), r.clone()));
        if done % 10 == 0 || done == total {
            send(tx, GenEvent::Progress { done, total });
        }
        results.push(r);
    }
    drop(wtx);
    writer
        .await
        .map_err(|e| GenError::Request(format!("internal error: {e}")))??;
    let lost: Vec<&RosError> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| e.is_connection_problem())
        .collect();
    let dbp = db.to_path_buf();
    if lost.is_empty() {
        blocking(move || Store::open(&dbp)?.hotspot_finish_batch(batch, "done", None, now)).await?;
    } else {
        let msg = lost[0].to_string();
        blocking(move || {
            Store::open(&dbp)?.hotspot_finish_batch(batch, "interrupted", Some(&msg), now)
        })
        .await?;
    }
    let dbp = db.to_path_buf();
    let view = blocking(move || Store::open(&dbp)?.hotspot_batch(batch))
        .await?
        .ok_or_else(|| GenError::Request(format!("batch {batch} vanished")))?;
    Ok(GenerateReport::of(&view))
}

/// Asks the router which still-unknown (`planned`) vouchers of a batch exist, and marks them
/// `created` or `missing`. Safe to repeat.
pub async fn reconcile_batch(
    client: &Client,
    db: &Path,
    batch: i64,
    now: NaiveDateTime,
    tx: Option<&mpsc::UnboundedSender<GenEvent>>,
) -> Result<GenerateReport, GenError> {
    let dbp = db.to_path_buf();
    let view = blocking(move || Store::open(&dbp)?.hotspot_batch(batch))
        .await?
        .ok_or_else(|| GenError::Request(format!("there is no voucher batch {batch}")))?;
    let unknown: Vec<String> = view
        .vouchers
        .iter()
        .filter(|v| v.state == PLANNED)
        .map(|v| v.name.clone())
        .collect();
    send(
        tx,
        GenEvent::Reconciling {
            batch,
            unknown: unknown.len(),
        },
    );
    let mut found: Vec<(String, String)> = Vec::new();
    for chunk in unknown.chunks(100) {
        let users = client
            .hotspot_users(&RosUserFilter::Names(chunk.to_vec()), UserProps::Sync)
            .await?;
        found.extend(users.into_iter().map(|u| (u.name, u.id)));
    }
    let dbp = db.to_path_buf();
    let view = blocking(move || {
        let store = Store::open(&dbp)?;
        let present: std::collections::HashMap<String, String> = found.into_iter().collect();
        for name in &unknown {
            match present.get(name) {
                Some(id) => {
                    store.hotspot_mark_voucher(batch, name, CREATED, Some(id), None, now)?
                }
                None => store.hotspot_mark_voucher(
                    batch,
                    name,
                    MISSING,
                    None,
                    Some("not on the router after the interruption; it was never created"),
                    now,
                )?,
            }
        }
        let status = if view.status == "done" {
            "done"
        } else {
            "reconciled"
        };
        store.hotspot_finish_batch(batch, status, view.error.as_deref(), now)?;
        store.hotspot_batch(batch)
    })
    .await?
    .ok_or_else(|| GenError::Request(format!("batch {batch} vanished")))?;
    Ok(GenerateReport::of(&view))
}

/// Reconciles every unfinished batch of this router (run before a new batch and by the CLI).
pub async fn reconcile_unfinished(
    client: &Client,
    db: &Path,
    router: &str,
    now: NaiveDateTime,
) -> Result<Vec<GenerateReport>, GenError> {
    let (dbp, r) = (db.to_path_buf(), router.to_string());
    let ids = blocking(move || Store::open(&dbp)?.hotspot_unfinished_batches(&r)).await?;
    let mut out = Vec::new();
    for id in ids {
        out.push(reconcile_batch(client, db, id, now, None).await?);
    }
    Ok(out)
}
