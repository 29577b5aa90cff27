//! The TDS test server on its own, to try konter against by hand:
//!
//! ```text
//! cargo run --example tds_server -- --port 14330 [--user sa --password konter] [--schema FILE]
//! ```
//!
//! The first line printed is the KONTER_OTOMAX_URL to use. It starts with the default schema
//! (produk with the demo products, transaksi, voucher_fisik) unless --schema names a SQL file.
//! Fault switches for trying the error paths by hand: --drop-after-rows N, --dup-error,
//! --stall-on TEXT --stall-ms MS (each fires once).

#[path = "../tests/support/tds/mod.rs"]
mod tds;

use std::time::Duration;

fn usage() -> ! {
    eprintln!(
        "usage: tds_server [--port P] [--user U] [--password W] [--database D] [--schema FILE] \
         [--drop-after-rows N] [--dup-error] [--stall-on TEXT --stall-ms MS]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut opts = tds::ServerOptions::default();
    let mut port = 0u16;
    let mut drop_after = None;
    let mut dup = false;
    let mut stall_on = String::new();
    let mut stall_ms = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--port" => port = val().parse().unwrap_or_else(|_| usage()),
            "--user" => opts.user = val(),
            "--password" => opts.password = val(),
            "--database" => opts.database = val(),
            "--schema" => {
                let f = val();
                opts.schema_sql = std::fs::read_to_string(&f).unwrap_or_else(|e| {
                    eprintln!("cannot read schema file {f}: {e}");
                    std::process::exit(1)
                })
            }
            "--drop-after-rows" => drop_after = Some(val().parse().unwrap_or_else(|_| usage())),
            "--dup-error" => dup = true,
            "--stall-on" => stall_on = val(),
            "--stall-ms" => stall_ms = Some(val().parse::<u64>().unwrap_or_else(|_| usage())),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let server = match tds::TdsServer::start(port, opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start the TDS test server: {e}");
            std::process::exit(1)
        }
    };
    if let Some(n) = drop_after {
        server.faults().drop_after_bulk_rows(n);
    }
    if dup {
        server.faults().error_on_write(2627);
    }
    if let Some(ms) = stall_ms {
        server.faults().stall(&stall_on, Duration::from_millis(ms));
    }
    println!("KONTER_OTOMAX_URL='{}'", server.url());
    eprintln!(
        "TDS test server on {} (in memory; Ctrl+C stops it). Try: tsql -H 127.0.0.1 -p {} -U sa -P konter",
        server.addr,
        server.addr.port()
    );
    let _ = tokio::signal::ctrl_c().await;
}
