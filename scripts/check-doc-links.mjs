#!/usr/bin/env node
// Checks the relative links of the documentation: the file exists, and an anchor (`file.md#part`,
// `#part`) names a heading of that markdown file, as GitHub makes anchors from headings.
//
//   node scripts/check-doc-links.mjs              README.md and docs/*.md
//   node scripts/check-doc-links.mjs a.md b.md    those files only
//
// Links to other sites (`https:`, `mailto:`) are not followed. Exit code 1 on a broken link, each
// reported as file:line of the markdown.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
/** The markdown files named on the command line, or README.md and every docs/*.md. */
export function docFiles(argv) {
  const named = argv.filter((a) => !a.startsWith('--'));
  if (named.length > 0) return named;
  const docs = fs
    .readdirSync(path.join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.join(repoRoot, 'docs', f));
  return [path.join(repoRoot, 'README.md'), ...docs];
}

export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Lines outside code fences, with their 1-based numbers. */
function proseLines(markdown) {
  const out = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (!fenced) out.push({ line, number: i + 1 });
  });
  return out;
}

const anchorCache = new Map();
function anchorsOf(file) {
  if (!anchorCache.has(file)) {
    const seen = new Map();
    const anchors = new Set();
    for (const { line } of proseLines(fs.readFileSync(file, 'utf8'))) {
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (!heading) continue;
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    anchorCache.set(file, anchors);
  }
  return anchorCache.get(file);
}

/** Broken relative links of `files`: [{ file, line, target, why }]. */
export function checkDocLinks(files) {
  const broken = [];
  for (const file of files) {
    for (const { line, number } of proseLines(fs.readFileSync(file, 'utf8'))) {
      const text = line.replace(/`[^`]*`/g, ''); // inline code is not a link
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [filePart, anchor] = target.split('#');
        const resolved = filePart ? path.resolve(path.dirname(file), filePart) : file;
        let why;
        if (!fs.existsSync(resolved)) why = 'no such file';
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor))
          why = `no heading makes the anchor #${anchor}`;
        if (why) broken.push({ file: path.relative(process.cwd(), file), line: number, target, why });
      }
    }
  }
  return broken;
}

function main(argv) {
  const files = docFiles(argv);
  const broken = checkDocLinks(files.map((f) => path.resolve(f)));
  for (const b of broken) console.error(`${b.file}:${b.line}: (${b.target}) ${b.why}`);
  console.log(`doc links: ${broken.length} broken, in ${files.length} file(s)`);
  return broken.length === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
