//! A throwaway PostgreSQL cluster for tests.
//!
//! [`PgCluster::start`] runs `initdb` on a temporary directory and `pg_ctl start` on a free
//! port of 127.0.0.1 (its unix socket in the same directory, trust authentication, durability
//! off); [`PgCluster::create_database`] makes a fresh database with a random name. A cluster
//! stops when dropped. [`shared`] is one cluster per test process, stopped by a small watcher
//! process once the test process has exited (statics are never dropped).
//!
//! The server binaries come from `PORTCULLIS_PG_BIN`, then `PATH`, then
//! `/usr/lib/postgresql/<version>/bin` (Debian's layout; `scripts/install-test-deps.sh`
//! installs them). PostgreSQL refuses to run as root: as root, the cluster runs as the
//! `postgres` user (created by the package) or, failing that, a `portcullis-pg` system user.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
};

use sqlx::{Connection, Executor, PgConnection};

/// What starting a cluster can fail with: a sentence for the test's panic message.
pub type Error = String;

/// A running PostgreSQL cluster that belongs to the test process.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The unprivileged user the cluster runs as when we are root.
    run_as: Option<String>,
    stopped: bool,
}

impl PgCluster {
    /// Initialises and starts a new cluster. Blocking (a second or two).
    pub fn start() -> Result<PgCluster, Error> {
        let bin = server_binaries()?;
        let run_as = unprivileged_user()?;
        let dir = tempfile::Builder::new()
            .prefix("portcullis-pg-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        if let Some(user) = &run_as {
            run(Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let initdb = bin.join("initdb");
        run(as_user(&run_as, &initdb)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ])
            .arg("--no-sync"))?;
        let mut cluster = PgCluster {
            dir,
            bin,
            port: 0,
            run_as,
            stopped: true,
        };
        // A port found free can be taken before the server binds it: try a few.
        let mut last_error = String::new();
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.pg_ctl_start() {
                Ok(()) => {
                    cluster.stopped = false;
                    return Ok(cluster);
                }
                Err(error) => last_error = error,
            }
        }
        Err(format!("pg_ctl start failed: {last_error}"))
    }

    fn pg_ctl_start(&self) -> Result<(), Error> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c shared_buffers=32MB",
            self.port,
            self.dir.path().display()
        );
        run(as_user(&self.run_as, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-o", &options, "-w", "-t", "60", "start"]))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The port the cluster listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a database with a random name and returns its URL.
    pub async fn create_database(&self) -> Result<String, Error> {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&self.url("postgres"))
            .await
            .map_err(|e| format!("connecting to the test cluster: {e}"))?;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .map_err(|e| format!("CREATE DATABASE: {e}"))?;
        let _ = admin.close().await;
        Ok(self.url(&name))
    }

    /// The process id of the postmaster, from `postmaster.pid`.
    pub fn pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Stops the cluster (fast shutdown: open connections are closed).
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let stopped = run(as_user(&self.run_as, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "-t", "30", "stop"]));
        if stopped.is_err() {
            if let Some(pid) = self.pid() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }

    /// Starts a stopped cluster again on the same port and data (a database that comes back
    /// after an outage).
    pub fn restart(&mut self) -> Result<(), Error> {
        if !self.stopped {
            return Ok(());
        }
        self.pg_ctl_start()?;
        self.stopped = false;
        Ok(())
    }

    /// Arranges for the cluster to be stopped and its directory removed once the current
    /// process has exited, by a watcher process that polls for it.
    fn stop_after_exit(&self) -> Result<(), Error> {
        let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
        let pg_ctl = quote(&self.bin.join("pg_ctl"));
        let stop = match &self.run_as {
            Some(user) => format!("runuser -u {user} -- {pg_ctl}"),
            None => pg_ctl,
        };
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             {stop} -D {data} -m immediate -w -t 30 stop >/dev/null 2>&1; rm -rf {dir}",
            parent = std::process::id(),
            data = quote(&self.data_dir()),
            dir = quote(self.dir.path()),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("starting the cluster's watcher: {e}"))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The test process's cluster, started on first use.
pub fn shared() -> &'static PgCluster {
    static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = PgCluster::start().unwrap_or_else(|e| panic!("test PostgreSQL: {e}"));
        if let Err(error) = cluster.stop_after_exit() {
            panic!("test PostgreSQL: {error}");
        }
        cluster
    })
}

/// A fresh, empty database on the shared cluster; returns its URL.
pub async fn fresh_database() -> String {
    let cluster = tokio::task::spawn_blocking(shared)
        .await
        .unwrap_or_else(|e| panic!("starting test PostgreSQL: {e}"));
    cluster
        .create_database()
        .await
        .unwrap_or_else(|e| panic!("test PostgreSQL: {e}"))
}

/// Everything the database at `url` (on the shared cluster) holds, as `pg_dump --data-only`
/// writes it: what a test reads to see what the store keeps, past the store's own code.
pub fn dump(url: &str) -> Result<String, Error> {
    // Next to the real `initdb` (the cluster's directory may hold links to the server's tools
    // only), so that the dump's version is the server's.
    let initdb = shared().bin.join("initdb");
    let tools = std::fs::canonicalize(&initdb).map_err(|e| format!("{}: {e}", initdb.display()))?;
    let pg_dump = tools.with_file_name("pg_dump");
    let mut command = Command::new(pg_dump);
    command.args(["--data-only", "--dbname", url]);
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn run(command: &mut Command) -> Result<(), Error> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} exited with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn as_user(user: &Option<String>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Where `initdb` and `pg_ctl` are.
fn server_binaries() -> Result<PathBuf, Error> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PORTCULLIS_PG_BIN") {
        let dir = PathBuf::from(dir);
        if has_tools(&dir) {
            return Ok(dir);
        }
        return Err(format!("PORTCULLIS_PG_BIN={} has no initdb", dir.display()));
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|dir| has_tools(dir)) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let version = e.file_name().to_string_lossy().parse().ok()?;
                    Some((version, e.path().join("bin")))
                })
                .filter(|(_, bin)| has_tools(bin))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL server binaries (initdb, pg_ctl) not found; run scripts/install-test-deps.sh"
            .to_owned()
    })
}

/// `None` when we are not root; otherwise the user to run the cluster as.
fn unprivileged_user() -> Result<Option<String>, Error> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("id -u: {e}"))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Ok(None);
    }
    for user in ["postgres", "portcullis-pg"] {
        if Command::new("id")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Ok(Some(user.to_owned()));
        }
    }
    run(Command::new("useradd").args([
        "--system",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "portcullis-pg",
    ]))?;
    Ok(Some("portcullis-pg".to_owned()))
}

fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}
