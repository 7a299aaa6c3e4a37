package backend

import (
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/lagwise/lagwise/backend/resp"
)

// ZSet is a sorted set: distinct members (binary strings), each with a
// score, ordered by score and then by member bytes.
//
// It has Redis's two encodings, and the encoding is also the physical
// layout:
//   - listpack: a slice of entries kept in order, for small sets; every
//     operation is a scan or a binary search over at most
//     zset-max-listpack-entries entries. Like a Redis listpack it cannot
//     hold -0: a zero score is stored as 0.
//   - skiplist: Pugh's skiplist with Redis's extensions (a span on every
//     link, so ranks cost O(log n), and a backward link at level 0) plus a
//     chained hash table member -> node threaded through the same nodes,
//     so a member costs one allocation. The hash table rehashes
//     incrementally and is scanned with Redis's reverse-binary cursor, so
//     ZSCAN keeps Redis's guarantees.
//
// A set goes from listpack to skiplist when it grows past the limits and
// never back, except when a whole new set is built (ZUNIONSTORE, ...).
//
// Invariants: exactly one of lp / sl holds the members (sl != nil means
// skiplist); entries of lp are sorted by (score, member); memberBytes is
// the sum of the members' lengths.
type ZSet struct {
	lp          []zEntry
	sl          *zskiplist
	memberBytes int
}

type zEntry struct {
	member string
	score  float64
}

// zsetLimits are the listpack limits of the config
// (zset-max-listpack-entries / -value).
type zsetLimits struct{ entries, value int }

// NewZSet returns an empty sorted set in the listpack encoding.
func NewZSet() *ZSet { return &ZSet{} }

// Len is the number of members.
func (z *ZSet) Len() int {
	if z.sl != nil {
		return z.sl.length
	}
	return len(z.lp)
}

// Encoding is what OBJECT ENCODING answers.
func (z *ZSet) Encoding() string {
	if z.sl != nil {
		return "skiplist"
	}
	return "listpack"
}

// Clone returns a deep copy in the same encoding.
func (z *ZSet) Clone() *ZSet {
	n := &ZSet{memberBytes: z.memberBytes}
	if z.sl == nil {
		n.lp = slices.Clone(z.lp)
		return n
	}
	n.sl = newZskiplist(z.sl.length)
	b := n.sl.builder()
	for x := z.sl.first(); x != nil; x = x.next() {
		b.add(x.member, x.score)
	}
	return n
}

// MemUsage is a rough estimate of the bytes the set holds.
func (z *ZSet) MemUsage() int64 {
	if z.sl == nil {
		return int64(48 + cap(z.lp)*int(unsafe.Sizeof(zEntry{})) + z.memberBytes)
	}
	d := &z.sl.dict
	// A node is 64 bytes plus 16 per extra level (1/3 on average).
	return int64(64 + 32*16 + z.sl.length*(64+6) + 8*(len(d.t[0])+len(d.t[1])) + z.memberBytes)
}

// Each calls fn on every member in ascending order until fn returns false.
// fn must not change the set.
func (z *ZSet) Each(fn func(member string, score float64) bool) {
	if z.sl == nil {
		for _, e := range z.lp {
			if !fn(e.member, e.score) {
				return
			}
		}
		return
	}
	for x := z.sl.first(); x != nil; x = x.next() {
		if !fn(x.member, x.score) {
			return
		}
	}
}

// Score returns the score of member.
func (z *ZSet) Score(member string) (float64, bool) {
	if z.sl == nil {
		if i := z.lpFind(member); i >= 0 {
			return z.lp[i].score, true
		}
		return 0, false
	}
	if x := z.sl.dict.find(member); x != nil {
		return x.score, true
	}
	return 0, false
}

// Rank returns the 0-based ascending rank of member.
func (z *ZSet) Rank(member string) (int, bool) {
	if z.sl == nil {
		i := z.lpFind(member)
		return i, i >= 0
	}
	x := z.sl.dict.find(member)
	if x == nil {
		return 0, false
	}
	return z.sl.rank(x.score, x.member) - 1, true
}

// Put sets member's score, adding it if needed, without changing the
// encoding (for loaders; see FitEncoding).
func (z *ZSet) Put(member string, score float64) {
	z.add(member, score, 0, zsetLimits{math.MaxInt, math.MaxInt})
}

// FitEncoding gives the set the encoding Redis picks for a set loaded
// whole: listpack when it has at most maxEntries members, none longer than
// maxValue bytes.
func (z *ZSet) FitEncoding(maxEntries, maxValue int) {
	if z.Len() <= maxEntries && z.maxMemberLen() <= maxValue {
		z.toListpack()
	} else {
		z.toSkiplist()
	}
}

func (z *ZSet) maxMemberLen() int {
	m := 0
	z.Each(func(member string, _ float64) bool {
		m = max(m, len(member))
		return true
	})
	return m
}

// Flags of add, as Redis's zsetAdd names them.
const (
	zaddIncr = 1 << iota
	zaddNX
	zaddXX
	zaddGT
	zaddLT
)

// Results of add.
const (
	zaddAdded = 1 << iota
	zaddUpdated
	zaddNop
	zaddNaN
)

// add adds member or updates its score under the flags, converting the
// set to a skiplist first when a new member would break the listpack
// limits. It returns what happened and the member's resulting score.
// member may alias a request buffer: it is copied when stored.
func (z *ZSet) add(member string, score float64, flags int, lim zsetLimits) (int, float64) {
	if math.IsNaN(score) {
		return zaddNaN, 0
	}
	incr, nx, xx := flags&zaddIncr != 0, flags&zaddNX != 0, flags&zaddXX != 0
	gt, lt := flags&zaddGT != 0, flags&zaddLT != 0
	if z.sl == nil {
		if i := z.lpFind(member); i >= 0 {
			if nx {
				return zaddNop, 0
			}
			cur := z.lp[i].score
			if incr {
				score += cur
				if math.IsNaN(score) {
					return zaddNaN, 0
				}
			}
			if (lt && score >= cur) || (gt && score <= cur) {
				return zaddNop, 0
			}
			if score == cur {
				return 0, score
			}
			m := z.lp[i].member
			z.lpRemoveAt(i)
			z.lpInsert(m, score)
			return zaddUpdated, score
		}
		if xx {
			return zaddNop, 0
		}
		if len(z.lp)+1 <= lim.entries && len(member) <= lim.value {
			z.lpInsert(strings.Clone(member), score)
			z.memberBytes += len(member)
			return zaddAdded, score
		}
		z.toSkiplist()
	}
	sl := z.sl
	if x := sl.dict.find(member); x != nil {
		if nx {
			return zaddNop, 0
		}
		cur := x.score
		if incr {
			score += cur
			if math.IsNaN(score) {
				return zaddNaN, 0
			}
		}
		if (lt && score >= cur) || (gt && score <= cur) {
			return zaddNop, 0
		}
		if score == cur {
			return 0, score
		}
		sl.updateScore(x, score)
		return zaddUpdated, score
	}
	if xx {
		return zaddNop, 0
	}
	x := newZNode(zslRandomLevel(), strings.Clone(member), score)
	sl.insertNode(x)
	sl.dict.add(x)
	z.memberBytes += len(member)
	return zaddAdded, score
}

// Delete removes member and reports whether it was there.
func (z *ZSet) Delete(member string) bool {
	if z.sl == nil {
		i := z.lpFind(member)
		if i < 0 {
			return false
		}
		z.memberBytes -= len(z.lp[i].member)
		z.lpRemoveAt(i)
		return true
	}
	x := z.sl.dict.remove(member)
	if x == nil {
		return false
	}
	z.sl.unlink(x)
	z.memberBytes -= len(x.member)
	z.sl.dict.shrinkIfNeeded()
	return true
}

// deleteRange removes the members of ascending ranks start..end (0-based,
// inclusive, in range) and returns how many it removed.
func (z *ZSet) deleteRange(start, end int) int {
	if start > end {
		return 0
	}
	if z.sl == nil {
		for _, e := range z.lp[start : end+1] {
			z.memberBytes -= len(e.member)
		}
		z.lp = slices.Delete(z.lp, start, end+1)
		return end - start + 1
	}
	n := z.sl.deleteRangeByRank(start+1, end+1, func(x *zNode) { z.memberBytes -= len(x.member) })
	z.sl.dict.shrinkIfNeeded()
	return n
}

// at returns the member of ascending rank r (0 <= r < Len()).
func (z *ZSet) at(r int) (string, float64) {
	if z.sl == nil {
		e := z.lp[r]
		return e.member, e.score
	}
	x := z.sl.byRank(r + 1)
	return x.member, x.score
}

// iter returns an iterator that starts at ascending rank r and walks
// towards higher ranks, or lower ones when rev.
func (z *ZSet) iter(r int, rev bool) zIter {
	if z.sl == nil {
		return zIter{lp: z.lp, i: r, rev: rev}
	}
	it := zIter{big: true, rev: rev}
	if r >= 0 && r < z.sl.length {
		it.n = z.sl.byRank(r + 1)
	}
	return it
}

// zIter walks a set by rank; the set must not change meanwhile.
type zIter struct {
	lp  []zEntry
	i   int
	n   *zNode
	big bool
	rev bool
}

func (it *zIter) next() (string, float64, bool) {
	if it.big {
		x := it.n
		if x == nil {
			return "", 0, false
		}
		if it.rev {
			it.n = x.backward
		} else {
			it.n = x.next()
		}
		return x.member, x.score, true
	}
	if it.i < 0 || it.i >= len(it.lp) {
		return "", 0, false
	}
	e := it.lp[it.i]
	if it.rev {
		it.i--
	} else {
		it.i++
	}
	return e.member, e.score, true
}

// firstInScore returns the rank of the lowest member within r, or -1.
func (z *ZSet) firstInScore(r *zScoreRange) int {
	if z.sl != nil {
		return z.sl.firstIn(r) - 1
	}
	lp := z.lp
	i := sort.Search(len(lp), func(i int) bool { return r.gteMin(lp[i].score) })
	if i == len(lp) || !r.lteMax(lp[i].score) {
		return -1
	}
	return i
}

// lastInScore returns the rank of the highest member within r, or -1.
func (z *ZSet) lastInScore(r *zScoreRange) int {
	if z.sl != nil {
		return z.sl.lastIn(r) - 1
	}
	lp := z.lp
	i := sort.Search(len(lp), func(i int) bool { return !r.lteMax(lp[i].score) }) - 1
	if i < 0 || !r.gteMin(lp[i].score) {
		return -1
	}
	return i
}

// firstInLex returns the rank of the first member within r, or -1. Lex
// ranges assume equal scores; for other sets the answer follows Redis's
// walk for the encoding.
func (z *ZSet) firstInLex(r *zLexRange) int {
	if z.sl != nil {
		return z.sl.firstIn(r) - 1
	}
	lp := z.lp
	if r.empty() || len(lp) == 0 || !r.gteMin(lp[len(lp)-1].member) || !r.lteMax(lp[0].member) {
		return -1
	}
	for i, e := range lp {
		if r.gteMin(e.member) {
			if r.lteMax(e.member) {
				return i
			}
			return -1
		}
	}
	return -1
}

// lastInLex returns the rank of the last member within r, or -1.
func (z *ZSet) lastInLex(r *zLexRange) int {
	if z.sl != nil {
		return z.sl.lastIn(r) - 1
	}
	lp := z.lp
	if r.empty() || len(lp) == 0 || !r.gteMin(lp[len(lp)-1].member) || !r.lteMax(lp[0].member) {
		return -1
	}
	for i := len(lp) - 1; i >= 0; i-- {
		if r.lteMax(lp[i].member) {
			if r.gteMin(lp[i].member) {
				return i
			}
			return -1
		}
	}
	return -1
}

// random returns a uniformly chosen member of a non-empty set.
func (z *ZSet) random() (string, float64) { return z.at(rand.IntN(z.Len())) }

// scan visits one cursor step of a skiplist-encoded set (Redis's dictScan)
// and returns the next cursor, 0 at the end.
func (z *ZSet) scan(cursor uint64, fn func(member string, score float64)) uint64 {
	return z.sl.dict.scan(cursor, func(x *zNode) { fn(x.member, x.score) })
}

// listpack helpers

func (z *ZSet) lpFind(member string) int {
	for i := range z.lp {
		if z.lp[i].member == member {
			return i
		}
	}
	return -1
}

func (z *ZSet) lpRemoveAt(i int) { z.lp = slices.Delete(z.lp, i, i+1) }

// lpInsert inserts a member known to be absent, in order.
func (z *ZSet) lpInsert(member string, score float64) {
	score = zlpScore(score)
	lp := z.lp
	i := sort.Search(len(lp), func(i int) bool {
		e := &lp[i]
		return e.score > score || (e.score == score && e.member > member)
	})
	z.lp = slices.Insert(lp, i, zEntry{member, score})
}

// zlpScore is a score as a listpack keeps it: a listpack stores integral
// scores as integers, so -0 comes back as 0.
func zlpScore(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

// zlpFormatScore formats a score the way a listpack holds it (as ZSCAN of
// a small set shows it): an integer when the score is integral and within
// ±2^62, else %.17g.
func zlpFormatScore(b []byte, f float64) []byte {
	if f >= -(1<<62) && f <= 1<<62 && f == math.Trunc(f) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return resp.FormatScore(b, f)
}

// toSkiplist converts a listpack set to the skiplist encoding.
func (z *ZSet) toSkiplist() {
	if z.sl != nil {
		return
	}
	z.sl = newZskiplist(len(z.lp))
	b := z.sl.builder()
	for _, e := range z.lp {
		b.add(e.member, e.score)
	}
	z.lp = nil
}

// toListpack converts a skiplist set to the listpack encoding.
func (z *ZSet) toListpack() {
	if z.sl == nil {
		return
	}
	lp := make([]zEntry, 0, z.sl.length)
	for x := z.sl.first(); x != nil; x = x.next() {
		lp = append(lp, zEntry{x.member, zlpScore(x.score)})
	}
	z.lp, z.sl = lp, nil
}

// zsetFromSorted builds a set from entries sorted by (score, member) with
// distinct members, in the listpack encoding when small, else skiplist.
func zsetFromSorted(entries []zEntry, small bool) *ZSet {
	z := &ZSet{}
	for _, e := range entries {
		z.memberBytes += len(e.member)
	}
	if small {
		z.lp = make([]zEntry, len(entries))
		for i, e := range entries {
			z.lp[i] = zEntry{e.member, zlpScore(e.score)}
		}
		return z
	}
	z.sl = newZskiplist(len(entries))
	b := z.sl.builder()
	for _, e := range entries {
		b.add(e.member, e.score)
	}
	return z
}

// zentryCmp orders entries as a sorted set does.
func zentryCmp(a, b zEntry) int {
	switch {
	case a.score < b.score:
		return -1
	case a.score > b.score:
		return 1
	}
	return strings.Compare(a.member, b.member)
}

// Ranges

// zScoreRange is a score interval; minex/maxex make an end exclusive.
type zScoreRange struct {
	min, max     float64
	minex, maxex bool
}

func (r *zScoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *zScoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

func (r *zScoreRange) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minex || r.maxex))
}

// zLexBound is one end of a lex range: a string, or "-" (inf < 0, below
// every string) or "+" (inf > 0, above every string).
type zLexBound struct {
	s   string
	inf int8
}

// zlexCmp compares two bounds as Redis's sdscmplex does.
func zlexCmp(a, b zLexBound) int {
	switch {
	case a.inf != 0 && a.inf == b.inf:
		return 0
	case a.inf < 0 || b.inf > 0:
		return -1
	case a.inf > 0 || b.inf < 0:
		return 1
	}
	return strings.Compare(a.s, b.s)
}

// zLexRange is a range of members; minex/maxex make an end exclusive.
type zLexRange struct {
	min, max     zLexBound
	minex, maxex bool
}

func (r *zLexRange) gteMin(v string) bool {
	c := zlexCmp(zLexBound{s: v}, r.min)
	if r.minex {
		return c > 0
	}
	return c >= 0
}

func (r *zLexRange) lteMax(v string) bool {
	c := zlexCmp(zLexBound{s: v}, r.max)
	if r.maxex {
		return c < 0
	}
	return c <= 0
}

func (r *zLexRange) empty() bool {
	c := zlexCmp(r.min, r.max)
	return c > 0 || (c == 0 && (r.minex || r.maxex))
}

// The skiplist.

const zslMaxLevel = 32

type zLevel struct {
	forward *zNode
	span    int // ranks crossed by forward; meaningless when forward is nil
}

// zNode is a skiplist node. Its levels beyond the first follow it in the
// same allocation (see newZNode), like a C flexible array member.
type zNode struct {
	member   string
	score    float64
	backward *zNode // level-0 predecessor; nil for the first node
	hnext    *zNode // next node in the same hash bucket
	nlevel   int
	lv       [1]zLevel
}

// level returns the i-th level of n (i < n.nlevel).
func (n *zNode) level(i int) *zLevel {
	return (*zLevel)(unsafe.Add(unsafe.Pointer(&n.lv[0]), uintptr(i)*unsafe.Sizeof(zLevel{})))
}

func (n *zNode) next() *zNode { return n.lv[0].forward }

// newZNode allocates a node with room for level levels in one object.
func newZNode(level int, member string, score float64) *zNode {
	var n *zNode
	switch {
	case level == 1:
		n = new(zNode)
	case level == 2:
		n = &new(struct {
			zNode
			_ [1]zLevel
		}).zNode
	case level == 3:
		n = &new(struct {
			zNode
			_ [2]zLevel
		}).zNode
	case level == 4:
		n = &new(struct {
			zNode
			_ [3]zLevel
		}).zNode
	case level <= 8:
		n = &new(struct {
			zNode
			_ [7]zLevel
		}).zNode
	case level <= 16:
		n = &new(struct {
			zNode
			_ [15]zLevel
		}).zNode
	default:
		n = &new(struct {
			zNode
			_ [zslMaxLevel - 1]zLevel
		}).zNode
	}
	n.member, n.score, n.nlevel = member, score, level
	return n
}

// zslRandomLevel returns a level in [1, 32], each further level with
// probability 1/4, as Redis's zslRandomLevel.
func zslRandomLevel() int {
	// Every pair of trailing zero bits is one more level.
	return 1 + bits.TrailingZeros64(rand.Uint64()|1<<62)/2
}

// zskiplist is the skiplist with its member index.
type zskiplist struct {
	header *zNode
	tail   *zNode
	length int
	level  int
	dict   zdict
}

func newZskiplist(sizeHint int) *zskiplist {
	sl := &zskiplist{header: newZNode(zslMaxLevel, "", 0), level: 1}
	sl.dict.reserve(sizeHint)
	return sl
}

func (sl *zskiplist) first() *zNode { return sl.header.next() }

// zless reports whether (s1, m1) sorts before (s2, m2).
func zless(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// insertNode links x, whose member is absent, at its place.
func (sl *zskiplist) insertNode(x *zNode) {
	var update [zslMaxLevel]*zNode
	var rank [zslMaxLevel]int
	n := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		if i < sl.level-1 {
			rank[i] = rank[i+1]
		}
		for {
			l := n.level(i)
			if l.forward == nil || !zless(l.forward.score, l.forward.member, x.score, x.member) {
				break
			}
			rank[i] += l.span
			n = l.forward
		}
		update[i] = n
	}
	level := x.nlevel
	if level > sl.level {
		for i := sl.level; i < level; i++ {
			rank[i] = 0
			update[i] = sl.header
			sl.header.level(i).span = sl.length
		}
		sl.level = level
	}
	for i := 0; i < level; i++ {
		ul, xl := update[i].level(i), x.level(i)
		xl.forward = ul.forward
		ul.forward = x
		xl.span = ul.span - (rank[0] - rank[i])
		ul.span = rank[0] - rank[i] + 1
	}
	for i := level; i < sl.level; i++ {
		update[i].level(i).span++
	}
	if update[0] != sl.header {
		x.backward = update[0]
	} else {
		x.backward = nil
	}
	if f := x.next(); f != nil {
		f.backward = x
	} else {
		sl.tail = x
	}
	sl.length++
}

// path fills update with the last node before (score, member) per level.
func (sl *zskiplist) path(score float64, member string, update *[zslMaxLevel]*zNode) {
	n := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for {
			l := n.level(i)
			if l.forward == nil || !zless(l.forward.score, l.forward.member, score, member) {
				break
			}
			n = l.forward
		}
		update[i] = n
	}
}

// deleteNode unlinks x given its predecessors.
func (sl *zskiplist) deleteNode(x *zNode, update *[zslMaxLevel]*zNode) {
	for i := 0; i < sl.level; i++ {
		ul := update[i].level(i)
		if ul.forward == x {
			xl := x.level(i)
			ul.span += xl.span - 1
			ul.forward = xl.forward
		} else {
			ul.span--
		}
	}
	if f := x.next(); f != nil {
		f.backward = x.backward
	} else {
		sl.tail = x.backward
	}
	for sl.level > 1 && sl.header.level(sl.level-1).forward == nil {
		sl.level--
	}
	sl.length--
}

// unlink removes the linked node x from the skiplist (not from the dict).
func (sl *zskiplist) unlink(x *zNode) {
	var update [zslMaxLevel]*zNode
	sl.path(x.score, x.member, &update)
	sl.deleteNode(x, &update)
}

// updateScore moves x to score, in place when its position holds.
func (sl *zskiplist) updateScore(x *zNode, score float64) {
	if (x.backward == nil || x.backward.score < score) && (x.next() == nil || x.next().score > score) {
		x.score = score
		return
	}
	sl.unlink(x)
	x.score = score
	sl.insertNode(x)
}

// rank returns the 1-based rank of (score, member), or 0 if absent.
func (sl *zskiplist) rank(score float64, member string) int {
	n := sl.header
	r := 0
	for i := sl.level - 1; i >= 0; i-- {
		for {
			l := n.level(i)
			f := l.forward
			if f == nil || !(f.score < score || (f.score == score && f.member <= member)) {
				break
			}
			r += l.span
			n = f
		}
		if n != sl.header && n.score == score && n.member == member {
			return r
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r, or nil.
func (sl *zskiplist) byRank(r int) *zNode {
	n := sl.header
	traversed := 0
	for i := sl.level - 1; i >= 0; i-- {
		for {
			l := n.level(i)
			if l.forward == nil || traversed+l.span > r {
				break
			}
			traversed += l.span
			n = l.forward
		}
		if traversed == r {
			if n == sl.header {
				return nil
			}
			return n
		}
	}
	return nil
}

// zRange is a score or lex range as the skiplist searches it.
type zRange interface {
	empty() bool
	nodeGteMin(n *zNode) bool // n is at or past the range's start
	nodeLteMax(n *zNode) bool // n is at or before the range's end
}

func (r *zScoreRange) nodeGteMin(n *zNode) bool { return r.gteMin(n.score) }
func (r *zScoreRange) nodeLteMax(n *zNode) bool { return r.lteMax(n.score) }
func (r *zLexRange) nodeGteMin(n *zNode) bool   { return r.gteMin(n.member) }
func (r *zLexRange) nodeLteMax(n *zNode) bool   { return r.lteMax(n.member) }

// inRange reports whether some node may fall within r.
func (sl *zskiplist) inRange(r zRange) bool {
	if r.empty() || sl.tail == nil || !r.nodeGteMin(sl.tail) {
		return false
	}
	f := sl.first()
	return f != nil && r.nodeLteMax(f)
}

// firstIn returns the 1-based rank of the first node within r, or 0.
func (sl *zskiplist) firstIn(r zRange) int {
	if !sl.inRange(r) {
		return 0
	}
	n := sl.header
	traversed := 0
	for i := sl.level - 1; i >= 0; i-- {
		for {
			l := n.level(i)
			if l.forward == nil || r.nodeGteMin(l.forward) {
				break
			}
			traversed += l.span
			n = l.forward
		}
	}
	n = n.next()
	if n == nil || !r.nodeLteMax(n) {
		return 0
	}
	return traversed + 1
}

// lastIn returns the 1-based rank of the last node within r, or 0.
func (sl *zskiplist) lastIn(r zRange) int {
	if !sl.inRange(r) {
		return 0
	}
	n := sl.header
	traversed := 0
	for i := sl.level - 1; i >= 0; i-- {
		for {
			l := n.level(i)
			if l.forward == nil || !r.nodeLteMax(l.forward) {
				break
			}
			traversed += l.span
			n = l.forward
		}
	}
	if n == sl.header || !r.nodeGteMin(n) {
		return 0
	}
	return traversed
}

// deleteRangeByRank removes the nodes of 1-based ranks start..end from the
// skiplist and the dict, calling gone on each, and returns the count.
func (sl *zskiplist) deleteRangeByRank(start, end int, gone func(*zNode)) int {
	var update [zslMaxLevel]*zNode
	n := sl.header
	traversed := 0
	for i := sl.level - 1; i >= 0; i-- {
		for {
			l := n.level(i)
			if l.forward == nil || traversed+l.span >= start {
				break
			}
			traversed += l.span
			n = l.forward
		}
		update[i] = n
	}
	traversed++
	x := n.next()
	removed := 0
	for x != nil && traversed <= end {
		next := x.next()
		sl.deleteNode(x, &update)
		sl.dict.remove(x.member)
		gone(x)
		removed++
		traversed++
		x = next
	}
	return removed
}

// zslBuilder appends nodes in ascending order to an empty skiplist in
// O(1) each.
type zslBuilder struct {
	sl   *zskiplist
	last [zslMaxLevel]*zNode
	rank [zslMaxLevel]int
}

func (sl *zskiplist) builder() *zslBuilder {
	b := &zslBuilder{sl: sl}
	for i := range b.last {
		b.last[i] = sl.header
	}
	return b
}

// add appends a member greater than every member added before.
func (b *zslBuilder) add(member string, score float64) {
	sl := b.sl
	level := zslRandomLevel()
	x := newZNode(level, member, score)
	r := sl.length + 1
	for i := 0; i < level; i++ {
		l := b.last[i].level(i)
		l.forward = x
		l.span = r - b.rank[i]
		b.last[i], b.rank[i] = x, r
	}
	if level > sl.level {
		sl.level = level
	}
	x.backward = sl.tail
	sl.tail = x
	sl.length++
	sl.dict.add(x)
}

// The member index: a chained hash table whose chains run through the
// skiplist nodes (hnext). Like Redis's dict it doubles when full, shrinks
// below 10% fill, moves one bucket per operation while rehashing from
// t[0] to t[1], and scans with a reverse-binary cursor, so a full ZSCAN
// returns every member present from start to end even across resizes.
type zdict struct {
	t    [2][]*zNode // t[1] != nil while rehashing
	used [2]int
	idx  int // while rehashing: the next bucket of t[0] to move
}

var zsetHashSeed = maphash.MakeSeed()

func zhash(s string) uint64 { return maphash.String(zsetHashSeed, s) }

func (d *zdict) len() int        { return d.used[0] + d.used[1] }
func (d *zdict) rehashing() bool { return d.t[1] != nil }

func zdictSize(n int) int {
	size := 4
	for size < n {
		size *= 2
	}
	return size
}

// reserve sizes an empty dict for n members.
func (d *zdict) reserve(n int) {
	if n > 0 && d.len() == 0 && !d.rehashing() {
		d.t[0] = make([]*zNode, zdictSize(n))
	}
}

func (d *zdict) find(member string) *zNode {
	if d.len() == 0 {
		return nil
	}
	if d.rehashing() {
		d.rehashStep()
	}
	h := zhash(member)
	for t := 0; t < 2; t++ {
		tab := d.t[t]
		if len(tab) == 0 {
			break
		}
		for n := tab[h&uint64(len(tab)-1)]; n != nil; n = n.hnext {
			if n.member == member {
				return n
			}
		}
	}
	return nil
}

// add indexes x, whose member is absent.
func (d *zdict) add(x *zNode) {
	if d.rehashing() {
		d.rehashStep()
	}
	if !d.rehashing() {
		if len(d.t[0]) == 0 {
			d.t[0] = make([]*zNode, 4)
		} else if d.used[0] >= len(d.t[0]) {
			d.resize(d.used[0] + 1)
		}
	}
	t := 0
	if d.rehashing() {
		t = 1
	}
	tab := d.t[t]
	i := zhash(x.member) & uint64(len(tab)-1)
	x.hnext = tab[i]
	tab[i] = x
	d.used[t]++
}

// remove unindexes member and returns its node, or nil.
func (d *zdict) remove(member string) *zNode {
	if d.len() == 0 {
		return nil
	}
	if d.rehashing() {
		d.rehashStep()
	}
	h := zhash(member)
	for t := 0; t < 2; t++ {
		tab := d.t[t]
		if len(tab) == 0 {
			break
		}
		i := h & uint64(len(tab)-1)
		var prev *zNode
		for n := tab[i]; n != nil; prev, n = n, n.hnext {
			if n.member == member {
				if prev == nil {
					tab[i] = n.hnext
				} else {
					prev.hnext = n.hnext
				}
				n.hnext = nil
				d.used[t]--
				return n
			}
		}
	}
	return nil
}

// shrinkIfNeeded starts a shrink when the table is under 10% full.
func (d *zdict) shrinkIfNeeded() {
	size := len(d.t[0]) + len(d.t[1])
	if size > 4 && d.len()*100/size < 10 {
		d.resize(d.used[0])
	}
}

// resize starts rehashing into a table for n members.
func (d *zdict) resize(n int) {
	size := zdictSize(n)
	if d.rehashing() || size == len(d.t[0]) {
		return
	}
	d.t[1] = make([]*zNode, size)
	d.idx = 0
	if d.used[0] == 0 {
		d.finishRehash()
	}
}

// rehashStep moves one bucket to the new table, looking at no more than
// ten empty ones.
func (d *zdict) rehashStep() {
	t0, t1 := d.t[0], d.t[1]
	mask := uint64(len(t1) - 1)
	for empty := 10; t0[d.idx] == nil; {
		d.idx++
		if empty--; empty == 0 || d.idx == len(t0) {
			if d.idx == len(t0) {
				d.finishRehash()
			}
			return
		}
	}
	for n := t0[d.idx]; n != nil; {
		next := n.hnext
		i := zhash(n.member) & mask
		n.hnext = t1[i]
		t1[i] = n
		d.used[0]--
		d.used[1]++
		n = next
	}
	t0[d.idx] = nil
	d.idx++
	if d.used[0] == 0 {
		d.finishRehash()
	}
}

func (d *zdict) finishRehash() {
	d.t[0], d.used[0] = d.t[1], d.used[1]+d.used[0]
	d.t[1], d.used[1], d.idx = nil, 0, 0
}

// scan visits the buckets of cursor v and returns the next cursor (see
// Redis's dictScan for why this covers every member across resizes).
func (d *zdict) scan(v uint64, fn func(*zNode)) uint64 {
	if d.len() == 0 {
		return 0
	}
	visit := func(n *zNode) {
		for ; n != nil; n = n.hnext {
			fn(n)
		}
	}
	if !d.rehashing() {
		m0 := uint64(len(d.t[0]) - 1)
		visit(d.t[0][v&m0])
		v |= ^m0
		v = bits.Reverse64(v)
		v++
		return bits.Reverse64(v)
	}
	small, large := d.t[0], d.t[1]
	if len(small) > len(large) {
		small, large = large, small
	}
	m0, m1 := uint64(len(small)-1), uint64(len(large)-1)
	visit(small[v&m0])
	for {
		visit(large[v&m1])
		v |= ^m1
		v = bits.Reverse64(v)
		v++
		v = bits.Reverse64(v)
		if v&(m0^m1) == 0 {
			break
		}
	}
	return v
}
