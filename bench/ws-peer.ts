// The WebSocket bench peer, in its own process (forked by bench/realtime.ts): a `ws` server on
// 127.0.0.1 that counts the text messages of each connection and answers "end" with
// "done <count>" (frames arrive in order, so every message before "end" has been read). It
// reports its port over IPC. Pings are answered by `ws` itself.
import { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  let count = 0;
  ws.on('message', (data, isBinary) => {
    if (!isBinary && (data as Buffer).length === 3 && data.toString() === 'end') {
      ws.send(`done ${count}`);
      count = 0;
      return;
    }
    count += 1;
  });
  ws.on('error', () => undefined);
});
wss.on('listening', () => process.send?.({ ready: true, port: (wss.address() as AddressInfo).port }));
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
