package backend

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/lagwise/lagwise/rdb"
)

// RDB persistence: SAVE, BGSAVE, save schedules, save on shutdown, and the
// load at start. BGSAVE writes a point-in-time snapshot (snapshot.go) from
// a goroutine while clients keep being served.

// persistState is the server's persistence bookkeeping, guarded by the
// executor lock.
type persistState struct {
	snap     *snapshot // the snapshot being written, if any
	snapKind childKind
	snapDone chan struct{} // closed when the running background job ends

	lastSave       int64 // unix seconds of the last successful save
	lastBgsaveOK   bool
	lastBgsaveTry  int64 // unix seconds of the last BGSAVE attempt
	lastBgsaveSecs int64 // duration of the last BGSAVE, -1 before any
	bgsaveStart    time.Time
	saves          int64
	scheduled      bool // BGSAVE SCHEDULE waits for the running job
	lastCow        int64
	lastCowKeys    int64 // keys the last BGSAVE's commands saved before changing them

	loadKeys     int64
	loadExpired  int64
	rdbSaveIndex int64 // numbers temp files, so an aborted job's file is not reused
}

// childKind is what the background job (Redis's child process) is doing.
type childKind int

const (
	childNone childKind = iota
	childRDB
	childAOF
)

func (s *Server) initPersist() {
	s.persist.lastSave = s.startTime.Unix()
	s.persist.lastBgsaveOK = true
	s.persist.lastBgsaveSecs = -1
	s.aof.lastRewriteSecs = -1
	s.aof.lastRewriteOK = true
}

// rdbPath is the dump file's path.
func (s *Server) rdbPath() string { return filepath.Join(s.cfg.Dir, s.cfg.DBFilename) }

// rdbAux lists the aux fields of a new RDB file, as Redis 7.0 writes them.
func (s *Server) rdbAux(aofBase bool) [][2]string {
	aux := [][2]string{
		{"redis-ver", redisCompatVersion},
		{"redis-bits", strconv.Itoa(strconv.IntSize)},
		{"ctime", strconv.FormatInt(time.Now().Unix(), 10)},
		{"used-mem", strconv.FormatInt(s.usedMemory(), 10)},
	}
	// Where this dataset stands in the replication history, so a
	// restarted server can continue partially (rdbPopulateSaveInfo).
	if m := s.repl.m; m.Backlog != nil || s.repl.link != nil {
		streamDB := 0
		if l := s.repl.link; l != nil {
			streamDB = l.client.db.id
		}
		aux = append(aux,
			[2]string{"repl-stream-db", strconv.Itoa(streamDB)},
			[2]string{"repl-id", m.ID},
			[2]string{"repl-offset", strconv.FormatInt(m.Offset, 10)})
	}
	ab := "0"
	if aofBase {
		ab = "1"
	}
	return append(aux, [2]string{"aof-base", ab})
}

// autoSyncBytes is how often a file being written is fsynced, to spread
// the disk writes instead of flushing everything at the end (Redis's
// rdb-save-incremental-fsync, 4 MB).
const autoSyncBytes = 4 << 20

// syncWriter writes to a file, fsyncing every autoSyncBytes.
type syncWriter struct {
	f       *os.File
	pending int64
}

func (w *syncWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.pending += int64(n)
	if err == nil && w.pending >= autoSyncBytes {
		w.pending = 0
		err = fileSync(w.f)
	}
	return n, err
}

// fileSync and dirSync are the fsync calls of persistence; tests count
// them.
var (
	fileSync = func(f *os.File) error { return f.Sync() }
	dirSync  = func(dir string) error {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Sync()
	}
)

// writeFileAtomic writes a file through a temp file in the same directory:
// write, fsync, rename over path, fsync the directory. A crash at any
// point leaves either the old file or the new one, never a torn one.
func writeFileAtomic(path, tmpName string, write func(io.Writer) error) error {
	tmp, err := writeTemp(path, tmpName, write)
	if err != nil {
		return err
	}
	return commitTemp(tmp, path)
}

// writeTemp writes and fsyncs the temp file tmpName beside path and
// returns its path; on failure it removes it.
func writeTemp(path, tmpName string, write func(io.Writer) error) (string, error) {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, tmpName)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return "", fmt.Errorf("Failed opening the temp RDB file %s (in server root dir %s) for saving: %v", tmpName, dir, errText(err))
	}
	err = write(&syncWriter{f: f})
	if err == nil {
		err = fileSync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// commitTemp renames a written temp file over path and fsyncs the
// directory.
func commitTemp(tmp, path string) error {
	dir := filepath.Dir(path)
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("Error moving temp DB file %s on the final destination %s (in server root dir %s): %v", filepath.Base(tmp), filepath.Base(path), dir, errText(err))
	}
	return dirSync(dir)
}

// errText is an OS error as strerror words it.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

func (s *Server) tempRDBName() string {
	s.persist.rdbSaveIndex++
	return fmt.Sprintf("temp-%d-%d.rdb", os.Getpid(), s.persist.rdbSaveIndex)
}

// saveRDB writes the dataset to the dump file while holding the executor
// lock (SAVE, and saving at shutdown).
func (s *Server) saveRDB() error {
	sn := s.beginSnapshot(s.rdbAux(false))
	defer s.endSnapshot(sn)
	start := time.Now()
	err := writeFileAtomic(s.rdbPath(), s.tempRDBName(), func(w io.Writer) error {
		return sn.writeToLocked(rdb.NewWriter(w, sn.opts))
	})
	if err != nil {
		s.logf("Failed saving the DB: %v", err)
		s.persist.lastBgsaveOK = false
		return err
	}
	s.logf("DB saved on disk")
	s.saveDone(sn, start)
	return nil
}

// saveDone records a successful save of the snapshot sn.
func (s *Server) saveDone(sn *snapshot, start time.Time) {
	s.dirty -= sn.cutDirty
	s.persist.lastSave = time.Now().Unix()
	s.persist.lastBgsaveOK = true
	_ = start
}

// busyErr is the error for starting a background job while another runs.
func (s *Server) childBusy() bool { return s.persist.snapKind != childNone }

// startBgsave starts a background save; the caller holds the executor
// lock.
func (s *Server) startBgsave() error {
	if s.childBusy() {
		return errSnapshotRunning
	}
	s.persist.saves++
	sn := s.beginSnapshot(s.rdbAux(false))
	s.persist.snapKind = childRDB
	s.persist.snapDone = make(chan struct{})
	s.persist.bgsaveStart = time.Now()
	s.persist.lastBgsaveTry = time.Now().Unix()
	tmp := s.tempRDBName()
	path := s.rdbPath()
	done := s.persist.snapDone
	s.logf("Background saving started")
	go func() {
		defer close(done)
		tmpPath, err := writeTemp(path, tmp, func(w io.Writer) error {
			return sn.writeTo(rdb.NewWriter(w, sn.opts))
		})
		s.mu.Lock()
		defer s.unlock()
		// The rename happens under the lock, so a job stopped meanwhile
		// (FLUSHALL, SHUTDOWN) never puts its older data over a newer file.
		if sn.aborted {
			if err == nil {
				os.Remove(tmpPath)
			}
			s.persist.snapKind = childNone
			return // stopped on purpose: not a failure, as in Redis
		}
		if err == nil {
			err = commitTemp(tmpPath, path)
		}
		s.endSnapshot(sn)
		s.persist.snapKind = childNone
		s.persist.lastBgsaveSecs = int64(time.Since(s.persist.bgsaveStart).Seconds())
		s.persist.lastCow = sn.maxHeld
		s.persist.lastCowKeys = sn.cowKeys
		if err != nil {
			s.logf("Background saving error: %v", err)
			s.persist.lastBgsaveOK = false
			return
		}
		s.logf("Background saving terminated with success")
		s.saveDone(sn, s.persist.bgsaveStart)
	}()
	return nil
}

// abortChild stops the running background job (shutdown, FLUSHALL); the
// caller holds the executor lock.
func (s *Server) abortChild() {
	if sn := s.persist.snap; sn != nil && s.persist.snapKind != childNone {
		sn.aborted = true
		s.endSnapshot(sn)
	}
}

// prepareForShutdown makes the data durable before exit, as Redis's
// prepareForShutdown does: a running background job is stopped, the AOF
// is flushed and fsynced, and the dump is saved when save points are
// configured (or SAVE was asked) unless NOSAVE. With force, a failed save
// does not stop the shutdown. The caller holds the executor lock.
func (s *Server) prepareForShutdown(nosave, save, force bool) error {
	s.abortChild()
	if save || (!nosave && s.cfg.Save != "") {
		s.logf("Saving the final RDB snapshot before exiting.")
		if err := s.saveRDB(); err != nil {
			s.logf("Error trying to save the DB, can't exit.")
			if !force {
				return err
			}
		}
	}
	if err := s.aofShutdown(); err != nil && !force {
		return err
	}
	return nil
}

// ShutdownBySignal is SIGTERM/SIGINT: save as SHUTDOWN would, then stop.
// If the data cannot be saved the server keeps running, as Redis does.
func (s *Server) ShutdownBySignal() bool {
	s.mu.Lock()
	err := s.prepareForShutdown(false, false, false)
	if err == nil {
		s.closing.Store(true) // nothing runs after the final save
	}
	s.unlock()
	if err != nil {
		s.logf("SIGTERM received but errors trying to shut down the server, check the logs for more information")
		return false
	}
	s.logf("Redis is now ready to exit, bye bye...")
	s.Shutdown()
	return true
}

// saveParams parses the save directive into (seconds, changes) pairs.
func saveParams(v string) [][2]int64 {
	f := strings.Fields(v)
	var out [][2]int64
	for i := 0; i+1 < len(f); i += 2 {
		secs, _ := strconv.ParseInt(f[i], 10, 64)
		changes, _ := strconv.ParseInt(f[i+1], 10, 64)
		out = append(out, [2]int64{secs, changes})
	}
	return out
}

// bgsaveRetryDelay is how long a failed BGSAVE waits before the schedule
// tries again (Redis's CONFIG_BGSAVE_RETRY_DELAY).
const bgsaveRetryDelay = 5

// saveDue reports which save point, if any, says a BGSAVE should start
// now: at least changes changes and seconds seconds since the last save,
// and not right after a failed attempt. A pure function of its inputs.
func saveDue(params [][2]int64, dirty, now, lastSave, lastTry int64, lastOK bool) (int, bool) {
	for i, p := range params {
		if dirty >= p[1] && now-lastSave > p[0] && (now-lastTry > bgsaveRetryDelay || lastOK) {
			return i, true
		}
	}
	return 0, false
}

// persistCron starts scheduled saves; it runs in cron under the lock.
func (s *Server) persistCron() {
	if s.childBusy() {
		return
	}
	p := &s.persist
	if p.scheduled {
		p.scheduled = false
		if err := s.startBgsave(); err == nil {
			return
		}
	}
	params := saveParams(s.cfg.Save)
	now := time.Now().Unix()
	if i, ok := saveDue(params, s.dirty, now, p.lastSave, p.lastBgsaveTry, p.lastBgsaveOK); ok {
		s.logf("%d changes in %d seconds. Saving...", params[i][1], params[i][0])
		s.startBgsave()
		return
	}
	s.aofCron()
}

// writesDeniedByDiskError is the MISCONF rule: with save points set and
// the last background save failed, writes are refused
// (stop-writes-on-bgsave-error).
func (s *Server) writesDeniedByDiskError() string {
	if s.cfg.StopWritesOnBgsaveError && s.cfg.Save != "" && !s.persist.lastBgsaveOK {
		return msgMisconf
	}
	return s.aofWriteError()
}

const msgMisconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

// ---------------------------------------------------------------- commands

func cmdSave(c *Client) {
	s := c.srv
	if s.persist.snapKind == childRDB {
		c.errorReply("ERR Background save already in progress")
		return
	}
	if s.childBusy() {
		c.errorReply("ERR Background append only file rewriting in progress")
		return
	}
	s.persist.saves++ // SAVE and BGSAVE count when they start; FLUSHALL's save does not
	if err := s.saveRDB(); err != nil {
		c.errorReply("ERR")
		return
	}
	c.ok()
}

func cmdBgsave(c *Client) {
	s := c.srv
	schedule := false
	if len(c.argv) > 1 {
		if len(c.argv) == 2 && eq(c.argv[1], "schedule") {
			schedule = true
		} else {
			c.syntaxErr()
			return
		}
	}
	switch {
	case s.persist.snapKind == childRDB:
		c.errorReply("ERR Background save already in progress")
	case s.childBusy():
		if schedule {
			s.persist.scheduled = true
			c.simple("Background saving scheduled")
			return
		}
		c.errorReply("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
	default:
		if err := s.startBgsave(); err != nil {
			c.errorReply("ERR")
			return
		}
		c.simple("Background saving started")
	}
}

func cmdLastSave(c *Client) { c.integer(c.srv.persist.lastSave) }

// ---------------------------------------------------------------- loading

// loadAtStart loads the dataset from disk: the AOF when appendonly is on,
// else the dump file if there is one. A damaged file stops the start.
func (s *Server) loadAtStart() error {
	s.mu.Lock()
	defer s.unlock()
	if s.cfg.AppendOnly {
		return s.loadAOFAtStart()
	}
	start := time.Now()
	n, err := s.loadRDBFile(s.rdbPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	s.logf("DB loaded from disk: %.3f seconds (%d keys)", time.Since(start).Seconds(), n)
	return nil
}

// loadRDBFile replaces the dataset with the file's. Nothing changes if the
// file cannot be read whole.
func (s *Server) loadRDBFile(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s.loading = true
	defer func() { s.loading = false }()
	defer loadingGC()()
	opts := s.loadOptionsFor(loadOptions{now: time.Now().UnixMilli(), recordExpired: true})
	dbs, res, err := s.loadRDB(bufio.NewReaderSize(f, 256<<10), opts)
	if err != nil {
		if !s.cfg.RDBLoadPartial {
			return 0, fmt.Errorf("Bad file format reading %s: %v. The server refuses to start with partial data: repair or remove the file, or set rdb-load-partial yes to load the %d keys before the damage", path, err, res.keys)
		}
		s.logf("!!! Warning: %s is damaged (%v); rdb-load-partial is set: loaded the %d keys before the damage", path, err, res.keys)
	}
	s.installDBs(dbs)
	s.persist.loadKeys, s.persist.loadExpired = res.keys, res.expired
	s.restoreReplInfo(res.aux, res.expiredKeys)
	return res.keys, nil
}

// loadingGC makes the collector run rarely while a dataset loads: nearly
// everything allocated then stays live, so collecting at every 50% of
// growth (the server's GOGC) would mark the growing dataset dozens of
// times. The returned func restores the setting and collects once.
func loadingGC() func() {
	old := debug.SetGCPercent(400)
	return func() {
		debug.SetGCPercent(old)
		runtime.GC()
	}
}

// installDBs swaps a loaded dataset in.
func (s *Server) installDBs(dbs []*DB) {
	for i, db := range dbs {
		old := s.dbs[i]
		old.dict, old.expires, old.avgTTL = db.dict, db.expires, 0
	}
}

// infoPersistence writes INFO's persistence section, field for field as
// Redis 7.0 does.
func (s *Server) infoPersistence(line func(string, ...any)) {
	p := &s.persist
	sn := p.snap
	running := p.snapKind != childNone && sn != nil
	var cow, processed, total int64
	if running {
		cow = sn.held()
		processed = sn.keysDone
		for _, db := range sn.dbs {
			total += int64(db.size)
		}
	}
	line("loading:%d", b2i(s.loading))
	line("async_loading:0")
	var peak int64
	if running {
		peak = sn.maxHeld
	}
	line("current_cow_peak:%d", peak)
	line("current_cow_size:%d", cow)
	line("current_cow_size_age:0")
	line("current_fork_perc:%.2f", percent(processed, total))
	line("current_save_keys_processed:%d", processed)
	line("current_save_keys_total:%d", total)
	line("rdb_changes_since_last_save:%d", s.dirty)
	line("rdb_bgsave_in_progress:%d", b2i(p.snapKind == childRDB))
	line("rdb_last_save_time:%d", p.lastSave)
	line("rdb_last_bgsave_status:%s", okErr(p.lastBgsaveOK))
	line("rdb_last_bgsave_time_sec:%d", p.lastBgsaveSecs)
	if p.snapKind == childRDB {
		line("rdb_current_bgsave_time_sec:%d", int64(time.Since(p.bgsaveStart).Seconds()))
	} else {
		line("rdb_current_bgsave_time_sec:-1")
	}
	line("rdb_saves:%d", p.saves)
	line("rdb_last_cow_size:%d", p.lastCow)
	line("rdb_last_load_keys_expired:%d", p.loadExpired)
	line("rdb_last_load_keys_loaded:%d", p.loadKeys)
	s.infoAOF(line)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func percent(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) * 100 / float64(total)
}
