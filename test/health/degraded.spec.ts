import { Test } from '@nestjs/testing';
import { HealthIndicatorService } from '@nestjs/terminus';
import { isInvalidOptionsError, KugelCommsModule } from '../../lib';
import { resolveOptions } from '../../lib/options/resolve-options';

/**
 * `health.degradedBreakers` needs terminus ≥ 12 (`degraded` status). This repository develops on
 * terminus 11, which has none: the option must stop boot there. The degraded answer itself is
 * proven over HTTP by the Nest 12 compat app (test/compat).
 */
describe('health.degradedBreakers on @nestjs/terminus 11', () => {
  const refusal =
    'KugelCommsModule option "health.degradedBreakers" needs @nestjs/terminus 12 or newer' +
    ' (the installed @nestjs/terminus has no "degraded" status); got ["state:statestore"]';

  it('the installed terminus is one without a degraded status', () => {
    expect('degraded' in new HealthIndicatorService().check('x')).toBe(false);
  });

  it.each([
    ['forRoot', () => KugelCommsModule.forRoot({ health: { degradedBreakers: ['state:statestore'] } })],
    [
      'forRootAsync',
      () =>
        KugelCommsModule.forRootAsync({
          useFactory: async () => ({ health: { degradedBreakers: ['state:statestore'] } }),
        }),
    ],
  ])('%s: boot stops with InvalidOptionsError naming the option and terminus 12', async (_how, make) => {
    let error: unknown;
    try {
      const ref = await Test.createTestingModule({ imports: [make()] }).compile();
      await ref.close();
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionsError(error)).toBe(true);
    expect((error as Error).message).toBe(refusal);
  });

  it('an empty list boots (nothing asks for the degraded status)', async () => {
    const ref = await Test.createTestingModule({
      imports: [KugelCommsModule.forRoot({ health: { degradedBreakers: [] }, dapr: { waitForSidecarMs: 0 } })],
    }).compile();
    await ref.close();
  });

  it.each([
    [{ degradedBreakers: 'state:statestore' }, 'must be an array of breaker names; got "state:statestore"'],
    [{ degradedBreakers: ['state:statestore', 3] }, 'must be an array of breaker names; got ["state:statestore",3]'],
    [
      { criticalBreakers: ['pubsub:pubsub', 'state:statestore'], degradedBreakers: ['state:statestore'] },
      'must not name a breaker that health.criticalBreakers names too (state:statestore); got ["state:statestore"]',
    ],
  ])('resolveOptions refuses %j', (health, expectation) => {
    expect(() => resolveOptions({ health: health as never }, {})).toThrow(
      `KugelCommsModule option "health.degradedBreakers" ${expectation}`,
    );
  });
});
