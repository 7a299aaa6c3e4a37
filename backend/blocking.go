package backend

import (
	"math"
	"strings"
	"time"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN...). A client that finds no
// data registers on its keys and its goroutine waits outside the executor
// lock. A command that adds data to a watched-for key marks it ready; right
// after that command, still under the lock, the blocked clients are served
// in the order they blocked (Redis's FIFO rule), so serving is part of the
// one total order of writes.

// blockedClient is one client waiting on keys.
type blockedClient struct {
	c    *Client
	db   *DB
	keys []string
	// serve tries to complete the command with data at key; it runs under
	// the executor lock with c's context and appends the reply to c.out.
	serve func(c *Client, key []byte) bool
	// timeoutReply replies what the command answers when it times out.
	timeoutReply func(c *Client)
	deadline     time.Time // zero: wait forever
	done         chan struct{}
}

type readyKey struct {
	db  *DB
	key string
}

// blockOn parks c on keys. The reply comes later: from serve when data
// arrives, or timeoutReply at the deadline.
func (c *Client) blockOn(keys [][]byte, timeout time.Duration, serve func(*Client, []byte) bool, onTimeout func(*Client)) {
	bc := &blockedClient{c: c, db: c.db, serve: serve, timeoutReply: onTimeout, done: make(chan struct{})}
	if timeout > 0 {
		bc.deadline = time.Now().Add(timeout)
	}
	if c.db.blocked == nil {
		c.db.blocked = map[string][]*blockedClient{}
	}
	for _, k := range keys {
		key := string(k)
		dup := false
		for _, x := range bc.keys {
			if x == key {
				dup = true
			}
		}
		if dup {
			continue
		}
		bc.keys = append(bc.keys, key)
		c.db.blocked[key] = append(c.db.blocked[key], bc)
	}
	c.block = bc
}

// signalReady marks key as having new data for blocked clients.
func (c *Client) signalReady(key []byte) { c.srv.signalReady(c.db, bstr(key)) }

func (s *Server) signalReady(db *DB, key string) {
	if len(db.blocked[key]) == 0 {
		return
	}
	for _, r := range s.readyKeys {
		if r.db == db && r.key == key {
			return
		}
	}
	s.readyKeys = append(s.readyKeys, readyKey{db, strings.Clone(key)})
}

// serveBlocked serves the clients blocked on ready keys, in FIFO order per
// key. Serving may make more keys ready (BLMOVE pushes), so it loops.
func (s *Server) serveBlocked() {
	for len(s.readyKeys) > 0 {
		ready := s.readyKeys
		s.readyKeys = nil
		for _, r := range ready {
			key := []byte(r.key)
			// In blocking order; a client waiting for another type (BLPOP
			// on a key that became a zset) is skipped, not in the way.
			waiting := append([]*blockedClient(nil), r.db.blocked[r.key]...)
			for _, bc := range waiting {
				if _, ok := r.db.dict.Get(r.key); !ok {
					break
				}
				c := bc.c
				if c.block != bc {
					continue
				}
				savedDB := c.db
				c.db = bc.db
				// What serving changes (the pop, as its non-blocking form)
				// travels as one unit of the write stream.
				s.beginUnit()
				served := bc.serve(c, key)
				s.endUnit()
				c.db = savedDB
				if served {
					s.unblock(c)
					close(bc.done)
				}
			}
		}
	}
}

// unblock removes c from every key it waits on.
func (s *Server) unblock(c *Client) {
	bc := c.block
	if bc == nil {
		return
	}
	for _, k := range bc.keys {
		list := bc.db.blocked[k]
		for i, x := range list {
			if x == bc {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(bc.db.blocked, k)
		} else {
			bc.db.blocked[k] = list
		}
	}
	c.block = nil
}

// waitBlocked waits, outside the executor lock, until c is served, times
// out, is unblocked by CLIENT UNBLOCK, or disconnects. Bytes the client
// sends meanwhile are kept for after the wait.
func (c *Client) waitBlocked() {
	s := c.srv
	s.mu.Lock()
	bc := c.block
	s.unlock()
	if bc == nil {
		return
	}
	var timer <-chan time.Time
	if !bc.deadline.IsZero() {
		t := time.NewTimer(time.Until(bc.deadline))
		defer t.Stop()
		timer = t.C
	}
	probe := make(chan probeResult, 1)
	probing := false
	closed := false
	for !closed {
		if !probing {
			probing = true
			go c.probe(probe)
		}
		select {
		case <-bc.done:
		case <-timer:
		case r := <-probe:
			probing = false
			c.pending = append(c.pending, r.data...)
			if r.err != nil {
				closed = true
				break
			}
			continue
		}
		break
	}
	if probing {
		c.conn.SetReadDeadline(time.Unix(1, 0))
		r := <-probe
		c.conn.SetReadDeadline(time.Time{})
		c.pending = append(c.pending, r.data...)
		if r.err != nil && !isTimeout(r.err) {
			closed = true
		}
	}
	s.mu.Lock()
	if c.block == bc {
		s.unblock(c)
		if !closed {
			bc.timeoutReply(c)
		}
	}
	if closed {
		c.closeAfter = true
	}
	s.unlock()
}

type probeResult struct {
	data []byte
	err  error
}

// probe reads from a blocked client's connection, so that a client that
// disconnects while blocked is noticed.
func (c *Client) probe(out chan<- probeResult) {
	buf := make([]byte, 4096)
	n, err := c.conn.Read(buf)
	out <- probeResult{buf[:n], err}
}

func isTimeout(err error) bool {
	type timeout interface{ Timeout() bool }
	t, ok := err.(timeout)
	return ok && t.Timeout()
}

// parseTimeout parses a blocking command's timeout in seconds (a double, as
// Redis 7.0 accepts) into a duration; 0 means forever.
func (c *Client) parseTimeout(arg []byte) (time.Duration, bool) {
	f, ok := parseLongDouble(arg)
	if !ok {
		c.errorReply(msgTimeout)
		return 0, false
	}
	// Redis converts to whole milliseconds, rounding up, in a long long:
	// anything that does not fit (inf too) reads as negative.
	ms := math.Ceil(f * 1000)
	if ms < 0 || ms >= 9.223372036854775807e18 {
		c.errorReply(msgTimeoutNeg)
		return 0, false
	}
	if ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, true // beyond any real wait: forever
	}
	return time.Duration(ms) * time.Millisecond, true
}
