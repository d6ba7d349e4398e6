import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { loadAll } from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CARTSTORE } from '../../sample-app/cart/cart.store';
import { PEER_HEALTH_PATHS, startMasterDataPeer } from '../../sample-app/peer/master-data.peer';
import { TRANLOG_PUBSUB } from '../../sample-app/shared/tranlog';

/**
 * The Kubernetes manifests of the sample (deploy/kubernetes) against the sample's own
 * configuration, read from its sources: each Deployment's port from its entry file's
 * `process.env.X ?? port`, the app ids and their ports from run.sh's sidecars, the probe paths from
 * the routes the app's Nest modules declare (the peer's from its own list, and asked), the Dapr
 * components from sample-app/components.
 */
const ROOT = resolve(__dirname, '../..');
const DEPLOY = join(ROOT, 'deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: any;
  scopes?: string[];
}
interface Container {
  name: string;
  command: string[];
  ports: Array<{ containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  livenessProbe?: { httpGet?: { path: string; port: number } };
  readinessProbe?: { httpGet?: { path: string; port: number } };
  startupProbe?: { httpGet?: { path: string; port: number } };
}

const read = (path: string) => readFileSync(path, 'utf8');
const yamlDocs = (path: string) => (loadAll(read(path)) as Manifest[]).filter(Boolean);

const kustomization = yamlDocs(join(DEPLOY, 'kustomization.yaml'))[0] as unknown as { resources: string[] };
const manifests = kustomization.resources.flatMap((file) => yamlDocs(join(DEPLOY, file)));
const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployments = ofKind('Deployment');
const services = ofKind('Service');
/** The sample's services: the Deployments that run a file of sample-app. */
const sampleDeployments = deployments.filter((d) => entryOf(d) !== undefined);

function containerOf(d: Manifest): Container {
  return d.spec.template.spec.containers[0] as Container;
}
function entryOf(d: Manifest): string | undefined {
  return containerOf(d).command?.find((arg) => /^sample-app\/.+\.ts$/.test(arg));
}
function annotationsOf(d: Manifest): Record<string, string> {
  return d.spec.template.metadata.annotations ?? {};
}
const daprEnabled = (d: Manifest) => annotationsOf(d)['dapr.io/enabled'] === 'true';

/** The port the entry file listens on by default, and the variable that changes it. */
function listenOf(entry: string): { variable: string; port: number } {
  const found = /Number\(process\.env\.(\w+) \?\? (\d+)\)/.exec(read(join(ROOT, entry)));
  if (!found) throw new Error(`${entry}: no "Number(process.env.X ?? port)"`);
  return { variable: found[1], port: Number(found[2]) };
}

/** run.sh's sidecars: app id → the port daprd calls the app on (run.sh's default of that variable). */
function sidecarsOfRunScript(): Map<string, number> {
  const script = read(join(ROOT, 'sample-app/run.sh'));
  const sidecars = new Map<string, number>();
  for (const line of script.matchAll(/^write_sidecar (\S+) (\S+) (.*)$/gm)) {
    // name app-id http-port grpc-port internal-grpc-port app-port; a line ending in \ goes on below
    const next = script.slice((line.index ?? 0) + line[0].length + 1).split('\n')[0];
    const rest = line[3].endsWith('\\') ? `${line[3]} ${next}` : line[3];
    const args = rest.match(/"[^"]*"/g) ?? [];
    const appPortVariable = /^"\$(\w+)"$/.exec(args[3] ?? '')?.[1];
    const fallback =
      appPortVariable && new RegExp(`^${appPortVariable}="\\$\\{${appPortVariable}:-(\\d+)\\}"`, 'm').exec(script);
    if (!fallback) throw new Error(`run.sh: the app port of sidecar ${line[2]} is not a variable with a default`);
    sidecars.set(line[2], Number(fallback[1]));
  }
  return sidecars;
}

/** The GET routes of a Nest module and of the modules it imports. */
function getRoutesOf(root: Type): Set<string> {
  const routes = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (entry: unknown): void => {
    const moduleClass = typeof entry === 'function' ? entry : (entry as { module?: unknown } | undefined)?.module;
    if (typeof moduleClass !== 'function' || seen.has(entry)) return;
    seen.add(entry);
    const dynamic = typeof entry === 'function' ? {} : (entry as { imports?: unknown[]; controllers?: Type[] });
    const controllers: Type[] = [
      ...(Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, moduleClass) ?? []),
      ...(dynamic.controllers ?? []),
    ];
    for (const controller of controllers) {
      const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) !== RequestMethod.GET) {
          continue;
        }
        const path = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        routes.add(`/${[prefix, path].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'));
      }
    }
    [...(Reflect.getMetadata(MODULE_METADATA.IMPORTS, moduleClass) ?? []), ...(dynamic.imports ?? [])].forEach(visit);
  };
  visit(root);
  return routes;
}

/** The GET routes of the app an entry file starts: its Nest module's, or the peer's list. */
function routesOfEntry(entry: string): Set<string> {
  const source = read(join(ROOT, entry));
  const created = /NestFactory\.create\((\w+)/.exec(source);
  if (!created) return new Set(PEER_HEALTH_PATHS);
  const from = new RegExp(`import \\{[^}]*\\b${created[1]}\\b[^}]*\\} from '([^']+)'`).exec(source);
  if (!from) throw new Error(`${entry}: where ${created[1]} comes from`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const moduleClass = require(resolve(ROOT, dirname(entry), from[1]))[created[1]] as Type;
  return getRoutesOf(moduleClass);
}

describe('deploy/kubernetes: the sample on Kubernetes', () => {
  it('lists every manifest of the folder in its kustomization', () => {
    const files = ['.', 'components']
      .flatMap((dir) => readdirSync(join(DEPLOY, dir)).map((f) => join(dir, f)))
      .filter((f) => f.endsWith('.yaml') && basename(f) !== 'kustomization.yaml')
      .map((f) => f.replace(/^\.\//, ''));
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('runs cart, report, stock and master-data, each with a Service on the port its entry file listens on', () => {
    expect(sampleDeployments.map((d) => d.metadata.name).sort()).toEqual(['cart', 'master-data', 'report', 'stock']);
    for (const d of sampleDeployments) {
      const container = containerOf(d);
      const { variable, port } = listenOf(entryOf(d)!);
      const context = `${d.metadata.name} (${entryOf(d)}: ${variable} ?? ${port})`;
      expect({ context, ports: container.ports.map((p) => p.containerPort) }).toEqual({ context, ports: [port] });
      const set = container.env?.find((e) => e.name === variable);
      if (set) expect({ context, [variable]: set.value }).toEqual({ context, [variable]: String(port) });
      // A kubelet's probe reaches the pod's IP: every service listens on all interfaces.
      expect({ context, HOST: container.env?.find((e) => e.name === 'HOST')?.value }).toEqual({
        context,
        HOST: '0.0.0.0',
      });
      const service = services.find((s) => s.metadata.name === d.metadata.name);
      expect({ context, service: service?.spec.ports }).toEqual({
        context,
        service: [expect.objectContaining({ port, targetPort: port })],
      });
      expect(service?.spec.selector).toEqual(d.spec.selector.matchLabels);
    }
  });

  it('gives a sidecar to the apps run.sh gives one, with their app ids and app ports', () => {
    const sidecars = sidecarsOfRunScript();
    expect([...sidecars.keys()].sort()).toEqual(['cart', 'report']);
    const withDapr = sampleDeployments.filter(daprEnabled);
    expect(withDapr.map((d) => annotationsOf(d)['dapr.io/app-id']).sort()).toEqual([...sidecars.keys()].sort());
    for (const d of withDapr) {
      const a = annotationsOf(d);
      const appPort = sidecars.get(a['dapr.io/app-id']);
      expect({ appId: a['dapr.io/app-id'], appPort: a['dapr.io/app-port'] }).toEqual({
        appId: a['dapr.io/app-id'],
        appPort: String(appPort),
      });
      expect(containerOf(d).ports[0].containerPort).toBe(appPort);
      expect(a['dapr.io/app-protocol']).toBe('http');
    }
  });

  it('probes the routes the apps serve: live for startup and liveness, ready for readiness', () => {
    for (const d of sampleDeployments) {
      const container = containerOf(d);
      const port = container.ports[0].containerPort;
      const routes = routesOfEntry(entryOf(d)!);
      const probes = {
        startup: container.startupProbe?.httpGet,
        liveness: container.livenessProbe?.httpGet,
        readiness: container.readinessProbe?.httpGet,
      };
      expect({ app: d.metadata.name, probes }).toEqual({
        app: d.metadata.name,
        probes: {
          startup: { path: '/health/live', port },
          liveness: { path: '/health/live', port },
          readiness: { path: '/health/ready', port },
        },
      });
      const probed = [probes.liveness!.path, probes.readiness!.path];
      if (daprEnabled(d)) probed.push(annotationsOf(d)['dapr.io/app-health-check-path']);
      for (const path of probed)
        expect({ app: d.metadata.name, path, served: routes.has(path) }).toMatchObject({ served: true });
    }
  });

  it("the peer's probe routes answer 200 without a credential", async () => {
    const peer = await startMasterDataPeer(0);
    try {
      for (const path of PEER_HEALTH_PATHS) {
        const res = await fetch(`${peer.url}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
      }
    } finally {
      await peer.close();
    }
  });

  it("leaves the sidecar and the app time to shut down (docs/operations.md's shutdown settings)", () => {
    for (const d of sampleDeployments.filter(daprEnabled)) {
      const a = annotationsOf(d);
      const block = /^(\d+)s$/.exec(a['dapr.io/block-shutdown-duration'] ?? '');
      const graceful = Number(a['dapr.io/graceful-shutdown-seconds']);
      expect({ app: d.metadata.name, block: block?.[0], graceful }).toEqual({
        app: d.metadata.name,
        block: expect.any(String),
        graceful: expect.any(Number),
      });
      expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(block![1]) + graceful);
      expect(a['dapr.io/enable-app-health-check']).toBe('true');
    }
  });

  it('has the Dapr components of sample-app/components, on the Redis Service', () => {
    const sampleDir = join(ROOT, 'sample-app/components');
    const names: string[] = [];
    for (const file of readdirSync(sampleDir).filter((f) => f.endsWith('.yaml'))) {
      const deployed = yamlDocs(join(DEPLOY, 'components', file));
      const host = deployed
        .flatMap((m) => (m.spec.metadata ?? []) as Array<{ name: string; value: string }>)
        .find((m) => m.name === 'redisHost')?.value;
      const sample = yamlDocs(join(sampleDir, file)).map((m) =>
        host === undefined ? m : (JSON.parse(JSON.stringify(m).replace(/__REDIS_HOST__/g, host)) as Manifest),
      );
      expect({ file, deployed }).toEqual({ file, deployed: sample });
      if (host !== undefined) {
        const [name, port] = host.split(':');
        expect(services.find((s) => s.metadata.name === name)?.spec.ports[0].port).toBe(Number(port));
      }
      names.push(...deployed.map((m) => m.metadata.name));
    }
    expect(names).toEqual(expect.arrayContaining([CARTSTORE, TRANLOG_PUBSUB, 'statestore']));
    const appIds = sampleDeployments.filter(daprEnabled).map((d) => annotationsOf(d)['dapr.io/app-id']);
    for (const c of ofKind('Component')) expect(appIds).toEqual(expect.arrayContaining(c.scopes ?? []));
  });

  it('points every service URL at a Service and its port, and takes credentials from a Secret only', () => {
    for (const d of sampleDeployments) {
      for (const e of containerOf(d).env ?? []) {
        const url = /^http:\/\/([a-z0-9-]+):(\d+)\//.exec(e.value ?? '');
        if (url) {
          const service = services.find((s) => s.metadata.name === url[1]);
          expect({ env: e.name, port: service?.spec.ports[0].port }).toEqual({ env: e.name, port: Number(url[2]) });
        }
        if (/SECRET|API_KEY|TOKEN/.test(e.name)) {
          expect({ env: e.name, value: e.value, from: e.valueFrom }).toEqual({
            env: e.name,
            value: undefined,
            from: { secretKeyRef: expect.objectContaining({ key: e.name }) },
          });
        }
      }
    }
  });
});
