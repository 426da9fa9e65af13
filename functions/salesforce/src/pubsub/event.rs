//! The Avro decoding of `OrderProvisionRequested__e` into the core's typed event.
//!
//! A payload is plain Avro binary (no container header) written with the
//! schema its event names; it is decoded with that writer schema and read by
//! field name, so an evolved schema with extra fields still decodes.

use apache_avro::Schema;
use apache_avro::types::Value;
use chrono::DateTime;
use portal_core::domain::{OrderId, TypedIdError};
use portal_core::ports::OrderProvisionRequested;

use crate::schema::order_provision_requested as ev;

/// Why an event's payload could not be turned into an [`OrderProvisionRequested`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// `GetSchema` does not know the event's schema id.
    #[error("schema {schema_id} is unknown to the Pub/Sub API")]
    UnknownSchema {
        /// The event's schema id.
        schema_id: String,
    },
    /// The schema `GetSchema` returned is not a valid Avro schema.
    #[error("schema {schema_id} is not a valid Avro schema")]
    InvalidSchema {
        /// The schema id.
        schema_id: String,
        /// The parser's error.
        #[source]
        source: Box<apache_avro::Error>,
    },
    /// The payload is not Avro of the writer schema.
    #[error("the payload is not Avro of its schema")]
    Avro(#[source] Box<apache_avro::Error>),
    /// The payload has bytes after the record.
    #[error("the payload has {0} bytes after the record")]
    TrailingBytes(usize),
    /// The schema is not a record.
    #[error("the payload is not a record")]
    NotARecord,
    /// A field the event cannot do without is absent or null.
    #[error("the field {0} is missing or null")]
    MissingField(&'static str),
    /// A field has a type other than the expected one.
    #[error("the field {field} is not a {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// The expected Avro type.
        expected: &'static str,
    },
    /// `OrderId__c` is not an Order id.
    #[error("OrderId__c is not an Order id")]
    InvalidOrderId(#[source] TypedIdError),
    /// `CreatedDate` is out of range.
    #[error("CreatedDate {0} is not a valid epoch-milliseconds instant")]
    CreatedDate(i64),
}

/// Decodes one Avro-binary `OrderProvisionRequested__e` payload with its writer schema.
pub fn decode(
    writer_schema: &Schema,
    payload: &[u8],
) -> Result<OrderProvisionRequested, DecodeError> {
    let mut reader = payload;
    let value = apache_avro::from_avro_datum(writer_schema, &mut reader, None)
        .map_err(|e| DecodeError::Avro(Box::new(e)))?;
    if !reader.is_empty() {
        return Err(DecodeError::TrailingBytes(reader.len()));
    }
    let Value::Record(fields) = value else {
        return Err(DecodeError::NotARecord);
    };
    let field = |name: &'static str| -> Option<&Value> {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| unwrap_union(v))
    };
    let string = |name: &'static str| -> Result<Option<String>, DecodeError> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(DecodeError::WrongType {
                field: name,
                expected: "string",
            }),
        }
    };
    let created_millis = match field(CREATED_DATE) {
        Some(Value::Long(ms) | Value::TimestampMillis(ms)) => *ms,
        None | Some(Value::Null) => return Err(DecodeError::MissingField(CREATED_DATE)),
        Some(_) => {
            return Err(DecodeError::WrongType {
                field: CREATED_DATE,
                expected: "long",
            });
        }
    };
    let created_date = DateTime::from_timestamp_millis(created_millis)
        .ok_or(DecodeError::CreatedDate(created_millis))?;
    let version = match field(ev::VERSION) {
        None | Some(Value::Null) => None,
        Some(Value::Double(v)) => Some(*v),
        Some(Value::Float(v)) => Some(f64::from(*v)),
        Some(_) => {
            return Err(DecodeError::WrongType {
                field: ev::VERSION,
                expected: "double",
            });
        }
    };
    Ok(OrderProvisionRequested {
        created_date,
        created_by_id: string(CREATED_BY_ID)?.ok_or(DecodeError::MissingField(CREATED_BY_ID))?,
        order_id: OrderId::parse(
            &string(ev::ORDER_ID)?.ok_or(DecodeError::MissingField(ev::ORDER_ID))?,
        )
        .map_err(DecodeError::InvalidOrderId)?,
        idem_key: string(ev::IDEM_KEY)?,
        correlation_id: string(ev::CORRELATION_ID)?,
        requested_by: string(ev::REQUESTED_BY)?,
        version,
    })
}

const CREATED_DATE: &str = "CreatedDate";
const CREATED_BY_ID: &str = "CreatedById";

fn unwrap_union(value: &Value) -> &Value {
    match value {
        Value::Union(_, inner) => inner,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use apache_avro::types::Record;

    use super::*;

    fn schema() -> Schema {
        Schema::parse_str(ev::DEF.avro_schema).unwrap()
    }

    fn encode(order_id: Option<&str>) -> Vec<u8> {
        let schema = schema();
        let mut record = Record::new(&schema).unwrap();
        record.put("CreatedDate", Value::Long(1_767_225_600_123));
        record.put("CreatedById", "005000000000001AAA");
        let opt = |s: Option<&str>| match s {
            Some(s) => Value::Union(1, Box::new(Value::String(s.to_owned()))),
            None => Value::Union(0, Box::new(Value::Null)),
        };
        record.put(ev::ORDER_ID, opt(order_id));
        record.put(ev::IDEM_KEY, opt(Some("k-1")));
        record.put(ev::CORRELATION_ID, opt(None));
        record.put(ev::REQUESTED_BY, opt(Some("005000000000001AAA")));
        record.put(ev::VERSION, Value::Union(1, Box::new(Value::Double(1.0))));
        apache_avro::to_avro_datum(&schema, record).unwrap()
    }

    fn order_id() -> OrderId {
        OrderId::parse("801000000000001").unwrap()
    }

    #[test]
    fn a_complete_payload_decodes_into_the_typed_event() {
        let event = decode(&schema(), &encode(Some(order_id().as_str()))).unwrap();
        assert_eq!(event.order_id, order_id());
        assert_eq!(event.created_date.timestamp_millis(), 1_767_225_600_123);
        assert_eq!(event.idem_key.as_deref(), Some("k-1"));
        assert_eq!(event.correlation_id, None);
        assert_eq!(event.version, Some(1.0));
    }

    #[test]
    fn a_payload_without_an_order_id_is_a_decode_error() {
        let err = decode(&schema(), &encode(None)).unwrap_err();
        assert!(
            matches!(err, DecodeError::MissingField("OrderId__c")),
            "{err}"
        );
        let err = decode(&schema(), &encode(Some("001000000000001AAA"))).unwrap_err();
        assert!(matches!(err, DecodeError::InvalidOrderId(_)), "{err}");
    }

    #[test]
    fn garbage_and_trailing_bytes_are_decode_errors() {
        assert!(matches!(
            decode(&schema(), b"\x02"),
            Err(DecodeError::Avro(_))
        ));
        let mut long = encode(Some(order_id().as_str()));
        long.push(0);
        assert!(matches!(
            decode(&schema(), &long),
            Err(DecodeError::TrailingBytes(1))
        ));
    }
}
