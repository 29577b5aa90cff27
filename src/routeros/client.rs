//! The RouterOS API client on tokio: one connection, many commands at once.
//!
//! Every command carries `.tag=N`; one reader task routes each reply sentence to the command it
//! belongs to, so a slow print does not hold up a `set` sent after it. Each command's replies go
//! through a bounded channel: a huge print is streamed row by row and the reader waits for the
//! consumer instead of buffering the whole reply.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::command::{Command, Reply, ReplyKind, Row};
use super::login::challenge_response;
use super::proto::{encode_sentence, ProtoError, SentenceReader, DEFAULT_MAX_SENTENCE};
use super::tls;

/// How sentences of one command wait for their consumer.
const CHANNEL_DEPTH: usize = 512;

#[derive(Clone)]
pub struct ClientOptions {
    /// host:port
    pub addr: String,
    pub user: String,
    pub password: String,
    /// api-ssl (usually port 8729).
    pub tls: Option<TlsOptions>,
    pub connect_timeout: Duration,
    /// Longest wait for the next reply sentence of a command.
    pub reply_timeout: Duration,
    /// Bytes of one reply sentence kept in memory; larger words are dropped with an error.
    pub max_sentence: usize,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log line.
        f.debug_struct("ClientOptions")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("reply_timeout", &self.reply_timeout)
            .field("max_sentence", &self.max_sentence)
            .finish()
    }
}

impl ClientOptions {
    pub fn new(addr: &str, user: &str, password: &str) -> Self {
        ClientOptions {
            addr: addr.to_string(),
            user: user.to_string(),
            password: password.to_string(),
            tls: None,
            connect_timeout: Duration::from_secs(5),
            reply_timeout: Duration::from_secs(15),
            max_sentence: DEFAULT_MAX_SENTENCE,
        }
    }

    /// From the `[router]` config section (addr, user, password, tls, timeouts).
    pub fn from_config(c: &crate::config::RouterConfig) -> Self {
        let mut o = ClientOptions::new(&c.addr, &c.user, &c.password);
        if c.tls {
            o.tls = Some(TlsOptions {
                verify: if c.tls_insecure {
                    TlsVerify::AcceptAny
                } else if let Some(ca) = &c.tls_ca_file {
                    TlsVerify::CaFile(ca.clone())
                } else {
                    TlsVerify::System
                },
                server_name: None,
            });
        }
        if c.timeout_secs > 0 {
            o.reply_timeout = Duration::from_secs(c.timeout_secs);
            o.connect_timeout = Duration::from_secs(c.timeout_secs.min(10));
        }
        o
    }
}

#[derive(Debug, Clone)]
pub struct TlsOptions {
    pub verify: TlsVerify,
    /// Name checked against the certificate; default: the host part of `addr`.
    pub server_name: Option<String>,
}

#[derive(Debug, Clone)]
pub enum TlsVerify {
    /// The system's trusted roots.
    System,
    /// Trust only the CA (or self-signed certificate) in this PEM file.
    CaFile(PathBuf),
    /// No check at all: only for a router with a self-signed certificate on a trusted LAN.
    AcceptAny,
}

/// Everything that can go wrong talking to a router, each with what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosError {
    Unreachable {
        addr: String,
        reason: String,
    },
    Timeout {
        what: String,
        secs: u64,
    },
    Login(String),
    Trap {
        message: String,
        category: Option<u32>,
    },
    Fatal(String),
    Protocol(String),
    Disconnected(String),
    TooLarge {
        bytes: usize,
        limit: usize,
    },
    Tls(String),
    Config(String),
}

impl std::fmt::Display for RosError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RosError::Unreachable { addr, reason } => write!(
                f,
                "router {addr} is unreachable ({reason}); check that it is on, the address and \
                 port in [router] addr / KONTER_ROUTER_ADDR, and that the API service is enabled \
                 (/ip service enable api)"
            ),
            RosError::Timeout { what, secs } => write!(
                f,
                "router did not answer {what} within {secs} s; the connection was closed and \
                 will be opened again; check the network or raise [router] timeout_secs"
            ),
            RosError::Login(m) => write!(
                f,
                "router refused the login: {m}; check [router] user and password \
                 (KONTER_ROUTER_USER / KONTER_ROUTER_PASSWORD) and that the user has the api policy"
            ),
            RosError::Trap { message, .. } => write!(f, "router refused the command: {message}"),
            RosError::Fatal(m) => write!(f, "router ended the session: {m}"),
            RosError::Protocol(m) => write!(f, "{m}"),
            RosError::Disconnected(m) => write!(
                f,
                "connection to the router was lost ({m}); it will be opened again, and nothing \
                 is lost: retry the action"
            ),
            RosError::TooLarge { bytes, limit } => write!(
                f,
                "router sent a reply word of {bytes} bytes, over the {limit}-byte limit; it was \
                 skipped; ask for fewer properties (.proplist) or remove the oversized item"
            ),
            RosError::Tls(m) => write!(
                f,
                "TLS to the router failed: {m}; for a self-signed certificate set \
                 [router] tls_ca_file (or tls_insecure on a trusted LAN)"
            ),
            RosError::Config(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for RosError {}

impl RosError {
    /// The message in the cashier's language (Display is English, for logs and `--json`).
    pub fn text(&self, lang: crate::i18n::Lang) -> String {
        if lang == crate::i18n::Lang::En {
            return self.to_string();
        }
        match self {
            RosError::Unreachable { addr, reason } => format!(
                "router {addr} tidak bisa dihubungi ({reason}); periksa router menyala, alamat dan \
                 port di [router] addr / KONTER_ROUTER_ADDR, dan layanan API aktif \
                 (/ip service enable api)"
            ),
            RosError::Timeout { what, secs } => format!(
                "router tidak menjawab ({what}) dalam {secs} detik; koneksi ditutup dan akan \
                 dibuka lagi; periksa jaringan atau naikkan [router] timeout_secs"
            ),
            RosError::Login(m) => format!(
                "router menolak login: {m}; periksa [router] user dan password \
                 (KONTER_ROUTER_USER / KONTER_ROUTER_PASSWORD) dan hak akses api user itu"
            ),
            RosError::Trap { message, .. } => format!("router menolak perintah: {message}"),
            RosError::Fatal(m) => format!("router mengakhiri sesi: {m}"),
            RosError::Protocol(m) => m.clone(),
            RosError::Disconnected(m) => format!(
                "koneksi ke router terputus ({m}); akan dibuka lagi, tidak ada data yang hilang: \
                 ulangi tindakan"
            ),
            RosError::TooLarge { bytes, limit } => format!(
                "router mengirim kata balasan {bytes} byte, melebihi batas {limit} byte; dilewati; \
                 minta lebih sedikit properti (.proplist) atau hapus item yang terlalu besar"
            ),
            RosError::Tls(m) => format!(
                "TLS ke router gagal: {m}; untuk sertifikat self-signed isi [router] tls_ca_file \
                 (atau tls_insecure di LAN yang tepercaya)"
            ),
            RosError::Config(m) => m.clone(),
        }
    }

    /// Whether reconnecting might help (not for wrong credentials or a refused command).
    pub fn is_connection_problem(&self) -> bool {
        matches!(
            self,
            RosError::Unreachable { .. }
                | RosError::Timeout { .. }
                | RosError::Fatal(_)
                | RosError::Disconnected(_)
                | RosError::Protocol(_)
                | RosError::Tls(_)
        )
    }
}

impl From<ProtoError> for RosError {
    fn from(e: ProtoError) -> Self {
        match e {
            ProtoError::Truncated => {
                RosError::Disconnected("the router closed the connection mid-reply".into())
            }
            ProtoError::Io(m) => RosError::Disconnected(m),
            other => RosError::Protocol(other.to_string()),
        }
    }
}

pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}
type BoxIo = Box<dyn Io>;

#[derive(Debug)]
struct Event {
    reply: Reply,
    dropped: Option<usize>,
    dropped_names: Vec<String>,
}

/// A reply row that had a word over the size limit: what was kept of it (usually `.id` and
/// `name`), how many bytes were thrown away and the names of the dropped properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OversizedRow {
    pub row: Row,
    pub bytes: usize,
    pub limit: usize,
    pub properties: Vec<String>,
}

struct Inner {
    writer: tokio::sync::Mutex<WriteHalf<BoxIo>>,
    pending: Mutex<HashMap<Vec<u8>, mpsc::Sender<Event>>>,
    closed: Mutex<Option<RosError>>,
    next_tag: AtomicU64,
    reader: Mutex<Option<JoinHandle<()>>>,
    reply_timeout: Duration,
    max_sentence: usize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(h) = self.reader.lock().unwrap_or_else(|e| e.into_inner()).take() {
            h.abort();
        }
    }
}

impl Inner {
    fn close(&self, why: RosError) {
        {
            let mut c = self.closed.lock().unwrap_or_else(|e| e.into_inner());
            if c.is_none() {
                *c = Some(why);
            }
        }
        // Dropping the senders wakes every waiting command with the reason above.
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        if let Some(h) = self.reader.lock().unwrap_or_else(|e| e.into_inner()).take() {
            h.abort();
        }
    }

    fn closed_reason(&self) -> Option<RosError> {
        self.closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A logged-in connection. Cheap to clone; all clones share the connection.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("closed", &self.inner.closed_reason())
            .finish()
    }
}

impl Client {
    /// Connects, logs in (plain, then the MD5 challenge if the router asks for it) and starts
    /// the reader.
    pub async fn connect(opts: &ClientOptions) -> Result<Client, RosError> {
        if opts.addr.trim().is_empty() {
            return Err(RosError::Config(
                "no router configured: set [router] addr or KONTER_ROUTER_ADDR (host:port)".into(),
            ));
        }
        let secs = opts.connect_timeout.as_secs().max(1);
        let tcp = match tokio::time::timeout(opts.connect_timeout, TcpStream::connect(&opts.addr))
            .await
        {
            Err(_) => {
                return Err(RosError::Unreachable {
                    addr: opts.addr.clone(),
                    reason: format!("no answer within {secs} s"),
                })
            }
            Ok(Err(e)) => {
                return Err(RosError::Unreachable {
                    addr: opts.addr.clone(),
                    reason: e.to_string(),
                })
            }
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        let io: BoxIo = match &opts.tls {
            None => Box::new(tcp),
            Some(t) => {
                let fut = tls::connect(tcp, &opts.addr, t);
                match tokio::time::timeout(opts.connect_timeout, fut).await {
                    Err(_) => {
                        return Err(RosError::Timeout {
                            what: "the TLS handshake".into(),
                            secs,
                        })
                    }
                    Ok(r) => r?,
                }
            }
        };
        Self::login_and_start(io, opts).await
    }

    pub(crate) async fn login_and_start(
        io: BoxIo,
        opts: &ClientOptions,
    ) -> Result<Client, RosError> {
        let (rd, mut wr) = tokio::io::split(io);
        let mut reader =
            SentenceReader::new(BufReader::with_capacity(64 * 1024, rd), opts.max_sentence);
        let secs = opts.reply_timeout.as_secs().max(1);
        let login = login(&mut reader, &mut wr, &opts.user, &opts.password);
        match tokio::time::timeout(opts.reply_timeout, login).await {
            Err(_) => {
                return Err(RosError::Timeout {
                    what: "the login".into(),
                    secs,
                })
            }
            Ok(r) => r?,
        }
        let inner = Arc::new(Inner {
            writer: tokio::sync::Mutex::new(wr),
            pending: Mutex::new(HashMap::new()),
            closed: Mutex::new(None),
            next_tag: AtomicU64::new(1),
            reader: Mutex::new(None),
            reply_timeout: opts.reply_timeout,
            max_sentence: opts.max_sentence,
        });
        let handle = tokio::spawn(read_loop(reader, Arc::downgrade(&inner)));
        *inner.reader.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        Ok(Client { inner })
    }

    /// Whether the connection is gone (the router closed it, a timeout, a fatal reply).
    pub fn is_closed(&self) -> bool {
        self.inner.closed_reason().is_some()
    }

    pub fn closed_reason(&self) -> Option<RosError> {
        self.inner.closed_reason()
    }

    /// Closes the connection; commands still running get `Disconnected`.
    pub fn close(&self) {
        self.inner
            .close(RosError::Disconnected("closed by konter".into()));
    }

    /// Sends a command and returns its replies as a stream of rows.
    ///
    /// Consume the stream (or drop it, which cancels the command): while its buffer of
    /// sentences is full, replies to other commands on this connection wait behind it. So do
    /// not await another command of the same client from the task that holds an unread stream.
    pub async fn stream(&self, cmd: Command) -> Result<ReplyStream, RosError> {
        if let Some(e) = self.inner.closed_reason() {
            return Err(e);
        }
        let tag = self
            .inner
            .next_tag
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
            .into_bytes();
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tag.clone(), tx);
        if let Some(e) = self.inner.closed_reason() {
            // Closed between the check above and the insert: nobody would answer.
            self.inner
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&tag);
            return Err(e);
        }
        let mut words = cmd.words;
        let mut tag_word = b".tag=".to_vec();
        tag_word.extend_from_slice(&tag);
        words.push(tag_word);
        let mut buf = Vec::new();
        encode_sentence(&words, &mut buf);
        let mut stream = ReplyStream {
            inner: self.inner.clone(),
            tag,
            rx,
            finished: false,
            trap: None,
            done: None,
            skip_oversized: false,
            skipped: Vec::new(),
        };
        if let Err(e) = self.write(&buf).await {
            stream.finished = true;
            return Err(e);
        }
        Ok(stream)
    }

    /// Runs a command to its end and returns all rows and the `!done` attributes.
    pub async fn run(&self, cmd: Command) -> Result<(Vec<Row>, Row), RosError> {
        let mut s = self.stream(cmd).await?;
        let mut rows = Vec::new();
        while let Some(r) = s.next_row().await {
            rows.push(r?);
        }
        Ok((rows, s.done.take().unwrap_or_default()))
    }

    async fn write(&self, buf: &[u8]) -> Result<(), RosError> {
        let secs = self.inner.reply_timeout.as_secs().max(1);
        let res = tokio::time::timeout(self.inner.reply_timeout, async {
            let mut w = self.inner.writer.lock().await;
            w.write_all(buf).await?;
            w.flush().await
        })
        .await;
        let err = match res {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => RosError::Disconnected(e.to_string()),
            Err(_) => RosError::Timeout {
                what: "a command being sent".into(),
                secs,
            },
        };
        self.inner.close(err.clone());
        Err(err)
    }

    /// The byte limit of one reply sentence.
    pub fn max_sentence(&self) -> usize {
        self.inner.max_sentence
    }
}

/// Replies of one command. Rows come one at a time; a `!trap` becomes the final error after
/// its `!done`. Dropping it early cancels the command on the router.
pub struct ReplyStream {
    inner: Arc<Inner>,
    tag: Vec<u8>,
    rx: mpsc::Receiver<Event>,
    finished: bool,
    trap: Option<RosError>,
    done: Option<Row>,
    skip_oversized: bool,
    skipped: Vec<OversizedRow>,
}

impl ReplyStream {
    /// From now on a `!re` row with a word over the size limit is set aside (see
    /// [`ReplyStream::take_skipped`]) instead of ending the stream with `TooLarge`; the other
    /// rows keep coming.
    pub fn skip_oversized_rows(&mut self) {
        self.skip_oversized = true;
    }

    /// The rows set aside by [`ReplyStream::skip_oversized_rows`] so far.
    pub fn take_skipped(&mut self) -> Vec<OversizedRow> {
        std::mem::take(&mut self.skipped)
    }

    pub async fn next_row(&mut self) -> Option<Result<Row, RosError>> {
        if self.finished {
            return None;
        }
        loop {
            let ev = match tokio::time::timeout(self.inner.reply_timeout, self.rx.recv()).await {
                Err(_) => {
                    let e = RosError::Timeout {
                        what: "a command".into(),
                        secs: self.inner.reply_timeout.as_secs().max(1),
                    };
                    self.finished = true;
                    self.inner.close(e.clone());
                    return Some(Err(e));
                }
                Ok(None) => {
                    self.finished = true;
                    let e = self.inner.closed_reason().unwrap_or_else(|| {
                        RosError::Disconnected("the reply ended without !done".into())
                    });
                    return Some(Err(e));
                }
                Ok(Some(ev)) => ev,
            };
            if let Some(bytes) = ev.dropped {
                if self.skip_oversized && ev.reply.kind == ReplyKind::Re {
                    self.skipped.push(OversizedRow {
                        row: ev.reply.row,
                        bytes,
                        limit: self.inner.max_sentence,
                        properties: ev.dropped_names,
                    });
                    continue;
                }
                self.finished = true;
                self.cancel();
                return Some(Err(RosError::TooLarge {
                    bytes,
                    limit: self.inner.max_sentence,
                }));
            }
            match ev.reply.kind {
                ReplyKind::Re => return Some(Ok(ev.reply.row)),
                ReplyKind::Trap => {
                    if self.trap.is_none() {
                        let row = &ev.reply.row;
                        self.trap = Some(RosError::Trap {
                            message: row.text("message"),
                            category: row.opt_text("category").and_then(|c| c.trim().parse().ok()),
                        });
                    }
                }
                ReplyKind::Done => {
                    self.finished = true;
                    self.done = Some(ev.reply.row);
                    return self.trap.take().map(Err);
                }
                ReplyKind::Empty | ReplyKind::Fatal | ReplyKind::Other => {}
            }
        }
    }

    /// The attributes of `!done` (e.g. `ret`), once the stream has ended.
    pub fn done(&self) -> Option<&Row> {
        self.done.as_ref()
    }

    fn cancel(&mut self) {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.tag);
        if self.inner.closed_reason().is_some() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = Client {
            inner: self.inner.clone(),
        };
        let tag = self.tag.clone();
        rt.spawn(async move {
            let mut buf = Vec::new();
            let mut t = b"=tag=".to_vec();
            t.extend_from_slice(&tag);
            encode_sentence(&[b"/cancel".to_vec(), t], &mut buf);
            let _ = client.write(&buf).await;
        });
    }
}

impl Drop for ReplyStream {
    fn drop(&mut self) {
        if !self.finished {
            self.cancel();
        }
    }
}

async fn read_loop<R: AsyncRead + Unpin>(mut reader: SentenceReader<R>, weak: Weak<Inner>) {
    loop {
        let res = reader.read_sentence().await;
        let Some(inner) = weak.upgrade() else { return };
        let sentence = match res {
            Ok(Some(s)) => s,
            Ok(None) => {
                inner.close(RosError::Disconnected(
                    "the router closed the connection".into(),
                ));
                return;
            }
            Err(e) => {
                inner.close(e.into());
                return;
            }
        };
        let dropped = sentence.dropped;
        let dropped_names = sentence.dropped_names;
        let reply = Reply::parse(sentence.words);
        if reply.kind == ReplyKind::Fatal {
            let mut msg: Vec<String> = reply
                .bare
                .iter()
                .map(|w| super::proto::decode_text(w))
                .collect();
            if let Some(m) = reply.row.opt_text("message") {
                msg.push(m);
            }
            inner.close(RosError::Fatal(msg.join(" ")));
            return;
        }
        let Some(tag) = reply.tag.clone() else {
            continue;
        };
        let terminal = reply.kind == ReplyKind::Done;
        let tx = {
            let mut p = inner.pending.lock().unwrap_or_else(|e| e.into_inner());
            if terminal {
                p.remove(&tag)
            } else {
                p.get(&tag).cloned()
            }
        };
        drop(inner);
        if let Some(tx) = tx {
            // Waits when the consumer is behind: memory stays bounded.
            let _ = tx
                .send(Event {
                    reply,
                    dropped,
                    dropped_names,
                })
                .await;
        }
    }
}

async fn read_reply<R: AsyncRead + Unpin>(
    reader: &mut SentenceReader<R>,
) -> Result<Reply, RosError> {
    match reader.read_sentence().await? {
        Some(s) => Ok(Reply::parse(s.words)),
        None => Err(RosError::Disconnected(
            "the router closed the connection during login".into(),
        )),
    }
}

/// Reads replies to an untagged command up to `!done`; returns the `!done` row or the trap.
async fn read_until_done<R: AsyncRead + Unpin>(
    reader: &mut SentenceReader<R>,
) -> Result<Row, RosError> {
    let mut trap = None;
    loop {
        let r = read_reply(reader).await?;
        match r.kind {
            ReplyKind::Trap => {
                trap.get_or_insert(r.row.text("message"));
            }
            ReplyKind::Fatal => {
                let msg: Vec<String> = r
                    .bare
                    .iter()
                    .map(|w| super::proto::decode_text(w))
                    .collect();
                return Err(RosError::Fatal(msg.join(" ")));
            }
            ReplyKind::Done => {
                return match trap {
                    Some(m) => Err(RosError::Login(m)),
                    None => Ok(r.row),
                }
            }
            _ => {}
        }
    }
}

async fn login<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    reader: &mut SentenceReader<R>,
    wr: &mut W,
    user: &str,
    password: &str,
) -> Result<(), RosError> {
    let send = |words: Vec<Vec<u8>>| {
        let mut buf = Vec::new();
        encode_sentence(&words, &mut buf);
        buf
    };
    let plain = send(vec![
        b"/login".to_vec(),
        format!("=name={user}").into_bytes(),
        [b"=password=".as_slice(), password.as_bytes()].concat(),
    ]);
    wr.write_all(&plain)
        .await
        .map_err(|e| RosError::Disconnected(e.to_string()))?;
    wr.flush()
        .await
        .map_err(|e| RosError::Disconnected(e.to_string()))?;
    let done = read_until_done(reader).await?;
    let Some(ret) = done.opt_text("ret") else {
        return Ok(());
    };
    // A router older than 6.43 ignores the password and sends a challenge.
    let response = challenge_response(&ret, password.as_bytes())
        .ok_or_else(|| RosError::Protocol(format!("login challenge {ret:?} is not hex")))?;
    let challenge = send(vec![
        b"/login".to_vec(),
        format!("=name={user}").into_bytes(),
        format!("=response={response}").into_bytes(),
    ]);
    wr.write_all(&challenge)
        .await
        .map_err(|e| RosError::Disconnected(e.to_string()))?;
    wr.flush()
        .await
        .map_err(|e| RosError::Disconnected(e.to_string()))?;
    read_until_done(reader).await.map(|_| ())
}
