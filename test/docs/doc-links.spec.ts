import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// scripts/check-doc-links.mjs (part of npm run docs:check): a relative link must name a file that
// exists and, with an anchor, a heading of that file.
const checker = join(resolve(__dirname, '../..'), 'scripts/check-doc-links.mjs');

function check(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kugel-doc-links-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const run = spawnSync(process.execPath, [checker, ...Object.keys(files).map((f) => join(dir, f))], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const guide = "# Guide\n\n## At the caller's edge: gateway statuses\n\n### Shutdown\n";

describe('the documentation link check (scripts/check-doc-links.mjs)', () => {
  it('is green when every file and anchor exists; other sites, inline code and code blocks are not followed', () => {
    const readme = [
      '# Readme',
      '',
      'See [the filter](guide.md#at-the-callers-edge-gateway-statuses), [shutdown](guide.md#shutdown) and [below](#readme).',
      'Elsewhere: [Dapr](https://docs.dapr.io/), `[not a link](#nowhere)`.',
      '',
      '```md',
      '[inside a code block](#nowhere)',
      '```',
    ].join('\n');
    const { status, output } = check({ 'README.md': readme, 'guide.md': guide });
    expect(output).toContain('doc links: 0 broken, in 2 file(s)');
    expect(status).toBe(0);
  });

  it('goes red on a heading that was renamed and on a file that was moved, naming the line', () => {
    const readme = [
      '# Readme',
      '',
      'See [the filter](guide.md#gateway-statuses).',
      '',
      'And [testing](testing.md).',
    ].join('\n');
    const { status, output } = check({ 'README.md': readme, 'guide.md': guide });
    expect(status).toBe(1);
    expect(output).toMatch(/README\.md:3: \(guide\.md#gateway-statuses\) no heading makes the anchor/);
    expect(output).toMatch(/README\.md:5: \(testing\.md\) no such file/);
  });
});
