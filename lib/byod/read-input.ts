/** Reading the BYOD input files, with errors that name the file. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';
import { formatWarnings, type Warnings } from './formats.ts';

/** Reads a text file, or throws an InputError naming it. */
export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? 'unknown error'})`, { file });
  }
}

/** Writes counted warnings to stderr, one line per kind. */
export function printWarnings(file: string, warnings: Warnings): void {
  for (const line of formatWarnings(file, warnings)) process.stderr.write(`${line}\n`);
}
