//! A MikroTik router simulator speaking the RouterOS API on loopback: what `konter sim router`,
//! `konter demo` and the tests run against, since no RouterOS image can be had here.
//!
//! It keeps hotspot users in every state, Mikhmon's profiles and `-|-` sales records, active
//! sessions whose uptime and bytes grow with time, and answers bad input with `!trap` like the
//! real router. [`Faults`] lets tests drop or stall the connection at a chosen point.

pub mod cli;
pub mod seed;
pub mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use self::world::{Effect, Reply, Sentence, SimTime, World};
use super::client::ClientOptions;
use super::login::{challenge_response, new_challenge};
use super::proto::{encode_sentence, split_attr, SentenceReader};

/// Replies of more rows than this go out in chunks, so tagged commands interleave.
const CHUNK: usize = 256;

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub users: usize,
    pub seed: u64,
    pub user: String,
    pub password: String,
    /// Behave like RouterOS before 6.43: only the MD5 challenge login works.
    pub legacy_login: bool,
    /// Log in a random READY voucher this often (None: no background activity).
    pub login_every: Option<Duration>,
    /// Serve api-ssl with this PEM certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The router clock at start (default: the local time now).
    pub now: Option<NaiveDateTime>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            users: 200,
            seed: 1,
            user: "admin".into(),
            password: "konter".into(),
            legacy_login: false,
            login_every: None,
            tls: None,
            now: None,
        }
    }
}

impl SimConfig {
    /// What `konter demo` runs: a few hundred vouchers and a customer logging in every 15 s.
    pub fn demo() -> SimConfig {
        SimConfig {
            users: 300,
            seed: 2026,
            login_every: Some(Duration::from_secs(15)),
            ..SimConfig::default()
        }
    }
}

/// A simulator on its own thread and runtime, for callers that are not async (`konter demo`
/// starts one, points `[router]` at it and opens the TUI). Dropping it stops the router.
pub struct BackgroundSim {
    addr: SocketAddr,
    user: String,
    password: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundSim {
    pub fn start(bind: &str, cfg: SimConfig) -> Result<BackgroundSim, String> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let bind = bind.to_string();
        let thread = std::thread::Builder::new()
            .name("router-sim".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ =
                            ready_tx.send(Err(format!("cannot start the simulator runtime: {e}")));
                        return;
                    }
                };
                rt.block_on(async move {
                    match SimServer::start(&bind, cfg).await {
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                        Ok(sim) => {
                            let _ = ready_tx.send(Ok((
                                sim.addr(),
                                sim.user().to_string(),
                                sim.password().to_string(),
                            )));
                            let _ = stop_rx.await;
                            sim.stop().await;
                        }
                    }
                });
            })
            .map_err(|e| format!("cannot start the simulator thread: {e}"))?;
        let (addr, user, password) = ready_rx
            .recv()
            .map_err(|_| "the simulator thread ended before it was ready".to_string())??;
        Ok(BackgroundSim {
            addr,
            user,
            password,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// Points a `[router]` config section at this simulator.
    pub fn configure(&self, router: &mut crate::config::RouterConfig) {
        router.addr = self.addr.to_string();
        router.user = self.user.clone();
        router.password = self.password.clone();
        router.tls = false;
    }
}

impl Drop for BackgroundSim {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One-shot fault switches, shared by all connections. Each counts down events; when it
/// reaches zero it fires once and turns itself off.
#[derive(Debug, Default)]
pub struct Faults {
    drop_after_commands: AtomicU64,
    drop_after_replies: AtomicU64,
    stall_after_commands: AtomicU64,
    commands: AtomicU64,
}

impl Faults {
    /// The `n`-th command from now is carried out, but its reply is never sent: the connection
    /// closes instead (the client cannot know whether it happened). 0 turns it off.
    pub fn drop_after_commands(&self, n: u64) {
        self.drop_after_commands.store(n, Ordering::SeqCst);
    }

    /// The connection closes right after the `n`-th reply sentence from now.
    pub fn drop_after_replies(&self, n: u64) {
        self.drop_after_replies.store(n, Ordering::SeqCst);
    }

    /// The `n`-th command from now is never answered; the connection stays open and silent.
    pub fn stall_after_commands(&self, n: u64) {
        self.stall_after_commands.store(n, Ordering::SeqCst);
    }

    /// Commands served since start (after login), for tests.
    pub fn commands_seen(&self) -> u64 {
        self.commands.load(Ordering::SeqCst)
    }

    fn fire(counter: &AtomicU64) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                if v == 0 {
                    None
                } else {
                    Some(v - 1)
                }
            })
            .map(|prev| prev == 1)
            .unwrap_or(false)
    }
}

struct Shared {
    world: Mutex<World>,
    faults: Arc<Faults>,
    start: Instant,
    user: String,
    password: String,
    legacy_login: bool,
    challenges: AtomicU64,
}

impl Shared {
    fn now(&self) -> SimTime {
        self.start.elapsed()
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running simulator.
pub struct SimServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimServer {
    /// Seeds the router and starts serving on `bind` (use port 0 in tests).
    pub async fn start(bind: &str, cfg: SimConfig) -> Result<SimServer, String> {
        let now = cfg
            .now
            .unwrap_or_else(|| chrono::Local::now().naive_local().with_nanosecond_zero());
        let mut world = World::new(now, cfg.seed);
        seed::populate(&mut world, cfg.users);
        let acceptor = match &cfg.tls {
            Some((cert, key)) => Some(super::tls::acceptor(cert, key).map_err(|e| e.to_string())?),
            None => None,
        };
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}; pick another --bind address"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            faults: Arc::new(Faults::default()),
            start: Instant::now(),
            user: cfg.user.clone(),
            password: cfg.password.clone(),
            legacy_login: cfg.legacy_login,
            challenges: AtomicU64::new(cfg.seed),
        });
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let sh = shared.clone();
        let mut stop_accept = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let (tcp, _) = tokio::select! {
                    r = listener.accept() => match r {
                        Ok(x) => x,
                        Err(e) => {
                            tracing::warn!(error = %e, "sim: accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    _ = stop_accept.changed() => return,
                };
                let _ = tcp.set_nodelay(true);
                let sh = sh.clone();
                let acceptor = acceptor.clone();
                let stop = stop_accept.clone();
                tokio::spawn(async move {
                    match acceptor {
                        None => serve_conn(tcp, sh, stop).await,
                        Some(a) => match a.accept(tcp).await {
                            Ok(tls) => serve_conn(tls, sh, stop).await,
                            Err(e) => tracing::info!(error = %e, "sim: TLS handshake failed"),
                        },
                    }
                });
            }
        }));
        if let Some(every) = cfg.login_every {
            let sh = shared.clone();
            let mut stop_act = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {}
                        _ = stop_act.changed() => return,
                    }
                    let now = sh.now();
                    let mut w = sh.world();
                    w.expire_sessions(now);
                    if let Some(u) = w.random_login(now) {
                        tracing::debug!(user = %u, "sim: voucher logged in");
                    }
                }
            }));
        }
        Ok(SimServer {
            addr,
            shared,
            stop,
            tasks,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn user(&self) -> &str {
        &self.shared.user
    }

    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// Options for a client of this simulator (plain API).
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions::new(
            &self.addr.to_string(),
            &self.shared.user,
            &self.shared.password,
        )
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Sim time now (router uptime since the simulator started).
    pub fn now(&self) -> SimTime {
        self.shared.now()
    }

    /// Direct access to the router state (tests, demo scripting).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World, SimTime) -> R) -> R {
        let now = self.shared.now();
        f(&mut self.shared.world(), now)
    }

    /// Stops accepting and ends every connection.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

trait WithNanoZero {
    fn with_nanosecond_zero(self) -> Self;
}

impl WithNanoZero for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

async fn serve_conn<S>(io: S, sh: Arc<Shared>, mut stop: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (rd, wr) = tokio::io::split(io);
    let (tx, rx) = mpsc::channel::<Vec<Sentence>>(64);
    let mut writer = tokio::spawn(write_loop(wr, rx, sh.faults.clone()));
    let mut reader = SentenceReader::new(BufReader::new(rd), 64 * 1024 * 1024);
    let mut logged_in = false;
    let mut challenge: Option<String> = None;
    let mut writer_done = false;
    loop {
        let sentence = tokio::select! {
            r = reader.read_sentence() => match r {
                Ok(Some(s)) => s,
                _ => break,
            },
            _ = &mut writer => { writer_done = true; break }
            _ = stop.changed() => break,
        };
        let words = sentence.words;
        if sentence.dropped.is_some() {
            let mut r = Reply::new(tag_of(&words));
            r.trap("command too large");
            if tx.send(r.finish()).await.is_err() {
                break;
            }
            continue;
        }
        if words.first().map(Vec::as_slice) == Some(b"/login") {
            let (out, ok) = login(&sh, &words, &mut challenge);
            logged_in |= ok;
            if tx.send(out).await.is_err() {
                break;
            }
            continue;
        }
        if !logged_in {
            let mut r = Reply::new(tag_of(&words));
            r.trap("not logged in");
            if tx.send(r.finish()).await.is_err() {
                break;
            }
            continue;
        }
        sh.faults.commands.fetch_add(1, Ordering::SeqCst);
        if Faults::fire(&sh.faults.stall_after_commands) {
            // Silent from now on; keep reading so the socket stays open until the client goes.
            loop {
                tokio::select! {
                    r = reader.read_sentence() => if !matches!(r, Ok(Some(_))) { break },
                    _ = stop.changed() => break,
                }
            }
            break;
        }
        let now = sh.now();
        let (sentences, effect) = sh.world().execute(&words, now);
        if Faults::fire(&sh.faults.drop_after_commands) {
            writer.abort();
            writer_done = true;
            break;
        }
        if effect == Effect::Quit {
            let _ = tx
                .send(vec![vec![
                    b"!fatal".to_vec(),
                    b"session terminated on request".to_vec(),
                ]])
                .await;
            break;
        }
        if sentences.len() > CHUNK && tag_of(&words).is_some() {
            // Feed a big tagged reply in chunks from its own task, so replies to commands
            // sent after it can overtake it (what tags are for).
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut it = sentences.into_iter().peekable();
                while it.peek().is_some() {
                    let chunk: Vec<Sentence> = it.by_ref().take(CHUNK).collect();
                    if tx.send(chunk).await.is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
            });
        } else if tx.send(sentences).await.is_err() {
            break;
        }
    }
    drop(tx);
    drop(reader);
    if !writer_done {
        let _ = writer.await;
    }
}

fn tag_of(words: &[Vec<u8>]) -> Option<Vec<u8>> {
    words
        .iter()
        .find_map(|w| w.strip_prefix(b".tag=").map(<[u8]>::to_vec))
}

/// `/login`: plain (`=name= =password=`) or the MD5 challenge (`/login`, then
/// `=name= =response=`). Returns the reply and whether the session is now logged in.
fn login(sh: &Shared, words: &[Vec<u8>], challenge: &mut Option<String>) -> (Vec<Sentence>, bool) {
    let get = |n: &[u8]| {
        words[1..]
            .iter()
            .filter_map(|w| split_attr(w))
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_vec())
    };
    let mut r = Reply::new(tag_of(words));
    let name = get(b"name");
    let password = get(b"password");
    let response = get(b"response");
    let bad = "invalid user name or password (6)";
    if let (Some(name), Some(resp)) = (&name, &response) {
        let ok = challenge.take().is_some_and(|c| {
            challenge_response(&c, sh.password.as_bytes())
                .as_deref()
                .map(str::as_bytes)
                == Some(resp.as_slice())
        }) && name.as_slice() == sh.user.as_bytes();
        if !ok {
            r.trap(bad);
        }
        return (r.finish(), ok);
    }
    if name.is_none() || sh.legacy_login {
        // Hand out a challenge (what RouterOS before 6.43 always does).
        let c = new_challenge(sh.challenges.fetch_add(1, Ordering::SeqCst));
        *challenge = Some(c.clone());
        let mut done = vec![b"!done".to_vec(), format!("=ret={c}").into_bytes()];
        if let Some(t) = tag_of(words) {
            done.push([b".tag=".as_slice(), &t].concat());
        }
        return (vec![done], false);
    }
    let ok = name.as_deref() == Some(sh.user.as_bytes())
        && password.as_deref() == Some(sh.password.as_bytes());
    if !ok {
        r.trap(bad);
    }
    (r.finish(), ok)
}

async fn write_loop<W: AsyncWrite + Unpin>(
    wr: W,
    mut rx: mpsc::Receiver<Vec<Sentence>>,
    faults: Arc<Faults>,
) {
    let mut w = BufWriter::with_capacity(64 * 1024, wr);
    let mut buf = Vec::with_capacity(4096);
    while let Some(batch) = rx.recv().await {
        for s in batch {
            buf.clear();
            encode_sentence(&s, &mut buf);
            if w.write_all(&buf).await.is_err() {
                return;
            }
            if Faults::fire(&faults.drop_after_replies) {
                let _ = w.flush().await;
                let _ = w.shutdown().await;
                return;
            }
        }
        if rx.is_empty() && w.flush().await.is_err() {
            return;
        }
    }
    let _ = w.flush().await;
    let _ = w.shutdown().await;
}
