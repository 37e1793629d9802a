//! The real binary on ports it picks itself (`--listen 127.0.0.1:0`): the addresses are
//! read back from its "order-gateway ready" log line, so no port is guessed. Callers
//! choose the environment (e.g. `RUST_LOG`, `OTEL_*`) and must keep `gateway::server`
//! at info so that line is written.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::Proc;

pub struct Spawned {
    pub proc: Proc,
    pub api: SocketAddr,
    pub admin: SocketAddr,
}

/// Starts `order-gateway serve` with `env` added, `log_dir` holding its output, and
/// `wrap` (e.g. `["sh", "-c", "ulimit -n 64; exec \"$0\" \"$@\""]`) in front when given.
pub async fn spawn(config: &Path, log_dir: &Path, env: &[(&str, &str)], wrap: &[&str]) -> Spawned {
    let log = log_dir.join("order-gateway.log");
    let out = std::fs::File::create(&log).expect("log file");
    let bin = env!("CARGO_BIN_EXE_order-gateway");
    let mut cmd = match wrap.split_first() {
        Some((first, rest)) => {
            let mut c = std::process::Command::new(first);
            c.args(rest).arg(bin);
            c
        }
        None => std::process::Command::new(bin),
    };
    cmd.args(["serve", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::from(
            out.try_clone().expect("log file"),
        ))
        .stderr(std::process::Stdio::from(out));
    let child = cmd.spawn().expect("the binary starts");
    let mut proc = Proc(child, log);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some((api, admin)) = ready_line(&proc.1) {
            return Spawned { proc, api, admin };
        }
        if let Ok(Some(status)) = proc.0.try_wait() {
            panic!("the gateway exited ({status}):\n{}", proc.output_tail());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway was not ready in 30 s:\n{}", proc.output_tail());
}

fn ready_line(log: &Path) -> Option<(SocketAddr, SocketAddr)> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        let f = &v["fields"];
        if f["message"] != "order-gateway ready" {
            return None;
        }
        Some((
            f["api"].as_str()?.parse().ok()?,
            f["admin"].as_str()?.parse().ok()?,
        ))
    })
}

impl Spawned {
    /// SIGTERM, then waits for the process to exit (it drains and flushes telemetry).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        self.proc.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.proc.0.try_wait() {
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
