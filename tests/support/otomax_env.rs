//! Where the otomax tests run: the TDS test server by default, or a real SQL Server when
//! KONTER_TEST_MSSQL holds its connection string. Each test makes its own uniquely named tables
//! over the wire, so both run the same code and tests never share rows.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use konter::config::OtomaxConfig;
use konter::otomax::mapping::{ProdukMapping, TransaksiMapping, VoucherMapping};

use super::tds::{ServerOptions, TdsServer};

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub server: Option<TdsServer>,
    pub url: String,
    pub prefix: String,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl Env {
    /// Starts the test server (unless KONTER_TEST_MSSQL is set) and creates fresh tables.
    pub fn new() -> Env {
        Self::with_code_len(50)
    }

    pub fn with_code_len(code_len: u32) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (server, url) = match std::env::var("KONTER_TEST_MSSQL")
            .ok()
            .filter(|s| !s.is_empty())
        {
            Some(url) => (None, url),
            None => {
                let s = rt
                    .block_on(TdsServer::start(0, ServerOptions::default()))
                    .expect("test server starts");
                let url = s.url();
                (Some(s), url)
            }
        };
        let prefix = format!(
            "kt{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
                % 100000
        );
        let env = Env {
            rt,
            server,
            url,
            prefix,
        };
        let ddl = super::tds::DEFAULT_SCHEMA
            .replace(
                "CREATE TABLE produk",
                &format!("CREATE TABLE {}_produk", env.prefix),
            )
            .replace(
                "CREATE TABLE transaksi",
                &format!("CREATE TABLE {}_transaksi", env.prefix),
            )
            .replace(
                "CREATE TABLE voucher_fisik",
                &format!("CREATE TABLE {}_voucher", env.prefix),
            )
            .replace(
                "INSERT INTO produk",
                &format!("INSERT INTO {}_produk", env.prefix),
            )
            .replace(
                "kode_voucher  varchar(50)",
                &format!("kode_voucher  varchar({code_len})"),
            )
            .replace(
                "CONSTRAINT uq_voucher_kode",
                &format!("CONSTRAINT uq_{}_kode", env.prefix),
            )
            .replace(
                "CONSTRAINT uq_voucher_serial",
                &format!("CONSTRAINT uq_{}_serial", env.prefix),
            );
        env.sql(&ddl);
        env
    }

    pub fn real_server(&self) -> bool {
        self.server.is_none()
    }

    pub fn config(&self) -> OtomaxConfig {
        OtomaxConfig {
            url: self.url.clone(),
            command_timeout_s: 5,
            connect_timeout_s: 5,
            retries: 0,
            vouchers: VoucherMapping {
                table: format!("{}_voucher", self.prefix),
                ..Default::default()
            },
            produk: ProdukMapping {
                table: format!("{}_produk", self.prefix),
                ..Default::default()
            },
            transaksi: TransaksiMapping {
                table: format!("{}_transaksi", self.prefix),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    async fn client(
        url: &str,
    ) -> tiberius::Client<tokio_util::compat::Compat<tokio::net::TcpStream>> {
        use tokio_util::compat::TokioAsyncWriteCompatExt;
        let cfg = tiberius::Config::from_ado_string(url).expect("test connection string");
        let tcp = tokio::net::TcpStream::connect(cfg.get_addr())
            .await
            .expect("tcp");
        tiberius::Client::connect(cfg, tcp.compat_write())
            .await
            .expect("login")
    }

    /// Runs SQL on a connection of its own (setup, and counting rows afterwards).
    pub fn sql(&self, text: &str) {
        let url = self.url.clone();
        self.rt.block_on(async move {
            let mut c = Self::client(&url).await;
            c.simple_query(text)
                .await
                .expect("sql")
                .into_results()
                .await
                .expect("sql results");
        });
    }

    pub fn count(&self, table_suffix: &str) -> i64 {
        let url = self.url.clone();
        let q = format!("SELECT COUNT(*) FROM {}_{table_suffix}", self.prefix);
        self.rt.block_on(async move {
            let mut c = Self::client(&url).await;
            let row = c
                .simple_query(q)
                .await
                .unwrap()
                .into_row()
                .await
                .unwrap()
                .unwrap();
            row.get::<i32, _>(0).unwrap() as i64
        })
    }

    pub fn vouchers(&self) -> i64 {
        self.count("voucher")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if self.real_server() {
            let p = self.prefix.clone();
            let url = self.url.clone();
            self.rt.block_on(async move {
                let mut c = Self::client(&url).await;
                for t in ["voucher", "produk", "transaksi"] {
                    let _ = c
                        .simple_query(format!("DROP TABLE {p}_{t}"))
                        .await
                        .map(|_| ());
                }
            });
        }
    }
}

/// A store with one staged batch of `rows` (product, code, serial, expiry); returns its id.
pub fn staged(conn: &rusqlite::Connection, rows: &[(&str, &str, &str, &str)]) -> i64 {
    conn.execute(
        "INSERT INTO staging_batches(source, file_name, created_by, created_at, status_at)
         VALUES ('csv', 'test.csv', 'tester', '2026-11-21T06:00:00', '2026-11-21T06:00:00')",
        [],
    )
    .unwrap();
    let id = conn.last_insert_rowid();
    for (i, (p, c, s, e)) in rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO staging_rows(id, product, code, serial, expiry, entry_at, status_at)
             VALUES ((?1 << 32) + ?2, ?3, ?4, ?5, ?6, '2026-11-21T06:00:00', '2026-11-21T06:00:00')",
            rusqlite::params![id, i as i64 + 2, p, c, s, e],
        )
        .unwrap();
    }
    id
}

/// insert_status of every line of a batch, in line order.
pub fn statuses(conn: &rusqlite::Connection, batch: i64) -> Vec<(i64, i64, Option<String>)> {
    let mut st = conn
        .prepare(
            "SELECT line, insert_status, insert_reason FROM staging_rows
             WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295 ORDER BY id",
        )
        .unwrap();
    st.query_map([batch], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// `n` distinct vouchers of XLVD5 and AXISVD2.
pub fn vouchers(n: usize, seed: u64) -> Vec<(String, String, String, String)> {
    (0..n)
        .map(|i| {
            let k = seed * 1_000_000 + i as u64;
            (
                if i % 2 == 0 { "XLVD5" } else { "AXISVD2" }.to_string(),
                format!("{:016}", 1_000_000_000_000_000u64 / 1000 + k * 7919),
                format!("{:012}", 100_000_000_000u64 + k * 31),
                "2028-05-15".to_string(),
            )
        })
        .collect()
}
