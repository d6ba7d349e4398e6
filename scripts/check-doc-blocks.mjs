#!/usr/bin/env node
// Type-checks every ```ts block of the documentation against the package as users import it.
//
//   node scripts/check-doc-blocks.mjs                  README.md and docs/*.md, against dist/ (npm run build)
//   node scripts/check-doc-blocks.mjs a.md b.md        those files only
//   node scripts/check-doc-blocks.mjs --source a.md    against lib/ instead of dist/ (no build needed)
//
// Rules for a block:
// - ```ts with an import: a module of its own, checked as it is.
// - ```ts without an import: checked after the shared prelude (scripts/doc-blocks.prelude.ts:
//   `KugelCommsModule` and the injected `dapr` and `client`). Blocks are ES modules, so `await`
//   works at their top level.
//   A block that starts an app may import `{ AppModule } from './app.module'` (an empty module).
// - ```ts partial: deliberately incomplete (an outline with `...`, a fragment of a class); not checked.
// `kugel-comms`, `kugel-comms/testing` and `kugel-comms/kugelpos` resolve to the built declarations
// (dist/lib/index.d.ts and the subpaths' index.d.ts), so a renamed option or export turns a block red.
// All blocks are one TypeScript program (one compiler run). Exit code 1 on any error, each
// reported as file:line of the markdown.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { docFiles } from './check-doc-links.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'package.json'));
const ts = require('typescript');

const FENCE = /^(\s*)```+\s*(\S*)(.*)$/;

/** The ```ts blocks of one markdown text: { lang, info, code, line (1-based, first code line) }. */
export function extractBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, lang, rest] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```+\s*$/.test(lines[j])) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
      j++;
    }
    if (lang === 'ts' || lang === 'typescript') {
      blocks.push({ info: rest.trim(), code: body.join('\n'), line: i + 2 });
    }
    i = j;
  }
  return blocks;
}

const hasImport = (code) => /^\s*import\s/m.test(code);

/**
 * Checks the blocks of `files`; returns { checked, skipped, errors: [{ file, line, message }] }.
 * `against`: 'dist' (the built package) or 'source' (lib/ as it is).
 */
export function checkDocBlocks(files, { against = 'dist' } = {}) {
  const target =
    against === 'source'
      ? {
          main: path.join(repoRoot, 'lib/index.ts'),
          testing: path.join(repoRoot, 'lib/testing/index.ts'),
          kugelpos: path.join(repoRoot, 'lib/kugelpos/index.ts'),
        }
      : {
          main: path.join(repoRoot, 'dist/lib/index.d.ts'),
          testing: path.join(repoRoot, 'dist/lib/testing/index.d.ts'),
          kugelpos: path.join(repoRoot, 'dist/lib/kugelpos/index.d.ts'),
        };
  for (const entry of Object.values(target)) {
    if (!fs.existsSync(entry)) throw new Error(`${path.relative(repoRoot, entry)} is missing: run npm run build first`);
  }
  // Inside the repository, so that the blocks' own imports (@nestjs/common, rxjs, ...) resolve to
  // its node_modules as they would in an app.
  fs.mkdirSync(path.join(repoRoot, '.tmp'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(repoRoot, '.tmp', 'doc-blocks-'));
  const prelude = fs.readFileSync(path.join(repoRoot, 'scripts/doc-blocks.prelude.ts'), 'utf8');
  const preludeLines = prelude.split('\n').length;
  const sources = new Map(); // temp file → { file, line, offset }
  let skipped = 0;
  try {
    // What a `main.ts` block imports from its app: `import { AppModule } from './app.module'`.
    fs.writeFileSync(
      path.join(dir, 'app.module.ts'),
      "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AppModule {}\n",
    );
    files.forEach((file, f) => {
      extractBlocks(fs.readFileSync(file, 'utf8')).forEach((block, b) => {
        if (/\bpartial\b/.test(block.info)) {
          skipped++;
          return;
        }
        const name = path.join(dir, `f${f}-b${b}.ts`);
        let text;
        let offset; // lines in the temp file before the block's first line
        if (hasImport(block.code)) {
          text = `${block.code}\nexport {};\n`;
          offset = 0;
        } else {
          text = `${prelude}\n${block.code}\nexport {};\n`;
          offset = preludeLines;
        }
        fs.writeFileSync(name, text);
        sources.set(name, { file, line: block.line, offset });
      });
    });
    const options = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      module: ts.ModuleKind.ES2022,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node', 'jest'],
      typeRoots: [path.join(repoRoot, 'node_modules/@types')],
      paths: {
        'kugel-comms': [target.main],
        'kugel-comms/testing': [target.testing],
        'kugel-comms/kugelpos': [target.kugelpos],
      },
    };
    const program = ts.createProgram([...sources.keys()], options);
    const errors = [];
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      const where = d.file && sources.get(path.resolve(d.file.fileName));
      if (!where) {
        errors.push({ file: d.file ? d.file.fileName : '(program)', line: 0, message });
        continue;
      }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      const inBlock = line - where.offset;
      errors.push({
        file: path.relative(process.cwd(), where.file),
        line: inBlock >= 0 ? where.line + inBlock : where.line - 1,
        message: inBlock >= 0 ? message : `(in the prelude, line ${line + 1}) ${message}`,
      });
    }
    return { checked: sources.size, skipped, errors };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(argv) {
  const against = argv.includes('--source') ? 'source' : 'dist';
  const files = docFiles(argv);
  const started = Date.now();
  const { checked, skipped, errors } = checkDocBlocks(files, { against });
  for (const e of errors) console.error(`${e.file}:${e.line}: ${e.message}`);
  const took = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `doc blocks: ${checked} checked against ${against === 'source' ? 'lib/' : 'dist/'}, ${skipped} partial (not checked), ` +
      `${errors.length} error(s), in ${files.length} file(s), ${took} s`,
  );
  return errors.length === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(`doc blocks: ${error.message}`);
    process.exitCode = 2;
  }
}
