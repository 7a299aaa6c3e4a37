package rdb

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"
)

func collect(t *testing.T, dec func([]byte, elemFunc) error, blob []byte) [][]byte {
	t.Helper()
	var out [][]byte
	err := dec(blob, func(s []byte, n int64, isInt bool) error {
		if isInt {
			s = strconv.AppendInt(nil, n, 10)
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compactSamples() [][][]byte {
	var ints [][]byte
	for _, v := range []int64{0, 1, 12, 13, 127, 128, -1, -4096, 4095, 4096, -4097, math.MaxInt16, math.MinInt16,
		1 << 23, -(1 << 23), 1<<23 - 1, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		ints = append(ints, strconv.AppendInt(nil, v, 10))
	}
	var many [][]byte
	for i := range 70000 { // more than a uint16 count
		many = append(many, fmt.Appendf(nil, "%d", i%300))
	}
	return [][][]byte{
		{},
		{[]byte("")},
		ints,
		bs("a", "007", "-0", "+1", " 1", "1e3"),
		{bytes.Repeat([]byte("x"), 63), bytes.Repeat([]byte("y"), 64), bytes.Repeat([]byte("z"), 4095),
			bytes.Repeat([]byte("w"), 4096), bytes.Repeat([]byte("v"), 16383), bytes.Repeat([]byte("u"), 16384),
			bytes.Repeat([]byte("t"), 100000), bytes.Repeat([]byte("s"), 253), bytes.Repeat([]byte("r"), 254)},
		many,
	}
}

func TestListpackZiplistRoundTrip(t *testing.T) {
	for i, elems := range compactSamples() {
		for name, c := range map[string]struct {
			enc func([][]byte) []byte
			dec func([]byte, elemFunc) error
		}{"listpack": {encodeListpack, decodeListpack}, "ziplist": {encodeZiplist, decodeZiplist}} {
			got := collect(t, c.dec, c.enc(elems))
			if len(got) != len(elems) {
				t.Fatalf("%s sample %d: %d elements, want %d", name, i, len(got), len(elems))
			}
			for j := range elems {
				if !bytes.Equal(got[j], elems[j]) {
					t.Fatalf("%s sample %d element %d: %.40q, want %.40q", name, i, j, got[j], elems[j])
				}
			}
		}
	}
}

func TestIntsetZipmapRoundTrip(t *testing.T) {
	for _, vals := range [][]int64{{}, {5}, {-3, 1, 2}, {1, 1 << 20}, {math.MinInt64, 0, math.MaxInt64}} {
		got := collect(t, decodeIntset, encodeIntset(vals))
		if len(got) != len(vals) {
			t.Fatalf("%v: got %q", vals, got)
		}
	}
	pairs := [][2][]byte{{[]byte("a"), []byte("b")}, {[]byte(""), []byte("")},
		{bytes.Repeat([]byte("k"), 300), bytes.Repeat([]byte("v"), 70000)}}
	got := collect(t, decodeZipmap, encodeZipmap(pairs))
	if !bytes.Equal(bytes.Join(got, nil), bytes.Join(flatHash(pairs), nil)) || len(got) != 6 {
		t.Fatal("zipmap round trip differs")
	}
}

// TestCompactCorrupt: every truncation and single-byte change of valid
// blobs is either decoded or refused with a blobError, never a panic.
func TestCompactCorrupt(t *testing.T) {
	elems := bs("a", "1", "-70000", "hello world", "9223372036854775807", "")
	elems = append(elems, bytes.Repeat([]byte("long"), 70))
	blobs := map[string][]byte{
		"listpack": encodeListpack(elems),
		"ziplist":  encodeZiplist(elems),
		"intset":   encodeIntset([]int64{1, -2, 1 << 40}),
		"zipmap":   encodeZipmap([][2][]byte{{[]byte("a"), []byte("1")}, {bytes.Repeat([]byte("k"), 260), []byte("v")}}),
	}
	decs := map[string]func([]byte, elemFunc) error{
		"listpack": decodeListpack, "ziplist": decodeZiplist, "intset": decodeIntset, "zipmap": decodeZipmap,
	}
	nop := func([]byte, int64, bool) error { return nil }
	for name, blob := range blobs {
		dec := decs[name]
		if err := dec(blob, nop); err != nil {
			t.Fatalf("%s: valid blob refused: %v", name, err)
		}
		check := func(b []byte) {
			err := dec(b, nop)
			var be *blobError
			if err != nil && !errors.As(err, &be) {
				t.Fatalf("%s: unexpected error type %T", name, err)
			}
		}
		for cut := range len(blob) {
			b := blob[:cut]
			if err := dec(b, nop); err == nil {
				t.Fatalf("%s: truncation at %d accepted", name, cut)
			}
			check(b)
		}
		for i := range blob {
			for _, x := range []byte{0x01, 0x80, 0xFF} {
				b := bytes.Clone(blob)
				b[i] ^= x
				check(b)
			}
		}
	}
}
