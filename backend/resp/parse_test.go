package resp

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		args    []string
		n       int // bytes consumed; 0: incomplete
		wantErr string
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET", "k"}, 20, ""},
		{"multibulk followed by more", "*1\r\n$4\r\nPING\r\n*1\r\n", []string{"PING"}, 14, ""},
		{"empty bulk", "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", []string{"GET", ""}, 19, ""},
		{"binary bulk with CRLF inside", "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", []string{"ECHO", "a\r\nb"}, 24, ""},
		{"zero count is an empty request", "*0\r\n", nil, 4, ""},
		{"negative count is an empty request", "*-1\r\n", nil, 5, ""},
		{"incomplete count line", "*2\r", nil, 0, ""},
		{"incomplete bulk", "*1\r\n$4\r\nPI", nil, 0, ""},
		{"bulk without trailing CRLF yet", "*1\r\n$4\r\nPING", nil, 0, ""},
		{"inline", "PING\r\n", []string{"PING"}, 6, ""},
		{"inline LF only", "set a b\n", []string{"set", "a", "b"}, 8, ""},
		{"inline quoted", "set \"a b\" 'c\\'d'\r\n", []string{"set", "a b", "c'd"}, 18, ""},
		{"inline hex escape", "echo \"\\x41\\n\"\n", []string{"echo", "A\n"}, 14, ""},
		{"inline blank line", "\r\n", nil, 2, ""},
		{"inline incomplete", "PIN", nil, 0, ""},
		{"inline unbalanced", "set \"a b\r\n", nil, 0, "Protocol error: unbalanced quotes in request"},
		{"inline quote not followed by space", "set \"a\"b c\r\n", nil, 0, "Protocol error: unbalanced quotes in request"},
		{"bad count", "*x\r\n", nil, 0, "Protocol error: invalid multibulk length"},
		{"huge count", "*2147483648000\r\n", nil, 0, "Protocol error: invalid multibulk length"},
		{"count with plus", "*+1\r\n", nil, 0, "Protocol error: invalid multibulk length"},
		{"missing dollar", "*1\r\n:4\r\nPING\r\n", nil, 0, "Protocol error: expected '$', got ':'"},
		{"negative bulk", "*1\r\n$-1\r\n", nil, 0, "Protocol error: invalid bulk length"},
		{"bulk over limit", "*1\r\n$1073741824\r\n", nil, 0, "Protocol error: invalid bulk length"},
		{"bad bulk length", "*1\r\n$1a\r\n", nil, 0, "Protocol error: invalid bulk length"},
		{"leading zero", "*1\r\n$04\r\nPING\r\n", nil, 0, "Protocol error: invalid bulk length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, n, _, err := ParseCommand([]byte(tt.in), nil, Limits{MaxBulk: 512 << 20})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if n != tt.n {
				t.Fatalf("consumed %d, want %d", n, tt.n)
			}
			if len(args) != len(tt.args) {
				t.Fatalf("args = %q, want %q", args, tt.args)
			}
			for i := range args {
				if string(args[i]) != tt.args[i] {
					t.Fatalf("args = %q, want %q", args, tt.args)
				}
			}
		})
	}
}

func TestParseCommandTooBigLines(t *testing.T) {
	big := strings.Repeat("a", InlineMax+1)
	cases := map[string]string{
		big:             "Protocol error: too big inline request",
		"*" + big:       "Protocol error: too big mbulk count string",
		"*1\r\n$" + big: "Protocol error: too big bulk count string",
	}
	for in, want := range cases {
		_, _, _, err := ParseCommand([]byte(in), nil, Limits{})
		if err == nil || err.Error() != want {
			t.Errorf("%.20q...: err = %v, want %q", in, err, want)
		}
	}
}

func TestParseCommandUnauthenticatedLimits(t *testing.T) {
	lim := Limits{MaxBulk: 512 << 20, Unauthenticated: true}
	_, _, _, err := ParseCommand([]byte("*11\r\n"), nil, lim)
	if err == nil || err.Error() != "Protocol error: unauthenticated multibulk length" {
		t.Fatalf("err = %v", err)
	}
	_, _, _, err = ParseCommand([]byte("*1\r\n$16385\r\n"), nil, lim)
	if err == nil || err.Error() != "Protocol error: unauthenticated bulk length" {
		t.Fatalf("err = %v", err)
	}
}

// A request split at every byte boundary parses to the same arguments once
// complete, and reports incomplete before that.
func TestParseCommandEverySplit(t *testing.T) {
	req := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
	for i := 0; i < len(req); i++ {
		_, n, _, err := ParseCommand(req[:i], nil, Limits{})
		if err != nil || n != 0 {
			t.Fatalf("prefix %d: n=%d err=%v, want incomplete", i, n, err)
		}
	}
	args, n, _, err := ParseCommand(req, nil, Limits{})
	if err != nil || n != len(req) || string(bytes.Join(args, []byte(" "))) != "SET key value" {
		t.Fatalf("full: %q %d %v", args, n, err)
	}
}

// need tells a reader how large the buffer must grow for a big bulk.
func TestParseCommandNeed(t *testing.T) {
	_, n, need, err := ParseCommand([]byte("*1\r\n$100000\r\nab"), nil, Limits{MaxBulk: 1 << 20})
	if err != nil || n != 0 || need != 4+9+100000+2 {
		t.Fatalf("n=%d need=%d err=%v", n, need, err)
	}
}

func TestFormatScore(t *testing.T) {
	cases := map[float64]string{
		0: "0", 1: "1", -1: "-1", 1.5: "1.5", 0.1: "0.10000000000000001",
		3.0e20: "3e+20", 1e17: "1e+17", 1e16: "10000000000000000", 0.0001: "0.0001",
		0.00001: "1.0000000000000001e-05", 123456789.123: "123456789.123",
	}
	for f, want := range cases {
		if got := string(FormatScore(nil, f)); got != want {
			t.Errorf("FormatScore(%v) = %q, want %q", f, got, want)
		}
	}
}

func BenchmarkParseCommand(b *testing.B) {
	req := []byte("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$64\r\n" + strings.Repeat("x", 64) + "\r\n")
	args := make([][]byte, 0, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for i := 0; i < b.N; i++ {
		var err error
		args, _, _, err = ParseCommand(req, args, Limits{MaxBulk: 512 << 20})
		if err != nil {
			b.Fatal(err)
		}
	}
}
