use clap::Parser;

fn main() {
    let cli = konter::cli::Cli::parse();
    println!("{cli:?}");
}
