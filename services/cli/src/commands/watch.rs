//! `reservectl watch`: the live event stream of a command centre, one line
//! per event as it happens (stock movements, document transitions, alerts)
//! until Ctrl-C or the server ends the stream. A stream the server ends
//! for falling behind (RESOURCE_EXHAUSTED) or a dropped connection is
//! resumed after the last event seen, so nothing is missed or shown twice.

use super::choices::{EventKindArg, name};
use crate::conn::Authed;
use crate::output::{Format, json_line, struct_value, time};
use anyhow::bail;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::allocation_service_client::AllocationServiceClient;
use reserve_api::pb::reserve::v1::event_service_client::EventServiceClient;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;
use tonic::{Code, Status};

/// What to watch.
#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    /// Only this subtree of your scope (default: all of it).
    #[arg(long)]
    depot: Option<String>,
    /// Only events of this kind; repeat for several (default: every kind).
    #[arg(long = "kind", value_enum)]
    kinds: Vec<EventKindArg>,
    /// Replay what came after this event id, then follow (default: from
    /// now on).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(1..))]
    after: Option<i64>,
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    let flag = match field {
        "depot_code" => "--depot",
        "after_id" => "--after",
        f if f.starts_with("kinds") => "--kind",
        _ => return None,
    };
    Some(flag.to_string())
}

/// Where events come from: a subscription opened after an id.
pub(crate) trait Feed {
    /// An open subscription.
    type Sub: Subscription;
    /// Opens a subscription to events after `after` (0: from now).
    fn open(&mut self, after: i64) -> impl Future<Output = Result<Self::Sub, Status>>;
}

/// An open subscription: batches of events, `None` when the server ends it.
pub(crate) trait Subscription {
    /// The next batch.
    fn next(&mut self) -> impl Future<Output = Result<Option<Vec<pb::Event>>, Status>>;
}

/// Where events go.
pub(crate) trait Sink {
    /// Shows one event.
    fn event(&mut self, e: pb::Event) -> impl Future<Output = anyhow::Result<()>>;
    /// Says something about the stream itself (on standard error).
    fn note(&mut self, text: &str);
}

/// How reconnecting backs off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retry {
    /// Reconnects in a row before giving up.
    pub attempts: u32,
    /// The first wait; each next one doubles.
    pub first: Duration,
    /// The longest wait.
    pub longest: Duration,
    /// A subscription that lived this long counts as healthy: the next
    /// failure starts counting again.
    pub healthy: Duration,
}

impl Retry {
    const STANDARD: Retry = Retry {
        attempts: 6,
        first: Duration::from_millis(500),
        longest: Duration::from_secs(15),
        healthy: Duration::from_secs(60),
    };

    fn wait(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.first.saturating_mul(factor).min(self.longest)
    }
}

/// Whether reconnecting may help: the server ended the stream because the
/// client fell behind, or the connection (or the server behind it) went.
fn retryable(s: &Status) -> bool {
    matches!(
        s.code(),
        Code::ResourceExhausted
            | Code::Unavailable
            | Code::Unknown
            | Code::Internal
            | Code::Cancelled
            | Code::Aborted
            | Code::DeadlineExceeded
    )
}

/// The id the server says to resume after, from its RESOURCE_EXHAUSTED
/// message ("... reconnect with after_id = 41").
fn resume_id(s: &Status) -> Option<i64> {
    let (_, rest) = s.message().rsplit_once("after_id = ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// Follows the feed from after `after`, resuming after the last event seen
/// when the stream breaks, until the server ends it (Ok) or reconnecting
/// fails `retry.attempts` times in a row, or the error is not one a
/// reconnect cures (Err).
pub(crate) async fn follow<F: Feed, S: Sink>(
    feed: &mut F,
    mut after: i64,
    retry: Retry,
    sink: &mut S,
) -> anyhow::Result<()> {
    let mut failures = 0u32;
    loop {
        let opened = Instant::now();
        let err = match feed.open(after).await {
            Ok(mut sub) => loop {
                match sub.next().await {
                    Ok(Some(events)) => {
                        for e in events {
                            after = after.max(e.id);
                            sink.event(e).await?;
                        }
                        failures = 0;
                    }
                    Ok(None) => {
                        sink.note(&format!(
                            "the server ended the stream{}",
                            if after > 0 {
                                format!(" (last event {after}; resume with --after {after})")
                            } else {
                                String::new()
                            }
                        ));
                        return Ok(());
                    }
                    Err(e) => break e,
                }
            },
            Err(e) => e,
        };
        if !retryable(&err) {
            return Err(err.into());
        }
        if opened.elapsed() >= retry.healthy {
            failures = 0;
        }
        failures += 1;
        let why = format!("{:?}: {}", err.code(), err.message());
        if failures > retry.attempts {
            bail!(
                "gave up after {} reconnects in a row ({why}); resume with --after {after}",
                retry.attempts
            );
        }
        if after == 0
            && let Some(n) = resume_id(&err)
        {
            after = n;
        }
        let wait = retry.wait(failures);
        let from = if after > 0 {
            format!("after event {after}")
        } else {
            "from now (no event seen yet: what happened meanwhile is not shown)".into()
        };
        sink.note(&format!(
            "{why}; reconnecting {from} in {:.1} s (attempt {failures} of {})",
            wait.as_secs_f64(),
            retry.attempts
        ));
        tokio::time::sleep(wait).await;
    }
}

/// The event service as a feed.
struct Live {
    c: EventServiceClient<Authed>,
    depot: String,
    kinds: Vec<i32>,
}

impl Feed for Live {
    type Sub = tonic::Streaming<pb::WatchEventsResponse>;

    async fn open(&mut self, after: i64) -> Result<Self::Sub, Status> {
        Ok(self
            .c
            .watch_events(pb::WatchEventsRequest {
                after_id: after,
                depot_code: self.depot.clone(),
                kinds: self.kinds.clone(),
            })
            .await?
            .into_inner())
    }
}

impl Subscription for tonic::Streaming<pb::WatchEventsResponse> {
    async fn next(&mut self) -> Result<Option<Vec<pb::Event>>, Status> {
        Ok(self.message().await?.map(|r| r.events))
    }
}

/// Prints events on standard output: a line for people, or one JSON
/// object per line.
struct Printer {
    fmt: Format,
    orders: AllocationServiceClient<Authed>,
    /// Order numbers by order id, as looked up (empty when unknown).
    numbers: HashMap<String, String>,
}

impl Printer {
    /// The number of the order an event is about, if it is about one.
    async fn order_number(&mut self, e: &pb::Event, detail: &Value) -> Option<String> {
        let id = e.resource.strip_prefix("allocationOrders/")?;
        if let Some(n) = detail["created"]["number"]
            .as_str()
            .or(detail["number"].as_str())
        {
            self.numbers.insert(id.to_string(), n.to_string());
        }
        if !self.numbers.contains_key(id) {
            let mut c = self.orders.clone();
            let asked = c.get_allocation_order(pb::GetAllocationOrderRequest {
                order_id: id.to_string(),
            });
            let number = match tokio::time::timeout(Duration::from_secs(2), asked).await {
                Ok(Ok(r)) => r.into_inner().order.map(|o| o.number).unwrap_or_default(),
                _ => String::new(),
            };
            self.numbers.insert(id.to_string(), number);
        }
        self.numbers.get(id).filter(|n| !n.is_empty()).cloned()
    }
}

impl Sink for Printer {
    async fn event(&mut self, e: pb::Event) -> anyhow::Result<()> {
        if self.fmt == Format::Json {
            println!("{}", json_line("reserve.v1.Event", &e)?);
            return Ok(());
        }
        let detail = e.detail.as_ref().map(struct_value).unwrap_or(Value::Null);
        let number = self.order_number(&e, &detail).await;
        println!("{}", line(&e, &detail, number.as_deref()));
        Ok(())
    }

    fn note(&mut self, text: &str) {
        eprintln!("watch: {text}");
    }
}

/// A dash for an empty field.
fn dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// One event as a line: id, Beijing time, kind, depot, resource, method,
/// actor and what happened.
fn line(e: &pb::Event, detail: &Value, order: Option<&str>) -> String {
    let method = e.method.rsplit('/').next().unwrap_or_default();
    let mut what = summary(e.kind, detail);
    if let Some(n) = order
        && !what.contains(n)
    {
        what = format!("{n} {what}");
    }
    format!(
        "{}  {}  {}  {}  {}  {}  {}  {}",
        e.id,
        time(e.time.as_ref()),
        name::<pb::EventKind>(e.kind),
        dash(&e.depot_code),
        dash(&e.resource),
        dash(method),
        dash(&e.actor),
        what
    )
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A wire time in milliseconds, in Beijing time.
fn millis(v: &Value) -> String {
    match v.as_i64() {
        Some(ms) => time(Some(&prost_types::Timestamp {
            seconds: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
        })),
        None => text(v),
    }
}

/// `item qty, item qty` from a list of {item, requested|committed|quantity}.
fn item_list(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    let q = ["requested", "committed", "quantity"]
                        .iter()
                        .find_map(|k| i[*k].as_i64())
                        .unwrap_or_default();
                    format!("{} {q}", text(&i["item"]))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `: note` when there is one.
fn noted(v: &Value) -> String {
    match text(v) {
        n if n.is_empty() => String::new(),
        n => format!(": {n}"),
    }
}

/// Ledger entries in a few words: `QC-1 +200`, or what was held.
fn entries(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let delta = ["quantity", "held", "reserved", "held_by_documents"]
                        .iter()
                        .find_map(|k| e[*k].as_i64().filter(|n| *n != 0))
                        .unwrap_or_default();
                    format!("{} {delta:+}", text(&e["lot"]))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// What an event's detail says, in a few words.
pub(crate) fn summary(kind: i32, d: &Value) -> String {
    let Some(obj) = d.as_object() else {
        return String::new();
    };
    match pb::EventKind::try_from(kind) {
        Ok(pb::EventKind::AlertLowStock) => {
            return format!(
                "{}: {} available, below the minimum {}",
                text(&d["item"]),
                text(&d["available"]),
                text(&d["minimum"])
            );
        }
        Ok(pb::EventKind::AlertNearExpiry) => {
            return format!(
                "{} lot {}: {} on hand expire {}",
                text(&d["item"]),
                text(&d["lot"]),
                text(&d["on_hand"]),
                text(&d["expiry"])
            );
        }
        Ok(pb::EventKind::AlertOverdueBackfill) => {
            return format!(
                "{}: approval overdue since {}",
                text(&d["number"]),
                millis(&d["due"])
            );
        }
        Ok(pb::EventKind::AlertExpiringAgreement) => {
            return format!(
                "{}: agreement ends {}",
                text(&d["company"]),
                text(&d["valid_until"])
            );
        }
        _ => {}
    }
    if let Some([from, to]) = d["state"].as_array().map(Vec::as_slice) {
        return format!(
            "{} ({} → {}){}",
            text(&d["action"]),
            text(from),
            text(to),
            noted(&d["note"])
        );
    }
    if let Some([from, to]) = d["status"].as_array().map(Vec::as_slice) {
        let why = if d["note"].is_null() {
            &d["reason"]
        } else {
            &d["note"]
        };
        return format!("{} → {}{}", text(from), text(to), noted(why));
    }
    let c = &d["created"];
    if c.is_object() {
        let who = [&c["number"], &c["company"]]
            .into_iter()
            .map(text)
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let items = if c["lines"].is_array() {
            &c["lines"]
        } else {
            &c["items"]
        };
        return format!("created {who}: {}", item_list(items));
    }
    let c = &d["called_off"];
    if c.is_object() {
        return format!(
            "called off {} from {}, due {}",
            item_list(&c["lines"]),
            text(&c["company"]),
            millis(&c["due_at"])
        );
    }
    let c = &d["delivered"];
    if c.is_object() {
        return format!("delivered {} {}", text(&c["item"]), text(&c["quantity"]));
    }
    // A stock movement: {what: [entries], "detail": {...}}.
    if let Some((what, list)) = obj.iter().find(|(k, v)| *k != "detail" && v.is_array()) {
        return format!("{what} {}", entries(list));
    }
    let all = d.to_string();
    if all.chars().count() > 80 {
        all.chars().take(77).collect::<String>() + "..."
    } else {
        all
    }
}

/// Runs `watch` until Ctrl-C, the end of the stream, or an error.
pub async fn run(a: WatchArgs, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let mut feed = Live {
        c: EventServiceClient::new(ch.clone()),
        depot: a.depot.unwrap_or_default(),
        kinds: a.kinds.iter().map(|k| k.wire()).collect(),
    };
    let mut printer = Printer {
        fmt,
        orders: AllocationServiceClient::new(ch),
        numbers: HashMap::new(),
    };
    tokio::select! {
        r = follow(&mut feed, a.after.unwrap_or(0), Retry::STANDARD, &mut printer) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::VecDeque;

    fn event(id: i64) -> pb::Event {
        pb::Event {
            id,
            ..Default::default()
        }
    }

    /// What each open answers: an error, or batches then an ending.
    enum Script {
        Refused(Status),
        Batches(Vec<Result<Vec<pb::Event>, Status>>),
    }

    struct Fake {
        script: VecDeque<Script>,
        opened_after: Vec<i64>,
    }

    struct FakeSub(VecDeque<Result<Vec<pb::Event>, Status>>);

    impl Feed for Fake {
        type Sub = FakeSub;
        async fn open(&mut self, after: i64) -> Result<FakeSub, Status> {
            self.opened_after.push(after);
            match self.script.pop_front() {
                Some(Script::Refused(s)) => Err(s),
                Some(Script::Batches(b)) => Ok(FakeSub(b.into())),
                None => Err(Status::unavailable("no more")),
            }
        }
    }

    impl Subscription for FakeSub {
        async fn next(&mut self) -> Result<Option<Vec<pb::Event>>, Status> {
            self.0.pop_front().transpose()
        }
    }

    #[derive(Default)]
    struct Seen {
        ids: Vec<i64>,
        notes: Vec<String>,
    }

    impl Sink for Seen {
        async fn event(&mut self, e: pb::Event) -> anyhow::Result<()> {
            self.ids.push(e.id);
            Ok(())
        }
        fn note(&mut self, text: &str) {
            self.notes.push(text.to_string());
        }
    }

    const QUICK: Retry = Retry {
        attempts: 3,
        first: Duration::from_millis(1),
        longest: Duration::from_millis(4),
        healthy: Duration::from_secs(3600),
    };

    #[tokio::test]
    async fn a_broken_stream_resumes_after_the_last_event_seen_and_says_so() {
        let mut feed = Fake {
            script: VecDeque::from([
                Script::Batches(vec![
                    Ok(vec![event(5), event(6)]),
                    Err(Status::resource_exhausted(
                        "this client fell too far behind the event stream; reconnect with after_id = 6",
                    )),
                ]),
                Script::Refused(Status::unavailable("connection refused")),
                Script::Batches(vec![Err(Status::unknown(
                    "error reading a body from connection",
                ))]),
                Script::Batches(vec![Ok(vec![event(7)]), Ok(vec![event(9)])]),
            ]),
            opened_after: vec![],
        };
        let mut seen = Seen::default();
        follow(&mut feed, 4, QUICK, &mut seen)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(seen.ids, vec![5, 6, 7, 9]);
        assert_eq!(feed.opened_after, vec![4, 6, 6, 6]);
        assert_eq!(seen.notes.len(), 4, "{:?}", seen.notes);
        assert!(
            seen.notes[0].contains("ResourceExhausted"),
            "{:?}",
            seen.notes
        );
        assert!(seen.notes[0].contains("after event 6"), "{:?}", seen.notes);
        assert!(seen.notes[3].contains("ended"), "{:?}", seen.notes);
    }

    #[tokio::test]
    async fn reconnecting_gives_up_after_its_attempts_and_other_errors_end_at_once() {
        let mut feed = Fake {
            script: VecDeque::new(),
            opened_after: vec![],
        };
        let mut seen = Seen::default();
        let e = follow(&mut feed, 0, QUICK, &mut seen).await.unwrap_err();
        assert!(e.to_string().contains("gave up after 3"), "{e}");
        assert_eq!(feed.opened_after.len(), 4);
        let mut feed = Fake {
            script: VecDeque::from([Script::Refused(Status::permission_denied("outside"))]),
            opened_after: vec![],
        };
        let e = follow(&mut feed, 0, QUICK, &mut seen).await.unwrap_err();
        assert!(e.to_string().contains("outside"), "{e}");
        assert_eq!(feed.opened_after, vec![0]);
    }

    #[tokio::test]
    async fn with_nothing_seen_the_server_s_resume_id_is_used() {
        let mut feed = Fake {
            script: VecDeque::from([
                Script::Batches(vec![Err(Status::resource_exhausted(
                    "reconnect with after_id = 41",
                ))]),
                Script::Batches(vec![]),
            ]),
            opened_after: vec![],
        };
        let mut seen = Seen::default();
        follow(&mut feed, 0, QUICK, &mut seen)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(feed.opened_after, vec![0, 41]);
    }

    #[test]
    fn backoff_doubles_up_to_its_longest_wait() {
        let r = Retry::STANDARD;
        assert_eq!(r.wait(1), Duration::from_millis(500));
        assert_eq!(r.wait(3), Duration::from_secs(2));
        assert_eq!(r.wait(10), Duration::from_secs(15));
    }

    #[test]
    fn details_are_summed_up_in_a_few_words() {
        let doc = pb::EventKind::Document as i32;
        assert_eq!(
            summary(
                doc,
                &json!({"action": "approved", "state": ["submitted", "approved"], "note": "同意"})
            ),
            "approved (submitted → approved): 同意"
        );
        assert_eq!(
            summary(
                doc,
                &json!({"created": {"number": "DB-2026-000001", "lines": [
                    {"item": "quilt-cotton", "requested": 500}, {"item": "tent-12m2", "requested": 20}]}})
            ),
            "created DB-2026-000001: quilt-cotton 500, tent-12m2 20"
        );
        assert_eq!(
            summary(
                pb::EventKind::Stock as i32,
                &json!({"received": [{"lot": "QC-1", "quantity": 200, "held": 0}], "detail": {}})
            ),
            "received QC-1 +200"
        );
        assert_eq!(
            summary(
                pb::EventKind::AlertLowStock as i32,
                &json!({"item": "quilt-cotton", "minimum": 500, "available": 450})
            ),
            "quilt-cotton: 450 available, below the minimum 500"
        );
        let long = summary(doc, &json!({"x": "y".repeat(200)}));
        assert!(long.ends_with("...") && long.chars().count() == 80);
    }

    #[test]
    fn a_line_names_the_order_by_its_number() {
        let e = pb::Event {
            id: 42,
            kind: pb::EventKind::Document as i32,
            time: Some(prost_types::Timestamp {
                seconds: 1_782_837_000,
                nanos: 0,
            }),
            depot_code: "HB-SY-FX".into(),
            resource: "allocationOrders/abc".into(),
            method: "/reserve.v1.AllocationService/SubmitAllocationOrder".into(),
            actor: "fx-zhou".into(),
            detail: None,
        };
        let d = json!({"action": "submitted", "state": ["draft", "submitted"], "note": ""});
        assert_eq!(
            line(&e, &d, Some("DB-2026-000001")),
            "42  2026-07-01 00:30:00  document  HB-SY-FX  allocationOrders/abc  \
             SubmitAllocationOrder  fx-zhou  DB-2026-000001 submitted (draft → submitted)"
        );
    }
}
