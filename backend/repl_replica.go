package backend

import "time"

// replicaLink is this server's link to its master, when it is a replica.
type replicaLink struct {
	s      *Server
	client *Client // the master's connection, once synced
	isUp   bool
}

func (l *replicaLink) up() bool                                      { return l.isUp }
func (l *replicaLink) ackNow()                                       {}
func (l *replicaLink) cron(now time.Time)                            {}
func (l *replicaLink) info(line func(string, ...any), now time.Time) {}
func (l *replicaLink) role(c *Client)                                {}
