//! [`FunctionProcess`]: a Lambda binary started as a child process against a
//! [`RuntimeApi`](crate::RuntimeApi), with the `AWS_LAMBDA_*` variables the
//! Lambda service sets, and its memory read from `/proc/<pid>/status`.
//! The child is killed when the value is dropped.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Instant;

/// The function name given to spawned functions.
pub const FUNCTION_NAME: &str = "portal-api";
/// The memory size (MB) given to spawned functions.
pub const FUNCTION_MEMORY_MB: u32 = 512;

/// A function process that cannot be started or inspected.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The binary cannot be started.
    #[error("cannot start {binary}")]
    Spawn {
        /// The binary's path.
        binary: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `/proc/<pid>/status` cannot be read (not Linux, or the process is gone).
    #[error("cannot read /proc/{pid}/status")]
    Status {
        /// The process id.
        pid: u32,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `/proc/<pid>/status` lacks a field.
    #[error("/proc/{pid}/status has no {field} line")]
    MissingField {
        /// The process id.
        pid: u32,
        /// `VmHWM` or `VmRSS`.
        field: &'static str,
    },
    /// Killing or reaping the child failed.
    #[error("cannot stop process {pid}")]
    Stop {
        /// The process id.
        pid: u32,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A process's memory, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `VmHWM`: peak resident set size, in KiB.
    pub peak_rss_kib: u64,
    /// `VmRSS`: current resident set size, in KiB.
    pub rss_kib: u64,
}

impl Memory {
    /// Reads `/proc/<pid>/status`.
    pub fn of(pid: u32) -> Result<Self, ProcessError> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|source| ProcessError::Status { pid, source })?;
        let field = |name: &'static str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
                .ok_or(ProcessError::MissingField { pid, field: name })
        };
        Ok(Self {
            peak_rss_kib: field("VmHWM")?,
            rss_kib: field("VmRSS")?,
        })
    }
}

/// A running Lambda function binary. Dropping it kills the process.
#[derive(Debug)]
pub struct FunctionProcess {
    child: Child,
    started_at: Instant,
}

impl FunctionProcess {
    /// Starts `binary` with a clean environment: the `AWS_LAMBDA_*` variables
    /// of a function named [`FUNCTION_NAME`] polling `runtime_api` (`host:port`),
    /// then `envs`. Standard output is discarded; standard error is inherited.
    pub fn spawn<K, V>(
        binary: &Path,
        runtime_api: &str,
        envs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ProcessError>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        Self::spawn_under(&[], binary, runtime_api, envs)
    }

    /// As [`FunctionProcess::spawn`], but started through `runner` (a program
    /// and its arguments, e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`) with
    /// `binary` as its last argument. The process (and its memory) is the
    /// runner's. An empty `runner` starts `binary` itself.
    pub fn spawn_under<K, V>(
        runner: &[OsString],
        binary: &Path,
        runtime_api: &str,
        envs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ProcessError>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut command = match runner.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                FUNCTION_MEMORY_MB.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/portal-api")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]emulated")
            .envs(envs)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let started_at = Instant::now();
        let child = command.spawn().map_err(|source| ProcessError::Spawn {
            binary: binary.display().to_string(),
            source,
        })?;
        Ok(Self { child, started_at })
    }

    /// When the process was started (just before `fork`/`exec`).
    pub fn started_at(&self) -> Instant {
        self.started_at
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's memory now.
    pub fn memory(&self) -> Result<Memory, ProcessError> {
        Memory::of(self.pid())
    }

    /// The exit status if the process has ended.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, ProcessError> {
        let pid = self.pid();
        self.child
            .try_wait()
            .map_err(|source| ProcessError::Stop { pid, source })
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(mut self) -> Result<ExitStatus, ProcessError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<ExitStatus, ProcessError> {
        let pid = self.pid();
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        self.child
            .kill()
            .map_err(|source| ProcessError::Stop { pid, source })?;
        self.child
            .wait()
            .map_err(|source| ProcessError::Stop { pid, source })
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            tracing::warn!(%error, "a function process could not be stopped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_reading_this_process_should_find_the_peak_at_least_the_current_rss() {
        let memory = Memory::of(std::process::id()).unwrap();
        assert!(memory.rss_kib > 0);
        assert!(memory.peak_rss_kib >= memory.rss_kib);
    }

    #[test]
    fn when_the_binary_is_missing_should_say_which() {
        let err = FunctionProcess::spawn(
            Path::new("/nonexistent/portal-api"),
            "127.0.0.1:9",
            std::iter::empty::<(&str, &str)>(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/portal-api"), "{err}");
    }
}
