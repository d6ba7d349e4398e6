/**
 * The sample's own master-data peer: a small `node:http` server answering the Kugelpos endpoints
 * the cart uses (items, payments), in the Kugelpos envelope. It
 * wants a credential (`X-API-KEY` or a bearer token) like the real services.
 *
 * Run it alone with `node -r ts-node/register/transpile-only sample-app/peer/master-data.peer.ts`
 * (`PEER_PORT`, default 8002); the e2e tests start it in-process on port 0.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

const ITEMS: Record<string, { description: string; unitPrice: number; taxCode: string; categoryCode: string }> = {
  '4901234567890': { description: 'Green tea 500ml', unitPrice: 150, taxCode: '01', categoryCode: 'DRINK' },
  '4909876543210': { description: 'Rice ball (salmon)', unitPrice: 180, taxCode: '02', categoryCode: 'FOOD' },
  '4900000000001': { description: 'Notebook A5', unitPrice: 320, taxCode: '01', categoryCode: 'STATIONERY' },
};

const PAYMENTS: Record<string, { description: string; canRefund: boolean; canChange: boolean; limitAmount: number }> = {
  '01': { description: 'Cash', canRefund: true, canChange: true, limitAmount: 0 },
  '11': { description: 'Credit card', canRefund: true, canChange: false, limitAmount: 1_000_000 },
};

export interface MasterDataPeer {
  url: string;
  port: number;
  /** Requests served so far. */
  requests: number;
  close(): Promise<void>;
}

/** Starts the peer on `port` (0 = any free port) on `host`. */
export async function startMasterDataPeer(port = 0, host = '127.0.0.1'): Promise<MasterDataPeer> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    const url = new URL(req.url ?? '/', 'http://peer');
    let parts: string[];
    try {
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return send(res, 400, envelope(false, 400, 'malformed percent-encoding in the path', null));
    }
    const authed =
      typeof req.headers['x-api-key'] === 'string' || /^Bearer \S+/.test(String(req.headers.authorization ?? ''));
    if (!authed) return send(res, 401, envelope(false, 401, 'credentials required', null));
    // /api/v1/tenants/{t}/stores/{s}/items/{code}/details
    if (
      parts.length === 9 &&
      parts[2] === 'tenants' &&
      parts[4] === 'stores' &&
      parts[6] === 'items' &&
      parts[8] === 'details'
    ) {
      const [tenantId, storeCode, itemCode] = [parts[3], parts[5], parts[7]];
      const item = ITEMS[itemCode];
      if (!item) return send(res, 404, envelope(false, 404, `item ${itemCode} not found`, null));
      return send(
        res,
        200,
        envelope(true, 200, 'ok', {
          tenantId,
          storeCode,
          itemCode,
          ...item,
          isDiscountRestricted: false,
          isDeleted: false,
        }),
      );
    }
    // /api/v1/tenants/{t}/payments/{code}
    if (parts.length === 6 && parts[2] === 'tenants' && parts[4] === 'payments') {
      const payment = PAYMENTS[parts[5]];
      if (!payment) return send(res, 404, envelope(false, 404, `payment ${parts[5]} not found`, null));
      return send(
        res,
        200,
        envelope(true, 200, 'ok', {
          tenantId: parts[3],
          paymentCode: parts[5],
          ...payment,
          canDepositOver: true,
          isActive: true,
        }),
      );
    }
    send(res, 404, envelope(false, 404, `no route ${url.pathname}`, null));
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

function envelope(success: boolean, code: number, message: string, data: unknown) {
  return { success, code, message, data, operation: 'sample-peer' };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

if (require.main === module) {
  const port = Number(process.env.PEER_PORT ?? 8002);
  startMasterDataPeer(port).then(
    (peer) => process.stdout.write(`master-data peer listening on ${peer.url}/api/v1\n`),
    (error: Error) => {
      process.stderr.write(`master-data peer could not start: ${error.message}\n`);
      process.exit(1);
    },
  );
}
