import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * The public surface, pinned: the exact names each entry of the package exports, values (what
 * `require()` returns) and types apart. A name added to or removed from an entry fails this test
 * on purpose: what users can import is a decision (it is kept, documented and deprecated before it
 * goes), not a side effect of an `export` line. When the change is meant, change the list here and
 * say so in CHANGELOG.md.
 */
const PINNED: Record<Entry, { values: string[]; types: string[] }> = {
  main: {
    values: [
      'BrokenCircuitError',
      'CircuitBreaker',
      'CircuitBreakerHealthIndicator',
      'CircuitBreakerRegistry',
      'CircuitState',
      'DaprClientHelper',
      'DaprSubscribe',
      'DeliveryStatusWebRepository',
      'DropEvent',
      'EventRepublishers',
      'GATEWAY_ERROR_FILTER_OPTIONS',
      'GatewayErrorFilter',
      'HttpClientError',
      'HttpClientHelper',
      'InjectHttpService',
      'InjectRepublisher',
      'InjectServiceClient',
      'InvalidOptionsError',
      'InvalidSubscriptionError',
      'ItemMasterWebRepository',
      'KugelCommsEvents',
      'KugelCommsMetrics',
      'KugelCommsModule',
      'METRIC_NAMES',
      'NotFoundError',
      'PaymentMasterWebRepository',
      'PubsubManager',
      'RealtimeClient',
      'RealtimeConnection',
      'RealtimeError',
      'RealtimeHealthIndicator',
      'RepositoryError',
      'RepublisherHealthIndicator',
      'ServiceClient',
      'ServiceTokenService',
      'SettingsMasterWebRepository',
      'StaffMasterWebRepository',
      'StateStoreManager',
      'StoreInfoWebRepository',
      'TerminalInfoWebRepository',
      'TranlogWebRepository',
      'apiKeyHeaders',
      'bearerHeaders',
      'gatewayAnswer',
      'getHttpServiceToken',
      'getRepublisherToken',
      'getServiceClientToken',
      'isBrokenCircuitError',
      'isDropEvent',
      'isHttpClientError',
      'isInvalidOptionsError',
      'isInvalidSubscriptionError',
      'isNotFoundError',
      'isRealtimeError',
      'isRepositoryError',
      'pathOf',
    ],
    types: [
      'BackoffOptions',
      'BulkHandlerResult',
      'BulkPublishEntry',
      'BulkPublishResult',
      'CircuitBreakerOptions',
      'CircuitStateChange',
      'ClaimSettledEvent',
      'DaprEvent',
      'DaprEventStatus',
      'DaprOptions',
      'DaprResult',
      'DaprSubscribeOptions',
      'DeleteStateOptions',
      'EventHandledEvent',
      'EventReceivedEvent',
      'EventRepublisher',
      'EventTransaction',
      'GatewayErrorFilterOptions',
      'GetStateOptions',
      'HttpOptions',
      'HttpResponse',
      'KugelCommsModuleOptions',
      'PublishOptions',
      'RealtimeClosedEvent',
      'RealtimeConnectOptions',
      'RealtimeMessage',
      'RealtimeMessageEvent',
      'RealtimeOpenedEvent',
      'RealtimeOptions',
      'RealtimeReconnectEvent',
      'RealtimeSendFailedEvent',
      'RealtimeState',
      'RepublishSource',
      'RepublisherAsyncOptions',
      'RepublisherOptions',
      'RepublisherStatus',
      'RequestCompletedEvent',
      'RequestConfig',
      'RequestOptions',
      'RetryBudgetExhaustedEvent',
      'RetryScheduledEvent',
      'SaveStateOptions',
      'ServiceOptions',
      'StateTransactionOperation',
      'SubscriptionOptions',
      'TerminalContext',
      'UndeliveredEvent',
      'UndeliveredQuery',
      'UndeliveredStats',
      'Unsubscribe',
    ],
  },
  testing: {
    values: [
      'InMemoryDapr',
      'InMemoryRepublishSource',
      'KugelCommsTesting',
      'KugelCommsTestingModule',
      'TestingBreakers',
    ],
    types: [
      'DeliveryFault',
      'DeliveryOutcome',
      'DeliveryRecord',
      'FaultOptions',
      'InMemoryFault',
      'InMemorySidecarOptions',
      'KugelCommsTestingOptions',
      'PeerStub',
      'PublishedMessage',
      'StateStoreKind',
      'StubReply',
      'StubRequest',
      'TestEventOptions',
    ],
  },
  kugelpos: {
    values: ['applyDeliveryCallback', 'pendingConsumers', 'rollUpDeliveryStatus', 'terminalAuth'],
    types: [
      'ApiEnvelope',
      'CallbackRefusal',
      'ConsumerDelivery',
      'ConsumerStatus',
      'DeliveryAck',
      'DeliveryCallback',
      'DeliveryCallbackStatus',
      'DeliveryNotice',
      'DeliveryStatus',
      'EnvelopeMetadata',
      'ItemMasterDocument',
      'PaginatedResult',
      'PaymentMasterDocument',
      'PublishOutcome',
      'SettingValue',
      'SettingsMasterDocument',
      'SettingsValue',
      'StaffMasterDocument',
      'StateReadResult',
      'StoreInfoDocument',
      'TerminalCredentials',
      'TerminalInfoDocument',
      'TerminalLogOrigin',
      'TerminalStaff',
      'TranlogOrigin',
      'TranlogQuery',
      'TransactionDiscount',
      'TransactionDocument',
      'TransactionLineItem',
      'TransactionPayment',
      'TransactionStaff',
      'TransactionStatus',
      'TransactionTax',
    ],
  },
};

type Entry = 'main' | 'testing' | 'kugelpos';

const ENTRIES: Record<Entry, { subpath: string; file: string }> = {
  main: { subpath: 'kugel-comms', file: 'lib/index.ts' },
  testing: { subpath: 'kugel-comms/testing', file: 'lib/testing/index.ts' },
  kugelpos: { subpath: 'kugel-comms/kugelpos', file: 'lib/kugelpos/index.ts' },
};

const ROOT = path.join(__dirname, '..', '..');

/** Every name an entry exports (values and types), as the compiler sees the source entry. */
function exportedNames(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(
    files.map((f) => path.join(ROOT, f)),
    { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, experimentalDecorators: true, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const names = new Map<string, string[]>();
  for (const file of files) {
    const source = program.getSourceFile(path.join(ROOT, file));
    const symbol = source && checker.getSymbolAtLocation(source);
    if (!symbol) throw new Error(`${file}: not a module`);
    names.set(
      file,
      checker
        .getExportsOfModule(symbol)
        .map((s) => s.getName())
        .sort(),
    );
  }
  return names;
}

/** The difference, worded for whoever changed the entry. */
function drift(entry: Entry, kind: 'values' | 'types', actual: string[], pinned: string[]): string[] {
  const added = actual.filter((n) => !pinned.includes(n));
  const removed = pinned.filter((n) => !actual.includes(n));
  const problems: string[] = [];
  const where = `${ENTRIES[entry].subpath} (${ENTRIES[entry].file})`;
  if (added.length > 0) problems.push(`${where} now exports ${kind} not in the pinned list: ${added.join(', ')}`);
  if (removed.length > 0) problems.push(`${where} no longer exports pinned ${kind}: ${removed.join(', ')}`);
  return problems;
}

const GROWTH_IS_A_DECISION =
  'The public surface changed. Growing (or shrinking) what users can import is a decision, not a side ' +
  'effect: if it is meant, update the list in test/surface/exports.spec.ts and write it in CHANGELOG.md ' +
  '(a removed name is deprecated for a minor version first); otherwise, take the export out again.';

describe('the exported names of each entry (pinned)', () => {
  let compiled: Map<string, string[]>;
  beforeAll(() => {
    compiled = exportedNames(Object.values(ENTRIES).map((e) => e.file));
  }, 60_000);

  it.each(Object.keys(ENTRIES) as Entry[])('%s: exactly the pinned values and types', (entry) => {
    const all = compiled.get(ENTRIES[entry].file) ?? [];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const values = Object.keys(require(path.join(ROOT, ENTRIES[entry].file)) as object)
      .filter((n) => n !== '__esModule')
      .sort();
    const types = all.filter((n) => !values.includes(n));
    const problems = [
      ...drift(entry, 'values', values, PINNED[entry].values),
      ...drift(entry, 'types', types, PINNED[entry].types),
    ];
    if (problems.length > 0) throw new Error(`${problems.join('\n')}\n\n${GROWTH_IS_A_DECISION}`);
  });

  it('the main entry stays about a hundred names', () => {
    const main = PINNED.main.values.length + PINNED.main.types.length;
    expect(main).toBeLessThanOrEqual(110);
  });
});
