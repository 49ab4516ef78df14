//! `reservectl claims ...`: finance opens, assesses, approves and pays
//! compensation for requisitioned property, lists what is outstanding, and
//! exports claims as CSV for the finance system. Amounts print in yuan with
//! two decimals; the server counts in fen.

use super::leases::{show_yuan, yuan};
use super::request_id;
use super::requisitions::owner_text;
use super::stock::print::fields;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
use crate::when;
use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::compensation_service_client::CompensationServiceClient;

/// Claim commands.
#[derive(clap::Subcommand, Debug)]
pub enum ClaimsCmd {
    /// Open a claim on a requisition with the direct costs the owner claims.
    Open(OpenArgs),
    /// Fix the amount: usage, repair, loss and the direct costs accepted
    /// (default: the ones claimed).
    Assess(AssessArgs),
    /// Approve the assessed amount (not by the officer who assessed it).
    Approve {
        /// Claim id or number (BC-2026-000001).
        claim: String,
        /// Note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record a payment (never more than approved and unpaid).
    Pay(PayArgs),
    /// Record the owner's dispute; the claim is assessed again.
    Dispute {
        /// Claim id or number.
        claim: String,
        /// What the owner disputes.
        #[arg(long)]
        reason: String,
    },
    /// Show one claim with its figures and timeline.
    Get {
        /// Claim id or number.
        claim: String,
    },
    /// Claims of a subtree, oldest first.
    List(ListArgs),
    /// Outstanding and paid totals by incident, owner kind and tier.
    Report {
        /// Subtree (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
    /// Write claims as CSV for the finance system (yuan with two decimals).
    Export {
        /// The CSV file to write.
        #[arg(long)]
        out: std::path::PathBuf,
        #[command(flatten)]
        which: Which,
        /// Subtree (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
    /// Purge owners' private data from claims settled longer ago than the
    /// server's retention period; amounts stay.
    Purge,
}

/// A direct cost: fuel|DESCRIPTION|YUAN|EVIDENCE, other|DESCRIPTION|YUAN|EVIDENCE
/// or labour|DESCRIPTION|STAFF_DAYS|YUAN_PER_DAY|EVIDENCE.
fn cost(s: &str) -> Result<pb::DirectCost, String> {
    let bad = || {
        format!(
            "'{s}' is not fuel|DESCRIPTION|YUAN|EVIDENCE, other|DESCRIPTION|YUAN|EVIDENCE or labour|DESCRIPTION|STAFF_DAYS|YUAN_PER_DAY|EVIDENCE"
        )
    };
    let f: Vec<&str> = s.split('|').map(str::trim).collect();
    match f.as_slice() {
        [k @ ("fuel" | "other"), d, amount, evidence] => Ok(pb::DirectCost {
            kind: if *k == "fuel" {
                pb::DirectCostKind::Fuel
            } else {
                pb::DirectCostKind::Other
            } as i32,
            description: d.to_string(),
            amount_fen: yuan(amount)?,
            evidence: evidence.to_string(),
            ..Default::default()
        }),
        ["labour", d, days, wage, evidence] => Ok(pb::DirectCost {
            kind: pb::DirectCostKind::Labour as i32,
            description: d.to_string(),
            staff_days: days.parse().map_err(|_| bad())?,
            daily_wage_fen: yuan(wage)?,
            evidence: evidence.to_string(),
            ..Default::default()
        }),
        _ => Err(bad()),
    }
}

/// A new claim.
#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    /// Requisition id or number (ZY-2026-000001).
    requisition: String,
    /// A direct cost claimed; repeat.
    #[arg(long = "cost", value_parser = cost, value_name = "KIND|DESC|...|EVIDENCE")]
    costs: Vec<pb::DirectCost>,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
}

/// An assessment.
#[derive(clap::Args, Debug)]
pub struct AssessArgs {
    /// Claim id or number.
    claim: String,
    /// A direct cost accepted; repeat. Without any, the costs claimed are accepted.
    #[arg(long = "cost", value_parser = cost, value_name = "KIND|DESC|...|EVIDENCE")]
    costs: Vec<pb::DirectCost>,
    /// Accept no direct costs at all.
    #[arg(long, conflicts_with = "costs")]
    no_costs: bool,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
}

/// A payment.
#[derive(clap::Args, Debug)]
pub struct PayArgs {
    /// Claim id or number.
    claim: String,
    /// Amount, yuan (e.g. 50000 or 50000.50).
    #[arg(long, value_parser = yuan)]
    amount: i64,
    /// The date it was paid, YYYY-MM-DD.
    #[arg(long, value_parser = when::date)]
    date: Date,
    /// The bank transfer reference.
    #[arg(long)]
    bank_ref: String,
}

/// Which claims.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("state").args(["awaiting_assessment", "awaiting_approval", "outstanding", "paid"]))]
pub struct Which {
    /// Drafts and disputed claims waiting for assessment.
    #[arg(long)]
    awaiting_assessment: bool,
    /// Assessed claims waiting for approval.
    #[arg(long)]
    awaiting_approval: bool,
    /// Approved and not fully paid.
    #[arg(long)]
    outstanding: bool,
    /// Settled.
    #[arg(long)]
    paid: bool,
}

impl Which {
    fn state(&self) -> pb::ClaimState {
        if self.awaiting_assessment {
            pb::ClaimState::Draft
        } else if self.awaiting_approval {
            pb::ClaimState::Assessed
        } else if self.outstanding {
            pb::ClaimState::Approved
        } else if self.paid {
            pb::ClaimState::Paid
        } else {
            pb::ClaimState::Unspecified
        }
    }
}

/// Which claims, and how many.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    #[command(flatten)]
    which: Which,
    #[command(flatten)]
    limit: LimitArg,
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    if field.starts_with("claimed_costs[") || field.starts_with("accepted_costs[") {
        let n: usize = field.split_once('[')?.1.split_once(']')?.0.parse().ok()?;
        return Some(format!("--cost #{}", n + 1));
    }
    let flag = match field {
        "amount_fen" => "--amount",
        "paid_date" => "--date",
        "bank_reference" => "--bank-ref",
        "reason" => "--reason",
        "note" => "--note",
        _ => return None,
    };
    Some(flag.into())
}

fn state_name(s: i32) -> &'static str {
    match pb::ClaimState::try_from(s) {
        Ok(pb::ClaimState::Draft) => "draft",
        Ok(pb::ClaimState::Assessed) => "assessed",
        Ok(pb::ClaimState::Approved) => "approved",
        Ok(pb::ClaimState::Paid) => "paid",
        Ok(pb::ClaimState::Disputed) => "disputed",
        _ => "-",
    }
}

fn cost_kind(k: i32) -> &'static str {
    match pb::DirectCostKind::try_from(k) {
        Ok(pb::DirectCostKind::Fuel) => "fuel",
        Ok(pb::DirectCostKind::Labour) => "labour",
        Ok(pb::DirectCostKind::Other) => "other",
        _ => "-",
    }
}

fn show(c: &pb::Claim) {
    let f = c.figures.clone().unwrap_or_default();
    fields(vec![
        ("claim", c.number.clone()),
        ("state", state_name(c.state).into()),
        ("requisition", c.requisition_number.clone()),
        ("incident", c.incident_id.clone()),
        (
            "owner",
            c.owner.as_ref().map(owner_text).unwrap_or_default(),
        ),
        (
            "figures",
            if f.interim {
                format!(
                    "interim, units still out (as of {})",
                    when::show_date(f.as_of_date.as_ref())
                )
            } else {
                format!("as of {}", when::show_date(f.as_of_date.as_ref()))
            },
        ),
        ("usage ¥", show_yuan(f.usage_fen)),
        ("repair ¥", show_yuan(f.repair_fen)),
        ("loss ¥", show_yuan(f.loss_fen)),
        ("direct costs ¥", show_yuan(f.direct_fen)),
        ("total ¥", show_yuan(f.total_fen)),
        ("approved ¥", show_yuan(c.approved_fen)),
        ("paid ¥", show_yuan(c.paid_fen)),
        ("outstanding ¥", show_yuan(c.outstanding_fen)),
    ]);
    let mut t = table(&[
        "line",
        "item",
        "unit-days",
        "usage ¥",
        "repair claimed ¥",
        "repair ¥",
        "loss ¥",
    ]);
    for l in &f.lines {
        t.add_row(vec![
            l.line_number.to_string(),
            l.description.clone(),
            l.unit_days.to_string(),
            show_yuan(l.usage_fen),
            show_yuan(l.repair_claimed_fen),
            show_yuan(l.repair_fen),
            show_yuan(l.loss_fen),
        ]);
    }
    print_table(&t);
    let costs = if c.accepted_costs.is_empty() {
        &c.claimed_costs
    } else {
        &c.accepted_costs
    };
    if !costs.is_empty() {
        let mut t = table(&[
            "direct cost",
            "what",
            "staff-days",
            "¥/day",
            "¥",
            "evidence",
        ]);
        for x in costs {
            t.add_row(vec![
                cost_kind(x.kind).into(),
                x.description.clone(),
                x.staff_days.to_string(),
                show_yuan(x.daily_wage_fen),
                show_yuan(x.amount_fen),
                x.evidence.clone(),
            ]);
        }
        print_table(&t);
    }
    let mut t = table(&["when", "state", "by", "what"]);
    for s in &c.timeline {
        t.add_row(vec![
            time(s.time.as_ref()),
            state_name(s.state).into(),
            s.actor.clone(),
            s.note.clone(),
        ]);
    }
    print_table(&t);
}

async fn all(
    c: &CompensationServiceClient<Authed>,
    depot: Option<String>,
    which: &Which,
    limit: LimitArg,
) -> anyhow::Result<paging::Fetched<pb::Claim>> {
    let template = pb::ListClaimsRequest {
        depot_code: depot.unwrap_or_default(),
        state: which.state() as i32,
        ..Default::default()
    };
    Ok(paging::fetch(limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListClaimsRequest {
            page_size,
            page_token,
            ..template.clone()
        };
        async move {
            let r = c.list_claims(req).await?.into_inner();
            Ok((r.claims, r.next_page_token))
        }
    })
    .await?)
}

/// Writes `claims` as CSV: one row per claim, amounts in yuan.
fn write_csv(path: &std::path::Path, claims: &[pb::Claim]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "claim",
        "requisition",
        "incident",
        "depot",
        "tier",
        "owner_kind",
        "owner",
        "id_number",
        "bank",
        "bank_account",
        "state",
        "total_yuan",
        "approved_yuan",
        "paid_yuan",
        "outstanding_yuan",
        "settled",
    ])?;
    for c in claims {
        let o = c.owner.clone().unwrap_or_default();
        let total = c.figures.as_ref().map_or(0, |f| f.total_fen);
        w.write_record([
            c.number.clone(),
            c.requisition_number.clone(),
            c.incident_id.clone(),
            c.depot_code.clone(),
            pb::Tier::try_from(c.tier)
                .map(|t| t.as_str_name().trim_start_matches("TIER_").to_lowercase())
                .unwrap_or_default(),
            if o.kind == pb::OwnerKind::Company as i32 {
                "company"
            } else {
                "person"
            }
            .into(),
            o.name,
            o.id_number,
            o.bank_name,
            o.bank_account,
            state_name(c.state).into(),
            show_yuan(total),
            show_yuan(c.approved_fen),
            show_yuan(c.paid_fen),
            show_yuan(c.outstanding_fen),
            time(c.settled_time.as_ref()),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Runs a claims command.
pub async fn run(
    cmd: ClaimsCmd,
    ch: Authed,
    fmt: Format,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = CompensationServiceClient::new(ch);
    let claim = match cmd {
        ClaimsCmd::Open(a) => {
            let r = c
                .create_claim(pb::CreateClaimRequest {
                    request_id: request_id(&rid),
                    requisition_id: a.requisition,
                    claimed_costs: a.costs,
                    note: a.note,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateClaimResponse", &r);
            }
            let claim = r.claim.unwrap_or_default();
            println!("claim opened: {}", claim.number);
            claim
        }
        ClaimsCmd::Assess(a) => {
            let costs = if a.no_costs {
                Vec::new()
            } else if a.costs.is_empty() {
                c.get_claim(pb::GetClaimRequest {
                    claim_id: a.claim.clone(),
                })
                .await?
                .into_inner()
                .claim
                .unwrap_or_default()
                .claimed_costs
            } else {
                a.costs
            };
            let r = c
                .assess_claim(pb::AssessClaimRequest {
                    request_id: request_id(&rid),
                    claim_id: a.claim,
                    accepted_costs: costs,
                    note: a.note,
                    etag: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.AssessClaimResponse", &r);
            }
            r.claim.unwrap_or_default()
        }
        ClaimsCmd::Approve { claim, note } => {
            let r = c
                .approve_claim(pb::ApproveClaimRequest {
                    request_id: request_id(&rid),
                    claim_id: claim,
                    note,
                    etag: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ApproveClaimResponse", &r);
            }
            r.claim.unwrap_or_default()
        }
        ClaimsCmd::Pay(a) => {
            let r = c
                .record_claim_payment(pb::RecordClaimPaymentRequest {
                    request_id: request_id(&rid),
                    claim_id: a.claim,
                    amount_fen: a.amount,
                    paid_date: Some(a.date),
                    bank_reference: a.bank_ref,
                    etag: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RecordClaimPaymentResponse", &r);
            }
            r.claim.unwrap_or_default()
        }
        ClaimsCmd::Dispute { claim, reason } => {
            let r = c
                .dispute_claim(pb::DisputeClaimRequest {
                    request_id: request_id(&rid),
                    claim_id: claim,
                    reason,
                    etag: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.DisputeClaimResponse", &r);
            }
            r.claim.unwrap_or_default()
        }
        ClaimsCmd::Get { claim } => {
            let r = c
                .get_claim(pb::GetClaimRequest { claim_id: claim })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetClaimResponse", &r);
            }
            r.claim.unwrap_or_default()
        }
        ClaimsCmd::List(a) => {
            let got = all(&c, a.depot, &a.which, a.limit).await?;
            if fmt == Format::Json {
                got.note_more(fmt);
                return json(
                    "reserve.v1.ListClaimsResponse",
                    &pb::ListClaimsResponse {
                        claims: got.items,
                        next_page_token: got.next_page_token,
                    },
                );
            }
            let mut t = table(&[
                "claim",
                "requisition",
                "owner",
                "state",
                "approved ¥",
                "paid ¥",
                "outstanding ¥",
            ]);
            for x in &got.items {
                t.add_row(vec![
                    x.number.clone(),
                    x.requisition_number.clone(),
                    x.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
                    state_name(x.state).into(),
                    show_yuan(x.approved_fen),
                    show_yuan(x.paid_fen),
                    show_yuan(x.outstanding_fen),
                ]);
            }
            print_table(&t);
            got.note_more(fmt);
            return Ok(());
        }
        ClaimsCmd::Report { depot } => {
            let r = c
                .get_finance_report(pb::GetFinanceReportRequest {
                    depot_code: depot.unwrap_or_default(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetFinanceReportResponse", &r);
            }
            let mut t = table(&[
                "by",
                "group",
                "claims",
                "awaiting approval ¥",
                "outstanding ¥",
                "paid ¥",
            ]);
            let groups = [
                ("incident", &r.by_incident),
                ("owner", &r.by_owner_kind),
                ("tier", &r.by_tier),
            ];
            for (by, rows) in groups {
                for x in rows {
                    t.add_row(vec![
                        by.to_string(),
                        x.key.clone(),
                        x.claims.to_string(),
                        show_yuan(x.awaiting_approval_fen),
                        show_yuan(x.outstanding_fen),
                        show_yuan(x.paid_fen),
                    ]);
                }
            }
            if let Some(x) = &r.total {
                t.add_row(vec![
                    "total".into(),
                    String::new(),
                    x.claims.to_string(),
                    show_yuan(x.awaiting_approval_fen),
                    show_yuan(x.outstanding_fen),
                    show_yuan(x.paid_fen),
                ]);
            }
            print_table(&t);
            println!(
                "waiting for assessment: {} · waiting for approval: {} · vouchers overdue: {}",
                r.awaiting_assessment, r.awaiting_approval, r.vouchers_overdue
            );
            return Ok(());
        }
        ClaimsCmd::Export { out, which, depot } => {
            let got = all(&c, depot, &which, LimitArg::default()).await?;
            write_csv(&out, &got.items)?;
            println!("wrote {} claims to {}", got.items.len(), out.display());
            return Ok(());
        }
        ClaimsCmd::Purge => {
            let r = c
                .purge_settled_private_data(pb::PurgeSettledPrivateDataRequest {
                    request_id: request_id(&rid),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.PurgeSettledPrivateDataResponse", &r);
            }
            println!(
                "purged owners' private data of {} claims settled before {}: {}",
                r.claim_numbers.len(),
                time(r.settled_before_time.as_ref()),
                r.claim_numbers.join(", ")
            );
            return Ok(());
        }
    };
    show(&claim);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_costs_are_read_by_kind_in_fen() {
        let f = cost("fuel|柴油 1500 升|12345.00|发票0081").unwrap();
        assert_eq!(
            (f.amount_fen, f.kind),
            (1_234_500, pb::DirectCostKind::Fuel as i32)
        );
        let l = cost("labour|机手 2 人|20|400|考勤表").unwrap();
        assert_eq!(
            (l.staff_days, l.daily_wage_fen, l.amount_fen),
            (20, 40_000, 0)
        );
        assert!(cost("labour|机手|20|400").is_err());
        assert!(cost("gift|x|1|y").is_err());
    }
}
