//! Stock types on the wire.

use crate::pb::google::r#type::Date;
use crate::pb::reserve::v1 as pb;
use crate::wire::{tier, timestamp};
use reserve_core::stock::approval::{Adjustment, ApprovalStatus, Disposal, ScrapApplication};
use reserve_core::stock::count::{CountStatus, StockCount};
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::{Day, EntryType, FundingSource, LedgerEntry, Lot};
use reserve_store::stock::{AssetView, LineView};

/// A day as a `google.type.Date`.
pub fn date(d: Option<Day>) -> Option<Date> {
    d.map(|d| {
        use chrono::Datelike;
        let n = d.date();
        Date {
            year: n.year(),
            month: n.month() as i32,
            day: n.day() as i32,
        }
    })
}

/// A `google.type.Date` as (year, month, day) for core to check; an all-zero
/// date counts as not given.
pub fn ymd(d: Option<&Date>) -> Option<(i32, i32, i32)> {
    d.filter(|d| (d.year, d.month, d.day) != (0, 0, 0))
        .map(|d| (d.year, d.month, d.day))
}

fn funding(f: FundingSource) -> i32 {
    match f {
        FundingSource::Budget => pb::FundingSource::Budget as i32,
        FundingSource::Donation => pb::FundingSource::Donation as i32,
        FundingSource::Requisition => pb::FundingSource::Requisition as i32,
    }
}

/// A lot on the wire.
pub fn lot_pb(l: &Lot) -> pb::Lot {
    pb::Lot {
        id: l.id.0.clone(),
        item_id: l.item.to_string(),
        lot_number: l.number.as_str().to_string(),
        production_date: date(l.production),
        expiry_date: date(l.expiry),
        manufacturer: l.manufacturer.clone(),
        funding_source: funding(l.funding),
        owning_tier: tier(l.owning_tier),
        create_time: timestamp(l.created_at),
    }
}

/// A stock line on the wire, judged on `today`.
pub fn line_pb(l: &LineView, today: Day) -> pb::StockLine {
    let expired = l.lot.is_expired(today);
    pb::StockLine {
        depot_code: l.depot.to_string(),
        item_id: l.lot.item.to_string(),
        lot: Some(lot_pb(&l.lot)),
        on_hand: l.balance.on_hand,
        reserved: l.balance.reserved,
        held: l.balance.held,
        available: l.balance.available(expired),
        expired,
        near_expiry: l.lot.is_near_expiry(today, l.near_expiry_days),
        days_to_expiry: l
            .lot
            .days_to_expiry(today)
            .map(|d| d.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
        update_time: timestamp(l.updated_at),
    }
}

/// An entry type on the wire.
pub fn entry_type(k: EntryType) -> i32 {
    k.number() as i32
}

/// A ledger entry on the wire.
pub fn entry_pb(e: &LedgerEntry) -> pb::LedgerEntry {
    pb::LedgerEntry {
        id: e.id.clone(),
        sequence: e.seq,
        entry_type: entry_type(e.kind),
        depot_code: e.depot.to_string(),
        item_id: e.item.to_string(),
        lot_id: e.lot.0.clone(),
        lot_number: e.lot_number.as_str().to_string(),
        quantity: e.delta.on_hand,
        held_delta: e.delta.held,
        reserved_delta: e.delta.reserved,
        reason: e.reason.clone(),
        document: e.document.clone(),
        counterparty: e.counterparty.clone(),
        occurred_time: timestamp(e.occurred_at),
        record_time: timestamp(e.recorded_at),
        actor: e.actor.clone(),
        countersigned_by: e.countersigned_by.clone().unwrap_or_default(),
        reverses_entry_id: e.reverses.clone().unwrap_or_default(),
        serial_numbers: e.serials.iter().map(|s| s.to_string()).collect(),
        request_id: e.request_id.clone(),
    }
}

/// An approval status on the wire.
pub fn approval(s: ApprovalStatus) -> i32 {
    s.number() as i32
}

/// An adjustment on the wire.
pub fn adjustment_pb(a: &Adjustment) -> pb::Adjustment {
    pb::Adjustment {
        id: a.id.clone(),
        depot_code: a.depot.to_string(),
        item_id: a.item.to_string(),
        lot_id: a.lot.0.clone(),
        lot_number: a.lot_number.as_str().to_string(),
        quantity: a.quantity,
        serial_numbers: a.serials.iter().map(|s| s.to_string()).collect(),
        reason: a.reason.clone(),
        status: approval(a.status),
        requested_by: a.requested_by.clone(),
        request_time: timestamp(a.requested_at),
        decided_by: a.decided_by.clone().unwrap_or_default(),
        decide_time: a.decided_at.and_then(timestamp),
        decision_note: a.decision_note.clone(),
        entry_id: a.entry_id.clone().unwrap_or_default(),
    }
}

fn disposal(d: Disposal) -> i32 {
    d.number() as i32
}

/// A scrap application on the wire.
pub fn scrap_pb(a: &ScrapApplication) -> pb::ScrapApplication {
    pb::ScrapApplication {
        id: a.id.clone(),
        depot_code: a.depot.to_string(),
        item_id: a.item.to_string(),
        lot_id: a.lot.0.clone(),
        lot_number: a.lot_number.as_str().to_string(),
        quantity: a.quantity,
        serial_numbers: a.serials.iter().map(|s| s.to_string()).collect(),
        reason: a.reason.clone(),
        disposal: disposal(a.disposal),
        status: approval(a.status),
        applied_by: a.applied_by.clone(),
        apply_time: timestamp(a.applied_at),
        decided_by: a.decided_by.clone().unwrap_or_default(),
        decide_time: a.decided_at.and_then(timestamp),
        decision_note: a.decision_note.clone(),
        hold_entry_id: a.hold_entry_id.clone(),
        final_entry_id: a.final_entry_id.clone().unwrap_or_default(),
    }
}

fn count_status(s: CountStatus) -> i32 {
    s.number() as i32
}

/// A count on the wire; `value_of` gives an item's reference value in fen.
pub fn count_pb(c: &StockCount, value_of: impl Fn(&str) -> i64) -> pb::StockCount {
    let mut total = 0;
    let mut total_value = 0;
    let lines = c
        .lines
        .iter()
        .map(|l| {
            let variance = l.posted_variance.or_else(|| l.variance()).unwrap_or(0);
            let value = variance.saturating_mul(value_of(l.item.as_str()));
            total += variance;
            total_value += value;
            pb::CountLine {
                item_id: l.item.to_string(),
                lot_id: l.lot.0.clone(),
                lot_number: l.lot_number.as_str().to_string(),
                expected: l.expected,
                counted: l.counted,
                serial_numbers: l.counted_serials.iter().map(|s| s.to_string()).collect(),
                variance,
                on_hand_at_approval: l.on_hand_at_post,
                variance_value_fen: value,
                entry_id: l.entry_id.clone().unwrap_or_default(),
            }
        })
        .collect();
    pb::StockCount {
        id: c.id.clone(),
        depot_code: c.depot.to_string(),
        status: count_status(c.status),
        item_ids: c.items.iter().map(|i| i.to_string()).collect(),
        note: c.note.clone(),
        opened_by: c.opened_by.clone(),
        open_time: timestamp(c.opened_at),
        submitted_by: c.submitted_by.clone().unwrap_or_default(),
        submit_time: c.submitted_at.and_then(timestamp),
        decided_by: c.decided_by.clone().unwrap_or_default(),
        decide_time: c.decided_at.and_then(timestamp),
        lines,
        total_variance: total,
        total_variance_value_fen: total_value,
    }
}

/// An asset on the wire.
pub fn asset_pb(a: &AssetView) -> pb::Asset {
    pb::Asset {
        item_id: a.item.to_string(),
        serial_number: a.serial.to_string(),
        lot_id: a.lot.0.clone(),
        lot_number: a.lot_number.as_str().to_string(),
        depot_code: a.depot.to_string(),
        status: asset_status(a.status),
        update_time: timestamp(a.updated_at),
    }
}

fn asset_status(s: AssetStatus) -> i32 {
    s.number() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_zero_means_unset() {
        let d = Day::from_ymd(2027, 2, 28).unwrap();
        let pb = date(Some(d)).unwrap();
        assert_eq!((pb.year, pb.month, pb.day), (2027, 2, 28));
        assert_eq!(ymd(Some(&pb)), Some((2027, 2, 28)));
        assert_eq!(ymd(Some(&Date::default())), None);
    }
}
