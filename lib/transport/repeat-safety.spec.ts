import axios, { AxiosError, CanceledError } from 'axios';
import { withFault } from './adapter-fault';
import { mayHaveReached, mayRepeat, neverLeft } from './repeat-safety';

const config = { headers: new axios.AxiosHeaders() } as never;
const err = (message: string, code: string) => new AxiosError(message, code, config);
const status = (code: number) =>
  new AxiosError(`Request failed with status code ${code}`, AxiosError.ERR_BAD_RESPONSE, config, undefined, {
    status: code,
    statusText: '',
    headers: {},
    config,
    data: '',
  });

describe('the repeat-safety rule (by kind, code and fault; never by message text)', () => {
  it('a repeatable call goes again after 429, 502, 503, 504; a call that is not, never', () => {
    for (const code of [429, 502, 503, 504]) {
      expect(mayRepeat(status(code), true)).toBe(true);
      expect(mayRepeat(status(code), false)).toBe(false);
    }
    for (const code of [400, 404, 409, 500, 501]) expect(mayRepeat(status(code), true)).toBe(false);
  });

  it('a reset goes again only when the call is repeatable, on a kept-alive socket too', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT']) {
      expect(mayRepeat(err('socket hang up', code), true)).toBe(true);
      expect(mayRepeat(err('socket hang up', code), false)).toBe(false);
      expect(mayHaveReached(err('socket hang up', code))).toBe(true);
    }
    // Another network error on a connected socket: not worth a repeat, whatever the call.
    expect(mayRepeat(err('certificate', 'SELF_SIGNED_CERT_IN_CHAIN'), true)).toBe(false);
  });

  it('what provably never left goes again for any call, and is a known outcome', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']) {
      expect(neverLeft(err(`connect ${code}`, code))).toBe(true);
      expect(mayRepeat(err(`connect ${code}`, code), false)).toBe(true);
      expect(mayHaveReached(err(`connect ${code}`, code))).toBe(false);
    }
    // The adapter's mark: the connection was never established (a reset while connecting, a
    // deadline spent connecting or waiting for a pooled socket).
    const resetWhileConnecting = withFault(err('socket hang up', 'ECONNRESET'), 'not-connected');
    expect(mayRepeat(resetWhileConnecting, false)).toBe(true);
    expect(mayHaveReached(resetWhileConnecting)).toBe(false);
    const timedOutConnecting = withFault(err('timeout of 5ms exceeded', 'ECONNABORTED'), 'not-connected');
    expect(mayRepeat(timedOutConnecting, false)).toBe(true);
    expect(mayHaveReached(timedOutConnecting)).toBe(false);
  });

  it('a timeout after the request was sent goes again only when repeatable, and its outcome is unknown', () => {
    const timeout = err('timeout of 5ms exceeded', 'ECONNABORTED');
    expect(mayRepeat(timeout, true)).toBe(true);
    expect(mayRepeat(timeout, false)).toBe(false);
    expect(mayHaveReached(timeout)).toBe(true);
    expect(mayHaveReached(err('timeout', 'ETIMEDOUT'))).toBe(true);
  });

  it('an answer cut off goes again only when repeatable; an answer too large or input refused locally never', () => {
    const cutOff = withFault(err('anything at all', AxiosError.ERR_BAD_RESPONSE), 'cut-off');
    expect(mayRepeat(cutOff, true)).toBe(true);
    expect(mayRepeat(cutOff, false)).toBe(false);
    expect(mayHaveReached(cutOff)).toBe(true);
    // The same code and the old message text without the fault: no repeat.
    expect(mayRepeat(err('stream has been aborted', AxiosError.ERR_BAD_RESPONSE), true)).toBe(false);
    const tooLarge = withFault(err('stream has been aborted', AxiosError.ERR_BAD_RESPONSE), 'too-large');
    expect(mayRepeat(tooLarge, true)).toBe(false);
    expect(mayHaveReached(tooLarge)).toBe(false);
    const refused = withFault(err('refused', AxiosError.ERR_BAD_REQUEST), 'not-sent');
    expect(mayRepeat(refused, true)).toBe(false);
    expect(mayHaveReached(refused)).toBe(false);
    expect(neverLeft(refused)).toBe(true);
  });

  it('a cancelled call never goes again; it may have reached the peer unless it never connected', () => {
    const cancelled = new CanceledError(undefined, config);
    expect(mayRepeat(cancelled, true)).toBe(false);
    expect(mayHaveReached(cancelled)).toBe(true);
    expect(mayHaveReached(withFault(new CanceledError(undefined, config), 'not-connected'))).toBe(false);
  });

  it('an error that is not axios’ (a bug) is never repeated and says nothing about the peer', () => {
    expect(mayRepeat(new Error('boom'), true)).toBe(false);
    expect(mayHaveReached(new Error('boom'))).toBe(false);
    expect(neverLeft(new Error('boom'))).toBe(false);
    // Even with a connect code on it (a socket error that reached the caller without axios): only
    // the adapter's mark or axios' own network error proves the request never left.
    const raw = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(neverLeft(raw)).toBe(false);
    expect(mayRepeat(raw, false)).toBe(false);
    expect(mayHaveReached(raw)).toBe(false);
  });
});
