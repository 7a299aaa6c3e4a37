package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce is how long Watch waits after the last change to the file
// before reading it: an editor's save is several events (a write, a
// rename, a chmod), and a half-written file should not be judged.
const Debounce = 100 * time.Millisecond

// ErrStopped is what Reload returns once the Watcher is stopped.
var ErrStopped = errors.New("config: watcher stopped")

// Watcher keeps a config file's last good contents and reports changes.
//
// It watches the file's directory, not the file: editors save by writing
// a new file and renaming it over the old one, which would leave a watch
// on the old file's inode blind. When the path is a symbolic link (a
// Kubernetes ConfigMap swaps a link to a directory), any change in the
// directory makes it read the file again. A change is read Debounce after
// the last event; if the bytes are those it read last, nothing happens.
//
// A file that does not load or does not validate never replaces the last
// good config (the design's invariant 6): onError gets why, Current stays
// as it was, and onChange is not called.
type Watcher struct {
	path     string
	onChange func(*Config)
	onError  func(error)
	anyEvent bool

	fs      *fsnotify.Watcher
	current atomic.Pointer[Config]
	reload  chan chan error
	done    chan struct{}
	exited  chan struct{}
	stop    sync.Once

	// last is the bytes of the last file read, good or bad; nil after a
	// read that failed. Owned by the loop.
	last []byte
}

// Watch loads and validates the file at path and watches it for changes:
// each time it changes to a valid config, onChange gets the new config;
// each time it changes to one that does not load or validate, or cannot
// be read, onError gets the error and the last good config stays. The
// callbacks run one at a time on the watcher's goroutine; either may be
// nil. If the file is not valid to begin with, Watch returns its errors
// and watches nothing: there is no good config to keep.
//
// Stop the Watcher with Stop (not from a callback).
func Watch(path string, onChange func(*Config), onError func(error)) (*Watcher, error) {
	if onChange == nil {
		onChange = func(*Config) {}
	}
	if onError == nil {
		onError = func(error) {}
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", path, err)
	}
	// Watch before the first read, so no change slips in between.
	if err := fs.Add(filepath.Dir(path)); err != nil {
		fs.Close()
		return nil, fmt.Errorf("watching %s: %w", path, err)
	}
	w := &Watcher{
		path:     path,
		onChange: onChange,
		onError:  onError,
		fs:       fs,
		reload:   make(chan chan error),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		w.anyEvent = true
	}
	c, data, err := w.read()
	if err != nil {
		fs.Close()
		return nil, err
	}
	w.last = data
	w.current.Store(c)
	go w.loop()
	return w, nil
}

// Current returns the last good config. It is safe to call from any
// goroutine; the Config must not be changed.
func (w *Watcher) Current() *Config { return w.current.Load() }

// Reload reads the file now, whether or not it changed (what SIGHUP
// does), and returns what onError got, or nil after calling onChange with
// the config read. It waits for the callbacks; do not call it from one.
func (w *Watcher) Reload() error {
	reply := make(chan error, 1)
	select {
	case w.reload <- reply:
		return <-reply
	case <-w.done:
		return ErrStopped
	}
}

// Stop stops watching and waits until no callback runs; none runs after
// it returns. It may be called more than once, but not from a callback.
func (w *Watcher) Stop() {
	w.stop.Do(func() {
		close(w.done)
		<-w.exited
		w.fs.Close()
	})
}

func (w *Watcher) loop() {
	defer close(w.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	name := filepath.Clean(w.path)
	for {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if w.anyEvent || filepath.Clean(ev.Name) == name {
				timer.Reset(Debounce)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.onError(fmt.Errorf("watching %s: %w", w.path, err))
		case <-timer.C:
			w.load(false)
		case reply := <-w.reload:
			reply <- w.load(true)
		case <-w.done:
			return
		}
	}
}

// load reads the file and, if it is good, makes it current and calls
// onChange. Unless forced, bytes equal to the last read do nothing.
func (w *Watcher) load(force bool) error {
	data, err := os.ReadFile(w.path)
	if err != nil {
		w.last = nil
		w.onError(err)
		return err
	}
	if !force && w.last != nil && bytes.Equal(data, w.last) {
		return nil
	}
	w.last = data
	c, err := parseValid(w.path, data)
	if err != nil {
		w.onError(err)
		return err
	}
	w.current.Store(c)
	w.onChange(c)
	return nil
}

// read reads, parses and validates the file.
func (w *Watcher) read() (*Config, []byte, error) {
	data, err := os.ReadFile(w.path)
	if err != nil {
		return nil, nil, err
	}
	c, err := parseValid(w.path, data)
	return c, data, err
}

// parseValid parses data and validates the result.
func parseValid(file string, data []byte) (*Config, error) {
	c, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
