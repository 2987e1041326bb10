#!/usr/bin/env node
// Entry for `npx shelves`: registers the TypeScript loader, then runs the CLI from source.
import { register } from 'tsx/esm/api';

// The Lambda runtime is nodejs22.x; locally Node 20 works, so the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
await import('./shelves.ts');
