//! What the audit log records about a change.

use crate::depot::DepotCode;
use serde::Serialize;
use serde_json::{Map, Value};

/// The part of an audit event the operation knows: which resource, in whose
/// subtree, and what changed. Who, when, which call and request id are added
/// by the store from the request.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    /// Resource name, e.g. `depots/HB-SY`.
    pub resource: String,
    /// Depot whose subtree the event belongs to.
    pub depot: DepotCode,
    /// What changed, as a JSON object.
    pub changes: Value,
}

/// The fields that differ between two versions of a resource, as
/// `{field: [before, after]}`; bookkeeping fields are left out.
pub fn diff<T: Serialize>(before: &T, after: &T) -> Value {
    let (b, a) = match (serde_json::to_value(before), serde_json::to_value(after)) {
        (Ok(Value::Object(b)), Ok(Value::Object(a))) => (b, a),
        _ => return Value::Null,
    };
    let mut out = Map::new();
    for (k, av) in &a {
        if matches!(k.as_str(), "version" | "updated_at" | "created_at") {
            continue;
        }
        let bv = b.get(k).cloned().unwrap_or(Value::Null);
        if &bv != av {
            out.insert(k.clone(), Value::Array(vec![bv, av.clone()]));
        }
    }
    Value::Object(out)
}

/// A created resource as an audit change: every field it was created with.
pub fn created<T: Serialize>(value: &T) -> Value {
    let mut m = Map::new();
    m.insert(
        "created".into(),
        serde_json::to_value(value).unwrap_or(Value::Null),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Thing {
        name: &'static str,
        size: i32,
        version: i64,
    }

    #[test]
    fn diff_lists_only_changed_fields_with_before_and_after() {
        let d = diff(
            &Thing {
                name: "帐篷",
                size: 1,
                version: 1,
            },
            &Thing {
                name: "帐篷",
                size: 2,
                version: 2,
            },
        );
        assert_eq!(d, serde_json::json!({"size": [1, 2]}));
    }
}
