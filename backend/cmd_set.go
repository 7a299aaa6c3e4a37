package backend

import (
	"math"
	"slices"
	"strconv"
)

var setCommands = []spec{
	{"sadd", cmdSAdd},
	{"srem", cmdSRem},
	{"smembers", cmdSMembers},
	{"sismember", cmdSIsMember},
	{"smismember", cmdSMIsMember},
	{"scard", cmdSCard},
	{"spop", cmdSPop},
	{"srandmember", cmdSRandMember},
	{"smove", cmdSMove},
	{"sinter", cmdSInter},
	{"sinterstore", cmdSInterStore},
	{"sintercard", cmdSInterCard},
	{"sunion", cmdSUnion},
	{"sunionstore", cmdSUnionStore},
	{"sdiff", cmdSDiff},
	{"sdiffstore", cmdSDiffStore},
	{"sscan", cmdSScan},
}

// setRead looks key up for a read; s is nil when the key is missing.
func (c *Client) setRead(key []byte) (s *Set, ok bool) {
	o, exists, ok := c.lookupType(key, TypeSet)
	if !ok || !exists {
		return nil, ok
	}
	return o.Set(), true
}

func (c *Client) maxIntset() int { return c.srv.cfg.SetMaxIntsetEntries }

// replySetMembers replies the members of s in its iteration order as an
// array.
func (c *Client) replySetMembers(s *Set) {
	c.array(s.Len())
	if s.IsIntset() {
		for _, v := range s.ints {
			c.bulkInt(v)
		}
		return
	}
	s.ht.Each(func(m string, _ struct{}) bool {
		c.bulkStr(m)
		return true
	})
}

// replySetMember replies one member given as Set.Random returns it.
func (c *Client) replySetMember(m string, iv int64, isInt bool) {
	if isInt {
		c.bulkInt(iv)
	} else {
		c.bulkStr(m)
	}
}

func cmdSAdd(c *Client) {
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeSet)
	if !ok {
		return
	}
	var s *Set
	if exists {
		s = o.Set()
	} else {
		s = newSetFor(bstr(c.argv[2]))
	}
	max := c.maxIntset()
	n := 0
	for _, m := range c.argv[2:] {
		if s.Add(bstr(m), max) {
			n++
		}
	}
	if !exists {
		c.addKey(key, setObj(s))
	} else if n > 0 {
		c.touched(key)
	}
	c.dirty(n)
	c.integer(int64(n))
}

func cmdSRem(c *Client) {
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeSet)
	if !ok {
		return
	}
	if !exists {
		c.integer(0)
		return
	}
	s := o.Set()
	n := 0
	for _, m := range c.argv[2:] {
		if s.Remove(bstr(m)) {
			n++
			if s.Len() == 0 {
				break
			}
		}
	}
	c.removedMembers(key, n, s.Len())
	c.integer(int64(n))
}

func cmdSMembers(c *Client) {
	s, ok := c.setRead(c.argv[1])
	if !ok {
		return
	}
	if s == nil {
		c.array(0)
		return
	}
	c.replySetMembers(s)
}

func cmdSIsMember(c *Client) {
	s, ok := c.setRead(c.argv[1])
	if !ok {
		return
	}
	if s != nil && s.Contains(bstr(c.argv[2])) {
		c.integer(1)
		return
	}
	c.integer(0)
}

func cmdSMIsMember(c *Client) {
	s, ok := c.setRead(c.argv[1])
	if !ok {
		return
	}
	c.array(len(c.argv) - 2)
	for _, m := range c.argv[2:] {
		if s != nil && s.Contains(bstr(m)) {
			c.integer(1)
		} else {
			c.integer(0)
		}
	}
}

func cmdSCard(c *Client) {
	s, ok := c.setRead(c.argv[1])
	if !ok {
		return
	}
	if s == nil {
		c.integer(0)
		return
	}
	c.integer(int64(s.Len()))
}

// popRandom removes a random member of a non-empty set and returns it.
func (s *Set) popRandom() (m string, iv int64, isInt bool) {
	m, iv, isInt = s.Random()
	if isInt {
		s.RemoveInt(iv)
	} else {
		s.Remove(m)
	}
	return m, iv, isInt
}

func cmdSPop(c *Client) {
	if len(c.argv) == 3 {
		c.spopCount()
		return
	}
	if len(c.argv) > 3 {
		c.syntaxErr()
		return
	}
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeSet)
	if !ok {
		return
	}
	if !exists {
		c.null()
		return
	}
	s := o.Set()
	m, iv, isInt := s.popRandom()
	c.replySetMember(m, iv, isInt)
	if s.Len() == 0 {
		c.deleteKey(key)
	} else {
		c.touched(key)
	}
	c.dirty(1)
	if c.srv.propagating() {
		// The random choice travels as SREM key member (Redis 7.0's
		// spopCommand).
		c.propagateAs(argSRem, key, memberArg(m, iv, isInt))
	}
}

// memberArg is a member given as Set.Random returns it, as an argument.
func memberArg(m string, iv int64, isInt bool) []byte {
	if isInt {
		return strconv.AppendInt(nil, iv, 10)
	}
	return []byte(m)
}

// spopMoveStrategyMul is Redis's SPOP_MOVE_STRATEGY_MUL: past count*5 >
// size, SPOP picks the members that stay instead of those that go.
const spopMoveStrategyMul = 5

func (c *Client) spopCount() {
	l, ok := parseIntArg(c.argv[2])
	if !ok || l < 0 {
		c.errorReply(msgNotPositive)
		return
	}
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeSet)
	if !ok {
		return
	}
	if !exists || l == 0 {
		c.array(0)
		return
	}
	// Propagated as Redis 7.0's spopWithCountCommand does: popping the
	// whole set as DEL key; otherwise one SREM key member per member popped,
	// in reply order (inside MULTI/EXEC when there are several), and not the
	// SPOP itself.
	prop := c.srv.propagating()
	s := o.Set()
	size := s.Len()
	switch {
	case l >= int64(size):
		// The whole set, replied as Redis does: through a fresh union.
		c.replyAsNewSet(s)
		c.deleteKey(key)
		c.dirty(size)
		if prop {
			c.propagateAs(argDel, key)
		}
		return
	case l*spopMoveStrategyMul <= int64(size):
		c.noPropagate()
		c.array(int(l))
		for i := int64(0); i < l; i++ {
			m, iv, isInt := s.popRandom()
			c.replySetMember(m, iv, isInt)
			if prop {
				c.propagateOp(argSRem, key, memberArg(m, iv, isInt))
			}
		}
		c.touched(key)
	default:
		// Move the members that stay into a new set (whose encoding is
		// chosen afresh, as in Redis) and reply what is left of the old one.
		var kept *Set
		max := c.maxIntset()
		for remaining := size - int(l); remaining > 0; remaining-- {
			m, iv, isInt := s.popRandom()
			if isInt {
				if kept == nil {
					kept = newIntSet()
				}
				kept.AddInt(iv, max)
			} else {
				if kept == nil {
					kept = newSetFor(m)
				}
				kept.addOwned(m, max)
			}
		}
		c.replySetMembers(s)
		c.noPropagate()
		if prop {
			s.Each(func(m string) bool {
				c.propagateOp(argSRem, key, []byte(m))
				return true
			})
		}
		// The key keeps its *Set (and TTL) and takes the new contents.
		*s = *kept
		c.touched(key)
	}
	c.dirty(int(l))
}

// replyAsNewSet replies the members of s in the order of a set built from
// them from scratch, as Redis does when it answers through SUNION: an
// intset (sorted) when they are few enough integers.
func (c *Client) replyAsNewSet(s *Set) {
	if s.IsIntset() || s.Len() > min(c.maxIntset(), setIntsetLimit) {
		c.replySetMembers(s)
		return
	}
	ints := make([]int64, 0, s.Len())
	allInts := true
	s.ht.Each(func(m string, _ struct{}) bool {
		v, ok := hsStr2ll(m)
		ints = append(ints, v)
		allInts = ok
		return ok
	})
	if !allInts {
		c.replySetMembers(s)
		return
	}
	slices.Sort(ints)
	c.array(len(ints))
	for _, v := range ints {
		c.bulkInt(v)
	}
}

func cmdSRandMember(c *Client) {
	if len(c.argv) > 3 {
		c.syntaxErr()
		return
	}
	if len(c.argv) == 3 {
		c.srandmemberCount()
		return
	}
	s, ok := c.setRead(c.argv[1])
	if !ok {
		return
	}
	if s == nil {
		c.null()
		return
	}
	c.replySetMember(s.Random())
}

func (c *Client) srandmemberCount() {
	l, ok := c.intArg(2)
	if !ok {
		return
	}
	if l < -math.MaxInt64 {
		c.errorReply(hsRandCountRange)
		return
	}
	s, ok := c.setRead(c.argv[1])
	if !ok {
		return
	}
	if s == nil || l == 0 {
		c.array(0)
		return
	}
	if l < 0 || l == 1 {
		n := l
		if n < 0 {
			n = -n
		}
		c.array(int(n))
		for ; n > 0; n-- {
			c.replySetMember(s.Random())
		}
		return
	}
	size := s.Len()
	if l >= int64(size) {
		c.replySetMembers(s)
		return
	}
	pos := hsRandomPositions(size, int(l))
	c.array(len(pos))
	if s.IsIntset() {
		for _, p := range pos {
			c.bulkInt(s.ints[p])
		}
		return
	}
	s.ht.At(pos, func(m string, _ struct{}) { c.bulkStr(m) })
}

func cmdSMove(c *Client) {
	src, dst, member := c.argv[1], c.argv[2], c.argv[3]
	so, srcExists := c.lookupWrite(src)
	do, dstExists := c.lookupWrite(dst)
	if !srcExists {
		c.integer(0)
		return
	}
	if so.Type() != TypeSet || (dstExists && do.Type() != TypeSet) {
		c.wrongType()
		return
	}
	ss := so.Set()
	if bstr(src) == bstr(dst) {
		if ss.Contains(bstr(member)) {
			c.integer(1)
		} else {
			c.integer(0)
		}
		return
	}
	if !ss.Remove(bstr(member)) {
		c.integer(0)
		return
	}
	if ss.Len() == 0 {
		c.deleteKey(src)
	} else {
		c.touched(src)
	}
	c.dirty(1)
	var ds *Set
	if dstExists {
		ds = do.Set()
	} else {
		ds = newSetFor(bstr(member))
		c.addKey(dst, setObj(ds))
	}
	if ds.Add(bstr(member), c.maxIntset()) {
		c.dirty(1)
		c.touched(dst)
	}
	c.integer(1)
}

// setsForKeys looks the keys up for reading; a missing key gives a nil
// set. Any key of another type fails the whole command with WRONGTYPE,
// even after a missing key (Redis 7.0 checks them all first).
func (c *Client) setsForKeys(keys [][]byte) ([]*Set, bool) {
	sets := make([]*Set, len(keys))
	for i, k := range keys {
		s, ok := c.setRead(k)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

func cmdSInter(c *Client)      { c.setInter(c.argv[1:], nil, false, 0) }
func cmdSInterStore(c *Client) { c.setInter(c.argv[2:], c.argv[1], false, 0) }

func cmdSInterCard(c *Client) {
	numkeys, ok := parseIntArg(c.argv[1])
	if !ok || numkeys < 1 {
		c.errorReply("ERR numkeys should be greater than 0")
		return
	}
	if numkeys > int64(len(c.argv)-2) {
		c.errorReply("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(c.argv); j++ {
		if eq(c.argv[j], "limit") && j+1 < len(c.argv) {
			j++
			n, ok := parseIntArg(c.argv[j])
			if !ok || n < 0 {
				c.errorReply("ERR LIMIT can't be negative")
				return
			}
			limit = n
		} else {
			c.syntaxErr()
			return
		}
	}
	c.setInter(c.argv[2:2+numkeys], nil, true, limit)
}

// setInter implements SINTER (dst nil), SINTERSTORE and SINTERCARD
// (cardOnly) as Redis's sinterGenericCommand does: the smallest set is
// walked in its own order and each member tested against the others.
func (c *Client) setInter(keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets, ok := c.setsForKeys(keys)
	if !ok {
		return
	}
	if slices.Contains(sets, nil) {
		switch {
		case dst != nil:
			if c.deleteKey(dst) {
				c.dirty(1)
			}
			c.integer(0)
		case cardOnly:
			c.integer(0)
		default:
			c.array(0)
		}
		return
	}
	slices.SortStableFunc(sets, func(a, b *Set) int { return a.Len() - b.Len() })
	first, others := sets[0], sets[1:]
	var card int64
	var ints []int64
	var strs []string
	var out *Set
	if dst != nil {
		out = newIntSet()
	}
	max := c.maxIntset()
	if first.IsIntset() {
		for _, v := range first.ints {
			if !setsHaveInt(others, first, v) {
				continue
			}
			card++
			switch {
			case cardOnly:
			case out != nil:
				out.AddInt(v, max)
			default:
				ints = append(ints, v)
			}
			if cardOnly && limit > 0 && card >= limit {
				break
			}
		}
	} else {
		first.ht.Each(func(m string, _ struct{}) bool {
			for _, s := range others {
				if s != first && !s.Contains(m) {
					return true
				}
			}
			card++
			switch {
			case cardOnly:
			case out != nil:
				out.addOwned(m, max)
			default:
				strs = append(strs, m)
			}
			return !(cardOnly && limit > 0 && card >= limit)
		})
	}
	switch {
	case cardOnly:
		c.integer(card)
	case out != nil:
		c.storeSet(dst, out)
	case first.IsIntset():
		c.array(len(ints))
		for _, v := range ints {
			c.bulkInt(v)
		}
	default:
		c.strs(strs)
	}
}

func setsHaveInt(sets []*Set, skip *Set, v int64) bool {
	for _, s := range sets {
		if s != skip && !s.ContainsInt(v) {
			return false
		}
	}
	return true
}

// storeSet makes s the value of dst (dropping its TTL), or deletes dst when
// s is empty, and replies the size.
func (c *Client) storeSet(dst []byte, s *Set) {
	if s.Len() > 0 {
		// As setKey, without rewriting the stored key string.
		c.deleteKey(dst)
		c.addKey(dst, setObj(s))
		c.dirty(1)
		c.integer(int64(s.Len()))
		return
	}
	if c.deleteKey(dst) {
		c.dirty(1)
	}
	c.integer(0)
}

func cmdSUnion(c *Client)      { c.setUnionDiff(c.argv[1:], nil, false) }
func cmdSUnionStore(c *Client) { c.setUnionDiff(c.argv[2:], c.argv[1], false) }
func cmdSDiff(c *Client)       { c.setUnionDiff(c.argv[1:], nil, true) }
func cmdSDiffStore(c *Client)  { c.setUnionDiff(c.argv[2:], c.argv[1], true) }

// setUnionDiff implements SUNION, SDIFF and their STORE forms as Redis's
// sunionDiffGenericCommand does: the result is built in a new set that
// starts as an intset, and SDIFF picks the same one of its two algorithms,
// so the result's encoding and order match Redis's.
func (c *Client) setUnionDiff(keys [][]byte, dst []byte, diff bool) {
	sets, ok := c.setsForKeys(keys)
	if !ok {
		return
	}
	first := sets[0]
	sameSet := false
	for _, s := range sets[1:] {
		if s != nil && s == first {
			sameSet = true
		}
	}
	out := newIntSet()
	max := c.maxIntset()
	addAll := func(s *Set) {
		if s.IsIntset() {
			for _, v := range s.ints {
				out.AddInt(v, max)
			}
			return
		}
		s.ht.Each(func(m string, _ struct{}) bool {
			out.addOwned(m, max)
			return true
		})
	}
	switch {
	case !diff:
		for _, s := range sets {
			if s != nil {
				addAll(s)
			}
		}
	case first == nil || sameSet:
		// Nothing left.
	case diffAlgorithm(sets) == 1:
		// Walk the first set, keep what no other set has.
		inOthers := func(m string, iv int64, isInt bool) bool {
			for _, s := range sets[1:] {
				switch {
				case s == nil:
				case isInt && s.ContainsInt(iv), !isInt && s.Contains(m):
					return true
				}
			}
			return false
		}
		if first.IsIntset() {
			for _, v := range first.ints {
				if !inOthers("", v, true) {
					out.AddInt(v, max)
				}
			}
		} else {
			first.ht.Each(func(m string, _ struct{}) bool {
				if !inOthers(m, 0, false) {
					out.addOwned(m, max)
				}
				return true
			})
		}
	default:
		// Add the first set, remove the others.
		addAll(first)
		for _, s := range sets[1:] {
			if out.Len() == 0 {
				break
			}
			if s == nil {
				continue
			}
			if s.IsIntset() {
				for _, v := range s.ints {
					out.RemoveInt(v)
				}
			} else {
				s.ht.Each(func(m string, _ struct{}) bool {
					out.Remove(m)
					return true
				})
			}
		}
	}
	if dst != nil {
		c.storeSet(dst, out)
		return
	}
	c.replySetMembers(out)
}

// diffAlgorithm chooses SDIFF's algorithm as Redis 7.0 does: 1 walks the
// first set testing the others, 2 copies the first set and removes the
// others' members.
func diffAlgorithm(sets []*Set) int {
	var one, two int64
	for _, s := range sets {
		if s == nil {
			continue
		}
		one += int64(sets[0].Len())
		two += int64(s.Len())
	}
	one /= 2
	if one <= two {
		return 1
	}
	return 2
}

func cmdSScan(c *Client) {
	cursor, ok := c.scanCursor(2)
	if !ok {
		return
	}
	s, ok := c.setRead(c.argv[1])
	if !ok {
		return
	}
	if s == nil {
		c.raw("*2\r\n$1\r\n0\r\n*0\r\n")
		return
	}
	opts, ok := c.scanOptions(3, false)
	if !ok {
		return
	}
	var items []string
	if s.IsIntset() {
		for _, v := range s.ints {
			m := strconv.FormatInt(v, 10)
			if opts.matches(m) {
				items = append(items, m)
			}
		}
		cursor = 0
	} else {
		cursor = s.ht.Scan(cursor, opts.count, func(m string, _ struct{}) {
			if opts.matches(m) {
				items = append(items, m)
			}
		})
	}
	c.array(2)
	c.bulkStr(strconv.FormatUint(cursor, 10))
	c.strs(items)
}
