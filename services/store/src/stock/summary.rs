//! What the audit log says about a stock change: the resource, the entries
//! posted and the details of the request. Never personal data.

use reserve_core::audit::AuditRecord;
use reserve_core::depot::DepotCode;
use reserve_core::item::ItemId;
use reserve_core::stock::{DocRef, LedgerEntry};
use serde_json::json;

/// A summary of entries for the audit log.
pub(crate) fn entries_json(entries: &[LedgerEntry]) -> serde_json::Value {
    serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                json!({
                    "entry": e.id,
                    "type": e.kind.name(),
                    "lot": e.lot_number.as_str(),
                    "quantity": e.delta.on_hand,
                    "held": e.delta.held,
                    "held_by_documents": e.delta.doc_held,
                    "reserved": e.delta.reserved,
                    "serials": e.serials.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// The audit event of a movement of `item` at `depot`.
pub(crate) fn movement(
    depot: &DepotCode,
    item: &ItemId,
    what: &str,
    detail: serde_json::Value,
    entries: &[LedgerEntry],
) -> AuditRecord {
    AuditRecord {
        resource: format!("depots/{depot}/stock/{item}"),
        depot: depot.clone(),
        changes: json!({ what: entries_json(entries), "detail": detail }),
    }
}

/// The audit event of a change to a document, with the entries it posted.
pub(crate) fn document(
    doc: &DocRef,
    depot: &DepotCode,
    changes: serde_json::Value,
    entries: &[LedgerEntry],
) -> AuditRecord {
    let mut changes = changes;
    if !entries.is_empty()
        && let Some(m) = changes.as_object_mut()
    {
        m.insert("posted".into(), entries_json(entries));
    }
    AuditRecord {
        resource: doc.name(),
        depot: depot.clone(),
        changes,
    }
}
