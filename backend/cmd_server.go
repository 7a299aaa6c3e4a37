package backend

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lagwise/lagwise/backend/aof"
	"github.com/lagwise/lagwise/backend/command"
)

// Server and administration commands: COMMAND, CONFIG, INFO, CLIENT, TIME,
// LASTSAVE, SHUTDOWN and DEBUG.
var serverCommands = []spec{
	{"command", cmdCommand},
	{"command|count", cmdCommandCount},
	{"command|info", cmdCommandInfo},
	{"command|docs", cmdCommandDocs},
	{"command|list", cmdCommandList},
	{"command|getkeys", cmdCommandGetKeys},
	{"command|help", cmdCommandHelp},
	{"config|get", cmdConfigGet},
	{"config|set", cmdConfigSet},
	{"config|resetstat", cmdConfigResetStat},
	{"config|rewrite", cmdConfigRewrite},
	{"config|help", cmdConfigHelp},
	{"info", cmdInfo},
	{"time", cmdTime},
	{"lastsave", cmdLastSave},
	{"save", cmdSave},
	{"bgsave", cmdBgsave},
	{"bgrewriteaof", cmdBgrewriteaof},
	{"sync", cmdSync},
	{"psync", cmdPsync},
	{"replconf", cmdReplconf},
	{"wait", cmdWait},
	{"role", cmdRole},
	{"replicaof", cmdReplicaof},
	{"slaveof", cmdReplicaof},
	{"shutdown", cmdShutdown},
	{"debug", cmdDebug},
	{"client|id", cmdClientID},
	{"client|info", cmdClientInfo},
	{"client|list", cmdClientList},
	{"client|setname", cmdClientSetName},
	{"client|getname", cmdClientGetName},
	{"client|setinfo", cmdClientSetInfo},
	{"client|kill", cmdClientKill},
	{"client|unblock", cmdClientUnblock},
	{"client|no-evict", cmdClientNoEvict},
	{"client|help", cmdClientHelp},
}

// adminState is the server-wide state of the administration commands.
// Like everything the commands touch, it is used under the executor lock.
type adminState struct {
	activeExpireOff bool // DEBUG SET-ACTIVE-EXPIRE 0
	replID          string
	peakMemory      int64
	startupMemory   int64
	metrics         [numMetrics]instMetric
}

// admin returns the server's admin state.
func (s *Server) admin() *adminState { return &s.adminSt }

// newAdminState is the admin state of a server starting now.
func newAdminState(start time.Time) adminState {
	a := adminState{
		replID:        randomHex(40),
		startupMemory: heapBytes(),
	}
	for i := range a.metrics {
		a.metrics[i].lastTime = start.UnixMilli()
	}
	return a
}

// activeExpireEnabled reports whether the cron may expire keys actively
// (DEBUG SET-ACTIVE-EXPIRE turns it off for tests).
func (s *Server) activeExpireEnabled() bool { return !s.admin().activeExpireOff }

// ---------------------------------------------------------------- COMMAND

// implementedTop returns the table entries of the top-level commands the
// server executes, sorted by name.
func (s *Server) implementedTop() []*command.Command {
	out := make([]*command.Command, 0, len(s.cmds))
	for name, e := range s.cmds {
		if s.Implemented(name) {
			out = append(out, e.meta)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// lookupMeta finds an implemented command or subcommand ("config|get") by
// name, in any case.
func (s *Server) lookupMeta(name string) *command.Command {
	name = strings.ToLower(name)
	if !s.Implemented(name) {
		return nil
	}
	top, sub, isSub := strings.Cut(name, "|")
	e := s.cmds[top]
	if !isSub {
		return e.meta
	}
	return e.subs[sub].meta
}

func cmdCommand(c *Client) {
	if len(c.argv) > 1 {
		c.errorf(msgUnknownSub, sanitize(string(c.argv[1])), "COMMAND")
		return
	}
	cmds := c.srv.implementedTop()
	c.array(len(cmds))
	for _, m := range cmds {
		c.raw(m.Info)
	}
}

func cmdCommandCount(c *Client) { c.integer(int64(len(c.srv.implementedTop()))) }

func cmdCommandInfo(c *Client) {
	s := c.srv
	if len(c.argv) == 2 {
		cmds := s.implementedTop()
		c.array(len(cmds))
		for _, m := range cmds {
			c.raw(m.Info)
		}
		return
	}
	c.array(len(c.argv) - 2)
	for _, a := range c.argv[2:] {
		if m := s.lookupMeta(string(a)); m != nil {
			c.raw(m.Info)
		} else {
			c.null()
		}
	}
}

func cmdCommandDocs(c *Client) {
	s := c.srv
	var found []*command.Command
	if len(c.argv) == 2 {
		found = s.implementedTop()
	} else {
		for _, a := range c.argv[2:] {
			if m := s.lookupMeta(string(a)); m != nil {
				found = append(found, m)
			}
		}
	}
	c.array(2 * len(found))
	for _, m := range found {
		c.bulkStr(m.Name)
		c.raw(m.Docs)
	}
}

// aclCategories are Redis 7.0's ACL categories, for COMMAND LIST FILTERBY
// ACLCAT.
var aclCategories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting"}

func cmdCommandList(c *Client) {
	s := c.srv
	var filter func(m *command.Command) bool
	for i := 2; i < len(c.argv); i += 3 {
		if !eq(c.argv[i], "filterby") || len(c.argv)-1-i != 2 {
			c.syntaxErr()
			return
		}
		arg := string(c.argv[i+2])
		switch typ := c.argv[i+1]; {
		case eq(typ, "module"):
			filter = func(*command.Command) bool { return false }
		case eq(typ, "aclcat"):
			cat := strings.ToLower(arg)
			valid := false
			for _, x := range aclCategories {
				valid = valid || x == cat
			}
			filter = func(m *command.Command) bool {
				if !valid {
					return false
				}
				for _, x := range m.ACLCategories {
					if x == cat {
						return true
					}
				}
				return false
			}
		case eq(typ, "pattern"):
			filter = func(m *command.Command) bool { return globMatch(arg, m.Name, true) }
		default:
			c.syntaxErr()
			return
		}
	}
	var names []string
	for _, m := range s.implementedTop() {
		if filter == nil || filter(m) {
			names = append(names, m.Name)
		}
		e := s.cmds[m.Name]
		subs := make([]string, 0, len(e.subs))
		for sub, se := range e.subs {
			if filter == nil || filter(se.meta) {
				subs = append(subs, m.Name+"|"+sub)
			}
		}
		sort.Strings(subs)
		names = append(names, subs...)
	}
	c.strs(names)
}

func cmdCommandGetKeys(c *Client) {
	s := c.srv
	args := c.argv[2:]
	m := s.lookupMeta(string(args[0]))
	if m != nil && len(m.Subcommands) > 0 && len(args) > 1 {
		m = s.lookupMeta(m.Name + "|" + string(args[1]))
	}
	if m == nil {
		c.errorReply("ERR Invalid command specified")
		return
	}
	if m.FirstKey <= 0 && !m.Has(command.MovableKeys) {
		c.errorReply("ERR The command has no key arguments")
		return
	}
	if !m.CheckArity(len(args)) {
		c.errorReply("ERR Invalid number of arguments specified for command")
		return
	}
	pos, ok := commandKeys(m, args)
	if !ok || len(pos) == 0 && !m.Has(command.NoMandatoryKeys) {
		c.errorReply("ERR Invalid arguments specified for command")
		return
	}
	c.array(len(pos))
	for _, p := range pos {
		c.bulk(args[p])
	}
}

// commandKeys returns the positions of the key arguments of a request
// (args[0] is the command name), as COMMAND GETKEYS reports them.
func commandKeys(m *command.Command, args [][]byte) ([]int, bool) {
	numkeys := func(at, first int) ([]int, bool) {
		if at >= len(args) {
			return nil, false
		}
		n, ok := parseIntArg(args[at])
		if !ok || n < 0 || int64(first)+n > int64(len(args)) {
			return nil, false
		}
		var pos []int
		for i := 0; i < int(n); i++ {
			pos = append(pos, first+i)
		}
		return pos, true
	}
	switch m.Name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "blmpop", "bzmpop":
		return numkeys(2, 3)
	case "zdiff", "zinter", "zunion", "zintercard", "sintercard", "lmpop", "zmpop":
		return numkeys(1, 2)
	case "zdiffstore", "zinterstore", "zunionstore":
		pos, ok := numkeys(2, 3)
		return append([]int{1}, pos...), ok
	case "sort", "sort_ro":
		pos := []int{1}
		for i := 2; i < len(args); i++ {
			switch {
			case eq(args[i], "limit"):
				i += 2
			case eq(args[i], "get"), eq(args[i], "by"):
				i++
			case eq(args[i], "store") && m.Name == "sort" && i+1 < len(args):
				pos = append(pos, i+1)
				i++
			}
		}
		return pos, true
	case "georadius", "georadiusbymember":
		pos := []int{1}
		for i := 5; i < len(args)-1; i++ {
			if eq(args[i], "store") || eq(args[i], "storedist") {
				pos = append(pos, i+1)
				i++
			}
		}
		return pos, true
	case "xread", "xreadgroup":
		for i := 1; i < len(args); i++ {
			if eq(args[i], "streams") {
				rest := len(args) - i - 1
				if rest == 0 || rest%2 != 0 {
					return nil, false
				}
				var pos []int
				for j := 0; j < rest/2; j++ {
					pos = append(pos, i+1+j)
				}
				return pos, true
			}
		}
		return nil, false
	case "migrate":
		if len(args[3]) > 0 {
			return []int{3}, true
		}
		for i := 6; i < len(args); i++ {
			if eq(args[i], "keys") {
				var pos []int
				for j := i + 1; j < len(args); j++ {
					pos = append(pos, j)
				}
				return pos, true
			}
		}
		return nil, true
	}
	first, last, step := m.Keys(len(args))
	if first == 0 {
		return nil, true
	}
	var pos []int
	for i := first; i <= last; i += step {
		pos = append(pos, i)
	}
	return pos, true
}

func cmdCommandHelp(c *Client) {
	c.adminHelp("COMMAND", []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

// ---------------------------------------------------------------- CONFIG

// allDirectiveNames lists every name CONFIG knows, aliases included, sorted.
func allDirectiveNames() []string {
	names := make([]string, 0, len(directives()))
	for n := range directives() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func cmdConfigGet(c *Client) {
	cfg := c.srv.cfg
	table := directives()
	var names []string
	seen := map[string]bool{}
	add := func(name string) {
		if low := strings.ToLower(name); !seen[low] {
			seen[low] = true
			names = append(names, name)
		}
	}
	for _, a := range c.argv[2:] {
		pat := string(a)
		if !strings.ContainsAny(pat, "[*?") {
			if _, ok := table[strings.ToLower(pat)]; ok {
				add(pat)
			}
			continue
		}
		for _, n := range allDirectiveNames() {
			if globMatch(pat, n, true) {
				add(n)
			}
		}
	}
	c.array(2 * len(names))
	for _, n := range names {
		v, _ := cfg.Get(n)
		c.bulkStr(n)
		c.bulkStr(v)
	}
}

// protectedDirectives may be changed at run time only when
// enable-protected-configs allows it, as in Redis 7.0.
var protectedDirectives = map[string]bool{"dir": true, "dbfilename": true}

// allowProtected applies an enable-* option (yes, no, local) to c.
func (c *Client) allowProtected(mode string) bool {
	switch mode {
	case "yes":
		return true
	case "local":
		return isLoopback(c.conn.RemoteAddr())
	}
	return false
}

func cmdConfigSet(c *Client) {
	s := c.srv
	if len(c.argv)%2 != 0 {
		c.syntaxErr()
		return
	}
	table := directives()
	type change struct {
		name string // lower case, as Redis names it in errors
		d    *directive
		val  string
	}
	var changes []change
	var unknown, errArg, errStr string
	failed := false
	for i := 2; i < len(c.argv); i += 2 {
		arg := string(c.argv[i])
		name := strings.ToLower(arg)
		d, ok := table[name]
		if !ok {
			if !failed {
				unknown = arg
				failed = true
			}
			continue
		}
		if failed {
			continue
		}
		if !d.mutable {
			errStr, errArg, failed = "can't set immutable config", arg, true
			continue
		}
		if protectedDirectives[d.name] {
			mode, _ := s.cfg.Get("enable-protected-configs")
			if !c.allowProtected(mode) {
				errStr, errArg, failed = "can't set protected config", arg, true
				continue
			}
		}
		for _, ch := range changes {
			if ch.name == name {
				errStr, errArg, failed = "duplicate parameter", arg, true
			}
		}
		changes = append(changes, change{name, d, string(c.argv[i+1])})
	}
	if !failed {
		old := make([]string, len(changes))
		for i, ch := range changes {
			old[i] = ch.d.get(s.cfg)
		}
		for i, ch := range changes {
			if err := ch.d.set(s.cfg, ch.val); err != nil {
				// All or nothing: put back what was already set (a
				// failed set changes nothing).
				for j := i - 1; j >= 0; j-- {
					changes[j].d.set(s.cfg, old[j])
				}
				errStr, errArg, failed = err.Error(), ch.name, true
				break
			}
		}
		if !failed {
			for i, ch := range changes {
				if err := s.applyConfig(ch.d.name); err != nil {
					ch.d.set(s.cfg, old[i])
					errStr, errArg, failed = err.Error(), ch.name, true
					break
				}
			}
		}
		if !failed {
			c.ok()
			return
		}
	}
	switch {
	case unknown != "":
		c.errorf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", sanitize(unknown))
	case errStr != "":
		c.errorf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", sanitize(errArg), errStr)
	default:
		c.errorf("ERR CONFIG SET failed (possibly related to argument '%s')", sanitize(errArg))
	}
}

// applyConfig puts a changed directive into effect where the server does not
// read it afresh on every use.
func (s *Server) applyConfig(name string) error {
	switch name {
	case "appendonly":
		if !s.cfg.AppendOnly {
			s.stopAppendOnly()
		} else if err := s.startAppendOnly(); err != nil {
			return errors.New("Unable to turn on AOF. Check server logs.")
		}
	case "appendfsync":
		if s.aof.f != nil {
			f, _ := aof.ParseFsync(s.cfg.AppendFsync)
			s.aof.f.SetFsync(f)
		}
	case "maxmemory":
		tuneGC(s.cfg)
		if s.cfg.MaxMemory > 0 {
			s.performEvictions()
		}
	}
	return nil
}

func cmdConfigResetStat(c *Client) {
	s := c.srv
	st := &s.stats
	st.connectionsReceived = 0
	st.commandsProcessed = 0
	st.rejectedConns = 0
	st.expiredKeys = 0
	st.evictedKeys = 0
	st.keyspaceHits = 0
	st.keyspaceMisses = 0
	st.netInput.Store(0)
	st.netOutput.Store(0)
	st.totalErrorReplies = 0
	st.errorCounts = map[string]int64{}
	for _, e := range s.cmds {
		e.calls, e.usec, e.reject, e.failed = 0, 0, 0, 0
		for _, se := range e.subs {
			se.calls, se.usec, se.reject, se.failed = 0, 0, 0, 0
		}
	}
	a := s.admin()
	a.peakMemory = 0
	now := time.Now().UnixMilli()
	for i := range a.metrics {
		a.metrics[i] = instMetric{lastTime: now}
	}
	a.metrics[metricNetInput].lastCount = 0
	c.ok()
}

func cmdConfigRewrite(c *Client) {
	s := c.srv
	if s.configFile == "" || s.configFile == "-" {
		c.errorReply("ERR The server is running without a config file")
		return
	}
	if err := s.rewriteConfig(s.configFile); err != nil {
		s.logf("CONFIG REWRITE failed: %v", err)
		c.errorf("ERR Rewriting config file: %s", err)
		return
	}
	s.logf("CONFIG REWRITE executed with success.")
	c.ok()
}

const configRewriteSignature = "# Generated by CONFIG REWRITE"

// memoryDirectives are written back with Redis's gb/mb/kb notation.
var memoryDirectives = map[string]bool{
	"maxmemory": true, "proto-max-bulk-len": true, "client-query-buffer-limit": true,
	"repl-backlog-size": true, "auto-aof-rewrite-min-size": true, "stream-node-max-bytes": true,
	"hll-sparse-max-bytes": true,
}

// stringDirectives are written back quoted, as Redis writes string options.
var stringDirectives = map[string]bool{
	"dir": true, "dbfilename": true, "logfile": true, "pidfile": true, "requirepass": true,
	"appendfilename": true, "appenddirname": true, "unixsocket": true, "masterauth": true,
	"masteruser": true, "replica-announce-ip": true, "notify-keyspace-events": true,
}

// formatMemoryConf writes a byte count as redis.conf would: 1gb, 10mb, 4kb.
func formatMemoryConf(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return v
	}
	switch {
	case n%(1<<30) == 0:
		return strconv.FormatInt(n/(1<<30), 10) + "gb"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n/(1<<20), 10) + "mb"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n/(1<<10), 10) + "kb"
	}
	return v
}

// quoteConf quotes a string as Redis's sdscatrepr does.
func quoteConf(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if ch < ' ' || ch > '~' {
				fmt.Fprintf(&b, `\x%02x`, ch)
			} else {
				b.WriteByte(ch)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// confLines returns the lines that state directive d's current value and
// whether they must be written even where the file does not mention it.
func confLines(cfg *Config, d *directive) ([]string, []bool) {
	val := d.get(cfg)
	def := d.def
	switch d.name {
	case "save":
		f := strings.Fields(val)
		if len(f) == 0 {
			return []string{`save ""`}, []bool{true}
		}
		var lines []string
		var force []bool
		for i := 0; i+1 < len(f); i += 2 {
			lines = append(lines, "save "+f[i]+" "+f[i+1])
			force = append(force, true)
		}
		return lines, force
	case "client-output-buffer-limit":
		defCfg := &Config{}
		parseOutputLimits(defCfg, def)
		names := []string{"normal", "replica", "pubsub"}
		var lines []string
		var force []bool
		for i, l := range cfg.OutputLimits {
			lines = append(lines, fmt.Sprintf("client-output-buffer-limit %s %s %s %d", names[i],
				formatMemoryConf(strconv.FormatInt(l.hard, 10)), formatMemoryConf(strconv.FormatInt(l.soft, 10)), l.softSecs))
			force = append(force, l != defCfg.OutputLimits[i])
		}
		return lines, force
	case "dir":
		return []string{"dir " + quoteConf(val)}, []bool{true}
	}
	force := val != def
	switch {
	case memoryDirectives[d.name]:
		val = formatMemoryConf(val)
	case stringDirectives[d.name]:
		val = quoteConf(val)
	case val == "":
		val = `""`
	}
	return []string{d.name + " " + val}, []bool{force}
}

// rewriteConfig rewrites the config file as Redis's CONFIG REWRITE does:
// comments, blank lines and lines it does not manage stay where they are; a
// directive's first line takes its current value, further lines for it go;
// directives that differ from their defaults and were not in the file are
// appended after a signature comment.
func (s *Server) rewriteConfig(path string) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	table := directives()
	var lines []string
	where := map[string][]int{} // directive -> its line numbers
	needSig := true
	if len(data) > 0 {
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.Trim(line, "\r\n\t ")
			if line == "" || line[0] == '#' {
				if line == configRewriteSignature {
					needSig = false
				}
				lines = append(lines, line)
				continue
			}
			name := strings.ToLower(strings.Fields(line)[0])
			lines = append(lines, line)
			if d, ok := table[name]; ok {
				where[d.name] = append(where[d.name], len(lines)-1)
			}
		}
	}
	for _, name := range directiveNamesSorted() {
		d := table[name]
		newLines, force := confLines(s.cfg, d)
		for i, nl := range newLines {
			if l := where[name]; len(l) > 0 {
				lines[l[0]] = nl
				where[name] = l[1:]
				continue
			}
			if !force[i] {
				continue
			}
			if needSig {
				lines = append(lines, configRewriteSignature)
				needSig = false
			}
			lines = append(lines, nl)
		}
		// Lines left over for a directive that was rewritten go.
		for _, n := range where[name] {
			lines[n] = ""
		}
		delete(where, name)
	}
	var b strings.Builder
	wasEmpty := false
	for _, l := range lines {
		if l == "" {
			if wasEmpty {
				continue
			}
			wasEmpty = true
		} else {
			wasEmpty = false
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixMilli())
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	f.Close()
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func cmdConfigHelp(c *Client) {
	c.adminHelp("CONFIG", []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}

// ---------------------------------------------------------------- TIME, LASTSAVE, SHUTDOWN

func cmdTime(c *Client) {
	now := time.Now().UnixMicro()
	c.array(2)
	c.bulkInt(now / 1e6)
	c.bulkInt(now % 1e6)
}

func cmdShutdown(c *Client) {
	s := c.srv
	var nosave, save, now, force, abort bool
	for _, a := range c.argv[1:] {
		switch {
		case eq(a, "nosave"):
			nosave = true
		case eq(a, "save"):
			save = true
		case eq(a, "now"):
			now = true
		case eq(a, "force"):
			force = true
		case eq(a, "abort"):
			abort = true
		default:
			c.syntaxErr()
			return
		}
	}
	if abort && (nosave || save || now || force) || nosave && save {
		c.syntaxErr()
		return
	}
	if abort {
		c.errorReply("ERR No shutdown in progress.")
		return
	}
	if !now && c.inExec {
		c.errorReply("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client")
		return
	}
	s.logf("User requested shutdown...")
	if err := s.prepareForShutdown(nosave, save, force); err != nil {
		c.errorReply("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	s.logf("Redis is now ready to exit, bye bye...")
	// Redis exits here; until Shutdown runs, nothing else may execute, or
	// it would change the data or the stream after the final save.
	s.closing.Store(true)
	c.closeAfter = true
	// Shutdown takes the executor lock, which this command holds.
	go s.Shutdown()
}

// ---------------------------------------------------------------- DEBUG

const msgDebugNotAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."

func debugSubSyntaxErr(c *Client) {
	c.errorf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.",
		sanitize(string(c.argv[1])), strings.ToUpper(string(c.argv[0])))
}

func cmdDebug(c *Client) {
	s := c.srv
	if !c.allowProtected(s.cfg.EnableDebugCommand) {
		c.errorReply(msgDebugNotAllowed)
		return
	}
	argv := c.argv
	sub := argv[1]
	switch {
	case eq(sub, "help") && len(argv) == 2:
		c.adminHelp("DEBUG", debugHelp)
	case eq(sub, "digest") && len(argv) == 2:
		d := s.datasetDigest()
		c.simple(digestHex(d))
	case eq(sub, "digest-value"):
		c.array(len(argv) - 2)
		for _, k := range argv[2:] {
			var d [20]byte
			if o, ok := c.db.dict.Get(bstr(k)); ok {
				xorObjectDigest(&d, o, c.db.expireAt(bstr(k)) >= 0)
			}
			c.simple(digestHex(d))
		}
	case eq(sub, "sleep") && len(argv) == 3:
		secs := strtod(string(argv[2]))
		if us := secs * 1e6; us > 0 && !math.IsInf(us, 0) && us < math.MaxInt64 {
			time.Sleep(time.Duration(us) * time.Microsecond)
		}
		c.ok()
	case eq(sub, "set-active-expire") && len(argv) == 3:
		s.admin().activeExpireOff = atoi(string(argv[2])) == 0
		c.ok()
	case eq(sub, "object") && len(argv) == 3:
		o, ok := c.db.dict.Get(bstr(argv[2]))
		if !ok {
			c.errorReply(msgNoSuchKey)
			return
		}
		c.simple(debugObject(s, o))
	case eq(sub, "error") && len(argv) == 3:
		c.errorReply(string(argv[2]))
	case eq(sub, "log") && len(argv) == 3:
		s.logf("DEBUG LOG: %s", argv[2])
		c.ok()
	case eq(sub, "change-repl-id") && len(argv) == 2:
		s.admin().replID = randomHex(40)
		c.ok()
	case eq(sub, "populate") && len(argv) >= 3 && len(argv) <= 5:
		debugPopulate(c)
	default:
		debugSubSyntaxErr(c)
	}
}

// debugPopulate is DEBUG POPULATE count [prefix] [size].
func debugPopulate(c *Client) {
	argv := c.argv
	positive := func(b []byte) (int64, bool) {
		n, ok := parseIntArg(b)
		if !ok || n < 0 {
			c.errorReply(msgNotPositive)
			return 0, false
		}
		return n, true
	}
	n, ok := positive(argv[2])
	if !ok {
		return
	}
	var size int64
	if len(argv) == 5 {
		if size, ok = positive(argv[4]); !ok {
			return
		}
	}
	prefix := "key"
	if len(argv) >= 4 {
		prefix = string(argv[3])
	}
	for j := int64(0); j < n; j++ {
		key := []byte(prefix + ":" + strconv.FormatInt(j, 10))
		if _, exists := c.lookupWrite(key); exists {
			continue
		}
		val := "value:" + strconv.FormatInt(j, 10)
		if size > 0 {
			b := make([]byte, size)
			copy(b, val)
			val = string(b)
		}
		c.addKey(key, StrObj(val))
	}
	c.ok()
}

// strtod parses the longest prefix of s that is a number, as C's strtod
// does; 0 when there is none.
func strtod(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	for end := len(s); end > 0; end-- {
		if f, err := strconv.ParseFloat(s[:end], 64); err == nil || isRangeErr(err) {
			if strings.ContainsRune(s[:end], '_') {
				continue
			}
			return f
		}
	}
	return 0
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// atoi parses the leading integer of s as C's atoi does.
func atoi(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.ParseInt(s[:end], 10, 64)
	return n
}

// debugObject is the status line of DEBUG OBJECT. The numbers are of this
// server's representation, in Redis's format.
func debugObject(s *Server, o Obj) string {
	enc := objEncodingName(o)
	refcount := 1
	if enc == "int" {
		if n, _ := strconv.ParseInt(o.Str(), 10, 64); n >= 0 && n < 10000 {
			refcount = math.MaxInt32 // Redis's shared integers
		}
	}
	idle := int64(s.lruClockNow()) - int64(o.LRU())
	if idle < 0 {
		idle += lruMax
	}
	extra := ""
	serLen := serializedLen(o)
	if o.Type() == TypeList {
		nodes, size := quicklistModel(o.List(), s.cfg.ListMaxListpackSize)
		n := o.List().Len()
		extra = fmt.Sprintf(" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:0 ql_uncompressed_size:%d",
			len(nodes), float64(n)/float64(max(len(nodes), 1)), s.cfg.ListMaxListpackSize, size)
		// RDB: the node count, then each node as a container byte and a
		// listpack blob (uncompressed here).
		serLen = rdbLenSize(int64(len(nodes)))
		for _, lp := range nodes {
			serLen += 1 + rdbLenSize(lp) + lp
		}
	}
	return fmt.Sprintf("Value at:%p refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d%s",
		o.p, refcount, enc, serLen, o.LRU(), idle, extra)
}

// lruClockNow is the LRU clock from the wall clock (outside of commands too).
func (s *Server) lruClockNow() uint32 { return uint32(time.Now().Unix()) & lruMax }

// objEncodingName is what OBJECT ENCODING answers on Redis 7.0 for o.
func objEncodingName(o Obj) string {
	switch o.Type() {
	case TypeList:
		return o.List().Encoding()
	case TypeSet:
		return o.Set().Encoding()
	case TypeZSet:
		return o.ZSet().Encoding()
	case TypeHash:
		return o.Hash().Encoding()
	}
	str := o.Str()
	if len(str) <= 20 {
		if n, ok := parseIntArg([]byte(str)); ok && strconv.FormatInt(n, 10) == str {
			return "int"
		}
	}
	if o.isStrBuf() || len(str) > 44 {
		return "raw"
	}
	return "embstr"
}

// serializedLen estimates the RDB length of a value (DEBUG OBJECT's
// serializedlength) from Redis's encoding rules, without compression.
func serializedLen(o Obj) int64 {
	strLen := func(n int) int64 {
		switch {
		case n < 1<<6:
			return 1 + int64(n)
		case n < 1<<14:
			return 2 + int64(n)
		case n <= math.MaxUint32:
			return 5 + int64(n)
		}
		return 9 + int64(n)
	}
	if o.Type() == TypeString {
		s := o.Str()
		if objEncodingName(o) == "int" {
			n, _ := strconv.ParseInt(s, 10, 64)
			switch {
			case n >= math.MinInt8 && n <= math.MaxInt8:
				return 2
			case n >= math.MinInt16 && n <= math.MaxInt16:
				return 3
			case n >= math.MinInt32 && n <= math.MaxInt32:
				return 5
			}
		}
		return strLen(len(s))
	}
	var total int64
	add := func(s string) bool { total += strLen(len(s)); return true }
	switch o.Type() {
	case TypeList:
		o.List().Each(add)
	case TypeSet:
		o.Set().Each(add)
	case TypeHash:
		o.Hash().Each(func(f, v string) bool { add(f); add(v); return true })
	case TypeZSet:
		o.ZSet().Each(func(m string, _ float64) bool { add(m); total += 8; return true })
	}
	return total + 1
}

// rdbLenSize is the size of an RDB length prefix.
func rdbLenSize(n int64) int64 {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case n <= math.MaxUint32:
		return 5
	}
	return 9
}

// listpackEntrySize is the bytes an element takes in a listpack: encoding,
// data and back-length, as Redis's listpack encodes it.
func listpackEntrySize(e string) int64 {
	var l int64
	if n, ok := parseIntArg([]byte(e)); ok && len(e) <= 20 {
		switch {
		case n >= 0 && n <= 127:
			l = 1
		case n >= -4096 && n <= 4095:
			l = 2
		case n >= math.MinInt16 && n <= math.MaxInt16:
			l = 3
		case n >= -1<<23 && n < 1<<23:
			l = 4
		case n >= math.MinInt32 && n <= math.MaxInt32:
			l = 5
		default:
			l = 9
		}
	} else {
		switch n := int64(len(e)); {
		case n < 64:
			l = 1 + n
		case n < 4096:
			l = 2 + n
		default:
			l = 5 + n
		}
	}
	switch {
	case l <= 127:
		return l + 1
	case l < 16383:
		return l + 2
	case l < 2097151:
		return l + 3
	case l < 268435455:
		return l + 4
	}
	return l + 5
}

// quicklistModel splits a list into quicklist nodes as Redis 7.0 fills
// them (fill > 0: at most fill elements a node; fill < 0: at most 4kb,
// 8kb ... 64kb a node) and returns each node's listpack size and the total.
func quicklistModel(l *List, fill int) ([]int64, int64) {
	const header, end = 6, 1
	limit := int64(-1)
	if fill < 0 {
		limit = 4096 << min(-fill-1, 4)
	}
	var nodes []int64
	var cur, count, total int64
	l.Each(func(e string) bool {
		sz := listpackEntrySize(e)
		full := count > 0 && (fill > 0 && count >= int64(fill) || limit > 0 && cur+sz+header+end > limit)
		if full {
			nodes = append(nodes, cur+header+end)
			cur, count = 0, 0
		}
		cur += sz
		count++
		return true
	})
	if count > 0 || len(nodes) == 0 {
		nodes = append(nodes, cur+header+end)
	}
	for _, n := range nodes {
		total += n
	}
	return nodes, total
}

var debugHelp = []string{
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"CHANGE-REPL-ID",
	"    Change the replication IDs of the instance.",
	"    Dangerous: should be used only for testing the replication subsystem.",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix. These are not propagated to",
	"    replicas. Cluster slots are not respected so keys not belonging to the",
	"    current node can be created in cluster mode.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
}

// adminHelp answers a HELP subcommand as Redis 7.0's addReplyHelp does.
func (c *Client) adminHelp(cmd string, lines []string) {
	c.array(len(lines) + 3)
	c.simple(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.simple(l)
	}
	c.simple("HELP")
	c.simple("    Prints this help.")
}
