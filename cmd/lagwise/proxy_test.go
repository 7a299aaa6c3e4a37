package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lagwise/lagwise/proxy"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedLines collects log lines from several goroutines.
type lockedLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedLines) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *lockedLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

func (l *lockedLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// log_level in the file sets the proxy's log at start and on every
// reload, the lines of the reload itself included.
func TestServeProxyLogLevel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	base := fmt.Sprintf("listen: %s\nmetrics_listen: %s\nmaster: %s\n", freeAddr(t), freeAddr(t), freeAddr(t))
	write := func(extra string) {
		t.Helper()
		// Written aside and renamed, as editors save.
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(base+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	var out lockedLines
	lg := proxy.NewLogger(out.printf)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("waited for %s; log:\n%s", what, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	write("log_level: warn\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveProxy(ctx, path, lg) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serveProxy: %v", err)
		}
	}()
	waitFor("the level of the file", func() bool { return lg.Level() == proxy.LevelWarn })

	// A file that does not validate: an error, logged at warn.
	write("log_level: loud\n")
	waitFor("the reload error", func() bool { return out.count("level=error config "+path+": keeping the running config") == 1 })

	// To debug: the reload's own lines are logged at the new level.
	write("log_level: debug\n")
	waitFor("the reload to debug", func() bool { return out.count("level=info config "+path+": reloaded") == 1 })
	if lg.Level() != proxy.LevelDebug {
		t.Errorf("after the reload to debug: level %v", lg.Level())
	}
	if n := out.count("level=info config " + path + ": log_level: warn → debug"); n != 1 {
		t.Errorf("the change of log_level logged %d times, want once", n)
	}

	// To error: the lines of that reload, at info, are dropped. The
	// watcher reads one file after the other: once the error of the next
	// one is logged, the lines of this one are behind it.
	write("log_level: error\n")
	waitFor("the reload to error", func() bool { return lg.Level() == proxy.LevelError })
	write("log_level: loud\n")
	waitFor("the second reload error", func() bool { return out.count("level=error config "+path+": keeping the running config") == 2 })
	if n := out.count("level=info "); n != 2 {
		t.Errorf("%d lines at info, want the 2 of the reload to debug; log:\n%s", n, out.String())
	}
	// Started at warn: the info line of the start is not there.
	if strings.Contains(out.String(), "proxy listening") {
		t.Errorf("an info line logged at log_level: warn; log:\n%s", out.String())
	}
}
