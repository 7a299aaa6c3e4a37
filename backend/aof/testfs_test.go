package aof

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var errCrash = errors.New("crashed")

// testFS wraps the OS file system. It counts fsyncs per file, logs every
// operation that changes the disk, and can "crash": once crashAfter
// operations have run, every later one fails without touching the disk,
// as if the process had died there.
type testFS struct {
	OSFS
	mu         sync.Mutex
	syncs      map[string]int
	dirSyncs   int
	ops        []string
	crashAfter int // -1: never
	// write, if set, replaces a file write (to inject errors).
	write func(name string, f *os.File, p []byte) (int, error)
	// syncDelay makes every file fsync slow.
	syncDelay time.Duration
}

func newTestFS() *testFS { return &testFS{syncs: map[string]int{}, crashAfter: -1} }

// step records a disk-changing operation; false means the process is dead.
func (fs *testFS) step(op string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.crashAfter >= 0 && len(fs.ops) >= fs.crashAfter {
		return false
	}
	fs.ops = append(fs.ops, op)
	return true
}

func (fs *testFS) syncCount(name string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for p, c := range fs.syncs {
		if name == "" || filepath.Base(p) == name {
			n += c
		}
	}
	return n
}

func (fs *testFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 && !fs.step("open "+filepath.Base(name)) {
		return nil, errCrash
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &testFile{File: f, fs: fs}, nil
}

func (fs *testFS) Rename(o, n string) error {
	if !fs.step("rename " + filepath.Base(o) + " " + filepath.Base(n)) {
		return errCrash
	}
	return os.Rename(o, n)
}

func (fs *testFS) Remove(name string) error {
	if !fs.step("remove " + filepath.Base(name)) {
		return errCrash
	}
	return os.Remove(name)
}

func (fs *testFS) MkdirAll(path string, perm os.FileMode) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if !fs.step("mkdir " + filepath.Base(path)) {
		return errCrash
	}
	return os.MkdirAll(path, perm)
}

func (fs *testFS) SyncDir(dir string) error {
	if !fs.step("syncdir") {
		return errCrash
	}
	fs.mu.Lock()
	fs.dirSyncs++
	fs.mu.Unlock()
	return OSFS{}.SyncDir(dir)
}

type testFile struct {
	*os.File
	fs *testFS
}

func (f *testFile) Write(p []byte) (int, error) {
	if !f.fs.step("write " + filepath.Base(f.Name())) {
		return 0, errCrash
	}
	if f.fs.write != nil {
		return f.fs.write(f.Name(), f.File, p)
	}
	return f.File.Write(p)
}

func (f *testFile) Sync() error {
	if !f.fs.step("sync " + filepath.Base(f.Name())) {
		return errCrash
	}
	time.Sleep(f.fs.syncDelay)
	f.fs.mu.Lock()
	f.fs.syncs[f.Name()]++
	f.fs.mu.Unlock()
	return f.File.Sync()
}

func (f *testFile) Truncate(size int64) error {
	if !f.fs.step("truncate " + filepath.Base(f.Name())) {
		return errCrash
	}
	return f.File.Truncate(size)
}

// testConfig is a Config over a fresh temp dir and a testFS.
func testConfig(t *testing.T, policy Fsync) (Config, *testFS) {
	fs := newTestFS()
	return Config{Dir: t.TempDir(), Fsync: policy, RDBPreamble: false, LoadTruncated: true, FS: fs, Logf: t.Logf}, fs
}

// dirFiles lists the AOF directory.
func dirFiles(t *testing.T, cfg Config) string {
	t.Helper()
	ents, err := os.ReadDir(cfg.AOFDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
