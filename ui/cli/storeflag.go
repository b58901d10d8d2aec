package cli

import (
	"flag"

	"github.com/eventdesk/eventdesk/provider/engine"
	"github.com/eventdesk/eventdesk/store"
	"github.com/eventdesk/eventdesk/store/postgres"
)

// storeFlags are --store URL and its shorthand --db PATH, which every
// command that opens eventdesk's data takes. Their environment defaults
// (EVENTDESK_STORE, EVENTDESK_DB) are applied after parsing, so a flag
// given on the command line always wins over either variable.
type storeFlags struct {
	fs      *flag.FlagSet
	cmd     string // the verb, for usage errors ("" for the console)
	db      *string
	store   *string
	env     Env
	withEnv bool
}

// addStoreFlags registers --store and --db, with EVENTDESK_STORE and
// EVENTDESK_DB as their defaults.
func addStoreFlags(fs *flag.FlagSet, cmd string, env Env) *storeFlags {
	return &storeFlags{
		fs:      fs,
		cmd:     cmd,
		store:   fs.String("store", "", "where the data lives: a bbolt database file, or a PostgreSQL database as postgres://user:password@host/db (default: the database file; env EVENTDESK_STORE)"),
		db:      fs.String("db", "", "database file, the same as --store PATH (default "+defaultDBHelp+"; env EVENTDESK_DB)"),
		env:     env,
		withEnv: true,
	}
}

// given reports whether the flag name was set on the command line.
func (f *storeFlags) given(name string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// location is the store the command line names after parsing: --store
// or --db, else EVENTDESK_STORE or EVENTDESK_DB; "" when none does (the
// default database file). Two different stores named at the same level,
// both flags or both variables, are a usage error: eventdesk cannot tell
// which was meant.
func (f *storeFlags) location() (string, error) {
	pick := func(st, db, stName, dbName string) (string, error) {
		if engine.IsDatabaseURL(db) {
			return "", usagef(f.cmd, "%s takes a database file; give a PostgreSQL URL with --store or EVENTDESK_STORE, not %s", dbName, postgresSafe(db))
		}
		if st != "" && db != "" && st != db {
			return "", usagef(f.cmd, "%s %s and %s %s name different stores; give one (--db PATH is short for --store PATH)", stName, postgresSafe(st), dbName, postgresSafe(db))
		}
		if st != "" {
			return st, nil
		}
		return db, nil
	}
	st, db := "", ""
	if f.given("store") {
		st = *f.store
	}
	if f.given("db") {
		db = *f.db
	}
	if st != "" || db != "" {
		return pick(st, db, "--store", "--db")
	}
	if !f.withEnv {
		return "", nil
	}
	return pick(f.env.Getenv("EVENTDESK_STORE"), f.env.Getenv("EVENTDESK_DB"), "EVENTDESK_STORE", "EVENTDESK_DB")
}

// resolved is location with the default database file filled in.
func (f *storeFlags) resolved() (string, error) {
	l, err := f.location()
	if err != nil || l != "" {
		return l, err
	}
	return store.DefaultPath()
}

// postgresSafe is a location fit for a message: a PostgreSQL URL with its
// password masked, a path as it is.
func postgresSafe(location string) string {
	if engine.IsDatabaseURL(location) {
		return postgres.MaskURL(location)
	}
	return location
}
