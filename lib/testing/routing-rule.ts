/**
 * A comparison of one CloudEvent attribute with a literal: `event.type == "order.created"`,
 * `event.data.kind != 'void'`, `event.data.total == 0`, `event.data.urgent == true`.
 */
const COMPARISON =
  /^event((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(==|!=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false|null)$/;

/**
 * Evaluates a `@DaprSubscribe` routing rule (`match`) on a CloudEvent, for in-memory deliveries.
 * daprd evaluates CEL; this takes the part of it routing rules are written in: comparisons of an
 * `event.<field>` with a string, number, boolean or `null` (`==`, `!=`), joined with `&&` or `||`
 * (`&&` first, no parentheses). Anything else throws an `Error` naming the rule, never guesses.
 */
export function evaluateRule(rule: string, event: Record<string, unknown>): boolean {
  return rule.split('||').some((any) => any.split('&&').every((all) => compare(all.trim(), event, rule)));
}

function compare(term: string, event: Record<string, unknown>, rule: string): boolean {
  const m = COMPARISON.exec(term);
  if (!m) {
    throw new Error(
      `kugel-comms/testing cannot evaluate the routing rule ${JSON.stringify(rule)}: it evaluates event.<field> == or != ` +
        'a string, number, boolean or null, joined with && or ||',
    );
  }
  let value: unknown = event;
  for (const name of m[1].slice(1).split('.')) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
  }
  const literal = m[3];
  const want: unknown = literal.startsWith("'")
    ? literal.slice(1, -1).replace(/\\(.)/g, '$1')
    : (JSON.parse(literal) as unknown);
  const equal = value === want || (want === null && value === undefined);
  return m[2] === '==' ? equal : !equal;
}
