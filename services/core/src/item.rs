//! The item catalogue: what the network stocks and how each item is tracked.

use crate::depot::DepotCode;
use crate::error::{ErrorKind, Failure};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Stable item id: 2 to 40 characters of `a-z`, `0-9` and `-`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemId(String);

impl ItemId {
    /// Parses an id as a client sent it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (2..=40).contains(&raw.len())
            && raw
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if raw.is_empty() {
            Err("is required".into())
        } else if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(
                "must be 2 to 40 characters of a-z, 0-9 and '-', starting with a letter or digit"
                    .into(),
            )
        }
    }

    /// Wraps an id read from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ItemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Classification code in the GB/T 38565-2020 shape: class digit 1-3, then
/// sub-class, minor and detail class, two digits each (01-99; 99 = other).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemCode(String);

impl ItemCode {
    /// Checks the shape. The lower levels' tables are not published with the
    /// standard's summary, so only the shape is checked, not the meaning.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        if raw.len() != 7 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 7 digits in the GB/T 38565 shape: class, sub-class, minor, detail (e.g. 1010101)".into());
        }
        if !matches!(&raw[0..1], "1" | "2" | "3") {
            return Err("class (first digit) must be 1 living supplies, 2 equipment or 3 engineering materials and machinery".into());
        }
        for (name, range) in [
            ("sub-class", 1..3),
            ("minor class", 3..5),
            ("detail class", 5..7),
        ] {
            if &raw[range] == "00" {
                return Err(format!(
                    "{name} digits must be 01 to 99 (99 = other), not 00"
                ));
            }
        }
        Ok(Self(raw.to_string()))
    }

    /// Wraps a code read from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a code prefix used to select a category: 1 to 7 digits.
pub fn parse_code_prefix(raw: &str) -> Result<String, String> {
    if raw.len() > 7 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be 1 to 7 digits of a GB/T 38565 code, e.g. 1 or 101".into());
    }
    Ok(raw.to_string())
}

/// How units of an item are told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tracking {
    /// By lot (consumables).
    Lot,
    /// By serial number, one asset per unit (equipment).
    Serial,
}

impl Tracking {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            Tracking::Lot => 1,
            Tracking::Serial => 2,
        }
    }

    /// The mode with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Tracking::Lot),
            2 => Some(Tracking::Serial),
            _ => None,
        }
    }
}

/// Default near-expiry warning window.
pub const DEFAULT_NEAR_EXPIRY_DAYS: i32 = 90;

/// An item as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id.
    pub id: ItemId,
    /// GB/T 38565 classification.
    pub code: ItemCode,
    /// Chinese name.
    pub name: String,
    /// Specification.
    pub specification: String,
    /// Unit of count.
    pub unit: String,
    /// Lot or serial.
    pub tracking: Tracking,
    /// Shelf life in days, 0 for none.
    pub shelf_life_days: i32,
    /// Quality-test interval in days, 0 for none.
    pub quality_test_interval_days: i32,
    /// Near-expiry window in days.
    pub near_expiry_days: i32,
    /// Upkeep interval in days, 0 for none.
    pub upkeep_interval_days: i32,
    /// Must be recovered after use.
    pub recoverable: bool,
    /// May be leased.
    pub leasable: bool,
    /// Reference value per unit, fen.
    pub unit_value_fen: i64,
    /// Volume per unit, cm³.
    pub volume_per_unit_cm3: i64,
    /// Depot whose admins maintain the item.
    pub owner: DepotCode,
    /// Version, from 1.
    pub version: i64,
    /// Creation time.
    pub created_at: UtcMillis,
    /// Last change.
    pub updated_at: UtcMillis,
}

/// An item as the client sent it. `tracking` is the raw wire number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemDraft {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Specification.
    pub specification: String,
    /// Unit.
    pub unit: String,
    /// Tracking number.
    pub tracking: i32,
    /// Shelf life.
    pub shelf_life_days: i32,
    /// Quality-test interval.
    pub quality_test_interval_days: i32,
    /// Near-expiry window; `None` means the default.
    pub near_expiry_days: Option<i32>,
    /// Upkeep interval.
    pub upkeep_interval_days: i32,
    /// Recoverable.
    pub recoverable: bool,
    /// Leasable.
    pub leasable: bool,
    /// Unit value, fen.
    pub unit_value_fen: i64,
    /// Volume, cm³.
    pub volume_per_unit_cm3: i64,
}

/// An item that passed every field rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewItem {
    /// Id.
    pub id: ItemId,
    /// Code.
    pub code: ItemCode,
    /// Name.
    pub name: String,
    /// Specification.
    pub specification: String,
    /// Unit.
    pub unit: String,
    /// Tracking.
    pub tracking: Tracking,
    /// Shelf life.
    pub shelf_life_days: i32,
    /// Quality-test interval.
    pub quality_test_interval_days: i32,
    /// Near-expiry window.
    pub near_expiry_days: i32,
    /// Upkeep interval.
    pub upkeep_interval_days: i32,
    /// Recoverable.
    pub recoverable: bool,
    /// Leasable.
    pub leasable: bool,
    /// Unit value.
    pub unit_value_fen: i64,
    /// Volume.
    pub volume_per_unit_cm3: i64,
}

fn days(raw: i32, max: i32, what: &str) -> Result<i32, String> {
    if (0..=max).contains(&raw) {
        Ok(raw)
    } else {
        Err(format!("must be 0 (no {what}) to {max} days"))
    }
}

impl NewItem {
    /// Checks every field rule, collecting all violations.
    pub fn parse(d: &ItemDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let id = v.take("id", ItemId::parse(&d.id));
        let code = v.take("code", ItemCode::parse(&d.code));
        let name = v.take("name", text::required(&d.name, 100));
        let specification = v.take("specification", text::optional(&d.specification, 200));
        let unit = v.take("unit", text::required(&d.unit, 8));
        let tracking = match d.tracking {
            0 => {
                v.add(
                    "tracking",
                    "is required: lot (consumables) or serial (equipment)",
                );
                None
            }
            n => v.take(
                "tracking",
                Tracking::from_number(n as i64)
                    .ok_or_else(|| format!("{n} is not a tracking mode")),
            ),
        };
        let shelf = v.take(
            "shelf_life_days",
            days(d.shelf_life_days, 36_500, "shelf life"),
        );
        let qt = v.take(
            "quality_test_interval_days",
            days(d.quality_test_interval_days, 36_500, "quality test"),
        );
        let near = d.near_expiry_days.unwrap_or(DEFAULT_NEAR_EXPIRY_DAYS);
        if !(1..=3650).contains(&near) {
            v.add("near_expiry_days", "must be 1 to 3650 days");
        } else if let Some(s) = shelf.filter(|s| *s > 0 && near >= *s) {
            v.add(
                "near_expiry_days",
                format!("must be shorter than the shelf life ({s} days), or every lot would always be near expiry"),
            );
        }
        let upkeep = v.take(
            "upkeep_interval_days",
            days(d.upkeep_interval_days, 3650, "upkeep"),
        );
        if !(0..=100_000_000_000).contains(&d.unit_value_fen) {
            v.add("unit_value_fen", "must be 0 to 100,000,000,000 fen");
        }
        if !(0..=1_000_000_000_000).contains(&d.volume_per_unit_cm3) {
            v.add("volume_per_unit_cm3", "must be 0 to 1,000,000,000,000 cm³");
        }
        match (
            id,
            code,
            name,
            specification,
            unit,
            tracking,
            shelf,
            qt,
            upkeep,
        ) {
            (
                Some(id),
                Some(code),
                Some(name),
                Some(specification),
                Some(unit),
                Some(tracking),
                Some(shelf_life_days),
                Some(quality_test_interval_days),
                Some(upkeep_interval_days),
            ) if v.is_empty() => Ok(NewItem {
                id,
                code,
                name,
                specification,
                unit,
                tracking,
                shelf_life_days,
                quality_test_interval_days,
                near_expiry_days: near,
                upkeep_interval_days,
                recoverable: d.recoverable,
                leasable: d.leasable,
                unit_value_fen: d.unit_value_fen,
                volume_per_unit_cm3: d.volume_per_unit_cm3,
            }),
            _ => Err(v),
        }
    }

    /// The item as first stored, maintained by `owner`.
    pub fn into_item(self, owner: DepotCode, now: UtcMillis) -> Item {
        Item {
            id: self.id,
            code: self.code,
            name: self.name,
            specification: self.specification,
            unit: self.unit,
            tracking: self.tracking,
            shelf_life_days: self.shelf_life_days,
            quality_test_interval_days: self.quality_test_interval_days,
            near_expiry_days: self.near_expiry_days,
            upkeep_interval_days: self.upkeep_interval_days,
            recoverable: self.recoverable,
            leasable: self.leasable,
            unit_value_fen: self.unit_value_fen,
            volume_per_unit_cm3: self.volume_per_unit_cm3,
            owner,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Fields an item update mask may name.
pub const UPDATABLE_FIELDS: [&str; 12] = [
    "code",
    "name",
    "specification",
    "unit",
    "shelf_life_days",
    "quality_test_interval_days",
    "near_expiry_days",
    "upkeep_interval_days",
    "recoverable",
    "leasable",
    "unit_value_fen",
    "volume_per_unit_cm3",
];

impl Item {
    /// The item as a draft, so an update can overlay fields and re-check them all.
    pub fn to_draft(&self) -> ItemDraft {
        ItemDraft {
            id: self.id.as_str().to_string(),
            code: self.code.as_str().to_string(),
            name: self.name.clone(),
            specification: self.specification.clone(),
            unit: self.unit.clone(),
            tracking: self.tracking.number() as i32,
            shelf_life_days: self.shelf_life_days,
            quality_test_interval_days: self.quality_test_interval_days,
            near_expiry_days: Some(self.near_expiry_days),
            upkeep_interval_days: self.upkeep_interval_days,
            recoverable: self.recoverable,
            leasable: self.leasable,
            unit_value_fen: self.unit_value_fen,
            volume_per_unit_cm3: self.volume_per_unit_cm3,
        }
    }

    /// Applies an update: checks the mask, overlays the masked values and
    /// re-checks every field. Returns the item's new field values.
    pub fn patched(&self, mask: &[String], values: &ItemDraft) -> Result<NewItem, Violations> {
        let mut v = Violations::new();
        if mask.is_empty() {
            v.add(
                "update_mask",
                format!(
                    "must name at least one field: {}",
                    UPDATABLE_FIELDS.join(", ")
                ),
            );
            return Err(v);
        }
        let mut d = self.to_draft();
        for path in mask {
            match path.as_str() {
                "code" => d.code = values.code.clone(),
                "name" => d.name = values.name.clone(),
                "specification" => d.specification = values.specification.clone(),
                "unit" => d.unit = values.unit.clone(),
                "shelf_life_days" => d.shelf_life_days = values.shelf_life_days,
                "quality_test_interval_days" => {
                    d.quality_test_interval_days = values.quality_test_interval_days
                }
                "near_expiry_days" => d.near_expiry_days = values.near_expiry_days,
                "upkeep_interval_days" => d.upkeep_interval_days = values.upkeep_interval_days,
                "recoverable" => d.recoverable = values.recoverable,
                "leasable" => d.leasable = values.leasable,
                "unit_value_fen" => d.unit_value_fen = values.unit_value_fen,
                "volume_per_unit_cm3" => d.volume_per_unit_cm3 = values.volume_per_unit_cm3,
                "id" | "tracking" => v.add(
                    "update_mask",
                    format!("'{path}' never changes once an item exists"),
                ),
                "owner_depot_code" | "etag" | "create_time" | "update_time" => {
                    v.add("update_mask", format!("'{path}' is output only"))
                }
                other => v.add(
                    "update_mask",
                    format!(
                        "'{other}' is not an item field; updatable: {}",
                        UPDATABLE_FIELDS.join(", ")
                    ),
                ),
            }
        }
        if !v.is_empty() {
            return Err(v);
        }
        NewItem::parse(&d).map_err(|v| v.prefixed("item"))
    }
}

/// Every way an item change can break a rule that needs stored state.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ItemError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// No such item.
    #[error("item {0} not found")]
    NotFound(ItemId),
    /// The id is taken.
    #[error("item {0} already exists")]
    AlreadyExists(ItemId),
    /// The etag sent is not the current one.
    #[error(
        "item {item} has changed since it was read (etag {sent}, now {current}); read it again"
    )]
    StaleEtag {
        /// The item.
        item: ItemId,
        /// Etag sent.
        sent: i64,
        /// Current version.
        current: i64,
    },
}

impl Failure for ItemError {
    fn kind(&self) -> ErrorKind {
        match self {
            ItemError::Invalid(v) => v.kind(),
            ItemError::NotFound(id) => ErrorKind::NotFound {
                resource: format!("items/{id}"),
            },
            ItemError::AlreadyExists(id) => ErrorKind::AlreadyExists {
                resource: format!("items/{id}"),
            },
            ItemError::StaleEtag { .. } => ErrorKind::Aborted {
                message: self.to_string(),
            },
        }
    }
}

impl From<Violations> for ItemError {
    fn from(v: Violations) -> Self {
        ItemError::Invalid(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tent() -> ItemDraft {
        ItemDraft {
            id: "tent-12m2".into(),
            code: "1010101".into(),
            name: "救灾帐篷".into(),
            specification: "12平方米 单帐篷".into(),
            unit: "顶".into(),
            tracking: 1,
            recoverable: true,
            unit_value_fen: 150_000,
            ..Default::default()
        }
    }

    fn fields(v: &Violations) -> Vec<&str> {
        v.as_slice().iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_tent_parses_with_the_default_near_expiry_window() {
        let i = NewItem::parse(&tent()).unwrap();
        assert_eq!(i.near_expiry_days, 90);
        assert_eq!(i.tracking, Tracking::Lot);
    }

    #[test]
    fn item_codes_follow_the_gbt_38565_shape() {
        assert!(ItemCode::parse("1010101").is_ok());
        assert!(ItemCode::parse("2999999").is_ok());
        for bad in [
            "", "101010", "10101011", "4010101", "1000101", "10101a1", "1010100",
        ] {
            assert!(ItemCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_broken_item_field_is_named() {
        let mut d = tent();
        d.id = "Tent 1".into();
        d.unit = "".into();
        d.tracking = 0;
        d.shelf_life_days = -1;
        d.unit_value_fen = -5;
        let v = NewItem::parse(&d).unwrap_err();
        assert_eq!(
            fields(&v),
            vec![
                "id",
                "unit",
                "tracking",
                "shelf_life_days",
                "unit_value_fen"
            ]
        );
    }

    #[test]
    fn the_near_expiry_window_must_be_shorter_than_the_shelf_life() {
        let mut d = tent();
        d.shelf_life_days = 60;
        assert_eq!(
            fields(&NewItem::parse(&d).unwrap_err()),
            vec!["near_expiry_days"]
        );
        d.near_expiry_days = Some(30);
        assert!(NewItem::parse(&d).is_ok());
    }

    #[test]
    fn an_update_cannot_change_id_or_tracking() {
        let item = NewItem::parse(&tent())
            .unwrap()
            .into_item(crate::depot::DepotCode::parse("HB").unwrap(), 0);
        let v = item
            .patched(&["tracking".to_string()], &ItemDraft::default())
            .unwrap_err();
        assert_eq!(fields(&v), vec!["update_mask"]);
        let ok = item
            .patched(
                &["unit_value_fen".to_string()],
                &ItemDraft {
                    unit_value_fen: 1,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(ok.unit_value_fen, 1);
        assert_eq!(ok.name, "救灾帐篷");
    }
}
