package backend

import (
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/lagwise/lagwise/backend/resp"
)

// memberTable is the "hashtable" encoding of sets and hashes: string keys
// with values of type V (struct{} for sets), with
//   - a deterministic iteration order that only changes when the table
//     changes (so HKEYS and HVALS agree, as in Redis);
//   - O(1) uniformly random entries (SPOP, SRANDMEMBER, HRANDFIELD);
//   - a SCAN cursor with Redis's guarantee: every entry present for the whole
//     iteration is returned at least once;
//   - growth and shrinkage in small steps, never a stop-the-world rehash.
//
// It is linear hashing over shards. Key k with hash h lives in shard
// h&(base-1), or h&(2*base-1) when that shard was already split in the
// current round (index < split). A shard keeps its entries densely in keys
// and vals (deletion moves the last entry into the hole) and finds them
// through idx, an open-addressing table with linear probing whose slots hold
// tag<<32 | pos+1 (0 = empty), tag being the high 32 bits of h.
//
// Invariants: len(shards) == base + split; 0 <= split < base; base is a power
// of two; count is the sum of the shards' lengths; every shard's idx has a
// power-of-two length of at least mtMinIndex and is at most 3/4 full.
type memberTable[V any] struct {
	shards []mtShard[V]
	base   int
	split  int
	count  int
}

type mtShard[V any] struct {
	keys []string
	vals []V
	idx  []uint64
}

const (
	mtShardLoad = 1024 // average entries per shard before a split
	mtMinIndex  = 8
)

var mtSeed = maphash.MakeSeed()

func newMemberTable[V any]() *memberTable[V] {
	return &memberTable[V]{shards: []mtShard[V]{{idx: make([]uint64, mtMinIndex)}}, base: 1}
}

func mtHash(key string) uint64 { return maphash.String(mtSeed, key) }

func (t *memberTable[V]) Len() int { return t.count }

func (t *memberTable[V]) shardOf(h uint64) *mtShard[V] {
	i := int(h & uint64(t.base-1))
	if i < t.split {
		i = int(h & uint64(2*t.base-1))
	}
	return &t.shards[i]
}

// find returns the position of key in the shard (-1 if absent) and the idx
// slot that holds it, or the empty slot where it would go.
func (s *mtShard[V]) find(key string, tag uint32) (slot, pos int) {
	mask := len(s.idx) - 1
	i := int(tag) & mask
	for {
		e := s.idx[i]
		if e == 0 {
			return i, -1
		}
		if uint32(e>>32) == tag {
			if p := int(uint32(e)) - 1; s.keys[p] == key {
				return i, p
			}
		}
		i = (i + 1) & mask
	}
}

// add appends an entry known to be absent.
func (s *mtShard[V]) add(key string, v V, tag uint32) {
	if (len(s.keys)+1)*4 > len(s.idx)*3 {
		s.reindex(len(s.idx) * 2)
	}
	mask := len(s.idx) - 1
	i := int(tag) & mask
	for s.idx[i] != 0 {
		i = (i + 1) & mask
	}
	s.keys = append(s.keys, key)
	s.vals = append(s.vals, v)
	s.idx[i] = uint64(tag)<<32 | uint64(len(s.keys))
}

// reindex rebuilds idx with n slots.
func (s *mtShard[V]) reindex(n int) {
	old := s.idx
	s.idx = make([]uint64, n)
	mask := n - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		i := int(uint32(e>>32)) & mask
		for s.idx[i] != 0 {
			i = (i + 1) & mask
		}
		s.idx[i] = e
	}
}

// remove deletes the entry at pos, whose idx slot is slot.
func (s *mtShard[V]) remove(slot, pos int) {
	// Backward-shift deletion keeps every probe chain unbroken.
	mask := len(s.idx) - 1
	i, j := slot, slot
	for {
		j = (j + 1) & mask
		e := s.idx[j]
		if e == 0 {
			break
		}
		k := int(uint32(e>>32)) & mask // home slot of the entry at j
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		s.idx[i] = e
		i = j
	}
	s.idx[i] = 0
	last := len(s.keys) - 1
	if pos != last {
		// Move the last entry into the hole and repoint its slot.
		moved := s.keys[last]
		s.keys[pos] = moved
		s.vals[pos] = s.vals[last]
		tag := uint32(mtHash(moved) >> 32)
		k := int(tag) & mask
		for uint32(s.idx[k]) != uint32(last+1) {
			k = (k + 1) & mask
		}
		s.idx[k] = uint64(tag)<<32 | uint64(pos+1)
	}
	var zero V
	s.keys[last] = ""
	s.vals[last] = zero
	s.keys = s.keys[:last]
	s.vals = s.vals[:last]
	if n := len(s.keys); cap(s.keys) > 32 && n < cap(s.keys)/4 {
		s.keys = append(make([]string, 0, 2*n), s.keys...)
		s.vals = append(make([]V, 0, 2*n), s.vals...)
	}
	if n := len(s.keys); len(s.idx) > mtMinIndex && n*8 < len(s.idx) {
		s.reindex(max(mtMinIndex, len(s.idx)/4))
	}
}

// Get returns the value of key.
func (t *memberTable[V]) Get(key string) (V, bool) {
	h := mtHash(key)
	s := t.shardOf(h)
	if _, p := s.find(key, uint32(h>>32)); p >= 0 {
		return s.vals[p], true
	}
	var zero V
	return zero, false
}

// Has reports whether key is present.
func (t *memberTable[V]) Has(key string) bool {
	h := mtHash(key)
	_, p := t.shardOf(h).find(key, uint32(h>>32))
	return p >= 0
}

// Put sets key to v and reports whether key is new. A new key is stored as
// given when owned, else copied (key may then alias a request buffer); an
// existing key keeps its stored string.
func (t *memberTable[V]) Put(key string, v V, owned bool) bool {
	_, inserted := t.Swap(key, v, owned)
	return inserted
}

// Swap is Put that also returns the value key had.
func (t *memberTable[V]) Swap(key string, v V, owned bool) (old V, inserted bool) {
	h := mtHash(key)
	s := t.shardOf(h)
	tag := uint32(h >> 32)
	if _, p := s.find(key, tag); p >= 0 {
		old, s.vals[p] = s.vals[p], v
		return old, false
	}
	if !owned {
		key = strings.Clone(key)
	}
	s.add(key, v, tag)
	t.count++
	if t.count > len(t.shards)*mtShardLoad {
		t.splitOne()
	}
	return old, true
}

// Delete removes key and returns the stored key and value.
func (t *memberTable[V]) Delete(key string) (string, V, bool) {
	h := mtHash(key)
	s := t.shardOf(h)
	slot, p := s.find(key, uint32(h>>32))
	if p < 0 {
		var zero V
		return "", zero, false
	}
	k, v := s.keys[p], s.vals[p]
	s.remove(slot, p)
	t.count--
	if len(t.shards) > 1 && t.count < len(t.shards)*mtShardLoad/4 {
		t.mergeOne()
	}
	return k, v, true
}

// splitOne splits shard `split` into itself and split+base.
func (t *memberTable[V]) splitOne() {
	old := t.shards[t.split]
	bit := uint64(t.base)
	n := len(old.keys)/2 + 1
	lo := mtShard[V]{keys: make([]string, 0, n), vals: make([]V, 0, n), idx: make([]uint64, mtIndexFor(n))}
	hi := mtShard[V]{keys: make([]string, 0, n), vals: make([]V, 0, n), idx: make([]uint64, mtIndexFor(n))}
	for p, k := range old.keys {
		h := mtHash(k)
		if h&bit == 0 {
			lo.add(k, old.vals[p], uint32(h>>32))
		} else {
			hi.add(k, old.vals[p], uint32(h>>32))
		}
	}
	t.shards[t.split] = lo
	t.shards = append(t.shards, hi)
	t.split++
	if t.split == t.base {
		t.base *= 2
		t.split = 0
	}
}

// mergeOne undoes the last split.
func (t *memberTable[V]) mergeOne() {
	if t.split == 0 {
		t.base /= 2
		t.split = t.base
	}
	t.split--
	a, b := &t.shards[t.split], &t.shards[t.split+t.base]
	n := len(a.keys) + len(b.keys)
	m := mtShard[V]{keys: make([]string, 0, n), vals: make([]V, 0, n), idx: make([]uint64, mtIndexFor(n))}
	for _, s := range []*mtShard[V]{a, b} {
		for _, e := range s.idx {
			if e != 0 {
				p := int(uint32(e)) - 1
				m.add(s.keys[p], s.vals[p], uint32(e>>32))
			}
		}
	}
	t.shards[t.split] = m
	t.shards[len(t.shards)-1] = mtShard[V]{}
	t.shards = t.shards[:len(t.shards)-1]
}

// mtIndexFor is the idx size for n entries.
func mtIndexFor(n int) int {
	size := mtMinIndex
	for size*3 < n*4+4 {
		size *= 2
	}
	return size
}

// Each calls fn on every entry in table order until fn returns false. fn
// must not change the table.
func (t *memberTable[V]) Each(fn func(key string, v V) bool) {
	for i := range t.shards {
		s := &t.shards[i]
		for p, k := range s.keys {
			if !fn(k, s.vals[p]) {
				return
			}
		}
	}
}

// Random returns a uniformly random entry of a non-empty table.
func (t *memberTable[V]) Random() (string, V) {
	if len(t.shards) == 1 {
		s := &t.shards[0]
		p := rand.IntN(len(s.keys))
		return s.keys[p], s.vals[p]
	}
	// Pick a shard with probability proportional to its size by rejection:
	// shards hold well under 4*mtShardLoad entries.
	const bound = 4 * mtShardLoad
	for {
		s := &t.shards[rand.IntN(len(t.shards))]
		if p := rand.IntN(max(bound, len(s.keys))); p < len(s.keys) {
			return s.keys[p], s.vals[p]
		}
	}
}

// At calls fn on the entries at the given positions of the table order;
// positions must be ascending and below Len.
func (t *memberTable[V]) At(positions []int, fn func(key string, v V)) {
	off, si := 0, 0
	for _, p := range positions {
		for p >= off+len(t.shards[si].keys) {
			off += len(t.shards[si].keys)
			si++
		}
		s := &t.shards[si]
		fn(s.keys[p-off], s.vals[p-off])
	}
}

// Scan visits the entries of one or more cursor steps, until at least count
// entries were visited or the iteration ends, and returns the next cursor
// (0 at the end). It is Redis's reverse-binary cursor over the hash classes
// of the current base: each step visits every entry whose hash has the
// cursor's low bits, so entries present for the whole scan are all visited
// at least once while the table grows or shrinks in between.
func (t *memberTable[V]) Scan(cursor uint64, count int, fn func(key string, v V)) uint64 {
	if count < 1 {
		count = 1
	}
	mask := uint64(t.base - 1)
	seen := 0
	for {
		v := int(cursor & mask)
		seen += t.visit(v, fn)
		if v < t.split {
			seen += t.visit(v+t.base, fn)
		}
		cursor |= ^mask
		cursor = reverseBits(cursor)
		cursor++
		cursor = reverseBits(cursor)
		if cursor == 0 || seen >= count {
			return cursor
		}
	}
}

func (t *memberTable[V]) visit(i int, fn func(string, V)) int {
	s := &t.shards[i]
	for p, k := range s.keys {
		fn(k, s.vals[p])
	}
	return len(s.keys)
}

// Clone returns a deep copy (the strings themselves are immutable and
// shared).
func (t *memberTable[V]) Clone() *memberTable[V] {
	n := &memberTable[V]{shards: make([]mtShard[V], len(t.shards)), base: t.base, split: t.split, count: t.count}
	for i := range t.shards {
		s := &t.shards[i]
		n.shards[i] = mtShard[V]{keys: slices.Clone(s.keys), vals: slices.Clone(s.vals), idx: slices.Clone(s.idx)}
	}
	return n
}

// overhead estimates the table's own memory, not counting key and value
// bytes.
func (t *memberTable[V]) overhead() int64 {
	var zero V
	vs := int64(unsafe.Sizeof(zero))
	n := int64(48 + 56*len(t.shards))
	for i := range t.shards {
		s := &t.shards[i]
		n += int64(cap(s.keys))*16 + int64(cap(s.vals))*vs + int64(len(s.idx))*8
	}
	return n
}

// Set is a set value. Its encoding follows Redis 7.0: "intset" (a sorted
// array of integers) while every member is an integer in string2ll form and
// there are at most set-max-intset-entries of them, then "hashtable" for
// good.
type Set struct {
	ints []int64 // intset encoding, ascending; used while ht == nil
	ht   *memberTable[struct{}]
	// strBytes counts the bytes of the members held in ht.
	strBytes int
}

// setIntsetLimit caps set-max-intset-entries as Redis does.
const setIntsetLimit = 1 << 30

// newIntSet returns an empty set in the intset encoding (Redis's
// createIntsetObject).
func newIntSet() *Set { return &Set{} }

// newSetFor returns an empty set with the encoding Redis's setTypeCreate
// chooses for a set whose first member is first.
func newSetFor(first string) *Set {
	if _, ok := hsStr2ll(first); ok {
		return &Set{}
	}
	return &Set{ht: newMemberTable[struct{}]()}
}

// hsStr2ll parses s with Redis's string2ll rules.
func hsStr2ll(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	return resp.ParseInt(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Len is the number of members.
func (s *Set) Len() int {
	if s.ht != nil {
		return s.ht.Len()
	}
	return len(s.ints)
}

// IsIntset reports whether the set is in the intset encoding.
func (s *Set) IsIntset() bool { return s.ht == nil }

// Encoding is what OBJECT ENCODING answers.
func (s *Set) Encoding() string {
	if s.ht != nil {
		return "hashtable"
	}
	return "intset"
}

func (s *Set) intPos(v int64) (int, bool) { return slices.BinarySearch(s.ints, v) }

// Contains reports whether m is a member.
func (s *Set) Contains(m string) bool {
	if s.ht != nil {
		return s.ht.Has(m)
	}
	v, ok := hsStr2ll(m)
	if !ok {
		return false
	}
	_, found := s.intPos(v)
	return found
}

// ContainsInt reports whether the decimal form of v is a member.
func (s *Set) ContainsInt(v int64) bool {
	if s.ht != nil {
		var buf [24]byte
		b := strconv.AppendInt(buf[:0], v, 10)
		return s.ht.Has(unsafe.String(&b[0], len(b)))
	}
	_, found := s.intPos(v)
	return found
}

// Add adds m and reports whether it was new. m is copied if stored, so it
// may alias a request buffer. maxIntset is set-max-intset-entries.
func (s *Set) Add(m string, maxIntset int) bool { return s.add(m, maxIntset, false) }

// addOwned is Add for a string that may be stored as it is.
func (s *Set) addOwned(m string, maxIntset int) bool { return s.add(m, maxIntset, true) }

func (s *Set) add(m string, maxIntset int, owned bool) bool {
	if s.ht == nil {
		if v, ok := hsStr2ll(m); ok {
			return s.AddInt(v, maxIntset)
		}
		s.convert()
	}
	if s.ht.Put(m, struct{}{}, owned) {
		s.strBytes += len(m)
		return true
	}
	return false
}

// AddInt adds the integer member v and reports whether it was new.
func (s *Set) AddInt(v int64, maxIntset int) bool {
	if s.ht != nil {
		if s.ht.Put(strconv.FormatInt(v, 10), struct{}{}, true) {
			s.strBytes += setIntLen(v)
			return true
		}
		return false
	}
	i, found := s.intPos(v)
	if found {
		return false
	}
	s.ints = slices.Insert(s.ints, i, v)
	if maxIntset > setIntsetLimit {
		maxIntset = setIntsetLimit
	}
	if len(s.ints) > maxIntset {
		s.convert()
	}
	return true
}

func setIntLen(v int64) int {
	var buf [24]byte
	return len(strconv.AppendInt(buf[:0], v, 10))
}

// convert switches to the hashtable encoding.
func (s *Set) convert() {
	if s.ht != nil {
		return
	}
	t := newMemberTable[struct{}]()
	for _, v := range s.ints {
		m := strconv.FormatInt(v, 10)
		t.Put(m, struct{}{}, true)
		s.strBytes += len(m)
	}
	s.ht = t
	s.ints = nil
}

// Remove removes m and reports whether it was a member.
func (s *Set) Remove(m string) bool {
	if s.ht != nil {
		if k, _, ok := s.ht.Delete(m); ok {
			s.strBytes -= len(k)
			return true
		}
		return false
	}
	v, ok := hsStr2ll(m)
	if !ok {
		return false
	}
	i, found := s.intPos(v)
	if !found {
		return false
	}
	s.ints = slices.Delete(s.ints, i, i+1)
	return true
}

// RemoveInt removes the integer member v and reports whether it was one.
func (s *Set) RemoveInt(v int64) bool {
	if s.ht != nil {
		var buf [24]byte
		b := strconv.AppendInt(buf[:0], v, 10)
		return s.Remove(unsafe.String(&b[0], len(b)))
	}
	i, found := s.intPos(v)
	if !found {
		return false
	}
	s.ints = slices.Delete(s.ints, i, i+1)
	return true
}

// Each calls fn on every member (ascending for an intset) until fn returns
// false.
func (s *Set) Each(fn func(member string) bool) {
	if s.ht != nil {
		s.ht.Each(func(k string, _ struct{}) bool { return fn(k) })
		return
	}
	for _, v := range s.ints {
		if !fn(strconv.FormatInt(v, 10)) {
			return
		}
	}
}

// Random returns a random member of a non-empty set; for an intset isInt
// is true and the member is iv.
func (s *Set) Random() (m string, iv int64, isInt bool) {
	if s.ht != nil {
		k, _ := s.ht.Random()
		return k, 0, false
	}
	return "", s.ints[rand.IntN(len(s.ints))], true
}

// Clone returns a deep copy.
func (s *Set) Clone() *Set {
	n := &Set{strBytes: s.strBytes}
	if s.ht != nil {
		n.ht = s.ht.Clone()
	} else {
		n.ints = slices.Clone(s.ints)
	}
	return n
}

// MemUsage estimates the bytes the set takes.
func (s *Set) MemUsage() int64 {
	if s.ht != nil {
		return 32 + s.ht.overhead() + int64(s.strBytes) + int64(s.ht.Len())*8
	}
	return 32 + int64(cap(s.ints))*8
}
