package proxy

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
	"github.com/lagwise/lagwise/router"
)

// local answers a request the proxy handles itself: connection set-up,
// PING/ECHO, QUIT, RESET, SELECT 0, unsubscribes outside pub/sub, INFO and
// the LAGWISE family. Its reply is timed like a backend's (requestSlot):
// within the loop turn that read it.
func (c *client) local(argv [][]byte, rt router.Route) {
	c.requestSlot(rt)
	name := strings.ToLower(string(argv[0]))
	var r []byte
	switch name {
	case "ping":
		switch len(argv) {
		case 1:
			r = append(r, "+PONG\r\n"...)
		case 2:
			r = resp.AppendBulk(r, argv[1])
		default:
			r = arityError(r, "ping")
		}
	case "echo":
		if len(argv) != 2 {
			r = arityError(r, "echo")
		} else {
			r = resp.AppendBulk(r, argv[1])
		}
	case "quit":
		r = resp.AppendOK(r)
		c.quitting = true
	case "reset":
		c.reset()
		r = append(r, "+RESET\r\n"...)
	case "select":
		r = resp.AppendOK(r) // SELECT 0 outside a pinned session
	case "unsubscribe", "punsubscribe", "sunsubscribe":
		r = confirmNothing(r, name, argv[1:])
	case "hello":
		r = c.hello(r, argv)
	case "auth":
		r = c.auth(r, argv)
	case "client":
		r = c.clientCmd(r, argv)
	case "info":
		r = resp.AppendBulkString(r, c.l.p.info(argv[1:]))
	case "lagwise":
		r = c.lagwise(r, argv)
	default:
		r = resp.AppendError(r, "ERR unknown command '"+printable(argv[0])+"'")
	}
	c.deliver(c.lastSeq(), r, nil)
}

func arityError(r []byte, cmd string) []byte {
	return resp.AppendError(r, "ERR wrong number of arguments for '"+cmd+"' command")
}

// confirmNothing answers an unsubscribe outside pub/sub as the server
// would: one confirmation per channel named (or one with no channel), each
// with a count of 0.
func confirmNothing(r []byte, kind string, channels [][]byte) []byte {
	if len(channels) == 0 {
		r = resp.AppendArray(r, 3)
		r = resp.AppendBulkString(r, kind)
		r = resp.AppendNull(r)
		return resp.AppendInt(r, 0)
	}
	for _, ch := range channels {
		r = resp.AppendArray(r, 3)
		r = resp.AppendBulkString(r, kind)
		r = resp.AppendBulk(r, ch)
		r = resp.AppendInt(r, 0)
	}
	return r
}

// reset is RESET: the session starts afresh, its pinned connection (which
// holds its state) is closed.
func (c *client) reset() {
	if b := c.pinned; b != nil {
		c.pinned = nil
		b.owner = nil
		b.close()
	}
	c.writes = router.Writes{}
	c.lastWriteN, c.lastWriteSeq = 0, 0
	c.name = nil
	c.override = nil
	c.authed = c.l.topo.password == ""
}

// hello is HELLO [protover [AUTH username password] [SETNAME name]]. The
// proxy speaks RESP2; HELLO 3 is refused so clients fall back.
func (c *client) hello(r []byte, argv [][]byte) []byte {
	if len(argv) >= 2 {
		v, err := strconv.ParseInt(string(argv[1]), 10, 64)
		if err != nil {
			return resp.AppendError(r, "ERR Protocol version is not an integer or out of range")
		}
		if v == 3 {
			return resp.AppendError(r, "NOPROTO sorry, this protocol version is not supported")
		}
		if v != 2 {
			return resp.AppendError(r, "NOPROTO unsupported protocol version")
		}
	}
	var setname []byte
	for i := 2; i < len(argv); i++ {
		more := len(argv) - i - 1
		switch {
		case equalFold(argv[i], "auth") && more >= 2:
			if msg := c.checkPassword(argv[i+1], argv[i+2]); msg != "" {
				return resp.AppendError(r, msg)
			}
			c.authed = true
			i += 2
		case equalFold(argv[i], "setname") && more >= 1:
			if !validName(argv[i+1]) {
				return resp.AppendError(r, "ERR Client names cannot contain spaces, newlines or special characters.")
			}
			setname = argv[i+1]
			i++
		default:
			return resp.AppendError(r, "ERR Syntax error in HELLO option '"+printable(argv[i])+"'")
		}
	}
	if !c.authed {
		return resp.AppendError(r, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
	}
	if setname != nil {
		c.name = append(c.name[:0], setname...)
	}
	r = resp.AppendArray(r, 14)
	r = resp.AppendBulkString(r, "server")
	r = resp.AppendBulkString(r, "redis")
	r = resp.AppendBulkString(r, "version")
	r = resp.AppendBulkString(r, Version)
	r = resp.AppendBulkString(r, "proto")
	r = resp.AppendInt(r, 2)
	r = resp.AppendBulkString(r, "id")
	r = resp.AppendInt(r, c.id)
	r = resp.AppendBulkString(r, "mode")
	r = resp.AppendBulkString(r, "standalone")
	r = resp.AppendBulkString(r, "role")
	r = resp.AppendBulkString(r, "master")
	r = resp.AppendBulkString(r, "modules")
	return resp.AppendArray(r, 0)
}

// auth is AUTH [username] password against auth.password (the default
// user's).
func (c *client) auth(r []byte, argv [][]byte) []byte {
	var user, pass []byte
	switch len(argv) {
	case 2:
		pass = argv[1]
	case 3:
		user, pass = argv[1], argv[2]
	case 1:
		return arityError(r, "auth")
	default:
		return resp.AppendError(r, "ERR syntax error")
	}
	if c.l.topo.password == "" && user == nil {
		return resp.AppendError(r, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
	}
	if msg := c.checkPassword(user, pass); msg != "" {
		return resp.AppendError(r, msg)
	}
	c.authed = true
	return resp.AppendOK(r)
}

// checkPassword returns "" if user (nil or "default") and pass match the
// proxy's password, else the error.
func (c *client) checkPassword(user, pass []byte) string {
	want := c.l.topo.password
	if user != nil && string(user) != "default" {
		return "WRONGPASS invalid username-password pair or user is disabled."
	}
	if want == "" || string(pass) == want {
		return ""
	}
	return "WRONGPASS invalid username-password pair or user is disabled."
}

// validName: CLIENT SETNAME's rule.
func validName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// clientCmd answers CLIENT SETNAME, GETNAME, ID and SETINFO.
func (c *client) clientCmd(r []byte, argv [][]byte) []byte {
	sub := strings.ToLower(string(argv[1]))
	switch sub {
	case "setname":
		if len(argv) != 3 {
			return arityError(r, "client|setname")
		}
		if !validName(argv[2]) {
			return resp.AppendError(r, "ERR Client names cannot contain spaces, newlines or special characters.")
		}
		c.name = append(c.name[:0], argv[2]...)
		return resp.AppendOK(r)
	case "getname":
		if len(argv) != 2 {
			return arityError(r, "client|getname")
		}
		if len(c.name) == 0 {
			return resp.AppendNull(r)
		}
		return resp.AppendBulk(r, c.name)
	case "id":
		if len(argv) != 2 {
			return arityError(r, "client|id")
		}
		return resp.AppendInt(r, c.id)
	case "setinfo":
		if len(argv) != 4 {
			return arityError(r, "client|setinfo")
		}
		attr := strings.ToLower(string(argv[2]))
		if attr != "lib-name" && attr != "lib-ver" {
			return resp.AppendError(r, "ERR Unrecognized option '"+printable(argv[2])+"'")
		}
		if !validName(argv[3]) {
			return resp.AppendError(r, "ERR "+attr+" cannot contain spaces, newlines or special characters.")
		}
		return resp.AppendOK(r)
	}
	return resp.AppendError(r, "ERR unknown subcommand '"+printable(argv[1])+"'. Try CLIENT HELP.")
}

// lagwise answers the LAGWISE family.
func (c *client) lagwise(r []byte, argv [][]byte) []byte {
	if len(argv) < 2 {
		return arityError(r, "lagwise")
	}
	p := c.l.p
	switch strings.ToLower(string(argv[1])) {
	case "help":
		lines := []string{
			"LAGWISE <subcommand> [<arg> ...]. Subcommands are:",
			"MAXLAG <milliseconds>|DEFAULT",
			"    This session's reads go only to replicas lagging less than that.",
			"READFROM master|replicas|any|DEFAULT",
			"    Where this session's reads go (routing.read_from for this session).",
			"TOPOLOGY",
			"    The backends, their roles, health and lag, as the lag monitor last saw them.",
			"LAG",
			"    Each replica's lag in bytes and milliseconds, and whether it gets reads.",
			"CONFIG",
			"    The config the proxy runs on, and the last reload's result.",
			"SESSION",
			"    This session's routing state.",
		}
		r = resp.AppendArray(r, len(lines))
		for _, l := range lines {
			r = resp.AppendSimple(r, l)
		}
		return r
	case "maxlag":
		if len(argv) != 3 {
			return arityError(r, "lagwise|maxlag")
		}
		if equalFold(argv[2], "default") {
			c.setOverride(0, "")
			return resp.AppendOK(r)
		}
		ms, err := strconv.ParseInt(string(argv[2]), 10, 64)
		if err != nil || ms <= 0 || ms > math.MaxInt64/int64(time.Millisecond) {
			return resp.AppendError(r, "ERR LAGWISE MAXLAG wants a number of milliseconds above 0, or DEFAULT")
		}
		c.setOverride(time.Duration(ms)*time.Millisecond, "")
		return resp.AppendOK(r)
	case "readfrom":
		if len(argv) != 3 {
			return arityError(r, "lagwise|readfrom")
		}
		v := strings.ToLower(string(argv[2]))
		switch router.ReadFrom(v) {
		case router.FromMaster, router.FromReplicas, router.FromAny:
			c.setOverride(-1, router.ReadFrom(v))
		default:
			if v != "default" {
				return resp.AppendError(r, "ERR LAGWISE READFROM wants master, replicas, any or DEFAULT")
			}
			c.setOverride(-1, "default")
		}
		return resp.AppendOK(r)
	case "topology":
		return resp.AppendBulkString(r, p.topologyText(c.l.view, true))
	case "lag":
		return resp.AppendBulkString(r, p.topologyText(c.l.view, false))
	case "config":
		return resp.AppendBulkString(r, p.configText())
	case "session":
		return resp.AppendBulkString(r, c.sessionText())
	}
	return resp.AppendError(r, "ERR unknown subcommand '"+printable(argv[1])+"'. Try LAGWISE HELP.")
}

// setOverride changes the session's routing: maxLag 0 restores max_lag,
// -1 leaves it; readFrom "" leaves it, "default" restores read_from.
func (c *client) setOverride(maxLag time.Duration, readFrom router.ReadFrom) {
	o := c.override
	if o == nil {
		o = &override{}
	}
	if maxLag >= 0 {
		o.maxLag = maxLag
	}
	switch readFrom {
	case "":
	case "default":
		o.readFrom = ""
	default:
		o.readFrom = readFrom
	}
	o.view, o.picker = nil, nil
	if o.maxLag == 0 && o.readFrom == "" {
		c.override = nil
		return
	}
	c.override = o
}

// pickerFor returns the session's picker over v, recomputing its read
// pool with the session's policy when the view changed.
func (o *override) pickerFor(v *View) *router.Picker {
	if o.view == v && o.picker != nil {
		return o.picker
	}
	pol := v.Eligibility.Policy
	if o.maxLag > 0 {
		pol.MaxLag = o.maxLag
	}
	if o.readFrom != "" {
		pol.ReadFrom = o.readFrom
	}
	var prev *router.Eligibility
	if o.picker != nil {
		prev = o.picker.Eligibility()
	}
	e := router.Eligible(v.Eligibility.Samples, pol, prev)
	if o.picker == nil {
		o.picker = router.NewPicker(e)
	} else {
		o.picker.Reset(e)
	}
	o.view = v
	return o.picker
}

func (c *client) sessionText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "id:%d\r\n", c.id)
	fmt.Fprintf(&b, "pinned:%d\r\n", b2i(c.sess.Pinned()))
	fmt.Fprintf(&b, "db:%d\r\n", c.sess.DB())
	need := c.writes.Need()
	fmt.Fprintf(&b, "ryw_wrote:%d\r\nryw_offset_known:%d\r\nryw_offset:%d\r\n", b2i(need.Wrote), b2i(need.Known), need.Offset)
	if o := c.override; o != nil {
		fmt.Fprintf(&b, "maxlag_ms:%d\r\nread_from:%s\r\n", o.maxLag.Milliseconds(), o.readFrom)
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lagMS formats a time lag in milliseconds, "inf" when unknown.
func lagMS(r ReplicaState) string {
	if r.Health != router.Known {
		return "inf"
	}
	return strconv.FormatFloat(float64(r.TimeLag)/float64(time.Millisecond), 'f', 1, 64)
}

// topologyText is LAGWISE TOPOLOGY (full) and LAGWISE LAG: one line per
// backend, starting with its address.
func (p *Proxy) topologyText(v *View, full bool) string {
	var b strings.Builder
	m := v.Master
	if full {
		fmt.Fprintf(&b, "%s role=master up=%d reported_role=%s offset=%d replid=%s", m.Addr, b2i(m.Up), orDash(m.Role), m.Offset, orDash(m.ReplID))
		if m.Err != "" {
			fmt.Fprintf(&b, " error=%q", m.Err)
		}
		b.WriteString("\r\n")
	}
	for i, r := range v.Replicas {
		routable, effective := 0, 0
		if e := v.Eligibility; e != nil && i < len(e.Replicas) {
			routable = b2i(e.Routable(i))
			effective = e.Replicas[i].Effective
		}
		lagBytes := "inf"
		if r.Health == router.Known {
			lagBytes = strconv.FormatInt(r.ByteLag, 10)
		}
		if full {
			fmt.Fprintf(&b, "%s role=replica up=%d reported_role=%s health=%s link=%s offset=%d lag_bytes=%s lag_ms=%s routable=%d weight=%d effective=%d",
				r.Addr, b2i(r.Up), orDash(r.Role), strings.ReplaceAll(r.Health.String(), " ", "_"), orDash(r.LinkStatus), r.Offset, lagBytes, lagMS(r), routable, r.Weight, effective)
			if r.Err != "" {
				fmt.Fprintf(&b, " error=%q", r.Err)
			}
		} else {
			fmt.Fprintf(&b, "%s lag_bytes=%s lag_ms=%s routable=%d health=%s", r.Addr, lagBytes, lagMS(r), routable, strings.ReplaceAll(r.Health.String(), " ", "_"))
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// configText is LAGWISE CONFIG.
func (p *Proxy) configText() string {
	var b strings.Builder
	cfg := p.Config()
	fmt.Fprintf(&b, "file:%s\r\n", orDash(cfg.File()))
	fmt.Fprintf(&b, "reloads_ok:%d\r\nreloads_failed:%d\r\n", p.reloads[0].Load(), p.reloads[1].Load())
	if e := p.lastErr.Load(); e != nil {
		fmt.Fprintf(&b, "last_reload_error:%s\r\n", strings.ReplaceAll(*e, "\n", "; "))
	}
	if n := p.restartNote.Load(); n != nil {
		fmt.Fprintf(&b, "restart_needed:%s\r\n", *n)
	}
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(cfg.String(), "\n", "\r\n"))
	return b.String()
}

// info is INFO through the proxy: the proxy's own sections.
func (p *Proxy) info(sections [][]byte) string {
	want := map[string]bool{}
	for _, s := range sections {
		want[strings.ToLower(string(s))] = true
	}
	all := len(want) == 0 || want["all"] || want["everything"] || want["default"]
	var b strings.Builder
	section := func(name string, lines ...string) {
		if !all && !want[strings.ToLower(name)] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
		for _, l := range lines {
			b.WriteString(l + "\r\n")
		}
	}
	t := p.topo.Load()
	section("Server",
		"redis_version:"+Version,
		"redis_mode:standalone",
		"lagwise_role:proxy",
		"process_id:"+strconv.Itoa(os.Getpid()),
		"tcp_port:"+portOf(p.addr),
		"uptime_in_seconds:"+strconv.FormatInt(int64(time.Since(p.startAt).Seconds()), 10),
	)
	section("Clients", "connected_clients:"+strconv.FormatInt(p.clients.Load(), 10),
		"maxclients:"+strconv.Itoa(t.maxClients))
	pol := t.cfg.Routing
	section("Proxy",
		"listen:"+p.listen,
		"metrics_listen:"+p.metricsListen,
		"read_from:"+string(pol.ReadFrom),
		"max_lag_ms:"+strconv.FormatInt(pol.MaxLag.Milliseconds(), 10),
		"lag_poll_interval_ms:"+strconv.FormatInt(pol.LagPollInterval.Milliseconds(), 10),
		"poll_timeout_ms:"+strconv.FormatInt(pol.PollTimeout.Milliseconds(), 10),
		"when_replicas_lag:"+string(pol.WhenReplicasLag),
		"read_your_writes:"+strconv.Itoa(b2i(pol.ReadYourWrites)),
		"config_reloads_ok:"+strconv.FormatUint(p.reloads[0].Load(), 10),
		"config_reloads_failed:"+strconv.FormatUint(p.reloads[1].Load(), 10),
	)
	v := p.lag.View()
	lines := []string{
		"master:" + v.Master.Addr,
		"master_up:" + strconv.Itoa(b2i(v.Master.Up)),
		"master_repl_offset:" + strconv.FormatInt(v.Master.Offset, 10),
		"connected_replicas:" + strconv.Itoa(len(v.Replicas)),
	}
	for i, r := range v.Replicas {
		routable := 0
		if v.Eligibility != nil && i < len(v.Eligibility.Replicas) {
			routable = b2i(v.Eligibility.Routable(i))
		}
		lagBytes := int64(-1)
		if r.Health == router.Known {
			lagBytes = r.ByteLag
		}
		lines = append(lines, fmt.Sprintf("replica%d:addr=%s,health=%s,offset=%d,lag_bytes=%d,lag_ms=%s,routable=%d,weight=%d",
			i, r.Addr, strings.ReplaceAll(r.Health.String(), " ", "_"), r.Offset, lagBytes, lagMS(r), routable, r.Weight))
	}
	section("Topology", lines...)
	st := p.Counters()
	names := make([]string, 0, len(st.Reads))
	for a := range st.Reads {
		names = append(names, a)
	}
	sort.Strings(names)
	var rl []string
	for _, a := range names {
		rl = append(rl, fmt.Sprintf("reads:backend=%s,count=%d,errors=%d", a, st.Reads[a], st.Errors[a]))
	}
	rl = append(rl, "ryw_master_reads:"+strconv.FormatUint(st.RYWMasterReads, 10))
	section("Stats", rl...)
	return b.String()
}

func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// printable quotes b for an error line: at most 128 bytes, control bytes
// as '?'.
func printable(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	out := []byte(string(b))
	for i, ch := range out {
		if ch < ' ' || ch > '~' {
			out[i] = '?'
		}
	}
	return string(out)
}
