package proxy

import (
	"fmt"
	"log"
	"sync/atomic"
)

// Level is a log line's severity, config.yaml's log_level: a Logger set
// to a level drops the lines below it.
type Level int32

const (
	// LevelDebug is detail an operator asks for when chasing a problem.
	LevelDebug Level = iota
	// LevelInfo is what the proxy does: a backend back, a reload, a
	// promotion as planned.
	LevelInfo
	// LevelWarn is something degraded that the proxy works around: a
	// backend down, a replica without reads, a client cut off.
	LevelWarn
	// LevelError is something that failed: a config not applied, a
	// command of a switch refused, the metrics endpoint stopped.
	LevelError
)

var levelNames = [...]string{LevelDebug: "debug", LevelInfo: "info", LevelWarn: "warn", LevelError: "error"}

// String is the level's name in config.yaml.
func (l Level) String() string {
	if l >= LevelDebug && l <= LevelError {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", int32(l))
}

// ParseLevel reads a log_level: debug, info, warn or error
// (config.LogLevels).
func ParseLevel(s string) (Level, error) {
	for l, name := range levelNames {
		if name == s {
			return Level(l), nil
		}
	}
	return LevelInfo, fmt.Errorf("unknown log level %q", s)
}

// Logger is the proxy's log: every line carries its level as a tag at the
// start of the message ("level=warn lag monitor: ..."), and lines below
// the logger's level are dropped. The level can change while the proxy
// runs (a reload of log_level); all methods are safe from any goroutine.
type Logger struct {
	print func(format string, args ...any)
	min   atomic.Int32
}

// NewLogger returns a Logger at LevelInfo that writes through print
// (log.Printf, or a log.Logger's Printf; nil: log.Printf).
func NewLogger(print func(format string, args ...any)) *Logger {
	if print == nil {
		print = log.Printf
	}
	l := &Logger{print: print}
	l.min.Store(int32(LevelInfo))
	return l
}

// SetLevel drops the lines below lvl from now on.
func (l *Logger) SetLevel(lvl Level) { l.min.Store(int32(lvl)) }

// Level returns the level set.
func (l *Logger) Level() Level { return Level(l.min.Load()) }

// Enabled reports whether a line at lvl is written.
func (l *Logger) Enabled(lvl Level) bool { return lvl >= l.Level() }

// Logf writes a line at lvl, unless the logger's level is above it.
func (l *Logger) Logf(lvl Level, format string, args ...any) {
	lvl = min(max(lvl, LevelDebug), LevelError)
	if !l.Enabled(lvl) {
		return
	}
	l.print(levelTags[lvl]+format, args...)
}

// levelTags are the tags the lines start with.
var levelTags = [...]string{LevelDebug: "level=debug ", LevelInfo: "level=info ", LevelWarn: "level=warn ", LevelError: "level=error "}

// Debugf logs at LevelDebug.
func (l *Logger) Debugf(format string, args ...any) { l.Logf(LevelDebug, format, args...) }

// Infof logs at LevelInfo.
func (l *Logger) Infof(format string, args ...any) { l.Logf(LevelInfo, format, args...) }

// Warnf logs at LevelWarn.
func (l *Logger) Warnf(format string, args ...any) { l.Logf(LevelWarn, format, args...) }

// Errorf logs at LevelError.
func (l *Logger) Errorf(format string, args ...any) { l.Logf(LevelError, format, args...) }
