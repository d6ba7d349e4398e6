/** The part of js-yaml (a devDependency without bundled types) that the manifest test uses. */
declare module 'js-yaml' {
  /** Every document of a YAML stream, as plain values. */
  export function loadAll(text: string): unknown[];
}
