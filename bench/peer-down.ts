// Peer down: an open-loop load of GETs against a peer that answers 503 to everything. Attempts
// per logical call, counted at the peer: kugel's retry budget vs plain axios-retry (3 retries).
import 'reflect-metadata';
import axios from 'axios';
import axiosRetry from 'axios-retry';
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { HttpClientHelper } from '../lib';
import { bootKugel } from './http';
import { median, Peer, rotation } from './support';

export interface PeerDownRound {
  calls: number;
  attempts: number;
  attemptsPerCall: number;
  /** Logical calls started per second (the offered load). */
  callsPerSec: number;
  /** Calls that did not end in an error (must be 0: the peer only answers 503). */
  unexpectedSuccesses: number;
}

export interface PeerDownResult {
  offeredPerSec: number;
  roundMs: number;
  kugel: { rounds: PeerDownRound[]; attemptsPerCall: number; callsPerSec: number };
  axiosRetry: { rounds: PeerDownRound[]; attemptsPerCall: number; callsPerSec: number };
}

/** Starts `rate` calls per second for `durationMs` (not waiting for answers), then waits for all. */
async function openLoop(
  call: () => Promise<unknown>,
  rate: number,
  durationMs: number,
): Promise<{ calls: number; callsPerSec: number; successes: number }> {
  const pending: Promise<void>[] = [];
  let successes = 0;
  const start = performance.now();
  let started = 0;
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) break;
    const due = Math.floor((elapsed / 1000) * rate);
    for (; started < due; started += 1) {
      pending.push(
        call().then(
          () => void (successes += 1),
          () => undefined,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(pending);
  return { calls: started, callsPerSec: started / seconds, successes };
}

export async function benchPeerDown(
  peer: Peer,
  o: { rate: number; rounds: number; roundMs: number },
): Promise<PeerDownResult> {
  // One service per round, so each round starts with a fresh budget (kugel defaults otherwise).
  const services: Record<string, string> = {};
  for (let r = 0; r < o.rounds; r += 1) services[`down-${r}`] = peer.url;
  const app = await bootKugel({ services });
  const helper = app.get(HttpClientHelper);

  const kugelRounds: PeerDownRound[] = [];
  const axiosRounds: PeerDownRound[] = [];
  const agent = new http.Agent({ keepAlive: true });

  // A: kugel, defaults (3 retries, 20 % budget + 10 retries/s floor), a fresh service per round.
  const kugelRound = async (r: number) => {
    const client = helper.getServiceClient(`down-${r}`);
    const tag = `kugel-${r}`;
    kugelRounds.push(await measureRound(() => client.get(`/down/${tag}`), tag));
  };
  // B: axios + axios-retry, 3 retries with exponential backoff, no budget.
  const axiosRound = async (r: number) => {
    const instance = axios.create({ baseURL: peer.url, httpAgent: agent });
    axiosRetry(instance, { retries: 3, retryDelay: axiosRetry.exponentialDelay });
    const tag = `axios-retry-${r}`;
    axiosRounds.push(await measureRound(() => instance.get(`/down/${tag}`), tag));
  };
  const measureRound = async (call: () => Promise<unknown>, tag: string): Promise<PeerDownRound> => {
    const run = await openLoop(call, o.rate, o.roundMs);
    const attempts = (await peer.stats()).down[tag] ?? 0;
    return {
      calls: run.calls,
      attempts,
      attemptsPerCall: attempts / run.calls,
      callsPerSec: run.callsPerSec,
      unexpectedSuccesses: run.successes,
    };
  };

  for (let r = 0; r < o.rounds; r += 1) {
    // The order alternates from round to round (kugel first, then axios-retry first, ...).
    for (const i of rotation(2, r)) await (i === 0 ? kugelRound(r) : axiosRound(r));
    process.stdout.write(`  peer down: round ${r + 1}/${o.rounds} done\n`);
  }
  await app.close();
  agent.destroy();
  const sum = (rounds: PeerDownRound[]) => ({
    rounds,
    attemptsPerCall: median(rounds.map((x) => x.attemptsPerCall)),
    callsPerSec: median(rounds.map((x) => x.callsPerSec)),
  });
  return {
    offeredPerSec: o.rate,
    roundMs: o.roundMs,
    kugel: sum(kugelRounds),
    axiosRetry: sum(axiosRounds),
  };
}
