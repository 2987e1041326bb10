/** The import graph of the source tree and the rules of ../shared/CONVENTIONS.md checked over it. */
import { dirname, join, normalize } from 'node:path';

export interface SourceFile {
  /** Path from the repository root, with forward slashes. */
  readonly path: string;
  readonly text: string;
}

export interface Violation {
  readonly file: string;
  readonly message: string;
}

/** Folders whose code runs in a Lambda function or the training container. */
const RUNTIME_FOLDERS = [
  'lambdas/',
  'lib/core/',
  'lib/io/',
  'lib/aws/',
  'lib/pipeline/',
  'lib/serving/',
  'lib/train/',
  'lib/middleware/',
  'lib/wiring/',
  'lib/api/',
];
/** Packages the core may use: pure, no I/O (schemas). */
const CORE_PACKAGES = new Set(['zod']);
const CDK_PACKAGES = /^(aws-cdk-lib|constructs|cdk-nag|aws-cdk)(\/|$)/;

/** Every module specifier a file imports or re-exports, static or dynamic, type-only included. */
export function specifiersOf(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s+['"]([^'"]+)['"]/g)) found.add(m[1] as string);
  for (const m of text.matchAll(/(?:^|[\s;])import\s+['"]([^'"]+)['"]/g)) found.add(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.add(m[1] as string);
  return [...found];
}

function resolveRelative(from: string, specifier: string): string {
  return normalize(join(dirname(from), specifier)).replace(/\\/g, '/');
}

/** The rule violations of `files`; `exists` tells whether a repository path is a file. */
export function importViolations(files: readonly SourceFile[], exists: (path: string) => boolean): Violation[] {
  const violations: Violation[] = [];
  const byPath = new Map(files.map((f) => [f.path, f]));
  const edges = new Map<string, { files: string[]; packages: string[] }>();
  for (const f of files) {
    const local: string[] = [];
    const packages: string[] = [];
    for (const s of specifiersOf(f.text)) {
      if (s.startsWith('.')) {
        const target = resolveRelative(f.path, s);
        if (exists(target) || byPath.has(target)) local.push(target);
      } else packages.push(s);
    }
    edges.set(f.path, { files: local, packages });
  }

  for (const f of files) {
    const { files: targets, packages } = edges.get(f.path) ?? { files: [], packages: [] };
    if (f.path.startsWith('lib/core/')) {
      for (const p of packages) if (!CORE_PACKAGES.has(p)) violations.push({ file: f.path, message: `lib/core imports a package: ${p}` });
      for (const t of targets)
        if (!t.startsWith('lib/core/')) violations.push({ file: f.path, message: `lib/core imports outside itself: ${t}` });
      if (/\bprocess\.env\b/.test(f.text)) violations.push({ file: f.path, message: 'lib/core reads process.env' });
      if (/\bMath\.random\s*\(/.test(f.text)) violations.push({ file: f.path, message: 'lib/core calls Math.random' });
      if (/\bDate\.now\s*\(/.test(f.text)) violations.push({ file: f.path, message: 'lib/core reads the clock (Date.now)' });
      if (/\bnew Date\(\s*\)/.test(f.text)) violations.push({ file: f.path, message: 'lib/core reads the clock (new Date())' });
    }
    if (f.path.startsWith('lib/infra/')) {
      for (const t of targets)
        if (t.startsWith('lambdas/')) violations.push({ file: f.path, message: `lib/infra imports a handler: ${t}` });
    }
    if (RUNTIME_FOLDERS.some((folder) => f.path.startsWith(folder))) {
      const reached = cdkReached(f.path, edges);
      if (reached) {
        const through = reached.via === f.path ? '' : ` (through ${reached.via})`;
        violations.push({ file: f.path, message: `a runtime file imports the CDK: ${reached.pkg}${through}` });
      }
    }
  }
  return violations;
}

/** The first CDK package reachable from `start` through local imports, and the file that imports it. */
function cdkReached(
  start: string,
  edges: ReadonlyMap<string, { files: string[]; packages: string[] }>,
): { pkg: string; via: string } | undefined {
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    const path = queue.shift() as string;
    const e = edges.get(path);
    if (!e) continue;
    const pkg = e.packages.find((p) => CDK_PACKAGES.test(p));
    if (pkg) return { pkg, via: path };
    for (const t of e.files) {
      if (!seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
    }
  }
  return undefined;
}
