package backend

import (
	"net"
	"strings"
	"sync"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/replication"
)

// Client is one connection's session.
//
// Ownership: the client's own goroutine reads, parses and flushes. Fields
// below the executor line are only touched while holding Server.mu.
type Client struct {
	srv  *Server
	conn net.Conn
	id   int64

	// Owned by the client's goroutine.
	inbuf   []byte
	argv    [][]byte
	pending []byte // bytes read while blocked, not yet in inbuf
	// lim is a copy of the config limits the goroutine needs without the
	// lock, refreshed whenever it holds the lock.
	lim clientLimits

	// Executor state: touched only while holding Server.mu.
	db          *DB
	out         []byte // replies of the current batch
	authed      bool
	name        string
	addr, laddr string
	created     time.Time
	lastCmd     string
	lastActive  time.Time
	closeAfter  bool // reply, then close (QUIT, protocol errors, CLIENT KILL of self)
	killed      bool
	multi       *multiState
	watching    []watchedKey
	dirtyCAS    bool // a watched key was touched
	subs        map[string]struct{}
	psubs       map[string]struct{}
	block       *blockedClient // non-nil while blocked
	protoVer    int
	libName     string
	libVer      string
	noEvict     bool
	curCmd      *cmdEntry
	propArgv    [][]byte // what the running command propagates instead of argv
	propSkip    bool     // the running command propagates by itself
	propForce   bool     // the running command propagates even with no change
	inExec      bool     // running EXEC's queue: blocking commands must not block

	// Replication (repl.go). repl is set once the connection is a
	// replica of this server; the REPLCONF fields come before it.
	repl           *replication.Replica
	replHeld       bool // the stream waits in asyncBuf until the snapshot is sent
	replFailed     bool // the snapshot could not be sent
	replAcked      bool // an ACK came before the transfer was seen to end
	replPort       int
	replAnnIP      string
	replCapaEOF    bool
	replCapaPSYNC2 bool
	woff           int64 // the stream offset after this client's last write (WAIT)
	waitN          int   // WAIT's number of replicas
	isMaster       bool  // the link to this server's master: no replies, no limits

	// async output, used once the client subscribes: pushes from other
	// clients and the client's own replies all go through asyncBuf, in the
	// order they were made under the executor lock, and are written by a
	// writer goroutine so a slow subscriber never holds up a publisher.
	omu        sync.Mutex
	wmu        sync.Mutex // serialises the async writer and the final flush
	async      bool
	asyncBuf   []byte
	asyncWake  chan struct{}
	softSince  time.Time
	writerDone chan struct{}
}

type clientLimits struct {
	timeout  time.Duration
	queryBuf int64
	parse    resp.Limits
}

// refreshLimits copies the config's limits; call it holding Server.mu.
func (c *Client) refreshLimits() {
	cfg := c.srv.cfg
	c.lim = clientLimits{
		timeout:  time.Duration(cfg.Timeout) * time.Second,
		queryBuf: cfg.ClientQueryBufLimit,
		parse:    resp.Limits{MaxBulk: cfg.ProtoMaxBulkLen, Unauthenticated: !c.authed},
	}
}

const (
	readChunk   = 16 * 1024
	flushThresh = 64 * 1024
)

func (s *Server) newClient(conn net.Conn) *Client {
	c := &Client{
		srv:        s,
		conn:       conn,
		id:         s.nextID.Add(1),
		db:         s.dbs[0],
		created:    time.Now(),
		lastActive: time.Now(),
		protoVer:   2,
		lastCmd:    "NULL",
	}
	c.addr = conn.RemoteAddr().String()
	c.laddr = conn.LocalAddr().String()
	return c
}

// serveConn runs one client until it disconnects.
func (s *Server) serveConn(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		if s.cfg.TCPKeepalive > 0 {
			tc.SetKeepAlivePeriod(time.Duration(s.cfg.TCPKeepalive) * time.Second)
			tc.SetKeepAlive(true)
		}
	}
	c := s.newClient(conn)
	s.mu.Lock()
	s.stats.connectionsReceived++
	if msg := s.admit(c); msg != "" {
		s.stats.rejectedConns++
		s.unlock()
		conn.Write(resp.AppendError(nil, msg))
		conn.Close()
		return
	}
	s.clients[c.id] = c
	c.authed = s.cfg.RequirePass == ""
	c.refreshLimits()
	s.unlock()
	defer s.unlinkClient(c)
	c.readLoop()
}

// admit checks maxclients and protected mode; it returns the error to send
// or "".
func (s *Server) admit(c *Client) string {
	if len(s.clients) >= s.cfg.MaxClients {
		return "ERR max number of clients reached"
	}
	if s.cfg.ProtectedMode && s.cfg.RequirePass == "" && !isLoopback(c.conn.RemoteAddr()) {
		return protectedModeMsg
	}
	return ""
}

const protectedModeMsg = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

func isLoopback(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return strings.HasPrefix(a.Network(), "unix")
}

func (s *Server) unlinkClient(c *Client) {
	s.mu.Lock()
	c.killed = true
	delete(s.clients, c.id)
	if c.block != nil {
		s.unblock(c)
	}
	c.unwatchAll()
	s.pubsubUnsubscribeAll(c)
	if c.repl != nil {
		s.repl.m.Remove(c.repl)
		s.logf("Connection with replica %s lost.", c.addr)
	}
	s.unlock()
	if c.asyncWake != nil {
		// Write what the subscriber still has queued (QUIT's +OK), then
		// stop its writer.
		c.wmu.Lock()
		c.omu.Lock()
		rest := c.asyncBuf
		c.asyncBuf = nil
		close(c.asyncWake)
		c.asyncWake = nil
		c.omu.Unlock()
		c.conn.Write(rest)
		c.wmu.Unlock()
	}
	c.conn.Close()
}

// readLoop reads requests, executes every complete one of a read under one
// hold of the executor lock, and writes the batch's replies at once.
func (c *Client) readLoop() {
	s := c.srv
	c.inbuf = make([]byte, readChunk)
	start, end := 0, 0
	for {
		if end == len(c.inbuf) {
			c.inbuf, start, end = growInbuf(c.inbuf, start, end, 0)
		}
		if t := c.lim.timeout; t > 0 {
			c.conn.SetReadDeadline(time.Now().Add(t))
		}
		n, err := c.conn.Read(c.inbuf[end:])
		if n > 0 {
			end += n
			s.stats.netInput.Add(int64(n))
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && c.exemptFromTimeout() {
				continue
			}
			return
		}
		var need int
		start, need = c.processInput(start, end)
		if !c.flush() || c.closeAfter {
			return
		}
		for len(c.pending) > 0 {
			// Requests that arrived while the client was blocked.
			if len(c.inbuf)-end < len(c.pending) {
				c.inbuf, start, end = growInbuf(c.inbuf, start, end, end-start+len(c.pending))
			}
			end += copy(c.inbuf[end:], c.pending)
			c.pending = c.pending[:0]
			start, need = c.processInput(start, end)
			if !c.flush() || c.closeAfter {
				return
			}
		}
		if start == end {
			start, end = 0, 0
			if len(c.inbuf) > 4*readChunk {
				c.inbuf = make([]byte, readChunk)
			}
		} else if int64(end-start) > c.lim.queryBuf {
			s.logf("Closing client that reached max query buffer length (qbuf=%d)", end-start)
			return
		} else if need > len(c.inbuf)-start || start > len(c.inbuf)/2 {
			c.inbuf, start, end = growInbuf(c.inbuf, start, end, need)
		}
	}
}

// growInbuf moves the unparsed bytes to the front and makes room for at
// least need bytes of request (or doubles the buffer when need is 0).
func growInbuf(buf []byte, start, end, need int) ([]byte, int, int) {
	size := len(buf)
	if need > size {
		size = need
	} else if start == 0 {
		size *= 2
	}
	if size != len(buf) {
		nb := make([]byte, size)
		copy(nb, buf[start:end])
		return nb, 0, end - start
	}
	copy(buf, buf[start:end])
	return buf, 0, end - start
}

// processInput executes the complete requests in inbuf[start:end] and
// returns the new start and, if the next request is incomplete, how many
// bytes it needs in all (0 if unknown).
func (c *Client) processInput(start, end int) (int, int) {
	s := c.srv
	locked := false
	defer func() {
		if locked {
			c.refreshLimits()
			s.unlock()
		}
	}()
	for start < end && !c.closeAfter {
		args, n, need, err := resp.ParseCommand(c.inbuf[start:end], c.argv, c.lim.parse)
		c.argv = args[:0]
		if err != nil {
			if !locked {
				s.mu.Lock()
				locked = true
			}
			c.errorReply("ERR " + err.Error())
			c.closeAfter = true
			return end, 0
		}
		if n == 0 {
			return start, need
		}
		start += n
		if len(args) == 0 {
			continue
		}
		if !locked {
			s.mu.Lock()
			locked = true
		}
		c.argv = args
		s.process(c)
		c.lim.parse.Unauthenticated = !c.authed
		if c.block != nil {
			// Write the replies so far and wait outside the lock. They are
			// taken while still holding it: once it is released, serving
			// the blocked client appends its reply to c.out.
			prev := c.out
			c.out = nil
			s.unlock()
			locked = false
			if len(prev) > 0 {
				n, err := c.conn.Write(prev)
				s.stats.netOutput.Add(int64(n))
				if err != nil {
					c.closeAfter = true
					return end, 0
				}
			}
			c.waitBlocked()
		}
		if c.overOutputLimit() {
			s.logf("Client id=%d addr=%s closed for overcoming of output buffer limits.", c.id, c.addr)
			c.out = c.out[:0]
			c.closeAfter = true
			return end, 0
		}
		if len(c.out) > flushThresh {
			s.unlock()
			locked = false
			if !c.flush() {
				c.closeAfter = true
				return end, 0
			}
		}
	}
	return start, 0
}

// flush writes the pending replies; false means the connection is gone.
func (c *Client) flush() bool {
	if c.async {
		return true
	}
	if len(c.out) == 0 {
		return true
	}
	n, err := c.conn.Write(c.out)
	c.srv.stats.netOutput.Add(int64(n))
	if cap(c.out) > 4*flushThresh {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	return err == nil
}

func (c *Client) exemptFromTimeout() bool {
	c.srv.mu.Lock()
	defer c.srv.unlock()
	return len(c.subs) > 0 || len(c.psubs) > 0 || c.block != nil
}

// overOutputLimit applies client-output-buffer-limit to the replies a
// normal client has pending: past the hard limit, or past the soft limit
// for longer than its seconds, the client is disconnected, as in Redis.
// (Pub/sub clients are checked where messages are queued.)
func (c *Client) overOutputLimit() bool {
	if c.async {
		return false
	}
	lim := c.srv.cfg.OutputLimits[classNormal]
	n := int64(len(c.out))
	if lim.hard > 0 && n > lim.hard {
		return true
	}
	if lim.soft > 0 && n > lim.soft {
		if c.softSince.IsZero() {
			c.softSince = time.Now()
		} else if time.Since(c.softSince) > time.Duration(lim.softSecs)*time.Second {
			return true
		}
	} else if !c.softSince.IsZero() {
		c.softSince = time.Time{}
	}
	return false
}
