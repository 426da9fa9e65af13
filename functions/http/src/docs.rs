//! The API's reference, for the portal team: `GET /openapi.json` (the
//! contract, byte for byte) and `GET /docs` (Swagger UI rendering it).
//!
//! Swagger UI comes from `utoipa-swagger-ui` with its `vendored` feature: the
//! UI's files are in the crate, so the page needs no CDN and works offline.
//! Its validator badge is off (it would call `validator.swagger.io`).
//! `portal-local` always serves these; the Lambda only with
//! `PORTAL_SERVE_DOCS=true` (see [`crate::config`]). Neither needs a token.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::OPENAPI_JSON;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where the rendered reference is served (`/docs` redirects to `/docs/`).
pub const DOCS_PATH: &str = "/docs";

/// `GET /openapi.json` and `GET /docs`, to merge into the API's router.
pub fn router() -> Router {
    let config = Config::from(OPENAPI_PATH)
        .validator_url("none")
        .try_it_out_enabled(true)
        .display_operation_id(true);
    Router::new()
        .route(OPENAPI_PATH, get(openapi))
        .merge(SwaggerUi::new(DOCS_PATH).config(config))
}

async fn openapi() -> Response {
    let mut response = OPENAPI_JSON.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use http::{Request, StatusCode};
    use tower::ServiceExt as _;

    async fn get_body(path: &str) -> (StatusCode, String, String) {
        let response = router()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let media = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .unwrap();
        (status, media, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_document_is_served_as_is_and_the_page_points_at_it_without_a_cdn() {
        let (status, media, body) = get_body("/openapi.json").await;
        assert_eq!(
            (status, media.as_str()),
            (StatusCode::OK, "application/json")
        );
        assert_eq!(body, OPENAPI_JSON);
        let (status, media, page) = get_body("/docs/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(media.starts_with("text/html"), "{media}");
        assert!(
            !page.contains("https://"),
            "no outside host in the page: {page}"
        );
        let (status, _, init) = get_body("/docs/swagger-initializer.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(init.contains("/openapi.json"), "{init}");
        let (status, media, _) = get_body("/docs/swagger-ui-bundle.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(media.contains("javascript"), "{media}");
    }
}
