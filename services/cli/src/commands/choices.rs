//! Enum choices on the command line and enum names in tables, both taken
//! from the generated proto enums so that neither hard-codes a wire number.

use reserve_api::pb::reserve::v1 as pb;
use reserve_core::tier::Tier;

/// A generated proto enum whose value names share a prefix
/// (`ENTRY_TYPE_RECEIPT`, ...).
pub trait ProtoEnum: Sized + Copy + TryFrom<i32> {
    /// The common prefix of the value names.
    const PREFIX: &'static str;
    /// The full proto name of the value.
    fn proto_name(self) -> &'static str;
}

macro_rules! proto_enum {
    ($($ty:ident => $prefix:literal),+ $(,)?) => {
        $(impl ProtoEnum for pb::$ty {
            const PREFIX: &'static str = $prefix;
            fn proto_name(self) -> &'static str {
                self.as_str_name()
            }
        })+
    };
}

proto_enum! {
    Tier => "TIER_",
    DepotStatus => "DEPOT_STATUS_",
    TrackingMode => "TRACKING_MODE_",
    FundingSource => "FUNDING_SOURCE_",
    EntryType => "ENTRY_TYPE_",
    HoldReason => "HOLD_REASON_",
    IssuePurpose => "ISSUE_PURPOSE_",
    AssetStatus => "ASSET_STATUS_",
    ApprovalStatus => "APPROVAL_STATUS_",
    Disposal => "DISPOSAL_",
    CountStatus => "COUNT_STATUS_",
    IntegrityFigure => "INTEGRITY_FIGURE_",
    IncidentType => "INCIDENT_TYPE_",
    AllocationKind => "ALLOCATION_KIND_",
    AllocationPriority => "ALLOCATION_PRIORITY_",
    AllocationState => "ALLOCATION_STATE_",
    ReserveKind => "RESERVE_KIND_",
    EventKind => "EVENT_KIND_",
    LeaseState => "LEASE_STATE_",
    AssetCondition => "ASSET_CONDITION_",
    UpkeepKind => "UPKEEP_KIND_",
    UpkeepResult => "UPKEEP_RESULT_",
    RepairStatus => "REPAIR_STATUS_",
}

/// The short name of a wire value as people read and type it
/// (`ENTRY_TYPE_TRANSFER_OUT` is `transfer-out`); `-` when unset.
pub fn name<E: ProtoEnum>(raw: i32) -> String {
    match E::try_from(raw) {
        Ok(e) if e.proto_name().ends_with("_UNSPECIFIED") => "-".into(),
        Ok(e) => e
            .proto_name()
            .trim_start_matches(E::PREFIX)
            .to_lowercase()
            .replace('_', "-"),
        Err(_) => format!("unknown ({raw})"),
    }
}

/// A tier as depot staff say it and as it is typed, e.g. `县级 county`.
pub fn tier_label(raw: i32) -> String {
    let tier = match pb::Tier::try_from(raw) {
        Ok(pb::Tier::Province) => Tier::Province,
        Ok(pb::Tier::City) => Tier::City,
        Ok(pb::Tier::County) => Tier::County,
        Ok(pb::Tier::Township) => Tier::Township,
        Ok(pb::Tier::Unspecified) | Err(_) => return "-".into(),
    };
    format!("{} {}", tier.name_zh(), tier.name())
}

/// A command-line choice that stands for one value of a proto enum.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $arg:ident => $proto:ident {
            $($(#[$vmeta:meta])* $variant:ident => $value:ident),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $arg {
            $($(#[$vmeta])* $variant),+
        }

        impl From<$arg> for pb::$proto {
            fn from(a: $arg) -> Self {
                match a {
                    $($arg::$variant => pb::$proto::$value),+
                }
            }
        }

        impl $arg {
            /// The wire value.
            pub fn wire(self) -> i32 {
                pb::$proto::from(self) as i32
            }

            /// The wire value of an optional choice: unspecified when not given.
            #[allow(dead_code)]
            pub fn wire_or_unset(a: Option<Self>) -> i32 {
                a.map_or(pb::$proto::Unspecified as i32, Self::wire)
            }
        }
    };
}

choice! {
    /// Tiers of the network.
    TierArg => Tier {
        /// 省级 provincial sub-depot.
        Province => Province,
        /// 市级 city base.
        City => City,
        /// 县级 county depot.
        County => County,
        /// 乡镇 township point.
        Township => Township,
    }
}

choice! {
    /// Whether a depot is in service.
    DepotStatusArg => DepotStatus {
        /// In service.
        Active => Active,
        /// Temporarily out of service.
        Suspended => Suspended,
        /// Closed for good.
        Closed => Closed,
    }
}

choice! {
    /// Where the money for a lot came from.
    FundingArg => FundingSource {
        /// Government budget.
        Budget => Budget,
        /// Donated.
        Donation => Donation,
        /// Requisitioned property taken into stock.
        Requisition => Requisition,
        /// Delivered by a company under an agreement.
        Agreement => Agreement,
    }
}

choice! {
    /// What an issue is for.
    PurposeArg => IssuePurpose {
        /// To an incident.
        Incident => Incident,
        /// For use: exercises, training, daily work.
        Use => Use,
    }
}

choice! {
    /// Why units are held.
    HoldArg => HoldReason {
        /// Quarantined pending a quality check.
        Quarantine => Quarantine,
        /// Damaged.
        Damage => Damage,
        /// Under repair.
        #[value(alias = "repair")]
        UnderRepair => UnderRepair,
    }
}

choice! {
    /// How scrapped units are disposed of.
    DisposalArg => Disposal {
        /// Destroyed.
        Destroy => Destroy,
        /// Auctioned.
        Auction => Auction,
        /// Recycled.
        Recycle => Recycle,
    }
}

choice! {
    /// Kinds of ledger entry.
    EntryTypeArg => EntryType {
        /// Stock received into a lot.
        Receipt => Receipt,
        /// Stock issued to an incident or for use.
        Issue => Issue,
        /// Stock leaving on an allocation order.
        TransferOut => TransferOut,
        /// Stock arriving on an allocation order.
        TransferIn => TransferIn,
        /// A countersigned correction, alone or from a count.
        Adjustment => Adjustment,
        /// Units written off after an approved scrap application.
        Scrap => Scrap,
        /// Units leased out.
        LeaseOut => LeaseOut,
        /// Leased units returned.
        LeaseReturn => LeaseReturn,
        /// Units held.
        Hold => Hold,
        /// Held units released.
        Release => Release,
        /// Units recovered after use.
        Recovery => Recovery,
        /// The reversal of an earlier entry.
        Reversal => Reversal,
        /// Units reserved for an approved allocation order.
        Reserve => Reserve,
        /// An allocation order's reservation released.
        Unreserve => Unreserve,
        /// Stock on the books when the depot started using the service.
        OpeningBalance => OpeningBalance,
    }
}

choice! {
    /// Kinds of incident.
    IncidentTypeArg => IncidentType {
        /// Flood or waterlogging (洪涝).
        Flood => Flood,
        /// Earthquake (地震).
        Earthquake => Earthquake,
        /// Landslide, debris flow, collapse (地质灾害).
        Geological => Geological,
        /// Forest or grassland fire (森林草原火灾).
        Fire => Fire,
        /// Drought (干旱).
        Drought => Drought,
        /// Low temperature, rain, snow and ice (低温雨雪冰冻).
        SnowAndIce => SnowAndIce,
        /// Strong wind, hail, typhoon (风雹).
        Wind => Wind,
        /// Anything else.
        Other => Other,
    }
}

choice! {
    /// What an allocation order does.
    KindArg => AllocationKind {
        /// A transfer between depots.
        Transfer => Transfer,
        /// An issue to an incident site (a place, not a depot).
        IncidentSite => IncidentSite,
        /// Pre-positioning at a depot ahead of a forecast risk.
        PrePosition => PrePosition,
    }
}

choice! {
    /// How urgent an allocation order is.
    PriorityArg => AllocationPriority {
        /// Routine.
        Routine => Routine,
        /// Urgent.
        Urgent => Urgent,
        /// Emergency: may be dispatched before approval (先调后补) and may
        /// take a source below its reserve minimum.
        Emergency => Emergency,
    }
}

choice! {
    /// Where an allocation order stands.
    StateArg => AllocationState {
        /// Being written.
        Draft => Draft,
        /// Waiting for approval.
        Submitted => Submitted,
        /// Approved; units reserved at the sources.
        Approved => Approved,
        /// Units have left at least one source.
        Dispatched => Dispatched,
        /// Everything dispatched is accounted for at the destination.
        Received => Received,
        /// Closed.
        Closed => Closed,
        /// Rejected by the approver.
        Rejected => Rejected,
        /// Cancelled before dispatch.
        Cancelled => Cancelled,
    }
}

choice! {
    /// Kinds of enterprise reserve.
    ReserveKindArg => ReserveKind {
        /// Stock a company keeps for the bureau (协议储备).
        Agreement => Agreement,
        /// A company's commitment to produce (产能储备).
        Capacity => Capacity,
    }
}

choice! {
    /// What a lease return's inspection found.
    ConditionArg => AssetCondition {
        /// As leased.
        Good => Good,
        /// Worn but serviceable.
        Worn => Worn,
        /// Needs repair.
        NeedsRepair => NeedsRepair,
        /// Beyond use.
        Unserviceable => Unserviceable,
    }
}

choice! {
    /// Kinds of event on the live stream.
    EventKindArg => EventKind {
        /// Stock moved: a receipt, issue, hold, release, correction, scrap.
        Stock => Stock,
        /// A document changed state: an order, count, adjustment, scrap
        /// application, agreement or call-off.
        Document => Document,
        /// A line fell below its depot's reserve minimum.
        AlertLowStock => AlertLowStock,
        /// A lot came within its item's near-expiry window.
        AlertNearExpiry => AlertNearExpiry,
        /// An emergency order's back-filled approval became overdue.
        AlertOverdueBackfill => AlertOverdueBackfill,
        /// An agreement ends within 60 days.
        AlertExpiringAgreement => AlertExpiringAgreement,
        /// Anything else: depots, items, norms, incidents.
        Other => Other,
    }
}

choice! {
    /// The work an upkeep record or plan is about.
    UpkeepKindArg => UpkeepKind {
        /// Airing (晾晒).
        Airing => Airing,
        /// Restacking (翻垛).
        Restacking => Restacking,
        /// A test run (试机).
        TestRun => TestRun,
        /// Charging batteries.
        BatteryCharge => BatteryCharge,
        /// An inspection.
        Inspection => Inspection,
        /// A quality test.
        QualityTest => QualityTest,
        /// A repair done on the spot.
        Repair => Repair,
    }
}

choice! {
    /// What an upkeep record found.
    UpkeepResultArg => UpkeepResult {
        /// Fit for use.
        Pass => Pass,
        /// Failed; still owed.
        Fail => Fail,
        /// Needs a repair.
        NeedsRepair => NeedsRepair,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// Every choice is typed as the name tables print, and every proto value
    /// but the unspecified one has a choice.
    fn typed_as_printed<A: ValueEnum + Copy, E: ProtoEnum>(wire: impl Fn(A) -> i32) {
        let mut covered = Vec::new();
        for a in A::value_variants() {
            let typed = a.to_possible_value().map(|v| v.get_name().to_string());
            let raw = wire(*a);
            assert_eq!(typed, Some(name::<E>(raw)), "{}", E::PREFIX);
            covered.push(raw);
        }
        let mut raw = 1;
        while E::try_from(raw).is_ok() {
            assert!(covered.contains(&raw), "{}{raw} has no choice", E::PREFIX);
            raw += 1;
        }
    }

    #[test]
    fn every_choice_is_typed_as_it_is_printed_and_covers_its_proto_enum() {
        typed_as_printed::<TierArg, pb::Tier>(TierArg::wire);
        typed_as_printed::<DepotStatusArg, pb::DepotStatus>(DepotStatusArg::wire);
        typed_as_printed::<FundingArg, pb::FundingSource>(FundingArg::wire);
        typed_as_printed::<PurposeArg, pb::IssuePurpose>(PurposeArg::wire);
        typed_as_printed::<HoldArg, pb::HoldReason>(HoldArg::wire);
        typed_as_printed::<DisposalArg, pb::Disposal>(DisposalArg::wire);
        typed_as_printed::<EntryTypeArg, pb::EntryType>(EntryTypeArg::wire);
        typed_as_printed::<IncidentTypeArg, pb::IncidentType>(IncidentTypeArg::wire);
        typed_as_printed::<KindArg, pb::AllocationKind>(KindArg::wire);
        typed_as_printed::<PriorityArg, pb::AllocationPriority>(PriorityArg::wire);
        typed_as_printed::<StateArg, pb::AllocationState>(StateArg::wire);
        typed_as_printed::<ReserveKindArg, pb::ReserveKind>(ReserveKindArg::wire);
        typed_as_printed::<EventKindArg, pb::EventKind>(EventKindArg::wire);
        typed_as_printed::<ConditionArg, pb::AssetCondition>(ConditionArg::wire);
    }

    #[test]
    fn names_come_from_the_proto_enums() {
        assert_eq!(
            name::<pb::EntryType>(pb::EntryType::TransferOut as i32),
            "transfer-out"
        );
        assert_eq!(
            name::<pb::IntegrityFigure>(pb::IntegrityFigure::HeldByDocuments as i32),
            "held-by-documents"
        );
        assert_eq!(name::<pb::AssetStatus>(0), "-");
        assert_eq!(name::<pb::AssetStatus>(99), "unknown (99)");
        assert_eq!(tier_label(pb::Tier::County as i32), "县级 county");
        assert_eq!(tier_label(0), "-");
        assert_eq!(
            HoldArg::from_str("repair", false).map(HoldArg::wire),
            Ok(pb::HoldReason::UnderRepair as i32)
        );
    }
}
