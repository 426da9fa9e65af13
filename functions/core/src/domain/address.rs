//! A Japanese postal address, as given with an eligibility request.
//!
//! Representation: the prefecture is held and written (to Salesforce and in
//! JSON) as its Japanese name (`東京都`), the form CS staff read; the API
//! accepts that name or the romaji one (`Tokyo`, ASCII, case-insensitive, no
//! suffix such as `-to`). Postal codes are held as `NNN-NNNN`.

use std::fmt;

use serde::Serialize;

use super::field_error::FieldErrors;
use super::text::{TextError, utf16_len};

/// The 47 prefectures in JIS X 0401 order: (Japanese name, romaji).
const PREFECTURES: [(&str, &str); 47] = [
    ("北海道", "Hokkaido"),
    ("青森県", "Aomori"),
    ("岩手県", "Iwate"),
    ("宮城県", "Miyagi"),
    ("秋田県", "Akita"),
    ("山形県", "Yamagata"),
    ("福島県", "Fukushima"),
    ("茨城県", "Ibaraki"),
    ("栃木県", "Tochigi"),
    ("群馬県", "Gunma"),
    ("埼玉県", "Saitama"),
    ("千葉県", "Chiba"),
    ("東京都", "Tokyo"),
    ("神奈川県", "Kanagawa"),
    ("新潟県", "Niigata"),
    ("富山県", "Toyama"),
    ("石川県", "Ishikawa"),
    ("福井県", "Fukui"),
    ("山梨県", "Yamanashi"),
    ("長野県", "Nagano"),
    ("岐阜県", "Gifu"),
    ("静岡県", "Shizuoka"),
    ("愛知県", "Aichi"),
    ("三重県", "Mie"),
    ("滋賀県", "Shiga"),
    ("京都府", "Kyoto"),
    ("大阪府", "Osaka"),
    ("兵庫県", "Hyogo"),
    ("奈良県", "Nara"),
    ("和歌山県", "Wakayama"),
    ("鳥取県", "Tottori"),
    ("島根県", "Shimane"),
    ("岡山県", "Okayama"),
    ("広島県", "Hiroshima"),
    ("山口県", "Yamaguchi"),
    ("徳島県", "Tokushima"),
    ("香川県", "Kagawa"),
    ("愛媛県", "Ehime"),
    ("高知県", "Kochi"),
    ("福岡県", "Fukuoka"),
    ("佐賀県", "Saga"),
    ("長崎県", "Nagasaki"),
    ("熊本県", "Kumamoto"),
    ("大分県", "Oita"),
    ("宮崎県", "Miyazaki"),
    ("鹿児島県", "Kagoshima"),
    ("沖縄県", "Okinawa"),
];

/// Why a postal code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a Japanese postal code like 123-4567 or 1234567")]
pub struct PostalCodeError;

/// A Japanese postal code, held as `NNN-NNNN`; accepts that form or 7 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PostalCode(String);

impl PostalCode {
    /// Trims, checks and normalises `raw`.
    pub fn parse(raw: &str) -> Result<Self, PostalCodeError> {
        let raw = raw.trim();
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let shape_ok = match raw.len() {
            7 => digits.len() == 7,
            8 => digits.len() == 7 && raw.as_bytes()[3] == b'-',
            _ => false,
        };
        if !shape_ok {
            return Err(PostalCodeError);
        }
        Ok(Self(format!("{}-{}", &digits[..3], &digits[3..])))
    }

    /// `NNN-NNNN`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a prefecture is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of the 47 prefectures, in Japanese (東京都) or romaji (Tokyo)")]
pub struct PrefectureError;

/// One of the 47 prefectures; see the module doc for its representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefecture(u8);

impl Prefecture {
    /// Accepts the Japanese name or the ASCII romaji (case-insensitive).
    pub fn parse(raw: &str) -> Result<Self, PrefectureError> {
        let raw = raw.trim();
        PREFECTURES
            .iter()
            .position(|(ja, romaji)| *ja == raw || romaji.eq_ignore_ascii_case(raw))
            .and_then(|i| u8::try_from(i).ok())
            .map(Self)
            .ok_or(PrefectureError)
    }

    /// The JIS X 0401 code, 1 (Hokkaido) to 47 (Okinawa).
    pub fn code(self) -> u8 {
        self.0 + 1
    }

    /// The Japanese name, e.g. `東京都`.
    pub fn japanese(self) -> &'static str {
        PREFECTURES[usize::from(self.0)].0
    }

    /// The romaji name, e.g. `Tokyo`.
    pub fn romaji(self) -> &'static str {
        PREFECTURES[usize::from(self.0)].1
    }
}

impl fmt::Display for Prefecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.japanese())
    }
}

impl Serialize for Prefecture {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.japanese())
    }
}

/// Checks a single-line address part: trimmed, 1..=`max` UTF-16 code units
/// (Salesforce's length), no control characters.
fn address_line(raw: &str, max: usize) -> Result<String, TextError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if utf16_len(text) > max {
        return Err(TextError::TooLong { max });
    }
    if text.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    Ok(text.to_owned())
}

/// The raw `address` object of a request body.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressInput {
    /// `NNN-NNNN` or 7 digits.
    pub postal_code: Option<String>,
    /// Japanese or romaji name.
    pub prefecture: Option<String>,
    /// City, ward, town (1..=100 characters).
    pub city: Option<String>,
    /// Block and number (1..=255 characters).
    pub street: Option<String>,
    /// Building and room, optional (at most 255 characters).
    pub building: Option<String>,
}

/// A checked Japanese address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// `NNN-NNNN`.
    pub postal_code: PostalCode,
    /// The prefecture.
    pub prefecture: Prefecture,
    /// City, ward or town.
    pub city: String,
    /// Block and number.
    pub street: String,
    /// Building and room.
    pub building: Option<String>,
}

impl Address {
    /// Most characters of `city`.
    pub const CITY_MAX: usize = 100;
    /// Most characters of `street` and of `building`.
    pub const LINE_MAX: usize = 255;

    /// Parses every part, recording each bad one as `{prefix}.{part}`.
    pub fn parse(input: AddressInput, prefix: &str, errors: &mut FieldErrors) -> Option<Self> {
        let field = |part: &str| format!("{prefix}.{part}");
        let postal_code = errors.required(
            &field("postalCode"),
            input.postal_code.as_deref(),
            PostalCode::parse,
        );
        let prefecture = errors.required(
            &field("prefecture"),
            input.prefecture.as_deref(),
            Prefecture::parse,
        );
        let city = errors.required(&field("city"), input.city.as_deref(), |s| {
            address_line(s, Self::CITY_MAX)
        });
        let street = errors.required(&field("street"), input.street.as_deref(), |s| {
            address_line(s, Self::LINE_MAX)
        });
        let building = errors.optional(&field("building"), input.building.as_deref(), |s| {
            address_line(s, Self::LINE_MAX)
        });
        match (postal_code, prefecture, city, street, building) {
            (Some(postal_code), Some(prefecture), Some(city), Some(street), Some(building)) => {
                Some(Self {
                    postal_code,
                    prefecture,
                    city,
                    street,
                    building,
                })
            }
            _ => None,
        }
    }
}

impl fmt::Display for Address {
    /// `〒NNN-NNNN 東京都 city street building`, the order a Japanese address is written in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "〒{} {} {} {}",
            self.postal_code, self.prefecture, self.city, self.street
        )?;
        if let Some(building) = &self.building {
            write!(f, " {building}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn when_the_postal_code_has_7_digits_should_normalise_it() {
        assert_eq!(PostalCode::parse("1500001").unwrap().as_str(), "150-0001");
        assert_eq!(
            PostalCode::parse(" 150-0001 ").unwrap().as_str(),
            "150-0001"
        );
    }

    #[test]
    fn when_the_postal_code_is_malformed_should_refuse() {
        for bad in [
            "",
            "150-001",
            "15000011",
            "1500-001",
            "150 0001",
            "150-000a",
            "１５０-０００１",
        ] {
            assert_eq!(PostalCode::parse(bad), Err(PostalCodeError), "{bad}");
        }
    }

    #[test]
    fn when_the_prefecture_is_japanese_or_romaji_should_accept_it() {
        let tokyo = Prefecture::parse("東京都").unwrap();
        assert_eq!(tokyo, Prefecture::parse("tokyo").unwrap());
        assert_eq!(tokyo.code(), 13);
        assert_eq!(tokyo.japanese(), "東京都");
        assert_eq!(tokyo.romaji(), "Tokyo");
        assert_eq!(Prefecture::parse("OKINAWA").unwrap().code(), 47);
        assert_eq!(Prefecture::parse("北海道").unwrap().code(), 1);
        assert_eq!(serde_json::to_string(&tokyo).unwrap(), "\"東京都\"");
    }

    #[test]
    fn when_the_prefecture_is_unknown_should_refuse() {
        for bad in ["", "東京", "Tokyo-to", "Tōkyō", "California"] {
            assert_eq!(Prefecture::parse(bad), Err(PrefectureError), "{bad}");
        }
    }

    #[test]
    fn when_several_parts_are_bad_should_name_each_one() {
        let mut errors = FieldErrors::new();
        let input = AddressInput {
            postal_code: Some("12".into()),
            prefecture: None,
            city: Some("a".repeat(101)),
            street: Some("1-2-3".into()),
            building: Some("bad\u{1}".into()),
        };
        assert!(Address::parse(input, "address", &mut errors).is_none());
        let fields: Vec<_> = errors.into_vec().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                "address.postalCode",
                "address.prefecture",
                "address.city",
                "address.building"
            ]
        );
    }

    #[test]
    fn when_every_part_is_good_should_build_the_address() {
        let mut errors = FieldErrors::new();
        let input = AddressInput {
            postal_code: Some("1500001".into()),
            prefecture: Some("Tokyo".into()),
            city: Some("渋谷区".into()),
            street: Some("神宮前1-2-3".into()),
            building: Some("  ".into()),
        };
        let address = Address::parse(input, "address", &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!(address.building, None);
        assert_eq!(address.to_string(), "〒150-0001 東京都 渋谷区 神宮前1-2-3");
    }

    proptest! {
        #[test]
        fn when_a_postal_code_is_accepted_it_should_be_normalised(s in "[0-9-]{0,9}") {
            if let Ok(code) = PostalCode::parse(&s) {
                let c = code.as_str();
                prop_assert_eq!(c.len(), 8);
                prop_assert_eq!(&c[3..4], "-");
                prop_assert!(c[..3].chars().chain(c[4..].chars()).all(|ch| ch.is_ascii_digit()));
            }
        }
    }
}
