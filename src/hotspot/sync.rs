//! The sync job: router -> SQLite. Users (with `.proplist`), active sessions and Mikhmon sales
//! records are read concurrently over one connection (`.tag` multiplexing), then written in one
//! transaction on a blocking thread. Only changed rows are written and only unseen sales
//! records are parsed, so a repeated sync is cheap. Progress goes out as messages.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::routeros::{
    Client, RosError, Router, SkippedUser, UserFilter as RosUserFilter, UserProps,
};
use crate::store::hotspot::{HotspotRules, RouterActive, RouterUser, SalesStats, SnapshotStats};
use crate::store::{Store, StoreError};

/// Progress and outcome messages of a sync, for the status bar and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    Started,
    /// Users read so far.
    Users {
        read: usize,
    },
    /// Router read finished; writing to SQLite.
    Writing {
        users: usize,
        active: usize,
        scripts: usize,
    },
    Finished(SyncReport),
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncReport {
    pub users: usize,
    pub active: usize,
    pub scripts: usize,
    pub snapshot: SnapshotStats,
    pub sales: SalesStats,
    pub read_ms: u64,
    pub write_ms: u64,
    pub total_ms: u64,
    /// Users the router listed that could not be read (an oversized property); everything
    /// else was synced, and their stored rows were left as they were.
    pub skipped: Vec<SkippedUser>,
}

impl SyncReport {
    /// One warning line per skipped user, in the cashier's language.
    pub fn warnings(&self, lang: crate::i18n::Lang) -> Vec<String> {
        self.skipped.iter().map(|s| s.text(lang)).collect()
    }
}

#[derive(Debug)]
pub enum SyncError {
    Router(RosError),
    Store(StoreError),
    Join(String),
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Router(e) => write!(f, "sync from the router failed: {e}"),
            SyncError::Store(e) => write!(f, "sync could not be saved: {e}"),
            SyncError::Join(e) => write!(f, "sync stopped unexpectedly: {e}"),
        }
    }
}

impl std::error::Error for SyncError {}

impl From<RosError> for SyncError {
    fn from(e: RosError) -> Self {
        SyncError::Router(e)
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Store(e)
    }
}

fn send(tx: Option<&mpsc::UnboundedSender<SyncEvent>>, e: SyncEvent) {
    if let Some(tx) = tx {
        let _ = tx.send(e);
    }
}

fn to_user(u: crate::routeros::HotspotUser) -> RouterUser {
    RouterUser {
        router_id: u.id,
        name: u.name,
        profile: u.profile,
        comment: u.comment,
        disabled: u.disabled,
        limit_uptime: u.limit_uptime.unwrap_or_default(),
        uptime_s: u.uptime_secs,
        bytes_in: u.bytes_in,
        bytes_out: u.bytes_out,
    }
}

/// Everything one sync reads from the router.
pub struct RouterSnapshot {
    pub users: Vec<RouterUser>,
    pub active: Vec<RouterActive>,
    pub scripts: Vec<(String, String)>,
    /// Users listed but not read (a property over the size limit).
    pub skipped: Vec<SkippedUser>,
}

/// Reads users, active sessions and sales records at once over one connection.
pub async fn read_router(
    client: &Client,
    props: UserProps,
    tx: Option<&mpsc::UnboundedSender<SyncEvent>>,
) -> Result<RouterSnapshot, RosError> {
    let users_fut = async {
        let mut users = Vec::new();
        let (_, skipped) = client
            .each_hotspot_user_skipping(&RosUserFilter::All, props, |u| {
                users.push(to_user(u));
                if users.len() % 2000 == 0 {
                    send(tx, SyncEvent::Users { read: users.len() });
                }
            })
            .await?;
        Ok::<_, RosError>((users, skipped))
    };
    let (users, active, scripts) = tokio::join!(
        users_fut,
        client.active_sessions(),
        client.scripts(Some("mikhmon"))
    );
    let (users, skipped) = users?;
    Ok(RouterSnapshot {
        users,
        skipped,
        active: active?
            .into_iter()
            .map(|a| RouterActive {
                router_id: a.id,
                username: a.user,
                address: a.address,
                mac: a.mac_address,
                uptime_s: a.uptime_secs,
                bytes: a.bytes_in + a.bytes_out,
            })
            .collect(),
        scripts: scripts?.into_iter().map(|s| (s.id, s.name)).collect(),
    })
}

/// One sync: read the router, write SQLite (on a blocking thread), record the outcome.
pub async fn sync_once(
    client: &Client,
    db: &Path,
    rules: &HotspotRules,
    router: &str,
    now: NaiveDateTime,
    tx: Option<&mpsc::UnboundedSender<SyncEvent>>,
) -> Result<SyncReport, SyncError> {
    sync_with(client, db, rules, router, now, tx, UserProps::Sync).await
}

/// [`sync_once`] reading users with the given properties. `UserProps::All` is the naive way
/// (every property of every user, as Mikhmon prints them); the benchmark compares the two.
pub async fn sync_with(
    client: &Client,
    db: &Path,
    rules: &HotspotRules,
    router: &str,
    now: NaiveDateTime,
    tx: Option<&mpsc::UnboundedSender<SyncEvent>>,
    props: UserProps,
) -> Result<SyncReport, SyncError> {
    let t0 = Instant::now();
    send(tx, SyncEvent::Started);
    let snap = match read_router(client, props, tx).await {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            let (db, router) = (db.to_path_buf(), router.to_string());
            let _ = tokio::task::spawn_blocking(move || {
                Store::open(&db).and_then(|s| s.hotspot_record_sync(&router, now, Err(&msg)))
            })
            .await;
            send(
                tx,
                SyncEvent::Failed {
                    message: SyncError::Router(e.clone()).to_string(),
                },
            );
            return Err(SyncError::Router(e));
        }
    };
    let read_ms = t0.elapsed().as_millis() as u64;
    send(
        tx,
        SyncEvent::Writing {
            users: snap.users.len(),
            active: snap.active.len(),
            scripts: snap.scripts.len(),
        },
    );
    let t1 = Instant::now();
    let (db, router, rules) = (db.to_path_buf(), router.to_string(), rules.clone());
    let result =
        tokio::task::spawn_blocking(move || write_snapshot(&db, &router, &rules, snap, now))
            .await
            .map_err(|e| SyncError::Join(e.to_string()))?;
    match result {
        Ok((users, active, scripts, snapshot, sales, skipped)) => {
            let report = SyncReport {
                skipped,
                users,
                active,
                scripts,
                snapshot,
                sales,
                read_ms,
                write_ms: t1.elapsed().as_millis() as u64,
                total_ms: t0.elapsed().as_millis() as u64,
            };
            send(tx, SyncEvent::Finished(report.clone()));
            Ok(report)
        }
        Err(e) => {
            send(
                tx,
                SyncEvent::Failed {
                    message: e.to_string(),
                },
            );
            Err(e)
        }
    }
}

type Written = (
    usize,
    usize,
    usize,
    SnapshotStats,
    SalesStats,
    Vec<SkippedUser>,
);

fn write_snapshot(
    db: &Path,
    router: &str,
    rules: &HotspotRules,
    snap: RouterSnapshot,
    now: NaiveDateTime,
) -> Result<Written, SyncError> {
    let mut store = Store::open(db)?;
    let keep: Vec<String> = snap.skipped.iter().map(|s| s.id.clone()).collect();
    let snapshot =
        store.hotspot_apply_snapshot_keeping(&snap.users, &snap.active, &keep, now, rules)?;
    let sales = store.hotspot_ingest_sales(&snap.scripts, now, rules)?;
    store.hotspot_record_sync(router, now, Ok((snap.users.len(), snap.active.len())))?;
    Ok((
        snap.users.len(),
        snap.active.len(),
        snap.scripts.len(),
        snapshot,
        sales,
        snap.skipped,
    ))
}

/// Local wall-clock time, as the jobs stamp rows (rules never read the clock themselves).
pub fn local_now() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// Syncs every `every` until the receiver side is dropped or `stop` turns true. Connection
/// problems are reported (and shown in the status bar by the router's state) and retried on the
/// next round; the router handle reconnects with backoff.
pub fn spawn_sync_loop(
    router: Router,
    router_label: String,
    db: PathBuf,
    rules: HotspotRules,
    every: Duration,
    tx: mpsc::UnboundedSender<SyncEvent>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match router.client().await {
                Ok(c) => {
                    if let Err(SyncError::Router(e)) =
                        sync_once(&c, &db, &rules, &router_label, local_now(), Some(&tx)).await
                    {
                        router.note_error(&e);
                    }
                }
                Err(e) => {
                    if tx
                        .send(SyncEvent::Failed {
                            message: e.to_string(),
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            }
            if tx.is_closed() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    })
}
