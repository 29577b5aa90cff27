//! OtoMaX's SQL Server over tiberius: connection with timeouts and reconnect, the mapping check,
//! the all-or-nothing bulk insert of a batch, stock and usage reads.
//!
//! Typed operations only leave this module; SQL stays inside. Identifiers come from the checked
//! mapping (bracket-quoted); every value goes as a parameter or through the bulk-load stream.

pub mod cli;
pub mod confirm;
pub mod keeper;
pub mod mapping;
pub mod url;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, IntoSql, Query, TokenRow};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::config::OtomaxConfig;
use crate::ledger::{
    conflicts_against, Conflict, InsertReport, Ledger, LedgerError, LedgerVoucher, Sale, StockLine,
    Usage, VoucherStatus,
};
use mapping::{Problem, ServerColumn};
use url::{Auth, ConnSettings, Encrypt};

/// The SQL Server connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// No SQL Server configured: the embedded SQLite ledger is used.
    Disabled,
    Connecting,
    Connected,
    Error(String),
}

impl ConnState {
    pub fn label(&self, lang: crate::i18n::Lang) -> String {
        match self {
            ConnState::Disabled => lang.t("SQL Server mati", "SQL Server off").into(),
            ConnState::Connecting => lang
                .t("SQL Server menyambung…", "SQL Server connecting…")
                .into(),
            ConnState::Connected => lang.t("SQL Server ●", "SQL Server ●").into(),
            ConnState::Error(m) => {
                format!("{} {m}", lang.t("SQL Server galat:", "SQL Server error:"))
            }
        }
    }
}

/// A shared view of the connection state, cheap to clone into the TUI.
#[derive(Debug, Clone)]
pub struct StateCell(Arc<Mutex<ConnState>>);

impl StateCell {
    pub fn new(s: ConnState) -> StateCell {
        StateCell(Arc::new(Mutex::new(s)))
    }
    pub fn get(&self) -> ConnState {
        self.0
            .lock()
            .map(|s| s.clone())
            .unwrap_or(ConnState::Error("state lock".into()))
    }
    fn set(&self, s: ConnState) {
        if let Ok(mut g) = self.0.lock() {
            *g = s;
        }
    }
}

type Conn = Client<Compat<TcpStream>>;

/// The settings from config and URL, with config values taking precedence where set.
pub fn settings(cfg: &OtomaxConfig) -> Result<ConnSettings, LedgerError> {
    let mut s = url::parse(&cfg.url).map_err(|e| LedgerError::Config(e.to_string()))?;
    if cfg.trust_cert {
        s.trust_cert = true;
    }
    match cfg.encrypt.trim().to_ascii_lowercase().as_str() {
        "" => {}
        "required" => s.encrypt = Encrypt::Required,
        "login" => s.encrypt = Encrypt::LoginOnly,
        "plaintext" => s.encrypt = Encrypt::Plaintext,
        other => {
            return Err(LedgerError::Config(format!(
                "otomax.encrypt = \"{other}\" is not known; use \"required\", \"login\" or \"plaintext\""
            )))
        }
    }
    if cfg.connect_timeout_s > 0 {
        s.connect_timeout = Duration::from_secs(cfg.connect_timeout_s);
    }
    if cfg.command_timeout_s > 0 {
        s.command_timeout = Duration::from_secs(cfg.command_timeout_s);
    }
    Ok(s)
}

fn tiberius_config(s: &ConnSettings) -> Result<Config, LedgerError> {
    let mut c = Config::new();
    c.host(&s.host);
    if let Some(p) = s.port {
        c.port(p);
    }
    if let Some(i) = &s.instance {
        c.instance_name(i);
    }
    c.database(&s.database);
    c.application_name(&s.app_name);
    c.packet_size(s.packet_size);
    c.encryption(match s.encrypt {
        Encrypt::Required => EncryptionLevel::Required,
        Encrypt::LoginOnly => EncryptionLevel::Off,
        Encrypt::Plaintext => EncryptionLevel::NotSupported,
    });
    if s.trust_cert {
        c.trust_cert();
    }
    c.handshake_timeout(Some(s.connect_timeout));
    c.command_timeout(Some(s.command_timeout));
    match &s.auth {
        Auth::Sql { user, password } => c.authentication(AuthMethod::sql_server(user, password)),
        // The Windows login of the process (NTLM/SSPI), on Windows builds.
        #[cfg(windows)]
        Auth::Windows => c.authentication(AuthMethod::Integrated),
        #[cfg(not(windows))]
        Auth::Windows => {
            return Err(LedgerError::Config(
                "Integrated Security (Windows login) works only when konter runs on Windows; here use a SQL login: User Id=...;Password=..."
                    .into(),
            ))
        }
    }
    Ok(c)
}

/// Sorts a tiberius error into what the user can act on.
fn classify(e: tiberius::error::Error, target: &str) -> LedgerError {
    use tiberius::error::Error as E;
    match e {
        E::Server(t) => {
            let m = format!("error {}: {}", t.code(), t.message());
            match t.code() {
                18456 | 18452 | 18470 | 18486 | 18487 | 18488 => LedgerError::Login(m),
                4060 | 4064 | 911 => LedgerError::Database(m),
                2627 | 2601 => LedgerError::Duplicate(m),
                2628 | 8152 => LedgerError::TooShort(m),
                _ => LedgerError::Server(m),
            }
        }
        E::Io { kind, message } => match kind {
            std::io::ErrorKind::TimedOut => LedgerError::Timeout(format!("{target}: {message}")),
            std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::HostUnreachable
            | std::io::ErrorKind::NetworkUnreachable
            | std::io::ErrorKind::AddrNotAvailable => {
                LedgerError::Unreachable(format!("{target}: {message}"))
            }
            _ => LedgerError::Dropped(format!("{target}: {message}")),
        },
        E::Protocol(m) if m.contains("timeout") => LedgerError::Timeout(format!("{target}: {m}")),
        E::Protocol(m) | E::Conversion(m) | E::BulkInput(m)
            if m.contains("exceed column limit") =>
        {
            LedgerError::TooShort(m.to_string())
        }
        E::BulkInput(m) => LedgerError::Server(m.to_string()),
        other => LedgerError::Dropped(format!("{target}: {other}")),
    }
}

/// The connection to OtoMaX's SQL Server. Reconnects on the next call after any failure.
pub struct Gateway {
    pub settings: ConnSettings,
    pub cfg: OtomaxConfig,
    client: Option<Conn>,
    state: StateCell,
    /// The check passed on this server: writes may go.
    columns: Option<Vec<ServerColumn>>,
    /// Request messages sent since the gateway was made (round trips).
    pub round_trips: u64,
}

impl Gateway {
    pub fn new(cfg: &OtomaxConfig) -> Result<Gateway, LedgerError> {
        Ok(Gateway {
            settings: settings(cfg)?,
            cfg: cfg.clone(),
            client: None,
            state: StateCell::new(ConnState::Connecting),
            columns: None,
            round_trips: 0,
        })
    }

    pub fn state(&self) -> StateCell {
        self.state.clone()
    }

    fn fail(&mut self, e: LedgerError) -> LedgerError {
        self.client = None;
        self.state.set(ConnState::Error(short_reason(&e)));
        e
    }

    async fn open(&self) -> Result<Conn, LedgerError> {
        let config = tiberius_config(&self.settings)?;
        let target = self.settings.target();
        let tcp = tokio::time::timeout(self.settings.connect_timeout, async {
            if self.settings.instance.is_some() {
                use tiberius::SqlBrowser;
                TcpStream::connect_named(&config)
                    .await
                    .map_err(|e| classify(e, &target))
            } else {
                TcpStream::connect(config.get_addr())
                    .await
                    .map_err(|e| classify(e.into(), &target))
            }
        })
        .await
        .map_err(|_| {
            LedgerError::Timeout(format!(
                "{target}: no TCP connection within {:?}",
                self.settings.connect_timeout
            ))
        })??;
        let _ = tcp.set_nodelay(true);
        Client::connect(config, tcp.compat_write())
            .await
            .map_err(|e| classify(e, &target))
    }

    /// A live connection, opening one with retries and growing pauses when needed. A refused
    /// login or database is not retried: trying again cannot fix it.
    pub async fn connect(&mut self) -> Result<&mut Conn, LedgerError> {
        if self.client.is_none() {
            self.state.set(ConnState::Connecting);
            let mut pause = Duration::from_millis(500);
            let mut attempt = 0;
            loop {
                match self.open().await {
                    Ok(c) => {
                        self.client = Some(c);
                        self.round_trips += 2;
                        self.state.set(ConnState::Connected);
                        break;
                    }
                    Err(
                        e @ (LedgerError::Login(_)
                        | LedgerError::Database(_)
                        | LedgerError::Config(_)),
                    ) => return Err(self.fail(e)),
                    Err(e) if attempt >= self.cfg.retries => return Err(self.fail(e)),
                    Err(e) => {
                        tracing::warn!(attempt, error = %e, "SQL Server connection failed; retrying");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(8));
                        attempt += 1;
                    }
                }
            }
        }
        self.client
            .as_mut()
            .ok_or_else(|| LedgerError::Dropped("no connection".into()))
    }

    /// Runs a parameterized query and returns its rows as plain cells.
    async fn rows(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Vec<Vec<ColumnData<'static>>>, LedgerError> {
        let target = self.settings.target();
        let c = self.connect().await?;
        let mut q = Query::new(sql);
        for p in params {
            match p {
                Param::Str(s) => q.bind(s.clone()),
                Param::Int(i) => q.bind(*i),
                Param::Date(d) => q.bind(*d),
            }
        }
        let res = async {
            let stream = q.query(c).await?;
            let rows = stream.into_first_result().await?;
            Ok::<_, tiberius::error::Error>(
                rows.into_iter().map(|r| r.into_iter().collect()).collect(),
            )
        }
        .await;
        self.round_trips += 1;
        res.map_err(|e| {
            let e = classify(e, &target);
            self.fail(e)
        })
    }

    async fn simple(&mut self, sql: &str) -> Result<(), LedgerError> {
        let target = self.settings.target();
        let c = self.connect().await?;
        let r = async { c.simple_query(sql).await?.into_results().await.map(|_| ()) }.await;
        self.round_trips += 1;
        r.map_err(|e| {
            let e = classify(e, &target);
            self.fail(e)
        })
    }

    /// True while a connection is open (it may still have broken since the last request).
    pub fn is_open(&self) -> bool {
        self.client.is_some()
    }

    /// Opens a connection once, without the retries of [`Gateway::connect`].
    pub async fn connect_once(&mut self) -> Result<(), LedgerError> {
        if self.client.is_none() {
            self.state.set(ConnState::Connecting);
            match self.open().await {
                Ok(c) => {
                    self.client = Some(c);
                    self.round_trips += 2;
                    self.state.set(ConnState::Connected);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }

    /// A cheap check that the open connection still answers (`SELECT 1`), within the command
    /// timeout. Any failure closes the connection.
    pub async fn ping(&mut self) -> Result<(), LedgerError> {
        let limit = self.settings.command_timeout;
        let target = self.settings.target();
        match tokio::time::timeout(limit, self.simple("SELECT 1")).await {
            Ok(r) => r,
            Err(_) => Err(self.fail(LedgerError::Timeout(format!(
                "{target}: no answer to SELECT 1 within {limit:?}"
            )))),
        }
    }

    /// Reads INFORMATION_SCHEMA.COLUMNS for the mapped tables and compares.
    pub async fn check(&mut self) -> Result<(Vec<Problem>, Vec<ServerColumn>), LedgerError> {
        let m = &self.cfg;
        let needs = mapping::needs(&m.vouchers, &m.produk, &m.transaksi);
        let tables: Vec<String> = [&m.vouchers.table, &m.produk.table, &m.transaksi.table]
            .iter()
            .map(|t| mapping::bare_table(t))
            .collect();
        let rows = self
            .rows(
                "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH \
                 FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME IN (@P1, @P2, @P3)",
                &tables
                    .iter()
                    .map(|t| Param::Str(t.clone()))
                    .collect::<Vec<_>>(),
            )
            .await?;
        let cols: Vec<ServerColumn> = rows
            .iter()
            .map(|r| ServerColumn {
                table: cell_str(&r[0]).unwrap_or_default(),
                column: cell_str(&r[1]).unwrap_or_default(),
                data_type: cell_str(&r[2]).unwrap_or_default(),
                char_len: cell_i64(&r[3]),
            })
            .collect();
        let problems = mapping::check(&needs, &cols);
        if problems.iter().any(|p| p.blocks_writes) {
            self.columns = None;
        } else {
            self.columns = Some(cols.clone());
        }
        Ok((problems, cols))
    }

    async fn ensure_checked(&mut self) -> Result<Vec<ServerColumn>, LedgerError> {
        if let Some(c) = &self.columns {
            return Ok(c.clone());
        }
        let (problems, cols) = self.check().await?;
        let blocking: Vec<String> = problems
            .iter()
            .filter(|p| p.blocks_writes)
            .map(|p| p.to_string())
            .collect();
        if !blocking.is_empty() {
            return Err(LedgerError::Schema(blocking));
        }
        Ok(cols)
    }

    fn col<'a>(cols: &'a [ServerColumn], table: &str, name: &str) -> Option<&'a ServerColumn> {
        let t = mapping::bare_table(table);
        cols.iter()
            .find(|c| c.table.eq_ignore_ascii_case(&t) && c.column.eq_ignore_ascii_case(name))
    }

    /// Refuses a batch whose values do not fit the server's columns, naming the longest one.
    fn fits(&self, cols: &[ServerColumn], rows: &[LedgerVoucher]) -> Result<(), LedgerError> {
        let v = &self.cfg.vouchers;
        let checks: [(&str, &str, Field); 3] = [
            (&v.product, "product", |r| &r.product),
            (&v.code, "code", |r| &r.code),
            (&v.serial, "serial", |r| &r.serial),
        ];
        for (col, what, get) in checks {
            let Some(c) = Self::col(cols, &v.table, col) else {
                continue;
            };
            let Some(max) = c.char_len.filter(|n| *n > 0) else {
                continue;
            };
            if let Some(r) = rows.iter().find(|r| get(r).chars().count() as i64 > max) {
                return Err(LedgerError::TooShort(format!(
                    "column {}.{} is {}({max}) but line {} has a {what} of {} characters ({}); widen the column or fix the line",
                    mapping::bare_table(&v.table),
                    c.column,
                    c.data_type,
                    r.line,
                    get(r).chars().count(),
                    get(r)
                )));
            }
        }
        Ok(())
    }

    /// Existing (product, code) -> serial and (product, serial) -> code for the products of
    /// `rows`: one query for the whole batch.
    async fn existing_keys(
        &mut self,
        rows: &[LedgerVoucher],
        lock: bool,
    ) -> Result<
        (
            HashMap<(String, String), String>,
            HashMap<(String, String), String>,
        ),
        LedgerError,
    > {
        let v = self.cfg.vouchers.clone();
        let mut products: Vec<String> = rows.iter().map(|r| r.product.clone()).collect();
        products.sort();
        products.dedup();
        if products.is_empty() {
            return Ok(Default::default());
        }
        let marks: Vec<String> = (1..=products.len()).map(|i| format!("@P{i}")).collect();
        let sql = format!(
            "SELECT {p}, {c}, {s} FROM {t}{hint} WHERE {p} IN ({marks})",
            p = q(&v.product),
            c = q(&v.code),
            s = q(&v.serial),
            t = qt(&v.table),
            hint = if lock {
                " WITH (UPDLOCK, HOLDLOCK)"
            } else {
                ""
            },
            marks = marks.join(", ")
        );
        let params: Vec<Param> = products.into_iter().map(Param::Str).collect();
        let found = self.rows(&sql, &params).await?;
        let mut codes = HashMap::new();
        let mut serials = HashMap::new();
        for r in found {
            let (p, c, s) = (
                cell_str(&r[0]).unwrap_or_default(),
                cell_str(&r[1]).unwrap_or_default(),
                cell_str(&r[2]).unwrap_or_default(),
            );
            let (p, c, s) = (
                p.trim_end().to_string(),
                c.trim_end().to_string(),
                s.trim_end().to_string(),
            );
            codes.insert((p.clone(), c.clone()), s.clone());
            serials.insert((p, s), c);
        }
        Ok((codes, serials))
    }

    /// The all-or-nothing insert: BEGIN, conflict query, bulk load of the rest, COMMIT.
    pub async fn insert_batch(
        &mut self,
        rows: &[LedgerVoucher],
        now: NaiveDateTime,
    ) -> Result<InsertReport, LedgerError> {
        let cols = self.ensure_checked().await?;
        self.fits(&cols, rows)?;
        let start_trips = self.round_trips;
        let deadline =
            self.settings.command_timeout * 3 + Duration::from_millis(rows.len() as u64 / 10);
        let r = tokio::time::timeout(deadline, self.insert_in_tx(&cols, rows, now)).await;
        let r = match r {
            Ok(r) => r,
            Err(_) => Err(self.fail(LedgerError::Timeout(format!(
                "{}: the insert did not finish within {deadline:?}",
                self.settings.target()
            )))),
        };
        match r {
            Ok(mut rep) => {
                rep.round_trips = self.round_trips - start_trips;
                Ok(rep)
            }
            Err(e) => {
                // The transaction is rolled back: explicitly when the line still works, by the
                // server when the connection is gone.
                if self.client.is_some()
                    && self
                        .simple("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION")
                        .await
                        .is_err()
                {
                    self.client = None;
                }
                Err(e)
            }
        }
    }

    async fn insert_in_tx(
        &mut self,
        cols: &[ServerColumn],
        rows: &[LedgerVoucher],
        now: NaiveDateTime,
    ) -> Result<InsertReport, LedgerError> {
        let v = self.cfg.vouchers.clone();
        self.simple("BEGIN TRANSACTION").await?;
        let (codes, serials) = self.existing_keys(rows, true).await?;
        let conflicts = conflicts_against(rows, &codes, &serials);
        let skip: std::collections::HashSet<i64> = conflicts.iter().map(|c| c.line).collect();
        let todo: Vec<&LedgerVoucher> = rows.iter().filter(|r| !skip.contains(&r.line)).collect();
        if !todo.is_empty() {
            let status_ty = Self::col(cols, &v.table, &v.status)
                .map(|c| c.data_type.to_ascii_lowercase())
                .unwrap_or_default();
            let expiry_is_date = Self::col(cols, &v.table, &v.expiry)
                .is_some_and(|c| c.data_type.eq_ignore_ascii_case("date"));
            let target = self.settings.target();
            let table = qt(&v.table);
            let names = [
                q(&v.product),
                q(&v.code),
                q(&v.serial),
                q(&v.expiry),
                q(&v.status),
                q(&v.entry),
            ];
            let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
            let c = self.connect().await?;
            let res = async {
                let mut req = c.bulk_insert_columns(&table, &name_refs).await?;
                for r in &todo {
                    let mut row = TokenRow::new();
                    row.push(r.product.clone().into_sql());
                    row.push(r.code.clone().into_sql());
                    row.push(r.serial.clone().into_sql());
                    row.push(match (r.expiry, expiry_is_date) {
                        (Some(d), true) => d.into_sql(),
                        (Some(d), false) => d.and_hms_opt(0, 0, 0).unwrap_or_default().into_sql(),
                        (None, true) => ColumnData::Date(None),
                        (None, false) => ColumnData::DateTime2(None),
                    });
                    row.push(status_cell(&status_ty, v.status_new));
                    row.push(now.into_sql());
                    req.send(row).await?;
                }
                req.finalize().await
            }
            .await;
            // SELECT TOP 0, INSERT BULK, the load itself
            self.round_trips += 3;
            let done = res.map_err(|e| {
                let e = classify(e, &target);
                self.fail(e)
            })?;
            let took = done.total();
            if took != todo.len() as u64 {
                return Err(LedgerError::Server(format!(
                    "the server took {} of {} rows; the batch is rolled back",
                    took,
                    todo.len()
                )));
            }
        }
        self.simple("COMMIT TRANSACTION").await?;
        Ok(InsertReport {
            inserted: todo.iter().map(|r| r.line).collect(),
            conflicts,
            round_trips: 0,
        })
    }

    /// One INSERT per row, each its own round trip: the baseline the benchmark compares with.
    pub async fn insert_row_by_row(
        &mut self,
        rows: &[LedgerVoucher],
        now: NaiveDateTime,
    ) -> Result<u64, LedgerError> {
        let v = self.cfg.vouchers.clone();
        let sql = format!(
            "INSERT INTO {} ({}, {}, {}, {}, {}, {}) VALUES (@P1, @P2, @P3, @P4, @P5, @P6)",
            qt(&v.table),
            q(&v.product),
            q(&v.code),
            q(&v.serial),
            q(&v.expiry),
            q(&v.status),
            q(&v.entry)
        );
        let target = self.settings.target();
        let c = self.connect().await?;
        let mut n = 0;
        let res = async {
            for r in rows {
                let mut qr = Query::new(sql.as_str());
                qr.bind(r.product.as_str());
                qr.bind(r.code.as_str());
                qr.bind(r.serial.as_str());
                qr.bind(r.expiry);
                qr.bind(v.status_new);
                qr.bind(now);
                n += qr.execute(c).await?.total();
            }
            Ok::<_, tiberius::error::Error>(())
        }
        .await;
        self.round_trips += rows.len() as u64;
        res.map_err(|e| {
            let e = classify(e, &target);
            self.fail(e)
        })?;
        Ok(n)
    }

    pub async fn stock(
        &mut self,
        today: NaiveDate,
        expiring_days: u32,
    ) -> Result<Vec<StockLine>, LedgerError> {
        let (v, p, t) = (
            self.cfg.vouchers.clone(),
            self.cfg.produk.clone(),
            self.cfg.transaksi.clone(),
        );
        let products = self
            .rows(
                &format!(
                    "SELECT {}, {}, {}, {} FROM {}",
                    q(&p.code),
                    q(&p.name),
                    q(&p.price),
                    q(&p.active),
                    qt(&p.table)
                ),
                &[],
            )
            .await?;
        let by_status = self
            .rows(
                &format!(
                    "SELECT {p}, {s}, COUNT(*) FROM {t} GROUP BY {p}, {s}",
                    p = q(&v.product),
                    s = q(&v.status),
                    t = qt(&v.table)
                ),
                &[],
            )
            .await?;
        let sold_sub = format!(
            "SELECT {sn} FROM {tt} WHERE {st} = @P2 AND {sn} IS NOT NULL",
            sn = q(&t.sn),
            tt = qt(&t.table),
            st = q(&t.status)
        );
        let sold = self
            .rows(
                &format!(
                    "SELECT {p}, COUNT(*) FROM {vt} WHERE {s} <> @P1 AND ({ser} IN ({sub}) OR {code} IN ({sub})) GROUP BY {p}",
                    p = q(&v.product),
                    vt = qt(&v.table),
                    s = q(&v.status),
                    ser = q(&v.serial),
                    code = q(&v.code),
                    sub = sold_sub
                ),
                &[Param::Int(v.status_used), Param::Int(t.status_success)],
            )
            .await?;
        let until = today + chrono::Duration::days(expiring_days as i64);
        let expiring = self
            .rows(
                &format!(
                    "SELECT {p}, COUNT(*) FROM {vt} WHERE {s} <> @P1 AND {e} >= @P4 AND {e} <= @P3 \
                     AND NOT ({ser} IN ({sub}) OR {code} IN ({sub})) GROUP BY {p}",
                    p = q(&v.product),
                    vt = qt(&v.table),
                    s = q(&v.status),
                    e = q(&v.expiry),
                    ser = q(&v.serial),
                    code = q(&v.code),
                    sub = sold_sub
                ),
                &[
                    Param::Int(v.status_used),
                    Param::Int(t.status_success),
                    Param::Date(until),
                    Param::Date(today),
                ],
            )
            .await?;
        let mut lines: Vec<StockLine> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut line_for = |code: String, lines: &mut Vec<StockLine>| -> usize {
            *index.entry(code.clone()).or_insert_with(|| {
                lines.push(StockLine {
                    product: code,
                    name: String::new(),
                    price: None,
                    active: false,
                    in_stock: 0,
                    sold: 0,
                    used: 0,
                    expiring: 0,
                });
                lines.len() - 1
            })
        };
        for r in products {
            let i = line_for(
                cell_str(&r[0]).unwrap_or_default().trim_end().to_string(),
                &mut lines,
            );
            lines[i].name = cell_str(&r[1]).unwrap_or_default();
            lines[i].price = cell_dec(&r[2]);
            lines[i].active = cell_i64(&r[3]).unwrap_or(0) != 0;
        }
        for r in by_status {
            let i = line_for(
                cell_str(&r[0]).unwrap_or_default().trim_end().to_string(),
                &mut lines,
            );
            let n = cell_i64(&r[2]).unwrap_or(0);
            if cell_i64(&r[1]) == Some(v.status_used) {
                lines[i].used += n;
            } else {
                lines[i].in_stock += n;
            }
        }
        for r in sold {
            let i = line_for(
                cell_str(&r[0]).unwrap_or_default().trim_end().to_string(),
                &mut lines,
            );
            let n = cell_i64(&r[1]).unwrap_or(0);
            lines[i].sold += n;
            lines[i].in_stock -= n;
        }
        for r in expiring {
            let i = line_for(
                cell_str(&r[0]).unwrap_or_default().trim_end().to_string(),
                &mut lines,
            );
            lines[i].expiring = cell_i64(&r[1]).unwrap_or(0);
        }
        lines.sort_by(|a, b| a.product.cmp(&b.product));
        Ok(lines)
    }

    pub async fn voucher_status(
        &mut self,
        needle: &str,
    ) -> Result<Vec<VoucherStatus>, LedgerError> {
        let (v, t) = (self.cfg.vouchers.clone(), self.cfg.transaksi.clone());
        let needle = needle.trim().replace([' ', '-'], "");
        let found = self
            .rows(
                &format!(
                    "SELECT TOP 10 {}, {}, {}, {}, {}, {} FROM {} WHERE {} = @P1 OR {} = @P1",
                    q(&v.product),
                    q(&v.code),
                    q(&v.serial),
                    q(&v.expiry),
                    q(&v.status),
                    q(&v.entry),
                    qt(&v.table),
                    q(&v.serial),
                    q(&v.code)
                ),
                &[Param::Str(needle.clone())],
            )
            .await?;
        let mut out = Vec::new();
        for r in found {
            let code = cell_str(&r[1]).unwrap_or_default().trim_end().to_string();
            let serial = cell_str(&r[2]).unwrap_or_default().trim_end().to_string();
            let sales = self
                .rows(
                    &format!(
                        "SELECT TOP 1 {}, {}, {} FROM {} WHERE {} = @P3 AND ({} = @P1 OR {} = @P2) ORDER BY {} DESC",
                        q(&t.code),
                        q(&t.entry),
                        q(&t.status),
                        qt(&t.table),
                        q(&t.status),
                        q(&t.sn),
                        q(&t.sn),
                        q(&t.entry)
                    ),
                    &[Param::Str(serial.clone()), Param::Str(code.clone()), Param::Int(t.status_success)],
                )
                .await?;
            let sale = sales.first().map(|s| Sale {
                transaction: cell_str(&s[0]).unwrap_or_default(),
                at: cell_datetime(&s[1]),
                status: cell_i64(&s[2]).unwrap_or(0),
            });
            let status_value = cell_i64(&r[4]).unwrap_or(0);
            let usage = if status_value == v.status_used {
                Usage::Used
            } else if sale.is_some() {
                Usage::Sold
            } else {
                Usage::InStock
            };
            out.push(VoucherStatus {
                product: cell_str(&r[0]).unwrap_or_default().trim_end().to_string(),
                code,
                serial,
                expiry: cell_datetime(&r[3]).map(|d| d.date()),
                entry: cell_datetime(&r[5]),
                status_value,
                usage,
                sale,
            });
        }
        Ok(out)
    }
}

fn short_reason(e: &LedgerError) -> String {
    match e {
        LedgerError::Config(_) => "config".into(),
        LedgerError::Unreachable(_) => "unreachable".into(),
        LedgerError::Login(_) => "login refused".into(),
        LedgerError::Database(_) => "database".into(),
        LedgerError::Timeout(_) => "timeout".into(),
        LedgerError::Schema(_) => "mapping".into(),
        LedgerError::TooShort(_) => "column too short".into(),
        LedgerError::Duplicate(_) => "duplicate".into(),
        LedgerError::Dropped(_) => "connection lost".into(),
        LedgerError::Server(_) => "server error".into(),
        LedgerError::Store(_) => "store".into(),
    }
}

/// Reads one text field of a voucher.
type Field = fn(&LedgerVoucher) -> &str;

enum Param {
    Str(String),
    Int(i64),
    Date(NaiveDate),
}

/// A bracket-quoted identifier (config values are names, never SQL).
fn q(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// A possibly schema-qualified table name, each part quoted.
fn qt(name: &str) -> String {
    name.split('.')
        .map(|p| q(p.trim_matches(|c| c == '[' || c == ']')))
        .collect::<Vec<_>>()
        .join(".")
}

fn status_cell(ty: &str, v: i64) -> ColumnData<'static> {
    match ty {
        "tinyint" => ColumnData::U8(Some(v as u8)),
        "smallint" => ColumnData::I16(Some(v as i16)),
        "bigint" => ColumnData::I64(Some(v)),
        "bit" => ColumnData::Bit(Some(v != 0)),
        _ => ColumnData::I32(Some(v as i32)),
    }
}

fn cell_str(c: &ColumnData<'static>) -> Option<String> {
    match c {
        ColumnData::String(Some(s)) => Some(s.to_string()),
        ColumnData::I32(Some(i)) => Some(i.to_string()),
        ColumnData::I64(Some(i)) => Some(i.to_string()),
        ColumnData::I16(Some(i)) => Some(i.to_string()),
        ColumnData::U8(Some(i)) => Some(i.to_string()),
        _ => None,
    }
}

fn cell_i64(c: &ColumnData<'static>) -> Option<i64> {
    match c {
        ColumnData::U8(Some(i)) => Some(*i as i64),
        ColumnData::I16(Some(i)) => Some(*i as i64),
        ColumnData::I32(Some(i)) => Some(*i as i64),
        ColumnData::I64(Some(i)) => Some(*i),
        ColumnData::Bit(Some(b)) => Some(*b as i64),
        ColumnData::Numeric(Some(n)) => Some(n.int_part() as i64),
        ColumnData::String(Some(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

fn cell_dec(c: &ColumnData<'static>) -> Option<Decimal> {
    match c {
        ColumnData::Numeric(Some(n)) => {
            Some(Decimal::from_i128_with_scale(n.value(), n.scale() as u32))
        }
        ColumnData::F64(Some(f)) => Decimal::try_from(*f).ok(),
        _ => cell_i64(c).map(Decimal::from),
    }
}

fn cell_datetime(c: &ColumnData<'static>) -> Option<NaiveDateTime> {
    use tiberius::FromSql;
    match c {
        ColumnData::Date(Some(_)) => NaiveDate::from_sql(c)
            .ok()
            .flatten()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        ColumnData::String(Some(s)) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        _ => NaiveDateTime::from_sql(c).ok().flatten(),
    }
}

/// The ledger on OtoMaX's SQL Server, behind the synchronous [`Ledger`] trait: it owns a small
/// tokio runtime and must be used from a blocking thread (a job thread, or the CLI).
pub struct OtomaxLedger {
    rt: tokio::runtime::Runtime,
    pub gateway: Gateway,
}

impl OtomaxLedger {
    pub fn new(cfg: &OtomaxConfig) -> Result<OtomaxLedger, LedgerError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LedgerError::Config(format!("cannot start the SQL Server worker: {e}")))?;
        Ok(OtomaxLedger {
            rt,
            gateway: Gateway::new(cfg)?,
        })
    }

    pub fn state(&self) -> StateCell {
        self.gateway.state()
    }

    pub fn check(&mut self) -> Result<(Vec<Problem>, Vec<ServerColumn>), LedgerError> {
        self.rt.block_on(self.gateway.check())
    }
}

impl Ledger for OtomaxLedger {
    fn kind(&self) -> &'static str {
        "sqlserver"
    }

    fn existing(&mut self, rows: &[LedgerVoucher]) -> Result<Vec<Conflict>, LedgerError> {
        let (codes, serials) = self.rt.block_on(self.gateway.existing_keys(rows, false))?;
        Ok(conflicts_against(rows, &codes, &serials))
    }

    fn insert_batch(
        &mut self,
        rows: &[LedgerVoucher],
        _who: &str,
        now: NaiveDateTime,
    ) -> Result<InsertReport, LedgerError> {
        self.rt.block_on(self.gateway.insert_batch(rows, now))
    }

    fn stock(
        &mut self,
        today: NaiveDate,
        expiring_days: u32,
    ) -> Result<Vec<StockLine>, LedgerError> {
        self.rt.block_on(self.gateway.stock(today, expiring_days))
    }

    fn voucher_status(&mut self, needle: &str) -> Result<Vec<VoucherStatus>, LedgerError> {
        self.rt.block_on(self.gateway.voucher_status(needle))
    }
}

/// `konter stock` and F3 when SQL Server is configured: the same rows as the embedded ledger's.
pub fn stock_rows(
    config: &crate::config::Config,
    today: NaiveDate,
) -> Result<Vec<crate::store::intake::StockRow>, LedgerError> {
    let mut l = OtomaxLedger::new(&config.otomax)?;
    let lines = l.stock(today, config.stock.expiring_days)?;
    Ok(lines
        .into_iter()
        .filter(|s| s.active || s.in_stock + s.sold + s.used > 0)
        .map(|s| crate::store::intake::StockRow {
            product: s.product,
            name: s.name,
            price: s.price.unwrap_or_default(),
            in_stock: s.in_stock,
            // the embedded ledger counts used vouchers as sold too (they left the shop)
            sold: s.sold + s.used,
            used: s.used,
            expiring: s.expiring,
        })
        .collect())
}
