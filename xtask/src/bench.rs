//! `cargo xtask bench`.

pub fn run() -> anyhow::Result<()> {
    anyhow::bail!("not written yet")
}
