package backend

import (
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const ktOOM = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

// ktSetMaxmemory changes the limit and policy under the executor lock (the
// runtime's memory limit is left alone: it is process-wide).
func ktSetMaxmemory(s *Server, limit int64, policy string) {
	s.mu.Lock()
	s.cfg.MaxMemory = limit
	s.cfg.MaxMemoryPolicy = policy
	s.mu.Unlock()
}

func ktEvicted(s *Server) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.evictedKeys
}

// Over the limit with noeviction (or a volatile policy and no volatile
// keys), commands that may grow memory get -OOM; reads and deletions still
// run. The replies are the bytes Redis 7.0 sends.
func TestEvictOOMReplies(t *testing.T) {
	for _, policy := range []string{"noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			s := startTestServer(t, nil)
			k := dialTest(t, s.Addr().String())
			ktRun(k, []ktStep{{"set a 1", ktOK}})
			ktSetMaxmemory(s, 1, policy)
			ktRun(k, []ktStep{
				{"set b 2", ktOOM},
				{"append a x", ktOOM},
				{"rpush l x", ktOOM},
				{"get a", ktBulk("1")},
				{"exists a b", ktOne},
				{"del a", ktOne},
				{"set b 2", ktOOM},
			})
			if n := ktEvicted(s); n != 0 {
				t.Errorf("evicted_keys = %d under %s", n, policy)
			}
			ktSetMaxmemory(s, 0, "noeviction")
			ktRun(k, []ktStep{{"set b 2", ktOK}})
		})
	}
}

// Writing well past maxmemory under an allkeys policy keeps every write
// succeeding by evicting keys.
func TestEvictAllKeysPolicies(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random"} {
		t.Run(policy, func(t *testing.T) {
			s := startTestServer(t, nil)
			k := dialTest(t, s.Addr().String())
			runtime.GC() // earlier tests' garbage must not count in the base
			s.mu.Lock()
			base := s.usedMemory()
			s.mu.Unlock()
			ktSetMaxmemory(s, base+2<<20, policy)
			const n = 12000 // about 12MB of values
			if bad := ktPipelineSets(t, k, n, 1000); bad != "" {
				s.mu.Lock()
				size, used := s.dbs[0].Size(), s.usedMemory()
				s.mu.Unlock()
				t.Fatalf("SET under %s: %q (dbsize %d, evicted %d, used %d, limit %d)", policy, bad, size, ktEvicted(s), used, base+2<<20)
			}
			// Garbage can hide the excess for a few milliseconds (until the
			// next collection); later writes see it.
			var size int
			for i := 0; i < 50; i++ {
				time.Sleep(20 * time.Millisecond)
				if got := k.do("set", "last", "v"); got != ktOK {
					t.Fatalf("SET last: %q", got)
				}
				s.mu.Lock()
				size = s.dbs[0].Size()
				s.mu.Unlock()
				if size < n/2 {
					break
				}
			}
			evicted := ktEvicted(s)
			if evicted == 0 {
				t.Fatalf("no key evicted (dbsize %d)", size)
			}
			// Every key written is either there or evicted ("last" is
			// written up to 50 times and may be evicted in between).
			if total := int64(size) + evicted; total < n+1 || total > n+50 {
				t.Errorf("dbsize %d + evicted %d for %d keys written", size, evicted, n+1)
			}
			if size >= n/2 {
				t.Errorf("dbsize %d: the limit did not hold", size)
			}
		})
	}
}

// ktFill writes keys straight into db 0 under the lock, with an access
// clock ageSecs seconds in the past.
func ktFill(s *Server, prefix string, n int, ageSecs uint32, ttlMs int64) {
	db := s.dbs[0]
	clk := (s.lruClock() - ageSecs) & lruMax
	for i := 0; i < n; i++ {
		k := prefix + strconv.Itoa(i)
		db.dict.Set(k, StrObj(strings.Repeat("v", 100)).withLRU(clk))
		if ttlMs > 0 {
			db.expires[k] = s.now + ttlMs
		}
	}
}

func ktCount(s *Server, prefix string, n int) int {
	c := 0
	for i := 0; i < n; i++ {
		if _, ok := s.dbs[0].dict.Get(prefix + strconv.Itoa(i)); ok {
			c++
		}
	}
	return c
}

// evictOnce sets maxmemory just under the current usage and evicts.
func ktEvictOnce(t *testing.T, s *Server, policy string, toFree int64) bool {
	t.Helper()
	runtime.GC() // the heap is then live data, as performEvictions will find it
	st := s.evictState()
	st.refresh(s.now, true)
	s.cfg.MaxMemoryPolicy = policy
	s.cfg.MaxMemory = max(1, st.used()-toFree)
	// No collection inside performEvictions: the heap was just collected,
	// and other tests' garbage must not make the excess vanish.
	st.lastSync, st.syncDur = time.Now(), time.Hour
	ok := s.performEvictions()
	st.lastSync, st.syncDur = time.Time{}, 0
	s.cfg.MaxMemory = 0
	return ok
}

// The sampled policies pick the worst candidates: the keys idle longest
// (LRU), the nearest expiry (volatile-ttl), only volatile keys (volatile-*).
func TestEvictPolicyChoosesCandidates(t *testing.T) {
	const n = 2000
	cases := []struct {
		name   string
		policy string
		setup  func(s *Server)
		check  func(t *testing.T, s *Server)
	}{
		{"allkeys-lru evicts idle keys", "allkeys-lru",
			func(s *Server) { ktFill(s, "old", n, 1000, 0); ktFill(s, "hot", n, 0, 0) },
			func(t *testing.T, s *Server) {
				oldGone, hotGone := n-ktCount(s, "old", n), n-ktCount(s, "hot", n)
				if oldGone == 0 || hotGone*10 > oldGone {
					t.Errorf("evicted %d idle and %d recent keys", oldGone, hotGone)
				}
			}},
		{"volatile-lru evicts only volatile keys", "volatile-lru",
			func(s *Server) { ktFill(s, "vol", n, 0, 100000); ktFill(s, "per", n, 1000, 0) },
			func(t *testing.T, s *Server) {
				if ktCount(s, "per", n) != n || ktCount(s, "vol", n) == n {
					t.Errorf("persistent left %d, volatile left %d", ktCount(s, "per", n), ktCount(s, "vol", n))
				}
			}},
		{"volatile-random evicts only volatile keys", "volatile-random",
			func(s *Server) { ktFill(s, "vol", n, 0, 100000); ktFill(s, "per", n, 0, 0) },
			func(t *testing.T, s *Server) {
				if ktCount(s, "per", n) != n || ktCount(s, "vol", n) == n {
					t.Errorf("persistent left %d, volatile left %d", ktCount(s, "per", n), ktCount(s, "vol", n))
				}
			}},
		{"volatile-ttl evicts the nearest expiry", "volatile-ttl",
			func(s *Server) { ktFill(s, "soon", n, 0, 10000); ktFill(s, "late", n, 0, 10000000) },
			func(t *testing.T, s *Server) {
				soonGone, lateGone := n-ktCount(s, "soon", n), n-ktCount(s, "late", n)
				if soonGone == 0 || lateGone*10 > soonGone {
					t.Errorf("evicted %d near and %d far expiries", soonGone, lateGone)
				}
			}},
		{"allkeys-lfu evicts rarely used keys", "allkeys-lfu",
			func(s *Server) {
				ktFill(s, "old", n, 0, 0)
				ktFill(s, "hot", n, 0, 0)
				db := s.dbs[0]
				now := lfuMinutes(s.now) << 8
				for i := 0; i < n; i++ {
					k := "old" + strconv.Itoa(i)
					o, _ := db.dict.Get(k)
					db.dict.Replace(k, o.withLRU(now|1))
					k = "hot" + strconv.Itoa(i)
					o, _ = db.dict.Get(k)
					db.dict.Replace(k, o.withLRU(now|200))
				}
			},
			func(t *testing.T, s *Server) {
				oldGone, hotGone := n-ktCount(s, "old", n), n-ktCount(s, "hot", n)
				if oldGone == 0 || hotGone*10 > oldGone {
					t.Errorf("evicted %d rare and %d frequent keys", oldGone, hotGone)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startTestServer(t, nil)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.now = time.Now().UnixMilli()
			tc.setup(s)
			if !ktEvictOnce(t, s, tc.policy, 100<<10) {
				t.Fatal("performEvictions reported failure")
			}
			if s.stats.evictedKeys == 0 {
				t.Fatal("nothing evicted")
			}
			tc.check(t, s)
		})
	}
}

// A volatile policy with no volatile keys cannot free anything.
func TestEvictNothingToEvict(t *testing.T) {
	s := startTestServer(t, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = time.Now().UnixMilli()
	ktFill(s, "per", 100, 0, 0)
	for _, p := range []string{"volatile-lru", "volatile-lfu", "volatile-ttl", "volatile-random", "noeviction"} {
		if ktEvictOnce(t, s, p, 1<<40) {
			t.Errorf("%s: performEvictions succeeded with nothing to evict", p)
		}
	}
	if s.stats.evictedKeys != 0 || s.dbs[0].Size() != 100 {
		t.Errorf("evicted %d, %d keys left", s.stats.evictedKeys, s.dbs[0].Size())
	}
	if !ktEvictOnce(t, s, "allkeys-random", -1<<30) {
		t.Error("under the limit must succeed")
	}
}

// An eviction touches WATCHers, like any deletion.
func TestEvictTouchesWatchers(t *testing.T) {
	s := startTestServer(t, nil)
	k := dialTest(t, s.Addr().String())
	ktRun(k, []ktStep{{"set w 1", ktOK}, {"watch w", ktOK}})
	s.mu.Lock()
	s.evictKey(s.dbs[0], "w")
	evicted := s.stats.evictedKeys
	s.mu.Unlock()
	if evicted != 1 {
		t.Errorf("evicted_keys = %d", evicted)
	}
	ktRun(k, []ktStep{{"multi", ktOK}, {"ping", "+QUEUED\r\n"}, {"exec", "*-1\r\n"}, {"exists w", ktZero}})
}

func TestEvictPoolInsert(t *testing.T) {
	var st evictState
	// Fill with idle 10, 20, ... 160 in a scrambled order.
	for _, i := range []int{5, 3, 16, 1, 8, 12, 2, 7, 9, 15, 4, 6, 11, 14, 10, 13} {
		st.poolInsert(uint64(i*10), "k"+strconv.Itoa(i), 0)
	}
	for i := 0; i < evpoolSize; i++ {
		if e := st.pool[i]; !e.used || e.idle != uint64((i+1)*10) {
			t.Fatalf("pool[%d] = %+v", i, e)
		}
	}
	// Worse than everything in a full pool: dropped.
	st.poolInsert(5, "worse", 0)
	if st.pool[0].key != "k1" {
		t.Errorf("a worse candidate entered the full pool: %+v", st.pool[0])
	}
	// Better than everything: the worst entry makes room.
	st.poolInsert(1000, "best", 0)
	if st.pool[evpoolSize-1].key != "best" || st.pool[0].key != "k2" {
		t.Errorf("pool ends %+v .. %+v", st.pool[0], st.pool[evpoolSize-1])
	}
	// In the middle.
	st.poolInsert(55, "mid", 0)
	for i := 1; i < evpoolSize; i++ {
		if st.pool[i-1].idle > st.pool[i].idle {
			t.Fatalf("pool out of order at %d", i)
		}
	}
}

func TestEvictAllocSize(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want int64
	}{
		{0, 0}, {5, 5}, {16, 16}, {17, 24}, {33, 48}, {1000, 1024}, {1025, 1152},
		{32768, 32768}, {32769, 40960},
	} {
		if got := allocSize(tc.n); got != tc.want {
			t.Errorf("allocSize(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestEvictLFUCounter(t *testing.T) {
	s := startTestServer(t, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = time.Now().UnixMilli()
	s.cfg.MaxMemoryPolicy = "allkeys-lfu"
	o := StrObj("x").withLRU(s.newObjClock())
	if got := s.lfuDecrAndReturn(o); got != lfuInitVal {
		t.Fatalf("new value counter %d", got)
	}
	o = s.touchObj(o)
	if got := s.lfuDecrAndReturn(o); got != lfuInitVal+1 {
		t.Fatalf("after one access counter %d", got)
	}
	for i := 0; i < 100000; i++ {
		o = s.touchObj(o)
	}
	if got := s.lfuDecrAndReturn(o); got < 10 || got > 255 {
		t.Errorf("after 100000 accesses counter %d", got)
	}
	// Decay: one step per lfu-decay-time minutes since the last decrement.
	old := o.withLRU((lfuMinutes(s.now)-3)&65535<<8 | 20)
	if got := s.lfuDecrAndReturn(old); got != 17 {
		t.Errorf("decayed counter %d, want 17", got)
	}
	s.cfg.MaxMemoryPolicy = "noeviction"
	if s.lfuPolicy() {
		t.Error("noeviction is not LFU")
	}
	if idle := s.idleMillis(StrObj("x").withLRU((s.lruClock() - 7) & lruMax)); idle != 7000 {
		t.Errorf("idle %d ms", idle)
	}
	if idle := s.idleMillis(StrObj("x").withLRU((s.lruClock() + 1) & lruMax)); idle < 0 || idle > math.MaxInt32*1000 {
		t.Errorf("wrapped idle %d", idle)
	}
}

// usedMemory follows the heap and drops by the estimate of evicted bytes.
func TestEvictUsedMemoryAccounting(t *testing.T) {
	s := startTestServer(t, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.evictState()
	st.refresh(s.now, true)
	before := st.used()
	if before <= 0 {
		t.Fatalf("used memory %d", before)
	}
	ktFill(s, "big", 20000, 0, 0)
	st.refresh(s.now, true)
	if grown := st.used() - before; grown < 1<<20 {
		t.Errorf("used memory grew by %d bytes for 20000 keys", grown)
	}
	cycles := st.cycles
	st.freedSinceGC = 0
	o, _ := s.dbs[0].dict.Get("big1")
	est := entryMemUsage(s.dbs[0], "big1", o)
	if est < 100 {
		t.Errorf("entry estimate %d", est)
	}
	usedBefore := st.used()
	st.freedSinceGC += est
	if st.cycles == cycles && st.used() != usedBefore-est {
		t.Errorf("used %d, want %d", st.used(), usedBefore-est)
	}
}

// ktPipelineSets writes n keys of size bytes in pipelined batches, making
// little garbage on the client side (the client shares the server's heap),
// and returns the first reply that is not +OK.
func ktPipelineSets(t *testing.T, k *testConn, n, size int) string {
	t.Helper()
	val := strings.Repeat("x", size)
	var buf []byte
	for i := 0; i < n; i += 100 {
		buf = buf[:0]
		m := min(100, n-i)
		for j := i; j < i+m; j++ {
			key := "key:" + strconv.Itoa(j)
			buf = append(buf, "*3\r\n$3\r\nSET\r\n$"...)
			buf = strconv.AppendInt(buf, int64(len(key)), 10)
			buf = append(buf, "\r\n"...)
			buf = append(buf, key...)
			buf = append(buf, "\r\n$"...)
			buf = strconv.AppendInt(buf, int64(size), 10)
			buf = append(buf, "\r\n"...)
			buf = append(buf, val...)
			buf = append(buf, "\r\n"...)
		}
		if _, err := k.conn.Write(buf); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < m; j++ {
			line, err := k.r.ReadSlice('\n')
			if err != nil {
				t.Fatal(err)
			}
			if string(line) != ktOK {
				return string(line)
			}
		}
	}
	return ""
}
