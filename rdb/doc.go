// Package rdb reads and writes Redis RDB files, the snapshot format of
// Redis 7.0 (RDB version 10), as a stream: neither side holds more than
// the value being encoded or decoded.
//
// # The format
//
// A file is the header "REDIS0010" (magic and a four-digit version),
// a sequence of items, the EOF opcode 0xFF and an 8-byte checksum. Each
// item starts with one byte: either an opcode or the type of a key.
//
//	0xFA AUX            two strings: an auxiliary field (redis-ver, ctime, ...)
//	0xFE SELECTDB       a length: the database of the keys that follow
//	0xFB RESIZEDB       two lengths: key count and expiring-key count
//	0xFC EXPIRETIME_MS  8 bytes little-endian: unix ms expire of the next key
//	0xFD EXPIRETIME     4 bytes little-endian: unix seconds (old files)
//	0xF9 FREQ, 0xF8 IDLE  LFU/LRU information of the next key (skipped)
//	0xF5 FUNCTION2      a function library (not supported)
//	0xF7 MODULE_AUX     module data (not supported)
//	0..21               a key: its type, the key as a string, the value
//
// A length is variable-sized; the two high bits of its first byte say how:
// 00 six bits, 01 fourteen bits (with the next byte, big-endian), 0x80 a
// 32-bit and 0x81 a 64-bit big-endian number. The prefix 11 marks a
// special string encoding instead, in the low six bits: 0, 1, 2 an 8, 16
// or 32-bit little-endian integer, whose decimal text is the string, and
// 3 an LZF-compressed string (compressed length, original length, data).
// Any other string is a length and its bytes.
//
// Values in the plain encodings are a length followed by that many
// strings (list, set), string pairs (hash), or members with scores (zset:
// a binary little-endian double in type 5, a length-prefixed decimal in
// type 3). The compact encodings store a whole value as one string blob in
// the layout Redis keeps in memory: intset (11), zipmap (9), ziplist (10,
// 12, 13), listpack (16, 17, 20), and lists as a sequence of ziplist (14)
// or listpack and plain nodes (18).
//
// The checksum is CRC-64/Jones (reflected, initial value 0, no final xor)
// of every byte from the header through the EOF opcode, stored
// little-endian; zero means the writer did not compute it.
//
// # Use
//
// Writer writes the plain encodings, which Redis converts to compact ones
// on load as its configuration dictates. Reader reads every encoding of
// strings, lists, sets, hashes and sorted sets that Redis 1.2 to 7.0
// writes, in files of versions 1 to 10. Streams, module values, module
// data and functions are reported as *UnsupportedError, and skipped where
// the format allows so that reading can go on. A malformed file yields a
// *FormatError with the byte offset of the failure; the Reader never
// trusts a length to allocate memory beyond what the file holds.
package rdb
