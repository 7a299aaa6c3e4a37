package backend

// The keyspace operations every command goes through. They keep the
// invariants Redis keeps: an expired key is never visible, every change
// touches WATCHers, and every change counts toward `dirty`.

// lruClock is the 24-bit seconds clock stored in each value.
func (s *Server) lruClock() uint32 { return uint32(s.now/1000) & lruMax }

// isExpired reports whether key has a TTL in the past. Nothing expires
// while loading, nor for the master's own commands on a replica.
func (s *Server) isExpired(db *DB, key string) bool {
	t := db.expireAt(key)
	return t >= 0 && t <= s.now && !s.loading && !s.applyingMaster
}

// alreadyExpired reports whether an absolute expiry a command sets is
// already past, so that the command deletes the key instead (and
// propagates a DEL), as Redis's checkAlreadyExpired; never while loading,
// where the stream says what happened.
func (s *Server) alreadyExpired(at int64) bool {
	return at <= s.now && !s.loading && !s.applyingMaster
}

// expireIfNeeded deletes key if it is logically expired and reports whether
// it was expired. A replica only reports it: keys expire on the master,
// whose DEL will come down the stream.
func (s *Server) expireIfNeeded(db *DB, key string) bool {
	if !s.isExpired(db, key) {
		return false
	}
	if s.repl.link != nil {
		return true
	}
	s.deleteExpired(db, key)
	return true
}

// deleteExpired removes a key whose time has come.
func (s *Server) deleteExpired(db *DB, key string) {
	s.stats.expiredKeys++
	s.propagateDel(db.id, key)
	s.dbDelete(db, key)
}

// lookupRead finds key for a read: expired keys are missing, hits and misses
// are counted and the access clock is updated.
func (c *Client) lookupRead(key []byte) (Obj, bool) {
	s, db, k := c.srv, c.db, bstr(key)
	if s.expireIfNeeded(db, k) {
		s.stats.keyspaceMisses++
		return Obj{}, false
	}
	o, ok := db.dict.Get(k)
	if !ok {
		s.stats.keyspaceMisses++
		return Obj{}, false
	}
	s.stats.keyspaceHits++
	if n := s.touchObj(o); n != o {
		db.dict.Touch(k, n)
		o = n
	}
	return o, true
}

// lookupWrite finds key for a command about to change it.
func (c *Client) lookupWrite(key []byte) (Obj, bool) {
	s, db, k := c.srv, c.db, bstr(key)
	s.expireIfNeeded(db, k)
	o, ok := db.dict.Get(k)
	if ok {
		db.dict.WillWrite(k)
	}
	return o, ok
}

// lookupType finds key for a read and checks its type. ok is false when it
// exists with another type, in which case WRONGTYPE was already replied.
func (c *Client) lookupType(key []byte, t Type) (o Obj, exists, ok bool) {
	o, exists = c.lookupRead(key)
	if exists && o.Type() != t {
		c.wrongType()
		return o, true, false
	}
	return o, exists, true
}

// lookupWriteType is lookupType for a write.
func (c *Client) lookupWriteType(key []byte, t Type) (o Obj, exists, ok bool) {
	o, exists = c.lookupWrite(key)
	if exists && o.Type() != t {
		c.wrongType()
		return o, true, false
	}
	return o, exists, true
}

// setKey stores o at key like SET does: the old value and its TTL go, unless
// keepTTL. A logically expired old key is deleted first (and its DEL
// propagated ahead of the command), as Redis's setKey looks the key up for a
// write.
func (c *Client) setKey(key []byte, o Obj, keepTTL bool) {
	s, db := c.srv, c.db
	k := bstr(key)
	s.expireIfNeeded(db, k)
	o = o.withLRU(s.newObjClock())
	if old, exists := db.dict.Get(k); exists {
		if s.lfuPolicy() {
			// An overwrite keeps the key's access frequency, as in Redis.
			o = o.withLRU(old.LRU())
		}
		db.dict.Replace(k, o)
		if !keepTTL && len(db.expires) > 0 {
			delete(db.expires, k)
		}
	} else {
		db.dict.Set(string(key), o)
	}
	s.touchWatched(db, k)
}

// addKey stores o at a key known to be absent.
func (c *Client) addKey(key []byte, o Obj) {
	s, db := c.srv, c.db
	db.dict.Set(string(key), o.withLRU(s.newObjClock()))
	s.touchWatched(db, bstr(key))
}

// replaceValue swaps the value of an existing key in place (a string grown
// by APPEND, a converted encoding), keeping its TTL.
func (c *Client) replaceValue(key []byte, o Obj) {
	k := bstr(key)
	if old, ok := c.db.dict.Get(k); ok {
		o = o.withLRU(c.srv.touchObj(old).LRU())
	}
	c.db.dict.Replace(k, o)
}

// deleteKey removes key and reports whether it existed (and was not
// expired).
func (c *Client) deleteKey(key []byte) bool {
	s, db, k := c.srv, c.db, bstr(key)
	if s.expireIfNeeded(db, k) {
		return false
	}
	return s.dbDelete(db, k)
}

// dbDelete removes key, its TTL, and touches its WATCHers.
func (s *Server) dbDelete(db *DB, key string) bool {
	if _, ok := db.dict.Delete(key); !ok {
		return false
	}
	if len(db.expires) > 0 {
		delete(db.expires, key)
	}
	s.touchWatched(db, key)
	return true
}

// touched marks key as changed in place (a collection edited without a new
// Obj): WATCHers see it.
func (c *Client) touched(key []byte) { c.srv.touchWatched(c.db, bstr(key)) }

// dirty counts n changes to the dataset.
func (c *Client) dirty(n int) { c.srv.dirty += int64(n) }

// setExpire sets the absolute unix-ms expiry of an existing key.
func (c *Client) setExpire(key []byte, at int64) {
	c.db.dict.WillWrite(bstr(key))
	c.db.expires[string(key)] = at
}

// removeExpire makes key persistent; it reports whether it had a TTL.
func (c *Client) removeExpire(key []byte) bool {
	db := c.db
	if _, ok := db.expires[bstr(key)]; !ok {
		return false
	}
	db.dict.WillWrite(bstr(key))
	delete(db.expires, bstr(key))
	return true
}

// activeExpireCycle samples volatile keys and deletes the expired ones, as
// Redis's activeExpireCycle does: per db, 20 keys a round, repeat while more
// than a quarter of the sample had expired, stop after a time budget so
// clients are never held up for more than about a millisecond.
func (s *Server) activeExpireCycle() {
	const sample = 20
	budget := 1000 + 250*int64(s.cfg.ActiveExpireEffort-1) // microseconds
	deadline := nowMicros() + budget
	for _, db := range s.dbs {
		for len(db.expires) > 0 {
			n, expired := 0, 0
			var ttlSum, ttlCount int64
			for k, t := range db.expires {
				if t <= s.now {
					s.deleteExpired(db, k)
					expired++
				} else {
					ttlSum += t - s.now
					ttlCount++
				}
				n++
				if n >= sample {
					break
				}
			}
			if ttlCount > 0 {
				avg := ttlSum / ttlCount
				if db.avgTTL == 0 {
					db.avgTTL = avg
				} else {
					db.avgTTL = (db.avgTTL/50)*49 + avg/50
				}
			}
			if expired*4 <= n || nowMicros() > deadline {
				break
			}
		}
		if nowMicros() > deadline {
			return
		}
	}
}

// removedMembers finishes a command that took n members out of the
// collection at key, leaving left: an emptied collection is deleted (Redis
// has no empty collections), a changed one touches its WATCHers, and the
// changes are counted.
func (c *Client) removedMembers(key []byte, n, left int) {
	if n == 0 {
		return
	}
	if left == 0 {
		c.deleteKey(key)
	} else {
		c.touched(key)
	}
	c.dirty(n)
}
