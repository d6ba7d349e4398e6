/**
 * The sample's own Kugelpos peer: a small `node:http` server answering, in the Kugelpos shapes
 * and envelope, what the sample's services read from master-data (items, payments, the
 * `INVOICE_REGISTRATION_NUMBER` setting) and from the terminal service (a terminal, opened with a
 * staff member signed in, and its store). One process plays both services: point
 * `BASE_URL_MASTER_DATA` and `BASE_URL_TERMINAL` at it. It wants a credential (`X-API-KEY` or a
 * bearer token) like the real services.
 *
 * Run it alone with `node -r ts-node/register/transpile-only sample-app/peer/master-data.peer.ts`
 * (`PEER_PORT`, default 8002; `HOST`, default 127.0.0.1); the e2e tests start it in-process on port 0.
 * `GET /health/live` and `/health/ready` answer 200 without a credential (the probes).
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
// In an application: `from 'kugel-comms/kugelpos'`.
import type {
  ItemMasterDocument,
  PaymentMasterDocument,
  StoreInfoDocument,
  TerminalInfoDocument,
} from '../../lib/kugelpos';

/** When the demo's master data was entered, as master-data writes the date. */
const ENTERED = '2026-11-01 09:00:00';

const item = (itemCode: string, description: string, unitPrice: number, taxCode: string, categoryCode: string) =>
  ({
    itemCode,
    description,
    unitPrice,
    unitCost: Math.round(unitPrice * 0.6),
    storePrice: null,
    itemDetails: [],
    imageUrls: [],
    categoryCode,
    taxCode,
    isDiscountRestricted: false,
    isDeleted: false,
    entryDatetime: ENTERED,
    lastUpdateDatetime: null,
  }) satisfies ItemMasterDocument;

/** Tax codes as the Kugelpos default tax master: `02` 10 % and `12` 8 %, both included in the price. */
const ITEMS: Record<string, ItemMasterDocument> = {
  '4901234567890': item('4901234567890', 'Green tea 500ml', 150, '02', 'DRINK'),
  '4909876543210': item('4909876543210', 'Rice ball (salmon)', 180, '12', 'FOOD'),
  '4900000000001': item('4900000000001', 'Notebook A5', 320, '02', 'STATIONERY'),
};

const payment = (paymentCode: string, description: string, canChange: boolean, limitAmount: number) =>
  ({
    paymentCode,
    description,
    limitAmount,
    canRefund: true,
    canDepositOver: canChange,
    canChange,
    isActive: true,
    entryDatetime: ENTERED,
    lastUpdateDatetime: null,
  }) satisfies PaymentMasterDocument;

const PAYMENTS: Record<string, PaymentMasterDocument> = {
  '01': payment('01', 'Cash', true, 0),
  '11': payment('11', 'Credit card', false, 1_000_000),
};

/** The peer's liveness and readiness routes (terminus' body, no credential needed). */
export const PEER_HEALTH_PATHS = ['/health/live', '/health/ready'];

/** The value of the setting `INVOICE_REGISTRATION_NUMBER` for every store (the cart prints it on receipts). */
export const INVOICE_REGISTRATION_NUMBER = 'T1234567890123';

const STORE_NAMES: Record<string, string> = { S1: 'Shibuya', S9: 'Shinjuku' };

/** What the terminal service says of every terminal the demo asks about (read at each request). */
export interface PeerTerminalState {
  /** The business date the terminals were opened for, `YYYYMMDD`. @default the peer's start date */
  businessDate?: string;
  /** @default 1 */
  openCounter?: number;
  /** @default 1 */
  businessCounter?: number;
  /** Who is signed in. @default S001, Hanako Sato */
  staff?: { staffId: string; staffName: string } | null;
}

export interface MasterDataPeer {
  url: string;
  port: number;
  /** Requests served so far. */
  requests: number;
  close(): Promise<void>;
}

/** Starts the peer on `port` (0 = any free port) on `host`. */
export async function startMasterDataPeer(
  port = 0,
  host = '127.0.0.1',
  terminals: PeerTerminalState = {},
): Promise<MasterDataPeer> {
  let requests = 0;
  const startDate = localDate(new Date());
  // Read per request: a test may change `terminals` while the peer runs.
  const businessDate = () => terminals.businessDate ?? startDate;
  const server = http.createServer((req, res) => {
    requests += 1;
    const url = new URL(req.url ?? '/', 'http://peer');
    let parts: string[];
    try {
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return send(res, 400, failure(400, 'malformed percent-encoding in the path'));
    }
    // The probes' routes, without a credential as a kubelet calls them: the peer is up once it listens.
    if (req.method === 'GET' && PEER_HEALTH_PATHS.includes(url.pathname)) {
      return send(res, 200, { status: 'ok', info: {}, error: {}, details: {} });
    }
    const authed =
      typeof req.headers['x-api-key'] === 'string' || /^Bearer \S+/.test(String(req.headers.authorization ?? ''));
    if (!authed) return send(res, 401, failure(401, 'credentials required'));
    // master-data: /api/v1/tenants/{t}/stores/{s}/items/{code}/details
    if (
      parts.length === 9 &&
      parts[2] === 'tenants' &&
      parts[4] === 'stores' &&
      parts[6] === 'items' &&
      parts[8] === 'details'
    ) {
      const item = ITEMS[parts[7]];
      if (!item) return send(res, 404, failure(404, `item ${parts[7]} not found`));
      return send(res, 200, ok(`Item found. item_code: ${item.itemCode}`, item));
    }
    // master-data: /api/v1/tenants/{t}/payments/{code}
    if (parts.length === 6 && parts[2] === 'tenants' && parts[4] === 'payments') {
      const payment = PAYMENTS[parts[5]];
      if (!payment) return send(res, 404, failure(404, `payment ${parts[5]} not found`));
      return send(res, 200, ok(`Payment found. payment_code: ${payment.paymentCode}`, payment));
    }
    // master-data: /api/v1/tenants/{t}/settings/{name}/value?store_code=&terminal_no=
    if (parts.length === 7 && parts[2] === 'tenants' && parts[4] === 'settings' && parts[6] === 'value') {
      if (parts[5] !== 'INVOICE_REGISTRATION_NUMBER')
        return send(res, 404, failure(404, `Settings value not found. settings_name: ${parts[5]}`));
      return send(
        res,
        200,
        ok(`Settings value found. settings_name: ${parts[5]}`, {
          value: INVOICE_REGISTRATION_NUMBER,
        }),
      );
    }
    // terminal: /api/v1/tenants/{t}/stores/{s}
    if (parts.length === 6 && parts[2] === 'tenants' && parts[4] === 'stores') {
      const store: StoreInfoDocument = {
        storeCode: parts[5],
        storeName: STORE_NAMES[parts[5]] ?? `Store ${parts[5]}`,
        status: 'Opened',
        businessDate: businessDate(),
        tags: [],
        entryDatetime: ENTERED,
        lastUpdateDatetime: null,
      };
      return send(res, 200, ok(`Store info for tenant ${parts[3]}`, store));
    }
    // terminal: /api/v1/terminals/{tenant}-{store}-{no}
    const id = parts.length === 4 && parts[2] === 'terminals' ? /^([^-]+)-([^-]+)-(\d+)$/.exec(parts[3]) : null;
    if (id) {
      const staff = terminals.staff === undefined ? { staffId: 'S001', staffName: 'Hanako Sato' } : terminals.staff;
      const terminal: TerminalInfoDocument = {
        terminalId: parts[3],
        tenantId: id[1],
        storeCode: id[2],
        terminalNo: Number(id[3]),
        description: `Register ${id[3]}`,
        functionMode: 'Sales',
        status: 'Opened',
        businessDate: businessDate(),
        openCounter: terminals.openCounter ?? 1,
        businessCounter: terminals.businessCounter ?? 1,
        initialAmount: 50_000,
        physicalAmount: null,
        staff: staff && { ...staff, staffPin: null },
        // The demo's terminals have no key of their own: the services take any credential.
        apiKey: null,
        entryDatetime: ENTERED,
        lastUpdateDatetime: null,
      };
      return send(res, 200, ok(`Terminal Retrieved. terminal_id: ${parts[3]}`, terminal));
    }
    send(res, 404, failure(404, `no route ${url.pathname}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Kugelpos services' envelope: every key, `userError` and `metadata` `null` here. */
function ok(message: string, data: unknown) {
  return { success: true, code: 200, message, userError: null, data, metadata: null, operation: 'sample-peer' };
}

/** An error answer: the Kugelpos services' exception handlers write it by field name (`user_error`). */
function failure(code: number, message: string) {
  return { success: false, code, message, user_error: null, data: null, metadata: null, operation: 'sample-peer' };
}

/** `YYYYMMDD` of `d` in local time. */
function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

if (require.main === module) {
  const port = Number(process.env.PEER_PORT ?? 8002);
  startMasterDataPeer(port, process.env.HOST ?? '127.0.0.1').then(
    (peer) => process.stdout.write(`master-data and terminal peer listening on ${peer.url}/api/v1\n`),
    (error: Error) => {
      process.stderr.write(`master-data peer could not start: ${error.message}\n`);
      process.exit(1);
    },
  );
}
