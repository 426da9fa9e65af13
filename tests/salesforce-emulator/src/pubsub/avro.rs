//! Avro binary encoding (no container header) of published events, with the
//! event's schema, as Salesforce writes Pub/Sub payloads.

use std::sync::OnceLock;

use apache_avro::Schema;
use apache_avro::types::{Record, Value};
use salesforce::schema::order_provision_requested as ev;

use crate::events::{PublishedEvent, schema_json};

/// A payload that is not Avro of the schema: `CreatedDate` = 1, then a string
/// length whose varint never ends. Published by [`crate::Emulator::publish_undecodable`].
pub const UNDECODABLE_PAYLOAD: &[u8] = b"\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";

/// Why an event could not be encoded (a bug in the emulator, not in a client).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode the event as Avro: {0}")]
pub struct EncodeError(String);

fn schema() -> Result<&'static Schema, EncodeError> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::parse_str(schema_json()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| EncodeError(e.clone()))
}

fn optional(value: Value) -> Value {
    Value::Union(1, Box::new(value))
}

/// The Avro payload of `event`: `CreatedDate` as epoch milliseconds, `CreatedById`,
/// and the custom fields as the non-null branch of their `["null", T]` unions.
pub fn encode(event: &PublishedEvent) -> Result<Vec<u8>, EncodeError> {
    let schema = schema()?;
    let mut record =
        Record::new(schema).ok_or_else(|| EncodeError("the schema is not a record".into()))?;
    record.put(
        "CreatedDate",
        Value::Long(event.created_date.timestamp_millis()),
    );
    record.put("CreatedById", Value::String(event.created_by_id.clone()));
    record.put(
        ev::ORDER_ID,
        optional(Value::String(event.order_id.clone())),
    );
    record.put(
        ev::IDEM_KEY,
        optional(Value::String(event.idem_key.clone())),
    );
    record.put(
        ev::CORRELATION_ID,
        optional(Value::String(event.correlation_id.clone())),
    );
    record.put(
        ev::REQUESTED_BY,
        optional(Value::String(event.requested_by.clone())),
    );
    record.put(ev::VERSION, optional(Value::Double(event.version)));
    apache_avro::to_avro_datum(schema, record).map_err(|e| EncodeError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::events::{EventBus, EventPayload};

    #[test]
    fn events_round_trip_and_the_undecodable_payload_does_not_decode() {
        let bus = EventBus::new(std::time::Duration::from_secs(60));
        let event = bus.publish(EventPayload::for_order(
            "801Em0000000001AAA",
            "005Em0000000001AAA",
            Utc::now(),
        ));
        let bytes = encode(&event).unwrap();
        let schema = schema().unwrap();
        let value = apache_avro::from_avro_datum(schema, &mut bytes.as_slice(), None).unwrap();
        let Value::Record(fields) = value else {
            panic!("a record");
        };
        assert_eq!(
            fields[2],
            (
                ev::ORDER_ID.to_owned(),
                optional(Value::String(event.order_id.clone()))
            )
        );
        assert!(apache_avro::from_avro_datum(schema, &mut &UNDECODABLE_PAYLOAD[..], None).is_err());
    }
}
