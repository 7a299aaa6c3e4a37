package proxy

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"
)

// adminTimeout bounds each command the reconciler sends.
const adminTimeout = 2 * time.Second

// netAdmin is the reconciler's admin over the monitor's small RESP client:
// one short connection per command, with the backends' credentials.
type netAdmin struct {
	p *Proxy
}

func (a netAdmin) dial(ctx context.Context, addr string) (*monConn, time.Time, error) {
	deadline := time.Now().Add(adminTimeout)
	cfg := a.p.Config()
	mc, err := monDial(ctx, addr, deadline, cfg.BackendAuth.Username, string(cfg.BackendAuth.Password))
	return mc, deadline, err
}

func (a netAdmin) role(ctx context.Context, addr string) BackendRole {
	r := BackendRole{Addr: addr}
	mc, deadline, err := a.dial(ctx, addr)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer mc.close()
	replies, err := mc.do(deadline, []string{"INFO", "replication"})
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if replies[0].kind != '$' || replies[0].null {
		r.Err = "INFO replication: " + replies[0].str
		return r
	}
	var info InfoReplication
	if err := ParseInfoReplication(replies[0].str, &info); err != nil {
		r.Err = err.Error()
		return r
	}
	r.Reachable, r.Role, r.ReplID = true, info.Role, info.ReplID
	if info.Role == "slave" {
		r.Follows = net.JoinHostPort(info.MasterHost, strconv.Itoa(info.MasterPort))
		r.LinkUp = info.LinkStatus == "up"
		r.Offset = info.SlaveReplOffset
	} else {
		r.Offset = info.MasterReplOffset
	}
	return r
}

func (a netAdmin) do(ctx context.Context, addr string, args ...string) (string, error) {
	mc, deadline, err := a.dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer mc.close()
	replies, err := mc.do(deadline, args)
	if err != nil {
		return "", err
	}
	if replies[0].kind == '-' {
		return "", errors.New(replies[0].str)
	}
	return replies[0].str, nil
}
