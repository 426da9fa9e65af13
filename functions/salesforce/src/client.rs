//! The REST client: sObject CRUD, upsert, SOQL queries, describe and composite.
//!
//! One [`SalesforceClient`] (cheap to clone: it holds `Arc`s) owns one pooled
//! `reqwest::Client` and one [`TokenCache`], so every caller in a process
//! shares a single login. Each request:
//!
//! 1. takes the cached session (logging in once if there is none);
//! 2. on 401 drops that session, logs in again (single-flight) and repeats the
//!    request once; a second 401 is [`SalesforceError::SessionRejected`];
//! 3. on a transient error backs off and retries per [`crate::retry`];
//! 4. records the `Sforce-Limit-Info` usage of every answer.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Id;
use crate::auth::{JwtBearer, Session, TokenCache};
use crate::composite::{AllOrNone, Composite, CompositeResults, percent_encode};
use crate::config::SalesforceConfig;
use crate::error::{self, SalesforceError};
use crate::retry::{RetryPolicy, should_retry};
use crate::soql::{Soql, SoqlError, is_identifier};

/// The header carrying the org's API usage.
pub const LIMIT_INFO_HEADER: &str = "Sforce-Limit-Info";

/// The org's daily API usage, from `Sforce-Limit-Info: api-usage=N/M`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiUsage {
    /// Calls made in the last 24 hours.
    pub used: u64,
    /// The org's daily allowance.
    pub limit: u64,
}

/// Parses `api-usage=N/M` out of a `Sforce-Limit-Info` value, which may carry
/// more, e.g. `api-usage=25/15000; per-app-api-usage=17/250(appName=x)`.
pub fn parse_limit_info(value: &str) -> Option<ApiUsage> {
    value.split([';', ',']).map(str::trim).find_map(|part| {
        let (used, limit) = part.strip_prefix("api-usage=")?.split_once('/')?;
        Some(ApiUsage {
            used: used.trim().parse().ok()?,
            limit: limit.trim().parse().ok()?,
        })
    })
}

/// One page of a SOQL query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryPage<T> {
    /// Rows matching the query in all pages (the count for `COUNT()`).
    #[serde(rename = "totalSize")]
    pub total_size: u64,
    /// Whether this is the last page.
    pub done: bool,
    /// Where the next page is, when `done` is false.
    #[serde(
        rename = "nextRecordsUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_records_url: Option<String>,
    /// This page's records.
    #[serde(default = "Vec::new")]
    pub records: Vec<T>,
}

/// What an upsert by external id did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// No record had the external id: this one was created (HTTP 201).
    Created(Id),
    /// One record had it and was updated (HTTP 204, or 200 with `created: false`).
    Updated,
}

/// An object's describe, typed as far as the product needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDescribe {
    /// API name.
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Id prefix, e.g. `001`.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Whether the user may create records.
    #[serde(default)]
    pub createable: bool,
    /// Whether the user may update records.
    #[serde(default)]
    pub updateable: bool,
    /// Whether the object can be queried.
    #[serde(default)]
    pub queryable: bool,
    /// The fields the user can see.
    #[serde(default)]
    pub fields: Vec<FieldDescribe>,
}

impl ObjectDescribe {
    /// The field called `name` (case-insensitive, as Salesforce matches names).
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// One field of a describe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    /// API name.
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// `string`, `picklist`, `reference`, `datetime`…
    #[serde(rename = "type")]
    pub field_type: String,
    /// Maximum length of text fields.
    #[serde(default)]
    pub length: u32,
    /// Whether null is allowed.
    #[serde(default)]
    pub nillable: bool,
    /// Whether it can be set on create.
    #[serde(default)]
    pub createable: bool,
    /// Whether it can be changed by update.
    #[serde(default)]
    pub updateable: bool,
    /// Whether it is an external id (usable for upsert).
    #[serde(default)]
    pub external_id: bool,
    /// Whether values are unique.
    #[serde(default)]
    pub unique: bool,
    /// Whether a picklist refuses values outside its list.
    #[serde(default)]
    pub restricted_picklist: bool,
    /// The picklist's values.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub picklist_values: Vec<PicklistValue>,
    /// The objects a reference points at.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub reference_to: Vec<String>,
    /// The relationship name of a reference (`Account` for `AccountId`).
    #[serde(default)]
    pub relationship_name: Option<String>,
}

/// One picklist value of a describe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    /// The API value.
    pub value: String,
    /// The label.
    #[serde(default)]
    pub label: Option<String>,
    /// Whether it may be used.
    #[serde(default)]
    pub active: bool,
    /// Whether it is the default.
    #[serde(default)]
    pub default_value: bool,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// The answer of a create.
#[derive(Deserialize)]
struct CreateResponse {
    id: Id,
}

/// The answer of an upsert that returns a body.
#[derive(Deserialize)]
struct UpsertResponse {
    id: Option<Id>,
    #[serde(default)]
    created: bool,
}

/// An answer, before interpretation.
struct Raw {
    status: u16,
    body: Vec<u8>,
}

/// Where a request goes.
enum Path {
    /// Segments after `/services/data/vXX.X/`, plus an already-encoded query.
    Rest {
        segments: Vec<String>,
        query: Option<String>,
    },
    /// A path Salesforce gave us (`nextRecordsUrl`), starting `/services/data/`.
    Given(String),
}

/// A request, as the retry loop repeats it.
struct Call<'a> {
    operation: &'static str,
    method: Method,
    path: Path,
    body: Option<&'a Value>,
    /// Safe to repeat after an outage or timeout (reads, PATCH, upsert).
    idempotent: bool,
}

/// The shared state behind every clone of a client.
struct Inner {
    config: Arc<SalesforceConfig>,
    http: reqwest::Client,
    tokens: TokenCache,
    retry: RetryPolicy,
    api_usage: Mutex<Option<ApiUsage>>,
}

/// A Salesforce REST client. Clones share the connection pool, the session and
/// the API-usage reading.
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("login_url", &self.inner.config.login_url())
            .field("api_version", &self.inner.config.api_version().as_str())
            .field("retry", &self.inner.retry)
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}

impl SalesforceClient {
    /// A client with the default retry policy.
    pub fn new(config: SalesforceConfig) -> Result<Self, SalesforceError> {
        Self::with_retry_policy(config, RetryPolicy::default())
    }

    /// A client with an explicit retry policy.
    pub fn with_retry_policy(
        config: SalesforceConfig,
        retry: RetryPolicy,
    ) -> Result<Self, SalesforceError> {
        let timeout = config.request_timeout();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("portal-salesforce/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SalesforceError::Transport)?;
        let config = Arc::new(config);
        let tokens = TokenCache::new(JwtBearer::new(Arc::clone(&config), http.clone()));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                tokens,
                retry,
                api_usage: Mutex::new(None),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SalesforceConfig {
        &self.inner.config
    }

    /// The JWT bearer login this client uses (to sign or post assertions directly).
    pub fn auth(&self) -> &JwtBearer {
        self.inner.tokens.auth()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// The current session, logging in if needed (e.g. for the Pub/Sub client).
    pub async fn session(&self) -> Result<Arc<Session>, SalesforceError> {
        self.inner
            .tokens
            .session()
            .await
            .map_err(SalesforceError::Auth)
    }

    /// Reports `stale` as rejected: the next [`Self::session`] logs in again,
    /// unless another caller already replaced it.
    pub async fn invalidate(&self, stale: &Session) {
        self.inner.tokens.invalidate(stale);
    }

    /// The API usage of the latest answer that reported it.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        *self
            .inner
            .api_usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a record; returns its id.
    #[tracing::instrument(name = "salesforce.create", skip(self, body))]
    pub async fn create(&self, object: &str, body: &Value) -> Result<Id, SalesforceError> {
        let call = Call {
            operation: "create",
            method: Method::POST,
            path: rest(["sobjects".to_owned(), api_name(object)?.to_owned()]),
            body: Some(body),
            idempotent: false,
        };
        self.call(&call, |raw| Ok(decode::<CreateResponse>(&raw)?.id))
            .await
    }

    /// Reads one record's `fields` (all fields when empty).
    #[tracing::instrument(name = "salesforce.get", skip(self, fields), fields(id = %id))]
    pub async fn get<T: DeserializeOwned>(
        &self,
        object: &str,
        id: &Id,
        fields: &[&str],
    ) -> Result<T, SalesforceError> {
        for field in fields {
            if !is_identifier(field) {
                return Err(SalesforceError::InvalidName((*field).to_owned()));
            }
        }
        let call = Call {
            operation: "get",
            method: Method::GET,
            path: Path::Rest {
                segments: vec![
                    "sobjects".to_owned(),
                    api_name(object)?.to_owned(),
                    id.as_str().to_owned(),
                ],
                query: (!fields.is_empty())
                    .then(|| format!("fields={}", percent_encode(&fields.join(",")))),
            },
            body: None,
            idempotent: true,
        };
        self.call(&call, |raw| decode(&raw)).await
    }

    /// Updates a record's fields.
    #[tracing::instrument(name = "salesforce.update", skip(self, body), fields(id = %id))]
    pub async fn update(&self, object: &str, id: &Id, body: &Value) -> Result<(), SalesforceError> {
        let call = Call {
            operation: "update",
            method: Method::PATCH,
            path: rest([
                "sobjects".to_owned(),
                api_name(object)?.to_owned(),
                id.as_str().to_owned(),
            ]),
            body: Some(body),
            idempotent: true,
        };
        self.call(&call, |_| Ok(())).await
    }

    /// Creates or updates the record whose `external_id_field` is `value`.
    /// Several matches are [`SalesforceError::MultipleMatches`].
    #[tracing::instrument(name = "salesforce.upsert", skip(self, value, body))]
    pub async fn upsert(
        &self,
        object: &str,
        external_id_field: &str,
        value: &str,
        body: &Value,
    ) -> Result<UpsertOutcome, SalesforceError> {
        if value.is_empty() || value == "." || value == ".." {
            return Err(SalesforceError::InvalidName(value.to_owned()));
        }
        let call = Call {
            operation: "upsert",
            method: Method::PATCH,
            path: rest([
                "sobjects".to_owned(),
                api_name(object)?.to_owned(),
                api_name(external_id_field)?.to_owned(),
                // The URL builder percent-encodes the segment (`/`, `%`, `?`…).
                value.to_owned(),
            ]),
            body: Some(body),
            idempotent: true,
        };
        self.call(&call, |raw| match raw.status {
            204 => Ok(UpsertOutcome::Updated),
            _ => {
                let answer: UpsertResponse = decode(&raw)?;
                match (raw.status == 201 || answer.created, answer.id) {
                    (true, Some(id)) => Ok(UpsertOutcome::Created(id)),
                    (false, _) => Ok(UpsertOutcome::Updated),
                    (true, None) => Err(SalesforceError::UndecodableBody {
                        status: raw.status,
                        snippet: "upsert created a record but gave no id".to_owned(),
                        source: None,
                    }),
                }
            }
        })
        .await
    }

    /// Runs a query; returns its first page. A query holding composite
    /// references is refused ([`SoqlError::ReferenceOutsideComposite`]): they
    /// mean something only inside their composite.
    #[tracing::instrument(name = "salesforce.query", skip_all)]
    pub async fn query<T: DeserializeOwned>(
        &self,
        soql: &Soql,
    ) -> Result<QueryPage<T>, SalesforceError> {
        if soql.has_references() {
            return Err(SoqlError::ReferenceOutsideComposite.into());
        }
        let call = Call {
            operation: "query",
            method: Method::GET,
            path: Path::Rest {
                segments: vec!["query".to_owned()],
                query: Some(format!("q={}", percent_encode(soql.as_str()))),
            },
            body: None,
            idempotent: true,
        };
        self.call(&call, |raw| decode(&raw)).await
    }

    /// Runs a Tooling API query (`tooling/query`: setup objects such as
    /// `FlowDefinition` and `Flow`); returns its first page.
    #[tracing::instrument(name = "salesforce.tooling_query", skip_all)]
    pub async fn tooling_query<T: DeserializeOwned>(
        &self,
        soql: &Soql,
    ) -> Result<QueryPage<T>, SalesforceError> {
        if soql.has_references() {
            return Err(SoqlError::ReferenceOutsideComposite.into());
        }
        let call = Call {
            operation: "tooling_query",
            method: Method::GET,
            path: Path::Rest {
                segments: vec!["tooling".to_owned(), "query".to_owned()],
                query: Some(format!("q={}", percent_encode(soql.as_str()))),
            },
            body: None,
            idempotent: true,
        };
        self.call(&call, |raw| decode(&raw)).await
    }

    /// Fetches the page at a `nextRecordsUrl`.
    #[tracing::instrument(name = "salesforce.query_more", skip_all)]
    pub async fn query_more<T: DeserializeOwned>(
        &self,
        next_records_url: &str,
    ) -> Result<QueryPage<T>, SalesforceError> {
        if !next_records_url.starts_with("/services/data/") || next_records_url.contains("..") {
            return Err(SalesforceError::InvalidName(next_records_url.to_owned()));
        }
        let call = Call {
            operation: "query_more",
            method: Method::GET,
            path: Path::Given(next_records_url.to_owned()),
            body: None,
            idempotent: true,
        };
        self.call(&call, |raw| decode(&raw)).await
    }

    /// Runs a query and follows `nextRecordsUrl` to the last page. A query
    /// holding composite references is refused, as by [`Self::query`].
    pub async fn query_all<T: DeserializeOwned>(
        &self,
        soql: &Soql,
    ) -> Result<Vec<T>, SalesforceError> {
        let mut page = self.query::<T>(soql).await?;
        let mut records = std::mem::take(&mut page.records);
        while !page.done {
            let Some(next) = page.next_records_url.take() else {
                break;
            };
            page = self.query_more(&next).await?;
            if page.next_records_url.as_deref() == Some(next.as_str()) {
                // A server that points at the same page again would loop forever.
                return Err(SalesforceError::UndecodableBody {
                    status: 200,
                    snippet: "nextRecordsUrl points at the page just read".to_owned(),
                    source: None,
                });
            }
            records.append(&mut page.records);
        }
        Ok(records)
    }

    /// Describes an object.
    #[tracing::instrument(name = "salesforce.describe", skip(self))]
    pub async fn describe(&self, object: &str) -> Result<ObjectDescribe, SalesforceError> {
        let call = Call {
            operation: "describe",
            method: Method::GET,
            path: rest([
                "sobjects".to_owned(),
                api_name(object)?.to_owned(),
                "describe".to_owned(),
            ]),
            body: None,
            idempotent: true,
        };
        self.call(&call, |raw| decode(&raw)).await
    }

    /// Sends a composite request (one API call). When a subrequest fails the
    /// answer is [`SalesforceError::Composite`] naming it; an all-or-none
    /// composite that failed on lock contention is retried as a whole. Free
    /// text the composite could not carry (it held `@{`, see
    /// [`crate::composite`]) is written right after, one `PATCH` per record;
    /// once the composite succeeded the answer is `Ok` even if that `PATCH`
    /// failed (see `write_held_text`).
    #[tracing::instrument(name = "salesforce.composite", skip_all, fields(subrequests = composite.len()))]
    pub async fn composite(
        &self,
        composite: &Composite,
    ) -> Result<CompositeResults, SalesforceError> {
        let body = composite.to_body(self.inner.config.api_version().as_str());
        let rolled_back = composite.all_or_none() == AllOrNone::Yes;
        let call = Call {
            operation: "composite",
            method: Method::POST,
            path: rest(["composite".to_owned()]),
            body: Some(&body),
            // A composite of queries only is as safe to repeat as a query.
            idempotent: composite.is_read_only(),
        };
        let results = self
            .call(&call, |raw| {
                let results: CompositeResults = decode(&raw)?;
                match results.failure(rolled_back) {
                    Some(e) => Err(e),
                    None => Ok(results),
                }
            })
            .await?;
        self.write_held_text(composite, &results).await;
        Ok(results)
    }

    /// Sends an `allOrNone: false` composite (one API call) and returns every
    /// subrequest's answer, failed ones included: for reads whose later
    /// subrequests refer to what an earlier query found, where "found
    /// nothing" fails the dependent subrequest alone. Check each with
    /// [`CompositeResults::failed`] / [`CompositeResults::failure_of`].
    /// An all-or-none composite is sent as by [`Self::composite`].
    #[tracing::instrument(name = "salesforce.composite", skip_all, fields(subrequests = composite.len()))]
    pub async fn composite_partial(
        &self,
        composite: &Composite,
    ) -> Result<CompositeResults, SalesforceError> {
        if composite.all_or_none() == AllOrNone::Yes {
            return self.composite(composite).await;
        }
        let body = composite.to_body(self.inner.config.api_version().as_str());
        let call = Call {
            operation: "composite",
            method: Method::POST,
            path: rest(["composite".to_owned()]),
            body: Some(&body),
            idempotent: composite.is_read_only(),
        };
        let results = self
            .call(&call, |raw| decode::<CompositeResults>(&raw))
            .await?;
        self.write_held_text(composite, &results).await;
        Ok(results)
    }

    /// Writes the exact free text `composite` held back
    /// ([`Composite::text_updates`]): nothing when no body held `@{`.
    ///
    /// The composite is done by then, so a failure here (after the usual
    /// retries) is logged, not returned: answering "failed" would invite the
    /// caller to repeat a write that happened. The record keeps the stand-in
    /// (each `@{` read as `@(`), and the log line names it for staff.
    async fn write_held_text(&self, composite: &Composite, results: &CompositeResults) {
        if !composite.holds_text() {
            return;
        }
        let updates = match composite.text_updates(results) {
            Ok(updates) => updates,
            Err(e) => {
                tracing::error!(error = %e, "the composite was written, but its exact free text could not be placed");
                return;
            }
        };
        for update in updates {
            if let Err(e) = self
                .update(&update.object, &update.id, &update.fields)
                .await
            {
                tracing::error!(
                    object = %update.object,
                    id = %update.id,
                    error = %e,
                    "the composite was written, but not the exact free text of this record: it holds the stand-in"
                );
            }
        }
    }

    /// Sends `call`, re-authenticating once on 401 and retrying transient
    /// failures, and interprets a success with `interpret`.
    async fn call<T>(
        &self,
        call: &Call<'_>,
        interpret: impl Fn(Raw) -> Result<T, SalesforceError>,
    ) -> Result<T, SalesforceError> {
        let policy = self.inner.retry;
        let mut attempt: u32 = 0;
        loop {
            let result = match self.attempt(call).await {
                Ok(raw) => interpret(raw),
                Err(e) => Err(e),
            };
            match result {
                Ok(value) => return Ok(value),
                Err(e)
                    if attempt + 1 < policy.max_attempts && should_retry(&e, call.idempotent) =>
                {
                    let delay = policy.backoff(attempt);
                    attempt += 1;
                    tracing::warn!(
                        operation = call.operation,
                        attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        status = ?e.status(),
                        error_codes = ?e.error_codes(),
                        "retrying Salesforce request after a transient error"
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One attempt: send with the cached session; on 401 log in again and send
    /// once more. Returns the answer when it is a success (2xx).
    async fn attempt(&self, call: &Call<'_>) -> Result<Raw, SalesforceError> {
        let session = self.session().await?;
        let mut raw = self.send(&session, call).await?;
        if raw.status == 401 {
            tracing::info!(
                operation = call.operation,
                "Salesforce rejected the session; logging in again"
            );
            self.invalidate(&session).await;
            let fresh = self.session().await?;
            raw = self.send(&fresh, call).await?;
            if raw.status == 401 {
                let errors = match error::from_response(401, &raw.body) {
                    SalesforceError::Api { errors, .. } => errors,
                    _ => Vec::new(),
                };
                // Leave the dead session for the next caller to replace.
                self.invalidate(&fresh).await;
                return Err(SalesforceError::SessionRejected { errors });
            }
        }
        if (200..300).contains(&raw.status) {
            Ok(raw)
        } else {
            Err(error::from_response(raw.status, &raw.body))
        }
    }

    /// Sends `call` once with `session` and reads the whole answer.
    async fn send(&self, session: &Session, call: &Call<'_>) -> Result<Raw, SalesforceError> {
        use secrecy::ExposeSecret as _;

        let url = self.url(session, &call.path)?;
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .bearer_auth(session.access_token.expose_secret())
            .header(ACCEPT, "application/json");
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(transport)?;
        self.record_usage(response.headers());
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?.to_vec();
        Ok(Raw { status, body })
    }

    fn url(&self, session: &Session, path: &Path) -> Result<url::Url, SalesforceError> {
        let invalid = || SalesforceError::InvalidName(session.instance_url.clone());
        let mut url = url::Url::parse(&session.instance_url).map_err(|_| invalid())?;
        match path {
            Path::Rest { segments, query } => {
                let version = format!("v{}", self.inner.config.api_version());
                url.path_segments_mut()
                    .map_err(|()| invalid())?
                    .pop_if_empty()
                    .extend(["services", "data", version.as_str()])
                    .extend(segments);
                url.set_query(query.as_deref());
            }
            Path::Given(given) => {
                url = url.join(given).map_err(|_| invalid())?;
            }
        }
        Ok(url)
    }

    fn record_usage(&self, headers: &HeaderMap) {
        let usage = headers
            .get(LIMIT_INFO_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info);
        if let Some(usage) = usage {
            *self
                .inner
                .api_usage
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(usage);
        }
    }
}

fn rest<const N: usize>(segments: [String; N]) -> Path {
    Path::Rest {
        segments: segments.into(),
        query: None,
    }
}

/// Checks an object or field API name used in a URL.
fn api_name(name: &str) -> Result<&str, SalesforceError> {
    if is_identifier(name) && !name.contains('.') {
        Ok(name)
    } else {
        Err(SalesforceError::InvalidName(name.to_owned()))
    }
}

/// A transport failure, without its URL: a query's URL holds its SOQL, and so
/// the personal data it filters on (an e-mail), which must not reach a log.
fn transport(e: reqwest::Error) -> SalesforceError {
    let e = e.without_url();
    if e.is_timeout() {
        SalesforceError::Timeout(e)
    } else {
        SalesforceError::Transport(e)
    }
}

fn decode<T: DeserializeOwned>(raw: &Raw) -> Result<T, SalesforceError> {
    serde_json::from_slice(&raw.body).map_err(|e| SalesforceError::UndecodableBody {
        status: raw.status,
        // A success body holds record data: keep only its shape's error.
        snippet: format!("{} bytes of unexpected JSON", raw.body.len()),
        source: Some(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_info_is_parsed_from_every_documented_form() {
        assert_eq!(
            parse_limit_info("api-usage=25/15000"),
            Some(ApiUsage {
                used: 25,
                limit: 15000
            })
        );
        assert_eq!(
            parse_limit_info("api-usage=18/5000; per-app-api-usage=17/250(appName=sample-app)"),
            Some(ApiUsage {
                used: 18,
                limit: 5000
            })
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=17/250(appName=x); api-usage=7/100"),
            Some(ApiUsage {
                used: 7,
                limit: 100
            })
        );
        for bad in [
            "",
            "api-usage=",
            "api-usage=1",
            "api-usage=a/b",
            "per-app-api-usage=1/2",
        ] {
            assert_eq!(parse_limit_info(bad), None, "{bad}");
        }
    }

    #[test]
    fn describe_and_query_pages_decode_from_salesforce_json() {
        let page: QueryPage<Value> = serde_json::from_str(
            r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gD0000002HU6KIAW-2000","records":[{"attributes":{"type":"Account"},"Id":"001000000000001AAA"}]}"#,
        )
        .unwrap();
        assert_eq!(page.total_size, 3);
        assert!(!page.done);
        assert_eq!(page.records.len(), 1);
        let count: QueryPage<Value> =
            serde_json::from_str(r#"{"totalSize":7,"done":true,"records":[]}"#).unwrap();
        assert_eq!(count.total_size, 7);

        let describe: ObjectDescribe = serde_json::from_str(
            r#"{"name":"Account","label":"Account","keyPrefix":"001","createable":true,"updateable":true,"queryable":true,
               "fields":[{"name":"Portal_Status__c","label":"Portal Status","type":"picklist","length":255,"nillable":true,
               "createable":true,"updateable":true,"externalId":false,"restrictedPicklist":true,
               "picklistValues":[{"value":"Active","label":"Active","active":true,"defaultValue":false}],"referenceTo":[],"relationshipName":null},
               {"name":"Id","type":"id","picklistValues":null,"referenceTo":null}]}"#,
        )
        .unwrap();
        let f = describe.field("portal_status__c").unwrap();
        assert_eq!(f.field_type, "picklist");
        assert!(f.nillable && f.restricted_picklist);
        assert_eq!(f.picklist_values[0].value, "Active");
        assert!(describe.field("Id").unwrap().picklist_values.is_empty());
    }

    #[test]
    fn api_names_in_urls_are_checked() {
        assert!(api_name("Account").is_ok());
        for bad in ["", "Account/describe", "..", "Account.Name", "a b", "a?b"] {
            assert!(api_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_segments_are_percent_encoded_by_the_url_builder() {
        let mut url = url::Url::parse("https://x.my.salesforce.com").unwrap();
        url.path_segments_mut()
            .unwrap()
            .pop_if_empty()
            .extend(["services", "a%/b?c#d é"]);
        assert_eq!(url.path(), "/services/a%25%2Fb%3Fc%23d%20%C3%A9");
    }
}
