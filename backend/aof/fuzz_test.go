package aof

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{
		"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
		"file a.2.base.rdb seq 2 type b\nfile a.1.incr.aof seq 1 type h\nfile a.2.incr.aof seq 2 type i\n",
		"# comment\nTYPE i SEQ 3 File \"x y\\x00\" extra 1\r\n",
		"file 'a' seq -9 type i\nfile b seq 99999999999999999999 type i\n",
		"", "\n", "file x seq 1 type i",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if _, ok := err.(*ManifestError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		all := append(append([]FileInfo{}, m.History...), m.Incr...)
		if m.Base != nil {
			all = append(all, *m.Base)
		}
		for _, fi := range all {
			// Redis writes these names bare, and cannot read them back:
			// the same bytes are written here.
			if fi.Name == "" || strings.Contains(fi.Name, "'") {
				return
			}
		}
		if len(m.History) == 0 && len(m.Incr) == 0 && m.Base == nil {
			return // comments only; the re-encoding is empty
		}
		// A name that quoting makes longer than a manifest line (up to 4
		// bytes for each byte outside printable ASCII) is written as
		// Redis writes it and cannot be read back, by Redis either: lines
		// are read with a MANIFEST_MAX_LINE buffer.
		for _, line := range strings.Split(string(m.Bytes()), "\n") {
			if len(line)+1 > manifestMaxLine {
				return
			}
		}
		// What we write reads back the same.
		back, err := ParseManifest(m.Bytes())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", m.Bytes(), err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip\n%+v\n%+v", m, back)
		}
	})
}

// FuzzLoad loads arbitrary bytes as the last incr file: never a panic;
// after a successful load the file is a prefix of what it was and loads
// again to the same commands, with nothing left to cut.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		cmd("SET", "a", "1") + cmd("MULTI") + cmd("INCR", "n") + cmd("EXEC"),
		cmd("SET", "a", "1") + "#TS:1\r\n" + cmd("DEL", "a")[:9],
		"*2\r\n$3\r\nGET\r\n$1000000\r\nabc",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-1\r\n",
		"REDIS0010\xff",
		"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, truncated bool) {
		dir := t.TempDir()
		cfg := Config{Dir: dir, LoadTruncated: truncated, MaxBulkLen: 1 << 20}
		aofDir := cfg.AOFDir()
		os.MkdirAll(aofDir, 0o755)
		os.WriteFile(filepath.Join(aofDir, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644)
		path := filepath.Join(aofDir, "appendonly.aof.1.incr.aof")
		os.WriteFile(path, data, 0o644)
		load := func() (*recorder, *LoadResult, error) {
			r := &recorder{}
			res, err := Load(cfg, func(io.Reader) (int64, error) {
				return 0, os.ErrInvalid
			}, r.apply)
			return r, res, err
		}
		r1, res, err := load()
		if err != nil {
			if _, ok := err.(*LoadError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		after, _ := os.ReadFile(path)
		if !bytes.HasPrefix(data, after) {
			t.Fatalf("the file changed beyond a cut: %q -> %q", data, after)
		}
		if res.Status == LoadTruncated && !truncated {
			t.Fatal("cut without aof-load-truncated")
		}
		r2, res2, err := load()
		if err != nil || (res2.Status != LoadOK && res2.Status != LoadEmpty) {
			t.Fatalf("second load: %v %+v", err, res2)
		}
		if !reflect.DeepEqual(r1.cmds, r2.cmds) {
			t.Fatalf("second load differs: %q vs %q", r1.cmds, r2.cmds)
		}
	})
}
