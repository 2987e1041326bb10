#!/usr/bin/env node
// Entry for `npx shelves`: registers the TypeScript loader, then runs the CLI from source.
import { register } from 'tsx/esm/api';

register();
await import('./shelves.ts');
