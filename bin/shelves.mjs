#!/usr/bin/env node
// Entry for `npx shelves`: runs the CLI from source through the TypeScript loader (tsx), except the
// bring-your-own-data commands, which run from a bundle built and kept fresh by lib/cli-bundle/cli-bundle.mjs
// (about a second less start-up per run; SHELVES_CLI_BUNDLE=0 runs them from source too).
import { bundledCli } from '../lib/cli-bundle/cli-bundle.mjs';

// The Lambda runtime is nodejs22.x; locally Node 20 works, so the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const bundle = bundledCli(process.argv[2], process.env.SHELVES_CLI_BUNDLE);
if (bundle !== undefined) {
  // Stack traces name the TypeScript sources, as they do from source.
  process.setSourceMapsEnabled(true);
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./shelves.ts');
}
