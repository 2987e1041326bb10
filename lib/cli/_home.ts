/** Where local state lives: `.shelves/` in the working directory, or $SHELVES_HOME. */
import { resolve } from 'node:path';

export function shelvesHome(): string {
  return resolve(process.env.SHELVES_HOME ?? '.shelves');
}
