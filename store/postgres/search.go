package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
)

// searchChunk bounds the events one SearchEvents call examines, as in the
// bbolt store: a search through millions of events reports progress
// between chunks and can be stopped. (A variable so tests can cross chunk
// boundaries with a few events.)
var searchChunk = 20000

// SearchEvents examines up to one chunk of stored events older than cursor
// (0: from the newest), newest first, and returns those f matches, at most
// limit of them. The metadata filter runs in the database, so only the
// payloads of events that pass it are read; f.Raw is then matched on them
// here, with the same case folding as the bbolt store (the database's
// lower() depends on its locale). With f.InstanceID the chunk is that
// instance's events, through its index. Next resumes the search; Done says
// it reached the oldest event, or the events received before f.Since.
func (s *Store) SearchEvents(ctx context.Context, f store.EventFilter, cursor uint64, limit int) (model.EventSearchPage, error) {
	var page model.EventSearchPage
	if limit <= 0 {
		limit = 50
	}
	if f.Before != 0 && (cursor == 0 || f.Before < cursor) {
		cursor = f.Before
	}
	top := int64(math.MaxInt64)
	if cursor != 0 {
		top = int64(min(cursor, math.MaxInt64)) - 1
	}
	var floor int64 = 1
	if !f.Since.IsZero() {
		// Ids follow reception order within sinceSlack: the search ends
		// at the first id received since then.
		low, err := s.FirstEventSince(ctx, f.Since.Add(-sinceSlack))
		if err != nil {
			return page, fmt.Errorf("search events: %w", err)
		}
		if low == 0 {
			page.Done = true
			return page, nil
		}
		floor = int64(low)
	}
	// The chunk: the ids it examines, newest first (an index-only walk).
	q := "SELECT id FROM events WHERE id <= $1 AND id >= $2 ORDER BY id DESC LIMIT $3"
	args := []any{top, floor, searchChunk}
	if f.InstanceID != 0 {
		q = "SELECT id FROM events WHERE instance_id = $4 AND id <= $1 AND id >= $2 ORDER BY id DESC LIMIT $3"
		args = append(args, f.InstanceID)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return page, fmt.Errorf("search events: %w", s.connErr(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return page, fmt.Errorf("search events: %w", s.connErr(err))
	}
	if len(ids) == 0 {
		page.Done = true
		return page, nil
	}
	low := ids[len(ids)-1]
	w := &whereClause{}
	w.add("id <= $%d", ids[0])
	w.add("id >= $%d", low)
	w.fields(f)
	if !f.Since.IsZero() {
		w.add("received_at >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		w.add("received_at < $%d", f.Until)
	}
	rows, err = s.pool.Query(ctx, "SELECT "+eventCols+" FROM events WHERE "+strings.Join(w.conds, " AND ")+" ORDER BY id DESC", w.args...)
	if err != nil {
		return page, fmt.Errorf("search events: %w", s.connErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return model.EventSearchPage{}, fmt.Errorf("search events: %w", s.connErr(err))
		}
		if f.Raw != "" && !model.ContainsFold(e.Raw, f.Raw) {
			continue
		}
		if len(page.Events) == limit {
			// This one is still to examine: the next chunk starts at it.
			seq := e.Seq()
			page.Next = seq + 1
			for _, id := range ids {
				if uint64(id) <= seq {
					break
				}
				page.Scanned++
			}
			return page, nil
		}
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return model.EventSearchPage{}, fmt.Errorf("search events: %w", s.connErr(err))
	}
	page.Scanned = len(ids)
	if len(ids) < searchChunk || low <= floor {
		page.Done = true
		return page, nil
	}
	page.Next = uint64(low)
	return page, nil
}
