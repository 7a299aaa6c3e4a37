package aof

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/lagwise/lagwise/backend/resp"
)

// FileType is the kind of one file listed in the manifest, written as one
// letter as Redis writes it.
type FileType byte

// The three file types of Redis 7.0's multi-part AOF.
const (
	// TypeBase is the snapshot taken by the last rewrite (at most one).
	TypeBase FileType = 'b'
	// TypeHistory is a file made obsolete by a rewrite, waiting to be deleted.
	TypeHistory FileType = 'h'
	// TypeIncr holds the commands written since a rewrite started.
	TypeIncr FileType = 'i'
)

// FileInfo is one line of the manifest.
type FileInfo struct {
	Name string
	Seq  int64
	Type FileType
}

// Manifest is the parsed content of appendonly.aof.manifest. It is a plain
// value: the package never shares one between goroutines.
type Manifest struct {
	Base    *FileInfo  // nil when there is no base file
	History []FileInfo // files to delete, newest first
	Incr    []FileInfo // incremental files, in load order
	// BaseSeq and IncrSeq are the last sequence numbers used; the next
	// base or incr file takes the number after them.
	BaseSeq, IncrSeq int64
}

// The manifest parser's errors, in Redis's words (aofLoadManifestFromFile).
const (
	msgEmptyManifest   = "Found an empty AOF manifest"
	msgLongLine        = "The AOF manifest file contains too long line"
	msgInvalidManifest = "Invalid AOF manifest file format"
	msgPathName        = "File can't be a path, just a filename"
	msgDuplicateBase   = "Found duplicate base file information"
	msgNonMonotonic    = "Found a non-monotonic sequence number"
	msgUnknownType     = "Unknown AOF file type"
)

// manifestMaxLine is Redis's MANIFEST_MAX_LINE: it reads lines with
// fgets into a buffer of that many bytes plus one.
const manifestMaxLine = 1024

// ManifestError is an invalid manifest. Msg is Redis's message; Line
// (1-based, 0 when Redis names no line) and Text are the offending line, as
// Redis logs them under "Reading the manifest file, at line N".
type ManifestError struct {
	Line int
	Text string
	Msg  string
}

func (e *ManifestError) Error() string { return e.Msg }

// ParseManifest parses a manifest the way Redis 7.0 does: lines are read
// fgets-style (at most 1024 bytes, a NUL ends the C string), a line
// starting with '#' is a comment, the rest is split with sdssplitargs
// rules into key/value pairs in any order ("file", "seq", "type", matched
// case-insensitively; unknown keys are ignored), seq is read with atoll and
// type is the first byte of its value. Every incr file must have a larger
// sequence number than the one before it.
func ParseManifest(data []byte) (*Manifest, error) {
	m := &Manifest{}
	var maxSeq int64
	lineNum := 0
	for pos := 0; ; {
		if pos >= len(data) {
			if lineNum == 0 {
				return nil, &ManifestError{Msg: msgEmptyManifest}
			}
			return m, nil
		}
		end := min(pos+manifestMaxLine, len(data))
		if i := bytes.IndexByte(data[pos:end], '\n'); i >= 0 {
			end = pos + i + 1
		}
		chunk := cString(data[pos:end])
		pos = end
		lineNum++
		if len(chunk) > 0 && chunk[0] == '#' {
			continue
		}
		if bytes.IndexByte(chunk, '\n') < 0 {
			return nil, &ManifestError{Msg: msgLongLine}
		}
		line := bytes.Trim(chunk, " \t\r\n")
		fail := func(msg string) (*Manifest, error) {
			return nil, &ManifestError{Line: lineNum, Text: string(line), Msg: msg}
		}
		if len(line) == 0 {
			return fail(msgInvalidManifest)
		}
		argv, ok := resp.SplitArgs(line, nil)
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return fail(msgInvalidManifest)
		}
		var fi FileInfo
		hasName := false
		for i := 0; i < len(argv); i += 2 {
			key, val := string(cString(argv[i])), cString(argv[i+1])
			switch {
			case strings.EqualFold(key, "file"):
				fi.Name, hasName = string(val), true
				if strings.ContainsAny(fi.Name, `/\`) {
					return fail(msgPathName)
				}
			case strings.EqualFold(key, "seq"):
				fi.Seq = atoll(val)
			case strings.EqualFold(key, "type"):
				fi.Type = 0
				if len(val) > 0 {
					fi.Type = FileType(val[0])
				}
			}
		}
		if !hasName || fi.Seq == 0 || fi.Type == 0 {
			return fail(msgInvalidManifest)
		}
		switch fi.Type {
		case TypeBase:
			if m.Base != nil {
				return fail(msgDuplicateBase)
			}
			m.Base = &fi
			m.BaseSeq = fi.Seq
		case TypeHistory:
			m.History = append(m.History, fi)
		case TypeIncr:
			if fi.Seq <= maxSeq {
				return fail(msgNonMonotonic)
			}
			m.Incr = append(m.Incr, fi)
			m.IncrSeq, maxSeq = fi.Seq, fi.Seq
		default:
			return fail(msgUnknownType)
		}
	}
}

// cString cuts b at its first NUL, as C string functions see it.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// atoll reads a number the way C's atoll (strtoll) does: leading spaces,
// an optional sign, digits up to the first non-digit; 0 when there are
// none; clamped to the int64 range on overflow.
func atoll(b []byte) int64 {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v uint64
	limit := uint64(1<<63 - 1)
	if neg {
		limit = 1 << 63
	}
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (limit-d)/10 {
			v = limit
			break
		}
		v = v*10 + d
	}
	if neg {
		return int64(-v) // -(1<<63) wraps to itself, the minimum
	}
	return int64(v)
}

// AppendTo appends the manifest in Redis's layout: the base first, then the
// history files, then the incr files, one "file NAME seq N type T\n" line
// each. A name that sdssplitargs would not read back verbatim is quoted as
// sdscatrepr quotes it.
func (m *Manifest) AppendTo(b []byte) []byte {
	line := func(b []byte, fi FileInfo) []byte {
		b = append(b, "file "...)
		b = appendName(b, fi.Name)
		b = append(b, " seq "...)
		b = strconv.AppendInt(b, fi.Seq, 10)
		b = append(b, " type "...)
		return append(b, byte(fi.Type), '\n')
	}
	if m.Base != nil {
		b = line(b, *m.Base)
	}
	for _, fi := range m.History {
		b = line(b, fi)
	}
	for _, fi := range m.Incr {
		b = line(b, fi)
	}
	return b
}

// Bytes is the manifest file's content.
func (m *Manifest) Bytes() []byte { return m.AppendTo(nil) }

// appendName writes a file name as aofInfoFormat does: as is, unless
// sdsneedsrepr says it needs quoting, then as sdscatrepr quotes it.
func appendName(b []byte, name string) []byte {
	needs := false
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '\\' || c == '"' || c <= ' ' || c > '~' {
			needs = true
			break
		}
	}
	if !needs {
		return append(b, name...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\a':
			b = append(b, `\a`...)
		case '\b':
			b = append(b, `\b`...)
		default:
			if c >= ' ' && c <= '~' {
				b = append(b, c)
			} else {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			}
		}
	}
	return append(b, '"')
}

// clone is a deep copy, so a change can be prepared and dropped on failure.
func (m *Manifest) clone() *Manifest {
	c := *m
	if m.Base != nil {
		b := *m.Base
		c.Base = &b
	}
	c.History = append([]FileInfo(nil), m.History...)
	c.Incr = append([]FileInfo(nil), m.Incr...)
	return &c
}

// addIncr lists a new incr file after the others and returns its name
// (getNewIncrAofName).
func (m *Manifest) addIncr(fileName string) string {
	m.IncrSeq++
	fi := FileInfo{Name: IncrName(fileName, m.IncrSeq), Seq: m.IncrSeq, Type: TypeIncr}
	m.Incr = append(m.Incr, fi)
	return fi.Name
}

// newBase makes the base file, if any, history and lists a new one with the
// next sequence number (getNewBaseFileNameAndMarkPreAsHistory).
func (m *Manifest) newBase(fileName string, rdb bool) string {
	if m.Base != nil {
		old := *m.Base
		old.Type = TypeHistory
		m.History = append([]FileInfo{old}, m.History...)
	}
	m.BaseSeq++
	m.Base = &FileInfo{Name: BaseName(fileName, m.BaseSeq, rdb), Seq: m.BaseSeq, Type: TypeBase}
	return m.Base.Name
}

// rewrittenIncrToHistory makes history of every incr file but the last one,
// the file being written (markRewrittenIncrAofAsHistory with AOF on).
func (m *Manifest) rewrittenIncrToHistory() {
	if len(m.Incr) <= 1 {
		return
	}
	done := m.Incr[:len(m.Incr)-1]
	hist := make([]FileInfo, 0, len(done)+len(m.History))
	for _, fi := range done {
		fi.Type = TypeHistory
		hist = append(hist, fi)
	}
	m.History = append(hist, m.History...)
	m.Incr = append([]FileInfo(nil), m.Incr[len(m.Incr)-1])
}

// The file names Redis uses, given appendfilename.

// ManifestName is the manifest's name: appendonly.aof.manifest.
func ManifestName(fileName string) string { return fileName + ".manifest" }

// TempManifestName is the file a new manifest is written to before it is
// renamed over the old one: temp-appendonly.aof.manifest.
func TempManifestName(fileName string) string { return "temp-" + fileName + ".manifest" }

// BaseName is the name of base file seq: appendonly.aof.1.base.rdb with an
// RDB preamble, appendonly.aof.1.base.aof without.
func BaseName(fileName string, seq int64, rdb bool) string {
	ext := ".aof"
	if rdb {
		ext = ".rdb"
	}
	return fileName + "." + strconv.FormatInt(seq, 10) + ".base" + ext
}

// IncrName is the name of incr file seq: appendonly.aof.1.incr.aof.
func IncrName(fileName string, seq int64) string {
	return fileName + "." + strconv.FormatInt(seq, 10) + ".incr.aof"
}

// TempIncrName is the incr file that collects writes while the first
// rewrite after turning the AOF on runs: temp-appendonly.aof.incr.
func TempIncrName(fileName string) string { return "temp-" + fileName + ".incr" }

// TempRewriteName is the file, in dir, that a rewrite writes the new base
// to before it is renamed into the AOF directory: temp-rewriteaof-bg-PID.aof.
func TempRewriteName(pid int) string { return "temp-rewriteaof-bg-" + strconv.Itoa(pid) + ".aof" }

// tempStartName is the temp file of the base written at server start
// (rewriteAppendOnlyFile): temp-rewriteaof-PID.aof.
func tempStartName(pid int) string { return "temp-rewriteaof-" + strconv.Itoa(pid) + ".aof" }
