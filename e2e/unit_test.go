package e2e

import (
	"bufio"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/resp"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"SET k v", []string{"SET", "k", "v"}},
		{"  SET\tk   v  ", []string{"SET", "k", "v"}},
		{`SET k ""`, []string{"SET", "k", ""}},
		{`ECHO "hello world"`, []string{"ECHO", "hello world"}},
		{`ECHO "\x00\xff\x4A"`, []string{"ECHO", "\x00\xffJ"}},
		{`ECHO "\n\r\t\b\a\\\"\q"`, []string{"ECHO", "\n\r\t\b\a\\\"q"}},
		{`ECHO "\x4"`, []string{"ECHO", "x4"}},
		{`ECHO 'it\'s "raw" \n'`, []string{"ECHO", `it's "raw" \n`}},
		{`ECHO ab"c d"`, []string{"ECHO", "abc d"}},
		{`KEYS key:#1`, []string{"KEYS", "key:#1"}},
	}
	for _, tt := range tests {
		got, err := splitArgs(tt.in)
		if err != nil {
			t.Errorf("splitArgs(%q): %v", tt.in, err)
			continue
		}
		var gotS []string
		for _, a := range got {
			gotS = append(gotS, string(a))
		}
		if !reflect.DeepEqual(gotS, tt.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tt.in, gotS, tt.want)
		}
	}
	for _, bad := range []string{`ECHO "open`, `ECHO 'open`, `ECHO "a"b`, `ECHO a"b c"d`, `ECHO "\"`} {
		if got, err := splitArgs(bad); err == nil {
			t.Errorf("splitArgs(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseScript(t *testing.T) {
	src := "# comment\n\n  PING\n@sort SMEMBERS s\n@scan  SCAN 0 MATCH *\n@shape TIME\n@sortpairs HGETALL h\n"
	lines, err := parseScript(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		num  int
		norm norm
		text string
	}{
		{3, normExact, "PING"},
		{4, normSort, "SMEMBERS s"},
		{5, normScan, "SCAN 0 MATCH *"},
		{6, normShape, "TIME"},
		{7, normSortPairs, "HGETALL h"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d", len(lines), len(want))
	}
	for i, w := range want {
		if l := lines[i]; l.num != w.num || l.norm != w.norm || l.text != w.text {
			t.Errorf("line %d = {%d %v %q}, want {%d %v %q}", i, l.num, l.norm, l.text, w.num, w.norm, w.text)
		}
	}
	for _, bad := range []string{"@sorted KEYS *", "@sort", "@scan GET k", `ECHO "x`} {
		if _, err := parseScript(strings.NewReader(bad)); err == nil {
			t.Errorf("parseScript(%q) succeeded, want an error", bad)
		}
	}
}

// TestCommandList checks that the differential command list parses and is
// as broad as it claims.
func TestCommandList(t *testing.T) {
	lines, err := loadScript(scriptPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < 350 {
		t.Errorf("%s has %d commands, want at least 350", scriptPath, len(lines))
	}
	for _, l := range lines {
		switch l.name() {
		case "subscribe", "psubscribe", "ssubscribe", "monitor", "shutdown", "quit", "reset":
			t.Errorf("%s:%d: %s cannot run in lock step", scriptPath, l.num, l.text)
		}
	}
}

func TestReadReply(t *testing.T) {
	replies := []string{
		"+OK\r\n",
		"-ERR unknown command 'x'\r\n",
		":-42\r\n",
		"$5\r\nhello\r\n",
		"$0\r\n\r\n",
		"$-1\r\n",
		"$4\r\na\r\nb\r\n", // CRLF inside a bulk string
		"*0\r\n",
		"*-1\r\n",
		"*3\r\n$1\r\na\r\n*2\r\n:1\r\n*-1\r\n$-1\r\n",
		"*2\r\n*1\r\n*1\r\n+deep\r\n-ERR in array\r\n",
		"%1\r\n+key\r\n:1\r\n",
		"_\r\n",
		",1.5\r\n",
		"#t\r\n",
		"~1\r\n$1\r\nx\r\n",
	}
	// All replies back to back, then a sentinel: each read must take exactly
	// one reply.
	stream := strings.Join(replies, "") + "+END\r\n"
	r := bufio.NewReader(strings.NewReader(stream))
	for _, want := range replies {
		got, err := readReply(r)
		if err != nil {
			t.Fatalf("reading %q: %v", want, err)
		}
		if string(got.raw) != want {
			t.Errorf("read %q, want %q", got.raw, want)
		}
		// Cross-check the RESP2 framing with an independent decoder.
		if strings.IndexByte("+-:$*", want[0]) >= 0 {
			v, n, err := resp.NewReader(strings.NewReader(want)).ReadValue()
			if err != nil || n != len(want) {
				t.Errorf("tidwall/resp read %q: n=%d err=%v", want, n, err)
			} else if b, err := v.MarshalRESP(); err != nil || string(b) != want {
				t.Errorf("tidwall/resp round trip of %q gave %q, %v", want, b, err)
			}
		}
	}
	if end, err := readReply(r); err != nil || string(end.raw) != "+END\r\n" {
		t.Fatalf("sentinel: %v %v", end, err)
	}
	if _, err := readReply(r); err != io.EOF {
		t.Errorf("at end of stream: err = %v, want io.EOF", err)
	}

	for _, bad := range []string{"+OK\n", "$5\r\nab\r\n", "$2\r\nabcd\r\n", "*2\r\n:1\r\n", "?x\r\n", "$x\r\n", "*-2\r\n"} {
		if got, err := readReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("readReply(%q) = %q, want an error", bad, got.raw)
		}
	}
}

func parseReply(t *testing.T, s string) *reply {
	t.Helper()
	r, err := readReply(bufio.NewReader(strings.NewReader(s)))
	if err != nil {
		t.Fatalf("readReply(%q): %v", s, err)
	}
	return r
}

func TestNormalisations(t *testing.T) {
	arr := parseReply(t, "*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n")
	if got, want := string(sorted(arr).raw), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"; got != want {
		t.Errorf("sorted = %q, want %q", got, want)
	}
	pairs := parseReply(t, "*4\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n")
	if got, want := string(sortedPairs(pairs).raw), "*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n1\r\n"; got != want {
		t.Errorf("sortedPairs = %q, want %q", got, want)
	}
	for _, s := range []string{"+OK\r\n", "$-1\r\n", "*-1\r\n", "*1\r\n$1\r\na\r\n"} {
		r := parseReply(t, s)
		if !bytes.Equal(sorted(r).raw, r.raw) {
			t.Errorf("sorted changed %q", s)
		}
	}
	if got := sortedPairs(arr); !bytes.Equal(got.raw, arr.raw) {
		t.Errorf("sortedPairs changed an odd-length array to %q", got.raw)
	}

	sameShape := [][2]string{
		{"$3\r\nabc\r\n", "$1\r\nx\r\n"},
		{":1\r\n", ":100\r\n"},
		{"*2\r\n$10\r\n1700000000\r\n$6\r\n123456\r\n", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
	}
	for _, p := range sameShape {
		if a, b := shape(parseReply(t, p[0])), shape(parseReply(t, p[1])); a != b {
			t.Errorf("shapes of %q and %q differ: %q vs %q", p[0], p[1], a, b)
		}
	}
	otherShape := [][2]string{
		{"$3\r\nabc\r\n", "$-1\r\n"},
		{"$1\r\n1\r\n", ":1\r\n"},
		{"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"*1\r\n$1\r\na\r\n", "*1\r\n:1\r\n"},
		{"-ERR a\r\n", "-ERR b\r\n"},
		{"*0\r\n", "*-1\r\n"},
	}
	for _, p := range otherShape {
		if a, b := shape(parseReply(t, p[0])), shape(parseReply(t, p[1])); a == b {
			t.Errorf("shapes of %q and %q are both %q", p[0], p[1], a)
		}
	}
}
