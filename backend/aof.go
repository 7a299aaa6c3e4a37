package backend

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/lagwise/lagwise/backend/aof"
	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/rdb"
)

// The append-only file, wired to the server. backend/aof keeps the files
// (Redis 7.0's multi-part layout); this file feeds it the write stream,
// makes each batch durable before its replies leave, and runs rewrites
// from point-in-time snapshots (snapshot.go), as BGSAVE does.
//
// A rewrite needs no rewrite buffer: under the executor lock, the stream
// switches to a new incr file at the same instant as the snapshot's cut,
// so the new base plus the incr files after it hold every write exactly
// once.

// aofState is the AOF's server-side state, guarded by the executor lock.
type aofState struct {
	f *aof.AOF // nil while appendonly is off

	// waitRewrite: appendonly was turned on and the first base is being
	// written (Redis's AOF_WAIT_REWRITE).
	waitRewrite bool
	// scheduled: a rewrite waits for the running background job.
	scheduled bool
	// enablePending: appendonly yes waits for the running BGSAVE.
	enablePending bool

	rewriteStart    time.Time
	lastRewriteSecs int64
	lastRewriteOK   bool
	lastCow         int64
	failures        int64
	offRewrites     int64 // rewrites made with appendonly off
	loadTruncated   bool
}

// aofSink feeds the write stream to the AOF buffer.
type aofSink struct{ s *Server }

func (k aofSink) feed(db int, cmd []byte) {
	if f := k.s.aof.f; f != nil {
		f.AppendEncoded(db, cmd)
	}
}

func (s *Server) aofConfig() aof.Config {
	fsync, _ := aof.ParseFsync(s.cfg.AppendFsync)
	return aof.Config{
		Dir:           s.cfg.Dir,
		DirName:       s.cfg.AppendDirname,
		FileName:      s.cfg.AppendFilename,
		Fsync:         fsync,
		RDBPreamble:   s.cfg.AOFUseRDBPreamble,
		LoadTruncated: s.cfg.AOFLoadTruncated,
		MaxBulkLen:    s.cfg.ProtoMaxBulkLen,
		Logf:          s.logf,
	}
}

// unlock releases the executor lock after writing what the commands run
// under it appended to the AOF, so that no reply leaves before its write
// reached the file (and, with appendfsync always, the disk).
func (s *Server) unlock() {
	if s.aof.f != nil {
		s.aofFlush()
	}
	s.mu.Unlock()
}

func (s *Server) aofFlush() {
	err := s.aof.f.Flush()
	var e *aof.Error
	if errors.As(err, &e) && e.Fatal {
		// Redis exits too: with appendfsync always, replying to a write
		// that is not on disk would break the promise the policy makes.
		s.logf("%s", e.Msg)
		os.Exit(1)
	}
}

// aofWriteError is the MISCONF reply while the AOF cannot be written.
func (s *Server) aofWriteError() string {
	if s.aof.f == nil {
		return ""
	}
	if err := s.aof.f.WriteErr(); err != nil {
		return "MISCONF Errors writing to the AOF file: " + aof.Strerror(err)
	}
	return ""
}

// loadAOFAtStart loads the AOF and opens it for appending. With appendonly
// on, the AOF is the dataset: a dump file is not read, as in Redis.
func (s *Server) loadAOFAtStart() error {
	start := time.Now()
	cfg := s.aofConfig()
	fake := s.newFakeClient()
	defer loadingGC()()
	s.loading = true // replaying: nothing expires meanwhile, as in Redis
	defer func() { s.loading = false }()
	res, err := aof.Load(cfg, func(r io.Reader) (int64, error) {
		dbs, lr, err := s.loadRDB(r, s.loadOptionsFor(loadOptions{keepExpired: true}))
		if err != nil {
			return 0, err
		}
		s.installDBs(dbs)
		return lr.size, nil
	}, func(argv [][]byte) error { return s.applyLoaded(fake, argv) })
	if err != nil {
		return err
	}
	s.aof.loadTruncated = res.Status == aof.LoadTruncated
	if res.Status != aof.LoadNotExist {
		s.logf("DB loaded from append only file: %.3f seconds", time.Since(start).Seconds())
	}
	f, err := aof.Open(cfg, s.writeAOFBaseLocked)
	if err != nil {
		return err
	}
	s.aof.f = f
	s.addSink(aofSink{s})
	return nil
}

// newFakeClient is a client with no connection that runs commands read
// from a file.
func (s *Server) newFakeClient() *Client {
	return &Client{srv: s, db: s.dbs[0], authed: true, protoVer: 2}
}

// applyLoaded runs one command read from the AOF. Like Redis, only an
// unknown command fails the load; a command that replies an error does
// not.
func (s *Server) applyLoaded(c *Client, argv [][]byte) error {
	e, _ := s.lookup(argv)
	if e == nil {
		return fmt.Errorf("Unknown command '%s' reading the append only file", sanitize(string(argv[0])))
	}
	if !e.meta.CheckArity(len(argv)) {
		return fmt.Errorf("Wrong number of arguments for '%s' reading the append only file", e.meta.Name)
	}
	s.now = time.Now().UnixMilli()
	c.argv = argv
	s.call(c, e)
	c.argv = nil
	c.out = c.out[:0]
	return nil
}

// writeAOFBaseLocked writes the whole dataset as an AOF base, holding the
// executor lock (at start, when no base exists yet).
func (s *Server) writeAOFBaseLocked(w io.Writer) error {
	sn := s.beginSnapshot(s.rdbAux(true))
	defer s.endSnapshot(sn)
	return s.writeAOFBase(sn, w, false)
}

// writeAOFBase writes snapshot sn as a base file: an RDB file with
// aof-use-rdb-preamble yes, else the RESP commands that rebuild it.
func (s *Server) writeAOFBase(sn *snapshot, w io.Writer, lock bool) error {
	if s.cfg.AOFUseRDBPreamble {
		return sn.write(rdb.NewWriter(w, sn.opts), lock)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := rdbToCommands(pr, w)
		pr.CloseWithError(err)
		done <- err
	}()
	err := sn.write(rdb.NewWriter(pw, sn.opts), lock)
	pw.CloseWithError(err)
	if cerr := <-done; err == nil {
		err = cerr
	}
	return err
}

// aofRewriteItemsPerCmd is how many elements one command of a RESP base
// carries (Redis's AOF_REWRITE_ITEMS_PER_CMD).
const aofRewriteItemsPerCmd = 64

// rdbToCommands turns an RDB stream into the commands Redis's
// rewriteAppendOnlyFileRio writes for the same data: SELECT per database,
// SET, RPUSH, SADD, ZADD and HMSET in batches of 64 elements, and
// PEXPIREAT for keys with a TTL.
func rdbToCommands(r io.Reader, w io.Writer) error {
	rd := rdb.NewReader(r)
	var buf []byte
	flush := func() error {
		if len(buf) < 64<<10 {
			return nil
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	batch := func(verb string, key []byte, n int, elem func(i int, args [][]byte) [][]byte) {
		for start := 0; start < n; start += aofRewriteItemsPerCmd {
			args := [][]byte{[]byte(verb), key}
			for i := start; i < min(n, start+aofRewriteItemsPerCmd); i++ {
				args = elem(i, args)
			}
			buf = aof.AppendCommand(buf, args...)
		}
	}
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case rdb.SelectDB:
			buf = aof.AppendCommand(buf, []byte("SELECT"), []byte(strconv.Itoa(e.DB)))
		case rdb.Key:
			switch e.Type {
			case rdb.TypeString:
				buf = aof.AppendCommand(buf, []byte("SET"), e.Key, e.String)
			case rdb.TypeList:
				batch("RPUSH", e.Key, len(e.List), func(i int, a [][]byte) [][]byte { return append(a, e.List[i]) })
			case rdb.TypeSet:
				batch("SADD", e.Key, len(e.Set), func(i int, a [][]byte) [][]byte { return append(a, e.Set[i]) })
			case rdb.TypeZSet:
				batch("ZADD", e.Key, len(e.ZSet), func(i int, a [][]byte) [][]byte {
					return append(a, resp.FormatScore(nil, e.ZSet[i].Score), e.ZSet[i].Member)
				})
			case rdb.TypeHash:
				batch("HMSET", e.Key, len(e.Hash), func(i int, a [][]byte) [][]byte { return append(a, e.Hash[i][0], e.Hash[i][1]) })
			}
			if e.Expire != -1 {
				buf = aof.AppendCommand(buf, []byte("PEXPIREAT"), e.Key, msArg(e.Expire))
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	_, err := w.Write(buf)
	return err
}

// startAOFRewrite starts a background rewrite; the caller holds the
// executor lock and no command's ops are pending.
func (s *Server) startAOFRewrite() error {
	if s.childBusy() {
		return errSnapshotRunning
	}
	w, err := s.aof.f.StartRewrite()
	if err != nil {
		s.aof.lastRewriteOK = false
		s.aof.failures++
		return err
	}
	s.runAOFRewrite(w)
	return nil
}

// runAOFRewrite makes the cut and writes the new base from a goroutine.
// The stream was switched to a new incr file just before, under the same
// lock hold, so the base and that file together hold every write once.
func (s *Server) runAOFRewrite(w io.Writer) {
	f := s.aof.f
	s.runRewrite(w, f.FinishRewrite, f.AbortRewrite, func() {}, func() bool { return s.aof.f == f })
}

// startBaseRewrite is BGREWRITEAOF with appendonly off: a snapshot
// written as the only base of the AOF directory.
func (s *Server) startBaseRewrite() error {
	b, w, err := aof.StartBaseRewrite(s.aofConfig())
	if err != nil {
		s.logf("%v", err)
		s.aof.lastRewriteOK = false
		s.aof.failures++
		return err
	}
	s.aof.offRewrites++
	s.runRewrite(w, b.Finish, b.Abort, b.Abort, func() bool { return true })
	return nil
}

// runRewrite cuts a snapshot and writes it to w as an AOF base from a
// goroutine, then, under the lock, calls finish (or abort if writing
// failed). If the job was stopped, or current says the AOF it was for is
// gone, it calls dropped instead.
func (s *Server) runRewrite(w io.Writer, finish func() error, abort, dropped func(), current func() bool) {
	sn := s.beginSnapshot(s.rdbAux(true))
	s.persist.snapKind = childAOF
	s.persist.snapDone = make(chan struct{})
	s.aof.rewriteStart = time.Now()
	done := s.persist.snapDone
	s.logf("Background append only file rewriting started")
	go func() {
		defer close(done)
		err := s.writeAOFBase(sn, w, true)
		s.mu.Lock()
		defer s.unlock()
		s.endSnapshot(sn)
		s.persist.snapKind = childNone
		s.aof.lastCow = sn.maxHeld
		if sn.aborted || !current() {
			dropped() // stopped by shutdown, or appendonly turned off meanwhile
			return
		}
		s.aof.lastRewriteSecs = int64(time.Since(s.aof.rewriteStart).Seconds())
		if err == nil {
			err = finish()
		} else {
			abort()
		}
		if err != nil {
			s.logf("Background AOF rewrite failed: %v", err)
			s.aof.lastRewriteOK = false
			s.aof.failures++
			return
		}
		s.aof.waitRewrite = false
		s.aof.lastRewriteOK = true
		s.aof.failures = 0
		s.logf("Background AOF rewrite finished successfully")
	}()
}

// startAppendOnly turns the AOF on at run time (CONFIG SET appendonly
// yes): the stream goes to a temp incr file at once, and the first base is
// written from a snapshot cut at the same instant.
func (s *Server) startAppendOnly() error {
	if s.aof.f != nil {
		return nil
	}
	if s.childBusy() {
		s.aof.enablePending = true
		s.logf("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
		return nil
	}
	f, w, err := aof.Create(s.aofConfig())
	if err != nil {
		s.logf("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.")
		return err
	}
	s.aof.f = f
	s.aof.waitRewrite = true
	s.addSink(aofSink{s})
	s.runAOFRewrite(w)
	return nil
}

// stopAppendOnly turns the AOF off (CONFIG SET appendonly no).
func (s *Server) stopAppendOnly() {
	s.aof.enablePending = false
	f := s.aof.f
	if f == nil {
		return
	}
	if s.persist.snapKind == childAOF {
		s.abortChild()
	}
	s.removeSink(aofSink{s})
	s.aof.f = nil
	s.aof.waitRewrite = false
	if err := f.Close(); err != nil {
		s.logf("%v", err)
	}
}

// aofShutdown flushes and fsyncs the AOF before exit.
func (s *Server) aofShutdown() error {
	f := s.aof.f
	if f == nil {
		return nil
	}
	s.logf("Calling fsync() on the AOF file.")
	s.removeSink(aofSink{s})
	s.aof.f = nil
	return f.Close()
}

// aofCron starts what waits for the background job, and the automatic
// rewrite (auto-aof-rewrite-percentage / -min-size).
func (s *Server) aofCron() {
	if s.childBusy() {
		return
	}
	if s.aof.enablePending {
		s.aof.enablePending = false
		if err := s.startAppendOnly(); err != nil {
			s.logf("Unable to turn on AOF: %v", err)
		}
		return
	}
	f := s.aof.f
	if f == nil || s.aof.waitRewrite {
		return
	}
	if s.aof.scheduled {
		s.aof.scheduled = false
		s.startAOFRewrite()
		return
	}
	st := f.Stats()
	if aof.ShouldRewrite(st.CurrentSize, st.BaseSize, s.cfg.AutoAOFRewritePct, s.cfg.AutoAOFRewriteMinSize) {
		growth := int64(0)
		if st.BaseSize > 0 {
			growth = (st.CurrentSize*100)/st.BaseSize - 100
		}
		s.logf("Starting automatic rewriting of AOF on %d%% growth", growth)
		s.startAOFRewrite()
	}
}

func cmdBgrewriteaof(c *Client) {
	s := c.srv
	switch {
	case s.persist.snapKind == childAOF:
		c.errorReply("ERR Background append only file rewriting already in progress")
	case s.childBusy() || c.inExec:
		// Inside EXEC the transaction's writes are not in the stream yet:
		// cutting now would put them in the base and in the new incr file.
		s.aof.scheduled = true
		c.simple("Background append only file rewriting scheduled")
	case s.aof.f == nil:
		// With appendonly off, Redis 7.0 writes a new base alone.
		if err := s.startBaseRewrite(); err != nil {
			c.errorReply("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
			return
		}
		c.simple("Background append only file rewriting started")
	default:
		if err := s.startAOFRewrite(); err != nil {
			c.errorReply("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
			return
		}
		c.simple("Background append only file rewriting started")
	}
}

func (s *Server) infoAOF(line func(string, ...any)) {
	a := &s.aof
	rewriting := s.persist.snapKind == childAOF
	line("aof_enabled:%d", b2i(a.f != nil))
	line("aof_rewrite_in_progress:%d", b2i(rewriting))
	line("aof_rewrite_scheduled:%d", b2i(a.scheduled || a.enablePending))
	line("aof_last_rewrite_time_sec:%d", a.lastRewriteSecs)
	if rewriting {
		line("aof_current_rewrite_time_sec:%d", int64(time.Since(a.rewriteStart).Seconds()))
	} else {
		line("aof_current_rewrite_time_sec:-1")
	}
	line("aof_last_bgrewrite_status:%s", okErr(a.lastRewriteOK))
	rewrites := a.offRewrites
	var st aof.Stats
	if a.f != nil {
		st = a.f.Stats()
		rewrites += st.Rewrites
	}
	line("aof_rewrites:%d", rewrites)
	line("aof_rewrites_consecutive_failures:%d", a.failures)
	line("aof_last_write_status:%s", okErr(st.WriteErr == nil))
	line("aof_last_cow_size:%d", a.lastCow)
	line("module_fork_in_progress:0")
	line("module_fork_last_cow_size:0")
	if a.f != nil {
		line("aof_current_size:%d", st.CurrentSize)
		line("aof_base_size:%d", st.BaseSize)
		line("aof_pending_rewrite:%d", b2i(a.scheduled))
		line("aof_buffer_length:%d", st.BufferLength)
		line("aof_pending_bio_fsync:%d", b2i(st.PendingFsync))
		line("aof_delayed_fsync:0")
	}
}
