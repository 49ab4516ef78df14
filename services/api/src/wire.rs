//! Conversions shared by every service: times, enumerations, places and
//! JSON documents.

use crate::error::invalid;
use crate::pb::google::r#type::LatLng;
use crate::pb::reserve::v1 as pb;
use prost_types::Timestamp;
use reserve_core::authz::Role;
use reserve_core::depot::GeoPoint;
use reserve_core::request::PageSize;
use reserve_core::tier::Tier;
use reserve_core::time::UtcMillis;
use tonic::Status;

/// A stored time as a protobuf timestamp.
pub fn timestamp(ms: UtcMillis) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    })
}

/// A protobuf timestamp as milliseconds; `None` when unset.
pub fn millis(ts: Option<&Timestamp>, field: &str) -> Result<Option<UtcMillis>, Status> {
    match ts {
        None => Ok(None),
        Some(t) if !(0..1_000_000_000).contains(&t.nanos) => {
            Err(invalid(field, "nanos must be 0 to 999,999,999"))
        }
        // google.protobuf.Timestamp's own range: 0001-01-01 to 9999-12-31.
        Some(t) if !(-62_135_596_800..=253_402_300_799).contains(&t.seconds) => Err(invalid(
            field,
            "is outside 0001-01-01 to 9999-12-31, the range of a protobuf Timestamp",
        )),
        Some(t) => t
            .seconds
            .checked_mul(1000)
            .and_then(|s| s.checked_add(i64::from(t.nanos / 1_000_000)))
            .map(Some)
            .ok_or_else(|| invalid(field, "is out of range")),
    }
}

/// A place on the wire.
pub fn place_pb(p: &GeoPoint, address: &str) -> pb::Place {
    pb::Place {
        lat_lng: Some(LatLng {
            latitude: p.latitude,
            longitude: p.longitude,
        }),
        address: address.to_string(),
    }
}

/// A JSON text (an audit event's changes) as a `google.protobuf.Struct`;
/// anything but an object is wrapped as `{"value": ...}`.
pub fn json_struct(raw: &str) -> prost_types::Struct {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(m)) => prost_types::Struct {
            fields: m.into_iter().map(|(k, v)| (k, json_value(v))).collect(),
        },
        Ok(other) => prost_types::Struct {
            fields: [("value".to_string(), json_value(other))]
                .into_iter()
                .collect(),
        },
        Err(_) => prost_types::Struct::default(),
    }
}

fn json_value(v: serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match v {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.into_iter().map(json_value).collect(),
        }),
        serde_json::Value::Object(m) => Kind::StructValue(prost_types::Struct {
            fields: m.into_iter().map(|(k, v)| (k, json_value(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A tier on the wire.
pub fn tier(t: Tier) -> i32 {
    match t {
        Tier::Province => pb::Tier::Province as i32,
        Tier::City => pb::Tier::City as i32,
        Tier::County => pb::Tier::County as i32,
        Tier::Township => pb::Tier::Township as i32,
    }
}

/// An optional tier filter from the wire (0 = any).
pub fn tier_filter(raw: i32, field: &str) -> Result<Option<Tier>, Status> {
    match raw {
        0 => Ok(None),
        n => Tier::from_number(i64::from(n))
            .map(Some)
            .ok_or_else(|| invalid(field, format!("{n} is not a tier"))),
    }
}

/// A role on the wire.
pub fn role(r: Role) -> i32 {
    r.number()
}

/// A page size from the wire.
pub fn page_size(raw: i32) -> Result<PageSize, Status> {
    PageSize::parse(raw).map_err(|e| invalid("page_size", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_changes_become_a_struct_with_nested_values() {
        let s = json_struct(r#"{"status": ["pending", "approved"], "n": 3, "x": null}"#);
        let status = s.fields["status"].kind.clone();
        assert!(
            matches!(status, Some(prost_types::value::Kind::ListValue(l)) if l.values.len() == 2)
        );
        assert_eq!(
            s.fields["n"].kind,
            Some(prost_types::value::Kind::NumberValue(3.0))
        );
        assert!(json_struct("not json").fields.is_empty());
    }

    #[test]
    fn timestamps_round_trip_including_before_1970() {
        for ms in [0, 1, 999, 1_764_000_000_123, -1, -1001] {
            assert_eq!(millis(timestamp(ms).as_ref(), "t").unwrap(), Some(ms));
        }
    }
}
