package rdb

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	rng := rand.New(rand.NewPCG(42, 42))
	// Small inputs keep the fuzzer fast, minimization included.
	const maxSeed = 3000
	for i := 0; len(seeds) < 4; i++ {
		es := randomEntries(rng, 3+i%4, false)
		if s := writeEntries(t, es, WriterOptions{Compress: i%2 == 0, Checksum: i%3 == 0}); len(s) <= maxSeed {
			seeds = append(seeds, s)
		}
	}
	for _, l := range legacyKeys(0, true) {
		var buf bytes.Buffer
		writeDataset(t, NewWriter(&buf, WriterOptions{Compress: true}), nil, []legacyKey{l})
		if buf.Len() <= maxSeed {
			seeds = append(seeds, buf.Bytes())
		}
	}
	for _, enc := range []Encoding{EncStreamListpacks, EncStreamListpacks2, EncStreamListpacks3} {
		seeds = append(seeds, build(t, func(w *Writer) {
			rawKey(w, enc, []byte("s"), 1, func(w *Writer) { w.buf = append(w.buf, streamBody(enc)...) })
			w.buf = append(w.buf, opModuleAux)
			w.writeLen(moduleID("graphdata", 1))
			w.writeLen(2)
			w.writeLen(2)
			moduleFields(w)
			rawKey(w, EncModule2, []byte("m"), -1, func(w *Writer) {
				w.writeLen(moduleID("ReJSON-RL", 3))
				moduleFields(w)
			})
			w.buf = append(w.buf, opFunction2)
			w.writeString([]byte("code"))
		}))
	}
	// An old version without checksum.
	seeds = append(seeds, []byte("REDIS0003\xfe\x00\xfd\x00\x00\x00\x70\x00\x01k\x01v\x02\x01s\x02\x01a\xc0\x07\xff"))
	// Truncations and bit flips of the first seed.
	s := seeds[0]
	for _, cut := range []int{0, 5, 9, 10, len(s) / 2, len(s) - 9, len(s) - 1} {
		seeds = append(seeds, s[:cut])
	}
	for range 8 {
		b := bytes.Clone(s)
		b[9+rng.IntN(len(b)-9)] ^= byte(1 << rng.IntN(8))
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzReader: no input makes the Reader panic, return an error of an
// undocumented type or an offset outside the input; a file that decodes
// re-encodes to one that decodes to the same keys.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		var keys []Key
		for range 100000 {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var (
					ue *UnsupportedError
					fe *FormatError
					ve *VersionError
				)
				switch {
				case errors.As(err, &ue):
					if ue.Skipped {
						continue
					}
				case errors.As(err, &fe):
					if fe.Offset < 0 || fe.Offset > int64(len(data)) {
						t.Fatalf("offset %d outside the %d-byte input: %v", fe.Offset, len(data), err)
					}
				case errors.As(err, &ve):
				default:
					t.Fatalf("error of type %T: %v", err, err)
				}
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("error not final: %v, then %v", err, err2)
				}
				return
			}
			if k, ok := e.(Key); ok && !isEmptyCollection(k) {
				if k.Expire < 0 {
					k.Expire = -1 // the Writer takes any negative time as none
				}
				keys = append(keys, k)
			}
		}
		var buf bytes.Buffer
		w := NewWriter(&buf, WriterOptions{Compress: true, Checksum: true})
		for i := range keys {
			w.SelectDB(keys[i].DB)
			w.Key(&keys[i])
		}
		if err := w.Close(); err != nil {
			for _, k := range keys {
				for _, m := range k.ZSet {
					if math.IsNaN(m.Score) {
						return // the Writer refuses NaN scores
					}
				}
			}
			t.Fatalf("re-encoding: %v", err)
		}
		r = NewReader(&buf)
		i := 0
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading the re-encoded file: %v", err)
			}
			k, ok := e.(Key)
			if !ok {
				continue
			}
			if i >= len(keys) || describe(k) != describe(keys[i]) {
				t.Fatalf("re-encoded key %d differs:\n got %s\nwant %s", i, shorten(describe(k)), shorten(describe(keys[min(i, len(keys)-1)])))
			}
			i++
		}
		if i != len(keys) {
			t.Fatalf("%d keys re-read, want %d", i, len(keys))
		}
	})
}

// FuzzCompact: the blob decoders never panic and report only blobErrors;
// what a listpack or ziplist decodes to survives re-encoding.
func FuzzCompact(f *testing.F) {
	elems := bs("a", "1", "-70000", "", "9223372036854775807", "hello world")
	f.Add(encodeListpack(elems))
	f.Add(encodeZiplist(elems))
	f.Add(encodeIntset([]int64{1, 2, 1 << 40}))
	f.Add(encodeZipmap([][2][]byte{{[]byte("k"), []byte("v")}}))
	f.Add(encodeListpack(bs(string(bytes.Repeat([]byte("x"), 300)), "4095", "-4096", "8388607")))
	f.Fuzz(func(t *testing.T, blob []byte) {
		decoders := []struct {
			dec func([]byte, elemFunc) error
			enc func([][]byte) []byte
		}{{decodeListpack, encodeListpack}, {decodeZiplist, encodeZiplist}, {decodeIntset, nil}, {decodeZipmap, nil}}
		for _, d := range decoders {
			var got [][]byte
			err := d.dec(blob, func(s []byte, n int64, isInt bool) error {
				if isInt {
					s = strconv.AppendInt(nil, n, 10)
				}
				got = append(got, s)
				return nil
			})
			if err != nil {
				var be *blobError
				if !errors.As(err, &be) || be.pos < 0 || be.pos > len(blob) {
					t.Fatalf("bad error %T %v", err, err)
				}
				continue
			}
			if d.enc == nil {
				continue
			}
			var again [][]byte
			if err := d.dec(d.enc(got), func(s []byte, n int64, isInt bool) error {
				if isInt {
					s = strconv.AppendInt(nil, n, 10)
				}
				again = append(again, s)
				return nil
			}); err != nil {
				t.Fatalf("re-encoded blob refused: %v", err)
			}
			if len(again) != len(got) {
				t.Fatalf("re-encoded blob has %d elements, want %d", len(again), len(got))
			}
			for i := range got {
				if !bytes.Equal(got[i], again[i]) {
					t.Fatalf("element %d: %q != %q", i, again[i], got[i])
				}
			}
		}
	})
}

// FuzzLZF: compression round-trips; decompressing anything never panics.
func FuzzLZF(f *testing.F) {
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), uint16(41))
	f.Add([]byte("abcabcabcabcabcabcabc hello hello hello"), uint16(10))
	f.Add([]byte{2, 'a', 'b', 'c', 1 << 5, 2, 7 << 5, 3, 0}, uint16(18))
	f.Fuzz(func(t *testing.T, data []byte, n uint16) {
		var c lzfCompressor
		out := make([]byte, len(data)+len(data)/32+16)
		if m := c.compress(data, out); m > 0 || len(data) == 0 {
			dec := make([]byte, len(data))
			if err := lzfDecompress(out[:m], dec); err != nil || !bytes.Equal(dec, data) {
				t.Fatalf("round trip failed: %v", err)
			}
		} else {
			t.Fatalf("compress of %d bytes failed", len(data))
		}
		lzfDecompress(data, make([]byte, n))
	})
}
