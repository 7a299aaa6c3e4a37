package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// watchLog collects a Watcher's callbacks.
type watchLog struct {
	changes chan *Config
	errs    chan error
}

func newWatchLog() *watchLog {
	return &watchLog{changes: make(chan *Config, 16), errs: make(chan error, 16)}
}

func (l *watchLog) onChange(c *Config) { l.changes <- c }
func (l *watchLog) onError(err error)  { l.errs <- err }

const wait = 5 * time.Second

// change waits for onChange; an error in between fails the test.
func (l *watchLog) change(t *testing.T) *Config {
	t.Helper()
	select {
	case c := <-l.changes:
		return c
	case err := <-l.errs:
		t.Fatalf("onError(%v), want onChange", err)
	case <-time.After(wait):
		t.Fatal("no onChange")
	}
	return nil
}

// error waits for onError; a change in between fails the test.
func (l *watchLog) error(t *testing.T) error {
	t.Helper()
	select {
	case c := <-l.changes:
		t.Fatalf("onChange(%v), want onError", c)
	case err := <-l.errs:
		return err
	case <-time.After(wait):
		t.Fatal("no onError")
	}
	return nil
}

// quiet checks that no callback comes for a while.
func (l *watchLog) quiet(t *testing.T) {
	t.Helper()
	select {
	case c := <-l.changes:
		t.Fatalf("unexpected onChange(%v)", c)
	case err := <-l.errs:
		t.Fatalf("unexpected onError(%v)", err)
	case <-time.After(3 * Debounce):
	}
}

func goodConfig(master string) string {
	return "master: " + master + "\nreplicas:\n  - addr: 127.0.0.1:6381\n"
}

const badConfig = "master: 127.0.0.1:6380\nrouting:\n  reafrom: master\n"

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// renameOver saves as most editors do: a new file in the same directory,
// renamed over the old one.
func renameOver(t *testing.T, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	writeFile(t, tmp, data)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func startWatch(t *testing.T, path string) (*Watcher, *watchLog) {
	t.Helper()
	l := newWatchLog()
	w, err := Watch(path, l.onChange, l.onError)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w, l
}

// Good, changed, bad (reported, the good one kept), good again — written
// in place, then by renaming over the file.
func TestWatch(t *testing.T) {
	for _, style := range []struct {
		name string
		save func(*testing.T, string, string)
	}{{"written in place", writeFile}, {"renamed over", renameOver}} {
		t.Run(style.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			writeFile(t, path, goodConfig("127.0.0.1:6380"))
			w, l := startWatch(t, path)
			if got := w.Current().Master; got != "127.0.0.1:6380" {
				t.Fatalf("Current().Master = %s", got)
			}

			style.save(t, path, goodConfig("127.0.0.1:7000"))
			if c := l.change(t); c.Master != "127.0.0.1:7000" {
				t.Fatalf("onChange master %s, want 127.0.0.1:7000", c.Master)
			}
			if got := w.Current().Master; got != "127.0.0.1:7000" {
				t.Fatalf("Current().Master = %s after the change", got)
			}

			style.save(t, path, badConfig)
			err := l.error(t)
			if !strings.Contains(err.Error(), "config.yaml:3: routing.reafrom: unknown key") {
				t.Errorf("onError(%v): want the file's error", err)
			}
			if got := w.Current().Master; got != "127.0.0.1:7000" {
				t.Fatalf("Current().Master = %s after a bad file, want the last good one", got)
			}

			// Valid YAML that breaks a rule is just as bad.
			style.save(t, path, "master: 127.0.0.1:6380\nlog_level: loud\n")
			if err := l.error(t); !strings.Contains(err.Error(), "log_level") {
				t.Errorf("onError(%v): want the validation error", err)
			}

			style.save(t, path, goodConfig("127.0.0.1:7001"))
			if c := l.change(t); c.Master != "127.0.0.1:7001" {
				t.Fatalf("onChange master %s, want 127.0.0.1:7001", c.Master)
			}
			l.quiet(t)
		})
	}
}

// A burst of saves is read once, after the last.
func TestWatchDebounce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	_, l := startWatch(t, path)
	writeFile(t, path, badConfig)
	writeFile(t, path, "master: 127.0.0.1:")
	renameOver(t, path, goodConfig("127.0.0.1:7002"))
	if c := l.change(t); c.Master != "127.0.0.1:7002" {
		t.Fatalf("onChange master %s", c.Master)
	}
	l.quiet(t)
}

// Saving the same bytes again, or touching the file, changes nothing.
func TestWatchSameBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	_, l := startWatch(t, path)
	renameOver(t, path, goodConfig("127.0.0.1:6380"))
	now := time.Now()
	os.Chtimes(path, now, now)
	os.Chmod(path, 0o600)
	l.quiet(t)
}

// Another file in the directory is not the config.
func TestWatchOtherFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	_, l := startWatch(t, path)
	writeFile(t, filepath.Join(dir, "other.yaml"), badConfig)
	l.quiet(t)
}

// An editor that moves the old file aside and writes a new one (vim's
// backupcopy=no) is one change.
func TestWatchMoveAsideAndWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	_, l := startWatch(t, path)
	if err := os.Rename(path, path+"~"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, goodConfig("127.0.0.1:7003"))
	if c := l.change(t); c.Master != "127.0.0.1:7003" {
		t.Fatalf("onChange master %s", c.Master)
	}
}

// A file removed for good is an error, and the last good config stays;
// putting it back is a change.
func TestWatchRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	w, l := startWatch(t, path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := l.error(t); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("onError(%v), want not-exist", err)
	}
	if w.Current().Master != "127.0.0.1:6380" {
		t.Error("the last good config was dropped")
	}
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	if c := l.change(t); c.Master != "127.0.0.1:6380" {
		t.Fatalf("onChange master %s", c.Master)
	}
}

// A config reached through a symbolic link swapped to a new target, as a
// Kubernetes ConfigMap volume does it.
func TestWatchSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "v1", "config.yaml"), goodConfig("127.0.0.1:6380"))
	writeFile(t, filepath.Join(dir, "v2", "config.yaml"), goodConfig("127.0.0.1:7004"))
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.Symlink(filepath.Join("..data", "config.yaml"), path); err != nil {
		t.Fatal(err)
	}
	_, l := startWatch(t, path)
	if err := os.Symlink("v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if c := l.change(t); c.Master != "127.0.0.1:7004" {
		t.Fatalf("onChange master %s", c.Master)
	}
}

// Reload reads the file even when unchanged, and reports a bad one.
func TestWatchReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	w, l := startWatch(t, path)
	if err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	if c := l.change(t); c.Master != "127.0.0.1:6380" {
		t.Fatalf("onChange master %s", c.Master)
	}

	w.Stop() // no events: the bad file is met by Reload alone
	w, l = startWatch(t, path)
	w.fs.Remove(filepath.Dir(path))
	writeFile(t, path, badConfig)
	err := w.Reload()
	if err == nil || !strings.Contains(err.Error(), "reafrom") {
		t.Fatalf("Reload() = %v, want the file's error", err)
	}
	if got := l.error(t); got != err {
		t.Errorf("onError(%v), want what Reload returned", got)
	}
	if w.Current().Master != "127.0.0.1:6380" {
		t.Error("the last good config was dropped")
	}
}

// Watch refuses a file that is bad from the start.
func TestWatchBadAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, badConfig)
	if _, err := Watch(path, nil, nil); err == nil || !strings.Contains(err.Error(), "reafrom") {
		t.Errorf("Watch = %v, want the file's error", err)
	}
	if _, err := Watch(filepath.Join(t.TempDir(), "none.yaml"), nil, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Watch of a missing file = %v", err)
	}
}

// After Stop no callback runs and Reload says it is stopped.
func TestWatchStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, goodConfig("127.0.0.1:6380"))
	w, l := startWatch(t, path)
	w.Stop()
	w.Stop()
	writeFile(t, path, goodConfig("127.0.0.1:7005"))
	l.quiet(t)
	if err := w.Reload(); err != ErrStopped {
		t.Errorf("Reload after Stop = %v", err)
	}
}
