package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// zsetCheck verifies every invariant of z: order, no -0 in a listpack,
// and for a skiplist the links, spans, backward links, tail, level and the
// member index.
func zsetCheck(t *testing.T, z *ZSet) {
	t.Helper()
	bytes := 0
	var all []zEntry
	z.Each(func(m string, s float64) bool {
		all = append(all, zEntry{m, s})
		bytes += len(m)
		return true
	})
	if len(all) != z.Len() {
		t.Fatalf("Each saw %d members, Len is %d", len(all), z.Len())
	}
	if bytes != z.memberBytes {
		t.Fatalf("memberBytes %d, members hold %d", z.memberBytes, bytes)
	}
	for i := 1; i < len(all); i++ {
		if zentryCmp(all[i-1], all[i]) >= 0 {
			t.Fatalf("out of order at %d: %v then %v", i, all[i-1], all[i])
		}
	}
	if z.sl == nil {
		for _, e := range all {
			if e.score == 0 && math.Signbit(e.score) {
				t.Fatalf("listpack holds -0 for %q", e.member)
			}
		}
		return
	}
	sl := z.sl
	rank := map[*zNode]int{sl.header: 0}
	maxLevel := 1
	var prev *zNode
	r := 0
	for x := sl.first(); x != nil; x = x.next() {
		r++
		rank[x] = r
		if x.backward != prev {
			t.Fatalf("backward of rank %d is wrong", r)
		}
		maxLevel = max(maxLevel, x.nlevel)
		prev = x
	}
	if sl.tail != prev || sl.length != r {
		t.Fatalf("tail/length wrong: length %d, walked %d", sl.length, r)
	}
	if sl.level != maxLevel {
		t.Fatalf("level %d, highest node level %d", sl.level, maxLevel)
	}
	for i := 0; i < zslMaxLevel; i++ {
		for x := sl.header; ; {
			l := x.level(i)
			if l.forward == nil {
				break
			}
			if l.forward.nlevel <= i {
				t.Fatalf("level %d links a node of %d levels", i, l.forward.nlevel)
			}
			if got, want := l.span, rank[l.forward]-rank[x]; got != want {
				t.Fatalf("span at level %d from rank %d: %d, want %d", i, rank[x], got, want)
			}
			x = l.forward
		}
		if i >= sl.level && sl.header.level(i).forward != nil {
			t.Fatalf("header level %d above skiplist level %d is linked", i, sl.level)
		}
	}
	d := &sl.dict
	if d.len() != sl.length {
		t.Fatalf("dict holds %d, skiplist %d", d.len(), sl.length)
	}
	seen := 0
	for ti, tab := range d.t {
		for b, n := range tab {
			for ; n != nil; n = n.hnext {
				seen++
				if _, ok := rank[n]; !ok {
					t.Fatalf("dict holds an unlinked node %q", n.member)
				}
				if int(zhash(n.member)&uint64(len(tab)-1)) != b {
					t.Fatalf("node %q in the wrong bucket of table %d", n.member, ti)
				}
				if ti == 0 && d.rehashing() && b < d.idx {
					t.Fatalf("node %q left in a moved bucket", n.member)
				}
			}
		}
	}
	if seen != sl.length {
		t.Fatalf("dict chains hold %d nodes, want %d", seen, sl.length)
	}
}

// zsetModel is the reference: a sorted slice.
type zsetModel []zEntry

func (m zsetModel) find(member string) int {
	for i, e := range m {
		if e.member == member {
			return i
		}
	}
	return -1
}

func (m *zsetModel) put(member string, score float64) {
	if i := m.find(member); i >= 0 {
		*m = slices.Delete(*m, i, i+1)
	}
	*m = append(*m, zEntry{member, score})
	slices.SortFunc(*m, zentryCmp)
}

var ztScores = []float64{0, 1, 1, 2, -1, 2.5, 0.1, math.Inf(1), math.Inf(-1), -0.0, 1e300, 7}

func ztRandScore(r *rand.Rand) float64 {
	if r.IntN(4) == 0 {
		return float64(r.IntN(1000)) / 8
	}
	s := ztScores[r.IntN(len(ztScores))]
	if r.IntN(12) == 0 {
		return math.Copysign(0, -1)
	}
	return s
}

func ztRandRange(r *rand.Rand) zScoreRange {
	pick := func() float64 {
		if r.IntN(3) == 0 {
			return ztScores[r.IntN(len(ztScores))]
		}
		return float64(r.IntN(1000)) / 8
	}
	return zScoreRange{min: pick(), max: pick(), minex: r.IntN(2) == 0, maxex: r.IntN(2) == 0}
}

// TestZSetRandomOps runs random operations on both encodings and compares
// every answer with a sorted slice.
func TestZSetRandomOps(t *testing.T) {
	for _, big := range []bool{false, true} {
		t.Run(fmt.Sprintf("skiplist=%v", big), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(fmt.Sprint(big)))))
			lim := zsetLimits{math.MaxInt, math.MaxInt}
			z := &ZSet{}
			if big {
				z.toSkiplist()
			}
			var model zsetModel
			members := 300
			for step := 0; step < 30000; step++ {
				m := "m" + strconv.Itoa(r.IntN(members))
				switch op := r.IntN(10); {
				case op < 4:
					s := ztRandScore(r)
					res, ns := z.add(m, s, 0, lim)
					i := model.find(m)
					if i < 0 && res != zaddAdded {
						t.Fatalf("add of new %q: %d", m, res)
					}
					if i >= 0 && model[i].score != s && res != zaddUpdated {
						t.Fatalf("update of %q: %d", m, res)
					}
					if ns != s {
						t.Fatalf("add returned %v, want %v", ns, s)
					}
					if i < 0 || model[i].score != s {
						if !big {
							s = zlpScore(s)
						}
						model.put(m, s)
					}
				case op == 4:
					incr := float64(r.IntN(5) - 2)
					res, ns := z.add(m, incr, zaddIncr, lim)
					want := incr
					if i := model.find(m); i >= 0 {
						want += model[i].score
					}
					if math.IsNaN(want) {
						if res != zaddNaN {
							t.Fatalf("NaN increment not refused")
						}
						break
					}
					if ns != want {
						t.Fatalf("incr: got %v want %v", ns, want)
					}
					if !big {
						want = zlpScore(want)
					}
					model.put(m, want)
				case op == 5:
					got := z.Delete(m)
					i := model.find(m)
					if got != (i >= 0) {
						t.Fatalf("Delete(%q) = %v", m, got)
					}
					if i >= 0 {
						model = slices.Delete(model, i, i+1)
					}
				case op == 6 && len(model) > 0:
					a, b := r.IntN(len(model)), r.IntN(len(model))
					if a > b {
						a, b = b, a
					}
					if b-a > 20 {
						b = a + r.IntN(20)
					}
					if n := z.deleteRange(a, b); n != b-a+1 {
						t.Fatalf("deleteRange(%d,%d) = %d", a, b, n)
					}
					model = slices.Delete(model, a, b+1)
				case op == 7:
					rg := ztRandRange(r)
					first, last := -1, -1
					for i, e := range model {
						if rg.gteMin(e.score) && rg.lteMax(e.score) {
							if first < 0 {
								first = i
							}
							last = i
						}
					}
					if got := z.firstInScore(&rg); got != first {
						t.Fatalf("firstInScore(%+v) = %d, want %d", rg, got, first)
					}
					if got := z.lastInScore(&rg); got != last {
						t.Fatalf("lastInScore(%+v) = %d, want %d", rg, got, last)
					}
				default:
					s, ok := z.Score(m)
					i := model.find(m)
					if ok != (i >= 0) || (ok && s != model[i].score) {
						t.Fatalf("Score(%q) = %v %v", m, s, ok)
					}
					rk, ok := z.Rank(m)
					if ok != (i >= 0) || (ok && rk != i) {
						t.Fatalf("Rank(%q) = %d %v, want %d", m, rk, ok, i)
					}
					if len(model) > 0 {
						k := r.IntN(len(model))
						if gm, gs := z.at(k); gm != model[k].member || gs != model[k].score {
							t.Fatalf("at(%d) = %q %v", k, gm, gs)
						}
						it := z.iter(k, k%2 == 0)
						for j := k; j >= 0 && j < len(model) && j > k-5 && j < k+5; {
							gm, _, ok := it.next()
							if !ok || gm != model[j].member {
								t.Fatalf("iter from %d at %d: %q", k, j, gm)
							}
							if k%2 == 0 {
								j--
							} else {
								j++
							}
						}
					}
				}
				if step%500 == 0 || z.Len() < 3 {
					zsetCheck(t, z)
				}
				if z.Len() != len(model) {
					t.Fatalf("step %d: Len %d, model %d", step, z.Len(), len(model))
				}
			}
			zsetCheck(t, z)
		})
	}
}

// TestZSetLexRanges compares the lex range searches of both encodings
// with a scan, on members that share one score.
func TestZSetLexRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	words := []string{"", "a", "aa", "ab", "b", "ba", "c", "cc", "d", "\xff", "a\x00"}
	small, big := &ZSet{}, &ZSet{}
	big.toSkiplist()
	var model zsetModel
	for _, w := range words[:len(words)-2] {
		small.Put(w, 0)
		big.Put(w, 0)
		model.put(w, 0)
	}
	bound := func() (zLexBound, bool) {
		switch r.IntN(6) {
		case 0:
			return zLexBound{inf: -1}, true
		case 1:
			return zLexBound{inf: 1}, true
		}
		return zLexBound{s: words[r.IntN(len(words))]}, r.IntN(2) == 0
	}
	for i := 0; i < 3000; i++ {
		var rg zLexRange
		rg.min, rg.minex = bound()
		rg.max, rg.maxex = bound()
		first, last := -1, -1
		if !rg.empty() {
			for i, e := range model {
				if rg.gteMin(e.member) && rg.lteMax(e.member) {
					if first < 0 {
						first = i
					}
					last = i
				}
			}
		}
		for _, z := range []*ZSet{small, big} {
			if got := z.firstInLex(&rg); got != first {
				t.Fatalf("%s firstInLex(%+v) = %d, want %d", z.Encoding(), rg, got, first)
			}
			if got := z.lastInLex(&rg); got != last {
				t.Fatalf("%s lastInLex(%+v) = %d, want %d", z.Encoding(), rg, got, last)
			}
		}
	}
}

func TestZSetConversions(t *testing.T) {
	z := &ZSet{}
	lim := zsetLimits{entries: 3, value: 4}
	for i, m := range []string{"c", "a", "b"} {
		z.add(m, float64(i), 0, lim)
	}
	z.add("zero", math.Copysign(0, -1), zaddIncr, zsetLimits{10, 10})
	if s, _ := z.Score("zero"); math.Signbit(s) {
		t.Fatal("listpack kept -0")
	}
	if z.Encoding() != "listpack" {
		t.Fatalf("encoding %s", z.Encoding())
	}
	z.add("d", 9, 0, lim)
	if z.Encoding() != "skiplist" || z.Len() != 5 {
		t.Fatalf("encoding %s len %d after growing past the limit", z.Encoding(), z.Len())
	}
	zsetCheck(t, z)
	z.add("neg", math.Copysign(0, -1), 0, lim)
	if s, _ := z.Score("neg"); !math.Signbit(s) {
		t.Fatal("skiplist lost -0")
	}
	c := z.Clone()
	zsetCheck(t, c)
	z.Delete("a")
	if c.Len() != 6 || z.Len() != 5 || c.Encoding() != "skiplist" {
		t.Fatal("clone shares state")
	}
	z.FitEncoding(128, 64)
	if z.Encoding() != "listpack" {
		t.Fatal("FitEncoding kept a small set as skiplist")
	}
	zsetCheck(t, z)
	z.FitEncoding(2, 64)
	if z.Encoding() != "skiplist" {
		t.Fatal("FitEncoding kept a big set as listpack")
	}
	zsetCheck(t, z)
	long := &ZSet{}
	long.add("longer", 1, 0, lim)
	if long.Encoding() != "skiplist" {
		t.Fatal("a member over the value limit stayed in a listpack")
	}
	if long.MemUsage() <= 0 || (&ZSet{}).MemUsage() <= 0 {
		t.Fatal("MemUsage")
	}
}

// TestZSetScanGuarantee checks that a full scan returns every member
// present from start to end while members come and go and the index grows,
// shrinks and rehashes between steps.
func TestZSetScanGuarantee(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 20; round++ {
		z := &ZSet{}
		z.toSkiplist()
		n := 50 + r.IntN(2000)
		for i := 0; i < n; i++ {
			z.Put("keep"+strconv.Itoa(i), float64(i))
		}
		seen := map[string]bool{}
		var cursor uint64
		extra := 0
		for steps := 0; ; steps++ {
			// One ZSCAN call: buckets until at least 10 members.
			for got := 0; got < 10; {
				cursor = z.scan(cursor, func(m string, _ float64) {
					seen[m] = true
					got++
				})
				if cursor == 0 {
					break
				}
			}
			// Churn: grow or shrink the set between calls.
			if round%2 == 0 {
				for k := 0; k < r.IntN(20); k++ {
					z.Put("tmp"+strconv.Itoa(extra), 0)
					extra++
				}
			} else {
				for k := 0; k < r.IntN(50) && extra > 0; k++ {
					extra--
					z.Delete("tmp" + strconv.Itoa(extra))
				}
				if steps == 0 {
					for k := 0; k < 3000; k++ {
						z.Put("tmp"+strconv.Itoa(extra), 0)
						extra++
					}
				}
			}
			if cursor == 0 {
				break
			}
			if steps > 1e6 {
				t.Fatal("scan does not end")
			}
		}
		for i := 0; i < n; i++ {
			if !seen["keep"+strconv.Itoa(i)] {
				t.Fatalf("round %d: scan missed keep%d", round, i)
			}
		}
		zsetCheck(t, z)
	}
}

func TestZSetDictShrinks(t *testing.T) {
	z := &ZSet{}
	z.toSkiplist()
	for i := 0; i < 10000; i++ {
		z.Put(strconv.Itoa(i), float64(i))
	}
	for i := 0; i < 9990; i++ {
		z.Delete(strconv.Itoa(i))
	}
	// Each operation moves rehashing along; a delete starts a shrink.
	for round := 0; round < 3; round++ {
		for i := 0; i < 5000; i++ {
			z.Score("x")
		}
		z.Delete(strconv.Itoa(9990 + round))
	}
	for i := 0; i < 5000; i++ {
		z.Score("x")
	}
	d := &z.sl.dict
	if size := len(d.t[0]) + len(d.t[1]); size > 64 {
		t.Fatalf("index of 10 members has %d buckets", size)
	}
	zsetCheck(t, z)
}

func TestZStrtod(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1", 1, true},
		{"", 0, true},
		{" 1.5", 1.5, true},
		{"1.5 ", 0, false},
		{"   ", 0, false},
		{"0x10", 16, true},
		{"-0x1p3", -8, true},
		{"0x", 0, false},
		{"1e400", math.Inf(1), true},
		{"-1e400", math.Inf(-1), true},
		{"inf", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true},
		{"nan", 0, false},
		{"1_0", 0, false},
		{"abc", 0, false},
		{"5.", 5, true},
		{".5", 0.5, true},
		{"2\x00junk", 2, true},
	}
	for _, tc := range tests {
		got, ok := zstrtod([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("zstrtod(%q) = %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestZParseCursor(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"", 0, true},
		{"+5", 5, true},
		{"-1", math.MaxUint64, true},
		{"18446744073709551615", math.MaxUint64, true},
		{"18446744073709551616", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"-", 0, false},
		{"x", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseScanCursor([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseScanCursor(%q) = %v %v", tc.in, got, ok)
		}
	}
}

func TestZlpFormatScore(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{-5, "-5"},
		{0.1, "0.10000000000000001"},
		{123456789012345678, "123456789012345680"},
		{1 << 62, "4611686018427387904"},
		{1 << 63, "9.2233720368547758e+18"},
		{math.Inf(1), "inf"},
		{1e300, "1.0000000000000001e+300"},
	}
	for _, tc := range tests {
		if got := string(zlpFormatScore(nil, tc.in)); got != tc.want {
			t.Errorf("zlpFormatScore(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkZSetAddSkiplist(b *testing.B) {
	z := &ZSet{}
	z.toSkiplist()
	lim := zsetLimits{128, 64}
	members := make([]string, 1<<16)
	for i := range members {
		members[i] = "member:" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		z.add(members[i&(1<<16-1)], float64(i%1000), 0, lim)
	}
}

func BenchmarkZSetRank(b *testing.B) {
	z := &ZSet{}
	z.toSkiplist()
	for i := 0; i < 1<<16; i++ {
		z.Put("member:"+strconv.Itoa(i), float64(i))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		z.Rank("member:" + strconv.Itoa(i&(1<<16-1)))
	}
}
