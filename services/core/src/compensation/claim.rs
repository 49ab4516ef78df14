//! The claim document and its state machine. Every transition is a pure
//! function from the claim as read to the claim as it becomes; the store
//! writes it by compare-and-set on (state, version).

use super::{DirectCost, Figures, figures};
use crate::depot::DepotCode;
use crate::requisition::{OwnerKind, Requisition, RequisitionError, RequisitionState};
use crate::stock::Day;
use crate::tier::Tier;
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};

/// Where a claim stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimState {
    /// Opened; figures are a preview.
    Draft,
    /// A finance officer fixed the amount.
    Assessed,
    /// A second finance officer approved it; payments may be made.
    Approved,
    /// Paid in full: settled.
    Paid,
    /// The owner disputes the assessment; it must be assessed again.
    Disputed,
}

impl ClaimState {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            ClaimState::Draft => 1,
            ClaimState::Assessed => 2,
            ClaimState::Approved => 3,
            ClaimState::Paid => 4,
            ClaimState::Disputed => 5,
        }
    }

    /// The state with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(ClaimState::Draft),
            2 => Some(ClaimState::Assessed),
            3 => Some(ClaimState::Approved),
            4 => Some(ClaimState::Paid),
            5 => Some(ClaimState::Disputed),
            _ => None,
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            ClaimState::Draft => "draft",
            ClaimState::Assessed => "assessed",
            ClaimState::Approved => "approved",
            ClaimState::Paid => "paid",
            ClaimState::Disputed => "disputed",
        }
    }
}

/// A payment made on a claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Amount, fen.
    pub amount_fen: i64,
    /// Date paid.
    pub paid_on: Day,
    /// Bank transfer reference.
    pub bank_reference: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: UtcMillis,
}

/// One step of the claim's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The state entered (or kept, for a payment).
    pub state: ClaimState,
    /// When.
    pub at: UtcMillis,
    /// Who.
    pub by: String,
    /// What happened, in words.
    pub note: String,
}

/// A compensation claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// Id.
    pub id: String,
    /// Readable number `BC-2026-000001`.
    pub number: String,
    /// The requisition.
    pub requisition_id: String,
    /// Its number.
    pub requisition_number: String,
    /// The requisitioning tier's depot.
    pub depot: DepotCode,
    /// Its tier (for reports).
    pub tier: Tier,
    /// The incident.
    pub incident_id: String,
    /// Owner kind.
    pub owner_kind: OwnerKind,
    /// Owner name.
    pub owner_name: String,
    /// The owner's private data, masked.
    pub owner_masked: crate::requisition::identity::MaskedOwner,
    /// Reference to the owner's sealed private data.
    pub private_ref: String,
    /// Direct costs the owner claimed.
    pub claimed_costs: Vec<DirectCost>,
    /// Direct costs accepted at the last assessment.
    pub accepted_costs: Vec<DirectCost>,
    /// Figures fixed at the last assessment.
    pub assessed: Option<Figures>,
    /// Who assessed it last.
    pub assessed_by: Option<String>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// The amount approved, fen.
    pub approved_fen: i64,
    /// Payments.
    pub payments: Vec<Payment>,
    /// Paid so far, fen.
    pub paid_fen: i64,
    /// State.
    pub state: ClaimState,
    /// When it was settled.
    pub settled_at: Option<UtcMillis>,
    /// Timeline.
    pub timeline: Vec<Step>,
    /// Compare-and-set version.
    pub version: i64,
}

fn transition(c: &Claim, action: &'static str) -> RequisitionError {
    RequisitionError::InvalidTransition {
        number: c.number.clone(),
        state: c.state.name(),
        action,
    }
}

impl Claim {
    /// Opens a draft claim on `r` (whose depot is of `tier`).
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        id: String,
        number: String,
        r: &Requisition,
        tier: Tier,
        claimed_costs: Vec<DirectCost>,
        note: &str,
        by: &str,
        now: UtcMillis,
    ) -> Claim {
        Claim {
            id,
            number,
            requisition_id: r.id.clone(),
            requisition_number: r.number.clone(),
            depot: r.depot.clone(),
            tier,
            incident_id: r.incident_id.clone(),
            owner_kind: r.owner.kind,
            owner_name: r.owner.name.clone(),
            owner_masked: r.owner.masked.clone(),
            private_ref: r.owner.private_ref.clone(),
            claimed_costs,
            accepted_costs: Vec::new(),
            assessed: None,
            assessed_by: None,
            approved_by: None,
            approved_fen: 0,
            payments: Vec::new(),
            paid_fen: 0,
            state: ClaimState::Draft,
            settled_at: None,
            timeline: vec![Step {
                state: ClaimState::Draft,
                at: now,
                by: by.to_string(),
                note: if note.is_empty() {
                    "claim opened".into()
                } else {
                    note.to_string()
                },
            }],
            version: 1,
        }
    }

    /// Approved and not yet paid, fen.
    pub fn outstanding_fen(&self) -> i64 {
        match self.state {
            ClaimState::Approved => self.approved_fen.saturating_sub(self.paid_fen),
            _ => 0,
        }
    }

    fn step(mut self, state: ClaimState, by: &str, now: UtcMillis, note: String) -> Claim {
        self.state = state;
        self.timeline.push(Step {
            state,
            at: now,
            by: by.to_string(),
            note,
        });
        self.version += 1;
        self
    }

    /// Fixes the amount from the resolved requisition and the accepted
    /// direct costs (from draft, or disputed for a re-assessment).
    pub fn assess(
        &self,
        r: &Requisition,
        accepted: Vec<DirectCost>,
        by: &str,
        now: UtcMillis,
        note: &str,
    ) -> Result<Claim, RequisitionError> {
        if !matches!(self.state, ClaimState::Draft | ClaimState::Disputed) {
            return Err(transition(self, "be assessed"));
        }
        if r.state != RequisitionState::Resolved {
            return Err(RequisitionError::NotResolved {
                number: r.number.clone(),
                outstanding: r.outstanding(),
            });
        }
        let f = figures(r, &accepted, Day::today(now))?;
        if f.total_fen < self.paid_fen {
            return Err(RequisitionError::BelowPaid {
                number: self.number.clone(),
                total: f.total_fen,
                paid: self.paid_fen,
            });
        }
        let again = self.state == ClaimState::Disputed;
        let mut c = self.clone();
        let text = format!(
            "{} at {} fen{}",
            if again { "re-assessed" } else { "assessed" },
            f.total_fen,
            if note.is_empty() {
                String::new()
            } else {
                format!(": {note}")
            }
        );
        c.accepted_costs = accepted;
        c.assessed = Some(f);
        c.assessed_by = Some(by.to_string());
        // The amount last approved stays until the new one is approved:
        // payments made under it are never more than it.
        c.approved_by = None;
        Ok(c.step(ClaimState::Assessed, by, now, text))
    }

    /// Approves the assessed amount; the approver must not be the assessor.
    pub fn approve(&self, by: &str, now: UtcMillis, note: &str) -> Result<Claim, RequisitionError> {
        if self.state != ClaimState::Assessed {
            return Err(transition(self, "be approved"));
        }
        if self.assessed_by.as_deref() == Some(by) {
            return Err(RequisitionError::SameOfficer {
                number: self.number.clone(),
                assessor: by.to_string(),
            });
        }
        let total = self.assessed.as_ref().map_or(0, |f| f.total_fen);
        let mut c = self.clone();
        c.approved_by = Some(by.to_string());
        c.approved_fen = total;
        let text = if note.is_empty() {
            format!("approved at {total} fen")
        } else {
            format!("approved at {total} fen: {note}")
        };
        let settled = total == c.paid_fen;
        let mut c = c.step(ClaimState::Approved, by, now, text);
        if settled {
            // A re-assessment to exactly what was paid settles it.
            c.settled_at = Some(now);
            c = c.step(
                ClaimState::Paid,
                by,
                now,
                "settled: nothing more to pay".into(),
            );
        }
        Ok(c)
    }

    /// Records a payment; the claim is settled when all of the approved
    /// amount is paid.
    pub fn pay(&self, p: Payment) -> Result<Claim, RequisitionError> {
        if self.state != ClaimState::Approved {
            return Err(transition(self, "take a payment"));
        }
        let outstanding = self.outstanding_fen();
        if p.amount_fen > outstanding {
            return Err(RequisitionError::Overpaid {
                number: self.number.clone(),
                asked: p.amount_fen,
                outstanding,
            });
        }
        let mut c = self.clone();
        c.paid_fen = c
            .paid_fen
            .checked_add(p.amount_fen)
            .ok_or_else(|| RequisitionError::TooLarge(format!("claim {}", self.number)))?;
        let (by, at) = (p.recorded_by.clone(), p.recorded_at);
        let text = format!(
            "paid {} fen on {} (bank reference {})",
            p.amount_fen,
            p.paid_on.date(),
            p.bank_reference
        );
        c.payments.push(p);
        if c.paid_fen == c.approved_fen {
            c.settled_at = Some(at);
            Ok(c.step(ClaimState::Paid, &by, at, format!("{text}; settled")))
        } else {
            Ok(c.step(ClaimState::Approved, &by, at, text))
        }
    }

    /// The owner disputes the assessment (before it is settled).
    pub fn dispute(
        &self,
        by: &str,
        now: UtcMillis,
        reason: &str,
    ) -> Result<Claim, RequisitionError> {
        if !matches!(self.state, ClaimState::Assessed | ClaimState::Approved) {
            return Err(transition(self, "be disputed"));
        }
        Ok(self
            .clone()
            .step(ClaimState::Disputed, by, now, format!("disputed: {reason}")))
    }
}
