//! Stock types on the wire: requests as core drafts (every field of every
//! message named, so a new proto field fails to compile until handled), and
//! stored values as messages.

use crate::pb::google::r#type::Date;
use crate::pb::reserve::v1 as pb;
use crate::wire::{tier, timestamp};
use prost_types::Timestamp;
use reserve_core::request::Etag;
use reserve_core::stock::adjustment::{Adjustment, AdjustmentDraft};
use reserve_core::stock::count::{CountDraft, CountLine, CountStatus, CountedDraft, StockCount};
use reserve_core::stock::document::ActionDraft;
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::hold::{HoldDraft, ReleaseDraft, UnitsDraft};
use reserve_core::stock::issue::IssueDraft;
use reserve_core::stock::receipt::ReceiptDraft;
use reserve_core::stock::scrap::{Disposal, ScrapApplication, ScrapDraft};
use reserve_core::stock::{ApprovalStatus, Day, EntryType, FundingSource, LedgerEntry, Lot};
use reserve_store::stock::{AssetView, IntegrityFigure, LineView};

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

fn instant(t: Option<&Timestamp>) -> Option<(i64, i32)> {
    t.map(|t| (t.seconds, t.nanos))
}

impl From<&pb::ReceiveStockRequest> for ReceiptDraft {
    fn from(r: &pb::ReceiveStockRequest) -> Self {
        let pb::ReceiveStockRequest {
            request_id: _,
            depot_code,
            item_id,
            lot_number,
            production_date,
            expiry_date,
            manufacturer,
            funding_source,
            owning_tier,
            quantity,
            serial_numbers,
            document,
            counterparty,
            note,
            occurred_time,
            opening_balance,
            validate_only: _,
            // The requisition link is read by the receive handler.
            requisition_id: _,
            requisition_line_number: _,
        } = r;
        ReceiptDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            production: ymd(production_date.as_ref()),
            expiry: ymd(expiry_date.as_ref()),
            manufacturer: manufacturer.clone(),
            funding: *funding_source,
            owning_tier: *owning_tier,
            quantity: *quantity,
            serials: serial_numbers.clone(),
            document: document.clone(),
            counterparty: counterparty.clone(),
            note: note.clone(),
            occurred_time: instant(occurred_time.as_ref()),
            opening_balance: *opening_balance,
        }
    }
}

impl From<&pb::IssueStockRequest> for IssueDraft {
    fn from(r: &pb::IssueStockRequest) -> Self {
        let pb::IssueStockRequest {
            request_id: _,
            depot_code,
            item_id,
            quantity,
            lot_number,
            serial_numbers,
            purpose,
            recipient,
            document,
            reason,
            override_reserve_minimum,
            override_reason,
            occurred_time,
            incident_id,
            override_upkeep_overdue,
            upkeep_override_reason,
        } = r;
        IssueDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            quantity: *quantity,
            lot_number: lot_number.clone(),
            serials: serial_numbers.clone(),
            purpose: *purpose,
            recipient: recipient.clone(),
            document: document.clone(),
            reason: reason.clone(),
            override_minimum: *override_reserve_minimum,
            override_reason: override_reason.clone(),
            occurred_time: instant(occurred_time.as_ref()),
            incident: incident_id.clone(),
            override_upkeep: *override_upkeep_overdue,
            upkeep_override_reason: upkeep_override_reason.clone(),
        }
    }
}

impl From<&pb::HoldStockRequest> for HoldDraft {
    fn from(r: &pb::HoldStockRequest) -> Self {
        let pb::HoldStockRequest {
            request_id: _,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            reason,
            note,
        } = r;
        HoldDraft {
            units: UnitsDraft {
                depot: depot_code.clone(),
                item: item_id.clone(),
                lot_number: lot_number.clone(),
                quantity: *quantity,
                serials: serial_numbers.clone(),
            },
            reason: *reason,
            note: note.clone(),
        }
    }
}

impl From<&pb::ReleaseStockRequest> for ReleaseDraft {
    fn from(r: &pb::ReleaseStockRequest) -> Self {
        let pb::ReleaseStockRequest {
            request_id: _,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            reason,
        } = r;
        ReleaseDraft {
            units: UnitsDraft {
                depot: depot_code.clone(),
                item: item_id.clone(),
                lot_number: lot_number.clone(),
                quantity: *quantity,
                serials: serial_numbers.clone(),
            },
            reason: reason.clone(),
        }
    }
}

impl From<&pb::ReverseEntryRequest> for ActionDraft {
    fn from(r: &pb::ReverseEntryRequest) -> Self {
        let pb::ReverseEntryRequest {
            request_id: _,
            entry_id,
            reason,
        } = r;
        ActionDraft {
            id_field: "entry_id",
            id: entry_id.clone(),
            text_field: "reason",
            text: reason.clone(),
            text_required: true,
            etag: String::new(),
        }
    }
}

impl From<&pb::CreateAdjustmentRequest> for AdjustmentDraft {
    fn from(r: &pb::CreateAdjustmentRequest) -> Self {
        let pb::CreateAdjustmentRequest {
            request_id: _,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            reason,
        } = r;
        AdjustmentDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            quantity: *quantity,
            serials: serial_numbers.clone(),
            reason: reason.clone(),
        }
    }
}

/// An action draft on document `id`; `note` optional, `reason` required.
fn action(
    id_field: &'static str,
    id: &str,
    text_field: &'static str,
    text: &str,
    etag: &str,
) -> ActionDraft {
    ActionDraft {
        id_field,
        id: id.to_string(),
        text_field,
        text: text.to_string(),
        text_required: text_field == "reason",
        etag: etag.to_string(),
    }
}

impl From<&pb::ApproveAdjustmentRequest> for ActionDraft {
    fn from(r: &pb::ApproveAdjustmentRequest) -> Self {
        let pb::ApproveAdjustmentRequest {
            request_id: _,
            adjustment_id,
            note,
            etag,
        } = r;
        action("adjustment_id", adjustment_id, "note", note, etag)
    }
}

impl From<&pb::RejectAdjustmentRequest> for ActionDraft {
    fn from(r: &pb::RejectAdjustmentRequest) -> Self {
        let pb::RejectAdjustmentRequest {
            request_id: _,
            adjustment_id,
            reason,
            etag,
        } = r;
        action("adjustment_id", adjustment_id, "reason", reason, etag)
    }
}

impl From<&pb::CreateScrapApplicationRequest> for ScrapDraft {
    fn from(r: &pb::CreateScrapApplicationRequest) -> Self {
        let pb::CreateScrapApplicationRequest {
            request_id: _,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            reason,
            disposal,
        } = r;
        ScrapDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            quantity: *quantity,
            serials: serial_numbers.clone(),
            reason: reason.clone(),
            disposal: *disposal,
        }
    }
}

impl From<&pb::ApproveScrapApplicationRequest> for ActionDraft {
    fn from(r: &pb::ApproveScrapApplicationRequest) -> Self {
        let pb::ApproveScrapApplicationRequest {
            request_id: _,
            application_id,
            note,
            etag,
        } = r;
        action("application_id", application_id, "note", note, etag)
    }
}

impl From<&pb::RejectScrapApplicationRequest> for ActionDraft {
    fn from(r: &pb::RejectScrapApplicationRequest) -> Self {
        let pb::RejectScrapApplicationRequest {
            request_id: _,
            application_id,
            reason,
            etag,
        } = r;
        action("application_id", application_id, "reason", reason, etag)
    }
}

impl From<&pb::OpenStockCountRequest> for CountDraft {
    fn from(r: &pb::OpenStockCountRequest) -> Self {
        let pb::OpenStockCountRequest {
            request_id: _,
            depot_code,
            item_ids,
            note,
        } = r;
        CountDraft {
            depot: depot_code.clone(),
            items: item_ids.clone(),
            note: note.clone(),
        }
    }
}

/// The counted lines of a record request.
pub fn counted_drafts(r: &pb::RecordCountLinesRequest) -> Vec<CountedDraft> {
    r.lines
        .iter()
        .map(|l| {
            let pb::CountedLine {
                item_id,
                lot_number,
                counted,
                serial_numbers,
            } = l;
            CountedDraft {
                item: item_id.clone(),
                lot_number: lot_number.clone(),
                counted: *counted,
                serials: serial_numbers.clone(),
            }
        })
        .collect()
}

impl From<&pb::RecordCountLinesRequest> for ActionDraft {
    fn from(r: &pb::RecordCountLinesRequest) -> Self {
        let pb::RecordCountLinesRequest {
            request_id: _,
            count_id,
            lines: _,
            etag,
        } = r;
        action("count_id", count_id, "note", "", etag)
    }
}

impl From<&pb::SubmitStockCountRequest> for ActionDraft {
    fn from(r: &pb::SubmitStockCountRequest) -> Self {
        let pb::SubmitStockCountRequest {
            request_id: _,
            count_id,
            etag,
        } = r;
        action("count_id", count_id, "note", "", etag)
    }
}

impl From<&pb::ApproveStockCountRequest> for ActionDraft {
    fn from(r: &pb::ApproveStockCountRequest) -> Self {
        let pb::ApproveStockCountRequest {
            request_id: _,
            count_id,
            note,
            etag,
        } = r;
        action("count_id", count_id, "note", note, etag)
    }
}

impl From<&pb::CancelStockCountRequest> for ActionDraft {
    fn from(r: &pb::CancelStockCountRequest) -> Self {
        let pb::CancelStockCountRequest {
            request_id: _,
            count_id,
            reason,
            etag,
        } = r;
        action("count_id", count_id, "reason", reason, etag)
    }
}

impl From<FundingSource> for pb::FundingSource {
    fn from(f: FundingSource) -> Self {
        match f {
            FundingSource::Budget => pb::FundingSource::Budget,
            FundingSource::Donation => pb::FundingSource::Donation,
            FundingSource::Requisition => pb::FundingSource::Requisition,
            FundingSource::Agreement => pb::FundingSource::Agreement,
        }
    }
}

impl From<EntryType> for pb::EntryType {
    fn from(k: EntryType) -> Self {
        pb::EntryType::try_from(k.number() as i32).unwrap_or(pb::EntryType::Unspecified)
    }
}

impl From<AssetStatus> for pb::AssetStatus {
    fn from(s: AssetStatus) -> Self {
        pb::AssetStatus::try_from(s.number() as i32).unwrap_or(pb::AssetStatus::Unspecified)
    }
}

impl From<ApprovalStatus> for pb::ApprovalStatus {
    fn from(s: ApprovalStatus) -> Self {
        match s {
            ApprovalStatus::Pending => pb::ApprovalStatus::Pending,
            ApprovalStatus::Approved => pb::ApprovalStatus::Approved,
            ApprovalStatus::Rejected => pb::ApprovalStatus::Rejected,
        }
    }
}

impl From<Disposal> for pb::Disposal {
    fn from(d: Disposal) -> Self {
        match d {
            Disposal::Destroy => pb::Disposal::Destroy,
            Disposal::Auction => pb::Disposal::Auction,
            Disposal::Recycle => pb::Disposal::Recycle,
        }
    }
}

impl From<CountStatus> for pb::CountStatus {
    fn from(s: CountStatus) -> Self {
        match s {
            CountStatus::Open => pb::CountStatus::Open,
            CountStatus::Submitted => pb::CountStatus::Submitted,
            CountStatus::Approved => pb::CountStatus::Approved,
            CountStatus::Cancelled => pb::CountStatus::Cancelled,
        }
    }
}

impl From<IntegrityFigure> for pb::IntegrityFigure {
    fn from(f: IntegrityFigure) -> Self {
        match f {
            IntegrityFigure::OnHand => pb::IntegrityFigure::OnHand,
            IntegrityFigure::Reserved => pb::IntegrityFigure::Reserved,
            IntegrityFigure::Held => pb::IntegrityFigure::Held,
            IntegrityFigure::HeldByDocuments => pb::IntegrityFigure::HeldByDocuments,
            IntegrityFigure::OpenDocumentHolds => pb::IntegrityFigure::OpenDocumentHolds,
            IntegrityFigure::DocumentShare => pb::IntegrityFigure::DocumentShare,
            IntegrityFigure::AssetsOnHand => pb::IntegrityFigure::AssetsOnHand,
            IntegrityFigure::AssetsHeld => pb::IntegrityFigure::AssetsHeld,
            IntegrityFigure::AssetHolder => pb::IntegrityFigure::AssetHolder,
            IntegrityFigure::BalanceRules => pb::IntegrityFigure::BalanceRules,
            IntegrityFigure::OnLease => pb::IntegrityFigure::OnLease,
            IntegrityFigure::AssetsOnLease => pb::IntegrityFigure::AssetsOnLease,
            IntegrityFigure::OpenLeases => pb::IntegrityFigure::OpenLeases,
            IntegrityFigure::OrderReservations => pb::IntegrityFigure::OrderReservations,
            IntegrityFigure::AssetsReserved => pb::IntegrityFigure::AssetsReserved,
            IntegrityFigure::OrderInTransit => pb::IntegrityFigure::OrderInTransit,
        }
    }
}

/// A lot on the wire.
pub fn lot_pb(l: &Lot) -> pb::Lot {
    pb::Lot {
        item_id: l.item.to_string(),
        lot_number: l.number.as_str().to_string(),
        production_date: date(l.production),
        expiry_date: date(l.expiry),
        manufacturer: l.manufacturer.clone(),
        funding_source: pb::FundingSource::from(l.funding) as i32,
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
        held_by_documents: l.balance.doc_held,
        on_lease: l.balance.on_lease,
        owning_tier: tier(l.owning_tier),
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

/// A ledger entry on the wire.
pub fn entry_pb(e: &LedgerEntry) -> pb::LedgerEntry {
    pb::LedgerEntry {
        id: e.id.clone(),
        sequence: e.seq,
        entry_type: pb::EntryType::from(e.kind) as i32,
        depot_code: e.depot.to_string(),
        item_id: e.item.to_string(),
        lot_number: e.lot_number.as_str().to_string(),
        quantity: e.delta.on_hand,
        held_delta: e.delta.held,
        reserved_delta: e.delta.reserved,
        held_by_documents_delta: e.delta.doc_held,
        on_lease_delta: e.delta.on_lease,
        reason: e.reason.clone(),
        document: e.document.clone(),
        owner: e.owner.as_ref().map(|o| o.name()).unwrap_or_default(),
        counterparty: e.counterparty.clone(),
        occurred_time: timestamp(e.occurred_at),
        record_time: timestamp(e.recorded_at),
        actor: e.actor.clone(),
        countersigned_by: e.countersigned_by.clone().unwrap_or_default(),
        reverses_entry_id: e.reverses.clone().unwrap_or_default(),
        serial_numbers: e.serials.iter().map(|s| s.to_string()).collect(),
        request_id: e.request_id.clone(),
        incident_id: e.incident.clone().unwrap_or_default(),
    }
}

/// An adjustment on the wire.
pub fn adjustment_pb(a: &Adjustment) -> pb::Adjustment {
    pb::Adjustment {
        id: a.id.clone(),
        depot_code: a.depot.to_string(),
        item_id: a.item.to_string(),
        lot_number: a.lot_number.as_str().to_string(),
        quantity: a.quantity,
        serial_numbers: a.serials.iter().map(|s| s.to_string()).collect(),
        reason: a.reason.clone(),
        status: pb::ApprovalStatus::from(a.status) as i32,
        requested_by: a.requested_by.clone(),
        request_time: timestamp(a.requested_at),
        decided_by: a.decided_by.clone().unwrap_or_default(),
        decide_time: a.decided_at.and_then(timestamp),
        decision_note: a.decision_note.clone(),
        entry_id: a.entry_id.clone().unwrap_or_default(),
        etag: Etag::of(a.version).to_string(),
    }
}

/// A scrap application on the wire.
pub fn scrap_pb(a: &ScrapApplication) -> pb::ScrapApplication {
    pb::ScrapApplication {
        id: a.id.clone(),
        depot_code: a.depot.to_string(),
        item_id: a.item.to_string(),
        lot_number: a.lot_number.as_str().to_string(),
        quantity: a.quantity,
        serial_numbers: a.serials.iter().map(|s| s.to_string()).collect(),
        reason: a.reason.clone(),
        disposal: pb::Disposal::from(a.disposal) as i32,
        status: pb::ApprovalStatus::from(a.status) as i32,
        applied_by: a.applied_by.clone(),
        apply_time: timestamp(a.applied_at),
        decided_by: a.decided_by.clone().unwrap_or_default(),
        decide_time: a.decided_at.and_then(timestamp),
        decision_note: a.decision_note.clone(),
        hold_entry_id: a.hold_entry_id.clone(),
        final_entry_id: a.final_entry_id.clone().unwrap_or_default(),
        etag: Etag::of(a.version).to_string(),
    }
}

fn count_line_pb(l: &CountLine, variance: i64, value: i64) -> pb::CountLine {
    pb::CountLine {
        item_id: l.item.to_string(),
        lot_number: l.lot_number.as_str().to_string(),
        expected: l.expected,
        moved_since_snapshot: l.moved_since_snapshot(),
        on_hand_at_record: l.on_hand_at_record,
        counted: l.counted,
        serial_numbers: l.counted_serials.iter().map(|s| s.to_string()).collect(),
        missing_serial_numbers: l.missing().iter().map(|s| s.to_string()).collect(),
        held_by_documents_serial_numbers: l
            .held_by_documents
            .iter()
            .map(|s| s.to_string())
            .collect(),
        found_serial_numbers: l.found().iter().map(|s| s.to_string()).collect(),
        variance,
        on_hand_at_approval: l.on_hand_at_approval,
        variance_value_fen: value,
        recorded_by: l.recorded_by.clone().unwrap_or_default(),
        record_time: l.recorded_at.and_then(timestamp),
        entry_ids: l.entry_ids.clone(),
    }
}

/// A count on the wire; `value_of` gives an item's reference value in fen.
pub fn count_pb(c: &StockCount, value_of: impl Fn(&str) -> i64) -> pb::StockCount {
    let mut total = 0i64;
    let mut total_value = 0i64;
    let lines = c
        .lines
        .iter()
        .map(|l| {
            let variance = l.posted_variance.or_else(|| l.variance()).unwrap_or(0);
            let value = variance.saturating_mul(value_of(l.item.as_str()));
            total = total.saturating_add(variance);
            total_value = total_value.saturating_add(value);
            count_line_pb(l, variance, value)
        })
        .collect();
    pb::StockCount {
        id: c.id.clone(),
        depot_code: c.depot.to_string(),
        status: pb::CountStatus::from(c.status) as i32,
        item_ids: c.items.iter().map(|i| i.to_string()).collect(),
        note: c.note.clone(),
        opened_by: c.opened_by.clone(),
        open_time: timestamp(c.opened_at),
        recorded_by: c.recorded_by.clone(),
        submitted_by: c.submitted_by.clone().unwrap_or_default(),
        submit_time: c.submitted_at.and_then(timestamp),
        decided_by: c.decided_by.clone().unwrap_or_default(),
        decide_time: c.decided_at.and_then(timestamp),
        lines,
        total_variance: total,
        total_variance_value_fen: total_value,
        etag: Etag::of(c.version).to_string(),
    }
}

/// An asset on the wire.
pub fn asset_pb(a: &AssetView) -> pb::Asset {
    pb::Asset {
        item_id: a.item.to_string(),
        serial_number: a.serial.to_string(),
        lot_number: a.lot_number.as_str().to_string(),
        depot_code: a.depot.to_string(),
        status: pb::AssetStatus::from(a.status) as i32,
        holder: a.holder.as_ref().map(|h| h.name()).unwrap_or_default(),
        update_time: timestamp(a.updated_at),
    }
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

    #[test]
    fn every_core_enumeration_has_its_wire_value() {
        for k in EntryType::ALL {
            assert_ne!(pb::EntryType::from(k), pb::EntryType::Unspecified, "{k:?}");
        }
        for s in [1, 2, 3, 4, 5, 6] {
            let core = AssetStatus::from_number(s).unwrap();
            assert_eq!(pb::AssetStatus::from(core) as i64, s);
        }
    }
}
