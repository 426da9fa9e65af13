//! WHMCS External API client.
