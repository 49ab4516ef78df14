//! An order as the dispatcher writes it: the flags of `orders create` and
//! `orders amend`, and its lines from `--line` or a YAML or JSON file.

use crate::commands::choices::{KindArg, PriorityArg};
use crate::when;
use reserve_api::pb::google::r#type::LatLng;
use reserve_api::pb::reserve::v1 as pb;
use serde::Deserialize;
use std::path::Path;

/// The fields a dispatcher writes on an order. On `amend`, whatever is left
/// out stays as it is.
#[derive(clap::Args, Debug, Default)]
pub struct OrderFields {
    /// Everything but the lines.
    #[command(flatten)]
    pub header: OrderHeader,
    /// A line: ITEM:QTY, sourced with :SOURCE=QTY[@LOT][,SOURCE=QTY[@LOT]...]
    /// (no lot: first-expired-first-out at approval); repeat for more items,
    /// e.g. quilt-cotton:500:HB-SY-ZS=300,HB-SY=200.
    #[arg(long = "line", value_parser = parse_line, value_name = "ITEM:QTY:SOURCE=QTY[@LOT],...")]
    pub lines: Vec<LineSpec>,
    /// The lines from a YAML or JSON file (.json is read as JSON): a list of
    /// {item, quantity, sources: [{depot, quantity, lot}]}, or the same under
    /// `lines:`.
    #[arg(long, conflicts_with = "lines", value_name = "FILE", value_parser = read_lines_file)]
    pub lines_file: Option<LinesFile>,
}

/// The header of an order: what, how urgent, where, why and who receives
/// it; shared by `orders create`, `orders amend` and `propose
/// --create-order`.
#[derive(clap::Args, Debug, Default)]
pub struct OrderHeader {
    /// What the order does (a new order: transfer unless given).
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// How urgent it is (a new order: routine unless given).
    #[arg(long, value_enum)]
    pub priority: Option<PriorityArg>,
    /// Destination depot (transfer, pre-positioning).
    #[arg(long, conflicts_with_all = ["site_lat", "site_lng", "site_address"])]
    pub to: Option<String>,
    /// Incident site latitude, WGS-84 (with --kind incident-site).
    #[arg(long, allow_hyphen_values = true, requires = "site_lng")]
    pub site_lat: Option<f64>,
    /// Incident site longitude, WGS-84.
    #[arg(long, allow_hyphen_values = true, requires = "site_lat")]
    pub site_lng: Option<f64>,
    /// Incident site address.
    #[arg(long)]
    pub site_address: Option<String>,
    /// The recorded incident it serves (its id); required for an incident
    /// site. An empty value takes it off the order.
    #[arg(long)]
    pub incident: Option<String>,
    /// Why, in words.
    #[arg(long)]
    pub reason: Option<String>,
    /// People affected.
    #[arg(long)]
    pub people: Option<i64>,
    /// When the supplies are needed: a date or time, Beijing time unless a
    /// zone is given.
    #[arg(long, value_parser = when::at)]
    pub required_by: Option<prost_types::Timestamp>,
    /// The unit receiving the supplies (收货单位).
    #[arg(long)]
    pub receiving_unit: Option<String>,
    /// Receiver's name.
    #[arg(long)]
    pub receiver_name: Option<String>,
    /// Receiver's duty, e.g. 城关镇应急办.
    #[arg(long)]
    pub receiver_duty: Option<String>,
    /// Receiver's phone.
    #[arg(long)]
    pub receiver_phone: Option<String>,
    /// Sender's name.
    #[arg(long)]
    pub sender_name: Option<String>,
    /// Sender's duty.
    #[arg(long)]
    pub sender_duty: Option<String>,
    /// Sender's phone.
    #[arg(long)]
    pub sender_phone: Option<String>,
    /// Why the order reaches outside the destination's own county (or city)
    /// while that subtree has the items above its reserve minimums.
    #[arg(long)]
    pub justification: Option<String>,
}

/// The lines read from `--lines-file` (read while the command line is
/// parsed, so a bad file is refused before the server is asked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinesFile(pub Vec<LineSpec>);

/// One planned source of a line.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Source depot.
    #[serde(alias = "source")]
    pub depot: String,
    /// Units from it.
    #[serde(alias = "qty")]
    pub quantity: i64,
    /// Only this lot (default: first-expired-first-out at approval).
    #[serde(default)]
    pub lot: String,
}

/// One line of an order.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    /// Item.
    pub item: String,
    /// Units needed.
    #[serde(alias = "qty", alias = "requested")]
    pub quantity: i64,
    /// Where they come from; may be left out on a draft.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
}

impl LineSpec {
    fn wire(&self) -> pb::AllocationLine {
        pb::AllocationLine {
            item_id: self.item.clone(),
            requested: self.quantity,
            sources: self
                .sources
                .iter()
                .map(|s| pb::SourcePlan {
                    source_depot_code: s.depot.clone(),
                    lot_number: s.lot.clone(),
                    quantity: s.quantity,
                })
                .collect(),
            ..Default::default()
        }
    }
}

/// A whole number of units, saying which part of `whole` is wrong.
fn units(raw: &str, what: &str, whole: &str) -> Result<i64, String> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| format!("{what} '{raw}' in '{whole}' is not a whole number"))
}

/// `ITEM:QTY[:SOURCE=QTY[@LOT][,SOURCE=QTY[@LOT]...]]`.
pub fn parse_line(s: &str) -> Result<LineSpec, String> {
    let shape = "expected ITEM:QTY or ITEM:QTY:SOURCE=QTY[@LOT][,SOURCE=QTY[@LOT]...]";
    let mut parts = s.splitn(3, ':');
    let item = parts.next().unwrap_or_default().trim();
    let qty = parts
        .next()
        .ok_or_else(|| format!("'{s}': no quantity; {shape}"))?;
    if item.is_empty() {
        return Err(format!("'{s}': no item; {shape}"));
    }
    let quantity = units(qty, "quantity", s)?;
    let mut sources = Vec::new();
    if let Some(rest) = parts.next() {
        for src in rest.split(',') {
            let (depot, amount) = src
                .split_once('=')
                .ok_or_else(|| format!("source '{src}' in '{s}' has no '=QTY'; {shape}"))?;
            let (amount, lot) = match amount.split_once('@') {
                Some((a, l)) if !l.trim().is_empty() => (a, l.trim().to_string()),
                Some(_) => return Err(format!("source '{src}' in '{s}' has '@' but no lot")),
                None => (amount, String::new()),
            };
            if depot.trim().is_empty() {
                return Err(format!("source '{src}' in '{s}' has no depot; {shape}"));
            }
            sources.push(SourceSpec {
                depot: depot.trim().to_string(),
                quantity: units(amount, "source quantity", s)?,
                lot,
            });
        }
    }
    Ok(LineSpec {
        item: item.to_string(),
        quantity,
        sources,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinesDoc {
    lines: Vec<LineSpec>,
}

/// The lines of a YAML or JSON file: a list of lines, or a mapping with
/// `lines:`. JSON files (`.json`) are read as JSON, anything else as YAML.
pub fn read_lines_file(path: &str) -> Result<LinesFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let json = Path::new(path).extension().is_some_and(|e| e == "json");
    parse_lines(&text, json)
        .map(LinesFile)
        .map_err(|e| format!("{path}: {e:#}"))
}

fn parse_lines(text: &str, is_json: bool) -> anyhow::Result<Vec<LineSpec>> {
    // Look at the shape first, then read it again as the typed shape, so
    // errors keep their line and column.
    let lines = if is_json {
        let list = serde_json::from_str::<serde_json::Value>(text)?.is_array();
        if list {
            serde_json::from_str::<Vec<LineSpec>>(text)?
        } else {
            serde_json::from_str::<LinesDoc>(text)?.lines
        }
    } else {
        let list = serde_norway::from_str::<serde_norway::Value>(text)?.is_sequence();
        if list {
            serde_norway::from_str::<Vec<LineSpec>>(text)?
        } else {
            serde_norway::from_str::<LinesDoc>(text)?.lines
        }
    };
    if lines.is_empty() {
        anyhow::bail!("lists no lines");
    }
    Ok(lines)
}

fn contact(
    current: Option<pb::Contact>,
    name: &Option<String>,
    duty: &Option<String>,
    phone: &Option<String>,
) -> Option<pb::Contact> {
    if name.is_none() && duty.is_none() && phone.is_none() {
        return current;
    }
    let mut c = current.unwrap_or_default();
    if let Some(n) = name {
        c.name = n.clone();
    }
    if let Some(d) = duty {
        c.duty = d.clone();
    }
    if let Some(p) = phone {
        c.phone = p.clone();
    }
    Some(c)
}

impl OrderFields {
    /// `order` with every field given here written over it.
    pub fn over(&self, o: pb::AllocationOrder) -> pb::AllocationOrder {
        let mut o = self.header.over(o);
        if let Some(file) = &self.lines_file {
            o.lines = file.0.iter().map(LineSpec::wire).collect();
        } else if !self.lines.is_empty() {
            o.lines = self.lines.iter().map(LineSpec::wire).collect();
        }
        o
    }
}

impl OrderHeader {
    /// `order` with every header field given here written over it; its
    /// lines stay as they are.
    pub fn over(&self, mut o: pb::AllocationOrder) -> pb::AllocationOrder {
        if let Some(k) = self.kind {
            o.kind = k.wire();
        }
        if let Some(p) = self.priority {
            o.priority = p.wire();
        }
        if let Some(to) = &self.to {
            o.destination_depot_code = to.clone();
            o.destination_site = None;
        }
        if self.site_lat.is_some() || self.site_lng.is_some() || self.site_address.is_some() {
            let mut site = o.destination_site.take().unwrap_or_default();
            if let (Some(lat), Some(lng)) = (self.site_lat, self.site_lng) {
                site.lat_lng = Some(LatLng {
                    latitude: lat,
                    longitude: lng,
                });
            }
            if let Some(a) = &self.site_address {
                site.address = a.clone();
            }
            o.destination_site = Some(site);
            o.destination_depot_code.clear();
        }
        if let Some(i) = &self.incident {
            o.incident_id = i.clone();
        }
        if let Some(r) = &self.reason {
            o.reason = r.clone();
        }
        if let Some(p) = self.people {
            o.people_affected = p;
        }
        if let Some(t) = self.required_by {
            o.required_by_time = Some(t);
        }
        if let Some(u) = &self.receiving_unit {
            o.receiving_unit = u.clone();
        }
        o.receiver_contact = contact(
            o.receiver_contact.take(),
            &self.receiver_name,
            &self.receiver_duty,
            &self.receiver_phone,
        );
        o.sender_contact = contact(
            o.sender_contact.take(),
            &self.sender_name,
            &self.sender_duty,
            &self.sender_phone,
        );
        if let Some(j) = &self.justification {
            o.justification = j.clone();
        }
        o
    }
}

/// The fields of `o` a dispatcher may change on a draft, and its id: what
/// `amend` starts from, so that a retry builds the same request.
pub fn editable(o: &pb::AllocationOrder) -> pb::AllocationOrder {
    pb::AllocationOrder {
        id: o.id.clone(),
        kind: o.kind,
        priority: o.priority,
        incident_id: o.incident_id.clone(),
        reason: o.reason.clone(),
        people_affected: o.people_affected,
        required_by_time: o.required_by_time,
        command_depot_code: o.command_depot_code.clone(),
        destination_depot_code: o.destination_depot_code.clone(),
        destination_site: o.destination_site.clone(),
        receiving_unit: o.receiving_unit.clone(),
        sender_contact: o.sender_contact.clone(),
        receiver_contact: o.receiver_contact.clone(),
        justification: o.justification.clone(),
        lines: o
            .lines
            .iter()
            .map(|l| pb::AllocationLine {
                item_id: l.item_id.clone(),
                requested: l.requested,
                sources: l.sources.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> LineSpec {
        parse_line(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_line_flag_names_the_item_the_quantity_and_its_sources() {
        assert_eq!(
            line("quilt-cotton:500:HB-SY-ZS=300,HB-SY=200@QC-2026-02-SY"),
            LineSpec {
                item: "quilt-cotton".into(),
                quantity: 500,
                sources: vec![
                    SourceSpec {
                        depot: "HB-SY-ZS".into(),
                        quantity: 300,
                        lot: String::new(),
                    },
                    SourceSpec {
                        depot: "HB-SY".into(),
                        quantity: 200,
                        lot: "QC-2026-02-SY".into(),
                    },
                ],
            }
        );
        assert!(line("tent-12m2:20").sources.is_empty());
    }

    #[test]
    fn a_bad_line_flag_says_which_part_is_wrong() {
        let e = parse_line("quilt-cotton").unwrap_err();
        assert!(e.contains("no quantity"), "{e}");
        let e = parse_line("quilt-cotton:many").unwrap_err();
        assert!(e.contains("quantity 'many'"), "{e}");
        let e = parse_line("quilt-cotton:500:HB-SY-ZS").unwrap_err();
        assert!(e.contains("no '=QTY'"), "{e}");
        let e = parse_line("quilt-cotton:500:HB-SY-ZS=x").unwrap_err();
        assert!(e.contains("source quantity 'x'"), "{e}");
        let e = parse_line("quilt-cotton:500:HB-SY-ZS=5@").unwrap_err();
        assert!(e.contains("no lot"), "{e}");
    }

    #[test]
    fn a_lines_file_is_yaml_or_json_as_a_list_or_under_lines() {
        let yaml = "
# 500 quilts and 20 tents
- item: quilt-cotton
  quantity: 500
  sources:
    - {depot: HB-SY-ZS, quantity: 300}
    - {depot: HB-SY, quantity: 200, lot: QC-2026-02-SY}
- item: tent-12m2
  qty: 20
";
        let from_yaml = parse_lines(yaml, false).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(
            from_yaml,
            vec![
                line("quilt-cotton:500:HB-SY-ZS=300,HB-SY=200@QC-2026-02-SY"),
                line("tent-12m2:20"),
            ]
        );
        let json = r#"{"lines": [
            {"item": "quilt-cotton", "quantity": 500, "sources": [
                {"depot": "HB-SY-ZS", "quantity": 300},
                {"depot": "HB-SY", "quantity": 200, "lot": "QC-2026-02-SY"}]},
            {"item": "tent-12m2", "quantity": 20}]}"#;
        assert_eq!(
            parse_lines(json, true).unwrap_or_else(|e| panic!("{e:#}")),
            from_yaml
        );
        let under = format!("lines:\n{}", yaml.replace("\n", "\n  "));
        assert_eq!(
            parse_lines(&under, false).unwrap_or_else(|e| panic!("{e:#}")),
            from_yaml
        );
    }

    #[test]
    fn a_bad_lines_file_names_the_field_and_where_it_is() {
        let e = parse_lines("- item: quilt-cotton\n  quantity: 5\n  dept: HB\n", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("dept") && e.contains("line 3"), "{e}");
        let e = parse_lines(r#"[{"item": "quilt-cotton"}]"#, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("quantity"), "{e}");
        assert!(parse_lines("[]", true).is_err());
    }

    #[test]
    fn amending_keeps_what_is_not_given_and_replaces_what_is() {
        let fields = OrderFields {
            header: OrderHeader {
                priority: Some(PriorityArg::Emergency),
                site_lat: Some(32.2),
                site_lng: Some(110.2),
                site_address: Some("城关镇体育馆".into()),
                receiver_phone: Some("13900000000".into()),
                ..Default::default()
            },
            lines: vec![line("tent-12m2:20:HB-SY-ZS=20")],
            ..Default::default()
        };
        let before = pb::AllocationOrder {
            id: "x".into(),
            kind: KindArg::Transfer.wire(),
            priority: PriorityArg::Urgent.wire(),
            reason: "汛期".into(),
            destination_depot_code: "HB-SY-ZS-01".into(),
            receiver_contact: Some(pb::Contact {
                name: "李明".into(),
                duty: String::new(),
                phone: "1".into(),
            }),
            lines: vec![line("quilt-cotton:500").wire()],
            ..Default::default()
        };
        let after = fields.over(before);
        assert_eq!(after.reason, "汛期");
        assert_eq!(after.priority, PriorityArg::Emergency.wire());
        assert!(after.destination_depot_code.is_empty());
        assert_eq!(
            after.destination_site.map(|s| s.address),
            Some("城关镇体育馆".into())
        );
        let r = after.receiver_contact.unwrap_or_default();
        assert_eq!((r.name.as_str(), r.phone.as_str()), ("李明", "13900000000"));
        assert_eq!(after.sender_contact, None);
        assert_eq!(after.lines.len(), 1);
        assert_eq!(after.lines[0].item_id, "tent-12m2");
    }
}
