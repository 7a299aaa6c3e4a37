package resp

import (
	"bytes"
	"testing"
)

// FuzzParseCommand feeds arbitrary bytes to the parser. It must never
// panic, never consume more than it was given, return arguments that lie
// inside the input, and parse the same bytes the same way when they arrive
// in two pieces.
func FuzzParseCommand(f *testing.F) {
	seeds := []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"PING\r\n",
		"set \"a\\x41\" 'b'\r\n",
		"*-5\r\n",
		"*1\r\n$-7\r\n",
		"*9223372036854775807\r\n",
		"*1\r\n$9223372036854775807\r\n",
		"*1\r\n$1073741824\r\n",   // a 1 GB claimed bulk
		"*1\r\n$3\r\nabc",         // missing CRLF
		"*2\r\n*1\r\n$1\r\na\r\n", // nested array
		"*1\r\n$3\r\nabcXY",
		"\x00\xff\xfe*\r\n$",
		"\"unterminated\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := Limits{MaxBulk: 512 << 20}
		args, n, need, err := ParseCommand(in, nil, lim)
		if n < 0 || n > len(in) || need < 0 {
			t.Fatalf("n=%d need=%d for %d bytes", n, need, len(in))
		}
		if err != nil {
			return
		}
		whole := make([][]byte, len(args))
		for i, a := range args {
			whole[i] = append([]byte(nil), a...)
		}
		if n == 0 {
			return
		}
		// Split delivery: every prefix is either incomplete or the same
		// request.
		for cut := 0; cut < n; cut += 1 + n/8 {
			a2, n2, _, err2 := ParseCommand(in[:cut], nil, lim)
			if err2 != nil {
				// A prefix can look like an over-long line only when the full
				// input was also rejected; it was not.
				t.Fatalf("prefix %d errors (%v) but full input parses", cut, err2)
			}
			if n2 != 0 && n2 != n {
				t.Fatalf("prefix %d consumed %d, full consumed %d", cut, n2, n)
			}
			if n2 == n && !equalArgs(a2, whole) {
				t.Fatalf("prefix parse differs")
			}
		}
	})
}

func equalArgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
