// CodeSelf's JavaScript harness runtime (docs/languages.md). Loaded before any candidate code:
// everything it uses is captured here, so a candidate that patches Array.isArray, JSON or fs
// later cannot change how its results are encoded or sent. It holds no expected value.
//
// Protocol (fd 3 in, fd 4 out; 4-byte big-endian length + body): the import answer
// {"ok":true,"n":N} or {"error":{...},"n":N}; then for each step {"t":I,"n":N} from the worker,
// one answer {"values":[ENCODED],"n":N} or {"error":{"type":T,"message":M},"n":N}. Values use
// the closed encoding of codeself/execution/codec.py.
'use strict';
const fs = require('fs');
const readSync = fs.readSync, writeSync = fs.writeSync;
const bufferAlloc = Buffer.alloc, bufferFrom = Buffer.from, bufferConcat = Buffer.concat;
const readUInt32BE = Buffer.prototype.readUInt32BE, writeUInt32BE = Buffer.prototype.writeUInt32BE;
const bufferToString = Buffer.prototype.toString, bufferSlice = Buffer.prototype.subarray;
const stringify = JSON.stringify, objectKeys = Object.keys, isArray = Array.isArray;
const toTag = Object.prototype.toString, isInteger = Number.isInteger, isNaNNumber = Number.isNaN;
const objectIs = Object.is, apply = Reflect.apply, push = Array.prototype.push, join = Array.prototype.join;
const stringMatch = String.prototype.match, stringSlice = String.prototype.slice;
const mathAbs = Math.abs, StringCtor = String, BigIntCtor = BigInt, ErrorCtor = Error;
const getPrototypeOf = Object.getPrototypeOf, objectPrototype = Object.prototype;
const MAX_DEPTH = 100, MAX_BYTES = 16 * 1024 * 1024, LIMIT = 2 ** 63;
const RESULT_FD = 4, CONTROL_FD = 3;

function fail(type, message) { const e = new ErrorCtor(message); e.codeselfType = type; return e; }

function encodeNumber(x) {
  if (isNaNNumber(x)) return ['f', 'nan'];
  if (x === Infinity) return ['f', 'inf'];
  if (x === -Infinity) return ['f', '-inf'];
  if (objectIs(x, -0)) return ['f', '-0.0'];
  if (isInteger(x)) {
    if (mathAbs(x) < 2 ** 53) return x;
    const big = BigIntCtor(x);
    if (x >= -LIMIT && x < LIMIT) return { raw: apply(BigInt.prototype.toString, big, []) };
    return ['i', (big < 0n ? '-' : '') + apply(BigInt.prototype.toString, big < 0n ? -big : big, [16])];
  }
  return ['f', StringCtor(x)];
}

function encode(value, depth, budget) {
  if (depth > MAX_DEPTH) throw fail('ValueTooLarge', 'value nested too deeply to return');
  budget.left -= 8;
  if (budget.left < 0) throw fail('ValueTooLarge', 'value too large to return');
  if (value === null || value === undefined) return null;  // deepEqual(null, undefined) holds
  const kind = typeof value;
  if (kind === 'boolean') return value;
  if (kind === 'number') return encodeNumber(value);
  if (kind === 'string') { budget.left -= value.length; return value; }
  if (kind !== 'object') throw fail('UnsupportedValue', 'cannot return a value of type ' + kind);
  if (isArray(value)) {
    const items = [];
    for (let i = 0; i < value.length; i++) apply(push, items, [encode(value[i], depth + 1, budget)]);
    return ['l', items];
  }
  const tag = apply(toTag, value, []);
  if (tag !== '[object Object]') throw fail('UnsupportedValue', 'cannot return a value of kind ' + tag);
  const pairs = [], keys = objectKeys(value);
  for (let i = 0; i < keys.length; i++) {
    apply(push, pairs, [[keys[i], encode(value[keys[i]], depth + 1, budget)]]);
  }
  return ['d', pairs];
}

// JSON text of an encoded value; {raw: digits} stands for an integer beyond 2**53 (exact).
function text(node) {
  if (node !== null && typeof node === 'object' && !isArray(node)) return node.raw;
  if (isArray(node)) {
    const parts = [];
    for (let i = 0; i < node.length; i++) apply(push, parts, [text(node[i])]);
    return '[' + apply(join, parts, [',']) + ']';
  }
  return stringify(node);
}

function writeFrame(body) {
  const payload = bufferFrom(body, 'utf8');
  const head = bufferAlloc(4);
  apply(writeUInt32BE, head, [payload.length, 0]);
  let data = bufferConcat([head, payload]);
  while (data.length) {
    const written = writeSync(RESULT_FD, data);
    data = apply(bufferSlice, data, [written]);
  }
}

function readExact(size) {
  const buffer = bufferAlloc(size);
  let got = 0;
  while (got < size) {
    let n;
    try { n = readSync(CONTROL_FD, buffer, got, size - got, null); } catch (e) {
      if (e && e.code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) return null;
    got += n;
  }
  return buffer;
}

function describe(error) {
  let type = 'Error', message = '';
  try {
    if (error && typeof error.codeselfType === 'string') type = error.codeselfType;
    else if (error && typeof error.name === 'string') type = error.name;
    else type = 'Thrown';
    message = error && typeof error.message === 'string' ? error.message : StringCtor(error);
  } catch (e) { /* a hostile getter: keep the defaults */ }
  return { type: apply(stringSlice, StringCtor(type), [0, 80]), message: apply(stringSlice, StringCtor(message), [0, 300]) };
}

function answer(body, nonce) { writeFrame(body + ',"n":' + stringify(nonce) + '}'); }

function importDone(nonce, error) {
  if (error === undefined) answer('{"ok":true', nonce);
  else answer('{"error":' + stringify(describe(error)), nonce);
}

// Answer steps until the worker stops sending them; `calls[i]` runs test i's candidate call.
function serve(calls) {
  for (;;) {
    const head = readExact(4);
    if (head === null) return;
    const body = readExact(apply(readUInt32BE, head, [0]));
    if (body === null) return;
    const step = apply(bufferToString, body, ['utf8']);
    const index = +apply(stringMatch, step, [/"t":(\d+)/])[1];
    const nonce = apply(stringMatch, step, [/"n":"([0-9a-f]+)"/])[1];
    let out;
    try {
      const fn = calls[index];
      if (typeof fn !== 'function') throw fail('NotRun', 'no such test');
      out = '{"values":[' + text(encode(fn(), 0, { left: MAX_BYTES })) + ']';
    } catch (error) {
      out = '{"error":' + stringify(describe(error));
    }
    answer(out, nonce);
  }
}

module.exports = { importDone, serve };
