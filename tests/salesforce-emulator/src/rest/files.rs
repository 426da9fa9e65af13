//! The REST side of Salesforce Files: the size limit of a JSON request (files
//! travel in it as base64), the file bytes at
//! `sobjects/ContentVersion/{id}/VersionData`, and the filter
//! `ContentDocumentLink` queries must have.
//!
//! - A request body over [`MAX_REQUEST_BYTES`] (50 MB; with base64 that is
//!   37.5 MB of file) is refused with 400 `JSON_PARSER_ERROR` "Maximum size
//!   of request reached. Maximum size of request is 52428800 bytes." — what
//!   Salesforce answers (seen in simple-salesforce #195 and
//!   SalesforceMobileSDK-iOS #3575; the limit is in the REST guide's "Insert
//!   or Update Blob Data").
//! - `GET …/VersionData` answers the bytes as `application/octet-stream`
//!   (one API call); an unknown or malformed id is 404 `NOT_FOUND`.
//! - A `ContentDocumentLink` query without `ContentDocumentId` or
//!   `LinkedEntityId` compared with `=` or `IN` is refused with
//!   `MALFORMED_QUERY` "Implementation restriction: ContentDocumentLink
//!   requires a filter by a single Id on ContentDocumentId or LinkedEntityId
//!   using the equals operator or multiple Id's using the IN operator."

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use salesforce::schema::{content_document_link, content_version};

use crate::error::ApiError;
use crate::ids;
use crate::soql::Query;
use crate::store::Store;

/// The largest JSON request body Salesforce takes, in bytes (50 MiB).
pub const MAX_REQUEST_BYTES: usize = 52_428_800;

/// The refusal of a body over [`MAX_REQUEST_BYTES`].
pub fn request_too_large() -> ApiError {
    ApiError::new(
        400,
        "JSON_PARSER_ERROR",
        format!(
            "Maximum size of request reached. Maximum size of request is {MAX_REQUEST_BYTES} bytes."
        ),
    )
}

/// The version id of `sobjects/ContentVersion/{id}/VersionData`, when `segments` is that path.
pub fn version_data_path(segments: &[String]) -> Option<&str> {
    match segments {
        [sobjects, object, id, field]
            if sobjects == "sobjects"
                && object.eq_ignore_ascii_case(content_version::OBJECT)
                && field.eq_ignore_ascii_case(content_version::VERSION_DATA) =>
        {
            Some(id)
        }
        _ => None,
    }
}

/// The bytes of version `raw_id` from the committed `store`, or the 404.
pub fn version_data(store: &Store, raw_id: &str) -> Result<Response, ApiError> {
    let bytes = ids::normalize(raw_id)
        .and_then(|id| store.blob(&id))
        .ok_or_else(ApiError::not_found)?;
    let mut response = Response::new(Body::from(bytes.to_vec()));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

/// `MALFORMED_QUERY` for a `ContentDocumentLink` query without its required filter.
pub fn check_link_filter(query: &Query) -> Result<(), ApiError> {
    if query.object().name != content_document_link::OBJECT
        || query.filters_by_id(&[
            content_document_link::CONTENT_DOCUMENT_ID,
            content_document_link::LINKED_ENTITY_ID,
            "Id",
        ])
    {
        return Ok(());
    }
    Err(ApiError::new(
        400,
        "MALFORMED_QUERY",
        "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.",
    ))
}
