//! A sheet of rows read from CSV or Excel (`.xlsx`), every cell as text,
//! with its row number as a spreadsheet shows it (the header is row 1).

use anyhow::{Context, bail};
use calamine::{Data, DataType, Reader, Xlsx, open_workbook};
use std::path::Path;

/// One data row: its spreadsheet row number and its cells.
#[derive(Clone, Debug)]
pub struct Row {
    /// Row number as the spreadsheet shows it (the header is row 1).
    pub number: usize,
    /// Cells, trimmed; missing trailing cells are empty.
    pub cells: Vec<String>,
}

/// The header and the non-blank rows of a sheet.
#[derive(Clone, Debug)]
pub struct Sheet {
    /// Column names of the header row, trimmed.
    pub header: Vec<String>,
    /// Data rows, blank ones left out.
    pub rows: Vec<Row>,
}

/// Reads `path`: `.xlsx` (its first sheet) with calamine, anything else as
/// UTF-8 CSV (a byte-order mark, as Excel writes, is skipped).
pub fn read(path: &Path) -> anyhow::Result<(Sheet, Vec<u8>)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let is_xlsx = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let sheet = if is_xlsx {
        read_xlsx(path)?
    } else {
        read_csv(&bytes).with_context(|| format!("reading {} as CSV", path.display()))?
    };
    Ok((sheet, bytes))
}

fn read_csv(bytes: &[u8]) -> anyhow::Result<Sheet> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut lines = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("row {}", i + 1))?;
        let number = rec.position().map_or(i + 1, |p| p.line() as usize);
        lines.push(Row {
            number,
            cells: rec.iter().map(|c| c.trim().to_string()).collect(),
        });
    }
    from_rows(lines)
}

fn read_xlsx(path: &Path) -> anyhow::Result<Sheet> {
    let mut book: Xlsx<_> =
        open_workbook(path).with_context(|| format!("opening {} as Excel", path.display()))?;
    let Some(first) = book.sheet_names().first().cloned() else {
        bail!("{} has no sheet", path.display());
    };
    let range = book
        .worksheet_range(&first)
        .with_context(|| format!("reading sheet {first} of {}", path.display()))?;
    let top = range.start().map_or(0, |(r, _)| r as usize);
    let left = range.start().map_or(0, |(_, c)| c as usize);
    let lines = range
        .rows()
        .enumerate()
        .map(|(i, cells)| Row {
            number: top + i + 1,
            cells: std::iter::repeat_n(String::new(), left)
                .chain(cells.iter().map(cell_text))
                .collect(),
        })
        .collect();
    from_rows(lines)
}

/// A cell as the text a person would type for it: whole numbers without a
/// fraction, dates as YYYY-MM-DD.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(_) | Data::DateTimeIso(_) => d
            .as_date()
            .map(|day| day.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| d.to_string()),
        other => other.to_string(),
    }
}

fn from_rows(mut lines: Vec<Row>) -> anyhow::Result<Sheet> {
    lines.retain(|r| r.cells.iter().any(|c| !c.is_empty()));
    if lines.is_empty() {
        bail!("the file is empty: the first row names the columns");
    }
    let header = lines.remove(0);
    if header.number != 1 {
        bail!(
            "row 1 must name the columns; the first row with text is row {}",
            header.number
        );
    }
    let mut header = header.cells;
    while header.last().is_some_and(String::is_empty) {
        header.pop();
    }
    Ok(Sheet {
        header,
        rows: lines,
    })
}

/// Where each known column is in a sheet, found by its English or Chinese
/// name.
pub struct Columns {
    names: Vec<(&'static str, Option<usize>)>,
}

/// A column a sheet may have: its English name, the other names accepted
/// (Chinese), and whether every file must have it.
pub struct Column {
    /// Name in the template and in error reports.
    pub name: &'static str,
    /// Other header names meaning the same.
    pub aliases: &'static [&'static str],
    /// Whether the header must have it.
    pub required: bool,
}

impl Columns {
    /// Matches the header against `known`; every unknown or repeated header
    /// and every missing required column is a problem on row 1.
    pub fn find(header: &[String], known: &[Column], problems: &mut Problems) -> Columns {
        let mut names: Vec<(&'static str, Option<usize>)> =
            known.iter().map(|c| (c.name, None)).collect();
        for (i, h) in header.iter().enumerate() {
            let key = h.trim().to_lowercase().replace([' ', '-'], "_");
            match known
                .iter()
                .position(|c| c.name == key || c.aliases.iter().any(|a| *a == h.trim()))
            {
                Some(k) if names[k].1.is_some() => {
                    problems.add(1, h, "the column appears twice");
                }
                Some(k) => names[k].1 = Some(i),
                None if h.is_empty() => problems.add(1, &format!("#{}", i + 1), "has no name"),
                None => problems.add(
                    1,
                    h,
                    &format!(
                        "is not a known column (known: {})",
                        known.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                    ),
                ),
            }
        }
        for (c, (_, at)) in known.iter().zip(&names) {
            if c.required && at.is_none() {
                problems.add(1, c.name, "is a required column and the header lacks it");
            }
        }
        Columns { names }
    }

    /// The cell of column `name` in `row`, empty if the sheet lacks it.
    pub fn get<'r>(&self, row: &'r Row, name: &str) -> &'r str {
        self.names
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, at)| *at)
            .and_then(|i| row.cells.get(i))
            .map_or("", String::as_str)
    }
}

/// One broken rule of one row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// Spreadsheet row number.
    pub row: usize,
    /// Column name (or the field the server named).
    pub column: String,
    /// The rule broken.
    pub rule: String,
}

/// Every problem found in a file, reported together.
#[derive(Default, Debug)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Records a problem.
    pub fn add(&mut self, row: usize, column: &str, rule: &str) {
        self.0.push(Problem {
            row,
            column: column.to_string(),
            rule: rule.to_string(),
        });
    }

    /// Whether none was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Fails with every problem, one line each, by row, when there are any.
    pub fn into_result(mut self, what: &str) -> anyhow::Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        self.0.sort();
        self.0.dedup();
        let lines: Vec<String> = self
            .0
            .iter()
            .map(|p| format!("row {}, column {}: {}", p.row, p.column, p.rule))
            .collect();
        bail!(
            "{} problem(s) in {what}; nothing was posted:\n{}",
            lines.len(),
            lines.join("\n")
        )
    }
}

/// A date cell: YYYY-MM-DD (or with `/` or `.`), empty meaning none.
pub fn date(s: &str) -> Result<Option<(i32, i32, i32)>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let norm = s.replace(['/', '.'], "-");
    chrono::NaiveDate::parse_from_str(&norm, "%Y-%m-%d")
        .map(|d| {
            use chrono::Datelike;
            Some((d.year(), d.month() as i32, d.day() as i32))
        })
        .map_err(|_| format!("\"{s}\" is not a date (YYYY-MM-DD)"))
}

/// A whole number cell within `lo..=hi`, empty meaning `None`.
pub fn number(s: &str, lo: i64, hi: i64) -> Result<Option<i64>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let n: i64 = s
        .replace([',', '_'], "")
        .parse()
        .map_err(|_| format!("\"{s}\" is not a whole number"))?;
    if n < lo || n > hi {
        return Err(format!("must be from {lo} to {hi}, got {n}"));
    }
    Ok(Some(n))
}

/// A choice cell (`budget`, `donation`, ...), empty meaning the default.
pub fn choice<T: clap::ValueEnum>(s: &str, col: &str, row: usize, p: &mut Problems) -> Option<T> {
    if s.is_empty() {
        return None;
    }
    let r = T::from_str(&s.replace('_', "-"), true);
    if r.is_err() {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        p.add(
            row,
            col,
            &format!("\"{s}\" is not one of {}", names.join(", ")),
        );
    }
    r.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_spreadsheet_numbers_and_skip_blank_lines() {
        let s = read_csv("\u{feff}item,lot\nwater,W1\n,\n tent , T1 \n".as_bytes()).unwrap();
        assert_eq!(s.header, vec!["item", "lot"]);
        let rows: Vec<(usize, Vec<String>)> =
            s.rows.iter().map(|r| (r.number, r.cells.clone())).collect();
        assert_eq!(
            rows,
            vec![
                (2, vec!["water".to_string(), "W1".into()]),
                (4, vec!["tent".to_string(), "T1".into()])
            ]
        );
    }

    #[test]
    fn dates_and_numbers_name_what_is_wrong() {
        assert_eq!(date("2026/3/1"), Ok(Some((2026, 3, 1))));
        assert!(date("2026-02-30").unwrap_err().contains("not a date"));
        assert_eq!(number("1,200", 1, 2000), Ok(Some(1200)));
        assert!(number("0", 1, 10).unwrap_err().contains("from 1 to 10"));
        assert!(number("3.5", 1, 10).unwrap_err().contains("whole number"));
    }
}
