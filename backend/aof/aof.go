// Package aof keeps Redis 7.0's multi-part append-only file: a directory
// (appenddirname) holding a manifest, at most one base file (an RDB
// snapshot or RESP commands) and incr files of RESP commands written after
// it, with the same names, manifest bytes and crash safety as Redis.
//
// The package knows files, not data: the caller encodes the commands it
// appends, writes the snapshot of a rewrite, and applies the commands that
// Load reads back.
//
// An *AOF is not safe for concurrent use: the caller serializes its calls
// (the server makes them under its executor lock). Two things run beside
// those calls: the package's own everysec fsync goroutine, and the writing
// of a rewrite's snapshot to the io.Writer StartRewrite returns, which may
// happen on any one goroutine until FinishRewrite or AbortRewrite.
package aof

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// Config holds the redis.conf directives the AOF files depend on.
type Config struct {
	Dir      string // dir: holds the AOF directory and the temp rewrite files
	DirName  string // appenddirname; "" means "appendonlydir"
	FileName string // appendfilename; "" means "appendonly.aof"
	Fsync    Fsync  // appendfsync
	// RDBPreamble is aof-use-rdb-preamble: a rewrite writes an RDB base
	// (.base.rdb) rather than RESP commands (.base.aof). Redis's default
	// is yes.
	RDBPreamble bool
	// LoadTruncated is aof-load-truncated (Redis's default is yes).
	LoadTruncated bool
	// NoFsyncOnRewrite is no-appendfsync-on-rewrite: no fsync of the incr
	// file while a rewrite runs.
	NoFsyncOnRewrite bool
	// DisableAutoGC is aof-disable-auto-gc: history files are kept.
	DisableAutoGC bool
	// MaxBulkLen is proto-max-bulk-len, the longest argument Load accepts;
	// 0 means 512 MB.
	MaxBulkLen int64
	// FS does every file operation; nil means the operating system.
	FS FS
	// Logf receives the lines Redis logs about its AOF (warnings and
	// notices, without a level); nil drops them.
	Logf func(format string, args ...any)

	syncEvery time.Duration // everysec's period; 0 means a second
}

func (c Config) withDefaults() Config {
	if c.DirName == "" {
		c.DirName = "appendonlydir"
	}
	if c.FileName == "" {
		c.FileName = "appendonly.aof"
	}
	if c.MaxBulkLen <= 0 {
		c.MaxBulkLen = 512 << 20
	}
	if c.FS == nil {
		c.FS = OSFS{}
	}
	if c.syncEvery <= 0 {
		c.syncEvery = time.Second
	}
	return c
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// AOFDir is the AOF directory: Dir/DirName.
func (c Config) AOFDir() string {
	c = c.withDefaults()
	return filepath.Join(c.Dir, c.DirName)
}

// Error is a failed AOF operation. Msg is the line Redis logs for it.
type Error struct {
	Msg string
	Err error // the cause, if any
	// Fatal is set where Redis exits: a write or fsync error under
	// appendfsync always, since the reply has been promised durable.
	Fatal bool
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Strerror is err as C's strerror words it ("No space left on device"),
// for the messages Redis builds with it, such as the MISCONF reply.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		r, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[n:]
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// AOF is an open append-only file set: the manifest, and the incr file
// commands are appended to. Its methods must not be called concurrently
// (see the package comment).
type AOF struct {
	cfg Config
	fs  FS
	dir string
	man *Manifest
	buf []byte
	rw  *rewrite
	// waiting is Redis's AOF_WAIT_REWRITE: the AOF was turned on at run
	// time and its first base is not written yet; writes go to the temp
	// incr file while a rewrite runs, and are dropped otherwise.
	waiting    bool
	closed     bool
	selectedDB int

	curSize, baseSize, incrSize int64
	writeErr                    error
	lastErrLog                  time.Time
	rewrites, rwFailures        int64
	lastRewriteOK               bool
	lastRewriteTime             time.Duration

	fsync     atomic.Int32 // the appendfsync policy, read by the syncer
	mu        sync.Mutex   // guards cur, rewriting, syncErr, syncing
	cur       *incrFile    // nil while waiting without a rewrite, and after Close
	rewriting bool
	syncErr   error
	syncing   bool

	stop    chan struct{}
	wg      sync.WaitGroup // the everysec syncer
	closers sync.WaitGroup // background closes of old incr files
}

// incrFile is the incr file being appended to. The background syncer may
// fsync it while Flush writes to it; syncMu orders fsyncs and the close.
type incrFile struct {
	f       File
	name    string
	written atomic.Int64 // bytes in the file
	syncMu  sync.Mutex
	synced  int64 // bytes known durable; guarded by syncMu
	closed  bool  // guarded by syncMu
}

func newIncrFile(f File, name string, size int64) *incrFile {
	i := &incrFile{f: f, name: name, synced: size}
	i.written.Store(size)
	return i
}

// sync fsyncs the file if it holds unsynced bytes; it reports whether it
// called fsync.
func (i *incrFile) sync() (bool, error) {
	i.syncMu.Lock()
	defer i.syncMu.Unlock()
	target := i.written.Load()
	if i.closed || target == i.synced {
		return false, nil
	}
	if err := i.f.Sync(); err != nil {
		return true, err
	}
	i.synced = target
	return true, nil
}

func newAOF(cfg Config) *AOF {
	cfg = cfg.withDefaults()
	return &AOF{
		cfg:           cfg,
		fs:            cfg.FS,
		dir:           filepath.Join(cfg.Dir, cfg.DirName),
		selectedDB:    -1,
		lastRewriteOK: true,
		stop:          make(chan struct{}),
	}
}

func (a *AOF) path(name string) string { return filepath.Join(a.dir, name) }

// Open opens the AOF at server start with appendonly yes, after Load, as
// aofOpenIfNeededOnServerStart does: it creates the AOF directory if
// missing; when the manifest lists no file at all it first writes a base
// file by calling writeBase with a fresh temp file (the caller writes its
// whole dataset: an RDB file if cfg.RDBPreamble, RESP commands otherwise;
// nil writeBase skips the base); it opens the last incr file for appending,
// or creates the first one; it persists the manifest and deletes history
// files.
func Open(cfg Config, writeBase func(w io.Writer) error) (*AOF, error) {
	a := newAOF(cfg)
	if err := a.fs.MkdirAll(a.dir, 0o755); err != nil {
		return nil, a.fail(err, "Can't open or create append-only dir %s: %s", a.dir, Strerror(err))
	}
	m, err := readManifest(a.fs, a.dir, a.cfg.FileName)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = &Manifest{}
	}
	dirty := false
	if m.Base == nil && len(m.Incr) == 0 && writeBase != nil {
		name := m.newBase(a.cfg.FileName, a.cfg.RDBPreamble)
		if err := a.writeStartBase(name, writeBase); err != nil {
			return nil, err
		}
		a.cfg.logf("Creating AOF base file %s on server start", name)
		dirty = true
	}
	existed := len(m.Incr) > 0
	var name string
	if existed {
		name = m.Incr[len(m.Incr)-1].Name
	} else {
		name = m.addIncr(a.cfg.FileName)
		dirty = true
	}
	f, err := a.fs.OpenFile(a.path(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, a.fail(err, "Can't open the append-only file %s: %s", name, Strerror(err))
	}
	if dirty {
		if err := a.persist(m); err != nil {
			f.Close()
			return nil, err
		}
	}
	a.man = m
	if a.incrSize, err = fileSize(f); err == nil {
		a.baseSize, a.curSize, err = a.sizes()
	}
	if err != nil {
		f.Close()
		return nil, a.fail(err, "Unable to obtain the AOF file %s length. stat: %s", name, Strerror(err))
	}
	if existed {
		a.cfg.logf("Opening AOF incr file %s on server start", name)
	} else {
		a.cfg.logf("Creating AOF incr file %s on server start", name)
	}
	a.cur = newIncrFile(f, name, a.incrSize)
	a.delHistory()
	a.startSyncer()
	return a, nil
}

// Create turns the AOF on at run time (CONFIG SET appendonly yes), as
// startAppendOnly does: nothing is listed in the manifest until a base
// exists, so Create starts a rewrite at once. Writes appended from now on
// go to the temp incr file; the caller writes its dataset to w (see
// StartRewrite) and calls FinishRewrite, which lists the new base and the
// temp incr file, renamed, in the manifest. After AbortRewrite the AOF
// waits, dropping appends, until StartRewrite is called again.
func Create(cfg Config) (*AOF, io.Writer, error) {
	a, err := openDir(cfg)
	if err != nil {
		return nil, nil, err
	}
	a.waiting = true
	w, err := a.StartRewrite()
	if err != nil {
		return nil, nil, err
	}
	a.startSyncer()
	return a, w, nil
}

// openDir makes the AOF directory if needed and reads its manifest, if
// any, into a new AOF.
func openDir(cfg Config) (*AOF, error) {
	a := newAOF(cfg)
	if err := a.fs.MkdirAll(a.dir, 0o755); err != nil {
		return nil, a.fail(err, "Can't open or create append-only dir %s: %s", a.dir, Strerror(err))
	}
	m, err := readManifest(a.fs, a.dir, a.cfg.FileName)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = &Manifest{}
	}
	a.man = m
	return a, nil
}

// writeStartBase writes the base file at server start the way
// rewriteAppendOnlyFile does: into temp-rewriteaof-PID.aof in dir, fsynced,
// then renamed into the AOF directory.
func (a *AOF) writeStartBase(name string, write func(io.Writer) error) error {
	tmp := filepath.Join(a.cfg.Dir, tempStartName(os.Getpid()))
	f, err := a.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return a.fail(err, "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s", Strerror(err))
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		a.fs.Remove(tmp)
		return a.fail(err, "Write error writing append only file on disk: %s", Strerror(err))
	}
	if err := a.fs.Rename(tmp, a.path(name)); err != nil {
		a.fs.Remove(tmp)
		return a.fail(err, "Error moving temp append only file on the final destination: %s", Strerror(err))
	}
	return nil
}

// fail logs a message and returns it as an *Error.
func (a *AOF) fail(err error, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	a.cfg.logf("%s", msg)
	return &Error{Msg: msg, Err: err}
}

// sizes is the size of the base file and of base plus incr files.
func (a *AOF) sizes() (base, total int64, err error) {
	stat := func(name string) int64 {
		if err != nil {
			return 0
		}
		var fi os.FileInfo
		if fi, err = a.fs.Stat(a.path(name)); err != nil {
			return 0
		}
		return fi.Size()
	}
	if a.man.Base != nil {
		base = stat(a.man.Base.Name)
	}
	total = base
	for _, fi := range a.man.Incr {
		total += stat(fi.Name)
	}
	return base, total, err
}

func fileSize(f File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// readManifest reads and parses the manifest; it returns nil, nil when
// there is none.
func readManifest(fs FS, dir, fileName string) (*Manifest, error) {
	name := filepath.Join(dir, ManifestName(fileName))
	f, err := fs.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("Fatal error: can't open the AOF manifest file %s for reading: %s", name, Strerror(err)), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, &Error{Msg: "Read AOF manifest failed", Err: err}
	}
	return ParseManifest(data)
}

// persist writes m as the manifest the way writeAofManifestFile does: to
// the temp manifest, fsynced, renamed over the manifest, then the directory
// fsynced. A crash leaves the old or the new manifest, whole.
func (a *AOF) persist(m *Manifest) error {
	name, tmpName := ManifestName(a.cfg.FileName), TempManifestName(a.cfg.FileName)
	path, tmp := a.path(name), a.path(tmpName)
	f, err := a.fs.OpenFile(tmp, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
	if err != nil {
		return a.fail(err, "Can't open the AOF manifest file %s: %s", tmpName, Strerror(err))
	}
	if _, err := f.Write(m.Bytes()); err != nil {
		f.Close()
		return a.fail(err, "Error trying to write the temporary AOF manifest file %s: %s", tmpName, Strerror(err))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return a.fail(err, "Fail to fsync the temp AOF file %s: %s.", tmpName, Strerror(err))
	}
	if err := f.Close(); err != nil {
		return a.fail(err, "Error trying to write the temporary AOF manifest file %s: %s", tmpName, Strerror(err))
	}
	if err := a.fs.Rename(tmp, path); err != nil {
		return a.fail(err, "Error trying to rename the temporary AOF manifest file %s into %s: %s", tmpName, name, Strerror(err))
	}
	if err := a.fs.SyncDir(a.dir); err != nil {
		return a.fail(err, "Fail to fsync AOF directory %s: %s.", path, Strerror(err))
	}
	return nil
}

// delHistory deletes the history files and lists none any more
// (aofDelHistoryFiles). Its failures are logged only: a history file left
// behind harms nothing.
func (a *AOF) delHistory() {
	if a.cfg.DisableAutoGC || len(a.man.History) == 0 {
		return
	}
	m := a.man.clone()
	for _, fi := range m.History {
		a.cfg.logf("Removing the history file %s in the background", fi.Name)
		if err := a.fs.Remove(a.path(fi.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.cfg.logf("Can't remove the history file %s: %s", fi.Name, Strerror(err))
		}
	}
	m.History = nil
	if a.persist(m) == nil {
		a.man = m
	}
}

// Manifest returns a copy of the current manifest.
func (a *AOF) Manifest() *Manifest { return a.man.clone() }

// Append adds encoded RESP commands to the buffer that the next Flush
// writes. The bytes are copied. Appends are dropped while the AOF waits
// for its first base (see Create) and after Close.
func (a *AOF) Append(p []byte) {
	if a.cur != nil {
		a.buf = append(a.buf, p...)
	}
}

// AppendCommand appends one command of database db in the form Redis
// feeds its AOF: a SELECT first when db differs from the database of the
// command before (every new incr file starts with one), then argv as a
// RESP array of bulk strings. A negative db never selects.
func (a *AOF) AppendCommand(db int, argv ...[]byte) {
	if a.cur == nil {
		return
	}
	if db >= 0 && db != a.selectedDB {
		a.buf = AppendCommand(a.buf, []byte("SELECT"), []byte(strconv.Itoa(db)))
		a.selectedDB = db
	}
	a.buf = AppendCommand(a.buf, argv...)
}

// AppendCommand encodes argv as Redis writes a command to its AOF
// (catAppendOnlyGenericCommand): *N then $len and bytes per argument.
func AppendCommand(b []byte, argv ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, arg := range argv {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(arg)), 10)
		b = append(b, '\r', '\n')
		b = append(b, arg...)
		b = append(b, '\r', '\n')
	}
	return b
}

// Flush writes the buffered commands with one write(2), as
// flushAppendOnlyFile does before the server replies. Under appendfsync
// always it then fsyncs; under everysec a background goroutine fsyncs at
// most once a second; under no the system decides.
//
// On a failed or short write the unwritten bytes stay buffered for the
// next Flush, a short write is cut back off the file when possible, and
// WriteErr reports the failure until a Flush succeeds (Redis refuses
// writes meanwhile). Under always a write or fsync failure is Fatal, as
// Redis exits on it.
func (a *AOF) Flush() error {
	if len(a.buf) == 0 || a.cur == nil {
		return nil
	}
	cur := a.cur
	n, err := cur.f.Write(a.buf)
	if n > len(a.buf) || n < 0 {
		n = 0
	}
	if err != nil || n != len(a.buf) {
		return a.writeFailed(cur, n, err)
	}
	if a.writeErr != nil {
		a.cfg.logf("AOF write error looks solved, Redis can write again.")
		a.writeErr = nil
	}
	a.wrote(cur, n)
	if cap(a.buf) > 1<<20 {
		a.buf = nil
	} else {
		a.buf = a.buf[:0]
	}
	if a.policy() == FsyncAlways && !(a.cfg.NoFsyncOnRewrite && a.rw != nil) {
		if _, err := cur.sync(); err != nil {
			e := a.fail(err, "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...", Strerror(err))
			e.Fatal = true
			return e
		}
	}
	return nil
}

func (a *AOF) wrote(cur *incrFile, n int) {
	a.curSize += int64(n)
	a.incrSize += int64(n)
	cur.written.Add(int64(n))
}

// writeFailed handles a write of n bytes of the buffer that failed with
// err, as flushAppendOnlyFile does.
func (a *AOF) writeFailed(cur *incrFile, n int, err error) error {
	canLog := time.Since(a.lastErrLog) > 30*time.Second
	if canLog {
		a.lastErrLog = time.Now()
	}
	logf := func(format string, args ...any) {
		if canLog {
			a.cfg.logf(format, args...)
		}
	}
	var msg string
	if n == 0 {
		msg = fmt.Sprintf("Error writing to the AOF file: %s", Strerror(err))
		logf("%s", msg)
	} else {
		msg = fmt.Sprintf("Short write while writing to the AOF file: (nwritten=%d, expected=%d)", n, len(a.buf))
		logf("%s", msg)
		if terr := cur.f.Truncate(a.incrSize); terr != nil {
			logf("Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: %s", Strerror(terr))
		} else {
			n = 0
		}
		err = syscall.ENOSPC
	}
	if a.policy() == FsyncAlways {
		a.cfg.logf("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
		return &Error{Msg: msg, Err: err, Fatal: true}
	}
	a.writeErr = err
	if n > 0 {
		a.wrote(cur, n)
		a.buf = a.buf[:copy(a.buf, a.buf[n:])]
	}
	return &Error{Msg: msg, Err: err}
}

// WriteErr is the error of the last failed write or background fsync, nil
// once writing works again. While it is set Redis refuses write commands
// with "-MISCONF Errors writing to the AOF file: " + Strerror(err).
func (a *AOF) WriteErr() error {
	if a.writeErr != nil {
		return a.writeErr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.syncErr
}

// policy is the appendfsync policy in force.
func (a *AOF) policy() Fsync { return Fsync(a.fsync.Load()) }

// SetFsync changes the appendfsync policy (CONFIG SET appendfsync).
func (a *AOF) SetFsync(f Fsync) { a.fsync.Store(int32(f)) }

// AppendEncoded is AppendCommand for a command already encoded as a RESP
// array.
func (a *AOF) AppendEncoded(db int, cmd []byte) {
	if a.cur == nil {
		return
	}
	if db >= 0 && db != a.selectedDB {
		a.buf = AppendCommand(a.buf, []byte("SELECT"), []byte(strconv.Itoa(db)))
		a.selectedDB = db
	}
	a.buf = append(a.buf, cmd...)
}

// startSyncer starts everysec's background fsync (Redis's bio fsync job).
func (a *AOF) startSyncer() {
	a.fsync.Store(int32(a.cfg.Fsync))
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(a.cfg.syncEvery)
		defer t.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-t.C:
			}
			if a.policy() != FsyncEverysec {
				continue
			}
			a.mu.Lock()
			cur, skip := a.cur, a.cfg.NoFsyncOnRewrite && a.rewriting
			if cur != nil && !skip {
				a.syncing = true
			}
			a.mu.Unlock()
			if cur == nil || skip {
				continue
			}
			did, err := cur.sync()
			a.mu.Lock()
			a.syncing = false
			if did {
				if err != nil {
					a.cfg.logf("Fail to fsync the AOF file: %s", Strerror(err))
				}
				a.syncErr = err
			}
			a.mu.Unlock()
		}
	}()
}

// setCur makes f the file appended to and closes the previous one in the
// background, after an fsync if it holds unsynced bytes, as Redis's close
// job does.
func (a *AOF) setCur(f *incrFile) {
	a.mu.Lock()
	old := a.cur
	a.cur = f
	a.mu.Unlock()
	a.incrSize = 0
	if f != nil {
		a.incrSize = f.written.Load()
	}
	a.selectedDB = -1
	if old == nil {
		return
	}
	a.closers.Add(1)
	go func() {
		defer a.closers.Done()
		if _, err := old.sync(); err != nil {
			a.cfg.logf("Fail to fsync the AOF file: %s", Strerror(err))
		}
		old.syncMu.Lock()
		old.closed = true
		old.f.Close()
		old.syncMu.Unlock()
	}()
}

// Close flushes the buffer, fsyncs the incr file whatever the policy (as
// Redis does on shutdown), abandons a running rewrite and closes the files.
func (a *AOF) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	err := a.Flush()
	if a.rw != nil {
		a.AbortRewrite()
	}
	close(a.stop)
	if cur := a.cur; cur != nil {
		if _, serr := cur.sync(); serr != nil && err == nil {
			err = a.fail(serr, "Fail to fsync the AOF file: %s", Strerror(serr))
		}
	}
	a.setCur(nil)
	a.wg.Wait()
	a.closers.Wait()
	return err
}

// Stats are the AOF figures of INFO persistence.
type Stats struct {
	CurrentSize  int64 // aof_current_size: base plus incr files
	BaseSize     int64 // aof_base_size: CurrentSize after the last rewrite
	LastIncrSize int64 // bytes in the incr file being appended to
	BufferLength int   // aof_buffer_length: appended, not yet flushed
	PendingFsync bool  // aof_pending_bio_fsync

	RewriteInProgress   bool          // aof_rewrite_in_progress
	Rewrites            int64         // aof_rewrites: rewrites started
	LastRewriteOK       bool          // aof_last_bgrewrite_status
	LastRewriteTime     time.Duration // aof_last_rewrite_time_sec
	ConsecutiveFailures int64         // aof_rewrites_consecutive_failures
	WriteErr            error         // aof_last_write_status: nil is ok
}

// Stats reports the figures; call it like the other methods.
func (a *AOF) Stats() Stats {
	a.mu.Lock()
	pending := a.syncing
	a.mu.Unlock()
	return Stats{
		CurrentSize:         a.curSize,
		BaseSize:            a.baseSize,
		LastIncrSize:        a.incrSize,
		BufferLength:        len(a.buf),
		PendingFsync:        pending,
		RewriteInProgress:   a.rw != nil,
		Rewrites:            a.rewrites,
		LastRewriteOK:       a.lastRewriteOK,
		LastRewriteTime:     a.lastRewriteTime,
		ConsecutiveFailures: a.rwFailures,
		WriteErr:            a.WriteErr(),
	}
}
