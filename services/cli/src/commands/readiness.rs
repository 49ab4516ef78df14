//! `reservectl readiness`: how soon a standard relief kit could reach each
//! township point and county of a subtree from its county, its city and the
//! province, against the first-batch targets (6, 8 and 10 hours), and why
//! a place misses one.

use super::choices::tier_label;
use super::propose::hours;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::sourcing_service_client::SourcingServiceClient;

/// Which subtree, and for how many people.
#[derive(clap::Args, Debug)]
pub struct ReadinessArgs {
    /// Subtree (default: your scope depot).
    #[arg(long)]
    depot: Option<String>,
    /// People the kit is for (default: 1,000).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=1_000_000))]
    people: Option<i32>,
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    let flag = match field {
        "depot_code" => "--depot",
        "people" => "--people",
        _ => return None,
    };
    Some(flag.to_string())
}

/// The levels in the order the table shows them.
const LEVELS: [pb::Tier; 3] = [pb::Tier::County, pb::Tier::City, pb::Tier::Province];

/// One level's cell: the arrival hours and met or missed, with the item
/// that arrives last (or cannot be met, and how many units of it).
pub fn level_cell(l: Option<&pb::LevelReadiness>) -> String {
    let Some(l) = l else {
        return "-".into();
    };
    let item = if l.binding_item_id.is_empty() {
        String::new()
    } else {
        format!(" ({})", l.binding_item_id)
    };
    match l.arrival_hours {
        Some(h) if l.met => format!("met {}{item}", hours(h)),
        Some(h) => format!("MISSED {}{item}", hours(h)),
        None => format!("MISSED: {} short {}", l.binding_item_id, l.unmet),
    }
}

/// The level of `p` for `tier`.
fn level(p: &pb::PlaceReadiness, tier: pb::Tier) -> Option<&pb::LevelReadiness> {
    p.levels.iter().find(|l| l.tier == tier as i32)
}

/// A column header: `county ≤ 6 h`, with the target the server measured.
fn level_header(places: &[pb::PlaceReadiness], tier: pb::Tier, default: f64) -> String {
    let target = places
        .iter()
        .find_map(|p| level(p, tier))
        .map_or(default, |l| l.target_hours);
    let word = match tier {
        pb::Tier::County => "county",
        pb::Tier::City => "city",
        _ => "province",
    };
    format!("{word} ≤ {target} h")
}

/// Runs `readiness`.
pub async fn run(a: ReadinessArgs, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let r = SourcingServiceClient::new(ch)
        .readiness_report(pb::ReadinessReportRequest {
            depot_code: a.depot.unwrap_or_default(),
            people: a.people.unwrap_or(0),
        })
        .await?
        .into_inner();
    if fmt == Format::Json {
        return json("reserve.v1.ReadinessReportResponse", &r);
    }
    print(&r);
    Ok(())
}

/// The report as people read it: the kit, a row per place, and the places
/// that miss a target.
pub fn print(r: &pb::ReadinessReportResponse) {
    let kit: Vec<String> = r
        .kit
        .iter()
        .map(|k| format!("{} {}", k.item_id, k.needed))
        .collect();
    println!(
        "a relief kit for {} people: {} (expired, held and reserved stock does not count)",
        r.people,
        kit.join(", ")
    );
    let headers: Vec<String> = ["code", "name", "tier"]
        .iter()
        .map(|s| s.to_string())
        .chain(
            LEVELS
                .iter()
                .zip([6.0, 8.0, 10.0])
                .map(|(t, d)| level_header(&r.places, *t, d)),
        )
        .chain(["agreements alone".to_string(), "overall".to_string()])
        .collect();
    let header: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = table(&header);
    for p in &r.places {
        let mut row = vec![
            p.depot_code.clone(),
            p.depot_name.clone(),
            tier_label(p.tier),
        ];
        row.extend(LEVELS.iter().map(|tier| level_cell(level(p, *tier))));
        row.push(p.agreement_hours.map_or_else(|| "short".to_string(), hours));
        row.push(if p.met { "met" } else { "MISSED" }.to_string());
        t.add_row(row);
    }
    print_table(&t);
    let missed = r.places.iter().filter(|p| !p.met).count();
    if missed == 0 {
        println!("every place meets every target");
    } else {
        println!("{missed} of {} places miss a target", r.places.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_says_met_or_missed_and_why() {
        let mut l = pb::LevelReadiness {
            tier: pb::Tier::County as i32,
            target_hours: 6.0,
            arrival_hours: Some(2.5),
            met: true,
            binding_item_id: "tent-12m2".into(),
            unmet: 0,
        };
        assert_eq!(level_cell(Some(&l)), "met 2.50 h (tent-12m2)");
        l.arrival_hours = Some(7.25);
        l.met = false;
        assert_eq!(level_cell(Some(&l)), "MISSED 7.25 h (tent-12m2)");
        l.arrival_hours = None;
        l.unmet = 120;
        assert_eq!(level_cell(Some(&l)), "MISSED: tent-12m2 short 120");
        assert_eq!(level_cell(None), "-");
    }
}
