package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/internal/serverproc"
)

// ---- Encoders for the compact blobs, for tests only. They follow the
// layouts Redis writes; the reverse interop test has Redis load their
// output with deep sanitization to prove it.

// asInt reports whether s is an integer Redis would store as such in a
// listpack or ziplist (string2ll: canonical decimal that fits in int64).
func asInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != string(s) {
		return 0, false
	}
	return v, true
}

func appendBacklen(dst []byte, l int) []byte {
	switch backlenSize(l) {
	case 1:
		return append(dst, byte(l))
	case 2:
		return append(dst, byte(l>>7), byte(l&127)|128)
	case 3:
		return append(dst, byte(l>>14), byte(l>>7&127)|128, byte(l&127)|128)
	case 4:
		return append(dst, byte(l>>21), byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	}
	return append(dst, byte(l>>28), byte(l>>21&127)|128, byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
}

func encodeListpack(elems [][]byte) []byte {
	b := make([]byte, 6)
	for _, e := range elems {
		start := len(b)
		if v, ok := asInt(e); ok {
			switch {
			case v >= 0 && v <= 127:
				b = append(b, byte(v))
			case v >= -4096 && v <= 4095:
				u := uint64(v) & 0x1fff
				b = append(b, 0xC0|byte(u>>8), byte(u))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				b = append(b, 0xF1)
				b = binary.LittleEndian.AppendUint16(b, uint16(v))
			case v >= -(1<<23) && v < 1<<23:
				u := uint32(v)
				b = append(b, 0xF2, byte(u), byte(u>>8), byte(u>>16))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				b = append(b, 0xF3)
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			default:
				b = append(b, 0xF4)
				b = binary.LittleEndian.AppendUint64(b, uint64(v))
			}
		} else {
			switch l := len(e); {
			case l < 64:
				b = append(b, 0x80|byte(l))
			case l < 4096:
				b = append(b, 0xE0|byte(l>>8), byte(l))
			default:
				b = append(b, 0xF0)
				b = binary.LittleEndian.AppendUint32(b, uint32(l))
			}
			b = append(b, e...)
		}
		b = appendBacklen(b, len(b)-start)
	}
	b = append(b, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], uint16(min(len(elems), 0xFFFF)))
	return b
}

func encodeZiplist(elems [][]byte) []byte {
	b := make([]byte, 10)
	prev, tail := 0, 10
	for _, e := range elems {
		start := len(b)
		tail = start
		if prev < 254 {
			b = append(b, byte(prev))
		} else {
			b = append(b, 0xFE)
			b = binary.LittleEndian.AppendUint32(b, uint32(prev))
		}
		if v, ok := asInt(e); ok {
			switch {
			case v >= 0 && v <= 12:
				b = append(b, 0xF1+byte(v))
			case v >= math.MinInt8 && v <= math.MaxInt8:
				b = append(b, 0xFE, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				b = append(b, 0xC0)
				b = binary.LittleEndian.AppendUint16(b, uint16(v))
			case v >= -(1<<23) && v < 1<<23:
				u := uint32(v)
				b = append(b, 0xF0, byte(u), byte(u>>8), byte(u>>16))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				b = append(b, 0xD0)
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			default:
				b = append(b, 0xE0)
				b = binary.LittleEndian.AppendUint64(b, uint64(v))
			}
		} else {
			switch l := len(e); {
			case l <= 63:
				b = append(b, byte(l))
			case l <= 16383:
				b = append(b, 0x40|byte(l>>8), byte(l))
			default:
				b = append(b, 0x80)
				b = binary.BigEndian.AppendUint32(b, uint32(l))
			}
			b = append(b, e...)
		}
		prev = len(b) - start
	}
	b = append(b, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(tail))
	binary.LittleEndian.PutUint16(b[8:], uint16(min(len(elems), 0xFFFF)))
	return b
}

func encodeIntset(vals []int64) []byte {
	vals = slices.Clone(vals)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	w := 2
	for _, v := range vals {
		if v < math.MinInt32 || v > math.MaxInt32 {
			w = 8
		} else if (v < math.MinInt16 || v > math.MaxInt16) && w < 4 {
			w = 4
		}
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
	for _, v := range vals {
		switch w {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

func encodeZipmap(pairs [][2][]byte) []byte {
	b := []byte{byte(min(len(pairs), 254))}
	zlen := func(l int) {
		if l < 254 {
			b = append(b, byte(l))
		} else {
			b = append(b, 254)
			b = binary.LittleEndian.AppendUint32(b, uint32(l))
		}
	}
	for _, p := range pairs {
		zlen(len(p[0]))
		b = append(b, p[0]...)
		zlen(len(p[1]))
		b = append(b, 0) // free
		b = append(b, p[1]...)
	}
	return append(b, 0xFF)
}

// flat turns pairs into alternating elements.
func flatHash(h [][2][]byte) [][]byte {
	var out [][]byte
	for _, p := range h {
		out = append(out, p[0], p[1])
	}
	return out
}

func flatZSet(z []ZMember) [][]byte {
	var out [][]byte
	for _, m := range z {
		out = append(out, m.Member, []byte(formatScore(m.Score)))
	}
	return out
}

// formatScore formats a score as Redis does in compact encodings.
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// rawKey writes a key in an arbitrary encoding through the Writer's
// internals: body writes the value.
func rawKey(w *Writer, enc Encoding, key []byte, expireMs int64, body func(w *Writer)) {
	if w.begin(key, expireMs, enc, -1) {
		body(w)
		w.maybeFlush()
	}
}

// ---- Comparing datasets.

// normalize sorts the unordered parts of a value and drops what is not
// data (the encoding).
func normalize(k Key) Key {
	k.Encoding = 0
	k.Set = slices.Clone(k.Set)
	slices.SortFunc(k.Set, bytes.Compare)
	k.Hash = slices.Clone(k.Hash)
	slices.SortFunc(k.Hash, func(a, b [2][]byte) int { return bytes.Compare(a[0], b[0]) })
	k.ZSet = slices.Clone(k.ZSet)
	slices.SortFunc(k.ZSet, func(a, b ZMember) int { return bytes.Compare(a.Member, b.Member) })
	return k
}

// q quotes a value for describe, summarising long ones.
func q(b []byte) string {
	if len(b) > 256 {
		return fmt.Sprintf("<%d bytes, crc32 %08x>", len(b), crc32.ChecksumIEEE(b))
	}
	return strconv.Quote(string(b))
}

func describe(k Key) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "db=%d key=%s type=%v expire=%d ", k.DB, q(k.Key), k.Type, k.Expire)
	list := func(l [][]byte) {
		for _, e := range l {
			sb.WriteString(q(e))
			sb.WriteByte(' ')
		}
	}
	switch k.Type {
	case TypeString:
		sb.WriteString(q(k.String))
	case TypeList:
		list(k.List)
	case TypeSet:
		list(k.Set)
	case TypeHash:
		for _, p := range k.Hash {
			fmt.Fprintf(&sb, "%s=%s ", q(p[0]), q(p[1]))
		}
	case TypeZSet:
		for _, m := range k.ZSet {
			fmt.Fprintf(&sb, "%s:%x ", q(m.Member), math.Float64bits(m.Score))
		}
	}
	return sb.String()
}

func shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// compareKeys compares two collections of keys, ignoring order and
// encodings.
func compareKeys(t *testing.T, got, want []Key) {
	t.Helper()
	idx := func(ks []Key) map[string]string {
		m := make(map[string]string, len(ks))
		for _, k := range ks {
			id := fmt.Sprintf("%d/%q", k.DB, k.Key)
			if _, dup := m[id]; dup {
				t.Errorf("key %s appears twice", id)
			}
			m[id] = describe(normalize(k))
		}
		return m
	}
	g, w := idx(got), idx(want)
	bad := 0
	for id, d := range w {
		gd, ok := g[id]
		switch {
		case !ok:
			t.Errorf("missing key %s", id)
			bad++
		case gd != d:
			t.Errorf("key %s differs:\n got %s\nwant %s", id, shorten(gd), shorten(d))
			bad++
		}
		if bad > 10 {
			t.Fatal("too many differences")
		}
	}
	for id := range g {
		if _, ok := w[id]; !ok {
			t.Errorf("unexpected key %s", id)
		}
	}
}

// readAll reads a whole file, collecting keys and other entries; it fails
// the test on any error but the unsupported items, which it counts.
func readAll(t testing.TB, r *Reader) (keys []Key, others []Entry, unsupported []*UnsupportedError) {
	t.Helper()
	for {
		e, err := r.Next()
		if err == io.EOF {
			return
		}
		var ue *UnsupportedError
		if errors.As(err, &ue) && ue.Skipped {
			unsupported = append(unsupported, ue)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if k, ok := e.(Key); ok {
			keys = append(keys, k)
		} else {
			others = append(others, e)
		}
	}
}

// ---- The dataset the interop tests put into Redis and expect back.

const farFuture = 4102444800000 // 2100-01-01 in unix ms

var edgeInts = []string{"0", "1", "12", "13", "127", "128", "-1", "-128", "-129", "255", "4095", "-4096",
	"4096", "32767", "-32768", "32768", "8388607", "-8388608", "8388608", "2147483647",
	"-2147483648", "2147483648", "12345678901", "9223372036854775807", "-9223372036854775808"}

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// interopDataset returns keys in databases 0, 1 and 7 covering every type
// in the encodings Redis chooses under the thresholds of redisConfig: big
// selects the size of long strings and large collections.
func interopDataset(big bool) []Key {
	rng := rand.New(rand.NewPCG(7, 11))
	n, long := 200, 3000
	if big {
		n, long = 5000, 300000
	}
	var ks []Key
	add := func(db int, key string, exp int64, k Key) {
		k.DB, k.Key, k.Expire = db, []byte(key), exp
		ks = append(ks, k)
	}
	str := func(db int, key string, exp int64, v []byte) {
		add(db, key, exp, Key{Type: TypeString, String: v})
	}
	randBytes := func(l int) []byte {
		b := make([]byte, l)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	phrase := func(l int) []byte {
		var b []byte
		for i := 0; len(b) < l; i++ {
			b = fmt.Appendf(b, "the quick brown fox %d jumps over the lazy dog; ", i%37)
		}
		return b[:l]
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, d := range []struct{ db, exp int64 }{{0, -1}, {1, farFuture}} {
		db, exp := int(d.db), d.exp
		e := func(i int64) int64 {
			if exp < 0 {
				return -1
			}
			return exp + i*1000
		}
		str(db, "s:empty", e(1), []byte{})
		for i, v := range edgeInts {
			str(db, "s:int:"+v, e(int64(i)), []byte(v))
		}
		for _, v := range []string{"007", "+5", "-0", " 1", "1 ", "0x10", "1.5"} {
			str(db, "s:noncanon:"+v, e(2), []byte(v))
		}
		str(db, "s:bin", e(3), all)
		str(db, "s:lzf", e(4), phrase(300))
		str(db, "s:long", e(5), randBytes(long))
		str(db, "s:longcomp", e(6), phrase(long))
		str(db, "12345", e(7), []byte("int-like key"))
		str(db, "\x00\xffkey\n", e(8), []byte("binary key"))

		add(db, "l:small", e(9), Key{Type: TypeList, List: bs("a", "1", "-5", "", "b")})
		add(db, "l:ints", e(10), Key{Type: TypeList, List: bs(edgeInts...)})
		var l [][]byte
		for i := range n {
			l = append(l, fmt.Appendf(nil, "element-%06d-padpadpad", i))
		}
		add(db, "l:big", e(11), Key{Type: TypeList, List: l})
		var lp [][]byte
		for i := range 20 {
			if i%3 == 0 {
				lp = append(lp, phrase(200+i))
			} else {
				lp = append(lp, fmt.Appendf(nil, "short%d", i))
			}
		}
		add(db, "l:plain", e(12), Key{Type: TypeList, List: lp})

		add(db, "set:int16", e(13), Key{Type: TypeSet, Set: bs("1", "-5", "300", "32767", "-32768")})
		add(db, "set:int32", e(14), Key{Type: TypeSet, Set: bs("1", "70000", "-2147483648")})
		add(db, "set:int64", e(15), Key{Type: TypeSet, Set: bs("1", "9223372036854775807", "-9223372036854775808", "12345678901")})
		add(db, "set:str", e(16), Key{Type: TypeSet, Set: bs("a", "b", "", "1", "x\x00y")})
		var s, si [][]byte
		for i := range n {
			s = append(s, fmt.Appendf(nil, "member:%d", i))
			si = append(si, fmt.Appendf(nil, "%d", i*7-1000))
		}
		add(db, "set:big", e(17), Key{Type: TypeSet, Set: s})
		add(db, "set:bigint", e(18), Key{Type: TypeSet, Set: si})

		var hs [][2][]byte
		for i, v := range edgeInts[:10] {
			hs = append(hs, [2][]byte{fmt.Appendf(nil, "f%d", i), []byte(v)})
		}
		hs = append(hs, [2][]byte{[]byte("42"), []byte("")}, [2][]byte{[]byte(""), []byte("empty field")})
		add(db, "h:small", e(19), Key{Type: TypeHash, Hash: hs})
		var h [][2][]byte
		for i := range n {
			h = append(h, [2][]byte{fmt.Appendf(nil, "field:%d", i), fmt.Appendf(nil, "value:%d", i*i)})
		}
		add(db, "h:big", e(20), Key{Type: TypeHash, Hash: h})
		add(db, "h:longval", e(21), Key{Type: TypeHash, Hash: [][2][]byte{{[]byte("f"), phrase(100)}, {[]byte("g"), []byte("1")}}})

		zs := []ZMember{{[]byte("zero"), 0}, {[]byte("half"), 1.5}, {[]byte("neg"), -2}, {[]byte("inf"), math.Inf(1)},
			{[]byte("-inf"), math.Inf(-1)}, {[]byte("huge"), 1e300}, {[]byte("pi"), math.Pi}, {[]byte("7"), 7},
			{[]byte("tiny"), 5e-324}, {[]byte("bigint"), 1 << 60}}
		add(db, "z:small", e(22), Key{Type: TypeZSet, ZSet: zs})
		var z []ZMember
		for i := range n {
			z = append(z, ZMember{fmt.Appendf(nil, "m%d", i), rng.NormFloat64() * 1e6})
		}
		add(db, "z:big", e(23), Key{Type: TypeZSet, ZSet: z})
	}
	str(7, "s:db7", farFuture+99, []byte("in db 7"))
	add(7, "h:db7", -1, Key{Type: TypeHash, Hash: [][2][]byte{{[]byte("a"), []byte("b")}}})
	return ks
}

// Thresholds small enough that the dataset has both compact and big
// encodings of every type.
var redisConfig = []string{
	"hash-max-listpack-entries", "16", "hash-max-listpack-value", "32",
	"zset-max-listpack-entries", "16", "zset-max-listpack-value", "32",
	"set-max-intset-entries", "32", "list-max-listpack-size", "8",
	"list-compress-depth", "1", "rdbcompression", "yes", "rdbchecksum", "yes",
	"maxmemory-policy", "allkeys-lfu", "enable-debug-command", "yes",
}

// ---- Running Redis.

type redisServer struct {
	dir  string
	addr string
	cmd  *exec.Cmd
}

func needRedis(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed, and CI requires the interop tests", bin)
		}
		t.Skipf("%s is not installed", bin)
	}
	return p
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis runs redis-server on a free port with dir as its directory
// and dbfilename as its RDB file, and waits until it has loaded.
func startRedis(t *testing.T, dir, dbfilename string, config ...string) *redisServer {
	t.Helper()
	bin := needRedis(t, "redis-server")
	port := freePort(t)
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--dbfilename", dbfilename, "--save", "", "--appendonly", "no",
		"--logfile", filepath.Join(dir, "redis.log"), "--databases", "16"}
	for i := 0; i+1 < len(config); i += 2 {
		args = append(args, "--"+config[i], config[i+1])
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s := &redisServer{dir: dir, addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Logf("redis log:\n%s", log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server exited:\n%s", log)
		default:
		}
		if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
			rc := newRespConn(c)
			v, err := rc.do("PING")
			c.Close()
			if err == nil && v == "PONG" && serverproc.Is(s.addr, cmd.Process.Pid, "") {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not become ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *redisServer) conn(t *testing.T) *respConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newRespConn(c)
}

// respConn is a minimal RESP2 client with pipelining.
type respConn struct {
	c       net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	pending int
}

type respError string

func (e respError) Error() string { return string(e) }

func newRespConn(c net.Conn) *respConn {
	return &respConn{c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
}

// send queues a command; args are strings, []byte or ints.
func (c *respConn) send(args ...any) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		var b []byte
		switch a := a.(type) {
		case string:
			b = []byte(a)
		case []byte:
			b = a
		case int:
			b = strconv.AppendInt(nil, int64(a), 10)
		case int64:
			b = strconv.AppendInt(nil, a, 10)
		default:
			panic(fmt.Sprintf("bad argument %T", a))
		}
		fmt.Fprintf(c.w, "$%d\r\n", len(b))
		c.w.Write(b)
		c.w.WriteString("\r\n")
	}
	c.pending++
}

// flush sends the queued commands and reads their replies, returning the
// first error reply.
func (c *respConn) flush() error {
	if err := c.w.Flush(); err != nil {
		return err
	}
	var first error
	c.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for ; c.pending > 0; c.pending-- {
		_, err := c.read()
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *respConn) do(args ...any) (any, error) {
	if err := c.flush(); err != nil {
		return nil, err
	}
	c.send(args...)
	c.pending = 0
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	c.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	return c.read()
}

// read returns string (simple), []byte (bulk, nil for null), int64 or
// []any, or a respError.
func (c *respConn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, respError(line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return []byte(nil), nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return nil, err
		}
		return b[:n], nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]any, 0, max(n, 0))
		var firstErr error
		for range n {
			v, err := c.read()
			if err != nil {
				if _, ok := err.(respError); !ok {
					return nil, err
				}
				firstErr = err
			}
			out = append(out, v)
		}
		return out, firstErr
	}
	return nil, fmt.Errorf("bad reply %q", line)
}

// mustDo runs a command and fails the test on an error.
func (c *respConn) mustDo(t testing.TB, args ...any) any {
	t.Helper()
	v, err := c.do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// load puts keys into Redis with pipelined commands.
func (c *respConn) load(t *testing.T, keys []Key) {
	t.Helper()
	const batch = 500
	for _, k := range keys {
		c.send("SELECT", k.DB)
		switch k.Type {
		case TypeString:
			c.send("SET", k.Key, k.String)
		case TypeList:
			for i := 0; i < len(k.List); i += batch {
				args := []any{"RPUSH", k.Key}
				for _, e := range k.List[i:min(i+batch, len(k.List))] {
					args = append(args, e)
				}
				c.send(args...)
			}
		case TypeSet:
			for i := 0; i < len(k.Set); i += batch {
				args := []any{"SADD", k.Key}
				for _, e := range k.Set[i:min(i+batch, len(k.Set))] {
					args = append(args, e)
				}
				c.send(args...)
			}
		case TypeHash:
			for i := 0; i < len(k.Hash); i += batch {
				args := []any{"HSET", k.Key}
				for _, p := range k.Hash[i:min(i+batch, len(k.Hash))] {
					args = append(args, p[0], p[1])
				}
				c.send(args...)
			}
		case TypeZSet:
			for i := 0; i < len(k.ZSet); i += batch {
				args := []any{"ZADD", k.Key}
				for _, m := range k.ZSet[i:min(i+batch, len(k.ZSet))] {
					args = append(args, formatScore(m.Score), m.Member)
				}
				c.send(args...)
			}
		}
		if k.Expire >= 0 {
			c.send("PEXPIREAT", k.Key, k.Expire)
		}
		if c.pending > 200 {
			if err := c.flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads every key of the given databases back from Redis.
func (c *respConn) snapshot(t *testing.T, dbs []int) []Key {
	t.Helper()
	var out []Key
	for _, db := range dbs {
		c.mustDo(t, "SELECT", db)
		cursor := "0"
		var names [][]byte
		for {
			v := c.mustDo(t, "SCAN", cursor, "COUNT", 1000).([]any)
			cursor = string(v[0].([]byte))
			for _, k := range v[1].([]any) {
				names = append(names, k.([]byte))
			}
			if cursor == "0" {
				break
			}
		}
		for _, name := range names {
			k := Key{DB: db, Key: name}
			k.Expire = c.mustDo(t, "PEXPIRETIME", name).(int64)
			typ := c.mustDo(t, "TYPE", name).(string)
			strs := func(v any) [][]byte {
				var out [][]byte
				for _, e := range v.([]any) {
					out = append(out, e.([]byte))
				}
				return out
			}
			switch typ {
			case "string":
				k.Type, k.String = TypeString, c.mustDo(t, "GET", name).([]byte)
			case "list":
				k.Type, k.List = TypeList, strs(c.mustDo(t, "LRANGE", name, 0, -1))
			case "set":
				k.Type, k.Set = TypeSet, strs(c.mustDo(t, "SMEMBERS", name))
			case "hash":
				k.Type = TypeHash
				f := strs(c.mustDo(t, "HGETALL", name))
				for i := 0; i+1 < len(f); i += 2 {
					k.Hash = append(k.Hash, [2][]byte{f[i], f[i+1]})
				}
			case "zset":
				k.Type = TypeZSet
				f := strs(c.mustDo(t, "ZRANGE", name, 0, -1, "WITHSCORES"))
				for i := 0; i+1 < len(f); i += 2 {
					score, ok := parseScore(f[i+1])
					if !ok {
						t.Fatalf("bad score %q", f[i+1])
					}
					k.ZSet = append(k.ZSet, ZMember{f[i], score})
				}
			case "stream":
				continue // not represented; the Reader reports it
			default:
				t.Fatalf("key %q has type %s", name, typ)
			}
			out = append(out, k)
		}
	}
	return out
}
