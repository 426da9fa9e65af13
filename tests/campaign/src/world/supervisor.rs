//! Workers that can be killed at any await point and started again, as ECS
//! restarts a task and Lambda runs a new invocation: [`supervise`] runs a
//! worker made by a factory; a [`KillSwitch`] armed with a poll count drops
//! the worker's future after that many more polls (every poll ends at an
//! await point, so the worker dies between two of its steps, holding
//! whatever it held), and the factory makes a new one after a pause. Only the
//! shared stores survive a kill — what production keeps in DynamoDB and SQS.
//! A worker that returns (the subscriber's loop gives up on an error) is
//! started again too, after a second, as ECS would.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use portal_core::workers::{Shutdown, ShutdownTrigger, shutdown_channel};
use tokio::task::JoinHandle;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A kill armed on a worker.
#[derive(Debug, Clone, Copy)]
struct Armed {
    /// Polls left before the worker is dropped.
    polls: u32,
    /// How long it stays down.
    down: Duration,
}

/// Arms kills on one supervised worker.
#[derive(Debug, Default)]
pub struct KillSwitch {
    armed: Mutex<Option<Armed>>,
    kills: AtomicU32,
    exits: AtomicU32,
}

impl KillSwitch {
    /// Kills the worker after `polls` more polls (at the latest `grace`
    /// later, should it not be polled that often), for `down`.
    pub fn arm(&self, polls: u32, down: Duration) {
        *lock(&self.armed) = Some(Armed { polls, down });
    }

    /// Kills carried out.
    pub fn kills(&self) -> u32 {
        self.kills.load(Ordering::Relaxed)
    }

    /// Times the worker returned by itself and was started again.
    pub fn exits(&self) -> u32 {
        self.exits.load(Ordering::Relaxed)
    }

    fn is_armed(&self) -> bool {
        lock(&self.armed).is_some()
    }

    /// Counts one poll; `Some(down)` when the worker must die now.
    fn tick(&self) -> Option<Duration> {
        let mut armed = lock(&self.armed);
        let kill = armed.as_mut()?;
        if kill.polls == 0 {
            let down = kill.down;
            *armed = None;
            return Some(down);
        }
        kill.polls -= 1;
        None
    }

    /// Takes the armed kill whatever its count (the grace ran out).
    fn take(&self) -> Option<Duration> {
        lock(&self.armed).take().map(|a| a.down)
    }
}

/// How one run of a worker ended.
enum Ended {
    /// It returned by itself.
    Returned,
    /// It was dropped at an await point.
    Killed(Duration),
}

/// Polls a worker, counting polls against its kill switch.
struct Killable {
    worker: Pin<Box<dyn Future<Output = ()> + Send>>,
    switch: Arc<KillSwitch>,
}

impl Future for Killable {
    type Output = Ended;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended> {
        if let Some(down) = self.switch.tick() {
            return Poll::Ready(Ended::Killed(down));
        }
        match self.worker.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Ended::Returned),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A supervised worker: stop it cleanly with [`Supervised::stop`].
#[derive(Debug)]
pub struct Supervised {
    /// Its kill switch.
    pub switch: Arc<KillSwitch>,
    trigger: ShutdownTrigger,
    task: Option<JoinHandle<()>>,
}

impl Supervised {
    /// Asks the worker to stop and waits for it (at most `limit`, then it is aborted).
    pub async fn stop(mut self, limit: Duration) {
        self.trigger.trigger();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(limit, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// How long an armed kill may wait for polls before it is carried out anyway.
const GRACE: Duration = Duration::from_millis(300);

/// Runs `start(generation, shutdown)` until the stop, starting it again after
/// each kill (when the kill's pause is over) and each return (after a second).
pub fn supervise<F, Fut>(name: String, mut start: F) -> Supervised
where
    F: FnMut(u32, Shutdown) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let switch = Arc::new(KillSwitch::default());
    let (trigger, shutdown) = shutdown_channel();
    let task_switch = Arc::clone(&switch);
    let task = tokio::spawn(async move {
        let switch = task_switch;
        let mut generation = 0;
        while !shutdown.is_requested() {
            generation += 1;
            let mut run = Killable {
                worker: Box::pin(start(generation, shutdown.clone())),
                switch: Arc::clone(&switch),
            };
            let ended = loop {
                tokio::select! {
                    ended = &mut run => break ended,
                    () = overdue(&switch) => {
                        if let Some(down) = switch.take() {
                            break Ended::Killed(down);
                        }
                    }
                }
            };
            drop(run);
            let pause = match ended {
                Ended::Killed(down) => {
                    switch.kills.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(worker = %name, generation, "killed at an await point");
                    down
                }
                Ended::Returned if shutdown.is_requested() => break,
                Ended::Returned => {
                    switch.exits.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(worker = %name, generation, "returned; starting it again");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = shutdown.requested() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    });
    Supervised {
        switch,
        trigger,
        task: Some(task),
    }
}

/// Resolves once a kill has been armed for longer than [`GRACE`].
async fn overdue(switch: &KillSwitch) {
    loop {
        if switch.is_armed() {
            tokio::time::sleep(GRACE).await;
            if switch.is_armed() {
                return;
            }
        } else {
            // Re-checked often: arming does not wake this.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_killed_worker_should_be_dropped_at_an_await_point_and_started_again() {
        let started = Arc::new(AtomicU32::new(0));
        let steps = Arc::new(AtomicU32::new(0));
        let (s, t) = (Arc::clone(&started), Arc::clone(&steps));
        let worker = supervise("test".into(), move |_, shutdown| {
            s.fetch_add(1, Ordering::SeqCst);
            let t = Arc::clone(&t);
            async move {
                while !shutdown.is_requested() {
                    t.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        worker.switch.arm(3, Duration::from_millis(20));
        tokio::time::sleep(Duration::from_millis(10)).await;
        let at_kill = steps.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(steps.load(Ordering::SeqCst), at_kill, "down: no step");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(worker.switch.kills(), 1);
        assert_eq!(started.load(Ordering::SeqCst), 2);
        assert!(steps.load(Ordering::SeqCst) > at_kill, "started again");
        worker.stop(Duration::from_secs(1)).await;
    }
}
