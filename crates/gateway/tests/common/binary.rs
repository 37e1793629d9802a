//! The real binary on ports it picks itself (`--listen 127.0.0.1:0`): the addresses are
//! read back from its ready file, so no port is guessed. Callers choose the environment
//! (e.g. `RUST_LOG`, `OTEL_*`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use crate::common::Proc;

pub struct Spawned {
    pub proc: Proc,
    pub api: SocketAddr,
    pub admin: SocketAddr,
}

/// Starts `order-gateway serve` with `env` added and `wrap` (e.g.
/// `["sh", "-c", "ulimit -n 64; exec \"$0\" \"$@\""]`) in front when given; the
/// addresses come from its ready file; its output lives in the process's own temp dir.
pub async fn spawn(config: &Path, env: &[(&str, &str)], wrap: &[&str]) -> Spawned {
    let mut proc = Proc::spawn_wrapped(config, wrap, |c| {
        c.envs(env.iter().copied());
    });
    proc.wait_ready().await;
    let (api, admin) = (proc.addr("/api"), proc.addr("/admin"));
    Spawned { proc, api, admin }
}

impl Spawned {
    /// SIGTERM, then waits for the process to exit (it drains and flushes telemetry).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        self.proc.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.proc.child.try_wait() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the gateway did not exit in 30 s after SIGTERM:\n{}",
            self.proc.output_tail()
        );
    }
}
