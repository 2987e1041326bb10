/**
 * The import rules of ../shared/CONVENTIONS.md, checked over the source tree:
 * - lib/core imports nothing outside itself but zod (schemas): no other package, no Node built-in, no other folder of lib/, and
 *   reads no environment, clock or global randomness;
 * - no runtime file (a Lambda handler, the training entrypoint, serving, the local runtime, the CLI)
 *   imports the CDK, directly or through anything it imports;
 * - lib/infra knows handlers only by their entry path: it imports no file of lambdas/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importViolations, type SourceFile } from './import-graph.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const files: SourceFile[] = ['bin', 'lib', 'lambdas']
  .flatMap(sourceFiles)
  .map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
const exists = (path: string): boolean => existsSync(join(ROOT, path));

describe('the import rules', () => {
  it('find the tree they check', () => {
    expect(files.filter((f) => f.path.startsWith('lib/core/')).length).toBeGreaterThan(50);
    expect(files.filter((f) => f.path.startsWith('lambdas/')).length).toBeGreaterThan(10);
  });

  it('hold over the whole tree', () => {
    expect(importViolations(files, exists)).toEqual([]);
  });

  it.each([
    ['lib/core/models/x.ts', "import { S3Client } from '@aws-sdk/client-s3';", 'lib/core imports a package: @aws-sdk/client-s3'],
    ['lib/core/models/x.ts', "import { readFileSync } from 'node:fs';", 'lib/core imports a package: node:fs'],
    [
      'lib/core/models/x.ts',
      "import { EndpointStore } from '../../aws/endpoints.ts';",
      'lib/core imports outside itself: lib/aws/endpoints.ts',
    ],
    ['lib/core/models/x.ts', 'const region = process.env.AWS_REGION;', 'lib/core reads process.env'],
    ['lib/core/models/x.ts', 'const seed = Math.random();', 'lib/core calls Math.random'],
    ['lib/core/models/x.ts', 'const now = Date.now();', 'lib/core reads the clock (Date.now)'],
    ['lib/serving/x.ts', "import { Stack } from 'aws-cdk-lib';", 'a runtime file imports the CDK: aws-cdk-lib'],
    ['lib/infra/x.ts', "import { handler } from '../../lambdas/serve.ts';", 'lib/infra imports a handler: lambdas/serve.ts'],
  ])('catch %s doing `%s`', (path, line, message) => {
    const violations = importViolations([...files, { path, text: line }], exists);
    expect(violations.map((v) => v.message)).toContain(message);
  });

  it('catch a runtime file that reaches the CDK through another file', () => {
    const planted: SourceFile[] = [
      { path: 'lib/serving/uses-helper.ts', text: "import { helper } from './cdk-helper.ts';" },
      { path: 'lib/serving/cdk-helper.ts', text: "import { Duration } from 'aws-cdk-lib';" },
    ];
    const plantedExists = (path: string): boolean => exists(path) || planted.some((p) => p.path === path);
    const messages = importViolations([...files, ...planted], plantedExists).map((v) => `${v.file}: ${v.message}`);
    expect(messages).toContain(
      'lib/serving/uses-helper.ts: a runtime file imports the CDK: aws-cdk-lib (through lib/serving/cdk-helper.ts)',
    );
  });

  it('resolve every relative import to a file that exists', () => {
    const missing = files.flatMap((f) =>
      [...f.text.matchAll(/from '(\.\.?\/[^']+)'/g)]
        .map((m) => relative(ROOT, resolve(ROOT, dirname(f.path), m[1] as string)))
        .filter((target) => !exists(target))
        .map((target) => `${f.path} -> ${target}`),
    );
    expect(missing).toEqual([]);
  });
});
