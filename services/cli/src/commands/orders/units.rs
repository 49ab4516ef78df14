//! What a keeper types about units on an order: the shares that leave short
//! at dispatch (`--short`) and what arrived of each share (`--share`).
//! A figure is a count, or for serial-tracked items the serial numbers
//! joined by `+` (a lone serial of digits only ends with `+`: `0042+`).

use reserve_api::pb::reserve::v1 as pb;

/// A count of units, or the serial numbers of serial-tracked units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Figure {
    /// So many units of a lot-tracked item.
    Count(i64),
    /// These serial numbers.
    Serials(Vec<String>),
}

impl Figure {
    fn parse(raw: &str, whole: &str) -> Result<Figure, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(format!("'{whole}': a figure is empty"));
        }
        if !raw.contains('+') {
            if let Ok(n) = raw.parse::<i64>() {
                return Ok(Figure::Count(n));
            }
            if raw.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                return Err(format!("'{whole}': '{raw}' is not a whole number"));
            }
        }
        let serials: Vec<String> = raw
            .split('+')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if serials.is_empty() {
            return Err(format!("'{whole}': '{raw}' names no serial number"));
        }
        Ok(Figure::Serials(serials))
    }

    /// The wire count and serials.
    fn wire(&self) -> (i64, Vec<String>) {
        match self {
            Figure::Count(n) => (*n, Vec::new()),
            Figure::Serials(s) => (0, s.clone()),
        }
    }
}

fn line_number(raw: &str, whole: &str) -> Result<i32, String> {
    raw.trim()
        .parse::<i32>()
        .map_err(|_| format!("'{whole}': the line '{raw}' is not a line number"))
}

/// `--short LINE:LOT:QTY` (or `LINE:LOT:SERIAL+SERIAL`): a share that leaves
/// short of its reservation.
pub fn parse_short(s: &str) -> Result<pb::DispatchedShare, String> {
    let shape = "expected LINE:LOT:QTY or LINE:LOT:SERIAL+SERIAL...";
    let (line, rest) = s.split_once(':').ok_or_else(|| format!("'{s}': {shape}"))?;
    let (lot, figure) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("'{s}': {shape}"))?;
    if lot.trim().is_empty() {
        return Err(format!("'{s}': no lot; {shape}"));
    }
    let (quantity, serial_numbers) = Figure::parse(figure, s)?.wire();
    Ok(pb::DispatchedShare {
        line_number: line_number(line, s)?,
        lot_number: lot.trim().to_string(),
        quantity,
        serial_numbers,
    })
}

/// `--share LINE:SOURCE:LOT:received=N[,damaged=N,rejected=N,short=N]`:
/// what arrived of one share. The lot may itself contain `:`.
pub fn parse_share(s: &str) -> Result<pb::ReceivedShare, String> {
    let shape = "expected LINE:SOURCE:LOT:received=N[,damaged=N,rejected=N,short=N]";
    let (line, rest) = s.split_once(':').ok_or_else(|| format!("'{s}': {shape}"))?;
    let (source, rest) = rest
        .split_once(':')
        .ok_or_else(|| format!("'{s}': {shape}"))?;
    let (lot, figures) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("'{s}': {shape}"))?;
    if source.trim().is_empty() || lot.trim().is_empty() {
        return Err(format!("'{s}': {shape}"));
    }
    let mut share = pb::ReceivedShare {
        line_number: line_number(line, s)?,
        source_depot_code: source.trim().to_string(),
        lot_number: lot.trim().to_string(),
        ..Default::default()
    };
    let mut seen = Vec::new();
    for part in figures.split(',') {
        let (what, figure) = part
            .split_once('=')
            .ok_or_else(|| format!("'{s}': '{part}' is not WHAT=N; {shape}"))?;
        let what = what.trim();
        if seen.contains(&what) {
            return Err(format!("'{s}': {what} is given twice"));
        }
        seen.push(what);
        let (n, serials) = Figure::parse(figure, s)?.wire();
        let (count, list) = match what {
            "received" => (&mut share.received, &mut share.received_serial_numbers),
            "damaged" => (&mut share.damaged, &mut share.damaged_serial_numbers),
            "rejected" => (&mut share.rejected, &mut share.rejected_serial_numbers),
            "short" => (&mut share.short, &mut share.short_serial_numbers),
            other => {
                return Err(format!(
                    "'{s}': '{other}' is not received, damaged, rejected or short"
                ));
            }
        };
        *count = n;
        *list = serials;
    }
    Ok(share)
}

/// Whether a share reports damaged, refused or missing units.
pub fn has_discrepancy(s: &pb::ReceivedShare) -> bool {
    s.damaged != 0
        || s.rejected != 0
        || s.short != 0
        || !s.damaged_serial_numbers.is_empty()
        || !s.rejected_serial_numbers.is_empty()
        || !s.short_serial_numbers.is_empty()
}

/// Everything of `order` still on the road, received in good order.
pub fn all_in_transit(order: &pb::AllocationOrder) -> Vec<pb::ReceivedShare> {
    let mut out = Vec::new();
    for l in &order.lines {
        for s in l.shares.iter().filter(|s| s.in_transit > 0) {
            let serial = !s.in_transit_serial_numbers.is_empty();
            out.push(pb::ReceivedShare {
                line_number: l.line_number,
                source_depot_code: s.source_depot_code.clone(),
                lot_number: s.lot_number.clone(),
                received: if serial { 0 } else { s.in_transit },
                received_serial_numbers: s.in_transit_serial_numbers.clone(),
                ..Default::default()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(s: &str) -> pb::ReceivedShare {
        parse_share(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_share_names_line_source_lot_and_what_arrived() {
        let s = share("1:HB-SY-ZS:QC-2023-09-ZS:received=195,damaged=3,short=2");
        assert_eq!(
            (
                s.line_number,
                s.source_depot_code.as_str(),
                s.lot_number.as_str()
            ),
            (1, "HB-SY-ZS", "QC-2023-09-ZS")
        );
        assert_eq!((s.received, s.damaged, s.rejected, s.short), (195, 3, 0, 2));
        assert!(has_discrepancy(&s));
        assert!(!has_discrepancy(&share("1:HB-SY-ZS:L:received=5")));
        // A lot with a colon in it.
        assert_eq!(share("2:HB-SY:A:B:received=1").lot_number, "A:B");
    }

    #[test]
    fn serial_items_are_received_by_serial_number() {
        let s = share("1:HB-SY-ZS:G-2026:received=GEN-1+GEN-2,damaged=GEN-3,short=0042+");
        assert_eq!(s.received, 0);
        assert_eq!(s.received_serial_numbers, vec!["GEN-1", "GEN-2"]);
        assert_eq!(s.damaged_serial_numbers, vec!["GEN-3"]);
        assert_eq!(s.short_serial_numbers, vec!["0042"]);
        assert!(has_discrepancy(&share("1:HB-SY-ZS:G:received=0,short=G-1")));
    }

    #[test]
    fn a_bad_share_says_what_is_wrong() {
        for (bad, says) in [
            ("1:HB-SY-ZS:received=3", "expected LINE:SOURCE:LOT"),
            ("x:HB-SY-ZS:L:received=3", "not a line number"),
            ("1:HB-SY-ZS:L:arrived=3", "'arrived' is not received"),
            ("1:HB-SY-ZS:L:received", "not WHAT=N"),
            ("1:HB-SY-ZS:L:received=1,received=2", "twice"),
            ("1:HB-SY-ZS:L:received=-", "not a whole number"),
            ("1:HB-SY-ZS:L:received=", "empty"),
        ] {
            let e = parse_share(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn a_short_dispatch_names_line_lot_and_what_leaves() {
        let s = parse_short("1:QC-2023-09-ZS:480").unwrap_or_default();
        assert_eq!(
            (s.line_number, s.lot_number.as_str(), s.quantity),
            (1, "QC-2023-09-ZS", 480)
        );
        let g = parse_short("2:G-2026:GEN-1+GEN-2").unwrap_or_default();
        assert_eq!((g.quantity, g.serial_numbers.len()), (0, 2));
        assert!(parse_short("1:480").is_err());
        assert!(parse_short("one:L:480").is_err());
    }

    #[test]
    fn receiving_everything_takes_what_is_on_the_road() {
        let order = pb::AllocationOrder {
            lines: vec![pb::AllocationLine {
                line_number: 1,
                shares: vec![
                    pb::LotShare {
                        source_depot_code: "HB-SY-ZS".into(),
                        lot_number: "A".into(),
                        in_transit: 5,
                        ..Default::default()
                    },
                    pb::LotShare {
                        source_depot_code: "HB-SY-ZS".into(),
                        lot_number: "B".into(),
                        in_transit: 0,
                        ..Default::default()
                    },
                    pb::LotShare {
                        source_depot_code: "HB-SY".into(),
                        lot_number: "G".into(),
                        in_transit: 1,
                        in_transit_serial_numbers: vec!["GEN-1".into()],
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let all = all_in_transit(&order);
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].lot_number.as_str(), all[0].received), ("A", 5));
        assert_eq!(all[1].received_serial_numbers, vec!["GEN-1"]);
        assert_eq!(all[1].received, 0);
    }
}
