//! Shared plumbing: the project root, cargo, temporary directories, and `sesame serve`
//! processes that are always killed, also on error paths.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The workspace root (the parent of `xtask/`).
pub fn project_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// `cargo`, the one running us when there is one.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A name unique to this process and moment, for directories, databases and tokens.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// A directory removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(prefix: &str) -> anyhow::Result<TempDir> {
        let path = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; the server binds it right after).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Builds `sesame` in release mode and returns the binary's path.
///
/// `SESAME_BENCH_BIN=/path/to/sesame` skips the build and uses that binary instead: two builds
/// compared in alternation on a noisy host.
pub fn build_release_sesame() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("SESAME_BENCH_BIN") {
        let bin = PathBuf::from(bin);
        if !bin.is_file() {
            bail!("SESAME_BENCH_BIN={} is not a file", bin.display());
        }
        return Ok(bin);
    }
    println!("building sesame (release)…");
    let status = cargo()
        .current_dir(project_root())
        .args(["build", "--release", "--quiet", "-p", "sesame"])
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p sesame failed");
    }
    let bin = release_dir().join("sesame");
    if !bin.is_file() {
        bail!("{} is missing after the build", bin.display());
    }
    Ok(bin)
}

/// `target/release` (or `$CARGO_TARGET_DIR/release`).
pub fn release_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
        .join("release")
}

/// A 40-character admin token for `SESAME_ADMIN_TOKEN`.
pub fn admin_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("xtask-{:016x}{:032x}", std::process::id(), nanos)
}

/// How to start one `sesame serve`.
#[derive(Debug, Clone)]
pub struct ServeSpec {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub token: String,
    /// Where the server's stdout and stderr go.
    pub log: PathBuf,
}

/// A running `sesame serve`, killed (SIGKILL) and reaped on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub started: Instant,
}

impl Server {
    pub fn spawn(spec: &ServeSpec) -> anyhow::Result<Server> {
        let port = free_port()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log)
            .with_context(|| format!("cannot open {}", spec.log.display()))?;
        let mut cmd = Command::new(&spec.bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&spec.data_dir)
            .env("SESAME_ADMIN_TOKEN", &spec.token)
            .env("SESAME_LOG", "warn")
            .env_remove("SESAME_CONFIG")
            .env_remove("SESAME_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some(url) = &spec.database_url {
            cmd.arg("--database-url").arg(url);
        }
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", spec.bin.display()))?;
        Ok(Server {
            child: Some(child),
            port,
            started,
        })
    }

    /// Spawns and waits for `/readyz`.
    pub fn start(spec: &ServeSpec) -> anyhow::Result<Server> {
        let mut server = Server::spawn(spec)?;
        server
            .wait_ready(Duration::from_secs(30))
            .with_context(|| format!("server did not become ready; see {}", spec.log.display()))?;
        Ok(server)
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/readyz` until it answers 200; returns the time since spawn.
    pub fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<Duration> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(r) = crate::http::get(self.port, "/readyz", None)
                && r.status == 200
            {
                return Ok(self.started.elapsed());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("the server exited early ({status})");
            }
            if Instant::now() > deadline {
                bail!("no 200 from /readyz within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL (std's `Child::kill` on Unix), then reap.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("cannot kill the server")?;
            child.wait().context("cannot reap the server")?;
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

/// A child process killed and reaped on drop (CLI runs, helper scripts).
pub struct ChildGuard(pub Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
