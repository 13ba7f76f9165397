//! This crate must call the aws-lc that aws-lc-rs links, not a second copy: Cargo.lock holds
//! exactly one `aws-lc-sys` package, and aws-lc-rs depends on it. When aws-lc-rs moves to a new
//! aws-lc-sys, move `crates/sesame-rsa-sha1/Cargo.toml` with it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[test]
fn cargo_lock_holds_one_aws_lc_sys() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
        .expect("the workspace Cargo.lock");
    let packages: Vec<&str> = lock.split("[[package]]").collect();
    let aws_lc_sys: Vec<&&str> = packages
        .iter()
        .filter(|p| p.contains("\nname = \"aws-lc-sys\"\n"))
        .collect();
    assert_eq!(
        aws_lc_sys.len(),
        1,
        "two copies of aws-lc in Cargo.lock: align sesame-rsa-sha1's aws-lc-sys with aws-lc-rs's"
    );
    let aws_lc_rs: Vec<&&str> = packages
        .iter()
        .filter(|p| p.contains("\nname = \"aws-lc-rs\"\n"))
        .collect();
    assert_eq!(aws_lc_rs.len(), 1, "one aws-lc-rs");
    assert!(
        aws_lc_rs[0].contains("\n \"aws-lc-sys\",\n"),
        "aws-lc-rs no longer depends on aws-lc-sys by that plain name:\n{}",
        aws_lc_rs[0]
    );
    assert!(
        !lock.contains("name = \"aws-lc-fips-sys\""),
        "aws-lc-fips-sys would be a second aws-lc"
    );
}
