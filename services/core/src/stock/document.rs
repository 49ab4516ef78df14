//! Documents of the ledger: what they are called, how they are named, and
//! the decisions taken on them.

use super::entry::{AssetChange, EntryDraft};
use super::error::StockError;
use crate::request::Etag;
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};

/// A kind of document that posts to the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DocKind {
    /// A correction waiting for a second signature.
    Adjustment,
    /// An application to scrap units; holds them while pending.
    ScrapApplication,
    /// A stock count.
    StockCount,
    /// An allocation order; owns what it reserves and carries.
    AllocationOrder,
    /// A lease; owns the units it has out.
    Lease,
    /// A repair; holds its asset until it ends.
    Repair,
}

impl DocKind {
    /// Every kind.
    pub const ALL: [DocKind; 6] = [
        DocKind::Adjustment,
        DocKind::ScrapApplication,
        DocKind::StockCount,
        DocKind::AllocationOrder,
        DocKind::Lease,
        DocKind::Repair,
    ];

    /// The collection in resource names (`scrapApplications/ID`).
    pub fn collection(self) -> &'static str {
        match self {
            DocKind::Adjustment => "adjustments",
            DocKind::ScrapApplication => "scrapApplications",
            DocKind::StockCount => "stockCounts",
            DocKind::AllocationOrder => "allocationOrders",
            DocKind::Lease => "leases",
            DocKind::Repair => "repairs",
        }
    }

    /// Words for messages ("scrap application").
    pub fn label(self) -> &'static str {
        match self {
            DocKind::Adjustment => "adjustment",
            DocKind::ScrapApplication => "scrap application",
            DocKind::StockCount => "stock count",
            DocKind::AllocationOrder => "allocation order",
            DocKind::Lease => "lease",
            DocKind::Repair => "repair",
        }
    }

    /// Whether documents of this kind hold units (`held`) while open, so
    /// that the held units are theirs alone to release. Allocation orders
    /// own what they reserve through `reserved`, and leases what they have
    /// out through `on_lease`, which are all theirs.
    pub fn holds(self) -> bool {
        matches!(self, DocKind::ScrapApplication | DocKind::Repair)
    }
}

/// A server-assigned document or entry id: 1 to 64 characters of letters,
/// digits and `-` (a UUID fits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocId(String);

impl DocId {
    /// Parses an id sent back by a client.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if v.is_empty() {
            return Err("is required".into());
        }
        if v.len() > 64 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("must be an id this service issued".into());
        }
        Ok(Self(v.to_string()))
    }

    /// Wraps an id read from storage or just generated.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference to one document: its kind and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocRef {
    /// Kind.
    pub kind: DocKind,
    /// Id.
    pub id: DocId,
}

impl DocRef {
    /// A reference to document `id` of `kind`.
    pub fn new(kind: DocKind, id: &str) -> Self {
        Self {
            kind,
            id: DocId::from_stored(id.to_string()),
        }
    }

    /// The resource name, e.g. `scrapApplications/0193...`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.kind.collection(), self.id)
    }

    /// Parses a resource name written by [`DocRef::name`].
    pub fn parse_name(raw: &str) -> Option<Self> {
        let (collection, id) = raw.split_once('/')?;
        let kind = DocKind::ALL
            .into_iter()
            .find(|k| k.collection() == collection)?;
        Some(Self {
            kind,
            id: DocId::parse(id).ok()?,
        })
    }
}

impl std::fmt::Display for DocRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.label(), self.id)
    }
}

/// Where a document waiting for a second signature stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApprovalStatus {
    /// Waiting.
    Pending,
    /// Approved and posted.
    Approved,
    /// Rejected (or withdrawn by its author).
    Rejected,
}

impl ApprovalStatus {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            ApprovalStatus::Pending => 1,
            ApprovalStatus::Approved => 2,
            ApprovalStatus::Rejected => 3,
        }
    }

    /// The status with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(ApprovalStatus::Pending),
            2 => Some(ApprovalStatus::Approved),
            3 => Some(ApprovalStatus::Rejected),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
        }
    }
}

/// A decision on a document waiting for a second signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Approve, with an optional note.
    Approve {
        /// Note.
        note: String,
    },
    /// Reject, with the reason.
    Reject {
        /// Reason.
        reason: String,
    },
}

impl Decision {
    /// The note or reason kept on the document.
    pub fn note(&self) -> &str {
        match self {
            Decision::Approve { note } => note,
            Decision::Reject { reason } => reason,
        }
    }

    /// The status the document ends in.
    pub fn status(&self) -> ApprovalStatus {
        match self {
            Decision::Approve { .. } => ApprovalStatus::Approved,
            Decision::Reject { .. } => ApprovalStatus::Rejected,
        }
    }

    /// The verb for messages ("approved").
    pub fn verb(&self) -> &'static str {
        match self {
            Decision::Approve { .. } => "approved",
            Decision::Reject { .. } => "rejected",
        }
    }
}

/// An action on one document as the client sent it: which document, the
/// note or reason, and the etag the client read (empty: no condition).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionDraft {
    /// Name of the id field in the request (`adjustment_id`, ...).
    pub id_field: &'static str,
    /// The document id.
    pub id: String,
    /// Name of the text field (`note` or `reason`).
    pub text_field: &'static str,
    /// The note or reason.
    pub text: String,
    /// Whether the text is required.
    pub text_required: bool,
    /// The etag sent back.
    pub etag: String,
}

/// An action on one document that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocAction {
    /// The document.
    pub id: DocId,
    /// The note or reason (trimmed; may be empty when optional).
    pub text: String,
    /// The version the client read, if it sent one.
    pub etag: Option<Etag>,
}

impl DocAction {
    /// Checks every field of an action, reporting all broken ones.
    pub fn parse(d: &ActionDraft) -> Result<Self, crate::Violations> {
        let mut v = crate::Violations::new();
        let id = v.take(d.id_field, DocId::parse(&d.id));
        let text = if d.text_required {
            v.take(d.text_field, crate::text::required(&d.text, 500))
        } else {
            v.take(d.text_field, crate::text::optional(&d.text, 500))
        };
        let etag = v.take("etag", Etag::parse_optional(&d.etag));
        match (id, text, etag) {
            (Some(id), Some(text), Some(etag)) if v.is_empty() => Ok(DocAction { id, text, etag }),
            _ => Err(v),
        }
    }

    /// The action as an approval with its note.
    pub fn approve(&self) -> Decision {
        Decision::Approve {
            note: self.text.clone(),
        }
    }

    /// The action as a rejection with its reason.
    pub fn reject(&self) -> Decision {
        Decision::Reject {
            reason: self.text.clone(),
        }
    }
}

/// Who acts on a document, when, and on which version they read (if they
/// sent its etag back).
#[derive(Clone, Copy, Debug)]
pub struct Acting<'a> {
    /// The user's subject.
    pub who: &'a str,
    /// Now.
    pub now: UtcMillis,
    /// The etag the user read, if sent.
    pub etag: Option<Etag>,
}

impl Acting<'_> {
    /// Refuses the action if the user read an older version of the document.
    pub fn check_etag(&self, kind: DocKind, id: &str, version: i64) -> Result<(), StockError> {
        match self.etag {
            Some(e) if e.version() != version => Err(StockError::StaleEtag {
                kind: kind.collection(),
                id: id.to_string(),
                sent: e.version(),
                current: version,
            }),
            _ => Ok(()),
        }
    }
}

/// What a document's transition does: the document as it becomes, the
/// entries it posts (with their asset moves), and any asset moves no entry
/// makes. The store writes exactly this.
#[derive(Clone, Debug, PartialEq)]
pub struct DocPlan<D> {
    /// The document after the transition (version already advanced).
    pub doc: D,
    /// The entries to post, in order.
    pub entries: Vec<EntryDraft>,
    /// Asset moves without an entry (units handed over at a site, or never
    /// arriving), after the entries.
    pub assets: Vec<AssetChange>,
}

impl<D> DocPlan<D> {
    /// A plan posting `entries`.
    pub fn new(doc: D, entries: Vec<EntryDraft>) -> Self {
        Self {
            doc,
            entries,
            assets: Vec::new(),
        }
    }
}

/// The refusal of an action the document's state does not allow.
pub fn invalid_transition(
    kind: DocKind,
    id: &str,
    status: &'static str,
    action: &'static str,
) -> StockError {
    StockError::InvalidTransition {
        kind: kind.collection(),
        id: id.to_string(),
        status,
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_reports_every_broken_field_at_once() {
        let v = DocAction::parse(&ActionDraft {
            id_field: "adjustment_id",
            id: "a b".into(),
            text_field: "reason",
            text: " ".into(),
            text_required: true,
            etag: "x".into(),
        })
        .unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(f, vec!["adjustment_id", "reason", "etag"]);
        let ok = DocAction::parse(&ActionDraft {
            id_field: "count_id",
            id: "0193-1".into(),
            text_field: "note",
            etag: "\"3\"".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.etag, Some(Etag::of(3)));
    }

    #[test]
    fn a_document_name_round_trips_and_foreign_names_are_refused() {
        let d = DocRef::new(DocKind::ScrapApplication, "0193-ab");
        assert_eq!(d.name(), "scrapApplications/0193-ab");
        assert_eq!(DocRef::parse_name(&d.name()), Some(d));
        assert_eq!(DocRef::parse_name("orders/1"), None);
        assert_eq!(DocRef::parse_name("adjustments/a b"), None);
        assert!(DocId::parse("").is_err());
        assert!(DocId::parse(&"a".repeat(65)).is_err());
        assert!(DocKind::ScrapApplication.holds());
        assert!(!DocKind::StockCount.holds());
    }
}
