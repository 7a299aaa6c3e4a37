package backend

import "github.com/lagwise/lagwise/backend/command"

// Transactions: MULTI queues, EXEC runs the queue in one hold of the
// executor lock, WATCH aborts EXEC when a watched key changed.

var txCommands = []spec{
	{"multi", cmdMulti},
	{"exec", cmdExec},
	{"discard", cmdDiscard},
	{"watch", cmdWatch},
	{"unwatch", cmdUnwatch},
}

type multiState struct {
	cmds    []queued
	aborted bool // a command failed to queue: EXEC answers EXECABORT
}

// denyOOM reports whether a queued command may grow memory; EXEC then
// obeys maxmemory as a whole, as in Redis.
func (m *multiState) denyOOM() bool {
	for _, q := range m.cmds {
		if q.e.meta.Has(command.DenyOOM) {
			return true
		}
	}
	return false
}

type queued struct {
	e    *cmdEntry
	argv [][]byte
}

type watchedKey struct {
	db  *DB
	key string
	// expiredAtWatch: the key was already logically expired when watched;
	// Redis 7.0 then ignores its expiry at EXEC.
	expiredAtWatch bool
}

// queue copies a request into the transaction.
func (c *Client) queue(e *cmdEntry) {
	argv := make([][]byte, len(c.argv))
	for i, a := range c.argv {
		argv[i] = append([]byte(nil), a...)
	}
	c.multi.cmds = append(c.multi.cmds, queued{e, argv})
	c.simple("QUEUED")
}

func cmdMulti(c *Client) {
	if c.multi != nil {
		c.errorReply(msgNestedMulti)
		return
	}
	c.multi = &multiState{}
	c.ok()
}

func cmdDiscard(c *Client) {
	if c.multi == nil {
		c.errorReply(msgDiscardNoMulti)
		return
	}
	c.multi = nil
	c.unwatchAll()
	c.ok()
}

func cmdExec(c *Client) {
	m := c.multi
	if m == nil {
		c.errorReply(msgExecNoMulti)
		return
	}
	c.multi = nil
	if m.aborted {
		c.unwatchAll()
		c.errorReply(msgExecAbort)
		return
	}
	if c.dirtyCAS || c.watchedExpired() {
		c.unwatchAll()
		c.nullArray()
		return
	}
	c.unwatchAll()
	s := c.srv
	if s.cfg.MaxMemory > 0 && m.denyOOM() && !s.performEvictions() {
		c.errorReply(msgOOM)
		return
	}
	c.array(len(m.cmds))
	saved := c.argv
	c.inExec = true
	for _, q := range m.cmds {
		c.argv = q.argv
		s.call(c, q.e)
	}
	c.inExec = false
	c.argv = saved
}

func cmdWatch(c *Client) {
	if c.multi != nil {
		c.errorReply(msgWatchInMulti)
		return
	}
	s := c.srv
	for _, k := range c.argv[1:] {
		key := string(k)
		dup := false
		for _, w := range c.watching {
			if w.db == c.db && w.key == key {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		_, exists := c.db.dict.Get(key)
		w := watchedKey{db: c.db, key: key, expiredAtWatch: exists && s.isExpired(c.db, key)}
		c.watching = append(c.watching, w)
		if c.db.watched == nil {
			c.db.watched = map[string][]*Client{}
		}
		c.db.watched[key] = append(c.db.watched[key], c)
	}
	c.ok()
}

func cmdUnwatch(c *Client) {
	c.unwatchAll()
	c.ok()
}

// unwatchAll forgets every WATCH of c and clears its CAS flag.
func (c *Client) unwatchAll() {
	for _, w := range c.watching {
		list := w.db.watched[w.key]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(w.db.watched, w.key)
		} else {
			w.db.watched[w.key] = list
		}
	}
	c.watching = nil
	c.dirtyCAS = false
}

// watchedExpired reports whether a watched key expired since WATCH (Redis
// 7.0 counts that as a change).
func (c *Client) watchedExpired() bool {
	for _, w := range c.watching {
		if w.expiredAtWatch {
			continue
		}
		if _, ok := w.db.dict.Get(w.key); ok && c.srv.isExpired(w.db, w.key) {
			return true
		}
	}
	return false
}

// touchWatched flags the clients watching key in db (Redis's
// signalModifiedKey / touchWatchedKey).
func (s *Server) touchWatched(db *DB, key string) {
	if len(db.watched) == 0 {
		return
	}
	for _, c := range db.watched[key] {
		c.dirtyCAS = true
	}
}

// touchAllWatched flags every watcher of db (FLUSHDB, SWAPDB...). Redis only
// flags keys that existed; flagging all is what FLUSHALL does.
func (s *Server) touchAllWatched(db *DB, onlyExisting bool) {
	for key, list := range db.watched {
		if onlyExisting {
			if _, ok := db.dict.Get(key); !ok {
				continue
			}
		}
		for _, c := range list {
			c.dirtyCAS = true
		}
	}
}
