// CodeSelf's pre-started node (docs/languages.md, "JavaScript specifics"). The sandboxed child
// execs node on this file before its job exists, so node's start-up is paid while the worker
// waits for the job. The worker then writes the job's files into the working directory and
// sends one frame on fd 3 (4-byte big-endian length + JSON {"n": nonce}); this file removes
// itself and runs main.js as `node main.js NONCE` would: the main module, so require.main is
// main.js's module (Module._load as node's own start does it; Module.runMain costs ~8 ms more).
// Nothing of a candidate exists before that frame, and this file holds nothing of a test.
'use strict';
const fs = require('fs');
const CONTROL_FD = 3;

function readExact(size) {
  const buffer = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    let n;
    try { n = fs.readSync(CONTROL_FD, buffer, got, size - got, null); } catch (e) {
      if (e && e.code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) process.exit(0);  // the worker closed the pipe: no job for this node
    got += n;
  }
  return buffer;
}

fs.unlinkSync(__filename);
const job = JSON.parse(readExact(readExact(4).readUInt32BE(0)).toString('utf8'));
process.argv = [process.argv[0], require('path').resolve('main.js'), job.n];
require('module')._load(process.argv[1], null, true);
