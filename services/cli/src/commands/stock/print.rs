//! Tables shared by the stock commands: balances, ledger entries, lots and
//! assets, and the two-column table of one record.

use crate::commands::choices::{name, tier_label};
use crate::output::{print_table, table, time};
use crate::when::show_date;
use reserve_api::pb::reserve::v1 as pb;

/// Prints one record as a field / value table.
pub fn fields(rows: Vec<(&str, String)>) {
    let mut t = table(&["field", "value"]);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    print_table(&t);
}

/// Text, or `-` when empty.
pub fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

/// Balances by lot: what is on hand, reserved, held (and of that, held by
/// documents, which only their decision releases) and available.
pub fn lines(lines: &[pb::StockLine]) {
    let mut t = table(&[
        "depot",
        "item",
        "lot",
        "expiry",
        "on hand",
        "reserved",
        "held",
        "held by documents",
        "available",
        "owner",
        "note",
    ]);
    for l in lines {
        let lot = l.lot.clone().unwrap_or_default();
        let note = if l.expired {
            "expired".to_string()
        } else if l.near_expiry {
            format!("expires in {} d", l.days_to_expiry.unwrap_or_default())
        } else {
            String::new()
        };
        t.add_row(vec![
            l.depot_code.clone(),
            l.item_id.clone(),
            lot.lot_number,
            show_date(lot.expiry_date.as_ref()),
            l.on_hand.to_string(),
            l.reserved.to_string(),
            l.held.to_string(),
            l.held_by_documents.to_string(),
            l.available.to_string(),
            tier_label(l.owning_tier),
            note,
        ]);
    }
    print_table(&t);
}

/// The lot number, with the serial numbers moved when there are any.
fn lot_and_serials(e: &pb::LedgerEntry) -> String {
    if e.serial_numbers.is_empty() {
        e.lot_number.clone()
    } else {
        format!("{} [{}]", e.lot_number, e.serial_numbers.join(" "))
    }
}

/// Who made an entry, and who countersigned it.
fn by(e: &pb::LedgerEntry) -> String {
    if e.countersigned_by.is_empty() {
        e.actor.clone()
    } else {
        format!("{} / {}", e.actor, e.countersigned_by)
    }
}

/// The change of held, marking the part that belongs to a document.
fn held(e: &pb::LedgerEntry) -> String {
    if e.held_by_documents_delta == 0 {
        format!("{:+}", e.held_delta)
    } else {
        format!(
            "{:+} (document {:+})",
            e.held_delta, e.held_by_documents_delta
        )
    }
}

/// What an entry belongs to: its document, or the entry it reverses.
pub fn refers_to(e: &pb::LedgerEntry) -> String {
    match (e.owner.is_empty(), e.reverses_entry_id.is_empty()) {
        (true, true) => String::new(),
        (false, true) => e.owner.clone(),
        (true, false) => format!("reverses {}", e.reverses_entry_id),
        (false, false) => format!("{}, reverses {}", e.owner, e.reverses_entry_id),
    }
}

/// Ledger entries, one row each: who did what, why, and what it belongs to.
pub fn entries(entries: &[pb::LedgerEntry]) {
    let mut t = table(&[
        "time (Beijing)",
        "type",
        "depot",
        "item",
        "lot",
        "qty",
        "held",
        "by",
        "why",
        "belongs to",
        "entry",
    ]);
    for e in entries {
        let why: Vec<&str> = [&e.reason, &e.document, &e.counterparty]
            .into_iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        t.add_row(vec![
            time(e.occurred_time.as_ref()),
            name::<pb::EntryType>(e.entry_type),
            e.depot_code.clone(),
            e.item_id.clone(),
            lot_and_serials(e),
            format!("{:+}", e.quantity),
            held(e),
            by(e),
            why.join(" · "),
            refers_to(e),
            e.id.clone(),
        ]);
    }
    print_table(&t);
}

/// One ledger entry in full.
pub fn entry(e: &pb::LedgerEntry) {
    fields(vec![
        ("entry", e.id.clone()),
        ("sequence", e.sequence.to_string()),
        ("type", name::<pb::EntryType>(e.entry_type)),
        ("depot", e.depot_code.clone()),
        ("item", e.item_id.clone()),
        ("lot", lot_and_serials(e)),
        ("quantity", format!("{:+}", e.quantity)),
        ("held", held(e)),
        ("reserved", format!("{:+}", e.reserved_delta)),
        ("reason", or_dash(&e.reason)),
        ("document number", or_dash(&e.document)),
        ("from / to", or_dash(&e.counterparty)),
        ("belongs to", or_dash(&e.owner)),
        ("reverses", or_dash(&e.reverses_entry_id)),
        ("by", e.actor.clone()),
        ("countersigned by", or_dash(&e.countersigned_by)),
        ("happened (Beijing)", time(e.occurred_time.as_ref())),
        ("recorded (Beijing)", time(e.record_time.as_ref())),
        ("request id", e.request_id.clone()),
    ]);
}

/// Lots, one row each.
pub fn lots(lots: &[pb::Lot]) {
    let mut t = table(&[
        "item",
        "lot",
        "production",
        "expiry",
        "manufacturer",
        "funding",
        "first received (Beijing)",
    ]);
    for l in lots {
        t.add_row(vec![
            l.item_id.clone(),
            l.lot_number.clone(),
            show_date(l.production_date.as_ref()),
            show_date(l.expiry_date.as_ref()),
            l.manufacturer.clone(),
            name::<pb::FundingSource>(l.funding_source),
            time(l.create_time.as_ref()),
        ]);
    }
    print_table(&t);
}

/// One lot in full.
pub fn lot(l: &pb::Lot) {
    fields(vec![
        ("item", l.item_id.clone()),
        ("lot", l.lot_number.clone()),
        ("production", show_date(l.production_date.as_ref())),
        ("expiry", show_date(l.expiry_date.as_ref())),
        ("manufacturer", or_dash(&l.manufacturer)),
        ("funding", name::<pb::FundingSource>(l.funding_source)),
        ("first received (Beijing)", time(l.create_time.as_ref())),
    ]);
}

/// Serialised assets, one row each, with the document holding them.
pub fn assets(assets: &[pb::Asset]) {
    let mut t = table(&[
        "item",
        "serial",
        "lot",
        "depot",
        "status",
        "held by",
        "since (Beijing)",
    ]);
    for a in assets {
        t.add_row(vec![
            a.item_id.clone(),
            a.serial_number.clone(),
            a.lot_number.clone(),
            a.depot_code.clone(),
            name::<pb::AssetStatus>(a.status),
            a.holder.clone(),
            time(a.update_time.as_ref()),
        ]);
    }
    print_table(&t);
}

/// One asset in full.
pub fn asset(a: &pb::Asset) {
    fields(vec![
        ("item", a.item_id.clone()),
        ("serial", a.serial_number.clone()),
        ("lot", a.lot_number.clone()),
        ("depot", a.depot_code.clone()),
        ("status", name::<pb::AssetStatus>(a.status)),
        ("held by", or_dash(&a.holder)),
        ("since (Beijing)", time(a.update_time.as_ref())),
    ]);
}
