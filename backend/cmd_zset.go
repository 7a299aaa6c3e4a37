package backend

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

var zsetCommands = []spec{
	{"zadd", cmdZAdd},
	{"zincrby", cmdZIncrBy},
	{"zrem", cmdZRem},
	{"zcard", cmdZCard},
	{"zscore", cmdZScore},
	{"zmscore", cmdZMScore},
	{"zcount", cmdZCount},
	{"zlexcount", cmdZLexCount},
	{"zrank", cmdZRank},
	{"zrevrank", cmdZRevRank},
	{"zrange", cmdZRange},
	{"zrangestore", cmdZRangeStore},
	{"zrevrange", cmdZRevRange},
	{"zrangebyscore", cmdZRangeByScore},
	{"zrevrangebyscore", cmdZRevRangeByScore},
	{"zrangebylex", cmdZRangeByLex},
	{"zrevrangebylex", cmdZRevRangeByLex},
	{"zremrangebyrank", cmdZRemRangeByRank},
	{"zremrangebyscore", cmdZRemRangeByScore},
	{"zremrangebylex", cmdZRemRangeByLex},
	{"zpopmin", cmdZPopMin},
	{"zpopmax", cmdZPopMax},
	{"bzpopmin", cmdBZPopMin},
	{"bzpopmax", cmdBZPopMax},
	{"zmpop", cmdZMPop},
	{"bzmpop", cmdBZMPop},
	{"zrandmember", cmdZRandMember},
	{"zscan", cmdZScan},
	{"zunionstore", cmdZUnionStore},
	{"zinterstore", cmdZInterStore},
	{"zdiffstore", cmdZDiffStore},
	{"zunion", cmdZUnion},
	{"zinter", cmdZInter},
	{"zdiff", cmdZDiff},
	{"zintercard", cmdZInterCard},
}

const (
	msgZNaN          = "ERR resulting score is not a number (NaN)"
	msgZNumkeys      = "ERR numkeys should be greater than 0"
	msgZCount        = "ERR count should be greater than 0"
	msgZLimitRank    = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	msgZScoresLex    = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	msgZWeight       = "ERR weight value is not a float"
	msgZLimitNeg     = "ERR LIMIT can't be negative"
	msgZRandRange    = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	msgZNoInputKeys  = "ERR at least 1 input key is needed for '%s' command"
	zlistpackMaxSafe = 1 << 30 // Redis's LISTPACK_MAX_SAFETY_SIZE
)

func (c *Client) zsetLimits() zsetLimits {
	cfg := c.srv.cfg
	return zsetLimits{cfg.ZSetMaxListpackEntr, cfg.ZSetMaxListpackValue}
}

// readZSet looks key up for a read. z is nil when the key is missing; ok is
// false when the key holds another type (WRONGTYPE was replied).
func (c *Client) readZSet(key []byte) (z *ZSet, ok bool) {
	o, exists, ok := c.lookupType(key, TypeZSet)
	if !ok || !exists {
		return nil, ok
	}
	return o.ZSet(), true
}

// writeZSet is readZSet for a command about to change the set.
func (c *Client) writeZSet(key []byte) (z *ZSet, ok bool) {
	o, exists, ok := c.lookupWriteType(key, TypeZSet)
	if !ok || !exists {
		return nil, ok
	}
	return o.ZSet(), true
}

// zsetChanged finishes a change made in place: an emptied set goes, and
// WATCHers of the key see the change.
func (c *Client) zsetChanged(key []byte, z *ZSet) {
	if z.Len() == 0 {
		c.deleteKey(key)
	} else {
		c.touched(key)
	}
}

// ZADD and ZINCRBY

func cmdZAdd(c *Client)    { c.zaddGeneric(0) }
func cmdZIncrBy(c *Client) { c.zaddGeneric(zaddIncr) }

func (c *Client) zaddGeneric(flags int) {
	argv := c.argv
	key := argv[1]
	ch := false
	i := 2
options:
	for ; i < len(argv); i++ {
		a := argv[i]
		switch {
		case eq(a, "nx"):
			flags |= zaddNX
		case eq(a, "xx"):
			flags |= zaddXX
		case eq(a, "ch"):
			ch = true
		case eq(a, "incr"):
			flags |= zaddIncr
		case eq(a, "gt"):
			flags |= zaddGT
		case eq(a, "lt"):
			flags |= zaddLT
		default:
			break options
		}
	}
	incr, nx, xx := flags&zaddIncr != 0, flags&zaddNX != 0, flags&zaddXX != 0
	gt, lt := flags&zaddGT != 0, flags&zaddLT != 0
	elements := len(argv) - i
	if elements == 0 || elements%2 != 0 {
		c.syntaxErr()
		return
	}
	elements /= 2
	if nx && xx {
		c.errorReply("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.errorReply("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && elements > 1 {
		c.errorReply("ERR INCR option supports a single increment-element pair")
		return
	}
	// Parse every score first: the command runs fully or not at all.
	var buf [8]float64
	scores := buf[:0]
	for j := 0; j < elements; j++ {
		f, ok := parseFloatArg(argv[i+2*j])
		if !ok {
			c.errorReply(msgNotFloat)
			return
		}
		scores = append(scores, f)
	}
	z, ok := c.writeZSet(key)
	if !ok {
		return
	}
	lim := c.zsetLimits()
	if z == nil {
		if xx {
			if incr {
				c.null()
			} else {
				c.integer(0)
			}
			return
		}
		z = &ZSet{}
		if lim.entries == 0 || lim.value < len(argv[i+1]) {
			z.toSkiplist()
		}
		c.addKey(key, zsetObj(z))
	}
	added, updated, processed := 0, 0, 0
	var score float64
	for j, s := range scores {
		res, newScore := z.add(bstr(argv[i+1+2*j]), s, flags, lim)
		if res&zaddNaN != 0 {
			c.errorReply(msgZNaN)
			return
		}
		if res&zaddAdded != 0 {
			added++
		}
		if res&zaddUpdated != 0 {
			updated++
		}
		if res&zaddNop == 0 {
			processed++
		}
		score = newScore
	}
	if added+updated > 0 {
		c.touched(key)
		c.dirty(added + updated)
	}
	if added > 0 {
		c.signalReady(key)
	}
	switch {
	case incr && processed > 0:
		c.bulkFloat(score)
	case incr:
		c.null()
	case ch:
		c.integer(int64(added + updated))
	default:
		c.integer(int64(added))
	}
}

func cmdZRem(c *Client) {
	key := c.argv[1]
	z, ok := c.writeZSet(key)
	if !ok {
		return
	}
	if z == nil {
		c.integer(0)
		return
	}
	deleted := 0
	for _, m := range c.argv[2:] {
		if z.Delete(bstr(m)) {
			deleted++
			if z.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.zsetChanged(key, z)
		c.dirty(deleted)
	}
	c.integer(int64(deleted))
}

// Reads of single members

func cmdZCard(c *Client) {
	z, ok := c.readZSet(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.integer(0)
		return
	}
	c.integer(int64(z.Len()))
}

func cmdZScore(c *Client) {
	z, ok := c.readZSet(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.null()
		return
	}
	if s, found := z.Score(bstr(c.argv[2])); found {
		c.bulkFloat(s)
	} else {
		c.null()
	}
}

func cmdZMScore(c *Client) {
	z, ok := c.readZSet(c.argv[1])
	if !ok {
		return
	}
	c.array(len(c.argv) - 2)
	for _, m := range c.argv[2:] {
		if z == nil {
			c.null()
			continue
		}
		if s, found := z.Score(bstr(m)); found {
			c.bulkFloat(s)
		} else {
			c.null()
		}
	}
}

func cmdZRank(c *Client)    { c.zrankGeneric(false) }
func cmdZRevRank(c *Client) { c.zrankGeneric(true) }

func (c *Client) zrankGeneric(rev bool) {
	z, ok := c.readZSet(c.argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.null()
		return
	}
	r, found := z.Rank(bstr(c.argv[2]))
	if !found {
		c.null()
		return
	}
	if rev {
		r = z.Len() - 1 - r
	}
	c.integer(int64(r))
}

// Ranges

// zparseScoreRange parses a score interval: "(" makes an end exclusive.
func zparseScoreRange(min, max []byte) (r zScoreRange, ok bool) {
	item := func(b []byte) (float64, bool, bool) {
		if len(b) > 0 && b[0] == '(' {
			f, ok := zstrtod(b[1:])
			return f, true, ok
		}
		f, ok := zstrtod(b)
		return f, false, ok
	}
	var ok1, ok2 bool
	r.min, r.minex, ok1 = item(min)
	r.max, r.maxex, ok2 = item(max)
	return r, ok1 && ok2
}

// zparseLexRange parses a lex range: "[x" and "(x" are inclusive and
// exclusive ends, "-" and "+" the lowest and highest. The bounds alias the
// arguments.
func zparseLexRange(min, max []byte) (r zLexRange, ok bool) {
	item := func(b []byte) (zLexBound, bool, bool) {
		if len(b) == 0 {
			return zLexBound{}, false, false
		}
		switch b[0] {
		case '+', '-':
			// As in C, a NUL right after the sign also ends the item.
			if len(b) > 1 && b[1] != 0 {
				return zLexBound{}, false, false
			}
			if b[0] == '+' {
				return zLexBound{inf: 1}, true, true
			}
			return zLexBound{inf: -1}, true, true
		case '(':
			return zLexBound{s: bstr(b[1:])}, true, true
		case '[':
			return zLexBound{s: bstr(b[1:])}, false, true
		}
		return zLexBound{}, false, false
	}
	var ok1, ok2 bool
	r.min, r.minex, ok1 = item(min)
	r.max, r.maxex, ok2 = item(max)
	return r, ok1 && ok2
}

func cmdZCount(c *Client) {
	r, ok := zparseScoreRange(c.argv[2], c.argv[3])
	if !ok {
		c.errorReply(msgMinMaxFloat)
		return
	}
	z, ok := c.readZSet(c.argv[1])
	if !ok {
		return
	}
	n := 0
	if z != nil {
		if first := z.firstInScore(&r); first >= 0 {
			n = z.lastInScore(&r) - first + 1
		}
	}
	c.integer(int64(n))
}

func cmdZLexCount(c *Client) {
	r, ok := zparseLexRange(c.argv[2], c.argv[3])
	if !ok {
		c.errorReply(msgMinMaxLex)
		return
	}
	z, ok := c.readZSet(c.argv[1])
	if !ok {
		return
	}
	n := 0
	if z != nil {
		if first := z.firstInLex(&r); first >= 0 {
			if z.sl != nil {
				n = z.lastInLex(&r) - first + 1
			} else {
				n = z.countWhile(first, false, func(m string, _ float64) bool { return r.lteMax(m) })
			}
		}
	}
	c.integer(int64(n))
}

// countWhile counts the members from rank r on (downwards when rev) for
// which in holds, stopping at the first that fails.
func (z *ZSet) countWhile(r int, rev bool, in func(string, float64) bool) int {
	it := z.iter(r, rev)
	n := 0
	for {
		m, s, ok := it.next()
		if !ok || !in(m, s) {
			return n
		}
		n++
	}
}

// Kinds of range of ZRANGE and its family.
const (
	zrangeAuto = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

func cmdZRange(c *Client)           { c.zrangeGeneric(1, nil, zrangeAuto, 0) }
func cmdZRangeStore(c *Client)      { c.zrangeGeneric(2, c.argv[1], zrangeAuto, 0) }
func cmdZRevRange(c *Client)        { c.zrangeGeneric(1, nil, zrangeRank, -1) }
func cmdZRangeByScore(c *Client)    { c.zrangeGeneric(1, nil, zrangeScore, 1) }
func cmdZRevRangeByScore(c *Client) { c.zrangeGeneric(1, nil, zrangeScore, -1) }
func cmdZRangeByLex(c *Client)      { c.zrangeGeneric(1, nil, zrangeLex, 1) }
func cmdZRevRangeByLex(c *Client)   { c.zrangeGeneric(1, nil, zrangeLex, -1) }

// zrangeGeneric implements ZRANGE, ZRANGESTORE (dst != nil) and the older
// range commands, which fix the kind and the direction (dir: 1 forward, -1
// reverse, 0 from the arguments). src is the index of the source key:
//
//	<src> <min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES] [LIMIT offset count]
func (c *Client) zrangeGeneric(src int, dst []byte, kind, dir int) {
	argv := c.argv
	store := dst != nil
	minIdx, maxIdx := src+1, src+2
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := src + 3; j < len(argv); j++ {
		a := argv[j]
		switch {
		case !store && eq(a, "withscores"):
			withScores = true
		case eq(a, "limit") && len(argv)-j-1 >= 2:
			var ok bool
			if offset, ok = c.intArg(j + 1); !ok {
				return
			}
			if limit, ok = c.intArg(j + 2); !ok {
				return
			}
			j += 2
		case dir == 0 && eq(a, "rev"):
			dir = -1
		case kind == zrangeAuto && eq(a, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && eq(a, "byscore"):
			kind = zrangeScore
		default:
			c.syntaxErr()
			return
		}
	}
	rev := dir < 0
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.errorReply(msgZLimitRank)
		return
	}
	if withScores && kind == zrangeLex {
		c.errorReply(msgZScoresLex)
		return
	}
	if rev && kind != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr zScoreRange
	var lr zLexRange
	switch kind {
	case zrangeRank:
		var ok bool
		if start, ok = c.intArg(minIdx); !ok {
			return
		}
		if end, ok = c.intArg(maxIdx); !ok {
			return
		}
	case zrangeScore:
		var ok bool
		if sr, ok = zparseScoreRange(argv[minIdx], argv[maxIdx]); !ok {
			c.errorReply(msgMinMaxFloat)
			return
		}
	case zrangeLex:
		var ok bool
		if lr, ok = zparseLexRange(argv[minIdx], argv[maxIdx]); !ok {
			c.errorReply(msgMinMaxLex)
			return
		}
	}
	z, ok := c.readZSet(argv[src])
	if !ok {
		return
	}
	if z == nil {
		if store {
			c.zstore(dst, nil)
		} else {
			c.array(0)
		}
		return
	}

	// Find where the range starts, how far it may go, and what ends it.
	first, n := -1, 0
	var in func(m string, s float64) bool
	switch kind {
	case zrangeRank:
		llen := int64(z.Len())
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		start = max(start, 0)
		if start <= end && start < llen {
			end = min(end, llen-1)
			n = int(end - start + 1)
			first = int(start)
			if rev {
				first = int(llen - 1 - start)
			}
		}
	case zrangeScore, zrangeLex:
		if kind == zrangeScore {
			if rev {
				first = z.lastInScore(&sr)
				in = func(_ string, s float64) bool { return sr.gteMin(s) }
			} else {
				first = z.firstInScore(&sr)
				in = func(_ string, s float64) bool { return sr.lteMax(s) }
			}
		} else {
			if rev {
				first = z.lastInLex(&lr)
				in = func(m string, _ float64) bool { return lr.gteMin(m) }
			} else {
				first = z.firstInLex(&lr)
				in = func(m string, _ float64) bool { return lr.lteMax(m) }
			}
		}
		// A negative offset walks off the end, as in Redis.
		if first >= 0 && offset >= 0 && offset < int64(z.Len()) {
			if rev {
				first -= int(offset)
			} else {
				first += int(offset)
			}
			n = -1 // up to limit, while in range
			if limit >= 0 && limit <= math.MaxInt32 {
				n = int(limit)
			}
		}
		if first < 0 || first >= z.Len() {
			n = 0
		}
	}

	if store {
		var entries []zEntry
		if n > 0 {
			entries = make([]zEntry, 0, n)
		}
		z.walk(first, n, rev, in, func(m string, s float64) { entries = append(entries, zEntry{m, s}) })
		// A rank range knows its length up front, and Redis then starts
		// the result as a skiplist if it will not fit a listpack.
		c.zstore(dst, c.zsetFromRange(entries, rev, kind == zrangeRank && n > c.zsetLimits().entries))
		return
	}
	mark := len(c.out)
	count := z.walk(first, n, rev, in, func(m string, s float64) {
		c.bulkStr(m)
		if withScores {
			c.bulkFloat(s)
		}
	})
	if withScores {
		count *= 2
	}
	c.insertArrayHeader(mark, count)
}

// walk emits up to n members (all when n < 0) from rank first on, downwards
// when rev, stopping at the first for which in (when set) fails. It
// returns how many it emitted.
func (z *ZSet) walk(first, n int, rev bool, in func(string, float64) bool, emit func(string, float64)) int {
	if n == 0 || first < 0 {
		return 0
	}
	it := z.iter(first, rev)
	count := 0
	for n < 0 || count < n {
		m, s, ok := it.next()
		if !ok || (in != nil && !in(m, s)) {
			break
		}
		emit(m, s)
		count++
	}
	return count
}

// insertArrayHeader puts the header of an array of n elements at c.out[mark:],
// before elements already appended (Redis's deferred length).
func (c *Client) insertArrayHeader(mark, n int) {
	var tmp [24]byte
	h := append(tmp[:0], '*')
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, '\r', '\n')
	c.out = slices.Insert(c.out, mark, h...)
}

// zsetFromRange builds ZRANGESTORE's result as Redis does: a listpack
// (or a skiplist from the start when big) that the members enter one by
// one, in the order of the range, turning into a skiplist at the first
// member that breaks the limits.
func (c *Client) zsetFromRange(entries []zEntry, rev, big bool) *ZSet {
	if len(entries) == 0 {
		return nil
	}
	lim := c.zsetLimits()
	small := !big
	for i := range entries {
		if small && (i+1 > lim.entries || len(entries[i].member) > lim.value) {
			small = false
		}
		if small {
			entries[i].score = zlpScore(entries[i].score)
		}
	}
	if rev {
		slices.Reverse(entries)
	}
	return zsetFromSorted(entries, small)
}

// zstore stores a computed set at dst and replies its size; an empty or
// nil set deletes dst instead.
func (c *Client) zstore(dst []byte, z *ZSet) {
	if z == nil || z.Len() == 0 {
		c.integer(0)
		if c.deleteKey(dst) {
			c.dirty(1)
		}
		return
	}
	// setKey may keep the key's bytes as the map key (Dict.Replace): give
	// it a copy, not the request buffer.
	c.setKey(bytes.Clone(dst), zsetObj(z), false)
	c.integer(int64(z.Len()))
	c.dirty(1)
	c.signalReady(dst)
}

// ZREMRANGEBYRANK / BYSCORE / BYLEX

func cmdZRemRangeByRank(c *Client)  { c.zremrangeGeneric(zrangeRank) }
func cmdZRemRangeByScore(c *Client) { c.zremrangeGeneric(zrangeScore) }
func cmdZRemRangeByLex(c *Client)   { c.zremrangeGeneric(zrangeLex) }

func (c *Client) zremrangeGeneric(kind int) {
	argv := c.argv
	key := argv[1]
	var start, end int64
	var sr zScoreRange
	var lr zLexRange
	var ok bool
	switch kind {
	case zrangeRank:
		if start, ok = c.intArg(2); !ok {
			return
		}
		if end, ok = c.intArg(3); !ok {
			return
		}
	case zrangeScore:
		if sr, ok = zparseScoreRange(argv[2], argv[3]); !ok {
			c.errorReply(msgMinMaxFloat)
			return
		}
	case zrangeLex:
		if lr, ok = zparseLexRange(argv[2], argv[3]); !ok {
			c.errorReply(msgMinMaxLex)
			return
		}
	}
	z, ok := c.writeZSet(key)
	if !ok {
		return
	}
	if z == nil {
		c.integer(0)
		return
	}
	first, last := -1, -2
	switch kind {
	case zrangeRank:
		llen := int64(z.Len())
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		start = max(start, 0)
		if start <= end && start < llen {
			first, last = int(start), int(min(end, llen-1))
		}
	case zrangeScore:
		if first = z.firstInScore(&sr); first >= 0 {
			last = first + z.countWhile(first, false, func(_ string, s float64) bool { return sr.lteMax(s) }) - 1
		}
	case zrangeLex:
		if first = z.firstInLex(&lr); first >= 0 {
			last = first + z.countWhile(first, false, func(m string, _ float64) bool { return lr.lteMax(m) }) - 1
		}
	}
	deleted := 0
	if first >= 0 {
		deleted = z.deleteRange(first, last)
	}
	if deleted > 0 {
		c.zsetChanged(key, z)
		c.dirty(deleted)
	}
	c.integer(int64(deleted))
}

// Pops

func cmdZPopMin(c *Client) { c.zpopCommand(false) }
func cmdZPopMax(c *Client) { c.zpopCommand(true) }

func (c *Client) zpopCommand(max bool) {
	argv := c.argv
	if len(argv) > 3 {
		c.syntaxErr()
		return
	}
	count := int64(-1)
	if len(argv) == 3 {
		n, ok := parseIntArg(argv[2])
		if !ok || n < 0 {
			c.errorReply(msgNotPositive)
			return
		}
		count = n
	}
	key, z, ok := c.zpopLookup(argv[1:2])
	if !ok {
		return
	}
	if z == nil || count == 0 {
		c.array(0)
		return
	}
	c.zpopFrom(key, z, max, count, false, false)
}

// zpopLookup finds the first of keys that exists; ok is false when it
// holds another type (WRONGTYPE was replied).
func (c *Client) zpopLookup(keys [][]byte) (key []byte, z *ZSet, ok bool) {
	for _, k := range keys {
		o, exists := c.lookupWrite(k)
		if !exists {
			continue
		}
		if o.Type() != TypeZSet {
			c.wrongType()
			return nil, nil, false
		}
		return k, o.ZSet(), true
	}
	return nil, nil, true
}

// zpopFrom pops count members (1 when count is -1) from the low end of z,
// or the high end when max, and replies them: flat, after the key when
// emitKey, or as [key, [[member, score]...]] when nested (ZMPOP). It returns
// how many it popped.
func (c *Client) zpopFrom(key []byte, z *ZSet, max bool, count int64, emitKey, nested bool) int {
	if count < 0 {
		count = 1
	}
	n := int(min(count, int64(z.Len())))
	switch {
	case nested:
		c.array(2)
		c.bulk(key)
		c.array(n)
	case emitKey:
		c.array(2*n + 1)
		c.bulk(key)
	default:
		c.array(2 * n)
	}
	first := 0
	if max {
		first = z.Len() - 1
	}
	z.walk(first, n, max, nil, func(m string, s float64) {
		if nested {
			c.array(2)
		}
		c.bulkStr(m)
		c.bulkFloat(s)
	})
	if max {
		z.deleteRange(z.Len()-n, z.Len()-1)
	} else {
		z.deleteRange(0, n-1)
	}
	c.dirty(n)
	c.zsetChanged(key, z)
	return n
}

// zpopPropagation is what a pop that names several keys, blocks, or both
// propagates, as Redis 7.0 rewrites it: BZPOPMIN/BZPOPMAX as ZPOPMIN|ZPOPMAX
// key, ZMPOP and BZMPOP (nested) as ZPOPMIN|ZPOPMAX key <number popped>.
// A blocked client served later propagates the same, on its own, right
// after the command that fed the key.
func zpopPropagation(key []byte, max, nested bool, n int) [][]byte {
	if nested {
		return [][]byte{zpopArg(max), key, msArg(int64(n))}
	}
	return [][]byte{zpopArg(max), key}
}

func cmdBZPopMin(c *Client) { c.bzpopCommand(false) }
func cmdBZPopMax(c *Client) { c.bzpopCommand(true) }

func (c *Client) bzpopCommand(max bool) {
	argv := c.argv
	timeout, ok := c.parseTimeout(argv[len(argv)-1])
	if !ok {
		return
	}
	c.bzpopGeneric(argv[1:len(argv)-1], timeout, max, -1, false)
}

// bzpopGeneric pops from the first non-empty key, or blocks until one of
// keys gets members. Inside EXEC it answers a timeout at once.
func (c *Client) bzpopGeneric(keys [][]byte, timeout time.Duration, max bool, count int64, nested bool) {
	key, z, ok := c.zpopLookup(keys)
	if !ok {
		return
	}
	if z != nil {
		n := c.zpopFrom(key, z, max, count, true, nested)
		if c.srv.propagating() {
			c.propagateAs(zpopPropagation(key, max, nested, n)...)
		}
		return
	}
	if c.inExec {
		c.nullArray()
		return
	}
	c.blockOn(keys, timeout, func(c *Client, key []byte) bool {
		o, exists := c.lookupWrite(key)
		if !exists || o.Type() != TypeZSet {
			return false
		}
		n := c.zpopFrom(key, o.ZSet(), max, count, true, nested)
		if c.srv.propagating() {
			c.propagateOp(zpopPropagation(key, max, nested, n)...)
		}
		return true
	}, func(c *Client) { c.nullArray() })
}

func cmdZMPop(c *Client)  { c.zmpopGeneric(1, false) }
func cmdBZMPop(c *Client) { c.zmpopGeneric(2, true) }

// zmpopGeneric implements ZMPOP and BZMPOP:
//
//	[timeout] numkeys key [key ...] MIN|MAX [COUNT count]
func (c *Client) zmpopGeneric(numkeysIdx int, block bool) {
	argv := c.argv
	numkeys, ok := parseIntArg(argv[numkeysIdx])
	if !ok || numkeys < 1 {
		c.errorReply(msgZNumkeys)
		return
	}
	if numkeys >= int64(len(argv)-numkeysIdx-1) {
		c.syntaxErr()
		return
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	var max bool
	switch {
	case eq(argv[whereIdx], "min"):
	case eq(argv[whereIdx], "max"):
		max = true
	default:
		c.syntaxErr()
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(argv); j++ {
		if count == -1 && eq(argv[j], "count") && j+1 < len(argv) {
			j++
			n, ok := parseIntArg(argv[j])
			if !ok || n < 1 {
				c.errorReply(msgZCount)
				return
			}
			count = n
			continue
		}
		c.syntaxErr()
		return
	}
	if count == -1 {
		count = 1
	}
	keys := argv[numkeysIdx+1 : whereIdx]
	if block {
		timeout, ok := c.parseTimeout(argv[1])
		if !ok {
			return
		}
		c.bzpopGeneric(keys, timeout, max, count, true)
		return
	}
	key, z, ok := c.zpopLookup(keys)
	if !ok {
		return
	}
	if z == nil {
		c.nullArray()
		return
	}
	n := c.zpopFrom(key, z, max, count, true, true)
	if c.srv.propagating() {
		c.propagateAs(zpopPropagation(key, max, true, n)...)
	}
}

// ZRANDMEMBER

func cmdZRandMember(c *Client) {
	argv := c.argv
	if len(argv) >= 3 {
		l, ok := c.intArg(2)
		if !ok {
			return
		}
		if l == math.MinInt64 {
			c.errorReply(msgZRandRange)
			return
		}
		if len(argv) > 4 || (len(argv) == 4 && !eq(argv[3], "withscores")) {
			c.syntaxErr()
			return
		}
		c.zrandWithCount(l, len(argv) == 4)
		return
	}
	z, ok := c.readZSet(argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.null()
		return
	}
	m, _ := z.random()
	c.bulkStr(m)
}

func (c *Client) zrandWithCount(l int64, withScores bool) {
	z, ok := c.readZSet(c.argv[1])
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.array(0)
		return
	}
	per := 1
	if withScores {
		per = 2
	}
	emit := func(m string, s float64) {
		c.bulkStr(m)
		if withScores {
			c.bulkFloat(s)
		}
	}
	size := z.Len()
	// Repeats allowed (negative count): independent picks.
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		c.array(int(count) * per)
		for ; count > 0; count-- {
			emit(z.random())
		}
		return
	}
	count := int(min(l, int64(size)))
	c.array(count * per)
	if count == size {
		// The whole set, highest first: Redis walks sets from the tail.
		z.walk(size-1, size, true, nil, emit)
		return
	}
	var ranks []int
	if count*3 > size {
		// Many of the members: a partial shuffle of all the ranks.
		ranks = make([]int, size)
		for i := range ranks {
			ranks[i] = i
		}
		for i := 0; i < count; i++ {
			j := i + rand.IntN(size-i)
			ranks[i], ranks[j] = ranks[j], ranks[i]
		}
		ranks = ranks[:count]
	} else {
		// Few of them: draw until count distinct ranks.
		seen := make(map[int]struct{}, count)
		ranks = make([]int, 0, count)
		for len(ranks) < count {
			r := rand.IntN(size)
			if _, dup := seen[r]; dup {
				continue
			}
			seen[r] = struct{}{}
			ranks = append(ranks, r)
		}
		if z.sl == nil {
			// A listpack sample comes out in the set's order.
			slices.Sort(ranks)
		}
	}
	for _, r := range ranks {
		emit(z.at(r))
	}
}

// ZSCAN

func cmdZScan(c *Client) {
	argv := c.argv
	cursor, ok := c.scanCursor(2)
	if !ok {
		return
	}
	z, ok := c.readZSet(argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.raw("*2\r\n$1\r\n0\r\n*0\r\n")
		return
	}
	opts, ok := c.scanOptions(3, false)
	if !ok {
		return
	}
	count := opts.count
	var found []zEntry
	if z.sl == nil {
		found = z.lp
		cursor = 0
	} else {
		// count counts reply items, member and score each, as in Redis.
		for iter := count * 10; ; iter-- {
			cursor = z.scan(cursor, func(m string, s float64) { found = append(found, zEntry{m, s}) })
			if cursor == 0 || iter == 0 || 2*len(found) >= count {
				break
			}
		}
	}
	if opts.usePat {
		kept := make([]zEntry, 0, len(found))
		for _, e := range found {
			if opts.matches(e.member) {
				kept = append(kept, e)
			}
		}
		found = kept
	}
	c.array(2)
	c.bulkStr(strconv.FormatUint(cursor, 10))
	c.array(2 * len(found))
	var tmp [40]byte
	for _, e := range found {
		c.bulkStr(e.member)
		if z.sl == nil {
			c.bulk(zlpFormatScore(tmp[:0], e.score))
		} else {
			c.bulkFloat(e.score)
		}
	}
}

// ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD

const (
	zopUnion = iota
	zopInter
	zopDiff
)

const (
	zaggSum = iota
	zaggMin
	zaggMax
)

func cmdZUnionStore(c *Client) { c.zsetOpGeneric("zunionstore", c.argv[1], 2, zopUnion, false) }
func cmdZInterStore(c *Client) { c.zsetOpGeneric("zinterstore", c.argv[1], 2, zopInter, false) }
func cmdZDiffStore(c *Client)  { c.zsetOpGeneric("zdiffstore", c.argv[1], 2, zopDiff, false) }
func cmdZUnion(c *Client)      { c.zsetOpGeneric("zunion", nil, 1, zopUnion, false) }
func cmdZInter(c *Client)      { c.zsetOpGeneric("zinter", nil, 1, zopInter, false) }
func cmdZDiff(c *Client)       { c.zsetOpGeneric("zdiff", nil, 1, zopDiff, false) }
func cmdZInterCard(c *Client)  { c.zsetOpGeneric("zintercard", nil, 1, zopInter, true) }

// zsetSource is one input of the set operations: a sorted set, a set
// (whose members all score 1), or nothing (a missing key).
type zsetSource struct {
	z      *ZSet
	set    *Set
	weight float64
	n      int
}

func (s *zsetSource) same(o *zsetSource) bool {
	return (s.z != nil && s.z == o.z) || (s.set != nil && s.set == o.set)
}

func (s *zsetSource) each(fn func(member string, score float64)) {
	switch {
	case s.z != nil:
		s.z.Each(func(m string, sc float64) bool {
			fn(m, sc)
			return true
		})
	case s.set != nil:
		s.set.Each(func(m string) bool {
			fn(m, 1)
			return true
		})
	}
}

func (s *zsetSource) find(member string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score(member)
	case s.set != nil && s.set.Contains(member):
		return 1, true
	}
	return 0, false
}

// zaggregate folds v into *acc; a sum of inf and -inf is 0, as in Redis.
func zaggregate(acc *float64, v float64, agg int) {
	switch agg {
	case zaggSum:
		*acc += v
		if math.IsNaN(*acc) {
			*acc = 0
		}
	case zaggMin:
		if v < *acc {
			*acc = v
		}
	case zaggMax:
		if v > *acc {
			*acc = v
		}
	}
}

// zsetOpGeneric implements ZUNION, ZINTER, ZDIFF (dst nil), their STORE
// forms, and ZINTERCARD (cardOnly). numkeysIdx is the index of numkeys.
func (c *Client) zsetOpGeneric(name string, dst []byte, numkeysIdx, op int, cardOnly bool) {
	argv := c.argv
	setnum, ok := c.intArg(numkeysIdx)
	if !ok {
		return
	}
	if setnum < 1 {
		c.errorf(msgZNoInputKeys, name)
		return
	}
	if setnum > int64(len(argv)-numkeysIdx-1) {
		c.syntaxErr()
		return
	}
	srcs := make([]zsetSource, setnum)
	j := numkeysIdx + 1
	for i := range srcs {
		srcs[i].weight = 1
		o, exists := c.lookupRead(argv[j])
		j++
		if !exists {
			continue
		}
		switch o.Type() {
		case TypeZSet:
			srcs[i].z = o.ZSet()
			srcs[i].n = srcs[i].z.Len()
		case TypeSet:
			srcs[i].set = o.Set()
			srcs[i].n = srcs[i].set.Len()
		default:
			c.wrongType()
			return
		}
	}
	agg := zaggSum
	withScores := false
	limit := int64(0)
	for j < len(argv) {
		remaining := len(argv) - j
		a := argv[j]
		switch {
		case op != zopDiff && !cardOnly && remaining >= int(setnum)+1 && eq(a, "weights"):
			j++
			for i := range srcs {
				w, ok := parseFloatArg(argv[j])
				if !ok {
					c.errorReply(msgZWeight)
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && eq(a, "aggregate"):
			switch b := argv[j+1]; {
			case eq(b, "sum"):
				agg = zaggSum
			case eq(b, "min"):
				agg = zaggMin
			case eq(b, "max"):
				agg = zaggMax
			default:
				c.syntaxErr()
				return
			}
			j += 2
		case dst == nil && !cardOnly && eq(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && eq(a, "limit"):
			n, ok := parseIntArg(argv[j+1])
			if !ok || n < 0 {
				c.errorReply(msgZLimitNeg)
				return
			}
			limit = n
			j += 2
		default:
			c.syntaxErr()
			return
		}
	}
	if op != zopDiff {
		// Smallest first: it bounds an intersection, and Redis folds the
		// scores in this order.
		slices.SortStableFunc(srcs, func(a, b zsetSource) int { return a.n - b.n })
	}

	var result []zEntry
	switch op {
	case zopInter:
		if srcs[0].n == 0 {
			break
		}
		card := int64(0)
		stop := false
		srcs[0].each(func(m string, s float64) {
			if stop {
				return
			}
			score := srcs[0].weight * s
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < len(srcs); k++ {
				v, found := srcs[k].find(m)
				if !found {
					return
				}
				zaggregate(&score, v*srcs[k].weight, agg)
			}
			if cardOnly {
				card++
				stop = limit > 0 && card >= limit
				return
			}
			result = append(result, zEntry{m, score})
		})
		if cardOnly {
			c.integer(card)
			return
		}
	case zopUnion:
		acc := make(map[string]float64, srcs[len(srcs)-1].n)
		for k := range srcs {
			w := srcs[k].weight
			srcs[k].each(func(m string, s float64) {
				score := w * s
				if math.IsNaN(score) {
					score = 0
				}
				if cur, ok := acc[m]; ok {
					zaggregate(&cur, score, agg)
					acc[m] = cur
				} else {
					acc[m] = score
				}
			})
		}
		result = make([]zEntry, 0, len(acc))
		for m, s := range acc {
			result = append(result, zEntry{m, s})
		}
	case zopDiff:
		if srcs[0].n == 0 {
			break
		}
		for k := 1; k < len(srcs); k++ {
			if srcs[k].same(&srcs[0]) {
				srcs[0].n = 0 // everything would go
			}
		}
		if srcs[0].n == 0 {
			break
		}
		srcs[0].each(func(m string, s float64) {
			for k := 1; k < len(srcs); k++ {
				if srcs[k].n > 0 {
					if _, found := srcs[k].find(m); found {
						return
					}
				}
			}
			result = append(result, zEntry{m, s})
		})
	}
	if cardOnly {
		c.integer(0)
		return
	}
	slices.SortFunc(result, zentryCmp)

	if dst != nil {
		if len(result) == 0 {
			c.zstore(dst, nil)
			return
		}
		lim := c.zsetLimits()
		maxLen, total := 0, 0
		for _, e := range result {
			maxLen = max(maxLen, len(e.member))
			total += len(e.member)
		}
		small := len(result) <= lim.entries && maxLen <= lim.value && total <= zlistpackMaxSafe
		c.zstore(dst, zsetFromSorted(result, small))
		return
	}
	if withScores {
		c.array(2 * len(result))
	} else {
		c.array(len(result))
	}
	for _, e := range result {
		c.bulkStr(e.member)
		if withScores {
			c.bulkFloat(e.score)
		}
	}
}
