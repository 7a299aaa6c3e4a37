package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
)

// LoadStatus says what Load found.
type LoadStatus int

const (
	// LoadOK: every file listed was loaded.
	LoadOK LoadStatus = iota
	// LoadNotExist: there is no manifest, or it lists no base or incr file.
	LoadNotExist
	// LoadEmpty: the files listed are all empty.
	LoadEmpty
	// LoadTruncated: the last file ended in a cut command, which was cut
	// off the file (aof-load-truncated yes).
	LoadTruncated
)

// LoadResult describes a finished Load.
type LoadResult struct {
	Status      LoadStatus
	Manifest    *Manifest // nil when there is none
	CurrentSize int64     // base plus incr files, after any truncation
	BaseSize    int64     // the base file
	Commands    int64     // commands passed to apply
}

// LoadError is a failed Load. Msg is the line Redis logs for the failure;
// File and Offset say where: the byte where the bad data starts, or where
// the last whole command ends for a file cut short.
type LoadError struct {
	File   string
	Offset int64
	Msg    string
	Err    error // the cause: an I/O error, or the error of loadRDB or apply
}

func (e *LoadError) Error() string { return e.Msg }
func (e *LoadError) Unwrap() error { return e.Err }

// Load reads the AOF named by the manifest in cfg.Dir/cfg.DirName as
// loadAppendOnlyFiles does: the base file, then the incr files in order.
//
// A file that starts with "REDIS" is an RDB file: loadRDB reads the
// dataset from r, which starts at the file's first byte, and returns how
// many bytes the RDB took; what follows (the RESP tail of an old-style
// preamble file) is read as commands. Every command is passed to apply,
// in file order, as its arguments; argv and its slices are valid only
// during the call. MULTI ... EXEC blocks are collected and applied at
// EXEC, without the MULTI and EXEC themselves, so a block cut at the end
// of the file is never applied. An error from apply or loadRDB fails the
// load; Redis fails only on unknown commands, and lets a command that
// replies an error pass.
//
// A command cut by the end of the last file (or a trailing MULTI without
// EXEC) is cut off the file when cfg.LoadTruncated is set, and the load
// succeeds with LoadTruncated; otherwise, and in any other file, it is an
// error. Bytes that are not a command are an error anywhere. An old-style
// single file cfg.FileName in cfg.Dir, with no manifest naming files, is
// first moved into the AOF directory as Redis's upgrade does.
func Load(cfg Config, loadRDB func(r io.Reader) (int64, error), apply func(argv [][]byte) error) (*LoadResult, error) {
	a := newAOF(cfg)
	cfg = a.cfg
	m, err := readManifest(a.fs, a.dir, cfg.FileName)
	if err != nil {
		return nil, err
	}
	if m, err = a.upgrade(m); err != nil {
		return nil, err
	}
	res := &LoadResult{Status: LoadNotExist, Manifest: m}
	if m == nil || (m.Base == nil && len(m.Incr) == 0) {
		return res, nil
	}
	files := append([]FileInfo(nil), m.Incr...)
	if m.Base != nil {
		files = append([]FileInfo{*m.Base}, files...)
	}
	for i, fi := range files {
		st, err := a.fs.Stat(a.path(fi.Name))
		if err != nil {
			return nil, &LoadError{File: fi.Name, Msg: fmt.Sprintf("Unable to obtain the AOF file %s length. stat: %s", fi.Name, Strerror(err)), Err: err}
		}
		res.CurrentSize += st.Size()
		if i == 0 && m.Base != nil {
			res.BaseSize = st.Size()
		}
	}
	if res.CurrentSize == 0 {
		res.Status = LoadEmpty
		return res, nil
	}
	res.Status = LoadOK
	l := &loader{cfg: cfg, fs: a.fs, loadRDB: loadRDB, apply: apply}
	for i, fi := range files {
		kind := "incr"
		if i == 0 && m.Base != nil {
			kind = "base"
		}
		start := time.Now()
		cut, err := l.loadFile(a.path(fi.Name), fi.Name, i == len(files)-1, fi.Name == cfg.FileName)
		if err != nil {
			return nil, err
		}
		if cut < 0 { // an empty file
			continue
		}
		if cut > 0 {
			res.Status = LoadTruncated
			res.CurrentSize -= cut
		}
		cfg.logf("DB loaded from %s file %s: %.3f seconds", kind, fi.Name, time.Since(start).Seconds())
	}
	res.Commands = l.commands
	return res, nil
}

// upgrade moves an old-style AOF (cfg.FileName in cfg.Dir) into the AOF
// directory with a manifest naming it the base, when Redis's
// loadAppendOnlyFiles would (aofUpgradePrepare).
func (a *AOF) upgrade(m *Manifest) (*Manifest, error) {
	old := filepath.Join(a.cfg.Dir, a.cfg.FileName)
	if st, err := a.fs.Stat(old); err != nil || !st.Mode().IsRegular() {
		return m, nil
	}
	_, dirErr := a.fs.Stat(a.dir)
	_, inDirErr := a.fs.Stat(a.path(a.cfg.FileName))
	switch {
	case dirErr != nil, m == nil, m.Base == nil && len(m.Incr) == 0:
	case m.Base != nil && len(m.Incr) == 0 && m.Base.Name == a.cfg.FileName && inDirErr != nil:
	default:
		return m, nil
	}
	if err := a.fs.MkdirAll(a.dir, 0o755); err != nil {
		return nil, a.fail(err, "Can't open or create append-only dir %s: %s", a.dir, Strerror(err))
	}
	nm := &Manifest{Base: &FileInfo{Name: a.cfg.FileName, Seq: 1, Type: TypeBase}, BaseSeq: 1}
	if m != nil {
		nm.History, nm.IncrSeq = m.History, m.IncrSeq
	}
	if err := a.persist(nm); err != nil {
		return nil, err
	}
	if err := a.fs.Rename(old, a.path(a.cfg.FileName)); err != nil {
		return nil, a.fail(err, "Error trying to move the old AOF file %s into dir %s: %s", a.cfg.FileName, a.cfg.DirName, Strerror(err))
	}
	a.cfg.logf("Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", a.cfg.FileName, a.cfg.DirName)
	return nm, nil
}

// loader reads the files of one Load.
type loader struct {
	cfg      Config
	fs       FS
	loadRDB  func(io.Reader) (int64, error)
	apply    func([][]byte) error
	commands int64

	br    *bufio.Reader
	off   int64    // bytes of the file consumed
	argv  [][]byte // the command being read
	bufs  [][]byte // argument buffers, reused
	queue [][][]byte
}

// errCut is a file that ends inside a command.
var errCut = errors.New("unexpected end of file")

// formatError is bytes that are not a command, at off.
type formatError struct{ off int64 }

func (formatError) Error() string { return "bad file format" }

// loadFile loads one file and returns how many bytes it cut off its end,
// or -1 for an empty file.
func (l *loader) loadFile(path, name string, last, oldStyle bool) (int64, error) {
	f, err := l.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, &LoadError{File: name, Msg: fmt.Sprintf("The append log file %s doesn't exist: %s", name, Strerror(err)), Err: err}
		}
		return 0, &LoadError{File: name, Msg: fmt.Sprintf("Fatal error: can't open the append log file %s for reading: %s", name, Strerror(err)), Err: err}
	}
	defer f.Close()
	size, err := fileSize(f)
	if err != nil {
		return 0, l.readErr(name, err)
	}
	if size == 0 {
		return -1, nil
	}
	l.off = 0
	var sig [5]byte
	if _, err := io.ReadFull(f, sig[:]); err == nil && string(sig[:]) == "REDIS" {
		if oldStyle {
			l.cfg.logf("Reading RDB preamble from AOF file...")
		} else {
			l.cfg.logf("Reading RDB base file on AOF loading...")
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, l.readErr(name, err)
		}
		var n int64
		err := errors.New("no RDB loader")
		if l.loadRDB != nil {
			n, err = l.loadRDB(struct{ io.Reader }{f})
		}
		if err == nil && (n < 0 || n > size) {
			err = fmt.Errorf("RDB length %d out of the file's %d bytes", n, size)
		}
		if err != nil {
			msg := fmt.Sprintf("Error reading the RDB base file %s, AOF loading aborted", name)
			if oldStyle {
				msg = fmt.Sprintf("Error reading the RDB preamble of the AOF file %s, AOF loading aborted", name)
			}
			l.cfg.logf("%s", msg)
			return 0, &LoadError{File: name, Msg: msg, Err: err}
		}
		l.off = n
		if oldStyle {
			l.cfg.logf("Reading the remaining AOF tail...")
		}
	}
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		return 0, l.readErr(name, err)
	}
	if l.br == nil {
		l.br = bufio.NewReaderSize(f, 64<<10)
	} else {
		l.br.Reset(f)
	}
	validUpTo, beforeMulti, inMulti := l.off, l.off, false
	l.queue = l.queue[:0]
	for {
		argv, err := l.command()
		if err == io.EOF {
			break
		}
		var fe formatError
		switch {
		case err == errCut && inMulti:
			// Redis cuts after the last whole command here, leaving an
			// open MULTI that would swallow the commands appended after
			// the restart; the block is dropped whole instead.
			return l.cut(path, name, beforeMulti, size, last)
		case err == errCut:
			return l.cut(path, name, validUpTo, size, last)
		case errors.As(err, &fe):
			msg := fmt.Sprintf("Bad file format reading the append only file %s: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name)
			l.cfg.logf("%s", msg)
			return 0, &LoadError{File: name, Offset: fe.off, Msg: msg}
		case err != nil:
			return 0, l.readErr(name, err)
		}
		switch {
		case bytes.EqualFold(argv[0], []byte("multi")):
			beforeMulti = validUpTo
			if !inMulti {
				inMulti = true
				l.queue = l.queue[:0]
			}
		case bytes.EqualFold(argv[0], []byte("exec")):
			if inMulti {
				for _, q := range l.queue {
					if err := l.run(q, name, validUpTo); err != nil {
						return 0, err
					}
				}
				inMulti = false
			}
		case bytes.EqualFold(argv[0], []byte("discard")):
			inMulti = false
		case inMulti:
			q := make([][]byte, len(argv))
			for i, arg := range argv {
				q[i] = append([]byte(nil), arg...)
			}
			l.queue = append(l.queue, q)
		default:
			if err := l.run(argv, name, validUpTo); err != nil {
				return 0, err
			}
		}
		validUpTo = l.off
	}
	if inMulti {
		l.cfg.logf("Revert incomplete MULTI/EXEC transaction in AOF file %s", name)
		return l.cut(path, name, beforeMulti, size, last)
	}
	return 0, nil
}

func (l *loader) run(argv [][]byte, name string, off int64) error {
	l.commands++
	if err := l.apply(argv); err != nil {
		msg := fmt.Sprintf("%v reading the append only file %s", err, name)
		l.cfg.logf("%s", msg)
		return &LoadError{File: name, Offset: off, Msg: msg, Err: err}
	}
	return nil
}

func (l *loader) readErr(name string, err error) error {
	msg := fmt.Sprintf("Unrecoverable error reading the append only file %s: %s", name, Strerror(err))
	l.cfg.logf("%s", msg)
	return &LoadError{File: name, Offset: l.off, Msg: msg, Err: err}
}

// cut handles a file that ends inside a command, whose whole commands end
// at valid: with aof-load-truncated the last file is cut there.
func (l *loader) cut(path, name string, valid, size int64, last bool) (int64, error) {
	if l.cfg.LoadTruncated {
		l.cfg.logf("!!! Warning: short read while loading the AOF file %s!!!", name)
		if !last {
			// Redis cuts the file, then fails; the cut would lose the
			// rest of the file silently on the next start, so it stays.
			msg := "Fatal error: the truncated file is not the last file"
			l.cfg.logf("%s", msg)
			return 0, &LoadError{File: name, Offset: valid, Msg: msg, Err: errCut}
		}
		l.cfg.logf("!!! Truncating the AOF %s at offset %d !!!", name, valid)
		err := l.truncate(path, valid)
		if err == nil {
			l.cfg.logf("AOF %s loaded anyway because aof-load-truncated is enabled", name)
			return size - valid, nil
		}
		l.cfg.logf("Error truncating the AOF file %s: %s", name, Strerror(err))
	}
	msg := fmt.Sprintf("Unexpected end of file reading the append only file %s. You can: "+
		"1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "+
		"2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name)
	l.cfg.logf("%s", msg)
	return 0, &LoadError{File: name, Offset: valid, Msg: msg, Err: errCut}
}

func (l *loader) truncate(path string, size int64) error {
	f, err := l.fs.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// maxArgs bounds the argument count a command may claim (Redis reads it
// as an int); memory grows only with the arguments actually read.
const maxArgs = 1<<31 - 1

// command reads the next command: its arguments (aliasing the loader's
// buffers, valid until the next call), io.EOF at the clean end of the
// file, errCut for a file that ends inside a command, a formatError for
// bytes that are not a command, or a read error. Lines starting with '#'
// between commands are annotations and are skipped, as Redis does.
func (l *loader) command() ([][]byte, error) {
	for {
		start := l.off
		line, err := l.br.ReadSlice('\n')
		l.off += int64(len(line))
		if len(line) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		if len(line) > 0 && line[0] == '#' {
			for err == bufio.ErrBufferFull {
				line, err = l.br.ReadSlice('\n')
				l.off += int64(len(line))
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, err
		}
		if line[0] != '*' || err == bufio.ErrBufferFull {
			return nil, formatError{start}
		}
		if err == io.EOF {
			return nil, errCut
		}
		argc, ok := lineInt(line)
		if !ok || argc < 1 || argc > maxArgs {
			return nil, formatError{start}
		}
		l.argv = l.argv[:0]
		for j := 0; j < int(argc); j++ {
			arg, err := l.bulk(j)
			if err != nil {
				return nil, err
			}
			l.argv = append(l.argv, arg)
		}
		return l.argv, nil
	}
}

// bulk reads argument j: "$len\r\n", len bytes, "\r\n". The buffer grows
// with the bytes actually read, so a lying length allocates no more than
// the file holds (and never more than proto-max-bulk-len).
func (l *loader) bulk(j int) ([]byte, error) {
	start := l.off
	line, err := l.br.ReadSlice('\n')
	l.off += int64(len(line))
	switch {
	case err == io.EOF:
		return nil, errCut
	case err == bufio.ErrBufferFull:
		return nil, formatError{start}
	case err != nil:
		return nil, err
	case line[0] != '$':
		return nil, formatError{start}
	}
	n, ok := lineInt(line)
	if !ok || n < 0 || n > l.cfg.MaxBulkLen {
		return nil, formatError{start}
	}
	for len(l.bufs) <= j {
		l.bufs = append(l.bufs, nil)
	}
	buf := l.bufs[j][:0]
	if cap(buf) > 1<<20 && int64(cap(buf)) > 2*n {
		buf = nil // do not keep a huge buffer for small arguments
	}
	for int64(len(buf)) < n {
		chunk := int(min(n-int64(len(buf)), int64(max(64<<10, len(buf)))))
		if cap(buf)-len(buf) < chunk {
			nb := make([]byte, len(buf), len(buf)+chunk)
			copy(nb, buf)
			buf = nb
		}
		k, err := io.ReadFull(l.br, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+k]
		l.off += int64(k)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errCut
		}
		if err != nil {
			return nil, err
		}
	}
	l.bufs[j] = buf
	var crlf [2]byte
	k, err := io.ReadFull(l.br, crlf[:])
	l.off += int64(k)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return nil, errCut
	case err != nil:
		return nil, err
	case crlf != [2]byte{'\r', '\n'}:
		return nil, formatError{l.off - int64(k)}
	}
	return buf[:n:n], nil
}

// lineInt reads the number of a "*N" or "$N" line ending in "\r\n" or "\n".
func lineInt(line []byte) (int64, bool) {
	line = bytes.TrimSuffix(line[1:], []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return resp.ParseInt(line)
}
