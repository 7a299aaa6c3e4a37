package backend

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestDictGrowKeepsEveryKey(t *testing.T) {
	d := NewDict()
	const n = 50000
	for i := 0; i < n; i++ {
		if !d.Set("k"+strconv.Itoa(i), StrObj(strconv.Itoa(i))) {
			t.Fatalf("key %d reported as existing", i)
		}
	}
	if d.Len() != n {
		t.Fatalf("len %d", d.Len())
	}
	if len(d.shards) < n/shardLoad {
		t.Fatalf("only %d shards for %d keys", len(d.shards), n)
	}
	for i := 0; i < n; i++ {
		o, ok := d.Get("k" + strconv.Itoa(i))
		if !ok || o.Str() != strconv.Itoa(i) {
			t.Fatalf("key %d: %v %q", i, ok, o.Str())
		}
	}
	for i := 0; i < n; i += 2 {
		if _, ok := d.Delete("k" + strconv.Itoa(i)); !ok {
			t.Fatalf("delete %d", i)
		}
	}
	if d.Len() != n/2 {
		t.Fatalf("len after delete %d", d.Len())
	}
	if d.Set("k1", StrObj("x")) {
		t.Fatal("overwrite reported as new")
	}
}

// The invariant of linear hashing: every key sits in the shard index()
// names, which is what Get relies on.
func TestDictShardInvariant(t *testing.T) {
	d := NewDict()
	for i := 0; i < 10000; i++ {
		d.Set(strconv.Itoa(i), StrObj(""))
		if len(d.shards) != d.base+d.split || d.split >= d.base {
			t.Fatalf("shards=%d base=%d split=%d", len(d.shards), d.base, d.split)
		}
	}
	for i, m := range d.shards {
		for k := range m {
			if got := d.index(d.hash(k)); got != i {
				t.Fatalf("key %q in shard %d, index says %d", k, i, got)
			}
		}
	}
}

func TestDictScanVisitsEverythingOnce(t *testing.T) {
	d := NewDict()
	for i := 0; i < 20000; i++ {
		d.Set(strconv.Itoa(i), StrObj(""))
	}
	seen := map[string]int{}
	var cur uint64
	for {
		cur = d.Scan(cur, 100, func(k string, _ Obj) { seen[k]++ })
		if cur == 0 {
			break
		}
	}
	if len(seen) != 20000 {
		t.Fatalf("saw %d keys", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("key %s seen %d times without growth", k, n)
		}
	}
}

func TestDictRandomAndSample(t *testing.T) {
	d := NewDict()
	if _, _, ok := d.Random(); ok {
		t.Fatal("random key from empty dict")
	}
	for i := 0; i < 5000; i++ {
		d.Set(strconv.Itoa(i), StrObj(""))
	}
	got := map[string]bool{}
	for i := 0; i < 200; i++ {
		k, _, ok := d.Random()
		if !ok {
			t.Fatal("no random key")
		}
		got[k] = true
	}
	if len(got) < 20 {
		t.Fatalf("random keys not spread: %d distinct of 200", len(got))
	}
	n := 0
	d.Sample(16, func(string, Obj) bool { n++; return true })
	if n != 16 {
		t.Fatalf("sampled %d", n)
	}
}

func BenchmarkDictGet(b *testing.B) {
	d := NewDict()
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
		d.Set(keys[i], StrObj("v"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Get(keys[i&(len(keys)-1)])
	}
}

// TestDictSnapshotCopyOnWrite: whatever happens to a Dict after the cut —
// overwrites, deletes, TTL changes, in-place edits, inserts that split
// pending shards — taking every shard yields exactly the keys, values and
// TTLs of the cut.
func TestDictSnapshotCopyOnWrite(t *testing.T) {
	for seed := range 20 {
		rng := rand.New(rand.NewPCG(uint64(seed), 9))
		d := NewDict()
		expires := map[string]int64{}
		n := 1500 + rng.IntN(4000)
		for i := range n {
			k := fmt.Sprintf("k%d", i)
			d.Set(k, StrObj(fmt.Sprint("v", i)))
			if rng.IntN(3) == 0 {
				expires[k] = int64(i)
			}
		}
		type rec struct {
			v   string
			exp int64
		}
		want := map[string]rec{}
		d.Each(func(k string, o Obj) bool {
			exp := int64(-1)
			if t, ok := expires[k]; ok {
				exp = t
			}
			want[k] = rec{o.Str(), exp}
			return true
		})
		d.beginSnap(expires, t)
		shardsAtCut := len(d.shards)
		got := map[string]rec{}
		take := func(i int) {
			d.takeShard(i, func(k string, o Obj, exp int64) {
				if _, dup := got[k]; dup {
					t.Fatalf("seed %d: key %s written twice", seed, k)
				}
				got[k] = rec{o.Str(), exp}
			})
		}
		for op := range 20000 {
			k := fmt.Sprintf("k%d", rng.IntN(3*n))
			switch rng.IntN(8) {
			case 0, 6, 7:
				d.Set(k, StrObj(fmt.Sprint("new", op))) // many inserts: splits
			case 1:
				d.Replace(k, StrObj(fmt.Sprint("rep", op)))
			case 2:
				if _, ok := d.Delete(k); ok {
					delete(expires, k)
				}
			case 3:
				if _, ok := d.Get(k); ok {
					d.WillWrite(k)
					expires[k] = int64(op)
				}
			case 4:
				d.WillWrite(k)
				delete(expires, k)
			case 5:
				if p := d.snap; p.left > 0 && rng.IntN(10) == 0 {
					for i, pend := range p.pending {
						if pend {
							take(i)
							break
						}
					}
				}
			}
		}
		for i := 0; i < len(d.snap.pending); i++ {
			if d.snap.pending[i] {
				take(i)
			}
		}
		if d.snap.left != 0 {
			t.Fatalf("seed %d: %d shards left", seed, d.snap.left)
		}
		if len(d.shards) == shardsAtCut || len(got) != len(want) {
			t.Fatalf("seed %d: %d shards (%d at the cut), got %d keys, want %d", seed, len(d.shards), shardsAtCut, len(got), len(want))
		}
		for k, w := range want {
			if got[k] != w {
				t.Fatalf("seed %d: key %s: got %+v, want %+v", seed, k, got[k], w)
			}
		}
		d.snap = nil
	}
}
