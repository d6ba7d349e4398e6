import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * `npm pack` (and `npm publish`) on a checkout that was never built: package.json's `prepack`
 * builds first, so the tarball holds the library, not just the README and package.json.
 */
describe('npm pack without a build', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-pack-'));
    // What a fresh clone has for the package: the sources, no dist/.
    for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'lib', 'scripts', 'README.md']) {
      fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds the library first (prepack): the tarball has the CommonJS and ESM entries and the types', () => {
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, stdio: 'ignore' });
    const [tarball] = fs.readdirSync(out);
    const files = execFileSync('tar', ['-tzf', path.join(out, tarball)], { encoding: 'utf8' }).split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/lib/index.js',
        'package/dist/lib/index.mjs',
        'package/dist/lib/index.d.ts',
        'package/dist/lib/testing/index.js',
        'package/dist/lib/kugelpos/index.js',
        'package/dist/lib/kugelpos/index.mjs',
      ]),
    );
  }, 120_000);
});
