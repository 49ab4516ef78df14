// Words and numbers as the page shows them: Chinese labels, Beijing time.

import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Tier } from "./gen/reserve/v1/common_pb.js";
import { AllocationPriority, AllocationState } from "./gen/reserve/v1/allocation_pb.js";
import { EventKind } from "./gen/reserve/v1/events_pb.js";
import type { Date as PbDate } from "./gen/google/type/date_pb.js";

const timeFmt = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

/** A wire time in Beijing time, e.g. 2026/11/28 12:00:00. */
export function time(t: Timestamp | undefined): string {
  if (!t) return "—";
  return timeFmt.format(timestampDate(t));
}

/** A calendar date (already a Beijing date on the wire). */
export function date(d: PbDate | undefined): string {
  if (!d || d.year === 0) return "—";
  return `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}

const numFmt = new Intl.NumberFormat("zh-CN");
export function num(n: bigint | number): string {
  return numFmt.format(typeof n === "bigint" ? Number(n) : n);
}

/** Fen as yuan with two decimals. */
export function yuan(fen: bigint): string {
  const neg = fen < 0n;
  const a = neg ? -fen : fen;
  return `${neg ? "-" : ""}¥${numFmt.format(Number(a / 100n))}.${String(a % 100n).padStart(2, "0")}`;
}

export const tierName: Record<number, string> = {
  [Tier.UNSPECIFIED]: "—",
  [Tier.PROVINCE]: "省级",
  [Tier.CITY]: "市级",
  [Tier.COUNTY]: "县级",
  [Tier.TOWNSHIP]: "乡镇",
};

export const stateName: Record<number, string> = {
  [AllocationState.UNSPECIFIED]: "—",
  [AllocationState.DRAFT]: "草稿",
  [AllocationState.SUBMITTED]: "已提交",
  [AllocationState.APPROVED]: "已批准",
  [AllocationState.DISPATCHED]: "已发运",
  [AllocationState.RECEIVED]: "已接收",
  [AllocationState.CLOSED]: "已关闭",
  [AllocationState.REJECTED]: "已驳回",
  [AllocationState.CANCELLED]: "已取消",
};

export const priorityName: Record<number, string> = {
  [AllocationPriority.UNSPECIFIED]: "—",
  [AllocationPriority.ROUTINE]: "常规",
  [AllocationPriority.URGENT]: "紧急",
  [AllocationPriority.EMERGENCY]: "特急",
};

export const eventKindName: Record<number, string> = {
  [EventKind.UNSPECIFIED]: "—",
  [EventKind.STOCK]: "库存",
  [EventKind.DOCUMENT]: "单据",
  [EventKind.ALERT_LOW_STOCK]: "低于定额",
  [EventKind.ALERT_NEAR_EXPIRY]: "临期",
  [EventKind.ALERT_OVERDUE_BACKFILL]: "补批逾期",
  [EventKind.ALERT_EXPIRING_AGREEMENT]: "协议到期",
  [EventKind.OTHER]: "其他",
};

export const roleName: Record<string, string> = {
  depot_keeper: "仓库保管员",
  dispatcher: "调度员",
  finance: "财务人员",
  auditor: "审计",
  admin: "管理员",
};

/** Hours with one decimal. */
export function hours(h: number | undefined): string {
  return h === undefined ? "无法送达" : `${h.toFixed(1)} 小时`;
}
