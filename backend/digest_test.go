package backend

import (
	"strconv"
	"strings"
	"testing"
)

// svDigestData builds a dataset with every type and the encodings Redis
// converts between (intset/hashtable sets, listpack/skiplist zsets,
// listpack/hashtable hashes), integer-looking members, special scores and
// volatile keys, in two databases.
func svDigestData() []string {
	cmds := []string{
		"set foo bar",
		"set n 12345",
		"set empty ''",
		"rpush l a b c 1 2",
		"rpush l2 2 1 c b a",
		"sadd s x y z 1 2 300",
		"sadd si 1 2 3 -5",
		"hset h f1 v1 f2 v2 3 4",
		"zadd z 0.1 a 1.5 b inf d -inf e 1e20 f 3 100 2.5e-5 g 123456789012345678 h",
		"zadd z0 -0 a",
		"zadd zi 1 1 2 2 3 -3",
		"pexpire foo 100000",
		"pexpire h 100000",
		"select 5",
		"set foo bar",
		"sadd s x",
		"select 0",
	}
	big := func(cmd string, n int, f func(i int) string) string {
		var b strings.Builder
		b.WriteString(cmd)
		for i := 0; i < n; i++ {
			b.WriteString(" " + f(i))
		}
		return b.String()
	}
	cmds = append(cmds,
		big("sadd bigints", 600, func(i int) string { return strconv.Itoa(i * 7) }),
		big("sadd bigset", 200, func(i int) string { return "m" + strconv.Itoa(i) }),
		big("hset bighash", 200, func(i int) string { return "f" + strconv.Itoa(i) + " v" + strconv.Itoa(i) }),
		big("zadd bigz", 200, func(i int) string { return strconv.Itoa(i) + ".25 m" + strconv.Itoa(i) }),
		big("rpush biglist", 1000, func(i int) string { return "e" + strconv.Itoa(i%17) }),
		"zadd bigz -0 zero",
	)
	return cmds
}

const svDigestKeys = "foo n empty l l2 s si h z z0 zi bigints bigset bighash bigz biglist nosuch"

// Digests a real Redis 7.0.15 gives for a few values of svDigestData.
var svKnownDigests = map[string]string{
	"foo":     "8ec3828f7209dd3abdf6ee448de8b0c0bd53265f",
	"n":       "e1cf90774e995ae03de66e8109dc5cb9d9c2dc83",
	"empty":   "8b3447c33a834b810e3e181b6fd6a2ee1020921c",
	"l":       "f48a1249517530ff1906fc79ddbf9b687f71f06f",
	"s":       "02916f877ab1af6bdf649c4afe5f3e769fce6ac0",
	"si":      "5e497276f46b9037a75afe0286ef7a77cbed85e4",
	"h":       "13366fc1f02c9af1cbd8a9650a80159520239607",
	"z":       "09b74dc8145c8fc5df81f4371be5e2b29c081e3d",
	"z0":      "8d8d88c2cfb8d9411b8d9973c96538bd6378d446",
	"zi":      "05d85a3d3b614e6a60ed4b2f9699ce6d59f7e20c",
	"bigints": "8655ac659a67ec4eaba16546f38bbbca1a4a56b7",
	"bigz":    "26ae984da22f0fedb57c16c5c2f197fd1d206d99",
	"":        "0ffc34b5ceeb304268c73afa4bdc2aeb4a1d2652", // DEBUG DIGEST
}

func TestDigestEmpty(t *testing.T) {
	s := svStart(t, nil)
	var zero [20]byte
	if d := s.datasetDigest(); d != zero {
		t.Errorf("empty dataset digest %x", d)
	}
}

func TestDigestKnownValues(t *testing.T) {
	s := svStart(t, nil)
	c := svDial(t, s.Addr().String())
	for _, cmd := range svDigestData() {
		if got := c.cmd(cmd); strings.HasPrefix(got, "-") {
			t.Fatalf("%.60s: %q", cmd, got)
		}
	}
	for key, want := range svKnownDigests {
		if key == "" {
			c.expect("debug digest", "+"+want+"\r\n")
			continue
		}
		c.expect("debug digest-value "+key, "*1\r\n+"+want+"\r\n")
	}
	// The same data in any order gives the same digest; one change moves it.
	before := c.cmd("debug digest")
	c.expect("del s", ":1\r\n")
	c.expect("sadd s 300 2 1 z y x", ":6\r\n")
	c.expect("debug digest", before)
	c.expect("rpush l x", ":6\r\n")
	if c.cmd("debug digest") == before {
		t.Error("digest did not change")
	}
}

// TestDigestMatchesRedis compares DEBUG DIGEST and DEBUG DIGEST-VALUE with a
// real Redis 7.0 holding the same data.
func TestDigestMatchesRedis(t *testing.T) {
	addr := svRealRedis(t)
	if addr == "" {
		t.Skip("redis-server 7.0 not installed")
	}
	s := svStart(t, nil)
	ours := svDial(t, s.Addr().String())
	theirs := svDial(t, addr)
	for _, cmd := range svDigestData() {
		a, b := theirs.cmd(cmd), ours.cmd(cmd)
		if a != b {
			t.Fatalf("%.60s: redis %q, lagwise %q", cmd, a, b)
		}
	}
	for _, key := range strings.Fields(svDigestKeys) {
		line := "debug digest-value " + key
		if a, b := theirs.cmd(line), ours.cmd(line); a != b {
			t.Errorf("%s: redis %q, lagwise %q (encoding %q / %q)", line, a, b,
				theirs.cmd("object encoding "+key), ours.cmd("object encoding "+key))
		}
	}
	if a, b := theirs.cmd("debug digest"), ours.cmd("debug digest"); a != b {
		t.Errorf("debug digest: redis %q, lagwise %q", a, b)
	}
}
