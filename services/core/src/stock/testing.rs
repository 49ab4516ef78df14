//! Fixtures shared by the planners' tests.

use super::balance::Balance;
use super::lot::{Day, FundingSource, Lot, LotId, LotNumber};
use super::pick::LineState;
use crate::depot::{Depot, DepotCode, DepotDraft, DepotPath, NewDepot};
use crate::item::{Item, ItemDraft, ItemId, NewItem};
use crate::tier::Tier;
use crate::time::UtcMillis;

/// 2026-11-28 12:00 in Beijing.
pub const NOW: UtcMillis = 1_795_838_400_000;

/// Today at [`NOW`].
pub fn today() -> Day {
    Day::today(NOW)
}

/// Ids e1, e2, ... in order.
pub fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("e{n}")
    }
}

/// An item "water": tracking 1 (lot) or 2 (serial), with a shelf life.
pub fn item(tracking: i32, shelf: i32) -> Item {
    NewItem::parse(&ItemDraft {
        id: "water".into(),
        code: "1060101".into(),
        name: "水".into(),
        unit: "箱".into(),
        tracking,
        shelf_life_days: shelf,
        near_expiry_days: Some(30),
        ..Default::default()
    })
    .unwrap()
    .into_item(DepotCode::from_stored("HB-SY".into()), 0)
}

/// A lot `id` numbered `N{id}`, expiring in `expiry_in` days.
pub fn lot(id: &str, expiry_in: Option<i64>) -> Lot {
    Lot {
        id: LotId(id.into()),
        item: ItemId::from_stored("water".into()),
        number: LotNumber::from_stored(format!("N{id}")),
        production: None,
        expiry: expiry_in.map(|d| today().plus(d)),
        manufacturer: String::new(),
        funding: FundingSource::Budget,
        created_at: 0,
    }
}

/// A line of lot `id` with `on_hand` units, none reserved or held.
pub fn line(id: &str, expiry_in: Option<i64>, on_hand: i64) -> LineState {
    LineState {
        lot: lot(id, expiry_in),
        owner: Tier::City,
        balance: Balance {
            on_hand,
            ..Balance::default()
        },
    }
}

/// The city depot HB-SY.
pub fn depot() -> Depot {
    NewDepot::parse(&DepotDraft {
        code: "HB-SY".into(),
        name: "十堰".into(),
        tier: 2,
        parent_code: "HB".into(),
        division_code: "420300".into(),
        latitude: 32.6,
        longitude: 110.8,
        ..Default::default()
    })
    .unwrap()
    .into_depot(DepotPath::from_stored("/HB/HB-SY/".into()), 0)
}
