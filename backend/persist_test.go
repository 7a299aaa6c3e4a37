package backend

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pipeline sends every command, then reads every reply, and fails on an
// error reply.
func (c *testConn) pipeline(cmds [][]string) { c.t.Helper(); c.pipelineReplies(cmds, true) }

// pipelineReplies is pipeline; errors fail the test only if strict.
func (c *testConn) pipelineReplies(cmds [][]string, strict bool) {
	c.t.Helper()
	w := bufio.NewWriter(c.conn)
	go func() {
		for _, a := range cmds {
			w.Write(encodeCommand(a...))
		}
		w.Flush()
	}()
	for i := range cmds {
		if r := c.read(); strict && strings.HasPrefix(r, "-") {
			c.t.Fatalf("%v: %s", cmds[i], r)
		}
	}
}

// randomDataset makes commands that build a dataset of every type, in
// small and large encodings (intset and hashtable sets, listpack and
// hashtable hashes, listpack and skiplist zsets, int and long strings),
// with TTLs, over several databases.
func randomDataset(rng *rand.Rand, keys int) [][]string {
	val := func() string {
		switch rng.IntN(4) {
		case 0:
			return strconv.Itoa(rng.IntN(1000000) - 500000)
		case 1:
			return strings.Repeat(string(rune('a'+rng.IntN(26))), 30+rng.IntN(200)) // LZF-friendly
		default:
			b := make([]byte, 1+rng.IntN(20))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return string(b)
		}
	}
	var cmds [][]string
	for i := range keys {
		db := strconv.Itoa(rng.IntN(3))
		cmds = append(cmds, []string{"select", db})
		key := fmt.Sprintf("k%d", i)
		n := 1 + rng.IntN(8)
		if rng.IntN(10) == 0 {
			n = 100 + rng.IntN(700) // past the listpack and intset limits
		}
		switch rng.IntN(5) {
		case 0:
			cmds = append(cmds, []string{"set", key, val()})
		case 1:
			c := []string{"rpush", key}
			for range n {
				c = append(c, val())
			}
			cmds = append(cmds, c)
		case 2:
			c := []string{"sadd", key}
			ints := rng.IntN(2) == 0
			for range n {
				if ints {
					c = append(c, strconv.Itoa(rng.IntN(100000)))
				} else {
					c = append(c, val())
				}
			}
			cmds = append(cmds, c)
		case 3:
			c := []string{"hset", key}
			for j := range n {
				c = append(c, "f"+strconv.Itoa(j), val())
			}
			cmds = append(cmds, c)
		case 4:
			c := []string{"zadd", key}
			for range n {
				score := strconv.FormatFloat(rng.NormFloat64()*1000, 'g', -1, 64)
				if rng.IntN(20) == 0 {
					score = "inf"
				}
				c = append(c, score, val())
			}
			cmds = append(cmds, c)
		}
		if rng.IntN(3) == 0 {
			cmds = append(cmds, []string{"pexpireat", key, strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli()+int64(rng.IntN(1000000)), 10)})
		}
	}
	return cmds
}

func digestOf(t *testing.T, c *testConn) string {
	t.Helper()
	return c.cmd("debug digest")
}

// TestSaveLoadRoundTrip is the property test: random datasets of every
// type and size, with TTLs, saved and loaded back, are identical (DEBUG
// DIGEST covers values and expire times), and keep their encodings.
func TestSaveLoadRoundTrip(t *testing.T) {
	for seed := range 4 {
		t.Run(strconv.Itoa(seed), func(t *testing.T) {
			dir := t.TempDir()
			s := startTestServer(t, func(c *Config) { c.Dir = dir; c.RDBCompression = seed%2 == 0 })
			c := dialServer(t, s)
			rng := rand.New(rand.NewPCG(uint64(seed), 3))
			c.pipeline(randomDataset(rng, 600))
			want := digestOf(t, c)
			encodings := allEncodings(t, c)
			c.expect("save", "+OK\r\n")
			if got := c.cmd("info persistence"); !strings.Contains(got, "rdb_changes_since_last_save:0\r\n") || !strings.Contains(got, "rdb_saves:1\r\n") {
				t.Errorf("after SAVE: %s", got)
			}

			s2 := startTestServer(t, func(c *Config) { c.Dir = dir })
			if err := s2.loadAtStart(); err != nil {
				t.Fatal(err)
			}
			c2 := dialServer(t, s2)
			if got := digestOf(t, c2); got != want {
				t.Fatalf("digest after load %s, want %s", got, want)
			}
			if got := allEncodings(t, c2); got != encodings {
				t.Errorf("encodings differ after load:\n%s\nwant\n%s", got, encodings)
			}
		})
	}
}

// allEncodings lists every key's db, name and OBJECT ENCODING.
func allEncodings(t *testing.T, c *testConn) string {
	t.Helper()
	var lines []string
	for db := range 3 {
		c.expect("select "+strconv.Itoa(db), "+OK\r\n")
		keys := strings.Split(c.cmd("keys *"), "\r\n")
		for _, k := range keys {
			if k == "" || k[0] == '*' || k[0] == '$' {
				continue
			}
			lines = append(lines, fmt.Sprintf("%d %s %s", db, k, strings.TrimSpace(c.do("object", "encoding", k))))
		}
	}
	c.expect("select 0", "+OK\r\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestBgsavePointInTime: a BGSAVE made while clients keep writing — to
// every type, with TTL changes, deletes, renames across shards, MOVE,
// SWAPDB and FLUSHDB — holds exactly the dataset of the moment it started.
func TestBgsavePointInTime(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, func(c *Config) { c.Dir = dir })
	c := dialServer(t, s)
	rng := rand.New(rand.NewPCG(11, 12))
	c.pipeline(randomDataset(rng, 20000)) // several shards per db
	want := digestOf(t, c)

	// Slow the writer down so that the writes below land mid-snapshot.
	// The writers start after the writer's first step, so both paths run.
	firstStep := make(chan struct{})
	var once sync.Once
	snapshotStepHook = func() {
		once.Do(func() { close(firstStep) })
		time.Sleep(2 * time.Millisecond)
	}
	budget := stepBudget
	stepBudget = 0
	defer func() { snapshotStepHook, stepBudget = nil, budget }()
	c.expect("bgsave", "+Background saving started\r\n")
	c.expect("bgsave", "-ERR Background save already in progress\r\n")

	select {
	case <-firstStep:
	case <-time.After(10 * time.Second):
		t.Fatal("the snapshot made no step")
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := dialServer(t, s)
			r := rand.New(rand.NewPCG(uint64(w), 77))
			var cmds [][]string
			for i := range 3000 {
				k := fmt.Sprintf("k%d", r.IntN(20000))
				db := strconv.Itoa(r.IntN(3))
				cmds = append(cmds, []string{"select", db})
				switch i % 12 {
				case 0:
					cmds = append(cmds, []string{"set", k, "new"})
				case 1:
					cmds = append(cmds, []string{"del", k})
				case 2:
					cmds = append(cmds, []string{"expire", k, "100000"})
				case 3:
					cmds = append(cmds, []string{"persist", k})
				case 4:
					cmds = append(cmds, []string{"rename", k, fmt.Sprintf("renamed%d", i)})
				case 5:
					cmds = append(cmds, []string{"move", k, "2"})
				case 6:
					cmds = append(cmds, []string{"append", k, "x"})
				case 7:
					cmds = append(cmds, []string{"set", fmt.Sprintf("fresh%d-%d", w, i), "v"})
				case 8:
					cmds = append(cmds, []string{"hset", k, "f0", "changed"})
				case 9:
					cmds = append(cmds, []string{"zadd", k, "1", "m"})
				case 10:
					cmds = append(cmds, []string{"sadd", k, "m"})
				case 11:
					cmds = append(cmds, []string{"lpush", k, "m"})
				}
			}
			if w == 0 {
				cmds = append(cmds, []string{"swapdb", "0", "1"}, []string{"select", "2"}, []string{"flushdb"})
			}
			// Wrong-type errors are expected here; only the effect matters.
			bw := bufio.NewWriter(wc.conn)
			go func() {
				for _, a := range cmds {
					bw.Write(encodeCommand(a...))
				}
				bw.Flush()
			}()
			for range cmds {
				wc.read()
			}
		}()
	}
	wg.Wait()
	waitBgsave(t, c)
	s.mu.Lock()
	saved := s.persist.lastCowKeys
	s.mu.Unlock()
	if saved == 0 {
		t.Fatal("no command saved a key before changing it: the writes did not land mid-snapshot")
	}
	if digestOf(t, c) == want {
		t.Fatal("the writes changed nothing; the test proves nothing")
	}
	s2 := startTestServer(t, func(c *Config) { c.Dir = dir })
	if err := s2.loadAtStart(); err != nil {
		t.Fatal(err)
	}
	if got := digestOf(t, dialServer(t, s2)); got != want {
		t.Fatalf("snapshot digest %s, want the dataset at BGSAVE %s", got, want)
	}
}

// waitBgsave waits until no background save runs and checks it succeeded.
func waitBgsave(t *testing.T, c *testConn) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info := c.cmd("info persistence")
		if strings.Contains(info, "rdb_bgsave_in_progress:0\r\n") {
			if !strings.Contains(info, "rdb_last_bgsave_status:ok\r\n") {
				t.Fatalf("bgsave failed: %s", info)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("bgsave did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSaveDue(t *testing.T) {
	params := saveParams("3600 1 300 100 60 10000")
	cases := []struct {
		name                  string
		dirty, now, last, try int64
		lastOK                bool
		want                  bool
	}{
		{"no changes", 0, 10000, 0, 0, true, false},
		{"one change, an hour has not passed", 1, 3600, 0, 0, true, false},
		{"one change, over an hour", 1, 3601, 0, 0, true, true},
		{"100 changes in 5 minutes", 100, 301, 0, 0, true, true},
		{"99 changes in 5 minutes", 99, 301, 0, 0, true, false},
		{"10000 changes in a minute", 10000, 61, 0, 0, true, true},
		{"last attempt failed 3s ago", 10000, 100, 0, 97, false, false},
		{"last attempt failed 6s ago", 10000, 100, 0, 94, false, true},
	}
	for _, tc := range cases {
		_, got := saveDue(params, tc.dirty, tc.now, tc.last, tc.try, tc.lastOK)
		if got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, due := saveDue(saveParams(""), 1e9, 1e9, 0, 0, true); due {
		t.Error(`save "" never saves`)
	}
}

// TestSaveSchedule: with `save 1 1`, a change is saved by itself.
func TestSaveSchedule(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, func(c *Config) { c.Dir = dir; c.Save = "1 1" })
	c := dialServer(t, s)
	c.expect("set a 1", "+OK\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.cmd("info persistence"), "rdb_changes_since_last_save:0\r\n") {
		if time.Now().After(deadline) {
			t.Fatal("the save point never saved")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
}

// TestSaveFsyncs: a save fsyncs the file before the rename and the
// directory after it, and leaves no temp file.
func TestSaveFsyncs(t *testing.T) {
	var files, dirs atomic.Int64
	origFile, origDir := fileSync, dirSync
	fileSync = func(f *os.File) error { files.Add(1); return origFile(f) }
	dirSync = func(d string) error { dirs.Add(1); return origDir(d) }
	defer func() { fileSync, dirSync = origFile, origDir }()
	dir := t.TempDir()
	s := startTestServer(t, func(c *Config) { c.Dir = dir })
	c := dialServer(t, s)
	c.expect("set a 1", "+OK\r\n")
	c.expect("save", "+OK\r\n")
	if files.Load() != 1 || dirs.Load() != 1 {
		t.Errorf("fsyncs: %d file, %d dir; want 1 and 1", files.Load(), dirs.Load())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "dump.rdb" {
		t.Errorf("dir holds %v", entries)
	}
}

// TestBgsaveErrorMisconf: a failed BGSAVE turns writes away with MISCONF
// until a save succeeds, as stop-writes-on-bgsave-error says.
func TestBgsaveErrorMisconf(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	s := startTestServer(t, func(c *Config) { c.Dir = dir; c.Save = "3600 1" })
	c := dialServer(t, s)
	c.expect("set a 1", "+OK\r\n")
	c.expect("bgsave", "+Background saving started\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.cmd("info persistence"), "rdb_last_bgsave_status:err\r\n") {
		if time.Now().After(deadline) {
			t.Fatal("bgsave did not fail")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.expect("set a 2", "-"+msgMisconf+"\r\n")
	c.expect("get a", "$1\r\n1\r\n")
	c.expect("config set stop-writes-on-bgsave-error no", "+OK\r\n")
	c.expect("set a 2", "+OK\r\n")
	c.expect("config set stop-writes-on-bgsave-error yes", "+OK\r\n")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.expect("save", "+OK\r\n")
	c.expect("set a 3", "+OK\r\n")
}

// TestLoadDamaged: a torn or corrupt dump stops the start with an error
// naming the file and the offset, and loads nothing.
func TestLoadDamaged(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, func(c *Config) { c.Dir = dir })
	c := dialServer(t, s)
	c.pipeline(randomDataset(rand.New(rand.NewPCG(1, 1)), 300))
	c.expect("save", "+OK\r\n")
	path := filepath.Join(dir, "dump.rdb")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"torn":    good[:len(good)/2],
		"no-crc":  good[:len(good)-4],
		"flipped": append(append([]byte{}, good[:len(good)/2]...), append([]byte{good[len(good)/2] ^ 0x55}, good[len(good)/2+1:]...)...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			s2 := startTestServer(t, func(c *Config) { c.Dir = dir })
			err := s2.loadAtStart()
			if err == nil {
				t.Fatal("loaded a damaged file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "offset") {
				t.Errorf("error does not name the file and offset: %v", err)
			}
			if got := dialServer(t, s2).cmd("dbsize"); got != ":0\r\n" {
				t.Errorf("partial data loaded: dbsize %q", got)
			}
			// Told otherwise, it starts with the keys before the damage.
			s3 := startTestServer(t, func(c *Config) { c.Dir = dir; c.RDBLoadPartial = true })
			if err := s3.loadAtStart(); err != nil {
				t.Fatalf("rdb-load-partial yes: %v", err)
			}
			if got := dialServer(t, s3).cmd("dbsize"); got == ":0\r\n" && name == "torn" {
				t.Errorf("rdb-load-partial loaded nothing of a half file")
			}
		})
	}
}
