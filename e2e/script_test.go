package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// norm says how a reply is normalised before two servers' replies are
// compared. The rules are documented at the top of testdata/differential.txt.
type norm int

const (
	normExact     norm = iota // compare the raw bytes
	normSort                  // sort a top-level array's elements
	normSortPairs             // sort a flat key/value array by pairs
	normShape                 // compare type and structure only
	normScan                  // iterate a SCAN-family cursor, compare the sorted union
)

var normTags = map[string]norm{
	"@sort":      normSort,
	"@sortpairs": normSortPairs,
	"@shape":     normShape,
	"@scan":      normScan,
}

func (n norm) String() string {
	for tag, v := range normTags {
		if v == n {
			return tag
		}
	}
	return "exact"
}

// scriptLine is one command of a command list.
type scriptLine struct {
	num  int      // 1-based line number in the file
	text string   // the command as written, without its tag
	norm norm     // how to normalise its reply
	args [][]byte // the command's arguments, unquoted
}

// name returns the command name in lower case.
func (l scriptLine) name() string { return strings.ToLower(string(l.args[0])) }

// loadScript reads and parses a command list file.
func loadScript(path string) ([]scriptLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, err := parseScript(f)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	return lines, nil
}

// parseScript parses a command list: one command per line in redis-cli
// syntax, optionally preceded by one normalisation tag; blank lines and
// lines starting with # are skipped.
func parseScript(r io.Reader) ([]scriptLine, error) {
	var lines []scriptLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for num := 1; sc.Scan(); num++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		l := scriptLine{num: num, norm: normExact}
		if strings.HasPrefix(text, "@") {
			tag, rest, _ := strings.Cut(text, " ")
			n, ok := normTags[tag]
			if !ok {
				return nil, fmt.Errorf("%d: unknown tag %q", num, tag)
			}
			l.norm, text = n, strings.TrimSpace(rest)
		}
		args, err := splitArgs(text)
		if err != nil {
			return nil, fmt.Errorf("%d: %v", num, err)
		}
		if len(args) == 0 {
			return nil, fmt.Errorf("%d: tag without a command", num)
		}
		if l.norm == normScan && scanCursorIndex(strings.ToLower(string(args[0]))) < 0 {
			return nil, fmt.Errorf("%d: @scan on %s, which is not a SCAN-family command", num, args[0])
		}
		l.text, l.args = text, args
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return lines, nil
}

// splitArgs splits a line into arguments as redis-cli does: arguments are
// separated by white space; double quotes allow the escapes \xHH, \n, \r,
// \t, \b, \a, \" and \\ (any other escaped character stands for itself);
// single quotes allow only \'. A closing quote must end the argument.
func splitArgs(line string) ([][]byte, error) {
	var args [][]byte
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return args, nil
		}
		arg := []byte{} // non-nil: "" is an argument too
		for i < len(line) && !isSpace(line[i]) {
			switch line[i] {
			case '"':
				var err error
				if arg, i, err = doubleQuoted(line, i+1, arg); err != nil {
					return nil, err
				}
			case '\'':
				var err error
				if arg, i, err = singleQuoted(line, i+1, arg); err != nil {
					return nil, err
				}
			default:
				arg = append(arg, line[i])
				i++
			}
		}
		args = append(args, arg)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

var errUnbalancedQuotes = errors.New("unbalanced quotes")

// closeQuote checks what follows a closing quote at line[i-1].
func closeQuote(line string, i int) error {
	if i < len(line) && !isSpace(line[i]) {
		return errors.New("closing quote must be followed by a space")
	}
	return nil
}

// doubleQuoted appends the body of a double-quoted string starting at
// line[i] to arg and returns the index after the closing quote.
func doubleQuoted(line string, i int, arg []byte) ([]byte, int, error) {
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			return arg, i + 1, closeQuote(line, i+1)
		case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
			arg = append(arg, unhex(line[i+2])<<4|unhex(line[i+3]))
			i += 4
		case c == '\\' && i+1 < len(line):
			switch e := line[i+1]; e {
			case 'n':
				arg = append(arg, '\n')
			case 'r':
				arg = append(arg, '\r')
			case 't':
				arg = append(arg, '\t')
			case 'b':
				arg = append(arg, '\b')
			case 'a':
				arg = append(arg, '\a')
			default:
				arg = append(arg, e)
			}
			i += 2
		default:
			arg = append(arg, c)
			i++
		}
	}
	return nil, 0, errUnbalancedQuotes
}

// singleQuoted is doubleQuoted for single quotes.
func singleQuoted(line string, i int, arg []byte) ([]byte, int, error) {
	for i < len(line) {
		switch c := line[i]; {
		case c == '\'':
			return arg, i + 1, closeQuote(line, i+1)
		case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
			arg = append(arg, '\'')
			i += 2
		default:
			arg = append(arg, c)
			i++
		}
	}
	return nil, 0, errUnbalancedQuotes
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// scanCursorIndex returns the position of the cursor argument of a
// SCAN-family command, or -1 for other commands.
func scanCursorIndex(name string) int {
	switch name {
	case "scan":
		return 1
	case "hscan", "sscan", "zscan":
		return 2
	}
	return -1
}
