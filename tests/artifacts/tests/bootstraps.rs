//! Each arm64 `bootstrap` that `sam build` made, started under `qemu-aarch64`
//! as Lambda starts it, against the Lambda Runtime API emulator and the
//! emulators: the API answers `GET /health` and `GET /catalog`, the
//! provisioner provisions one queued Order into the WHMCS emulator, the
//! reconciler completes a run.
//!
//! Ignored by `cargo test --workspace` (no arm64 toolchain needed there); run
//! by CI after `infra/build functions` with `cargo test -p artifact-tests -- --ignored`.

use artifact_tests::worlds::{ANSWER_TIMEOUT, ApiWorld, ProvisionerWorld, ReconcilerWorld};
use artifact_tests::{Function, PORTAL_API, PROVISIONER, RECONCILER, Runner};
use lambda_runtime_emulator::{FunctionProcess, RuntimeApi, Settled};
use serde_json::Value;

/// Starts the function's arm64 bootstrap under qemu against a fresh Runtime API.
async fn start(function: Function, env: Vec<(String, String)>) -> (RuntimeApi, FunctionProcess) {
    let bootstrap = function.bootstrap();
    assert!(
        bootstrap.is_file(),
        "no {} (run infra/build functions first)",
        bootstrap.display()
    );
    let api = RuntimeApi::start().await.expect("the Runtime API starts");
    let mut env = env;
    env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), function.binary.into()));
    let process =
        FunctionProcess::spawn_under(&Runner::Qemu.prefix(), &bootstrap, &api.address(), env)
            .expect("qemu-aarch64 starts the bootstrap");
    (api, process)
}

async fn invoke(api: &RuntimeApi, event: &Value) -> Settled {
    let id = api.enqueue(event);
    api.wait_for(&id, ANSWER_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}; init error: {:?}", api.init_error()))
}

#[tokio::test]
#[ignore = "needs infra/build functions and qemu-aarch64; run by CI"]
async fn the_arm64_portal_api_answers_health_and_the_catalog() {
    let world = ApiWorld::start().await.unwrap();
    let (api, _process) = start(PORTAL_API, world.env()).await;
    let health = invoke(&api, &world.health().to_json()).await;
    world.verify_health(&health).unwrap();
    let calls = world.org.api_calls();
    let catalog = invoke(&api, &world.catalog().to_json()).await;
    world.verify_catalog(&catalog).unwrap();
    assert_eq!(world.org.api_calls() - calls, 1, "one Salesforce query");
    assert!(api.init_error().is_none());
}

#[tokio::test]
#[ignore = "needs infra/build functions, qemu-aarch64 and moto; run by CI"]
async fn the_arm64_provisioner_provisions_one_queued_order_into_whmcs() {
    let world = ProvisionerWorld::start().await.unwrap();
    let order = world.queue_order().unwrap();
    let before = world.whmcs.orders_created();
    let (api, _process) = start(PROVISIONER, world.env()).await;
    let settled = invoke(&api, &order.event).await;
    world.verify(&order, &settled).unwrap();
    assert_eq!(
        world.whmcs.orders_created() - before,
        1,
        "exactly one WHMCS order"
    );

    // The same message again (SQS redelivers): acknowledged, nothing ordered twice.
    let again = invoke(&api, &order.event).await;
    world.verify(&order, &again).unwrap();
    assert_eq!(
        world.whmcs.orders_created() - before,
        1,
        "still one WHMCS order"
    );
}

#[tokio::test]
#[ignore = "needs infra/build functions, qemu-aarch64 and moto; run by CI"]
async fn the_arm64_reconciler_completes_a_run() {
    let world = ReconcilerWorld::start().await.unwrap();
    let (api, _process) = start(RECONCILER, world.env()).await;
    let settled = invoke(&api, &world.event()).await;
    world.verify(&settled).unwrap();
}
