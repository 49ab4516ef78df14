// The page's only way to the server: the reserve.v1 gRPC services over
// grpc-web on the page's own origin, with the user's bearer token.

import { createClient, ConnectError, Code, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { DescService } from "@bufbuild/protobuf";
import { AllocationService } from "./gen/reserve/v1/allocation_pb.js";
import { CatalogService } from "./gen/reserve/v1/catalog_pb.js";
import { CompensationService } from "./gen/reserve/v1/compensation_pb.js";
import { EventService } from "./gen/reserve/v1/events_pb.js";
import { LeaseService } from "./gen/reserve/v1/lease_pb.js";
import { MaintenanceService } from "./gen/reserve/v1/maintenance_pb.js";
import { NetworkService } from "./gen/reserve/v1/network_pb.js";
import { SourcingService } from "./gen/reserve/v1/sourcing_pb.js";
import { StockService } from "./gen/reserve/v1/stock_pb.js";

/** What the token says about its holder (for display; the server decides). */
export interface Who {
  sub: string;
  name: string;
  roles: string[];
  scope: string;
  exp: number;
}

/** Reads a JWT's claims without checking it: the server checks every call. */
export function readToken(token: string): Who | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const c = JSON.parse(new TextDecoder().decode(bytes));
    return {
      sub: String(c.sub ?? ""),
      name: String(c.name ?? ""),
      roles: Array.isArray(c.roles) ? c.roles.map(String) : [],
      scope: String(c.scope_depot ?? ""),
      exp: Number(c.exp ?? 0),
    };
  } catch {
    return null;
  }
}

export interface Api {
  network: Client<typeof NetworkService>;
  catalog: Client<typeof CatalogService>;
  stock: Client<typeof StockService>;
  allocation: Client<typeof AllocationService>;
  sourcing: Client<typeof SourcingService>;
  events: Client<typeof EventService>;
  lease: Client<typeof LeaseService>;
  maintenance: Client<typeof MaintenanceService>;
  compensation: Client<typeof CompensationService>;
}

export function connect(token: string): Api {
  const bearer: Interceptor = (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createGrpcWebTransport({
    baseUrl: location.origin,
    interceptors: [bearer],
  });
  const c = <S extends DescService>(s: S) => createClient(s, transport);
  return {
    network: c(NetworkService),
    catalog: c(CatalogService),
    stock: c(StockService),
    allocation: c(AllocationService),
    sourcing: c(SourcingService),
    events: c(EventService),
    lease: c(LeaseService),
    maintenance: c(MaintenanceService),
    compensation: c(CompensationService),
  };
}

/** A failed call in the words the page shows. */
export function explain(e: unknown): string {
  const err = ConnectError.from(e);
  switch (err.code) {
    case Code.PermissionDenied:
      return "无权查看（超出本账号的角色或辖区）";
    case Code.Unauthenticated:
      return "登录已失效，请重新登录";
    case Code.Unimplemented:
      return "暂不可用";
    case Code.Unavailable:
      return "服务暂时不可用，请稍后重试";
    default:
      return `出错：${err.rawMessage || Code[err.code]}`;
  }
}

export { Code, ConnectError };
