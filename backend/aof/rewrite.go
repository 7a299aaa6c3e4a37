package aof

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"
)

// autosyncBytes is REDIS_AUTOSYNC_BYTES: with aof-rewrite-incremental-fsync
// (on by default) the new base is fsynced every 4 MB as it is written, so
// the final fsync does not stall.
const autosyncBytes = 4 << 20

// rewrite is a running rewrite: the temp file the new base is written to.
type rewrite struct {
	f        File
	path     string
	bw       *bufio.Writer
	unsynced int64
	start    time.Time
}

// Write buffers p for the temp base file; it is the io.Writer StartRewrite
// returns.
func (r *rewrite) Write(p []byte) (int, error) {
	n, err := r.bw.Write(p)
	r.unsynced += int64(n)
	if err == nil && r.unsynced >= autosyncBytes {
		r.unsynced = 0
		if err = r.bw.Flush(); err == nil {
			err = r.f.Sync()
		}
	}
	return n, err
}

var errRewriteRunning = errors.New("Background append only file rewriting already in progress")

// StartRewrite begins a rewrite the way Redis 7.0 does (no rewrite buffer):
// it flushes the buffer, creates a new incr file with the next sequence
// number and persists a manifest listing it after the old ones, so every
// write from now on goes to the new incr file. It returns the writer of
// the temp base file, TempRewriteName(pid) in dir: the caller writes into
// it a snapshot of the dataset as of this call (an RDB file if
// cfg.RDBPreamble, RESP commands otherwise), from any one goroutine, then
// calls FinishRewrite or AbortRewrite from the appending goroutine. If
// StartRewrite fails nothing has changed.
func (a *AOF) StartRewrite() (io.Writer, error) {
	if a.rw != nil {
		return nil, &Error{Msg: errRewriteRunning.Error(), Err: errRewriteRunning}
	}
	if a.closed {
		return nil, &Error{Msg: "The AOF is closed"}
	}
	tmp := filepath.Join(a.cfg.Dir, TempRewriteName(os.Getpid()))
	tf, err := a.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, a.fail(err, "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s", Strerror(err))
	}
	drop := func() {
		tf.Close()
		a.fs.Remove(tmp)
	}
	a.Flush()
	var name string
	var m *Manifest
	if a.waiting {
		name = TempIncrName(a.cfg.FileName)
	} else {
		m = a.man.clone()
		name = m.addIncr(a.cfg.FileName)
	}
	f, err := a.fs.OpenFile(a.path(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		drop()
		return nil, a.fail(err, "Can't open the append-only file %s: %s", name, Strerror(err))
	}
	if m != nil {
		if err := a.persist(m); err != nil {
			f.Close()
			a.fs.Remove(a.path(name))
			drop()
			return nil, err
		}
		a.man = m
	}
	a.cfg.logf("Creating AOF incr file %s on background rewrite", name)
	a.setCur(newIncrFile(f, name, 0))
	a.rw = &rewrite{f: tf, path: tmp, bw: bufio.NewWriterSize(tf, 64<<10), start: time.Now()}
	a.setRewriting(true)
	a.rewrites++
	return a.rw, nil
}

func (a *AOF) setRewriting(on bool) {
	a.mu.Lock()
	a.rewriting = on
	a.mu.Unlock()
}

// FinishRewrite completes the rewrite once the caller has written the whole
// snapshot, as backgroundRewriteDoneHandler does: it fsyncs the temp base
// file and renames it to the next base name, makes the old base and the
// incr files written before StartRewrite history, persists the manifest
// (the switch to the new base is this one atomic rename) and deletes the
// history files. On failure the new base is dropped and the AOF stays as
// after StartRewrite: the old base and every incr file still load.
func (a *AOF) FinishRewrite() error {
	rw := a.rw
	if rw == nil {
		return &Error{Msg: "No AOF rewrite in progress"}
	}
	a.rw = nil
	a.setRewriting(false)
	if err := a.closeTemp(rw); err != nil {
		return a.rewriteFailed(err)
	}
	a.cfg.logf("Background AOF rewrite terminated with success")
	m := a.man.clone()
	base := m.newBase(a.cfg.FileName, a.cfg.RDBPreamble)
	if err := a.fs.Rename(rw.path, a.path(base)); err != nil {
		a.fs.Remove(rw.path)
		return a.rewriteFailed(a.fail(err, "Error trying to rename the temporary AOF base file %s into %s: %s", filepath.Base(rw.path), a.path(base), Strerror(err)))
	}
	a.cfg.logf("Successfully renamed the temporary AOF base file %s into %s", filepath.Base(rw.path), base)
	incr := ""
	if a.waiting {
		tmpIncr := TempIncrName(a.cfg.FileName)
		incr = m.addIncr(a.cfg.FileName)
		if err := a.fs.Rename(a.path(tmpIncr), a.path(incr)); err != nil {
			a.fs.Remove(a.path(base))
			return a.rewriteFailed(a.fail(err, "Error trying to rename the temporary AOF incr file %s into %s: %s", a.path(tmpIncr), a.path(incr), Strerror(err)))
		}
		a.cfg.logf("Successfully renamed the temporary AOF incr file %s into %s", tmpIncr, incr)
	}
	m.rewrittenIncrToHistory()
	if err := a.persist(m); err != nil {
		a.fs.Remove(a.path(base))
		if incr != "" {
			a.fs.Remove(a.path(incr))
		}
		return a.rewriteFailed(err)
	}
	a.man = m
	if incr != "" {
		a.cur.name = incr
		a.waiting = false
	}
	a.selectedDB = -1
	if fi, err := a.fs.Stat(a.path(base)); err == nil {
		a.curSize = fi.Size() + a.incrSize
	}
	a.baseSize = a.curSize
	a.delHistory()
	a.lastRewriteOK = true
	a.rwFailures = 0
	a.lastRewriteTime = time.Since(rw.start)
	a.cfg.logf("Background AOF rewrite finished successfully")
	return nil
}

// rewriteFailed records a failed rewrite; while the AOF waits for its
// first base, the writes collected for it are dropped, as Redis drops
// them before it tries again.
func (a *AOF) rewriteFailed(err error) error {
	a.lastRewriteOK = false
	a.rwFailures++
	if a.waiting {
		a.dropTempIncr()
	}
	return err
}

func (a *AOF) dropTempIncr() {
	a.buf = a.buf[:0]
	a.setCur(nil)
	a.closers.Wait()
	name := TempIncrName(a.cfg.FileName)
	a.cfg.logf("Removing the temp incr aof file %s in the background", name)
	a.fs.Remove(a.path(name))
}

// AbortRewrite abandons the running rewrite: the temp base file is
// removed and the manifest stays as StartRewrite left it, with the new
// incr file listed after the old ones, as Redis leaves it. It is not
// counted as a failure (Redis's kill of its rewrite child).
func (a *AOF) AbortRewrite() {
	rw := a.rw
	if rw == nil {
		return
	}
	a.rw = nil
	a.setRewriting(false)
	rw.f.Close()
	a.fs.Remove(rw.path)
	a.lastRewriteTime = time.Since(rw.start)
	if a.waiting {
		a.dropTempIncr()
	}
}

// BaseRewrite is a rewrite made while appendonly is off (BGREWRITEAOF with
// the AOF disabled): Redis 7.0 then writes only a new base, and the
// manifest lists that base alone, every earlier file becoming history.
type BaseRewrite struct {
	a  *AOF
	rw *rewrite
}

// StartBaseRewrite opens the temp file of an AOF-off rewrite; the caller
// writes the snapshot to the returned writer, then calls Finish or Abort.
func StartBaseRewrite(cfg Config) (*BaseRewrite, io.Writer, error) {
	a, err := openDir(cfg)
	if err != nil {
		return nil, nil, err
	}
	tmp := filepath.Join(a.cfg.Dir, TempRewriteName(os.Getpid()))
	tf, err := a.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, a.fail(err, "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s", Strerror(err))
	}
	rw := &rewrite{f: tf, path: tmp, bw: bufio.NewWriterSize(tf, 64<<10), start: time.Now()}
	return &BaseRewrite{a: a, rw: rw}, rw, nil
}

// Finish fsyncs the new base, renames it into the AOF directory and
// persists a manifest listing it alone; the files it replaces are deleted.
func (b *BaseRewrite) Finish() error {
	a, rw := b.a, b.rw
	if err := a.closeTemp(rw); err != nil {
		return err
	}
	m := a.man.clone()
	base := m.newBase(a.cfg.FileName, a.cfg.RDBPreamble)
	for _, fi := range m.Incr {
		fi.Type = TypeHistory
		m.History = append(m.History, fi)
	}
	m.Incr = nil
	if err := a.fs.Rename(rw.path, a.path(base)); err != nil {
		a.fs.Remove(rw.path)
		return a.fail(err, "Error trying to rename the temporary AOF base file %s into %s: %s", filepath.Base(rw.path), a.path(base), Strerror(err))
	}
	if err := a.persist(m); err != nil {
		a.fs.Remove(a.path(base))
		return err
	}
	a.man = m
	a.delHistory()
	return nil
}

// Abort removes the temp file; nothing else has changed.
func (b *BaseRewrite) Abort() {
	b.rw.f.Close()
	b.a.fs.Remove(b.rw.path)
}

// closeTemp flushes, fsyncs and closes a rewrite's temp base file; on
// failure the file is removed.
func (a *AOF) closeTemp(rw *rewrite) error {
	err := rw.bw.Flush()
	if err == nil {
		err = rw.f.Sync()
	}
	if cerr := rw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		a.fs.Remove(rw.path)
		return a.fail(err, "Write error writing append only file on disk: %s", Strerror(err))
	}
	return nil
}
