package backend

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
)

var pubsubCommands = []spec{
	{"subscribe", cmdSubscribe},
	{"unsubscribe", cmdUnsubscribe},
	{"psubscribe", cmdPSubscribe},
	{"punsubscribe", cmdPUnsubscribe},
	{"publish", cmdPublish},
	{"pubsub|channels", cmdPubsubChannels},
	{"pubsub|numsub", cmdPubsubNumsub},
	{"pubsub|numpat", cmdPubsubNumpat},
	{"pubsub|help", cmdPubsubHelp},
}

// pubsub is the server's subscription registry. Patterns keep their
// subscription order, as Redis delivers pmessages in that order.
type pubsub struct {
	channels map[string]map[*Client]struct{}
	patterns map[string]map[*Client]struct{}
	patOrder []string
}

func (c *Client) subCount() int64 { return int64(len(c.subs) + len(c.psubs)) }

func (c *Client) subReply(kind string, name []byte, null bool) {
	c.array(3)
	c.bulkStr(kind)
	if null {
		c.null()
	} else {
		c.bulk(name)
	}
	c.integer(c.subCount())
}

func cmdSubscribe(c *Client) {
	ps := &c.srv.pubsub
	if ps.channels == nil {
		ps.channels = map[string]map[*Client]struct{}{}
	}
	for _, ch := range c.argv[1:] {
		name := string(ch)
		if c.subs == nil {
			c.subs = map[string]struct{}{}
		}
		if _, ok := c.subs[name]; !ok {
			c.subs[name] = struct{}{}
			if ps.channels[name] == nil {
				ps.channels[name] = map[*Client]struct{}{}
			}
			ps.channels[name][c] = struct{}{}
		}
		c.subReply("subscribe", ch, false)
	}
	c.goAsync()
}

func cmdPSubscribe(c *Client) {
	ps := &c.srv.pubsub
	if ps.patterns == nil {
		ps.patterns = map[string]map[*Client]struct{}{}
	}
	for _, p := range c.argv[1:] {
		name := string(p)
		if c.psubs == nil {
			c.psubs = map[string]struct{}{}
		}
		if _, ok := c.psubs[name]; !ok {
			c.psubs[name] = struct{}{}
			if ps.patterns[name] == nil {
				ps.patterns[name] = map[*Client]struct{}{}
				ps.patOrder = append(ps.patOrder, name)
			}
			ps.patterns[name][c] = struct{}{}
		}
		c.subReply("psubscribe", p, false)
	}
	c.goAsync()
}

func (s *Server) unsubscribe(c *Client, name string) bool {
	if _, ok := c.subs[name]; !ok {
		return false
	}
	delete(c.subs, name)
	if m := s.pubsub.channels[name]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(s.pubsub.channels, name)
		}
	}
	return true
}

func (s *Server) punsubscribe(c *Client, name string) bool {
	if _, ok := c.psubs[name]; !ok {
		return false
	}
	delete(c.psubs, name)
	if m := s.pubsub.patterns[name]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(s.pubsub.patterns, name)
			for i, p := range s.pubsub.patOrder {
				if p == name {
					s.pubsub.patOrder = append(s.pubsub.patOrder[:i], s.pubsub.patOrder[i+1:]...)
					break
				}
			}
		}
	}
	return true
}

func cmdUnsubscribe(c *Client) {
	s := c.srv
	names := c.argv[1:]
	if len(names) == 0 {
		if len(c.subs) == 0 {
			c.subReply("unsubscribe", nil, true)
			return
		}
		for _, n := range slices.Sorted(maps.Keys(c.subs)) {
			s.unsubscribe(c, n)
			c.subReply("unsubscribe", []byte(n), false)
		}
		return
	}
	for _, n := range names {
		s.unsubscribe(c, string(n))
		c.subReply("unsubscribe", n, false)
	}
}

func cmdPUnsubscribe(c *Client) {
	s := c.srv
	names := c.argv[1:]
	if len(names) == 0 {
		if len(c.psubs) == 0 {
			c.subReply("punsubscribe", nil, true)
			return
		}
		for _, n := range slices.Sorted(maps.Keys(c.psubs)) {
			s.punsubscribe(c, n)
			c.subReply("punsubscribe", []byte(n), false)
		}
		return
	}
	for _, n := range names {
		s.punsubscribe(c, string(n))
		c.subReply("punsubscribe", n, false)
	}
}

// pubsubUnsubscribeAll drops every subscription of a client that leaves.
func (s *Server) pubsubUnsubscribeAll(c *Client) {
	for n := range c.subs {
		s.unsubscribe(c, n)
	}
	for n := range c.psubs {
		s.punsubscribe(c, n)
	}
}

func cmdPublish(c *Client) {
	c.integer(c.srv.publish(c.argv[1], c.argv[2]))
}

// publish delivers a message and returns the number of receivers.
func (s *Server) publish(channel, msg []byte) int64 {
	var n int64
	ch := bstr(channel)
	if subs := s.pubsub.channels[ch]; len(subs) > 0 {
		var m []byte
		m = resp.AppendArray(m, 3)
		m = resp.AppendBulkString(m, "message")
		m = resp.AppendBulk(m, channel)
		m = resp.AppendBulk(m, msg)
		for sub := range subs {
			sub.push(m)
			n++
		}
	}
	for _, pat := range s.pubsub.patOrder {
		if !globMatch(pat, ch, false) {
			continue
		}
		var m []byte
		m = resp.AppendArray(m, 4)
		m = resp.AppendBulkString(m, "pmessage")
		m = resp.AppendBulkString(m, pat)
		m = resp.AppendBulk(m, channel)
		m = resp.AppendBulk(m, msg)
		for sub := range s.pubsub.patterns[pat] {
			sub.push(m)
			n++
		}
	}
	return n
}

func cmdPubsubChannels(c *Client) {
	if len(c.argv) > 3 {
		c.errorf("ERR wrong number of arguments for 'pubsub|channels' command")
		return
	}
	var out []string
	for ch := range c.srv.pubsub.channels {
		if len(c.argv) == 3 && !globMatch(string(c.argv[2]), ch, false) {
			continue
		}
		out = append(out, ch)
	}
	sort.Strings(out)
	c.strs(out)
}

func cmdPubsubNumsub(c *Client) {
	c.array(2 * (len(c.argv) - 2))
	for _, ch := range c.argv[2:] {
		c.bulk(ch)
		c.integer(int64(len(c.srv.pubsub.channels[bstr(ch)])))
	}
}

func cmdPubsubNumpat(c *Client) { c.integer(int64(len(c.srv.pubsub.patterns))) }

func cmdPubsubHelp(c *Client) {
	c.helpReply("PUBSUB", []string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	})
}

// helpReply answers a HELP subcommand the way Redis's addReplyHelp does.
func (c *Client) helpReply(cmd string, lines []string) {
	c.array(len(lines) + 3)
	c.simple(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.simple(l)
	}
	c.simple("HELP")
	c.simple("    Prints this help.")
}

// goAsync switches c to asynchronous output: from now on its replies and
// the messages pushed to it are written by a writer goroutine, in the order
// they were produced under the executor lock.
func (c *Client) goAsync() {
	if c.async {
		return
	}
	c.async = true
	c.asyncWake = make(chan struct{}, 1)
	go c.asyncWriter(c.asyncWake)
}

// moveToAsync hands the replies of the command just run to the writer.
func (c *Client) moveToAsync() {
	if len(c.out) == 0 {
		return
	}
	c.push(c.out)
	c.out = c.out[:0]
}

// push queues bytes for an async client and enforces the pub/sub output
// buffer limits (hard: at once; soft: when exceeded for softSecs).
func (c *Client) push(b []byte) {
	c.omu.Lock()
	defer c.omu.Unlock()
	if c.asyncWake == nil {
		return
	}
	c.asyncBuf = append(c.asyncBuf, b...)
	class := classPubSub
	if c.repl != nil {
		class = classReplica
	}
	lim := c.srv.cfg.OutputLimits[class]
	n := int64(len(c.asyncBuf))
	over := lim.hard > 0 && n > lim.hard
	if !over && lim.soft > 0 && n > lim.soft {
		if c.softSince.IsZero() {
			c.softSince = time.Now()
		} else if time.Since(c.softSince) > time.Duration(lim.softSecs)*time.Second {
			over = true
		}
	} else if lim.soft > 0 {
		c.softSince = time.Time{}
	}
	if over {
		c.srv.logf("Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.", c.id, c.addr)
		c.asyncBuf = nil
		c.conn.Close()
		return
	}
	if c.replHeld {
		return // the writer starts when the snapshot has been sent
	}
	select {
	case c.asyncWake <- struct{}{}:
	default:
	}
}

func (c *Client) asyncWriter(wake chan struct{}) {
	var buf []byte
	for range wake {
		// wmu is held from taking the bytes to writing them, so the final
		// flush of a closing client cannot overtake them.
		c.wmu.Lock()
		c.omu.Lock()
		if c.replHeld {
			c.omu.Unlock()
			c.wmu.Unlock()
			continue
		}
		buf, c.asyncBuf = c.asyncBuf, buf[:0]
		c.omu.Unlock()
		if len(buf) == 0 {
			c.wmu.Unlock()
			continue
		}
		n, err := c.conn.Write(buf)
		c.wmu.Unlock()
		c.srv.stats.netOutput.Add(int64(n))
		if err != nil {
			c.conn.Close()
			return
		}
	}
}
