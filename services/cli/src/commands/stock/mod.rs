//! `reservectl stock ...`: a depot keeper's journeys and the stock reports.
//! The clap commands and the dispatcher live here; each group of operations
//! has its own module.

mod adjustment;
mod count;
mod integrity;
mod ledger;
mod lots;
mod movement;
pub(crate) mod print;
mod report;
mod scrap;

use crate::conn::Authed;
use crate::output::Format;
use anyhow::Context;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;

/// Stock commands. The depot defaults to your token's scope depot.
#[derive(clap::Subcommand, Debug)]
pub enum StockCmd {
    /// Stock lines of a depot: on hand, reserved, held, available per lot.
    List(report::ListArgs),
    /// Receive stock into a lot.
    Receive(movement::ReceiveArgs),
    /// Issue stock (first-expired-first-out unless --lot or --serial).
    Issue(movement::IssueArgs),
    /// Hold units (quarantine, damage, under repair).
    Hold(movement::HoldArgs),
    /// Release held units, saying why they may be used again.
    Release(movement::ReleaseArgs),
    /// Reverse a mistaken entry; the reversal points at it.
    Reverse(movement::ReverseArgs),
    /// Show one ledger entry.
    Entry {
        /// Entry id.
        id: String,
    },
    /// Propose a correction; it posts when someone else countersigns it.
    Adjust(adjustment::AdjustArgs),
    /// Adjustments of a subtree, newest first.
    Adjustments(adjustment::ListArgs),
    /// Show one adjustment (with its etag).
    Adjustment {
        /// Adjustment id.
        id: String,
    },
    /// Countersign and post an adjustment.
    ApproveAdjustment(Approve),
    /// Reject (or, as its author, withdraw) an adjustment.
    RejectAdjustment(Reject),
    /// Apply to scrap units; they are held until the owning tier decides.
    Scrap(scrap::ScrapArgs),
    /// Scrap applications of a subtree, newest first.
    Scraps(scrap::ListArgs),
    /// Show one scrap application (with its etag).
    ScrapApplication {
        /// Application id.
        id: String,
    },
    /// Approve a scrap application (dispatcher or admin of the owning tier).
    ApproveScrap(Approve),
    /// Reject a scrap application; its units are released.
    RejectScrap(Reject),
    /// Stock counts (盘点).
    #[command(subcommand)]
    Count(CountCmd),
    /// Ledger history of a subtree, newest first.
    Ledger(ledger::LedgerArgs),
    /// Sum an item or category over a subtree, by tier and state.
    Rollup(report::RollupArgs),
    /// Lots near expiry (and, with --expired, expired ones), soonest first.
    Expiring(report::ExpiringArgs),
    /// Depots below their reserve norms.
    Shortfalls(report::SubtreeArgs),
    /// Lots to rotate out before they expire, with replacement quantities.
    Rotation(report::SubtreeArgs),
    /// Lots held (now or before) in a subtree.
    Lots(lots::LotsArgs),
    /// Show one lot: dates, manufacturer, funding, owning tier.
    Lot {
        /// Item.
        item: String,
        /// Lot number.
        lot: String,
    },
    /// Serialised assets of a depot.
    Assets(lots::AssetsArgs),
    /// Show one serialised asset: where it is and who holds it.
    Asset {
        /// Item.
        item: String,
        /// Serial number.
        serial: String,
    },
    /// Recompute every balance from the ledger (admins).
    Check {
        /// Subtree (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
}

/// Stock count commands.
#[derive(clap::Subcommand, Debug)]
pub enum CountCmd {
    /// Open a count at your depot and snapshot what is expected; prints its id.
    Open {
        /// Only these items (default: all).
        #[arg(long = "item")]
        items: Vec<String>,
        /// Note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record what is on the shelf now: --line ITEM:LOT=N for lots, --seen
    /// ITEM:LOT=SERIAL,SERIAL,... for serial-tracked items (repeatable).
    Record {
        /// Count id.
        id: String,
        /// ITEM:LOT=N, e.g. quilt-cotton:QC-2026-11=198.
        #[arg(long = "line")]
        lines: Vec<String>,
        /// ITEM:LOT=SERIAL,SERIAL,..., e.g. generator-5kw:GEN-2026=G5-0001,G5-0002.
        #[arg(long = "seen")]
        seen: Vec<String>,
        #[command(flatten)]
        etag: EtagArg,
    },
    /// Submit a fully counted count.
    Submit {
        /// Count id.
        id: String,
        #[command(flatten)]
        etag: EtagArg,
    },
    /// Approve a submitted count (someone who neither recorded nor submitted
    /// it) and post its variances.
    Approve {
        /// Count id.
        id: String,
        /// Note.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        etag: EtagArg,
    },
    /// Cancel a count; nothing is posted.
    Cancel {
        /// Count id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        etag: EtagArg,
    },
    /// Show a count and its variance report.
    Show {
        /// Count id.
        id: String,
    },
}

/// Makes a decision conditional on the document being as it was read.
#[derive(clap::Args, Debug, Default)]
pub struct EtagArg {
    /// The etag you read (shown by the show commands); if the document
    /// changed since, the decision is refused with ABORTED.
    #[arg(long, default_value = "")]
    pub etag: String,
}

/// Approving a document.
#[derive(clap::Args, Debug)]
pub struct Approve {
    /// Document id.
    pub id: String,
    /// Note.
    #[arg(long, default_value = "")]
    pub note: String,
    #[command(flatten)]
    pub etag: EtagArg,
}

/// Rejecting a document.
#[derive(clap::Args, Debug)]
pub struct Reject {
    /// Document id.
    pub id: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub etag: EtagArg,
}

/// What every stock command needs: the client, the output format, the
/// token's scope depot and the request id of a retried write.
pub struct Ctx {
    c: StockServiceClient<Authed>,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
}

impl Ctx {
    /// The depot given, else the token's scope depot.
    fn depot(&self, given: Option<String>) -> anyhow::Result<String> {
        given
            .or_else(|| self.scope.clone())
            .context("give --depot (no scope depot found in the token)")
    }

    /// The request id of a write.
    fn request_id(&self) -> String {
        super::request_id(&self.rid)
    }

    /// Whether to print canonical JSON instead of tables.
    fn json(&self) -> bool {
        self.fmt == Format::Json
    }
}

/// Runs a stock command; `scope` is the token's scope depot.
pub async fn run(
    cmd: StockCmd,
    ch: Authed,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut x = Ctx {
        c: StockServiceClient::new(ch),
        fmt,
        scope,
        rid,
    };
    let x = &mut x;
    match cmd {
        StockCmd::List(a) => report::list(x, a).await,
        StockCmd::Receive(a) => movement::receive(x, a).await,
        StockCmd::Issue(a) => movement::issue(x, a).await,
        StockCmd::Hold(a) => movement::hold(x, a).await,
        StockCmd::Release(a) => movement::release(x, a).await,
        StockCmd::Reverse(a) => movement::reverse(x, a).await,
        StockCmd::Entry { id } => ledger::entry(x, id).await,
        StockCmd::Adjust(a) => adjustment::create(x, a).await,
        StockCmd::Adjustments(a) => adjustment::list(x, a).await,
        StockCmd::Adjustment { id } => adjustment::get(x, id).await,
        StockCmd::ApproveAdjustment(a) => adjustment::approve(x, a).await,
        StockCmd::RejectAdjustment(a) => adjustment::reject(x, a).await,
        StockCmd::Scrap(a) => scrap::create(x, a).await,
        StockCmd::Scraps(a) => scrap::list(x, a).await,
        StockCmd::ScrapApplication { id } => scrap::get(x, id).await,
        StockCmd::ApproveScrap(a) => scrap::approve(x, a).await,
        StockCmd::RejectScrap(a) => scrap::reject(x, a).await,
        StockCmd::Count(c) => count::run(x, c).await,
        StockCmd::Ledger(a) => ledger::list(x, a).await,
        StockCmd::Rollup(a) => report::rollup(x, a).await,
        StockCmd::Expiring(a) => report::expiring(x, a).await,
        StockCmd::Shortfalls(a) => report::shortfalls(x, a).await,
        StockCmd::Rotation(a) => report::rotation(x, a).await,
        StockCmd::Lots(a) => lots::list(x, a).await,
        StockCmd::Lot { item, lot } => lots::get(x, item, lot).await,
        StockCmd::Assets(a) => lots::assets(x, a).await,
        StockCmd::Asset { item, serial } => lots::asset(x, item, serial).await,
        StockCmd::Check { depot } => integrity::check(x, depot).await,
    }
}
