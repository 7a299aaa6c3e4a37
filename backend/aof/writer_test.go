package aof

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const incr1 = "appendonly.aof.1.incr.aof"

func openTest(t *testing.T, cfg Config) *AOF {
	t.Helper()
	a, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

var setCmd = AppendCommand(nil, []byte("SET"), []byte("k"), []byte("v"))

func TestFsyncAlways(t *testing.T) {
	cfg, fs := testConfig(t, FsyncAlways)
	a := openTest(t, cfg)
	for i := 1; i <= 20; i++ {
		a.Append(setCmd)
		if i%2 == 0 {
			a.Append(setCmd) // two commands, one write and one fsync
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(); err != nil { // nothing buffered: no fsync
			t.Fatal(err)
		}
		if got := fs.syncCount(incr1); got != i {
			t.Fatalf("after %d flushes with data: %d fsyncs", i, got)
		}
	}
	if got := a.Stats().CurrentSize; got != int64(30*len(setCmd)) {
		t.Fatalf("size %d", got)
	}
}

func TestFsyncNo(t *testing.T) {
	cfg, fs := testConfig(t, FsyncNo)
	a := openTest(t, cfg)
	for i := 0; i < 200; i++ {
		a.Append(setCmd)
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1200 * time.Millisecond)
	if got := fs.syncCount(incr1); got != 0 {
		t.Fatalf("appendfsync no: %d fsyncs", got)
	}
	// Shutdown fsyncs whatever the policy, as Redis does.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fs.syncCount(incr1); got != 1 {
		t.Fatalf("after Close: %d fsyncs", got)
	}
}

func TestFsyncEverysec(t *testing.T) {
	cfg, fs := testConfig(t, FsyncEverysec)
	a := openTest(t, cfg)
	start := time.Now()
	for time.Since(start) < 2500*time.Millisecond {
		a.Append(setCmd)
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	// At most one fsync a second (the ticks at 1 s and 2 s), at least one.
	n := fs.syncCount(incr1)
	if n < 1 || n > 3 {
		t.Fatalf("%d fsyncs in 2.5 s of writes", n)
	}
	// The last writes are fsynced within a second of stopping...
	time.Sleep(1100 * time.Millisecond)
	n2 := fs.syncCount(incr1)
	if n2 < n+1 || n2 > 4 {
		t.Fatalf("%d fsyncs after a quiet second, had %d", n2, n)
	}
	a.mu.Lock()
	cur := a.cur
	a.mu.Unlock()
	cur.syncMu.Lock()
	synced := cur.synced
	cur.syncMu.Unlock()
	if synced != cur.written.Load() {
		t.Fatalf("%d of %d bytes fsynced a second after the last write", synced, cur.written.Load())
	}
	// ...and nothing more when nothing is new.
	time.Sleep(1100 * time.Millisecond)
	if got := fs.syncCount(incr1); got != n2 {
		t.Fatalf("fsync without new data: %d, want %d", got, n2)
	}
	if a.WriteErr() != nil {
		t.Fatal(a.WriteErr())
	}
}

// A slow fsync runs beside Flush and never delays it.
func TestEverysecSlowFsync(t *testing.T) {
	cfg, fs := testConfig(t, FsyncEverysec)
	cfg.syncEvery = 20 * time.Millisecond
	fs.syncDelay = 300 * time.Millisecond
	a := openTest(t, cfg)
	var slowest time.Duration
	start := time.Now()
	for time.Since(start) < 700*time.Millisecond {
		a.Append(setCmd)
		t0 := time.Now()
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(t0))
		time.Sleep(time.Millisecond)
	}
	if slowest > 100*time.Millisecond {
		t.Fatalf("a Flush took %v while an fsync was running", slowest)
	}
	if n := fs.syncCount(incr1); n < 1 || n > 3 {
		t.Fatalf("%d fsyncs of 300 ms in 700 ms", n)
	}
	// A sync starts 20 ms after the last one ends and lasts 300 ms.
	for i := 0; !a.Stats().PendingFsync; i++ {
		if i == 100 {
			t.Fatal("no fsync pending")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWriteError(t *testing.T) {
	for _, policy := range []Fsync{FsyncEverysec, FsyncNo, FsyncAlways} {
		cfg, fs := testConfig(t, policy)
		a := openTest(t, cfg)
		a.Append(setCmd)
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		fs.write = func(string, *os.File, []byte) (int, error) { return 0, syscall.ENOSPC }
		a.Append(setCmd)
		err := a.Flush()
		var e *Error
		if !errors.As(err, &e) || e.Msg != "Error writing to the AOF file: No space left on device" {
			t.Fatalf("%v: %v", policy, err)
		}
		if e.Fatal != (policy == FsyncAlways) {
			t.Fatalf("%v: fatal %v", policy, e.Fatal)
		}
		if policy == FsyncAlways {
			continue
		}
		if !errors.Is(a.WriteErr(), syscall.ENOSPC) || a.Stats().BufferLength != len(setCmd) {
			t.Fatalf("%v: WriteErr %v, buffer %d", policy, a.WriteErr(), a.Stats().BufferLength)
		}
		fs.write = nil
		a.Append(setCmd)
		if err := a.Flush(); err != nil || a.WriteErr() != nil {
			t.Fatalf("%v: after recovery %v %v", policy, err, a.WriteErr())
		}
		if got := readFile(t, filepath.Join(cfg.AOFDir(), incr1)); got != strings.Repeat(string(setCmd), 3) {
			t.Fatalf("%v: file %q", policy, got)
		}
	}
}

// A short write is cut off the file and written again whole.
func TestShortWrite(t *testing.T) {
	cfg, fs := testConfig(t, FsyncEverysec)
	a := openTest(t, cfg)
	a.Append(setCmd)
	a.Flush()
	fs.write = func(_ string, f *os.File, p []byte) (int, error) {
		n, _ := f.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	a.Append(setCmd)
	a.Append(setCmd)
	err := a.Flush()
	want := "Short write while writing to the AOF file: (nwritten=" + strconv.Itoa(len(setCmd)) + ", expected=" + strconv.Itoa(2*len(setCmd)) + ")"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	path := filepath.Join(cfg.AOFDir(), incr1)
	if got := readFile(t, path); got != string(setCmd) {
		t.Fatalf("the short write stayed: %q", got)
	}
	fs.write = nil
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != strings.Repeat(string(setCmd), 3) {
		t.Fatalf("file %q", got)
	}
	if s := a.Stats(); s.CurrentSize != int64(3*len(setCmd)) || s.LastIncrSize != s.CurrentSize {
		t.Fatalf("stats %+v", s)
	}
}

func TestAppendCommandSelect(t *testing.T) {
	cfg, _ := testConfig(t, FsyncNo)
	a := openTest(t, cfg)
	a.AppendCommand(0, []byte("SET"), []byte("a"), []byte("1"))
	a.AppendCommand(0, []byte("SET"), []byte("b"), []byte("2"))
	a.AppendCommand(3, []byte("DEL"), []byte("a"))
	a.AppendCommand(-1, []byte("FLUSHALL"))
	a.Flush()
	if _, err := a.StartRewrite(); err != nil {
		t.Fatal(err)
	}
	a.AppendCommand(3, []byte("DEL"), []byte("b"))
	a.Flush()
	want := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n" +
		"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n*1\r\n$8\r\nFLUSHALL\r\n"
	if got := readFile(t, filepath.Join(cfg.AOFDir(), incr1)); got != want {
		t.Fatalf("incr 1: %q", got)
	}
	// A new incr file starts with a SELECT.
	want = "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n"
	if got := readFile(t, filepath.Join(cfg.AOFDir(), "appendonly.aof.2.incr.aof")); got != want {
		t.Fatalf("incr 2: %q", got)
	}
	a.AbortRewrite()
}

func TestShouldRewrite(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		cur, base int64
		perc      int
		min       int64
		want      bool
	}{
		{100 * mb, 50 * mb, 100, 64 * mb, true},      // doubled
		{99 * mb, 50 * mb, 100, 64 * mb, false},      // 98% growth
		{100 * mb, 0, 100, 64 * mb, true},            // no base: base counts as 1
		{64 * mb, 1, 100, 64 * mb, false},            // not above the minimum
		{64*mb + 1, 1, 100, 64 * mb, true},           // just above it
		{200 * mb, 50 * mb, 0, 64 * mb, false},       // percentage 0 disables
		{150 * mb, 100 * mb, 50, 64 * mb, true},      // exactly 50%
		{149 * mb, 100 * mb, 50, 64 * mb, false},     // 49%
		{10, 5, 100, 0, true},                        // tiny, min 0
		{1 << 62, 1, 100, 64 * mb, true},             // no overflow
		{1 << 62, 1 << 62, 100, 64 * mb, false},      // no growth
		{1<<62 + 1<<61, 1 << 62, 50, 64 * mb, true},  // 50% of huge sizes
		{1<<62 + 1<<60, 1 << 62, 50, 64 * mb, false}, // 25%
	}
	for _, tt := range tests {
		if got := ShouldRewrite(tt.cur, tt.base, tt.perc, tt.min); got != tt.want {
			t.Errorf("ShouldRewrite(%d, %d, %d, %d) = %v", tt.cur, tt.base, tt.perc, tt.min, got)
		}
	}
}

func TestParseFsync(t *testing.T) {
	for _, s := range []string{"always", "everysec", "no"} {
		p, ok := ParseFsync(s)
		if !ok || p.String() != s {
			t.Errorf("%s: %v %v", s, p, ok)
		}
	}
	if _, ok := ParseFsync("sometimes"); ok {
		t.Error("accepted sometimes")
	}
}
