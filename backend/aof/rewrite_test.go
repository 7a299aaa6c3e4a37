package aof

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func manifestOf(t *testing.T, cfg Config) string {
	return readFile(t, filepath.Join(cfg.AOFDir(), "appendonly.aof.manifest"))
}

func mustLoad(t *testing.T, cfg Config) []string {
	t.Helper()
	cfg.FS = nil
	r, _, err := loadTest(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r.cmds
}

func TestOpenFresh(t *testing.T) {
	cfg, _ := testConfig(t, FsyncAlways)
	a, err := Open(cfg, writeString(cmd("SET", "a", "1")))
	if err != nil {
		t.Fatal(err)
	}
	want := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	if got := manifestOf(t, cfg); got != want {
		t.Fatalf("manifest %q", got)
	}
	a.AppendCommand(0, []byte("SET"), []byte("b"), []byte("2"))
	a.Flush()
	s := a.Stats()
	if s.BaseSize != int64(len(cmd("SET", "a", "1"))) || s.CurrentSize != s.BaseSize+s.LastIncrSize || s.LastIncrSize == 0 {
		t.Fatalf("stats %+v", s)
	}
	a.Close()
	// Reopened, it appends to the same incr file.
	a, err = Open(cfg, writeString("unused"))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Stats(); got.CurrentSize != s.CurrentSize || got.BaseSize != s.BaseSize {
		t.Fatalf("reopened stats %+v, want %+v", got, s)
	}
	a.AppendCommand(0, []byte("SET"), []byte("c"), []byte("3"))
	a.Close()
	if got := manifestOf(t, cfg); got != want {
		t.Fatalf("manifest %q", got)
	}
	if got := mustLoad(t, cfg); !reflect.DeepEqual(got, []string{"SET a 1", "SELECT 0", "SET b 2", "SELECT 0", "SET c 3"}) {
		t.Fatalf("loaded %q", got)
	}
	if ents, _ := os.ReadDir(cfg.Dir); len(ents) != 1 {
		t.Fatalf("temp files left in dir: %v", ents)
	}
}

func TestRewrite(t *testing.T) {
	cfg, _ := testConfig(t, FsyncEverysec)
	a, err := Open(cfg, writeString(cmd("SET", "a", "1")))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Append([]byte(cmd("SET", "b", "2")))
	a.Flush()
	w, err := a.StartRewrite()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.StartRewrite(); err == nil || err.Error() != "Background append only file rewriting already in progress" {
		t.Fatalf("second rewrite: %v", err)
	}
	if got, want := manifestOf(t, cfg), "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; got != want {
		t.Fatalf("manifest during rewrite %q", got)
	}
	// Writes after the start go to the new incr file while the snapshot
	// of the dataset at the start is written.
	a.Append([]byte(cmd("SET", "c", "3")))
	a.Flush()
	io.WriteString(w, cmd("SET", "a", "1")+cmd("SET", "b", "2"))
	if !a.Stats().RewriteInProgress {
		t.Fatal("no rewrite in progress")
	}
	if err := a.FinishRewrite(); err != nil {
		t.Fatal(err)
	}
	if got, want := manifestOf(t, cfg), "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"; got != want {
		t.Fatalf("manifest after rewrite %q", got)
	}
	if got := dirFiles(t, cfg); got != "appendonly.aof.2.base.aof appendonly.aof.2.incr.aof appendonly.aof.manifest" {
		t.Fatalf("files %s", got)
	}
	s := a.Stats()
	if s.BaseSize != s.CurrentSize || s.CurrentSize != int64(len(cmd("SET", "a", "1")+cmd("SET", "b", "2")+cmd("SET", "c", "3"))) || s.Rewrites != 1 || !s.LastRewriteOK {
		t.Fatalf("stats %+v", s)
	}
	a.Append([]byte(cmd("SET", "d", "4")))
	a.Close()
	if got := mustLoad(t, cfg); !reflect.DeepEqual(got, []string{"SET a 1", "SET b 2", "SET c 3", "SET d 4"}) {
		t.Fatalf("loaded %q", got)
	}
	if ents, _ := os.ReadDir(cfg.Dir); len(ents) != 1 {
		t.Fatalf("temp files left in dir: %v", ents)
	}
}

func TestAbortRewrite(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	cfg.RDBPreamble = true
	a, err := Open(cfg, writeString(string(rdbFile(t, "a", "1"))))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w, err := a.StartRewrite()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "REDIS0010 partial")
	a.Append([]byte(cmd("SET", "b", "2")))
	a.AbortRewrite()
	a.Flush()
	want := "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	if got := manifestOf(t, cfg); got != want {
		t.Fatalf("manifest after abort %q", got)
	}
	if ents, _ := os.ReadDir(cfg.Dir); len(ents) != 1 {
		t.Fatalf("temp files left in dir: %v", ents)
	}
	// The next rewrite retires both incr files.
	w, err = a.StartRewrite()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, string(rdbFile(t, "a", "1", "b", "2")))
	cfg.DisableAutoGC = true
	a.cfg.DisableAutoGC = true
	if err := a.FinishRewrite(); err != nil {
		t.Fatal(err)
	}
	want = "file appendonly.aof.2.base.rdb seq 2 type b\n" +
		"file appendonly.aof.1.incr.aof seq 1 type h\n" +
		"file appendonly.aof.2.incr.aof seq 2 type h\n" +
		"file appendonly.aof.1.base.rdb seq 1 type h\n" +
		"file appendonly.aof.3.incr.aof seq 3 type i\n"
	if got := manifestOf(t, cfg); got != want {
		t.Fatalf("manifest %q", got)
	}
	if got := mustLoad(t, cfg); !reflect.DeepEqual(got, []string{"SET a 1", "SET b 2"}) {
		t.Fatalf("loaded %q", got)
	}
}

// Turning the AOF on at run time: writes go to the temp incr file until
// the first base exists.
func TestCreate(t *testing.T) {
	for _, existing := range []bool{false, true} {
		cfg, _ := testConfig(t, FsyncEverysec)
		if existing { // the AOF was on once, then turned off
			a, err := Open(cfg, writeString(cmd("SET", "old", "1")))
			if err != nil {
				t.Fatal(err)
			}
			a.Close()
		}
		a, w, err := Create(cfg)
		if err != nil {
			t.Fatal(err)
		}
		a.AppendCommand(0, []byte("SET"), []byte("during"), []byte("x"))
		a.Flush()
		if _, err := os.Stat(filepath.Join(cfg.AOFDir(), "temp-appendonly.aof.incr")); err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, cmd("SET", "a", "1"))
		if err := a.FinishRewrite(); err != nil {
			t.Fatal(err)
		}
		a.AppendCommand(0, []byte("SET"), []byte("after"), []byte("y"))
		a.Close()
		want := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
		files := "appendonly.aof.1.base.aof appendonly.aof.1.incr.aof appendonly.aof.manifest"
		if existing {
			want = "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
			files = "appendonly.aof.2.base.aof appendonly.aof.2.incr.aof appendonly.aof.manifest"
		}
		if got := manifestOf(t, cfg); got != want {
			t.Fatalf("existing %v: manifest %q", existing, got)
		}
		if got := dirFiles(t, cfg); got != files {
			t.Fatalf("existing %v: files %s", existing, got)
		}
		if got := mustLoad(t, cfg); !reflect.DeepEqual(got, []string{"SET a 1", "SELECT 0", "SET during x", "SELECT 0", "SET after y"}) {
			t.Fatalf("existing %v: loaded %q", existing, got)
		}
	}
}

func TestCreateAbort(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	a, w, err := Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Append([]byte(cmd("SET", "lost", "1")))
	io.WriteString(w, "partial")
	a.AbortRewrite()
	a.Append([]byte(cmd("SET", "dropped", "1"))) // no file to go to
	a.Flush()
	if got := dirFiles(t, cfg); got != "" {
		t.Fatalf("files %s", got)
	}
	w, err = a.StartRewrite()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, cmd("SET", "a", "1"))
	a.Append([]byte(cmd("SET", "b", "2")))
	if err := a.FinishRewrite(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if got := mustLoad(t, cfg); !reflect.DeepEqual(got, []string{"SET a 1", "SET b 2"}) {
		t.Fatalf("loaded %q", got)
	}
}

// crashRun runs fn against an AOF whose file system dies after k more
// operations, then checks what a restart finds: Load succeeds, holds every
// acknowledged write, holds nothing that was not written, and the AOF
// opens again and works. It reports whether the crash happened.
func crashRun(t *testing.T, k int, setup func(cfg Config), fn func(cfg Config, ack func(string)) []string) bool {
	t.Helper()
	cfg, fs := testConfig(t, FsyncAlways)
	cfg.Logf = nil
	setup(Config{Dir: cfg.Dir, Fsync: FsyncAlways})
	fs.mu.Lock()
	fs.crashAfter = k
	fs.mu.Unlock()
	var acked []string
	issued := fn(cfg, func(c string) { acked = append(acked, c) })
	fs.mu.Lock()
	crashed := len(fs.ops) >= k
	ops := append([]string(nil), fs.ops...)
	fs.mu.Unlock()

	plain := Config{Dir: cfg.Dir, Fsync: FsyncAlways, LoadTruncated: true}
	r, _, err := loadTest(plain)
	if err != nil {
		t.Fatalf("crash after %d ops %q: load: %v", k, ops, err)
	}
	got := map[string]bool{}
	for _, c := range r.cmds {
		got[c] = true
	}
	for _, c := range acked {
		if !got[c] {
			t.Fatalf("crash after %d ops %q: acknowledged %q lost; loaded %q", k, ops, c, r.cmds)
		}
	}
	for _, c := range r.cmds {
		if c != "SELECT 0" && !contains(issued, c) {
			t.Fatalf("crash after %d ops %q: loaded %q never written", k, ops, c)
		}
	}
	a, err := Open(plain, writeString(cmd("SET", "fresh", "1")))
	if err != nil {
		t.Fatalf("crash after %d ops %q: reopen: %v", k, ops, err)
	}
	a.Append([]byte(cmd("SET", "restart", "1")))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if cmds := mustLoad(t, plain); !contains(cmds, "SET restart 1") {
		t.Fatalf("crash after %d ops %q: after restart %q", k, ops, cmds)
	}
	return crashed
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A crash at any step of a rewrite leaves a loadable, consistent AOF.
func TestRewriteCrashPoints(t *testing.T) {
	setup := func(cfg Config) {
		a, err := Open(cfg, writeString(cmd("SET", "a", "1")))
		if err != nil {
			t.Fatal(err)
		}
		a.Append([]byte(cmd("SET", "b", "2")))
		a.Close()
	}
	run := func(cfg Config, ack func(string)) []string {
		issued := []string{"SET a 1", "SET b 2", "SET c 3", "SET d 4", "SET e 5"}
		ack("SET a 1")
		ack("SET b 2")
		a, err := Open(cfg, nil)
		if err != nil {
			return issued
		}
		defer a.Close()
		write := func(c string) {
			a.Append([]byte(cmd(strings.Fields(c)...)))
			if a.Flush() == nil {
				ack(c)
			}
		}
		w, err := a.StartRewrite()
		write("SET c 3")
		if err == nil {
			io.WriteString(w, cmd("SET", "a", "1")+cmd("SET", "b", "2"))
			write("SET d 4")
			a.FinishRewrite()
		}
		write("SET e 5")
		return issued
	}
	var steps []int
	for k := 0; ; k++ {
		if !crashRun(t, k, setup, run) {
			steps = append(steps, k)
			break
		}
	}
	if steps[0] < 15 {
		t.Fatalf("only %d operations: the crash points did not cover a rewrite", steps[0])
	}
}

// A crash at any step of the first start leaves an AOF that loads and opens.
func TestOpenCrashPoints(t *testing.T) {
	for k := 0; ; k++ {
		crashed := crashRun(t, k, func(Config) {}, func(cfg Config, ack func(string)) []string {
			a, err := Open(cfg, writeString(cmd("SET", "a", "1")))
			if err == nil {
				a.Append([]byte(cmd("SET", "b", "2")))
				if a.Flush() == nil {
					ack("SET b 2")
				}
				a.Close()
			}
			return []string{"SET a 1", "SET b 2"}
		})
		if !crashed {
			break
		}
	}
}

// The manifest is only ever replaced whole: every intermediate state of a
// rewrite seen on disk parses.
func TestManifestAlwaysWhole(t *testing.T) {
	cfg, fs := testConfig(t, FsyncNo)
	a, err := Open(cfg, writeString(cmd("SET", "a", "1")))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := 0; i < 3; i++ {
		w, err := a.StartRewrite()
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, cmd("SET", "a", "1"))
		if err := a.FinishRewrite(); err != nil {
			t.Fatal(err)
		}
	}
	var kinds []string
	for _, op := range fs.ops {
		if strings.Contains(op, "manifest") {
			kinds = append(kinds, strings.Fields(op)[0])
		}
	}
	// Each persist: open temp, write, sync, rename over the manifest.
	sort.Strings(kinds)
	if len(kinds)%4 != 0 || fs.dirSyncs != len(kinds)/4 {
		t.Fatalf("manifest operations %q, %d directory fsyncs", kinds, fs.dirSyncs)
	}
	for _, op := range fs.ops {
		if strings.HasPrefix(op, "write appendonly.aof.manifest") || strings.HasPrefix(op, "open appendonly.aof.manifest") {
			t.Fatalf("the manifest was written in place: %q", op)
		}
	}
}

// With the AOF off, a rewrite writes a new base and lists it alone, as
// Redis 7.0 does: "file appendonly.aof.1.base.rdb seq 1 type b", then seq 2.
func TestBaseRewriteWithAOFOff(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, RDBPreamble: true}
	for seq := 1; seq <= 2; seq++ {
		b, w, err := StartBaseRewrite(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("REDIS0010 base")); err != nil {
			t.Fatal(err)
		}
		if err := b.Finish(); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("file appendonly.aof.%d.base.rdb seq %d type b\n", seq, seq)
		got, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
		if err != nil || string(got) != want {
			t.Fatalf("manifest %q (%v), want %q", got, err, want)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "appendonlydir"))
		if len(entries) != 2 {
			t.Fatalf("the AOF dir holds %v; want the base and the manifest", entries)
		}
	}
	b, _, err := StartBaseRewrite(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("an aborted rewrite left %v", entries)
	}
}
