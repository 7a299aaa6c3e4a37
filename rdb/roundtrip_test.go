package rdb

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"testing/iotest"
)

// randValue returns a string of one of the shapes the encoder treats
// differently: empty, integers of each width, near-integers, binary,
// compressible, long.
func randValue(rng *rand.Rand, allowBig bool) []byte {
	switch rng.IntN(12) {
	case 0:
		return []byte{}
	case 1:
		return strconv.AppendInt(nil, int64(rng.IntN(256)-128), 10)
	case 2:
		return strconv.AppendInt(nil, int64(rng.IntN(1<<16)-1<<15), 10)
	case 3:
		return strconv.AppendInt(nil, int64(rng.Int32())-int64(rng.Int32()), 10)
	case 4:
		return strconv.AppendInt(nil, int64(rng.Uint64()), 10)
	case 5:
		return []byte([]string{"007", "-0", "+1", "1 ", "12345678901", "-2147483649", "99999999999", "0"}[rng.IntN(8)])
	case 6, 7:
		b := make([]byte, 1+rng.IntN(20))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	case 8:
		b := make([]byte, 21+rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	case 9, 10:
		l := 21 + rng.IntN(3000)
		b := make([]byte, 0, l)
		for len(b) < l {
			b = fmt.Appendf(b, "w%d ", rng.IntN(20))
		}
		return b[:l]
	}
	if allowBig && rng.IntN(4) == 0 {
		b := make([]byte, 65000+rng.IntN(250000))
		for i := range b {
			b[i] = byte(rng.Uint32() % 7)
		}
		return b
	}
	return []byte("plain")
}

func randScore(rng *rand.Rand) float64 {
	switch rng.IntN(8) {
	case 0:
		return math.Inf(1)
	case 1:
		return math.Inf(-1)
	case 2:
		return math.Copysign(0, -1)
	case 3:
		return float64(rng.IntN(1000))
	case 4:
		return math.SmallestNonzeroFloat64
	}
	return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
}

func randSize(rng *rand.Rand, allowBig bool) int {
	switch r := rng.IntN(20); {
	case r == 0:
		return 0
	case r < 14:
		return 1 + rng.IntN(10)
	case r < 19 || !allowBig:
		return 11 + rng.IntN(300)
	}
	return 5000 + rng.IntN(20000)
}

// randomEntries makes a random file's worth of entries.
func randomEntries(rng *rand.Rand, nkeys int, allowBig bool) []Entry {
	es := []Entry{
		Aux{"redis-ver", "7.0.15"}, Aux{"redis-bits", "64"}, Aux{"ctime", strconv.Itoa(int(rng.Int32()))},
		Aux{"used-mem", strconv.FormatInt(rng.Int64(), 10)}, Aux{"repl-stream-db", "0"},
		Aux{"repl-id", "0123456789abcdef0123456789abcdef01234567"}, Aux{"repl-offset", "-1"},
		Aux{"aof-base", "0"}, Aux{"custom", string(randValue(rng, false))},
	}
	dbs := rng.Perm(16)[:1+rng.IntN(4)]
	slices.Sort(dbs)
	if rng.IntN(2) == 0 {
		dbs = append(dbs, 1000000)
	}
	for _, db := range dbs {
		es = append(es, SelectDB{db}, ResizeDB{uint64(rng.IntN(1 << 20)), rng.Uint64()})
		for i := range nkeys / len(dbs) {
			k := Key{DB: db, Key: fmt.Appendf(randValue(rng, false), ":%d", i), Expire: -1, Type: Type(rng.IntN(5))}
			if rng.IntN(3) == 0 {
				k.Expire = rng.Int64N(1 << 50)
			}
			n := randSize(rng, allowBig)
			switch k.Type {
			case TypeString:
				k.String = randValue(rng, allowBig)
			case TypeList:
				k.List = [][]byte{}
				for range n {
					k.List = append(k.List, randValue(rng, false))
				}
			case TypeSet:
				k.Set = [][]byte{}
				for j := range n {
					k.Set = append(k.Set, fmt.Appendf(randValue(rng, false), "%d", j))
				}
			case TypeHash:
				k.Hash = [][2][]byte{}
				for j := range n {
					k.Hash = append(k.Hash, [2][]byte{fmt.Appendf(nil, "f%d", j), randValue(rng, false)})
				}
			case TypeZSet:
				k.ZSet = []ZMember{}
				for j := range n {
					k.ZSet = append(k.ZSet, ZMember{strconv.AppendInt(nil, int64(j), 10), randScore(rng)})
				}
			}
			es = append(es, k)
		}
	}
	return es
}

func isEmptyCollection(k Key) bool {
	switch k.Type {
	case TypeList:
		return len(k.List) == 0
	case TypeSet:
		return len(k.Set) == 0
	case TypeHash:
		return len(k.Hash) == 0
	case TypeZSet:
		return len(k.ZSet) == 0
	}
	return false
}

var plainEncoding = map[Type]Encoding{TypeString: EncString, TypeList: EncList, TypeSet: EncSet, TypeHash: EncHash, TypeZSet: EncZSet2}

func entryString(e Entry) string {
	if k, ok := e.(Key); ok {
		return describe(k) + " enc=" + k.Encoding.String()
	}
	return fmt.Sprintf("%T%+v", e, e)
}

// checkRoundTrip reads src and expects exactly the written entries, in
// order, with empty collections left out.
func checkRoundTrip(t *testing.T, src io.Reader, written []Entry) {
	t.Helper()
	var want []Entry
	for _, e := range written {
		if k, ok := e.(Key); ok {
			if isEmptyCollection(k) {
				continue
			}
			k.Encoding = plainEncoding[k.Type]
			e = k
		}
		want = append(want, e)
	}
	r := NewReader(src)
	for i := 0; ; i++ {
		e, err := r.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("%d entries read, want %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if i >= len(want) {
			t.Fatalf("extra entry %s", shorten(entryString(e)))
		}
		if g, w := entryString(e), entryString(want[i]); g != w {
			t.Fatalf("entry %d:\n got %s\nwant %s", i, shorten(g), shorten(w))
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after the end: %v", err)
	}
}

func writeEntries(t testing.TB, es []Entry, opts WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, opts)
	if err := w.Header(); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if err := w.Entry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Written() != int64(buf.Len()) {
		t.Fatalf("Written %d, buffer has %d", w.Written(), buf.Len())
	}
	return buf.Bytes()
}

// TestRoundTripRandom is the property test: random datasets of every type
// and size, written and read back, come back identical.
func TestRoundTripRandom(t *testing.T) {
	iterations := 40
	if testing.Short() {
		iterations = 8
	}
	for seed := range iterations {
		rng := rand.New(rand.NewPCG(uint64(seed), 99))
		allowBig := seed%8 == 0
		nkeys := 20 + rng.IntN(200)
		if allowBig {
			nkeys = 40
		}
		es := randomEntries(rng, nkeys, allowBig)
		opts := WriterOptions{Compress: seed%2 == 0, Checksum: seed%3 != 0}
		file := writeEntries(t, es, opts)
		t.Run(fmt.Sprintf("seed%d-%dB", seed, len(file)), func(t *testing.T) {
			checkRoundTrip(t, bytes.NewReader(file), es)
			checkRoundTrip(t, iotest.HalfReader(bytes.NewReader(file)), es)
			checkRoundTrip(t, iotest.DataErrReader(bytes.NewReader(file)), es)
			if len(file) < 1<<20 {
				checkRoundTrip(t, iotest.OneByteReader(bytes.NewReader(file)), es)
			}
		})
	}
}

// TestCopyIsIdentical: reading a file and writing every entry back gives
// the same bytes, for files in the plain encodings.
func TestCopyIsIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, opts := range []WriterOptions{{Compress: true, Checksum: true}, {}} {
		file := writeEntries(t, randomEntries(rng, 100, true), opts)
		var out bytes.Buffer
		w := NewWriter(&out, opts)
		r := NewReader(bytes.NewReader(file))
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			w.Entry(e)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), file) {
			t.Fatalf("copy differs (%d vs %d bytes)", out.Len(), len(file))
		}
	}
}

// TestLegacyEncodingsRead reads files with every encoding the Writer does
// not produce, including set-listpack from RDB 11.
func TestLegacyEncodingsRead(t *testing.T) {
	for _, compress := range []bool{false, true} {
		var buf bytes.Buffer
		legacy := append(legacyKeys(0, true), legacyKeys(9, true)...)
		writeDataset(t, NewWriter(&buf, WriterOptions{Compress: compress, Checksum: true}), nil, legacy)
		r := NewReader(&buf)
		keys, _, unsup := readAll(t, r)
		if len(unsup) != 0 {
			t.Fatal(unsup)
		}
		compareKeys(t, keys, legacyWants(legacy))
		seen := map[Encoding]bool{}
		for _, k := range keys {
			seen[k.Encoding] = true
			// Order matters for lists, and compact encodings keep it.
			if k.Type == TypeList {
				for _, l := range legacy {
					if bytes.Equal(l.want.Key, k.Key) && l.want.DB == k.DB && describe(l.want) != describe(k) {
						t.Errorf("list %q order differs", k.Key)
					}
				}
			}
		}
		for _, e := range []Encoding{EncHashZipmap, EncListZiplist, EncSetIntset, EncZSetZiplist, EncHashZiplist,
			EncListQuicklist, EncHashListpack, EncZSetListpack, EncListQuicklist2, EncSetListpack, EncZSet} {
			if !seen[e] {
				t.Errorf("encoding %v not read", e)
			}
		}
	}
}

// TestFragmentsSplice: keys written by Fragment Writers and spliced in with
// Raw give the same file, checksum included, as one Writer writing them.
func TestFragmentsSplice(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	es := randomEntries(rng, 60, false)
	for _, opts := range []WriterOptions{{Compress: true, Checksum: true}, {Checksum: true}} {
		want := writeEntries(t, es, opts)
		var out bytes.Buffer
		w := NewWriter(&out, opts)
		fragOpts := opts
		fragOpts.Fragment = true
		for i := 0; i < len(es); {
			var chunk bytes.Buffer
			fw := NewWriter(&chunk, fragOpts)
			for n := 1 + rng.IntN(7); n > 0 && i < len(es); n-- {
				if err := fw.Entry(es[i]); err != nil {
					t.Fatal(err)
				}
				i++
			}
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Raw(chunk.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("spliced file differs (%d vs %d bytes)", out.Len(), len(want))
		}
	}
}
