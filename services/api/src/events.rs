//! `reserve.v1.EventService`: the live event stream.
//!
//! One pump per server sequences the outbox (rounds are serialised across
//! servers by the database), reads the new events and broadcasts them to
//! this server's subscribers; every so often it scans for alerts. A
//! subscriber first replays what it missed from the database, then follows
//! the broadcast, and is ended with RESOURCE_EXHAUSTED when it falls too far
//! behind, never slowing writers.

use crate::context::Ctx;
use crate::error::{invalid, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::event_service_server::EventService;
use crate::wire::{json_struct, timestamp};
use reserve_core::authz::Action;
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::events::EventKind;
use reserve_core::time::Clock;
use reserve_store::Store;
use reserve_store::events::{StoredEvent, visible};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Messages a subscriber may have queued before it is dropped.
const QUEUE: usize = 256;
/// Events the pump keeps for subscribers that are momentarily behind.
const BROADCAST: usize = 8192;
/// Events one replay page (one message) carries.
const PAGE: i64 = 100;

/// Where a server's subscribers get live events.
#[derive(Clone, Debug)]
pub struct EventHub {
    tx: broadcast::Sender<Arc<StoredEvent>>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for EventHub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(BROADCAST);
        let (closing, _) = watch::channel(false);
        Self {
            tx,
            closing: Arc::new(closing),
        }
    }
}

impl EventHub {
    /// Ends every open stream (the server is draining): each subscriber is
    /// told to reconnect after the last id it saw.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Runs the pump until the task is dropped: sequence, read, broadcast,
    /// and scan for alerts every `alert_every`, or sooner when the service
    /// clock has moved on by a minute (an injected clock in tests).
    pub async fn pump(
        self,
        store: Store,
        clock: Arc<dyn Clock>,
        tick: Duration,
        alert_every: Duration,
    ) {
        // Start after what is already there; until the database answers,
        // keep asking rather than re-broadcast the whole history.
        let mut sent = loop {
            match store.last_event_id().await {
                Ok(id) => break id,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the last event id failed; retrying");
                    tokio::time::sleep(tick).await;
                }
            }
        };
        let mut next_scan = tokio::time::Instant::now();
        let mut scanned_at = i64::MIN;
        loop {
            let now = clock.now();
            if tokio::time::Instant::now() >= next_scan || now.saturating_sub(scanned_at) >= 60_000
            {
                if let Err(e) = store.scan_alerts(now).await {
                    tracing::warn!(error = %e, "alert scan failed; retrying next round");
                }
                next_scan = tokio::time::Instant::now() + alert_every;
                scanned_at = now;
            }
            if let Err(e) = store.sequence_events().await {
                tracing::warn!(error = %e, "sequencing events failed; retrying");
            }
            loop {
                match store.events_after(sent, PAGE).await {
                    Ok(batch) if !batch.is_empty() => {
                        for e in batch {
                            sent = e.id;
                            // No subscriber is not an error.
                            let _ = self.tx.send(Arc::new(e));
                        }
                    }
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading events failed; retrying");
                        break;
                    }
                }
            }
            tokio::time::sleep(tick).await;
        }
    }
}

/// The event service.
#[derive(Clone, Debug)]
pub struct EventApi {
    ctx: Ctx,
    hub: EventHub,
}

impl EventApi {
    /// A service over `ctx` fed by `hub`.
    pub fn new(ctx: Ctx, hub: EventHub) -> Self {
        Self { ctx, hub }
    }
}

fn event_pb(e: &StoredEvent) -> pb::Event {
    pb::Event {
        id: e.id,
        kind: e.kind.number() as i32,
        time: timestamp(e.at),
        depot_code: e.depot.to_string(),
        resource: e.resource.clone(),
        method: e.method.clone(),
        actor: e.actor.clone(),
        detail: Some(json_struct(&e.detail)),
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl EventService for EventApi {
    type WatchEventsStream = EventStream;

    async fn watch_events(
        &self,
        req: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let r = req.into_inner();
        let depot = match r.depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let mut kinds = Vec::new();
        for (i, k) in r.kinds.iter().enumerate() {
            match EventKind::from_number(i64::from(*k)) {
                Some(kind) => kinds.push(kind),
                None if *k == 0 => {}
                None => {
                    return Err(invalid(
                        &format!("kinds[{i}]"),
                        format!("{k} is not an event kind"),
                    ));
                }
            }
        }
        if r.after_id < 0 {
            return Err(invalid(
                "after_id",
                "must be 0 or an id from an earlier event",
            ));
        }
        // Subscribe before reading the database, so nothing falls between.
        let live = self.hub.tx.subscribe();
        let last = self
            .ctx
            .store
            .last_event_id()
            .await
            .map_err(status_of_store)?;
        if r.after_id > last {
            return Err(invalid(
                "after_id",
                format!("is past the last event ({last}); resume from an id this stream gave"),
            ));
        }
        let start = if r.after_id == 0 { last } else { r.after_id };
        let (tx, rx) = mpsc::channel(QUEUE);
        let closing = self.hub.closing.subscribe();
        tokio::spawn(follow(
            self.ctx.store.clone(),
            live,
            closing,
            tx,
            start,
            subtree,
            kinds,
        ));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

/// Replays from the database after `start`, then follows the broadcast.
async fn follow(
    store: Store,
    mut live: broadcast::Receiver<Arc<StoredEvent>>,
    mut closing: watch::Receiver<bool>,
    tx: mpsc::Sender<Result<pb::WatchEventsResponse, Status>>,
    start: i64,
    subtree: DepotPath,
    kinds: Vec<EventKind>,
) {
    // Every event id up to `seen` has been looked at (sent or filtered).
    let mut seen = start;
    if !replay(&store, &tx, &mut seen, &subtree, &kinds).await {
        return;
    }
    loop {
        if *closing.borrow() {
            let _ = tx.try_send(Err(Status::unavailable(format!(
                "the server is shutting down; reconnect with after_id = {seen}"
            ))));
            return;
        }
        let next = tokio::select! {
            next = live.recv() => next,
            // A client that went away ends its task at once.
            () = tx.closed() => return,
            changed = closing.changed() => match changed {
                Ok(()) => continue,
                // The server is gone: nothing more will come.
                Err(_) => return,
            },
        };
        match next {
            Ok(e) if e.id <= seen => continue,
            Ok(e) if e.id > seen + 1 => {
                // Broadcast ran ahead of what we read: fill from the database.
                if !replay(&store, &tx, &mut seen, &subtree, &kinds).await {
                    return;
                }
            }
            Ok(e) => {
                seen = e.id;
                if visible(&e, &subtree, &kinds) && !offer(&tx, vec![event_pb(&e)]) {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                let _ = tx.try_send(Err(behind(seen)));
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn behind(seen: i64) -> Status {
    Status::resource_exhausted(format!(
        "this client fell too far behind the event stream; reconnect with after_id = {seen}"
    ))
}

/// Queues events for the client unless it is too far behind: the last
/// free slot carries the error that ends the stream.
fn offer(
    tx: &mpsc::Sender<Result<pb::WatchEventsResponse, Status>>,
    events: Vec<pb::Event>,
) -> bool {
    if tx.is_closed() {
        return false;
    }
    if tx.capacity() <= 1 {
        let seen = events.first().map(|e| e.id - 1).unwrap_or(0);
        let _ = tx.try_send(Err(behind(seen)));
        return false;
    }
    tx.try_send(Ok(pb::WatchEventsResponse { events })).is_ok()
}

/// Sends every visible event after `seen` from the database; false when
/// the client is gone or too far behind.
async fn replay(
    store: &Store,
    tx: &mpsc::Sender<Result<pb::WatchEventsResponse, Status>>,
    seen: &mut i64,
    subtree: &DepotPath,
    kinds: &[EventKind],
) -> bool {
    loop {
        let batch = match store.events_after(*seen, PAGE).await {
            Ok(b) => b,
            Err(e) => {
                let _ = tx.try_send(Err(status_of_store(e)));
                return false;
            }
        };
        let Some(last) = batch.last().map(|e| e.id) else {
            return true;
        };
        let events: Vec<pb::Event> = batch
            .iter()
            .filter(|e| visible(e, subtree, kinds))
            .map(event_pb)
            .collect();
        // Catching up waits for the client (only its own task waits), so a
        // page at a time is all it holds.
        if !events.is_empty()
            && tx
                .send(Ok(pb::WatchEventsResponse { events }))
                .await
                .is_err()
        {
            return false;
        }
        *seen = last;
    }
}
