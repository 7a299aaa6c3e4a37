package backend

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
)

// Dict is a keyspace: string keys to values, growable without a stop-the-
// world rehash, with Redis's SCAN cursor guarantee and cheap random sampling.
//
// It is linear hashing over Go maps. Keys are spread over shards by a 64-bit
// hash; the shard count grows one shard at a time (splitting shard `split`
// into itself and split+base) whenever the average shard grows past
// shardLoad, so no single operation moves more than a couple of thousand
// keys. A key lives in shard h&(base-1), or h&(2*base-1) when that shard has
// already been split in the current round.
//
// Invariants: len(shards) == base + split; 0 <= split < base; base is a power
// of two; count is the number of keys in all shards.
type Dict struct {
	seed   maphash.Seed
	shards []map[string]Obj
	base   int
	split  int
	count  int
	// snap, while a point-in-time snapshot is being written, holds the
	// shards it has not written yet; see snapshot.go.
	snap *dictSnap
}

// dictSnap is the copy-on-write state of a Dict during a snapshot. Before
// any change to a shard that the snapshot has not written yet, save writes
// it out as it is, so the snapshot sees every shard as it was at the cut.
//
// Invariant: pending[i] is true exactly for the shards present at the cut
// that have not been saved; every shard made after the cut (a split) is
// born saved, because the shard it came from was saved first.
type dictSnap struct {
	pending []bool
	left    int // number of true entries in pending
	save    func(d *Dict, shard map[string]Obj)
	owner   any // the snapshot this state belongs to
}

// cow saves shard i for the snapshot if it still holds cut-time data.
func (d *Dict) cow(i int) {
	if p := d.snap; p != nil && i < len(p.pending) && p.pending[i] {
		p.pending[i] = false
		p.left--
		p.save(d, d.shards[i])
	}
}

// WillWrite must be called before a value of key, or its TTL, is changed in
// place (a collection edited, an expire set): the snapshot keeps the value
// it had at the cut.
func (d *Dict) WillWrite(key string) {
	if d.snap != nil {
		d.cow(d.index(d.hash(key)))
	}
}

const shardLoad = 1024

// NewDict returns an empty dict.
func NewDict() *Dict {
	return &Dict{seed: maphash.MakeSeed(), shards: []map[string]Obj{{}}, base: 1}
}

func (d *Dict) hash(key string) uint64 { return maphash.String(d.seed, key) }

func (d *Dict) index(h uint64) int {
	i := int(h & uint64(d.base-1))
	if i < d.split {
		i = int(h & uint64(2*d.base-1))
	}
	return i
}

func (d *Dict) shard(key string) map[string]Obj { return d.shards[d.index(d.hash(key))] }

// Len is the number of keys.
func (d *Dict) Len() int { return d.count }

// Get returns the value of key.
func (d *Dict) Get(key string) (Obj, bool) {
	o, ok := d.shard(key)[key]
	return o, ok
}

// Set stores o at key and reports whether the key is new. key must not alias
// a buffer that will change.
func (d *Dict) Set(key string, o Obj) bool {
	i := d.index(d.hash(key))
	d.cow(i)
	m := d.shards[i]
	_, exists := m[key]
	m[key] = o
	if !exists {
		d.count++
		if d.count > len(d.shards)*shardLoad {
			d.grow()
		}
	}
	return !exists
}

// Replace stores o at an existing key; it is a no-op for a missing key.
// A Go map assignment also stores the key string it is given, so the key is
// copied: callers may pass a view of a request buffer.
func (d *Dict) Replace(key string, o Obj) {
	i := d.index(d.hash(key))
	d.cow(i)
	m := d.shards[i]
	if _, ok := m[key]; ok {
		m[strings.Clone(key)] = o
	}
}

// Touch is Replace for a change of the access clock only, which snapshots
// do not record.
func (d *Dict) Touch(key string, o Obj) {
	m := d.shard(key)
	if _, ok := m[key]; ok {
		m[strings.Clone(key)] = o
	}
}

// Delete removes key and returns its value.
func (d *Dict) Delete(key string) (Obj, bool) {
	i := d.index(d.hash(key))
	m := d.shards[i]
	o, ok := m[key]
	if ok {
		d.cow(i)
		delete(m, key)
		d.count--
	}
	return o, ok
}

// grow splits one shard. Both halves get fresh maps sized for what they hold
// (Go maps never shrink, so reusing the old one would keep its slack).
func (d *Dict) grow() {
	d.cow(d.split)
	old := d.shards[d.split]
	mask := uint64(2*d.base - 1)
	lo := make(map[string]Obj, len(old)/2+1)
	hi := make(map[string]Obj, len(old)/2+1)
	for k, v := range old {
		if int(d.hash(k)&mask) == d.split {
			lo[k] = v
		} else {
			hi[k] = v
		}
	}
	d.shards[d.split] = lo
	d.shards = append(d.shards, hi)
	d.split++
	if d.split == d.base {
		d.base *= 2
		d.split = 0
	}
}

// Scan visits the keys of one cursor step and returns the next cursor (0 when
// the iteration is complete). A step visits every key whose hash has the
// cursor's low bits, and keeps visiting steps until at least count keys were
// seen or the iteration ends. Like Redis's dictScan, every key present for
// the whole iteration is visited at least once, even if the dict grows in
// between; a key may be visited twice.
func (d *Dict) Scan(cursor uint64, count int, fn func(key string, o Obj)) uint64 {
	if count < 1 {
		count = 1
	}
	mask := uint64(d.base - 1)
	seen := 0
	for {
		v := cursor & mask
		seen += d.visit(v, fn)
		// Increment the reversed cursor: set the unmasked high bits, reverse,
		// add one, reverse back (Pieter Noordhuis's algorithm from dict.c).
		cursor |= ^mask
		cursor = reverseBits(cursor)
		cursor++
		cursor = reverseBits(cursor)
		if cursor == 0 || seen >= count {
			return cursor
		}
	}
}

// visit calls fn on every key whose hash & (base-1) == v.
func (d *Dict) visit(v uint64, fn func(string, Obj)) int {
	n := 0
	for k, o := range d.shards[v] {
		fn(k, o)
		n++
	}
	if int(v) < d.split {
		for k, o := range d.shards[int(v)+d.base] {
			fn(k, o)
			n++
		}
	}
	return n
}

func reverseBits(v uint64) uint64 {
	v = (v>>1)&0x5555555555555555 | (v&0x5555555555555555)<<1
	v = (v>>2)&0x3333333333333333 | (v&0x3333333333333333)<<2
	v = (v>>4)&0x0F0F0F0F0F0F0F0F | (v&0x0F0F0F0F0F0F0F0F)<<4
	v = (v>>8)&0x00FF00FF00FF00FF | (v&0x00FF00FF00FF00FF)<<8
	v = (v>>16)&0x0000FFFF0000FFFF | (v&0x0000FFFF0000FFFF)<<16
	return v>>32 | v<<32
}

// Random returns a random key, or false when the dict is empty. Keys in
// small shards are a little more likely, as in Redis's bucket sampling.
func (d *Dict) Random() (string, Obj, bool) {
	if d.count == 0 {
		return "", Obj{}, false
	}
	n := len(d.shards)
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		for k, o := range d.shards[(start+i)%n] {
			return k, o, true
		}
	}
	return "", Obj{}, false
}

// Sample calls fn on up to n keys taken from random places (for eviction
// and expiry sampling); fn returns false to stop early.
func (d *Dict) Sample(n int, fn func(key string, o Obj) bool) {
	if d.count == 0 || n <= 0 {
		return
	}
	shards := len(d.shards)
	start := rand.IntN(shards)
	for i := 0; i < shards && n > 0; i++ {
		for k, o := range d.shards[(start+i)%shards] {
			if !fn(k, o) {
				return
			}
			n--
			// Take a few keys from each shard, then move on, so a sample
			// spreads over the keyspace.
			if n <= 0 || n%5 == 0 {
				break
			}
		}
	}
}

// Each calls fn on every key; fn must not add or delete keys.
func (d *Dict) Each(fn func(key string, o Obj) bool) {
	for _, m := range d.shards {
		for k, o := range m {
			if !fn(k, o) {
				return
			}
		}
	}
}
