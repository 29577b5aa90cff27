//! A small TDS 7.4 server for tests: plaintext prelogin and login, SQL batches, sp_executesql
//! RPC with typed parameters, bulk load, transactions, ERROR tokens, and an in-memory table
//! store. Fault switches let tests drop a connection in the middle of a bulk load, answer a
//! duplicate-key error, or stall past a client's timeout.
//!
//! It is test support code: konter's product code never refers to it. Tests include it with
//! `#[path = "support/tds/mod.rs"] mod tds;`, and `examples/tds_server.rs` runs it on its own.
#![allow(dead_code)]

pub mod sql;
pub mod store;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use sql::{Ctx, Outcome, ResultSet};
use store::{Db, SqlError, SqlType, Undo, Value};

pub const DEFAULT_SCHEMA: &str = include_str!("default_schema.sql");

/// Latin1_General_CI_AS: LCID 0x0409, code page 1252.
const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub user: String,
    pub password: String,
    pub database: String,
    /// SQL run once at start (CREATE TABLE / INSERT). Empty: no tables.
    pub schema_sql: String,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            user: "sa".into(),
            password: "konter".into(),
            database: "otomax".into(),
            schema_sql: DEFAULT_SCHEMA.into(),
        }
    }
}

/// Fault switches; each fires once and then clears itself.
#[derive(Debug, Default)]
pub struct Faults {
    /// Drop the connection once this many rows of a bulk load have arrived.
    pub drop_after_bulk_rows: Mutex<Option<usize>>,
    /// Answer the next write (bulk load or INSERT) with this error number (2627: duplicate key).
    pub error_on_write: Mutex<Option<u32>>,
    /// Stall the next request whose SQL contains the text ("" matches any) for this long.
    pub stall: Mutex<Option<(String, Duration)>>,
}

impl Faults {
    pub fn drop_after_bulk_rows(&self, n: usize) {
        *self.drop_after_bulk_rows.lock().unwrap() = Some(n);
    }
    pub fn error_on_write(&self, number: u32) {
        *self.error_on_write.lock().unwrap() = Some(number);
    }
    pub fn stall(&self, on: &str, d: Duration) {
        *self.stall.lock().unwrap() = Some((on.to_string(), d));
    }
}

struct Shared {
    db: Mutex<Db>,
    opts: ServerOptions,
    faults: Faults,
    /// Request messages received after login: the round trips a client made.
    requests: AtomicU64,
    next_spid: AtomicU64,
}

pub struct TdsServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// Dropping the server stops it: the listener closes and open connections are cut.
impl Drop for TdsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TdsServer {
    /// Binds 127.0.0.1 on `port` (0: any free port), loads the schema, and serves in the
    /// background on the current tokio runtime.
    pub async fn start(port: u16, opts: ServerOptions) -> io::Result<TdsServer> {
        let mut db = Db::default();
        if !opts.schema_sql.trim().is_empty() {
            exec_script(&mut db, &opts.database, &opts.schema_sql)
                .map_err(|(n, m)| io::Error::other(format!("schema error {n}: {m}")))?;
        }
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            db: Mutex::new(db),
            opts,
            faults: Faults::default(),
            requests: AtomicU64::new(0),
            next_spid: AtomicU64::new(51),
        });
        let s2 = shared.clone();
        let task = tokio::spawn(async move {
            // The connections live in this set: dropping the server (aborting this task) drops
            // the set, which ends every open connection too, as a stopped server would.
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((sock, _)) = listener.accept().await {
                while conns.try_join_next().is_some() {}
                let s = s2.clone();
                conns.spawn(async move {
                    let _ = sock.set_nodelay(true);
                    let mut c = Conn::new(s);
                    let _ = c.serve(sock).await;
                    c.abandon();
                });
            }
        });
        Ok(TdsServer { addr, shared, task })
    }

    /// The connection string for konter (KONTER_OTOMAX_URL).
    pub fn url(&self) -> String {
        format!(
            "Server=tcp:127.0.0.1,{};Database={};User Id={};Password={};Encrypt=DANGER_PLAINTEXT",
            self.addr.port(),
            self.shared.opts.database,
            self.shared.opts.user,
            self.shared.opts.password
        )
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Runs SQL directly on the store (setup and checks in tests), committed at once.
    pub fn exec(&self, sql: &str) -> Result<Vec<ResultSet>, String> {
        let mut db = self.shared.db.lock().unwrap();
        exec_script(&mut db, &self.shared.opts.database, sql).map_err(|(n, m)| format!("{n}: {m}"))
    }
}

fn exec_script(db: &mut Db, database: &str, sql: &str) -> Result<Vec<ResultSet>, SqlError> {
    let params = HashMap::new();
    let cx = Ctx {
        params: &params,
        trancount: 0,
        now: chrono::Local::now().naive_local(),
    };
    let mut out = Vec::new();
    let mut undo = Vec::new();
    for st in sql::parse(sql)? {
        match sql::run_stmt(db, database, st, &cx, &mut undo) {
            Ok(Outcome::Rows(rs)) => out.push(rs),
            Ok(_) => {}
            Err(e) => {
                db.rollback(undo);
                return Err(e);
            }
        }
    }
    Ok(out)
}

// ---- wire helpers ----

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn utf16(&mut self, s: &str) {
        for c in s.encode_utf16() {
            self.u16(c);
        }
    }
    fn b_varchar(&mut self, s: &str) {
        self.u8(s.encode_utf16().count() as u8);
        self.utf16(s);
    }
    fn us_varchar(&mut self, s: &str) {
        self.u16(s.encode_utf16().count() as u16);
        self.utf16(s);
    }
    /// A token with a u16 length prefix: the body is written by `f`.
    fn sized(&mut self, token: u8, f: impl FnOnce(&mut W)) {
        self.u8(token);
        let mut inner = W(Vec::new());
        f(&mut inner);
        self.u16(inner.0.len() as u16);
        self.0.extend_from_slice(&inner.0);
    }
    fn done(&mut self, token: u8, status: u16, rows: Option<u64>) {
        self.u8(token);
        self.u16(status | if rows.is_some() { 0x10 } else { 0 });
        self.u16(0xC1);
        self.u64(rows.unwrap_or(0));
    }
    fn error(&mut self, number: u32, class: u8, msg: &str) {
        self.sized(0xAA, |w| {
            w.u32(number);
            w.u8(1);
            w.u8(class);
            w.us_varchar(msg);
            w.b_varchar("KONTER-TDS");
            w.b_varchar("");
            w.u32(1);
        });
    }
    fn envchange_str(&mut self, ty: u8, new: &str, old: &str) {
        self.sized(0xE3, |w| {
            w.u8(ty);
            w.b_varchar(new);
            w.b_varchar(old);
        });
    }
    fn envchange_bytes(&mut self, ty: u8, new: &[u8], old: &[u8]) {
        self.sized(0xE3, |w| {
            w.u8(ty);
            w.u8(new.len() as u8);
            w.0.extend_from_slice(new);
            w.u8(old.len() as u8);
            w.0.extend_from_slice(old);
        });
    }
    fn result_set(&mut self, rs: &ResultSet) {
        self.u8(0x81);
        self.u16(rs.columns.len() as u16);
        for (name, ty) in &rs.columns {
            self.u32(0);
            self.u16(0x0001 | 0x0008); // nullable, updateable unknown
            type_info(self, ty);
            self.b_varchar(name);
        }
        for row in &rs.rows {
            self.u8(0xD1);
            for ((_, ty), v) in rs.columns.iter().zip(row) {
                value(self, ty, v);
            }
        }
    }
}

fn dec_len(p: u8) -> u8 {
    match p {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

fn type_info(w: &mut W, ty: &SqlType) {
    match ty {
        SqlType::TinyInt => w.0.extend_from_slice(&[0x26, 1]),
        SqlType::SmallInt => w.0.extend_from_slice(&[0x26, 2]),
        SqlType::Int => w.0.extend_from_slice(&[0x26, 4]),
        SqlType::BigInt => w.0.extend_from_slice(&[0x26, 8]),
        SqlType::Bit => w.0.extend_from_slice(&[0x68, 1]),
        SqlType::VarChar(n) => {
            w.u8(0xA7);
            w.u16(if *n == 0 { 8000 } else { *n });
            w.0.extend_from_slice(&COLLATION);
        }
        SqlType::NVarChar(n) => {
            w.u8(0xE7);
            w.u16(if *n == 0 { 8000 } else { *n * 2 });
            w.0.extend_from_slice(&COLLATION);
        }
        SqlType::Date => w.u8(0x28),
        SqlType::DateTime => w.0.extend_from_slice(&[0x6F, 8]),
        SqlType::Decimal(p, s) => w.0.extend_from_slice(&[0x6A, dec_len(*p), *p, *s]),
    }
}

fn days_from(d: NaiveDate, base: NaiveDate) -> i64 {
    (d - base).num_days()
}

fn value(w: &mut W, ty: &SqlType, v: &Value) {
    if v.is_null() {
        match ty {
            SqlType::VarChar(_) | SqlType::NVarChar(_) => w.u16(0xFFFF),
            _ => w.u8(0),
        }
        return;
    }
    let v = v.clone().coerce(ty, "").unwrap_or(Value::Null);
    match (ty, &v) {
        (_, Value::Null) => match ty {
            SqlType::VarChar(_) | SqlType::NVarChar(_) => w.u16(0xFFFF),
            _ => w.u8(0),
        },
        (SqlType::TinyInt, Value::Int(i)) => {
            w.u8(1);
            w.u8(*i as u8);
        }
        (SqlType::SmallInt, Value::Int(i)) => {
            w.u8(2);
            w.u16(*i as i16 as u16);
        }
        (SqlType::Int, Value::Int(i)) => {
            w.u8(4);
            w.u32(*i as i32 as u32);
        }
        (SqlType::BigInt, Value::Int(i)) => {
            w.u8(8);
            w.u64(*i as u64);
        }
        (SqlType::Bit, Value::Bit(b)) => {
            w.u8(1);
            w.u8(*b as u8);
        }
        (SqlType::VarChar(_), Value::Str(s)) => {
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(s);
            w.u16(bytes.len() as u16);
            w.0.extend_from_slice(&bytes);
        }
        (SqlType::NVarChar(_), Value::Str(s)) => {
            w.u16((s.encode_utf16().count() * 2) as u16);
            w.utf16(s);
        }
        (SqlType::Date, Value::Date(d)) => {
            let days = days_from(*d, NaiveDate::from_ymd_opt(1, 1, 1).unwrap()) as u32;
            w.u8(3);
            w.0.extend_from_slice(&days.to_le_bytes()[..3]);
        }
        (SqlType::DateTime, Value::DateTime(d)) => {
            let days = days_from(d.date(), NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()) as i32;
            let ns = (d.time() - NaiveTime::MIN).num_nanoseconds().unwrap_or(0);
            let ticks = (ns as i128 * 300 / 1_000_000_000) as u32;
            w.u8(8);
            w.u32(days as u32);
            w.u32(ticks);
        }
        (SqlType::Decimal(p, s), Value::Dec(d)) => {
            let mut d = *d;
            d.rescale(*s as u32);
            let len = dec_len(*p);
            w.u8(len);
            w.u8(if d.is_sign_negative() { 0 } else { 1 });
            let m = d.mantissa().unsigned_abs().to_le_bytes();
            w.0.extend_from_slice(&m[..(len - 1) as usize]);
        }
        _ => w.u8(0),
    }
}

/// A type as the client described it (RPC parameter or bulk-load column).
#[derive(Debug, Clone)]
enum WireType {
    Fixed(u8, usize),
    ByteLen(u8),
    Decimal(u8),
    Short(u8, u16),
    Date,
    DateTime2(u8),
    Null,
}

struct R<'a> {
    b: &'a [u8],
    i: usize,
}

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "message ends early")
}

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.i + n > self.b.len() {
            return Err(short());
        }
        let s = &self.b[self.i..self.i + n];
        self.i += n;
        Ok(s)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> io::Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn utf16(&mut self, chars: usize) -> io::Result<String> {
        let b = self.take(chars * 2)?;
        let u: Vec<u16> = b
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&u))
    }
    fn b_varchar(&mut self) -> io::Result<String> {
        let n = self.u8()? as usize;
        self.utf16(n)
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }

    fn type_info(&mut self) -> io::Result<WireType> {
        let t = self.u8()?;
        Ok(match t {
            0x1F => WireType::Null,
            0x30 | 0x32 => WireType::Fixed(t, 1),
            0x34 => WireType::Fixed(t, 2),
            0x38 | 0x3A | 0x3B | 0x7A => WireType::Fixed(t, 4),
            0x3C | 0x3D | 0x3E | 0x7F => WireType::Fixed(t, 8),
            0x26 | 0x68 | 0x6D | 0x6E | 0x6F | 0x24 => {
                self.u8()?;
                WireType::ByteLen(t)
            }
            0x6A | 0x6C => {
                self.u8()?;
                self.u8()?;
                WireType::Decimal(self.u8()?)
            }
            0x28 => WireType::Date,
            0x2A => WireType::DateTime2(self.u8()?),
            0xA7 | 0xAF | 0xE7 | 0xEF => {
                let max = self.u16()?;
                self.take(5)?;
                WireType::Short(t, max)
            }
            0xA5 | 0xAD => WireType::Short(t, self.u16()?),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("type 0x{t:02X} is not supported by the test server"),
                ))
            }
        })
    }

    fn int_le(b: &[u8]) -> i64 {
        let mut x = [0u8; 8];
        x[..b.len()].copy_from_slice(b);
        let v = i64::from_le_bytes(x);
        let bits = b.len() * 8;
        if bits < 64 && b.last().is_some_and(|l| l & 0x80 != 0) && b.len() > 1 {
            v - (1i64 << bits)
        } else {
            v
        }
    }

    fn value(&mut self, ty: &WireType) -> io::Result<Value> {
        let datetime = |b: &[u8]| {
            let days = i32::from_le_bytes(b[..4].try_into().unwrap());
            let ticks = u32::from_le_bytes(b[4..8].try_into().unwrap());
            let d =
                NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days as i64);
            let t = NaiveTime::MIN + chrono::Duration::milliseconds(ticks as i64 * 10 / 3);
            Value::DateTime(NaiveDateTime::new(d, t))
        };
        Ok(match ty {
            WireType::Null => Value::Null,
            WireType::Fixed(t, n) => {
                let b = self.take(*n)?;
                match t {
                    0x32 => Value::Bit(b[0] != 0),
                    0x30 => Value::Int(b[0] as i64),
                    0x3D => datetime(b),
                    _ => Value::Int(Self::int_le(b)),
                }
            }
            WireType::ByteLen(t) => {
                let n = self.u8()? as usize;
                if n == 0 {
                    return Ok(Value::Null);
                }
                let b = self.take(n)?;
                match t {
                    0x68 => Value::Bit(b[0] != 0),
                    0x26 if n == 1 => Value::Int(b[0] as i64),
                    0x26 => Value::Int(Self::int_le(b)),
                    0x6F if n == 8 => datetime(b),
                    0x6D if n == 8 => Value::Dec(
                        Decimal::try_from(f64::from_le_bytes(b.try_into().unwrap()))
                            .unwrap_or_default(),
                    ),
                    _ => Value::Str(format!("{b:?}")),
                }
            }
            WireType::Decimal(scale) => {
                let n = self.u8()? as usize;
                if n == 0 {
                    return Ok(Value::Null);
                }
                let b = self.take(n)?;
                let mut m = [0u8; 16];
                m[..n - 1].copy_from_slice(&b[1..]);
                let mag = u128::from_le_bytes(m) as i128;
                let d = Decimal::from_i128_with_scale(
                    if b[0] == 0 { -mag } else { mag },
                    *scale as u32,
                );
                Value::Dec(d)
            }
            WireType::Date => {
                let n = self.u8()? as usize;
                if n == 0 {
                    return Ok(Value::Null);
                }
                let b = self.take(3)?;
                let days = u32::from_le_bytes([b[0], b[1], b[2], 0]);
                Value::Date(
                    NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::Duration::days(days as i64),
                )
            }
            WireType::DateTime2(scale) => {
                let n = self.u8()? as usize;
                if n == 0 {
                    return Ok(Value::Null);
                }
                let b = self.take(n)?;
                let tb = &b[..n - 3];
                let mut x = [0u8; 8];
                x[..tb.len()].copy_from_slice(tb);
                let units = u64::from_le_bytes(x);
                let ns = units as u128 * 10u128.pow(9 - *scale as u32);
                let days = u32::from_le_bytes([b[n - 3], b[n - 2], b[n - 1], 0]);
                let d =
                    NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::Duration::days(days as i64);
                Value::DateTime(NaiveDateTime::new(
                    d,
                    NaiveTime::MIN + chrono::Duration::nanoseconds(ns as i64),
                ))
            }
            WireType::Short(t, max) => {
                let bytes: Option<Vec<u8>> = if *max == 0xFFFF {
                    // PLP: total length, then chunks until a zero-length chunk.
                    let total = self.u64()?;
                    if total == u64::MAX {
                        None
                    } else {
                        let mut v = Vec::new();
                        loop {
                            let n = self.u32()? as usize;
                            if n == 0 {
                                break;
                            }
                            v.extend_from_slice(self.take(n)?);
                        }
                        Some(v)
                    }
                } else {
                    let n = self.u16()?;
                    if n == 0xFFFF {
                        None
                    } else {
                        Some(self.take(n as usize)?.to_vec())
                    }
                };
                match bytes {
                    None => Value::Null,
                    Some(b) => match t {
                        0xE7 | 0xEF => {
                            let u: Vec<u16> = b
                                .chunks(2)
                                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                                .collect();
                            Value::Str(String::from_utf16_lossy(&u))
                        }
                        0xA7 | 0xAF => {
                            Value::Str(encoding_rs::WINDOWS_1252.decode(&b).0.into_owned())
                        }
                        _ => Value::Str(b.iter().map(|x| format!("{x:02X}")).collect()),
                    },
                }
            }
        })
    }
}

// ---- a connection ----

struct Conn {
    s: Arc<Shared>,
    packet_size: usize,
    logged_in: bool,
    trancount: i64,
    undo: Vec<Undo>,
    bulk: Option<(String, Vec<usize>)>,
    spid: u16,
    tx_id: u64,
}

impl Conn {
    fn new(s: Arc<Shared>) -> Conn {
        let spid = s.next_spid.fetch_add(1, Ordering::SeqCst) as u16;
        Conn {
            s,
            packet_size: 4096,
            logged_in: false,
            trancount: 0,
            undo: Vec::new(),
            bulk: None,
            spid,
            tx_id: 0,
        }
    }

    /// The connection ended: an open transaction is rolled back, as SQL Server does.
    fn abandon(&mut self) {
        let undo = std::mem::take(&mut self.undo);
        if !undo.is_empty() {
            self.s.db.lock().unwrap().rollback(undo);
        }
        self.trancount = 0;
    }

    async fn read_message(&self, sock: &mut TcpStream) -> io::Result<Option<(u8, Vec<u8>)>> {
        let mut payload = Vec::new();
        loop {
            let mut h = [0u8; 8];
            match sock.read_exact(&mut h).await {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && payload.is_empty() => {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            }
            let ty = h[0];
            let len = u16::from_be_bytes([h[2], h[3]]) as usize;
            if len < 8 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "bad packet length",
                ));
            }
            let start = payload.len();
            payload.resize(start + len - 8, 0);
            sock.read_exact(&mut payload[start..]).await?;
            if h[1] & 0x01 != 0 {
                return Ok(Some((ty, payload)));
            }
            if ty == 0x06 {
                return Ok(Some((ty, payload)));
            }
        }
    }

    async fn send(&self, sock: &mut TcpStream, body: &[u8]) -> io::Result<()> {
        let max = self.packet_size.max(512) - 8;
        let mut out = Vec::with_capacity(body.len() + body.len() / max * 8 + 8);
        let chunks: Vec<&[u8]> = if body.is_empty() {
            vec![&[][..]]
        } else {
            body.chunks(max).collect()
        };
        let n = chunks.len();
        for (i, c) in chunks.into_iter().enumerate() {
            out.push(0x04);
            out.push(if i + 1 == n { 0x01 } else { 0x00 });
            out.extend_from_slice(&((c.len() + 8) as u16).to_be_bytes());
            out.extend_from_slice(&self.spid.to_be_bytes());
            out.push((i + 1) as u8);
            out.push(0);
            out.extend_from_slice(c);
        }
        sock.write_all(&out).await?;
        sock.flush().await
    }

    async fn serve(&mut self, mut sock: TcpStream) -> io::Result<()> {
        while let Some((ty, payload)) = self.read_message(&mut sock).await? {
            if self.logged_in {
                self.s.requests.fetch_add(1, Ordering::SeqCst);
            }
            let reply = match ty {
                0x12 => self.prelogin(&payload)?,
                0x10 => {
                    let (reply, ok) = self.login(&payload)?;
                    if !ok {
                        self.send(&mut sock, &reply).await?;
                        return Ok(());
                    }
                    reply
                }
                0x01 if self.logged_in => {
                    let text = batch_text(&payload)?;
                    self.maybe_stall(&text).await;
                    self.batch(&text)
                }
                0x03 if self.logged_in => {
                    let (text, params) = rpc(&payload)?;
                    self.maybe_stall(&text).await;
                    self.run(&text, &params, true)
                }
                0x07 if self.logged_in => match self.bulk_load(&payload)? {
                    Some(r) => r,
                    None => return Ok(()), // fault: drop the connection mid-load
                },
                0x0E if self.logged_in => self.tm(&payload)?,
                0x06 => {
                    let mut w = W(Vec::new());
                    w.done(0xFD, 0x20, None);
                    w.0
                }
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unexpected packet 0x{ty:02X}"),
                    ))
                }
            };
            self.send(&mut sock, &reply).await?;
        }
        Ok(())
    }

    async fn maybe_stall(&self, text: &str) {
        let d = {
            let mut st = self.s.faults.stall.lock().unwrap();
            match st.as_ref() {
                Some((on, d))
                    if on.is_empty() || text.to_lowercase().contains(&on.to_lowercase()) =>
                {
                    let d = *d;
                    *st = None;
                    Some(d)
                }
                _ => None,
            }
        };
        if let Some(d) = d {
            tokio::time::sleep(d).await;
        }
    }

    fn prelogin(&self, payload: &[u8]) -> io::Result<Vec<u8>> {
        // The client's options are read for the instance name only; anything goes.
        let mut instance_given = false;
        let mut i = 0;
        while i + 5 <= payload.len() && payload[i] != 0xFF {
            let (tok, off, len) = (
                payload[i],
                u16::from_be_bytes([payload[i + 1], payload[i + 2]]) as usize,
                u16::from_be_bytes([payload[i + 3], payload[i + 4]]) as usize,
            );
            if tok == 2 && len > 1 && payload.get(off).is_some_and(|b| *b != 0) {
                instance_given = true;
            }
            i += 5;
        }
        let _ = instance_given; // any instance name is accepted: answer 0x00
        let opts: [(u8, Vec<u8>); 5] = [
            (0, vec![16, 0, 0x0F, 0xA0, 0, 0]),
            (1, vec![0x02]), // encryption not supported
            (2, vec![0x00]),
            (3, vec![0, 0, 0, 0]),
            (4, vec![0x00]),
        ];
        let mut head = Vec::new();
        let mut data = Vec::new();
        let mut off = (opts.len() * 5 + 1) as u16;
        for (t, d) in &opts {
            head.push(*t);
            head.extend_from_slice(&off.to_be_bytes());
            head.extend_from_slice(&(d.len() as u16).to_be_bytes());
            off += d.len() as u16;
            data.extend_from_slice(d);
        }
        head.push(0xFF);
        head.extend(data);
        Ok(head)
    }

    fn login(&mut self, p: &[u8]) -> io::Result<(Vec<u8>, bool)> {
        if p.len() < 94 {
            return Err(short());
        }
        let u16at = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]) as usize;
        let field = |o: usize| -> io::Result<Vec<u8>> {
            let (ib, cch) = (u16at(o), u16at(o + 2));
            p.get(ib..ib + cch * 2)
                .map(|s| s.to_vec())
                .ok_or_else(short)
        };
        let text = |b: Vec<u8>| {
            let u: Vec<u16> = b
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&u)
        };
        let requested = u32::from_le_bytes(p[8..12].try_into().unwrap()) as usize;
        let user = text(field(40)?);
        let pw_raw = field(44)?;
        let password = text(
            pw_raw
                .iter()
                .map(|b| {
                    let x = b ^ 0xA5;
                    x.rotate_left(4)
                })
                .collect(),
        );
        let database = text(field(68)?);
        let mut w = W(Vec::new());
        let o = &self.s.opts;
        if user != o.user || password != o.password {
            w.error(18456, 14, &format!("Login failed for user '{user}'."));
            w.done(0xFD, 0x02, None);
            return Ok((w.0, false));
        }
        if !database.is_empty() && !database.eq_ignore_ascii_case(&o.database) {
            w.error(
                4060,
                11,
                &format!(
                    "Cannot open database \"{database}\" requested by the login. The login failed."
                ),
            );
            w.error(18456, 14, &format!("Login failed for user '{user}'."));
            w.done(0xFD, 0x02, None);
            return Ok((w.0, false));
        }
        self.packet_size = if requested == 0 {
            4096
        } else {
            requested.clamp(512, 32767)
        };
        w.envchange_str(1, &o.database, "master");
        w.envchange_bytes(7, &COLLATION, &[]);
        w.sized(0xAD, |w| {
            w.u8(1);
            w.0.extend_from_slice(&[0x74, 0x00, 0x00, 0x04]);
            w.b_varchar("Microsoft SQL Server");
            w.0.extend_from_slice(&[16, 0, 0x0F, 0xA0]);
        });
        w.envchange_str(4, &self.packet_size.to_string(), "4096");
        w.done(0xFD, 0, None);
        self.logged_in = true;
        Ok((w.0, true))
    }

    fn tm(&mut self, p: &[u8]) -> io::Result<Vec<u8>> {
        let skip = u32::from_le_bytes(p.get(0..4).ok_or_else(short)?.try_into().unwrap()) as usize;
        let mut r = R { b: p, i: skip };
        let req = r.u16()?;
        let mut w = W(Vec::new());
        match req {
            5 => self.begin(&mut w),
            7 | 8 => {
                if self.trancount == 0 {
                    w.error(
                        3902,
                        16,
                        "The transaction request has no corresponding BEGIN TRANSACTION.",
                    );
                    w.done(0xFD, 0x02, None);
                    return Ok(w.0);
                }
                if req == 7 {
                    self.commit(&mut w)
                } else {
                    self.rollback(&mut w)
                }
            }
            _ => {}
        }
        w.done(0xFD, 0, None);
        Ok(w.0)
    }

    fn begin(&mut self, w: &mut W) {
        if self.trancount == 0 {
            self.tx_id += 1;
            w.envchange_bytes(8, &self.tx_id.to_le_bytes(), &[]);
        }
        self.trancount += 1;
    }

    fn commit(&mut self, w: &mut W) {
        self.trancount -= 1;
        if self.trancount == 0 {
            self.undo.clear();
            w.envchange_bytes(9, &[], &self.tx_id.to_le_bytes());
        }
    }

    fn rollback(&mut self, w: &mut W) {
        self.trancount = 0;
        let undo = std::mem::take(&mut self.undo);
        self.s.db.lock().unwrap().rollback(undo);
        w.envchange_bytes(10, &[], &self.tx_id.to_le_bytes());
    }

    fn batch(&mut self, text: &str) -> Vec<u8> {
        self.run(text, &HashMap::new(), false)
    }

    /// Runs a batch or an sp_executesql statement and encodes its results.
    fn run(&mut self, text: &str, params: &HashMap<String, Value>, rpc: bool) -> Vec<u8> {
        let mut w = W(Vec::new());
        let done_tok = if rpc { 0xFF } else { 0xFD };
        let finish = |w: &mut W, err: bool| {
            if rpc {
                w.u8(0x79);
                w.u32(0);
                w.done(0xFE, if err { 0x02 } else { 0 }, None);
            } else if err {
                w.done(0xFD, 0x02, None);
            } else if w.0.is_empty() {
                w.done(0xFD, 0, None);
            }
        };
        let stmts = match sql::parse(text) {
            Ok(s) => s,
            Err((n, m)) => {
                w.error(n, 15, &m);
                finish(&mut w, true);
                return w.0;
            }
        };
        let count = stmts.len();
        for (i, st) in stmts.into_iter().enumerate() {
            let more = if i + 1 < count || rpc { 0x01 } else { 0 };
            let is_write = matches!(
                st,
                sql::Stmt::Insert { .. } | sql::Stmt::Update { .. } | sql::Stmt::Delete { .. }
            );
            if is_write {
                if let Some(n) = self.s.faults.error_on_write.lock().unwrap().take() {
                    w.error(n, 14, &fault_message(n));
                    finish(&mut w, true);
                    return w.0;
                }
            }
            let mark = self.undo.len();
            let res = {
                let mut db = self.s.db.lock().unwrap();
                let cx = Ctx {
                    params,
                    trancount: self.trancount,
                    now: chrono::Local::now().naive_local(),
                };
                sql::run_stmt(&mut db, &self.s.opts.database, st, &cx, &mut self.undo)
            };
            match res {
                Ok(Outcome::Rows(rs)) => {
                    w.result_set(&rs);
                    w.done(done_tok, more, Some(rs.rows.len() as u64));
                }
                Ok(Outcome::Count(n)) => w.done(done_tok, more, Some(n)),
                Ok(Outcome::Done) => w.done(done_tok, more, None),
                Ok(Outcome::Bulk { table, cols }) => {
                    self.bulk = Some((table, cols));
                    w.done(done_tok, more, None);
                }
                Ok(Outcome::Begin) => {
                    self.begin(&mut w);
                    w.done(done_tok, more, None);
                }
                Ok(Outcome::Commit) | Ok(Outcome::Rollback) if self.trancount == 0 => {
                    w.error(3902, 16, "The COMMIT/ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.");
                    finish(&mut w, true);
                    return w.0;
                }
                Ok(Outcome::Commit) => {
                    self.commit(&mut w);
                    w.done(done_tok, more, None);
                }
                Ok(Outcome::Rollback) => {
                    self.rollback(&mut w);
                    w.done(done_tok, more, None);
                }
                Err((n, m)) => {
                    // statement-level rollback; an open transaction stays open
                    let tail = self.undo.split_off(mark);
                    self.s.db.lock().unwrap().rollback(tail);
                    w.error(
                        n,
                        if n == 2627 || n == 2628 || n == 515 {
                            14
                        } else {
                            16
                        },
                        &m,
                    );
                    finish(&mut w, true);
                    return w.0;
                }
            }
            if self.trancount == 0 {
                self.undo.clear();
            }
        }
        finish(&mut w, false);
        w.0
    }

    /// A bulk-load message: COLMETADATA, ROWs, DONE. Returns None when a fault drops the line.
    fn bulk_load(&mut self, p: &[u8]) -> io::Result<Option<Vec<u8>>> {
        let mut w = W(Vec::new());
        let Some((table, target)) = self.bulk.take() else {
            w.error(4819, 16, "Cannot bulk load. The bulk data stream was incorrectly specified as sorted or no INSERT BULK came first.");
            w.done(0xFD, 0x02, None);
            return Ok(Some(w.0));
        };
        let mut r = R { b: p, i: 0 };
        if r.u8()? != 0x81 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "bulk load must start with COLMETADATA",
            ));
        }
        let n = r.u16()? as usize;
        let mut types = Vec::with_capacity(n);
        for _ in 0..n {
            r.u32()?;
            r.u16()?;
            types.push(r.type_info()?);
            r.b_varchar()?;
        }
        if n != target.len() {
            w.error(
                4819,
                16,
                "Cannot bulk load. The number of columns does not match INSERT BULK.",
            );
            w.done(0xFD, 0x02, None);
            return Ok(Some(w.0));
        }
        let drop_after = self.s.faults.drop_after_bulk_rows.lock().unwrap().take();
        let forced = self.s.faults.error_on_write.lock().unwrap().take();
        let mark = self.undo.len();
        let mut rows = 0u64;
        let mut failure: Option<SqlError> = forced.map(|n| (n, fault_message(n)));
        let shared = self.s.clone();
        let mut db = shared.db.lock().unwrap();
        while !r.done() {
            match r.u8()? {
                0xD1 => {
                    let mut vals = Vec::with_capacity(n);
                    for t in &types {
                        vals.push(r.value(t)?);
                    }
                    if drop_after.is_some_and(|d| rows as usize >= d) {
                        drop(db);
                        return Ok(None);
                    }
                    if failure.is_none() {
                        if let Err(e) = db.insert(&table, &target, vals, &mut self.undo) {
                            failure = Some(e);
                        }
                    }
                    rows += 1;
                }
                0xFD => {
                    r.take(12)?;
                }
                t => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unexpected token 0x{t:02X} in bulk load"),
                    ))
                }
            }
        }
        if let Some((num, m)) = failure {
            let tail = self.undo.split_off(mark);
            db.rollback(tail);
            w.error(num, 14, &m);
            w.done(0xFD, 0x02, None);
            return Ok(Some(w.0));
        }
        if self.trancount == 0 {
            self.undo.clear();
        }
        w.done(0xFD, 0, Some(rows));
        Ok(Some(w.0))
    }
}

fn fault_message(n: u32) -> String {
    match n {
        2627 => "Violation of UNIQUE KEY constraint 'uq_voucher_kode'. Cannot insert duplicate key in object 'dbo.voucher_fisik'. (test server fault switch)".into(),
        n => format!("Error {n} raised by the test server's fault switch."),
    }
}

fn all_headers_len(p: &[u8]) -> io::Result<usize> {
    let n = u32::from_le_bytes(p.get(0..4).ok_or_else(short)?.try_into().unwrap()) as usize;
    if n < 4 || n > p.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad ALL_HEADERS",
        ));
    }
    Ok(n)
}

fn batch_text(p: &[u8]) -> io::Result<String> {
    let skip = all_headers_len(p)?;
    let u: Vec<u16> = p[skip..]
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Ok(String::from_utf16_lossy(&u))
}

/// Decodes an sp_executesql RPC: the statement text and the named parameter values.
fn rpc(p: &[u8]) -> io::Result<(String, HashMap<String, Value>)> {
    let skip = all_headers_len(p)?;
    let mut r = R { b: p, i: skip };
    let name_len = r.u16()?;
    if name_len == 0xFFFF {
        let id = r.u16()?;
        if id != 10 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("RPC proc id {id} is not sp_executesql"),
            ));
        }
    } else {
        let name = r.utf16(name_len as usize)?;
        if !name.eq_ignore_ascii_case("sp_executesql") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("RPC {name} is not supported"),
            ));
        }
    }
    r.u16()?;
    let mut stmt = String::new();
    let mut params = HashMap::new();
    let mut i = 0;
    while !r.done() {
        let name = r.b_varchar()?;
        r.u8()?;
        let ty = r.type_info()?;
        let v = r.value(&ty)?;
        match i {
            0 => stmt = v.to_string(),
            1 => {}
            _ => {
                let key = if name.is_empty() {
                    format!("P{}", i - 1)
                } else {
                    name.trim_start_matches('@').to_uppercase()
                };
                params.insert(key, v);
            }
        }
        i += 1;
    }
    Ok((stmt, params))
}
