package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the console on the terminal behind in and out until the user
// quits or ctx ends. Bubble Tea restores the terminal if the program
// panics; the recover here covers what runs before and after it, so the
// caller always gets an error rather than a dead terminal.
func Run(ctx context.Context, deps Deps, in io.Reader, out io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("console crashed: %v\n%s", r, debug.Stack())
		}
	}()
	if deps.Clipboard == nil {
		deps.Clipboard = &OSC52{W: out, Tmux: os.Getenv("TMUX") != ""}
	}
	p := tea.NewProgram(New(deps, Options{}),
		tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out),
		tea.WithAltScreen(), tea.WithMouseCellMotion())
	_, err = p.Run()
	if err == tea.ErrProgramKilled && ctx.Err() != nil {
		return nil // stopped by a signal: a normal end
	}
	return err
}
