//! `konter hotspot ...`: the same jobs the F4 screen runs, without the TUI.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Subcommand;
use serde_json::json;

use super::generate::{self, GenerateRequest};
use super::print::{self, Paper, PrintDest};
use super::sync::{self, local_now};
use crate::cli::{CmdResult, Ctx, UserError};
use crate::domain::hotspot::{self as rules, format_bytes, format_clock, Status, VoucherMode};
use crate::routeros::{Client, Router};
use crate::store::hotspot::{BatchView, UserFilter, CREATED};

#[derive(Debug, Subcommand)]
pub enum HotspotCommand {
    /// List hotspot users with their status (syncs from the router first when one is set).
    Users {
        /// READY, ONLINE, TERPAKAI, RUSAK, RETUR, INVALID or PENGELOLA.
        #[arg(long)]
        status: Option<String>,
        /// Blok letters or name: A, BLOK-A.
        #[arg(long)]
        blok: Option<String>,
        #[arg(long)]
        profile: Option<String>,
        /// Part of the user name or comment.
        #[arg(long)]
        search: Option<String>,
        /// List what the last sync saved, without asking the router.
        #[arg(long)]
        no_sync: bool,
    },
    /// Copy users, sessions, logins and sales records from the router into SQLite.
    Sync,
    /// Create a batch of vouchers on the router (recorded in SQLite before anything is sent).
    Generate {
        /// A profile from [hotspot] profiles, e.g. 10Menit.
        #[arg(long)]
        profile: String,
        /// Blok letters: A, or BLOK-A.
        #[arg(long)]
        blok: String,
        #[arg(long)]
        count: usize,
        /// vc (password = name) or up (separate password); default from [hotspot] mode.
        #[arg(long)]
        mode: Option<String>,
        /// Print the created vouchers: a device, a file, tcp:HOST[:PORT], or a .pdf sheet.
        #[arg(long)]
        print: Option<String>,
    },
    /// Ask the router which vouchers of interrupted batches exist, and record it.
    Reconcile,
    /// Print the created vouchers of a batch again.
    Print {
        #[arg(long)]
        batch: i64,
        /// A device, a file, tcp:HOST[:PORT], or a .pdf sheet (default: [hotspot] printer).
        #[arg(long)]
        to: Option<String>,
    },
}

pub fn run(ctx: &Ctx, cmd: HotspotCommand) -> CmdResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(ctx, cmd))
}

fn router_of(ctx: &Ctx) -> Result<Router, UserError> {
    let r = Router::from_config(&ctx.config.router);
    if !r.is_enabled() {
        return Err(UserError(
            ctx.lang()
                .t(
                    "router belum diatur: isi [router] addr atau KONTER_ROUTER_ADDR (host:port)",
                    "no router configured: set [router] addr or KONTER_ROUTER_ADDR (host:port)",
                )
                .into(),
        ));
    }
    Ok(r)
}

async fn connect(ctx: &Ctx) -> Result<Client, Box<dyn std::error::Error + Send + Sync>> {
    let r = router_of(ctx)?;
    Ok(r.client_with_retry(2).await?)
}

async fn run_async(ctx: &Ctx, cmd: HotspotCommand) -> CmdResult {
    let db = ctx.config.db_path();
    let rules_cfg = ctx.config.hotspot.rules();
    let label = ctx.config.router.addr.clone();
    match cmd {
        HotspotCommand::Users {
            status,
            blok,
            profile,
            search,
            no_sync,
        } => {
            let status = match status {
                Some(s) => Some(Status::parse(&s).ok_or_else(|| {
                    UserError(format!(
                        "unknown status '{s}': use READY, ONLINE, TERPAKAI, RUSAK, RETUR, INVALID or PENGELOLA"
                    ))
                })?),
                None => None,
            };
            let mut warning = None;
            let mut skipped = Vec::new();
            if !no_sync {
                let outcome = match connect(ctx).await {
                    Ok(c) => sync::sync_once(&c, &db, &rules_cfg, &label, local_now(), None)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match outcome {
                    Ok(r) => skipped = r.skipped,
                    // The list still shows what the last sync saved, marked as stale.
                    Err(e) => warning = Some(e),
                }
            }
            let store = ctx.open_store()?;
            let users = store.hotspot_users(&UserFilter {
                status,
                blok,
                profile,
                search,
            })?;
            let state = store.hotspot_sync_state(&label)?;
            if ctx.json {
                for u in &users {
                    ctx.emit(&serde_json::to_value(u)?);
                }
                let mut counts = serde_json::Map::new();
                for u in &users {
                    let e = counts.entry(u.status.as_str()).or_insert(json!(0));
                    *e = json!(e.as_u64().unwrap_or(0) + 1);
                }
                ctx.emit(&json!({
                    "total": users.len(),
                    "counts": counts,
                    "last_sync_ok_at": state.as_ref().and_then(|s| s.last_ok_at.clone()),
                    "warning": warning,
                    "skipped": skipped,
                }));
            } else {
                for sk in &skipped {
                    eprintln!("konter: {}", sk.text(ctx.lang()));
                }
                if let Some(w) = &warning {
                    eprintln!(
                        "konter: {w}\nkonter: {}",
                        ctx.lang().t(
                            "daftar di bawah dari sinkron terakhir",
                            "the list below is from the last sync"
                        )
                    );
                }
                println!(
                    "{:<9} {:<12} {:<10} {:<10} {:>8} {:>9} {:>5}  Komentar",
                    "Status", "User", "Profil", "Blok", "Uptime", "Bytes", "Login"
                );
                for u in &users {
                    println!(
                        "{:<9} {:<12} {:<10} {:<10} {:>8} {:>9} {:>5}  {}",
                        u.status.as_str(),
                        u.name,
                        u.profile,
                        u.blok.as_deref().unwrap_or("-"),
                        format_clock(u.uptime_s),
                        format_bytes(u.bytes),
                        format!("{}x", u.login_count),
                        u.comment
                    );
                }
                println!("{} user", users.len());
            }
            Ok(if warning.is_some() { 2 } else { 0 })
        }
        HotspotCommand::Sync => {
            let c = connect(ctx).await?;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let json = ctx.json;
            let printer = tokio::spawn(async move {
                while let Some(ev) = rx.recv().await {
                    if json {
                        if let Ok(v) = serde_json::to_value(&ev) {
                            println!("{v}");
                        }
                    }
                }
            });
            let r = sync::sync_once(&c, &db, &rules_cfg, &label, local_now(), Some(&tx)).await;
            drop(tx);
            let _ = printer.await;
            let r = r?;
            if !ctx.json {
                println!(
                    "sinkron: {} user ({} baru, {} berubah, {} hilang), {} aktif ({} login, {} logout), {} penjualan baru, {} ms",
                    r.users,
                    r.snapshot.added,
                    r.snapshot.changed,
                    r.snapshot.removed,
                    r.active,
                    r.snapshot.logins,
                    r.snapshot.logouts,
                    r.sales.inserted,
                    r.total_ms
                );
                for w in r.warnings(ctx.lang()) {
                    eprintln!("konter: {w}");
                }
            }
            Ok(0)
        }
        HotspotCommand::Reconcile => {
            let c = connect(ctx).await?;
            let reports = generate::reconcile_unfinished(&c, &db, &label, local_now()).await?;
            for r in &reports {
                if ctx.json {
                    ctx.emit(&serde_json::to_value(r)?);
                } else {
                    println!(
                        "batch {}: {} dibuat, {} tidak ada, {} gagal",
                        r.batch, r.created, r.missing, r.failed
                    );
                }
            }
            if ctx.json {
                ctx.emit(&json!({ "reconciled": reports.len() }));
            } else if reports.is_empty() {
                println!("tidak ada batch yang terputus / no interrupted batch");
            }
            Ok(0)
        }
        HotspotCommand::Generate {
            profile,
            blok,
            count,
            mode,
            print,
        } => {
            if count == 0 || count > rules::MAX_BATCH {
                return Err(Box::new(UserError(format!(
                    "cannot generate {count} vouchers: choose a count from 1 to {}",
                    rules::MAX_BATCH
                ))));
            }
            let hs = &ctx.config.hotspot;
            let prof = hs.profile(&profile).ok_or_else(|| {
                let names: Vec<&str> = hs.profiles.iter().map(|p| p.name.as_str()).collect();
                UserError(format!(
                    "profile '{profile}' is not in [hotspot] profiles ({}); add it to the config or pick one of those",
                    names.join(", ")
                ))
            })?;
            let letters = rules::blok_letters(&blok).ok_or_else(|| {
                UserError(format!(
                    "'{blok}' is not a blok; give its letters, e.g. A or BLOK-A"
                ))
            })?;
            if !letters.chars().all(|c| hs.blok_letters.contains(c)) {
                return Err(Box::new(UserError(format!(
                    "blok {letters} is not in [hotspot] blok_letters ({}); add it there or pick one of those",
                    hs.blok_letters
                ))));
            }
            let mode = match mode.as_deref() {
                None => hs.mode,
                Some("vc") => VoucherMode::Vc,
                Some("up") => VoucherMode::Up,
                Some(m) => {
                    return Err(Box::new(UserError(format!(
                        "mode '{m}' is unknown: use vc (password = name) or up (separate password)"
                    ))))
                }
            };
            let dest = match &print {
                Some(d) => Some(PrintDest::parse(d)?),
                None => None,
            };
            let paper = Paper::from_mm(hs.paper_mm)?;
            let c = connect(ctx).await?;
            let now = local_now();
            // Earlier interrupted batches first, so their names are known and counted.
            for r in generate::reconcile_unfinished(&c, &db, &label, now).await? {
                if ctx.json {
                    ctx.emit(&json!({ "reconciled": r }));
                }
            }
            let req = GenerateRequest {
                profile: prof.name.clone(),
                minutes: prof.minutes,
                blok: letters,
                count,
                mode,
                name_len: hs.name_len,
                created_by: ctx.config.shop.user.clone(),
                date: ctx.today,
                seed: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1),
            };
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let json = ctx.json;
            let progress = tokio::spawn(async move {
                let mut shown = false;
                while let Some(ev) = rx.recv().await {
                    if json {
                        if let Ok(v) = serde_json::to_value(&ev) {
                            println!("{v}");
                        }
                    } else if let generate::GenEvent::Progress { done, total } = ev {
                        eprint!("\rmembuat voucher {done}/{total}");
                        shown = true;
                    }
                }
                if shown {
                    eprintln!();
                }
            });
            let mut report = generate::generate(&c, &db, &label, &req, now, Some(&tx)).await;
            drop(tx);
            let _ = progress.await;
            // A lost connection: reconnect and ask the router which vouchers exist.
            if let Ok(r) = &report {
                if r.unknown > 0 {
                    if let Ok(c2) = connect(ctx).await {
                        if let Ok(r2) =
                            generate::reconcile_batch(&c2, &db, r.batch, local_now(), None).await
                        {
                            report = Ok(r2);
                        }
                    }
                }
            }
            let report = report?;
            let batch = ctx
                .open_store()?
                .hotspot_batch(report.batch)?
                .ok_or_else(|| UserError(format!("batch {} vanished", report.batch)))?;
            let printed = match &dest {
                Some(d) => Some(print_batch(ctx, &batch, d, paper).await),
                None => None,
            };
            emit_batch(ctx, &batch, &report, printed.as_ref())?;
            Ok(
                if report.created == report.requested && !matches!(printed, Some(Err(_))) {
                    0
                } else {
                    2
                },
            )
        }
        HotspotCommand::Print { batch, to } => {
            let hs = &ctx.config.hotspot;
            let dest = PrintDest::parse(to.as_deref().unwrap_or(&hs.printer))?;
            let paper = Paper::from_mm(hs.paper_mm)?;
            let b = ctx.open_store()?.hotspot_batch(batch)?.ok_or_else(|| {
                UserError(format!(
                    "there is no voucher batch {batch}; `konter hotspot generate --json` shows batch numbers"
                ))
            })?;
            let n = print_batch(ctx, &b, &dest, paper).await?;
            if ctx.json {
                ctx.emit(&json!({ "batch": batch, "printed": n, "to": dest.to_string() }));
            } else {
                println!("{n} voucher dicetak ke {dest}");
            }
            Ok(0)
        }
    }
}

async fn print_batch(
    ctx: &Ctx,
    b: &BatchView,
    dest: &PrintDest,
    paper: Paper,
) -> Result<usize, print::PrintError> {
    let tickets = print::tickets_of(&ctx.config.hotspot, b);
    print::print_tickets(
        dest,
        &tickets,
        paper,
        &ctx.config.shop.name,
        &ctx.config.hotspot.login_url,
        ctx.lang(),
    )
    .await
}

fn emit_batch(
    ctx: &Ctx,
    b: &BatchView,
    r: &generate::GenerateReport,
    printed: Option<&Result<usize, print::PrintError>>,
) -> Result<(), serde_json::Error> {
    let print_json = printed.map(|p| match p {
        Ok(n) => json!({ "printed": n }),
        Err(e) => json!({
            "print_error": e.to_string(),
            "reprint": format!("konter hotspot print --batch {}", r.batch),
        }),
    });
    if ctx.json {
        for v in &b.vouchers {
            ctx.emit(&serde_json::to_value(v)?);
        }
        ctx.emit(&json!({ "batch": r, "print": print_json }));
    } else {
        for v in b.vouchers.iter().filter(|v| v.state == CREATED) {
            if v.name == v.password {
                println!("{}", v.name);
            } else {
                println!("{} {}", v.name, v.password);
            }
        }
        println!(
            "batch {}: {} dari {} voucher dibuat ({}), komentar {}",
            r.batch, r.created, r.requested, b.profile, b.comment
        );
        if r.failed + r.missing + r.unknown > 0 {
            eprintln!(
                "konter: {} gagal, {} tidak ada di router, {} belum pasti{}; `konter hotspot reconcile` memastikan yang belum pasti",
                r.failed,
                r.missing,
                r.unknown,
                r.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            );
        }
        match printed {
            Some(Ok(n)) => println!("{n} voucher dicetak"),
            Some(Err(e)) => eprintln!(
                "konter: {e}; the vouchers exist and are recorded: print them again with `konter hotspot print --batch {}`",
                r.batch
            ),
            None => {}
        }
    }
    Ok(())
}
