//! The HTTP client: one form-encoded POST per call, the envelope checked,
//! the answer decoded into the types of [`crate::model`].

use secrecy::ExposeSecret as _;
use serde_json::{Map, Value};

use crate::config::WhmcsConfig;
use crate::error::WhmcsError;
use crate::form::FormBody;
use crate::lenient::{self, NotANumber};
use crate::model::{
    AcceptOutcome, AddedOrder, BillingCycle, ClientDetails, CustomFieldValue, NewClient, NewOrder,
    Order, OrderLineItem, OrderStatus, PaymentMethod, Product, ProductCustomField, ProductPrice,
    Service, ServiceStatus,
};
use crate::php;

const CLIENT_NOT_FOUND: &str = "Client Not Found";
const EMAIL_EXISTS: &str = "A user already exists with that email address";
const NOT_PENDING: &str = "Order ID not found or Status not Pending";
const SNIPPET_CHARS: usize = 160;
const ORDERS_PAGE: usize = 100;
/// Services asked for per GetClientsProducts call.
const SERVICES_PAGE: usize = 100;

/// A WHMCS External API client.
#[derive(Debug, Clone)]
pub struct WhmcsClient {
    http: reqwest::Client,
    config: WhmcsConfig,
}

impl WhmcsClient {
    /// A client for `config`. Redirects are not followed (a redirected POST
    /// would silently become a GET).
    ///
    /// # Errors
    /// [`WhmcsError::Setup`] when the HTTP client cannot be created.
    pub fn new(config: WhmcsConfig) -> Result<Self, WhmcsError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(WhmcsError::Setup)?;
        Ok(Self { http, config })
    }

    /// A client configured from the environment (see [`WhmcsConfig::from_env`]).
    ///
    /// # Errors
    /// [`WhmcsError::Config`] naming the bad variable, or [`WhmcsError::Setup`].
    pub fn from_env() -> Result<Self, WhmcsError> {
        use portal_core::config::Config as _;
        Self::new(WhmcsConfig::from_env()?)
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &WhmcsConfig {
        &self.config
    }

    /// GetClientsDetails by email; `None` when WHMCS says "Client Not Found".
    ///
    /// # Errors
    /// Any [`WhmcsError`] but "Client Not Found".
    #[tracing::instrument(skip_all, fields(action = "GetClientsDetails"))]
    pub async fn get_client_by_email(
        &self,
        email: &str,
    ) -> Result<Option<ClientDetails>, WhmcsError> {
        self.get_client_details("email", email).await
    }

    /// GetClientsDetails by id; `None` when WHMCS says "Client Not Found".
    ///
    /// # Errors
    /// Any [`WhmcsError`] but "Client Not Found".
    #[tracing::instrument(skip(self), fields(action = "GetClientsDetails"))]
    pub async fn get_client(&self, client_id: u64) -> Result<Option<ClientDetails>, WhmcsError> {
        self.get_client_details("clientid", &client_id.to_string())
            .await
    }

    async fn get_client_details(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Option<ClientDetails>, WhmcsError> {
        const ACTION: &str = "GetClientsDetails";
        let mut form = self.form(ACTION)?;
        push(ACTION, form.push(key, value))?;
        match self.send(ACTION, form).await {
            Ok(body) => parse_client(&body).map(Some),
            Err(WhmcsError::Api { message, .. }) if message == CLIENT_NOT_FOUND => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// AddClient; returns the new client id.
    ///
    /// # Errors
    /// [`WhmcsError::EmailAlreadyExists`] for a duplicate email, any other [`WhmcsError`].
    #[tracing::instrument(skip_all, fields(action = "AddClient"))]
    pub async fn add_client(&self, client: &NewClient) -> Result<u64, WhmcsError> {
        const ACTION: &str = "AddClient";
        let mut form = self.form(ACTION)?;
        let fields = [
            ("firstname", Some(client.firstname.as_str())),
            ("lastname", Some(client.lastname.as_str())),
            ("email", Some(client.email.as_str())),
            ("phonenumber", client.phonenumber.as_deref()),
            ("companyname", client.companyname.as_deref()),
            ("address1", client.address1.as_deref()),
            ("address2", client.address2.as_deref()),
            ("city", client.city.as_deref()),
            ("state", client.state.as_deref()),
            ("postcode", client.postcode.as_deref()),
            ("country", client.country.as_deref()),
            (
                "password2",
                client.password2.as_ref().map(|p| p.expose_secret()),
            ),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                push(ACTION, form.push(key, value))?;
            }
        }
        push(ACTION, form.push_flag("noemail", client.no_email))?;
        push(
            ACTION,
            form.push_flag("skipvalidation", client.skip_validation),
        )?;
        let body = match self.send(ACTION, form).await {
            Err(WhmcsError::Api { message, .. }) if message.eq_ignore_ascii_case(EMAIL_EXISTS) => {
                return Err(WhmcsError::EmailAlreadyExists);
            }
            other => other?,
        };
        let id = lenient::req_u64("clientid", body.get("clientid"))
            .map_err(|e| WhmcsError::decode(ACTION, &e))?;
        tracing::info!(client_id = id, "WHMCS client created");
        Ok(id)
    }

    /// AddOrder with PHP-indexed arrays and serialised custom fields and options.
    ///
    /// # Errors
    /// Any [`WhmcsError`]; [`WhmcsError::IncompleteOrder`] when WHMCS created
    /// fewer services than lines (real WHMCS drops unknown products silently).
    #[tracing::instrument(skip_all, fields(action = "AddOrder", client_id = order.client_id, lines = order.items.len()))]
    pub async fn add_order(&self, order: &NewOrder) -> Result<AddedOrder, WhmcsError> {
        const ACTION: &str = "AddOrder";
        let form = self.add_order_form(order)?;
        let body = self.send(ACTION, form).await?;
        let decode = |e: NotANumber| WhmcsError::decode(ACTION, &e);
        let order_id = lenient::req_u64("orderid", body.get("orderid")).map_err(decode)?;
        let services = body.get("serviceids").or_else(|| body.get("productids"));
        let added = AddedOrder {
            order_id,
            service_ids: lenient::u64_list("serviceids", services).map_err(decode)?,
            addon_ids: lenient::u64_list("addonids", body.get("addonids")).map_err(decode)?,
            domain_ids: lenient::u64_list("domainids", body.get("domainids")).map_err(decode)?,
            invoice_id: lenient::opt_u64("invoiceid", body.get("invoiceid"))
                .map_err(decode)?
                .filter(|id| *id != 0),
        };
        tracing::info!(order_id, services = ?added.service_ids, "WHMCS order created");
        if added.service_ids.len() < order.items.len() {
            return Err(WhmcsError::IncompleteOrder {
                order_id,
                expected: order.items.len(),
                service_ids: added.service_ids,
            });
        }
        Ok(added)
    }

    /// The AddOrder form, without sending it.
    fn add_order_form(&self, order: &NewOrder) -> Result<FormBody, WhmcsError> {
        const ACTION: &str = "AddOrder";
        let mut form = self.form(ACTION)?;
        push(ACTION, form.push("clientid", order.client_id.to_string()))?;
        push(
            ACTION,
            form.push("paymentmethod", order.payment_method.as_str()),
        )?;
        for (i, line) in order.items.iter().enumerate() {
            push(ACTION, form.push_indexed("pid", i, line.pid.to_string()))?;
            push(
                ACTION,
                form.push_indexed("billingcycle", i, line.billing_cycle.as_str()),
            )?;
            push(ACTION, form.push_indexed("qty", i, line.qty.to_string()))?;
            if !line.custom_fields.is_empty() {
                let encoded = php::encode_id_map(&line.custom_fields);
                push(ACTION, form.push_indexed("customfields", i, encoded))?;
            }
            if !line.config_options.is_empty() {
                let encoded = php::encode_id_map(&line.config_options);
                push(ACTION, form.push_indexed("configoptions", i, encoded))?;
            }
        }
        if let Some(code) = order.promo_code.as_deref().filter(|c| !c.is_empty()) {
            push(ACTION, form.push("promocode", code))?;
        }
        push(ACTION, form.push_flag("noinvoice", order.no_invoice))?;
        push(
            ACTION,
            form.push_flag("noinvoiceemail", order.no_invoice_email),
        )?;
        push(ACTION, form.push_flag("noemail", order.no_email))?;
        if let Some(ip) = order.client_ip {
            push(ACTION, form.push("clientip", ip.to_string()))?;
        }
        Ok(form)
    }

    /// AcceptOrder. "Order ID not found or Status not Pending" counts as
    /// success when GetOrders shows the order Active (an earlier attempt
    /// accepted it).
    ///
    /// # Errors
    /// Any [`WhmcsError`]; the original refusal when the order is not Active.
    #[tracing::instrument(skip(self), fields(action = "AcceptOrder"))]
    pub async fn accept_order(
        &self,
        order_id: u64,
        autosetup: bool,
        send_email: bool,
    ) -> Result<AcceptOutcome, WhmcsError> {
        const ACTION: &str = "AcceptOrder";
        let mut form = self.form(ACTION)?;
        push(ACTION, form.push("orderid", order_id.to_string()))?;
        push(
            ACTION,
            form.push("autosetup", if autosetup { "1" } else { "0" }),
        )?;
        push(
            ACTION,
            form.push("sendemail", if send_email { "1" } else { "0" }),
        )?;
        match self.send(ACTION, form).await {
            Ok(_) => Ok(AcceptOutcome::Accepted),
            Err(WhmcsError::Api { action, message }) if message == NOT_PENDING => {
                let orders = self.get_orders(Some(order_id), None, None).await?;
                let active = orders
                    .iter()
                    .any(|o| o.id == order_id && o.status == OrderStatus::Active);
                if active {
                    tracing::info!(order_id, "WHMCS order was already active");
                    Ok(AcceptOutcome::AlreadyActive)
                } else {
                    Err(WhmcsError::Api { action, message })
                }
            }
            Err(other) => Err(other),
        }
    }

    /// GetClientsProducts: the client's services, optionally of one product or
    /// one service, every page. WHMCS answers 25 services per call unless told
    /// otherwise (its API reference: `limitnum`, "default: 25"), so one call would
    /// hide the services of a client with more: the pages are read with
    /// `limitstart`/`limitnum` until `totalresults` are in hand.
    ///
    /// # Errors
    /// Any [`WhmcsError`].
    #[tracing::instrument(skip(self), fields(action = "GetClientsProducts"))]
    pub async fn get_clients_products(
        &self,
        client_id: u64,
        pid: Option<u32>,
        service_id: Option<u64>,
    ) -> Result<Vec<Service>, WhmcsError> {
        const ACTION: &str = "GetClientsProducts";
        let mut services = Vec::new();
        loop {
            let mut form = self.form(ACTION)?;
            push(ACTION, form.push("clientid", client_id.to_string()))?;
            if let Some(pid) = pid {
                push(ACTION, form.push("pid", pid.to_string()))?;
            }
            if let Some(service_id) = service_id {
                push(ACTION, form.push("serviceid", service_id.to_string()))?;
            }
            push(ACTION, form.push("limitstart", services.len().to_string()))?;
            push(ACTION, form.push("limitnum", SERVICES_PAGE.to_string()))?;
            let body = self.send(ACTION, form).await?;
            let total = lenient::opt_u64("totalresults", body.get("totalresults"))
                .map_err(|e| WhmcsError::decode(ACTION, &e))?
                .unwrap_or(0);
            let page = match body.get("products") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(s)) if s.is_empty() => Vec::new(),
                Some(products) => nested_list(ACTION, products, "product")?
                    .iter()
                    .map(|item| parse_service(ACTION, item))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            let got = page.len();
            services.extend(page);
            if got == 0 || services.len() as u64 >= total {
                return Ok(services);
            }
        }
    }

    /// The client's services whose custom field `field_id` equals `value`:
    /// how an AddOrder with an unknown outcome is settled.
    ///
    /// # Errors
    /// Any [`WhmcsError`].
    pub async fn find_services_by_custom_field(
        &self,
        client_id: u64,
        field_id: u32,
        value: &str,
    ) -> Result<Vec<Service>, WhmcsError> {
        let services = self.get_clients_products(client_id, None, None).await?;
        Ok(services
            .into_iter()
            .filter(|s| s.custom_field(field_id) == Some(value))
            .collect())
    }

    /// GetOrders, every page, newest first.
    ///
    /// # Errors
    /// Any [`WhmcsError`].
    #[tracing::instrument(skip(self), fields(action = "GetOrders"))]
    pub async fn get_orders(
        &self,
        id: Option<u64>,
        user_id: Option<u64>,
        status: Option<OrderStatus>,
    ) -> Result<Vec<Order>, WhmcsError> {
        const ACTION: &str = "GetOrders";
        let mut orders = Vec::new();
        loop {
            let mut form = self.form(ACTION)?;
            if let Some(id) = id {
                push(ACTION, form.push("id", id.to_string()))?;
            }
            if let Some(user_id) = user_id {
                push(ACTION, form.push("userid", user_id.to_string()))?;
            }
            if let Some(status) = &status {
                push(ACTION, form.push("status", status.as_str()))?;
            }
            push(ACTION, form.push("limitstart", orders.len().to_string()))?;
            push(ACTION, form.push("limitnum", ORDERS_PAGE.to_string()))?;
            let body = self.send(ACTION, form).await?;
            let total = lenient::opt_u64("totalresults", body.get("totalresults"))
                .map_err(|e| WhmcsError::decode(ACTION, &e))?
                .unwrap_or(0);
            let page = match body.get("orders") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(s)) if s.is_empty() => Vec::new(),
                Some(list) => nested_list(ACTION, list, "order")?
                    .iter()
                    .map(|item| parse_order(ACTION, item))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            let got = page.len();
            orders.extend(page);
            if got == 0 || orders.len() as u64 >= total {
                return Ok(orders);
            }
        }
    }

    /// GetProducts: every product, or only product `pid`. An unknown `pid` is an
    /// empty list, not an error (as WHMCS answers it).
    ///
    /// # Errors
    /// Any [`WhmcsError`].
    #[tracing::instrument(skip(self), fields(action = "GetProducts"))]
    pub async fn get_products(&self, pid: Option<u32>) -> Result<Vec<Product>, WhmcsError> {
        const ACTION: &str = "GetProducts";
        let mut form = self.form(ACTION)?;
        if let Some(pid) = pid {
            push(ACTION, form.push("pid", pid.to_string()))?;
        }
        let body = self.send(ACTION, form).await?;
        match body.get("products") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(products) => nested_list(ACTION, products, "product")?
                .iter()
                .map(|item| parse_product(ACTION, item))
                .collect(),
        }
    }

    /// GetPaymentMethods: the active payment gateways. A read-only call, so it
    /// is how a gateway name (`WHMCS_PAYMENT_METHOD`) is checked before AddOrder.
    ///
    /// # Errors
    /// Any [`WhmcsError`].
    #[tracing::instrument(skip(self), fields(action = "GetPaymentMethods"))]
    pub async fn get_payment_methods(&self) -> Result<Vec<PaymentMethod>, WhmcsError> {
        const ACTION: &str = "GetPaymentMethods";
        let form = self.form(ACTION)?;
        let body = self.send(ACTION, form).await?;
        let methods = match body.get("paymentmethods") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::String(s)) if s.is_empty() => return Ok(Vec::new()),
            Some(methods) => methods,
        };
        nested_list(ACTION, methods, "paymentmethod")?
            .iter()
            .map(|item| {
                let item = as_object(ACTION, item)?;
                Ok(PaymentMethod {
                    module: lenient::text(item.get("module")),
                    display_name: lenient::text(item.get("displayname")),
                })
            })
            .collect()
    }

    /// A form with the action and the credentials.
    fn form(&self, action: &'static str) -> Result<FormBody, WhmcsError> {
        let mut form = FormBody::new();
        push(action, form.push("action", action))?;
        push(
            action,
            form.push("identifier", self.config.identifier.as_str()),
        )?;
        push(
            action,
            form.push("secret", self.config.secret.expose_secret()),
        )?;
        if let Some(key) = &self.config.access_key {
            push(action, form.push("accesskey", key.expose_secret()))?;
        }
        push(action, form.push("responsetype", "json"))?;
        Ok(form)
    }

    /// Posts the form and returns the success envelope's fields.
    async fn send(
        &self,
        action: &'static str,
        form: FormBody,
    ) -> Result<Map<String, Value>, WhmcsError> {
        let response = self
            .http
            .post(self.config.api_url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(form.encode())
            .send()
            .await
            .map_err(|e| log_transport(WhmcsError::from_reqwest(action, e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| log_transport(WhmcsError::from_reqwest(action, e)))?;
        let result = read_envelope(action, status, &bytes);
        match &result {
            Ok(_) => tracing::debug!(action, status, "WHMCS call succeeded"),
            // A refusal is an answer the caller decides on (a client looked up
            // before it exists is the normal path): it logs what matters.
            Err(error) if error.kind() == "api" => {
                tracing::info!(
                    action,
                    status,
                    kind = error.kind(),
                    "WHMCS refused the call"
                );
            }
            // The kind only: a body snippet or a WHMCS message could echo request data.
            Err(error) => tracing::warn!(
                action,
                status,
                kind = error.kind(),
                outcome_unknown = error.outcome_unknown(),
                "WHMCS call failed"
            ),
        }
        result
    }
}

fn log_transport(error: WhmcsError) -> WhmcsError {
    tracing::warn!(
        kind = error.kind(),
        outcome_unknown = error.outcome_unknown(),
        "WHMCS call failed in transport"
    );
    error
}

fn push(
    action: &'static str,
    result: Result<(), crate::form::DuplicateKey>,
) -> Result<(), WhmcsError> {
    result.map_err(|source| WhmcsError::Request { action, source })
}

/// The start of a body, whitespace collapsed, for error messages.
fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(SNIPPET_CHARS).collect();
    if collapsed.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// Checks the HTTP status and the `result` envelope.
pub(crate) fn read_envelope(
    action: &'static str,
    status: u16,
    bytes: &[u8],
) -> Result<Map<String, Value>, WhmcsError> {
    let http = || WhmcsError::Http {
        action,
        status,
        snippet: snippet(bytes),
    };
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(http());
    };
    let ok_status = (200..300).contains(&status);
    match map.get("result").and_then(Value::as_str) {
        Some("success") if ok_status => Ok(map),
        // A 5xx may have done part of the work whatever its body says.
        Some("error") if status < 500 => Err(WhmcsError::Api {
            action,
            message: lenient::text(map.get("message")),
        }),
        _ if !ok_status => Err(http()),
        _ => Err(WhmcsError::Decode {
            action,
            detail: "the answer has no \"result\": \"success\" or \"error\"".to_owned(),
        }),
    }
}

/// The list inside WHMCS's `{"<name>": [...]}` wrappers; `[]` means empty.
fn nested_list<'a>(
    action: &'static str,
    value: &'a Value,
    name: &str,
) -> Result<&'a [Value], WhmcsError> {
    match value {
        Value::Array(items) if items.is_empty() => Ok(&[]),
        Value::Object(map) => match map.get(name) {
            Some(Value::Array(items)) => Ok(items),
            None => Ok(&[]),
            Some(_) => Err(WhmcsError::Decode {
                action,
                detail: format!("\"{name}\" is not a list"),
            }),
        },
        _ => Err(WhmcsError::Decode {
            action,
            detail: format!("expected a \"{name}\" list"),
        }),
    }
}

fn as_object<'a>(
    action: &'static str,
    value: &'a Value,
) -> Result<&'a Map<String, Value>, WhmcsError> {
    value.as_object().ok_or_else(|| WhmcsError::Decode {
        action,
        detail: "expected an object".to_owned(),
    })
}

fn parse_client(body: &Map<String, Value>) -> Result<ClientDetails, WhmcsError> {
    const ACTION: &str = "GetClientsDetails";
    let client = match body.get("client") {
        Some(Value::Object(client)) => client,
        _ => body,
    };
    let id_value = client
        .get("id")
        .or_else(|| client.get("client_id"))
        .or_else(|| client.get("userid"));
    let id = lenient::req_u64("id", id_value).map_err(|e| WhmcsError::decode(ACTION, &e))?;
    Ok(ClientDetails {
        id,
        email: lenient::text(client.get("email")),
        firstname: lenient::text(client.get("firstname")),
        lastname: lenient::text(client.get("lastname")),
        companyname: lenient::text(client.get("companyname")),
        status: lenient::text(client.get("status")),
    })
}

fn parse_service(action: &'static str, value: &Value) -> Result<Service, WhmcsError> {
    let item = as_object(action, value)?;
    let decode = |e: NotANumber| WhmcsError::decode(action, &e);
    let pid = lenient::req_u64("pid", item.get("pid")).map_err(decode)?;
    let pid = u32::try_from(pid).map_err(|_| WhmcsError::Decode {
        action,
        detail: "pid out of range".to_owned(),
    })?;
    let mut custom_fields = Vec::new();
    if let Some(fields) = item.get("customfields") {
        for field in nested_list(action, fields, "customfield")? {
            let field = as_object(action, field)?;
            let id = lenient::req_u64("customfield.id", field.get("id")).map_err(decode)?;
            custom_fields.push(CustomFieldValue {
                id: u32::try_from(id).map_err(|_| WhmcsError::Decode {
                    action,
                    detail: "custom field id out of range".to_owned(),
                })?,
                name: lenient::text(field.get("name")),
                value: lenient::text(field.get("value")),
            });
        }
    }
    Ok(Service {
        id: lenient::req_u64("id", item.get("id")).map_err(decode)?,
        client_id: lenient::opt_u64("clientid", item.get("clientid"))
            .map_err(decode)?
            .unwrap_or(0),
        order_id: lenient::opt_u64("orderid", item.get("orderid"))
            .map_err(decode)?
            .unwrap_or(0),
        pid,
        name: lenient::text(item.get("name")),
        status: ServiceStatus::parse(&lenient::text(item.get("status"))),
        billing_cycle: lenient::text(item.get("billingcycle")),
        custom_fields,
    })
}

/// The recurring cycles of GetProducts' `pricing`, by their key.
const PRICED_CYCLES: [(&str, BillingCycle); 6] = [
    ("monthly", BillingCycle::Monthly),
    ("quarterly", BillingCycle::Quarterly),
    ("semiannually", BillingCycle::SemiAnnually),
    ("annually", BillingCycle::Annually),
    ("biennially", BillingCycle::Biennially),
    ("triennially", BillingCycle::Triennially),
];

/// The offered prices of one GetProducts `pricing` object: a `-1` price means the
/// cycle is not offered; a one-time product keeps its price under `monthly`.
fn parse_pricing(pay_type: &str, pricing: Option<&Value>) -> Vec<ProductPrice> {
    let Some(Value::Object(currencies)) = pricing else {
        return Vec::new();
    };
    let mut prices = Vec::new();
    for (currency, cycles) in currencies {
        let amount = |key: &str| {
            let text = lenient::text(cycles.get(key));
            let offered = !text.is_empty() && text.parse::<f64>().is_ok_and(|v| v >= 0.0);
            offered.then_some(text)
        };
        let mut add = |cycle, amount: String| {
            prices.push(ProductPrice {
                currency: currency.clone(),
                cycle,
                amount,
            });
        };
        match pay_type {
            "free" => add(BillingCycle::Free, "0.00".to_owned()),
            "onetime" => {
                if let Some(price) = amount("monthly") {
                    add(BillingCycle::OneTime, price);
                }
            }
            _ => {
                for (key, cycle) in PRICED_CYCLES {
                    if let Some(price) = amount(key) {
                        add(cycle, price);
                    }
                }
            }
        }
    }
    prices
}

fn parse_product(action: &'static str, value: &Value) -> Result<Product, WhmcsError> {
    let item = as_object(action, value)?;
    let decode = |e: NotANumber| WhmcsError::decode(action, &e);
    let out_of_range = |what: &str| WhmcsError::Decode {
        action,
        detail: format!("{what} out of range"),
    };
    let pid = lenient::req_u64("pid", item.get("pid")).map_err(decode)?;
    let mut custom_fields = Vec::new();
    if let Some(fields) = item.get("customfields") {
        for field in nested_list(action, fields, "customfield")? {
            let field = as_object(action, field)?;
            let id = lenient::req_u64("customfield.id", field.get("id")).map_err(decode)?;
            custom_fields.push(ProductCustomField {
                id: u32::try_from(id).map_err(|_| out_of_range("custom field id"))?,
                name: lenient::text(field.get("name")),
                field_type: lenient::text(field.get("fieldtype")),
                admin_only: lenient::text(field.get("adminonly")) == "on",
            });
        }
    }
    let pay_type = lenient::text(item.get("paytype"));
    Ok(Product {
        pid: u32::try_from(pid).map_err(|_| out_of_range("pid"))?,
        name: lenient::text(item.get("name")),
        module: lenient::text(item.get("module")),
        prices: parse_pricing(&pay_type, item.get("pricing")),
        pay_type,
        custom_fields,
    })
}

fn parse_order(action: &'static str, value: &Value) -> Result<Order, WhmcsError> {
    let item = as_object(action, value)?;
    let decode = |e: NotANumber| WhmcsError::decode(action, &e);
    let mut line_items = Vec::new();
    if let Some(lines) = item.get("lineitems") {
        for line in nested_list(action, lines, "lineitem")? {
            let line = as_object(action, line)?;
            line_items.push(OrderLineItem {
                kind: lenient::text(line.get("type")),
                rel_id: lenient::req_u64("relid", line.get("relid")).map_err(decode)?,
                status: lenient::text(line.get("status")),
                billing_cycle: lenient::text(line.get("billingcycle")),
            });
        }
    }
    Ok(Order {
        id: lenient::req_u64("id", item.get("id")).map_err(decode)?,
        order_num: lenient::text(item.get("ordernum")),
        client_id: lenient::opt_u64("userid", item.get("userid"))
            .map_err(decode)?
            .unwrap_or(0),
        date: chrono::NaiveDateTime::parse_from_str(
            &lenient::text(item.get("date")),
            "%Y-%m-%d %H:%M:%S",
        )
        .ok(),
        status: OrderStatus::parse(&lenient::text(item.get("status"))),
        payment_method: lenient::text(item.get("paymentmethod")),
        invoice_id: lenient::opt_u64("invoiceid", item.get("invoiceid"))
            .map_err(decode)?
            .filter(|id| *id != 0),
        line_items,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use secrecy::SecretString;

    use super::*;
    use crate::model::{BillingCycle, OrderLine};

    fn client() -> WhmcsClient {
        let config = WhmcsConfig {
            api_url: url::Url::parse("http://127.0.0.1:9/includes/api.php").unwrap(),
            identifier: "id".into(),
            secret: SecretString::from("s3cret"),
            access_key: Some(SecretString::from("key")),
            timeout: std::time::Duration::from_secs(1),
        };
        WhmcsClient::new(config).unwrap()
    }

    #[test]
    fn when_building_add_order_should_index_every_line() {
        let line = |pid, cf: &[(u32, &str)]| OrderLine {
            pid,
            billing_cycle: BillingCycle::Monthly,
            config_options: BTreeMap::new(),
            custom_fields: cf.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            qty: 1,
        };
        let order = NewOrder {
            client_id: 3,
            payment_method: "banktransfer".into(),
            items: vec![line(101, &[(7, "SF-1")]), line(104, &[])],
            promo_code: None,
            no_invoice: false,
            no_invoice_email: true,
            no_email: false,
            client_ip: None,
        };
        let form = client().add_order_form(&order).unwrap();
        let pairs: BTreeMap<String, String> = url::form_urlencoded::parse(form.encode().as_bytes())
            .into_owned()
            .collect();
        assert_eq!(pairs["action"], "AddOrder");
        assert_eq!(pairs["accesskey"], "key");
        assert_eq!(pairs["responsetype"], "json");
        assert_eq!(pairs["pid[0]"], "101");
        assert_eq!(pairs["pid[1]"], "104");
        assert_eq!(pairs["billingcycle[1]"], "monthly");
        assert_eq!(pairs["noinvoiceemail"], "1");
        assert!(pairs.contains_key("customfields[0]"));
        assert!(!pairs.contains_key("customfields[1]"));
        assert!(!pairs.contains_key("noinvoice"));
        assert!(!pairs.contains_key("pid"));
    }

    #[test]
    fn when_the_envelope_says_error_should_be_an_api_error() {
        let err =
            read_envelope("AddOrder", 200, br#"{"result":"error","message":"Nope"}"#).unwrap_err();
        assert!(matches!(err, WhmcsError::Api { ref message, .. } if message == "Nope"));
        let err = read_envelope(
            "AddOrder",
            403,
            br#"{"result":"error","message":"Authentication Failed"}"#,
        )
        .unwrap_err();
        assert!(!err.outcome_unknown());
    }

    #[test]
    fn when_the_body_is_not_json_should_keep_a_short_snippet() {
        let page = format!("<html>\n  <body>{}</body></html>", "x".repeat(1000));
        let err = read_envelope("AddOrder", 200, page.as_bytes()).unwrap_err();
        let WhmcsError::Http {
            status, snippet, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*status, 200);
        assert!(snippet.starts_with("<html> <body>xxx"));
        assert!(snippet.chars().count() <= SNIPPET_CHARS + 1);
        assert!(err.outcome_unknown());
    }

    #[test]
    fn when_a_5xx_carries_an_error_envelope_should_stay_unknown() {
        let err =
            read_envelope("AddOrder", 500, br#"{"result":"error","message":"boom"}"#).unwrap_err();
        assert!(matches!(err, WhmcsError::Http { status: 500, .. }));
        assert!(err.outcome_unknown());
    }

    #[test]
    fn when_json_has_no_result_should_be_a_decode_error() {
        let err = read_envelope("AddOrder", 200, br#"{"orderid":1}"#).unwrap_err();
        assert!(matches!(err, WhmcsError::Decode { .. }));
    }
}
