//! The router: every route of the portal API on one `axum::Router`, plus
//! the 404 fallback, problem+json for 405 (keeping `Allow`), a panic guard
//! (500 problem without details, and a log line), an access log, and the
//! request's correlation id around all of it ([`crate::correlation`]).
//!
//! Handlers are thin: the pipeline in [`crate::app`] parses, one use case
//! runs, and the result is mapped to a status.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::FutureExt as _;
use http::StatusCode;
use http::header::{ALLOW, CONTENT_TYPE};
use portal_core::portal::{
    self as uc, Attempt, CancellationRequest, EligibilityRequest, OrderRequest, Outcome,
    RegistrationRequest, SupportCaseRequest,
};
use serde::Serialize;

use crate::app::{Account, Api, PortalPorts, Reply};
use crate::problem::{Problem, from_portal_error};
use crate::store::ApiStore;
use crate::upload::IdVerificationForm;

/// Builds the router of every route over `api`.
pub fn router<P: PortalPorts, S: ApiStore>(api: Api<P, S>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/registrations", post(registrations::<P, S>))
        .route("/account", get(account::<P, S>))
        .route("/eligibility-requests", post(eligibility_requests::<P, S>))
        .route("/id-verifications", post(id_verifications::<P, S>))
        .route("/catalog", get(catalog::<P, S>))
        .route(
            "/orders",
            get(list_orders::<P, S>).post(place_order::<P, S>),
        )
        .route("/orders/{orderId}", get(order::<P, S>))
        .route("/services", get(services::<P, S>))
        .route("/cancellations", post(cancellations::<P, S>))
        .route(
            "/support-cases",
            get(list_support_cases::<P, S>).post(open_support_case::<P, S>),
        )
        .fallback(not_found)
        .with_state(api)
        .layer(middleware::map_response(method_not_allowed))
        .layer(middleware::from_fn(catch_panics))
        .layer(middleware::from_fn(access_log))
        .layer(middleware::from_fn(crate::correlation::correlate))
}

impl<P: PortalPorts, S: ApiStore> Api<P, S> {
    /// The router of every route over this API.
    pub fn router(self) -> Router {
        router(self)
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// Reads (and drops) a body it does not need, as every route does: a body
/// left unread makes the server close the connection after the answer, and
/// a client that reused it meanwhile gets no answer at all.
async fn health(request: Request) -> Response {
    crate::body::drain(request.into_body()).await;
    Reply::json(StatusCode::OK, &Health { status: "ok" }).into_response()
}

fn reply<T: Serialize>(
    result: Result<T, uc::PortalError>,
    status: StatusCode,
) -> Result<Reply, Problem> {
    Reply::json(status, &result.map_err(from_portal_error)?)
}

fn reply_outcome<T: Serialize>(
    result: Result<Outcome<T>, uc::PortalError>,
    created: StatusCode,
    existing: StatusCode,
) -> Result<Reply, Problem> {
    let outcome = result.map_err(from_portal_error)?;
    let status = if outcome.is_created() {
        created
    } else {
        existing
    };
    Reply::json(status, outcome.body())
}

async fn registrations<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.post(
        request,
        Account::Optional,
        async move |caller, body: RegistrationRequest, attempt: Attempt| {
            a.limit_registration(&caller).await?;
            let locks = a.lock_registration(&caller, &body).await?;
            let result = uc::register(
                a.ports.registration(),
                &*a.logins,
                &caller,
                body,
                a.clock.now(),
                &attempt,
            )
            .await;
            a.unlock(locks).await;
            match result.map_err(from_portal_error)? {
                uc::Registration::Linked(outcome) => {
                    reply_outcome(Ok(outcome), StatusCode::CREATED, StatusCode::OK)
                }
                uc::Registration::AwaitingStaff(pending) => {
                    Reply::json(StatusCode::ACCEPTED, &pending)
                }
            }
        },
    )
    .await
}

async fn account<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.get(request, async move |caller| {
        reply(
            uc::get_account(a.ports.account(), &caller).await,
            StatusCode::OK,
        )
    })
    .await
}

async fn eligibility_requests<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.post(
        request,
        Account::Required,
        async move |caller, body: EligibilityRequest, attempt: Attempt| {
            let result = uc::request_eligibility(
                a.ports.eligibility(),
                &caller,
                body,
                a.clock.now(),
                &a.settings,
                &attempt,
            )
            .await;
            reply_outcome(result, StatusCode::ACCEPTED, StatusCode::ACCEPTED)
        },
    )
    .await
}

async fn id_verifications<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.post(
        request,
        Account::Required,
        async move |caller, IdVerificationForm(body), attempt: Attempt| {
            let result = uc::submit_id_verification(
                a.ports.id_verification(),
                &caller,
                body,
                a.clock.now(),
                &attempt,
            )
            .await;
            reply_outcome(result, StatusCode::ACCEPTED, StatusCode::ACCEPTED)
        },
    )
    .await
}

async fn catalog<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.get(request, async move |caller| {
        reply(
            uc::get_catalog(a.ports.catalog(), &caller, &a.settings).await,
            StatusCode::OK,
        )
    })
    .await
}

async fn place_order<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.post(
        request,
        Account::Required,
        async move |caller, body: OrderRequest, attempt: Attempt| {
            let result = uc::place_order(
                a.ports.orders(),
                &caller,
                body,
                a.clock.now(),
                &a.settings,
                &attempt,
            )
            .await;
            reply(result, StatusCode::CREATED)
        },
    )
    .await
}

async fn list_orders<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.get(request, async move |caller| {
        reply(
            uc::list_orders(a.ports.orders(), &caller).await,
            StatusCode::OK,
        )
    })
    .await
}

async fn order<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    // The raw segment: an id that is not a well-formed Order id is simply not found.
    let order_id = request
        .uri()
        .path()
        .strip_prefix("/orders/")
        .unwrap_or_default()
        .to_owned();
    let a = api.clone();
    api.get(request, async move |caller| {
        reply(
            uc::get_order(a.ports.orders(), &caller, &order_id).await,
            StatusCode::OK,
        )
    })
    .await
}

async fn services<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.get(request, async move |caller| {
        reply(
            uc::list_services(a.ports.services(), &caller).await,
            StatusCode::OK,
        )
    })
    .await
}

async fn cancellations<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.post(
        request,
        Account::Required,
        async move |caller, body: CancellationRequest, attempt: Attempt| {
            let result = uc::request_cancellation(
                a.ports.cancellation(),
                &caller,
                body,
                a.clock.now(),
                &a.settings,
                &attempt,
            )
            .await;
            reply_outcome(result, StatusCode::ACCEPTED, StatusCode::ACCEPTED)
        },
    )
    .await
}

async fn open_support_case<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.post(
        request,
        Account::Required,
        async move |caller, body: SupportCaseRequest, attempt: Attempt| {
            let result = uc::open_support_case(a.ports.support(), &caller, body, &attempt).await;
            reply(result, StatusCode::CREATED)
        },
    )
    .await
}

async fn list_support_cases<P: PortalPorts, S: ApiStore>(
    State(api): State<Api<P, S>>,
    request: Request,
) -> Response {
    let a = api.clone();
    api.get(request, async move |caller| {
        reply(
            uc::list_support_cases(a.ports.support(), &caller).await,
            StatusCode::OK,
        )
    })
    .await
}

async fn not_found(request: Request) -> Response {
    crate::body::drain(request.into_body()).await;
    Problem::not_found().into_response()
}

/// axum answers a known path with another method by an empty 405 carrying
/// `Allow`; this turns it into a problem, keeping `Allow`.
async fn method_not_allowed(response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(CONTENT_TYPE)
    {
        let allow = response.headers().get(ALLOW).cloned();
        return Problem::method_not_allowed(allow).into_response();
    }
    response
}

/// A panicking handler answers a 500 problem without details; the panic is logged.
async fn catch_panics(request: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!("a handler panicked; answered 500");
            Problem::internal().into_response()
        }
    }
}

/// One log line per request: method, route, status, duration (no query, no body, no token).
async fn access_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn when_a_handler_panics_should_answer_a_500_problem_without_details() {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    let detail: &str = std::hint::black_box("internal detail that must not leak");
                    if detail.is_empty() {
                        return "unreachable";
                    }
                    panic!("{detail}")
                }),
            )
            .layer(middleware::from_fn(catch_panics));
        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("urn:portal:problem:internal"), "{text}");
        assert!(!text.contains("must not leak"), "{text}");
    }
}
