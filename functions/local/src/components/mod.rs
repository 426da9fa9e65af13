//! One module per component of the local system. Each exposes a `start`
//! taking what it needs and returning a running handle that stops it when
//! dropped (the subscriber and the provisioner also stop cleanly through the
//! runner's shutdown).

pub mod api;
pub mod org;
pub mod provisioner;
pub mod reconciler;
pub mod subscriber;
pub mod whmcs;
