// Package backend is lagwise's storage server: a Redis 7.0-compatible
// keyspace, its commands and its network layer.
//
// Concurrency: every client has its own goroutine that reads and parses its
// requests, but commands execute one at a time under Server.mu, the executor
// lock. That gives the one total order of writes that replication needs
// (the order in which commands take the lock), makes MULTI/EXEC atomic for
// free, and keeps every data structure single-threaded. Parsing, reply
// encoding and socket I/O happen outside the lock, on all cores.
package backend

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lagwise/lagwise/backend/command"
)

// Server is one lagwise storage server.
type Server struct {
	mu  sync.Mutex // the executor lock; see the package comment
	cfg *Config
	dbs []*DB

	cmds map[string]*cmdEntry

	clients    map[int64]*Client
	nextID     atomic.Int64
	listeners  []net.Listener
	startTime  time.Time
	runID      string
	configFile string
	logger     *log.Logger

	// now is the time of the command being executed, in unix ms; commands
	// see one clock for their whole run, as in Redis.
	now int64

	stats   stats
	pubsub  pubsub
	prop    propagation  // the write stream (propagate.go)
	persist persistState // RDB saves and loading (persist.go)
	aof     aofState     // the append-only file (aof.go)
	repl    replState    // replication (repl.go, repl_replica.go)

	// dirty counts changes to the dataset since the last save.
	dirty int64
	// loading is set while the server replays a write stream (an AOF being
	// loaded): keys do not expire, because the stream carries the DELs of
	// the keys that did, as Redis's keyIsExpired and checkAlreadyExpired
	// rule while loading.
	loading bool
	// applyingMaster is set while a replica runs a command of its master's
	// stream: keys do not expire under it, as in Redis.
	applyingMaster bool
	// readyKeys lists keys that got data while clients were blocked on them.
	readyKeys []readyKey

	adminSt adminState // DEBUG switches, INFO samplers (cmd_server.go)
	evict   evictState // maxmemory accounting and eviction pool (evict.go)
	mx      mxState    // the metrics endpoint (metrics.go)

	shutdownOnce sync.Once
	done         chan struct{}
	closing      atomic.Bool
	wg           sync.WaitGroup
}

type stats struct {
	connectionsReceived int64
	commandsProcessed   int64
	rejectedConns       int64
	expiredKeys         int64
	evictedKeys         int64
	keyspaceHits        int64
	keyspaceMisses      int64
	netInput            atomic.Int64
	netOutput           atomic.Int64
	netReplInput        atomic.Int64 // bytes read from this server's master
	netReplOutput       atomic.Int64 // bytes sent to replicas: snapshots and stream
	totalErrorReplies   int64
	errorCounts         map[string]int64
}

// New makes a server from a config. It does not listen yet.
func New(cfg *Config) *Server {
	s := &Server{
		cfg:       cfg,
		clients:   map[int64]*Client{},
		startTime: time.Now(),
		runID:     randomHex(40),
		logger:    log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds),
		done:      make(chan struct{}),
	}
	s.stats.errorCounts = map[string]int64{}
	s.adminSt = newAdminState(s.startTime)
	s.evict = evictState{readAt: -1}
	s.initPersist()
	s.initRepl()
	s.dbs = make([]*DB, cfg.Databases)
	for i := range s.dbs {
		s.dbs[i] = newDB(i)
	}
	s.cmds = buildCommandTable()
	return s
}

// SetConfigFile records the file the config came from, for CONFIG REWRITE
// and INFO.
func (s *Server) SetConfigFile(path string) { s.configFile = path }

// Listen opens the listeners named by bind and port. A bind address with a
// leading '-' is optional: failing to bind it is not an error, as in Redis.
func (s *Server) Listen() error {
	binds := s.cfg.Bind
	if len(binds) == 0 {
		binds = []string{""}
	}
	for _, b := range binds {
		optional := len(b) > 0 && b[0] == '-'
		if optional {
			b = b[1:]
		}
		if b == "*" {
			b = ""
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(b, strconv.Itoa(s.cfg.Port)))
		if err != nil {
			if optional {
				continue
			}
			s.closeListeners()
			return fmt.Errorf("Could not create server TCP listening socket %s: %v", net.JoinHostPort(b, strconv.Itoa(s.cfg.Port)), err)
		}
		s.listeners = append(s.listeners, ln)
	}
	if len(s.listeners) == 0 {
		return errors.New("Failed listening on port " + strconv.Itoa(s.cfg.Port) + " (tcp), aborting.")
	}
	return nil
}

// Addr returns the address of the first listener.
func (s *Server) Addr() net.Addr {
	if len(s.listeners) == 0 {
		return nil
	}
	return s.listeners[0].Addr()
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// Serve accepts clients until Shutdown; it returns once every client
// goroutine has ended.
func (s *Server) Serve() error {
	s.wg.Add(1)
	go s.cron()
	for _, ln := range s.listeners {
		s.wg.Add(1)
		go s.acceptLoop(ln)
	}
	<-s.done
	s.wg.Wait()
	return nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			s.logf("accept: %v", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(conn)
		}()
	}
}

// Shutdown stops listening and closes every client. It is safe to call
// more than once and from any goroutine.
func (s *Server) Shutdown() {
	s.shutdownOnce.Do(func() {
		s.closing.Store(true)
		s.closeListeners()
		s.mu.Lock()
		for _, c := range s.clients {
			c.conn.Close()
		}
		if l := s.repl.link; l != nil {
			l.close()
		}
		s.abortChild()
		if err := s.aofShutdown(); err != nil {
			s.logf("%v", err)
		}
		s.unlock()
		close(s.done)
	})
}

// Done is closed when the server shuts down.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) logf(format string, args ...any) {
	if s.cfg.LogLevel == "nothing" {
		return
	}
	s.logger.Printf(format, args...)
}

// SetLogOutput sends the server's log to w.
func (s *Server) SetLogOutput(w io.Writer) { s.logger.SetOutput(w) }

// cron runs the periodic jobs (Redis's serverCron) hz times a second: the
// active expiry cycle and client timeouts.
func (s *Server) cron() {
	defer s.wg.Done()
	s.mu.Lock()
	hz := s.cfg.Hz
	s.unlock()
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		s.cronStep()
		if s.cfg.Hz != hz {
			hz = s.cfg.Hz
			t.Reset(time.Second / time.Duration(hz))
		}
		s.unlock()
	}
}

// cronStep is one run of the periodic jobs, under the executor lock.
// Once the server is exiting (after SHUTDOWN's final save) they stop: an
// expired key's DEL or a ping would change the stream after the dump.
func (s *Server) cronStep() {
	if s.closing.Load() {
		return
	}
	s.now = time.Now().UnixMilli()
	if s.activeExpireEnabled() && !s.loading && s.repl.link == nil {
		s.activeExpireCycle()
	}
	s.statsTick()
	s.persistCron()
	s.replCron()
}

// commandMeta returns the shared table's entry for name; every handler is
// registered under a name the table knows.
func commandMeta(name string) *command.Command {
	c := command.Lookup(name)
	if c == nil {
		panic("command " + name + " is not in the Redis 7.0 command table")
	}
	return c
}
