// node:fs as it is, plus the globSync of Node 22 as a function that fails
// with a clear message (see node20_register.mjs).
import fs from 'node:fs';

export * from 'node:fs';
export default fs;
export function globSync() {
  throw new Error('fs.globSync needs Node 22; not used by the server scenarios');
}
