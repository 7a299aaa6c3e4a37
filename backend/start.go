package backend

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Start prepares a server from a loaded config: it moves to dir, opens the
// log, sets the garbage collector for a compact heap and listens.
func Start(cfg *Config, configFile string) (*Server, error) {
	if cfg.Dir != "" && cfg.Dir != "." {
		if err := os.Chdir(cfg.Dir); err != nil {
			return nil, err
		}
	}
	s := New(cfg)
	s.SetConfigFile(configFile)
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		s.SetLogOutput(f)
	}
	tuneGC(cfg)
	if os.Getenv("GOMAXPROCS") == "" {
		// io-threads means what it means to Redis: how many threads do
		// client I/O. Commands run one at a time either way; with one
		// thread, a request costs no cross-thread wake-ups, which is what
		// makes small requests fast (see docs/architecture.md).
		runtime.GOMAXPROCS(cfg.IOThreads)
	}
	// The metrics endpoint opens first: it answers (not ready) while a
	// large dataset loads.
	s.mx.starting.Store(true)
	if err := s.startMetrics(); err != nil {
		return nil, err
	}
	err := s.loadAtStart()
	if err == nil {
		err = s.Listen()
	}
	if err != nil {
		s.stopMetrics()
		return nil, err
	}
	if f := strings.Fields(cfg.ReplicaOf); len(f) == 2 {
		port, _ := strconv.Atoi(f[1])
		s.mu.Lock()
		s.startReplication(f[0], port)
		s.unlock()
	}
	s.mx.starting.Store(false)
	s.logf("Ready to accept connections on %s", s.Addr())
	return s, nil
}

// tuneGC trades a little CPU for memory: a keyspace is long-lived data, so
// the heap may grow by half of it between collections instead of doubling.
// With maxmemory set, the runtime is also told the limit.
func tuneGC(cfg *Config) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	if cfg.MaxMemory > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MaxMemory + cfg.MaxMemory/2 + 64<<20)
	}
}
