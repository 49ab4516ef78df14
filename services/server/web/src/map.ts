// The network on a plain coordinate grid: no tiles, nothing from the
// internet. Depots at their WGS-84 coordinates, coloured by readiness, and a
// reach ring around each township and county.

import { s } from "./dom.js";
import { tierName, hours } from "./fmt.js";
import { Tier } from "./gen/reserve/v1/common_pb.js";
import type { Depot } from "./gen/reserve/v1/network_pb.js";
import type { PlaceReadiness } from "./gen/reserve/v1/sourcing_pb.js";

export type Readiness = "met" | "county-missed" | "missed" | "none";

/** How ready a place is: every level met; only the county's 6 h missed; worse. */
export function readinessOf(p: PlaceReadiness | undefined): Readiness {
  if (!p) return "none";
  if (p.met) return "met";
  const county = p.levels.find((l) => l.tier === Tier.COUNTY);
  const others = p.levels.filter((l) => l.tier !== Tier.COUNTY);
  if (county && !county.met && others.every((l) => l.met)) return "county-missed";
  return "missed";
}

export const readinessLabel: Record<Readiness, string> = {
  met: "各级均达标",
  "county-missed": "县级6小时未达标",
  missed: "市/省级也未达标",
  none: "无战备评估",
};

const radius: Record<number, number> = {
  [Tier.PROVINCE]: 11,
  [Tier.CITY]: 10,
  [Tier.COUNTY]: 8,
  [Tier.TOWNSHIP]: 5.5,
};

export interface MapInput {
  depots: Depot[];
  readiness: Map<string, PlaceReadiness>;
  /** Units of the chosen item available at each depot, drawn beside it. */
  stock: Map<string, bigint>;
  selected: string;
  onSelect: (code: string) => void;
}

const W = 1000;
/** Height over width of the map pane at 1366×768. */
const ASPECT = 0.72;

/** Draws the map as one SVG element. */
export function drawMap(m: MapInput): SVGElement {
  const located = m.depots.filter((d) => d.location?.latLng);
  const lat = (d: Depot) => d.location?.latLng?.latitude ?? 0;
  const lon = (d: Depot) => d.location?.latLng?.longitude ?? 0;
  // Frame the depots below the province: a provincial sub-depot far away
  // would shrink the rest to a dot, so it is pinned to the edge instead.
  const core = located.filter((d) => d.tier !== Tier.PROVINCE);
  const framed = core.length > 0 ? core : located;
  let minLat = Math.min(...framed.map(lat));
  let maxLat = Math.max(...framed.map(lat));
  let minLon = Math.min(...framed.map(lon));
  let maxLon = Math.max(...framed.map(lon));
  if (!isFinite(minLat)) {
    minLat = 30; maxLat = 33; minLon = 109; maxLon = 112;
  }
  const padLat = Math.max((maxLat - minLat) * 0.12, 0.08);
  const padLon = Math.max((maxLon - minLon) * 0.12, 0.08);
  minLat -= padLat; maxLat += padLat; minLon -= padLon; maxLon += padLon;
  // Equirectangular, with longitude shrunk by cos(latitude) so that
  // distances look right at this latitude.
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  // Widen the thinner side so the frame keeps the map pane's shape.
  const H = Math.round(W * ASPECT);
  const wantLat = (maxLon - minLon) * k * ASPECT;
  if (maxLat - minLat < wantLat) {
    const grow = (wantLat - (maxLat - minLat)) / 2;
    minLat -= grow; maxLat += grow;
  } else {
    const grow = ((maxLat - minLat) / ASPECT / k - (maxLon - minLon)) / 2;
    minLon -= grow; maxLon += grow;
  }
  const scale = W / ((maxLon - minLon) * k);
  const x = (lo: number) => (lo - minLon) * k * scale;
  const y = (la: number) => (maxLat - la) * scale;
  const clampX = (v: number) => Math.min(Math.max(v, 14), W - 14);
  const clampY = (v: number) => Math.min(Math.max(v, 14), H - 14);

  const grid: SVGElement[] = [];
  // Grid lines at a round step giving a handful across the frame.
  const step = [0.05, 0.1, 0.2, 0.5, 1, 2, 5].find((g) => (maxLon - minLon) / g <= 8) ?? 10;
  const digits = step < 0.1 ? 2 : 1;
  for (let g = Math.ceil(minLon / step) * step; g <= maxLon; g += step) {
    grid.push(s("line", { class: "grid", x1: x(g), y1: 0, x2: x(g), y2: H }));
    grid.push(s("text", { class: "grid-label", x: x(g) + 3, y: H - 4 }, `${g.toFixed(digits)}°E`));
  }
  for (let g = Math.ceil(minLat / step) * step; g <= maxLat; g += step) {
    grid.push(s("line", { class: "grid", x1: 0, y1: y(g), x2: W, y2: y(g) }));
    grid.push(s("text", { class: "grid-label", x: 3, y: y(g) - 3 }, `${g.toFixed(digits)}°N`));
  }

  const byCode = new Map(located.map((d) => [d.code, d]));
  const links: SVGElement[] = [];
  const rings: SVGElement[] = [];
  const marks: SVGElement[] = [];
  const labels: SVGElement[] = [];
  // A ring's radius is the county level's arrival time at 8 px an hour, so
  // the 6-hour target is a 48 px circle; red and dashed where it is missed.
  const PX_PER_HOUR = 8;
  for (const d of located) {
    const px = x(lon(d));
    const py = y(lat(d));
    const inside = px >= 0 && px <= W && py >= 0 && py <= H;
    const cx = clampX(px);
    const cy = clampY(py);
    const parent = byCode.get(d.parentCode);
    if (parent && inside) {
      const ppx = x(lon(parent));
      const ppy = y(lat(parent));
      links.push(s("line", { class: "link", x1: clampX(ppx), y1: clampY(ppy), x2: cx, y2: cy }));
    }
    const p = m.readiness.get(d.code);
    const r = readinessOf(p);
    if (p) {
      const county = p.levels.find((l) => l.tier === Tier.COUNTY);
      const h = county?.arrivalHours;
      rings.push(
        s(
          "circle",
          {
            class: `ring ${county?.met ? "ring-met" : "ring-missed"}`,
            "data-ring": d.code,
            cx,
            cy,
            r: h === undefined ? 6 * PX_PER_HOUR : Math.max(h * PX_PER_HOUR, 8),
          },
          s("title", null, `${d.name}：县级 ${hours(h)}（目标 ${county?.targetHours ?? 6} 小时）`),
        ),
      );
    }
    const levels = p
      ? p.levels.map((l) => `${tierName[l.tier]}：${hours(l.arrivalHours)}${l.met ? "（达标）" : "（未达标）"}`).join("\n")
      : "";
    const shape = d.tier === Tier.PROVINCE || d.tier === Tier.CITY ? "rect" : "circle";
    const rad = radius[d.tier] ?? 5;
    const common = {
      class: `depot depot-${r}${d.code === m.selected ? " selected" : ""}${inside ? "" : " off-map"}`,
      "data-depot": d.code,
      "data-readiness": r,
      tabindex: 0,
      onclick: () => m.onSelect(d.code),
    };
    const title = s(
      "title",
      null,
      `${d.name}（${d.code}，${tierName[d.tier]}）\n${lat(d).toFixed(4)}°N ${lon(d).toFixed(4)}°E\n${readinessLabel[r]}${levels ? "\n" + levels : ""}`,
    );
    marks.push(
      shape === "rect"
        ? s("rect", { ...common, x: cx - rad, y: cy - rad, width: rad * 2, height: rad * 2, rx: 2 }, title)
        : s("circle", { ...common, cx, cy, r: rad }, title),
    );
    // Off the frame the label goes inwards, so it stays on the map.
    const lx = inside ? cx + rad + 3 : cx - rad - 3;
    const anchor = inside ? "start" : "end";
    if (d.tier !== Tier.TOWNSHIP) {
      const short = d.name.replace(/应急物资储备(中心|库|点)$/, "").replace(/备灾中心$/, "");
      labels.push(
        s("text", { class: `label label-${d.tier}`, x: lx, y: cy + 4, "text-anchor": anchor }, inside ? short : `${short}（图外）`),
      );
    }
    const qty = m.stock.get(d.code);
    if (qty !== undefined) {
      labels.push(
        s(
          "text",
          { class: `qty${qty === 0n ? " qty-zero" : ""}`, "data-qty": d.code, x: lx, y: cy + (d.tier === Tier.TOWNSHIP ? 4 : 17), "text-anchor": anchor },
          qty.toString(),
        ),
      );
    }
  }
  return s(
    "svg",
    {
      id: "map-svg",
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: "xMidYMid meet",
      role: "img",
      "aria-label": "储备网络地图",
    },
    s("rect", { class: "sea", x: 0, y: 0, width: W, height: H }),
    grid,
    links,
    rings,
    marks,
    labels,
  );
}
