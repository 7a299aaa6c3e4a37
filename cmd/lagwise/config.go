package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/lagwise/lagwise/config"
)

const configUsage = `usage: lagwise config check [--diff OLD.yaml] FILE

Validates the proxy config FILE and prints what the proxy would do with it:
where it listens, the master and the replicas with their weights, the
routing policy, the limits. With --diff, also what changes from OLD.yaml to
FILE, as a reload would apply it.

Exit status: 0 valid, 1 not valid (each problem printed with its line and
key), 2 a usage error.
`

// runConfig is `lagwise config`: its one subcommand is check.
func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return 2
	}
	switch args[0] {
	case "check":
		return runConfigCheck(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, configUsage)
		return 0
	}
	fmt.Fprintf(stderr, "lagwise config: unknown subcommand %q\n\n%s", args[0], configUsage)
	return 2
}

// runConfigCheck is `lagwise config check`: exit status 0 if the file is
// valid, 1 if not, 2 on a usage error.
func runConfigCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	diff := fs.String("diff", "", "")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, configUsage)
				return 0
			}
			fmt.Fprintf(stderr, "lagwise config check: %v\n\n%s", err, configUsage)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "lagwise config check: want one FILE, got %d\n\n%s", len(files), configUsage)
		return 2
	}
	path := files[0]

	c, err := config.Load(path)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		problems := config.Errors(err)
		if len(problems) == 0 {
			fmt.Fprintln(stderr, err)
			return 1
		}
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "%s: not valid: %d %s\n", path, len(problems), plural(len(problems), "problem", "problems"))
		return 1
	}

	var old *config.Config
	if *diff != "" {
		if old, err = config.Load(*diff); err != nil {
			fmt.Fprintf(stderr, "--diff %s: %v\n", *diff, err)
			return 1
		}
	}
	fmt.Fprint(stdout, checkReport(path, c, old))
	return 0
}

// checkReport is what `config check` prints for a valid config: that it
// is valid, what the proxy would do, the warnings and, given the old
// config, what changes.
func checkReport(path string, c, old *config.Config) string {
	out := fmt.Sprintf("%s: valid\n\n%s", path, c.Describe())
	if w := c.Warnings(); len(w) > 0 {
		out += "\nwarnings:\n"
		for _, line := range w {
			out += "  " + line + "\n"
		}
	}
	if old != nil {
		changes := config.Diff(old, c)
		if len(changes) == 0 {
			out += fmt.Sprintf("\nno changes from %s\n", old.File())
		} else {
			out += fmt.Sprintf("\nchanges from %s:\n", old.File())
			for _, line := range changes {
				out += "  " + line + "\n"
			}
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
