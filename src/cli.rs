//! Command line: `konter` starts the TUI; subcommands run the same jobs without it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "konter",
    version,
    about = "Alat kasir konter pulsa & wartel (keyboard-only TUI)"
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
}
