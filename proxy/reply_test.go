package proxy

import (
	"bytes"
	"testing"
)

// Each case is a stream of whole replies; the scanner must find exactly
// their boundaries, whatever the pieces they arrive in.
var replyCases = []struct {
	what    string
	replies []string
}{
	{"simple types", []string{"+OK\r\n", "-ERR no\r\n", ":42\r\n", ":-1\r\n"}},
	{"bulk strings", []string{"$3\r\nfoo\r\n", "$0\r\n\r\n", "$-1\r\n", "$4\r\na\r\nb\r\n"}},
	{"arrays", []string{"*0\r\n", "*-1\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "*1\r\n*1\r\n*1\r\n+deep\r\n"}},
	{"a pub/sub message", []string{"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"}},
	{"an EXEC with nested nulls", []string{"*3\r\n+OK\r\n$-1\r\n*2\r\n:1\r\n*-1\r\n"}},
	{"RESP3 types", []string{"_\r\n", ",1.5\r\n", "#t\r\n", "(123\r\n", "=7\r\ntxt:abc\r\n", "%1\r\n+k\r\n:1\r\n", "~2\r\n:1\r\n:2\r\n", ">2\r\n+a\r\n+b\r\n", "|1\r\n+ttl\r\n:3\r\n+value\r\n"}},
}

func TestReplyScannerBoundaries(t *testing.T) {
	for _, tc := range replyCases {
		stream := []byte{}
		var ends []int
		for _, r := range tc.replies {
			stream = append(stream, r...)
			ends = append(ends, len(stream))
		}
		// Every split of the stream in two pieces.
		for cut := 0; cut <= len(stream); cut++ {
			got := scanPieces(t, [][]byte{stream[:cut], stream[cut:]})
			if !equalInts(got, ends) {
				t.Fatalf("%s: cut at %d: boundaries %v, want %v", tc.what, cut, got, ends)
			}
		}
		// One byte at a time.
		var pieces [][]byte
		for i := range stream {
			pieces = append(pieces, stream[i:i+1])
		}
		if got := scanPieces(t, pieces); !equalInts(got, ends) {
			t.Fatalf("%s: byte by byte: boundaries %v, want %v", tc.what, got, ends)
		}
	}
}

// scanPieces feeds pieces to a scanner as a connection would, keeping the
// unfinished reply's bytes, and returns the stream offsets where replies
// ended.
func scanPieces(t *testing.T, pieces [][]byte) []int {
	t.Helper()
	var s replyScanner
	var buf []byte
	var ends []int
	consumed := 0
	for _, p := range pieces {
		buf = append(buf, p...)
		for {
			n, err := s.next(buf)
			if err != nil {
				t.Fatalf("scanner error: %v", err)
			}
			if n == 0 {
				break
			}
			consumed += n
			ends = append(ends, consumed)
			buf = buf[n:]
		}
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left unscanned: %q", len(buf), buf)
	}
	return ends
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReplyScannerRejects(t *testing.T) {
	for _, bad := range []string{
		"?what\r\n",
		"$abc\r\n",
		"$-2\r\n",
		"*x\r\n",
		"$3\r\nfoo\r\r",
		"+OK\rX",
		"$99999999999\r\n",
		"*1\r\n$1\r\nab\r\n",
	} {
		var s replyScanner
		if n, err := s.next([]byte(bad)); err == nil {
			t.Errorf("%q: accepted (n=%d), want a protocol error", bad, n)
		}
	}
	var s replyScanner
	if _, err := s.next(bytes.Repeat([]byte("+"), maxReplyLine+2)); err == nil {
		t.Errorf("a line longer than %d bytes without CRLF was accepted", maxReplyLine)
	}
}

func TestInspectPubsub(t *testing.T) {
	cases := []struct {
		reply string
		what  pubsubReply
		kind  string
		count int64
	}{
		{"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", pushMessage, "", 0},
		{"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n", pushMessage, "", 0},
		{"*3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", pushMessage, "", 0},
		{"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", confirmation, "subscribe", 1},
		{"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", confirmation, "unsubscribe", 0},
		{"*3\r\n$12\r\npunsubscribe\r\n$2\r\n:3\r\n:12\r\n", confirmation, "punsubscribe", 12},
		{"*2\r\n$4\r\npong\r\n$0\r\n\r\n", notPubsub, "", 0},
		{"+OK\r\n", notPubsub, "", 0},
		{"*3\r\n$3\r\nfoo\r\n$2\r\nch\r\n:1\r\n", notPubsub, "", 0},
		{"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n$1\r\n1\r\n", notPubsub, "", 0},
	}
	for _, tc := range cases {
		what, kind, count := inspectPubsub([]byte(tc.reply))
		if what != tc.what || string(kind) != tc.kind || count != tc.count {
			t.Errorf("%q: got %v %q %d, want %v %q %d", tc.reply, what, kind, count, tc.what, tc.kind, tc.count)
		}
	}
}

// FuzzReplyScanner: on any bytes the scanner either errs or finds
// boundaries that do not depend on how the bytes are split, and never
// panics.
func FuzzReplyScanner(f *testing.F) {
	for _, tc := range replyCases {
		var b []byte
		for _, r := range tc.replies {
			b = append(b, r...)
		}
		f.Add(b, uint16(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		whole, errWhole := scanAll(data, len(data))
		split, errSplit := scanAll(data, int(cut)%(len(data)+1))
		if (errWhole != nil) != (errSplit != nil) {
			if errWhole == nil || errSplit == nil {
				// An error may show only once enough bytes are in; the
				// boundaries before it must still agree.
				n := min(len(whole), len(split))
				if !equalInts(whole[:n], split[:n]) {
					t.Fatalf("boundaries differ: %v vs %v", whole, split)
				}
				return
			}
		}
		if errWhole == nil && !equalInts(whole, split) {
			t.Fatalf("boundaries differ with a cut at %d: %v vs %v", cut, whole, split)
		}
		for _, e := range whole {
			if e > len(data) {
				t.Fatalf("boundary %d past the end (%d)", e, len(data))
			}
		}
	})
}

func scanAll(data []byte, cut int) ([]int, error) {
	var s replyScanner
	var ends []int
	var buf []byte
	consumed := 0
	for _, p := range [][]byte{data[:cut], data[cut:]} {
		buf = append(buf, p...)
		for {
			n, err := s.next(buf)
			if err != nil {
				return ends, err
			}
			if n == 0 {
				break
			}
			consumed += n
			ends = append(ends, consumed)
			buf = buf[n:]
		}
	}
	return ends, nil
}
