package postgres

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// PostgreSQL keeps microseconds: times are cut to them before they are
// written, so what a write returns equals what a read gives back.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// optTime is t as a nullable timestamptz: NULL for the zero time.
func optTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: micro(t), Valid: true}
}

// fromOpt is a nullable timestamptz read back (zero for NULL).
func fromOpt(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}
