package backend

import (
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"time"
)

// maxmemory: memory accounting, eviction, and the LRU/LFU access clocks.
//
// Used memory comes from runtime/metrics, read at most once per millisecond
// of command clock: the bytes live at the end of the last collection plus
// the bytes allocated since (at most the heap's bytes in objects, which
// also counts garbage not yet swept). A key deleted by eviction stays in
// that figure until the next collection, so the bytes evicted since the
// last completed cycle are estimated and subtracted; the estimate restarts
// when the cycle count moves. Other garbage (overwritten values, deleted keys) would make
// the figure too high and evict too much, so when memory is over the limit
// the heap is first collected: at once while it is small (a few
// milliseconds, at most about 5% of the time), in the background otherwise
// (one collection at a time, at most about 10% of the time).
//
// Eviction samples keys as Redis does: maxmemory-samples keys of every
// database feed a pool of the 16 best candidates, and the best one still
// present is deleted, until the estimated bytes freed cover the excess or
// about half a millisecond has passed.

const (
	evpoolSize = 16
	lfuInitVal = 5
	// Go map slot for a string key and an Obj (16+16 bytes at 7/8 load,
	// plus a control byte), and for an expires entry (16+8).
	dictEntryOverhead    = 40
	expiresEntryOverhead = 32
)

// evictState is a server's memory accounting and eviction pool; it is only
// touched under the executor lock.
type evictState struct {
	// Runtime figures: heap bytes in objects, completed GC cycles, bytes
	// live at the end of the last cycle's mark, bytes allocated ever.
	samples []metrics.Sample
	readAt  int64 // s.now of the last read
	heap    int64
	cycles  uint64
	live    int64
	allocs  int64
	// allocsAtGC is allocs when the current cycle count was first seen.
	allocsAtGC int64
	// freedSinceGC estimates the bytes of evicted keys that the last
	// completed collection has not freed; freedSinceRead is the part
	// evicted since the last read.
	freedSinceGC   int64
	freedSinceRead int64

	pool   [evpoolSize]poolEntry
	nextDB int // round-robin start for the random policies

	gcRunning atomic.Bool
	gcDur     atomic.Int64  // nanoseconds the last background collection took
	lastGC    time.Time     // when the last background collection was started
	lastSync  time.Time     // when the last collectNow ended
	syncDur   time.Duration // how long it took
}

// poolEntry is an eviction candidate; a larger idle is a better one.
type poolEntry struct {
	idle uint64
	key  string
	db   int
	used bool
}

func (s *Server) evictState() *evictState { return &s.evict }

func sampleInt(v metrics.Value) int64 {
	if v.Kind() == metrics.KindUint64 {
		return int64(v.Uint64())
	}
	return 0
}

// refresh reads the runtime's heap figures, unless they were read during the
// same millisecond (force reads anyway).
func (st *evictState) refresh(now int64, force bool) {
	if st.samples == nil {
		st.samples = []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/gc/cycles/total:gc-cycles"},
			{Name: "/gc/heap/live:bytes"},
			{Name: "/gc/heap/allocs:bytes"},
		}
	} else if !force && st.readAt == now {
		return
	}
	metrics.Read(st.samples)
	st.readAt = now
	st.heap = sampleInt(st.samples[0].Value)
	st.live = sampleInt(st.samples[2].Value)
	st.allocs = sampleInt(st.samples[3].Value)
	if c := uint64(sampleInt(st.samples[1].Value)); c != st.cycles {
		// A collection ended: what was evicted before the previous read is
		// freed; keys evicted since may have been marked live.
		st.cycles = c
		st.allocsAtGC = st.allocs
		st.freedSinceGC = st.freedSinceRead
	}
	st.freedSinceRead = 0
}

// used is the estimated used memory from the last read: the bytes live at
// the last collection plus those allocated since (the heap figure counts
// garbage not yet swept too), less the bytes of keys evicted since.
func (st *evictState) used() int64 {
	u := st.heap
	if st.cycles > 0 {
		u = min(u, st.live+st.allocs-st.allocsAtGC)
	}
	u -= st.freedSinceGC
	if u < 0 {
		u = 0
	}
	return u
}

// certain is a lower bound of used memory: the bytes live at the end of the
// last collection less those evicted since (nothing before the first
// collection).
func (st *evictState) certain() int64 {
	if st.cycles == 0 {
		return 0
	}
	return max(0, st.live-st.freedSinceGC)
}

// noteFreed records the estimated size of an evicted key.
func (st *evictState) noteFreed(n int64) {
	st.freedSinceGC += n
	st.freedSinceRead += n
}

// usedMemory is the server's used memory in bytes (INFO's used_memory).
func (s *Server) usedMemory() int64 {
	st := s.evictState()
	st.refresh(s.now, false)
	return st.used()
}

// syncGCMaxHeap is the largest heap collected while commands wait: a
// collection of a heap that size takes a few milliseconds.
const syncGCMaxHeap = 64 << 20

// collectNow runs a garbage collection while commands wait, so that the heap
// figure is the live data, if the heap is small and collections have taken
// at most about 5% of the time; it reports whether it ran.
func (st *evictState) collectNow(now int64) bool {
	if st.heap > syncGCMaxHeap || st.gcRunning.Load() {
		return false
	}
	gap := 20 * st.syncDur
	if gap < 10*time.Millisecond {
		gap = 10 * time.Millisecond
	}
	t := time.Now()
	if !st.lastSync.IsZero() && t.Sub(st.lastSync) < gap {
		return false
	}
	runtime.GC()
	st.lastSync = time.Now()
	st.syncDur = st.lastSync.Sub(t)
	st.refresh(now, true)
	// Every key evicted so far was garbage for that collection.
	st.freedSinceGC = 0
	return true
}

// collectSoon starts a garbage collection in the background so that garbage
// stops counting as used memory. At most one runs at a time, and a new one
// starts no sooner than 100ms, or ten times the last one's duration, after
// the previous start.
func (st *evictState) collectSoon() {
	if st.gcRunning.Load() {
		return
	}
	gap := 10 * time.Duration(st.gcDur.Load())
	if gap < 100*time.Millisecond {
		gap = 100 * time.Millisecond
	}
	now := time.Now()
	if !st.lastGC.IsZero() && now.Sub(st.lastGC) < gap {
		return
	}
	st.lastGC = now
	st.gcRunning.Store(true)
	go func() {
		start := time.Now()
		runtime.GC()
		st.gcDur.Store(int64(time.Since(start)))
		st.gcRunning.Store(false)
	}()
}

// Eviction policies, decoded from maxmemory-policy.
type evictPolicy uint8

const (
	policyNoEviction evictPolicy = iota
	policyLRU
	policyLFU
	policyTTL
	policyRandom
)

// evictionPolicy returns the policy kind and whether it picks among all
// keys (allkeys-*) rather than the keys with a TTL (volatile-*).
func (s *Server) evictionPolicy() (evictPolicy, bool) {
	switch s.cfg.MaxMemoryPolicy {
	case "allkeys-lru":
		return policyLRU, true
	case "volatile-lru":
		return policyLRU, false
	case "allkeys-lfu":
		return policyLFU, true
	case "volatile-lfu":
		return policyLFU, false
	case "allkeys-random":
		return policyRandom, true
	case "volatile-random":
		return policyRandom, false
	case "volatile-ttl":
		return policyTTL, false
	}
	return policyNoEviction, false
}

// performEvictions frees memory when used memory is over maxmemory, as the
// policy allows. It returns false when memory is still over the limit and
// nothing more could be evicted: the caller then refuses commands that may
// grow memory with -OOM.
func (s *Server) performEvictions() bool {
	limit := s.cfg.MaxMemory
	if limit <= 0 {
		return true
	}
	st := s.evictState()
	st.refresh(s.now, false)
	used := st.used()
	if used <= limit {
		return true
	}
	// What was allocated since the last collection may be garbage. Learn
	// the live size when a collection is cheap; otherwise start one for the
	// next commands, and until it ends act only on what is certainly used.
	if st.collectNow(s.now) {
		used = st.used()
	} else {
		st.collectSoon()
		used = st.certain()
	}
	if used <= limit {
		return true
	}
	policy, allKeys := s.evictionPolicy()
	if policy == policyNoEviction {
		return false
	}
	toFree := used - limit
	budget := s.evictionTimeLimit()
	start := time.Now()
	var freed int64
	for n := 1; freed < toFree; n++ {
		db, key, ok := s.evictionCandidate(st, policy, allKeys)
		if !ok {
			return false
		}
		o, _ := db.dict.Get(key)
		size := entryMemUsage(db, key, o)
		s.evictKey(db, key)
		freed += size
		st.noteFreed(size)
		if n%16 == 0 && time.Since(start) > budget {
			// Enough for one command; the next one carries on.
			break
		}
	}
	return true
}

// evictKey deletes key from db as an eviction. Every eviction goes through
// here, so that it can be propagated as a DEL.
func (s *Server) evictKey(db *DB, key string) {
	if s.dbDelete(db, key) {
		s.propagateDel(db.id, key)
		s.stats.evictedKeys++
	}
}

// evictionTimeLimit is how long one performEvictions may evict, from
// maxmemory-eviction-tenacity as Redis computes it (500us by default).
func (s *Server) evictionTimeLimit() time.Duration {
	t := int64(10)
	if v, ok := s.cfg.other["maxmemory-eviction-tenacity"]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n <= 100 {
			t = n
		}
	}
	if t <= 10 {
		return time.Duration(50*t) * time.Microsecond
	}
	if t < 100 {
		return time.Duration(500*math.Pow(1.15, float64(t-10))) * time.Microsecond
	}
	return time.Duration(math.MaxInt64)
}

// evictionCandidate picks the next key to evict, or reports that there is
// none.
func (s *Server) evictionCandidate(st *evictState, policy evictPolicy, allKeys bool) (*DB, string, bool) {
	if policy == policyRandom {
		for range s.dbs {
			st.nextDB++
			db := s.dbs[st.nextDB%len(s.dbs)]
			if allKeys {
				if k, _, ok := db.dict.Random(); ok {
					return db, k, true
				}
				continue
			}
			for k := range db.expires {
				return db, k, true
			}
		}
		return nil, "", false
	}
	// Every pass samples live keys into the pool, so a pass finds one; the
	// bound only guards against an inconsistent keyspace.
	for pass := 0; pass < 100; pass++ {
		total := 0
		for i, db := range s.dbs {
			n := len(db.expires)
			if allKeys {
				n = db.dict.Len()
			}
			if n > 0 {
				s.evictionPoolPopulate(st, i, db, policy, allKeys)
				total += n
			}
		}
		if total == 0 {
			return nil, "", false
		}
		// From the best candidate down; entries whose key has gone since
		// they were sampled are dropped.
		for k := evpoolSize - 1; k >= 0; k-- {
			e := &st.pool[k]
			if !e.used {
				continue
			}
			db, key := s.dbs[e.db], e.key
			*e = poolEntry{}
			var found bool
			if allKeys {
				_, found = db.dict.Get(key)
			} else {
				_, found = db.expires[key]
			}
			if found {
				return db, key, true
			}
		}
	}
	return nil, "", false
}

// evictionPoolPopulate samples maxmemory-samples keys of db into the pool.
func (s *Server) evictionPoolPopulate(st *evictState, dbIndex int, db *DB, policy evictPolicy, allKeys bool) {
	n := s.cfg.MaxMemorySamples
	if n < 1 {
		n = 5
	}
	score := func(key string, o Obj, expireAt int64) {
		var idle uint64
		switch policy {
		case policyLRU:
			idle = uint64(s.idleMillis(o))
		case policyLFU:
			idle = 255 - uint64(s.lfuDecrAndReturn(o))
		case policyTTL:
			idle = math.MaxUint64 - uint64(expireAt)
		}
		st.poolInsert(idle, key, dbIndex)
	}
	if allKeys {
		db.dict.Sample(n, func(key string, o Obj) bool {
			score(key, o, 0)
			return true
		})
		return
	}
	// Go starts a map iteration at a random place: the first n entries are
	// a random run of the volatile keys.
	i := 0
	for key, at := range db.expires {
		if i >= n {
			break
		}
		i++
		o, ok := db.dict.Get(key)
		if !ok {
			continue
		}
		score(key, o, at)
	}
}

// poolInsert puts a candidate in the pool, kept sorted by ascending idle, as
// Redis's evictionPoolPopulate does: when the pool is full the worst entry
// makes room, and a candidate worse than all of a full pool is dropped.
func (st *evictState) poolInsert(idle uint64, key string, db int) {
	p := &st.pool
	k := 0
	for k < evpoolSize && p[k].used && p[k].idle < idle {
		k++
	}
	if k == 0 && p[evpoolSize-1].used {
		return
	}
	if k < evpoolSize && !p[k].used {
		// An empty slot.
	} else if !p[evpoolSize-1].used {
		copy(p[k+1:], p[k:evpoolSize-1])
	} else {
		k--
		copy(p[:k], p[1:k+1])
	}
	p[k] = poolEntry{idle: idle, key: key, db: db, used: true}
}

// Memory estimates.

// allocSize rounds a heap allocation up to the Go allocator's size class.
func allocSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n < 16 {
		// Small pointer-free objects share 16-byte blocks.
		return int64(n)
	}
	if n > 32768 {
		return int64((n + 8191) &^ 8191)
	}
	lo, hi := 0, len(sizeClasses)-1
	for lo < hi {
		m := (lo + hi) / 2
		if int(sizeClasses[m]) >= n {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return int64(sizeClasses[lo])
}

var sizeClasses = [...]uint16{
	16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240,
	256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024,
	1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096,
	4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288,
	13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
}

// objMemUsage estimates the bytes a value holds.
func objMemUsage(o Obj) int64 {
	switch o.Type() {
	case TypeList:
		return o.List().MemUsage()
	case TypeSet:
		return o.Set().MemUsage()
	case TypeZSet:
		return o.ZSet().MemUsage()
	case TypeHash:
		return o.Hash().MemUsage()
	}
	if o.isStrBuf() {
		return 24 + allocSize(cap(*o.strBuf()))
	}
	return allocSize(o.StrLen())
}

// entryMemUsage estimates the bytes that deleting key from db frees.
func entryMemUsage(db *DB, key string, o Obj) int64 {
	n := objMemUsage(o) + allocSize(len(key)) + dictEntryOverhead
	if _, ok := db.expires[key]; ok {
		n += expiresEntryOverhead + allocSize(len(key))
	}
	return n
}

// Access clocks. Each value keeps 24 bits of access information, as Redis's
// robj.lru: under an LRU (or non-LFU) policy the seconds clock of the last
// access; under an LFU policy the minutes of the last decrement (16 bits) and
// a logarithmic access counter (8 bits).

// lfuPolicy reports whether maxmemory-policy is an LFU one.
func (s *Server) lfuPolicy() bool {
	p := s.cfg.MaxMemoryPolicy
	return p == "allkeys-lfu" || p == "volatile-lfu"
}

// noSharedIntegers reports whether Redis would stop sharing small integer
// values (maxmemory with an LRU or LFU policy needs a clock per value).
func (s *Server) noSharedIntegers() bool {
	if s.cfg.MaxMemory == 0 {
		return false
	}
	p, _ := s.evictionPolicy()
	return p == policyLRU || p == policyLFU
}

// newObjClock is the access information of a value created now.
func (s *Server) newObjClock() uint32 {
	if s.lfuPolicy() {
		return lfuMinutes(s.now)<<8 | lfuInitVal
	}
	return s.lruClock()
}

// touchObj returns o with its access information updated for an access now.
func (s *Server) touchObj(o Obj) Obj {
	if s.lfuPolicy() {
		c := s.lfuLogIncr(s.lfuDecrAndReturn(o))
		return o.withLRU(lfuMinutes(s.now)<<8 | c)
	}
	if clk := s.lruClock(); o.LRU() != clk {
		return o.withLRU(clk)
	}
	return o
}

// idleMillis is Redis's estimateObjectIdleTime: the time since the last
// access, in milliseconds at one-second resolution.
func (s *Server) idleMillis(o Obj) int64 {
	clk, l := s.lruClock(), o.LRU()
	if clk >= l {
		return int64(clk-l) * 1000
	}
	return int64(clk+(lruMax-l)) * 1000
}

func lfuMinutes(nowMs int64) uint32 { return uint32(nowMs/60000) & 65535 }

// lfuParam reads an integer directive with a default.
func (s *Server) lfuParam(name string, def int64) int64 {
	if v, ok := s.cfg.other[name]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return n
		}
	}
	return def
}

// lfuDecrAndReturn is the access counter of o after the decay for the
// minutes since its last decrement (lfu-decay-time minutes per step).
func (s *Server) lfuDecrAndReturn(o Obj) uint32 {
	ldt, counter := o.LRU()>>8, o.LRU()&255
	decay := s.lfuParam("lfu-decay-time", 1)
	if decay == 0 {
		return counter
	}
	now := lfuMinutes(s.now)
	var elapsed uint32
	if now >= ldt {
		elapsed = now - ldt
	} else {
		elapsed = 65535 - ldt + now
	}
	periods := int64(elapsed) / decay
	if periods >= int64(counter) {
		return 0
	}
	return counter - uint32(periods)
}

// lfuLogIncr increments an access counter with a probability that falls as
// it grows (lfu-log-factor), saturating at 255.
func (s *Server) lfuLogIncr(counter uint32) uint32 {
	if counter >= 255 {
		return 255
	}
	base := float64(counter) - lfuInitVal
	if base < 0 {
		base = 0
	}
	p := 1.0 / (base*float64(s.lfuParam("lfu-log-factor", 10)) + 1)
	if rand.Float64() < p {
		counter++
	}
	return counter
}
