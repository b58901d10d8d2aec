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
