package backend

import (
	"crypto/subtle"
	"strconv"
)

var connectionCommands = []spec{
	{"ping", cmdPing},
	{"echo", cmdEcho},
	{"quit", cmdQuit},
	{"reset", cmdReset},
	{"select", cmdSelect},
	{"hello", cmdHello},
	{"auth", cmdAuth},
}

// Redis version this server is compatible with, reported where Redis
// reports its own (INFO, HELLO) so that clients enable the right features.
const redisCompatVersion = "7.0.15"

func cmdPing(c *Client) {
	if len(c.argv) > 2 {
		c.errorf("ERR wrong number of arguments for '%s' command", "ping")
		return
	}
	if len(c.subs) > 0 || len(c.psubs) > 0 {
		// In RESP2 pub/sub context PING answers as a message, as in Redis.
		c.array(2)
		c.bulkStr("pong")
		if len(c.argv) == 2 {
			c.bulk(c.argv[1])
		} else {
			c.bulkStr("")
		}
		return
	}
	if len(c.argv) == 2 {
		c.bulk(c.argv[1])
		return
	}
	c.simple("PONG")
}

func cmdEcho(c *Client) { c.bulk(c.argv[1]) }

func cmdQuit(c *Client) {
	c.ok()
	c.closeAfter = true
}

func cmdReset(c *Client) {
	s := c.srv
	c.multi = nil
	c.unwatchAll()
	s.pubsubUnsubscribeAll(c)
	c.db = s.dbs[0]
	c.name = ""
	c.protoVer = 2
	c.noEvict = false
	c.authed = s.cfg.RequirePass == ""
	c.simple("RESET")
}

func cmdSelect(c *Client) {
	n, ok := parseIntArg(c.argv[1])
	if !ok {
		c.errorReply(msgNotInt)
		return
	}
	if n < 0 || n >= int64(len(c.srv.dbs)) {
		c.errorReply(msgDBIndex)
		return
	}
	c.db = c.srv.dbs[n]
	c.ok()
}

// checkPassword compares in constant time; user must be "default".
func (s *Server) checkPassword(user, pass string) bool {
	if user != "default" {
		return false
	}
	if s.cfg.RequirePass == "" {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.RequirePass)) == 1
}

func cmdAuth(c *Client) {
	s := c.srv
	if len(c.argv) > 3 {
		c.syntaxErr()
		return
	}
	user, pass := "default", string(c.argv[1])
	if len(c.argv) == 3 {
		user, pass = string(c.argv[1]), string(c.argv[2])
	}
	if len(c.argv) == 2 && s.cfg.RequirePass == "" {
		c.errorReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return
	}
	if !s.checkPassword(user, pass) {
		c.errorReply(msgWrongPass)
		return
	}
	c.authed = true
	c.ok()
}

func cmdHello(c *Client) {
	s := c.srv
	argv := c.argv
	ver := int64(c.protoVer)
	i := 1
	if len(argv) >= 2 {
		v, ok := parseIntArg(argv[1])
		if !ok {
			c.errorReply("ERR Protocol version is not an integer or out of range")
			return
		}
		ver = v
		i = 2
	}
	var user, pass, name string
	var haveAuth, haveName bool
	for ; i < len(argv); i++ {
		more := len(argv) - i - 1
		switch {
		case eq(argv[i], "auth") && more >= 2:
			user, pass = string(argv[i+1]), string(argv[i+2])
			haveAuth = true
			i += 2
		case eq(argv[i], "setname") && more >= 1:
			name = string(argv[i+1])
			haveName = true
			i++
		default:
			c.errorf("ERR Syntax error in HELLO option '%s'", sanitize(string(argv[i])))
			return
		}
	}
	if ver < 2 || ver > 3 {
		c.errorReply("NOPROTO unsupported protocol version")
		return
	}
	if ver == 3 {
		c.errorReply("NOPROTO sorry, this protocol version is not supported")
		return
	}
	if haveAuth {
		if !s.checkPassword(user, pass) {
			c.errorReply(msgWrongPass)
			return
		}
		c.authed = true
	}
	if !c.authed {
		c.errorReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if haveName {
		if !validClientName(name) {
			c.errorReply("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		c.name = name
	}
	c.protoVer = int(ver)
	c.array(14)
	c.bulkStr("server")
	c.bulkStr("redis")
	c.bulkStr("version")
	c.bulkStr(redisCompatVersion)
	c.bulkStr("proto")
	c.integer(ver)
	c.bulkStr("id")
	c.integer(c.id)
	c.bulkStr("mode")
	c.bulkStr("standalone")
	c.bulkStr("role")
	c.bulkStr(s.roleName())
	c.bulkStr("modules")
	c.array(0)
}

// roleName is "master" or "replica", as HELLO reports it.
func (s *Server) roleName() string { return "master" }

// validClientName reports whether a name suits CLIENT SETNAME: printable
// ASCII without spaces.
func validClientName(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] < '!' || n[i] > '~' {
			return false
		}
	}
	return true
}

var _ = strconv.Itoa
