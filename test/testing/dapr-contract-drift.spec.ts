import { Logger } from '@nestjs/common';
import { CircuitBreakerRegistry, DaprClientHelper, KugelCommsEvents } from '../../lib';
import { resolveOptions } from '../../lib/options/resolve-options';
import { InMemorySidecar } from '../../lib/testing/in-memory-sidecar';
import { InMemoryStateStore, StateWrite } from '../../lib/testing/in-memory-state.store';
import { ContractCase, DAPR_STATE_CONTRACT, DaprContractTarget } from '../contract/dapr-contract';

/** A stand-in that drifted from daprd: it ignores the ETags of writes and deletes. */
class EtagBlindStore extends InMemoryStateStore {
  protected override check(w: StateWrite, current: { etag: string } | undefined): void {
    if (w.etag !== undefined) return;
    super.check(w, current);
  }
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
  store: 'in-memory',
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
      'delete: true also for a missing key; a stale ETag is false, 409 ERR_STATE_DELETE; the current one deletes',
      'a transaction applies all its operations, or none: a stale ETag fails it (500 ERR_STATE_TRANSACTION), no breaker count',
    ]);
  });

  it('the stand-in as shipped fails none of them', async () => {
    await expect(failing(cases, target(helperOver(new InMemorySidecar())))).resolves.toEqual([]);
  });
});
