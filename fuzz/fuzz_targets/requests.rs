//! Arbitrary bytes as every request message of every service: decoding
//! never panics, and a decoded stock movement goes through the same
//! conversion and validation as the server's (wire → draft → parse), which
//! must answer Ok or violations, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use reserve_api::pb::reserve::v1 as pb;
use reserve_core::stock::hold::{Hold, HoldDraft, Release, ReleaseDraft};
use reserve_core::stock::issue::{Issue, IssueDraft};
use reserve_core::stock::receipt::{Receipt, ReceiptDraft};

const NOW: i64 = 1_795_838_400_000;

macro_rules! decode_all {
    ($bytes:expr; $($t:ty,)*) => {$(
        let _ = <$t>::decode($bytes);
    )*};
}

fuzz_target!(|data: &[u8]| {
    decode_all!(data; pb::AmendAllocationOrderRequest, pb::ApproveAdjustmentRequest, pb::ApproveAllocationOrderRequest, pb::ApproveClaimRequest, pb::ApproveScrapApplicationRequest, pb::ApproveStockCountRequest, pb::AssessClaimRequest, pb::CallOffAgreementRequest, pb::CancelAllocationOrderRequest, pb::CancelStockCountRequest, pb::CheckLedgerIntegrityRequest, pb::CloseAllocationOrderRequest, pb::CloseDepotRequest, pb::CreateAdjustmentRequest, pb::CreateAgreementRequest, pb::CreateAllocationOrderRequest, pb::CreateClaimRequest, pb::CreateDepotRequest, pb::CreateIncidentRequest, pb::CreateItemRequest, pb::CreateLeaseRequest, pb::CreateOrderFromProposalRequest, pb::CreateRequisitionRequest, pb::CreateScrapApplicationRequest, pb::DeactivateUpkeepPlanRequest, pb::DispatchAllocationOrderRequest, pb::DisputeClaimRequest, pb::FinishRepairRequest, pb::GetAdjustmentRequest, pb::GetAgreementRequest, pb::GetAllocationOrderRequest, pb::GetAssetRequest, pb::GetClaimRequest, pb::GetDepotRequest, pb::GetFinanceReportRequest, pb::GetIncidentRequest, pb::GetItemRequest, pb::GetLeaseRequest, pb::GetLeaseStatementRequest, pb::GetLedgerEntryRequest, pb::GetLotRequest, pb::GetRepairRequest, pb::GetRequisitionRequest, pb::GetScrapApplicationRequest, pb::GetStockCountRequest, pb::HoldStockRequest, pb::IssueStockRequest, pb::ListAdjustmentsRequest, pb::ListAgreementsRequest, pb::ListAllocationOrdersRequest, pb::ListAncestorsRequest, pb::ListAssetsRequest, pb::ListAuditEventsRequest, pb::ListCallOffsRequest, pb::ListClaimsRequest, pb::ListDepotsRequest, pb::ListDescendantsRequest, pb::ListExpiringLotsRequest, pb::ListIncidentsRequest, pb::ListItemsRequest, pb::ListLeasesRequest, pb::ListLedgerEntriesRequest, pb::ListLotsRequest, pb::ListOverdueBackfillsRequest, pb::ListRepairsRequest, pb::ListRequisitionsRequest, pb::ListReserveNormsRequest, pb::ListRotationCandidatesRequest, pb::ListScrapApplicationsRequest, pb::ListShortfallsRequest, pb::ListStockRequest, pb::ListUpkeepDueRequest, pb::ListUpkeepPlansRequest, pb::ListUpkeepRecordsRequest, pb::OpenStockCountRequest, pb::ProposeSourcesRequest, pb::PurgeSettledPrivateDataRequest, pb::ReadinessReportRequest, pb::RecallLeaseRequest, pb::RecallLeasesRequest, pb::ReceiveAllocationOrderRequest, pb::ReceiveCallOffRequest, pb::ReceiveStockRequest, pb::RecordClaimPaymentRequest, pb::RecordCountLinesRequest, pb::RecordRequisitionOutcomesRequest, pb::RecordRequisitionVoucherRequest, pb::RecordUpkeepRequest, pb::RejectAdjustmentRequest, pb::RejectAllocationOrderRequest, pb::RejectScrapApplicationRequest, pb::ReleaseStockRequest, pb::ReturnLeaseRequest, pb::ReverseEntryRequest, pb::RollUpStockRequest, pb::SetReserveNormRequest, pb::SetUpkeepPlanRequest, pb::StartRepairRequest, pb::SubmitAllocationOrderRequest, pb::SubmitStockCountRequest, pb::UpdateDepotRequest, pb::UpdateItemRequest, pb::WatchEventsRequest, );
    if let Ok(r) = pb::ReceiveStockRequest::decode(data) {
        let _ = Receipt::parse(&ReceiptDraft::from(&r), NOW);
    }
    if let Ok(r) = pb::IssueStockRequest::decode(data) {
        let _ = Issue::parse(&IssueDraft::from(&r), NOW);
    }
    if let Ok(r) = pb::HoldStockRequest::decode(data) {
        let _ = Hold::parse(&HoldDraft::from(&r));
    }
    if let Ok(r) = pb::ReleaseStockRequest::decode(data) {
        let _ = Release::parse(&ReleaseDraft::from(&r));
    }
});
