package backend

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The expected replies in this file and in cmd_set_test.go are the bytes
// Redis 7.0 sends; BACKEND_TEST_REDIS runs the tests that talk to a server
// against a reference server instead (see testutil_test.go).

type hsStep struct {
	cmd  string // arguments separated by spaces; "double quotes" group
	want string // raw RESP reply
	mode int
}

const (
	hsExact  = iota
	hsSorted // the reply is an array whose order Redis leaves random: compare it sorted
)

// hsTarget is the address to test (see testTarget), with the hash and set
// encoding limits of a reference server at their defaults.
func hsTarget(t *testing.T) string {
	t.Helper()
	return testTarget(t,
		"config set hash-max-listpack-entries 128",
		"config set hash-max-listpack-value 64",
		"config set set-max-intset-entries 512")
}

// hsDial connects to addr; its command lines are split by hsSplit.
func hsDial(t *testing.T, addr string) *testConn {
	t.Helper()
	c := dialTest(t, addr)
	c.split = hsSplit
	return c
}

// hsSplit splits a command line on spaces; "double quotes" make one
// argument (possibly empty) of what they enclose.
func hsSplit(line string) []string {
	var args []string
	for i := 0; i < len(line); {
		switch {
		case line[i] == ' ':
			i++
		case line[i] == '"':
			j := strings.IndexByte(line[i+1:], '"')
			args = append(args, line[i+1:i+1+j])
			i += j + 2
		default:
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			args = append(args, line[i:i+j])
			i += j
		}
	}
	return args
}

// hsElems returns the raw top-level elements of an array reply and its
// header.
func hsElems(t *testing.T, raw string) (header string, elems []string) {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(raw))
	header, err := r.ReadString('\n')
	if err != nil || header[0] != '*' {
		t.Fatalf("not an array reply: %q", raw)
	}
	n, _ := strconv.Atoi(header[1 : len(header)-2])
	for i := 0; i < n; i++ {
		var sb strings.Builder
		if err := readReply(r, &sb); err != nil {
			t.Fatalf("bad array reply %q: %v", raw, err)
		}
		elems = append(elems, sb.String())
	}
	return header, elems
}

// hsBulks returns the payloads of an array of bulk strings.
func hsBulks(t *testing.T, raw string) []string {
	t.Helper()
	_, elems := hsElems(t, raw)
	out := make([]string, len(elems))
	for i, e := range elems {
		if e[0] != '$' {
			t.Fatalf("element %q of %q is not a bulk string", e, raw)
		}
		out[i] = e[strings.Index(e, "\r\n")+2 : len(e)-2]
	}
	return out
}

// hsSortedReply sorts the elements of an array reply.
func hsSortedReply(t *testing.T, raw string) string {
	t.Helper()
	if !strings.HasPrefix(raw, "*") {
		return raw
	}
	header, elems := hsElems(t, raw)
	slices.Sort(elems)
	return header + strings.Join(elems, "")
}

// hsRun runs steps in order on one connection of a fresh target.
func hsRun(t *testing.T, steps []hsStep) {
	t.Helper()
	c := hsDial(t, hsTarget(t))
	for _, st := range steps {
		got := c.cmd(st.cmd)
		want := st.want
		if st.mode == hsSorted {
			got, want = hsSortedReply(t, got), hsSortedReply(t, want)
		}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", st.cmd, got, want)
		}
	}
}

func hsBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func TestHashCommandsReplies(t *testing.T) { hsRun(t, hsHashSteps) }

// Results of HINCRBYFLOAT too long for the table: their length, first
// digits and SHA-256, from Redis 7.0.
func TestHashIncrByFloatHuge(t *testing.T) {
	cases := []struct {
		start, incr string
		n           int
		prefix, sum string
	}{
		{"1.18e4932", "0", 4933, "118000000000", "c9fb919511e23feeeb328fba5a5d442f724eee273008dc23058ec372cf677358"},
		{"1e4000", "1", 4000, "999999999999", "5b56729d9b9cbc79bf6bfea495c4bb22394d8fd34e39109c79c13afa3dc3efa0"},
		{"1.1897314953572317650e4932", "0", 4933, "118973149535", "39319dad6400899a3385cef1c62991c21106f7f12a7dea6f3849a857ad9131a6"},
		{"-1e4932", "-1e4931", 4934, "-11000000000", "36e04dfa0ef05f4ab2fb9a7383b955e486eaee9e3d52f5ceba2990d4f5d1c8b7"},
		{"0x1.fffffffffffffffep16383", "0", 4933, "118973149535", "39319dad6400899a3385cef1c62991c21106f7f12a7dea6f3849a857ad9131a6"},
	}
	c := hsDial(t, hsTarget(t))
	for _, tc := range cases {
		c.do("del", "h")
		c.do("hset", "h", "f", tc.start)
		bulks := hsBulks(t, "*1\r\n"+c.do("hincrbyfloat", "h", "f", tc.incr))
		got := bulks[0]
		sum := sha256.Sum256([]byte(got))
		if len(got) != tc.n || !strings.HasPrefix(got, tc.prefix) || hex.EncodeToString(sum[:]) != tc.sum {
			t.Errorf("hincrbyfloat %s %s: got %d bytes starting %.20q", tc.start, tc.incr, len(got), got)
		}
	}
	c.do("hset", "h", "f", "0x1p16383")
	if got := c.do("hincrbyfloat", "h", "f", "0x1.fffffffffffffffep16383"); got != "-ERR increment would produce NaN or Infinity\r\n" {
		t.Errorf("overflow: got %q", got)
	}
}

func TestHashRandField(t *testing.T) {
	c := hsDial(t, hsTarget(t))
	for _, tc := range []struct {
		name string
		n    int
	}{{"listpack", 5}, {"hashtable", 600}} {
		key := "h-" + tc.name
		fields := map[string]string{}
		args := []string{"hset", key}
		for i := 0; i < tc.n; i++ {
			f, v := "f"+strconv.Itoa(i), "v"+strconv.Itoa(i*7)
			fields[f] = v
			args = append(args, f, v)
		}
		c.do(args...)
		if got := c.do("object", "encoding", key); got != hsBulk(tc.name) {
			t.Fatalf("%s: encoding %q", key, got)
		}
		// Single field.
		for i := 0; i < 20; i++ {
			f := hsBulks(t, "*1\r\n"+c.do("hrandfield", key))[0]
			if _, ok := fields[f]; !ok {
				t.Fatalf("%s: hrandfield returned unknown field %q", key, f)
			}
		}
		for _, count := range []int{1, 2, tc.n - 1, tc.n / 2, tc.n / 4} {
			if count < 1 {
				continue
			}
			// Distinct fields.
			got := hsBulks(t, c.do("hrandfield", key, strconv.Itoa(count)))
			if len(got) != count {
				t.Fatalf("%s count %d: %d fields", key, count, len(got))
			}
			seen := map[string]bool{}
			for _, f := range got {
				if _, ok := fields[f]; !ok || seen[f] {
					t.Fatalf("%s count %d: bad or repeated field %q in %q", key, count, f, got)
				}
				seen[f] = true
			}
			pairs := hsBulks(t, c.do("hrandfield", key, strconv.Itoa(count), "withvalues"))
			if len(pairs) != 2*count {
				t.Fatalf("%s count %d withvalues: %d items", key, count, len(pairs))
			}
			for i := 0; i < len(pairs); i += 2 {
				if fields[pairs[i]] != pairs[i+1] {
					t.Fatalf("%s: pair %q %q", key, pairs[i], pairs[i+1])
				}
			}
		}
		// With repetitions: every field turns up about as often.
		draws := 200 * tc.n
		got := hsBulks(t, c.do("hrandfield", key, strconv.Itoa(-draws)))
		if len(got) != draws {
			t.Fatalf("%s: %d draws, want %d", key, len(got), draws)
		}
		hist := map[string]int{}
		for _, f := range got {
			if _, ok := fields[f]; !ok {
				t.Fatalf("%s: unknown field %q", key, f)
			}
			hist[f]++
		}
		for f := range fields {
			// Redis's own sampling is only roughly fair: check ours alone.
			if testRedisAddr() == "" && (hist[f] < 100 || hist[f] > 300) {
				t.Errorf("%s: field %s drawn %d times of %d, expected about 200", key, f, hist[f], draws)
			}
		}
		pairs := hsBulks(t, c.do("hrandfield", key, "-7", "withvalues"))
		for i := 0; i < len(pairs); i += 2 {
			if fields[pairs[i]] != pairs[i+1] {
				t.Fatalf("%s: pair %q %q", key, pairs[i], pairs[i+1])
			}
		}
	}
}

// hsScanAll runs a SCAN-family command to the end and returns every item
// returned (flattened), checking that it ends within maxCalls calls.
func hsScanAll(t *testing.T, c *testConn, maxCalls int, args []string, between func()) []string {
	t.Helper()
	cursor := "0"
	var all []string
	for calls := 0; ; calls++ {
		if calls == maxCalls {
			t.Fatalf("%v: no end after %d calls", args, maxCalls)
		}
		a := append([]string{args[0], args[1], cursor}, args[2:]...)
		_, elems := hsElems(t, c.do(a...))
		if len(elems) != 2 {
			t.Fatalf("bad scan reply")
		}
		cursor = hsBulks(t, "*1\r\n"+elems[0])[0]
		all = append(all, hsBulks(t, elems[1])...)
		if cursor == "0" {
			return all
		}
		if between != nil {
			between()
		}
	}
}

// HSCAN over a hashtable: every field present for the whole scan comes
// back, with its value, even while the hash grows and shrinks.
func TestHashScanHashtable(t *testing.T) {
	c := hsDial(t, hsTarget(t))
	other := hsDial(t, hsTarget2(t, c))
	const n = 5000
	args := []string{"hset", "h"}
	for i := 0; i < n; i++ {
		args = append(args, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	c.do(args...)
	for _, count := range []string{"1", "10", "1000"} {
		items := hsScanAll(t, c, 3*n, []string{"hscan", "h", "count", count}, nil)
		seen := map[string]bool{}
		for i := 0; i < len(items); i += 2 {
			if "v"+items[i][1:] != items[i+1] {
				t.Fatalf("pair %q %q", items[i], items[i+1])
			}
			seen[items[i]] = true
		}
		if len(seen) != n {
			t.Fatalf("count %s: %d distinct fields, want %d", count, len(seen), n)
		}
	}
	// Fields f0..f2499 stay; the others are deleted while new ones come
	// and go.
	step := 0
	between := func() {
		step++
		for j := 0; j < 40; j++ {
			other.do("hset", "h", fmt.Sprintf("new%d-%d", step, j), "x")
		}
		if d := n/2 + step*25; d < n {
			for j := d; j < d+25 && j < n; j++ {
				other.do("hdel", "h", "f"+strconv.Itoa(j))
			}
		}
		if step%3 == 0 {
			for j := 0; j < 40; j++ {
				other.do("hdel", "h", fmt.Sprintf("new%d-%d", step-1, j))
			}
		}
	}
	items := hsScanAll(t, c, 10*n, []string{"hscan", "h", "count", "50"}, between)
	seen := map[string]bool{}
	for i := 0; i < len(items); i += 2 {
		seen[items[i]] = true
	}
	for i := 0; i < n/2; i++ {
		if !seen["f"+strconv.Itoa(i)] {
			t.Fatalf("field f%d was present all along but not returned", i)
		}
	}
	// MATCH filters fields, values are not matched.
	items = hsScanAll(t, c, 3*n, []string{"hscan", "h", "match", "f1?", "count", "100"}, nil)
	slices.Sort(items)
	want := []string{}
	for i := 10; i < 20; i++ {
		want = append(want, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	slices.Sort(want)
	if !slices.Equal(items, want) {
		t.Fatalf("match f1?: got %q", items)
	}
}

// hsTarget2 is the address c is connected to, for a second connection.
func hsTarget2(t *testing.T, c *testConn) string { return c.conn.RemoteAddr().String() }

// WATCH sees a key changed by a command exactly when Redis signals it:
// HSET always, HDEL/HSETNX/HINCRBY only when they change something.
func TestHashWatch(t *testing.T) {
	c := hsDial(t, hsTarget(t))
	other := hsDial(t, hsTarget2(t, c))
	c.cmd("hset h a 1")
	for _, tc := range []struct {
		cmd     string
		touches bool
	}{
		{"hset h a 1", true},
		{"hmset h a 1", true},
		{"hsetnx h a 2", false},
		{"hsetnx h b 2", true},
		{"hdel h zz", false},
		{"hdel h b", true},
		{"hincrby h a 0", true},
		{"hincrby h zz x", false},
		{"hincrbyfloat h a 0", true},
		{"hget h a", false},
		{"hdel nokey a", false},
	} {
		c.expect("watch h", "+OK\r\n")
		other.cmd(tc.cmd)
		c.expect("multi", "+OK\r\n")
		c.expect("ping", "+QUEUED\r\n")
		want := "*1\r\n+PONG\r\n"
		if tc.touches {
			want = "*-1\r\n"
		}
		c.expect("exec", want)
		if t.Failed() {
			t.Fatalf("after %s", tc.cmd)
		}
	}
}

func TestLongDoubleParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in, out string // out "" means invalid
	}{
		{"0.1", "0.1"},
		{"-0", "0"},
		{"1e-20", "0"},
		{"123.456e1", "1234.56"},
		{"0x1p-1", "0.5"},
		{"1e4933", ""},
		{"0x1p16384", ""},
		{"0x1p-16446", ""},
		{"0x1.1p-16446", "0"},
		{"inf", "inf"},
		{"-INFINITY", "-inf"},
		{"nan", ""},
		{"1e", ""},
		{"e1", ""},
		{"+.", ""},
		{"++1", ""},
		{"0x", ""},
		{"0x1p", ""},
		{"1.5E+2", "150"},
		{"0." + strings.Repeat("1", 5117), "0.11111111111111111"},
		{"0." + strings.Repeat("1", 5118), ""}, // 5120 characters: too long for string2ld
	} {
		f, ok := ld80Parse(tc.in)
		if !ok {
			if tc.out != "" {
				t.Errorf("ld80Parse(%.30q) failed", tc.in)
			}
			continue
		}
		if tc.out == "" {
			t.Errorf("ld80Parse(%.30q) succeeded", tc.in)
			continue
		}
		var got string
		if f.IsInf() {
			got = "inf"
			if f.Signbit() {
				got = "-inf"
			}
		} else {
			got = ld80FormatHuman(f)
		}
		if !strings.HasPrefix(got, tc.out) {
			t.Errorf("ld80Parse(%.30q) = %.40q, want %q", tc.in, got, tc.out)
		}
	}
}

var hsHashSteps = []hsStep{
	// Arity and the basic write/read commands.
	{"hset h a", "-ERR wrong number of arguments for 'hset' command\r\n", 0},
	{"hset h a 1 b", "-ERR wrong number of arguments for 'hset' command\r\n", 0},
	{"hmset h a", "-ERR wrong number of arguments for 'hmset' command\r\n", 0},
	{"hset h a 1 b 2", ":2\r\n", 0},
	{"hset h a 3", ":0\r\n", 0},
	{"hgetall h", "*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n", 0},
	{"hmset h c 3 d 4", "+OK\r\n", 0},
	{"hgetall h", "*8\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n", 0},
	{"hkeys h", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", 0},
	{"hvals h", "*4\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", 0},
	{"hlen h", ":4\r\n", 0},
	{"hget h c", "$1\r\n3\r\n", 0},
	{"hget h zz", "$-1\r\n", 0},
	{"hmget h a zz b", "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n2\r\n", 0},
	{"hexists h c", ":1\r\n", 0},
	{"hexists h zz", ":0\r\n", 0},
	{"hstrlen h a", ":1\r\n", 0},
	{"hstrlen h zz", ":0\r\n", 0},
	{"object encoding h", "$8\r\nlistpack\r\n", 0},
	// Missing keys.
	{"hget nokey zz", "$-1\r\n", 0},
	{"hmget nokey a b", "*2\r\n$-1\r\n$-1\r\n", 0},
	{"hgetall nokey", "*0\r\n", 0},
	{"hkeys nokey", "*0\r\n", 0},
	{"hvals nokey", "*0\r\n", 0},
	{"hlen nokey", ":0\r\n", 0},
	{"hexists nokey zz", ":0\r\n", 0},
	{"hstrlen nokey a", ":0\r\n", 0},
	{"hdel nokey a", ":0\r\n", 0},
	// Wrong type, checked after argument errors as Redis does.
	{"set str x", "+OK\r\n", 0},
	{"hset str a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hset str a", "-ERR wrong number of arguments for 'hset' command\r\n", 0},
	{"hsetnx str a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hget str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hmget str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hgetall str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hkeys str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hvals str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hlen str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hexists str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hstrlen str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hdel str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hincrby str a x", "-ERR value is not an integer or out of range\r\n", 0},
	{"hincrby str a 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hincrbyfloat str a x", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat str a inf", "-ERR value is NaN or Infinity\r\n", 0},
	{"hincrbyfloat str a 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hrandfield str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hrandfield str 5", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hrandfield str 5 withvalues", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hrandfield str 5 foo", "-ERR syntax error\r\n", 0},
	{"hscan str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hscan str 0 foo", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"hscan str x", "-ERR invalid cursor\r\n", 0},
	// HDEL removes the key with its last field.
	{"hdel h a nope b", ":2\r\n", 0},
	{"hdel h a", ":0\r\n", 0},
	{"hgetall h", "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n", 0},
	{"hdel h c d e", ":2\r\n", 0},
	{"exists h", ":0\r\n", 0},
	// HSETNX.
	{"hsetnx h2 f v", ":1\r\n", 0},
	{"hsetnx h2 f w", ":0\r\n", 0},
	{"hget h2 f", "$1\r\nv\r\n", 0},
	// HINCRBY.
	{"hset h3 a 3 s abc j \" 1\" k 007", ":4\r\n", 0},
	{"hincrby h3 a x", "-ERR value is not an integer or out of range\r\n", 0},
	{"hincrby h3 a 1.5", "-ERR value is not an integer or out of range\r\n", 0},
	{"hincrby h3 a 9223372036854775807", "-ERR increment or decrement would overflow\r\n", 0},
	{"hincrby h3 a -9223372036854775808", ":-9223372036854775805\r\n", 0},
	{"hincrby h3 a 9223372036854775804", ":-1\r\n", 0},
	{"hincrby h3 a 1", ":0\r\n", 0},
	{"hincrby h3 s 1", "-ERR hash value is not an integer\r\n", 0},
	{"hincrby h3 j 1", "-ERR hash value is not an integer\r\n", 0},
	{"hincrby h3 k 1", "-ERR hash value is not an integer\r\n", 0},
	{"hincrby h3 new -7", ":-7\r\n", 0},
	{"hincrby h3 n2 -9223372036854775808", ":-9223372036854775808\r\n", 0},
	{"hincrby h3 n2 -1", "-ERR increment or decrement would overflow\r\n", 0},
	{"hincrby newkey f 5", ":5\r\n", 0},
	{"hgetall newkey", "*2\r\n$1\r\nf\r\n$1\r\n5\r\n", 0},
	// HINCRBYFLOAT computes in long double and prints with %.17Lf.
	{"hincrbyfloat h3 s 1", "-ERR hash value is not a float\r\n", 0},
	{"hincrbyfloat h3 a inf", "-ERR value is NaN or Infinity\r\n", 0},
	{"hincrbyfloat h3 a abc", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h3 a 0.2", "$3\r\n0.2\r\n", 0},
	{"hincrbyfloat h3 k 1", "$1\r\n8\r\n", 0},
	{"hset h4 f 0.1", ":1\r\n", 0},
	{"hincrbyfloat h4 f 0.2", "$3\r\n0.3\r\n", 0},
	{"hincrbyfloat h4 g 0.1", "$3\r\n0.1\r\n", 0},
	{"hincrbyfloat h4 g 0.1", "$3\r\n0.2\r\n", 0},
	{"hincrbyfloat h4 g 0.1", "$3\r\n0.3\r\n", 0},
	{"hincrbyfloat h4 big 1e308", "$308\r\n99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048\r\n", 0},
	{"hincrbyfloat h4 big 1e308", "$309\r\n199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096\r\n", 0},
	{"hincrbyfloat h4 t 1.000003814697265625", "$19\r\n1.00000381469726562\r\n", 0},
	{"hincrbyfloat h4 t2 1.000011444091796875", "$19\r\n1.00001144409179688\r\n", 0},
	{"hincrbyfloat h4 c 0.5e-17", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 d 1.5e-17", "$19\r\n0.00000000000000002\r\n", 0},
	{"hincrbyfloat h4 e 2.5e-17", "$19\r\n0.00000000000000002\r\n", 0},
	{"hincrbyfloat h4 e2 4e-18", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 e3 6e-18", "$19\r\n0.00000000000000001\r\n", 0},
	{"hincrbyfloat h4 e4 -1e-17", "$20\r\n-0.00000000000000001\r\n", 0},
	{"hincrbyfloat h4 e5 -1e-20", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 tiny 1e-4950", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 tiny2 1e-4960", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 tiny3 0x1p-16445", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 tiny4 0x1p-16446", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 tiny5 3e-4951", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 zero 0e99999999999", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 huge 1.19e4932", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 huge 1e5000", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 hex 0X1.8P1", "$1\r\n3\r\n", 0},
	{"hincrbyfloat h4 hex .5", "$3\r\n3.5\r\n", 0},
	{"hincrbyfloat h4 hex 5.", "$3\r\n8.5\r\n", 0},
	{"hincrbyfloat h4 hex 0x.8", "$1\r\n9\r\n", 0},
	{"hincrbyfloat h4 hex +3", "$2\r\n12\r\n", 0},
	{"hincrbyfloat h4 hex 1E-2", "$5\r\n12.01\r\n", 0},
	{"hincrbyfloat h4 hex 1e+5", "$24\r\n100012.00999999999999801\r\n", 0},
	{"hincrbyfloat h4 bad 0x", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad 1e", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad 1e+", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad .", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad -", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad 1_0", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad \" 1\"", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad \"1 \"", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad \"\"", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad NaN", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad nan(123)", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad infinit", "-ERR value is not a valid float\r\n", 0},
	{"hincrbyfloat h4 bad INF", "-ERR value is NaN or Infinity\r\n", 0},
	{"hincrbyfloat h4 bad -Infinity", "-ERR value is NaN or Infinity\r\n", 0},
	{"hincrbyfloat h4 s -3.5", "$4\r\n-3.5\r\n", 0},
	{"hincrbyfloat h4 s 3.5", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h4 p 1.23456789012345678901234", "$19\r\n1.23456789012345679\r\n", 0},
	{"hincrbyfloat h4 q 123456789.123456789", "$27\r\n123456789.12345678899873747\r\n", 0},
	{"hincrbyfloat h4 q -0.000000001", "$27\r\n123456789.12345678800193127\r\n", 0},
	{"hincrbyfloat h4 r 1.7976931348623157e308", "$309\r\n179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384\r\n", 0},
	{"hset h5 neg -0 z 0 x 1.5e3 y \" 1\" w 0x10 i inf n nan m -inf d 1e-5000 e 0e-5000 u 1e4932", ":11\r\n", 0},
	{"hincrbyfloat h5 neg 0", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h5 z -0.0", "$1\r\n0\r\n", 0},
	{"hincrbyfloat h5 x 1", "$4\r\n1501\r\n", 0},
	{"hincrbyfloat h5 y 1", "-ERR hash value is not a float\r\n", 0},
	{"hincrbyfloat h5 w 1", "$2\r\n17\r\n", 0},
	{"hincrbyfloat h5 i 1", "-ERR increment would produce NaN or Infinity\r\n", 0},
	{"hincrbyfloat h5 n 1", "-ERR hash value is not a float\r\n", 0},
	{"hincrbyfloat h5 m 0", "-ERR increment would produce NaN or Infinity\r\n", 0},
	{"hincrbyfloat h5 d 1", "-ERR hash value is not a float\r\n", 0},
	{"hincrbyfloat h5 e 1", "$1\r\n1\r\n", 0},
	{"hincrbyfloat h5 u 1e4932", "-ERR increment would produce NaN or Infinity\r\n", 0},
	{"hgetall h4", "*42\r\n$1\r\nf\r\n$3\r\n0.3\r\n$1\r\ng\r\n$3\r\n0.3\r\n$1\r\ns\r\n$1\r\n0\r\n$5\r\ntiny3\r\n$1\r\n0\r\n$5\r\ntiny5\r\n$1\r\n0\r\n$2\r\ne3\r\n$19\r\n0.00000000000000001\r\n$2\r\ne5\r\n$1\r\n0\r\n$1\r\ne\r\n$19\r\n0.00000000000000002\r\n$2\r\ne4\r\n$20\r\n-0.00000000000000001\r\n$2\r\ne2\r\n$1\r\n0\r\n$1\r\nt\r\n$19\r\n1.00000381469726562\r\n$4\r\nzero\r\n$1\r\n0\r\n$1\r\nc\r\n$1\r\n0\r\n$1\r\nq\r\n$27\r\n123456789.12345678800193127\r\n$4\r\ntiny\r\n$1\r\n0\r\n$3\r\nbig\r\n$309\r\n199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096\r\n$3\r\nhex\r\n$24\r\n100012.00999999999999801\r\n$1\r\nr\r\n$309\r\n179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384\r\n$1\r\nd\r\n$19\r\n0.00000000000000002\r\n$2\r\nt2\r\n$19\r\n1.00001144409179688\r\n$1\r\np\r\n$19\r\n1.23456789012345679\r\n", hsSorted},
	// Encoding: listpack while small, hashtable for good after.
	{"hset e1 f 1", ":1\r\n", 0},
	{"hincrbyfloat e1 f 1e63", "$63\r\n999999999999999999965225407341472151966654053379893968647487488\r\n", 0},
	{"object encoding e1", "$8\r\nlistpack\r\n", 0},
	{"hincrbyfloat e1 f 1e64", "$65\r\n10999999999999999999885088423138561149331623206450613993194127360\r\n", 0},
	{"object encoding e1", "$9\r\nhashtable\r\n", 0},
	{"hset e2 f 1", ":1\r\n", 0},
	{"hincrby e2 ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff 1", ":1\r\n", 0},
	{"object encoding e2", "$9\r\nhashtable\r\n", 0},
	{"hset e3 f 1", ":1\r\n", 0},
	{"hsetnx e3 f vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", ":0\r\n", 0},
	{"object encoding e3", "$8\r\nlistpack\r\n", 0},
	{"hsetnx e3 g vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", ":1\r\n", 0},
	{"object encoding e3", "$9\r\nhashtable\r\n", 0},
	{"hset e4 a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ":1\r\n", 0},
	{"object encoding e4", "$8\r\nlistpack\r\n", 0},
	{"hset e4 a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ":0\r\n", 0},
	{"object encoding e4", "$8\r\nlistpack\r\n", 0},
	{"hset e4 a 1", ":0\r\n", 0},
	{"object encoding e4", "$8\r\nlistpack\r\n", 0},
	{"config set hash-max-listpack-entries 2", "+OK\r\n", 0},
	{"hset e5 a 1 b 2", ":2\r\n", 0},
	{"object encoding e5", "$8\r\nlistpack\r\n", 0},
	{"hset e5 a 1", ":0\r\n", 0},
	{"object encoding e5", "$8\r\nlistpack\r\n", 0},
	{"hset e5 c 3", ":1\r\n", 0},
	{"object encoding e5", "$9\r\nhashtable\r\n", 0},
	{"hdel e5 c b", ":2\r\n", 0},
	{"object encoding e5", "$9\r\nhashtable\r\n", 0},
	{"hset e6 a 1 b 2", ":2\r\n", 0},
	{"config set hash-max-listpack-entries 1", "+OK\r\n", 0},
	{"hset e6 a 1", ":0\r\n", 0},
	{"object encoding e6", "$9\r\nhashtable\r\n", 0},
	{"config set hash-max-listpack-entries 0", "+OK\r\n", 0},
	{"hset e7 a 1", ":1\r\n", 0},
	{"object encoding e7", "$9\r\nhashtable\r\n", 0},
	{"config set hash-max-listpack-entries 128", "+OK\r\n", 0},
	{"config set hash-max-listpack-value 0", "+OK\r\n", 0},
	{"hset e8 \"\" \"\"", ":1\r\n", 0},
	{"object encoding e8", "$8\r\nlistpack\r\n", 0},
	{"hset e8 a \"\"", ":1\r\n", 0},
	{"object encoding e8", "$9\r\nhashtable\r\n", 0},
	{"config set hash-max-listpack-value 64", "+OK\r\n", 0},
	// A listpack keeps insertion order; an update keeps the field's place.
	{"hset o a 1 b 2 c 3", ":3\r\n", 0},
	{"hdel o b", ":1\r\n", 0},
	{"hset o b 4 a 5", ":1\r\n", 0},
	{"hgetall o", "*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hkeys o", "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n", 0},
	{"hvals o", "*3\r\n$1\r\n5\r\n$1\r\n3\r\n$1\r\n4\r\n", 0},
	// HRANDFIELD: argument errors come before the key lookup.
	{"hrandfield o 1 withvalues x", "-ERR syntax error\r\n", 0},
	{"hrandfield o x", "-ERR value is not an integer or out of range\r\n", 0},
	{"hrandfield nokey x", "-ERR value is not an integer or out of range\r\n", 0},
	{"hrandfield nokey -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n", 0},
	{"hrandfield nokey -9223372036854775807 withvalues", "-ERR value is out of range\r\n", 0},
	{"hrandfield nokey -4611686018427387904 withvalues", "-ERR value is out of range\r\n", 0},
	{"hrandfield nokey -4611686018427387903 withvalues", "*0\r\n", 0},
	{"hrandfield nokey 4611686018427387904 withvalues", "-ERR value is out of range\r\n", 0},
	{"hrandfield nokey 4611686018427387903 withvalues", "*0\r\n", 0},
	{"hrandfield nokey 5 foo", "-ERR syntax error\r\n", 0},
	{"hrandfield nokey 5 withvalues foo", "-ERR syntax error\r\n", 0},
	{"hrandfield nokey", "$-1\r\n", 0},
	{"hrandfield nokey 5", "*0\r\n", 0},
	{"hrandfield nokey -5", "*0\r\n", 0},
	{"hrandfield o 0", "*0\r\n", 0},
	{"hrandfield o 0 withvalues", "*0\r\n", 0},
	{"hrandfield o 100", "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n", 0},
	{"hrandfield o 4 withvalues", "*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hset one f v", ":1\r\n", 0},
	{"hrandfield one", "$1\r\nf\r\n", 0},
	{"hrandfield one 1", "*1\r\n$1\r\nf\r\n", 0},
	{"hrandfield one -3", "*3\r\n$1\r\nf\r\n$1\r\nf\r\n$1\r\nf\r\n", 0},
	{"hrandfield one -2 withvalues", "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nf\r\n$1\r\nv\r\n", 0},
	// HSCAN: a listpack comes back whole with cursor 0.
	{"hscan o 0", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o 123", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o abc", "-ERR invalid cursor\r\n", 0},
	{"hscan o -1", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o +0", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o \"\"", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o \" 0\"", "-ERR invalid cursor\r\n", 0},
	{"hscan o \"0 \"", "-ERR invalid cursor\r\n", 0},
	{"hscan o -", "-ERR invalid cursor\r\n", 0},
	{"hscan o 18446744073709551616", "-ERR invalid cursor\r\n", 0},
	{"hscan o 18446744073709551615", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o 0 count 0", "-ERR syntax error\r\n", 0},
	{"hscan o 0 count -1", "-ERR syntax error\r\n", 0},
	{"hscan o 0 count x", "-ERR value is not an integer or out of range\r\n", 0},
	{"hscan o 0 count 1", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o 0 match a*", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n", 0},
	{"hscan o 0 match [bc]", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o 0 match", "-ERR syntax error\r\n", 0},
	{"hscan o 0 count", "-ERR syntax error\r\n", 0},
	{"hscan o 0 foo", "-ERR syntax error\r\n", 0},
	{"hscan o 0 MATCH * COUNT 1", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan o 0 match a match b", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n4\r\n", 0},
	{"hscan nokey 0 foo", "*2\r\n$1\r\n0\r\n*0\r\n", 0},
	{"hscan nokey x", "-ERR invalid cursor\r\n", 0},
}
