package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The persistence tests: RDB files written by Redis 7.0 load in lagwise
// and the other way round, with the same data, encodings and expiry
// times; saving at shutdown; damaged files; and a crash in the middle of a
// BGSAVE.

const (
	// farFuture is 2100-01-01 in unix ms: an expiry no test run outlives.
	farFuture = 4102444800000
	// testdataDump is a dump written by Redis 7.0.15 (see rdb/interop_test.go).
	testdataDump = "../rdb/testdata/redis-7.0.15.rdb"
	// saveTimeout bounds a BGSAVE, and a server's exit after SHUTDOWN.
	saveTimeout = 30 * time.Second
)

// datasetDBs are the databases buildDataset fills.
var datasetDBs = []int{0, 3, 15}

// TestInteropRedisToLagwise saves a dataset of every type in every
// encoding with Redis 7.0 and loads the file in lagwise.
func TestInteropRedisToLagwise(t *testing.T) {
	rdir := t.TempDir()
	r := startRedisIn(t, "redis", rdir)
	rc := r.connect(t)
	buildDataset(t, rc)
	// A list with plain quicklist nodes, which Redis 7.0 writes for
	// elements above the packed threshold.
	must(t, rc, "SELECT", "3")
	must(t, rc, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
	must(t, rc, "RPUSH", "list:plain-nodes", "a", strings.Repeat("plain ", 50), "b", strings.Repeat("p", 300))
	must(t, rc, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1gb")
	must(t, rc, "SELECT", "0")
	want := captureState(t, rc)
	checkCoverage(t, want)
	must(t, rc, "SAVE")
	r.stop()

	ldir := t.TempDir()
	copyFile(t, filepath.Join(rdir, "dump.rdb"), filepath.Join(ldir, "dump.rdb"))
	l := startLagwiseIn(t, ldir)
	compareStates(t, want, captureState(t, l.connect(t)), "redis before SAVE", l.name+" after loading")
}

// TestInteropRedisTestdataToLagwise loads rdb/testdata/redis-7.0.15.rdb,
// which holds what buildDataset does not (non-canonical numbers, plain
// list nodes, many expiry times), in lagwise. lagwise has no streams and
// no functions, and refuses the file as it is; with those removed by
// Redis, the data must load as Redis has it.
func TestInteropRedisTestdataToLagwise(t *testing.T) {
	if !againstRedis() {
		dir := t.TempDir()
		copyFile(t, testdataDump, filepath.Join(dir, "dump.rdb"))
		code, out := runLagwiseToExit(t, dir)
		if code == 0 || !strings.Contains(out, filepath.Join(dir, "dump.rdb")) || !strings.Contains(out, "function library") {
			t.Errorf("lagwise on a dump with a function library: exit code %d, want non-zero and an error naming the file and the function library; output:\n%s", code, out)
		}
	}

	rdir := t.TempDir()
	copyFile(t, testdataDump, filepath.Join(rdir, "dump.rdb"))
	r := startRedisIn(t, "redis", rdir)
	rc := r.connect(t)
	must(t, rc, "FUNCTION", "FLUSH")
	must(t, rc, "SELECT", "1")
	if n := must(t, rc, "DEL", "mystream"); string(n.data) != "1" {
		t.Fatalf("DEL mystream = %s; is %s still the file it was?", n, testdataDump)
	}
	must(t, rc, "SELECT", "0")
	want := captureState(t, rc)
	if len(want.keys) < 100 {
		t.Fatalf("only %d keys loaded from %s", len(want.keys), testdataDump)
	}
	must(t, rc, "SAVE")
	r.stop()

	ldir := t.TempDir()
	copyFile(t, filepath.Join(rdir, "dump.rdb"), filepath.Join(ldir, "dump.rdb"))
	l := startLagwiseIn(t, ldir)
	compareStates(t, want, captureState(t, l.connect(t)), "redis", l.name+" after loading")
}

// TestInteropLagwiseToRedis saves the dataset with lagwise, by SAVE, by
// BGSAVE, and without compression or checksum; redis-check-rdb must
// accept each file and Redis 7.0 must load it with the same data,
// encodings and expiry times.
func TestInteropLagwiseToRedis(t *testing.T) {
	checker := redisTool(t, "redis-check-rdb")
	for _, tc := range []struct {
		name       string
		bg         bool
		directives []string
	}{
		{name: "SAVE"},
		{name: "BGSAVE", bg: true},
		{name: "rdbcompression-no", directives: []string{"--rdbcompression", "no"}},
		{name: "rdbchecksum-no", bg: true, directives: []string{"--rdbchecksum", "no"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ldir := t.TempDir()
			l := startLagwiseIn(t, ldir, tc.directives...)
			lc := l.connect(t)
			buildDataset(t, lc)
			want := captureState(t, lc)
			checkCoverage(t, want)
			if tc.bg {
				bgsave(t, lc)
			} else {
				must(t, lc, "SAVE")
			}
			l.stop()
			file := filepath.Join(ldir, "dump.rdb")
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}

			// The directives did what they say.
			if raw := bytes.Contains(data, []byte(bigValue(0))); raw != slices.Contains(tc.directives, "--rdbcompression") {
				t.Errorf("the 256 KB compressible string stored uncompressed: %v; directives %q", raw, tc.directives)
			}
			if zero := bytes.HasSuffix(data, make([]byte, 8)); zero != slices.Contains(tc.directives, "--rdbchecksum") {
				t.Errorf("the checksum is zero: %v; directives %q", zero, tc.directives)
			}

			checkRDB(t, checker, file, want)

			rdir := t.TempDir()
			copyFile(t, file, filepath.Join(rdir, "dump.rdb"))
			r := startRedisIn(t, "redis", rdir)
			compareStates(t, want, captureState(t, r.connect(t)), l.name+" before saving", "redis after loading")
		})
	}
}

// TestShutdownSaves checks when a server saves as it stops: SHUTDOWN and
// SIGTERM save when save points are set, SHUTDOWN NOSAVE does not,
// SHUTDOWN SAVE does even without save points, and SIGTERM without save
// points does not. It runs against Redis too, which shows that these are
// Redis's rules.
func TestShutdownSaves(t *testing.T) {
	for _, kind := range []string{"redis", "lagwise"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "dump.rdb")
			start := func(save string) (*server, *client) {
				t.Helper()
				var s *server
				if kind == "redis" {
					s = startRedisIn(t, "redis", dir, "--save", save)
				} else {
					s = startLagwiseIn(t, dir, "--save", save)
				}
				return s, s.connect(t)
			}
			const savePoints = "3600 1"

			// SHUTDOWN with save points saves.
			s, c := start(savePoints)
			buildDataset(t, c)
			saved := digest(t, c)
			shutdown(t, s, c)
			s, c = start(savePoints)
			if got := digest(t, c); got != saved {
				t.Fatalf("after SHUTDOWN and a restart the digest is %s, want %s", got, saved)
			}
			onDisk := readFile(t, file)

			// SHUTDOWN NOSAVE leaves the file as it was.
			must(t, c, "SET", "after-save", "1")
			shutdown(t, s, c, "NOSAVE")
			if !bytes.Equal(readFile(t, file), onDisk) {
				t.Fatalf("SHUTDOWN NOSAVE changed %s", file)
			}

			// SIGTERM with save points saves.
			s, c = start(savePoints)
			if got := digest(t, c); got != saved {
				t.Fatalf("after SHUTDOWN NOSAVE and a restart the digest is %s, want %s", got, saved)
			}
			must(t, c, "SET", "before-sigterm", "1")
			must(t, c, "SELECT", "15")
			must(t, c, "DEL", "list:large")
			saved = digest(t, c)
			sigterm(t, s)
			s, c = start("")
			if got := digest(t, c); got != saved {
				t.Fatalf("after SIGTERM and a restart the digest is %s, want %s", got, saved)
			}
			onDisk = readFile(t, file)

			// SIGTERM without save points does not save.
			must(t, c, "SET", "unsaved", "1")
			sigterm(t, s)
			if !bytes.Equal(readFile(t, file), onDisk) {
				t.Fatalf("SIGTERM without save points changed %s", file)
			}

			// SHUTDOWN SAVE saves without save points.
			s, c = start("")
			if got := digest(t, c); got != saved {
				t.Fatalf("after SIGTERM without save points and a restart the digest is %s, want %s", got, saved)
			}
			must(t, c, "FLUSHDB")
			saved = digest(t, c)
			shutdown(t, s, c, "SAVE")
			s, c = start("")
			if got := digest(t, c); got != saved {
				t.Fatalf("after SHUTDOWN SAVE and a restart the digest is %s, want %s", got, saved)
			}
		})
	}
}

// TestPersistDamagedDump starts lagwise on damaged copies of a good dump:
// it must exit with an error that names the file and an offset in it, and
// leave the file as it was.
func TestPersistDamagedDump(t *testing.T) {
	if againstRedis() {
		t.Skip("checks lagwise's own error messages")
	}
	dir := t.TempDir()
	s := startLagwiseIn(t, dir)
	c := s.connect(t)
	buildDataset(t, c)
	must(t, c, "SAVE")
	s.stop()
	good := readFile(t, filepath.Join(dir, "dump.rdb"))
	flip := func(at int) []byte {
		b := slices.Clone(good)
		b[at] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated-in-header", good[:5]},
		{"truncated-halfway", good[:len(good)/2]},
		{"truncated-checksum", good[:len(good)-1]},
		{"flipped-magic", flip(2)},
		{"flipped-halfway", flip(len(good) / 2)},
		{"flipped-checksum", flip(len(good) - 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "dump.rdb")
			if err := os.WriteFile(file, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			before, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			code, out := runLagwiseToExit(t, dir)
			if code == 0 {
				t.Errorf("lagwise exited with code 0 on a damaged dump; output:\n%s", out)
			}
			if !strings.Contains(out, file) {
				t.Errorf("the error does not name %s:\n%s", file, out)
			}
			m := regexp.MustCompile(`offset (\d+)`).FindStringSubmatch(out)
			if m == nil {
				t.Errorf("the error names no offset:\n%s", out)
			} else if off, _ := strconv.Atoi(m[1]); off > len(tc.data) {
				t.Errorf("the error names offset %d, past the end of the %d-byte file:\n%s", off, len(tc.data), out)
			}
			after, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFile(t, file), tc.data) || !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("lagwise changed the damaged file")
			}
		})
	}
}

// TestCrashDuringBgsave kills lagwise (SIGKILL) at several moments of a
// BGSAVE, while commands keep changing the data, and then loads the dump
// left in its directory. The dump must be intact and hold either the data
// of the last SAVE (A) or the data when BGSAVE started (B): never
// anything else, never a load error. Temp files left behind are allowed.
func TestCrashDuringBgsave(t *testing.T) {
	if againstRedis() {
		t.Skip("a killed Redis leaves its BGSAVE child running")
	}
	base := t.TempDir()
	s := startLagwiseIn(t, base)
	c := s.connect(t)
	must(t, c, "DEBUG", "POPULATE", "200000", "key", "64")
	buildDataset(t, c)
	must(t, c, "SAVE")
	digestA := digest(t, c)
	s.stop()
	fileA := filepath.Join(base, "dump.rdb")

	// The first round waits for the BGSAVE to finish, which must leave B,
	// and times it; the others kill lagwise right after the BGSAVE reply
	// and at fractions of that time.
	fractions := []float64{-1, 0, 0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.1}
	var digestB string
	var saveTime time.Duration
	seen := map[string]int{}
	midWrite := 0
	for i, f := range fractions {
		dir := t.TempDir()
		copyFile(t, fileA, filepath.Join(dir, "dump.rdb"))
		s := startLagwiseIn(t, dir)
		c := s.connect(t)
		if i == 0 {
			if got := digest(t, c); got != digestA {
				t.Fatalf("the SAVEd dump loads with digest %s, want %s", got, digestA)
			}
		}
		for _, cmd := range changeCommands("b") {
			must(t, c, cmd...)
		}
		if i == 0 {
			digestB = digest(t, c)
			if digestB == digestA {
				t.Fatal("the changes changed nothing")
			}
		}
		must(t, c, "BGSAVE")
		began := time.Now()
		// Writes after the snapshot point, sent without waiting for their
		// replies: none may reach the file.
		changes := changeCommands("c")
		for _, cmd := range changes {
			if err := c.send(toBytes(cmd)); err != nil {
				t.Fatal(err)
			}
		}
		delay := time.Duration(f * float64(saveTime))
		if f < 0 {
			for range changes {
				if r, err := c.read(); err != nil || r.isError() {
					t.Fatalf("a write during BGSAVE: %v %v", r, err)
				}
			}
			waitBgsave(t, c)
			saveTime = time.Since(began)
		} else {
			time.Sleep(delay)
		}
		s.stop()
		if temps, _ := filepath.Glob(filepath.Join(dir, "temp-*.rdb")); len(temps) > 0 {
			midWrite++
		}

		what := fmt.Sprintf("killed %v after the BGSAVE reply", delay)
		if f < 0 {
			what = "killed after BGSAVE finished"
		}
		got, err := loadDigest(t, dir)
		switch {
		case err != nil:
			t.Errorf("%s: the dump does not load: %v", what, err)
		case got == digestA:
			seen["A"]++
		case got == digestB:
			seen["B"]++
		default:
			t.Errorf("%s: the dump loads with digest %s, neither A (%s) nor B (%s)", what, got, digestA, digestB)
		}
		if f < 0 && got != digestB {
			t.Errorf("%s: the dump loads with digest %s, want B (%s)", what, got, digestB)
		}
	}
	t.Logf("BGSAVE took about %v; after %d kills: %d dumps with A, %d with B; %d kills left a temp file",
		saveTime, len(fractions), seen["A"], seen["B"], midWrite)
}

// TestPersistFlushallDuringBgsave sends FLUSHALL, with save points set,
// right after BGSAVE, on Redis and on lagwise, and compares what follows.
// Redis kills its BGSAVE child (which counts neither as a success nor as
// a failure) and saves the empty dataset; INFO persistence then shows no
// changes since that save and the status "ok", writes are accepted, and
// the dump on disk is the empty dataset. lagwise must do the same.
func TestPersistFlushallDuringBgsave(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys string
	}{
		{"large-dataset", "300000"},
		{"small-dataset", "10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(start func(dir string, extra ...string) *server) string {
				dir := t.TempDir()
				s := start(dir, "--save", "3600 1")
				c := s.connect(t)
				must(t, c, "DEBUG", "POPULATE", tc.keys, "key", "64")
				must(t, c, "SET", "x", "1")
				must(t, c, "BGSAVE")
				must(t, c, "FLUSHALL")
				waitNoBgsave(t, c)
				var seen []string
				for _, f := range []string{"rdb_changes_since_last_save", "rdb_last_bgsave_status", "rdb_saves"} {
					seen = append(seen, f+":"+infoField(t, c, f))
				}
				r, err := c.doStrings("SET", "after", "1")
				seen = append(seen, fmt.Sprintf("SET after 1: %v %v", r, err))
				s.stop()
				seen = append(seen, "digest after a restart: "+digest(t, start(dir).connect(t)))
				return strings.Join(seen, "\n")
			}
			want := run(func(dir string, extra ...string) *server { return startRedisIn(t, "redis", dir, extra...) })
			got := run(func(dir string, extra ...string) *server { return startLagwiseIn(t, dir, extra...) })
			if got != want {
				t.Errorf("after BGSAVE and FLUSHALL\nredis:\n%s\nlagwise:\n%s", want, got)
			}
		})
	}
}

// ---------------------------------------------------------------- dataset

// buildDataset fills datasetDBs with keys of every type in each of the
// encodings Redis 7.0 has for it, with and without expiry times. Each
// database gets slightly different values.
func buildDataset(t *testing.T, c *client) {
	t.Helper()
	for _, db := range datasetDBs {
		must(t, c, "SELECT", strconv.Itoa(db))
		for _, cmd := range datasetCommands(db) {
			must(t, c, cmd...)
		}
	}
	must(t, c, "SELECT", "0")
}

// datasetCommands are the commands that build database db's part of the
// dataset.
func datasetCommands(db int) [][]string {
	tag := "db" + strconv.Itoa(db)
	rnd := rand.New(rand.NewPCG(uint64(db), 7))
	var cmds [][]string
	add := func(args ...string) { cmds = append(cmds, args) }
	withKey := func(cmd, key string, rest []string) { add(append([]string{cmd, key}, rest...)...) }

	// Strings: int, embstr and raw encodings; values over 20 bytes are
	// LZF-compressed in the file when that saves space.
	add("SET", "str:int", strconv.Itoa(123456+db))
	add("SET", "str:shared-int", "7")
	add("SET", "str:int64-min", "-9223372036854775808")
	add("SET", "str:int64-max", "9223372036854775807")
	add("SET", "str:embstr", "hello "+tag)
	add("SET", "str:not-canonical", "0012")
	add("SET", "str:float", "3.14159")
	add("SET", "str:empty", "")
	add("SET", "str:binary", "\x00\x01\xfe\xff\r\n"+tag)
	add("SET", "str:lzf-embstr", strings.Repeat("a", 30)+tag)
	add("SET", "str:raw", randomText(rnd, 200))
	add("SET", "str:lzf-raw", strings.Repeat("lagwise "+tag+" ", 100))
	add("SET", "str:big", bigValue(db))

	// Lists are quicklists in Redis 7.0, whatever their size: one node,
	// many nodes, nodes of one element above the 8 KB node size.
	add("RPUSH", "list:small", "a", "b", "1", "-2", "3.5", tag)
	var elems []string
	for i := range 3000 {
		switch i % 3 {
		case 0:
			elems = append(elems, strconv.Itoa(i*i-5000))
		case 1:
			elems = append(elems, "element-"+strconv.Itoa(i))
		default:
			elems = append(elems, strings.Repeat("compressible ", 8)+strconv.Itoa(i))
		}
	}
	withKey("RPUSH", "list:large", elems)
	add("RPUSH", "list:huge-elements", strings.Repeat("x", 10000), randomText(rnd, 9000), "tail")

	// Sets: intset (16-, 32- and 64-bit) and hashtable.
	add("SADD", "set:intset16", "1", "2", "3", "-100", strconv.Itoa(db))
	add("SADD", "set:intset32", "1", "70000", "-70000")
	add("SADD", "set:intset64", "1", "-5000000000", "9223372036854775807", "-9223372036854775808")
	add("SADD", "set:strings", "a", "b", "c", tag)
	var ints, strs []string
	for i := range 600 {
		ints = append(ints, strconv.Itoa(i*7-1000))
		strs = append(strs, "member-"+strconv.Itoa(i)+"-"+tag)
	}
	withKey("SADD", "set:many-ints", ints)
	withKey("SADD", "set:many-strings", strs[:300])

	// Hashes: listpack, and hashtable by size or by a long value.
	add("HSET", "hash:listpack", "f1", "v1", "n", "123", "neg", "-7", "empty", "", "tag", tag)
	var fields []string
	for i := range 1000 {
		fields = append(fields, "field-"+strconv.Itoa(i), strconv.Itoa(i*31)+"-"+tag)
	}
	withKey("HSET", "hash:many-fields", fields)
	add("HSET", "hash:long-value", "short", "v", "long", strings.Repeat("v", 100))

	// Sorted sets: listpack, and skiplist by size or by a long member;
	// infinite, fractional and extreme scores.
	add("ZADD", "zset:listpack", "-inf", "minus-inf", "+inf", "plus-inf", "0", "zero", "1.5", "one-and-half",
		"0.1", "tenth", "-2.25", "negative", "1e300", "huge", "5e-324", "tiny", strconv.Itoa(db), tag)
	var members []string
	for i := range 300 {
		members = append(members, strconv.FormatFloat(float64(i)/3-50, 'g', -1, 64), "m-"+strconv.Itoa(i))
	}
	members = append(members, "-inf", "bottom", "+inf", "top")
	withKey("ZADD", "zset:skiplist", members)
	add("ZADD", "zset:long-member", "1", strings.Repeat("m", 100), "2.5", "b")

	// Expiry times, with and without a millisecond part, and one set
	// relative to the clock.
	for i, key := range []string{"str:int", "str:embstr", "str:raw", "str:big", "list:small", "list:large",
		"set:intset16", "set:many-strings", "hash:listpack", "hash:many-fields", "zset:listpack", "zset:skiplist"} {
		add("PEXPIREAT", key, strconv.FormatInt(farFuture+int64(i)*1000+int64(i%3*db), 10))
	}
	add("EXPIRE", "str:lzf-raw", "10000000")
	return cmds
}

// bigValue is a 256 KB compressible string.
func bigValue(db int) string {
	return strings.Repeat("A big, compressible value of db "+strconv.Itoa(db)+". ", 8192)[:256<<10]
}

// randomText is n letters that LZF cannot compress.
func randomText(rnd *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}

// changeCommands change keys all over the keyspace of
// TestCrashDuringBgsave; tag makes each round of changes different.
func changeCommands(tag string) [][]string {
	mset, del := []string{"MSET"}, []string{"DEL"}
	for i := range 200 {
		mset = append(mset, "key:"+strconv.Itoa(i*997), "changed-"+tag)
		del = append(del, "key:"+strconv.Itoa(i*991+1))
	}
	return [][]string{mset, del, {"HSET", "hash:changed", tag, tag}, {"RPUSH", "list:changed", tag}}
}

// ---------------------------------------------------------------- state

// dataState is what a server holds, as far as the tests compare it: the
// DEBUG DIGEST of the whole dataset, and each key's encoding, expiry time
// and value digest.
type dataState struct {
	digest string
	keys   map[string]keyState // by "db/key"
}

type keyState struct {
	encoding    string
	pexpiretime int64
	value       string // DEBUG DIGEST-VALUE
}

func (k keyState) String() string {
	return fmt.Sprintf("encoding %s, pexpiretime %d, value digest %s", k.encoding, k.pexpiretime, k.value)
}

// captureState reads the state of every database. It leaves the
// connection on database 0.
func captureState(t *testing.T, c *client) dataState {
	t.Helper()
	st := dataState{digest: digest(t, c), keys: map[string]keyState{}}
	for db := range 16 {
		must(t, c, "SELECT", strconv.Itoa(db))
		keys := must(t, c, "KEYS", "*").elems
		// The three queries of each key are pipelined, 500 keys at a time.
		for len(keys) > 0 {
			batch := keys[:min(len(keys), 500)]
			keys = keys[len(batch):]
			var buf []byte
			for _, k := range batch {
				for _, q := range [][]string{{"PEXPIRETIME"}, {"DEBUG", "DIGEST-VALUE"}, {"OBJECT", "ENCODING"}} {
					buf = append(buf, encodeCommand(toBytes(append(q, string(k.data))))...)
				}
			}
			c.conn.SetWriteDeadline(time.Now().Add(replyTimeout))
			if _, err := c.conn.Write(buf); err != nil {
				t.Fatal(err)
			}
			for _, k := range batch {
				key := string(k.data)
				var r [3]*reply
				for i := range r {
					var err error
					if r[i], err = c.read(); err != nil || r[i].isError() {
						t.Fatalf("querying %q: %v %v", key, r[i], err)
					}
				}
				pt, err := strconv.ParseInt(string(r[0].data), 10, 64)
				if err != nil {
					t.Fatalf("PEXPIRETIME %q: %v", key, err)
				}
				if len(r[1].elems) != 1 {
					t.Fatalf("DEBUG DIGEST-VALUE %q = %s", key, r[1])
				}
				st.keys[strconv.Itoa(db)+"/"+key] = keyState{
					encoding:    string(r[2].data),
					pexpiretime: pt,
					value:       string(r[1].elems[0].data),
				}
			}
		}
	}
	must(t, c, "SELECT", "0")
	return st
}

// compareStates reports every difference between two states.
func compareStates(t *testing.T, want, got dataState, wantName, gotName string) {
	t.Helper()
	if got.digest != want.digest {
		t.Errorf("DEBUG DIGEST: %s %s, %s %s", wantName, want.digest, gotName, got.digest)
	}
	var diffs []string
	for name, w := range want.keys {
		g, ok := got.keys[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%q: missing from %s", name, gotName))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%q: %s: %v; %s: %v", name, wantName, w, gotName, g))
		}
	}
	for name := range got.keys {
		if _, ok := want.keys[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%q: not in %s", name, wantName))
		}
	}
	if len(diffs) == 0 {
		return
	}
	slices.Sort(diffs)
	n := len(diffs)
	const maxDiffs = 30
	if n > maxDiffs {
		diffs = append(diffs[:maxDiffs], fmt.Sprintf("... and %d more", n-maxDiffs))
	}
	t.Errorf("%d of %d keys differ:\n%s", n, len(want.keys), strings.Join(diffs, "\n"))
}

// datasetEncodings are the encodings buildDataset's keys have in Redis 7.0
// with its default configuration.
var datasetEncodings = map[string]string{
	"str:int": "int", "str:shared-int": "int", "str:int64-min": "int", "str:int64-max": "int",
	"str:embstr": "embstr", "str:not-canonical": "embstr", "str:float": "embstr", "str:empty": "embstr",
	"str:binary": "embstr", "str:lzf-embstr": "embstr", "str:raw": "raw", "str:lzf-raw": "raw", "str:big": "raw",
	"list:small": "quicklist", "list:large": "quicklist", "list:huge-elements": "quicklist",
	"set:intset16": "intset", "set:intset32": "intset", "set:intset64": "intset",
	"set:strings": "hashtable", "set:many-ints": "hashtable", "set:many-strings": "hashtable",
	"hash:listpack": "listpack", "hash:many-fields": "hashtable", "hash:long-value": "hashtable",
	"zset:listpack": "listpack", "zset:skiplist": "skiplist", "zset:long-member": "skiplist",
}

// checkCoverage checks that every key of buildDataset has the encoding it
// is there for, and that enough of them have expiry times, so that a
// change to the dataset or to the defaults cannot quietly make the
// interop tests weaker.
func checkCoverage(t *testing.T, st dataState) {
	t.Helper()
	for _, db := range datasetDBs {
		for key, enc := range datasetEncodings {
			name := strconv.Itoa(db) + "/" + key
			if k, ok := st.keys[name]; !ok || k.encoding != enc {
				t.Errorf("dataset key %q: %v (present: %v), want encoding %s", name, k, ok, enc)
			}
		}
	}
	ttls := 0
	for _, k := range st.keys {
		if k.pexpiretime >= 0 {
			ttls++
		}
	}
	if ttls < 10*len(datasetDBs) {
		t.Errorf("the dataset has only %d keys with an expiry time", ttls)
	}
}

// ---------------------------------------------------------------- helpers

// must sends a command and fails the test on an I/O error or an error
// reply.
func must(t *testing.T, c *client, args ...string) *reply {
	t.Helper()
	r, err := c.doStrings(args...)
	if err != nil {
		t.Fatalf("%.60q: %v", args, err)
	}
	if r.isError() {
		t.Fatalf("%.60q: %s", args, r)
	}
	return r
}

// toBytes converts a command for client.send.
func toBytes(args []string) [][]byte {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return b
}

// digest is DEBUG DIGEST.
func digest(t *testing.T, c *client) string {
	t.Helper()
	return string(must(t, c, "DEBUG", "DIGEST").data)
}

// bgsave runs BGSAVE and waits for it to finish successfully.
func bgsave(t *testing.T, c *client) {
	t.Helper()
	saves := infoField(t, c, "rdb_saves")
	if r := must(t, c, "BGSAVE"); string(r.data) != "Background saving started" {
		t.Fatalf("BGSAVE = %s", r)
	}
	waitBgsave(t, c)
	if got := infoField(t, c, "rdb_saves"); got == saves {
		t.Fatalf("rdb_saves is still %s after BGSAVE", got)
	}
}

// waitBgsave waits until no BGSAVE is running, and requires the last one
// to have succeeded.
func waitBgsave(t *testing.T, c *client) {
	t.Helper()
	waitNoBgsave(t, c)
	if st := infoField(t, c, "rdb_last_bgsave_status"); st != "ok" {
		t.Fatalf("rdb_last_bgsave_status:%s", st)
	}
}

// waitNoBgsave waits until INFO persistence says no BGSAVE is running.
func waitNoBgsave(t *testing.T, c *client) {
	t.Helper()
	deadline := time.Now().Add(saveTimeout)
	for infoField(t, c, "rdb_bgsave_in_progress") != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("BGSAVE still in progress after %v", saveTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// infoField returns a field of INFO persistence.
func infoField(t *testing.T, c *client, name string) string {
	t.Helper()
	for _, line := range strings.Split(string(must(t, c, "INFO", "persistence").data), "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO persistence has no %s field", name)
	return ""
}

// checkRDB runs redis-check-rdb on file, which must hold want's keys.
func checkRDB(t *testing.T, checker, file string, want dataState) {
	t.Helper()
	out, err := exec.Command(checker, file).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(`\o/ RDB looks OK! \o/`)) {
		t.Fatalf("redis-check-rdb %s: %v\n%s", file, err, out)
	}
	expires := 0
	for _, k := range want.keys {
		if k.pexpiretime >= 0 {
			expires++
		}
	}
	for _, line := range []string{
		fmt.Sprintf("[info] %d keys read", len(want.keys)),
		fmt.Sprintf("[info] %d expires", expires),
	} {
		if !bytes.Contains(out, []byte(line)) {
			t.Errorf("redis-check-rdb %s: no line %q in its output:\n%s", file, line, out)
		}
	}
}

// shutdown sends SHUTDOWN with args, which must close the connection
// without a reply, and waits for the server to exit with code 0.
func shutdown(t *testing.T, s *server, c *client, args ...string) {
	t.Helper()
	if r, err := c.doStrings(append([]string{"SHUTDOWN"}, args...)...); err == nil {
		t.Fatalf("SHUTDOWN %q = %s", args, r)
	}
	waitExit(t, s)
}

// sigterm sends SIGTERM and waits for the server to exit with code 0.
func sigterm(t *testing.T, s *server) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, s)
}

// waitExit waits for the server to exit, which it must do with code 0.
func waitExit(t *testing.T, s *server) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(saveTimeout):
		t.Fatalf("%s did not exit within %v", s.name, saveTimeout)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited with code %d; log:\n%s", s.name, code, s.log.tail(4096))
	}
}

// loadDigest starts lagwise on dir and returns the digest of what it
// loaded, or, when it does not start, why.
func loadDigest(t *testing.T, dir string) (string, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s, err := launch("lagwise", lagwiseBin, lagwiseArgs(t, port, dir), port)
	defer s.stop()
	if err != nil {
		return "", err
	}
	c, err := dial(s.addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	r, err := c.doStrings("DEBUG", "DIGEST")
	if err != nil {
		return "", err
	}
	if r.isError() {
		return "", fmt.Errorf("DEBUG DIGEST = %s", r)
	}
	return string(r.data), nil
}

// runLagwiseToExit starts lagwise on dir, expecting it to exit without
// serving, and returns its exit code and output. If it answers PING
// instead, the test fails.
func runLagwiseToExit(t *testing.T, dir string) (int, string) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s, err := launch("lagwise", lagwiseBin, lagwiseArgs(t, port, dir), port)
	s.stop()
	if err == nil {
		t.Fatalf("lagwise started serving on %s; log:\n%s", dir, s.log.tail(4096))
	}
	if s.cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return s.cmd.ProcessState.ExitCode(), s.log.String()
}

// lagwiseArgs are the arguments of a lagwise server on port in dir.
func lagwiseArgs(t *testing.T, port int, dir string) []string {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("the lagwise binary did not build:\n%v", buildErr)
	}
	return append([]string{"server"}, commonDirectives(port, dir)...)
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.WriteFile(dst, readFile(t, src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
