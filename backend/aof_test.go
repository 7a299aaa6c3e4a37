package backend

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startAOFServer starts a server with appendonly yes in dir, loading what
// the dir holds, as a process start does.
func startAOFServer(t *testing.T, dir string, mutate func(*Config)) (*Server, *testConn) {
	t.Helper()
	s := startTestServer(t, func(c *Config) {
		c.Dir = dir
		c.AppendOnly = true
		if mutate != nil {
			mutate(c)
		}
	})
	if err := s.loadAtStart(); err != nil {
		t.Fatal(err)
	}
	return s, dialServer(t, s)
}

func readManifest(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// aofWorkload is deterministic writes over every type, with TTLs, several
// databases, and a transaction.
func aofWorkload(rng *rand.Rand) [][]string {
	cmds := randomDataset(rng, 400)
	cmds = append(cmds,
		[]string{"select", "1"},
		[]string{"multi"}, []string{"incr", "counter"}, []string{"select", "4"}, []string{"lpush", "l4", "a"}, []string{"exec"},
		[]string{"select", "0"},
		[]string{"set", "ttl", "v", "ex", "1000"},
		[]string{"del", "k3"},
		[]string{"rename", "k5", "renamed"},
		[]string{"flushdb"},
		[]string{"set", "after-flush", "1"},
	)
	return cmds
}

// TestAOFRestart: with appendonly yes, a fresh start creates Redis 7.0's
// layout, every write goes to the incr file, and a restart rebuilds the
// same dataset.
func TestAOFRestart(t *testing.T) {
	for _, fsync := range []string{"always", "everysec", "no"} {
		t.Run(fsync, func(t *testing.T) {
			dir := t.TempDir()
			s, c := startAOFServer(t, dir, func(c *Config) { c.AppendFsync = fsync })
			want := "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
			if got := readManifest(t, dir); got != want {
				t.Fatalf("manifest %q, want %q", got, want)
			}
			c.pipeline(aofWorkload(rand.New(rand.NewPCG(1, 2))))
			digest := digestOf(t, c)
			info := c.cmd("info persistence")
			if !strings.Contains(info, "aof_enabled:1\r\n") || !strings.Contains(info, "aof_last_write_status:ok\r\n") {
				t.Errorf("info: %s", info)
			}
			s.Shutdown()

			_, c2 := startAOFServer(t, dir, nil)
			if got := digestOf(t, c2); got != digest {
				t.Fatalf("digest after restart %s, want %s", got, digest)
			}
		})
	}
}

// TestAOFRewrite: BGREWRITEAOF while clients write gives a new base and
// incr file that together hold every write once, with and without the RDB
// preamble.
func TestAOFRewrite(t *testing.T) {
	for _, preamble := range []bool{true, false} {
		name := "rdb-preamble"
		if !preamble {
			name = "resp-base"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			mutate := func(c *Config) { c.AOFUseRDBPreamble = preamble }
			s, c := startAOFServer(t, dir, mutate)
			rng := rand.New(rand.NewPCG(3, 4))
			c.pipeline(randomDataset(rng, 8000)) // several shards per db
			budget := stepBudget
			stepBudget = 0
			// The rewrite's writer waits after its first step until the
			// writes below are done, so they land mid-rewrite.
			release := make(chan struct{})
			var once sync.Once
			held := false
			snapshotStepHook = func() { once.Do(func() { held = true; <-release }) }
			defer func() { snapshotStepHook, stepBudget = nil, budget }()
			c.expect("bgrewriteaof", "+Background append only file rewriting started\r\n")
			c.expect("bgrewriteaof", "-ERR Background append only file rewriting already in progress\r\n")
			c.expect("bgsave", "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n")
			w := dialServer(t, s)
			w.pipelineReplies(aofWorkload(rand.New(rand.NewPCG(5, 6))), false) // WRONGTYPE is fine
			close(release)
			waitAOFRewrite(t, c)
			if !held {
				t.Fatal("the rewrite ended in one step; the writes did not land mid-rewrite")
			}
			base := "appendonly.aof.2.base.rdb"
			if !preamble {
				base = "appendonly.aof.2.base.aof"
			}
			want := "file " + base + " seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
			if got := readManifest(t, dir); got != want {
				t.Fatalf("manifest %q, want %q", got, want)
			}
			c.expect("set after-rewrite 1", "+OK\r\n")
			digest := digestOf(t, c)
			s.Shutdown()
			entries, _ := os.ReadDir(filepath.Join(dir, "appendonlydir"))
			if len(entries) != 3 {
				t.Errorf("the AOF dir holds %d files, want base, incr and manifest: %v", len(entries), entries)
			}
			_, c2 := startAOFServer(t, dir, mutate)
			if got := digestOf(t, c2); got != digest {
				t.Fatalf("digest after restart %s, want %s", got, digest)
			}
		})
	}
}

func waitAOFRewrite(t *testing.T, c *testConn) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info := c.cmd("info persistence")
		if strings.Contains(info, "aof_rewrite_in_progress:0\r\n") && strings.Contains(info, "aof_rewrite_scheduled:0\r\n") {
			if !strings.Contains(info, "aof_last_bgrewrite_status:ok\r\n") {
				t.Fatalf("rewrite failed: %s", info)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("rewrite did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAOFEnableAtRunTime: CONFIG SET appendonly yes writes a base of the
// data already there; writes after it go to the incr file; a restart with
// appendonly yes has everything. CONFIG SET appendonly no stops appending.
func TestAOFEnableAtRunTime(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, func(c *Config) { c.Dir = dir })
	c := dialServer(t, s)
	c.pipeline(randomDataset(rand.New(rand.NewPCG(7, 8)), 500))
	c.expect("config set appendonly yes", "+OK\r\n")
	c.expect("set during 1", "+OK\r\n")
	waitAOFRewrite(t, c)
	c.expect("set after 1", "+OK\r\n")
	digest := digestOf(t, c)
	c.expect("config set appendonly no", "+OK\r\n")
	c.expect("set not-in-aof 1", "+OK\r\n")
	s.Shutdown()
	_, c2 := startAOFServer(t, dir, nil)
	if got := digestOf(t, c2); got != digest {
		t.Fatalf("digest after restart %s, want %s", got, digest)
	}
}

// TestAOFAutoRewrite: past auto-aof-rewrite-min-size and the percentage,
// the server rewrites by itself.
func TestAOFAutoRewrite(t *testing.T) {
	dir := t.TempDir()
	_, c := startAOFServer(t, dir, func(c *Config) { c.AutoAOFRewriteMinSize = 64 << 10; c.AutoAOFRewritePct = 100 })
	for i := range 4000 {
		c.send("set", "key", strings.Repeat("x", 20+i%7))
	}
	for range 4000 {
		c.read()
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readManifest(t, dir), "seq 2 type b") {
		if time.Now().After(deadline) {
			t.Fatalf("no automatic rewrite; manifest %q", readManifest(t, dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAOFTruncated: a last command cut by a crash is dropped with
// aof-load-truncated yes, and stops the start with no.
func TestAOFTruncated(t *testing.T) {
	dir := t.TempDir()
	s, c := startAOFServer(t, dir, nil)
	c.expect("set a 1", "+OK\r\n")
	digest := digestOf(t, c)
	c.expect("set b 2", "+OK\r\n")
	s.Shutdown()
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	b, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(incr, b[:len(b)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	bad := startTestServer(t, func(c *Config) { c.Dir = dir; c.AppendOnly = true; c.AOFLoadTruncated = false })
	if err := bad.loadAtStart(); err == nil || !strings.Contains(err.Error(), "appendonly.aof.1.incr.aof") {
		t.Fatalf("aof-load-truncated no: %v", err)
	}
	_, c2 := startAOFServer(t, dir, nil)
	if got := digestOf(t, c2); got != digest {
		t.Fatalf("digest %s, want %s (the dataset before the cut command)", got, digest)
	}
	c2.expect("get b", "$-1\r\n")
}

// TestAOFRewriteWithAOFOff: BGREWRITEAOF with appendonly off writes a base
// alone, as Redis 7.0 does; turning appendonly on later starts from it.
func TestAOFRewriteWithAOFOff(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, func(c *Config) { c.Dir = dir })
	c := dialServer(t, s)
	c.pipeline(randomDataset(rand.New(rand.NewPCG(9, 9)), 300))
	c.expect("bgrewriteaof", "+Background append only file rewriting started\r\n")
	waitAOFRewrite(t, c)
	if got := readManifest(t, dir); got != "file appendonly.aof.1.base.rdb seq 1 type b\n" {
		t.Fatalf("manifest %q", got)
	}
	digest := digestOf(t, c)
	s.Shutdown()
	_, c2 := startAOFServer(t, dir, nil)
	if got := digestOf(t, c2); got != digest {
		t.Fatalf("digest %s, want %s", got, digest)
	}
}
