package command

import (
	"strings"
	"testing"
)

// Every name must fit the buffer LookupBytes and Sub lower-case into, or
// the command could never be found from a request.
func TestNamesFitLookupBuffer(t *testing.T) {
	var buf [32]byte
	longest := ""
	for name, c := range table {
		if len(name) > len(longest) {
			longest = name
		}
		for sub := range c.Subcommands {
			if len(sub) > len(longest) {
				longest = sub
			}
		}
	}
	if len(longest) > len(buf) {
		t.Fatalf("%q is longer than the %d-byte lookup buffer", longest, len(buf))
	}
}

func TestLookupBytes(t *testing.T) {
	cases := []struct {
		what string
		name string
		want string // "" for not found
	}{
		{"lower case", "get", "get"},
		{"upper case", "GET", "get"},
		{"mixed case", "zRangeByScore", "zrangebyscore"},
		{"name with an underscore", "EVAL_ro", "eval_ro"},
		{"unknown name", "nosuchcommand", ""},
		{"empty name", "", ""},
		{"prefix of a name", "ge", ""},
		{"name longer than any command", strings.Repeat("x", 40), ""},
		{"non-ASCII bytes are not folded", "G\xc9T", ""},
	}
	for _, tc := range cases {
		c := LookupBytes([]byte(tc.name))
		got := ""
		if c != nil {
			got = c.Name
		}
		if got != tc.want {
			t.Errorf("%s: LookupBytes(%q) = %q, want %q", tc.what, tc.name, got, tc.want)
		}
		if tc.want != "" && Lookup(tc.name) != c {
			t.Errorf("%s: Lookup and LookupBytes disagree on %q", tc.what, tc.name)
		}
	}
}

func TestSub(t *testing.T) {
	config, get := Lookup("config"), Lookup("get")
	cases := []struct {
		what   string
		parent *Command
		name   string
		want   string
	}{
		{"subcommand in upper case", config, "GET", "config|get"},
		{"subcommand in mixed case", config, "ReSetStat", "config|resetstat"},
		{"subcommand added beyond the 7.0 table", Lookup("client"), "SETINFO", "client|setinfo"},
		{"unknown subcommand", config, "nope", ""},
		{"command without subcommands", get, "x", ""},
		{"name longer than any subcommand", config, strings.Repeat("s", 33), ""},
	}
	for _, tc := range cases {
		c := tc.parent.Sub([]byte(tc.name))
		got := ""
		if c != nil {
			got = c.Name
		}
		if got != tc.want {
			t.Errorf("%s: %s.Sub(%q) = %q, want %q", tc.what, tc.parent.Name, tc.name, got, tc.want)
		}
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	name, sub := []byte("ZRANGEBYSCORE"), []byte("ResetStat")
	config := Lookup("config")
	if n := testing.AllocsPerRun(100, func() { LookupBytes(name) }); n != 0 {
		t.Errorf("LookupBytes: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { config.Sub(sub) }); n != 0 {
		t.Errorf("Sub: %v allocations, want 0", n)
	}
}

func BenchmarkLookupBytes(b *testing.B) {
	name := []byte("GET")
	b.ReportAllocs()
	for b.Loop() {
		if LookupBytes(name) == nil {
			b.Fatal("not found")
		}
	}
}

func BenchmarkLookupBytesLong(b *testing.B) {
	name := []byte("GEORADIUSBYMEMBER_RO")
	b.ReportAllocs()
	for b.Loop() {
		if LookupBytes(name) == nil {
			b.Fatal("not found")
		}
	}
}

func BenchmarkSub(b *testing.B) {
	config, name := Lookup("config"), []byte("GET")
	b.ReportAllocs()
	for b.Loop() {
		if config.Sub(name) == nil {
			b.Fatal("not found")
		}
	}
}
