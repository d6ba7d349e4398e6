import { Logger } from '@nestjs/common';
import { InvalidOptionsError } from '../errors/invalid-options.error';

/** Old option names already warned about in this process: one WARN per old option, however often it is read. */
const warned = new Set<string>();
const logger = new Logger('KugelCommsModule');

/** How an old option's value becomes the new option's, when the unit changed too. */
export interface OptionConversion<T> {
  /** Checks the old value (naming the old option) and converts it. */
  convert: (oldName: string, oldValue: unknown) => T;
  /** Said in the warning, e.g. `in milliseconds: the old value × 1000`. */
  how: string;
}

/**
 * An option that was renamed: the old name is still accepted until the next minor version, its
 * value taken as the new option's (converted when the unit changed), and a WARN at boot names both
 * (once per old option). Setting both is refused: which one wins would be a guess.
 */
export function renamedOption<T>(
  oldName: string,
  oldValue: unknown,
  newName: string,
  newValue: T | undefined,
  conversion?: OptionConversion<T>,
): T | undefined {
  if (oldValue === undefined) return newValue;
  if (newValue !== undefined) {
    throw new InvalidOptionsError(
      oldName,
      oldValue,
      `is the old name of ${newName}, which is set too: keep ${newName} only`,
    );
  }
  const value = conversion ? conversion.convert(oldName, oldValue) : (oldValue as T);
  if (!warned.has(oldName)) {
    warned.add(oldName);
    logger.warn(
      `option ${oldName} is deprecated and will be removed in the next minor version: use ${newName} ` +
        `(${conversion?.how ?? 'same value, in milliseconds'})`,
    );
  }
  return value;
}

/** Forgets which old names were warned about (tests that boot several apps in one process). @internal */
export function forgetDeprecationWarnings(): void {
  warned.clear();
}
