package rdb

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testdataDump = "testdata/redis-7.0.15.rdb"

// addUnsupported gives Redis a stream (with a consumer group, pending
// entries and consumers) and a function library, which the Reader must
// report and step over.
func addUnsupported(t *testing.T, c *respConn) {
	c.mustDo(t, "SELECT", 1)
	c.mustDo(t, "XADD", "mystream", "1-1", "f", "v")
	c.mustDo(t, "XADD", "mystream", "2-1", "f", "v2", "g", "w")
	c.mustDo(t, "XADD", "mystream", "3-1", "f", "v3")
	c.mustDo(t, "XDEL", "mystream", "2-1")
	c.mustDo(t, "XGROUP", "CREATE", "mystream", "g1", "0")
	c.mustDo(t, "XGROUP", "CREATE", "mystream", "g2", "$")
	c.mustDo(t, "XREADGROUP", "GROUP", "g1", "c1", "COUNT", 1, "STREAMS", "mystream", ">")
	c.mustDo(t, "XREADGROUP", "GROUP", "g1", "c2", "COUNT", 5, "STREAMS", "mystream", ">")
	c.mustDo(t, "XGROUP", "CREATECONSUMER", "mystream", "g2", "idle")
	c.mustDo(t, "PEXPIREAT", "mystream", farFuture)
	c.mustDo(t, "FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)")
}

// checkRedisDump reads a dump of interopDataset (plus addUnsupported)
// written by Redis and checks that every encoding Redis used was met and
// decoded to exactly the data put in.
func checkRedisDump(t *testing.T, src io.Reader, want []Key) {
	t.Helper()
	rd := NewReader(src)
	keys, others, unsup := readAll(t, rd)
	if rd.Version() != Version {
		t.Errorf("version %d", rd.Version())
	}
	compareKeys(t, keys, want)

	aux := map[string]string{}
	var dbs []int
	resizes := 0
	for _, e := range others {
		switch e := e.(type) {
		case Aux:
			aux[e.Key] = e.Value
		case SelectDB:
			dbs = append(dbs, e.DB)
		case ResizeDB:
			resizes++
		}
	}
	if !strings.HasPrefix(aux["redis-ver"], "7.0.") || aux["redis-bits"] != "64" || aux["ctime"] == "" ||
		aux["used-mem"] == "" || aux["aof-base"] != "0" {
		t.Errorf("aux fields: %q", aux)
	}
	if !slices.Equal(dbs, []int{0, 1, 7}) || resizes != 3 {
		t.Errorf("databases %v, %d resize entries", dbs, resizes)
	}

	seen := map[Encoding]int{}
	for _, k := range keys {
		seen[k.Encoding]++
	}
	for _, e := range []Encoding{EncString, EncListQuicklist2, EncSetIntset, EncSet, EncHashListpack, EncHash, EncZSetListpack, EncZSet2} {
		if seen[e] == 0 {
			t.Errorf("no key in encoding %v; seen %v", e, seen)
		}
	}
	st := rd.stats
	if st.lzf == 0 || st.lzfValues == 0 || st.plainNodes == 0 || st.packedNodes == 0 || st.intStrings == 0 {
		t.Errorf("encodings not exercised: %+v", st)
	}
	t.Logf("encodings %v, stats %+v", seen, st)

	if len(unsup) != 2 {
		t.Fatalf("unsupported items: %v", unsup)
	}
	const streamMsg = `rdb: key "mystream" has type stream (19), which lagwise does not support`
	if got := unsup[0].Error(); got != "rdb: the file holds a function library (opcode 0xf5), which lagwise does not support" {
		t.Errorf("function: %s", got)
	}
	if got := unsup[1].Error(); got != streamMsg || !errors.Is(unsup[1], ErrUnsupported) {
		t.Errorf("stream: %s", got)
	}
}

// TestRedisDumpReads has Redis write a dump with compact and big
// encodings of every type and reads it.
func TestRedisDumpReads(t *testing.T) {
	update := os.Getenv("RDB_UPDATE_TESTDATA") != ""
	dir := t.TempDir()
	s := startRedis(t, dir, "dump.rdb", redisConfig...)
	c := s.conn(t)
	c.mustDo(t, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
	want := interopDataset(!update)
	c.load(t, want)
	addUnsupported(t, c)
	c.mustDo(t, "SAVE")

	f, err := os.Open(filepath.Join(dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkRedisDump(t, f, want)

	// Redis must agree with itself: the data it holds is the data put in.
	compareKeys(t, c.snapshot(t, []int{0, 1, 7}), want)

	if update {
		b, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(testdataDump, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", testdataDump, len(b))
	}
}

// TestRedisDumpTestdata reads a dump Redis 7.0.15 wrote (by
// TestRedisDumpReads with RDB_UPDATE_TESTDATA=1), without needing Redis.
func TestRedisDumpTestdata(t *testing.T) {
	f, err := os.Open(testdataDump)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkRedisDump(t, bufio.NewReaderSize(f, 16), interopDataset(false))
}

// writeDataset writes keys and legacy keys grouped by database.
func writeDataset(t testing.TB, w *Writer, keys []Key, legacy []legacyKey) {
	t.Helper()
	w.Header()
	w.Aux("redis-ver", "7.0.15")
	w.AuxInt("redis-bits", 64)
	w.AuxInt("ctime", 1700000000)
	w.AuxInt("used-mem", 5000000000)
	w.AuxInt("aof-base", 0)
	byDB := map[int][]Key{}
	legacyByDB := map[int][]legacyKey{}
	var dbs []int
	note := func(db int) {
		if !slices.Contains(dbs, db) {
			dbs = append(dbs, db)
		}
	}
	for _, k := range keys {
		byDB[k.DB] = append(byDB[k.DB], k)
		note(k.DB)
	}
	for _, l := range legacy {
		legacyByDB[l.want.DB] = append(legacyByDB[l.want.DB], l)
		note(l.want.DB)
	}
	slices.Sort(dbs)
	for _, db := range dbs {
		w.SelectDB(db)
		var exp uint64
		for _, k := range byDB[db] {
			if k.Expire >= 0 {
				exp++
			}
		}
		w.ResizeDB(uint64(len(byDB[db])+len(legacyByDB[db])), exp)
		for _, k := range byDB[db] {
			if err := w.Key(&k); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range legacyByDB[db] {
			l.write(w)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func legacyWants(l []legacyKey) []Key {
	var out []Key
	for _, k := range l {
		out = append(out, k.want)
	}
	return out
}

func checkRDB(t *testing.T, path string) {
	t.Helper()
	bin := needRedis(t, "redis-check-rdb")
	out, err := exec.Command(bin, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RDB looks OK") {
		t.Fatalf("redis-check-rdb %s: %v\n%s", path, err, out)
	}
}

// TestWriterOutputLoadsInRedis writes a file with every type, TTLs,
// several databases and compression, plus keys in all the older
// encodings, checks it with redis-check-rdb, has Redis load it with deep
// sanitization and compares what Redis holds.
func TestWriterOutputLoadsInRedis(t *testing.T) {
	needRedis(t, "redis-server")
	dir := t.TempDir()
	keys := interopDataset(true)
	legacy := append(legacyKeys(0, false), legacyKeys(3, false)...)
	want := append(slices.Clone(keys), legacyWants(legacy)...)

	path := filepath.Join(dir, "ours.rdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, WriterOptions{Compress: true, Checksum: true})
	writeDataset(t, w, keys, legacy)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	checkRDB(t, path)

	// Our own reader gets it all back too, the older encodings included.
	rf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rd := NewReader(rf)
	got, _, unsup := readAll(t, rd)
	rf.Close()
	if len(unsup) > 0 {
		t.Fatal(unsup)
	}
	compareKeys(t, got, want)
	if rd.stats.lzf == 0 || rd.stats.intStrings == 0 {
		t.Errorf("stats %+v", rd.stats)
	}

	s := startRedis(t, dir, "ours.rdb", "sanitize-dump-payload", "yes")
	c := s.conn(t)
	compareKeys(t, c.snapshot(t, []int{0, 1, 3, 7}), want)
	info := string(c.mustDo(t, "INFO", "keyspace").([]byte))
	for _, line := range strings.Split(info, "\n") {
		if strings.HasPrefix(line, "db") && !strings.HasPrefix(line, "db0:") && !strings.HasPrefix(line, "db1:") &&
			!strings.HasPrefix(line, "db3:") && !strings.HasPrefix(line, "db7:") {
			t.Errorf("unexpected database: %s", line)
		}
	}
}

// TestWriterNoChecksumLoadsInRedis: without checksums the file ends in
// eight zero bytes, which Redis accepts.
func TestWriterNoChecksumLoadsInRedis(t *testing.T) {
	needRedis(t, "redis-server")
	dir := t.TempDir()
	keys := interopDataset(false)
	path := filepath.Join(dir, "nosum.rdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeDataset(t, NewWriter(f, WriterOptions{}), keys, nil)
	f.Close()
	checkRDB(t, path)
	s := startRedis(t, dir, "nosum.rdb")
	compareKeys(t, s.conn(t).snapshot(t, []int{0, 1, 7}), keys)
}
