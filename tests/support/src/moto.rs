//! A moto server for the tests of this process.
//!
//! [`endpoint`] returns `MOTO_ENDPOINT` when set (CI starts one server and
//! exports it). Otherwise it starts one server, once per test process:
//!
//! 1. a virtualenv at `<workspace>/target/moto-venv` with `moto[server]`,
//!    created if missing under an exclusive lock file, so test binaries
//!    running at the same time do not install twice;
//! 2. `moto_server.py -H 127.0.0.1 -p <free port>` (moto's server with
//!    DynamoDB's conditional-write atomicity, see that file), spawned through a small
//!    Python wrapper that kills the server when its standard input reaches
//!    end-of-file. The wrapper's stdin pipe is kept in a static, so it closes
//!    when the test process exits, however it exits, and the server goes
//!    with it (no `unsafe` `prctl` needed);
//! 3. it waits until `GET /moto-api/` answers.
//!
//! Failures to start are test-setup failures: they panic with the reason.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable naming an already running server.
pub const ENDPOINT_VAR: &str = "MOTO_ENDPOINT";

/// The pip requirement installed into the virtualenv.
const REQUIREMENT: &str = "moto[server]>=5.1,<6";

/// How long the server may take to answer after it was spawned.
const STARTUP: Duration = Duration::from_secs(60);

/// Runs `argv[1:]` and kills it when stdin reaches EOF (the parent died);
/// exits when the child exits.
const WRAPPER: &str = r#"
import os, subprocess, sys, threading
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
def watch():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
        os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.exit(child.wait())
"#;

/// The endpoint of the shared server, e.g. `http://127.0.0.1:45123`.
pub fn endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| match std::env::var(ENDPOINT_VAR) {
            Ok(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => start(),
        })
        .clone()
}

/// Keeps the wrapper (and so its stdin pipe) for the life of the process.
static WRAPPER_CHILD: OnceLock<Mutex<Child>> = OnceLock::new();

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// How many ports are tried: the free port is picked before moto binds it, so
/// another process on a busy machine may take it first.
const PORT_ATTEMPTS: u32 = 5;

fn start() -> String {
    let target = workspace_root().join("target");
    let venv = target.join("moto-venv");
    ensure_venv(&target, &venv);
    let mut last_log = String::new();
    for _ in 0..PORT_ATTEMPTS {
        match spawn_on(&target, &venv, free_port()) {
            Ok(endpoint) => return endpoint,
            Err(log) => last_log = log,
        }
    }
    panic!("moto server exited before answering on {PORT_ATTEMPTS} ports; last log:\n{last_log}");
}

/// Starts moto on `port`: its endpoint once it answers, or its log when it
/// exited first (the port was taken between picking and binding it).
fn spawn_on(target: &Path, venv: &Path, port: u16) -> Result<String, String> {
    let log_path = target.join(format!("moto-{}.log", std::process::id()));
    let log = File::create(&log_path).expect("create the moto log file");
    let mut child = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(WRAPPER)
        .arg(venv.join("bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("moto_server.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(log.try_clone().expect("clone the log handle"))
        .stderr(log)
        .spawn()
        .expect("spawn the moto server wrapper");

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STARTUP;
    loop {
        // Exited first: whatever answers on the port is not this moto.
        if let Ok(Some(status)) = child.try_wait() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("exited with {status}:\n{log}"));
        }
        if answers(addr) {
            let _ = WRAPPER_CHILD.set(Mutex::new(child));
            return Ok(format!("http://{addr}"));
        }
        if Instant::now() > deadline {
            panic!(
                "moto server did not answer within {STARTUP:?}; see {}",
                log_path.display()
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Creates the virtualenv with moto unless it is already complete.
fn ensure_venv(target: &Path, venv: &Path) {
    fs::create_dir_all(target).expect("create the target directory");
    let marker = venv.join(".moto-installed");
    if marker.exists() {
        return;
    }
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(target.join("moto-venv.lock"))
        .expect("open the moto install lock file");
    lock.lock().expect("lock the moto install lock file");
    if !marker.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(venv));
        run(Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            REQUIREMENT,
        ]));
        File::create(&marker).expect("mark the moto virtualenv complete");
    }
    lock.unlock().expect("unlock the moto install lock file");
}

fn run(command: &mut Command) {
    let output = command.output().expect("run the install command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free localhost port")
        .port()
}

/// Whether `GET /moto-api/` answers with a 200.
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /moto-api/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}
