package backend

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/replication"
)

// The replica side: REPLICAOF, the link to the master (handshake, full or
// partial resync, the command stream, ACKs, reconnects) and the rules a
// replica follows (read-only, no expiry of its own, forwarding its
// master's stream byte for byte to its own replicas).
//
// The link runs in its own goroutine and takes the executor lock only to
// apply what it read: a full resync is loaded into a new dataset beside
// the old one and swapped in at once, so clients never see half of it.

// linkState is the link's state as ROLE names it.
type linkState int

const (
	linkConnect    linkState = iota // waiting to (re)connect
	linkConnecting                  // connecting or in the handshake
	linkSync                        // receiving the snapshot
	linkConnected                   // streaming
)

func (s linkState) String() string {
	return [...]string{"connect", "connecting", "sync", "connected"}[s]
}

// replicaLink is this server's link to its master. Its fields are guarded
// by the executor lock, except conn writes (wmu).
type replicaLink struct {
	s          *Server
	host       string
	port       int
	state      linkState
	client     *Client // runs the master's commands: no replies, no limits
	downSince  time.Time
	lastIO     time.Time
	readOff    int64 // offset of the last stream byte read (slave_read_repl_offset), from the link's start
	syncStart  time.Time
	syncBytes  atomic.Int64 // snapshot bytes received so far
	stopped    bool
	stop       chan struct{}
	exited     chan struct{} // closed when run returns
	wmu        sync.Mutex    // serialises writes to conn (ACKs)
	conn       net.Conn
	everSynced bool
	noHistory  bool // ask for a full sync next time
	// dial opens the connection to the master (a test gives an in-memory
	// pipe instead of a socket).
	dial func(addr string, timeout time.Duration) (net.Conn, error)
}

func dialTCP(addr string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, timeout)
}

func (l *replicaLink) up() bool { return l.state == linkConnected }

// startReplication makes this server a replica of host:port (REPLICAOF,
// or the replicaof directive at start). The caller holds the executor
// lock.
func (s *Server) startReplication(host string, port int) { s.startLink(host, port, dialTCP) }

// startLink is startReplication with the way to reach the master.
func (s *Server) startLink(host string, port int, dial func(string, time.Duration) (net.Conn, error)) {
	streamDB := s.repl.streamDB // the stream's database as saved in the dump
	if l := s.repl.link; l != nil {
		l.close()
		// A replica pointed at another master continues the same stream
		// from its offset, where no SELECT repeats the database selected
		// before it: it keeps that database, as Redis keeps its cached
		// master client.
		streamDB = l.client.db.id
	}
	m := s.repl.m
	if s.repl.sinkOn {
		s.removeSink(masterSink{s})
		s.repl.sinkOn = false
	}
	// Replicas of this server must learn the new history: they reconnect
	// and, thanks to PSYNC2, usually continue partially.
	s.disconnectReplicas()
	m.ResetSelect()
	l := &replicaLink{s: s, host: host, port: port, state: linkConnect, stop: make(chan struct{}), exited: make(chan struct{}), downSince: time.Now(), dial: dial}
	l.client = s.newFakeClient()
	l.client.isMaster = true
	l.client.id = s.nextID.Add(1)
	l.client.created = time.Now()
	if streamDB >= 0 && streamDB < len(s.dbs) {
		l.client.db = s.dbs[streamDB]
	}
	l.client.name = ""
	s.repl.link = l
	go l.run()
}

// stopReplication is REPLICAOF NO ONE: the server becomes a master with a
// new history, keeping the old ID as ID2 so its former siblings can
// continue partially.
func (s *Server) stopReplication() {
	l := s.repl.link
	if l == nil {
		return
	}
	l.close()
	s.repl.link = nil
	m := s.repl.m
	m.Shift()
	m.ResetSelect()
	s.disconnectReplicas()
	if m.Backlog != nil && !s.repl.sinkOn {
		s.addSink(masterSink{s})
		s.repl.sinkOn = true
	}
}

func (s *Server) disconnectReplicas() {
	for _, c := range s.clients {
		if c.repl != nil {
			c.conn.Close()
		}
	}
}

func (l *replicaLink) close() {
	if l.stopped {
		return
	}
	l.stopped = true
	close(l.stop)
	if l.conn != nil {
		l.conn.Close()
	}
}

func cmdReplicaof(c *Client) {
	s := c.srv
	host, portArg := string(c.argv[1]), string(c.argv[2])
	if strings.EqualFold(host, "no") && strings.EqualFold(portArg, "one") {
		if s.repl.link != nil {
			s.stopReplication()
			s.logf("MASTER MODE enabled (user request from '%s')", c.addr)
		}
		c.ok()
		return
	}
	port, err := strconv.Atoi(portArg)
	if err != nil || port < 0 || port > 65535 {
		c.errorReply("ERR Invalid master port")
		return
	}
	if l := s.repl.link; l != nil && strings.EqualFold(l.host, host) && l.port == port {
		s.logf("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
		c.simple("OK Already connected to specified master")
		return
	}
	s.startReplication(host, port)
	s.logf("REPLICAOF %s:%d enabled (user request from '%s')", host, port, c.addr)
	c.ok()
}

// ---------------------------------------------------------------- the link

// run connects, syncs and streams until the link is stopped, reconnecting
// a second after any failure.
func (l *replicaLink) run() {
	defer close(l.exited)
	s := l.s
	for {
		err := l.session()
		s.mu.Lock()
		stopped := l.stopped
		wasUp := l.state == linkConnected
		if l.state == linkConnected || l.state == linkSync {
			s.logf("Connection with master lost.")
		}
		l.state = linkConnect
		if l.downSince.IsZero() || l.everSynced {
			l.downSince = time.Now()
		}
		s.unlock()
		if stopped {
			return
		}
		if err != nil {
			s.logf("MASTER <-> REPLICA sync: %v", err)
		}
		if wasUp {
			// A link that was streaming reconnects at once, as Redis 7.0
			// does, before the backlog it needs is overwritten; failed
			// attempts then retry every second.
			continue
		}
		select {
		case <-l.stop:
			return
		case <-time.After(time.Second):
		}
	}
}

// session is one connection to the master: handshake, resync, stream.
func (l *replicaLink) session() error {
	s := l.s
	s.mu.Lock()
	if l.stopped {
		s.unlock()
		return nil
	}
	l.state = linkConnecting
	cfg := replication.HandshakeConfig{
		MasterUser: s.cfg.MasterUser,
		MasterAuth: s.cfg.MasterAuth,
		Port:       s.announcedPort(),
		AnnounceIP: s.cfg.ReplicaAnnounceIP,
	}
	m := s.repl.m
	if !l.noHistory && (l.everSynced || m.Offset > 0 || m.Backlog != nil) {
		cfg.ReplID, cfg.Offset = m.ID, m.Offset
	}
	timeout := time.Duration(s.cfg.ReplTimeout) * time.Second
	addr := net.JoinHostPort(l.host, strconv.Itoa(l.port))
	s.logf("Connecting to MASTER %s", addr)
	s.unlock()

	conn, err := l.dial(addr, timeout)
	if err != nil {
		return fmt.Errorf("Error condition on socket for SYNC: %v", err)
	}
	defer conn.Close()
	s.mu.Lock()
	if l.stopped {
		s.unlock()
		return nil
	}
	l.conn = conn
	l.client.addr, l.client.laddr = conn.RemoteAddr().String(), conn.LocalAddr().String()
	s.unlock()
	br := bufio.NewReaderSize(countingConn{conn, &s.stats.netReplInput}, 64<<10)
	conn.SetDeadline(time.Now().Add(timeout))
	for _, cmd := range replication.HandshakeCommands(cfg) {
		if _, err := conn.Write(encodeArgs(cmd)); err != nil {
			return err
		}
		if cmd[0] == "PSYNC" {
			break
		}
		note, err := replication.ReadHandshakeReply(br, cmd)
		if err != nil {
			return err
		}
		if note != "" {
			s.logf("(Non critical) Master does not understand REPLCONF: %s", note)
		}
	}
	reply, err := replication.ReadPsyncReply(br)
	if err != nil {
		return err
	}
	switch reply.Result {
	case replication.Continue:
		s.mu.Lock()
		if l.stopped {
			// REPLICAOF moved on while the reply was coming: this link no
			// longer speaks for the server.
			s.unlock()
			return nil
		}
		if reply.ReplID != "" && reply.ReplID != m.ID {
			// The master's history has a new ID after a failover: keep
			// the old one as ID2, as Redis does.
			m.ID2, m.SecondOffset = m.ID, m.Offset+1
			m.ID = reply.ReplID
			s.disconnectReplicas()
		}
		if m.Backlog == nil {
			m.Backlog = replication.NewBacklog(m.BacklogSize, m.Offset)
		}
		s.logf("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
		s.unlock()
	case replication.FullResync:
		if err := l.fullSync(conn, br, reply, timeout); err != nil {
			return err
		}
	case replication.TryLater:
		return fmt.Errorf("Master is currently unable to PSYNC but should be in the future: %s", reply.Line)
	default:
		return fmt.Errorf("Unexpected reply to PSYNC from master: %s", reply.Line)
	}
	s.mu.Lock()
	if l.stopped {
		s.unlock()
		return nil
	}
	l.noHistory = false
	off := m.Offset
	s.unlock()
	err = l.stream(conn, br, off, timeout)
	var perr *replication.ProtocolError
	if errors.As(err, &perr) {
		// A desynchronized stream: the master's history is no longer to
		// be trusted, so the next sync is a full one, as in Redis.
		s.mu.Lock()
		l.noHistory = true
		s.unlock()
	}
	return err
}

// encodeArgs encodes a command for the master.
func encodeArgs(args []string) []byte {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return resp.AppendCommand(nil, b...)
}

// announcedPort is the port this server tells its master.
func (s *Server) announcedPort() int {
	if s.cfg.ReplicaAnnouncePort != 0 {
		return s.cfg.ReplicaAnnouncePort
	}
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return s.cfg.Port
}

// fullSync receives the snapshot into a new dataset and swaps it in when
// it is complete and its checksum is right; a cut or corrupt transfer
// leaves the old data in place.
func (l *replicaLink) fullSync(conn net.Conn, br *bufio.Reader, reply replication.PsyncReply, timeout time.Duration) error {
	s := l.s
	s.mu.Lock()
	l.state = linkSync
	l.syncStart = time.Now()
	s.logf("Full resync from master: %s:%d", reply.ReplID, reply.Offset)
	opts := s.loadOptionsFor(loadOptions{keepExpired: true})
	s.unlock()
	conn.SetDeadline(time.Now().Add(timeout))
	t, err := replication.ReadTransferHeader(br)
	if err != nil {
		return err
	}
	body := &deadlineReader{r: t.Body(br), conn: conn, timeout: timeout, n: &l.syncBytes}
	l.syncBytes.Store(0)
	dbs, res, err := s.loadRDB(body, opts)
	if err == nil {
		// The RDB ends before the transfer does (the EOF mark): read to
		// the end, so the stream starts at its first byte.
		_, err = io.Copy(io.Discard, body)
	}
	if err != nil {
		return fmt.Errorf("Failed trying to load the MASTER synchronization DB from socket: %v", err)
	}
	s.mu.Lock()
	defer s.unlock()
	if l.stopped {
		return nil
	}
	s.installDBs(dbs)
	m := s.repl.m
	m.ID, m.Offset = reply.ReplID, reply.Offset
	m.ID2, m.SecondOffset = replication.NoID, -1
	m.Backlog = replication.NewBacklog(m.BacklogSize, m.Offset)
	m.ResetSelect()
	// The stream goes on in the database it had selected at the cut: a
	// master that is itself a replica forwards its master's stream, which
	// does not select it again. The snapshot names it (repl-stream-db);
	// a master that made its own stream selects before its next command.
	l.client.db = s.dbs[0]
	if db, err := strconv.Atoi(res.aux["repl-stream-db"]); err == nil && db >= 0 && db < len(s.dbs) {
		l.client.db = s.dbs[db]
	}
	s.disconnectReplicas()
	l.everSynced = true
	s.logf("MASTER <-> REPLICA sync: Finished with success (%d keys, %d bytes)", res.keys, body.n.Load())
	if s.aof.f != nil {
		// The AOF described the old dataset: start it again from this one.
		s.stopAppendOnly()
		if err := s.startAppendOnly(); err != nil {
			s.logf("Failed enabling the AOF after successful master synchronization: %v", err)
		}
	}
	return nil
}

// deadlineReader extends the connection's deadline as data arrives.
type deadlineReader struct {
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
	n       *atomic.Int64 // bytes read, for INFO
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	d.conn.SetReadDeadline(time.Now().Add(d.timeout))
	n, err := d.r.Read(p)
	d.n.Add(int64(n))
	return n, err
}

// stream applies the master's commands as they come, counting the offset
// as the spec says, and ACKs them.
func (l *replicaLink) stream(conn net.Conn, br *bufio.Reader, off int64, timeout time.Duration) error {
	s := l.s
	s.mu.Lock()
	if l.stopped {
		s.unlock()
		return nil
	}
	l.state = linkConnected
	l.downSince = time.Time{}
	l.lastIO = time.Now()
	// Nothing of the stream is read yet: the read offset is where it
	// starts (the +FULLRESYNC offset, or this replica's own after
	// +CONTINUE), not what an earlier link had read.
	l.readOff = off
	// The applying client keeps its database across a partial resync: the
	// master does not select it again (a full sync starts at db 0, and
	// the master selects before its first command).
	l.client.multi = nil
	s.logf("MASTER <-> REPLICA sync: master link is up")
	s.unlock()
	l.sendAck() // the first ACK puts this replica online on the master
	done := make(chan struct{})
	defer close(done)
	go l.ackLoop(done)
	sr := replication.NewStreamReader(br, off)
	for {
		conn.SetReadDeadline(time.Now().Add(timeout))
		cmd, err := sr.Next()
		if err != nil {
			s.mu.Lock()
			l.client.multi = nil // a block cut by the break is sent again
			s.unlock()
			return err
		}
		s.mu.Lock()
		if l.stopped || s.closing.Load() {
			// REPLICAOF closed the connection, but what was read before
			// is still buffered: none of it may be applied or forwarded
			// now that the server is a master or follows another one (or
			// is exiting after its final save).
			s.unlock()
			return nil
		}
		l.lastIO = time.Now()
		// Apply this command and every complete one already buffered under
		// one hold of the lock, as a client's pipeline is.
		for n := 0; ; n++ {
			if replication.IsGetAck(cmd.Argv) {
				l.sendAckAt(cmd.Before)
			} else {
				l.apply(cmd.Argv)
			}
			// The processed bytes go to this server's backlog and
			// replicas unchanged (a whole MULTI block at its EXEC).
			s.repl.m.FeedRaw(cmd.Applied)
			var ok bool
			if n == maxApplyBatch {
				break
			}
			if cmd, ok, err = sr.TryNext(); err != nil || !ok {
				break
			}
		}
		l.readOff = sr.ReadOffset()
		s.unlock()
		if err != nil {
			return err
		}
	}
}

// maxApplyBatch bounds how many of the master's commands run under one hold
// of the executor lock, so clients are not held up behind a long stream.
const maxApplyBatch = 1024

// apply runs one of the master's commands. The caller holds the lock.
func (l *replicaLink) apply(argv [][]byte) {
	s := l.s
	c := l.client
	c.argv = argv
	s.applyingMaster = true
	s.processCommand(c)
	s.applyingMaster = false
	c.argv = nil
	c.out = c.out[:0]
}

func (l *replicaLink) sendAck() {
	l.s.mu.Lock()
	off := l.s.repl.m.Offset
	l.s.unlock()
	l.sendAckAt(off)
}

// sendAckAt writes REPLCONF ACK <off> to the master.
func (l *replicaLink) sendAckAt(off int64) {
	n := strconv.FormatInt(off, 10)
	msg := "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$" + strconv.Itoa(len(n)) + "\r\n" + n + "\r\n"
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.conn != nil {
		l.conn.SetWriteDeadline(time.Now().Add(time.Duration(l.s.cfg.ReplTimeout) * time.Second))
		l.conn.Write([]byte(msg))
	}
}

// cron sends the periodic ACK (repl-ack-interval) and drops a silent link
// (repl-timeout). It runs under the executor lock.
func (l *replicaLink) cron(now time.Time) {
	if l.state != linkConnected {
		return
	}
	if now.Sub(l.lastIO) > time.Duration(l.s.cfg.ReplTimeout)*time.Second {
		l.s.logf("MASTER timeout: no data nor PING received...")
		if l.conn != nil {
			l.conn.Close()
		}
	}
}

// ackLoop sends REPLCONF ACK every repl-ack-interval (lagwise's directive,
// in ms; Redis acks every second) until done is closed.
func (l *replicaLink) ackLoop(done chan struct{}) {
	for {
		l.s.mu.Lock()
		every := time.Duration(l.s.cfg.ReplAckInterval) * time.Millisecond
		l.s.unlock()
		select {
		case <-done:
			return
		case <-time.After(every):
		}
		l.sendAck()
	}
}

// info writes the replica's fields of INFO replication.
func (l *replicaLink) info(line func(string, ...any), now time.Time) {
	s := l.s
	line("role:slave")
	line("master_host:%s", l.host)
	line("master_port:%d", l.port)
	if l.up() {
		line("master_link_status:up")
		line("master_last_io_seconds_ago:%d", int64(now.Sub(l.lastIO)/time.Second))
	} else {
		line("master_link_status:down")
		line("master_last_io_seconds_ago:-1")
	}
	line("master_sync_in_progress:%d", b2i(l.state == linkSync))
	line("slave_read_repl_offset:%d", s.repl.m.Offset+l.pendingBytes())
	line("slave_repl_offset:%d", s.repl.m.Offset)
	if l.state == linkSync {
		line("master_sync_total_bytes:-1")
		line("master_sync_read_bytes:%d", l.syncBytes.Load())
		line("master_sync_left_bytes:-1")
		line("master_sync_perc:0.00")
		line("master_sync_last_io_seconds_ago:%d", int64(now.Sub(l.lastIO)/time.Second))
	}
	if !l.up() {
		line("master_link_down_since_seconds:%d", int64(now.Sub(l.downSince)/time.Second))
	}
	line("slave_priority:%d", s.cfg.ReplicaPriority)
	line("slave_read_only:%d", b2i(s.cfg.ReplicaReadOnly))
	line("replica_announced:1")
}

// pendingBytes is what was read from the master but not applied yet (a
// MULTI block waiting for its EXEC, a cut command).
func (l *replicaLink) pendingBytes() int64 {
	if l.state != linkConnected {
		return 0
	}
	return l.readOff - l.s.repl.m.Offset
}

// role answers ROLE on a replica.
func (l *replicaLink) role(c *Client) {
	c.array(5)
	c.bulkStr("slave")
	c.bulkStr(l.host)
	c.integer(int64(l.port))
	c.bulkStr(l.state.String())
	off := l.s.repl.m.Offset
	if !l.everSynced && l.state != linkConnected {
		off = -1
	}
	c.integer(off)
}

// countingConn counts the bytes read from the master.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
