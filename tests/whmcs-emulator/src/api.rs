//! The emulated API actions. Each takes the parsed parameters and the state
//! and answers the JSON WHMCS would, with WHMCS's own error messages where
//! WHMCS has one. Where real WHMCS is silent about a mistake (an unknown
//! product, an unavailable billing cycle, an unknown custom field id, a
//! boolean sent as `false`), the emulator refuses loudly instead; `README.md`
//! lists those cases.

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::catalog::{self, ConfigOptionKind, PayType, Product};
use crate::form::{Param, Params};
use crate::php::{self, PhpValue};
use crate::state::{ClientRecord, OrderRecord, OrderStatus, ServiceRecord, ServiceStatus, State};

/// The actions the emulator implements, by their canonical names.
pub const ACTIONS: &[&str] = &[
    "AddClient",
    "GetClientsDetails",
    "AddOrder",
    "AcceptOrder",
    "GetClientsProducts",
    "GetOrders",
    "GetProducts",
    "GetPaymentMethods",
];

/// The canonical name of `action` (WHMCS matches actions case-insensitively).
#[must_use]
pub fn canonical_action(action: &str) -> Option<&'static str> {
    ACTIONS
        .iter()
        .copied()
        .find(|a| a.eq_ignore_ascii_case(action))
}

/// What an action answers.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn success(mut body: Value) -> Self {
        if let Value::Object(map) = &mut body {
            map.insert("result".into(), Value::from("success"));
        }
        Self {
            status: StatusCode::OK,
            body,
        }
    }

    pub(crate) fn error(message: impl Into<String>) -> Self {
        Self::error_with_status(StatusCode::OK, message)
    }

    pub(crate) fn error_with_status(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"result": "error", "message": message.into()}),
        }
    }
}

/// Settings the actions need.
#[derive(Debug)]
pub(crate) struct ActionContext<'a> {
    pub(crate) payment_methods: &'a [String],
    pub(crate) seed: bool,
    /// AddOrder creates the order without its last line's service (see
    /// [`crate::WhmcsFault::IncompleteOrder`]).
    pub(crate) drop_last_line: bool,
}

/// Runs `action` (canonical name) against the state.
pub(crate) fn run(
    action: &str,
    params: &Params,
    state: &mut State,
    ctx: &ActionContext<'_>,
) -> Reply {
    let result = match action {
        "AddClient" => add_client(params, state),
        "GetClientsDetails" => get_clients_details(params, state),
        "AddOrder" => add_order(params, state, ctx),
        "AcceptOrder" => accept_order(params, state),
        "GetClientsProducts" => get_clients_products(params, state),
        "GetOrders" => get_orders(params, state),
        "GetProducts" => get_products(params, ctx),
        "GetPaymentMethods" => Ok(get_payment_methods(ctx)),
        _ => Err(Reply::error("Command Not Found")),
    };
    result.unwrap_or_else(|reply| reply)
}

type ActionResult = Result<Reply, Reply>;

/// A boolean parameter, refusing strings PHP would read as the opposite of
/// what the sender meant (`"false"` is truthy in PHP).
fn flag(params: &Params, name: &str) -> Result<bool, Reply> {
    match params.get(name) {
        None => Ok(false),
        Some(Param::Array(_)) => Err(Reply::error(format!(
            "Parameter '{name}' must be a scalar boolean"
        ))),
        Some(Param::Scalar(v)) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "0" => Ok(false),
            "1" | "true" | "on" | "yes" => Ok(true),
            _ => Err(Reply::error(format!(
                "Parameter '{name}' = '{v}' is truthy in PHP whatever it means; send 1 or 0, or omit it"
            ))),
        },
    }
}

fn parse_id(value: Option<&str>) -> Option<u64> {
    value.and_then(|v| v.trim().parse::<u64>().ok())
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

fn client_json(c: &ClientRecord) -> Value {
    json!({
        "userid": c.id,
        "client_id": c.id,
        "id": c.id,
        "firstname": c.firstname,
        "lastname": c.lastname,
        "fullname": format!("{} {}", c.firstname, c.lastname),
        "companyname": c.companyname,
        "email": c.email,
        "address1": c.address1,
        "city": c.city,
        "state": c.state,
        "postcode": c.postcode,
        "country": c.country,
        "phonenumber": c.phonenumber,
        "status": c.status,
    })
}

fn add_client(params: &Params, state: &mut State) -> ActionResult {
    let skip_validation = flag(params, "skipvalidation")?;
    let field = |name: &str| params.non_empty(name).unwrap_or_default().to_owned();
    let email = field("email");
    if !skip_validation {
        let required = [
            ("firstname", "You did not enter your first name"),
            ("lastname", "You did not enter your last name"),
            ("email", "You did not enter your email address"),
        ];
        for (name, message) in required {
            if params.non_empty(name).is_none() {
                return Err(Reply::error(message));
            }
        }
        if !valid_email(&email) {
            return Err(Reply::error("The email address you entered was not valid"));
        }
        let required = [
            ("address1", "You did not enter your address (line 1)"),
            ("city", "You did not enter your city"),
            ("state", "You did not enter your state"),
            ("postcode", "You did not enter your postcode"),
            ("phonenumber", "You did not enter your phone number"),
        ];
        for (name, message) in required {
            if params.non_empty(name).is_none() {
                return Err(Reply::error(message));
            }
        }
        let country = field("country");
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Reply::error("Please choose your country"));
        }
    }
    if !email.is_empty()
        && state
            .clients
            .iter()
            .any(|c| c.email.eq_ignore_ascii_case(&email))
    {
        return Err(Reply::error(
            "A user already exists with that email address",
        ));
    }
    let id = state.next_client_id;
    state.next_client_id += 1;
    state.clients.push(ClientRecord {
        id,
        firstname: field("firstname"),
        lastname: field("lastname"),
        companyname: field("companyname"),
        email,
        address1: field("address1"),
        city: field("city"),
        state: field("state"),
        postcode: field("postcode"),
        country: field("country"),
        phonenumber: field("phonenumber"),
        status: "Active".to_owned(),
    });
    state.clients_created += 1;
    Ok(Reply::success(json!({"clientid": id, "owner_id": id})))
}

fn get_clients_details(params: &Params, state: &State) -> ActionResult {
    let client_id = params.non_empty("clientid");
    let email = params.non_empty("email");
    let client = match (client_id, email) {
        (None, None) => return Err(Reply::error("Either clientid Or email Is Required")),
        (Some(id), _) => {
            let id = parse_id(Some(id));
            state.clients.iter().find(|c| Some(c.id) == id)
        }
        (None, Some(email)) => state
            .clients
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(email)),
    };
    let client = client.ok_or_else(|| Reply::error("Client Not Found"))?;
    let mut body = client_json(client);
    let nested = body.clone();
    if let Value::Object(map) = &mut body {
        map.insert("client".into(), nested);
    }
    Ok(Reply::success(body))
}

/// One validated AddOrder line.
struct Line {
    product: &'static Product,
    cycle: String,
    custom_fields: BTreeMap<u32, String>,
    config_options: BTreeMap<u32, String>,
}

/// The per-line array parameters of AddOrder, keyed by numeric index.
fn line_values(
    params: &Params,
    name: &str,
    pid_is_array: bool,
    indexes: &[u32],
) -> Result<BTreeMap<u32, String>, Reply> {
    let mut out = BTreeMap::new();
    match (params.get(name), pid_is_array) {
        (None, _) => {}
        (Some(Param::Scalar(v)), false) => {
            out.insert(0, v.clone());
        }
        (Some(Param::Array(items)), true) => {
            for (index, value) in items {
                let i = index.parse::<u32>().ok().filter(|i| indexes.contains(i));
                let Some(i) = i else {
                    return Err(Reply::error_with_status(
                        StatusCode::BAD_REQUEST,
                        format!("Parameter '{name}[{index}]' has no matching pid[{index}]"),
                    ));
                };
                out.insert(i, value.clone());
            }
        }
        (Some(_), true) => {
            return Err(Reply::error_with_status(
                StatusCode::BAD_REQUEST,
                format!("Parameter '{name}' must be an array indexed like pid[]"),
            ));
        }
        (Some(_), false) => {
            return Err(Reply::error_with_status(
                StatusCode::BAD_REQUEST,
                format!("Parameter '{name}' must be a scalar when pid is a scalar"),
            ));
        }
    }
    Ok(out)
}

/// Decodes `base64(php_serialize(array(id => value)))`.
fn decode_serialized(
    name: &str,
    index: u32,
    encoded: &str,
) -> Result<BTreeMap<u32, PhpValue>, Reply> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| Reply::error(format!("{name}[{index}] is not valid base64")))?;
    let entries = php::unserialize_array(&bytes).map_err(|e| {
        Reply::error(format!(
            "{name}[{index}] is not a serialised PHP array of id => value: {e}"
        ))
    })?;
    entries
        .into_iter()
        .map(|(key, value)| {
            u32::try_from(key)
                .map(|id| (id, value))
                .map_err(|_| Reply::error(format!("{name}[{index}] has an invalid id {key}")))
        })
        .collect()
}

fn validate_config_value(product: &Product, id: u32, value: &PhpValue) -> Result<String, Reply> {
    let option = product.config_option(id).ok_or_else(|| {
        Reply::error(format!(
            "Configurable option id {id} does not belong to product {}",
            product.pid
        ))
    })?;
    let text = value.to_php_string();
    let ok = match option.kind {
        ConfigOptionKind::YesNo => text == "0" || text == "1",
        ConfigOptionKind::Quantity => text.parse::<u32>().is_ok(),
        ConfigOptionKind::Dropdown(choices) => text
            .parse::<u32>()
            .is_ok_and(|sub| choices.iter().any(|(choice, _)| *choice == sub)),
    };
    if ok {
        Ok(text)
    } else {
        Err(Reply::error(format!(
            "Invalid value '{text}' for configurable option {id} ({})",
            option.name
        )))
    }
}

fn order_lines(params: &Params, seed: bool) -> Result<Vec<Line>, Reply> {
    let (pid_is_array, pids): (bool, BTreeMap<u32, String>) = match params.get("pid") {
        None => (false, BTreeMap::new()),
        Some(Param::Scalar(v)) if v.trim().is_empty() => (false, BTreeMap::new()),
        Some(Param::Scalar(v)) => (false, BTreeMap::from([(0, v.clone())])),
        Some(Param::Array(items)) => {
            let mut out = BTreeMap::new();
            for (index, value) in items {
                let i = index.parse::<u32>().map_err(|_| {
                    Reply::error_with_status(
                        StatusCode::BAD_REQUEST,
                        format!("Parameter 'pid[{index}]' must have an integer index"),
                    )
                })?;
                out.insert(i, value.clone());
            }
            (true, out)
        }
    };
    if pids.is_empty() {
        return Err(Reply::error(
            "No items added to cart so order cannot proceed",
        ));
    }
    let indexes: Vec<u32> = pids.keys().copied().collect();
    let cycles = line_values(params, "billingcycle", pid_is_array, &indexes)?;
    let quantities = line_values(params, "qty", pid_is_array, &indexes)?;
    let custom = line_values(params, "customfields", pid_is_array, &indexes)?;
    let config = line_values(params, "configoptions", pid_is_array, &indexes)?;

    let mut lines = Vec::with_capacity(pids.len());
    for (index, pid_text) in pids {
        let product = pid_text
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(catalog::find_product)
            .filter(|_| seed)
            .ok_or_else(|| {
                Reply::error(format!(
                    "Product ID Not Found: {} (real WHMCS 8 silently drops unknown products from the order)",
                    pid_text.trim()
                ))
            })?;
        let cycle = cycles
            .get(&index)
            .map(|c| c.trim().to_owned())
            .unwrap_or_default();
        let cycle_ok = match product.pay_type {
            PayType::Recurring | PayType::OneTime => product.cycles.contains(&cycle.as_str()),
            PayType::Free => cycle == "free",
        };
        if !cycle_ok {
            return Err(Reply::error("Invalid Billing Cycle Requested"));
        }
        if let Some(qty) = quantities.get(&index)
            && qty.trim() != "1"
        {
            return Err(Reply::error(format!(
                "Quantity {} is not allowed for product {}: quantities are not enabled",
                qty.trim(),
                product.pid
            )));
        }
        let mut custom_fields: BTreeMap<u32, String> = product
            .custom_fields
            .iter()
            .map(|f| (f.id, String::new()))
            .collect();
        if let Some(encoded) = custom.get(&index) {
            for (id, value) in decode_serialized("customfields", index, encoded)? {
                if product.custom_field(id).is_none() {
                    return Err(Reply::error(format!(
                        "Custom field id {id} does not belong to product {}",
                        product.pid
                    )));
                }
                custom_fields.insert(id, value.to_php_string());
            }
        }
        let mut config_options = BTreeMap::new();
        if let Some(encoded) = config.get(&index) {
            for (id, value) in decode_serialized("configoptions", index, encoded)? {
                config_options.insert(id, validate_config_value(product, id, &value)?);
            }
        }
        lines.push(Line {
            product,
            cycle,
            custom_fields,
            config_options,
        });
    }
    Ok(lines)
}

fn add_order(params: &Params, state: &mut State, ctx: &ActionContext<'_>) -> ActionResult {
    let client_id = parse_id(params.scalar("clientid"))
        .filter(|id| state.clients.iter().any(|c| c.id == *id))
        .ok_or_else(|| Reply::error("Client ID Not Found"))?;
    let payment_method = params.scalar("paymentmethod").unwrap_or_default();
    if !ctx.payment_methods.iter().any(|m| m == payment_method) {
        return Err(Reply::error(format!(
            "Invalid Payment Method. Valid options include {}",
            ctx.payment_methods.join(",")
        )));
    }
    let client_ip = params.non_empty("clientip");
    if let Some(ip) = client_ip
        && ip.parse::<IpAddr>().is_err()
    {
        return Err(Reply::error("Invalid IP address provided for 'clientip'"));
    }
    let no_invoice = flag(params, "noinvoice")?;
    let no_invoice_email = flag(params, "noinvoiceemail")?;
    let no_email = flag(params, "noemail")?;
    let mut lines = order_lines(params, ctx.seed)?;
    if ctx.drop_last_line {
        // What WHMCS does with a line it cannot sell (an unknown or retired product,
        // no stock): the order is created without it, and the answer says success.
        lines.pop();
    }

    let order_id = state.next_order_id;
    state.next_order_id += 1;
    let invoice_id = (!no_invoice).then(|| {
        let id = state.next_invoice_id;
        state.next_invoice_id += 1;
        id
    });
    let mut service_ids = Vec::with_capacity(lines.len());
    for line in lines {
        let id = state.next_service_id;
        state.next_service_id += 1;
        service_ids.push(id);
        state.services.push(ServiceRecord {
            id,
            order_id,
            client_id,
            pid: line.product.pid,
            billing_cycle: line.cycle,
            status: ServiceStatus::Pending,
            custom_fields: line.custom_fields,
            config_options: line.config_options,
        });
    }
    state.orders.push(OrderRecord {
        id: order_id,
        order_num: (3_141_500_000 + order_id).to_string(),
        client_id,
        date: (chrono::Utc::now() + chrono::TimeDelta::hours(crate::SERVER_UTC_OFFSET_HOURS))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        status: OrderStatus::Pending,
        payment_method: payment_method.to_owned(),
        promo_code: params.non_empty("promocode").map(str::to_owned),
        invoice_id,
        service_ids: service_ids.clone(),
        client_ip: client_ip.map(str::to_owned),
        no_email,
        no_invoice_email,
    });
    state.orders_created += 1;
    let ids = service_ids
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut body = json!({
        "orderid": order_id,
        "productids": ids,
        "serviceids": ids,
        "addonids": "",
        "domainids": "",
    });
    if let (Some(invoice), Value::Object(map)) = (invoice_id, &mut body) {
        map.insert("invoiceid".into(), Value::from(invoice));
    }
    Ok(Reply::success(body))
}

fn accept_order(params: &Params, state: &mut State) -> ActionResult {
    flag(params, "autosetup")?;
    flag(params, "sendemail")?;
    let order_id = parse_id(params.scalar("orderid"));
    let order = state
        .orders
        .iter_mut()
        .find(|o| Some(o.id) == order_id && o.status == OrderStatus::Pending)
        .ok_or_else(|| Reply::error("Order ID not found or Status not Pending"))?;
    order.status = OrderStatus::Active;
    let order_id = order.id;
    for service in state.services.iter_mut().filter(|s| s.order_id == order_id) {
        service.status = ServiceStatus::Active;
    }
    Ok(Reply::success(json!({})))
}

/// WHMCS's default page of every list action: "limitnum … The number of records
/// to return (default: 25)" (developers.whmcs.com/api-reference/getclientsproducts
/// and /getorders). WHMCS 7 answered every service of GetClientsProducts when
/// `limitnum` was missing (its default was 999999); the reference and WHMCS 8 say
/// 25, and a client that trusts one page loses services past the 25th.
pub const DEFAULT_PAGE: usize = 25;

/// `limitstart` and `limitnum`, read as PHP's `(int)` casts them: a missing,
/// non-numeric or zero `limitnum` means the default page.
fn limits(params: &Params, default_num: usize) -> (usize, usize) {
    let start = params
        .non_empty("limitstart")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let num = params
        .non_empty("limitnum")
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default_num);
    (start, num)
}

fn get_clients_products(params: &Params, state: &State) -> ActionResult {
    let client_id = params.non_empty("clientid");
    let service_id = params.non_empty("serviceid");
    let pid = params.non_empty("pid");
    let matches = |s: &&ServiceRecord| {
        client_id.is_none_or(|v| v == s.client_id.to_string())
            && service_id.is_none_or(|v| v == s.id.to_string())
            && pid.is_none_or(|v| v == s.pid.to_string())
    };
    let all: Vec<&ServiceRecord> = state.services.iter().filter(matches).collect();
    let (start, num) = limits(params, DEFAULT_PAGE);
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(num)
        .map(|s| service_json(s, state))
        .collect();
    let numreturned = page.len();
    let mut body = json!({
        "clientid": client_id.unwrap_or_default(),
        "serviceid": service_id.unwrap_or_default(),
        "pid": pid.unwrap_or_default(),
        "totalresults": all.len(),
        "startnumber": start,
        "numreturned": numreturned,
    });
    // `products` is "" when nothing matches at all, absent when this page is past
    // the last match, else the page.
    let products = if all.is_empty() {
        Some(Value::from(""))
    } else {
        (!page.is_empty()).then(|| json!({"product": page}))
    };
    if let (Some(products), Value::Object(map)) = (products, &mut body) {
        map.insert("products".into(), products);
    }
    Ok(Reply::success(body))
}

fn service_json(s: &ServiceRecord, state: &State) -> Value {
    let product = catalog::find_product(s.pid);
    let custom_fields: Vec<Value> = s
        .custom_fields
        .iter()
        .map(|(id, value)| {
            let name = product
                .and_then(|p| p.custom_field(*id))
                .map_or("", |f| f.name);
            json!({"id": id, "name": name, "translated_name": name, "value": value})
        })
        .collect();
    let config_options: Vec<Value> = s
        .config_options
        .iter()
        .map(|(id, value)| {
            let name = product
                .and_then(|p| p.config_option(*id))
                .map_or("", |o| o.name);
            json!({"id": id, "option": name, "value": value})
        })
        .collect();
    let order_num = state
        .orders
        .iter()
        .find(|o| o.id == s.order_id)
        .map(|o| o.order_num.clone())
        .unwrap_or_default();
    json!({
        "id": s.id,
        "clientid": s.client_id,
        "orderid": s.order_id.to_string(),
        "ordernumber": order_num,
        "pid": s.pid.to_string(),
        "name": product.map_or("", |p| p.name),
        "groupname": product.map_or("", |p| p.group),
        "billingcycle": catalog::stored_cycle_name(&s.billing_cycle),
        "status": s.status.as_str(),
        "customfields": {"customfield": custom_fields},
        "configoptions": {"configoption": config_options},
    })
}

fn get_orders(params: &Params, state: &State) -> ActionResult {
    let id = params.non_empty("id");
    let user_id = params.non_empty("userid");
    let status = params.non_empty("status");
    let mut all: Vec<&OrderRecord> = state
        .orders
        .iter()
        .filter(|o| {
            id.is_none_or(|v| v == o.id.to_string())
                && user_id.is_none_or(|v| v == o.client_id.to_string())
                && status.is_none_or(|v| v == o.status.as_str())
        })
        .collect();
    all.sort_by_key(|o| std::cmp::Reverse(o.id));
    let (start, num) = limits(params, DEFAULT_PAGE);
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(num)
        .map(|o| order_json(o, state))
        .collect();
    // The paging fields are integers, as in the reference's example answer
    // (developers.whmcs.com/api-reference/getorders); the orders' own numbers
    // come from MySQL as strings.
    let mut body = json!({
        "totalresults": all.len(),
        "startnumber": start,
        "numreturned": page.len(),
    });
    if !page.is_empty()
        && let Value::Object(map) = &mut body
    {
        map.insert("orders".into(), json!({"order": page}));
    }
    Ok(Reply::success(body))
}

fn order_json(o: &OrderRecord, state: &State) -> Value {
    let items: Vec<Value> = state
        .services
        .iter()
        .filter(|s| s.order_id == o.id)
        .map(|s| {
            json!({
                "type": "product",
                "relid": s.id.to_string(),
                "producttype": "Other Product/Service",
                "product": catalog::find_product(s.pid).map_or(String::new(), |p| format!("{} - {}", p.group, p.name)),
                "billingcycle": catalog::stored_cycle_name(&s.billing_cycle),
                "status": s.status.as_str(),
            })
        })
        .collect();
    let line_items = if items.is_empty() {
        json!([])
    } else {
        json!({"lineitem": items})
    };
    json!({
        "id": o.id.to_string(),
        "ordernum": o.order_num,
        "userid": o.client_id.to_string(),
        "date": o.date,
        "status": o.status.as_str(),
        "paymentmethod": o.payment_method,
        "invoiceid": o.invoice_id.unwrap_or(0).to_string(),
        "promocode": o.promo_code.clone().unwrap_or_default(),
        "ipaddress": o.client_ip.clone().unwrap_or_default(),
        "lineitems": line_items,
    })
}

/// The product group ids, in the catalog's order of groups.
fn group_id(group: &str) -> u32 {
    match group {
        "Internet" => 1,
        "SIM" => 2,
        _ => 3,
    }
}

/// `pricing` as WHMCS writes it: one entry per currency, every cycle priced as a
/// string, `-1.00` for a cycle the product does not offer; one-time products carry
/// their price in `monthly`.
fn pricing_json(product: &Product) -> Value {
    const CYCLES: [&str; 6] = [
        "monthly",
        "quarterly",
        "semiannually",
        "annually",
        "biennially",
        "triennially",
    ];
    let price = format!("{}.00", product.price_jpy);
    let mut jpy = serde_json::Map::new();
    jpy.insert("prefix".into(), Value::from("¥"));
    jpy.insert("suffix".into(), Value::from(" JPY"));
    for setup in [
        "msetupfee",
        "qsetupfee",
        "ssetupfee",
        "asetupfee",
        "bsetupfee",
        "tsetupfee",
    ] {
        jpy.insert(setup.into(), Value::from("0.00"));
    }
    for cycle in CYCLES {
        let offered = match product.pay_type {
            PayType::Recurring => product.cycles.contains(&cycle),
            PayType::OneTime => cycle == "monthly",
            PayType::Free => false,
        };
        let value = if offered { price.as_str() } else { "-1.00" };
        jpy.insert(cycle.into(), Value::from(value));
    }
    json!({ "JPY": jpy })
}

fn product_json(product: &Product) -> Value {
    let custom_fields: Vec<Value> = product
        .custom_fields
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "name": f.name,
                "description": "",
                "required": "",
                "fieldtype": "text",
                "fieldoptions": "",
                "adminonly": if f.admin_only { "on" } else { "" },
            })
        })
        .collect();
    let config_options: Vec<Value> = product
        .config_options
        .iter()
        .map(|o| {
            let options: Vec<Value> = match o.kind {
                ConfigOptionKind::Dropdown(choices) => choices
                    .iter()
                    .map(|(id, name)| json!({"id": id, "name": name}))
                    .collect(),
                ConfigOptionKind::YesNo | ConfigOptionKind::Quantity => Vec::new(),
            };
            json!({"id": o.id, "name": o.name, "options": {"option": options}})
        })
        .collect();
    json!({
        "pid": product.pid,
        "gid": group_id(product.group),
        "type": "other",
        "name": product.name,
        "description": "",
        "module": "autorelease",
        "paytype": match product.pay_type {
            PayType::Recurring => "recurring",
            PayType::OneTime => "onetime",
            PayType::Free => "free",
        },
        "pricing": pricing_json(product),
        "customfields": {"customfield": custom_fields},
        "configoptions": {"configoption": config_options},
    })
}

/// GetProducts: filters `pid` (one id or a comma-separated list), `gid` and
/// `module`; no `products` key when nothing matches.
fn get_products(params: &Params, ctx: &ActionContext<'_>) -> ActionResult {
    let pids: Option<Vec<&str>> = params
        .non_empty("pid")
        .map(|v| v.split(',').map(str::trim).collect());
    let gid = params.non_empty("gid");
    let module = params.non_empty("module");
    let catalog: &[Product] = if ctx.seed { catalog::CATALOG } else { &[] };
    let page: Vec<Value> = catalog
        .iter()
        .filter(|p| {
            pids.as_ref()
                .is_none_or(|ids| ids.contains(&p.pid.to_string().as_str()))
                && gid.is_none_or(|g| g == group_id(p.group).to_string())
                && module.is_none_or(|m| m == "autorelease")
        })
        .map(product_json)
        .collect();
    let mut body = json!({
        "totalresults": page.len(),
        "startnumber": 0,
        "numreturned": page.len(),
    });
    if !page.is_empty()
        && let Value::Object(map) = &mut body
    {
        map.insert("products".into(), json!({"product": page}));
    }
    Ok(Reply::success(body))
}

/// GetPaymentMethods: the active gateways, `{module, displayname}`.
fn get_payment_methods(ctx: &ActionContext<'_>) -> Reply {
    let methods: Vec<Value> = ctx
        .payment_methods
        .iter()
        .map(|m| {
            let display = match m.as_str() {
                "banktransfer" => "Bank Transfer".to_owned(),
                other => other.to_owned(),
            };
            json!({"module": m, "displayname": display})
        })
        .collect();
    Reply::success(json!({
        "totalresults": methods.len(),
        "paymentmethods": {"paymentmethod": methods},
    }))
}
