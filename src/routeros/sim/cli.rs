//! `konter sim router`: runs the router simulator in the foreground until Ctrl-C.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::{SimConfig, SimServer};
use crate::cli::{CmdResult, Ctx, UserError};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Simulated MikroTik router (RouterOS API) with hotspot users, for the demo and tests.
    Router(RouterArgs),
}

#[derive(Debug, Args)]
pub struct RouterArgs {
    /// Address to listen on (port 0: any free port; the first line says which).
    #[arg(long, default_value = "127.0.0.1:8728")]
    pub bind: String,
    /// Number of hotspot users to create.
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Seed of the generated users (same seed, same router).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// API login name.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// API login password.
    #[arg(long, default_value = "konter")]
    pub password: String,
    /// Only accept the MD5 challenge login (RouterOS before 6.43).
    #[arg(long)]
    pub legacy_login: bool,
    /// Log in a random READY voucher every this many seconds (0: no activity).
    #[arg(long, default_value_t = 20)]
    pub login_every: u64,
    /// Serve api-ssl: PEM certificate (needs --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Serve api-ssl: PEM private key (needs --tls-cert).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Fault: close the connection instead of answering the N-th command (it is carried out).
    #[arg(long)]
    pub drop_after_commands: Option<u64>,
    /// Fault: close the connection after N reply sentences.
    #[arg(long)]
    pub drop_after_replies: Option<u64>,
    /// Fault: never answer the N-th command.
    #[arg(long)]
    pub stall_after_commands: Option<u64>,
}

pub fn run(ctx: &Ctx, cmd: SimCommand) -> CmdResult {
    let SimCommand::Router(args) = cmd;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| UserError(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(run_router(ctx, args))
}

async fn run_router(ctx: &Ctx, a: RouterArgs) -> CmdResult {
    let cfg = SimConfig {
        users: a.users,
        seed: a.seed,
        user: a.user,
        password: a.password,
        legacy_login: a.legacy_login,
        login_every: (a.login_every > 0).then(|| Duration::from_secs(a.login_every)),
        tls: a.tls_cert.zip(a.tls_key),
        now: None,
    };
    let tls = cfg.tls.is_some();
    let sim = SimServer::start(&a.bind, cfg).await.map_err(UserError)?;
    if let Some(n) = a.drop_after_commands {
        sim.faults().drop_after_commands(n);
    }
    if let Some(n) = a.drop_after_replies {
        sim.faults().drop_after_replies(n);
    }
    if let Some(n) = a.stall_after_commands {
        sim.faults().stall_after_commands(n);
    }
    let (online, scripts) = sim.with_world(|w, _| (w.active.len(), w.scripts.items.len()));
    // Written without println!: a closed stdout (`| head -1`) must not stop the router.
    let mut out = std::io::stdout();
    if ctx.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({
                "event": "listening",
                "addr": sim.addr().to_string(),
                "user": sim.user(),
                "password": sim.password(),
                "tls": tls,
                "users": a.users,
                "online": online,
                "sales_records": scripts,
                "seed": a.seed,
            })
        );
    } else {
        let _ = writeln!(
            out,
            "konter sim router listening on {} user={} password={} (api{}, {} users, {} online, seed {})",
            sim.addr(),
            sim.user(),
            sim.password(),
            if tls { "-ssl" } else { "" },
            a.users,
            online,
            a.seed
        );
        let lang = ctx.lang();
        let _ = writeln!(
            out,
            "{}",
            lang.t(
                "Tekan Ctrl-C untuk berhenti. Contoh: KONTER_ROUTER_ADDR=<alamat> KONTER_ROUTER_PASSWORD=<sandi> konter hotspot users",
                "Press Ctrl-C to stop. Try: KONTER_ROUTER_ADDR=<addr> KONTER_ROUTER_PASSWORD=<password> konter hotspot users"
            )
        );
    }
    let _ = out.flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| UserError(format!("cannot wait for Ctrl-C: {e}")))?;
    sim.stop().await;
    Ok(0)
}
