// Command eventdesk is a terminal console and headless engine for SaaS
// integration events: element instances, polling and webhook events, and
// signed callbacks. See README.md.
package main

import (
	"os"

	"github.com/eventdesk/eventdesk/ui/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Console: cli.Console}))
}
