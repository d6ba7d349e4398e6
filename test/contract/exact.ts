/**
 * Type-level checks that a JSON fixture is exactly a document type, for `conform()`.
 *
 * TypeScript's `F extends T` already fails when the fixture lacks a key `T` requires or has a
 * value of another kind; it does not fail on a key `T` does not declare (a structural type accepts
 * more). `NoUnknownKeys<T, F>` turns every such key, at any depth, into `never`, so that
 * a fixture of type `F` is not a `NoUnknownKeys<T, F>`. A `T` of `unknown` (or a `Record<string, unknown>`'s
 * values) accepts anything.
 */
export type NoUnknownKeys<T, F> = unknown extends T
  ? F
  : F extends readonly (infer FE)[]
    ? NonNullable<T> extends readonly (infer TE)[]
      ? readonly NoUnknownKeys<TE, FE>[]
      : F
    : F extends object
      ? { [K in keyof F]: K extends keyof NonNullable<T> ? NoUnknownKeys<NonNullable<T>[K], F[K]> : never }
      : F;

/**
 * `conform<T>()(fixture)`: the fixture typed as `T`, and a type error where it is not exactly a
 * `T` (a key missing, a key too many, a value of another kind). Runs nothing: the check is the
 * compiler's (see `wire-types.spec.ts`).
 */
export function conform<T>() {
  return <F extends T>(fixture: F & NoUnknownKeys<T, F>): T => fixture;
}
