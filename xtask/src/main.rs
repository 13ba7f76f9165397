//! `cargo xtask`: project automation in Rust instead of shell scripts.
//!
//! - `tidy`: hygiene checks for ARCHITECTURE.md's invariants (also run as a test).
//! - `durability`: kill -9 of the server during a 10,000-user import; nothing reported is lost.
//! - `bench`: cold start, idle RSS and import rate, written to `target/bench/foundation.json`.
//! - `fuzz [--seconds N] [--corpus DIR]`: both cargo-fuzz targets of `sesame-xmlsec`, N s each.
//! - `ci`: what CI and the README's test command run, in order.

mod bench;
mod bench_saml;
mod bench_scim;
mod ci;
mod durability;
mod fixture;
mod fuzz;
mod http;
mod load;
mod pg;
mod tidy;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <tidy|durability|bench [saml-idp|scim]|fuzz [--seconds N] [--corpus DIR]|ci>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("tidy") => tidy::run(),
        Some("durability") => durability::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("ci") => ci::run(),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}
