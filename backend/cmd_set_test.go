package backend

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The tables and helpers are shared with cmd_hash_test.go (hsRun, hsDial...).

func TestSetCommandsReplies(t *testing.T) { hsRun(t, hsSetSteps) }

// hsSaddRange adds members prefix+i for i in [from, to) to key.
func hsSaddRange(c *testConn, key, prefix string, from, to int) {
	args := []string{"sadd", key}
	for i := from; i < to; i++ {
		args = append(args, prefix+strconv.Itoa(i))
	}
	c.do(args...)
}

func TestSetPopAndRandMember(t *testing.T) {
	c := hsDial(t, hsTarget(t))
	for _, tc := range []struct {
		name, prefix string
		n            int
		enc          string
	}{
		{"intset", "", 100, "intset"},
		{"hashtable", "m", 100, "hashtable"},
		{"big", "m", 3000, "hashtable"},
	} {
		key := "s-" + tc.name
		hsSaddRange(c, key, tc.prefix, 0, tc.n)
		if got := c.do("object", "encoding", key); got != hsBulk(tc.enc) {
			t.Fatalf("%s: encoding %q", key, got)
		}
		member := func(m string) bool {
			if !strings.HasPrefix(m, tc.prefix) {
				return false
			}
			i, err := strconv.Atoi(m[len(tc.prefix):])
			return err == nil && i >= 0 && i < tc.n
		}
		// SRANDMEMBER with a positive count: distinct members.
		for _, count := range []int{1, 2, tc.n / 10, tc.n / 3, tc.n / 2, tc.n - 1} {
			got := hsBulks(t, c.do("srandmember", key, strconv.Itoa(count)))
			if len(got) != count {
				t.Fatalf("%s srandmember %d: %d members", key, count, len(got))
			}
			seen := map[string]bool{}
			for _, m := range got {
				if !member(m) || seen[m] {
					t.Fatalf("%s srandmember %d: bad or repeated %q", key, count, m)
				}
				seen[m] = true
			}
		}
		// With repetitions, about uniform.
		draws := 200 * tc.n
		got := hsBulks(t, c.do("srandmember", key, strconv.Itoa(-draws)))
		if len(got) != draws {
			t.Fatalf("%s: %d draws", key, len(got))
		}
		hist := map[string]int{}
		for _, m := range got {
			if !member(m) {
				t.Fatalf("%s: bad member %q", key, m)
			}
			hist[m]++
		}
		if testRedisAddr() == "" {
			exp := draws / tc.n
			for m, n := range hist {
				if n < exp/2 || n > exp*3/2 {
					t.Errorf("%s: %s drawn %d times, expected about %d", key, m, n, exp)
				}
			}
			if len(hist) != tc.n {
				t.Errorf("%s: only %d of %d members drawn", key, len(hist), tc.n)
			}
		}
		// SPOP: a few (picked one by one), then most (picking the ones that
		// stay), then the rest; every member comes out exactly once.
		out := map[string]bool{}
		pop := func(count, want int) {
			got := hsBulks(t, c.do("spop", key, strconv.Itoa(count)))
			if len(got) != want {
				t.Fatalf("%s spop %d: %d members", key, count, len(got))
			}
			for _, m := range got {
				if !member(m) || out[m] {
					t.Fatalf("%s spop: bad or repeated %q", key, m)
				}
				out[m] = true
			}
		}
		pop(tc.n/10, tc.n/10)
		single := hsBulks(t, "*1\r\n"+c.do("spop", key))[0]
		if !member(single) || out[single] {
			t.Fatalf("%s spop: bad %q", key, single)
		}
		out[single] = true
		left := tc.n - len(out)
		pop(left-3, left-3)
		if got := c.do("scard", key); got != ":3\r\n" {
			t.Fatalf("%s: scard %q after pops", key, got)
		}
		pop(10, 3)
		if len(out) != tc.n {
			t.Fatalf("%s: %d members popped of %d", key, len(out), tc.n)
		}
		if got := c.do("exists", key); got != ":0\r\n" {
			t.Fatalf("%s: still exists after popping everything", key)
		}
	}
}

// SPOP of most of a set builds a new set of what stays, whose encoding is
// chosen afresh (as in Redis 7.0); its TTL stays.
func TestSetPopManyReencodes(t *testing.T) {
	c := hsDial(t, hsTarget(t))
	hsSaddRange(c, "big", "", 1, 601)
	c.expect("object encoding big", hsBulk("hashtable"))
	c.expect("expire big 1000", ":1\r\n")
	if got := hsBulks(t, c.do("spop", "big", "500")); len(got) != 500 {
		t.Fatalf("spop 500: %d", len(got))
	}
	c.expect("object encoding big", hsBulk("intset"))
	c.expect("scard big", ":100\r\n")
	c.expect("ttl big", ":1000\r\n")
	// A popped-to-few set of strings stays a hashtable.
	hsSaddRange(c, "strs", "x", 0, 50)
	hsBulks(t, c.do("spop", "strs", "45"))
	c.expect("object encoding strs", hsBulk("hashtable"))
	c.expect("scard strs", ":5\r\n")
}

// SSCAN over a hashtable: every member present for the whole scan comes
// back, while the set grows and shrinks.
func TestSetScanHashtable(t *testing.T) {
	c := hsDial(t, hsTarget(t))
	other := hsDial(t, hsTarget2(t, c))
	const n = 6000
	hsSaddRange(c, "s", "m", 0, n)
	for _, count := range []string{"1", "10", "1000", "100000"} {
		items := hsScanAll(t, c, 3*n, []string{"sscan", "s", "count", count}, nil)
		seen := map[string]bool{}
		for _, m := range items {
			seen[m] = true
		}
		if len(seen) != n {
			t.Fatalf("count %s: %d distinct members, want %d", count, len(seen), n)
		}
	}
	step := 0
	between := func() {
		step++
		hsSaddRange(other, "s", fmt.Sprintf("new%d-", step), 0, 60)
		if d := n/2 + step*40; d < n {
			args := []string{"srem", "s"}
			for j := d; j < d+40 && j < n; j++ {
				args = append(args, "m"+strconv.Itoa(j))
			}
			other.do(args...)
		}
	}
	items := hsScanAll(t, c, 10*n, []string{"sscan", "s", "count", "30"}, between)
	seen := map[string]bool{}
	for _, m := range items {
		seen[m] = true
	}
	for i := 0; i < n/2; i++ {
		if !seen["m"+strconv.Itoa(i)] {
			t.Fatalf("member m%d was present all along but not returned", i)
		}
	}
	items = hsScanAll(t, c, 3*n, []string{"sscan", "s", "match", "m1?", "count", "100"}, nil)
	slices.Sort(items)
	want := []string{}
	for i := 10; i < 20; i++ {
		want = append(want, "m"+strconv.Itoa(i))
	}
	slices.Sort(want)
	if !slices.Equal(items, want) {
		t.Fatalf("match m1?: got %q", items)
	}
}

// WATCH sees a set changed exactly when Redis signals it.
func TestSetWatch(t *testing.T) {
	c := hsDial(t, hsTarget(t))
	other := hsDial(t, hsTarget2(t, c))
	other.cmd("sadd s 1 2 3")
	other.cmd("sadd t x")
	for _, tc := range []struct {
		cmd     string
		touches bool
	}{
		{"sadd s 1", false},
		{"sadd s 4", true},
		{"srem s zz", false},
		{"srem s 4", true},
		{"smove s t zz", false},
		{"smove s s 1", false},
		{"smove t s x", true},
		{"smove s t x", true},
		{"sinterstore z s nokey", false},
		{"sinterstore s s", true},
		{"sunionstore s s", true},
		{"sdiffstore s nokey", true},
		{"sadd s 1 2 3", true},
		{"spop s 0", false},
		{"spop s 1", true},
		{"srandmember s 2", false},
	} {
		c.expect("watch s", "+OK\r\n")
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

// memberTable against a map, through growth, shrinkage and random picks.
func TestMemberTableModel(t *testing.T) {
	tbl := newMemberTable[int]()
	ref := map[string]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	check := func() {
		t.Helper()
		if tbl.Len() != len(ref) {
			t.Fatalf("Len %d, want %d", tbl.Len(), len(ref))
		}
		if len(tbl.shards) != tbl.base+tbl.split || tbl.split >= tbl.base {
			t.Fatalf("bad shape: %d shards, base %d, split %d", len(tbl.shards), tbl.base, tbl.split)
		}
		n := 0
		for i := range tbl.shards {
			s := &tbl.shards[i]
			used := 0
			for _, e := range s.idx {
				if e != 0 {
					used++
					p := int(uint32(e)) - 1
					if uint32(e>>32) != uint32(mtHash(s.keys[p])>>32) {
						t.Fatalf("shard %d: stale tag for %q", i, s.keys[p])
					}
				}
			}
			if used != len(s.keys) || len(s.keys) != len(s.vals) || used*4 > len(s.idx)*3 {
				t.Fatalf("shard %d: %d slots used for %d keys in %d", i, used, len(s.keys), len(s.idx))
			}
			n += len(s.keys)
		}
		seen := 0
		tbl.Each(func(k string, v int) bool {
			if ref[k] != v {
				t.Fatalf("Each: %q=%d, want %d", k, v, ref[k])
			}
			seen++
			return true
		})
		if seen != len(ref) || n != len(ref) {
			t.Fatalf("Each saw %d, shards hold %d, want %d", seen, n, len(ref))
		}
		for k, v := range ref {
			if got, ok := tbl.Get(k); !ok || got != v {
				t.Fatalf("Get(%q) = %d, %v; want %d", k, got, ok, v)
			}
		}
		var all []int
		for i := 0; i < len(ref); i += 7 {
			all = append(all, i)
		}
		i := 0
		tbl.Each(func(k string, v int) bool {
			if len(all) > 0 && i == all[0] {
				tbl.At(all[:1], func(k2 string, v2 int) {
					if k2 != k || v2 != v {
						t.Fatalf("At(%d) = %q, Each has %q", i, k2, k)
					}
				})
				all = all[1:]
			}
			i++
			return true
		})
	}
	key := func() string { return "k" + strconv.Itoa(rng.IntN(40000)) }
	for round := 0; round < 4; round++ {
		// Grow to about 30000 keys, then shrink to a few.
		for i := 0; i < 60000; i++ {
			k := key()
			_, had := ref[k]
			if tbl.Put(k, i, false) == had {
				t.Fatalf("Put(%q) new=%v, had=%v", k, !had, had)
			}
			ref[k] = i
		}
		check()
		for i := 0; i < 200; i++ {
			k, v := tbl.Random()
			if ref[k] != v {
				t.Fatalf("Random gave %q=%d", k, v)
			}
		}
		for len(ref) > 50 {
			k := key()
			_, had := ref[k]
			if _, _, ok := tbl.Delete(k); ok != had {
				t.Fatalf("Delete(%q)=%v, had %v", k, ok, had)
			}
			delete(ref, k)
			if v, ok := tbl.Get(k); ok {
				t.Fatalf("Get after Delete: %d", v)
			}
		}
		check()
		if len(tbl.shards) > 1 {
			t.Fatalf("%d shards left for %d keys", len(tbl.shards), len(ref))
		}
		cl := tbl.Clone()
		for k := range ref {
			tbl.Delete(k)
			break
		}
		if cl.Len() != len(ref) {
			t.Fatalf("clone changed with its source")
		}
		ref = map[string]int{}
		tbl.Each(func(k string, v int) bool { ref[k] = v; return true })
	}
}

// Scan's guarantee on the table alone, with growth and shrinkage between
// steps.
func TestMemberTableScanGuarantee(t *testing.T) {
	for _, phase := range []string{"grow", "shrink"} {
		tbl := newMemberTable[struct{}]()
		const stay = 3000
		for i := 0; i < stay; i++ {
			tbl.Put("stay"+strconv.Itoa(i), struct{}{}, true)
		}
		extra := 0
		if phase == "shrink" {
			for ; extra < 40000; extra++ {
				tbl.Put("x"+strconv.Itoa(extra), struct{}{}, true)
			}
		}
		seen := map[string]bool{}
		cursor := uint64(0)
		for calls := 0; ; calls++ {
			if calls > 100000 {
				t.Fatal("scan does not end")
			}
			cursor = tbl.Scan(cursor, 20, func(k string, _ struct{}) { seen[k] = true })
			if cursor == 0 {
				break
			}
			if phase == "grow" {
				for j := 0; j < 50; j++ {
					tbl.Put("x"+strconv.Itoa(extra), struct{}{}, true)
					extra++
				}
			} else {
				for j := 0; j < 50 && extra > 0; j++ {
					extra--
					tbl.Delete("x" + strconv.Itoa(extra))
				}
			}
		}
		for i := 0; i < stay; i++ {
			if !seen["stay"+strconv.Itoa(i)] {
				t.Fatalf("%s: stay%d not returned", phase, i)
			}
		}
	}
}

func TestSetTypeEncodings(t *testing.T) {
	s := newSetFor("5")
	for _, m := range []string{"3", "-1", "5", "10"} {
		s.Add(m, 4)
	}
	var got []string
	s.Each(func(m string) bool { got = append(got, m); return true })
	if s.Encoding() != "intset" || !slices.Equal(got, []string{"-1", "3", "5", "10"}) {
		t.Fatalf("intset: %s %q", s.Encoding(), got)
	}
	cl := s.Clone()
	s.Add("11", 4)
	if s.Encoding() != "hashtable" || cl.Encoding() != "intset" || cl.Len() != 4 || s.Len() != 5 {
		t.Fatalf("conversion past the limit: %s/%d, clone %s/%d", s.Encoding(), s.Len(), cl.Encoding(), cl.Len())
	}
	for _, v := range []int64{-1, 3, 5, 10, 11} {
		if !s.Contains(strconv.FormatInt(v, 10)) || !s.ContainsInt(v) {
			t.Fatalf("hashtable lost %d", v)
		}
	}
	if s.ContainsInt(4) || s.Contains("4") {
		t.Fatal("hashtable has 4")
	}
	if !s.RemoveInt(10) || s.Contains("10") || s.Remove("10") {
		t.Fatal("RemoveInt on a hashtable")
	}
	for _, m := range []string{"+1", "01", "-0", " 1", "1 ", "9223372036854775808", "abc", ""} {
		if _, ok := hsStr2ll(m); ok {
			t.Errorf("%q parsed as an integer member", m)
		}
		if newSetFor(m).Encoding() != "hashtable" {
			t.Errorf("set created for %q is not a hashtable", m)
		}
	}
	h := newHash()
	h.Set("a", "1", 2, 3)
	h.Set("b", "2", 2, 3)
	if h.Encoding() != "listpack" {
		t.Fatal("hash converted too early")
	}
	hc := h.Clone()
	h.Set("c", "3", 2, 3)
	if h.Encoding() != "hashtable" || hc.Encoding() != "listpack" || hc.Has("c") {
		t.Fatal("hash conversion or clone")
	}
	h2 := newHash()
	h2.Set("a", "1234", 10, 3)
	if h2.Encoding() != "hashtable" {
		t.Fatal("long value did not convert")
	}
}

var hsSetSteps = []hsStep{
	// SADD, intset order, conversion to hashtable.
	{"sadd s 3 1 2 -5 10", ":5\r\n", 0},
	{"smembers s", "*5\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n", 0},
	{"object encoding s", "$6\r\nintset\r\n", 0},
	{"sadd s 3 1", ":0\r\n", 0},
	{"sadd s 01", ":1\r\n", 0},
	{"object encoding s", "$9\r\nhashtable\r\n", 0},
	{"smembers s", "*6\r\n$1\r\n3\r\n$2\r\n01\r\n$1\r\n1\r\n$2\r\n-5\r\n$2\r\n10\r\n$1\r\n2\r\n", hsSorted},
	{"sadd t 1 2 3", ":3\r\n", 0},
	{"sadd t +4", ":1\r\n", 0},
	{"object encoding t", "$9\r\nhashtable\r\n", 0},
	{"sadd t2 -0", ":1\r\n", 0},
	{"object encoding t2", "$9\r\nhashtable\r\n", 0},
	{"sadd t3 9223372036854775807 -9223372036854775808", ":2\r\n", 0},
	{"object encoding t3", "$6\r\nintset\r\n", 0},
	{"smembers t3", "*2\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n", 0},
	{"sadd t4 9223372036854775808", ":1\r\n", 0},
	{"object encoding t4", "$9\r\nhashtable\r\n", 0},
	{"sadd t5 \" 1\"", ":1\r\n", 0},
	{"object encoding t5", "$9\r\nhashtable\r\n", 0},
	{"sadd u a", ":1\r\n", 0},
	// Missing keys and wrong types.
	{"set str x", "+OK\r\n", 0},
	{"sadd str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"srem str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"smembers str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sismember str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"smismember str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"scard str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"spop str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"spop str 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"spop str x", "-ERR value is out of range, must be positive\r\n", 0},
	{"srandmember str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"srandmember str 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sscan str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sscan str 0 foo", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"smembers nokey", "*0\r\n", 0},
	{"sismember nokey a", ":0\r\n", 0},
	{"smismember nokey a b", "*2\r\n:0\r\n:0\r\n", 0},
	{"scard nokey", ":0\r\n", 0},
	{"srem nokey 1", ":0\r\n", 0},
	{"spop nokey", "$-1\r\n", 0},
	{"spop nokey 0", "*0\r\n", 0},
	{"spop nokey 1", "*0\r\n", 0},
	{"spop nokey -1", "-ERR value is out of range, must be positive\r\n", 0},
	{"spop nokey x", "-ERR value is out of range, must be positive\r\n", 0},
	{"spop nokey 1 2", "-ERR syntax error\r\n", 0},
	{"srandmember nokey", "$-1\r\n", 0},
	{"srandmember nokey 5", "*0\r\n", 0},
	{"srandmember nokey -5", "*0\r\n", 0},
	{"srandmember nokey x", "-ERR value is not an integer or out of range\r\n", 0},
	{"srandmember nokey 1 2", "-ERR syntax error\r\n", 0},
	{"srandmember nokey -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n", 0},
	{"srandmember nokey -9223372036854775807", "*0\r\n", 0},
	{"sscan nokey 0 foo", "*2\r\n$1\r\n0\r\n*0\r\n", 0},
	{"sscan nokey x", "-ERR invalid cursor\r\n", 0},
	// SREM deletes the key with its last member.
	{"sadd sr 1 2 3", ":3\r\n", 0},
	{"srem sr 1 x", ":1\r\n", 0},
	{"srem sr 1 2 3 4", ":2\r\n", 0},
	{"exists sr", ":0\r\n", 0},
	// Membership.
	{"sismember s 01", ":1\r\n", 0},
	{"sismember s -5", ":1\r\n", 0},
	{"sismember s zz", ":0\r\n", 0},
	{"smismember s 1 zz 01 3", "*4\r\n:1\r\n:0\r\n:1\r\n:1\r\n", 0},
	{"scard s", ":6\r\n", 0},
	// SINTER, SUNION, SDIFF: a WRONGTYPE key fails the command even after a missing key.
	{"sinter nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sinter str nokey", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sinter s nokey", "*0\r\n", 0},
	{"sinter nokey s", "*0\r\n", 0},
	{"sunion nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sunion str nokey", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sdiff nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sdiff str nokey", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sinterstore d s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sinterstore d str s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sunionstore d s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sdiffstore d s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sintercard 2 nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sintercard 1 str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sadd i1 3 1 2", ":3\r\n", 0},
	{"sadd i2 2 3 4", ":3\r\n", 0},
	{"sadd h1 b a c 2", ":4\r\n", 0},
	{"sinter i2 i1", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sinter i1 i2", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sinter i1 i1", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sinter i1 h1", "*1\r\n$1\r\n2\r\n", 0},
	{"sinter s u", "*0\r\n", hsSorted},
	{"sunion i2 i1", "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", 0},
	{"sunion i1 nokey i2", "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", 0},
	{"sunion i1", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sunion i1 h1", "*6\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n", hsSorted},
	{"sdiff i1 i2", "*1\r\n$1\r\n1\r\n", 0},
	{"sdiff i2 i1 nokey", "*1\r\n$1\r\n4\r\n", 0},
	{"sdiff i1 i1", "*0\r\n", 0},
	{"sdiff i1 i2 i1", "*0\r\n", 0},
	{"sdiff nokey i1", "*0\r\n", 0},
	{"sdiff i1 nokey", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	// SINTERCARD.
	{"sintercard 0 s", "-ERR numkeys should be greater than 0\r\n", 0},
	{"sintercard x s", "-ERR numkeys should be greater than 0\r\n", 0},
	{"sintercard -1 s", "-ERR numkeys should be greater than 0\r\n", 0},
	{"sintercard 2 s", "-ERR Number of keys can't be greater than number of args\r\n", 0},
	{"sintercard 9223372036854775807 s", "-ERR Number of keys can't be greater than number of args\r\n", 0},
	{"sintercard 1 s limit", "-ERR syntax error\r\n", 0},
	{"sintercard 1 s limit -1", "-ERR LIMIT can't be negative\r\n", 0},
	{"sintercard 1 s limit x", "-ERR LIMIT can't be negative\r\n", 0},
	{"sintercard 1 s foo 2", "-ERR syntax error\r\n", 0},
	{"sintercard 1 s limit 0", ":6\r\n", 0},
	{"sintercard 1 s limit 2", ":2\r\n", 0},
	{"sintercard 1 s LIMIT 2 LIMIT 3", ":3\r\n", 0},
	{"sintercard 1 nokey", ":0\r\n", 0},
	{"sintercard 2 i1 i2", ":2\r\n", 0},
	{"sintercard 2 i1 i2 limit 1", ":1\r\n", 0},
	{"sintercard 2 i1 h1", ":1\r\n", 0},
	{"sintercard 2 nokey i1", ":0\r\n", 0},
	// STORE forms: the result's encoding is chosen afresh, an empty result deletes the destination.
	{"sadd a x 1 2", ":3\r\n", 0},
	{"sadd b x", ":1\r\n", 0},
	{"sdiffstore d a b", ":2\r\n", 0},
	{"object encoding d", "$6\r\nintset\r\n", 0},
	{"smembers d", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", 0},
	{"sadd c x 1 2 3 4 5 6 7", ":8\r\n", 0},
	{"sadd e x 1", ":2\r\n", 0},
	{"sdiffstore d c e", ":6\r\n", 0},
	{"object encoding d", "$6\r\nintset\r\n", 0},
	{"smembers d", "*6\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n", 0},
	{"sdiffstore d e c", ":0\r\n", 0},
	{"exists d", ":0\r\n", 0},
	{"sadd b2 x y z w v u", ":6\r\n", 0},
	{"sdiffstore d a b2", ":2\r\n", 0},
	{"object encoding d", "$6\r\nintset\r\n", 0},
	{"smembers d", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", 0},
	{"sinterstore d a c", ":3\r\n", 0},
	{"object encoding d", "$9\r\nhashtable\r\n", 0},
	{"smembers d", "*3\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\n2\r\n", hsSorted},
	{"sunionstore d a nokey", ":3\r\n", 0},
	{"object encoding d", "$9\r\nhashtable\r\n", 0},
	{"sinterstore d i1 i2", ":2\r\n", 0},
	{"object encoding d", "$6\r\nintset\r\n", 0},
	{"smembers d", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"set str2 v", "+OK\r\n", 0},
	{"sinterstore str2 a", ":3\r\n", 0},
	{"type str2", "+set\r\n", 0},
	{"sadd ttl 1", ":1\r\n", 0},
	{"expire ttl 100", ":1\r\n", 0},
	{"sunionstore ttl a", ":3\r\n", 0},
	{"ttl ttl", ":-1\r\n", 0},
	{"sinterstore d nokey", ":0\r\n", 0},
	{"exists d", ":0\r\n", 0},
	{"sunionstore d nokey", ":0\r\n", 0},
	{"sdiffstore d nokey a", ":0\r\n", 0},
	{"sdiffstore d a a", ":0\r\n", 0},
	{"sadd hs a 1 2 3", ":4\r\n", 0},
	{"srem hs a", ":1\r\n", 0},
	{"object encoding hs", "$9\r\nhashtable\r\n", 0},
	{"sunion hs", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sdiff hs nokey", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sunionstore d hs", ":3\r\n", 0},
	{"object encoding d", "$6\r\nintset\r\n", 0},
	{"config set set-max-intset-entries 3", "+OK\r\n", 0},
	{"sunionstore d c", ":8\r\n", 0},
	{"object encoding d", "$9\r\nhashtable\r\n", 0},
	{"sadd small 1 2 3", ":3\r\n", 0},
	{"sadd small 4", ":1\r\n", 0},
	{"object encoding small", "$9\r\nhashtable\r\n", 0},
	{"sadd s2 1 2 3", ":3\r\n", 0},
	{"config set set-max-intset-entries 2", "+OK\r\n", 0},
	{"sadd s2 2", ":0\r\n", 0},
	{"object encoding s2", "$6\r\nintset\r\n", 0},
	{"sadd s2 4", ":1\r\n", 0},
	{"object encoding s2", "$9\r\nhashtable\r\n", 0},
	{"config set set-max-intset-entries 0", "+OK\r\n", 0},
	{"sadd z0 1", ":1\r\n", 0},
	{"object encoding z0", "$9\r\nhashtable\r\n", 0},
	{"config set set-max-intset-entries 512", "+OK\r\n", 0},
	// SMOVE.
	{"smove nokey str a", ":0\r\n", 0},
	{"smove str s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"smove s str 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"smove s s 1", ":1\r\n", 0},
	{"smove s s 99", ":0\r\n", 0},
	{"smove s s zz", ":0\r\n", 0},
	{"smove str str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 0},
	{"sadd src 5", ":1\r\n", 0},
	{"smove src dst 5", ":1\r\n", 0},
	{"object encoding dst", "$6\r\nintset\r\n", 0},
	{"exists src", ":0\r\n", 0},
	{"sadd src2 a", ":1\r\n", 0},
	{"smove src2 dst a", ":1\r\n", 0},
	{"object encoding dst", "$9\r\nhashtable\r\n", 0},
	{"smembers dst", "*2\r\n$1\r\n5\r\n$1\r\na\r\n", hsSorted},
	{"smove src2 dst a", ":0\r\n", 0},
	{"sadd m1 1 2 3", ":3\r\n", 0},
	{"sadd m2 x", ":1\r\n", 0},
	{"smove m1 m2 1", ":1\r\n", 0},
	{"object encoding m2", "$9\r\nhashtable\r\n", 0},
	{"smembers m1", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"smove m1 m2 x", ":0\r\n", 0},
	{"smove m1 m2 2", ":1\r\n", 0},
	{"smove m1 m2 3", ":1\r\n", 0},
	{"exists m1", ":0\r\n", 0},
	{"sadd m3 7", ":1\r\n", 0},
	{"smove m3 m2 7", ":1\r\n", 0},
	// SPOP and SRANDMEMBER with counts covering the whole set are deterministic.
	{"sadd v 3 1 2 9 8 7 6 5 4", ":9\r\n", 0},
	{"srandmember v 100", "*9\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n", 0},
	{"srandmember v 9", "*9\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n", 0},
	{"srandmember v 0", "*0\r\n", 0},
	{"spop v 0", "*0\r\n", 0},
	{"spop v 100", "*9\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n", 0},
	{"exists v", ":0\r\n", 0},
	{"sadd v 5 4 3", ":3\r\n", 0},
	{"spop v 3", "*3\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n", 0},
	{"exists v", ":0\r\n", 0},
	{"sadd v 5 4 3 a", ":4\r\n", 0},
	{"srem v a", ":1\r\n", 0},
	{"spop v 3", "*3\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n", 0},
	{"sadd one x", ":1\r\n", 0},
	{"spop one", "$1\r\nx\r\n", 0},
	{"exists one", ":0\r\n", 0},
	{"sadd one x", ":1\r\n", 0},
	{"srandmember one", "$1\r\nx\r\n", 0},
	{"srandmember one -3", "*3\r\n$1\r\nx\r\n$1\r\nx\r\n$1\r\nx\r\n", 0},
	{"srandmember one 1", "*1\r\n$1\r\nx\r\n", 0},
	{"spop one 1", "*1\r\n$1\r\nx\r\n", 0},
	{"exists one", ":0\r\n", 0},
	// SSCAN: an intset comes back whole with cursor 0.
	{"sscan i1 0", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sscan i1 7", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sscan i1 0 match 2", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n", 0},
	{"sscan i1 0 match [13]", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n3\r\n", 0},
	{"sscan i1 0 count 1", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
	{"sscan i1 0 count 0", "-ERR syntax error\r\n", 0},
	{"sscan i1 0 count x", "-ERR value is not an integer or out of range\r\n", 0},
	{"sscan i1 0 foo", "-ERR syntax error\r\n", 0},
	{"sscan i1 abc", "-ERR invalid cursor\r\n", 0},
	{"sscan i1 -1", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", 0},
}
