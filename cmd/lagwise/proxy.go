package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/lagwise/lagwise/config"
	"github.com/lagwise/lagwise/proxy"
)

// runProxy is `lagwise proxy --config config.yaml`: the proxy on the
// file's topology, reloading it when it changes or on SIGHUP.
func runProxy(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("lagwise proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "config.yaml", "the proxy's config file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lagwise proxy: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	logger := log.New(stderr, "", log.LstdFlags)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serveProxy(ctx, *path, proxy.NewLogger(logger.Printf)); err != nil {
		fmt.Fprintf(stderr, "lagwise proxy: %v\n", err)
		return 1
	}
	return 0
}

// serveProxy runs a proxy on the config at path until ctx is done. It
// logs to lg, whose level follows the file's log_level.
func serveProxy(ctx context.Context, path string, lg *proxy.Logger) error {
	// The watcher's callbacks run on its goroutine; they find the proxy
	// here once it is made.
	var running atomic.Pointer[proxy.Proxy]
	w, err := config.Watch(path, func(c *config.Config) {
		p := running.Load()
		if p == nil {
			return
		}
		// The proxy logs a change of listen or metrics_listen itself:
		// it keeps the addresses it serves on until a restart, and its
		// Config shows those, so the change is listed again at every
		// reload until then.
		diff := config.Diff(p.Config(), c)
		if err := p.Apply(ctx, c); err != nil {
			lg.Errorf("config %s: not applied, keeping the running config: %v", path, err)
			return
		}
		for _, d := range diff {
			lg.Infof("config %s: %s", path, d)
		}
		lg.Infof("config %s: reloaded", path)
	}, func(err error) {
		lg.Errorf("config %s: keeping the running config: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
		if p := running.Load(); p != nil {
			p.ReloadFailed(err)
		}
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	p, err := proxy.New(w.Current(), lg)
	if err != nil {
		return err
	}
	running.Store(p)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				lg.Infof("SIGHUP: reloading %s", path)
				_ = w.Reload()
			}
		}
	}()
	return p.Run(ctx)
}
