//! The emulated WHMCS database: clients, orders, services, counters and the
//! faults tests have armed. Records are public so tests can inspect them.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// A client (`tblclients`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// Client id.
    pub id: u64,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Company name (may be empty).
    pub companyname: String,
    /// Email address (unique, compared case-insensitively).
    pub email: String,
    /// Address line 1.
    pub address1: String,
    /// City.
    pub city: String,
    /// State or region.
    pub state: String,
    /// Postcode.
    pub postcode: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Phone number.
    pub phonenumber: String,
    /// Client status (`Active`).
    pub status: String,
}

/// Status of an order (`tblorders.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Created by AddOrder, not yet accepted.
    Pending,
    /// Accepted by AcceptOrder.
    Active,
}

impl OrderStatus {
    /// The status as WHMCS spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Active => "Active",
        }
    }
}

/// An order (`tblorders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// Order id.
    pub id: u64,
    /// Order number shown to customers.
    pub order_num: String,
    /// Owning client.
    pub client_id: u64,
    /// When it was placed, as GetOrders' `date` shows it: `Y-m-d H:i:s` in
    /// the server's local time ([`crate::SERVER_UTC_OFFSET_HOURS`]), no zone.
    pub date: String,
    /// Status.
    pub status: OrderStatus,
    /// Gateway system name.
    pub payment_method: String,
    /// Promotion code sent with the order.
    pub promo_code: Option<String>,
    /// Invoice, unless `noinvoice` was set.
    pub invoice_id: Option<u64>,
    /// Services created by the order, in line order.
    pub service_ids: Vec<u64>,
    /// `clientip` sent with the order.
    pub client_ip: Option<String>,
    /// `noemail` was set.
    pub no_email: bool,
    /// `noinvoiceemail` was set.
    pub no_invoice_email: bool,
}

/// Status of a service (`tblhosting.domainstatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    /// Created by AddOrder.
    Pending,
    /// Its order was accepted.
    Active,
}

impl ServiceStatus {
    /// The status as WHMCS spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Active => "Active",
        }
    }
}

/// A service (`tblhosting`), one per order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Service id.
    pub id: u64,
    /// Order that created it.
    pub order_id: u64,
    /// Owning client.
    pub client_id: u64,
    /// Product id.
    pub pid: u32,
    /// Billing cycle as sent (`monthly`, `onetime`…).
    pub billing_cycle: String,
    /// Status.
    pub status: ServiceStatus,
    /// Custom field values by field id (every field of the product, empty when not sent).
    pub custom_fields: BTreeMap<u32, String>,
    /// Configurable option values by option id, as sent.
    pub config_options: BTreeMap<u32, String>,
}

/// A fault armed by a test. One-shot faults apply to the next call of their
/// action (case-insensitive) and are then spent; latency stays until cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhmcsFault {
    /// Run the call and commit its effects, then hold the response until the
    /// emulator shuts down, so the client times out not knowing the outcome.
    TimeoutAfterCommit {
        /// Action to affect (e.g. `AddOrder`).
        action: String,
    },
    /// Run the call and commit its effects, then answer this much later (a
    /// client whose timeout is shorter does not learn the outcome).
    StallAfterCommit {
        /// Action to affect.
        action: String,
        /// How late the answer comes.
        delay: Duration,
    },
    /// Run the call and commit, then send the headers and cut the connection
    /// in the middle of the body.
    DropAfterCommit {
        /// Action to affect.
        action: String,
    },
    /// The next AddOrder creates the order without the service of its last line
    /// and answers success with the services it did create (none for a
    /// one-line order): what WHMCS does when it silently drops a line it cannot
    /// sell. A client sees fewer `serviceids` than lines.
    IncompleteOrder,
    /// [`WhmcsFault::IncompleteOrder`] and [`WhmcsFault::DropAfterCommit`] at
    /// once: the next AddOrder drops its last line, commits, and the
    /// connection is cut mid-answer (for a one-line order: an order with no
    /// service that the client never heard of).
    IncompleteOrderThenDrop,
    /// Answer HTTP 500 with an HTML error page; nothing is done.
    ServerError {
        /// Action to affect.
        action: String,
    },
    /// Answer HTTP 200 with an HTML page (a WAF or a PHP notice); nothing is done.
    HtmlBody {
        /// Action to affect.
        action: String,
    },
    /// Delay every call by this long before handling it.
    Latency(Duration),
}

impl WhmcsFault {
    /// [`WhmcsFault::TimeoutAfterCommit`] for `action`.
    #[must_use]
    pub fn timeout_after_commit(action: &str) -> Self {
        Self::TimeoutAfterCommit {
            action: action.to_owned(),
        }
    }

    /// [`WhmcsFault::StallAfterCommit`] for `action`.
    #[must_use]
    pub fn stall_after_commit(action: &str, delay: Duration) -> Self {
        Self::StallAfterCommit {
            action: action.to_owned(),
            delay,
        }
    }

    /// [`WhmcsFault::DropAfterCommit`] for `action`.
    #[must_use]
    pub fn drop_after_commit(action: &str) -> Self {
        Self::DropAfterCommit {
            action: action.to_owned(),
        }
    }

    /// [`WhmcsFault::ServerError`] for `action`.
    #[must_use]
    pub fn server_error(action: &str) -> Self {
        Self::ServerError {
            action: action.to_owned(),
        }
    }

    /// [`WhmcsFault::HtmlBody`] for `action`.
    #[must_use]
    pub fn html_body(action: &str) -> Self {
        Self::HtmlBody {
            action: action.to_owned(),
        }
    }

    fn action(&self) -> Option<&str> {
        match self {
            Self::TimeoutAfterCommit { action }
            | Self::StallAfterCommit { action, .. }
            | Self::DropAfterCommit { action }
            | Self::ServerError { action }
            | Self::HtmlBody { action } => Some(action),
            Self::IncompleteOrder | Self::IncompleteOrderThenDrop => Some("AddOrder"),
            Self::Latency(_) => None,
        }
    }
}

/// Everything the emulator remembers.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) clients: Vec<ClientRecord>,
    pub(crate) orders: Vec<OrderRecord>,
    pub(crate) services: Vec<ServiceRecord>,
    pub(crate) next_client_id: u64,
    pub(crate) next_order_id: u64,
    pub(crate) next_service_id: u64,
    pub(crate) next_invoice_id: u64,
    pub(crate) calls: HashMap<String, u64>,
    pub(crate) orders_created: u64,
    pub(crate) clients_created: u64,
    faults: Vec<WhmcsFault>,
    latency: Option<Duration>,
}

impl State {
    /// Ids start in distinct ranges so a client that swaps an order id for a
    /// service id (or a client id) hits a "not found" instead of a wrong record.
    pub(crate) fn new() -> Self {
        Self {
            clients: Vec::new(),
            orders: Vec::new(),
            services: Vec::new(),
            next_client_id: 1,
            next_order_id: 5001,
            next_service_id: 9001,
            next_invoice_id: 70001,
            calls: HashMap::new(),
            orders_created: 0,
            clients_created: 0,
            faults: Vec::new(),
            latency: None,
        }
    }

    pub(crate) fn inject(&mut self, fault: WhmcsFault) {
        match fault {
            WhmcsFault::Latency(delay) => self.latency = Some(delay),
            other => self.faults.push(other),
        }
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
        self.latency = None;
    }

    pub(crate) fn latency(&self) -> Option<Duration> {
        self.latency
    }

    /// Takes the first one-shot fault armed for `action`.
    pub(crate) fn take_fault(&mut self, action: &str) -> Option<WhmcsFault> {
        let index = self
            .faults
            .iter()
            .position(|f| f.action().is_some_and(|a| a.eq_ignore_ascii_case(action)))?;
        Some(self.faults.remove(index))
    }
}
