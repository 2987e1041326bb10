/** Where local state lives: `.shelves/` in the working directory, or $SHELVES_HOME. */
import { resolve } from 'node:path';
import { readEnv } from '../wiring/env.ts';

export function shelvesHome(): string {
  return resolve(readEnv('SHELVES_HOME'));
}
