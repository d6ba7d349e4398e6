import { Heartbeat } from './heartbeat';

describe('Heartbeat', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const make = (intervalMs = 1_000, timeoutMs = 500) => {
    const pings: string[] = [];
    const confirmed: number[] = [];
    let written = 0;
    let dead = 0;
    const hb = new Heartbeat(
      { intervalMs, timeoutMs },
      {
        ping: (p) => pings.push(p.toString()),
        lastWritten: () => written,
        confirmed: (seq) => confirmed.push(seq),
        dead: () => (dead += 1),
        endOfTurn: () => undefined,
      },
      () => Date.now(),
    );
    return {
      hb,
      pings,
      confirmed,
      write: (n = 1) => (written += n),
      dead: () => dead,
    };
  };

  it('pings an idle connection every interval and declares a silent peer dead after the timeout', () => {
    const t = make(1_000, 500);
    t.hb.start();
    jest.advanceTimersByTime(999);
    expect(t.pings).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(t.pings).toEqual(['1']);
    jest.advanceTimersByTime(499);
    expect(t.dead()).toBe(0);
    jest.advanceTimersByTime(1);
    expect(t.dead()).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a pong keeps the peer alive', () => {
    const t = make(1_000, 500);
    t.hb.start();
    for (let i = 1; i <= 5; i += 1) {
      jest.advanceTimersByTime(1_000);
      t.hb.pong(Buffer.from(String(i)));
    }
    jest.advanceTimersByTime(400);
    expect(t.dead()).toBe(0);
    expect(t.pings).toEqual(['1', '2', '3', '4', '5']);
    t.hb.stop();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends one receipt ping per turn of the event loop after writes, and its pong confirms them', () => {
    const t = make(60_000, 500);
    t.hb.start();
    t.write(3);
    t.hb.requestReceipt();
    t.hb.requestReceipt();
    jest.advanceTimersByTime(1); // runs the immediate (the interval is a minute away)
    expect(t.pings).toEqual(['1']);
    t.write(2);
    t.hb.requestReceipt();
    jest.advanceTimersByTime(1);
    expect(t.pings).toEqual(['1', '2']);
    expect(t.dead()).toBe(0);
    t.hb.pong(Buffer.from('2')); // answers both pings (pongs come in order)
    expect(t.confirmed).toEqual([5]);
  });

  it('ignores pongs it did not ask for, and no receipt ping when nothing new was written', () => {
    const t = make(60_000, 500);
    t.hb.start();
    t.hb.pong(Buffer.from('hello'));
    t.hb.pong(Buffer.alloc(0));
    t.hb.pong(Buffer.from('99'));
    expect(t.confirmed).toEqual([]);
    t.hb.requestReceipt();
    jest.advanceTimersByTime(1);
    expect(t.pings).toEqual([]);
  });

  it('an unanswered receipt ping also ends in dead()', () => {
    const t = make(60_000, 300);
    t.hb.start();
    t.write();
    t.hb.requestReceipt();
    jest.advanceTimersByTime(1);
    expect(t.pings).toEqual(['1']);
    jest.advanceTimersByTime(300);
    expect(t.dead()).toBe(1);
  });
});
