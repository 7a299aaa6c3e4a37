package backend

import (
	"net"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// CLIENT subcommands. The handlers are registered in serverCommands.

// Client types, as CLIENT LIST TYPE and CLIENT KILL TYPE name them.
const (
	clientTypeNormal = iota
	clientTypeReplica
	clientTypePubSub
	clientTypeMaster
)

func clientTypeByName(name []byte) int {
	switch {
	case eq(name, "normal"):
		return clientTypeNormal
	case eq(name, "slave"), eq(name, "replica"):
		return clientTypeReplica
	case eq(name, "pubsub"):
		return clientTypePubSub
	case eq(name, "master"):
		return clientTypeMaster
	}
	return -1
}

func (c *Client) clientType() int {
	if c.repl != nil {
		return clientTypeReplica
	}
	if c.isMaster {
		return clientTypeMaster
	}
	if len(c.subs) > 0 || len(c.psubs) > 0 {
		return clientTypePubSub
	}
	return clientTypeNormal
}

// connFD returns the file descriptor of a connection, or -1.
func connFD(conn net.Conn) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// appendClientInfo appends cl's CLIENT LIST line (without the newline) in
// Redis 7.0's format; self is the client running the command.
func appendClientInfo(b []byte, cl, self *Client) []byte {
	now := time.Now()
	flags := ""
	switch cl.clientType() {
	case clientTypePubSub:
		flags += "P"
	case clientTypeReplica:
		flags += "S"
	case clientTypeMaster:
		flags += "M"
	}
	if cl.multi != nil {
		flags += "x"
	}
	if cl.block != nil {
		flags += "b"
	}
	if cl.dirtyCAS {
		flags += "d"
	}
	if cl.closeAfter {
		flags += "c"
	}
	if cl.noEvict {
		flags += "e"
	}
	if flags == "" {
		flags = "N"
	}
	multi := -1
	var multiMem int64
	if cl.multi != nil {
		multi = len(cl.multi.cmds)
		for _, q := range cl.multi.cmds {
			for _, a := range q.argv {
				multiMem += int64(len(a))
			}
		}
	}
	cmd := cl.lastCmd
	if cl == self && cl.curCmd != nil {
		cmd = cl.curCmd.meta.Name
	}
	num := func(name string, n int64) {
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, '=')
		b = strconv.AppendInt(b, n, 10)
	}
	str := func(name, v string) {
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, v...)
	}
	b = append(b, "id="...)
	b = strconv.AppendInt(b, cl.id, 10)
	str("addr", cl.addr)
	str("laddr", cl.laddr)
	num("fd", int64(connFD(cl.conn)))
	str("name", cl.name)
	num("age", int64(now.Sub(cl.created)/time.Second))
	num("idle", int64(now.Sub(cl.lastActive)/time.Second))
	str("flags", flags)
	num("db", int64(cl.db.id))
	num("sub", int64(len(cl.subs)))
	num("psub", int64(len(cl.psubs)))
	num("ssub", 0)
	num("multi", int64(multi))
	num("qbuf", 0)
	num("qbuf-free", 0)
	num("argv-mem", 0)
	num("multi-mem", multiMem)
	num("rbs", 0)
	num("rbp", 0)
	num("obl", 0)
	num("oll", 0)
	num("omem", 0)
	num("tot-mem", multiMem)
	str("events", "r")
	str("cmd", cmd)
	str("user", "default")
	num("redir", -1)
	num("resp", int64(cl.protoVer))
	return b
}

// sortedClients returns the connected clients in connection order.
func (s *Server) sortedClients() []*Client {
	out := make([]*Client, 0, len(s.clients))
	for _, cl := range s.clients {
		out = append(out, cl)
	}
	if l := s.repl.link; l != nil && l.state == linkConnected {
		out = append(out, l.client) // the master's link, as Redis lists it
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func cmdClientID(c *Client) { c.integer(c.id) }

func cmdClientInfo(c *Client) {
	b := appendClientInfo(nil, c, c)
	b = append(b, '\n')
	c.bulk(b)
}

func cmdClientList(c *Client) {
	s := c.srv
	argv := c.argv
	typ := -1
	var b []byte
	switch {
	case len(argv) == 4 && eq(argv[2], "type"):
		if typ = clientTypeByName(argv[3]); typ == -1 {
			c.errorf("ERR Unknown client type '%s'", sanitize(string(argv[3])))
			return
		}
	case len(argv) > 3 && eq(argv[2], "id"):
		b = []byte{}
		for _, a := range argv[3:] {
			id, ok := parseIntArg(a)
			if !ok {
				c.errorReply("ERR Invalid client ID")
				return
			}
			if cl := s.clients[id]; cl != nil {
				b = appendClientInfo(b, cl, c)
				b = append(b, '\n')
			}
		}
	case len(argv) != 2:
		c.syntaxErr()
		return
	}
	if b == nil {
		for _, cl := range s.sortedClients() {
			if typ != -1 && cl.clientType() != typ {
				continue
			}
			b = appendClientInfo(b, cl, c)
			b = append(b, '\n')
		}
	}
	c.bulk(b)
}

func cmdClientSetName(c *Client) {
	name := string(c.argv[2])
	if !validClientName(name) {
		c.errorReply("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.name = name
	c.ok()
}

func cmdClientGetName(c *Client) {
	if c.name == "" {
		c.null()
		return
	}
	c.bulkStr(c.name)
}

// cmdClientSetInfo is CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2).
func cmdClientSetInfo(c *Client) {
	attr, val := c.argv[2], string(c.argv[3])
	var dst *string
	switch {
	case eq(attr, "lib-name"):
		dst = &c.libName
	case eq(attr, "lib-ver"):
		dst = &c.libVer
	default:
		c.errorf("ERR Unrecognized option '%s'", sanitize(string(attr)))
		return
	}
	if !validClientName(val) {
		c.errorf("ERR %s cannot contain spaces, newlines or special characters.", sanitize(string(attr)))
		return
	}
	*dst = val
	c.ok()
}

func cmdClientKill(c *Client) {
	s := c.srv
	argv := c.argv
	var addr, laddr *string
	typ := -1
	var id int64
	skipme := true
	oldForm := len(argv) == 3
	if oldForm {
		a := string(argv[2])
		addr = &a
		skipme = false // with the old form a client may kill itself
	} else {
		for i := 2; i < len(argv); i += 2 {
			more := i+1 < len(argv)
			if !more {
				c.syntaxErr()
				return
			}
			opt, val := argv[i], argv[i+1]
			switch {
			case eq(opt, "id"):
				n, ok := parseIntArg(val)
				if !ok || n < 1 {
					c.errorReply("ERR client-id should be greater than 0")
					return
				}
				id = n
			case eq(opt, "type"):
				if typ = clientTypeByName(val); typ == -1 {
					c.errorf("ERR Unknown client type '%s'", sanitize(string(val)))
					return
				}
			case eq(opt, "addr"):
				v := string(val)
				addr = &v
			case eq(opt, "laddr"):
				v := string(val)
				laddr = &v
			case eq(opt, "user"):
				if string(val) != "default" {
					c.errorf("ERR No such user '%s'", sanitize(string(val)))
					return
				}
			case eq(opt, "skipme"):
				switch {
				case eq(val, "yes"):
					skipme = true
				case eq(val, "no"):
					skipme = false
				default:
					c.syntaxErr()
					return
				}
			default:
				c.syntaxErr()
				return
			}
		}
	}
	killed := 0
	for _, cl := range s.sortedClients() {
		if addr != nil && cl.addr != *addr ||
			laddr != nil && cl.laddr != *laddr ||
			typ != -1 && cl.clientType() != typ ||
			id != 0 && cl.id != id ||
			cl == c && skipme {
			continue
		}
		if cl == c {
			c.closeAfter = true
		} else {
			s.killClient(cl)
		}
		killed++
	}
	if oldForm {
		if killed == 0 {
			c.errorReply("ERR No such client")
		} else {
			c.ok()
		}
		return
	}
	c.integer(int64(killed))
}

// killClient disconnects another client at once, as Redis's freeClient
// does: it leaves the client table, its subscriptions, WATCHes and blocking
// now, and its goroutine ends on the closed connection.
func (s *Server) killClient(cl *Client) {
	if cl.isMaster {
		// The link to this server's master: closing its connection makes
		// the replica reconnect (and resync partially).
		if l := s.repl.link; l != nil && l.client == cl && l.conn != nil {
			l.conn.Close()
		}
		return
	}
	cl.killed = true
	delete(s.clients, cl.id)
	if cl.block != nil {
		s.unblock(cl)
	}
	cl.unwatchAll()
	s.pubsubUnsubscribeAll(cl)
	cl.conn.Close()
}

func cmdClientUnblock(c *Client) {
	s := c.srv
	argv := c.argv
	withError := false
	if len(argv) == 4 {
		switch {
		case eq(argv[3], "timeout"):
		case eq(argv[3], "error"):
			withError = true
		default:
			c.errorReply("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(argv) != 3 {
		c.errorf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try CLIENT HELP.", sanitize(string(argv[1])))
		return
	}
	id, ok := c.intArg(2)
	if !ok {
		return
	}
	target := s.clients[id]
	if target == nil || target.block == nil {
		c.integer(0)
		return
	}
	bc := target.block
	if withError {
		target.errorReply("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	} else {
		bc.timeoutReply(target)
	}
	s.unblock(target)
	close(bc.done)
	c.integer(1)
}

func cmdClientNoEvict(c *Client) {
	switch a := c.argv[2]; {
	case eq(a, "on"):
		c.noEvict = true
	case eq(a, "off"):
		c.noEvict = false
	default:
		c.syntaxErr()
		return
	}
	c.ok()
}

func cmdClientHelp(c *Client) {
	c.adminHelp("CLIENT", []string{
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
	})
}
