// The layers of lib/, as rules that `npm run lint` checks (dependency-cruiser, type-only imports
// included). A file may import its own layer and the layers below it, never one above; the
// features do not import each other; production code never imports lib/testing. Every exception
// is listed in EXCEPTIONS with the reason it stands. docs/architecture.md describes the layers.
//
// Specs (lib/**/*.spec.ts) are tests, not layers: they may import what they exercise from anywhere.

/** From the bottom up. `paths` are regular expressions on paths from the repository root. */
const LAYERS = [
  {
    // Plain building blocks with no I/O of their own: typed events and redaction (common), the
    // error classes, the options interfaces and their resolvers, input checks (paths, headers,
    // idempotency keys), the delivery-status record as pure functions, and the DI tokens.
    name: 'foundation',
    paths: [
      '^lib/(common|errors|interfaces|options|input|delivery)/',
      '^lib/kugel-comms[.]constants[.]ts$',
    ],
  },
  {
    // One call through the wire: the call runner, retries and their budget, the HTTP adapters, the
    // breaker's axios guard and the call events (transport), over the circuit breaker with its
    // registry and its events (circuit-breaker, which imports nothing of transport).
    name: 'pipeline',
    paths: ['^lib/(transport|circuit-breaker)/'],
  },
  {
    // Talking to a peer or to the sidecar over the pipeline: the REST client and service discovery
    // (http), the Dapr client (dapr), credentials for calls (auth), and claims: leases on keys in
    // a Dapr state store, which the subscriptions' dedupe and the republisher's pass lease share.
    name: 'clients',
    paths: ['^lib/(http|dapr|auth|claims)/'],
  },
  {
    // Metrics and the listeners on the pipeline's events: prom-client behind one small class
    // (features build their own metrics with it), and the call and breaker metrics. It knows the
    // pipeline's events and nothing of the features.
    name: 'observability',
    paths: ['^lib/observability/'],
  },
  {
    // What an app uses the library for, each in its folder with its own events, metrics and
    // health: receiving events (subscriptions), publishing without loss (republish), WebSocket
    // connections (realtime), the Kugelpos web repositories (repositories), the breakers' health (health).
    name: 'features',
    paths: ['^lib/(subscriptions|republish|realtime|repositories|health)/'],
  },
  {
    // Composition: the Nest module and its definition, the feature and republisher modules, the
    // app-wide events object that gathers each feature's events, the object that gathers each
    // feature's metric names, and the public barrels (the main entry and `kugel-comms/kugelpos`).
    name: 'module',
    paths: [
      '^lib/kugel-comms[.]module[.]ts$',
      '^lib/kugel-comms[.]module-definition[.]ts$',
      '^lib/kugel-comms-feature[.]module[.]ts$',
      '^lib/kugel-comms[.]events[.]ts$',
      '^lib/metric-names[.]ts$',
      '^lib/index[.]ts$',
      '^lib/kugelpos/index[.]ts$',
    ],
  },
  {
    // The `kugel-comms/testing` entry: in-memory sidecar and peers for an app's own tests. It may
    // use anything below it; nothing of production imports it.
    name: 'testing',
    paths: ['^lib/testing/'],
  },
];

/** Features, one folder each; a feature uses the layers below it, not another feature. */
const FEATURES = ['subscriptions', 'republish', 'realtime', 'repositories', 'health'];

/**
 * Imports that break a rule and stay, each with its reason: `rule` is the rule's name, `from` and
 * `to` regular expressions on paths.
 */
const EXCEPTIONS = [];

const SPEC = '[.]spec[.]ts$';
const any = (paths) => paths.join('|');

/** The rule, less the imports its exceptions allow (each exception is one more rule, narrower). */
function withExceptions(rule) {
  const allowed = EXCEPTIONS.filter((e) => e.rule === rule.name);
  return [
    { ...rule, from: { ...rule.from, pathNot: [...[rule.from.pathNot ?? []].flat(), ...allowed.map((e) => e.from)] } },
    ...allowed.map((e) => ({ ...rule, from: { path: e.from }, to: { ...rule.to, pathNot: e.to } })),
  ];
}

function layerRules() {
  return LAYERS.slice(0, -1).map((layer, i) => ({
    name: `${layer.name}-imports-no-layer-above`,
    comment: `${layer.name} may import itself and ${LAYERS.slice(0, i).map((l) => l.name).join(', ') || 'nothing else'}; not ${LAYERS.slice(i + 1).map((l) => l.name).join(', ')}`,
    severity: 'error',
    from: { path: any(layer.paths), pathNot: SPEC },
    to: { path: any(LAYERS.slice(i + 1).flatMap((l) => l.paths)) },
  }));
}

function featureRules() {
  return FEATURES.map((feature) => {
    const others = FEATURES.filter((f) => f !== feature);
    return {
      name: `${feature}-imports-no-other-feature`,
      comment: `a feature does not import another feature (${feature}: not ${others.join(', ')})`,
      severity: 'error',
      from: { path: `^lib/${feature}/`, pathNot: SPEC },
      to: { path: `^lib/(${others.join('|')})/` },
    };
  });
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...[...layerRules(), ...featureRules()].flatMap(withExceptions),
    {
      name: 'circuit-breaker-imports-no-transport',
      comment: 'inside the pipeline, the breaker is plain TypeScript: the transport uses it, it knows no transport',
      severity: 'error',
      from: { path: '^lib/circuit-breaker/', pathNot: SPEC },
      to: { path: '^lib/transport/' },
    },
    {
      name: 'production-imports-no-testing',
      comment: 'production code never imports lib/testing (the kugel-comms/testing entry)',
      severity: 'error',
      from: { path: '^lib/', pathNot: ['^lib/testing/', SPEC] },
      to: { path: '^lib/testing/' },
    },
    {
      name: 'every-file-is-in-a-layer',
      comment: 'a new folder of lib/ gets its layer in LAYERS before it can be imported',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/', pathNot: any(LAYERS.flatMap((l) => l.paths)) },
    },
    {
      name: 'every-importing-file-is-in-a-layer',
      comment: 'a new folder of lib/ gets its layer in LAYERS before its files can import anything of lib/',
      severity: 'error',
      from: { path: '^lib/', pathNot: [...LAYERS.flatMap((l) => l.paths), SPEC] },
      to: { path: '^lib/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle between files of lib/',
      severity: 'error',
      from: { path: '^lib/', pathNot: SPEC },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves (a typo in a path fails here as well as in tsc)',
      severity: 'error',
      from: { path: '^lib/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Packages are leaves: their own imports are not followed.
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
