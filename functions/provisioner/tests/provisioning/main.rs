//! The provisioner against the emulators of Salesforce and WHMCS over real
//! HTTP, with the record store in memory or on the moto server.

mod batches;
mod faults;
mod happy;
mod helpers;
