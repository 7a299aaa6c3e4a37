package backend

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
)

var hashCommands = []spec{
	{"hset", cmdHSet},
	{"hmset", cmdHSet},
	{"hsetnx", cmdHSetNX},
	{"hget", cmdHGet},
	{"hmget", cmdHMGet},
	{"hgetall", cmdHGetAll},
	{"hkeys", cmdHKeys},
	{"hvals", cmdHVals},
	{"hdel", cmdHDel},
	{"hexists", cmdHExists},
	{"hlen", cmdHLen},
	{"hstrlen", cmdHStrlen},
	{"hincrby", cmdHIncrBy},
	{"hincrbyfloat", cmdHIncrByFloat},
	{"hrandfield", cmdHRandField},
	{"hscan", cmdHScan},
}

// hashWrite looks key up for a write, creating an empty hash when it is
// missing (Redis's hashTypeLookupWriteOrCreate). created tells the caller
// to add the key once the hash holds something.
func (c *Client) hashWrite(key []byte) (h *Hash, created, ok bool) {
	o, exists, ok := c.lookupWriteType(key, TypeHash)
	if !ok {
		return nil, false, false
	}
	if !exists {
		return newHash(), true, true
	}
	return o.Hash(), false, true
}

// hashRead looks key up for a read; h is nil when the key is missing.
func (c *Client) hashRead(key []byte) (h *Hash, ok bool) {
	o, exists, ok := c.lookupType(key, TypeHash)
	if !ok || !exists {
		return nil, ok
	}
	return o.Hash(), true
}

// hashSet writes one field with the configured encoding limits.
func (c *Client) hashSet(h *Hash, field []byte, value string) bool {
	cfg := c.srv.cfg
	return h.Set(bstr(field), value, cfg.HashMaxListpackEntr, cfg.HashMaxListpackValue)
}

// hashStore finishes a write: a new hash becomes the key's value, an
// existing one was changed in place.
func (c *Client) hashStore(key []byte, h *Hash, created bool) {
	if created {
		c.addKey(key, hashObj(h))
	} else {
		c.touched(key)
	}
}

// cmdHSet is HSET and HMSET; they differ only in their reply.
func cmdHSet(c *Client) {
	name := "hset"
	if len(c.argv[0]) > 1 && (c.argv[0][1] == 'm' || c.argv[0][1] == 'M') {
		name = "hmset"
	}
	if len(c.argv)%2 == 1 {
		c.errorf("ERR wrong number of arguments for '%s' command", name)
		return
	}
	key := c.argv[1]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	n := 0
	for i := 2; i < len(c.argv); i += 2 {
		if c.hashSet(h, c.argv[i], string(c.argv[i+1])) {
			n++
		}
	}
	c.hashStore(key, h, created)
	c.dirty((len(c.argv) - 2) / 2)
	if name == "hset" {
		c.integer(int64(n))
	} else {
		c.ok()
	}
}

func cmdHSetNX(c *Client) {
	key := c.argv[1]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	if !created && h.Has(bstr(c.argv[2])) {
		c.integer(0)
		return
	}
	c.hashSet(h, c.argv[2], string(c.argv[3]))
	c.hashStore(key, h, created)
	c.dirty(1)
	c.integer(1)
}

func cmdHGet(c *Client) {
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	if h != nil {
		if v, found := h.Get(bstr(c.argv[2])); found {
			c.bulkStr(v)
			return
		}
	}
	c.null()
}

func cmdHMGet(c *Client) {
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	c.array(len(c.argv) - 2)
	for _, f := range c.argv[2:] {
		if h != nil {
			if v, found := h.Get(bstr(f)); found {
				c.bulkStr(v)
				continue
			}
		}
		c.null()
	}
}

const (
	hashFields = 1 << iota
	hashValues
)

func cmdHGetAll(c *Client) { c.hashGetAll(hashFields | hashValues) }
func cmdHKeys(c *Client)   { c.hashGetAll(hashFields) }
func cmdHVals(c *Client)   { c.hashGetAll(hashValues) }

func (c *Client) hashGetAll(what int) {
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.array(0)
		return
	}
	n := h.Len()
	if what == hashFields|hashValues {
		n *= 2
	}
	c.array(n)
	h.Each(func(f, v string) bool {
		if what&hashFields != 0 {
			c.bulkStr(f)
		}
		if what&hashValues != 0 {
			c.bulkStr(v)
		}
		return true
	})
}

func cmdHDel(c *Client) {
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeHash)
	if !ok {
		return
	}
	if !exists {
		c.integer(0)
		return
	}
	h := o.Hash()
	n := 0
	for _, f := range c.argv[2:] {
		if h.Delete(bstr(f)) {
			n++
			if h.Len() == 0 {
				break
			}
		}
	}
	c.removedMembers(key, n, h.Len())
	c.integer(int64(n))
}

func cmdHExists(c *Client) {
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	if h != nil && h.Has(bstr(c.argv[2])) {
		c.integer(1)
		return
	}
	c.integer(0)
}

func cmdHLen(c *Client) {
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.integer(0)
		return
	}
	c.integer(int64(h.Len()))
}

func cmdHStrlen(c *Client) {
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	if h != nil {
		if v, found := h.Get(bstr(c.argv[2])); found {
			c.integer(int64(len(v)))
			return
		}
	}
	c.integer(0)
}

func cmdHIncrBy(c *Client) {
	incr, ok := c.intArg(3)
	if !ok {
		return
	}
	key := c.argv[1]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	var cur int64
	if v, found := h.Get(bstr(c.argv[2])); found {
		if cur, ok = hsStr2ll(v); !ok {
			c.errorReply("ERR hash value is not an integer")
			return
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.errorReply(msgOverflow)
		return
	}
	cur += incr
	c.hashSet(h, c.argv[2], strconv.FormatInt(cur, 10))
	c.hashStore(key, h, created)
	c.dirty(1)
	c.integer(cur)
}

func cmdHIncrByFloat(c *Client) {
	incr, ok := ld80Parse(bstr(c.argv[3]))
	if !ok {
		c.errorReply(msgNotFloat)
		return
	}
	if incr.IsInf() {
		c.errorReply("ERR value is NaN or Infinity")
		return
	}
	key := c.argv[1]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	cur := new(big.Float)
	if v, found := h.Get(bstr(c.argv[2])); found {
		if cur, ok = ld80Parse(v); !ok {
			c.errorReply("ERR hash value is not a float")
			return
		}
	}
	sum, ok := ld80Add(cur, incr)
	if !ok {
		c.errorReply("ERR increment would produce NaN or Infinity")
		return
	}
	s := ld80FormatHuman(sum)
	c.hashSet(h, c.argv[2], s)
	c.hashStore(key, h, created)
	c.dirty(1)
	c.bulkStr(s)
	if c.srv.propagating() {
		// Propagated as the value it produced, HSET key field value
		// (Redis 7.0's rule, as for INCRBYFLOAT).
		c.propagateAs(argHSet, key, c.argv[2], []byte(s))
	}
}

// HRANDFIELD's count bounds, as Redis 7.0 checks them.
const (
	hsRandCountRange = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	hsMaxRandCount   = math.MaxInt64
)

func cmdHRandField(c *Client) {
	if len(c.argv) == 2 {
		h, ok := c.hashRead(c.argv[1])
		if !ok {
			return
		}
		if h == nil {
			c.null()
			return
		}
		f, _ := h.Random()
		c.bulkStr(f)
		return
	}
	l, ok := c.intArg(2)
	if !ok {
		return
	}
	if l < -hsMaxRandCount {
		c.errorReply(hsRandCountRange)
		return
	}
	withValues := false
	if len(c.argv) > 4 || (len(c.argv) == 4 && !eq(c.argv[3], "withvalues")) {
		c.syntaxErr()
		return
	} else if len(c.argv) == 4 {
		withValues = true
		if l < -hsMaxRandCount/2 || l > hsMaxRandCount/2 {
			c.errorReply("ERR value is out of range")
			return
		}
	}
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	if h == nil || l == 0 {
		c.array(0)
		return
	}
	per := 1
	if withValues {
		per = 2
	}
	reply := func(f, v string) {
		c.bulkStr(f)
		if withValues {
			c.bulkStr(v)
		}
	}
	if l < 0 || l == 1 {
		// With repetitions, in random order.
		n := l
		if n < 0 {
			n = -n
		}
		c.array(int(n) * per)
		for ; n > 0; n-- {
			reply(h.Random())
		}
		return
	}
	size := h.Len()
	if l >= int64(size) {
		c.array(size * per)
		h.Each(func(f, v string) bool {
			reply(f, v)
			return true
		})
		return
	}
	// Distinct fields; Redis serves a listpack in its own order, and a
	// hashtable in an order of no meaning, so table order fits both.
	pos := hsRandomPositions(size, int(l))
	c.array(len(pos) * per)
	h.At(pos, reply)
}

// hsRandomPositions returns k distinct random positions below n (k < n), in
// ascending order.
func hsRandomPositions(n, k int) []int {
	var pos []int
	if k*3 > n {
		// Dense: a partial Fisher-Yates shuffle of all positions.
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		for i := 0; i < k; i++ {
			j := i + rand.IntN(n-i)
			all[i], all[j] = all[j], all[i]
		}
		pos = all[:k]
	} else {
		seen := make(map[int]struct{}, k)
		pos = make([]int, 0, k)
		for len(pos) < k {
			p := rand.IntN(n)
			if _, dup := seen[p]; !dup {
				seen[p] = struct{}{}
				pos = append(pos, p)
			}
		}
	}
	slices.Sort(pos)
	return pos
}

func cmdHScan(c *Client) {
	cursor, ok := c.scanCursor(2)
	if !ok {
		return
	}
	h, ok := c.hashRead(c.argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.raw("*2\r\n$1\r\n0\r\n*0\r\n")
		return
	}
	opts, ok := c.scanOptions(3, false)
	if !ok {
		return
	}
	var items []string
	add := func(f, v string) {
		if opts.matches(f) {
			items = append(items, f, v)
		}
	}
	if h.IsListpack() {
		h.Each(func(f, v string) bool {
			add(f, v)
			return true
		})
		cursor = 0
	} else {
		cursor = h.ht.Scan(cursor, opts.count, add)
	}
	c.array(2)
	c.bulkStr(strconv.FormatUint(cursor, 10))
	c.strs(items)
}
