//! The client's PHP serialiser against the emulator's independent unserialiser.

use std::collections::BTreeMap;

use base64::Engine as _;
use proptest::prelude::*;
use whmcs_emulator::php::{PhpValue, unserialize_array};

fn round_trip(values: &BTreeMap<u32, String>) -> BTreeMap<i64, PhpValue> {
    let encoded = whmcs::php::encode_id_map(values);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    unserialize_array(&bytes).expect("the emulator reads what the client writes")
}

#[test]
fn non_ascii_values_round_trip() {
    let values = BTreeMap::from([
        (7, "801J0000000AbCdIAK".to_owned()),
        (8, "Zoë \"quoted\"; } 日本".to_owned()),
        (9, String::new()),
    ]);
    let expected: BTreeMap<i64, PhpValue> = values
        .iter()
        .map(|(k, v)| (i64::from(*k), PhpValue::Str(v.clone())))
        .collect();
    assert_eq!(round_trip(&values), expected);
}

proptest! {
    #[test]
    fn any_map_round_trips(values in proptest::collection::btree_map(any::<u32>(), any::<String>(), 0..8)) {
        let expected: BTreeMap<i64, PhpValue> = values
            .iter()
            .map(|(k, v)| (i64::from(*k), PhpValue::Str(v.clone())))
            .collect();
        prop_assert_eq!(round_trip(&values), expected);
    }
}
