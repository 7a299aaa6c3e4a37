package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem of a config: where it is and what it is.
type Error struct {
	// File is the config's path; "" when parsed from bytes.
	File string
	// Line is the line in the file; 0 when the key is not in it (a
	// default, or a missing key).
	Line int
	// Key is the key path: "routing.max_lag", "replicas[1].addr"; "" for
	// the file as a whole.
	Key string
	// Msg says what is wrong.
	Msg string
}

// Error reads "config.yaml:12: routing.max_lag: must be more than 0".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns the *Error values inside err (as Parse and Validate
// return them, joined), in order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return out
}

// decoder turns the YAML node tree into a Config, strictly: unknown keys,
// repeated keys and values of the wrong type are errors that name the key
// path and the line; it goes on past each to report them all.
//
// It walks the tree itself rather than calling yaml's Decode with
// KnownFields, which stops at the first type error of a scalar it cannot
// convert and names neither the key path nor a close known key.
type decoder struct {
	file  string
	lines map[string]int
	errs  []error
}

func (d *decoder) fail(line int, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error { return errors.Join(d.errs...) }

// top decodes the document node into c.
func (d *decoder) top(doc *yaml.Node, c *Config) {
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, "", "the file must be a mapping of keys (listen:, master:, replicas:, ...), not %s", describeNode(n))
		return
	}
	d.value(n, reflect.ValueOf(c).Elem(), "")
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	sizeType     = reflect.TypeOf(Size(0))
	replicaType  = reflect.TypeOf(Replica{})
)

// value decodes n into v; key is v's key path. A null leaves v as it is:
// the key keeps its default.
func (d *decoder) value(n *yaml.Node, v reflect.Value, key string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	switch t := v.Type(); {
	case t == durationType:
		if !d.scalar(n, key, "a duration such as 500ms") {
			return
		}
		dur, err := parseDuration(n.Value)
		if err != nil {
			d.fail(n.Line, key, "%v", err)
			return
		}
		v.SetInt(int64(dur))
	case t == sizeType:
		if !d.scalar(n, key, "a size such as 64mb") {
			return
		}
		s, err := ParseSize(n.Value)
		if err != nil {
			d.fail(n.Line, key, "%v", err)
			return
		}
		v.SetInt(int64(s))
	case t.Kind() == reflect.Struct:
		d.mapping(n, v, key)
	case t.Kind() == reflect.Slice:
		d.sequence(n, v, key)
	case t.Kind() == reflect.String:
		if !d.scalar(n, key, "a string") {
			return
		}
		v.SetString(n.Value)
	case t.Kind() == reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(n.Line, key, "want true or false, got %s", describeNode(n))
			return
		}
		v.SetBool(b)
	case t.Kind() == reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(n.Line, key, "want a whole number, got %s", describeNode(n))
			return
		}
		v.SetInt(int64(i))
	case t.Kind() == reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!float" && tag != "!!int") || n.Decode(&f) != nil {
			d.fail(n.Line, key, "want a number, got %s", describeNode(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("config: no decoding for " + t.String())
	}
}

// scalar reports whether n is a scalar, and says what was wanted if not.
func (d *decoder) scalar(n *yaml.Node, key, want string) bool {
	if n.Kind == yaml.ScalarNode {
		return true
	}
	d.fail(n.Line, key, "want %s, got %s", want, describeNode(n))
	return false
}

// mapping decodes a mapping node into the struct v by its yaml tags.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, key, "want a mapping of keys (%s), got %s", strings.Join(fieldNames(v.Type()), ", "), describeNode(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		name := k.Value
		path := join(key, name)
		if k.Kind != yaml.ScalarNode {
			d.fail(k.Line, key, "a key must be a name, not %s", describeNode(k))
			continue
		}
		if at, ok := seen[name]; ok {
			d.fail(k.Line, path, "given twice (first on line %d)", at)
			continue
		}
		seen[name] = k.Line
		f, ok := field(v.Type(), name)
		if !ok {
			d.fail(k.Line, path, "unknown key%s", suggest(name, fieldNames(v.Type())))
			continue
		}
		d.lines[path] = k.Line
		d.value(val, v.FieldByIndex(f.Index), path)
	}
}

// sequence decodes a sequence node into the slice v, replacing its
// default.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n.Line, key, "want a list, got %s", describeNode(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		path := fmt.Sprintf("%s[%d]", key, i)
		d.lines[path] = item.Line
		e := reflect.New(v.Type().Elem()).Elem()
		if e.Type() == replicaType {
			e.Set(reflect.ValueOf(defaultReplica()))
		}
		if isNull(resolve(item)) {
			d.fail(item.Line, path, "empty list entry")
		}
		d.value(item, e, path)
		s = reflect.Append(s, e)
	}
	v.Set(s)
}

// field finds the struct field with the yaml key name.
func field(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.IsExported() && yamlName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldNames returns the keys of a struct type, in order.
func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name := yamlName(f); f.IsExported() && name != "" {
			out = append(out, name)
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

// suggest names the known key closest to name, or lists them all.
func suggest(name string, known []string) string {
	lower := strings.ToLower(name)
	best, bestDist := "", 3
	for _, k := range known {
		if k == lower {
			return fmt.Sprintf(" (keys are lower case: %s)", k)
		}
		dist := editDistance(lower, k)
		if strings.HasPrefix(k, lower) || strings.HasPrefix(lower, k) {
			dist = min(dist, 1)
		}
		if dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return fmt.Sprintf(" (known keys here: %s)", strings.Join(sorted, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describeNode names what a node holds, for messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// parseDuration parses a Go duration, and explains a number without a
// unit.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err == nil {
		return d, nil
	}
	if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
		return 0, fmt.Errorf("%q has no unit: write a duration such as %sms or %ss", s, s, s)
	}
	return 0, fmt.Errorf("%q is not a duration (write one such as 500ms, 2s or 1m30s)", s)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlErrorLine returns the line a YAML syntax error names, or 0.
func yamlErrorLine(err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// yamlErrorText is a YAML syntax error without its "yaml: line N: ".
func yamlErrorText(err error) string {
	s := err.Error()
	if m := yamlLine.FindStringIndex(s); m != nil {
		return "not valid YAML: " + s[m[1]:]
	}
	return "not valid YAML: " + strings.TrimPrefix(s, "yaml: ")
}
