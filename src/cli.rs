//! Command line: `konter` starts the TUI; subcommands run the same jobs without it.
//!
//! Each area defines its own subcommand enum in its own module and adds one variant here and
//! one arm in [`run`], so the areas stay apart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::{self, Config};
use crate::i18n::Lang;
use crate::jobs::intake::{self as intake_job, ImportRequest};
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "konter",
    version,
    about = "Alat kasir konter pulsa & wartel (TUI keyboard-only) / counter tool for a phone-credit and hotspot shop",
    long_about = "Tanpa perintah: membuka TUI. / Without a command: opens the TUI.\n\
                  Koneksi dari config atau env: KONTER_CONFIG, KONTER_DATA_DIR, KONTER_OTOMAX_URL,\n\
                  KONTER_ROUTER_ADDR, KONTER_ROUTER_USER, KONTER_ROUTER_PASSWORD."
)]
pub struct Cli {
    /// Config file (else KONTER_CONFIG, else the platform config dir).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print machine-readable output: one JSON object per line.
    #[arg(long, global = true)]
    pub json: bool,
    /// Treat this date (YYYY-MM-DD) as today: for back-dated checks and reproducible tests.
    #[arg(long, global = true, value_parser = parse_day)]
    pub today: Option<NaiveDate>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date like 2026-11-21"))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store in the data dir (with --demo: sample products, stock and a staged batch).
    Init {
        #[arg(long)]
        demo: bool,
    },
    /// Start the TUI on demo data in a fresh temporary data dir.
    Demo,
    /// Bring vouchers into staging (and with --confirm into stock).
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Vouchers per product: in stock, sold, used, expiring.
    Stock,
    /// OtoMaX SQL Server: check the mapping, confirm a batch, read stock.
    #[command(subcommand)]
    Otomax(crate::otomax::cli::OtomaxCmd),
    /// One voucher: usage check by serial or code (Otoplus-style).
    #[command(subcommand)]
    Voucher(crate::otomax::cli::VoucherCmd),
    /// Simulators of outside systems (a MikroTik router) for the demo and tests.
    Sim {
        #[command(subcommand)]
        cmd: crate::routeros::sim::cli::SimCommand,
    },
    /// Hotspot vouchers on the MikroTik router: users, sync, generate, print.
    Hotspot {
        #[command(subcommand)]
        cmd: crate::hotspot::cli::HotspotCommand,
    },
    /// Voucher photos: read the cards (serial, code, expiry, brand) in photos.
    Ocr {
        #[command(subcommand)]
        cmd: crate::ocr::OcrCommand,
    },
    /// Voucher photos: find the photo (and card box) of a voucher by serial or code.
    Photo {
        #[command(subcommand)]
        cmd: crate::ocr::find::PhotoCommand,
    },
    /// Read-only HTTP endpoint for a chat bot: `--photos` serves GET /photos?serial=... (JSON) and
    /// GET /photos/image?serial=... (the card as JPEG), behind the [serve] bearer token.
    Serve(crate::serve::ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// A CSV/TXT voucher list: every line gets a verdict; valid lines are staged.
    Vouchers {
        file: PathBuf,
        /// Product for lists without a product column (the plain `code | serial` list).
        #[arg(long)]
        product: Option<String>,
        /// Show the verdicts only; stage nothing.
        #[arg(long, conflicts_with = "confirm")]
        dry_run: bool,
        /// Also insert the accepted lines into stock.
        #[arg(long)]
        confirm: bool,
    },
    /// Voucher photos: every card read becomes a staged line (source image) with its photo and
    /// box; the same rules as a list. Needs the `ocr` feature.
    Photos(crate::ocr::import::ImportPhotos),
}

/// What every command gets: the loaded config and how to print.
pub struct Ctx {
    pub config: Config,
    pub json: bool,
    pub today: NaiveDate,
}

impl Ctx {
    pub fn lang(&self) -> Lang {
        self.config.shop.language
    }

    /// Prints one JSON object as one line.
    pub fn emit(&self, value: &serde_json::Value) {
        println!("{value}");
    }

    pub fn open_store(&self) -> Result<Store, crate::store::StoreError> {
        Store::open(&self.config.db_path())
    }
}

/// An error for the user: printed as one line (or one JSON object) and a non-zero exit.
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

pub type CmdResult = Result<i32, Box<dyn std::error::Error + Send + Sync>>;

pub fn load_ctx(cli: &Cli) -> Result<Ctx, config::ConfigError> {
    let loaded = config::load(cli.config.as_deref(), &config::process_env)?;
    Ok(Ctx {
        config: loaded.config,
        json: cli.json,
        today: cli
            .today
            .unwrap_or_else(|| chrono::Local::now().date_naive()),
    })
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let ctx = match load_ctx(&cli) {
        Ok(c) => c,
        Err(e) => return report_error(cli.json, &e),
    };
    // The demo logs into its own temporary data dir.
    let _log = match cli.command {
        Some(Command::Demo) => None,
        _ => crate::logging::init(&ctx.config.data_dir()).ok(),
    };
    let result: CmdResult = match cli.command {
        Some(Command::Init { demo }) => init(&ctx, demo),
        Some(Command::Demo) => demo(ctx_for_demo(&ctx)),
        Some(Command::Import {
            what:
                ImportCmd::Vouchers {
                    file,
                    product,
                    dry_run,
                    confirm,
                },
        }) => import_vouchers(&ctx, &file, product.as_deref(), dry_run, confirm),
        Some(Command::Import {
            what: ImportCmd::Photos(args),
        }) => crate::ocr::import::run(&ctx, args),
        Some(Command::Stock) => stock(&ctx),
        Some(Command::Otomax(cmd)) => crate::otomax::cli::run_otomax(&ctx, cmd),
        Some(Command::Voucher(cmd)) => crate::otomax::cli::run_voucher(&ctx, cmd),
        Some(Command::Sim { cmd }) => crate::routeros::sim::cli::run(&ctx, cmd),
        Some(Command::Hotspot { cmd }) => crate::hotspot::cli::run(&ctx, cmd),
        Some(Command::Ocr { cmd }) => crate::ocr::run(&ctx, cmd),
        Some(Command::Photo { cmd }) => crate::ocr::find::run(&ctx, cmd),
        Some(Command::Serve(args)) => crate::serve::run(&ctx, args),
        None => crate::tui::start(ctx.config.clone(), ctx.today),
    };
    match result {
        Ok(code) => code,
        Err(e) => report_error(ctx.json, &*e),
    }
}

pub fn report_error(json: bool, e: &dyn std::error::Error) -> i32 {
    if json {
        println!("{}", json!({ "error": e.to_string() }));
    } else {
        eprintln!("konter: {e}");
    }
    1
}

fn init(ctx: &Ctx, demo: bool) -> CmdResult {
    let mut store = ctx.open_store()?;
    if demo {
        let used: i64 = store.conn().query_row(
            "SELECT (SELECT count(*) FROM vouchers) + (SELECT count(*) FROM staging_batches)",
            [],
            |r| r.get(0),
        )?;
        if used > 0 {
            return Err(Box::new(UserError(format!(
                "{} already holds vouchers or batches; demo data goes only into an empty data dir (set KONTER_DATA_DIR to a new folder)",
                store.path().display()
            ))));
        }
        store.seed_demo(ctx.today, &ctx.config.shop.user)?;
    }
    if ctx.json {
        ctx.emit(&json!({ "store": store.path(), "demo": demo }));
    } else {
        println!(
            "{} {}",
            ctx.lang().t("Database siap:", "Store ready:"),
            store.path().display()
        );
    }
    Ok(0)
}

/// The demo runs in a fresh temporary data dir, whatever the config says.
fn ctx_for_demo(ctx: &Ctx) -> Ctx {
    let mut config = ctx.config.clone();
    config.otomax.url.clear();
    Ctx {
        config,
        json: ctx.json,
        today: ctx.today,
    }
}

fn demo(mut ctx: Ctx) -> CmdResult {
    let dir = tempfile::Builder::new().prefix("konter-demo-").tempdir()?;
    ctx.config.store.data_dir = Some(dir.path().to_path_buf());
    let _log = crate::logging::init(dir.path()).ok();
    init(&ctx, true)?;
    // The built-in router simulator stands in for the shop's MikroTik, on a loopback port.
    let sim = crate::routeros::sim::BackgroundSim::start(
        "127.0.0.1:0",
        crate::routeros::sim::SimConfig::demo(),
    )
    .map_err(UserError)?;
    sim.configure(&mut ctx.config.router);
    // With no printer configured, F4's print keys write a PDF sheet into the demo dir.
    if ctx.config.hotspot.printer.trim().is_empty() {
        ctx.config.hotspot.printer = dir.path().join("voucher.pdf").display().to_string();
    }
    // `dir` and `sim` live until the TUI closes; the demo data goes with them.
    let code = crate::tui::start(ctx.config.clone(), ctx.today)?;
    drop(sim);
    drop(dir);
    Ok(code)
}

/// Ctrl-C sets the flag; the job checks it and rolls back.
pub fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    f.store(true, Ordering::SeqCst);
                }
            });
        }
    });
    flag
}

fn import_vouchers(
    ctx: &Ctx,
    file: &std::path::Path,
    product: Option<&str>,
    dry_run: bool,
    confirm: bool,
) -> CmdResult {
    let lang = ctx.lang();
    let mut store = ctx.open_store()?;
    let cancel = cancel_on_ctrl_c();
    let req = ImportRequest {
        path: file,
        product,
        created_by: &ctx.config.shop.user,
        today: ctx.today,
        dry_run,
    };
    let out = match intake_job::import_file(&mut store, &req, &cancel, &mut |_, _| {}) {
        Ok(o) => o,
        Err(e) => {
            let code = if e.is_cancelled() { 130 } else { 1 };
            if ctx.json {
                ctx.emit(&json!({ "error": e.message(lang), "file": file }));
            } else {
                eprintln!("konter: {}", e.message(lang));
            }
            return Ok(code);
        }
    };
    for r in &out.results {
        if ctx.json {
            ctx.emit(&json!({
                "line": r.line,
                "ok": r.verdict.is_none(),
                "field": r.verdict.as_ref().map(|v| v.field.as_str()),
                "reason": r.verdict.as_ref().map(|v| v.message(lang)),
                "verdict": r.verdict.as_ref().map(|v| v.code()),
            }));
        } else if let Some(v) = &r.verdict {
            println!(
                "{} {}: {}: {}",
                lang.t("baris", "line"),
                r.line,
                v.field.label(lang),
                v.message(lang)
            );
        }
    }
    if ctx.json {
        ctx.emit(
            &json!({ "accepted": out.accepted, "rejected": out.rejected, "batch": out.batch_id }),
        );
    } else {
        match out.batch_id {
            Some(b) => println!(
                "{} #{b}: {} {}, {} {}",
                lang.t("Batch", "Batch"),
                out.accepted,
                lang.t("diterima", "accepted"),
                out.rejected,
                lang.t("ditolak", "rejected")
            ),
            None => println!(
                "{}: {} {}, {} {}",
                lang.t("Uji coba (tidak disimpan)", "Dry run (nothing saved)"),
                out.accepted,
                lang.t("diterima", "accepted"),
                out.rejected,
                lang.t("ditolak", "rejected")
            ),
        }
    }
    if let (true, Some(batch)) = (confirm, out.batch_id) {
        return Ok(confirm_staged(ctx, &mut store, batch, &cancel, None).unwrap_or(0));
    }
    Ok(0)
}

/// `--confirm` of an import: the staged batch into stock (OtoMaX's SQL Server when set, else
/// the embedded ledger), printed as one line. `held` (cards still to be checked against their
/// photo, which stay staged) is reported when given. Returns the exit code of a failure.
pub fn confirm_staged(
    ctx: &Ctx,
    store: &mut Store,
    batch: i64,
    cancel: &AtomicBool,
    held: Option<usize>,
) -> Option<i32> {
    let lang = ctx.lang();
    let c = match intake_job::confirm(store, &ctx.config, batch, cancel, &mut |_, _| {}) {
        Ok(c) => c,
        Err(e) => {
            let msg = format!(
                "{} {}",
                e.message(lang),
                lang.t(
                    "Batch tetap di staging; ulangi dengan konfirmasi di F2.",
                    "The batch stays staged; retry the confirm from F2."
                )
            );
            if ctx.json {
                ctx.emit(&json!({ "error": msg, "batch": batch }));
            } else {
                eprintln!("konter: {msg}");
            }
            return Some(if e.is_cancelled() { 130 } else { 1 });
        }
    };
    if ctx.json {
        let mut v = json!({ "batch": batch, "inserted": c.inserted, "already": c.already, "insert_rejected": c.rejected });
        if let Some(h) = held {
            v["held_for_review"] = json!(h);
        }
        ctx.emit(&v);
    } else {
        println!(
            "{}: {} {}, {} {}, {} {}{}",
            lang.t("Masuk stok", "Into stock"),
            c.inserted,
            lang.t("baru", "new"),
            c.already,
            lang.t("sudah ada", "already there"),
            c.rejected,
            lang.t("ditolak", "rejected"),
            match held {
                Some(h) => format!(
                    ", {h} {}",
                    lang.t(
                        "menunggu dicek dengan foto di F2",
                        "wait in F2 to be checked against the photo"
                    )
                ),
                None => String::new(),
            }
        );
    }
    None
}

fn stock(ctx: &Ctx) -> CmdResult {
    let rows = if ctx.config.otomax.url.trim().is_empty() {
        let store = ctx.open_store()?;
        store.stock_by_product(ctx.today, ctx.config.stock.expiring_days)?
    } else {
        crate::otomax::stock_rows(&ctx.config, ctx.today)?
    };
    let lang = ctx.lang();
    if !ctx.json {
        println!(
            "{:<10} {:<24} {:>6} {:>8} {:>8} {:>6}",
            lang.t("Produk", "Product"),
            lang.t("Nama", "Name"),
            lang.t("Stok", "Stock"),
            lang.t("Terjual", "Sold"),
            lang.t("Terpakai", "Used"),
            format!("Exp≤{}", ctx.config.stock.expiring_days)
        );
    }
    for r in rows {
        if ctx.json {
            ctx.emit(&json!({
                "product": r.product, "name": r.name, "in_stock": r.in_stock,
                "sold": r.sold, "used": r.used, "expiring": r.expiring,
            }));
        } else {
            println!(
                "{:<10} {:<24} {:>6} {:>8} {:>8} {:>6}",
                r.product, r.name, r.in_stock, r.sold, r.used, r.expiring
            );
        }
    }
    Ok(0)
}
