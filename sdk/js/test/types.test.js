// index.d.ts is written by hand: this keeps it from drifting from the
// module, by checking that every public member of the client and of its
// error is declared.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as mod from '../matchd.js';

const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');

// classBody returns the text of `export class name ... { ... }` in the d.ts.
function classBody(name) {
  const start = dts.indexOf(`export class ${name}`);
  assert.notEqual(start, -1, `index.d.ts declares no class ${name}`);
  let depth = 0;
  for (let i = dts.indexOf('{', start); i < dts.length; i++) {
    if (dts[i] === '{') depth++;
    if (dts[i] === '}' && --depth === 0) return dts.slice(start, i);
  }
  throw new Error(`unbalanced class ${name}`);
}

test('every export of the module is declared', () => {
  for (const name of Object.keys(mod)) {
    assert.match(dts, new RegExp(`export (const|class|function) ${name}\\b`), `index.d.ts lacks ${name}`);
  }
});

test('every method and property of MatchdClient is declared', () => {
  const body = classBody('MatchdClient');
  const proto = mod.MatchdClient.prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor') continue;
    const d = Object.getOwnPropertyDescriptor(proto, name);
    const re = d.get ? new RegExp(`readonly ${name}:`) : new RegExp(`\\b${name}(<[^(]*>)?\\(`);
    assert.match(body, re, `MatchdClient.${name} is not declared`);
  }
});

test('every field of MatchdError is declared', () => {
  const body = classBody('MatchdError');
  const err = new mod.MatchdError({ code: 'TIMEOUT' });
  for (const name of Object.keys(err)) {
    assert.match(body, new RegExp(`readonly ${name}\\??:`), `MatchdError.${name} is not declared`);
  }
  assert.match(body, /static fromFrame\(/);
});
