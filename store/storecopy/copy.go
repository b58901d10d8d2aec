// Package storecopy copies a whole eventdesk deployment from one store to
// another (bbolt to PostgreSQL, back, or bbolt to bbolt): instances with
// their secrets, events, dedupe keys, notifications with their attempts,
// poll state with checkpoints, settings with the API secrets, and rejected
// requests. It works through the readers and Put methods every backend
// offers, so it knows no backend's insides. The Put methods write by key,
// so a copy that was interrupted is completed by running it again.
package storecopy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// Source is a store a deployment is read from.
type Source interface {
	Instances(ctx context.Context) ([]model.Instance, error)
	EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error)
	EachDedupeRecord(ctx context.Context, fn func(store.DedupeRecord) error) error
	NotificationsAfter(ctx context.Context, after uint64, limit int) ([]model.Notification, error)
	Attempts(ctx context.Context, id string) ([]model.Attempt, error)
	AllPollStatuses(ctx context.Context) ([]model.PollStatus, error)
	Settings(ctx context.Context) (map[string]string, error)
	RejectedList(ctx context.Context, before uint64, limit int) ([]store.Rejected, uint64, error)
	Counter
}

// Destination is a store a deployment is written to, record by record
// with the records' own ids.
type Destination interface {
	PutInstances(ctx context.Context, ins []model.Instance) error
	PutEvents(ctx context.Context, events []model.Event) error
	PutDedupeKeys(ctx context.Context, recs []store.DedupeRecord) error
	PutNotifications(ctx context.Context, ns []model.Notification) error
	PutAttempts(ctx context.Context, as []model.Attempt) error
	PutPollStatuses(ctx context.Context, sts []model.PollStatus) error
	PutSettings(ctx context.Context, settings map[string]string) error
	PutRejected(ctx context.Context, rs []store.Rejected) error
	Counter
}

// Counter counts a store's records per table (the store.Table names).
type Counter interface {
	TableCounts(ctx context.Context) (map[string]int, error)
}

// Tables are the tables a copy moves, in the order it moves them.
var Tables = []string{
	store.TableInstances, store.TableEvents, store.TableDedupeKeys, store.TableNotifications,
	store.TableAttempts, store.TablePollState, store.TableSettings, store.TableRejected,
}

// DefaultBatch is how many records go in one write when Options.Batch is
// not set: large enough that a round trip to a database server is a small
// part of a write, small enough that a write is a short transaction.
const DefaultBatch = 1000

// Options tune Copy.
type Options struct {
	// Batch is how many records are read and written at a time (default
	// DefaultBatch).
	Batch int
	// Force copies into a destination that holds records already,
	// overwriting those with the same keys: to complete an interrupted
	// copy, or on purpose.
	Force bool
	// Progress, when set, is called after each batch written with the
	// table, the records of it copied so far and the source's count.
	Progress func(table string, done, total int)
}

// ErrNotEmpty is Copy's error for a destination that holds records, unless
// Options.Force.
var ErrNotEmpty = errors.New("the destination is not empty")

// Count is one table's records at both ends after a copy.
type Count struct {
	Table       string
	Source      int
	Destination int
}

// Report is what a copy did: each table's counts at both ends.
type Report struct {
	Counts []Count
}

// Mismatched lists the tables whose counts differ.
func (r Report) Mismatched() []string {
	var out []string
	for _, c := range r.Counts {
		if c.Source != c.Destination {
			out = append(out, c.Table)
		}
	}
	return out
}

// Copied is how many records were copied in all (the source's counts).
func (r Report) Copied(table string) int {
	for _, c := range r.Counts {
		if c.Table == table {
			return c.Source
		}
	}
	return 0
}

// Copy copies every record of src to dst, table by table, then counts both
// ends. A destination holding records is refused with ErrNotEmpty unless
// opts.Force. Stopping part way (ctx cancelled, an error) leaves what was
// written; running Copy again with Force completes it.
func Copy(ctx context.Context, src Source, dst Destination, opts Options) (Report, error) {
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	total, err := src.TableCounts(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("count the source's records: %w", err)
	}
	if !opts.Force {
		have, err := dst.TableCounts(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("count the destination's records: %w", err)
		}
		var held []string
		for _, t := range Tables {
			if have[t] > 0 {
				held = append(held, fmt.Sprintf("%d %s", have[t], t))
			}
		}
		if len(held) > 0 {
			return Report{}, fmt.Errorf("%w: it holds %s", ErrNotEmpty, joinList(held))
		}
	}
	c := copier{ctx: ctx, src: src, dst: dst, opts: opts, total: total}
	for _, step := range []struct {
		table string
		run   func() error
	}{
		{store.TableInstances, c.instances},
		{store.TableEvents, c.events},
		{store.TableDedupeKeys, c.dedupeKeys},
		{store.TableNotifications, c.notifications},
		{store.TablePollState, c.pollState},
		{store.TableSettings, c.settings},
		{store.TableRejected, c.rejected},
	} {
		if err := step.run(); err != nil {
			return Report{}, fmt.Errorf("copy %s: %w", step.table, err)
		}
	}
	return Compare(ctx, src, dst)
}

// Compare counts the records of each table at both ends.
func Compare(ctx context.Context, src, dst Counter) (Report, error) {
	a, err := src.TableCounts(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("count the source's records: %w", err)
	}
	b, err := dst.TableCounts(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("count the destination's records: %w", err)
	}
	var r Report
	for _, t := range Tables {
		r.Counts = append(r.Counts, Count{Table: t, Source: a[t], Destination: b[t]})
	}
	return r, nil
}

// copier is one run of Copy.
type copier struct {
	ctx   context.Context
	src   Source
	dst   Destination
	opts  Options
	total map[string]int
}

func (c *copier) progress(table string, done int) {
	if c.opts.Progress != nil {
		c.opts.Progress(table, done, c.total[table])
	}
}

func (c *copier) instances() error {
	ins, err := c.src.Instances(c.ctx)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(ins, c.opts.Batch) {
		if err := c.dst.PutInstances(c.ctx, chunk); err != nil {
			return err
		}
	}
	c.progress(store.TableInstances, len(ins))
	return c.ctx.Err()
}

// events reads the next page while the last one is written: a database
// server's write and a local file's read take turns otherwise.
func (c *copier) events() error {
	ctx, cancel := context.WithCancel(c.ctx)
	type page struct {
		evs []model.Event
		err error
	}
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		for after := uint64(0); ; {
			evs, err := c.src.EventsAfter(ctx, after, c.opts.Batch)
			select {
			case pages <- page{evs, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(evs) == 0 {
				return
			}
			after = evs[len(evs)-1].Seq()
		}
	}()
	defer func() {
		cancel()
		for range pages {
		}
	}()
	done := 0
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		if len(p.evs) == 0 {
			return nil
		}
		if err := c.dst.PutEvents(c.ctx, p.evs); err != nil {
			return err
		}
		done += len(p.evs)
		c.progress(store.TableEvents, done)
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	return c.ctx.Err()
}

func (c *copier) dedupeKeys() error {
	done := 0
	batch := make([]store.DedupeRecord, 0, c.opts.Batch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := c.dst.PutDedupeKeys(c.ctx, batch); err != nil {
			return err
		}
		done += len(batch)
		batch = batch[:0]
		c.progress(store.TableDedupeKeys, done)
		return c.ctx.Err()
	}
	err := c.src.EachDedupeRecord(c.ctx, func(r store.DedupeRecord) error {
		batch = append(batch, r)
		if len(batch) < c.opts.Batch {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	return flush()
}

// notifications copies notifications with their attempts: a
// notification's attempts are written after it, so an interrupted copy
// never leaves attempts of a notification it lacks.
func (c *copier) notifications() error {
	done, attempts := 0, 0
	for after := uint64(0); ; {
		ns, err := c.src.NotificationsAfter(c.ctx, after, c.opts.Batch)
		if err != nil {
			return err
		}
		if len(ns) == 0 {
			c.progress(store.TableAttempts, attempts)
			return nil
		}
		if err := c.dst.PutNotifications(c.ctx, ns); err != nil {
			return err
		}
		var as []model.Attempt
		for _, n := range ns {
			if n.Attempts == 0 {
				continue // never tried: no attempts stored
			}
			a, err := c.src.Attempts(c.ctx, n.ID)
			if err != nil {
				return fmt.Errorf("attempts of notification %s: %w", n.ID, err)
			}
			as = append(as, a...)
		}
		if len(as) > 0 {
			if err := c.dst.PutAttempts(c.ctx, as); err != nil {
				return fmt.Errorf("%s: %w", store.TableAttempts, err)
			}
		}
		after = ns[len(ns)-1].Seq()
		done += len(ns)
		attempts += len(as)
		c.progress(store.TableNotifications, done)
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
}

func (c *copier) pollState() error {
	sts, err := c.src.AllPollStatuses(c.ctx)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(sts, c.opts.Batch) {
		if err := c.dst.PutPollStatuses(c.ctx, chunk); err != nil {
			return err
		}
	}
	c.progress(store.TablePollState, len(sts))
	return c.ctx.Err()
}

func (c *copier) settings() error {
	set, err := c.src.Settings(c.ctx)
	if err != nil {
		return err
	}
	if len(set) > 0 {
		if err := c.dst.PutSettings(c.ctx, set); err != nil {
			return err
		}
	}
	c.progress(store.TableSettings, len(set))
	return c.ctx.Err()
}

func (c *copier) rejected() error {
	var all []store.Rejected
	for before := uint64(0); ; {
		rs, next, err := c.src.RejectedList(c.ctx, before, c.opts.Batch)
		if err != nil {
			return err
		}
		all = append(all, rs...)
		if next == 0 || len(rs) == 0 {
			break
		}
		before = next
	}
	// Written oldest first, as they were recorded.
	slices.Reverse(all)
	for chunk := range slices.Chunk(all, c.opts.Batch) {
		if err := c.dst.PutRejected(c.ctx, chunk); err != nil {
			return err
		}
	}
	c.progress(store.TableRejected, len(all))
	return c.ctx.Err()
}

// joinList joins items as "a, b and c".
func joinList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	out := items[0]
	for _, it := range items[1 : len(items)-1] {
		out += ", " + it
	}
	return out + " and " + items[len(items)-1]
}
