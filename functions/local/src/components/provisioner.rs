//! The provisioner worker: the local stand-in for the SQS → Lambda trigger.
//!
//! It runs the provisioner's own use case (`provisioner::assemble`: the
//! Salesforce `SalesforceOrderLedger`, the WHMCS `WhmcsBilling`, the record
//! store of [`Shared`]) under the core's worker loop
//! (`portal_core::workers::provisioner::poll`), which takes up to five
//! messages a receive off the provisioning queue and settles them with the
//! same rule as the Lambda's SQS handler: provisioned, skipped and failed
//! messages are acknowledged, a retry stays in flight until its visibility
//! timeout, later messages of its Order are handed back, other Orders carry
//! on. Each receive is one "invocation" with the Lambda's timeout
//! (`PROVISIONER_DEADLINE_SECS`, default 60). A receive in hand is finished
//! before it stops.

use std::sync::Arc;
use std::time::Duration;

use portal_core::workers::Shutdown;
use portal_core::workers::provisioner::{PollCounters, PollSettings, Provision, poll};
use salesforce::SalesforceClient;
use tokio::task::JoinHandle;
use whmcs::WhmcsClient;

use crate::state::{Shared, State};

/// The running worker; stop it with [`RunningProvisioner::stop`] (dropping
/// it aborts the task at once).
#[derive(Debug)]
pub struct RunningProvisioner {
    /// Its counters.
    pub counters: Arc<PollCounters>,
    task: Option<JoinHandle<()>>,
}

impl RunningProvisioner {
    /// Waits for the worker to finish the receive in hand after the shutdown
    /// was triggered (at most `deadline` and a second).
    pub async fn stop(mut self, deadline: Duration) {
        if let Some(task) = self.task.take()
            && tokio::time::timeout(deadline + Duration::from_secs(1), task)
                .await
                .is_err()
        {
            tracing::warn!("the provisioner did not stop in time");
        }
    }
}

impl Drop for RunningProvisioner {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts the worker over the org `salesforce`, the WHMCS `whmcs` and
/// `shared`'s queue and records, until `shutdown`.
pub fn start<S: State>(
    salesforce: SalesforceClient,
    whmcs: WhmcsClient,
    payment_method: String,
    deadline: Duration,
    shared: &Shared<S>,
    shutdown: Shutdown,
) -> RunningProvisioner {
    let provisioner = provisioner::assemble(
        salesforce,
        whmcs,
        payment_method,
        shared.records.clone(),
        Arc::clone(&shared.clock),
    );
    start_with(provisioner, deadline, shared, shutdown)
}

/// Starts the worker loop over `shared`'s queue with any use case (the
/// Lambda-versus-local test gives both hosts the same scripted one).
pub fn start_with<P: Provision + 'static, S: State>(
    provisioner: P,
    deadline: Duration,
    shared: &Shared<S>,
    shutdown: Shutdown,
) -> RunningProvisioner {
    let settings = PollSettings {
        invocation_time: deadline,
        name: format!(
            "portal-local-{}-{}",
            std::process::id(),
            shared.clock.now().timestamp_millis()
        ),
        ..PollSettings::default()
    };
    let counters = Arc::new(PollCounters::default());
    let queue = shared.queue.clone();
    let clock = Arc::clone(&shared.clock);
    let task_counters = Arc::clone(&counters);
    let task = tokio::spawn(async move {
        poll(
            &provisioner,
            &queue,
            &clock,
            &settings,
            &task_counters,
            &shutdown,
        )
        .await;
    });
    RunningProvisioner {
        counters,
        task: Some(task),
    }
}
