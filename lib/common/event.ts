/** A listener registered on an `EventSource`; call it to unsubscribe. */
export type Unsubscribe = () => void;

/**
 * A minimal typed event: `on(listener)` returns an unsubscribe function. A listener that throws
 * never breaks the code that emits (its error is swallowed so that an observer cannot change the
 * outcome of a call).
 *
 * Hand-written rather than Node's EventEmitter: it is typed per event and has no `'error'`
 * special case that would throw when nobody listens.
 */
export class EventSource<T> {
  private listeners: Array<(value: T) => void> = [];

  on(listener: (value: T) => void): Unsubscribe {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  emit(value: T): void {
    for (const listener of this.listeners) {
      try {
        listener(value);
      } catch {
        // an observer must not change the outcome of the call it observes
      }
    }
  }
}
