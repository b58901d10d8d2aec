package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/provider/backend"
)

// refreshEvery throttles reloads after engine changes: events may commit
// hundreds of times a second, the screen needs a few frames' worth.
const refreshEvery = 250 * time.Millisecond

// chromeLines is what the root draws around a screen: header, breadcrumb,
// status bar, toast and key hint.
const chromeLines = 5

// App is the console's root model. It owns the screen stack and the shared
// context, draws the chrome and handles the global keys; everything else
// goes to the screen on top.
type App struct {
	ctx           *Context
	stack         []screen
	width, height int
	toast         toastLine
	popup         errorPopup
	// confirm is a question asked on behalf of any screen (replays), so
	// it reads the same everywhere.
	confirm  confirmDialog
	pal      palette
	help     help.Model
	showHelp bool
	// helpTop is the help page's first shown line: at 80x24 the keys of a
	// big screen stack into more lines than the body has.
	helpTop int
	stats   stats
	sub     backend.Subscription
	// linkDown, when set, is why an attached console lost its engine; the
	// header says so until the subscription reconnects.
	linkDown      error
	refreshQueued bool
}

// New builds the console on deps; the instances screen is home.
func New(deps Deps, opts Options) *App {
	ctx := newContext(deps, opts)
	a := &App{ctx: ctx, help: help.New(), width: 80, height: 24}
	a.help.Styles = ctx.Styles.Help
	a.stack = []screen{newInstancesScreen(ctx)}
	a.layout()
	return a
}

type (
	changeSignalMsg struct{}
	storeClosedMsg  struct{}
	refreshDueMsg   struct{}
	linkMsg         struct {
		state backend.LinkState
		ok    bool
	}
)

// waitChange blocks on the engine's coalescing change signal in a
// command, the realtime pattern: Update re-arms it after every signal.
func waitChange(sub backend.Subscription) tea.Cmd {
	if sub == nil {
		return nil
	}
	return func() tea.Msg {
		if _, ok := <-sub.C(); !ok {
			return storeClosedMsg{}
		}
		return changeSignalMsg{}
	}
}

// waitLink reports a remote subscription's connection changes; an
// in-process one has none.
func waitLink(sub backend.Subscription) tea.Cmd {
	if sub == nil || sub.Link() == nil {
		return nil
	}
	return func() tea.Msg {
		st, ok := <-sub.Link()
		return linkMsg{state: st, ok: ok}
	}
}

func statsTick() tea.Cmd {
	return tea.Tick(statsEvery, func(time.Time) tea.Msg { return statsTickMsg{} })
}

// Init starts home's loads, the status bar and the change subscription.
func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{a.top().Init(), a.reloadStats(true)}
	if !a.ctx.Static {
		sub, err := a.ctx.Backend.Subscribe(context.Background())
		if err != nil {
			a.linkDown = err
		} else {
			a.sub = sub
		}
		cmds = append(cmds, waitChange(a.sub), waitLink(a.sub), statsTick())
	}
	return tea.Batch(cmds...)
}

func (a *App) top() screen { return a.stack[len(a.stack)-1] }

func (a *App) reloadStats(first bool) tea.Cmd {
	if a.stats.inFlight {
		return nil
	}
	a.stats.inFlight = true
	return loadStats(a.ctx, first)
}

// layout gives every screen of the stack the body size.
func (a *App) layout() {
	a.ctx.Width = a.width
	a.ctx.Height = max(1, a.height-chromeLines)
	for _, s := range a.stack {
		s.SetSize(a.ctx.Width, a.ctx.Height)
	}
	a.help.Width = max(0, a.width-1)
}

// Update routes a message: global keys and chrome messages here, results
// to the screen that asked, the rest to the top screen. Navigation the
// screens asked for is applied before returning.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := a.update(msg)
	for len(a.ctx.nav) > 0 {
		op := a.ctx.nav[0]
		a.ctx.nav = a.ctx.nav[1:]
		if op.s == nil {
			cmd = tea.Batch(cmd, a.back())
		} else {
			cmd = tea.Batch(cmd, a.open(op.s))
		}
	}
	return a, cmd
}

func (a *App) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.layout()
		return nil
	case tea.KeyMsg:
		return a.key(msg)
	case popMsg:
		return a.back()
	case toastMsg:
		return a.notify(msg)
	case replayAskMsg:
		n := msg.n
		if q := replayQuestion(a.ctx, n); q != "" {
			a.confirm.ask(q, func() tea.Cmd { return replayOne(a.ctx, n) })
			return nil
		}
		return replayOne(a.ctx, n)
	case toastExpiredMsg:
		a.toast.expire(msg.seq)
		return nil
	case copyMsg:
		if a.ctx.Clipboard == nil {
			return a.notify(toastMsg{text: "copying is not available: " + msg.text, kind: toastError})
		}
		return copyCmd(a.ctx.Clipboard, msg.text, msg.what)
	case copiedMsg:
		if msg.err != nil {
			return a.notify(errMsg("copy failed ("+msg.text+")", msg.err))
		}
		// A terminal never confirms a copy: show what was sent.
		return a.notify(toastMsg{text: "copied " + msg.what + ": " + oneLine(msg.text), kind: toastOK})
	case changeSignalMsg:
		cmds := []tea.Cmd{waitChange(a.sub)}
		if !a.refreshQueued {
			a.refreshQueued = true
			cmds = append(cmds, tea.Tick(refreshEvery, func(time.Time) tea.Msg { return refreshDueMsg{} }))
		}
		return tea.Batch(cmds...)
	case refreshDueMsg:
		a.refreshQueued = false
		return tea.Batch(a.refreshTop(), a.reloadStats(false))
	case storeClosedMsg:
		return nil
	case linkMsg:
		if !msg.ok {
			return nil
		}
		if msg.state.Connected {
			// Back: catch up on whatever changed meanwhile, and learn the
			// engine anew (a restarted one has another pid).
			a.linkDown = nil
			return tea.Batch(waitLink(a.sub), a.refreshTop(), a.reloadStats(false), loadInfo(a.ctx.Backend))
		}
		a.linkDown = msg.state.Err
		if a.linkDown == nil {
			a.linkDown = errors.New("connection lost")
		}
		return waitLink(a.sub)
	case statsTickMsg:
		return tea.Batch(a.reloadStats(false), statsTick())
	case statsMsg:
		a.stats.apply(msg)
		return nil
	case paletteRunMsg:
		return a.run(msg)
	case jumpMsg:
		return a.jump(msg)
	case switchedMsg:
		return a.switched(msg)
	case infoMsg:
		if msg.b == a.ctx.Backend && msg.err == nil {
			a.ctx.Attached, a.ctx.Addr, a.ctx.PublicURL = msg.info.Attached, msg.info.Addr, msg.info.PublicURL
		}
		return nil
	case instancesChangedMsg:
		a.ctx.names = msg.names
		return nil
	case addressed:
		for _, s := range a.stack {
			if s.ID() == msg.screenID() {
				return s.Update(msg)
			}
		}
		return nil // its screen is gone
	}
	return a.top().Update(msg)
}

func (a *App) refreshTop() tea.Cmd {
	if r, ok := a.top().(refresher); ok {
		return r.Refresh()
	}
	return nil
}

// back pops the top screen (never home) and refreshes the one below.
func (a *App) back() tea.Cmd {
	if len(a.stack) == 1 {
		return nil
	}
	a.stack = a.stack[:len(a.stack)-1]
	return a.refreshTop()
}

func (a *App) key(msg tea.KeyMsg) tea.Cmd {
	k := a.ctx.Keys
	if key.Matches(msg, k.Quit) {
		return tea.Quit
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed faster than the terminal is read arrive as one
		// message: ":events" must open the palette and type "events",
		// "jj" move twice, as if each key came alone.
		cmds := make([]tea.Cmd, 0, len(msg.Runes))
		for _, r := range msg.Runes {
			one := msg
			one.Runes = []rune{r}
			cmds = append(cmds, a.key(one))
		}
		return tea.Batch(cmds...)
	}
	if a.pal.active {
		switch out := a.pal.Update(msg).(type) {
		case paletteRunMsg:
			return a.run(out)
		case toastMsg:
			return a.notify(out)
		}
		return nil
	}
	if a.confirm.active {
		return a.confirm.Update(msg)
	}
	if a.popup.active {
		// The error popup is modal: any key closes it, so the key meant
		// for the screen is not sent blind under it.
		a.popup.active = false
		return nil
	}
	if a.showHelp {
		switch {
		case key.Matches(msg, k.Help, k.HelpAnywhere, k.Back) || msg.String() == "q":
			a.showHelp = false
		case key.Matches(msg, a.ctx.List.Down):
			a.helpTop++
		case key.Matches(msg, a.ctx.List.Up):
			a.helpTop = max(0, a.helpTop-1)
		}
		return nil
	}
	top := a.top()
	if key.Matches(msg, k.HelpAnywhere) {
		a.showHelp, a.helpTop = true, 0
		return nil
	}
	if c, ok := top.(capturer); ok && c.Capturing() {
		return top.Update(msg)
	}
	switch {
	case key.Matches(msg, k.Help):
		a.showHelp, a.helpTop = true, 0
		return nil
	case key.Matches(msg, k.Palette):
		a.pal.open()
		return nil
	case key.Matches(msg, k.Back):
		if c, ok := top.(canceler); ok {
			if done, cmd := c.Cancel(); done {
				return cmd
			}
		}
		return a.back()
	case key.Matches(msg, k.QuitTop) && len(a.stack) == 1:
		return tea.Quit
	}
	return top.Update(msg)
}

// run executes a palette command.
func (a *App) run(c paletteRunMsg) tea.Cmd {
	if c.name == "ctx" {
		return a.runCtx(c.arg)
	}
	var id int64
	if c.arg != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(c.arg, "#"), 10, 64)
		if err != nil || n <= 0 {
			return a.notify(toastMsg{text: ":" + c.name + " takes an instance id, got " + c.arg, kind: toastError})
		}
		id = n
	}
	switch c.name {
	case "q":
		return tea.Quit
	case "help":
		a.showHelp = true
		return nil
	case "instances":
		a.stack = a.stack[:1]
		return a.refreshTop()
	// Jumps replace everything above home, as k9s's ":" does, so the
	// breadcrumb stays short.
	case "events", "deliveries":
		if id != 0 {
			// An id is checked with the engine first: a list of nothing
			// would not say the instance does not exist.
			return checkInstance(a.ctx, c.name, id)
		}
		return a.jump(jumpMsg{name: c.name})
	case "rejected":
		a.stack = a.stack[:1]
		return a.open(newRejectedScreen(a.ctx))
	case "new":
		return a.open(newFormScreen(a.ctx, nil))
	case "messages":
		return a.open(newMessagesScreen(a.ctx))
	}
	return nil
}

// jumpMsg opens a list screen from the palette, of one instance when id
// is set.
type jumpMsg struct {
	name string
	id   int64
}

// checkInstance jumps to the named list of instance id, or says there is
// no such instance.
func checkInstance(ctx *Context, name string, id int64) tea.Cmd {
	b := ctx.Backend
	return func() tea.Msg {
		if _, err := b.Instance(opCtx(), id); err != nil {
			if errors.Is(err, backend.ErrNotFound) {
				return toastMsg{text: fmt.Sprintf("no instance %d — :instances lists them", id), kind: toastError}
			}
			return errMsg(fmt.Sprintf(":%s %d", name, id), err)
		}
		return jumpMsg{name: name, id: id}
	}
}

func (a *App) jump(j jumpMsg) tea.Cmd {
	a.stack = a.stack[:1]
	if j.name == "deliveries" {
		return a.open(newDeliveriesScreen(a.ctx, j.id))
	}
	return a.open(newEventsScreen(a.ctx, j.id))
}

func (a *App) open(s screen) tea.Cmd {
	s.SetSize(a.ctx.Width, a.ctx.Height)
	a.stack = append(a.stack, s)
	return s.Init()
}

// View draws header, breadcrumb, the screen (or help), status bar, toast
// and key hint; each line is cut to the width so nothing wraps.
func (a *App) View() string {
	st := a.ctx.Styles
	w := a.width
	body := a.top().View()
	if a.showHelp {
		body = a.helpView()
	}
	if a.confirm.active {
		body = a.confirm.Over(st, body, w, a.ctx.Height)
	}
	if a.popup.active {
		body = a.popup.View(st, body, w, a.ctx.Height)
	}
	lines := []string{
		a.headerView(),
		a.crumbView(),
		fitLines(body, w, a.ctx.Height),
		a.stats.View(st, w),
	}
	if a.pal.active {
		lines = append(lines, a.pal.Candidates(st, w), a.pal.View(st, w))
	} else {
		toastLine := a.toast.View(st, w)
		if a.popup.active {
			toastLine = "" // the popup shows it in full
		}
		lines = append(lines, toastLine, a.hintView())
	}
	return strings.Join(lines, "\n")
}

func (a *App) headerView() string {
	st := a.ctx.Styles
	left := st.HeaderApp.Render(" eventdesk ")
	if a.ctx.Banner != "" {
		left += st.HeaderBanner.Render(" " + truncate(a.ctx.Banner, max(0, a.width/2)) + " ")
	}
	info := "listening " + a.ctx.Addr + " · public " + a.ctx.PublicURL
	switch {
	case a.linkDown != nil:
		info = "disconnected · retrying · " + a.ctx.Attached
	case a.ctx.Attached != "":
		info = a.ctx.Attached
	case a.ctx.Addr == "":
		info = "listener not running"
	}
	room := a.width - lipglossWidth(left) - 1
	if lipglossWidth(info) > room && a.linkDown == nil && a.ctx.Attached == "" && a.ctx.Addr != "" {
		// The public URL is what an operator copies into a vendor's
		// settings: it keeps its room, the listen address goes first.
		info = "public " + a.ctx.PublicURL
	}
	right := st.HeaderInfo.Render(truncate(info, max(0, room)) + " ")
	gap := a.width - lipglossWidth(left) - lipglossWidth(right)
	return left + st.Header.Render(spaces(gap)) + right
}

func (a *App) crumbView() string {
	st := a.ctx.Styles
	parts := make([]string, len(a.stack))
	for i, s := range a.stack {
		if i == len(a.stack)-1 {
			parts[i] = st.CrumbLast.Render(s.Title())
		} else {
			parts[i] = st.Crumb.Render(s.Title())
		}
	}
	if s, ok := a.top().(sorter); ok && s.Sorted() != "" {
		parts = append(parts, st.Crumb.Render(s.Sorted()))
	}
	left := " " + strings.Join(parts, st.Crumb.Render(" › "))
	if a.showHelp {
		left += st.Crumb.Render(" › ") + st.CrumbLast.Render("Help")
	}
	right := ""
	if s, ok := a.top().(statuser); ok {
		right = s.Status()
	}
	if right == "" {
		return truncate(left, a.width)
	}
	right = st.ScreenStatus.Render(truncate(right, max(10, a.width/2))) + " "
	gap := a.width - lipglossWidth(left) - lipglossWidth(right)
	if gap < 1 {
		return truncate(left, a.width-lipglossWidth(right)-1) + " " + right
	}
	return left + spaces(gap) + right
}

// globalHint is what the hint line adds to a screen's own keys.
func (a *App) globalHint() []key.Binding {
	k := a.ctx.Keys
	if len(a.stack) == 1 {
		return []key.Binding{k.Help, k.Palette, k.QuitTop}
	}
	return []key.Binding{k.Back, k.Help, k.Palette}
}

func (a *App) hintView() string {
	top := a.top()
	if a.confirm.active {
		return " " + a.help.ShortHelpView([]key.Binding{bind("y", "y", "yes"), bind("n", "n/esc", "no")})
	}
	if a.popup.active {
		return " " + a.help.ShortHelpView([]key.Binding{bind("esc", "esc/enter", "close the error"), bind(":", ":messages", "every message in full")})
	}
	if a.showHelp {
		return " " + a.help.ShortHelpView([]key.Binding{bind("esc", "esc/?", "close help"), bind("j", "↑↓/j/k", "scroll")})
	}
	bs := top.ShortHelp()
	var globals []key.Binding
	if c, ok := top.(capturer); !ok || !c.Capturing() {
		globals = a.globalHint()
	}
	return fitHint(a.help, bs, globals, a.width)
}

// fitHint is the key hint line: the screen's keys, then the global ones,
// never cut mid-key. When they do not fit, the screen's last keys give
// way (help lists them all), so every key shown is whole and "? help"
// stays.
func fitHint(hm help.Model, screen, globals []key.Binding, width int) string {
	hm.Width = 0 // measure unlimited; the cut is made here, by whole keys
	for n := len(screen); n >= 0; n-- {
		line := " " + hm.ShortHelpView(append(append([]key.Binding{}, screen[:n]...), globals...))
		if lipglossWidth(line) <= width || n == 0 {
			return truncate(line, width)
		}
	}
	return ""
}

func (a *App) helpView() string {
	st := a.ctx.Styles
	k := a.ctx.Keys
	w := a.width
	quitTop := key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit (home)"))
	groups := append(a.top().FullHelp(), []key.Binding{k.Help, k.HelpAnywhere, k.Palette, k.Back, quitTop, k.Quit})
	lines := []string{" " + st.Title.Render(truncate("Keys — "+a.top().Title(), w-2)), ""}
	lines = append(lines, helpColumns(a.help.Styles, groups, w-1)...)
	lines = append(lines, "")
	lines = append(lines, wrapIndented(st.Muted, "Commands: :instances  :events [ID]  :deliveries [ID]  :rejected  :messages  :new  :ctx [NAME]  :q", 1, w)...)
	if a.ctx.LogPath != "" {
		lines = append(lines, wrapIndented(st.Muted, "Log file: "+a.ctx.LogPath, 1, w)...)
	}
	// Scrolled when taller than the body; the last page stays full.
	a.helpTop = clamp(a.helpTop, 0, max(0, len(lines)-a.ctx.Height))
	lines = lines[a.helpTop:]
	if len(lines) > a.ctx.Height {
		lines = append(lines[:a.ctx.Height-1], " "+st.Muted.Render("↓ more: j scrolls"))
	}
	return joinLines(lines)
}

// helpColumns lays the key groups out as columns side by side, starting
// a new band of columns below when the next one would not fit the width,
// so nothing is cut to "…" on a narrow terminal.
func helpColumns(hs help.Styles, groups [][]key.Binding, width int) []string {
	const gap = 3
	var cols [][]string
	for _, g := range groups {
		kw := 0
		for _, b := range g {
			if b.Enabled() {
				kw = max(kw, lipglossWidth(b.Help().Key))
			}
		}
		var col []string
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			col = append(col, hs.FullKey.Render(pad(b.Help().Key, kw))+" "+hs.FullDesc.Render(b.Help().Desc))
		}
		if len(col) > 0 {
			cols = append(cols, col)
		}
	}
	colWidth := func(c []string) int {
		n := 0
		for _, l := range c {
			n = max(n, lipglossWidth(l))
		}
		return n
	}
	var out []string
	for len(cols) > 0 {
		// Take as many columns as fit (at least one).
		n, used := 0, 0
		for n < len(cols) {
			cw := colWidth(cols[n])
			if n > 0 && used+gap+cw > width {
				break
			}
			if n > 0 {
				used += gap
			}
			used += cw
			n++
		}
		band := cols[:n]
		cols = cols[n:]
		height := 0
		for _, c := range band {
			height = max(height, len(c))
		}
		if len(out) > 0 {
			out = append(out, "")
		}
		for r := 0; r < height; r++ {
			var b strings.Builder
			b.WriteString(" ")
			for i, c := range band {
				cell := ""
				if r < len(c) {
					cell = c[r]
				}
				if i < len(band)-1 {
					cell = pad(cell, colWidth(c)+gap)
				}
				b.WriteString(cell)
			}
			out = append(out, strings.TrimRight(b.String(), " "))
		}
	}
	return out
}

// notify shows a toast and keeps it in the session's messages; an error
// opens the popup, which stays until dismissed.
func (a *App) notify(m toastMsg) tea.Cmd {
	msg := newMessage(a.ctx.Now(), m)
	a.ctx.msgs.add(msg)
	// A failure with an error, or any error too long for the toast line,
	// opens the popup; a short usage hint ("save first") stays a toast.
	if m.kind == toastError && (m.err != nil || lipglossWidth(msg.text()) > a.width) {
		a.popup = errorPopup{active: true, msg: msg}
		// The toast line keeps the cause, for when the popup is closed.
		return a.toast.set(a.ctx, msg.text(), m.kind)
	}
	return a.toast.set(a.ctx, m.text, m.kind)
}

// oneLine collapses whitespace so copied JSON reads in a toast.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
