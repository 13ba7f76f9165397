//! `cargo xtask bench scim` (in progress).

pub fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
