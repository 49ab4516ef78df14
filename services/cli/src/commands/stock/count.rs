//! Stock counts (盘点): open a snapshot, record what is on the shelf, submit;
//! a second person approves and the variances post as adjustments.

use super::{CountCmd, Ctx, print};
use crate::commands::choices::name;
use crate::output::{json, print_table, table, time, yuan};
use anyhow::Context;
use reserve_api::pb::reserve::v1 as pb;

/// Runs a count command.
pub async fn run(x: &mut Ctx, cmd: CountCmd) -> anyhow::Result<()> {
    match cmd {
        CountCmd::Open { items, note } => {
            let depot = x
                .scope
                .clone()
                .context("no scope depot in the token: a count opens at your own depot")?;
            let r =
                x.c.open_stock_count(pb::OpenStockCountRequest {
                    request_id: x.request_id(),
                    depot_code: depot,
                    item_ids: items,
                    note,
                })
                .await?
                .into_inner();
            if x.json() {
                return json("reserve.v1.OpenStockCountResponse", &r);
            }
            report(&r.count.unwrap_or_default());
        }
        CountCmd::Record {
            id,
            lines,
            seen,
            etag,
        } => {
            let lines = lines
                .iter()
                .map(|l| parse_line(l, false))
                .chain(seen.iter().map(|l| parse_line(l, true)))
                .collect::<Result<_, _>>()?;
            let r =
                x.c.record_count_lines(pb::RecordCountLinesRequest {
                    request_id: x.request_id(),
                    count_id: id,
                    lines,
                    etag: etag.etag,
                })
                .await?
                .into_inner();
            if x.json() {
                return json("reserve.v1.RecordCountLinesResponse", &r);
            }
            report(&r.count.unwrap_or_default());
        }
        CountCmd::Submit { id, etag } => {
            let r =
                x.c.submit_stock_count(pb::SubmitStockCountRequest {
                    request_id: x.request_id(),
                    count_id: id,
                    etag: etag.etag,
                })
                .await?
                .into_inner();
            if x.json() {
                return json("reserve.v1.SubmitStockCountResponse", &r);
            }
            report(&r.count.unwrap_or_default());
        }
        CountCmd::Approve { id, note, etag } => {
            let r =
                x.c.approve_stock_count(pb::ApproveStockCountRequest {
                    request_id: x.request_id(),
                    count_id: id,
                    note,
                    etag: etag.etag,
                })
                .await?
                .into_inner();
            if x.json() {
                return json("reserve.v1.ApproveStockCountResponse", &r);
            }
            report(&r.count.unwrap_or_default());
            if !r.entries.is_empty() {
                println!("posted:");
                print::entries(&r.entries);
            }
        }
        CountCmd::Cancel { id, reason, etag } => {
            let r =
                x.c.cancel_stock_count(pb::CancelStockCountRequest {
                    request_id: x.request_id(),
                    count_id: id,
                    reason,
                    etag: etag.etag,
                })
                .await?
                .into_inner();
            if x.json() {
                return json("reserve.v1.CancelStockCountResponse", &r);
            }
            report(&r.count.unwrap_or_default());
        }
        CountCmd::Show { id } => {
            let r =
                x.c.get_stock_count(pb::GetStockCountRequest { count_id: id })
                    .await?
                    .into_inner();
            if x.json() {
                return json("reserve.v1.GetStockCountResponse", &r);
            }
            report(&r.count.unwrap_or_default());
        }
    }
    Ok(())
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// A count and its variance report: per lot, the snapshot, what moved since,
/// the books at recording, what was counted, the variance and its value.
fn report(c: &pb::StockCount) {
    println!(
        "count {}  depot {}  {}  opened by {} at {}",
        c.id,
        c.depot_code,
        name::<pb::CountStatus>(c.status),
        c.opened_by,
        time(c.open_time.as_ref())
    );
    if !c.recorded_by.is_empty() {
        println!("recorded by {}", c.recorded_by.join(", "));
    }
    if !c.submitted_by.is_empty() {
        println!(
            "submitted by {} at {}",
            c.submitted_by,
            time(c.submit_time.as_ref())
        );
    }
    if !c.decided_by.is_empty() {
        println!(
            "{} by {} at {}",
            name::<pb::CountStatus>(c.status),
            c.decided_by,
            time(c.decide_time.as_ref())
        );
    }
    let mut t = table(&[
        "item",
        "lot",
        "snapshot",
        "moved since",
        "on hand at recording",
        "counted",
        "variance",
        "value",
    ]);
    let mut notes = Vec::new();
    for l in &c.lines {
        let recorded = l.counted.is_some();
        t.add_row(vec![
            l.item_id.clone(),
            l.lot_number.clone(),
            l.expected.to_string(),
            if recorded {
                format!("{:+}", l.moved_since_snapshot)
            } else {
                "-".into()
            },
            or_dash(l.on_hand_at_record),
            or_dash(l.counted),
            if recorded {
                format!("{:+}", l.variance)
            } else {
                "-".into()
            },
            if recorded {
                yuan(l.variance_value_fen)
            } else {
                "-".into()
            },
        ]);
        if !l.missing_serial_numbers.is_empty() {
            notes.push(format!(
                "{} {}: not seen, written off on approval: {}",
                l.item_id,
                l.lot_number,
                l.missing_serial_numbers.join(" ")
            ));
        }
        if !l.held_by_documents_serial_numbers.is_empty() {
            notes.push(format!(
                "{} {}: not seen but held by a document, counted as present: {}",
                l.item_id,
                l.lot_number,
                l.held_by_documents_serial_numbers.join(" ")
            ));
        }
        if !l.found_serial_numbers.is_empty() {
            notes.push(format!(
                "{} {}: found again, taken back in stock on approval: {}",
                l.item_id,
                l.lot_number,
                l.found_serial_numbers.join(" ")
            ));
        }
    }
    print_table(&t);
    for n in notes {
        println!("{n}");
    }
    println!(
        "total variance {:+} units, {}",
        c.total_variance,
        yuan(c.total_variance_value_fen)
    );
    println!("etag {}", c.etag);
}

/// One `--line ITEM:LOT=N` or `--seen ITEM:LOT=SERIAL,SERIAL`.
fn parse_line(s: &str, serials: bool) -> anyhow::Result<pb::CountedLine> {
    let shape = if serials {
        "--seen ITEM:LOT=SERIAL,SERIAL"
    } else {
        "--line ITEM:LOT=N"
    };
    let (left, right) = s
        .rsplit_once('=')
        .with_context(|| format!("'{s}' must be {shape}"))?;
    let (item, lot) = left
        .split_once(':')
        .with_context(|| format!("'{s}' must be {shape}"))?;
    let (counted, serial_numbers) = if serials {
        let list: Vec<String> = right
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        (list.len() as i64, list)
    } else {
        (
            right
                .trim()
                .parse()
                .with_context(|| format!("'{s}': the count after '=' must be a number"))?,
            vec![],
        )
    };
    Ok(pb::CountedLine {
        item_id: item.trim().into(),
        lot_number: lot.trim().into(),
        counted,
        serial_numbers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_lines_are_read_from_item_lot_and_figure() {
        let l = parse_line("quilt-cotton:QC-2026-11=198", false).unwrap_or_default();
        assert_eq!(
            (l.item_id.as_str(), l.lot_number.as_str(), l.counted),
            ("quilt-cotton", "QC-2026-11", 198)
        );
        let s = parse_line("generator-5kw:GEN-2026=G5-0001,G5-0002", true).unwrap_or_default();
        assert_eq!(s.counted, 2);
        assert_eq!(s.serial_numbers, vec!["G5-0001", "G5-0002"]);
        assert!(parse_line("quilt-cotton=3", false).is_err());
        assert!(parse_line("quilt-cotton:QC=many", false).is_err());
    }
}
