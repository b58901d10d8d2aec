-- eventdesk schema 1: everything the bbolt store keeps, as tables, plus
-- the leases replicas share work by.
--
-- Times are timestamptz (microseconds); ids are bigint. Indexes are kept
-- to those the console, the API and the replicas' work queues need: each
-- index is one more write on the ingest path, which every webhook waits
-- for.

-- One row handing out event and notification ids. Ingest takes its row
-- lock just before it inserts and holds it until commit, so ids follow
-- commit order: a live reader that has seen id N never later finds a
-- smaller id appear (a plain sequence hands ids out at call time, and
-- transactions may commit in another order).
CREATE TABLE counters (
    one           boolean PRIMARY KEY DEFAULT true CHECK (one),
    events        bigint NOT NULL DEFAULT 0,
    notifications bigint NOT NULL DEFAULT 0
);
INSERT INTO counters DEFAULT VALUES;

-- Small state that is neither a setting nor a table of its own (the
-- readiness probe's write).
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- An instance is stored as the JSON the bbolt store keeps; the columns
-- beside it are derived from it on every write, for the delivery claims
-- (concurrency cap, ordered lanes) that run in SQL.
CREATE SEQUENCE instances_id_seq;
CREATE TABLE instances (
    id          bigint PRIMARY KEY,
    data        jsonb NOT NULL,
    deliverable boolean NOT NULL DEFAULT false,
    ordered     boolean NOT NULL DEFAULT false,
    concurrency integer NOT NULL DEFAULT 8
);

CREATE TABLE events (
    id              bigint PRIMARY KEY, -- newest-first pages of all events walk it backwards
    instance_id     bigint NOT NULL,
    element_key     text NOT NULL,
    hub_key         text NOT NULL,
    source          text NOT NULL,
    object_type     text NOT NULL,
    object_id       text NOT NULL,
    event_type      text NOT NULL,
    vendor_event_id text NOT NULL,
    date            timestamptz,
    poll_date       timestamptz,
    received_at     timestamptz NOT NULL,
    raw             bytea NOT NULL -- the vendor's bytes, untouched (jsonb would reformat them)
);
-- Per-instance pages newest first (the console's instance view, the API's
-- instance filter) read one instance's ids backwards without touching the
-- others' events.
CREATE INDEX events_instance ON events (instance_id, id);
-- One object's history (instance, object type, object id), newest first:
-- the console's object view and the API's objectId filter.
CREATE INDEX events_object ON events (instance_id, object_type, object_id, id);
-- No index on received_at: pruning walks the oldest ids (the primary key)
-- and stops at the first event inside retention, as reception order
-- follows ids.

-- Dedupe keys: a webhook delivery by the 16-byte hash of its key, a
-- polled record version by its key. The primary key is the unique key
-- ingest inserts against (ON CONFLICT), so two replicas receiving the same
-- delivery store it once. No index on expires_at: pruning deletes expired
-- keys in batches from the start of the table, where the old ones are,
-- rather than cost every webhook one more index write.
CREATE TABLE dedupe_keys (
    key        bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- The outbox. claimed_by and claim_until are a concurrent delivery's claim
-- on one notification (ClaimNotifications).
CREATE TABLE notifications (
    id            bigint PRIMARY KEY, -- newest-first outbox pages
    instance_id   bigint NOT NULL,
    webhook_id    text NOT NULL,
    event_ids     text[] NOT NULL,
    object_type   text NOT NULL,
    source        text NOT NULL,
    created_at    timestamptz NOT NULL,
    state         text NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    cycle_start   integer NOT NULL DEFAULT 0,
    next_attempt  timestamptz,
    failing_since timestamptz,
    last_status   integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    delivered_at  timestamptz,
    body          bytea NOT NULL,
    claimed_by    text,
    claim_until   timestamptz
);
-- An instance's queue in delivery order (lanes, PendingSchedule, the
-- concurrency cap's in-flight count, the status bar's per-instance
-- counts). Partial: delivered notifications, nearly all of them, stay out.
CREATE INDEX notifications_pending ON notifications (instance_id, id) WHERE state = 'pending';
-- A body (a notification of 20 webhooks is tens of KB) is kept out of
-- line uncompressed: ingest runs short of CPU before disk, and compressing
-- would cost CPU on every insert.
ALTER TABLE notifications ALTER COLUMN body SET STORAGE EXTERNAL;
-- No index on next_attempt: delivery claims go instance by instance
-- through notifications_pending (the concurrency cap is per instance), and
-- each index is one more write per notification.
-- Dead letters by instance: the console's dead list and ReplayDead.
CREATE INDEX notifications_dead ON notifications (instance_id, id) WHERE state = 'dead';

CREATE TABLE attempts (
    notification_id bigint NOT NULL,
    n               integer NOT NULL,
    data            jsonb NOT NULL,
    PRIMARY KEY (notification_id, n) -- a notification's attempts in order
);

CREATE TABLE poll_state (
    instance_id bigint NOT NULL,
    resource    text NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (instance_id, resource)
);

CREATE TABLE rejected (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the ring, newest first
    data jsonb NOT NULL
);

-- Lease times: the time given (a test's clock), else the server's clock,
-- which all replicas share whatever their own clocks say.
CREATE FUNCTION eventdesk_now(t timestamptz) RETURNS timestamptz
    LANGUAGE sql STABLE AS 'SELECT coalesce(t, statement_timestamp())';

-- Work replicas share: a poll of one (instance, resource) or an ordered
-- instance's delivery lane. A replica claims due rows with a lease;
-- token grows with every claim, so a write fenced by an old claim fails.
CREATE TABLE work (
    kind        text NOT NULL,
    instance_id bigint NOT NULL,
    resource    text NOT NULL DEFAULT '',
    due_at      timestamptz NOT NULL,
    owner       text,
    lease_until timestamptz,
    token       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, instance_id, resource)
);
-- Claims take the earliest due work of a kind.
CREATE INDEX work_due ON work (kind, due_at);
