#!/usr/bin/env python3
"""Writes the starting corpus of the `services` fuzz target into
fuzz/seeds/services/, and its dictionary fuzz/services.dict: one input per unary method (method byte, caller byte,
no body) and realistic requests for the writes whose rules run deepest, so
that the fuzzer starts from requests that pass validation instead of
having to discover a depot code byte by byte.

An input is [method index, caller index, protobuf bytes]; the method index
is the position of the method's arm in fuzz_targets/services.rs and the
callers are listed there (0 admin, 1 dispatcher, 2 finance, 3 auditor,
4 keeper of HB-SY-MJ, 5 keeper of HB-SY-MJ-01).

Run from the repository's root: python3 fuzz/seeds/make_services_seeds.py
"""
import glob
import os
import re
import struct

MSGS = {}


def load_protos():
    for f in glob.glob("proto/reserve/v1/*.proto") + glob.glob("proto/google/type/*.proto"):
        s = re.sub(r"//[^\n]*", "", open(f, encoding="utf-8").read())
        stack = []
        for m in re.finditer(r"\b(message|enum|oneof) (\w+) \{|\{|\}", s):
            if m.group(1):
                stack.append((m.group(1), m.group(2), m.end()))
            elif m.group(0) == "{":
                stack.append(("other", "", m.end()))
            else:
                kind, name, start = stack.pop()
                if kind != "message":
                    continue
                flat = s[start:m.start()]
                while True:
                    n = re.sub(r"\b(message|enum) \w+ \{[^{}]*\}", "", flat)
                    if n == flat:
                        break
                    flat = n
                flat = re.sub(r"oneof \w+ \{([^{}]*)\}", r"\1", flat)
                MSGS[name] = {
                    fm.group(3): (int(fm.group(4)), fm.group(2).split(".")[-1])
                    for fm in re.finditer(r"(repeated |optional )?([\w.]+) (\w+) = (\d+)", flat)
                }
    MSGS["Timestamp"] = {"seconds": (1, "int64"), "nanos": (2, "int32")}


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def encode(msg, value):
    out = bytearray()
    for name, v in value.items():
        number, typ = MSGS[msg][name]
        for item in v if isinstance(v, list) else [v]:
            if typ == "string":
                b = item.encode()
                out += varint(number << 3 | 2) + varint(len(b)) + b
            elif typ == "double":
                out += varint(number << 3 | 1) + struct.pack("<d", item)
            elif isinstance(item, dict):
                b = encode(typ, item)
                out += varint(number << 3 | 2) + varint(len(b)) + b
            else:  # integers, bools and enums
                out += varint(number << 3) + varint(int(item))
    return bytes(out)


NOW = 1_795_910_400  # 2026-11-29 00:00 UTC, the target's clock
DAY = {"year": 2026, "month": 11, "day": 29}
TS = {"seconds": NOW - 3600}
INCIDENT = "fuzz-incident"  # created by the target at start
ADMIN, DISPATCHER, FINANCE, AUDITOR, KEEPER, TOWN_KEEPER = range(6)

SEEDS = [
    ("ReceiveStockRequest", KEEPER, dict(request_id="seed-receive", depot_code="HB-SY-MJ", item_id="quilt-cotton", lot_number="SEED-1", quantity=100, production_date={"year": 2026, "month": 3, "day": 1}, manufacturer="湖北某公司", funding_source=1, document="RK-1")),
    ("ReceiveStockRequest", KEEPER, dict(request_id="seed-receive-serial", depot_code="HB-SY-MJ", item_id="generator-5kw", lot_number="SEED-G", quantity=2, serial_numbers=["SN-SEED-1", "SN-SEED-2"], funding_source=1)),
    ("IssueStockRequest", KEEPER, dict(request_id="seed-issue", depot_code="HB-SY-MJ", item_id="quilt-cotton", quantity=3, purpose=2, recipient="大川镇")),
    ("HoldStockRequest", KEEPER, dict(request_id="seed-hold", depot_code="HB-SY-MJ", item_id="quilt-cotton", lot_number="SEED-1", quantity=2, reason=1, note="受潮")),
    ("CreateScrapApplicationRequest", KEEPER, dict(request_id="seed-scrap", depot_code="HB-SY-MJ", item_id="quilt-cotton", lot_number="SEED-1", quantity=1, reason="霉变", disposal=1)),
    ("OpenStockCountRequest", KEEPER, dict(request_id="seed-count", depot_code="HB-SY-MJ", item_ids=["quilt-cotton"])),
    ("CreateIncidentRequest", DISPATCHER, dict(request_id="seed-incident", incident=dict(name="暴雨", type=1, occur_time=TS, depot_code="HB-SY", place=dict(lat_lng=dict(latitude=32.6, longitude=110.8), address="茅箭区")))),
    ("CreateAllocationOrderRequest", DISPATCHER, dict(request_id="seed-order", order=dict(kind=1, priority=1, reason="转移安置", command_depot_code="HB-SY", destination_depot_code="HB-SY-MJ-01", receiving_unit="大川镇人民政府", incident_id=INCIDENT, sender_contact=dict(name="赵六", phone="13800138001"), receiver_contact=dict(name="钱七", phone="13800138002"), lines=[dict(line_number=1, item_id="quilt-cotton", requested=20)]))),
    ("ProposeSourcesRequest", DISPATCHER, dict(destination_depot_code="HB-SY-MJ-01", command_depot_code="HB-SY", needs=[dict(item_id="tent-36m2", quantity=10)], emergency=True)),
    ("CreateLeaseRequest", KEEPER, dict(request_id="seed-lease", lease=dict(depot_code="HB-SY-MJ", lessee=dict(name="某建设公司", credit_code="91420300MA4K0000XW", contact=dict(name="张三", phone="13800138000")), lines=[dict(line_number=1, item_id="generator-5kw", quantity=1, daily_rate_fen=20000)], due_date={"year": 2026, "month": 12, "day": 20}, recallable=True, contract="ZL-HT-1"))),
    ("CreateRequisitionRequest", DISPATCHER, dict(request_id="seed-requisition", requisition=dict(depot_code="HB-SY", incident_id=INCIDENT, decision="十应急征〔2026〕1号", authority="十堰市人民政府", officer="李四", owner=dict(kind=2, name="王五", id_number="420302198001010010", phone="13800138000", bank_account="6222020200001234567", bank_name="某银行"), taken_time=TS, items=[dict(line_number=1, description="挖掘机", quantity=1, unit="台", returnable=True, condition="良好", unit_value_fen=50000000, daily_rate_fen=150000, used_at="大川镇")]))),
    ("CreateClaimRequest", FINANCE, dict(request_id="seed-claim", requisition_id="ZY-2026-000001", claimed_costs=[dict(kind=1, description="燃油", amount_fen=30000, evidence="FP-1")])),
    ("CreateDepotRequest", ADMIN, dict(request_id="seed-depot", depot=dict(code="HB-SY-MJ-09", name="茅箭区试点", tier=4, parent_code="HB-SY-MJ", division_code="420302900", location=dict(lat_lng=dict(latitude=32.6, longitude=110.9), address="茅箭区"), storage_area_m2=120.0, operating_unit="某镇人民政府"))),
    ("CreateItemRequest", ADMIN, dict(request_id="seed-item", item=dict(id="pump-seed", code="3010199", name="排涝泵", unit="台", tracking=2, upkeep_interval_days=90, leasable=True, unit_value_fen=800000))),
    ("SetReserveNormRequest", ADMIN, dict(request_id="seed-norm", norm=dict(depot_code="HB-SY-MJ", item_id="quilt-cotton", minimum=50, target=200))),
    ("RecordUpkeepRequest", KEEPER, dict(request_id="seed-upkeep", record=dict(depot_code="HB-SY-MJ", item_id="generator-5kw", serial_number="SN-SEED-1", kind=1, date=DAY, result=1, condition=1, cost_fen=5000, notes="试机"))),
]


# Words the fuzzer would otherwise have to find byte by byte: the demo
# network's depot codes and items, dates, ids and identity numbers.
WORDS = ["HB", "HB-SY", "HB-SY-MJ", "HB-SY-MJ-01", "HB-SY-ZW", "HB-SY-ZW-01", "tent-12m2", "tent-36m2",
         "quilt-cotton", "tarpaulin", "generator-5kw", "lighting-tower", "water-bottled", "food-instant",
         "2026-11-29", "2026-11-18", "2027-06-30", "9999-12-31", "rid-1", "rid-2", "LOT-1", "SN-0001",
         "91420300MA4K0000X1", "420302198001010018", "6222020200001234567", "13800138000", "budget",
         "requisition", "ZY-2026-000001", "BC-2026-000001", "DB-2026-000001", "ZL-2026-000001", "inc-1",
         'W/"1"']


def write_dictionary(path):
    """Each word as a length-delimited protobuf field numbered 1 to 12, and
    small varints in fields 1 to 15, in libFuzzer's dictionary syntax."""
    def esc(b):
        return "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02X" % c for c in b)
    lines = ["# libFuzzer dictionary for the `services` target: the demo network's depot",
             "# codes and items, dates, ids and identity numbers, each as a protobuf",
             "# length-delimited field (numbers 1 to 12), and small varints. Generated by",
             "# fuzz/seeds/make_services_seeds.py."]
    n = 0
    for word in WORDS:
        b = word.encode()
        for f in range(1, 13):
            lines.append(f'f{f}_{n}="{esc(bytes([f << 3 | 2, len(b)]) + b)}"')
            n += 1
    for f in range(1, 16):
        for v in (1, 2, 3, 5, 100, 1000):
            lines.append(f'v{f}_{v}="{esc(bytes([f << 3]) + varint(v))}"')
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def main():
    load_protos()
    src = open("fuzz/fuzz_targets/services.rs", encoding="utf-8").read()
    index = {req: int(n) for n, req in re.findall(r"(\d+) => call!\(\s*w\.apis\.\w+,\s*\w+,\s*pb::(\w+),", src)}
    out = "fuzz/seeds/services"
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(out + "/*"):
        os.remove(f)
    for req, n in sorted(index.items()):
        with open(f"{out}/empty-{req}", "wb") as f:
            f.write(bytes([n, DISPATCHER]))
    for i, (req, who, body) in enumerate(SEEDS):
        with open(f"{out}/{i:02}-{req}", "wb") as f:
            f.write(bytes([index[req], who]) + encode(req, body))
    write_dictionary("fuzz/services.dict")
    print(f"{len(index)} methods, {len(SEEDS)} requests written to {out}; fuzz/services.dict written")


if __name__ == "__main__":
    main()
