package backend

import (
	"math"
	"slices"
	"strconv"
)

// The generic keyspace commands: deletion, existence, expiry, renaming,
// copying and moving keys, iteration, and the whole-database commands.

var keyCommands = []spec{
	{"del", cmdDel},
	{"unlink", cmdDel},
	{"exists", cmdExists},
	{"expire", cmdExpire},
	{"pexpire", cmdPExpire},
	{"expireat", cmdExpireAt},
	{"pexpireat", cmdPExpireAt},
	{"ttl", cmdTTL},
	{"pttl", cmdPTTL},
	{"expiretime", cmdExpireTime},
	{"pexpiretime", cmdPExpireTime},
	{"persist", cmdPersist},
	{"type", cmdType},
	{"rename", cmdRename},
	{"renamenx", cmdRenameNX},
	{"copy", cmdCopy},
	{"move", cmdMove},
	{"keys", cmdKeys},
	{"scan", cmdScan},
	{"randomkey", cmdRandomKey},
	{"touch", cmdTouch},
	{"object|encoding", cmdObjectEncoding},
	{"object|freq", cmdObjectFreq},
	{"object|idletime", cmdObjectIdleTime},
	{"object|refcount", cmdObjectRefcount},
	{"object|help", cmdObjectHelp},
	{"swapdb", cmdSwapDB},
	{"dbsize", cmdDBSize},
	{"flushdb", cmdFlushDB},
	{"flushall", cmdFlushAll},
}

// Lookups with Redis's flags that keyspace.go does not cover.

// lookupNoTouch finds key for a read that must not refresh its access clock
// (Redis's LOOKUP_NOTOUCH: EXISTS, TTL, TYPE, OBJECT); hits and misses still
// count.
func (c *Client) lookupNoTouch(key []byte) (Obj, bool) { return c.lookupNoTouchStr(bstr(key)) }

func (c *Client) lookupNoTouchStr(k string) (Obj, bool) {
	s, db := c.srv, c.db
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
	return o, true
}

// lookupWriteTouch is lookupWrite that also refreshes the access clock, as
// Redis's lookupKeyWrite does.
func (c *Client) lookupWriteTouch(key []byte) (Obj, bool) {
	o, ok := c.lookupWrite(key)
	if ok {
		if n := c.srv.touchObj(o); n != o {
			// A map assignment stores the key it is given: never an
			// aliased argument.
			c.db.dict.Touch(string(key), n)
			o = n
		}
	}
	return o, ok
}

// inDB runs fn with c switched to db, so the keyspace helpers (which work
// on c.db) apply to another database.
func (c *Client) inDB(db *DB, fn func()) {
	saved := c.db
	c.db = db
	fn()
	c.db = saved
}

// addMovedKey stores o (with its absolute expiry, -1 for none) at a key
// known to be absent in c.db and wakes clients blocked on it, as Redis's
// dbAdd does for RENAME, MOVE and COPY. o keeps its access clock (an LFU
// counter survives a RENAME).
func (c *Client) addMovedKey(key []byte, o Obj, expire int64) {
	c.addKey(key, o)
	if got, _ := c.db.dict.Get(bstr(key)); got != o {
		c.db.dict.Touch(string(key), o)
	}
	if expire != -1 {
		c.setExpire(key, expire)
	}
	if t := o.Type(); t == TypeList || t == TypeZSet {
		c.signalReady(key)
	}
}

// dbIndexArg parses a database index as Redis's getIntFromObjectOrReply
// does: an integer that fits in a C int. msg replaces the standard errors
// when not empty.
func (c *Client) dbIndexArg(b []byte, msg string) (int, bool) {
	n, ok := parseIntArg(b)
	if !ok {
		if msg == "" {
			msg = msgNotInt
		}
		c.errorReply(msg)
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		if msg == "" {
			msg = "ERR value is out of range, value must between -2147483648 and 2147483647"
		}
		c.errorReply(msg)
		return 0, false
	}
	return int(n), true
}

// DEL and UNLINK (freeing is the garbage collector's job, so the two are the
// same).
func cmdDel(c *Client) {
	n := 0
	for _, k := range c.argv[1:] {
		if c.deleteKey(k) {
			n++
		}
	}
	c.dirty(n)
	c.integer(int64(n))
}

// EXISTS counts a key once per time it is named.
func cmdExists(c *Client) {
	n := 0
	for _, k := range c.argv[1:] {
		if _, ok := c.lookupNoTouch(k); ok {
			n++
		}
	}
	c.integer(int64(n))
}

func cmdExpire(c *Client)    { c.expireGeneric(true, true, "expire") }
func cmdPExpire(c *Client)   { c.expireGeneric(true, false, "pexpire") }
func cmdExpireAt(c *Client)  { c.expireGeneric(false, true, "expireat") }
func cmdPExpireAt(c *Client) { c.expireGeneric(false, false, "pexpireat") }

// Options of the EXPIRE family.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireGeneric implements EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: the time
// is relative to now or absolute, in seconds or milliseconds.
func (c *Client) expireGeneric(relative, seconds bool, name string) {
	key := c.argv[1]
	flags := 0
	for _, a := range c.argv[3:] {
		switch {
		case eq(a, "nx"):
			flags |= expireNX
		case eq(a, "xx"):
			flags |= expireXX
		case eq(a, "gt"):
			flags |= expireGT
		case eq(a, "lt"):
			flags |= expireLT
		default:
			c.errorReply("ERR Unsupported option " + sanitize(string(a)))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.errorReply("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.errorReply("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.intArg(2)
	if !ok {
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.errorf(msgInvalidExpire, name)
			return
		}
		when *= 1000
	}
	var base int64
	if relative {
		base = c.srv.now
	}
	if when > math.MaxInt64-base {
		c.errorf(msgInvalidExpire, name)
		return
	}
	when += base

	if _, exists := c.lookupWriteTouch(key); !exists {
		c.integer(0)
		return
	}
	if flags != 0 {
		cur := c.db.expireAt(bstr(key))
		if flags&expireNX != 0 && cur != -1 ||
			flags&expireXX != 0 && cur == -1 ||
			flags&expireGT != 0 && (when <= cur || cur == -1) ||
			flags&expireLT != 0 && cur != -1 && when >= cur {
			c.integer(0)
			return
		}
	}
	// Propagated as Redis 7.0's expireGenericCommand rewrites it: a time
	// already past deletes the key and propagates DEL key; otherwise
	// PEXPIREAT key <unix-ms> followed by the options as given (PEXPIREAT
	// itself travels unchanged).
	prop := c.srv.propagating()
	if c.srv.alreadyExpired(when) {
		c.srv.dbDelete(c.db, bstr(key))
		if prop {
			c.propagateAs(argDel, key)
		}
	} else {
		// Dropping the old expiry first makes setExpire store its own copy
		// of the key (a map assignment keeps the key it is given).
		c.removeExpire(key)
		c.setExpire(key, when)
		c.touched(key)
		if prop && name != "pexpireat" {
			argv := slices.Clone(c.argv)
			argv[0], argv[2] = argPExpireAt, msArg(when)
			c.propagateAs(argv...)
		}
	}
	c.dirty(1)
	c.integer(1)
}

func cmdTTL(c *Client)         { c.ttlGeneric(false, false) }
func cmdPTTL(c *Client)        { c.ttlGeneric(true, false) }
func cmdExpireTime(c *Client)  { c.ttlGeneric(false, true) }
func cmdPExpireTime(c *Client) { c.ttlGeneric(true, true) }

// ttlGeneric answers TTL (ms: PTTL) or, when abs, EXPIRETIME (PEXPIRETIME):
// -2 for a missing key, -1 for a persistent one; seconds are rounded.
func (c *Client) ttlGeneric(ms, abs bool) {
	key := c.argv[1]
	if _, ok := c.lookupNoTouch(key); !ok {
		c.integer(-2)
		return
	}
	at := c.db.expireAt(bstr(key))
	if at == -1 {
		c.integer(-1)
		return
	}
	ttl := at
	if !abs {
		ttl = at - c.srv.now
	}
	if ttl < 0 {
		ttl = 0
	}
	if !ms {
		// Rounded without overflow for times near the int64 limit.
		ttl = int64((uint64(ttl) + 500) / 1000)
	}
	c.integer(ttl)
}

func cmdPersist(c *Client) {
	key := c.argv[1]
	if _, ok := c.lookupWriteTouch(key); !ok || !c.removeExpire(key) {
		c.integer(0)
		return
	}
	c.touched(key)
	c.dirty(1)
	c.integer(1)
}

func cmdType(c *Client) {
	o, ok := c.lookupNoTouch(c.argv[1])
	if !ok {
		c.simple("none")
		return
	}
	c.simple(o.Type().String())
}

func cmdRename(c *Client)   { c.renameGeneric(false) }
func cmdRenameNX(c *Client) { c.renameGeneric(true) }

func (c *Client) renameGeneric(nx bool) {
	src, dst := c.argv[1], c.argv[2]
	o, ok := c.lookupWriteTouch(src)
	if !ok {
		c.errorReply(msgNoSuchKey)
		return
	}
	if bstr(src) == bstr(dst) {
		if nx {
			c.integer(0)
		} else {
			c.ok()
		}
		return
	}
	expire := c.db.expireAt(bstr(src))
	if _, exists := c.lookupWrite(dst); exists {
		if nx {
			c.integer(0)
			return
		}
		c.srv.dbDelete(c.db, bstr(dst))
	}
	c.addMovedKey(dst, o, expire)
	c.srv.dbDelete(c.db, bstr(src))
	c.dirty(1)
	if nx {
		c.integer(1)
	} else {
		c.ok()
	}
}

// COPY source destination [DB destination-db] [REPLACE]
func cmdCopy(c *Client) {
	s := c.srv
	src, dst := c.argv[1], c.argv[2]
	dstDB := c.db
	replace := false
	for i := 3; i < len(c.argv); i++ {
		a := c.argv[i]
		switch {
		case eq(a, "replace"):
			replace = true
		case eq(a, "db") && i+1 < len(c.argv):
			id, ok := c.dbIndexArg(c.argv[i+1], "")
			if !ok {
				return
			}
			if id < 0 || id >= len(s.dbs) {
				c.errorReply(msgDBIndex)
				return
			}
			dstDB = s.dbs[id]
			i++
		default:
			c.syntaxErr()
			return
		}
	}
	if dstDB == c.db && bstr(src) == bstr(dst) {
		c.errorReply(msgSameObject)
		return
	}
	o, ok := c.lookupRead(src)
	if !ok {
		c.integer(0)
		return
	}
	expire := c.db.expireAt(bstr(src))
	var exists bool
	c.inDB(dstDB, func() { _, exists = c.lookupWrite(dst) })
	if exists && !replace {
		c.integer(0)
		return
	}
	n := cloneObj(o).withLRU(s.newObjClock())
	c.inDB(dstDB, func() {
		if exists {
			s.dbDelete(dstDB, bstr(dst))
		}
		c.addMovedKey(dst, n, expire)
	})
	c.dirty(1)
	c.integer(1)
}

// MOVE key db
func cmdMove(c *Client) {
	s := c.srv
	key := c.argv[1]
	id, ok := c.dbIndexArg(c.argv[2], "")
	if !ok {
		return
	}
	if id < 0 || id >= len(s.dbs) {
		c.errorReply(msgDBIndex)
		return
	}
	src, dst := c.db, s.dbs[id]
	if src == dst {
		c.errorReply(msgSameObject)
		return
	}
	o, ok := c.lookupWriteTouch(key)
	if !ok {
		c.integer(0)
		return
	}
	expire := src.expireAt(bstr(key))
	var exists bool
	c.inDB(dst, func() { _, exists = c.lookupWrite(key) })
	if exists {
		c.integer(0)
		return
	}
	c.inDB(dst, func() { c.addMovedKey(key, o, expire) })
	s.dbDelete(src, bstr(key))
	c.dirty(1)
	c.integer(1)
}

// KEYS pattern: logically expired keys are skipped but not deleted.
func cmdKeys(c *Client) {
	s, db := c.srv, c.db
	pat := string(c.argv[1])
	all := pat == "*"
	var keys []string
	db.dict.Each(func(k string, _ Obj) bool {
		if (all || globMatch(pat, k, false)) && !s.isExpired(db, k) {
			keys = append(keys, k)
		}
		return true
	})
	c.strs(keys)
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
func cmdScan(c *Client) {
	s, db := c.srv, c.db
	cursor, ok := c.scanCursor(1)
	if !ok {
		return
	}
	opts, ok := c.scanOptions(2, true)
	if !ok {
		return
	}
	typ := opts.typ
	var keys []string
	next := db.dict.Scan(cursor, opts.count, func(k string, _ Obj) {
		keys = append(keys, k)
	})
	kept := keys[:0]
	for _, k := range keys {
		if !opts.matches(k) {
			continue
		}
		if typ != nil {
			name := "none"
			if o, ok := c.lookupNoTouchStr(k); ok {
				name = o.Type().String()
			}
			if !eq(typ, name) {
				continue
			}
		}
		if s.expireIfNeeded(db, k) {
			continue
		}
		kept = append(kept, k)
	}
	c.array(2)
	c.bulkStr(strconv.FormatUint(next, 10))
	c.strs(kept)
}

// RANDOMKEY skips (and deletes) logically expired keys. Where expired keys
// are not deleted (a replica), a database of only expired keys would loop
// forever, so after 100 tries an expired key is returned, as in Redis.
func cmdRandomKey(c *Client) {
	s, db := c.srv, c.db
	allVolatile := db.dict.Len() == len(db.expires)
	for tries := 100; ; {
		k, _, ok := db.dict.Random()
		if !ok {
			c.null()
			return
		}
		if s.isExpired(db, k) {
			tries--
			if !(allVolatile && tries == 0) && s.expireIfNeeded(db, k) {
				continue
			}
		}
		c.bulkStr(k)
		return
	}
}

func cmdTouch(c *Client) {
	n := 0
	for _, k := range c.argv[1:] {
		if _, ok := c.lookupRead(k); ok {
			n++
		}
	}
	c.integer(int64(n))
}

// objEncoding is what OBJECT ENCODING answers for o.
func objEncoding(o Obj) string {
	switch o.Type() {
	case TypeList:
		return o.List().Encoding()
	case TypeSet:
		return o.Set().Encoding()
	case TypeZSet:
		return o.ZSet().Encoding()
	case TypeHash:
		return o.Hash().Encoding()
	}
	if o.isStrBuf() {
		return "raw"
	}
	n := o.StrLen()
	if n <= 20 {
		if _, ok := parseIntArg([]byte(o.Str())); ok {
			return "int"
		}
	}
	if n <= 44 {
		return "embstr"
	}
	return "raw"
}

// sharedIntegers is Redis's OBJ_SHARED_INTEGERS: small integers are shared
// objects, whose reference count OBJECT REFCOUNT shows as INT_MAX.
const sharedIntegers = 10000

// cloneObj deep-copies a value for COPY.
func cloneObj(o Obj) Obj {
	switch o.Type() {
	case TypeList:
		return listObj(o.List().Clone())
	case TypeSet:
		return setObj(o.Set().Clone())
	case TypeZSet:
		return zsetObj(o.ZSet().Clone())
	case TypeHash:
		return hashObj(o.Hash().Clone())
	}
	if o.isStrBuf() {
		// A grown string stays growable (encoding "raw").
		b := append([]byte(nil), *o.strBuf()...)
		return strBufObj(&b)
	}
	// Immutable bytes can be shared.
	return o
}

// objectLookup finds the key of an OBJECT subcommand, replying a null when
// it is missing.
func (c *Client) objectLookup() (Obj, bool) {
	o, ok := c.lookupNoTouch(c.argv[2])
	if !ok {
		c.null()
	}
	return o, ok
}

func cmdObjectEncoding(c *Client) {
	if o, ok := c.objectLookup(); ok {
		c.bulkStr(objEncoding(o))
	}
}

func cmdObjectRefcount(c *Client) {
	o, ok := c.objectLookup()
	if !ok {
		return
	}
	if o.Type() == TypeString && !o.isStrBuf() && o.StrLen() <= 20 && !c.srv.noSharedIntegers() {
		if v, ok := parseIntArg([]byte(o.Str())); ok && v >= 0 && v < sharedIntegers {
			c.integer(math.MaxInt32)
			return
		}
	}
	c.integer(1)
}

func cmdObjectIdleTime(c *Client) {
	o, ok := c.objectLookup()
	if !ok {
		return
	}
	if c.srv.lfuPolicy() {
		c.errorReply("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.integer(c.srv.idleMillis(o) / 1000)
}

func cmdObjectFreq(c *Client) {
	o, ok := c.objectLookup()
	if !ok {
		return
	}
	if !c.srv.lfuPolicy() {
		c.errorReply("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.integer(int64(c.srv.lfuDecrAndReturn(o)))
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func cmdObjectHelp(c *Client) {
	c.array(len(objectHelp))
	for _, l := range objectHelp {
		c.simple(l)
	}
}

// SWAPDB index1 index2 swaps the contents of two databases. Clients keep
// their *DB (and so their selected index, WATCHes and blocking waits), as in
// Redis, which swaps the tables and not the database slots.
func cmdSwapDB(c *Client) {
	s := c.srv
	id1, ok := c.dbIndexArg(c.argv[1], "ERR invalid first DB index")
	if !ok {
		return
	}
	id2, ok := c.dbIndexArg(c.argv[2], "ERR invalid second DB index")
	if !ok {
		return
	}
	if id1 < 0 || id1 >= len(s.dbs) || id2 < 0 || id2 >= len(s.dbs) {
		c.errorReply(msgDBIndex)
		return
	}
	if id1 != id2 {
		s.swapDBs(s.dbs[id1], s.dbs[id2])
	}
	c.dirty(1)
	c.ok()
}

// swapDBs exchanges the data of two databases: WATCHers of keys that change
// are flagged, and clients blocked on keys that now hold a list or sorted
// set are woken.
func (s *Server) swapDBs(a, b *DB) {
	s.touchWatchedReplaced(a, b)
	s.touchWatchedReplaced(b, a)
	a.dict, b.dict = b.dict, a.dict
	a.expires, b.expires = b.expires, a.expires
	a.avgTTL, b.avgTTL = b.avgTTL, a.avgTTL
	s.signalReadyBlocked(a)
	s.signalReadyBlocked(b)
}

// signalReadyBlocked marks every key of db that clients wait on and that now
// holds a list or a sorted set (Redis's scanDatabaseForReadyKeys).
func (s *Server) signalReadyBlocked(db *DB) {
	for k := range db.blocked {
		if o, ok := db.dict.Get(k); ok {
			if t := o.Type(); t == TypeList || t == TypeZSet {
				s.signalReady(db, k)
			}
		}
	}
}

// touchWatchedReplaced flags the WATCHers of emptied's keys whose value
// changes because emptied's data is dropped (FLUSHDB, FLUSHALL: replacement
// nil) or replaced by another database's (SWAPDB), with Redis 7.0's rules for
// keys that were already expired when watched. It runs before the change.
func (s *Server) touchWatchedReplaced(emptied, replacement *DB) {
	for key, clients := range emptied.watched {
		_, inEmptied := emptied.dict.Get(key)
		inReplacement := false
		if replacement != nil {
			_, inReplacement = replacement.dict.Get(key)
		}
		if !inEmptied && !inReplacement {
			continue
		}
		for _, c := range clients {
			w := c.watchedKeyOf(emptied, key)
			if w != nil && w.expiredAtWatch {
				if !inReplacement {
					// The expired key is gone: logically no change.
					w.expiredAtWatch = false
					continue
				}
				if s.isExpired(replacement, key) {
					continue // still expired
				}
			} else if w != nil && !inEmptied && s.isExpired(replacement, key) {
				// A missing key replaced by an expired one.
				w.expiredAtWatch = true
				continue
			}
			c.dirtyCAS = true
		}
	}
}

// watchedKeyOf returns c's WATCH entry for key in db.
func (c *Client) watchedKeyOf(db *DB, key string) *watchedKey {
	for i := range c.watching {
		if w := &c.watching[i]; w.db == db && w.key == key {
			return w
		}
	}
	return nil
}

func cmdDBSize(c *Client) { c.integer(int64(c.db.Size())) }

// flushArgs checks FLUSHDB's and FLUSHALL's optional ASYNC|SYNC. Both free
// at once: dropping the tables is O(1) and the garbage collector does the
// rest in the background.
func (c *Client) flushArgs() bool {
	if len(c.argv) == 1 || len(c.argv) == 2 && (eq(c.argv[1], "sync") || eq(c.argv[1], "async")) {
		return true
	}
	c.syntaxErr()
	return false
}

// flushDB empties db and returns how many keys it held.
func (s *Server) flushDB(db *DB) int {
	n := db.dict.Len()
	s.touchWatchedReplaced(db, nil)
	db.dict = NewDict()
	db.expires = map[string]int64{}
	db.avgTTL = 0
	return n
}

// FLUSHDB and FLUSHALL propagate as given even when there was nothing to
// flush, as Redis 7.0's forceCommandPropagation makes them.
func cmdFlushDB(c *Client) {
	if !c.flushArgs() {
		return
	}
	c.dirty(c.srv.flushDB(c.db))
	c.forcePropagate()
	c.ok()
}

func cmdFlushAll(c *Client) {
	if !c.flushArgs() {
		return
	}
	n := 0
	for _, db := range c.srv.dbs {
		n += c.srv.flushDB(db)
	}
	c.dirty(n)
	// As in Redis, a running BGSAVE is pointless now, and with save points
	// set the empty dataset is saved at once. The command is propagated
	// even when there was nothing to flush.
	s := c.srv
	if s.persist.snapKind == childRDB {
		s.abortChild()
	}
	if s.cfg.Save != "" {
		s.saveRDB()
	}
	c.forcePropagate()
	c.ok()
}
