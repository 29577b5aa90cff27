use clap::Parser;

fn main() {
    let cli = konter::cli::Cli::parse();
    std::process::exit(konter::cli::run(cli));
}
