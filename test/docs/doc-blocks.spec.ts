import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// scripts/check-doc-blocks.mjs (npm run docs:check) type-checks the documentation's ```ts blocks.
// Here it runs on small markdown files of its own, against lib/ (--source), so that the spec does
// not depend on a build: it must go red on an option the module does not have and green on a
// correct block.
const repoRoot = resolve(__dirname, '../..');
const checker = join(repoRoot, 'scripts/check-doc-blocks.mjs');

function check(markdown: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kugel-doc-blocks-'));
  try {
    const file = join(dir, 'guide.md');
    writeFileSync(file, markdown);
    const run = spawnSync(process.execPath, [checker, '--source', file], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const moduleBlock = (httpOptions: string) =>
  [
    '# A guide',
    '',
    'Some text.',
    '',
    '```ts',
    "import { KugelCommsModule } from 'kugel-comms';",
    '',
    'export const root = KugelCommsModule.forRoot({',
    `  http: { ${httpOptions} },`,
    '});',
    '```',
    '',
  ].join('\n');

describe('the documentation check (scripts/check-doc-blocks.mjs)', () => {
  jest.setTimeout(120_000);

  it('goes red on a block that uses an option the module does not have, naming the line', () => {
    const { status, output } = check(moduleBlock('timeoutMillis: 5000'));
    expect(status).toBe(1);
    expect(output).toMatch(/guide\.md:9: .*'timeoutMillis' does not exist/);
    expect(output).toMatch(/1 checked .* 1 error\(s\)/);
  });

  it('is green on a correct block; a block marked partial and other languages are not checked', () => {
    const markdown = [
      moduleBlock('timeoutMs: 5000, maxSockets: 16'),
      '```ts partial',
      'constructor(private readonly dapr: DaprClientHelper) {} // a fragment of a class',
      '```',
      '',
      '```bash',
      'npm run docs:check',
      '```',
      '',
      'A statement block without an import uses the shared prelude:',
      '',
      '```ts',
      "const ok: boolean = await dapr.publishEvent('pubsub', 'orders', { id: 1 });",
      '```',
    ].join('\n');
    const { status, output } = check(markdown);
    expect(output).toMatch(/2 checked against lib\/, 1 partial \(not checked\), 0 error\(s\)/);
    expect(status).toBe(0);
  });

  it('goes red on a statement block whose call does not fit the API', () => {
    const { status, output } = check(
      ['```ts', "const n: number = await dapr.publishEvent('pubsub', 'orders', {});", '```'].join('\n'),
    );
    expect(status).toBe(1);
    expect(output).toMatch(/guide\.md:2: Type 'boolean' is not assignable to type 'number'/);
  });
});
