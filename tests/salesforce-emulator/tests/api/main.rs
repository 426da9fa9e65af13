//! The emulator over real HTTP: every test starts its own org on 127.0.0.1:0.

mod composite;
mod faults;
mod flow;
mod gaps;
mod helpers;
mod identity;
mod lost_answers;
mod oauth;
mod query;
mod sobjects;
