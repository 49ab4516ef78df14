// 应急物资储备指挥中心: the command-centre page. Everything it shows comes
// from the reserve.v1 services over grpc-web with the signed-in user's
// token, so it shows exactly what the API lets that user see.

import { connect, explain, readToken, Code, ConnectError, type Api, type Who } from "./api.js";
import { h, fill } from "./dom.js";
import { drawMap, readinessLabel, type Readiness } from "./map.js";
import {
  date, eventKindName, hours, num, priorityName, roleName, stateName, tierName, time, yuan,
} from "./fmt.js";
import { Tier } from "./gen/reserve/v1/common_pb.js";
import type { Depot } from "./gen/reserve/v1/network_pb.js";
import type { Item } from "./gen/reserve/v1/catalog_pb.js";
import type { PlaceReadiness } from "./gen/reserve/v1/sourcing_pb.js";
import { AllocationState, type AllocationOrder } from "./gen/reserve/v1/allocation_pb.js";
import { EventKind, type Event as ResEvent } from "./gen/reserve/v1/events_pb.js";
import type { StockStates } from "./gen/reserve/v1/stock_pb.js";
import { LeaseFilter } from "./gen/reserve/v1/lease_pb.js";

const TOKEN_KEY = "reserve.console.token";

interface State {
  api: Api;
  who: Who;
  depots: Depot[];
  byCode: Map<string, Depot>;
  items: Item[];
  readiness: Map<string, PlaceReadiness>;
  selected: string;
  rollupItem: string;
  /** Available units of rollupItem per depot, for the map. */
  mapStock: Map<string, bigint>;
  /** Order numbers by id, for the live feed. */
  orderNumbers: Map<string, string>;
  tab: string;
  events: ResEvent[];
  lastEventId: bigint;
  stream: AbortController | null;
}

let st: State | null = null;
const root = document.getElementById("app") as HTMLElement;

// ---------------------------------------------------------------- sign-in

async function devLoginOffered(): Promise<boolean> {
  try {
    const r = await fetch("/dev/token", { method: "GET" });
    return r.status === 204;
  } catch {
    return false;
  }
}

async function showSignIn(message = ""): Promise<void> {
  st?.stream?.abort();
  st = null;
  document.body.dataset.live = "off";
  const msg = h("p", { class: "error", "data-testid": "signin-error" }, message);
  const area = h("textarea", {
    id: "token-input",
    rows: 6,
    placeholder: "粘贴访问令牌（JWT），例如 reservectl token 的输出",
    spellcheck: "false",
  });
  const form = h(
    "form",
    {
      id: "token-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void signIn(area.value.trim());
      },
    },
    h("label", { for: "token-input" }, "访问令牌"),
    area,
    h("button", { type: "submit", id: "token-submit" }, "登录"),
  );
  const dev = h("div", { id: "dev-login", hidden: true });
  fill(
    root,
    h(
      "div",
      { class: "signin" },
      h("h1", null, "应急物资储备指挥中心"),
      h("p", { class: "muted" }, "请使用本人访问令牌登录。页面只显示令牌的角色和辖区内的数据。"),
      msg,
      form,
      dev,
    ),
  );
  if (await devLoginOffered()) {
    const role = h(
      "select",
      { id: "dev-role" },
      Object.entries(roleName).map(([k, v]) => h("option", { value: k, selected: k === "dispatcher" }, v)),
    );
    const scope = h("input", { id: "dev-scope", value: "HB", size: 12, "aria-label": "辖区仓库编码" });
    fill(
      dev,
      h("h2", null, "本机开发登录"),
      h("p", { class: "muted" }, "服务器正使用本机开发密钥：可直接签发开发令牌（生产配置下不存在此入口）。"),
      h("label", null, "角色 ", role),
      h("label", null, " 辖区 ", scope),
      h(
        "button",
        {
          id: "dev-login-button",
          type: "button",
          onclick: async () => {
            const q = `role=${encodeURIComponent(role.value)}&scope=${encodeURIComponent(scope.value.trim())}`;
            const r = await fetch(`/dev/token?${q}`, { method: "POST" });
            const body = await r.text();
            if (!r.ok) {
              msg.textContent = `开发登录失败：${body}`;
              return;
            }
            await signIn(body.trim());
          },
        },
        "一键登录",
      ),
    );
    dev.hidden = false;
  }
}

async function signIn(token: string): Promise<void> {
  const who = readToken(token);
  if (!who) {
    await showSignIn("这不是一个有效的访问令牌。");
    return;
  }
  const api = connect(token);
  let depots: Depot[];
  try {
    depots = await allDepots(api);
  } catch (e) {
    const err = ConnectError.from(e);
    await showSignIn(err.code === Code.Unauthenticated ? "令牌无效或已过期。" : explain(e));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  st = {
    api,
    who,
    depots,
    byCode: new Map(depots.map((d) => [d.code, d])),
    items: [],
    readiness: new Map(),
    selected: depots.find((d) => d.code === who.scope)?.code ?? depots[0]?.code ?? who.scope,
    rollupItem: "quilt-cotton",
    mapStock: new Map(),
    orderNumbers: new Map(),
    tab: "orders",
    events: [],
    lastEventId: 0n,
    stream: null,
  };
  renderShell();
  void loadItems();
  void loadReadiness();
  void loadMapStock();
  refreshPanels();
  startStream();
}

async function allDepots(api: Api): Promise<Depot[]> {
  const out: Depot[] = [];
  let pageToken = "";
  do {
    const r = await api.network.listDepots({ pageSize: 1000, pageToken });
    out.push(...r.depots);
    pageToken = r.nextPageToken;
  } while (pageToken);
  return out;
}

// ---------------------------------------------------------------- layout

const TABS: [string, string][] = [
  ["orders", "调拨单"],
  ["rollup", "库存汇总"],
  ["expiry", "临期与短缺"],
  ["overdue", "养护与租赁"],
  ["readiness", "战备"],
  ["finance", "财务补偿"],
];

function renderShell(): void {
  if (!st) return;
  const s = st;
  const roles = s.who.roles.map((r) => roleName[r] ?? r).join("、");
  fill(
    root,
    h(
      "header",
      null,
      h("h1", null, "应急物资储备指挥中心"),
      h(
        "div",
        { class: "who", "data-testid": "who" },
        `${s.who.name || s.who.sub}（${roles}）· 辖区 ${s.byCode.get(s.who.scope)?.name ?? s.who.scope}`,
      ),
      h("div", { id: "live", class: "live" }, "实时：连接中"),
      h(
        "button",
        {
          id: "sign-out",
          onclick: () => {
            sessionStorage.removeItem(TOKEN_KEY);
            void showSignIn();
          },
        },
        "退出",
      ),
    ),
    h(
      "main",
      null,
      h("nav", { id: "tree", "aria-label": "仓库树" }),
      h(
        "section",
        { id: "centre" },
        h("div", { id: "map" }),
        h("div", { id: "legend" }),
        h("section", { id: "alerts", "aria-label": "实时告警" }),
      ),
      h(
        "aside",
        { id: "side" },
        h(
          "div",
          { class: "tabs", role: "tablist" },
          TABS.map(([id, label]) =>
            h(
              "button",
              {
                role: "tab",
                id: `tab-${id}`,
                "aria-selected": String(id === s.tab),
                onclick: () => {
                  s.tab = id;
                  renderShell();
                  refreshPanels();
                },
              },
              label,
            ),
          ),
        ),
        h("div", { id: "panel", role: "tabpanel" }),
      ),
    ),
  );
  renderTree();
  renderMap();
  renderAlerts();
  setLive(s.stream !== null && document.body.dataset.live === "on");
}

function setLive(on: boolean): void {
  document.body.dataset.live = on ? "on" : "off";
  const el = document.getElementById("live");
  if (el) {
    el.textContent = on ? "实时：已连接" : "实时：重连中";
    el.className = on ? "live on" : "live";
  }
}

function select(code: string): void {
  if (!st) return;
  st.selected = code;
  renderTree();
  renderMap();
  refreshPanels();
}

// ---------------------------------------------------------------- tree and map

function renderTree(): void {
  const el = document.getElementById("tree");
  if (!el || !st) return;
  const s = st;
  const children = new Map<string, Depot[]>();
  for (const d of s.depots) {
    const list = children.get(d.parentCode) ?? [];
    list.push(d);
    children.set(d.parentCode, list);
  }
  // The roots are the depots whose parent the user cannot see.
  const roots = s.depots.filter((d) => !s.byCode.has(d.parentCode));
  const node = (d: Depot): HTMLElement =>
    h(
      "li",
      null,
      h(
        "button",
        {
          class: `node tier-${d.tier}${d.code === s.selected ? " selected" : ""}`,
          "data-tree": d.code,
          title: d.code,
          onclick: () => select(d.code),
        },
        h("span", { class: "tier" }, tierName[d.tier]),
        d.name,
      ),
      children.has(d.code) ? h("ul", null, (children.get(d.code) ?? []).map(node)) : null,
    );
  fill(
    el,
    h("h2", null, `仓库（${s.depots.length}）`),
    h("ul", { class: "tree" }, roots.map(node)),
  );
}

function renderMap(): void {
  const el = document.getElementById("map");
  if (!el || !st) return;
  fill(
    el,
    drawMap({
      depots: st.depots,
      readiness: st.readiness,
      stock: st.mapStock,
      selected: st.selected,
      onSelect: select,
    }),
  );
  const legend = document.getElementById("legend");
  if (legend) {
    const counts = new Map<Readiness, number>();
    for (const m of el.querySelectorAll<SVGElement>(".depot")) {
      const r = (m.dataset.readiness ?? "none") as Readiness;
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    const s = st;
    const picker = h(
      "select",
      {
        id: "map-item",
        "aria-label": "地图上标注的物资",
        onchange: (e: Event) => setItem((e.target as HTMLSelectElement).value),
      },
      itemOptions(s),
    );
    fill(
      legend,
      h("label", null, "标注可用数量：", picker),
      (["met", "county-missed", "missed", "none"] as Readiness[]).map((r) =>
        h("span", { class: `key key-${r}` }, `${readinessLabel[r]} ${counts.get(r) ?? 0}`),
      ),
      h("span", { class: "key ring-key" }, "圈：县级到达时间（每小时8像素，红虚线=超6小时）"),
    );
  }
}

async function loadReadiness(): Promise<void> {
  if (!st) return;
  const s = st;
  try {
    const r = await s.api.sourcing.readinessReport({ depotCode: s.who.scope, people: 1000 });
    s.readiness = new Map(r.places.map((p) => [p.depotCode, p]));
  } catch {
    s.readiness = new Map();
  }
  if (st === s) {
    renderMap();
    if (s.tab === "readiness") refreshPanels();
  }
}

function itemOptions(s: State): HTMLElement[] {
  return (s.items.length ? s.items : [{ id: s.rollupItem, name: s.rollupItem } as Item]).map((i) =>
    h("option", { value: i.id, selected: i.id === s.rollupItem }, `${i.name}（${i.id}）`),
  );
}

/** Chooses the item of the roll-up and of the map's figures. */
function setItem(id: string): void {
  if (!st) return;
  st.rollupItem = id;
  st.mapStock = new Map();
  renderMap();
  void loadMapStock();
  if (st.tab === "rollup") refreshPanels();
}

/** Sums the chosen item's available units at each depot the user can see,
 * a few depots at a time. */
async function loadMapStock(): Promise<void> {
  if (!st) return;
  const s = st;
  const item = s.rollupItem;
  const out = new Map<string, bigint>();
  const queue = s.depots.map((d) => d.code);
  const worker = async () => {
    for (let code = queue.shift(); code !== undefined; code = queue.shift()) {
      let sum = 0n;
      let pageToken = "";
      do {
        const r = await s.api.stock.listStock({ depotCode: code, itemId: item, pageSize: 1000, pageToken });
        for (const l of r.lines) sum += l.available;
        pageToken = r.nextPageToken;
      } while (pageToken);
      out.set(code, sum);
    }
  };
  try {
    await Promise.all([worker(), worker(), worker(), worker()]);
  } catch {
    return;
  }
  if (st === s && s.rollupItem === item) {
    s.mapStock = out;
    renderMap();
  }
}

async function loadItems(): Promise<void> {
  if (!st) return;
  const s = st;
  try {
    const r = await s.api.catalog.listItems({ pageSize: 1000 });
    s.items = r.items;
  } catch {
    s.items = [];
  }
  if (st === s) {
    renderMap();
    if (s.tab === "rollup") refreshPanels();
  }
}

// ---------------------------------------------------------------- panels

function depotName(code: string): string {
  return st?.byCode.get(code)?.name ?? code;
}

function itemName(id: string): string {
  const it = st?.items.find((i) => i.id === id);
  return it ? it.name : id;
}

let panelSeq = 0;

/** Re-draws the open tab from fresh calls. */
function refreshPanels(): void {
  if (!st) return;
  const s = st;
  const el = document.getElementById("panel");
  if (!el) return;
  const seq = ++panelSeq;
  const draw = async (make: () => Promise<HTMLElement>) => {
    let out: HTMLElement;
    try {
      out = await make();
    } catch (e) {
      out = h("p", { class: "error", "data-testid": "panel-error" }, explain(e));
    }
    if (seq === panelSeq && st === s) fill(el, out);
  };
  switch (s.tab) {
    case "orders":
      void draw(ordersPanel);
      break;
    case "rollup":
      void draw(rollupPanel);
      break;
    case "expiry":
      void draw(expiryPanel);
      break;
    case "overdue":
      void draw(overduePanel);
      break;
    case "readiness":
      void draw(readinessPanel);
      break;
    case "finance":
      void draw(financePanel);
      break;
  }
}

function section(title: string, body: HTMLElement | HTMLElement[] | string, id = ""): HTMLElement {
  return h("section", { class: "card", "data-testid": id || undefined }, h("h3", null, title), body);
}

function subtreeTitle(): string {
  return st ? `${depotName(st.selected)}及下级` : "";
}

function isOpen(o: AllocationOrder): boolean {
  return ![AllocationState.CLOSED, AllocationState.REJECTED, AllocationState.CANCELLED].includes(o.state);
}

async function ordersPanel(): Promise<HTMLElement> {
  const s = st as State;
  const r = await s.api.allocation.listAllocationOrders({ depotCode: s.selected, pageSize: 200 });
  for (const o of r.orders) s.orderNumbers.set(o.id, o.number);
  const open = r.orders.filter(isOpen);
  const card = (o: AllocationOrder) => {
    const dest = o.destinationDepotCode
      ? depotName(o.destinationDepotCode)
      : o.destinationSite?.address || "事发现场";
    return h(
      "article",
      { class: `order state-${o.state}`, "data-order": o.number },
      h(
        "header",
        null,
        h("strong", null, o.number),
        h("span", { class: `badge prio-${o.priority}` }, priorityName[o.priority]),
        h("span", { class: `badge state state-${o.state}`, "data-testid": "order-state" }, stateName[o.state]),
      ),
      h("p", null, `送往 ${dest}：${o.reason}`),
      h(
        "p",
        { class: "muted" },
        o.lines.map((l) => `${itemName(l.itemId)} ×${num(l.requested)}`).join("，"),
        o.requiredByTime ? ` · 要求 ${time(o.requiredByTime)} 前送达` : "",
      ),
      h(
        "ol",
        { class: "timeline" },
        o.timeline.map((t) =>
          h(
            "li",
            null,
            h("time", null, time(t.time)),
            ` ${t.actorName || t.actor}：${stateName[t.fromState]} → ${stateName[t.toState]}`,
            t.note ? `（${t.note}）` : "",
          ),
        ),
      ),
    );
  };
  return section(
    `进行中的调拨单 · ${subtreeTitle()}（${open.length}）`,
    open.length ? open.map(card) : [h("p", { class: "muted" }, "没有进行中的调拨单。")],
    "orders",
  );
}

const STATE_COLUMNS: [keyof StockStates, string][] = [
  ["onHand", "在库"],
  ["available", "可用"],
  ["reserved", "预留"],
  ["held", "冻结"],
  ["inTransit", "在途"],
  ["onLease", "出租"],
  ["nearExpiry", "临期"],
  ["expired", "过期"],
  ["upkeepOverdue", "养护逾期"],
];

async function rollupPanel(): Promise<HTMLElement> {
  const s = st as State;
  const picker = h(
    "select",
    {
      id: "rollup-item",
      "aria-label": "物资",
      onchange: (e: Event) => setItem((e.target as HTMLSelectElement).value),
    },
    itemOptions(s),
  );
  const r = await s.api.stock.rollUpStock({ depotCode: s.selected, itemId: s.rollupItem });
  const row = (label: string, depots: string, v: StockStates | undefined, cls = "") =>
    h(
      "tr",
      { class: cls },
      h("th", null, label),
      h("td", null, depots),
      STATE_COLUMNS.map(([k]) => h("td", { "data-col": String(k) }, num((v?.[k] as bigint | undefined) ?? 0n))),
    );
  return section(
    `${itemName(s.rollupItem)} · ${subtreeTitle()}`,
    [
      h("label", null, "物资 ", picker),
      h(
        "table",
        { class: "num", id: "rollup-table" },
        h("thead", null, h("tr", null, h("th", null, "层级"), h("th", null, "库数"), STATE_COLUMNS.map(([, l]) => h("th", null, l)))),
        h(
          "tbody",
          null,
          r.tiers.map((t) => row(tierName[t.tier], String(t.depots), t.states, `tier-row tier-${t.tier}`)),
          row("合计", "", r.total, "total"),
        ),
      ),
    ],
    "rollup",
  );
}

async function expiryPanel(): Promise<HTMLElement> {
  const s = st as State;
  const [exp, short] = await Promise.all([
    s.api.stock.listExpiringLots({ depotCode: s.selected, includeExpired: true, pageSize: 200 }),
    s.api.stock.listShortfalls({ depotCode: s.selected, pageSize: 200 }),
  ]);
  return h(
    "div",
    null,
    section(
      `临期与过期批次（${exp.lines.length}）`,
      h(
        "table",
        { class: "num", id: "expiring-table" },
        h("thead", null, h("tr", null, ["仓库", "物资", "批次", "有效期至", "剩余天数", "在库"].map((t) => h("th", null, t)))),
        h(
          "tbody",
          null,
          exp.lines.map((l) =>
            h(
              "tr",
              { class: l.expired ? "expired" : "near" },
              h("td", null, depotName(l.depotCode)),
              h("td", null, itemName(l.itemId)),
              h("td", null, l.lot?.lotNumber ?? ""),
              h("td", null, date(l.lot?.expiryDate)),
              h("td", null, l.expired ? "已过期" : String(l.daysToExpiry ?? "")),
              h("td", null, num(l.onHand)),
            ),
          ),
        ),
      ),
      "expiring",
    ),
    section(
      `低于储备定额（${short.shortfalls.length}）`,
      h(
        "table",
        { class: "num", id: "shortfall-table" },
        h("thead", null, h("tr", null, ["仓库", "物资", "最低", "目标", "可用", "缺口(最低)", "缺口(目标)"].map((t) => h("th", null, t)))),
        h(
          "tbody",
          null,
          short.shortfalls.map((f) =>
            h(
              "tr",
              { class: f.belowMinimum ? "below" : "" },
              h("td", null, depotName(f.depotCode)),
              h("td", null, itemName(f.itemId)),
              h("td", null, num(f.minimum)),
              h("td", null, num(f.target)),
              h("td", null, num(f.available)),
              h("td", null, num(f.shortOfMinimum)),
              h("td", null, num(f.shortOfTarget)),
            ),
          ),
        ),
      ),
      "shortfalls",
    ),
  );
}

async function overduePanel(): Promise<HTMLElement> {
  const s = st as State;
  const part = async (title: string, id: string, make: () => Promise<HTMLElement>) => {
    try {
      return section(title, await make(), id);
    } catch (e) {
      return section(title, h("p", { class: "error" }, explain(e)), id);
    }
  };
  const upkeep = await part("养护逾期", "upkeep-overdue", async () => {
    const r = await s.api.maintenance.listUpkeepDue({ depotCode: s.selected, overdueOnly: true, pageSize: 200 });
    if (!r.units.length) return h("p", { class: "muted" }, "没有逾期的养护。");
    return h(
      "table",
      { class: "num" },
      h("thead", null, h("tr", null, ["仓库", "物资", "序列号", "数量", "应养护日"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        r.units.map((u) =>
          h(
            "tr",
            null,
            h("td", null, depotName(u.depotCode)),
            h("td", null, itemName(u.itemId)),
            h("td", null, u.serialNumber || "—"),
            h("td", null, num(u.units)),
            h("td", null, date(u.dueDate)),
          ),
        ),
      ),
    );
  });
  const leases = await part("租赁逾期", "lease-overdue", async () => {
    const r = await s.api.lease.listLeases({ depotCode: s.selected, filter: LeaseFilter.OVERDUE, pageSize: 200 });
    if (!r.leases.length) return h("p", { class: "muted" }, "没有逾期未还的租赁。");
    return h(
      "table",
      { class: "num" },
      h("thead", null, h("tr", null, ["租赁单", "仓库", "承租方", "应还日", "未还数量"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        r.leases.map((l) =>
          h(
            "tr",
            null,
            h("td", null, l.number),
            h("td", null, depotName(l.depotCode)),
            h("td", null, l.lessee?.name ?? ""),
            h("td", null, date(l.dueDate)),
            h("td", null, num(l.outstanding)),
          ),
        ),
      ),
    );
  });
  return h("div", null, upkeep, leases);
}

async function readinessPanel(): Promise<HTMLElement> {
  const s = st as State;
  const r = await s.api.sourcing.readinessReport({ depotCode: s.selected, people: 1000 });
  const missed = r.places.filter((p) => !p.met);
  return section(
    `战备：1000人救灾包 · ${subtreeTitle()}（未达标 ${missed.length} / ${r.places.length}）`,
    h(
      "table",
      { class: "num", id: "readiness-table" },
      h("thead", null, h("tr", null, ["地点", "县级(6h)", "市级(8h)", "省级(10h)", "协议储备"].map((t) => h("th", null, t)))),
      h(
        "tbody",
        null,
        r.places.map((p) => {
          const lv = (tier: Tier) => {
            const l = p.levels.find((x) => x.tier === tier);
            if (!l) return h("td", null, "—");
            return h(
              "td",
              { class: l.met ? "met" : "missed" },
              hours(l.arrivalHours),
              !l.met && l.bindingItemId
                ? `（${l.unmet > 0n ? `缺${itemName(l.bindingItemId)}${num(l.unmet)}` : `${itemName(l.bindingItemId)}最晚`}）`
                : "",
            );
          };
          return h(
            "tr",
            null,
            h("td", null, p.depotName),
            lv(Tier.COUNTY),
            lv(Tier.CITY),
            lv(Tier.PROVINCE),
            h("td", null, hours(p.agreementHours)),
          );
        }),
      ),
    ),
    "readiness",
  );
}

async function financePanel(): Promise<HTMLElement> {
  const s = st as State;
  let r;
  try {
    r = await s.api.compensation.getFinanceReport({ depotCode: s.selected });
  } catch (e) {
    const unavailable = ConnectError.from(e).code === Code.Unimplemented;
    return section(
      "待付征用补偿（仅金额）",
      h(
        "p",
        { class: unavailable ? "unavailable" : "error", "data-testid": unavailable ? "finance-unavailable" : "finance-error" },
        unavailable ? "暂不可用：征用补偿服务尚未上线。" : explain(e),
      ),
      "finance",
    );
  }
  const t = r.total;
  const rows = (title: string, list: typeof r.byTier, name: (k: string) => string) =>
    h(
      "table",
      { class: "num" },
      h("thead", null, h("tr", null, [title, "件数", "待付", "待批", "已付"].map((x) => h("th", null, x)))),
      h(
        "tbody",
        null,
        list.map((x) =>
          h(
            "tr",
            null,
            h("td", null, name(x.key)),
            h("td", null, num(x.claims)),
            h("td", null, yuan(x.outstandingFen)),
            h("td", null, yuan(x.awaitingApprovalFen)),
            h("td", null, yuan(x.paidFen)),
          ),
        ),
      ),
    );
  const tierByKey: Record<string, string> = { province: "省级", city: "市级", county: "县级", township: "乡镇" };
  return h(
    "div",
    { "data-testid": "finance" },
    section(
      `待付征用补偿 · ${subtreeTitle()}（仅金额）`,
      h(
        "dl",
        { class: "figures" },
        h("dt", null, "已批未付"),
        h("dd", { "data-testid": "finance-outstanding" }, yuan(t?.outstandingFen ?? 0n)),
        h("dt", null, "已核待批"),
        h("dd", null, yuan(t?.awaitingApprovalFen ?? 0n)),
        h("dt", null, "已付"),
        h("dd", null, yuan(t?.paidFen ?? 0n)),
        h("dt", null, "待核定 / 待审批"),
        h("dd", null, `${num(r.awaitingAssessment)} / ${num(r.awaitingApproval)} 件`),
        h("dt", null, "征用凭证逾期"),
        h("dd", null, `${num(r.vouchersOverdue)} 件`),
      ),
    ),
    r.byTier.length ? section("按层级", rows("层级", r.byTier, (k) => tierByKey[k] ?? k)) : null,
    r.byIncident.length ? section("按事件", rows("事件", r.byIncident, (k) => k || "—")) : null,
  );
}

// ---------------------------------------------------------------- live events

/** The state words events carry, in Chinese. */
const STATE_WORDS: Record<string, string> = {
  draft: "草稿",
  submitted: "已提交",
  approved: "已批准",
  dispatched: "已发运",
  received: "已接收",
  closed: "已关闭",
  rejected: "已驳回",
  cancelled: "已取消",
};

function describe(e: ResEvent): string {
  const d = (e.detail ?? {}) as Record<string, unknown>;
  const t = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  switch (e.kind) {
    case EventKind.ALERT_LOW_STOCK:
      return `${itemName(t(d.item))} 可用 ${t(d.available)}，低于最低定额 ${t(d.minimum)}`;
    case EventKind.ALERT_NEAR_EXPIRY:
      return `${itemName(t(d.item))} 批次 ${t(d.lot)}：${t(d.on_hand)} 件将于 ${t(d.expiry)} 到期`;
    case EventKind.ALERT_OVERDUE_BACKFILL:
      return `${t(d.number)}：补批已逾期`;
    case EventKind.ALERT_EXPIRING_AGREEMENT:
      return `${t(d.company)}：协议将于 ${t(d.valid_until)} 到期`;
  }
  const state = d.state;
  if (Array.isArray(state) && state.length === 2) {
    const id = e.resource.replace(/^allocationOrders\//, "");
    const n = t(d.number) || st?.orderNumbers.get(id) || e.resource;
    const zh = (v: unknown) => STATE_WORDS[t(v)] ?? t(v);
    return `${n} ${zh(d.action)}（${zh(state[0])} → ${zh(state[1])}）`;
  }
  return e.method ? `${e.method.replace(/^.*\//, "")} ${e.resource}` : e.resource;
}

function renderAlerts(): void {
  const el = document.getElementById("alerts");
  if (!el || !st) return;
  const list = st.events.slice(-60).reverse();
  fill(
    el,
    h("h2", null, "实时动态"),
    list.length
      ? h(
          "ol",
          { class: "events" },
          list.map((e) =>
            h(
              "li",
              { class: e.kind >= EventKind.ALERT_LOW_STOCK && e.kind <= EventKind.ALERT_EXPIRING_AGREEMENT ? "alert" : "" },
              h("time", null, time(e.time)),
              h("span", { class: "kind" }, eventKindName[e.kind]),
              h("span", null, depotName(e.depotCode)),
              h("span", null, describe(e)),
            ),
          ),
        )
      : h("p", { class: "muted" }, "等待新的动态……"),
  );
}

const timers = new Map<string, number>();
function soon(key: string, ms: number, f: () => void): void {
  if (timers.has(key)) return;
  timers.set(
    key,
    window.setTimeout(() => {
      timers.delete(key);
      f();
    }, ms),
  );
}

function onEvent(e: ResEvent): void {
  const s = st as State;
  s.events.push(e);
  if (s.events.length > 200) s.events.splice(0, s.events.length - 200);
  s.lastEventId = e.id > s.lastEventId ? e.id : s.lastEventId;
  soon("alerts", 100, renderAlerts);
  if (e.resource.startsWith("allocationOrders/") && s.tab === "orders") soon("panel", 150, refreshPanels);
  else if (e.kind !== EventKind.OTHER && s.tab !== "finance") soon("panel", 1000, refreshPanels);
  if (e.kind === EventKind.STOCK || e.kind === EventKind.DOCUMENT) {
    soon("readiness", 5000, () => void loadReadiness());
    soon("map-stock", 3000, () => void loadMapStock());
  }
}

function startStream(): void {
  if (!st) return;
  const s = st;
  const ctl = new AbortController();
  s.stream = ctl;
  const run = async () => {
    while (!ctl.signal.aborted && st === s) {
      try {
        const stream = s.api.events.watchEvents(
          { afterId: s.lastEventId },
          {
            signal: ctl.signal,
            onHeader: () => {
              setLive(true);
              // Anything that changed while connecting is shown now.
              refreshPanels();
            },
          },
        );
        for await (const res of stream) {
          for (const e of res.events) onEvent(e);
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (ConnectError.from(e).code === Code.Unauthenticated) {
          void showSignIn("登录已失效，请重新登录。");
          return;
        }
      }
      setLive(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
}

// ---------------------------------------------------------------- start

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
else void showSignIn();
