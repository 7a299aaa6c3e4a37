package replication

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadTransferHeader(t *testing.T) {
	mark := strings.Repeat("ab", 20)
	var markBytes [IDLen]byte
	copy(markBytes[:], mark)
	cases := []struct {
		name string
		in   string
		want Transfer
		err  string
	}{
		{"disk-based", "$18\r\n", Transfer{Size: 18}, ""},
		{"keep-alives first", "\n\n\n$0\r\n", Transfer{Size: 0}, ""},
		{"largest", "$1099511627776\r\n", Transfer{Size: MaxTransferSize}, ""},
		{"diskless", "\n$EOF:" + mark + "\r\n", Transfer{Size: -1, Mark: markBytes}, ""},
		{"diskless, LF only", "$EOF:" + mark + "\n", Transfer{Size: -1, Mark: markBytes}, ""},
		{"master error", "\n-ERR BGSAVE failed\r\n", Transfer{}, "master replied to SYNC: -ERR BGSAVE failed"},
		{"not a bulk", "+FULLRESYNC " + testID + " 1\r\n", Transfer{}, "not '$'"},
		{"negative", "$-1\r\n", Transfer{}, "bad transfer length"},
		{"not a number", "$abc\r\n", Transfer{}, "bad transfer length"},
		{"empty length", "$\r\n", Transfer{}, "bad transfer length"},
		{"leading zero", "$018\r\n", Transfer{}, "bad transfer length"},
		{"too large", "$1099511627777\r\n", Transfer{}, "bad transfer length"},
		{"overflow", "$99999999999999999999999\r\n", Transfer{}, "bad transfer length"},
		{"short mark", "$EOF:abc\r\n", Transfer{}, "EOF mark"},
		{"long mark", "$EOF:" + mark + "x\r\n", Transfer{}, "EOF mark"},
		{"closed", "\n\n", Transfer{}, io.ErrUnexpectedEOF.Error()},
		{"closed mid-line", "$12", Transfer{}, io.ErrUnexpectedEOF.Error()},
	}
	for _, tc := range cases {
		r := bufio.NewReader(strings.NewReader(tc.in + "REDIS"))
		got, err := ReadTransferHeader(r)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
			continue
		}
		if got.Diskless() != (tc.want.Size < 0) {
			t.Errorf("%s: Diskless() = %v", tc.name, got.Diskless())
		}
		if rest, _ := io.ReadAll(r); string(rest) != "REDIS" {
			t.Errorf("%s: %q left after the header", tc.name, rest)
		}
	}
}

// rdbLike is a payload shaped like an RDB (header, random body, EOF opcode
// and 8-byte CRC) with prefixes of mark scattered inside it, and maybe one
// at its very end, right before the real mark. mark must not overlap
// itself, so that the payload cannot end in the middle of a false mark.
func rdbLike(rng *rand.Rand, mark []byte) []byte {
	for {
		p := []byte("REDIS0010")
		for range rng.IntN(8) {
			p = append(p, randBytes(rng, rng.IntN(200))...)
			p = append(p, mark[:1+rng.IntN(IDLen-1)]...)
		}
		p = append(p, randBytes(rng, rng.IntN(300))...)
		p = append(p, 0xff)
		p = append(p, randBytes(rng, 8)...)
		if rng.IntN(3) == 0 {
			p = append(p, mark[:1+rng.IntN(IDLen-1)]...)
		}
		if !bytes.Contains(p, mark) {
			return p
		}
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

// randMark is a random mark of hex digits, as Redis makes, that does not
// overlap itself (no proper prefix equals a suffix).
func randMark(rng *rand.Rand) []byte {
	const hexd = "0123456789abcdef"
	for {
		m := make([]byte, IDLen)
		for i := range m {
			m[i] = hexd[rng.IntN(3)] // few symbols: prefixes of the mark are often partial matches
		}
		overlaps := false
		for k := 1; k < IDLen; k++ {
			if bytes.Equal(m[:k], m[IDLen-k:]) {
				overlaps = true
			}
		}
		if !overlaps {
			return m
		}
	}
}

var sourceWrappers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data+err", iotest.DataErrReader},
}

var bodyReads = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"ReadAll", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
}

// TestBody checks that the body yields exactly the payload and leaves the
// reader at the first byte of the stream, however the bytes arrive and
// however the caller reads them, for both kinds of transfer.
func TestBody(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const stream = "*1\r\n$4\r\nping\r\n"
	for i := range 300 {
		mark := randMark(rng)
		payload := rdbLike(rng, mark)
		var tr Transfer
		var wire []byte
		if i%2 == 0 {
			tr = Transfer{Size: int64(len(payload))}
			wire = append(append([]byte{}, payload...), stream...)
		} else {
			tr = Transfer{Size: -1}
			copy(tr.Mark[:], mark)
			wire = append(append(append([]byte{}, payload...), mark...), stream...)
		}
		sw := sourceWrappers[rng.IntN(len(sourceWrappers))]
		br := bodyReads[rng.IntN(len(bodyReads))]
		size := []int{IDLen, 64, 4096}[rng.IntN(3)]
		r := bufio.NewReaderSize(sw.wrap(bytes.NewReader(wire)), size)
		got, err := io.ReadAll(br.wrap(tr.Body(r)))
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("case %d (diskless %v, source %s, reads %s, buffer %d): %d bytes, %v; want the %d bytes of the payload",
				i, tr.Diskless(), sw.name, br.name, size, len(got), err, len(payload))
		}
		rest, err := io.ReadAll(r)
		if err != nil || string(rest) != stream {
			t.Fatalf("case %d (diskless %v, source %s, reads %s, buffer %d): %q left after the body, want the stream",
				i, tr.Diskless(), sw.name, br.name, size, rest)
		}
	}
}

// TestBodyCut cuts the transfer at every byte before its end: reading the
// body must fail with io.ErrUnexpectedEOF and never yield a byte past the
// payload.
func TestBodyCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	mark := randMark(rng)
	payload := rdbLike(rng, mark)
	for _, diskless := range []bool{false, true} {
		tr := Transfer{Size: int64(len(payload))}
		wire := append([]byte{}, payload...)
		if diskless {
			tr = Transfer{Size: -1}
			copy(tr.Mark[:], mark)
			wire = append(wire, mark...)
		}
		for cut := range len(wire) {
			r := bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(wire[:cut])), 64)
			got, err := io.ReadAll(tr.Body(r))
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("diskless %v, cut at %d of %d: %v, want io.ErrUnexpectedEOF", diskless, cut, len(wire), err)
			}
			if !bytes.HasPrefix(payload, got) {
				t.Fatalf("diskless %v, cut at %d: yielded bytes that are not the payload's", diskless, cut)
			}
		}
	}
}

func TestBodyEdges(t *testing.T) {
	// An empty disk-based body.
	r := bufio.NewReader(strings.NewReader("*1\r\n"))
	if got, err := io.ReadAll(Transfer{Size: 0}.Body(r)); err != nil || len(got) != 0 {
		t.Errorf("empty body: %q, %v", got, err)
	}
	// A diskless body that is only the mark.
	var tr Transfer
	tr.Size = -1
	copy(tr.Mark[:], strings.Repeat("01", 20))
	r = bufio.NewReader(strings.NewReader(strings.Repeat("01", 20) + "*1\r\n"))
	if got, err := io.ReadAll(tr.Body(r)); err != nil || len(got) != 0 {
		t.Errorf("mark only: %q, %v", got, err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "*1\r\n" {
		t.Errorf("mark only: %q left", rest)
	}
	// A read buffer too small to look for the mark.
	r = bufio.NewReaderSize(strings.NewReader(strings.Repeat("01", 20)), 16)
	if _, err := io.ReadAll(tr.Body(r)); err == nil || !strings.Contains(err.Error(), "read buffer") {
		t.Errorf("small buffer: %v", err)
	}
	// Reads of nothing.
	body := Transfer{Size: 3}.Body(bufio.NewReader(strings.NewReader("abc")))
	if n, err := body.Read(nil); n != 0 || err != nil {
		t.Errorf("empty read: %d, %v", n, err)
	}
}
