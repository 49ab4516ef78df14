//! Events for live dashboards: what kind a change is, from the call that
//! made it and the resource it touched.

use serde::{Deserialize, Serialize};

/// Kind of event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    /// Stock moved.
    Stock,
    /// A document changed state.
    Document,
    /// A line fell below its reserve minimum.
    LowStock,
    /// A lot came within its near-expiry window.
    NearExpiry,
    /// An emergency order's back-fill became overdue.
    OverdueBackfill,
    /// An agreement ends within 60 days.
    ExpiringAgreement,
    /// Anything else.
    Other,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 7] = [
        EventKind::Stock,
        EventKind::Document,
        EventKind::LowStock,
        EventKind::NearExpiry,
        EventKind::OverdueBackfill,
        EventKind::ExpiringAgreement,
        EventKind::Other,
    ];

    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            EventKind::Stock => 1,
            EventKind::Document => 2,
            EventKind::LowStock => 3,
            EventKind::NearExpiry => 4,
            EventKind::OverdueBackfill => 5,
            EventKind::ExpiringAgreement => 6,
            EventKind::Other => 7,
        }
    }

    /// The kind with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.number() == n)
    }

    /// The kind of a change made by `method` (a full gRPC method name) to
    /// `resource`.
    pub fn of_change(method: &str, resource: &str) -> Self {
        let name = method.rsplit('/').next().unwrap_or(method);
        const STOCK: [&str; 5] = [
            "ReceiveStock",
            "IssueStock",
            "HoldStock",
            "ReleaseStock",
            "ReverseEntry",
        ];
        const DOCUMENTS: [&str; 9] = [
            "adjustments/",
            "scrapApplications/",
            "stockCounts/",
            "allocationOrders/",
            "agreements/",
            "callOffs/",
            "incidents/",
            "requisitions/",
            "leases/",
        ];
        if STOCK.contains(&name) || resource.contains("/stock/") {
            EventKind::Stock
        } else if DOCUMENTS.iter().any(|d| resource.starts_with(d))
            // A subtree recall: depots/CODE/leases.
            || resource.ends_with("/leases")
        {
            EventKind::Document
        } else {
            EventKind::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_stock_a_document_or_other() {
        assert_eq!(
            EventKind::of_change(
                "/reserve.v1.StockService/IssueStock",
                "depots/X/stock/quilt"
            ),
            EventKind::Stock
        );
        assert_eq!(
            EventKind::of_change(
                "/reserve.v1.AllocationService/ApproveAllocationOrder",
                "allocationOrders/1"
            ),
            EventKind::Document
        );
        assert_eq!(
            EventKind::of_change("/reserve.v1.NetworkService/UpdateDepot", "depots/X"),
            EventKind::Other
        );
        assert_eq!(
            EventKind::of_change("/reserve.v1.LeaseService/RecallLeases", "depots/X/leases"),
            EventKind::Document
        );
        assert_eq!(
            EventKind::of_change("/reserve.v1.LeaseService/ReturnLease", "leases/1"),
            EventKind::Document
        );
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_number(k.number()), Some(k));
        }
    }
}
