//! A throwaway `redis-server` for tests: its own temp dir, a Unix socket in it (no port to
//! race for), no persistence; killed when dropped. Shared by the outbound and gateway
//! tests (`#[path]`-included). Without `redis-server` on PATH a test skips, unless
//! `OG_REQUIRE_REDIS=1` (set by scripts/test, which installs it) makes that a failure.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct RedisServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// A running server, or `None` (with a note on stderr) when the machine has none and
    /// the run does not require one.
    pub fn start() -> Option<RedisServer> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            if std::env::var("OG_REQUIRE_REDIS").as_deref() == Ok("1") {
                panic!("OG_REQUIRE_REDIS=1 but redis-server is not installed");
            }
            eprintln!("skipped: redis-server is not installed (apt-get install redis-server)");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = RedisServer { child: None, dir };
        server.restart();
        Some(server)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// Starts the server (again, on the same socket) and returns once it accepts
    /// connections: it says so on stdout.
    pub fn restart(&mut self) {
        let mut child = Command::new("redis-server")
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(self.socket())
            .args(["--unixsocketperm", "700"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let stdout = child.stdout.take().expect("stdout");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // Keeps draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // 7.0: "ready to accept connections at PATH"; 7.2: "Ready to accept connections unix".
                if line
                    .to_ascii_lowercase()
                    .contains("ready to accept connections")
                {
                    let _ = ready_tx.send(());
                }
            }
        });
        self.child = Some(child);
        ready_rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("redis-server did not become ready");
    }

    /// Kills the server (as a crash would); `restart` brings it back.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the server: connections stay open and get
    /// no answer, as with a Redis that hangs.
    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(c.id().to_string())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill -{sig}");
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL ends a stopped (SIGSTOP) server too.
        self.kill();
    }
}
