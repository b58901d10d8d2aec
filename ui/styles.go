package ui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Theme is the console's palette. Adaptive colours pick the light or dark
// variant from the terminal's background; with NO_COLOR lipgloss renders
// none of them.
type Theme struct {
	Accent, Subtle, Muted, Text     lipgloss.AdaptiveColor
	OK, Warn, Error, Info           lipgloss.AdaptiveColor
	Key, String, Number, Bool, Null lipgloss.AdaptiveColor
	HeaderBg, StatusBg              lipgloss.AdaptiveColor
	// SelectedBg and SelectedFg are the selection bar: light text on dark
	// blue on a dark terminal, dark text on light blue on a light one.
	SelectedBg, SelectedFg lipgloss.AdaptiveColor
}

// DefaultTheme uses ANSI-256 indices that read well on both backgrounds.
func DefaultTheme() Theme {
	c := func(light, dark string) lipgloss.AdaptiveColor {
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	return Theme{
		Accent: c("26", "75"), Subtle: c("250", "238"), Muted: c("243", "245"), Text: c("235", "252"),
		OK: c("28", "78"), Warn: c("130", "214"), Error: c("160", "203"), Info: c("25", "117"),
		Key: c("25", "117"), String: c("28", "114"), Number: c("130", "215"), Bool: c("127", "176"), Null: c("243", "245"),
		HeaderBg: c("254", "236"), StatusBg: c("254", "236"),
		SelectedBg: c("153", "24"), SelectedFg: c("16", "231"),
	}
}

// Styles is every style the console uses, built in one place so screens
// never invent their own look for semantic things.
type Styles struct {
	// Plain is set when the terminal shows no colour or attributes
	// (NO_COLOR, dumb terminals, golden tests): selection and the text
	// cursor then need visible characters of their own.
	Plain bool

	Header, HeaderApp, HeaderInfo  lipgloss.Style
	HeaderBanner                   lipgloss.Style
	Crumb, CrumbLast, ScreenStatus lipgloss.Style
	StatusBar, StatusNum, Toast    lipgloss.Style
	ToastError, ToastOK            lipgloss.Style

	Title, Section, Label, Value, Muted, Required lipgloss.Style
	Error, Warn, OK, Info, Secret                 lipgloss.Style
	TableHeader, Row, Selected, Cursor            lipgloss.Style
	Focused, Box, Dialog, Prompt                  lipgloss.Style

	JSONKey, JSONString, JSONNumber, JSONBool, JSONNull, JSONPunct lipgloss.Style

	Help help.Styles
}

// DefaultStyles builds the styles from the default theme for the current
// colour profile.
func DefaultStyles() Styles {
	t := DefaultTheme()
	fg := func(c lipgloss.AdaptiveColor) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	s := Styles{Plain: lipgloss.ColorProfile() == termenv.Ascii}
	s.Header = lipgloss.NewStyle().Background(t.HeaderBg).Foreground(t.Text)
	s.HeaderApp = s.Header.Bold(true).Foreground(t.Accent)
	s.HeaderInfo = s.Header.Foreground(t.Muted)
	s.HeaderBanner = lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(t.Warn)
	s.Crumb = fg(t.Muted)
	s.CrumbLast = fg(t.Text).Bold(true)
	s.ScreenStatus = fg(t.Info)
	s.StatusBar = lipgloss.NewStyle().Background(t.StatusBg).Foreground(t.Muted)
	s.StatusNum = s.StatusBar.Foreground(t.Text).Bold(true)
	s.Toast = fg(t.Info)
	s.ToastError = fg(t.Error).Bold(true)
	s.ToastOK = fg(t.OK)

	s.Title = fg(t.Accent).Bold(true)
	s.Section = fg(t.Accent).Bold(true).Underline(true)
	s.Label = fg(t.Muted)
	s.Value = fg(t.Text)
	s.Muted = fg(t.Muted)
	s.Required = fg(t.Warn).Bold(true)
	s.Error = fg(t.Error)
	s.Warn = fg(t.Warn)
	s.OK = fg(t.OK)
	s.Info = fg(t.Info)
	s.Secret = fg(t.Muted).Italic(true)
	s.TableHeader = fg(t.Muted).Bold(true)
	s.Row = fg(t.Text)
	// The selected row is drawn in one colour pair: a cell's own colour
	// (a green state, a red error) would not read on the bar in both themes.
	s.Selected = lipgloss.NewStyle().Background(t.SelectedBg).Foreground(t.SelectedFg).Bold(true)
	s.Cursor = lipgloss.NewStyle().Reverse(true)
	s.Focused = fg(t.Accent).Bold(true)
	s.Box = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(t.Subtle).Padding(0, 1)
	s.Dialog = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(t.Warn).Padding(0, 1)
	s.Prompt = fg(t.Accent).Bold(true)

	s.JSONKey = fg(t.Key)
	s.JSONString = fg(t.String)
	s.JSONNumber = fg(t.Number)
	s.JSONBool = fg(t.Bool)
	s.JSONNull = fg(t.Null)
	s.JSONPunct = fg(t.Muted)

	s.Help = help.New().Styles
	s.Help.ShortKey = fg(t.Accent)
	s.Help.FullKey = fg(t.Accent)
	return s
}

// stateStyle colours a delivery state.
func (s Styles) stateStyle(state string) lipgloss.Style {
	switch state {
	case "delivered", "active", "ok":
		return s.OK
	case "pending", "retrying", "on hold":
		return s.Warn
	case "dead", "error", "poll error", "callbacks off":
		return s.Error
	}
	return s.Muted
}
