import { Logger } from '@nestjs/common';
import { CircuitBreakerRegistry, DaprClientHelper, KugelCommsEvents } from '../../lib';
import { resolveOptions } from '../../lib/options/resolve-options';
import { InMemorySidecar } from '../../lib/testing/in-memory-sidecar';
import { InMemoryStateStore } from '../../lib/testing/in-memory-state.store';
import { STORE_KINDS, StateWrite, StoreRules } from '../../lib/testing/state-store-kinds';
import { ContractCase, DAPR_STATE_CONTRACT, DaprContractTarget } from '../contract/dapr-contract';

/** A stand-in that drifted from daprd: it ignores the ETags of writes and deletes. */
class EtagBlindStore extends InMemoryStateStore {
  protected override readonly rules: StoreRules = ((real: StoreRules) => {
    // A write with an ETag goes through unchecked.
    const blind = (w: StateWrite): StateWrite => (w.etag ? { ...w, etag: undefined, concurrency: undefined } : w);
    return {
      set: (w, current, at) => real.set(blind(w), current, at),
      delete: (w, current, at) => real.delete(blind(w), current, at),
      transaction: (writes, view, at) => real.transaction(writes.map(blind), view, at),
    };
  })(STORE_KINDS['in-memory']);
}

/** The real DaprClientHelper over a given in-memory sidecar (what the testing module wires). */
function helperOver(sidecar: InMemorySidecar): DaprClientHelper {
  const events = new KugelCommsEvents();
  return new DaprClientHelper(
    resolveOptions({ dapr: { retries: 0, waitForSidecarMs: 0 } }),
    events,
    new CircuitBreakerRegistry(events),
    {
      label: 'in memory (drift test)',
      sidecarAdapter: () => sidecar.adapter,
      serviceAdapter: () => {
        throw new Error('no peers here');
      },
      baseUrlFor: () => undefined,
    },
  );
}

async function failing(cases: ContractCase[], target: DaprContractTarget): Promise<string[]> {
  const failed: string[] = [];
  for (const c of cases) {
    try {
      await c.run(target);
    } catch {
      failed.push(c.name);
    }
  }
  return failed;
}

const target = (dapr: DaprClientHelper): DaprContractTarget => ({
  dapr,
  appId: 'kugel-comms-testing',
  storeKind: 'in-memory',
  raw: () => Promise.reject(new Error('the state cases send through the client only')),
  deliver: async () => undefined,
  close: async () => undefined,
});

// Each case fails by a failed expect() whose message is not needed here; keep the log quiet.
beforeAll(() => Logger.overrideLogger(['fatal']));
afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

describe('the Dapr contract catches a stand-in that drifts from daprd', () => {
  // The TTL case waits for real seconds and says nothing about ETags.
  const cases = DAPR_STATE_CONTRACT.filter((c) => !c.name.includes('ttlInSeconds'));

  it('a stand-in ignoring ETags fails exactly the ETag cases', async () => {
    const broken = helperOver(new InMemorySidecar({}, (appId) => new EtagBlindStore(appId)));
    await expect(failing(cases, target(broken))).resolves.toEqual([
      'a save with the current ETag succeeds; with a stale one it is false, 409 ERR_STATE_SAVE, the value kept',
      'an ETag for a key that does not exist: a 409 conflict (save and delete); state.redis inserts the key and deletes nothing (204)',
      'an ETag of a form the store cannot read: 409; state.redis refuses it on a save with 400 ERR_STATE_SAVE',
      'delete: true also for a missing key; a stale ETag is false, 409 ERR_STATE_DELETE; the current one deletes',
      'a transaction with a stale ETag fails (500 ERR_STATE_TRANSACTION, no breaker count): none of it applied; on state.redis the other operations are',
    ]);
  });

  it('the stand-in as shipped fails none of them', async () => {
    await expect(failing(cases, target(helperOver(new InMemorySidecar())))).resolves.toEqual([]);
  });
});
