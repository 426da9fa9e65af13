//! The identity documents a customer may submit for ID verification: the
//! kind of document ([`DocumentType`]) and the files themselves
//! ([`IdDocument`]), whose format is told by their first bytes, never by
//! their name or declared media type.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::picklist::UnknownValue;
use super::text::utf16_len;

/// The most bytes one document file may have (4 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// The most document files one ID verification carries.
pub const MAX_DOCUMENTS: usize = 2;
/// The longest file name kept, in UTF-16 code units (`ContentVersion.Title`
/// is Text(255); its `PathOnClient` adds at most a 4-character extension
/// within its 500).
pub const MAX_FILE_NAME: usize = 255;

/// The file formats an ID document may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DocumentFormat {
    /// `FF D8 FF`.
    #[serde(rename = "image/jpeg")]
    Jpeg,
    /// `89 50 4E 47 0D 0A 1A 0A`.
    #[serde(rename = "image/png")]
    Png,
    /// `%PDF-`.
    #[serde(rename = "application/pdf")]
    Pdf,
}

impl DocumentFormat {
    /// The format of a file from its first bytes (its signature), if it is one we take.
    pub fn sniff(content: &[u8]) -> Option<Self> {
        if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if content.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else if content.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else {
            None
        }
    }

    /// The media type, e.g. `image/jpeg`.
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Pdf => "application/pdf",
        }
    }

    /// The file name extensions of the format; the first is the usual one.
    pub const fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg"],
            Self::Png => &["png"],
            Self::Pdf => &["pdf"],
        }
    }
}

/// Why a document file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Not a JPEG, PNG or PDF by its content (whatever its name says).
    #[error("\"{file_name}\" is not a JPEG, PNG or PDF file (judged by its content, not its name)")]
    UnsupportedFormat {
        /// The file's name as sent.
        file_name: String,
    },
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    #[error(
        "\"{file_name}\" has {size} bytes; a document may have at most {MAX_DOCUMENT_BYTES} bytes (4 MiB)"
    )]
    TooLarge {
        /// The file's name as sent.
        file_name: String,
        /// Its size.
        size: usize,
    },
}

/// One ID document file, checked: JPEG, PNG or PDF by its bytes, at most
/// [`MAX_DOCUMENT_BYTES`], with a file name fit for Salesforce Files.
#[derive(Clone, PartialEq, Eq)]
pub struct IdDocument {
    file_name: String,
    format: DocumentFormat,
    content: Bytes,
}

impl fmt::Debug for IdDocument {
    /// The name, format and size; never the content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdDocument")
            .field("format", &self.format)
            .field("size", &self.content.len())
            .finish_non_exhaustive()
    }
}

impl IdDocument {
    /// Checks one uploaded file. `file_name` is the name the client sent
    /// (any path in it is dropped); `position` (0-based) names a file that
    /// came without a usable name.
    pub fn parse(
        file_name: Option<&str>,
        content: Bytes,
        position: usize,
    ) -> Result<Self, DocumentError> {
        let sent = file_name.unwrap_or_default();
        let format = DocumentFormat::sniff(&content);
        let file_name = clean_file_name(sent, format, position);
        if content.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge {
                file_name,
                size: content.len(),
            });
        }
        let Some(format) = format else {
            return Err(DocumentError::UnsupportedFormat { file_name });
        };
        Ok(Self {
            file_name,
            format,
            content,
        })
    }

    /// The file name (no path, at most [`MAX_FILE_NAME`] UTF-16 code units).
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The file name with an extension of its real format: the name itself
    /// when it has one, else the name plus the usual one (`scan.jpg` that
    /// is a PNG becomes `scan.jpg.png`), so Salesforce files it by its format.
    pub fn path_on_client(&self) -> String {
        let has_extension = self.file_name.rsplit_once('.').is_some_and(|(_, ext)| {
            self.format
                .extensions()
                .iter()
                .any(|e| e.eq_ignore_ascii_case(ext))
        });
        if has_extension {
            self.file_name.clone()
        } else {
            format!("{}.{}", self.file_name, self.format.extensions()[0])
        }
    }

    /// The format its bytes show.
    pub fn format(&self) -> DocumentFormat {
        self.format
    }

    /// The bytes.
    pub fn content(&self) -> &Bytes {
        &self.content
    }

    /// The size in bytes.
    pub fn size(&self) -> usize {
        self.content.len()
    }
}

/// The last path segment of `sent`, trimmed, without control characters,
/// cut to [`MAX_FILE_NAME`] UTF-16 code units; `document-{n}` (with the
/// format's extension when known) when nothing usable is left.
fn clean_file_name(sent: &str, format: Option<DocumentFormat>, position: usize) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name = String::new();
    for c in last.trim().chars().filter(|c| !c.is_control()) {
        if utf16_len(&name) + c.len_utf16() > MAX_FILE_NAME {
            break;
        }
        name.push(c);
    }
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        let ext = format.map_or("", |f| f.extensions()[0]);
        let dot = if ext.is_empty() { "" } else { "." };
        format!("document-{}{dot}{ext}", position + 1)
    } else {
        name
    }
}

/// An identity document accepted in Japan. The API names them in snake_case
/// (`drivers_license`…); cases show the English label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    /// 運転免許証.
    DriversLicense,
    /// Passport.
    Passport,
    /// 在留カード.
    ResidenceCard,
    /// マイナンバーカード.
    MyNumberCard,
    /// 健康保険証.
    HealthInsuranceCard,
}

impl DocumentType {
    /// Every document type.
    pub const ALL: &'static [DocumentType] = &[
        Self::DriversLicense,
        Self::Passport,
        Self::ResidenceCard,
        Self::MyNumberCard,
        Self::HealthInsuranceCard,
    ];

    /// The API's name, e.g. `drivers_license`.
    pub const fn as_api(self) -> &'static str {
        match self {
            Self::DriversLicense => "drivers_license",
            Self::Passport => "passport",
            Self::ResidenceCard => "residence_card",
            Self::MyNumberCard => "my_number_card",
            Self::HealthInsuranceCard => "health_insurance_card",
        }
    }

    /// The label written in the Case, e.g. `Driver's license`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::DriversLicense => "Driver's license",
            Self::Passport => "Passport",
            Self::ResidenceCard => "Residence card",
            Self::MyNumberCard => "My Number card",
            Self::HealthInsuranceCard => "Health insurance card",
        }
    }
}

impl FromStr for DocumentType {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|d| d.as_api() == s)
            .ok_or_else(|| UnknownValue {
                allowed: Self::ALL
                    .iter()
                    .map(|d| d.as_api())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    #[test]
    fn when_the_bytes_are_jpeg_png_or_pdf_should_tell_the_format_whatever_the_name() {
        let jpeg = IdDocument::parse(
            Some("scan.pdf"),
            Bytes::from_static(&[0xFF, 0xD8, 0xFF, 0xE0]),
            0,
        )
        .unwrap();
        assert_eq!(jpeg.format(), DocumentFormat::Jpeg);
        assert_eq!(jpeg.path_on_client(), "scan.pdf.jpg");
        let png =
            IdDocument::parse(Some("C:\\Users\\me\\card.PNG"), Bytes::from_static(PNG), 0).unwrap();
        assert_eq!(png.file_name(), "card.PNG");
        assert_eq!(png.path_on_client(), "card.PNG");
        let pdf = IdDocument::parse(None, Bytes::from_static(b"%PDF-1.7\n"), 1).unwrap();
        assert_eq!(pdf.file_name(), "document-2.pdf");
    }

    #[test]
    fn when_an_exe_is_named_jpg_should_refuse_it_naming_the_file() {
        let err = IdDocument::parse(
            Some("passport.jpg"),
            Bytes::from_static(b"MZ\x90\x00\x03"),
            0,
        )
        .unwrap_err();
        assert_eq!(
            err,
            DocumentError::UnsupportedFormat {
                file_name: "passport.jpg".into()
            }
        );
        assert!(err.to_string().contains("\"passport.jpg\""), "{err}");
        assert!(IdDocument::parse(Some("empty.png"), Bytes::new(), 0).is_err());
    }

    #[test]
    fn when_a_file_is_over_4_mib_should_refuse_it_and_at_4_mib_take_it() {
        let mut content = vec![0u8; MAX_DOCUMENT_BYTES];
        content[..5].copy_from_slice(b"%PDF-");
        assert!(IdDocument::parse(Some("a.pdf"), Bytes::from(content.clone()), 0).is_ok());
        content.push(0);
        assert!(matches!(
            IdDocument::parse(Some("a.pdf"), Bytes::from(content), 0),
            Err(DocumentError::TooLarge { size, .. }) if size == MAX_DOCUMENT_BYTES + 1
        ));
    }

    #[test]
    fn when_a_name_is_long_should_cut_it_to_255_utf16_units() {
        let long = "😀".repeat(200);
        let doc = IdDocument::parse(Some(&long), Bytes::from_static(PNG), 0).unwrap();
        assert_eq!(utf16_len(doc.file_name()), 254);
        assert_eq!(
            IdDocument::parse(Some(" \u{7}.. "), Bytes::from_static(PNG), 0)
                .unwrap()
                .file_name(),
            "document-1.png"
        );
    }

    #[test]
    fn when_the_document_type_is_known_should_parse_it() {
        for d in DocumentType::ALL {
            assert_eq!(d.as_api().parse::<DocumentType>(), Ok(*d));
            let json = serde_json::to_string(d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.as_api()));
        }
    }

    #[test]
    fn when_the_document_type_is_unknown_should_list_the_allowed_ones() {
        let err = "Passport".parse::<DocumentType>().unwrap_err();
        assert!(err.to_string().contains("drivers_license, passport"));
    }
}
