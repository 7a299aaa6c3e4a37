package backend

import (
	"math"
	"time"
)

var listCommands = []spec{
	{"lpush", cmdLPush},
	{"rpush", cmdRPush},
	{"lpushx", cmdLPushX},
	{"rpushx", cmdRPushX},
	{"lpop", cmdLPop},
	{"rpop", cmdRPop},
	{"llen", cmdLLen},
	{"lrange", cmdLRange},
	{"lindex", cmdLIndex},
	{"lset", cmdLSet},
	{"lrem", cmdLRem},
	{"ltrim", cmdLTrim},
	{"linsert", cmdLInsert},
	{"lpos", cmdLPos},
	{"lmove", cmdLMove},
	{"rpoplpush", cmdRPopLPush},
	{"lmpop", cmdLMPop},
	{"blpop", cmdBLPop},
	{"brpop", cmdBRPop},
	{"blmove", cmdBLMove},
	{"brpoplpush", cmdBRPopLPush},
	{"blmpop", cmdBLMPop},
}

// List ends, as Redis names them: the head is LEFT, the tail is RIGHT.
const (
	listHead = true
	listTail = false
)

const (
	msgLPosRank      = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	msgLPosCount     = "ERR COUNT can't be negative"
	msgLPosMaxlen    = "ERR MAXLEN can't be negative"
	msgNumkeysPos    = "ERR numkeys should be greater than 0"
	msgCountPositive = "ERR count should be greater than 0"
)

// rangeArg parses a long argument and checks it is within [lo, hi],
// replying msg for a bad or out of range value (Redis's
// getRangeLongFromObjectOrReply with a message).
func (c *Client) rangeArg(b []byte, lo, hi int64, msg string) (int64, bool) {
	n, ok := parseIntArg(b)
	if !ok || n < lo || n > hi {
		c.errorReply(msg)
		return 0, false
	}
	return n, true
}

// listEnd parses LEFT or RIGHT.
func (c *Client) listEnd(b []byte) (head, ok bool) {
	switch {
	case eq(b, "left"):
		return listHead, true
	case eq(b, "right"):
		return listTail, true
	}
	c.syntaxErr()
	return false, false
}

// --- pushes ---

func cmdLPush(c *Client)  { c.listPush(listHead, false) }
func cmdRPush(c *Client)  { c.listPush(listTail, false) }
func cmdLPushX(c *Client) { c.listPush(listHead, true) }
func cmdRPushX(c *Client) { c.listPush(listTail, true) }

// listPush implements [LR]PUSH[X]: xx only pushes to an existing list.
func (c *Client) listPush(head, xx bool) {
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeList)
	if !ok {
		return
	}
	elems := c.argv[2:]
	var l *List
	if exists {
		l = o.List()
	} else {
		if xx {
			c.integer(0)
			return
		}
		l = newListCap(len(elems))
		if head {
			l.lo, l.hi = len(l.buf), len(l.buf)
		}
		c.addKey(key, listObj(l))
	}
	for _, e := range elems {
		l.push(string(e), head)
	}
	c.dirty(len(elems))
	c.integer(int64(l.Len()))
	if exists {
		c.touched(key)
	}
	c.signalReady(key)
}

// --- pops ---

func cmdLPop(c *Client) { c.listPop(listHead) }
func cmdRPop(c *Client) { c.listPop(listTail) }

// listPop implements LPOP and RPOP with their optional count.
func (c *Client) listPop(head bool) {
	hasCount := len(c.argv) == 3
	if len(c.argv) > 3 {
		name := "rpop"
		if head {
			name = "lpop"
		}
		c.errorf("ERR wrong number of arguments for '%s' command", name)
		return
	}
	var count int64
	if hasCount {
		var ok bool
		if count, ok = c.rangeArg(c.argv[2], 0, math.MaxInt64, msgNotPositive); !ok {
			return
		}
	}
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeList)
	if !ok {
		return
	}
	if !exists {
		if hasCount {
			c.nullArray()
		} else {
			c.null()
		}
		return
	}
	l := o.List()
	if !hasCount {
		c.bulkStr(l.pop(head))
		c.listRemoved(key, l, 1)
		return
	}
	if count == 0 {
		c.array(0)
		return
	}
	n := int(min(count, int64(l.Len())))
	c.listPopN(l, head, n)
	c.listRemoved(key, l, n)
}

// listPopN pops n elements from one end, replying them as an array in the
// order they were popped.
func (c *Client) listPopN(l *List, head bool, n int) {
	c.array(n)
	for i := 0; i < n; i++ {
		c.bulkStr(l.pop(head))
	}
}

// listRemoved finishes a command that took n elements from the list at key
// (Redis's listElementsRemoved): an emptied list is deleted.
func (c *Client) listRemoved(key []byte, l *List, n int) {
	if l.Len() == 0 {
		c.deleteKey(key)
	} else {
		c.touched(key)
	}
	c.dirty(n)
}

// --- reads ---

func cmdLLen(c *Client) {
	o, exists, ok := c.lookupType(c.argv[1], TypeList)
	if !ok {
		return
	}
	if !exists {
		c.integer(0)
		return
	}
	c.integer(int64(o.List().Len()))
}

// listRange normalises Redis's inclusive start/end (negative from the
// tail); empty is true when the range selects nothing.
func listRange(start, end int64, n int) (s, e int, empty bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, true
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), false
}

func cmdLRange(c *Client) {
	start, ok := c.intArg(2)
	if !ok {
		return
	}
	end, ok := c.intArg(3)
	if !ok {
		return
	}
	o, exists, ok := c.lookupType(c.argv[1], TypeList)
	if !ok {
		return
	}
	if !exists {
		c.array(0)
		return
	}
	l := o.List()
	s, e, empty := listRange(start, end, l.Len())
	if empty {
		c.array(0)
		return
	}
	c.strs(l.items()[s : e+1])
}

// listIndex converts a Redis index (negative from the tail) to a position,
// or -1 when out of range.
func listIndex(idx int64, n int) int {
	if idx < 0 {
		idx += int64(n)
	}
	if idx < 0 || idx >= int64(n) {
		return -1
	}
	return int(idx)
}

func cmdLIndex(c *Client) {
	o, exists, ok := c.lookupType(c.argv[1], TypeList)
	if !ok {
		return
	}
	if !exists {
		c.null()
		return
	}
	idx, ok := c.intArg(2)
	if !ok {
		return
	}
	l := o.List()
	i := listIndex(idx, l.Len())
	if i < 0 {
		c.null()
		return
	}
	c.bulkStr(l.At(i))
}

func cmdLPos(c *Client) {
	argv := c.argv
	ele := bstr(argv[2])
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(argv); j++ {
		more := j+1 < len(argv)
		switch {
		case eq(argv[j], "rank") && more:
			j++
			r, ok := parseIntArg(argv[j])
			if !ok {
				c.errorReply(msgNotInt)
				return
			}
			if r == 0 {
				c.errorReply(msgLPosRank)
				return
			}
			rank = r
		case eq(argv[j], "count") && more:
			j++
			n, ok := c.rangeArg(argv[j], 0, math.MaxInt64, msgLPosCount)
			if !ok {
				return
			}
			count = n
		case eq(argv[j], "maxlen") && more:
			j++
			n, ok := c.rangeArg(argv[j], 0, math.MaxInt64, msgLPosMaxlen)
			if !ok {
				return
			}
			maxlen = n
		default:
			c.syntaxErr()
			return
		}
	}
	fromTail := false
	if rank < 0 {
		// Like Redis, -LONG_MIN stays negative: every match then ranks.
		rank = -rank
		fromTail = true
	}
	o, exists, ok := c.lookupType(argv[1], TypeList)
	if !ok {
		return
	}
	if !exists {
		if count != -1 {
			c.array(0)
		} else {
			c.null()
		}
		return
	}
	items := o.List().items()
	llen := int64(len(items))
	var matches int64
	var idxs []int64
	matchIndex := int64(-1)
	for index := int64(0); index < llen && (maxlen == 0 || index < maxlen); index++ {
		pos := index
		if fromTail {
			pos = llen - index - 1
		}
		if items[pos] != ele {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		if count == -1 {
			matchIndex = pos
			break
		}
		idxs = append(idxs, pos)
		if count != 0 && matches-rank+1 >= count {
			break
		}
	}
	if count != -1 {
		c.array(len(idxs))
		for _, i := range idxs {
			c.integer(i)
		}
		return
	}
	if matchIndex < 0 {
		c.null()
		return
	}
	c.integer(matchIndex)
}

// --- edits ---

func cmdLSet(c *Client) {
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeList)
	if !ok {
		return
	}
	if !exists {
		c.errorReply(msgNoSuchKey)
		return
	}
	idx, ok := c.intArg(2)
	if !ok {
		return
	}
	l := o.List()
	i := listIndex(idx, l.Len())
	if i < 0 {
		c.errorReply(msgOutOfRange)
		return
	}
	l.SetAt(i, string(c.argv[3]))
	c.ok()
	c.touched(key)
	c.dirty(1)
}

func cmdLRem(c *Client) {
	toRemove, ok := c.intArg(2)
	if !ok {
		return
	}
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeList)
	if !ok {
		return
	}
	if !exists {
		c.integer(0)
		return
	}
	l := o.List()
	fromTail := toRemove < 0
	if fromTail {
		toRemove = -toRemove
	}
	removed := l.RemoveEqual(bstr(c.argv[3]), toRemove, fromTail)
	c.removedMembers(key, int(removed), l.Len())
	c.integer(removed)
}

func cmdLTrim(c *Client) {
	start, ok := c.intArg(2)
	if !ok {
		return
	}
	end, ok := c.intArg(3)
	if !ok {
		return
	}
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeList)
	if !ok {
		return
	}
	if !exists {
		c.ok()
		return
	}
	l := o.List()
	n := l.Len()
	ltrim, rtrim := n, 0
	if s, e, empty := listRange(start, end, n); !empty {
		ltrim, rtrim = s, n-e-1
	}
	l.Trim(ltrim, rtrim)
	if l.Len() == 0 {
		c.deleteKey(key)
	} else {
		c.touched(key)
	}
	c.dirty(ltrim + rtrim)
	c.ok()
}

func cmdLInsert(c *Client) {
	var after bool
	switch {
	case eq(c.argv[2], "after"):
		after = true
	case eq(c.argv[2], "before"):
	default:
		c.syntaxErr()
		return
	}
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeList)
	if !ok {
		return
	}
	if !exists {
		c.integer(0)
		return
	}
	l := o.List()
	i := l.Index(bstr(c.argv[3]))
	if i < 0 {
		c.integer(-1)
		return
	}
	if after {
		i++
	}
	l.Insert(i, string(c.argv[4]))
	c.touched(key)
	c.dirty(1)
	c.integer(int64(l.Len()))
}

// --- moves ---

func cmdLMove(c *Client) {
	from, ok := c.listEnd(c.argv[3])
	if !ok {
		return
	}
	to, ok := c.listEnd(c.argv[4])
	if !ok {
		return
	}
	c.listMove(c.argv[1], c.argv[2], from, to)
}

func cmdRPopLPush(c *Client) { c.listMove(c.argv[1], c.argv[2], listTail, listHead) }

// listMove implements LMOVE: it pops from src and pushes to dst, replying
// the element, or nil when src is missing.
func (c *Client) listMove(src, dst []byte, from, to bool) {
	so, exists, ok := c.lookupWriteType(src, TypeList)
	if !ok {
		return
	}
	if !exists {
		c.null()
		return
	}
	do, dexists, ok := c.lookupWriteType(dst, TypeList)
	if !ok {
		return
	}
	var dl *List
	if dexists {
		dl = do.List()
	}
	sl := so.List()
	c.listMovePush(dst, dl, sl.pop(from), to)
	if sl.Len() == 0 {
		c.deleteKey(src)
	} else {
		c.touched(src)
	}
	c.dirty(1)
}

// listMovePush pushes v to the list dl at dst (creating it when dl is nil),
// wakes clients blocked on dst and replies v (Redis's lmoveHandlePush).
func (c *Client) listMovePush(dst []byte, dl *List, v string, to bool) {
	if dl == nil {
		dl = newList()
		c.addKey(dst, listObj(dl))
	} else {
		c.touched(dst)
	}
	dl.push(v, to)
	c.signalReady(dst)
	c.bulkStr(v)
}

// --- multi-key pops ---

// parseMPop parses LMPOP/BLMPOP's "numkeys key... LEFT|RIGHT [COUNT n]"
// starting at argv[idx]; count is 1 when not given.
func (c *Client) parseMPop(idx int) (keys [][]byte, head bool, count int64, ok bool) {
	argv := c.argv
	numkeys, ok := c.rangeArg(argv[idx], 1, math.MaxInt64, msgNumkeysPos)
	if !ok {
		return nil, false, 0, false
	}
	if numkeys >= int64(len(argv)-idx-1) {
		c.syntaxErr()
		return nil, false, 0, false
	}
	whereIdx := idx + int(numkeys) + 1
	if head, ok = c.listEnd(argv[whereIdx]); !ok {
		return nil, false, 0, false
	}
	count = -1
	for j := whereIdx + 1; j < len(argv); j++ {
		if count == -1 && eq(argv[j], "count") && j+1 < len(argv) {
			j++
			if count, ok = c.rangeArg(argv[j], 1, math.MaxInt64, msgCountPositive); !ok {
				return nil, false, 0, false
			}
			continue
		}
		c.syntaxErr()
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return argv[idx+1 : whereIdx], head, count, true
}

// listPopWithKey pops up to count elements of the non-empty list l at key
// and replies [key, [elements]] (Redis's listPopRangeAndReplyWithKey). It
// returns how many it popped.
func (c *Client) listPopWithKey(key []byte, l *List, head bool, count int64) int {
	n := int(min(count, int64(l.Len())))
	c.array(2)
	c.bulk(key)
	c.listPopN(l, head, n)
	c.listRemoved(key, l, n)
	return n
}

// Pops that name several keys, block, or both, propagate as the plain pop
// they performed, as Redis 7.0 rewrites them: LMPOP and BLMPOP as
// LPOP|RPOP key <number popped>, BLPOP and BRPOP as LPOP|RPOP key, BLMOVE
// as LMOVE and BRPOPLPUSH as RPOPLPUSH. When a blocked client is served
// later, the serving code propagates the same forms (BLMOVE with the ends
// spelled "left"/"right"), on their own, right after the command that fed
// the key.

// propagatePopN makes the running command propagate LPOP|RPOP key n.
func (c *Client) propagatePopN(key []byte, head bool, n int) {
	if c.srv.propagating() {
		c.propagateAs(popArg(head), key, msArg(int64(n)))
	}
}

func cmdLMPop(c *Client) {
	keys, head, count, ok := c.parseMPop(1)
	if !ok {
		return
	}
	for _, key := range keys {
		o, exists, ok := c.lookupWriteType(key, TypeList)
		if !ok {
			return
		}
		if !exists || o.List().Len() == 0 {
			continue
		}
		n := c.listPopWithKey(key, o.List(), head, count)
		c.propagatePopN(key, head, n)
		return
	}
	c.nullArray()
}

// --- blocking ---

func cmdBLPop(c *Client) {
	c.blockingPop(c.argv[1:len(c.argv)-1], listHead, len(c.argv)-1, -1)
}

func cmdBRPop(c *Client) {
	c.blockingPop(c.argv[1:len(c.argv)-1], listTail, len(c.argv)-1, -1)
}

func cmdBLMPop(c *Client) {
	keys, head, count, ok := c.parseMPop(2)
	if !ok {
		return
	}
	c.blockingPop(keys, head, 1, count)
}

// blockingPop implements BLPOP, BRPOP (count -1) and BLMPOP: pop from the
// first non-empty list among keys, or block until one gets data.
func (c *Client) blockingPop(keys [][]byte, head bool, timeoutIdx int, count int64) {
	timeout, ok := c.parseTimeout(c.argv[timeoutIdx])
	if !ok {
		return
	}
	for _, key := range keys {
		o, exists, ok := c.lookupWriteType(key, TypeList)
		if !ok {
			return
		}
		if !exists || o.List().Len() == 0 {
			continue
		}
		l := o.List()
		if count != -1 {
			n := c.listPopWithKey(key, l, head, count)
			c.propagatePopN(key, head, n)
			return
		}
		v := l.pop(head)
		c.array(2)
		c.bulk(key)
		c.bulkStr(v)
		c.listRemoved(key, l, 1)
		if c.srv.propagating() {
			c.propagateAs(popArg(head), key)
		}
		return
	}
	if c.inExec {
		c.nullArray()
		return
	}
	serve := func(c *Client, key []byte) bool {
		o, exists := c.lookupWrite(key)
		if !exists || o.Type() != TypeList || o.List().Len() == 0 {
			return false
		}
		l := o.List()
		if count != -1 {
			// Redis counts BLMPOP's pops as changes, not BLPOP's.
			n := c.listPopWithKey(key, l, head, count)
			if c.srv.propagating() {
				c.propagateOp(popArg(head), key, msArg(int64(n)))
			}
			return true
		}
		v := l.pop(head)
		c.array(2)
		c.bulk(key)
		c.bulkStr(v)
		if l.Len() == 0 {
			c.deleteKey(key)
		} else {
			c.touched(key)
		}
		c.propagateOp(popArg(head), key)
		return true
	}
	c.blockOn(keys, timeout, serve, (*Client).nullArray)
}

func cmdBLMove(c *Client) {
	from, ok := c.listEnd(c.argv[3])
	if !ok {
		return
	}
	to, ok := c.listEnd(c.argv[4])
	if !ok {
		return
	}
	timeout, ok := c.parseTimeout(c.argv[5])
	if !ok {
		return
	}
	c.blockingMove(timeout, from, to, false)
}

func cmdBRPopLPush(c *Client) {
	timeout, ok := c.parseTimeout(c.argv[3])
	if !ok {
		return
	}
	c.blockingMove(timeout, listTail, listHead, true)
}

// blockingMove implements BLMOVE and BRPOPLPUSH (rpoplpush) once their
// arguments are parsed.
func (c *Client) blockingMove(timeout time.Duration, from, to, rpoplpush bool) {
	src, dst := c.argv[1], c.argv[2]
	_, exists, ok := c.lookupWriteType(src, TypeList)
	if !ok {
		return
	}
	if exists {
		c.listMove(src, dst, from, to)
		if c.srv.propagating() {
			// The ends as the client spelled them.
			if rpoplpush {
				c.propagateAs(argRPopLPush, src, dst)
			} else {
				c.propagateAs(argLMove, src, dst, c.argv[3], c.argv[4])
			}
		}
		return
	}
	if c.inExec {
		c.null()
		return
	}
	dstKey := string(dst)
	serve := func(c *Client, key []byte) bool {
		o, exists := c.lookupWrite(key)
		if !exists || o.Type() != TypeList || o.List().Len() == 0 {
			return false
		}
		dk := []byte(dstKey)
		do, dexists := c.lookupWrite(dk)
		if dexists && do.Type() != TypeList {
			// As in Redis 7.0: the client is unblocked with the error and
			// the element stays where it is.
			c.wrongType()
			return true
		}
		var dl *List
		if dexists {
			dl = do.List()
		}
		l := o.List()
		c.listMovePush(dk, dl, l.pop(from), to)
		if l.Len() == 0 {
			c.deleteKey(key)
		}
		if c.srv.propagating() {
			if rpoplpush {
				c.propagateOp(argRPopLPush, key, dk)
			} else {
				c.propagateOp(argLMove, key, dk, endArg(from), endArg(to))
			}
		}
		return true
	}
	// On timeout Redis replies a null array to every list blocking command.
	c.blockOn([][]byte{src}, timeout, serve, (*Client).nullArray)
}
