package command

import (
	"strconv"
	"strings"
)

// Commands that lagwise serves beyond the Redis 7.0 table, merged in at
// init with the COMMAND INFO and COMMAND DOCS shape of the Redis version
// that introduced them.

func init() {
	addSubcommand("client", &Command{
		Name:          "client|setinfo",
		Arity:         4,
		Flags:         flags("noscript", "loading", "stale"),
		ACLCategories: []string{"slow", "connection"},
		Info: "*10\r\n$14\r\nclient|setinfo\r\n:4\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n" +
			":0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n",
		Docs: "*10\r\n" +
			"$7\r\nsummary\r\n$54\r\nSets information specific to the client or connection.\r\n" +
			"$5\r\nsince\r\n$5\r\n7.2.0\r\n" +
			"$5\r\ngroup\r\n$10\r\nconnection\r\n" +
			"$10\r\ncomplexity\r\n$4\r\nO(1)\r\n" +
			"$9\r\narguments\r\n*1\r\n" +
			"*6\r\n$4\r\nname\r\n$4\r\nattr\r\n$4\r\ntype\r\n$5\r\noneof\r\n$9\r\narguments\r\n*2\r\n" +
			"*6\r\n$4\r\nname\r\n$7\r\nlibname\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$8\r\nlib-name\r\n" +
			"*6\r\n$4\r\nname\r\n$6\r\nlibver\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$7\r\nlib-ver\r\n",
	})
}

// addSubcommand adds sub to the container named parent, and lists it in the
// container's COMMAND INFO and COMMAND DOCS replies as Redis does for its
// own subcommands.
func addSubcommand(parent string, sub *Command) {
	p := table[parent]
	if p == nil {
		panic("no container command " + parent)
	}
	_, short, _ := strings.Cut(sub.Name, "|")
	if p.Subcommands == nil {
		p.Subcommands = map[string]*Command{}
	}
	if _, dup := p.Subcommands[short]; dup {
		return
	}
	p.Subcommands[short] = sub
	// COMMAND INFO: the subcommands array is the last of the ten fields.
	p.Info = growLastArray(p.Info, 1, sub.Info)
	// COMMAND DOCS: a flat map whose last value is the subcommands map.
	p.Docs = growLastArray(p.Docs, 2, "$"+strconv.Itoa(len(sub.Name))+"\r\n"+sub.Name+"\r\n"+sub.Docs)
}

// growLastArray takes a RESP2 array whose last element is an array, adds n
// to that inner array's length and appends add (n encoded elements) to it.
func growLastArray(s string, n int, add string) string {
	outerLen, pos := header(s, 0, '*')
	for i := 0; i < outerLen-1; i++ {
		pos = skip(s, pos)
	}
	innerLen, body := header(s, pos, '*')
	return s[:pos] + "*" + strconv.Itoa(innerLen+n) + "\r\n" + s[body:] + add
}

// header parses the "<kind><n>\r\n" at pos and returns n and the position
// after it.
func header(s string, pos int, kind byte) (int, int) {
	if s[pos] != kind {
		panic("unexpected RESP type in command table")
	}
	end := pos + strings.Index(s[pos:], "\r\n")
	n, err := strconv.Atoi(s[pos+1 : end])
	if err != nil {
		panic("bad RESP length in command table")
	}
	return n, end + 2
}

// skip returns the position after the RESP2 element at pos.
func skip(s string, pos int) int {
	end := pos + strings.Index(s[pos:], "\r\n")
	switch s[pos] {
	case '+', '-', ':':
		return end + 2
	case '$':
		n, _ := strconv.Atoi(s[pos+1 : end])
		if n < 0 {
			return end + 2
		}
		return end + 2 + n + 2
	case '*':
		n, _ := strconv.Atoi(s[pos+1 : end])
		pos = end + 2
		for i := 0; i < n; i++ {
			pos = skip(s, pos)
		}
		return pos
	}
	panic("unexpected RESP type in command table")
}
