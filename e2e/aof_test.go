package e2e

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestAOFCrashKeepsAcknowledgedWrites: with appendonly yes, under every
// appendfsync policy, a server killed with SIGKILL in the middle of a
// write load restarts with every write it acknowledged, and transactions
// whole: the page cache survives a killed process, and lagwise writes each
// batch to the AOF before it replies.
func TestAOFCrashKeepsAcknowledgedWrites(t *testing.T) {
	if againstRedis() {
		t.Skip("checks lagwise's AOF")
	}
	for _, policy := range []string{"always", "everysec", "no"} {
		t.Run(policy, func(t *testing.T) {
			dir := t.TempDir()
			s := startLagwiseIn(t, dir, "--appendonly", "yes", "--appendfsync", policy)
			const writers = 4
			acked := make([]int, writers)
			var wg sync.WaitGroup
			for w := range writers {
				c, err := dial(s.addr)
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					counter, list := fmt.Sprintf("c:%d", w), fmt.Sprintf("l:%d", w)
					for i := 1; ; i++ {
						for _, cmd := range [][]string{{"MULTI"}, {"INCR", counter}, {"RPUSH", list, strconv.Itoa(i)}, {"EXEC"}} {
							if err := c.send(toBytes(cmd)); err != nil {
								return
							}
						}
						var last *reply
						for range 4 {
							r, err := c.read()
							if err != nil {
								return
							}
							last = r
						}
						if !last.isArray() {
							t.Errorf("EXEC: %s", last)
							return
						}
						acked[w] = i
					}
				}()
			}
			time.Sleep(700 * time.Millisecond)
			s.stop() // SIGKILL
			wg.Wait()

			s2 := startLagwiseIn(t, dir, "--appendonly", "yes")
			c := s2.connect(t)
			for w := range writers {
				n, _ := strconv.Atoi(string(must(t, c, "GET", fmt.Sprintf("c:%d", w)).data))
				llen := must(t, c, "LLEN", fmt.Sprintf("l:%d", w))
				if acked[w] == 0 {
					t.Fatalf("writer %d had nothing acknowledged; the test proves nothing", w)
				}
				if n < acked[w] || n > acked[w]+1 {
					t.Errorf("writer %d: counter %d after the restart, %d acknowledged", w, n, acked[w])
				}
				if llen.String() != strconv.Quote(":"+strconv.Itoa(n)+"\r\n") {
					t.Errorf("writer %d: list length %s, counter %d: a transaction was split", w, llen, n)
				}
			}
		})
	}
}

// TestAOFCrashDuringRewrite: a server killed at any moment of a
// BGREWRITEAOF restarts with exactly the dataset it had: the manifest
// names either the old files or the new ones, never a half-written base.
func TestAOFCrashDuringRewrite(t *testing.T) {
	if againstRedis() {
		t.Skip("checks lagwise's AOF")
	}
	dir := t.TempDir()
	s := startLagwiseIn(t, dir, "--appendonly", "yes")
	c := s.connect(t)
	// DEBUG POPULATE is not propagated (as in Redis): a rewrite puts it in
	// the base.
	must(t, c, "DEBUG", "POPULATE", "200000", "key", "64")
	must(t, c, "BGREWRITEAOF")
	waitRewrite(t, c)
	buildDataset(t, c)
	want := digest(t, c)
	start := time.Now()
	must(t, c, "BGREWRITEAOF")
	waitRewrite(t, c)
	rewriteTime := time.Since(start)
	s.stop()

	for i, f := range []float64{0, 0, 0.2, 0.5, 0.8, 1.2} {
		s := startLagwiseIn(t, dir, "--appendonly", "yes")
		c := s.connect(t)
		if got := digest(t, c); got != want {
			t.Fatalf("round %d: the dataset after a restart has digest %s, want %s", i, got, want)
		}
		must(t, c, "BGREWRITEAOF")
		time.Sleep(time.Duration(f * float64(rewriteTime)))
		s.stop()
	}
	s = startLagwiseIn(t, dir, "--appendonly", "yes")
	if got := digest(t, s.connect(t)); got != want {
		t.Fatalf("the dataset after the last kill has digest %s, want %s", got, want)
	}
}

func waitRewrite(t *testing.T, c *client) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for infoField(t, c, "aof_rewrite_in_progress") != "0" || infoField(t, c, "aof_rewrite_scheduled") != "0" {
		if time.Now().After(deadline) {
			t.Fatal("the AOF rewrite did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := infoField(t, c, "aof_last_bgrewrite_status"); st != "ok" {
		t.Fatalf("aof_last_bgrewrite_status:%s", st)
	}
}

// TestAOFInterop: an AOF directory written by lagwise (base, incr files
// after a rewrite, both base formats) loads in Redis 7.0 with the same
// dataset, and one written by Redis loads in lagwise.
func TestAOFInterop(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		t.Run("lagwise-to-redis/preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			s := startLagwiseIn(t, dir, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
			c := s.connect(t)
			buildDataset(t, c)
			must(t, c, "BGREWRITEAOF")
			waitRewrite(t, c)
			must(t, c, "SET", "after-rewrite", "1")
			must(t, c, "INCRBYFLOAT", "float", "1.5")
			must(t, c, "EXPIRE", "after-rewrite", "100000")
			want := captureState(t, c)
			s.stop()
			r := startRedisIn(t, "redis", dir, "--appendonly", "yes")
			compareStates(t, want, captureState(t, r.connect(t)), "lagwise", "redis")
		})
	}
	t.Run("redis-to-lagwise", func(t *testing.T) {
		dir := t.TempDir()
		r := startRedisIn(t, "redis", dir, "--appendonly", "yes")
		c := r.connect(t)
		buildDataset(t, c)
		must(t, c, "BGREWRITEAOF")
		waitRewrite(t, c)
		must(t, c, "SET", "after-rewrite", "1")
		must(t, c, "SPOP", "set:strings")
		want := captureState(t, c)
		r.stop()
		s := startLagwiseIn(t, dir, "--appendonly", "yes")
		compareStates(t, want, captureState(t, s.connect(t)), "redis", "lagwise")
	})
}
