/** CRC-32C (Castagnoli), as used by OP_MSG checksums and the journal's record checksums. */
const TABLE = (() => {
  const t = new Int32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i] >>> 8) ^ t[t[(s - 1) * 256 + i] & 0xff];
  }
  return t;
})();

export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = ~0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    crc ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    crc =
      TABLE[7 * 256 + (crc & 0xff)] ^
      TABLE[6 * 256 + ((crc >>> 8) & 0xff)] ^
      TABLE[5 * 256 + ((crc >>> 16) & 0xff)] ^
      TABLE[4 * 256 + (crc >>> 24)] ^
      TABLE[3 * 256 + buf[i + 4]] ^
      TABLE[2 * 256 + buf[i + 5]] ^
      TABLE[256 + buf[i + 6]] ^
      TABLE[buf[i + 7]];
  }
  for (; i < end; i++) crc = TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
