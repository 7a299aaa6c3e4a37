package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/lagwise/lagwise/rdb"
)

// cmd is one command as Redis writes it to its AOF.
func cmd(args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return string(AppendCommand(nil, argv...))
}

// layout writes a manifest and files into cfg's AOF directory.
func layout(t *testing.T, cfg Config, manifest string, files map[string]string) {
	t.Helper()
	dir := cfg.AOFDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// recorder collects applied commands as space-joined strings.
type recorder struct{ cmds []string }

func (r *recorder) apply(argv [][]byte) error {
	s := make([]string, len(argv))
	for i, a := range argv {
		s[i] = string(a)
	}
	r.cmds = append(r.cmds, strings.Join(s, " "))
	return nil
}

// loadRDB reads an RDB file with package rdb, recording its string keys
// as SET commands.
func (r *recorder) loadRDB(src io.Reader) (int64, error) {
	rd := rdb.NewReader(src)
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return rd.Offset(), nil
		}
		if err != nil {
			return 0, err
		}
		if k, ok := e.(rdb.Key); ok && k.Type == rdb.TypeString {
			r.cmds = append(r.cmds, "SET "+string(k.Key)+" "+string(k.String))
		}
	}
}

func loadTest(cfg Config) (*recorder, *LoadResult, error) {
	r := &recorder{}
	res, err := Load(cfg, r.loadRDB, r.apply)
	return r, res, err
}

const (
	man1      = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	man2      = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	baseAOF   = "appendonly.aof.1.base.aof"
	incrAOF1  = "appendonly.aof.1.incr.aof"
	incrAOF2  = "appendonly.aof.2.incr.aof"
	badFormat = "Bad file format reading the append only file %s: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
)

func TestLoadNothing(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	if _, res, err := loadTest(cfg); err != nil || res.Status != LoadNotExist {
		t.Fatalf("no dir: %v %+v", err, res)
	}
	layout(t, cfg, "# no files\n", nil)
	if _, res, err := loadTest(cfg); err != nil || res.Status != LoadNotExist {
		t.Fatalf("no files: %v %+v", err, res)
	}
	layout(t, cfg, man1, map[string]string{baseAOF: "", incrAOF1: ""})
	if _, res, err := loadTest(cfg); err != nil || res.Status != LoadEmpty {
		t.Fatalf("empty files: %v %+v", err, res)
	}
	layout(t, cfg, man2, map[string]string{baseAOF: "", incrAOF1: ""})
	_, _, err := loadTest(cfg)
	if err == nil || err.Error() != "Unable to obtain the AOF file appendonly.aof.2.incr.aof length. stat: No such file or directory" {
		t.Fatalf("missing file: %v", err)
	}
	layout(t, cfg, "file x seq 1 type q\n", nil)
	if _, _, err := loadTest(cfg); err == nil || err.Error() != "Unknown AOF file type" {
		t.Fatalf("bad manifest: %v", err)
	}
}

func TestLoadFiles(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	base := cmd("SELECT", "0") + cmd("SET", "a", "1") + cmd("RPUSH", "l", "x", "", "z")
	incr1 := "#TS:1700000000\r\n" + cmd("SET", "b", "2") + cmd("SET", "bin", "\r\n\x00")
	incr2 := cmd("DEL", "a") + "#TS:1700000001\r\n" + cmd("MULTI") + cmd("INCR", "n") + cmd("INCR", "n") + cmd("EXEC") +
		cmd("multi") + cmd("SET", "gone", "1") + cmd("discard") + cmd("EXEC") + "#annotation cut"
	layout(t, cfg, man2, map[string]string{baseAOF: base, incrAOF1: incr1, incrAOF2: incr2})
	r, res, err := loadTest(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT 0", "SET a 1", "RPUSH l x  z", "SET b 2", "SET bin \r\n\x00", "DEL a", "INCR n", "INCR n"}
	if !reflect.DeepEqual(r.cmds, want) {
		t.Fatalf("got %q", r.cmds)
	}
	total := int64(len(base) + len(incr1) + len(incr2))
	if res.Status != LoadOK || res.CurrentSize != total || res.BaseSize != int64(len(base)) || res.Commands != 8 {
		t.Fatalf("result %+v", res)
	}
}

// A command cut at any byte at the end of the last file is cut off it.
func TestLoadTruncatedTail(t *testing.T) {
	whole := cmd("SET", "a", "1") + cmd("SET", "key", "value")
	last := cmd("HSET", "h", "field", "0123456789")
	for cut := 1; cut < len(last); cut++ {
		for _, truncated := range []bool{true, false} {
			cfg, _ := testConfig(t, FsyncNo)
			cfg.LoadTruncated = truncated
			cfg.Logf = nil
			layout(t, cfg, man1, map[string]string{baseAOF: cmd("SET", "base", "1"), incrAOF1: whole + last[:cut]})
			r, res, err := loadTest(cfg)
			path := filepath.Join(cfg.AOFDir(), incrAOF1)
			if !truncated {
				var le *LoadError
				if !errors.As(err, &le) || le.File != incrAOF1 || le.Offset != int64(len(whole)) ||
					!strings.HasPrefix(le.Msg, "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup") {
					t.Fatalf("cut %d: %v", cut, err)
				}
				if got := readFile(t, path); got != whole+last[:cut] {
					t.Fatalf("cut %d: file changed without aof-load-truncated", cut)
				}
				continue
			}
			if err != nil {
				t.Fatalf("cut %d: %v", cut, err)
			}
			if res.Status != LoadTruncated || len(r.cmds) != 3 || res.CurrentSize != int64(len(whole)+len(cmd("SET", "base", "1"))) {
				t.Fatalf("cut %d: %+v %q", cut, res, r.cmds)
			}
			if got := readFile(t, path); got != whole {
				t.Fatalf("cut %d: file is %q", cut, got)
			}
		}
	}
}

func TestLoadTruncatedLog(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	var log []string
	cfg.Logf = func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
	layout(t, cfg, man1, map[string]string{baseAOF: "", incrAOF1: cmd("SET", "a", "1") + "*2\r\n$3\r\nGET\r\n$1"})
	if _, _, err := loadTest(cfg); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!",
		"!!! Truncating the AOF appendonly.aof.1.incr.aof at offset 27 !!!",
		"AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled",
	}
	if !reflect.DeepEqual(log[:3], want) {
		t.Fatalf("log %q", log)
	}
}

// A cut anywhere but at the end of the last file fails the load, and the
// file is left as it is.
func TestLoadCutNotLast(t *testing.T) {
	for _, tt := range []struct{ base, incr1, incr2, file string }{
		{cmd("SET", "a", "1")[:10], cmd("SET", "b", "2"), "", baseAOF},
		{cmd("SET", "a", "1"), cmd("SET", "b", "2")[:5], cmd("SET", "c", "3"), incrAOF1},
		{cmd("SET", "a", "1"), cmd("MULTI") + cmd("SET", "b", "2"), cmd("SET", "c", "3"), incrAOF1},
	} {
		cfg, _ := testConfig(t, FsyncNo)
		layout(t, cfg, man2, map[string]string{baseAOF: tt.base, incrAOF1: tt.incr1, incrAOF2: tt.incr2})
		_, _, err := loadTest(cfg)
		var le *LoadError
		if !errors.As(err, &le) || le.Msg != "Fatal error: the truncated file is not the last file" || le.File != tt.file {
			t.Fatalf("%q: %v", tt, err)
		}
		if got := readFile(t, filepath.Join(cfg.AOFDir(), incrAOF1)); got != tt.incr1 {
			t.Fatalf("%q: file changed", tt)
		}
	}
}

// A MULTI without EXEC at the end is reverted as a truncation, and none of
// its commands is applied.
func TestLoadOpenMulti(t *testing.T) {
	head := cmd("SET", "a", "1") + cmd("MULTI") + cmd("SET", "b", "2") + cmd("EXEC")
	tail := cmd("MULTI") + cmd("SET", "c", "3") + cmd("SET", "d", "4")
	for _, cut := range []int{len(tail), len(tail) - 3} {
		cfg, _ := testConfig(t, FsyncNo)
		layout(t, cfg, man1, map[string]string{baseAOF: "", incrAOF1: head + tail[:cut]})
		r, res, err := loadTest(cfg)
		if err != nil || res.Status != LoadTruncated || !reflect.DeepEqual(r.cmds, []string{"SET a 1", "SET b 2"}) {
			t.Fatalf("cut %d: %v %+v %q", cut, err, res, r.cmds)
		}
		if got := readFile(t, filepath.Join(cfg.AOFDir(), incrAOF1)); got != head {
			t.Fatalf("cut %d: file %q", cut, got)
		}
	}
}

// Bytes that are not a command fail the load in any file, naming the file
// and the offset where they start.
func TestLoadGarbage(t *testing.T) {
	ok := cmd("SET", "a", "1")
	tests := []struct {
		data string
		off  int
	}{
		{"+OK\r\n", 0},
		{"*x\r\n$3\r\nGET\r\n", 0},
		{"*0\r\n", 0},
		{"*-1\r\n", 0},
		{"\r\n", 0},
		{"*1\r\n:1\r\n", 4},
		{"*1\r\n$x\r\nGET\r\n", 4},
		{"*1\r\n$-1\r\n", 4},
		{"*1\r\n$3\r\nGETXX", 11},
		{"*1\r\n$3\r\nGET\r\n*1\r\n$99999999999\r\n", 17},
		{"*1\r\n$3\r\nGET\r\n" + strings.Repeat("*", 70000), 13},
		{"*1 \r\n$3\r\nGET\r\n", 0},
	}
	for _, tt := range tests {
		for _, where := range []string{baseAOF, incrAOF1, incrAOF2} {
			files := map[string]string{baseAOF: ok, incrAOF1: ok, incrAOF2: ok}
			files[where] = ok + tt.data
			cfg, _ := testConfig(t, FsyncNo)
			cfg.Logf = nil
			layout(t, cfg, man2, files)
			_, _, err := loadTest(cfg)
			var le *LoadError
			if !errors.As(err, &le) || le.Msg != fmt.Sprintf(badFormat, where) || le.File != where || le.Offset != int64(len(ok)+tt.off) {
				t.Fatalf("%q in %s: %v (%+v)", tt.data, where, err, le)
			}
		}
	}
}

// A lying length allocates no more than the file holds.
func TestLoadLyingLengths(t *testing.T) {
	for _, data := range []string{
		"*2147483647\r\n$3\r\nSET\r\n",
		"*1\r\n$536870912\r\nabc",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870000\r\n" + strings.Repeat("v", 100000),
	} {
		cfg, _ := testConfig(t, FsyncNo)
		layout(t, cfg, man1, map[string]string{baseAOF: "", incrAOF1: data})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, res, err := loadTest(cfg)
		runtime.ReadMemStats(&after)
		if err != nil || res.Status != LoadTruncated {
			t.Fatalf("%.20q: %v %+v", data, err, res)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
			t.Fatalf("%.20q: allocated %d bytes", data, n)
		}
	}
	// Beyond proto-max-bulk-len it is garbage.
	cfg, _ := testConfig(t, FsyncNo)
	cfg.MaxBulkLen = 10
	layout(t, cfg, man1, map[string]string{baseAOF: "", incrAOF1: cmd("SET", "k", "0123456789x")})
	if _, _, err := loadTest(cfg); err == nil || !strings.HasPrefix(err.Error(), "Bad file format") {
		t.Fatalf("over proto-max-bulk-len: %v", err)
	}
}

func TestLoadApplyError(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	layout(t, cfg, man1, map[string]string{baseAOF: "", incrAOF1: cmd("SET", "a", "1") + cmd("NOSUCH", "x")})
	_, err := Load(cfg, nil, func(argv [][]byte) error {
		if string(argv[0]) == "NOSUCH" {
			return fmt.Errorf("Unknown command '%s'", argv[0])
		}
		return nil
	})
	var le *LoadError
	if !errors.As(err, &le) || le.Msg != "Unknown command 'NOSUCH' reading the append only file appendonly.aof.1.incr.aof" || le.Offset != int64(len(cmd("SET", "a", "1"))) {
		t.Fatalf("%v", err)
	}
}

// rdbFile is an RDB file with the given string keys.
func rdbFile(t *testing.T, kv ...string) []byte {
	var b bytes.Buffer
	w := rdb.NewWriter(&b, rdb.WriterOptions{Checksum: true})
	w.AuxInt("redis-bits", 64)
	w.SelectDB(0)
	for i := 0; i+1 < len(kv); i += 2 {
		w.String([]byte(kv[i]), []byte(kv[i+1]), -1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLoadRDBBase(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	base := string(rdbFile(t, "a", "1", "b", "2"))
	layout(t, cfg, "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
		map[string]string{"appendonly.aof.1.base.rdb": base, incrAOF1: cmd("SET", "c", "3")})
	r, res, err := loadTest(cfg)
	if err != nil || !reflect.DeepEqual(r.cmds, []string{"SET a 1", "SET b 2", "SET c 3"}) || res.BaseSize != int64(len(base)) {
		t.Fatalf("%v %q %+v", err, r.cmds, res)
	}
	// A broken RDB fails with Redis's message.
	layout(t, cfg, "file appendonly.aof.1.base.rdb seq 1 type b\n", map[string]string{"appendonly.aof.1.base.rdb": base[:len(base)-3]})
	if _, _, err := loadTest(cfg); err == nil || err.Error() != "Error reading the RDB base file appendonly.aof.1.base.rdb, AOF loading aborted" {
		t.Fatalf("broken RDB: %v", err)
	}
}

// An old-style appendonly.aof (RDB preamble and RESP tail) in dir is moved
// into the AOF directory and loaded, as Redis 7.0 upgrades it.
func TestLoadUpgrade(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	old := string(rdbFile(t, "a", "1")) + cmd("SET", "b", "2")
	if err := os.WriteFile(filepath.Join(cfg.Dir, "appendonly.aof"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r, res, err := loadTest(cfg)
	if err != nil || !reflect.DeepEqual(r.cmds, []string{"SET a 1", "SET b 2"}) || res.Status != LoadOK {
		t.Fatalf("%v %q %+v", err, r.cmds, res)
	}
	if got := readFile(t, filepath.Join(cfg.AOFDir(), "appendonly.aof.manifest")); got != "file appendonly.aof seq 1 type b\n" {
		t.Fatalf("manifest %q", got)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "appendonly.aof")); !os.IsNotExist(err) {
		t.Fatal("old file still in dir")
	}
	// Opened after it, the AOF goes on with incr file 1.
	a, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if got := readFile(t, filepath.Join(cfg.AOFDir(), "appendonly.aof.manifest")); got != "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
		t.Fatalf("manifest %q", got)
	}
}
