package postgres_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

// A filter over all instances looks at a bounded number of ids per page,
// answering with a cursor to continue from; following the cursors finds
// every match, newest first, even when pages come back empty.
func TestFilteredPagesAreBoundedAndComplete(t *testing.T) {
	defer postgres.SetScanLimit(7)()
	c := newClock()
	s := openTest(t, pgtest.URL(t), postgres.WithClock(c.now))
	ctx := t.Context()
	var want []string
	for i := range 60 {
		e := webhookEvent(int64(1+i%4), "", fmt.Sprint(i))
		if i%13 == 0 {
			e.EventType = model.Created
		}
		res, err := s.AppendEvents(ctx, []model.Event{e})
		if err != nil {
			t.Fatal(err)
		}
		if i%13 == 0 {
			want = append([]string{res.Stored[0].ID}, want...)
		}
		c.advance(time.Second)
	}
	f := store.EventFilter{EventType: model.Created}
	var got []string
	empty := 0
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("the cursor never ends")
		}
		page, next, err := s.Events(ctx, f, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			empty++
		}
		for _, e := range page {
			got = append(got, e.ID)
		}
		if next == 0 {
			break
		}
		f.Before = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	if empty == 0 {
		t.Error("no page came back empty: the scan was not bounded")
	}
	// Since stops the walk: nothing received more than a minute (ids and
	// reception times may disagree by that much) before it is looked at.
	c.advance(2 * time.Minute)
	page, next, err := s.Events(ctx, store.EventFilter{EventType: model.Created, Since: c.now().Add(-5 * time.Second)}, 10)
	if err != nil || len(page) != 0 || next != 0 {
		t.Errorf("since the last 5 s: %v, next %d (%v); want nothing and no cursor", page, next, err)
	}
	n := 0
	for f := (store.EventFilter{Since: c.now().Add(-2*time.Minute - 10*time.Second)}); ; {
		page, next, err := s.Events(ctx, f, 100)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page)
		if next == 0 {
			break
		}
		f.Before = next
	}
	if n != 10 {
		t.Errorf("the last 10 s of events, page by page: %d, want 10", n)
	}
}
