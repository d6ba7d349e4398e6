import { Logger } from '@nestjs/common';
import { InvalidOptionsError } from '../errors/invalid-options.error';

/** Old option names already warned about in this process: one WARN per old option, however often it is read. */
const warned = new Set<string>();
const logger = new Logger('KugelCommsModule');

/**
 * An option that was renamed: the old name is still accepted until the next minor version, its
 * value taken as the new option's, and a WARN at boot names both (once per old option). Setting
 * both is refused: which one wins would be a guess.
 */
export function renamedOption<T>(
  oldName: string,
  oldValue: T | undefined,
  newName: string,
  newValue: T | undefined,
): T | undefined {
  if (oldValue === undefined) return newValue;
  if (newValue !== undefined) {
    throw new InvalidOptionsError(
      oldName,
      oldValue,
      `is the old name of ${newName}, which is set too: keep ${newName} only`,
    );
  }
  if (!warned.has(oldName)) {
    warned.add(oldName);
    logger.warn(
      `option ${oldName} is deprecated and will be removed in the next minor version: use ${newName} ` +
        '(same value, in milliseconds)',
    );
  }
  return oldValue;
}

/** Forgets which old names were warned about (tests that boot several apps in one process). @internal */
export function forgetDeprecationWarnings(): void {
  warned.clear();
}
