// The bench peer: a node:http keep-alive server in its own process (forked by bench/support.ts).
//   GET /item          → 200, a fixed small JSON body
//   any /down/<name>   → 503 (attempts counted per <name>)
// It counts connections (total, open now, most open at once) and answers `stats` / `reset`
// messages over the IPC channel. Listens on 127.0.0.1 only.
import * as http from 'node:http';

const ITEM = Buffer.from(
  JSON.stringify({
    itemCode: '4901234567894',
    description: 'Bench item',
    unitPrice: 120,
    taxCode: '01',
  }),
);
const UNAVAILABLE = Buffer.from(JSON.stringify({ success: false, code: 503, message: 'unavailable' }));

let connections = 0;
let open = 0;
let maxOpen = 0;
let requests = 0;
const down = new Map<string, number>();

const server = http.createServer((req, res) => {
  requests += 1;
  const url = req.url ?? '/';
  if (url.startsWith('/down/')) {
    const name = url.slice(6).split('?', 1)[0];
    down.set(name, (down.get(name) ?? 0) + 1);
    res.writeHead(503, {
      'content-type': 'application/json',
      'content-length': UNAVAILABLE.length,
    });
    res.end(UNAVAILABLE);
    return;
  }
  if (url === '/item' || url.startsWith('/item?')) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': ITEM.length });
    res.end(ITEM);
    return;
  }
  res.writeHead(404, { 'content-length': 0 });
  res.end();
});
// Node's defaults (5 s keep-alive); no request limit per socket.
server.keepAliveTimeout = 5_000;
server.maxRequestsPerSocket = 0;
server.on('connection', (socket) => {
  connections += 1;
  open += 1;
  if (open > maxOpen) maxOpen = open;
  socket.on('close', () => {
    open -= 1;
  });
});

export interface PeerStats {
  connections: number;
  open: number;
  maxOpen: number;
  requests: number;
  down: Record<string, number>;
  /** CPU time this process has used (user + system), µs. */
  cpuUs: number;
}

function stats(): PeerStats {
  const cpu = process.cpuUsage();
  return {
    connections,
    open,
    maxOpen,
    requests,
    down: Object.fromEntries(down),
    cpuUs: cpu.user + cpu.system,
  };
}

process.on('message', (msg: { id: number; cmd: 'stats' | 'reset' }) => {
  if (msg.cmd === 'reset') {
    connections = 0;
    maxOpen = open;
    requests = 0;
    down.clear();
  }
  process.send?.({ id: msg.id, stats: stats() });
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ ready: true, port });
});
