// Resolve hook (see node20_register.mjs): `fs` imported by the conformance
// package resolves to node20_fs.mjs when node:fs has no globSync.
import fs from 'node:fs';

export async function resolve(specifier, context, next) {
  if (typeof fs.globSync !== 'function' && (specifier === 'fs' || specifier === 'node:fs') &&
      context.parentURL && context.parentURL.includes('@modelcontextprotocol/conformance')) {
    return { url: new URL('./node20_fs.mjs', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
