//! Command line: `konter` starts the TUI; subcommands run the same jobs without it.
//!
//! Each area defines its own subcommand enum in its own module and adds one variant here and
//! one arm in [`run`], so the areas stay apart.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{self, Config};
use crate::i18n::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "konter",
    version,
    about = "Alat kasir konter pulsa & wartel (TUI keyboard-only) / counter tool for a phone-credit and hotspot shop"
)]
pub struct Cli {
    /// Config file (else KONTER_CONFIG, else the platform config dir).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print machine-readable output: one JSON object per line.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store in the data dir (with --demo: sample products and vouchers).
    Init {
        #[arg(long)]
        demo: bool,
    },
    /// Simulators of outside systems (a MikroTik router) for the demo and tests.
    Sim {
        #[command(subcommand)]
        cmd: crate::routeros::sim::cli::SimCommand,
    },
}

/// What every command gets: the loaded config and how to print.
pub struct Ctx {
    pub config: Config,
    pub json: bool,
}

impl Ctx {
    pub fn lang(&self) -> Lang {
        self.config.shop.language
    }

    /// Prints one JSON object as one line.
    pub fn emit(&self, value: &serde_json::Value) {
        println!("{value}");
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
    })
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let ctx = match load_ctx(&cli) {
        Ok(c) => c,
        Err(e) => return report_error(cli.json, &e),
    };
    let result: CmdResult = match cli.command {
        Some(Command::Init { demo }) => Err(Box::new(UserError(format!(
            "init (demo={demo}) is being written"
        )))),
        Some(Command::Sim { cmd }) => crate::routeros::sim::cli::run(&ctx, cmd),
        None => Err(Box::new(UserError("the TUI is being written".into()))),
    };
    match result {
        Ok(code) => code,
        Err(e) => report_error(ctx.json, &*e),
    }
}

pub fn report_error(json: bool, e: &dyn std::error::Error) -> i32 {
    if json {
        println!("{}", serde_json::json!({ "error": e.to_string() }));
    } else {
        eprintln!("konter: {e}");
    }
    1
}
