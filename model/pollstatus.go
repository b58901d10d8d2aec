package model

import "time"

// PollStatus is what an operator needs to know about one (instance,
// resource) schedule: where its checkpoint is, what the last poll asked and
// got, and what went wrong.
type PollStatus struct {
	InstanceID int64  `json:"instanceId"`
	Resource   string `json:"resource"`
	// Checkpoint is the start time of the last successful poll; the next
	// poll asks for changes since it (minus pollDelay and a small overlap).
	Checkpoint time.Time `json:"checkpoint,omitzero"`
	LastStart  time.Time `json:"lastStart,omitzero"`
	LastEnd    time.Time `json:"lastEnd,omitzero"`
	NextDue    time.Time `json:"nextDue,omitzero"`
	Pages      int       `json:"pages"`
	Records    int       `json:"records"`
	Events     int       `json:"events"`
	LastError  string    `json:"lastError,omitempty"`
	// LastURL is the last request URL with secrets redacted.
	LastURL  string   `json:"lastUrl,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Failures counts consecutive failed polls, for backoff.
	Failures int `json:"failures,omitempty"`
}

// OK reports whether the last poll succeeded.
func (s PollStatus) OK() bool { return s.LastError == "" }

// PollPreview is the next request the poller would send for one resource:
// the since time it starts from and why, and the URL with every ${…}
// expanded (or why it cannot be built).
type PollPreview struct {
	Resource string    `json:"resource"`
	Since    time.Time `json:"since"`
	// SinceFrom says where Since comes from: the last successful poll,
	// events being enabled, or the instance being saved, and a poll delay.
	SinceFrom string `json:"sinceFrom"`
	Request   string `json:"request"`
	Error     string `json:"error,omitempty"`
}
