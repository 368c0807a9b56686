// Generates Cordon's placeholder icons as PNG (no downloads, no dependencies): build/icon.png
// (512x512 app icon) and build/tray/tray-<state>.png (+ @2x) for each tray state.
// Usage: node build/make-icons.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** Encodes an RGBA pixel function as a PNG. */
function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x + 0.5, y + 0.5, size);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b; raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
/** A ring ("cordon") around a dot, in `color`, on transparent or on a rounded square `bg`. */
function badge(color, bg, dot, scale = 1) {
  return (x, y, size) => {
    const c = size / 2;
    const d = Math.hypot(x - c, y - c) / c / scale;
    const ring = d > 0.62 && d < 0.86;
    const centre = dot && d < 0.3;
    if (ring || centre) return [...color, 255];
    if (bg) {
      const m = size * 0.08, r = size * 0.2;
      const qx = Math.max(m + r - x, 0, x - (size - m - r)), qy = Math.max(m + r - y, 0, y - (size - m - r));
      if (x > m && x < size - m && y > m && y < size - m && Math.hypot(qx, qy) <= r) return [...bg, 255];
    }
    return [0, 0, 0, 0];
  };
}
const STATES = {
  protected: [[46, 160, 67], true],
  learning: [[56, 132, 244], true],
  'needs-attention': [[230, 140, 20], true],
  paused: [[140, 140, 140], false],
  'not-enrolled': [[160, 120, 220], true],
  'daemon-down': [[210, 50, 50], false],
};
mkdirSync(join(here, 'tray'), { recursive: true });
writeFileSync(join(here, 'icon.png'), png(512, badge([255, 255, 255], [24, 39, 66], true, 0.7)));
for (const [state, [color, dot]] of Object.entries(STATES)) {
  writeFileSync(join(here, 'tray', `tray-${state}.png`), png(16, badge(color, null, dot)));
  writeFileSync(join(here, 'tray', `tray-${state}@2x.png`), png(32, badge(color, null, dot)));
}
process.stdout.write('icons written to build/\n');
