/**
 * Every relative link in README.md, docs/**\/*.md and the model cards points to a file or folder
 * that exists, and a `#fragment` into a markdown file names one of its headings (GitHub's anchor
 * rules). Reads files only: fast enough for `npm test`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** Markdown files whose links are checked. */
function markdownFiles(): string[] {
  const found = [join(root, 'README.md')];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.md')) found.push(full);
    }
  };
  walk(join(root, 'docs'));
  for (const model of readdirSync(join(root, 'models'))) {
    const card = join(root, 'models', model, 'README.md');
    if (existsSync(card)) found.push(card);
  }
  return found;
}

/** The text outside fenced code blocks and inline code spans, where a `[x](y)` is a link. */
function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Targets of inline links and images (`[text](target)`, `![alt](target "title")`). */
function linkTargets(markdown: string): string[] {
  return [...proseOf(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The broken relative links of one markdown file, as `target: why`. */
function brokenLinks(file: string, markdown: string): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [path = '', fragment] = target.split('#', 2);
    const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(resolved)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (fragment && resolved.endsWith('.md') && statSync(resolved).isFile()) {
      const text = resolved === file ? markdown : readFileSync(resolved, 'utf8');
      if (!headingAnchors(text).has(fragment)) broken.push(`${target}: no heading #${fragment}`);
    }
  }
  return broken;
}

describe('documentation links', () => {
  it('finds broken files and anchors, and ignores links inside code', () => {
    const file = join(root, 'docs', 'README.md');
    const sample = [
      '# Title',
      '## A `code` heading: yes?',
      '[ok](../README.md) [self](#a-code-heading-yes) [gone](missing.md) [bad anchor](../README.md#no-such-heading)',
      '`[not a link](nowhere.md)`',
      '```',
      '[not a link either](nowhere.md)',
      '```',
    ].join('\n');
    expect(brokenLinks(file, sample)).toEqual(['missing.md: no such file', '../README.md#no-such-heading: no heading #no-such-heading']);
  });

  const files = markdownFiles();
  it('checks the README, the docs and the model cards', () => {
    expect(files.map((f) => relative(root, f))).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'models/msdnet-cifar10/README.md']));
  });

  for (const file of files) {
    it(`${relative(root, file)}: every relative link resolves`, () => {
      expect(brokenLinks(file, readFileSync(file, 'utf8'))).toEqual([]);
    });
  }
});
