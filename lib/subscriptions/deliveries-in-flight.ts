import { Logger } from '@nestjs/common';
import { stopSignalSource, within } from '../common/abandonable';

/**
 * The deliveries being answered, and the end of shutdown's grace for them. Nest closes the HTTP
 * server only after `beforeApplicationShutdown`, and the server's close waits for every request in
 * flight: a handler that never ends (with `handlerTimeoutMs: 0`, or a long one) would hold
 * `app.close()` for ever. `drain()` gives them `subscriptions.shutdownTimeoutMs`; then `cut`
 * aborts, and what still runs is answered `RETRY` at once (daprd delivers it again, to this app
 * after its restart or to another replica). @internal
 */
export class DeliveriesInFlight {
  private readonly running = new Set<Promise<unknown>>();
  /** Every handler in flight listens to the cut: as many listeners as deliveries at once. */
  private readonly cutter = stopSignalSource();

  /** Aborted when shutdown's grace is over: handlers still running are answered `RETRY`, new deliveries too. */
  get cut(): AbortSignal {
    return this.cutter.signal;
  }

  /** Counts `delivery` as in flight until it settles. */
  track<T>(delivery: Promise<T>): Promise<T> {
    this.running.add(delivery);
    const done = () => this.running.delete(delivery);
    delivery.then(done, done);
    return delivery;
  }

  /**
   * Waits at most `ms` for the deliveries in flight (and those arriving meanwhile) to be answered,
   * then cuts the rest. Never rejects.
   */
  async drain(ms: number, logger: Logger): Promise<void> {
    if (this.running.size > 0) {
      logger.log(`waiting up to ${ms} ms (subscriptions.shutdownTimeoutMs) for ${this.running.size} delivery(ies)`);
      const deadline = Date.now() + ms;
      // Deliveries that arrive while it waits are waited for too, within the same deadline.
      while (this.running.size > 0 && Date.now() < deadline) {
        const all = Promise.allSettled([...this.running]);
        if (!(await within(all, Math.max(0, deadline - Date.now()))).done) break;
      }
    }
    const left = this.running.size;
    this.cutter.abort();
    if (left > 0) {
      logger.warn(
        `${left} delivery(ies) still running after ${ms} ms (subscriptions.shutdownTimeoutMs): their handlers' ` +
          'signals are aborted and they are answered RETRY (daprd delivers them again); a handler that goes on ' +
          'settles its dedupe claim when it ends, else the claim lapses with its lease',
      );
    }
  }
}
