package aof

import (
	"io"
	"os"
)

// FS is every file operation the package does, so that tests can count
// fsyncs and cut the sequence of operations at any point. Names are paths
// as the os package takes them.
type FS interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	MkdirAll(path string, perm os.FileMode) error
	Stat(name string) (os.FileInfo, error)
	// SyncDir fsyncs a directory, making renames and new files in it
	// durable (Redis's fsyncFileDir).
	SyncDir(dir string) error
}

// File is an open file of an FS. The package writes a file from one
// goroutine but may call Sync from another one at the same time, as Redis
// fsyncs from a background thread; an FS must allow that.
type File interface {
	io.Reader
	io.Writer
	io.Seeker
	io.Closer
	// Sync makes the written data durable (fdatasync where there is one).
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
}

// OSFS is the FS of the operating system.
type OSFS struct{}

func (OSFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (OSFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (OSFS) Remove(name string) error                     { return os.Remove(name) }
func (OSFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (OSFS) Stat(name string) (os.FileInfo, error)        { return os.Stat(name) }

func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

type osFile struct{ *os.File }

func (f osFile) Sync() error { return datasync(f.File) }
