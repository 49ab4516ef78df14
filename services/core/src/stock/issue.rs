//! Issues: stock leaving a depot to an incident or for use, first expired
//! first out unless a lot or serial numbers are named.

use super::balance::Delta;
use super::document::DocId;
use super::entry::{AssetPlace, AssetStatus, EntryDraft, EntryType};
use super::error::StockError;
use super::fields;
use super::lot::{Day, LotNumber, SerialNumber};
use super::minimum::{MinimumOverride, check_minimum};
use super::pick::{AssetState, LineState, Take, group_serials, insufficient, sorted_fefo};
use crate::depot::DepotCode;
use crate::item::{Item, ItemId, Tracking};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// What an issue is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuePurpose {
    /// To an incident.
    Incident,
    /// For use.
    Use,
}

impl IssuePurpose {
    fn label(self) -> &'static str {
        match self {
            IssuePurpose::Incident => "issue to incident",
            IssuePurpose::Use => "issue for use",
        }
    }
}

/// An issue as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Units.
    pub quantity: i64,
    /// Lot number, empty for FEFO.
    pub lot_number: String,
    /// Serial numbers.
    pub serials: Vec<String>,
    /// Purpose number.
    pub purpose: i32,
    /// Incident or user.
    pub recipient: String,
    /// Document.
    pub document: String,
    /// Reason.
    pub reason: String,
    /// Break the reserve minimum.
    pub override_minimum: bool,
    /// Why.
    pub override_reason: String,
    /// Business time as a wire timestamp (seconds, nanos).
    pub occurred_time: Option<(i64, i32)>,
    /// Incident id, or empty.
    pub incident: String,
    /// Issue assets overdue for upkeep.
    pub override_upkeep: bool,
    /// Why; required with the override.
    pub upkeep_override_reason: String,
}

/// An issue that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Units.
    pub quantity: i64,
    /// Lot asked for.
    pub lot_number: Option<LotNumber>,
    /// Serial numbers asked for.
    pub serials: Vec<SerialNumber>,
    /// Purpose.
    pub purpose: IssuePurpose,
    /// Incident or user.
    pub recipient: String,
    /// Document.
    pub document: String,
    /// Reason.
    pub reason: String,
    /// Why the reserve minimum may be broken, if it may.
    pub override_minimum: Option<String>,
    /// Business time.
    pub occurred_at: UtcMillis,
    /// The incident the units go to.
    #[serde(default)]
    pub incident: Option<DocId>,
    /// Why assets overdue for upkeep may go, if they may.
    #[serde(default)]
    pub override_upkeep: Option<String>,
}

impl Issue {
    /// Checks every field rule of an issue, reporting all broken ones.
    pub fn parse(d: &IssueDraft, now: UtcMillis) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = match d.lot_number.trim() {
            "" => None,
            n => v.take("lot_number", LotNumber::parse(n)),
        };
        let serials = fields::serials("serial_numbers", &d.serials, &mut v);
        let quantity = fields::units("quantity", d.quantity, &serials, &mut v);
        let purpose = match d.purpose {
            1 => Some(IssuePurpose::Incident),
            2 => Some(IssuePurpose::Use),
            0 => {
                v.add("purpose", "is required: incident or use");
                None
            }
            n => {
                v.add("purpose", format!("{n} is not an issue purpose"));
                None
            }
        };
        let recipient = v.take("recipient", text::required(&d.recipient, 100));
        let document = v.take("document", text::optional(&d.document, 64));
        let reason = v.take("reason", text::optional(&d.reason, 500));
        let override_minimum = if d.override_minimum {
            v.take(
                "override_reason",
                text::required(&d.override_reason, 500)
                    .map_err(|_| "is required when override_reserve_minimum is set".to_string()),
            )
        } else {
            None
        };
        let override_upkeep = if d.override_upkeep {
            v.take(
                "upkeep_override_reason",
                text::required(&d.upkeep_override_reason, 500)
                    .map_err(|_| "is required when override_upkeep_overdue is set".to_string()),
            )
        } else {
            None
        };
        let occurred_at = fields::occurred_at(d.occurred_time, now, &mut v);
        let incident = match d.incident.trim() {
            "" => None,
            i => v.take("incident_id", DocId::parse(i)),
        };
        if incident.is_some() && purpose == Some(IssuePurpose::Use) {
            v.add(
                "incident_id",
                "is only for issues to an incident (purpose incident)",
            );
        }
        match (depot, item, purpose, recipient, document, reason) {
            (
                Some(depot),
                Some(item),
                Some(purpose),
                Some(recipient),
                Some(document),
                Some(reason),
            ) if v.is_empty() => Ok(Issue {
                depot,
                item,
                quantity,
                lot_number,
                serials,
                purpose,
                recipient,
                document,
                reason,
                override_minimum,
                occurred_at,
                incident,
                override_upkeep,
            }),
            _ => Err(v),
        }
    }
}

/// What an accepted issue posts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuePlan {
    /// One entry per lot, in FEFO order.
    pub entries: Vec<EntryDraft>,
    /// The reserve minimum broken on purpose, if it was.
    pub overridden: Option<MinimumOverride>,
}

/// Decides which lots an issue takes from: the named serials, the named lot,
/// or first-expired-first-out over lots that are not expired. `lines` are all
/// stock lines of the item at the depot; `assets` its assets there;
/// `minimum` the depot's reserve minimum for the item (0 if none).
pub fn plan_issue(
    req: &Issue,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
    minimum: i64,
    today: Day,
    new_id: &mut dyn FnMut() -> String,
) -> Result<IssuePlan, StockError> {
    if item.tracking == Tracking::Lot && !req.serials.is_empty() {
        super::pick::tracking_rule(item, &req.serials)?;
    }
    let usable: Vec<&LineState> = match &req.lot_number {
        Some(n) => {
            let line = lines.iter().find(|l| &l.lot.number == n).ok_or_else(|| {
                StockError::LotNotAtDepot {
                    depot: req.depot.to_string(),
                    item: req.item.to_string(),
                    lot: n.as_str().to_string(),
                }
            })?;
            if let Some(e) = line.lot.expiry.filter(|_| line.lot.is_expired(today)) {
                return Err(StockError::LotExpired {
                    lot: n.as_str().to_string(),
                    expiry: e.date().to_string(),
                });
            }
            vec![line]
        }
        None => sorted_fefo(lines)
            .into_iter()
            .filter(|l| !l.lot.is_expired(today))
            .collect(),
    };
    let takes = if req.serials.is_empty() {
        fefo_takes(req, item, &usable, assets)?
    } else {
        named_serial_takes(req, lines, &usable, assets, today)?
    };
    let available: i64 = lines
        .iter()
        .map(|l| l.balance.available(l.lot.is_expired(today)))
        .fold(0i64, i64::saturating_add);
    let overridden = check_minimum(
        &req.depot,
        &req.item,
        minimum,
        available,
        req.quantity,
        req.override_minimum.as_deref(),
    )?;
    let mut reason = req.purpose.label().to_string();
    if !req.reason.is_empty() {
        reason = format!("{reason}: {}", req.reason);
    }
    if let Some(o) = &overridden {
        reason = format!(
            "{reason}; reserve minimum {} overridden ({} left): {}",
            o.minimum, o.left, o.reason
        );
    }
    let entries = takes
        .into_iter()
        .map(|t| {
            EntryDraft::new(
                new_id(),
                EntryType::Issue,
                &req.depot,
                &t.lot,
                Delta::on_hand(-t.quantity),
                req.occurred_at,
            )
            .reason(reason.clone())
            .paper(&req.document, &req.recipient)
            .for_incident(req.incident.as_ref().map(DocId::to_string))
            .serials(t.serials)
        })
        .collect();
    Ok(IssuePlan {
        entries,
        overridden,
    })
}

fn fefo_takes(
    req: &Issue,
    item: &Item,
    usable: &[&LineState],
    assets: &[AssetState],
) -> Result<Vec<Take>, StockError> {
    let total = usable
        .iter()
        .map(|l| l.balance.free())
        .fold(0i64, i64::saturating_add);
    if total < req.quantity {
        return Err(insufficient(
            &req.depot,
            &req.item,
            req.lot_number.as_ref(),
            req.quantity,
            total,
        ));
    }
    let mut left = req.quantity;
    let mut takes = Vec::new();
    for line in usable {
        if left == 0 {
            break;
        }
        let n = line.balance.free().min(left);
        if n <= 0 {
            continue;
        }
        let serials = if item.tracking == Tracking::Serial {
            let mut s: Vec<SerialNumber> = assets
                .iter()
                .filter(|a| {
                    a.lot == line.lot.id
                        && a.is_at(&req.depot, &AssetPlace::free(AssetStatus::InStock))
                })
                .map(|a| a.serial.clone())
                .collect();
            s.sort();
            if (s.len() as i64) < n {
                return Err(insufficient(
                    &req.depot,
                    &req.item,
                    Some(&line.lot.number),
                    n,
                    s.len() as i64,
                ));
            }
            s.truncate(n as usize);
            s
        } else {
            Vec::new()
        };
        takes.push(Take {
            lot: line.lot.clone(),
            quantity: n,
            serials,
        });
        left -= n;
    }
    Ok(takes)
}

fn named_serial_takes(
    req: &Issue,
    lines: &[LineState],
    usable: &[&LineState],
    assets: &[AssetState],
    today: Day,
) -> Result<Vec<Take>, StockError> {
    let groups = group_serials(
        &req.serials,
        assets,
        &req.depot,
        &AssetPlace::free(AssetStatus::InStock),
        lines,
    )?;
    let mut takes = Vec::new();
    for (line, serials) in groups {
        if !usable.iter().any(|u| u.lot.id == line.lot.id) {
            return match line.lot.expiry.filter(|_| line.lot.is_expired(today)) {
                Some(e) => Err(StockError::LotExpired {
                    lot: line.lot.number.as_str().to_string(),
                    expiry: e.date().to_string(),
                }),
                None => Err(StockError::SerialNotAvailable {
                    serial: serials.first().map(|s| s.to_string()).unwrap_or_default(),
                    status: format!("in lot {}", line.lot.number.as_str()),
                    needed: "in the lot named",
                    depot: req.depot.to_string(),
                }),
            };
        }
        let n = serials.len() as i64;
        if line.balance.free() < n {
            return Err(insufficient(
                &req.depot,
                &req.item,
                Some(&line.lot.number),
                n,
                line.balance.free(),
            ));
        }
        takes.push(Take {
            lot: line.lot,
            quantity: n,
            serials,
        });
    }
    Ok(takes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::lot::LotId;
    use crate::stock::testing::{NOW, ids, item, line, today};

    fn issue(q: i64, lot: &str, serials: &[&str]) -> Issue {
        Issue::parse(
            &IssueDraft {
                depot: "HB-SY".into(),
                item: "water".into(),
                quantity: q,
                lot_number: lot.into(),
                serials: serials.iter().map(|s| s.to_string()).collect(),
                purpose: 1,
                recipient: "2026年7月竹山县洪涝".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap()
    }

    fn plan(
        req: &Issue,
        it: &Item,
        lines: &[LineState],
        assets: &[AssetState],
        minimum: i64,
    ) -> Result<IssuePlan, StockError> {
        plan_issue(req, it, lines, assets, minimum, today(), &mut ids())
    }

    #[test]
    fn fefo_takes_the_soonest_expiry_first_and_skips_expired_lots() {
        let lines = vec![
            line("late", Some(300), 10),
            line("expired", Some(0), 50),
            line("soon", Some(20), 4),
            line("never", None, 100),
        ];
        let p = plan(&issue(12, "", &[]), &item(1, 0), &lines, &[], 0).unwrap();
        let picked: Vec<_> = p
            .entries
            .iter()
            .map(|e| (e.lot.id.0.as_str(), e.delta.on_hand))
            .collect();
        assert_eq!(picked, vec![("soon", -4), ("late", -8)]);
    }

    #[test]
    fn an_expired_lot_is_never_issued_even_when_named() {
        let lines = vec![line("expired", Some(0), 50)];
        let err = plan(&issue(1, "Nexpired", &[]), &item(1, 0), &lines, &[], 0).unwrap_err();
        assert!(matches!(err, StockError::LotExpired { .. }));
        let err = plan(&issue(1, "", &[]), &item(1, 0), &lines, &[], 0).unwrap_err();
        assert!(matches!(
            err,
            StockError::InsufficientStock { available: 0, .. }
        ));
    }

    #[test]
    fn reserved_and_held_units_are_not_issued() {
        let mut l = line("a", None, 10);
        l.balance.reserved = 4;
        l.balance.held = 3;
        let err = plan(&issue(4, "", &[]), &item(1, 0), &[l], &[], 0).unwrap_err();
        assert!(matches!(
            err,
            StockError::InsufficientStock {
                requested: 4,
                available: 3,
                ..
            }
        ));
    }

    #[test]
    fn the_reserve_minimum_needs_an_override_which_the_entry_records() {
        let lines = vec![line("a", None, 100)];
        let err = plan(&issue(30, "", &[]), &item(1, 0), &lines, &[], 80).unwrap_err();
        assert!(matches!(
            err,
            StockError::BelowReserveMinimum {
                minimum: 80,
                after: 70,
                ..
            }
        ));
        assert!(plan(&issue(20, "", &[]), &item(1, 0), &lines, &[], 80).is_ok());
        let mut overridden = issue(30, "", &[]);
        overridden.override_minimum = Some("县指挥部口头命令".into());
        let p = plan(&overridden, &item(1, 0), &lines, &[], 80).unwrap();
        assert_eq!(p.overridden.unwrap().left, 70);
        assert!(p.entries[0].reason.contains("县指挥部口头命令"));
    }

    #[test]
    fn named_serials_must_be_in_stock_here_and_not_held() {
        let generator = item(2, 0);
        let lines = vec![line("a", None, 2)];
        let asset = |s: &str, status| AssetState {
            serial: SerialNumber::from_stored(s.into()),
            lot: LotId("a".into()),
            depot: DepotCode::from_stored("HB-SY".into()),
            status,
            holder: None,
        };
        let assets = vec![
            asset("G1", AssetStatus::InStock),
            asset("G2", AssetStatus::Held),
        ];
        let p = plan(&issue(0, "", &["G1"]), &generator, &lines, &assets, 0).unwrap();
        assert_eq!(p.entries[0].serials[0].as_str(), "G1");
        assert_eq!(
            p.entries[0].assets.as_ref().unwrap().to.status,
            AssetStatus::Issued
        );
        for s in ["G2", "G9"] {
            let err = plan(&issue(0, "", &[s]), &generator, &lines, &assets, 0).unwrap_err();
            assert!(matches!(err, StockError::SerialNotAvailable { .. }), "{s}");
        }
        // Without serials, the system picks in-stock assets by FEFO then serial order.
        let p = plan(&issue(1, "", &[]), &generator, &lines, &assets, 0).unwrap();
        assert_eq!(p.entries[0].serials[0].as_str(), "G1");
    }

    #[test]
    fn field_rules_of_an_issue_name_their_fields() {
        let v = Issue::parse(
            &IssueDraft {
                depot: "HB-SY".into(),
                item: "water".into(),
                quantity: 2,
                serials: vec!["A".into(), "A".into()],
                override_minimum: true,
                ..Default::default()
            },
            NOW,
        )
        .unwrap_err();
        let fields: Vec<_> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "serial_numbers[1]",
                "quantity",
                "purpose",
                "recipient",
                "override_reason"
            ]
        );
    }
}
