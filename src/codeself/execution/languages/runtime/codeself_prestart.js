// CodeSelf's pre-started node (docs/languages.md, "Pre-started interpreters"). The sandboxed
// child execs node on this file before its job exists, so node's start-up is paid while the
// worker waits for the job. It then reads one frame from fd 3 (4-byte big-endian length +
// JSON {"files": {name: base64}, "n": nonce}: the job's files, sent by the worker), writes
// the files, removes itself, and runs main.js as `node main.js NONCE` would (require.main is
// main.js's module). Nothing of a candidate exists before that frame, and this file holds
// nothing of a test.
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
for (const name of Object.keys(job.files)) {
  fs.writeFileSync(name, Buffer.from(job.files[name], 'base64'));
}
process.argv = [process.argv[0], require('path').resolve('main.js'), job.n];
require('module').runMain();
