//! `cargo xtask ci`.

pub fn run() -> anyhow::Result<()> {
    anyhow::bail!("not written yet")
}
