package backend

import (
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
