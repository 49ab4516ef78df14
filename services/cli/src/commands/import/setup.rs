//! `reservectl import depots|items|norms FILE`: a province setting up its
//! network from a sheet each, through the ordinary admin calls. Each row is
//! checked by the same field rules the server applies (core's parsers) and
//! against the rest of the file and what the server holds (a parent depot,
//! an item, a norm's depot) before any row is sent.

use super::sheet::{self, Column, Columns, Problems, Row};
use super::{Catalogue, derived_id, server_problems};
use crate::commands::choices::TierArg;
use crate::conn::Authed;
use crate::output::Format;
use futures::StreamExt;
use reserve_api::pb::google::r#type::LatLng;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient;
use reserve_api::pb::reserve::v1::network_service_client::NetworkServiceClient;
use reserve_core::depot::NewDepot;
use reserve_core::item::NewItem;
use reserve_core::norm::NewNorm;
use reserve_core::violation::Violations;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tonic::Code;

/// Flags of `import depots|items|norms`.
#[derive(clap::Args, Debug)]
pub struct SetupArgs {
    /// CSV or Excel (.xlsx) file; see docs/templates/.
    file: PathBuf,
    /// Check every row and show how many would be sent; send nothing.
    #[arg(long)]
    dry_run: bool,
}

const fn col(name: &'static str, aliases: &'static [&'static str], required: bool) -> Column {
    Column {
        name,
        aliases,
        required,
    }
}

const DEPOT_COLUMNS: &[Column] = &[
    col("code", &["编码", "仓库编码"], true),
    col("name", &["名称", "仓库名称"], true),
    col("tier", &["层级"], true),
    col("parent_code", &["上级编码"], false),
    col("division_code", &["行政区划代码"], true),
    col("latitude", &["纬度"], true),
    col("longitude", &["经度"], true),
    col("address", &["地址"], false),
    col("storage_area_m2", &["库房面积"], false),
    col("operating_unit", &["承储单位"], false),
    col("owning_tier", &["事权"], false),
    col("contacts", &["值班联系人"], false),
];

const ITEM_COLUMNS: &[Column] = &[
    col("id", &["物资标识"], true),
    col("code", &["物资编码"], true),
    col("name", &["名称", "物资名称"], true),
    col("specification", &["规格"], false),
    col("unit", &["单位"], true),
    col("tracking", &["管理方式"], true),
    col("shelf_life_days", &["保质期天数"], false),
    col("quality_test_interval_days", &["质检周期天数"], false),
    col("near_expiry_days", &["临期预警天数"], false),
    col("upkeep_interval_days", &["养护周期天数"], false),
    col("recoverable", &["需回收"], false),
    col("leasable", &["可租赁"], false),
    col("unit_value_fen", &["单价分"], false),
    col("volume_per_unit_cm3", &["单位体积立方厘米"], false),
];

const NORM_COLUMNS: &[Column] = &[
    col("depot_code", &["仓库编码"], true),
    col("item", &["物资", "物资编码"], true),
    col("minimum", &["最低储备"], true),
    col("target", &["目标储备"], true),
];

/// Field rules broken, as problems of the row. Violations name proto fields
/// (`depot.latitude`), which the templates use as column names.
fn add_violations(row: usize, v: Violations, p: &mut Problems) {
    for f in v.into_vec() {
        p.add(row, &f.field, &f.description);
    }
}

fn field_column(field: &str) -> &str {
    let f = field
        .strip_prefix("depot.")
        .or_else(|| field.strip_prefix("item."))
        .or_else(|| field.strip_prefix("norm."))
        .unwrap_or(field);
    match f {
        "duty_contacts" => "contacts",
        "item_id" => "item",
        other => other,
    }
}

fn reason_column(_: &str) -> &'static str {
    "-"
}

fn int(cells: &Columns, row: &Row, name: &str, p: &mut Problems) -> i64 {
    match sheet::number(cells.get(row, name), i64::MIN + 1, i64::MAX) {
        Ok(n) => n.unwrap_or(0),
        Err(e) => {
            p.add(row.number, name, &e);
            0
        }
    }
}

fn int32(cells: &Columns, row: &Row, name: &str, p: &mut Problems) -> i32 {
    match sheet::number(cells.get(row, name), 0, i64::from(i32::MAX)) {
        Ok(n) => n.unwrap_or(0) as i32,
        Err(e) => {
            p.add(row.number, name, &e);
            0
        }
    }
}

fn float(cells: &Columns, row: &Row, name: &str, p: &mut Problems) -> f64 {
    let s = cells.get(row, name);
    if s.is_empty() {
        return 0.0;
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => f,
        _ => {
            p.add(row.number, name, &format!("\"{s}\" is not a number"));
            0.0
        }
    }
}

fn yes_no(cells: &Columns, row: &Row, name: &str, p: &mut Problems) -> bool {
    match cells.get(row, name).to_lowercase().as_str() {
        "" | "no" | "false" | "n" | "0" | "否" => false,
        "yes" | "true" | "y" | "1" | "是" => true,
        other => {
            p.add(row.number, name, &format!("\"{other}\" is not yes or no"));
            false
        }
    }
}

/// Reads a sheet and its columns, with the header's problems.
fn open(file: &Path, known: &[Column]) -> anyhow::Result<(sheet::Sheet, Columns, Problems)> {
    let (sheet, _) = sheet::read(file)?;
    let mut p = Problems::default();
    let cols = Columns::find(&sheet.header, known, &mut p);
    Ok((sheet, cols, p))
}

/// Sends `reqs` (row, request) with at most `n` at once; every refusal
/// becomes a problem of its row.
async fn send<T, F, Fut>(reqs: Vec<(usize, T)>, n: usize, call: F) -> anyhow::Result<Problems>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    let results = futures::stream::iter(reqs.into_iter().map(|(row, r)| {
        let fut = call(r);
        async move { (row, fut.await) }
    }))
    .buffered(n)
    .collect::<Vec<_>>()
    .await;
    let mut p = Problems::default();
    for (row, r) in results {
        if let Err(s) = r {
            server_problems(row, &s, field_column, reason_column, &mut p)?;
        }
    }
    Ok(p)
}

fn finish(what: &str, file: &Path, n: usize, dry_run: bool, fmt: Format) {
    match (fmt, dry_run) {
        (Format::Json, _) => println!(
            "{}",
            serde_json::json!({"rows": n, "sent": if dry_run { 0 } else { n }})
        ),
        (Format::Table, true) => println!(
            "{n} {what} in {} are valid; --dry-run sent nothing",
            file.display()
        ),
        (Format::Table, false) => println!(
            "{n} {what} from {} in place (rows sent by an earlier run are answered as before)",
            file.display()
        ),
    }
}

fn after_send(sent: Problems, file: &Path, total: usize) -> anyhow::Result<()> {
    let refused = sent.0.len();
    sent.into_result(&file.display().to_string()).map_err(|e| {
        e.context(format!(
            "{} of {total} rows were accepted and {refused} refused by the server; fix them and run the same file again",
            total - refused
        ))
    })
}

pub async fn depots(a: SetupArgs, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let (sheet, cols, mut p) = open(&a.file, DEPOT_COLUMNS)?;
    let mut rows: Vec<(usize, pb::Depot)> = Vec::new();
    for row in &sheet.rows {
        let n = row.number;
        let before = p.0.len();
        let tier = sheet::choice::<TierArg>(cols.get(row, "tier"), "tier", n, &mut p)
            .map_or(0, TierArg::wire);
        let owning_tier =
            sheet::choice::<TierArg>(cols.get(row, "owning_tier"), "owning_tier", n, &mut p)
                .map_or(0, TierArg::wire);
        let mut contacts = Vec::new();
        for c in cols
            .get(row, "contacts")
            .split([';', '；'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            match c
                .split([',', '，'])
                .map(str::trim)
                .collect::<Vec<_>>()
                .as_slice()
            {
                [name, duty, phone] => contacts.push(pb::Contact {
                    name: name.to_string(),
                    duty: duty.to_string(),
                    phone: phone.to_string(),
                }),
                _ => p.add(n, "contacts", &format!("\"{c}\" is not name,duty,phone")),
            }
        }
        let d = pb::Depot {
            code: cols.get(row, "code").to_string(),
            name: cols.get(row, "name").to_string(),
            tier,
            parent_code: cols.get(row, "parent_code").to_string(),
            division_code: cols.get(row, "division_code").to_string(),
            location: Some(pb::Place {
                lat_lng: Some(LatLng {
                    latitude: float(&cols, row, "latitude", &mut p),
                    longitude: float(&cols, row, "longitude", &mut p),
                }),
                address: cols.get(row, "address").to_string(),
            }),
            storage_area_m2: float(&cols, row, "storage_area_m2", &mut p),
            operating_unit: cols.get(row, "operating_unit").to_string(),
            owning_tier,
            duty_contacts: contacts,
            ..Default::default()
        };
        if p.0.len() > before {
            continue;
        }
        if let Err(v) = NewDepot::parse(&reserve_api::network::draft_of(&d)) {
            add_violations(n, v, &mut p);
            continue;
        }
        rows.push((n, d));
    }
    // Parents: earlier in the file, or already on the server.
    let mut net = NetworkServiceClient::new(ch);
    let mut in_file: HashMap<String, usize> = HashMap::new();
    for (n, d) in &rows {
        if let Some(first) = in_file.insert(d.code.clone(), *n) {
            p.add(*n, "code", &format!("{} is also on row {first}", d.code));
        }
    }
    let mut known: HashSet<String> = HashSet::new();
    for (n, d) in &rows {
        let parent = &d.parent_code;
        if parent.is_empty() || in_file.contains_key(parent) || known.contains(parent) {
            continue;
        }
        match net
            .get_depot(pb::GetDepotRequest {
                code: parent.clone(),
            })
            .await
        {
            Ok(_) => {
                known.insert(parent.clone());
            }
            Err(s) if s.code() == Code::NotFound || s.code() == Code::PermissionDenied => p.add(
                *n,
                "parent_code",
                &format!("{parent} is neither in the file nor a depot in your scope"),
            ),
            Err(s) => return Err(s.into()),
        }
    }
    p.into_result(&a.file.display().to_string())?;
    let total = rows.len();
    if !a.dry_run {
        // Parents first: the tree is built top-down, one depot at a time.
        rows.sort_by_key(|(n, d)| (d.tier, *n));
        let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
        let reqs: Vec<(usize, pb::CreateDepotRequest)> = rows
            .into_iter()
            .map(|(n, d)| {
                let body = prost::Message::encode_to_vec(&d);
                let k = seen.entry(body.clone()).or_default();
                let request_id = derived_id("depot", "", &body, *k);
                *k += 1;
                (
                    n,
                    pb::CreateDepotRequest {
                        request_id,
                        depot: Some(d),
                    },
                )
            })
            .collect();
        let sent = send(reqs, 1, |r| {
            let mut c = net.clone();
            async move { c.create_depot(r).await.map(|_| ()) }
        })
        .await?;
        after_send(sent, &a.file, total)?;
    }
    finish("depots", &a.file, total, a.dry_run, fmt);
    Ok(())
}

pub async fn items(a: SetupArgs, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let (sheet, cols, mut p) = open(&a.file, ITEM_COLUMNS)?;
    let mut rows: Vec<(usize, pb::Item)> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    for row in &sheet.rows {
        let n = row.number;
        let before = p.0.len();
        let tracking_cell = cols.get(row, "tracking");
        let tracking = pb::TrackingMode::from_str_name(&format!(
            "TRACKING_MODE_{}",
            tracking_cell.to_uppercase()
        ))
        .filter(|t| *t != pb::TrackingMode::Unspecified);
        if tracking.is_none() {
            p.add(
                n,
                "tracking",
                &format!("\"{tracking_cell}\" is not lot or serial"),
            );
        }
        let near = cols.get(row, "near_expiry_days");
        let i = pb::Item {
            id: cols.get(row, "id").to_string(),
            code: cols.get(row, "code").to_string(),
            name: cols.get(row, "name").to_string(),
            specification: cols.get(row, "specification").to_string(),
            unit: cols.get(row, "unit").to_string(),
            tracking: tracking.map_or(0, |t| t as i32),
            shelf_life_days: int32(&cols, row, "shelf_life_days", &mut p),
            quality_test_interval_days: int32(&cols, row, "quality_test_interval_days", &mut p),
            near_expiry_days: (!near.is_empty())
                .then(|| int32(&cols, row, "near_expiry_days", &mut p)),
            upkeep_interval_days: int32(&cols, row, "upkeep_interval_days", &mut p),
            recoverable: yes_no(&cols, row, "recoverable", &mut p),
            leasable: yes_no(&cols, row, "leasable", &mut p),
            unit_value_fen: int(&cols, row, "unit_value_fen", &mut p),
            volume_per_unit_cm3: int(&cols, row, "volume_per_unit_cm3", &mut p),
            ..Default::default()
        };
        if p.0.len() > before {
            continue;
        }
        if let Err(v) = NewItem::parse(&reserve_api::catalog::draft_of(&i)) {
            add_violations(n, v, &mut p);
            continue;
        }
        if let Some(first) = ids.insert(i.id.clone(), n) {
            p.add(n, "id", &format!("{} is also on row {first}", i.id));
        }
        rows.push((n, i));
    }
    p.into_result(&a.file.display().to_string())?;
    let total = rows.len();
    if !a.dry_run {
        let cat = CatalogServiceClient::new(ch);
        let reqs = with_ids("item", rows, |request_id, item| pb::CreateItemRequest {
            request_id,
            item: Some(item),
        });
        let sent = send(reqs, 8, |r| {
            let mut c = cat.clone();
            async move { c.create_item(r).await.map(|_| ()) }
        })
        .await?;
        after_send(sent, &a.file, total)?;
    }
    finish("items", &a.file, total, a.dry_run, fmt);
    Ok(())
}

pub async fn norms(a: SetupArgs, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let (sheet, cols, mut p) = open(&a.file, NORM_COLUMNS)?;
    let catalogue = Catalogue::load(ch.clone()).await?;
    let mut net = NetworkServiceClient::new(ch.clone());
    let mut depots: HashMap<String, bool> = HashMap::new();
    let mut pairs: HashMap<(String, String), usize> = HashMap::new();
    let mut rows: Vec<(usize, pb::ReserveNorm)> = Vec::new();
    for row in &sheet.rows {
        let n = row.number;
        let before = p.0.len();
        let item = match catalogue.resolve(cols.get(row, "item")) {
            Ok(i) => i.id.clone(),
            Err(e) => {
                p.add(n, "item", &e);
                String::new()
            }
        };
        let depot = cols.get(row, "depot_code").to_string();
        let minimum = int(&cols, row, "minimum", &mut p);
        let target = int(&cols, row, "target", &mut p);
        if p.0.len() > before {
            continue;
        }
        if let Err(v) = NewNorm::parse(&depot, &item, minimum, target) {
            add_violations(n, v, &mut p);
            continue;
        }
        let exists = match depots.get(&depot) {
            Some(e) => *e,
            None => {
                let e = match net
                    .get_depot(pb::GetDepotRequest {
                        code: depot.clone(),
                    })
                    .await
                {
                    Ok(_) => true,
                    Err(s) if s.code() == Code::NotFound || s.code() == Code::PermissionDenied => {
                        false
                    }
                    Err(s) => return Err(s.into()),
                };
                depots.insert(depot.clone(), e);
                e
            }
        };
        if !exists {
            p.add(
                n,
                "depot_code",
                &format!("{depot} is not a depot in your scope"),
            );
            continue;
        }
        debug_assert!(catalogue.has(&item));
        if let Some(first) = pairs.insert((depot.clone(), item.clone()), n) {
            p.add(
                n,
                "item",
                &format!("the norm of {item} at {depot} is also on row {first}"),
            );
        }
        rows.push((
            n,
            pb::ReserveNorm {
                depot_code: depot,
                item_id: item,
                minimum,
                target,
                ..Default::default()
            },
        ));
    }
    p.into_result(&a.file.display().to_string())?;
    let total = rows.len();
    if !a.dry_run {
        let cat = CatalogServiceClient::new(ch);
        let reqs = with_ids("norm", rows, |request_id, norm| pb::SetReserveNormRequest {
            request_id,
            norm: Some(norm),
        });
        let sent = send(reqs, 8, |r| {
            let mut c = cat.clone();
            async move { c.set_reserve_norm(r).await.map(|_| ()) }
        })
        .await?;
        after_send(sent, &a.file, total)?;
    }
    finish("norms", &a.file, total, a.dry_run, fmt);
    Ok(())
}

/// Wraps each row's message in its request, with a request id derived from
/// the message.
fn with_ids<M: prost::Message, R>(
    kind: &str,
    rows: Vec<(usize, M)>,
    wrap: impl Fn(String, M) -> R,
) -> Vec<(usize, R)> {
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    rows.into_iter()
        .map(|(n, m)| {
            let body = m.encode_to_vec();
            let k = seen.entry(body.clone()).or_default();
            let id = derived_id(kind, "", &body, *k);
            *k += 1;
            (n, wrap(id, m))
        })
        .collect()
}
