package backend

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lagwise/lagwise/rdb"
	"github.com/lagwise/lagwise/replication"
)

// The master side of replication: PSYNC and SYNC, full resyncs from
// point-in-time snapshots, the stream fed to replicas through their
// output buffers, REPLCONF, WAIT, min-replicas, and INFO replication.
// The replication state itself (IDs, offsets, backlog, replica registry)
// is replication.Master; this file is its I/O and its commands.

// replState is the server's replication state, guarded by the executor
// lock.
type replState struct {
	m        *replication.Master
	sinkOn   bool      // the write stream feeds m (a backlog exists)
	lastPing time.Time // the last ping fed to the replicas
	lastNL   time.Time // the last newline sent to replicas waiting for a snapshot
	waitFrom time.Time // when the first replica now waiting for a snapshot arrived
	waiters  []*Client // clients blocked in WAIT

	syncFull, syncPartialOK, syncPartialErr int64

	link *replicaLink // the link to this server's master, when a replica
	// streamDB is the database the master's stream had selected when the
	// dump this server started from was saved (repl-stream-db).
	streamDB int
}

func (s *Server) initRepl() {
	s.repl.m = replication.NewMaster(int(s.cfg.ReplBacklogSize))
}

// masterSink feeds the write stream to the replication state.
type masterSink struct{ s *Server }

func (k masterSink) feed(db int, cmd []byte) { k.s.repl.m.Feed(db, cmd) }

// ensureBacklog creates the backlog when the first replica arrives and
// starts feeding it.
func (s *Server) ensureBacklog() {
	m := s.repl.m
	if m.Backlog == nil {
		if s.repl.link != nil {
			// A replica keeps its master's history: its backlog starts at
			// its offset, under the master's ID.
			m.Backlog = replication.NewBacklog(m.BacklogSize, m.Offset)
		} else {
			m.CreateBacklog()
		}
	}
	if !s.repl.sinkOn && s.repl.link == nil {
		s.addSink(masterSink{s})
		s.repl.sinkOn = true
	}
}

// replicaSender queues stream bytes in a replica client's output buffer.
type replicaSender struct{ c *Client }

func (r replicaSender) Send(p []byte) {
	r.c.srv.stats.netReplOutput.Add(int64(len(p)))
	r.c.push(p)
}

// ---------------------------------------------------------------- PSYNC

func cmdSync(c *Client) { c.srv.syncCommand(c, "?", -1, false) }

func cmdPsync(c *Client) {
	off, err := strconv.ParseInt(string(c.argv[2]), 10, 64)
	if err != nil {
		// Redis answers a full sync to an offset it cannot parse.
		off = -1
	}
	c.srv.syncCommand(c, string(c.argv[1]), off, true)
}

// syncCommand serves SYNC and PSYNC: a partial resync from the backlog
// when Decide allows it, else a full one.
func (s *Server) syncCommand(c *Client, replid string, off int64, psync bool) {
	if c.repl != nil {
		return // already a replica: ignored, as in Redis
	}
	if s.repl.link != nil && !s.repl.link.up() {
		c.errorReply("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	if len(c.out) > 0 || c.multi != nil {
		c.errorReply("ERR SYNC and PSYNC are invalid with pending output")
		return
	}
	r := &replication.Replica{
		Sender:        replicaSender{c},
		IP:            replication.ParseAddr(c.addr),
		ListeningPort: c.replPort,
		CapaEOF:       c.replCapaEOF,
		CapaPSYNC2:    c.replCapaPSYNC2,
	}
	if c.replAnnIP != "" {
		r.IP = c.replAnnIP
	}
	m := s.repl.m
	if psync {
		d := replication.Decide(replid, off, replication.History{ID: m.ID, ID2: m.ID2, Offset: m.Offset, SecondOffset: m.SecondOffset}, m.Backlog)
		if d.Partial {
			s.repl.syncPartialOK++
			c.repl = r
			c.replHeld = false
			c.goAsync()
			c.push(replication.ContinueReply(m.ID, r.CapaPSYNC2))
			p1, p2, _ := m.Backlog.From(off)
			c.push(p1)
			c.push(p2)
			r.State = replication.Online
			r.AckOffset, r.AckTime = off-1, time.Now()
			m.Add(r)
			s.logf("Partial resynchronization request from %s accepted. Sending %d bytes of backlog starting from offset %d.", c.addr, len(p1)+len(p2), off)
			return
		}
		if replid != "?" {
			s.repl.syncPartialErr++
			s.logf("Partial resynchronization not accepted: %s", d.Reason)
		}
	}
	s.logf("Replica %s asks for synchronization", c.addr)
	s.repl.syncFull++
	s.ensureBacklog()
	c.repl = r
	c.replHeld = true // the stream waits until the snapshot is sent
	c.goAsync()
	r.State = replication.WaitBgsave
	m.Add(r)
	if s.repl.waitFrom.IsZero() {
		s.repl.waitFrom = time.Now()
	}
	s.startFullSyncIfReady()
}

// startFullSyncIfReady cuts a snapshot for the replicas waiting for one,
// once no other background job runs and, for a diskless transfer, the
// repl-diskless-sync-delay has passed.
func (s *Server) startFullSyncIfReady() {
	var waiting []*Client
	for _, c := range s.clients {
		if c.repl != nil && c.repl.State == replication.WaitBgsave {
			waiting = append(waiting, c)
		}
	}
	if len(waiting) == 0 {
		s.repl.waitFrom = time.Time{}
		return
	}
	if s.childBusy() {
		return
	}
	diskless := s.cfg.ReplDisklessSync
	for _, c := range waiting {
		diskless = diskless && c.repl.CapaEOF
	}
	if diskless && time.Since(s.repl.waitFrom) < time.Duration(s.cfg.ReplDisklessSyncDelay)*time.Second {
		return
	}
	s.repl.waitFrom = time.Time{}
	m := s.repl.m
	sn := s.beginSnapshot(s.rdbAuxRepl())
	s.persist.snapKind = childRDB
	s.persist.snapDone = make(chan struct{})
	s.persist.bgsaveStart = time.Now()
	done := s.persist.snapDone
	// The snapshot is the dataset at offset m.Offset: the stream after it
	// is already going to each replica's held buffer.
	m.ResetSelect()
	hdr := replication.FullResyncReply(m.ID, m.Offset)
	for _, c := range waiting {
		c.repl.State = replication.SendBulk
		c.writeDirect(hdr)
	}
	if diskless {
		s.logf("Starting BGSAVE for SYNC with target: replicas sockets")
	} else {
		s.logf("Starting BGSAVE for SYNC with target: disk")
	}
	timeout := time.Duration(s.cfg.ReplTimeout) * time.Second
	path := filepath.Join(s.cfg.Dir, fmt.Sprintf("temp-repl-%d.rdb", os.Getpid()))
	go func() {
		defer close(done)
		var err error
		if diskless {
			err = sendDiskless(sn, waiting, timeout)
		} else {
			err = sendFromDisk(sn, waiting, path, timeout)
		}
		if fullSyncSentHook != nil {
			fullSyncSentHook()
		}
		s.mu.Lock()
		defer s.unlock()
		s.endSnapshot(sn)
		s.persist.snapKind = childNone
		if err != nil && !sn.aborted {
			s.logf("Full resync failed: %v", err)
		}
		for _, c := range waiting {
			if c.repl == nil || c.killed {
				continue
			}
			if err != nil || c.replFailed {
				c.conn.Close()
				continue
			}
			c.repl.State = replication.Online
			c.repl.AckTime = time.Now()
			if !diskless || c.replAcked {
				// A disk-based transfer has a length: the replica knows
				// where the stream starts. After a diskless one, the
				// replica's first ACK says it has loaded the snapshot;
				// it may have come already, before this goroutine got
				// the lock.
				c.releaseRepl()
			}
			s.logf("Synchronization with replica %s succeeded", c.addr)
		}
		s.startFullSyncIfReady()
	}()
}

// fullSyncSentHook, when set (by tests), runs when a snapshot has been
// sent to its replicas, before they are put online.
var fullSyncSentHook func()

// rdbAuxRepl is the aux fields of a snapshot for replicas (rdbAux adds
// repl-id and repl-offset, since a backlog exists).
func (s *Server) rdbAuxRepl() [][2]string { return s.rdbAux(false) }

// restoreReplInfo takes the replication ID and offset a dump was saved at,
// so that a restarted server (master or replica) continues its history and
// its replicas, or itself, can resync partially.
//
// A replica keeps the ID as its master's. A master, as Redis 7.0 does,
// takes a new ID and keeps the dump's as replid2, valid up to the dump's
// offset, so its replicas continue partially; the keys it dropped as
// expired while loading reach them as DELs, so they stay identical.
func (s *Server) restoreReplInfo(aux map[string]string, expired []dbKey) {
	id := aux["repl-id"]
	off, err := strconv.ParseInt(aux["repl-offset"], 10, 64)
	if len(id) != 40 || err != nil || off < 0 {
		return
	}
	m := s.repl.m
	m.ID, m.Offset = id, off
	m.Backlog = replication.NewBacklog(m.BacklogSize, off)
	m.ResetSelect()
	if db, err := strconv.Atoi(aux["repl-stream-db"]); err == nil {
		s.repl.streamDB = db
	}
	s.logf("Restored the replication ID %s and offset %d from the dump", id, off)
	if s.cfg.ReplicaOf != "" {
		return
	}
	m.Shift()
	if !s.repl.sinkOn {
		s.addSink(masterSink{s})
		s.repl.sinkOn = true
	}
	for _, k := range expired {
		s.propagateDel(k.db, k.key)
	}
}

// fanout writes a snapshot to several replicas; one that fails is dropped
// without stopping the others.
type fanout struct {
	targets []*Client
	timeout time.Duration
}

func (f *fanout) Write(p []byte) (int, error) {
	alive := 0
	for _, c := range f.targets {
		if c.replFailed {
			continue
		}
		c.conn.SetWriteDeadline(time.Now().Add(f.timeout))
		n, err := c.conn.Write(p)
		c.srv.stats.netReplOutput.Add(int64(n))
		if err != nil {
			c.replFailed = true
			continue
		}
		alive++
	}
	if alive == 0 {
		return 0, fmt.Errorf("every replica of the transfer is gone")
	}
	return len(p), nil
}

// sendDiskless streams the snapshot to the replicas' sockets in Redis's
// EOF-marked framing: $EOF:<40 random bytes>, the RDB, the same 40 bytes.
// The stream after the cut stays held until each replica's first ACK.
func sendDiskless(sn *snapshot, targets []*Client, timeout time.Duration) error {
	for _, c := range targets {
		c.wmu.Lock()
		defer c.wmu.Unlock()
	}
	mark := []byte(replication.NewReplID())
	f := &fanout{targets: targets, timeout: timeout}
	if _, err := f.Write(append(append([]byte("$EOF:"), mark...), '\r', '\n')); err != nil {
		return err
	}
	if err := sn.writeTo(rdb.NewWriter(f, sn.opts)); err != nil {
		return err
	}
	_, err := f.Write(mark)
	for _, c := range targets {
		c.conn.SetWriteDeadline(time.Time{})
	}
	return err
}

// sendFromDisk writes the snapshot to a file, then sends it with its
// length ($<len>), for replicas that cannot read the EOF framing or when
// repl-diskless-sync is no.
func sendFromDisk(sn *snapshot, targets []*Client, path string, timeout time.Duration) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	if err := sn.writeTo(rdb.NewWriter(f, sn.opts)); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	for _, c := range targets {
		c.wmu.Lock()
		defer c.wmu.Unlock()
	}
	out := &fanout{targets: targets, timeout: timeout}
	if _, err := out.Write([]byte("$" + strconv.FormatInt(size, 10) + "\r\n")); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.CopyBuffer(out, f, make([]byte, 256<<10)); err != nil {
		return err
	}
	for _, c := range targets {
		c.conn.SetWriteDeadline(time.Time{})
	}
	return nil
}

// writeDirect writes b to the connection before anything queued: the
// +FULLRESYNC line. The caller holds the executor lock; the socket is
// idle (the output is held), so the write does not block for long.
func (c *Client) writeDirect(b []byte) {
	c.wmu.Lock()
	c.conn.SetWriteDeadline(time.Now().Add(time.Duration(c.srv.cfg.ReplTimeout) * time.Second))
	n, err := c.conn.Write(b)
	c.srv.stats.netReplOutput.Add(int64(n))
	if err != nil {
		c.replFailed = true
	}
	c.conn.SetWriteDeadline(time.Time{})
	c.wmu.Unlock()
}

// releaseRepl lets the held stream flow to a replica.
func (c *Client) releaseRepl() {
	c.omu.Lock()
	c.replHeld = false
	wake := c.asyncWake
	c.omu.Unlock()
	if wake != nil {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// ---------------------------------------------------------------- REPLCONF

func cmdReplconf(c *Client) {
	s := c.srv
	if len(c.argv)%2 == 0 {
		c.syntaxErr()
		return
	}
	for i := 1; i < len(c.argv); i += 2 {
		opt, val := strings.ToLower(string(c.argv[i])), string(c.argv[i+1])
		switch opt {
		case "listening-port":
			p, err := strconv.Atoi(val)
			if err != nil {
				c.errorReply("ERR value is not an integer or out of range")
				return
			}
			c.replPort = p
		case "ip-address":
			c.replAnnIP = val
		case "capa":
			switch strings.ToLower(val) {
			case "eof":
				c.replCapaEOF = true
			case "psync2":
				c.replCapaPSYNC2 = true
			}
		case "ack", "fack":
			// An ACK gets no reply; only a replica sends it.
			if c.repl == nil {
				return
			}
			if opt == "ack" {
				if off, err := strconv.ParseInt(val, 10, 64); err == nil && off > c.repl.AckOffset {
					c.repl.AckOffset = off
				}
				c.repl.AckTime = time.Now()
				if c.replHeld {
					switch c.repl.State {
					case replication.Online:
						c.releaseRepl() // the first ACK after a diskless load
					case replication.SendBulk:
						// A replica acknowledges only once it has loaded
						// the snapshot: the transfer is over, and the
						// stream flows as soon as this server sees it.
						c.replAcked = true
					}
				}
				s.serveWaiters()
			}
			return
		case "getack":
			// Answered by the replica's stream reader, where the offset
			// is known exactly; from anyone else it gets no reply.
			return
		case "rdb-only", "rdb-filter-only":
		default:
			c.errorf("ERR Unrecognized REPLCONF option: %s", sanitize(opt))
			return
		}
	}
	c.ok()
}

// ---------------------------------------------------------------- WAIT

func cmdWait(c *Client) {
	s := c.srv
	n, ok := c.intArg(1)
	if !ok {
		return
	}
	ms, ok := c.intArg(2)
	if !ok {
		return
	}
	if ms < 0 {
		c.errorReply("ERR timeout is negative")
		return
	}
	if s.repl.link != nil {
		c.errorReply("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	acked := s.repl.m.Acked(c.woff)
	if int64(acked) >= n || c.inExec {
		c.integer(int64(acked))
		return
	}
	c.waitN = int(n)
	c.blockOn(nil, time.Duration(ms)*time.Millisecond, func(c *Client, _ []byte) bool {
		c.integer(int64(c.srv.repl.m.Acked(c.woff)))
		return true
	}, func(c *Client) {
		c.integer(int64(c.srv.repl.m.Acked(c.woff)))
	})
	s.repl.waiters = append(s.repl.waiters, c)
	s.requestAcks()
}

// requestAcks asks every replica for an ACK now (REPLCONF GETACK *).
func (s *Server) requestAcks() {
	m := s.repl.m
	if m.Backlog == nil || len(m.Replicas) == 0 {
		return
	}
	m.Feed(-1, getAckCmd)
}

var getAckCmd = []byte("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n")

// serveWaiters wakes the WAIT clients whose writes enough replicas
// acknowledged.
func (s *Server) serveWaiters() {
	if len(s.repl.waiters) == 0 {
		return
	}
	keep := s.repl.waiters[:0]
	for _, c := range s.repl.waiters {
		bc := c.block
		if bc == nil || c.killed {
			continue
		}
		if s.repl.m.Acked(c.woff) >= c.waitN {
			if bc.serve(c, nil) {
				s.unblock(c)
				close(bc.done)
			}
			continue
		}
		keep = append(keep, c)
	}
	s.repl.waiters = keep
}

// ---------------------------------------------------------------- cron

// replCron is replicationCron: pings into the stream, newlines to replicas
// waiting for a snapshot, replica timeouts, the backlog's TTL, and full
// syncs that wait for their turn. It runs under the executor lock.
func (s *Server) replCron() {
	now := time.Now()
	m := s.repl.m
	if s.repl.link != nil {
		s.repl.link.cron(now)
	}
	if len(m.Replicas) > 0 && s.repl.link == nil && now.Sub(s.repl.lastPing) >= time.Duration(s.cfg.ReplPingPeriod)*time.Second {
		s.repl.lastPing = now
		m.Feed(-1, pingCmd)
	}
	if now.Sub(s.repl.lastNL) >= time.Second {
		s.repl.lastNL = now
		for _, c := range s.clients {
			if c.repl != nil && c.repl.State == replication.WaitBgsave {
				c.writeDirect([]byte("\n"))
			}
		}
	}
	timeout := time.Duration(s.cfg.ReplTimeout) * time.Second
	for _, c := range s.clients {
		if r := c.repl; r != nil && r.State == replication.Online && !c.replHeld && now.Sub(r.AckTime) > timeout {
			s.logf("Disconnecting timedout replica (streaming sync): %s", c.addr)
			c.conn.Close()
		}
	}
	if m.Backlog != nil && len(m.Replicas) == 0 && s.repl.link == nil && s.cfg.ReplBacklogTTL > 0 &&
		!m.NoReplicasSince.IsZero() && now.Sub(m.NoReplicasSince) > time.Duration(s.cfg.ReplBacklogTTL)*time.Second {
		m.FreeBacklog()
		s.removeSink(masterSink{s})
		s.repl.sinkOn = false
		s.logf("Replication backlog freed after %d seconds without connected replicas.", s.cfg.ReplBacklogTTL)
	}
	s.startFullSyncIfReady()
}

var pingCmd = []byte("*1\r\n$4\r\nping\r\n")

// noReplicasMsg is min-replicas-to-write's refusal.
const msgNoReplicas = "NOREPLICAS Not enough good replicas to write."

// enoughReplicas is the min-replicas-to-write rule.
func (s *Server) enoughReplicas() bool {
	if s.cfg.MinReplicasToWrite == 0 || s.repl.link != nil {
		return true
	}
	return s.repl.m.Good(time.Now(), time.Duration(s.cfg.MinReplicasMaxLag)*time.Second) >= s.cfg.MinReplicasToWrite
}

// ---------------------------------------------------------------- INFO, ROLE

func (s *Server) infoReplication(line func(string, ...any)) {
	m := s.repl.m
	now := time.Now()
	if l := s.repl.link; l != nil {
		l.info(line, now)
	} else {
		line("role:master")
	}
	line("connected_slaves:%d", len(m.Replicas))
	if s.repl.link == nil && s.cfg.MinReplicasToWrite > 0 {
		line("min_slaves_good_slaves:%d", m.Good(now, time.Duration(s.cfg.MinReplicasMaxLag)*time.Second))
	}
	m.InfoReplicas(now, line)
	line("master_failover_state:no-failover")
	line("master_replid:%s", m.ID)
	line("master_replid2:%s", m.ID2)
	line("master_repl_offset:%d", m.Offset)
	line("second_repl_offset:%d", m.SecondOffset)
	if b := m.Backlog; b != nil {
		line("repl_backlog_active:1")
		line("repl_backlog_size:%d", m.BacklogSize)
		line("repl_backlog_first_byte_offset:%d", b.First())
		line("repl_backlog_histlen:%d", b.HistLen())
	} else {
		line("repl_backlog_active:0")
		line("repl_backlog_size:%d", m.BacklogSize)
		line("repl_backlog_first_byte_offset:0")
		line("repl_backlog_histlen:0")
	}
}

func cmdRole(c *Client) {
	s := c.srv
	if l := s.repl.link; l != nil {
		l.role(c)
		return
	}
	m := s.repl.m
	var online []*replication.Replica
	for _, r := range m.Replicas {
		if r.State == replication.Online {
			online = append(online, r)
		}
	}
	c.array(3)
	c.bulkStr("master")
	c.integer(m.Offset)
	c.array(len(online))
	for _, r := range online {
		c.array(3)
		c.bulkStr(r.IP)
		c.bulkStr(strconv.Itoa(r.ListeningPort))
		c.bulkStr(strconv.FormatInt(r.AckOffset, 10))
	}
}
