package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lagwise/lagwise/backend/resp"
)

// ConfigError is a bad line of a config file or command line, reported the
// way redis-server reports it.
type ConfigError struct {
	File string // "" for the command line
	Line int
	Text string
	Msg  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\nReading the configuration file, at line %d\n>>> '%s'\n%s",
		redisCompatVersion, e.Line, e.Text, e.Msg)
}

// LoadConfig builds a config the way redis-server does from its arguments:
// an optional file first, then "--directive value ..." pairs, which are
// applied after the file, as if appended to it.
func LoadConfig(args []string) (*Config, string, error) {
	cfg := DefaultConfig()
	var file string
	var text strings.Builder
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		file = args[0]
		args = args[1:]
		var data []byte
		var err error
		if file == "-" {
			data, err = readAllStdin()
		} else {
			data, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, "", fmt.Errorf("Fatal error, can't open config file '%s': %v", file, err)
		}
		if err := applyConfigText(cfg, string(data), file, 0); err != nil {
			return nil, "", err
		}
	}
	// Command line options: each "--name" starts a new line, the words up
	// to the next "--name" are its arguments.
	for i, a := range args {
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			if text.Len() > 0 {
				text.WriteByte('\n')
			}
			text.WriteString(a[2:])
			continue
		}
		if i == 0 {
			return nil, "", fmt.Errorf("Invalid argument '%s'", a)
		}
		text.WriteByte(' ')
		text.WriteString(quoteConfigArg(a))
	}
	if err := applyConfigText(cfg, text.String(), "", 0); err != nil {
		return nil, "", err
	}
	if file != "" && file != "-" {
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
	}
	return cfg, file, nil
}

func readAllStdin() ([]byte, error) { return os.ReadFile("/dev/stdin") }

// quoteConfigArg quotes a command-line value so the line splitter sees one
// argument (an empty string stays an argument: --save "").
func quoteConfigArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"'\\\r\n") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		switch c := a[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// applyConfigText applies redis.conf text. depth bounds include nesting.
func applyConfigText(cfg *Config, text, file string, depth int) error {
	saveSeen := false
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		argv, ok := resp.SplitArgs([]byte(line), nil)
		bad := func(msg string) error {
			return &ConfigError{File: file, Line: i + 1, Text: line, Msg: msg}
		}
		if !ok {
			return bad("Unbalanced quotes in configuration line")
		}
		if len(argv) == 0 {
			continue
		}
		name := strings.ToLower(string(argv[0]))
		vals := make([]string, len(argv)-1)
		for j, a := range argv[1:] {
			vals[j] = string(a)
		}
		switch name {
		case "include":
			if len(vals) != 1 {
				return bad("Bad directive or wrong number of arguments")
			}
			if depth > 10 {
				return bad("include nesting too deep")
			}
			data, err := os.ReadFile(vals[0])
			if err != nil {
				return bad(fmt.Sprintf("Fatal error, can't open config file '%s': %v", vals[0], err))
			}
			if err := applyConfigText(cfg, string(data), vals[0], depth+1); err != nil {
				return err
			}
			continue
		case "save":
			// Each "save" line adds a schedule; the first replaces the
			// default; save "" clears it.
			v := strings.Join(vals, " ")
			if saveSeen && v != "" {
				v = cfg.Save + " " + v
			}
			saveSeen = true
			if err := cfg.Set(name, strings.TrimSpace(v)); err != nil {
				return bad(err.Error())
			}
			continue
		}
		d, known := directives()[name]
		if !known {
			return bad("Bad directive or wrong number of arguments")
		}
		if len(vals) == 0 {
			return bad("wrong number of arguments")
		}
		var v string
		if d.name == "bind" || d.name == "client-output-buffer-limit" || d.name == "replicaof" {
			v = strings.Join(vals, " ")
		} else if len(vals) != 1 {
			return bad("wrong number of arguments")
		} else {
			v = vals[0]
		}
		if err := d.set(cfg, v); err != nil {
			return bad(err.Error())
		}
	}
	return nil
}
