package aof

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	base := func(name string, seq int64) *FileInfo { return &FileInfo{name, seq, TypeBase} }
	incr := func(name string, seq int64) FileInfo { return FileInfo{name, seq, TypeIncr} }
	hist := func(name string, seq int64) FileInfo { return FileInfo{name, seq, TypeHistory} }
	tests := []struct {
		name string
		in   string
		want *Manifest
	}{
		{"redis after start", "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
			&Manifest{Base: base("appendonly.aof.1.base.rdb", 1), Incr: []FileInfo{incr("appendonly.aof.1.incr.aof", 1)}, BaseSeq: 1, IncrSeq: 1}},
		{"history", "file a.2.base.rdb seq 2 type b\nfile a.1.incr.aof seq 1 type h\nfile a.1.base.rdb seq 1 type h\nfile a.2.incr.aof seq 2 type i\n",
			&Manifest{Base: base("a.2.base.rdb", 2), History: []FileInfo{hist("a.1.incr.aof", 1), hist("a.1.base.rdb", 1)},
				Incr: []FileInfo{incr("a.2.incr.aof", 2)}, BaseSeq: 2, IncrSeq: 2}},
		{"any order, any case, extra keys", "TYPE i SEQ 3 File x extra 1\n",
			&Manifest{Incr: []FileInfo{incr("x", 3)}, IncrSeq: 3}},
		{"type is the first letter", "file x seq 1 type incr\n",
			&Manifest{Incr: []FileInfo{incr("x", 1)}, IncrSeq: 1}},
		{"seq read by atoll", "file x seq 7abc type i\nfile y seq +8 type i\n",
			&Manifest{Incr: []FileInfo{incr("x", 7), incr("y", 8)}, IncrSeq: 8}},
		{"negative seq is non-zero", "file x seq -1 type b\n",
			&Manifest{Base: base("x", -1), BaseSeq: -1}},
		{"quoted name", "file \"a b\\x41\\n\" seq 1 type i\n",
			&Manifest{Incr: []FileInfo{incr("a bA\n", 1)}, IncrSeq: 1}},
		{"single quotes", "file 'it''s' seq 1 type i\n", nil},
		{"comments and spaces", "# hello\n\t file x seq 1 type i \r\n#last without newline",
			&Manifest{Incr: []FileInfo{incr("x", 1)}, IncrSeq: 1}},
		{"only a comment", "# nothing\n", &Manifest{}},
		{"later key wins", "file x file y seq 1 type i\n", &Manifest{Incr: []FileInfo{incr("y", 1)}, IncrSeq: 1}},
		{"name cut at NUL", "file \"x\\x00y\" seq 1 type i\n", &Manifest{Incr: []FileInfo{incr("x", 1)}, IncrSeq: 1}},
		{"1023 bytes and newline", "file " + strings.Repeat("n", 1023-len("file  seq 1 type i")) + " seq 1 type i\n",
			&Manifest{Incr: []FileInfo{incr(strings.Repeat("n", 1023-len("file  seq 1 type i")), 1)}, IncrSeq: 1}},
	}
	for _, tt := range tests {
		got, err := ParseManifest([]byte(tt.in))
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: parsed %+v, want an error", tt.name, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseManifestErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		msg  string
	}{
		{"", 0, "Found an empty AOF manifest"},
		{"\n", 1, "Invalid AOF manifest file format"},
		{"  \t\n", 1, "Invalid AOF manifest file format"},
		{"file x seq 1 type i", 0, "The AOF manifest file contains too long line"},
		{"file " + strings.Repeat("n", 1024) + " seq 1 type i\n", 0, "The AOF manifest file contains too long line"},
		{"file x seq 1\n", 1, "Invalid AOF manifest file format"},
		{"file x seq 1 type\n", 1, "Invalid AOF manifest file format"},
		{"file x seq 0 type i\n", 1, "Invalid AOF manifest file format"},
		{"file x seq abc type i\n", 1, "Invalid AOF manifest file format"},
		{"file x seq 1 type \"\"\n", 1, "Invalid AOF manifest file format"},
		{"name x seq 1 type i\n", 1, "Invalid AOF manifest file format"},
		{"file \"x seq 1 type i\n", 1, "Invalid AOF manifest file format"},
		{"file a/b seq 1 type i\n", 1, "File can't be a path, just a filename"},
		{"file a\\\\b seq 1 type i\n", 1, "File can't be a path, just a filename"},
		{"file a seq 1 type b\n# c\nfile b seq 2 type b\n", 3, "Found duplicate base file information"},
		{"file x seq 2 type i\nfile y seq 1 type i\n", 2, "Found a non-monotonic sequence number"},
		{"file x seq 2 type i\nfile y seq 2 type i\n", 2, "Found a non-monotonic sequence number"},
		{"file x seq 2 type z\n", 1, "Unknown AOF file type"},
		{"file x seq 1 type i\x00\n", 0, "The AOF manifest file contains too long line"},
	}
	for _, tt := range tests {
		_, err := ParseManifest([]byte(tt.in))
		me, ok := err.(*ManifestError)
		if !ok {
			t.Errorf("%q: error %v, want a *ManifestError", tt.in, err)
			continue
		}
		if me.Msg != tt.msg || me.Line != tt.line || me.Error() != tt.msg {
			t.Errorf("%q: line %d %q, want line %d %q", tt.in, me.Line, me.Msg, tt.line, tt.msg)
		}
	}
}

func TestManifestEncode(t *testing.T) {
	m := &Manifest{
		Base:    &FileInfo{"appendonly.aof.3.base.rdb", 3, TypeBase},
		History: []FileInfo{{"appendonly.aof.2.incr.aof", 2, TypeHistory}, {"appendonly.aof.2.base.rdb", 2, TypeHistory}},
		Incr:    []FileInfo{{"appendonly.aof.3.incr.aof", 3, TypeIncr}},
	}
	want := "file appendonly.aof.3.base.rdb seq 3 type b\n" +
		"file appendonly.aof.2.incr.aof seq 2 type h\n" +
		"file appendonly.aof.2.base.rdb seq 2 type h\n" +
		"file appendonly.aof.3.incr.aof seq 3 type i\n"
	if got := string(m.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Names are quoted as sdscatrepr quotes them, and read back verbatim.
	if got := appendName(nil, `a\b`); string(got) != `"a\\b"` {
		t.Errorf("backslash: got %s", got)
	}
	for name, repr := range map[string]string{
		"my aof.1.incr.aof":       `"my aof.1.incr.aof"`,
		"q\"b.1.incr.aof":         `"q\"b.1.incr.aof"`,
		"c\n\r\t\a\b\x01\x7f\xff": `"c\n\r\t\a\b\x01\x7f\xff"`,
		"plain~!@#$%^&*()":        "plain~!@#$%^&*()",
	} {
		m := &Manifest{Incr: []FileInfo{{name, 1, TypeIncr}}}
		got := string(m.Bytes())
		if want := "file " + repr + " seq 1 type i\n"; got != want {
			t.Errorf("%q: got %q, want %q", name, got, want)
		}
		back, err := ParseManifest([]byte(got))
		if err != nil || back.Incr[0].Name != name {
			t.Errorf("%q: read back %+v, %v", name, back, err)
		}
	}
}

func TestManifestTransitions(t *testing.T) {
	m := &Manifest{}
	m.newBase("appendonly.aof", true)
	m.addIncr("appendonly.aof")
	want := "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	if got := string(m.Bytes()); got != want {
		t.Fatalf("start: %q", got)
	}
	// A rewrite: new incr at the start, new base at the end.
	m.addIncr("appendonly.aof")
	m.newBase("appendonly.aof", true)
	m.rewrittenIncrToHistory()
	want = "file appendonly.aof.2.base.rdb seq 2 type b\n" +
		"file appendonly.aof.1.incr.aof seq 1 type h\n" +
		"file appendonly.aof.1.base.rdb seq 1 type h\n" +
		"file appendonly.aof.2.incr.aof seq 2 type i\n"
	if got := string(m.Bytes()); got != want {
		t.Fatalf("after rewrite:\n%s", got)
	}
	// An aborted rewrite leaves two incr files; the next one retires both.
	m.History = nil
	m.addIncr("appendonly.aof")
	m.addIncr("appendonly.aof")
	m.newBase("appendonly.aof", false)
	m.rewrittenIncrToHistory()
	want = "file appendonly.aof.3.base.aof seq 3 type b\n" +
		"file appendonly.aof.2.incr.aof seq 2 type h\n" +
		"file appendonly.aof.3.incr.aof seq 3 type h\n" +
		"file appendonly.aof.2.base.rdb seq 2 type h\n" +
		"file appendonly.aof.4.incr.aof seq 4 type i\n"
	if got := string(m.Bytes()); got != want {
		t.Fatalf("after abort and rewrite:\n%s", got)
	}
	c := m.clone()
	c.Base.Name, c.Incr[0].Name, c.History[0].Name = "x", "y", "z"
	if string(m.Bytes()) != want {
		t.Fatal("clone shares memory")
	}
}

func TestAtoll(t *testing.T) {
	for in, want := range map[string]int64{
		"": 0, "12": 12, " \t12x": 12, "-5": -5, "+5": 5, "x1": 0, "- 1": 0,
		"9223372036854775807": 9223372036854775807, "9223372036854775808": 9223372036854775807,
		"99999999999999999999999": 9223372036854775807, "-9223372036854775808": -9223372036854775808,
		"-9223372036854775809": -9223372036854775808,
	} {
		if got := atoll([]byte(in)); got != want {
			t.Errorf("atoll(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		ManifestName("appendonly.aof"):        "appendonly.aof.manifest",
		TempManifestName("appendonly.aof"):    "temp-appendonly.aof.manifest",
		BaseName("appendonly.aof", 1, true):   "appendonly.aof.1.base.rdb",
		BaseName("appendonly.aof", 12, false): "appendonly.aof.12.base.aof",
		IncrName("appendonly.aof", 3):         "appendonly.aof.3.incr.aof",
		TempIncrName("appendonly.aof"):        "temp-appendonly.aof.incr",
		TempRewriteName(42):                   "temp-rewriteaof-bg-42.aof",
		tempStartName(42):                     "temp-rewriteaof-42.aof",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
