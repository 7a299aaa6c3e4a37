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

// dictSnap is the copy-on-write state of a Dict during a snapshot (see
// snapshot.go). Before a key, its TTL, or its value in place changes in a
// shard the snapshot has not written yet, the key's state as of the cut is
// saved (value cloned, TTL, or its absence), so the writer later sees the
// shard as it was at the cut.
//
// Invariants: len(pending) == len(saved) == len(d.shards); left counts the
// true entries of pending; saved[i] is nil when pending[i] is false; a key
// of saved[i] hashes to shard i. A shard split while pending makes two
// pending halves and splits saved[i] with them.
type dictSnap struct {
	pending []bool
	left    int
	saved   []map[string]savedEntry
	// expires is the TTL map paired with the Dict at the cut; FLUSHDB and
	// SWAPDB replace or exchange the pair, never one of the two.
	expires map[string]int64
	bytes   int64 // rough size of the saved entries
	saves   int64 // keys saved
	owner   any   // the snapshot this state belongs to
}

// savedEntry is a key as it was at the cut.
type savedEntry struct {
	o       Obj
	expire  int64 // unix ms; -1: none
	existed bool  // false: the key did not exist at the cut
}

// cow saves the cut-time state of key, in shard i, if the snapshot has not
// written that shard and key has not been saved already.
func (d *Dict) cow(i int, key string) {
	p := d.snap
	if p == nil || !p.pending[i] {
		return
	}
	m := p.saved[i]
	if m == nil {
		m = map[string]savedEntry{}
		p.saved[i] = m
	}
	if _, ok := m[key]; ok {
		return
	}
	e := savedEntry{expire: -1}
	if o, ok := d.shards[i][key]; ok {
		e.existed = true
		e.o = cloneObj(o) // later edits in place must not reach the copy
		if t, ok := p.expires[key]; ok {
			e.expire = t
		}
		p.bytes += objMemUsage(e.o)
	}
	p.bytes += int64(len(key)) + 48
	p.saves++
	m[strings.Clone(key)] = e
}

// beginSnap makes the cut for d: every shard pending, expires the TTL map
// paired with d.
func (d *Dict) beginSnap(expires map[string]int64, owner any) {
	pending := make([]bool, len(d.shards))
	for i := range pending {
		pending[i] = true
	}
	d.snap = &dictSnap{pending: pending, left: len(pending), saved: make([]map[string]savedEntry, len(pending)), expires: expires, owner: owner}
}

// takeShard passes every key of pending shard i, as it was at the cut,
// to fn (with its TTL in unix ms, -1 for none), marks the shard written
// and forgets its saved keys.
func (d *Dict) takeShard(i int, fn func(key string, o Obj, expire int64)) {
	p := d.snap
	p.pending[i] = false
	p.left--
	shard, saved := d.shards[i], p.saved[i]
	for k, o := range shard {
		if e, ok := saved[k]; ok {
			if e.existed {
				fn(k, e.o, e.expire)
			}
			continue // changed since the cut, or born after it
		}
		exp := int64(-1)
		if t, ok := p.expires[k]; ok {
			exp = t
		}
		fn(k, o, exp)
	}
	for k, e := range saved {
		if _, live := shard[k]; e.existed && !live {
			fn(k, e.o, e.expire) // deleted since the cut
		}
		p.bytes -= int64(len(k)) + 48
		if e.existed {
			p.bytes -= objMemUsage(e.o)
		}
	}
	p.saved[i] = nil
}

// WillWrite must be called before a value of key, or its TTL, is changed in
// place (a collection edited, an expire set), so that a snapshot keeps the
// value it had at the cut.
func (d *Dict) WillWrite(key string) {
	if d.snap != nil {
		d.cow(d.index(d.hash(key)), key)
	}
}

const shardLoad = 1024

// NewDict returns an empty dict.
func NewDict() *Dict {
	return &Dict{seed: maphash.MakeSeed(), shards: []map[string]Obj{{}}, base: 1}
}

// NewDictSized returns an empty dict with room for about n keys, so that
// filling it (loading a dump) moves no key between shards.
func NewDictSized(n int) *Dict {
	base := 1
	for base*shardLoad < n {
		base *= 2
	}
	d := &Dict{seed: maphash.MakeSeed(), shards: make([]map[string]Obj, base), base: base}
	per := min(n/base+1, shardLoad)
	for i := range d.shards {
		d.shards[i] = make(map[string]Obj, per)
	}
	return d
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
	d.cow(i, key)
	m := d.shards[i]
	n := len(m)
	m[key] = o // one map operation; the length says whether key is new
	exists := len(m) == n
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
	d.cow(i, key)
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
		d.cow(i, key)
		delete(m, key)
		d.count--
	}
	return o, ok
}

// grow splits one shard. Both halves get fresh maps sized for what they hold
// (Go maps never shrink, so reusing the old one would keep its slack).
func (d *Dict) grow() {
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
	if p := d.snap; p != nil {
		// The new half inherits the split shard's snapshot state.
		p.pending = append(p.pending, p.pending[d.split])
		p.saved = append(p.saved, nil)
		if p.pending[d.split] {
			p.left++
			if saved := p.saved[d.split]; saved != nil {
				loSaved, hiSaved := map[string]savedEntry{}, map[string]savedEntry{}
				for k, e := range saved {
					if int(d.hash(k)&mask) == d.split {
						loSaved[k] = e
					} else {
						hiSaved[k] = e
					}
				}
				p.saved[d.split], p.saved[len(p.saved)-1] = loSaved, hiSaved
			}
		}
	}
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
