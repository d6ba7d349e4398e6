import { ResolvedBackoff } from '../common/backoff';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { BackoffOptions } from '../interfaces/backoff-options.interface';
import { nonNegativeMs, nonNegativeNumber, object, positiveMs } from './validators';

/**
 * `BackoffOptions` over `base`, checked; `p` names them in errors. `zeroDelays` allows 0 ms steps
 * (REST and sidecar retries, which `retries` bounds); a reconnect or a republish pass, which go on
 * for as long as the peer is down, needs a step of at least 1 ms.
 */
export function resolveBackoff(
  p: string,
  o: BackoffOptions | undefined,
  base: ResolvedBackoff,
  zeroDelays = false,
): ResolvedBackoff {
  const given = object(p, o ?? {});
  const ms = zeroDelays ? nonNegativeMs : positiveMs;
  const initialDelayMs = ms(`${p}.initialDelayMs`, given.initialDelayMs ?? base.initialDelayMs);
  const maxDelayMs = ms(`${p}.maxDelayMs`, given.maxDelayMs ?? base.maxDelayMs);
  if (maxDelayMs < initialDelayMs) {
    throw new InvalidOptionsError(`${p}.maxDelayMs`, maxDelayMs, `must be ≥ ${p}.initialDelayMs (${initialDelayMs})`);
  }
  const multiplier = nonNegativeNumber(`${p}.multiplier`, given.multiplier ?? base.multiplier);
  if (multiplier < 1 || multiplier > 100) {
    throw new InvalidOptionsError(`${p}.multiplier`, multiplier, 'must be a number from 1 to 100');
  }
  const jitter = nonNegativeNumber(`${p}.jitter`, given.jitter ?? base.jitter);
  if (jitter > 1) throw new InvalidOptionsError(`${p}.jitter`, jitter, 'must be a number from 0 to 1');
  return { initialDelayMs, maxDelayMs, multiplier, jitter };
}
