//! `multipart/form-data` bodies: the ID documents of `POST /id-verifications`.
//!
//! The form has the text fields `documentType` and `notes` (optional) and one
//! or two file parts named `documents`. A part with another name is refused
//! (422 naming it): a form has no room for extensions, and the document says
//! so (`additionalProperties: false`). The whole body is at most [`MAX_UPLOAD_BYTES`]
//! (413 beyond): API Gateway's HTTP API hands a binary body to Lambda in
//! base64 and Lambda takes at most 6 MB per invocation, so 4.4 MB of body
//! (5.9 MB in base64, with the request's headers) is what fits. Each file is
//! at most 4 MiB (413 naming it); which files are JPEG, PNG or PDF — judged
//! by their bytes — and how many there are is checked by the use case (422).
//!
//! The idempotency fingerprint of a form is its content (fields, file names
//! and SHA-256 of each file), not its bytes: a client retrying an upload
//! builds a new body with a new boundary, and must still be recognised.

use std::convert::Infallible;

use axum::body::Bytes;
use chrono::NaiveDate;
use http::HeaderMap;
use portal_core::domain::MAX_DOCUMENT_BYTES;
use portal_core::portal::{DocumentUpload, IdVerificationRequest};
use serde_json::json;

use crate::body::{PostBody, media_type};
use crate::idempotency::sha256_hex;
use crate::problem::{Problem, ProblemField, types};

/// The largest `multipart/form-data` body, in bytes (see the module doc).
pub const MAX_UPLOAD_BYTES: usize = 4_400_000;

/// The media type of the form.
pub const MULTIPART_FORM_DATA: &str = "multipart/form-data";

/// The form field of the document type.
pub const DOCUMENT_TYPE: &str = "documentType";
/// The form field of the notes.
pub const NOTES: &str = "notes";
/// The form field of each file.
pub const DOCUMENTS: &str = "documents";

/// The largest text field, in bytes (the notes: 30 000 characters of at
/// most 4 bytes each, and some room).
const MAX_TEXT_BYTES: usize = 128 * 1024;

/// The body of `POST /id-verifications`, read from its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdVerificationForm(pub IdVerificationRequest);

impl PostBody for IdVerificationForm {
    const MEDIA_TYPE: &'static str = MULTIPART_FORM_DATA;

    fn accepts(headers: &HeaderMap) -> bool {
        media_type(headers).is_some_and(|m| m.eq_ignore_ascii_case(MULTIPART_FORM_DATA))
    }

    fn max_bytes(limits: &crate::app::Limits) -> usize {
        limits.max_upload_bytes
    }

    async fn parse(headers: &HeaderMap, bytes: Bytes, _today: NaiveDate) -> Result<Self, Problem> {
        read_form(headers, bytes).await.map(Self)
    }

    fn fingerprint_body(&self, _raw: &Bytes) -> Bytes {
        let request = &self.0;
        let documents: Vec<_> = request
            .documents
            .iter()
            .map(|d| json!({"fileName": d.file_name, "sha256": sha256_hex(&[&d.content]), "size": d.content.len()}))
            .collect();
        let canonical = json!({
            DOCUMENT_TYPE: request.document_type,
            NOTES: request.notes,
            DOCUMENTS: documents,
        });
        Bytes::from(canonical.to_string())
    }
}

fn malformed(error: &multer::Error) -> Problem {
    Problem::malformed_multipart(format!(
        "The request body is not valid multipart/form-data: {error}."
    ))
}

fn field_error(field: &str, message: &str) -> Problem {
    Problem::validation(vec![ProblemField {
        field: field.to_owned(),
        message: message.to_owned(),
    }])
}

/// Reads the form: 400 when it is not multipart, 413 for a file over 4 MiB
/// (naming it), 422 for a repeated or non-UTF-8 text field or a part of
/// another name.
async fn read_form(headers: &HeaderMap, bytes: Bytes) -> Result<IdVerificationRequest, Problem> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|e| malformed(&e))?;
    let stream = futures::stream::once(async move { Ok::<_, Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut request = IdVerificationRequest::default();
    let mut seen_type = false;
    let mut seen_notes = false;
    let mut unknown = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(|e| malformed(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            DOCUMENTS => {
                let index = request.documents.len();
                let file_name = field.file_name().map(str::to_owned);
                let mut content = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| malformed(&e))? {
                    if content.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                        return Err(file_too_large(index, file_name.as_deref()));
                    }
                    content.extend_from_slice(&chunk);
                }
                request.documents.push(DocumentUpload {
                    file_name,
                    content: Bytes::from(content),
                });
            }
            DOCUMENT_TYPE | NOTES => {
                let seen = if name == DOCUMENT_TYPE {
                    &mut seen_type
                } else {
                    &mut seen_notes
                };
                if std::mem::replace(seen, true) {
                    return Err(field_error(&name, "must be sent once"));
                }
                let mut raw = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| malformed(&e))? {
                    if raw.len() + chunk.len() > MAX_TEXT_BYTES {
                        return Err(field_error(&name, "is too long"));
                    }
                    raw.extend_from_slice(&chunk);
                }
                let text =
                    String::from_utf8(raw).map_err(|_| field_error(&name, "must be UTF-8 text"))?;
                if name == DOCUMENT_TYPE {
                    request.document_type = Some(text);
                } else {
                    request.notes = Some(text);
                }
            }
            _ => {
                while field.chunk().await.map_err(|e| malformed(&e))?.is_some() {}
                unknown.push(ProblemField {
                    field: name,
                    message: "is not a field of this form".to_owned(),
                });
            }
        }
    }
    if unknown.is_empty() {
        Ok(request)
    } else {
        Err(Problem::validation(unknown))
    }
}

/// 413 naming the file at `index`.
fn file_too_large(index: usize, file_name: Option<&str>) -> Problem {
    let which = file_name.map_or_else(|| format!("document {}", index + 1), |n| format!("\"{n}\""));
    let message = format!("{which} is larger than {MAX_DOCUMENT_BYTES} bytes (4 MiB)");
    Problem::of(
        types::PAYLOAD_TOO_LARGE,
        format!(
            "A document may have at most {MAX_DOCUMENT_BYTES} bytes (4 MiB): {which} is larger."
        ),
    )
    .with_errors(vec![ProblemField {
        field: format!("{DOCUMENTS}[{index}]"),
        message,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (HeaderMap, Bytes) {
        let mut body = Vec::new();
        for (name, file, content) in parts {
            body.extend_from_slice(b"--XyZ\r\n");
            match file {
                Some(f) => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes()),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        (headers, Bytes::from(body))
    }

    #[tokio::test]
    async fn when_the_form_is_whole_should_read_every_field_and_file() {
        let (headers, body) = form(&[
            ("documentType", None, b"passport"),
            ("documents", Some("a.jpg"), &[0xFF, 0xD8, 0xFF]),
            ("documents", Some("b.pdf"), b"%PDF-1.4"),
        ]);
        let request = read_form(&headers, body).await.unwrap();
        assert_eq!(request.document_type.as_deref(), Some("passport"));
        assert_eq!(request.notes, None);
        assert_eq!(request.documents.len(), 2);
        assert_eq!(request.documents[1].file_name.as_deref(), Some("b.pdf"));
        assert_eq!(&request.documents[1].content[..], b"%PDF-1.4");
    }

    #[tokio::test]
    async fn when_a_file_is_over_4_mib_should_answer_413_naming_it() {
        let big = vec![b'%'; MAX_DOCUMENT_BYTES + 1];
        let (headers, body) = form(&[
            ("documents", Some("ok.jpg"), &[0xFF, 0xD8, 0xFF]),
            ("documents", Some("scan.pdf"), &big),
        ]);
        let problem = read_form(&headers, body).await.unwrap_err();
        assert_eq!(problem.status, 413);
        let errors = problem.errors.unwrap();
        assert_eq!(errors[0].field, "documents[1]");
        assert!(
            errors[0].message.contains("\"scan.pdf\""),
            "{}",
            errors[0].message
        );
    }

    #[tokio::test]
    async fn when_the_body_is_not_a_form_or_repeats_a_field_should_say_so() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            "multipart/form-data".parse().unwrap(),
        );
        assert_eq!(
            read_form(&headers, Bytes::from_static(b"x"))
                .await
                .unwrap_err()
                .code,
            "malformed-multipart"
        );
        let (headers, _) = form(&[]);
        assert_eq!(
            read_form(&headers, Bytes::from_static(b"--XyZ\r\nbroken"))
                .await
                .unwrap_err()
                .code,
            "malformed-multipart"
        );
        let (headers, body) = form(&[("notes", None, b"a"), ("notes", None, b"b")]);
        let problem = read_form(&headers, body).await.unwrap_err();
        assert_eq!(
            (problem.status, problem.errors.unwrap()[0].field.as_str()),
            (422, "notes")
        );
    }

    #[test]
    fn the_fingerprint_should_not_depend_on_the_boundary() {
        let a = IdVerificationForm(IdVerificationRequest {
            document_type: Some("passport".into()),
            notes: None,
            documents: vec![DocumentUpload {
                file_name: Some("a.jpg".into()),
                content: Bytes::from_static(b"xyz"),
            }],
        });
        let mut b = a.clone();
        assert_eq!(
            a.fingerprint_body(&Bytes::from_static(b"--1")),
            b.fingerprint_body(&Bytes::from_static(b"--2"))
        );
        b.0.documents[0].content = Bytes::from_static(b"xyZ");
        assert_ne!(
            a.fingerprint_body(&Bytes::new()),
            b.fingerprint_body(&Bytes::new())
        );
    }
}
