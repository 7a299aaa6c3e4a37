package rdb

import "encoding/binary"

// crcPoly is the Jones polynomial 0xad93d23594c935a9 in its reflected form.
const crcPoly = 0x95ac9329ac4bc9b5

// crcTable holds the tables for slicing-by-8: crcTable[0] is the classic
// byte-at-a-time table; crcTable[k][b] is the CRC of byte b followed by k
// zero bytes.
var crcTable = func() *[8][256]uint64 {
	t := new([8][256]uint64)
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ crcPoly
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return t
}()

// CRC64 extends crc with p and returns the result. It is the checksum Redis
// stores after the EOF opcode of an RDB file and at the end of a DUMP
// payload: CRC-64/Jones, reflected, initial value 0, no final xor. The
// checksum of a whole stream is CRC64(0, data); it may be computed
// piecewise by feeding each result back in.
func CRC64(crc uint64, p []byte) uint64 {
	t := crcTable
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^
			t[6][crc>>8&0xff] ^
			t[5][crc>>16&0xff] ^
			t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^
			t[2][crc>>40&0xff] ^
			t[1][crc>>48&0xff] ^
			t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
