// Writes a brotli copy (`<file>.br`, quality 11) beside every vendored script and stylesheet over
// 10 KiB. The service sends it to a browser that accepts brotli (service/web/transfer.py) instead of
// compressing the file itself at a quicker, weaker level: on a 1.6 Mbit/s line the modeler bundle
// arrives 0.15 s sooner. Quality 11 takes seconds per file, which is why it is done here, once.
// The output depends only on the input bytes, so the build stays reproducible.
//
//   node scripts/precompress.mjs <service/static/vendor>
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const MIN_BYTES = 10 * 1024;
const vendorDir = process.argv[2];

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* files(full);
    } else if (/\.(js|css)$/.test(entry.name)) {
      yield full;
    }
  }
}

for (const file of files(vendorDir)) {
  const data = fs.readFileSync(file);
  if (data.length < MIN_BYTES) {
    continue;
  }
  const packed = zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length
    }
  });
  fs.writeFileSync(file + '.br', packed);
}
