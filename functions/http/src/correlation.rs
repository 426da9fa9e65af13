//! Correlation ids: every request gets one, on every log line it causes (the
//! `request` span's `correlation_id` field) and in every problem it answers
//! (`correlationId`), so support can go from a customer's error to the logs
//! and back.
//!
//! In Lambda the id is API Gateway's request id (`$context.requestId`, also
//! in the API's access log); elsewhere (portal-local, tests) a fresh UUID.
//! Nothing from the client is used: a client cannot write into our logs.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt as _;
use tracing::Instrument as _;

tokio::task_local! {
    static CORRELATION_ID: Arc<str>;
}

/// The correlation id of the request being handled, if any.
pub fn current() -> Option<String> {
    CORRELATION_ID.try_with(|id| id.to_string()).ok()
}

/// API Gateway's request id, when the request came through it and the id
/// looks like one (printable ASCII, at most 128 bytes).
fn gateway_request_id(request: &Request) -> Option<String> {
    let context = request.extensions().request_context_ref()?;
    #[allow(irrefutable_let_patterns)]
    let lambda_http::request::RequestContext::ApiGatewayV2(context) = context else {
        return None;
    };
    context
        .request_id
        .clone()
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
}

/// Middleware: runs the request inside its correlation id's scope and span.
pub async fn correlate(request: Request, next: Next) -> Response {
    let id: Arc<str> = gateway_request_id(&request)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        .into();
    let span = tracing::info_span!("request", correlation_id = %id);
    CORRELATION_ID
        .scope(id, next.run(request).instrument(span))
        .await
}
