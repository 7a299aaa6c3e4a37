package rdb

import (
	"encoding/binary"
	"fmt"
)

// Decoders for the compact encodings Redis writes as opaque blobs inside a
// string: listpack, ziplist, intset and zipmap. Every read is bounds
// checked against the blob; nothing in a blob is trusted.

// blobError reports a malformed blob; pos is the byte offset inside it.
type blobError struct {
	kind string
	pos  int
	msg  string
}

func (e *blobError) Error() string {
	return fmt.Sprintf("invalid %s at byte %d of the blob: %s", e.kind, e.pos, e.msg)
}

// elemFunc receives one element of a blob: a string (s, a subslice of the
// blob), or an integer (n with isInt set).
type elemFunc func(s []byte, n int64, isInt bool) error

// decodeListpack calls fn for each element of a listpack.
//
// Layout: total bytes (uint32 LE), element count (uint16 LE, 65535 if
// unknown), the entries, and a 0xFF terminator. An entry is an encoding
// byte, its data, and a back-length of 1 to 5 bytes giving the size of
// encoding plus data.
func decodeListpack(b []byte, fn elemFunc) error {
	fail := func(pos int, format string, a ...any) error {
		return &blobError{"listpack", pos, fmt.Sprintf(format, a...)}
	}
	if len(b) < 7 {
		return fail(0, "too short (%d bytes)", len(b))
	}
	if total := binary.LittleEndian.Uint32(b); uint64(total) != uint64(len(b)) {
		return fail(0, "header says %d bytes, blob has %d", total, len(b))
	}
	if b[len(b)-1] != 0xFF {
		return fail(len(b)-1, "missing terminator")
	}
	count := int(binary.LittleEndian.Uint16(b[4:]))
	end := len(b) - 1 // entries must end before the terminator
	p := 6
	seen := 0
	for p < end {
		c := b[p]
		var (
			s     []byte
			n     int64
			isInt bool
			size  int // encoding + data
		)
		switch {
		case c&0x80 == 0: // 7-bit unsigned integer
			n, isInt, size = int64(c&0x7f), true, 1
		case c&0xC0 == 0x80: // string, 6-bit length
			l := int(c & 0x3f)
			if l > end-p-1 {
				return fail(p, "string of %d bytes overruns the blob", l)
			}
			s, size = b[p+1:p+1+l:p+1+l], 1+l
		case c&0xE0 == 0xC0: // 13-bit signed integer
			if end-p < 2 {
				return fail(p, "truncated entry")
			}
			u := uint64(c&0x1f)<<8 | uint64(b[p+1])
			n, isInt, size = signExtend(u, 13), true, 2
		case c&0xF0 == 0xE0: // string, 12-bit length
			if end-p < 2 {
				return fail(p, "truncated entry")
			}
			l := int(c&0x0f)<<8 | int(b[p+1])
			if l > end-p-2 {
				return fail(p, "string of %d bytes overruns the blob", l)
			}
			s, size = b[p+2:p+2+l:p+2+l], 2+l
		case c == 0xF0: // string, 32-bit length
			if end-p < 5 {
				return fail(p, "truncated entry")
			}
			l := uint64(binary.LittleEndian.Uint32(b[p+1:]))
			if l > uint64(end-p-5) {
				return fail(p, "string of %d bytes overruns the blob", l)
			}
			s, size = b[p+5:p+5+int(l):p+5+int(l)], 5+int(l)
		case c >= 0xF1 && c <= 0xF4: // 16, 24, 32, 64-bit signed integers
			w := [...]int{2, 3, 4, 8}[c-0xF1]
			if end-p < 1+w {
				return fail(p, "truncated entry")
			}
			var u uint64
			for i := w - 1; i >= 0; i-- {
				u = u<<8 | uint64(b[p+1+i])
			}
			n, isInt, size = signExtend(u, uint(8*w)), true, 1+w
		default:
			return fail(p, "bad entry encoding 0x%02x", c)
		}
		bl := backlenSize(size)
		if size+bl > end-p {
			return fail(p, "entry overruns the blob")
		}
		if got, ok := readBacklen(b[p+size : p+size+bl]); !ok || got != uint64(size) {
			return fail(p+size, "back-length does not match the entry")
		}
		if err := fn(s, n, isInt); err != nil {
			return err
		}
		p += size + bl
		seen++
	}
	if count != 0xFFFF && count != seen {
		return fail(4, "header says %d entries, found %d", count, seen)
	}
	return nil
}

// backlenSize is the size of the back-length for an entry of l bytes.
func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// readBacklen decodes a back-length occupying exactly b.
func readBacklen(b []byte) (uint64, bool) {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		g := b[i]
		v |= uint64(g&127) << (7 * uint(len(b)-1-i))
		last := i == 0
		if (g&128 == 0) != last {
			return 0, false
		}
	}
	return v, true
}

func signExtend(u uint64, bits uint) int64 {
	shift := 64 - bits
	return int64(u<<shift) >> shift
}

// decodeZiplist calls fn for each element of a ziplist.
//
// Layout: total bytes (uint32 LE), offset of the last entry (uint32 LE),
// entry count (uint16 LE), the entries, and 0xFF. An entry is the previous
// entry's length (1 byte, or 0xFE and a uint32 LE), an encoding, and data.
func decodeZiplist(b []byte, fn elemFunc) error {
	fail := func(pos int, format string, a ...any) error {
		return &blobError{"ziplist", pos, fmt.Sprintf(format, a...)}
	}
	if len(b) < 11 {
		return fail(0, "too short (%d bytes)", len(b))
	}
	if total := binary.LittleEndian.Uint32(b); uint64(total) != uint64(len(b)) {
		return fail(0, "header says %d bytes, blob has %d", total, len(b))
	}
	if b[len(b)-1] != 0xFF {
		return fail(len(b)-1, "missing terminator")
	}
	count := int(binary.LittleEndian.Uint16(b[8:]))
	end := len(b) - 1
	p := 10
	prev := 0
	seen := 0
	for p < end {
		start := p
		var pl int
		if b[p] < 0xFE {
			pl = int(b[p])
			p++
		} else if b[p] == 0xFE {
			if end-p < 5 {
				return fail(p, "truncated entry")
			}
			pl = int(binary.LittleEndian.Uint32(b[p+1:]))
			p += 5
		} else {
			return fail(p, "terminator before the end of the blob")
		}
		if pl != prev {
			return fail(start, "previous-entry length %d, expected %d", pl, prev)
		}
		if p >= end {
			return fail(p, "truncated entry")
		}
		c := b[p]
		var (
			s     []byte
			n     int64
			isInt bool
		)
		strAt := func(hdr int, l uint64) error {
			if l > uint64(end-p-hdr) {
				return fail(p, "string of %d bytes overruns the blob", l)
			}
			s = b[p+hdr : p+hdr+int(l) : p+hdr+int(l)]
			p += hdr + int(l)
			return nil
		}
		intAt := func(w int) error {
			if end-p < 1+w {
				return fail(p, "truncated entry")
			}
			var u uint64
			for i := w - 1; i >= 0; i-- {
				u = u<<8 | uint64(b[p+1+i])
			}
			n, isInt = signExtend(u, uint(8*w)), true
			p += 1 + w
			return nil
		}
		var err error
		switch {
		case c>>6 == 0:
			err = strAt(1, uint64(c&0x3f))
		case c>>6 == 1:
			if end-p < 2 {
				return fail(p, "truncated entry")
			}
			err = strAt(2, uint64(c&0x3f)<<8|uint64(b[p+1]))
		case c == 0x80:
			if end-p < 5 {
				return fail(p, "truncated entry")
			}
			err = strAt(5, uint64(binary.BigEndian.Uint32(b[p+1:])))
		case c == 0xC0:
			err = intAt(2)
		case c == 0xD0:
			err = intAt(4)
		case c == 0xE0:
			err = intAt(8)
		case c == 0xF0:
			err = intAt(3)
		case c == 0xFE:
			err = intAt(1)
		case c >= 0xF1 && c <= 0xFD:
			n, isInt = int64(c&0x0f)-1, true
			p++
		default:
			return fail(p, "bad entry encoding 0x%02x", c)
		}
		if err != nil {
			return err
		}
		prev = p - start
		if err := fn(s, n, isInt); err != nil {
			return err
		}
		seen++
	}
	if count != 0xFFFF && count != seen {
		return fail(8, "header says %d entries, found %d", count, seen)
	}
	return nil
}

// decodeIntset calls fn for each member of an intset: encoding (element
// width in bytes, uint32 LE), length (uint32 LE), then the sorted
// little-endian integers.
func decodeIntset(b []byte, fn elemFunc) error {
	fail := func(pos int, format string, a ...any) error {
		return &blobError{"intset", pos, fmt.Sprintf(format, a...)}
	}
	if len(b) < 8 {
		return fail(0, "too short (%d bytes)", len(b))
	}
	w := binary.LittleEndian.Uint32(b)
	if w != 2 && w != 4 && w != 8 {
		return fail(0, "bad element width %d", w)
	}
	n := uint64(binary.LittleEndian.Uint32(b[4:]))
	if n*uint64(w) != uint64(len(b)-8) {
		return fail(4, "%d elements of %d bytes do not fill %d bytes", n, w, len(b)-8)
	}
	for p := 8; p < len(b); p += int(w) {
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(b[p:])))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(b[p:])))
		default:
			v = int64(binary.LittleEndian.Uint64(b[p:]))
		}
		if err := fn(nil, v, true); err != nil {
			return err
		}
	}
	return nil
}

// decodeZipmap calls fn for each key and value of a zipmap: a count byte,
// then entries of key length, key, value length, a count of free bytes,
// value and the free bytes, then 0xFF. A length is one byte below 254, or
// 254 and a uint32 LE.
func decodeZipmap(b []byte, fn elemFunc) error {
	fail := func(pos int, format string, a ...any) error {
		return &blobError{"zipmap", pos, fmt.Sprintf(format, a...)}
	}
	if len(b) < 2 {
		return fail(0, "too short (%d bytes)", len(b))
	}
	p := 1
	readLen := func() (int, bool) {
		if p >= len(b) {
			return 0, false
		}
		if b[p] < 254 {
			p++
			return int(b[p-1]), true
		}
		if b[p] == 255 || len(b)-p < 5 {
			return 0, false
		}
		l := binary.LittleEndian.Uint32(b[p+1:])
		p += 5
		if uint64(l) > uint64(len(b)) {
			return 0, false
		}
		return int(l), true
	}
	for {
		if p >= len(b) {
			return fail(p, "missing terminator")
		}
		if b[p] == 0xFF {
			if p != len(b)-1 {
				return fail(p, "data after the terminator")
			}
			return nil
		}
		at := p
		kl, ok := readLen()
		if !ok || kl > len(b)-p {
			return fail(at, "bad key length")
		}
		key := b[p : p+kl : p+kl]
		p += kl
		at = p
		vl, ok := readLen()
		if !ok || p >= len(b) {
			return fail(at, "bad value length")
		}
		free := int(b[p])
		p++
		if vl+free > len(b)-p {
			return fail(at, "value overruns the blob")
		}
		val := b[p : p+vl : p+vl]
		p += vl + free
		if err := fn(key, 0, false); err != nil {
			return err
		}
		if err := fn(val, 0, false); err != nil {
			return err
		}
	}
}
