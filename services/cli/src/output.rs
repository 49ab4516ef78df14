//! Printing answers: aligned tables for people (CJK-aware), canonical proto
//! JSON for scripts, times in Asia/Shanghai, errors with their details.

use chrono::DateTime;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use prost_reflect::{DescriptorPool, DynamicMessage};
use reserve_core::time::china_offset;
use std::sync::OnceLock;
use tonic_types::StatusExt;

/// How answers are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned tables.
    Table,
    /// Canonical protobuf JSON.
    Json,
}

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(reserve_api::FILE_DESCRIPTOR_SET)
            .unwrap_or_else(|_| DescriptorPool::new())
    })
}

/// Prints `msg` (of proto type `full_name`) as JSON.
pub fn json<M: prost::Message>(full_name: &str, msg: &M) -> anyhow::Result<()> {
    let desc = pool()
        .get_message_by_name(full_name)
        .ok_or_else(|| anyhow::anyhow!("unknown message type {full_name}"))?;
    let dm = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice())?;
    println!("{}", serde_json::to_string_pretty(&dm)?);
    Ok(())
}

/// `msg` (of proto type `full_name`) as canonical JSON on one line, for
/// streams read line by line.
pub fn json_line<M: prost::Message>(full_name: &str, msg: &M) -> anyhow::Result<String> {
    let desc = pool()
        .get_message_by_name(full_name)
        .ok_or_else(|| anyhow::anyhow!("unknown message type {full_name}"))?;
    let dm = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice())?;
    Ok(serde_json::to_string(&dm)?)
}

/// A table with the given header.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| h.to_string()));
    t
}

/// A wire time shown in Beijing time.
pub fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|d| {
            d.with_timezone(&china_offset())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// Money in fen shown as yuan.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}¥{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// Names the command-line flag that fills a request field, if any.
pub type FlagOf = fn(&str) -> Option<String>;

/// An error status, with its field violations and reason, for people;
/// `flag_of` names the flag behind a violated field where the command knows it.
pub fn status_text(s: &tonic::Status, flag_of: FlagOf) -> String {
    let d = s.get_error_details();
    let mut out = match d.bad_request() {
        Some(_) => format!("{:?}: invalid request", s.code()),
        None => format!("{:?}: {}", s.code(), s.message()),
    };
    if let Some(br) = d.bad_request() {
        for v in &br.field_violations {
            let flag = flag_of(&v.field)
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            out.push_str(&format!("\n  - {}{flag}: {}", v.field, v.description));
        }
    }
    if let Some(info) = d.error_info() {
        out.push_str(&format!("\n  reason: {}", info.reason));
        let mut meta: Vec<_> = info.metadata.iter().collect();
        meta.sort();
        for (k, v) in meta {
            out.push_str(&format!("\n  {k}: {v}"));
        }
    }
    out
}

/// No flag hints: the request fields are named as they are.
pub fn no_flags(_: &str) -> Option<String> {
    None
}

/// Prints a table, or says so when it has no rows.
pub fn print_table(t: &Table) {
    if t.is_empty() {
        println!("nothing to show");
    } else {
        println!("{t}");
    }
}

/// A `google.protobuf.Struct` (an audit event's changes) as compact JSON text.
pub fn struct_json(s: Option<&prost_types::Struct>) -> String {
    s.map(|s| struct_value(s).to_string()).unwrap_or_default()
}

/// A `google.protobuf.Struct` as a JSON value; whole numbers stay whole.
pub fn struct_value(s: &prost_types::Struct) -> serde_json::Value {
    fn value(v: &prost_types::Value) -> serde_json::Value {
        use prost_types::value::Kind;
        match &v.kind {
            None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
            Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
            Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                serde_json::Value::from(*n as i64)
            }
            Some(Kind::NumberValue(n)) => serde_json::Value::from(*n),
            Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
            Some(Kind::ListValue(l)) => l.values.iter().map(value).collect(),
            Some(Kind::StructValue(s)) => struct_value(s),
        }
    }
    serde_json::Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value(v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_shown_in_yuan_and_time_in_beijing() {
        assert_eq!(yuan(150_000), "¥1500.00");
        assert_eq!(yuan(-5), "-¥0.05");
        let ts = prost_types::Timestamp {
            seconds: 1_782_837_000, // 2026-06-30T16:30:00Z
            nanos: 0,
        };
        assert_eq!(time(Some(&ts)), "2026-07-01 00:30:00");
    }

    #[test]
    fn every_response_type_is_in_the_descriptor_pool() {
        assert!(
            pool()
                .get_message_by_name("reserve.v1.ListDepotsResponse")
                .is_some()
        );
    }
}
