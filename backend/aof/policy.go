package aof

import "math/bits"

// Fsync is the appendfsync policy.
type Fsync int

const (
	// FsyncEverysec fsyncs at most once a second, in the background.
	FsyncEverysec Fsync = iota
	// FsyncAlways fsyncs after every write, before the caller replies.
	FsyncAlways
	// FsyncNo leaves flushing to the operating system.
	FsyncNo
)

// ParseFsync reads an appendfsync value: "always", "everysec" or "no".
func ParseFsync(s string) (Fsync, bool) {
	switch s {
	case "always":
		return FsyncAlways, true
	case "everysec":
		return FsyncEverysec, true
	case "no":
		return FsyncNo, true
	}
	return 0, false
}

func (p Fsync) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncNo:
		return "no"
	}
	return "everysec"
}

// ShouldRewrite is serverCron's automatic rewrite rule: the AOF is larger
// than auto-aof-rewrite-min-size and has grown by at least
// auto-aof-rewrite-percentage percent over its size after the last rewrite
// (a base size of 0 counts as 1). A percentage of 0 (or less) disables it.
func ShouldRewrite(curSize, baseSize int64, percentage int, minSize int64) bool {
	if percentage <= 0 || curSize <= minSize || curSize <= 0 {
		return false
	}
	if baseSize <= 0 {
		baseSize = 1
	}
	// Redis: cur*100/base - 100 >= percentage, in integers. That is
	// cur*100 >= (percentage+100)*base, computed in 128 bits.
	hi, lo := bits.Mul64(uint64(curSize), 100)
	bhi, blo := bits.Mul64(uint64(percentage)+100, uint64(baseSize))
	return hi > bhi || (hi == bhi && lo >= blo)
}
