package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// Findings are the episode's figures for the report.
type Findings struct {
	OutAfter     float64 // SIGSTOP to the first scrape with the stopped replica not routable, s (-1: never)
	BackAfter    float64 // SIGCONT to the first scrape with it routable again, s (-1: never)
	UnknownFor   float64 // time its lag read +Inf, s (scrape intervals)
	MaxLagAfter  float64 // highest finite lag it showed after SIGCONT, s (-1: none)
	StoppedShare float64 // its share of reads from OutAfter to SIGCONT
	OtherMaxLag  float64 // the other replica's highest finite lag, s
	MasterShare  float64 // the master's share of reads over the whole run
}

// findings reads the figures off the points.
func findings(ep Episode) Findings {
	f := Findings{OutAfter: -1, BackAfter: -1, MaxLagAfter: -1}
	var other string
	for _, r := range ep.Replicas {
		if r != ep.StoppedOne {
			other = r
		}
	}
	var masterReads, allReads, stoppedReads, windowReads float64
	prevT := 0.0
	for _, p := range ep.Points {
		lag := p.Lag[ep.StoppedOne]
		if math.IsInf(lag, 1) {
			f.UnknownFor += p.T - prevT
		}
		prevT = p.T
		if p.T >= ep.StopAt && f.OutAfter < 0 && !p.Routable[ep.StoppedOne] {
			f.OutAfter = p.T - ep.StopAt
		}
		if f.OutAfter >= 0 && p.T > ep.StopAt+f.OutAfter && p.T <= ep.ContAt {
			stoppedReads += p.Share[ep.StoppedOne] * p.Reads
			windowReads += p.Reads
		}
		if p.T >= ep.ContAt {
			if f.BackAfter < 0 && p.Routable[ep.StoppedOne] {
				f.BackAfter = p.T - ep.ContAt
			}
			if !math.IsInf(lag, 0) && lag > f.MaxLagAfter {
				f.MaxLagAfter = lag
			}
		}
		if o := p.Lag[other]; !math.IsInf(o, 0) && o > f.OtherMaxLag {
			f.OtherMaxLag = o
		}
		for _, b := range ep.Backends {
			if ep.Names[b] == "master" {
				masterReads += p.Share[b] * p.Reads
			}
		}
		allReads += p.Reads
	}
	if windowReads > 0 {
		f.StoppedShare = stoppedReads / windowReads
	}
	if allReads > 0 {
		f.MasterShare = masterReads / allReads
	}
	return f
}

// ms formats seconds as milliseconds, or "never" for a negative one.
func ms(s float64) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprintf("%.0f ms", s*1000)
}

func summary(ep Episode, o options, kind string, writes, writeErrs, reads, readErrs int64, failed int, elapsed float64, png, csv string) string {
	f := findings(ep)
	var b strings.Builder
	fmt.Fprintf(&b, "### Lag episode\n\n")
	fmt.Fprintf(&b, "`go run ./bench/lagplot`: %s master and two replicas behind lagwise proxy (max_lag %s, lag_poll_interval %s); "+
		"%d SET/s and %d GET/s (%d read sessions that never write) through the proxy; /metrics scraped every %s for %.1f s; "+
		"replica1 stopped (SIGSTOP) at %.2f s, continued (SIGCONT) at %.2f s. Figure: `%s`, series: `%s`.\n\n",
		kind, o.maxLag, o.pollEvery, o.writeRate, o.readRate, o.readers, o.scrape, elapsed, ep.StopAt, ep.ContAt,
		filepath.Base(png), filepath.Base(csv))
	rows := [][2]string{
		{"SIGSTOP to replica1 out of rotation (first scrape with routable 0)", ms(f.OutAfter)},
		{"replica1's share of reads while out, until SIGCONT", fmt.Sprintf("%.1f%%", 100*f.StoppedShare)},
		{"replica1's lag unknown (+Inf) for", fmt.Sprintf("%.1f s", f.UnknownFor)},
		{"highest lag replica1 showed after SIGCONT", ms(f.MaxLagAfter)},
		{"SIGCONT to replica1 routable again", ms(f.BackAfter)},
		{"replica2's highest lag", ms(f.OtherMaxLag)},
		{"master's share of all reads", fmt.Sprintf("%.1f%%", 100*f.MasterShare)},
		{"SETs / GETs done (errors)", fmt.Sprintf("%d (%d) / %d (%d)", writes, writeErrs, reads, readErrs)},
		{"scrapes (failed)", fmt.Sprintf("%d (%d)", len(ep.Points)+1, failed)},
	}
	fmt.Fprintf(&b, "| what | value |\n|:--|--:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	return b.String()
}
