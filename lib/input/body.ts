import { InputError } from './input.error';

/**
 * `value` as JSON text. Throws `InputError` naming `what` when JSON cannot represent it: a
 * circular structure or a BigInt (JSON.stringify throws), or a top-level `undefined`, function or
 * symbol (JSON.stringify returns `undefined`, which would otherwise go out as an empty body).
 */
export function serialiseJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InputError(`${what} is not JSON-serialisable: ${(error as Error).message.split('\n')[0]}`);
  }
  if (json === undefined) throw new InputError(`${what} of type ${typeof value} is not JSON-serialisable`);
  return json;
}
