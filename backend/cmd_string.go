package backend

import (
	"math"
	"math/big"
	"strconv"
)

var stringCommands = []spec{
	{"get", cmdGet},
	{"set", cmdSet},
	{"setnx", cmdSetNX},
	{"setex", cmdSetEX},
	{"psetex", cmdPSetEX},
	{"mget", cmdMGet},
	{"mset", cmdMSet},
	{"msetnx", cmdMSetNX},
	{"getset", cmdGetSet},
	{"getdel", cmdGetDel},
	{"getex", cmdGetEx},
	{"append", cmdAppend},
	{"strlen", cmdStrlen},
	{"incr", cmdIncr},
	{"decr", cmdDecr},
	{"incrby", cmdIncrBy},
	{"decrby", cmdDecrBy},
	{"incrbyfloat", cmdIncrByFloat},
	{"getrange", cmdGetRange},
	{"substr", cmdGetRange},
	{"setrange", cmdSetRange},
}

// getString looks a key up for a read and checks it is a string.
func (c *Client) getString(key []byte) (s string, exists, ok bool) {
	o, exists, ok := c.lookupType(key, TypeString)
	if !exists || !ok {
		return "", exists, ok
	}
	return o.Str(), true, true
}

func cmdGet(c *Client) {
	s, exists, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if !exists {
		c.null()
		return
	}
	c.bulkStr(s)
}

// Flags of SET and GETEX, as Redis's parseExtendedStringArgumentsOrReply
// names them.
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setEX
	setPX
	setEXAT
	setPXAT
	setPersist
)

// parseSetArgs parses SET's (isGetex false) or GETEX's options from argv[from:].
// It returns the flags and the absolute expiry in unix ms (0: none).
func (c *Client) parseSetArgs(from int, isGetex bool) (flags int, at int64, ok bool) {
	argv := c.argv
	var expArg []byte
	for i := from; i < len(argv); i++ {
		a := argv[i]
		var next []byte
		if i+1 < len(argv) {
			next = argv[i+1]
		}
		switch {
		case !isGetex && eq(a, "nx") && flags&(setXX) == 0:
			flags |= setNX
		case !isGetex && eq(a, "xx") && flags&(setNX) == 0:
			flags |= setXX
		case !isGetex && eq(a, "get"):
			flags |= setGet
		case !isGetex && eq(a, "keepttl") && flags&(setPersist|setEX|setEXAT|setPX|setPXAT) == 0:
			flags |= setKeepTTL
		case isGetex && eq(a, "persist") && flags&(setEX|setEXAT|setPX|setPXAT|setKeepTTL) == 0:
			flags |= setPersist
		case eq(a, "ex") && flags&(setKeepTTL|setPersist|setEXAT|setPX|setPXAT) == 0 && next != nil:
			flags |= setEX
			expArg = next
			i++
		case eq(a, "px") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0 && next != nil:
			flags |= setPX
			expArg = next
			i++
		case eq(a, "exat") && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0 && next != nil:
			flags |= setEXAT
			expArg = next
			i++
		case eq(a, "pxat") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPX) == 0 && next != nil:
			flags |= setPXAT
			expArg = next
			i++
		default:
			c.syntaxErr()
			return 0, 0, false
		}
	}
	if expArg == nil {
		return flags, 0, true
	}
	n, ok := parseIntArg(expArg)
	if !ok {
		c.errorReply(msgNotInt)
		return 0, 0, false
	}
	name := "set"
	if isGetex {
		name = "getex"
	}
	at, ok = c.absExpire(n, flags&(setEX|setEXAT) != 0, flags&(setEX|setPX) != 0, name)
	return flags, at, ok
}

// absExpire turns an expire argument into unix ms, replying Redis's
// "invalid expire time" error for values that are not positive or
// overflow.
func (c *Client) absExpire(n int64, seconds, relative bool, cmd string) (int64, bool) {
	bad := func() (int64, bool) {
		c.errorf(msgInvalidExpire, cmd)
		return 0, false
	}
	if n <= 0 {
		return bad()
	}
	if seconds {
		if n > math.MaxInt64/1000 {
			return bad()
		}
		n *= 1000
	}
	if relative {
		if n > math.MaxInt64-c.srv.now {
			return bad()
		}
		n += c.srv.now
	}
	return n, true
}

func cmdSet(c *Client) {
	flags := 0
	var at int64
	if len(c.argv) > 3 {
		var ok bool
		if flags, at, ok = c.parseSetArgs(3, false); !ok {
			return
		}
	}
	c.setGeneric(flags, c.argv[1], c.argv[2], at)
}

// setGeneric implements SET and its relatives.
func (c *Client) setGeneric(flags int, key, val []byte, at int64) {
	var old string
	var exists bool
	if flags&setGet != 0 {
		var ok bool
		old, exists, ok = c.getString(key)
		if !ok {
			return
		}
	} else if flags&(setNX|setXX) != 0 {
		_, exists = c.lookupWrite(key)
	}
	if (flags&setNX != 0 && exists) || (flags&setXX != 0 && !exists) {
		if flags&setGet != 0 {
			if exists {
				c.bulkStr(old)
			} else {
				c.null()
			}
		} else {
			c.null()
		}
		return
	}
	if flags&setGet != 0 {
		// Reply before the key changes: old aliases the previous value.
		if exists {
			c.bulkStr(old)
		} else {
			c.null()
		}
	}
	c.setKey(key, StrObj(string(val)), flags&setKeepTTL != 0)
	c.dirty(1)
	if at > 0 {
		c.setExpire(key, at)
	}
	if flags&setGet == 0 {
		c.ok()
	}
	if c.srv.propagating() {
		c.propagateSet(flags, key, val, at)
	}
}

// propagateSet rewrites SET (and SETEX, PSETEX) as Redis 7.0's
// setGenericCommand does: with any expiry, "SET key value PXAT <unix-ms>"
// (NX/XX/GET dropped: the SET took place); otherwise without its GET
// arguments; otherwise as given.
func (c *Client) propagateSet(flags int, key, val []byte, at int64) {
	switch {
	case at > 0:
		c.propagateAs(argSet, key, val, argPXAT, msArg(at))
	case flags&setGet != 0:
		argv := make([][]byte, 0, len(c.argv)-1)
		for j, a := range c.argv {
			if j >= 3 && eq(a, "get") {
				continue
			}
			argv = append(argv, a)
		}
		c.propagateAs(argv...)
	}
}

func cmdSetNX(c *Client) {
	if _, exists := c.lookupWrite(c.argv[1]); exists {
		c.integer(0)
		return
	}
	c.setKey(c.argv[1], StrObj(string(c.argv[2])), false)
	c.dirty(1)
	c.integer(1)
}

func cmdSetEX(c *Client)  { c.setExGeneric(true) }
func cmdPSetEX(c *Client) { c.setExGeneric(false) }

func (c *Client) setExGeneric(seconds bool) {
	n, ok := c.intArg(2)
	if !ok {
		return
	}
	name := "setex"
	if !seconds {
		name = "psetex"
	}
	at, ok := c.absExpire(n, seconds, true, name)
	if !ok {
		return
	}
	c.setGeneric(0, c.argv[1], c.argv[3], at)
}

func cmdMGet(c *Client) {
	c.array(len(c.argv) - 1)
	for _, k := range c.argv[1:] {
		o, ok := c.lookupRead(k)
		if !ok || o.Type() != TypeString {
			c.null()
			continue
		}
		c.bulkStr(o.Str())
	}
}

func cmdMSet(c *Client) {
	if len(c.argv)%2 == 0 {
		c.errorf("ERR wrong number of arguments for '%s' command", "mset")
		return
	}
	for i := 1; i < len(c.argv); i += 2 {
		c.setKey(c.argv[i], StrObj(string(c.argv[i+1])), false)
	}
	c.dirty((len(c.argv) - 1) / 2)
	c.ok()
}

func cmdMSetNX(c *Client) {
	if len(c.argv)%2 == 0 {
		c.errorf("ERR wrong number of arguments for '%s' command", "msetnx")
		return
	}
	for i := 1; i < len(c.argv); i += 2 {
		if _, exists := c.lookupWrite(c.argv[i]); exists {
			c.integer(0)
			return
		}
	}
	for i := 1; i < len(c.argv); i += 2 {
		c.setKey(c.argv[i], StrObj(string(c.argv[i+1])), false)
	}
	c.dirty((len(c.argv) - 1) / 2)
	c.integer(1)
}

func cmdGetSet(c *Client) {
	old, exists, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if exists {
		c.bulkStr(old)
	} else {
		c.null()
	}
	c.setKey(c.argv[1], StrObj(string(c.argv[2])), false)
	c.dirty(1)
	if c.srv.propagating() {
		// Propagated as SET key value (Redis 7.0's getsetCommand).
		c.propagateAs(argSet, c.argv[1], c.argv[2])
	}
}

func cmdGetDel(c *Client) {
	old, exists, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if !exists {
		c.null()
		return
	}
	c.bulkStr(old)
	c.deleteKey(c.argv[1])
	c.dirty(1)
	if c.srv.propagating() {
		// Propagated as DEL key (Redis 7.0's getdelCommand).
		c.propagateAs(argDel, c.argv[1])
	}
}

func cmdGetEx(c *Client) {
	flags, at, ok := c.parseSetArgs(2, true)
	if !ok {
		return
	}
	key := c.argv[1]
	s, exists, ok := c.getString(key)
	if !ok {
		return
	}
	if !exists {
		c.null()
		return
	}
	c.bulkStr(s)
	// GETEX never propagates as itself (Redis 7.0's getexCommand): an
	// expiry already past deletes the key and propagates DEL key, another
	// one PEXPIREAT key <unix-ms>, PERSIST that removed a TTL PERSIST key.
	prop := c.srv.propagating()
	switch {
	case at > 0 && c.srv.alreadyExpired(at):
		c.deleteKey(key)
		c.dirty(1)
		if prop {
			c.propagateAs(argDel, key)
		}
	case at > 0:
		c.setExpire(key, at)
		c.touched(key)
		c.dirty(1)
		if prop {
			c.propagateAs(argPExpireAt, key, msArg(at))
		}
	case flags&setPersist != 0:
		if c.removeExpire(key) {
			c.touched(key)
			c.dirty(1)
			if prop {
				c.propagateAs(argPersist, key)
			}
		}
	}
}

func cmdAppend(c *Client) {
	key, val := c.argv[1], c.argv[2]
	o, exists, ok := c.lookupWriteType(key, TypeString)
	if !ok {
		return
	}
	if !exists {
		c.addKey(key, StrObj(string(val)))
		c.dirty(1)
		c.integer(int64(len(val)))
		return
	}
	total := int64(o.StrLen()) + int64(len(val))
	if total > c.srv.cfg.ProtoMaxBulkLen {
		c.errorReply(msgStringTooLong)
		return
	}
	buf := c.growString(key, o)
	*buf = append(*buf, val...)
	c.touched(key)
	c.dirty(1)
	c.integer(int64(len(*buf)))
}

// growString turns the string at key into a growable buffer (Redis's raw
// encoding) and returns it.
func (c *Client) growString(key []byte, o Obj) *[]byte {
	if o.isStrBuf() {
		return o.strBuf()
	}
	s := o.Str()
	b := make([]byte, len(s), len(s)+len(s)/2+16)
	copy(b, s)
	c.replaceValue(key, strBufObj(&b))
	return &b
}

func cmdStrlen(c *Client) {
	o, exists, ok := c.lookupType(c.argv[1], TypeString)
	if !ok {
		return
	}
	if !exists {
		c.integer(0)
		return
	}
	c.integer(int64(o.StrLen()))
}

func cmdIncr(c *Client) { c.incrBy(1) }
func cmdDecr(c *Client) { c.incrBy(-1) }

func cmdIncrBy(c *Client) {
	n, ok := c.intArg(2)
	if ok {
		c.incrBy(n)
	}
}

func cmdDecrBy(c *Client) {
	n, ok := c.intArg(2)
	if !ok {
		return
	}
	if n == math.MinInt64 {
		c.errorReply("ERR decrement would overflow")
		return
	}
	c.incrBy(-n)
}

func (c *Client) incrBy(by int64) {
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeString)
	if !ok {
		return
	}
	var cur int64
	if exists {
		v, ok := parseIntArg([]byte(o.Str()))
		if !ok {
			c.errorReply(msgNotInt)
			return
		}
		cur = v
	}
	if (by < 0 && cur < 0 && by < math.MinInt64-cur) || (by > 0 && cur > 0 && by > math.MaxInt64-cur) {
		c.errorReply(msgOverflow)
		return
	}
	cur += by
	s := strconv.FormatInt(cur, 10)
	if exists {
		c.replaceValue(key, StrObj(s))
		c.touched(key)
	} else {
		c.addKey(key, StrObj(s))
	}
	c.dirty(1)
	c.integer(cur)
}

func cmdIncrByFloat(c *Client) {
	key := c.argv[1]
	o, exists, ok := c.lookupWriteType(key, TypeString)
	if !ok {
		return
	}
	// Redis adds in C's long double, and so do we (see numbers.go).
	cur := new(big.Float)
	if exists {
		v, ok := ld80Parse(o.Str())
		if !ok {
			c.errorReply(msgNotFloat)
			return
		}
		cur = v
	}
	incr, ok := ld80Parse(bstr(c.argv[2]))
	if !ok {
		c.errorReply(msgNotFloat)
		return
	}
	sum, ok := ld80Add(cur, incr)
	if !ok {
		c.errorReply("ERR increment would produce NaN or Infinity")
		return
	}
	s := ld80FormatHuman(sum)
	if exists {
		c.replaceValue(key, StrObj(s))
		c.touched(key)
	} else {
		c.addKey(key, StrObj(s))
	}
	c.dirty(1)
	c.bulkStr(s)
	if c.srv.propagating() {
		// Propagated as the value it produced, SET key value KEEPTTL, so
		// float formatting never differs on replay (Redis 7.0's rule).
		c.propagateAs(argSet, key, []byte(s), argKeepTTL)
	}
}

func cmdGetRange(c *Client) {
	start, ok := c.intArg(2)
	if !ok {
		return
	}
	end, ok := c.intArg(3)
	if !ok {
		return
	}
	s, exists, ok := c.getString(c.argv[1])
	if !ok {
		return
	}
	if !exists {
		c.bulkStr("")
		return
	}
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		c.bulkStr("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.bulkStr("")
		return
	}
	c.bulkStr(s[start : end+1])
}

func cmdSetRange(c *Client) {
	key, val := c.argv[1], c.argv[3]
	off, ok := c.intArg(2)
	if !ok {
		return
	}
	if off < 0 {
		c.errorReply("ERR offset is out of range")
		return
	}
	o, exists, ok := c.lookupWriteType(key, TypeString)
	if !ok {
		return
	}
	if !exists {
		if len(val) == 0 {
			c.integer(0)
			return
		}
		if off+int64(len(val)) > c.srv.cfg.ProtoMaxBulkLen {
			c.errorReply(msgStringTooLong)
			return
		}
		b := make([]byte, off+int64(len(val)))
		copy(b[off:], val)
		c.addKey(key, strBufObj(&b))
		c.dirty(1)
		c.integer(int64(len(b)))
		return
	}
	if len(val) == 0 {
		c.integer(int64(o.StrLen()))
		return
	}
	if off+int64(len(val)) > c.srv.cfg.ProtoMaxBulkLen {
		c.errorReply(msgStringTooLong)
		return
	}
	buf := c.growString(key, o)
	if need := int(off) + len(val); need > len(*buf) {
		*buf = append(*buf, make([]byte, need-len(*buf))...)
	}
	copy((*buf)[off:], val)
	c.touched(key)
	c.dirty(1)
	c.integer(int64(len(*buf)))
}
