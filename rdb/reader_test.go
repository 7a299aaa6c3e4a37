package rdb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// build assembles a file from a body written through a Writer's internals
// (header included, EOF and checksum added by Close).
func build(t testing.TB, body func(w *Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{Checksum: true})
	w.Header()
	body(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func firstError(r *Reader) (n int, err error) {
	for {
		_, err := r.Next()
		if err != nil {
			return n, err
		}
		n++
	}
}

func TestWriterGoldenBytes(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{Compress: true, Checksum: true})
	w.Header()
	w.AuxInt("redis-bits", 64)
	w.SelectDB(0)
	w.ResizeDB(300, 16384)
	w.String([]byte("k"), []byte("12"), 1000)
	w.String([]byte("-129"), []byte("2147483648"), -1)
	w.String([]byte("007"), bytes.Repeat([]byte("a"), 21), -1)
	w.String([]byte("-2147483648"), bytes.Repeat([]byte("a"), 20), -1)
	w.ZSet([]byte("z"), -1, []ZMember{{[]byte("m"), 1.5}})
	w.List([]byte("empty"), -1, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "REDIS0010" +
		"\xfa\x0aredis-bits\xc0\x40" + // aux, integer-encoded value
		"\xfe\x00" + "\xfb\x41\x2c\x80\x00\x00\x40\x00" + // select 0, resize 300 16384
		"\xfc\xe8\x03\x00\x00\x00\x00\x00\x00" + "\x00\x01k\xc0\x0c" + // expire 1000, "k" = 12
		"\x00\xc1\x7f\xff\x0a2147483648" + // int16 key, value beyond int32 stays text
		"\x00\x03007" + "\xc3\x05\x15\x00a\xe0\x0b\x00" + // LZF: literal "a", ref len 20 off 0
		"\x00\xc2\x00\x00\x00\x80\x14aaaaaaaaaaaaaaaaaaaa" + // 20 bytes: not compressed
		"\x05\x01z\x01\x01m\x00\x00\x00\x00\x00\x00\xf8\x3f" + // zset-2
		"\xff"
	got := buf.Bytes()
	if string(got[:len(got)-8]) != want {
		t.Fatalf("got\n%s\nwant\n%s", hex.Dump(got[:len(got)-8]), hex.Dump([]byte(want)))
	}
	if sum := binary.LittleEndian.Uint64(got[len(got)-8:]); sum != CRC64(0, []byte(want)) {
		t.Fatalf("checksum %016x", sum)
	}
}

func TestVersions(t *testing.T) {
	for v := 1; v <= 10; v++ {
		file := []byte("REDIS000" + string(rune('0'+v%10)))
		if v == 10 {
			file = []byte("REDIS0010")
		}
		file = append(file, opSelectDB, 3, 0, 1, 'k', 1, 'v', opEOF)
		if v >= 5 {
			file = binary.LittleEndian.AppendUint64(file, CRC64(0, file))
		}
		r := NewReader(bytes.NewReader(file))
		n, err := firstError(r)
		if err != io.EOF || n != 2 || r.Version() != v {
			t.Errorf("version %d: %d entries, %v", v, n, err)
		}
	}
	_, err := NewReader(strings.NewReader("REDIS0011\xff")).Next()
	var ve *VersionError
	if !errors.As(err, &ve) || err.Error() != "rdb: unsupported RDB version 11" {
		t.Fatalf("version 11: %v", err)
	}
	for _, bad := range []string{"", "REDIS", "RADIS0010", "REDIS00x1", "REDIS0000", "\xff\xff\xff\xff\xff\xff\xff\xff\xff"} {
		_, err := NewReader(strings.NewReader(bad)).Next()
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not an RDB file") && !strings.Contains(err.Error(), "bad RDB version") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestErrorOffsets(t *testing.T) {
	cases := []struct {
		body string
		want string
	}{
		{"\xfe\xbf", "rdb: corrupt or truncated file at offset 10: bad length encoding 0xbf"},
		{"\xfe\x00\x08\x01k", "rdb: corrupt or truncated file at offset 11: unknown value type or opcode 0x08"},
		{"\x00\x01k\xc4", `rdb: corrupt or truncated file at offset 12 (key "k"): bad string encoding 0xc4`},
		{"\x00\x01k\x05ab", `rdb: corrupt or truncated file at offset 12 (key "k"): truncated string of 5 bytes (the file ends at offset 15): unexpected EOF`},
		{"\x12\x01k\x01\x07", `rdb: corrupt or truncated file at offset 13 (key "k"): bad quicklist node container 7`},
		{"\x10\x01k\x07\x08\x00\x00\x00\x00\x00\xff", `rdb: corrupt or truncated file at offset 12 (key "k"): hash value: invalid listpack at byte 0 of the blob: header says 8 bytes, blob has 7`},
		{"\x00\x01k\xc3\x02\x05\x01a", `rdb: corrupt or truncated file at offset 12 (key "k"): compressed string: invalid LZF data`},
		{"\x00\x01k\xc3\x01\x40\xff", `rdb: corrupt or truncated file at offset 12 (key "k"): compressed string of 1 bytes cannot expand to 255`},
	}
	for _, c := range cases {
		file := []byte("REDIS0010" + c.body)
		_, err := firstError(NewReader(bytes.NewReader(file)))
		if err == nil || err.Error() != c.want {
			t.Errorf("body %q:\n got %v\nwant %s", c.body, err, c.want)
		}
	}
}

// TestTruncatedEverywhere cuts a file at every byte: each cut gives a
// FormatError naming an offset inside the file, never a clean end.
func TestTruncatedEverywhere(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	var file []byte
	for len(file) == 0 || len(file) > 12000 {
		file = writeEntries(t, randomEntries(rng, 20, false), WriterOptions{Compress: true, Checksum: true})
	}
	for cut := range len(file) {
		r := NewReader(bytes.NewReader(file[:cut]))
		_, err := firstError(r)
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if fe.Offset > int64(cut) || fe.Offset < 0 {
			t.Fatalf("cut at %d: offset %d", cut, fe.Offset)
		}
		// Sticky.
		if _, err2 := r.Next(); err2 != err {
			t.Fatalf("error not sticky: %v then %v", err, err2)
		}
	}
}

func TestChecksum(t *testing.T) {
	file := build(t, func(w *Writer) {
		w.SelectDB(0)
		w.String([]byte("key"), []byte("some value"), -1)
	})
	bad := bytes.Clone(file)
	bad[bytes.Index(bad, []byte("value"))] ^= 1
	_, err := firstError(NewReader(bytes.NewReader(bad)))
	var fe *FormatError
	if !errors.Is(err, ErrChecksum) || !errors.As(err, &fe) || fe.Offset != int64(len(file)-8) {
		t.Fatalf("flipped value: %v", err)
	}
	// A zero checksum means "not computed".
	zero := bytes.Clone(file)
	clear(zero[len(zero)-8:])
	if _, err := firstError(NewReader(bytes.NewReader(zero))); err != io.EOF {
		t.Fatalf("zero checksum: %v", err)
	}
	// Bytes after the checksum are not read.
	if _, err := firstError(NewReader(bytes.NewReader(append(bytes.Clone(file), "junk"...)))); err != io.EOF {
		t.Fatalf("trailing data: %v", err)
	}
}

// TestLyingLengths: lengths far beyond the file's size fail without
// allocating for them.
func TestLyingLengths(t *testing.T) {
	huge := func(n uint64) string { return string(binary.BigEndian.AppendUint64([]byte{0x81}, n)) }
	bodies := map[string]string{
		"string":        "\x00\x01k" + huge(1<<62) + "abc",
		"key":           "\x00" + huge(1<<40),
		"list":          "\x01\x01k" + huge(1<<60) + "\x01a",
		"hash":          "\x04\x01k" + huge(1<<60) + "\x01a\x01b",
		"zset":          "\x05\x01k" + huge(1<<60) + "\x01a",
		"quicklist":     "\x12\x01k" + huge(1<<60) + "\x02",
		"lzf clen":      "\x00\x01k\xc3" + huge(1<<40) + huge(1<<41) + "abc",
		"lzf ulen":      "\x00\x01k\xc3\x05" + huge(1<<40) + "abcde",
		"aux":           "\xfa" + huge(1<<50),
		"blob":          "\x10\x01k" + huge(1<<33) + "\xff\xff\xff\xff",
		"stream":        "\x13\x01s" + huge(1<<60),
		"module fields": "\x07\x01m\x05\x05" + huge(1<<50),
	}
	for name, body := range bodies {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := firstError(NewReader(strings.NewReader("REDIS0010" + body)))
		runtime.ReadMemStats(&after)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v", name, err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%s: allocated %d bytes", name, d)
		}
	}
}

// streamBody returns a stream value (after its key) of the given encoding
// with one group, a pending entry and a consumer.
func streamBody(enc Encoding) []byte {
	var out bytes.Buffer
	w := NewWriter(&out, WriterOptions{})
	id := make([]byte, 16)
	w.writeLen(1)
	w.writeString(id)
	w.writeString(encodeListpack(bs("1", "0", "f", "v")))
	n := 3
	if enc >= EncStreamListpacks2 {
		n += 5
	}
	for range n {
		w.writeLen(1)
	}
	w.writeLen(1) // groups
	w.writeString([]byte("g"))
	w.writeLen(1)
	w.writeLen(0)
	if enc >= EncStreamListpacks2 {
		w.writeLen(1)
	}
	w.writeLen(1) // PEL
	w.buf = append(w.buf, make([]byte, 24)...)
	w.writeLen(1)
	w.writeLen(1) // consumers
	w.writeString([]byte("c"))
	w.buf = append(w.buf, make([]byte, 8)...)
	if enc >= EncStreamListpacks3 {
		w.buf = append(w.buf, make([]byte, 8)...)
	}
	w.writeLen(1)
	w.buf = append(w.buf, make([]byte, 16)...)
	w.flush()
	return out.Bytes()
}

func moduleID(name string, ver uint64) uint64 {
	const cset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var id uint64
	for _, c := range []byte(name) {
		id = id<<6 | uint64(strings.IndexByte(cset, c))
	}
	return id<<10 | ver
}

func moduleFields(w *Writer) {
	w.writeLen(2)
	w.writeLen(12345)
	w.writeLen(5)
	w.writeString([]byte("module string"))
	w.writeLen(4)
	w.buf = append(w.buf, make([]byte, 8)...)
	w.writeLen(3)
	w.buf = append(w.buf, make([]byte, 4)...)
	w.writeLen(1)
	w.writeLen(7)
	w.writeLen(0)
}

func TestUnsupported(t *testing.T) {
	next := func(w *Writer) { w.String([]byte("after"), []byte("ok"), -1) }
	cases := []struct {
		name    string
		body    func(w *Writer)
		msg     string
		skipped bool
	}{}
	for _, enc := range []Encoding{EncStreamListpacks, EncStreamListpacks2, EncStreamListpacks3} {
		cases = append(cases, struct {
			name    string
			body    func(w *Writer)
			msg     string
			skipped bool
		}{enc.String(), func(w *Writer) {
			w.buf = append(w.buf, opExpireMs, 1, 0, 0, 0, 0, 0, 0, 0)
			rawKey(w, enc, []byte("mystream"), -1, func(w *Writer) { w.buf = append(w.buf, streamBody(enc)...) })
		}, `rdb: key "mystream" has type stream (` + map[Encoding]string{15: "15", 19: "19", 21: "21"}[enc] + `), which lagwise does not support`, true})
	}
	cases = append(cases, []struct {
		name    string
		body    func(w *Writer)
		msg     string
		skipped bool
	}{
		{"module2", func(w *Writer) {
			rawKey(w, EncModule2, []byte("m"), -1, func(w *Writer) {
				w.writeLen(moduleID("ReJSON-RL", 3))
				moduleFields(w)
			})
		}, `rdb: key "m" has type module (7) of module "ReJSON-RL", which lagwise does not support`, true},
		{"module aux", func(w *Writer) {
			w.buf = append(w.buf, opModuleAux)
			w.writeLen(moduleID("graphdata", 1))
			w.writeLen(2)
			w.writeLen(2)
			moduleFields(w)
		}, `rdb: the file holds auxiliary data of module "graphdata" (opcode 0xf7), which lagwise does not support`, true},
		{"function", func(w *Writer) {
			w.buf = append(w.buf, opFunction2)
			w.writeString([]byte("#!lua name=lib\nredis.register_function('f', function() return 1 end)"))
		}, `rdb: the file holds a function library (opcode 0xf5), which lagwise does not support`, true},
		{"module1", func(w *Writer) {
			rawKey(w, EncModule, []byte("old"), -1, func(w *Writer) { w.writeLen(moduleID("oldmodule", 0)) })
		}, `rdb: key "old" has type module (6) of module "oldmodule", which lagwise does not support`, false},
		{"function pre-GA", func(w *Writer) { w.buf = append(w.buf, opFunctionPreGA) },
			`rdb: the file holds a function library (opcode 0xf6), which lagwise does not support`, false},
	}...)
	for _, c := range cases {
		file := build(t, func(w *Writer) {
			w.SelectDB(2)
			c.body(w)
			next(w)
		})
		r := NewReader(bytes.NewReader(file))
		if e, err := r.Next(); err != nil || e != (SelectDB{2}) {
			t.Fatalf("%s: %v %v", c.name, e, err)
		}
		_, err := r.Next()
		var ue *UnsupportedError
		if !errors.As(err, &ue) || err.Error() != c.msg || ue.Skipped != c.skipped || !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: got %v, want %s (skipped %v)", c.name, err, c.msg, c.skipped)
			continue
		}
		e, err2 := r.Next()
		if !c.skipped {
			if err2 != err {
				t.Errorf("%s: error not final: %v", c.name, err2)
			}
			continue
		}
		k, ok := e.(Key)
		if err2 != nil || !ok || string(k.Key) != "after" || k.Expire != -1 || k.DB != 2 {
			t.Errorf("%s: after skipping: %v %v", c.name, e, err2)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		k := f.n
		f.n = 0
		return k, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(io.Discard, WriterOptions{})
	three := func(yield func([]byte) bool) {
		for _, s := range []string{"a", "b", "c"} {
			if !yield([]byte(s)) {
				return
			}
		}
	}
	if err := w.ListSeq([]byte("l"), -1, 2, three); err == nil || !strings.Contains(err.Error(), "more than the 2") {
		t.Fatalf("too many: %v", err)
	}
	if err := w.String([]byte("x"), nil, -1); err == nil {
		t.Fatal("error not sticky")
	}
	w = NewWriter(io.Discard, WriterOptions{})
	if err := w.SetSeq([]byte("s"), -1, 4, three); err == nil || !strings.Contains(err.Error(), "4 elements announced, 3 given") {
		t.Fatalf("too few: %v", err)
	}
	w = NewWriter(io.Discard, WriterOptions{})
	if err := w.ZSet([]byte("z"), -1, []ZMember{{[]byte("m"), math.NaN()}}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("NaN: %v", err)
	}
	w = NewWriter(io.Discard, WriterOptions{})
	w.Close()
	if err := w.Aux("a", "b"); err != ErrClosed {
		t.Fatalf("after close: %v", err)
	}
	for _, limit := range []int{0, 5, 100, 70000} {
		w = NewWriter(&failWriter{n: limit}, WriterOptions{Checksum: true})
		big := bytes.Repeat([]byte("x"), 100000)
		w.String([]byte("k"), big, -1)
		w.String([]byte("k2"), []byte("v"), -1)
		if err := w.Close(); err == nil || err.Error() != "disk full" {
			t.Fatalf("limit %d: %v", limit, err)
		}
	}
}

// TestStreamingCollections writes a large collection through the Seq
// forms without building it in memory.
func TestStreamingCollections(t *testing.T) {
	const n = 200000
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{Compress: true, Checksum: true})
	w.ListSeq([]byte("l"), -1, n, func(yield func([]byte) bool) {
		b := make([]byte, 0, 16)
		for i := range n {
			b = append(b[:0], "item"...)
			b = append(b, byte('a'+i%26))
			if !yield(b) {
				return
			}
		}
	})
	w.HashSeq([]byte("h"), 5, n, func(yield func([]byte, []byte) bool) {
		for i := range n {
			if !yield([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, []byte("v")) {
				return
			}
		}
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	e, err := r.Next()
	if k, ok := e.(Key); err != nil || !ok || len(k.List) != n || string(k.List[n-1]) != "item"+string(rune('a'+(n-1)%26)) {
		t.Fatalf("list: %v", err)
	}
	e, err = r.Next()
	if k, ok := e.(Key); err != nil || !ok || len(k.Hash) != n || k.Expire != 5 || !bytes.Equal(k.Hash[n-1][0], []byte{0x3f, 0x0d, 0x03}) {
		t.Fatalf("hash: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatal(err)
	}
}
