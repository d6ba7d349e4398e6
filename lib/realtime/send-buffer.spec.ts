import { isRealtimeError, RealtimeError } from '../errors/realtime.error';
import { PendingMessage, SendBuffer } from './send-buffer';

type Outcome = 'ok' | RealtimeError | undefined;

describe('SendBuffer', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const make = (size = 3, timeoutMs = 1_000) => {
    const buffer = new SendBuffer(
      { size, timeoutMs },
      (code, why, written) => new RealtimeError(why, { code, written }),
      () => Date.now(),
    );
    const outcomes: Outcome[] = [];
    const send = (data: string) => {
      const i = outcomes.push(undefined) - 1;
      buffer.push(data).then(
        () => (outcomes[i] = 'ok'),
        (e: RealtimeError) => (outcomes[i] = e),
      );
      return i;
    };
    const written: string[] = [];
    const write = (m: PendingMessage) => written.push(String(m.data));
    return { buffer, outcomes, send, written, write };
  };
  const settle = () => Promise.resolve().then(() => undefined);

  it('holds at most `size` messages (waiting + unconfirmed); one more is refused at once', async () => {
    const { buffer, outcomes, send, write } = make(3);
    send('a');
    send('b');
    buffer.flush(write); // a, b unconfirmed
    send('c');
    send('d');
    await settle();
    expect(buffer.size).toBe(3);
    const refused = outcomes[3];
    expect(isRealtimeError(refused)).toBe(true);
    expect((refused as RealtimeError).code).toBe('ERR_SEND_BUFFER_FULL');
    expect((refused as RealtimeError).written).toBe(false);
    expect(outcomes.slice(0, 3)).toEqual([undefined, undefined, undefined]);
  });

  it('writes in order and resolves only what a receipt covers', async () => {
    const { buffer, outcomes, send, written, write } = make(10);
    ['a', 'b', 'c'].forEach(send);
    buffer.flush(write);
    expect(written).toEqual(['a', 'b', 'c']);
    expect(buffer.lastWritten).toBe(3);
    buffer.confirm(2);
    await settle();
    expect(outcomes).toEqual(['ok', 'ok', undefined]);
    expect(buffer.unconfirmedCount).toBe(1);
  });

  it('a lost connection puts unconfirmed messages back in front, in order, for a re-send', async () => {
    const { buffer, outcomes, send, written, write } = make(10);
    ['a', 'b'].forEach(send);
    buffer.flush(write);
    buffer.confirm(1);
    send('c'); // waiting (written while down)
    buffer.connectionLost(true);
    expect(buffer.waitingCount).toBe(2);
    buffer.flush(write);
    expect(written).toEqual(['a', 'b', 'b', 'c']);
    buffer.confirm(buffer.lastWritten);
    await settle();
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
  });

  it('without re-send, unconfirmed messages are rejected ERR_NOT_CONFIRMED with written: true', async () => {
    const { buffer, outcomes, send, write } = make(10);
    send('a');
    buffer.flush(write);
    send('b');
    buffer.connectionLost(false);
    await settle();
    expect((outcomes[0] as RealtimeError).code).toBe('ERR_NOT_CONFIRMED');
    expect((outcomes[0] as RealtimeError).written).toBe(true);
    expect(outcomes[1]).toBeUndefined();
    expect(buffer.waitingCount).toBe(1);
  });

  it('rejects messages older than timeoutMs with ERR_SEND_TIMEOUT, waiting or unconfirmed', async () => {
    const { buffer, outcomes, send, write } = make(10, 1_000);
    send('a');
    buffer.flush(write);
    jest.advanceTimersByTime(600);
    send('b');
    jest.advanceTimersByTime(399);
    await settle();
    expect(outcomes).toEqual([undefined, undefined]);
    jest.advanceTimersByTime(1);
    await settle();
    expect((outcomes[0] as RealtimeError).code).toBe('ERR_SEND_TIMEOUT');
    expect((outcomes[0] as RealtimeError).written).toBe(true);
    expect(outcomes[1]).toBeUndefined();
    jest.advanceTimersByTime(600);
    await settle();
    expect((outcomes[1] as RealtimeError).code).toBe('ERR_SEND_TIMEOUT');
    expect((outcomes[1] as RealtimeError).written).toBe(false);
    expect(buffer.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('leaves no timer once everything is confirmed, and rejectAll empties it', async () => {
    const { buffer, outcomes, send, write } = make(10);
    send('a');
    expect(jest.getTimerCount()).toBe(1);
    buffer.flush(write);
    buffer.confirm(1);
    expect(jest.getTimerCount()).toBe(0);
    send('b');
    buffer.flush(write);
    send('c');
    const confirmed = buffer.whenConfirmed();
    buffer.rejectAll('ERR_CONNECTION_CLOSED', 'closed');
    await confirmed;
    await settle();
    expect(outcomes.map((o) => (o === 'ok' ? o : o?.code))).toEqual([
      'ok',
      'ERR_CONNECTION_CLOSED',
      'ERR_CONNECTION_CLOSED',
    ]);
    expect((outcomes[1] as RealtimeError).written).toBe(true);
    expect((outcomes[2] as RealtimeError).written).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
