//! F4 wired to its jobs: a background sync loop, row reloads on a blocking thread after each
//! sync (live refresh), detail loads and generate batches. Everything slow runs on tokio and
//! comes back as [`F4Msg`]; the UI thread only drains messages ([`F4::pump`]) and draws.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;
use tokio::sync::{mpsc, watch};

use super::generate::{self, GenEvent, GenerateReport, GenerateRequest};
use super::screen::{HotspotScreen, ScreenRequest};
use super::sync::{self, local_now, SyncEvent};
use crate::config::Config;
use crate::i18n::Lang;
use crate::routeros::{ConnState, Router};
use crate::store::hotspot::{UserDetail, UserFilter, UserView};
use crate::store::Store;

/// Results of background work, drained by the UI thread.
#[derive(Debug)]
pub enum F4Msg {
    Sync(SyncEvent),
    Rows(Vec<UserView>),
    Detail(Option<Box<UserDetail>>),
    Gen(GenEvent),
    GenDone(Result<GenerateReport, String>),
    /// A print finished: what was printed where, or why not.
    Printed(Result<String, String>),
    Error(String),
    /// The router's connection state changed (read it with [`F4::router_state`]).
    RouterState,
}

/// Where background work reports: a channel the UI drains, plus an optional waker that tells
/// the app's event loop to drain it now (the TUI shell only runs screens on actions).
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<F4Msg>,
    wake: Option<Waker>,
}

/// Called after each message, from any thread.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

impl Outbox {
    /// Sends and wakes; false when the screen is gone.
    pub fn send(&self, m: F4Msg) -> bool {
        if self.tx.send(m).is_err() {
            return false;
        }
        if let Some(w) = &self.wake {
            w();
        }
        true
    }
}

pub struct F4 {
    pub screen: HotspotScreen,
    lang: Lang,
    db: PathBuf,
    router: Router,
    config: Config,
    tx: Outbox,
    rx: mpsc::UnboundedReceiver<F4Msg>,
    stop: watch::Sender<bool>,
    last_sync_ok: Option<Instant>,
    syncing: bool,
    /// The notice under the table is a sync error (cleared by the next good sync).
    sync_error_shown: bool,
    /// Jobs running now, for the status bar: (label, done, total).
    pub job: Option<(String, usize, usize)>,
    /// The batch generated last in this session (`P` prints it again).
    pub last_batch: Option<i64>,
    /// Syncs finished since start (benchmarks and tests wait on it).
    pub syncs_done: usize,
    /// Row reloads applied since start.
    pub reloads: usize,
}

impl F4 {
    pub fn new(config: &Config, router: Router) -> F4 {
        Self::with_waker(config, router, None)
    }

    pub fn with_waker(config: &Config, router: Router, wake: Option<Waker>) -> F4 {
        let lang = config.shop.language;
        let (tx, rx) = mpsc::unbounded_channel();
        let tx = Outbox { tx, wake };
        let (stop, _) = watch::channel(false);
        let mut screen = HotspotScreen::new(
            lang,
            config.hotspot.profiles.clone(),
            &config.hotspot.blok_letters,
        );
        screen.title = format!("router: {}", config.router.addr);
        F4 {
            screen,
            lang,
            db: config.db_path(),
            router,
            config: config.clone(),
            tx,
            rx,
            stop,
            last_sync_ok: None,
            syncing: false,
            sync_error_shown: false,
            job: None,
            last_batch: None,
            syncs_done: 0,
            reloads: 0,
        }
    }

    /// Uses this database file instead of the config's (the app shell's own store).
    pub fn set_db(&mut self, db: PathBuf) {
        self.db = db;
    }

    /// Starts the sync loop and the first row load. Call inside a tokio runtime.
    pub fn start(&mut self) {
        self.reload_rows();
        if !self.router.is_enabled() {
            return;
        }
        // state changes of the router wake the UI, so the status bar follows them
        let mut state = self.router.state();
        let out = self.tx.clone();
        let mut stop = self.stop.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    r = state.changed() => {
                        if r.is_err() || !out.send(F4Msg::RouterState) {
                            return;
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
        });
        let (stx, mut srx) = mpsc::unbounded_channel();
        sync::spawn_sync_loop(
            self.router.clone(),
            self.config.router.addr.clone(),
            self.db.clone(),
            self.config.hotspot.rules(),
            Duration::from_secs(self.config.hotspot.sync_interval_s.max(1)),
            stx,
            self.stop.subscribe(),
        );
        let tx = self.tx.clone();
        tokio::spawn(async move {
            while let Some(ev) = srx.recv().await {
                if !tx.send(F4Msg::Sync(ev)) {
                    return;
                }
            }
        });
    }

    /// The router's connection state, for the status bar.
    pub fn router_state(&self) -> ConnState {
        self.router.current_state()
    }

    fn reload_rows(&self) {
        let (db, tx) = (self.db.clone(), self.tx.clone());
        tokio::task::spawn_blocking(move || {
            let msg = match Store::open(&db).and_then(|s| s.hotspot_users(&UserFilter::default())) {
                Ok(rows) => F4Msg::Rows(rows),
                Err(e) => F4Msg::Error(e.to_string()),
            };
            let _ = tx.send(msg);
        });
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        match self.screen.handle_key(key) {
            None => {}
            Some(ScreenRequest::Detail(name)) => {
                let (db, tx) = (self.db.clone(), self.tx.clone());
                tokio::task::spawn_blocking(move || {
                    let msg = match Store::open(&db).and_then(|s| s.hotspot_user_detail(&name)) {
                        Ok(d) => F4Msg::Detail(d.map(Box::new)),
                        Err(e) => F4Msg::Error(e.to_string()),
                    };
                    let _ = tx.send(msg);
                });
            }
            Some(ScreenRequest::Sync) => self.sync_now(),
            Some(ScreenRequest::Print(name)) => self.print(Some(name)),
            Some(ScreenRequest::PrintBatch) => self.print(None),
            Some(ScreenRequest::Generate {
                profile,
                blok,
                count,
            }) => self.generate(profile, blok, count),
        }
    }

    /// Prints one voucher (`Some(name)`) or the last generated batch to `[hotspot] printer`.
    fn print(&mut self, name: Option<String>) {
        let l = self.lang;
        let dest = match super::print::PrintDest::parse(&self.config.hotspot.printer) {
            Ok(d) => d,
            Err(_) => {
                self.screen.notice = Some(
                    l.t(
                        "printer belum diatur: isi [hotspot] printer (mis. tcp:192.168.1.50 atau /dev/usb/lp0)",
                        "no printer set: fill in [hotspot] printer (e.g. tcp:192.168.1.50 or /dev/usb/lp0)",
                    )
                    .into(),
                );
                return;
            }
        };
        let paper = match super::print::Paper::from_mm(self.config.hotspot.paper_mm) {
            Ok(p) => p,
            Err(e) => {
                self.screen.notice = Some(e.to_string());
                return;
            }
        };
        let batch = self.last_batch;
        if name.is_none() && batch.is_none() {
            self.screen.notice = Some(
                l.t(
                    "belum ada batch dibuat di sesi ini; tekan g untuk membuat voucher",
                    "no batch generated in this session; press g to generate",
                )
                .into(),
            );
            return;
        }
        let (db, tx, hs, shop) = (
            self.db.clone(),
            self.tx.clone(),
            self.config.hotspot.clone(),
            self.config.shop.name.clone(),
        );
        let (hs2, lang) = (self.config.hotspot.clone(), self.lang);
        tokio::spawn(async move {
            let login_url = hs2.login_url.clone();
            let tickets = tokio::task::spawn_blocking(move || -> Result<Vec<super::print::Ticket>, String> {
                let store = Store::open(&db).map_err(|e| e.to_string())?;
                match name {
                    Some(n) => {
                        let users = store
                            .hotspot_users(&UserFilter {
                                search: Some(n.clone()),
                                ..Default::default()
                            })
                            .map_err(|e| e.to_string())?;
                        let u = users
                            .into_iter()
                            .find(|u| u.name == n)
                            .ok_or_else(|| format!("user {n} is gone"))?;
                        let password = match store
                            .hotspot_voucher_password(&n)
                            .map_err(|e| e.to_string())?
                        {
                            Some(p) => p,
                            // Mikhmon vc- vouchers: the password is the name
                            None if u.comment.starts_with("vc-") || u.comment.contains("| Blok-") => {
                                n.clone()
                            }
                            None => {
                                return Err(format!(
                                    "the password of {n} is not known to konter (made elsewhere); print it from the router"
                                ))
                            }
                        };
                        let prof = hs.profile(&u.profile);
                        Ok(vec![super::print::Ticket {
                            name: n,
                            password,
                            profile: u.profile.clone(),
                            minutes: prof.map(|p| p.minutes).unwrap_or(0),
                            blok: u.blok.clone().unwrap_or_default(),
                            price: prof.map(|p| p.price).unwrap_or(0),
                        }])
                    }
                    None => {
                        let id = batch.unwrap_or_default();
                        let b = store
                            .hotspot_batch(id)
                            .map_err(|e| e.to_string())?
                            .ok_or_else(|| format!("batch {id} is gone"))?;
                        Ok(super::print::tickets_of(&hs, &b))
                    }
                }
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            let out = match tickets {
                Ok(t) => super::print::print_tickets(&dest, &t, paper, &shop, &login_url, lang)
                    .await
                    .map(|n| format!("{n} voucher -> {dest}"))
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            tx.send(F4Msg::Printed(out));
        });
    }

    fn sync_now(&mut self) {
        if self.syncing {
            return;
        }
        self.syncing = true;
        let (router, db, rules, label, tx) = (
            self.router.clone(),
            self.db.clone(),
            self.config.hotspot.rules(),
            self.config.router.addr.clone(),
            self.tx.clone(),
        );
        tokio::spawn(async move {
            let (etx, mut erx) = mpsc::unbounded_channel();
            let fwd = {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while let Some(e) = erx.recv().await {
                        let _ = tx.send(F4Msg::Sync(e));
                    }
                })
            };
            match router.client().await {
                Ok(c) => {
                    if let Err(sync::SyncError::Router(e)) =
                        sync::sync_once(&c, &db, &rules, &label, local_now(), Some(&etx)).await
                    {
                        router.note_error(&e);
                    }
                }
                Err(e) => {
                    let _ = etx.send(SyncEvent::Failed {
                        message: e.to_string(),
                    });
                }
            }
            drop(etx);
            let _ = fwd.await;
        });
    }

    fn generate(&mut self, profile: String, blok: String, count: usize) {
        let Some(p) = self.config.hotspot.profile(&profile).cloned() else {
            self.screen.notice = Some(format!("profile {profile}?"));
            return;
        };
        let req = GenerateRequest {
            profile: p.name,
            minutes: p.minutes,
            blok,
            count,
            mode: self.config.hotspot.mode,
            name_len: self.config.hotspot.name_len,
            created_by: self.config.shop.user.clone(),
            date: local_now().date(),
            seed: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1),
        };
        self.job = Some((self.lang.t("buat voucher", "generate").into(), 0, count));
        let (router, db, label, tx) = (
            self.router.clone(),
            self.db.clone(),
            self.config.router.addr.clone(),
            self.tx.clone(),
        );
        tokio::spawn(async move {
            let (etx, mut erx) = mpsc::unbounded_channel();
            let fwd = {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while let Some(e) = erx.recv().await {
                        let _ = tx.send(F4Msg::Gen(e));
                    }
                })
            };
            let out = run_generate(&router, &db, &label, &req, &etx).await;
            drop(etx);
            let _ = fwd.await;
            let _ = tx.send(F4Msg::GenDone(out));
        });
    }

    /// Applies finished background work to the screen. Never blocks. Returns whether anything
    /// changed (redraw).
    pub fn pump(&mut self) -> bool {
        let mut changed = false;
        while let Ok(msg) = self.rx.try_recv() {
            changed = true;
            let l = self.lang;
            match msg {
                F4Msg::Rows(rows) => {
                    self.reloads += 1;
                    self.screen.set_rows(rows)
                }
                F4Msg::Detail(Some(d)) => self.screen.set_detail(*d),
                F4Msg::Detail(None) => {
                    self.screen.notice = Some(l.t("user sudah tidak ada", "user is gone").into())
                }
                F4Msg::Error(e) => self.screen.notice = Some(e),
                F4Msg::Sync(SyncEvent::Finished(r)) => {
                    self.syncing = false;
                    self.syncs_done += 1;
                    self.last_sync_ok = Some(Instant::now());
                    if self.sync_error_shown {
                        self.screen.notice = None;
                        self.sync_error_shown = false;
                    }
                    if let Some(first) = r.skipped.first() {
                        // Everything else was synced; say which user could not be read.
                        let more = r.skipped.len() - 1;
                        let mut text = first.text(l);
                        if more > 0 {
                            text.push_str(&format!(" (+{more} {})", l.t("lagi", "more")));
                        }
                        self.screen.notice = Some(text);
                        self.sync_error_shown = true;
                    }
                    if r.snapshot.added + r.snapshot.changed + r.snapshot.removed > 0
                        || r.snapshot.logins + r.snapshot.logouts > 0
                        || self.screen.visible_count() == 0
                    {
                        self.reload_rows();
                    }
                }
                F4Msg::Sync(SyncEvent::Failed { message }) => {
                    self.syncing = false;
                    self.sync_error_shown = true;
                    self.screen.notice = Some(message);
                }
                F4Msg::Sync(_) => {}
                F4Msg::Gen(GenEvent::Progress { done, total }) => {
                    self.job = Some((l.t("buat voucher", "generate").into(), done, total))
                }
                F4Msg::Gen(_) | F4Msg::RouterState => {}
                F4Msg::Printed(r) => {
                    self.screen.notice = Some(match r {
                        Ok(m) => format!("{} {m}", l.t("dicetak:", "printed:")),
                        Err(e) => e,
                    })
                }
                F4Msg::GenDone(r) => {
                    self.job = None;
                    if let Ok(r) = &r {
                        self.last_batch = Some(r.batch);
                    }
                    self.screen.notice = Some(match r {
                        Ok(r) if r.created == r.requested => format!(
                            "{} {} {} (batch {})",
                            r.created,
                            l.t("voucher dibuat", "vouchers created"),
                            l.t("di router", "on the router"),
                            r.batch
                        ),
                        Ok(r) => format!(
                            "batch {}: {} {}, {} {}, {} {}",
                            r.batch,
                            r.created,
                            l.t("dibuat", "created"),
                            r.failed + r.missing,
                            l.t("tidak dibuat", "not created"),
                            r.unknown,
                            l.t("belum pasti", "unknown")
                        ),
                        Err(e) => e,
                    });
                    self.sync_now();
                }
            }
        }
        self.screen.synced_at = self.last_sync_ok;
        changed
    }

    pub fn render(&mut self, f: &mut Frame, area: Rect) {
        self.screen.render(f, area);
    }
}

async fn run_generate(
    router: &Router,
    db: &std::path::Path,
    label: &str,
    req: &GenerateRequest,
    etx: &mpsc::UnboundedSender<GenEvent>,
) -> Result<GenerateReport, String> {
    let c = router.client().await.map_err(|e| e.to_string())?;
    generate::reconcile_unfinished(&c, db, label, local_now())
        .await
        .map_err(|e| e.to_string())?;
    let r = generate::generate(&c, db, label, req, local_now(), Some(etx))
        .await
        .map_err(|e| e.to_string())?;
    if r.unknown == 0 {
        return Ok(r);
    }
    // the connection dropped mid-batch: ask the router which vouchers exist
    let c = router
        .client_with_retry(3)
        .await
        .map_err(|e| e.to_string())?;
    generate::reconcile_batch(&c, db, r.batch, local_now(), None)
        .await
        .map_err(|e| e.to_string())
}

impl Drop for F4 {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
