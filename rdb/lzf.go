package rdb

import "errors"

// LZF, as in liblzf 3.6 (the copy Redis embeds). A compressed stream is a
// sequence of chunks, each introduced by a control byte:
//
//	000LLLLL                      literal run: the next L+1 bytes (1..32)
//	LLLooooo oooooooo             back reference, L in 1..6
//	111ooooo LLLLLLLL oooooooo    back reference, length 7+L
//
// A back reference copies len+2 bytes starting off+1 bytes behind the
// current output position (the regions may overlap), where off is the
// 13-bit value made of the five low bits of the control byte and the last
// byte of the chunk.
const (
	lzfMaxLit  = 1 << 5              // longest literal run
	lzfMaxOff  = 1 << 13             // farthest back reference
	lzfMaxRef  = (1 << 8) + (1 << 3) // longest back reference (264 bytes)
	lzfHashLog = 14

	// lzfMaxRatio bounds decompressed size / compressed size: the best a
	// chunk can do is 3 bytes for 264.
	lzfMaxRatio = 89
)

var errLZF = errors.New("invalid LZF data")

// lzfCompressor holds the match-finding hash table so that compressing many
// small strings does not allocate or clear it each time. Entries are
// positions offset by base; an entry below base belongs to an earlier input
// and is ignored, so the output depends on the input alone.
type lzfCompressor struct {
	table *[1 << lzfHashLog]uint32
	base  uint32
}

// compress compresses in into out and returns the compressed length, or 0
// if the result would not fit in out (or in is too large to handle).
func (c *lzfCompressor) compress(in, out []byte) int {
	n := len(in)
	if n == 0 || n > 1<<30 || len(out) == 0 {
		return 0
	}
	if c.table == nil {
		c.table = new([1 << lzfHashLog]uint32)
		c.base = 1
	}
	if uint64(c.base)+uint64(n) >= 1<<32 {
		clear(c.table[:])
		c.base = 1
	}
	base := c.base
	c.base += uint32(n)
	t := c.table

	op := 0  // output position
	lit := 0 // start of the pending literal run in in
	ip := 0
	for ip < n-2 {
		v := uint32(in[ip])<<16 | uint32(in[ip+1])<<8 | uint32(in[ip+2])
		h := (v * 2654435761) >> (32 - lzfHashLog)
		e := t[h]
		t[h] = base + uint32(ip)
		if e < base {
			ip++
			continue
		}
		ref := int(e - base) // < ip: inserted earlier in this call
		off := ip - ref - 1
		if off >= lzfMaxOff || in[ref] != in[ip] || in[ref+1] != in[ip+1] || in[ref+2] != in[ip+2] {
			ip++
			continue
		}
		maxLen := min(n-ip, lzfMaxRef)
		l := 3
		for l < maxLen && in[ref+l] == in[ip+l] {
			l++
		}
		if op = lzfLiterals(out, op, in[lit:ip]); op < 0 {
			return 0
		}
		enc := l - 2
		if enc < 7 {
			if op+2 > len(out) {
				return 0
			}
			out[op] = byte(off>>8 | enc<<5)
			op++
		} else {
			if op+3 > len(out) {
				return 0
			}
			out[op] = byte(off>>8 | 7<<5)
			out[op+1] = byte(enc - 7)
			op += 2
		}
		out[op] = byte(off)
		op++
		end := ip + l
		for j := ip + 1; j < end && j < n-2; j++ {
			v := uint32(in[j])<<16 | uint32(in[j+1])<<8 | uint32(in[j+2])
			t[(v*2654435761)>>(32-lzfHashLog)] = base + uint32(j)
		}
		ip = end
		lit = ip
	}
	if op = lzfLiterals(out, op, in[lit:]); op < 0 {
		return 0
	}
	return op
}

// lzfLiterals appends lit to out[op:] as literal runs and returns the new
// output position, or -1 if out is too short.
func lzfLiterals(out []byte, op int, lit []byte) int {
	for len(lit) > 0 {
		k := min(len(lit), lzfMaxLit)
		if op+1+k > len(out) {
			return -1
		}
		out[op] = byte(k - 1)
		copy(out[op+1:], lit[:k])
		op += 1 + k
		lit = lit[k:]
	}
	return op
}

// lzfDecompress decompresses in into out, which must be exactly as long as
// the decompressed data.
func lzfDecompress(in, out []byte) error {
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < lzfMaxLit {
			l := ctrl + 1
			if ip+l > len(in) || op+l > len(out) {
				return errLZF
			}
			copy(out[op:], in[ip:ip+l])
			ip += l
			op += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if ip >= len(in) {
				return errLZF
			}
			l += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return errLZF
		}
		ref := op - (ctrl&0x1f)<<8 - int(in[ip]) - 1
		ip++
		l += 2
		if ref < 0 || op+l > len(out) {
			return errLZF
		}
		if ref+l <= op {
			copy(out[op:op+l], out[ref:ref+l])
		} else {
			for i := range l {
				out[op+i] = out[ref+i]
			}
		}
		op += l
	}
	if op != len(out) {
		return errLZF
	}
	return nil
}
