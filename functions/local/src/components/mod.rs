//! One module per component of the local system. Each exposes a `start`
//! taking what it needs and returning a running handle that stops it when
//! dropped. Later: `subscriber` (Pub/Sub → the in-memory queue),
//! `provisioner` (queue → WHMCS emulator on 8083) and `reconciler`.

pub mod api;
pub mod org;
