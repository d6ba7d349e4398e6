import { loadAll } from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CARTSTORE } from '../../sample-app/cart/cart.store';
import { ReportConsumer } from '../../sample-app/report/report.consumer';
import { TRANLOG_PUBSUB, TRANLOG_TOPIC } from '../../sample-app/shared/tranlog';
import { DAPR_SUBSCRIBE_METADATA, DaprSubscribeDeclaration } from '../../lib/subscriptions/dapr-subscribe.decorator';
import { IN_PLACE_REDELIVERY } from '../../lib/subscriptions/delivery-limit';

/**
 * The sample's production parts (`SAMPLE_PARTS=production npm run sample`): the component files of
 * sample-app/components-production against the Redis ones in sample-app/components. The app code
 * is the same on both, so the same files must declare the same components, under the same names,
 * for the same app ids; only the kinds and their metadata differ.
 */
const ROOT = resolve(__dirname, '../..');
const REDIS_DIR = join(ROOT, 'sample-app/components');
const PRODUCTION_DIR = join(ROOT, 'sample-app/components-production');

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    type?: string;
    version?: string;
    metadata?: Array<{ name: string; value: string }>;
    targets?: { components?: Record<string, unknown> };
  };
  scopes?: string[];
}

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const docsOf = (dir: string) =>
  yamlFiles(dir).flatMap((file) =>
    (loadAll(readFileSync(join(dir, file), 'utf8')) as Doc[]).filter(Boolean).map((doc) => ({ file, doc })),
  );
const redis = docsOf(REDIS_DIR);
const production = docsOf(PRODUCTION_DIR);
const byName = (docs: typeof redis) => new Map(docs.map(({ doc }) => [doc.metadata.name, doc]));
const meta = (doc: Doc | undefined, name: string) => doc?.spec.metadata?.find((m) => m.name === name)?.value;

describe('sample-app/components-production: the sample on PostgreSQL and Kafka', () => {
  it('has the files, kinds, names and scopes of sample-app/components', () => {
    expect(yamlFiles(PRODUCTION_DIR)).toEqual(yamlFiles(REDIS_DIR));
    const shape = (docs: typeof redis) =>
      docs
        .map(({ file, doc }) => ({ file, kind: doc.kind, name: doc.metadata.name, scopes: doc.scopes ?? [] }))
        .sort((a, b) => a.name.localeCompare(b.name));
    expect(shape(production)).toEqual(shape(redis));
    expect(production.map(({ doc }) => doc.metadata.name)).toEqual(
      expect.arrayContaining([CARTSTORE, 'statestore', TRANLOG_PUBSUB]),
    );
  });

  it('keeps the state on state.postgresql v2, each store in its own table, and the pub/sub on Kafka', () => {
    const components = byName(production);
    for (const store of [CARTSTORE, 'statestore']) {
      const c = components.get(store);
      expect({ store, type: c?.spec.type, version: c?.spec.version }).toEqual({
        store,
        type: 'state.postgresql',
        version: 'v2',
      });
      expect(meta(c, 'connectionString')).toBe('__POSTGRES_CONNECTION__');
    }
    expect(meta(components.get(CARTSTORE), 'tablePrefix')).not.toBe(meta(components.get('statestore'), 'tablePrefix'));

    const pubsub = components.get(TRANLOG_PUBSUB);
    expect({ type: pubsub?.spec.type, version: pubsub?.spec.version }).toEqual({ type: 'pubsub.kafka', version: 'v1' });
    // Every app id its own consumer group (each gets every log, as with Redis Streams' groups), read
    // from the start of the topic when the group is new.
    expect(meta(pubsub, 'brokers')).toBe('__KAFKA_BROKERS__');
    expect(meta(pubsub, 'consumerGroup')).toBe('{appID}');
    expect(meta(pubsub, 'initialOffset')).toBe('oldest');
  });

  it('gives the same inbound retry policy to the pub/sub, by its name', () => {
    const policy = (docs: typeof redis) => docs.find(({ doc }) => doc.kind === 'Resiliency')?.doc.spec;
    expect(Object.keys(policy(production)?.targets?.components ?? {})).toEqual([TRANLOG_PUBSUB]);
    expect(policy(production)).toEqual(policy(redis));
  });

  it("bounds the report's deliveries on Kafka: its subscription has a dead-letter topic", () => {
    // Kafka redelivers a RETRY in place and holds the partition: with a dead-letter topic, the
    // library's maxDeliveries ('broker', the default) turns the 10th failed delivery into DROP.
    expect(IN_PLACE_REDELIVERY.has(byName(production).get(TRANLOG_PUBSUB)?.spec.type ?? '')).toBe(true);
    const declarations: DaprSubscribeDeclaration[] =
      Reflect.getMetadata(DAPR_SUBSCRIBE_METADATA, ReportConsumer.prototype.onTranlog) ?? [];
    const tranlog = declarations.find((d) => d.pubsub === TRANLOG_PUBSUB && d.topic === TRANLOG_TOPIC);
    expect(tranlog?.options.deadLetterTopic).toEqual(expect.any(String));
    expect(tranlog?.options.maxDeliveries ?? 'broker').toBe('broker');
  });

  it('fills in every placeholder the files use, in run.sh', () => {
    const script = readFileSync(join(ROOT, 'sample-app/run.sh'), 'utf8');
    expect(script).toContain('production) COMPONENTS=sample-app/components-production');
    const substituted = new Set([...script.matchAll(/-e "s\/(__[A-Z_]+__)\//g)].map((m) => m[1]));
    for (const dir of [REDIS_DIR, PRODUCTION_DIR]) {
      for (const file of yamlFiles(dir)) {
        for (const [placeholder] of readFileSync(join(dir, file), 'utf8').matchAll(/__[A-Z_]+__/g)) {
          expect({ file, placeholder, substituted: substituted.has(placeholder) }).toEqual({
            file,
            placeholder,
            substituted: true,
          });
        }
      }
    }
  });
});
