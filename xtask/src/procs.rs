//! The processes `demo` and `browser` start: each one is spawned with its output in a log
//! file, watched while it runs, and stopped by its PID (SIGTERM, then SIGKILL after a grace
//! period). Nothing else is ever signalled.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};

/// How long a process may take to exit after SIGTERM before it gets SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// One started process.
pub struct Managed {
    pub name: String,
    pub log: PathBuf,
    child: Child,
}

impl Managed {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM by PID, then SIGKILL if it is still there after the grace period; reaps it.
    pub fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // The child is ours and not yet reaped, so its PID cannot have been reused.
        let _ = Command::new("kill")
            .args(["-s", "TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "{} (pid {}) ignored SIGTERM; killing it",
            self.name,
            self.pid()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// Every process started so far; dropping it stops them all, newest first.
#[derive(Default)]
pub struct Supervisor {
    children: Vec<Managed>,
}

impl Supervisor {
    /// Starts `command` with stdin closed and stdout and stderr written to `log`.
    pub fn spawn(&mut self, name: &str, command: &mut Command, log: &Path) -> anyhow::Result<u32> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        command.stdout(out).stderr(err);
        self.start(name, command, log)
    }

    /// Starts `command` with stdin closed and this process's stdout and stderr.
    pub fn spawn_attached(&mut self, name: &str, command: &mut Command) -> anyhow::Result<u32> {
        command.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        self.start(name, command, Path::new("(terminal)"))
    }

    fn start(&mut self, name: &str, command: &mut Command, log: &Path) -> anyhow::Result<u32> {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
        let pid = child.id();
        self.children.push(Managed {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
        });
        Ok(pid)
    }

    /// An error naming the first process (other than `except`) that has exited, with the end
    /// of its log.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        self.check_alive_except(None)
    }

    pub fn check_alive_except(&mut self, except: Option<u32>) -> anyhow::Result<()> {
        for managed in &mut self.children {
            if Some(managed.pid()) == except {
                continue;
            }
            if let Some(status) = managed.exited() {
                bail!(
                    "{} exited unexpectedly ({status}); the end of {}:\n{}",
                    managed.name,
                    managed.log.display(),
                    managed.log_tail(30)
                );
            }
        }
        Ok(())
    }

    /// Waits until something accepts connections on 127.0.0.1:`port`, while `name` is alive.
    pub fn wait_for_port(
        &mut self,
        name: &str,
        port: u16,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            self.check_alive()?;
            if Instant::now() > deadline {
                bail!("{name} did not listen on port {port} within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn get_mut(&mut self, pid: u32) -> Option<&mut Managed> {
        self.children.iter_mut().find(|m| m.pid() == pid)
    }

    /// Stops every process, newest first.
    pub fn stop_all(&mut self) {
        while let Some(mut managed) = self.children.pop() {
            managed.stop();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// A port that was free a moment ago on 127.0.0.1 (the OS picks it).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Fails when something already listens on 127.0.0.1:`port`.
pub fn ensure_free(port: u16) -> anyhow::Result<()> {
    std::net::TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .with_context(|| format!("port {port} is in use on 127.0.0.1"))
}
