//! Emulated WHMCS.
