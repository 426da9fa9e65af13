//! What a request to the emulated org costs as the org grows: the same
//! requests timed in an org of 0, 1,000, 10,000 and 100,000 records, so a
//! cost that grows with the org shows as a growing row.
//!
//! `cargo bench -p salesforce-emulator --bench org_size` (sizes:
//! `ORG_BENCH_SIZES=0,1000,10000,100000`). The measured requests read 100
//! Accounts of 10 Cases each; the org grows around them by filler records (an
//! Account per 99 Cases), inserted in-process, so a request's own result stays
//! the same and only the org's size changes. Every measured request goes over
//! HTTP:
//!
//! - `account by Id`: `SELECT … FROM Account WHERE Id = '…'` (what the portal's
//!   `GET /account` asks), sequential, mean latency;
//! - `cases of an account`: `SELECT Id, Subject FROM Case WHERE AccountId = '…'`
//!   (its 10 Cases);
//! - `create Case`: `POST sobjects/Case` (on a writes-only Account);
//! - `composite write`: one `allOrNone` composite creating a Case and updating
//!   its Account;
//! - `account by Id, 64 conn.`: requests per second of 64 connections sending
//!   the first query for 2 s.
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a bench binary prints its table

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use salesforce_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

const ACCOUNTS: usize = 100;
const ROUNDS: u32 = 300;
const CONNECTIONS: usize = 64;
const LOAD_FOR: Duration = Duration::from_secs(2);
const TOKEN: &str = "local-admin";

struct Org {
    emu: Emulator,
    http: reqwest::Client,
    /// The measured Accounts, 10 Cases each.
    accounts: Vec<String>,
    /// Where the measured writes go.
    writes: String,
    /// Filler records added so far.
    records: usize,
    filler_account: String,
}

impl Org {
    fn url(&self, path: &str) -> String {
        format!("{}/services/data/v62.0/{path}", self.emu.base_url())
    }

    fn grow_to(&mut self, size: usize) {
        while self.records < size {
            if self.records.is_multiple_of(100) {
                self.filler_account = self
                    .emu
                    .insert(
                        "Account",
                        json!({"Name": format!("Filler {}", self.records)}),
                    )
                    .unwrap();
            } else {
                self.emu
                    .insert(
                        "Case",
                        json!({"AccountId": self.filler_account, "Subject": format!("Filler {}", self.records)}),
                    )
                    .unwrap();
            }
            self.records += 1;
        }
    }

    async fn get(&self, path: &str) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
    }

    async fn post(&self, path: &str, body: Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.unwrap();
    }
}

fn account_query(id: &str) -> String {
    format!(
        "query?q=SELECT+Id,Name,Portal_Status__c,Internet_Eligibility_Status__c+FROM+Account+WHERE+Id='{id}'"
    )
}

async fn mean<F: Future<Output = ()>>(mut request: impl FnMut(u32) -> F) -> f64 {
    for i in 0..20 {
        request(i).await;
    }
    let started = Instant::now();
    for i in 0..ROUNDS {
        request(i).await;
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS)
}

async fn throughput(org: &Org) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let url = org.url(&account_query(&org.accounts[0]));
    let until = Instant::now() + LOAD_FOR;
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (http, url, done) = (org.http.clone(), url.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    let response = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
                    response.bytes().await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    for worker in workers {
        worker.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("ORG_BENCH_SIZES")
        .unwrap_or_else(|_| "0,1000,10000,100000".to_owned())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let emu = Emulator::start(EmulatorConfig {
        daily_api_limit: u64::MAX,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let accounts: Vec<String> = (0..ACCOUNTS)
        .map(|i| {
            emu.insert("Account", json!({"Name": format!("Customer {i}")}))
                .unwrap()
        })
        .collect();
    for account in &accounts {
        for c in 0..10 {
            emu.insert(
                "Case",
                json!({"AccountId": account, "Subject": format!("Case {c}")}),
            )
            .unwrap();
        }
    }
    let writes = emu.insert("Account", json!({"Name": "Writes"})).unwrap();
    let mut org = Org {
        emu,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap(),
        accounts,
        writes: writes.clone(),
        records: 0,
        filler_account: writes,
    };
    println!(
        "| records added | fill (s) | account by Id (µs) | cases of an account (µs) | create Case (µs) | composite write (µs) | account by Id, {CONNECTIONS} conn. (req/s) |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for size in sizes {
        let started = Instant::now();
        org.grow_to(size);
        let fill = started.elapsed().as_secs_f64();
        let o = &org;
        let by_id = mean(|i| async move {
            o.get(&account_query(&o.accounts[i as usize % ACCOUNTS]))
                .await;
        })
        .await;
        let cases = mean(|i| async move {
            let id = &o.accounts[i as usize % ACCOUNTS];
            o.get(&format!(
                "query?q=SELECT+Id,Subject+FROM+Case+WHERE+AccountId='{id}'"
            ))
            .await;
        })
        .await;
        let create = mean(|_| async move {
            let id = &o.writes;
            o.post(
                "sobjects/Case",
                json!({"AccountId": id, "Subject": "Bench"}),
            )
            .await;
        })
        .await;
        let composite = mean(|_| async move {
            let id = &o.writes;
            o.post(
                "composite",
                json!({"allOrNone": true, "compositeRequest": [
                    {"method": "POST", "url": "/services/data/v62.0/sobjects/Case", "referenceId": "c",
                     "body": {"AccountId": id, "Subject": "Bench"}},
                    {"method": "PATCH", "url": format!("/services/data/v62.0/sobjects/Account/{id}"),
                     "referenceId": "a", "body": {"Phone": "+81 3-0000-0000"}}]}),
            )
            .await;
        })
        .await;
        let rate = throughput(&org).await;
        println!(
            "| {size} | {fill:.1} | {by_id:.0} | {cases:.0} | {create:.0} | {composite:.0} | {rate:.0} |"
        );
    }
}
