package store

import "context"

// checkEvery is how many records a long scan reads between looks at its
// context: often enough that a cancelled request stops within
// milliseconds, rarely enough to cost nothing measurable.
const checkEvery = 1024

// cancelled is ctx's error on every checkEvery-th step of a scan (steps
// counts from 1), else nil.
func cancelled(ctx context.Context, steps int) error {
	if steps%checkEvery != 0 {
		return nil
	}
	return ctx.Err()
}
