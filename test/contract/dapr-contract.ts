import { ContractCase, DaprContractTarget } from './contract-target';
import { DAPR_DELIVERY_CONTRACT } from './delivery-contract';
import { DAPR_REFUSAL_CONTRACT } from './refusals-contract';
import { DAPR_STATE_CONTRACT } from './state-contract';

/**
 * The contract of `DaprClientHelper`, of what the sidecar refuses and of event delivery, as the app
 * sees them. One suite, several sidecars: the real test daprd (`test/dapr/dapr-contract.spec.ts`:
 * in-memory components, and `state.redis` for the state half) and the in-memory stand-in of
 * `kugel-comms/testing` with the same store kinds (`test/testing/dapr-contract.spec.ts`). The same
 * assertions pass on both (a case that differs by store kind says so, from `storeKind`), so the
 * stand-in cannot drift from daprd unnoticed; `test/testing/dapr-contract-drift.spec.ts` shows a
 * stand-in that ignores ETags failing it.
 */
export { ContractConsumer, DAPR_DELIVERY_CONTRACT } from './delivery-contract';
export { DAPR_REFUSAL_CONTRACT } from './refusals-contract';
export { DAPR_STATE_CONTRACT } from './state-contract';
export { CONTRACT_MAX_BODY_BYTES } from './contract-target';
export type { ContractCase, DaprContractTarget, RawAnswer } from './contract-target';

/**
 * Registers the contract against one target (started once for the suite). `delivery: false` for
 * a target without an app (the state and refusal halves only).
 */
export function describeDaprContract(
  label: string,
  start: () => Promise<DaprContractTarget>,
  options: { delivery?: boolean } = {},
): void {
  describe(`DaprClientHelper contract: ${label}`, () => {
    let target: DaprContractTarget;
    beforeAll(async () => {
      target = await start();
    }, 60_000);
    afterAll(() => target?.close());

    const cases = (list: ContractCase[]) => {
      for (const c of list) it(c.name, () => c.run(target), 20_000);
    };
    describe('state and publish', () => cases(DAPR_STATE_CONTRACT));
    describe('what the sidecar refuses', () => cases(DAPR_REFUSAL_CONTRACT));
    if (options.delivery !== false)
      describe('delivery to @DaprSubscribe handlers', () => cases(DAPR_DELIVERY_CONTRACT));
  });
}
