// @modelcontextprotocol/conformance imports `globSync` from node:fs, which
// Node 22 added; the Node here may be 20. Its server scenarios never call it
// (only the result-summary command does), so on an older Node this loader
// hands the package a node:fs with a globSync that says so, and nothing else
// changes. Used as `node --import ./node20_register.mjs ...`.
import { register } from 'node:module';

register('./node20_hooks.mjs', import.meta.url);
