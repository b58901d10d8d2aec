-- Replicas announce themselves while they run, so each can take its share
-- of the delivery lanes: lanes waiting / replicas alive, rounded up.
CREATE TABLE replicas (
    owner       text PRIMARY KEY,
    alive_until timestamptz NOT NULL
);

-- A delivery lane's holder reports the lane's state with each renewal,
-- for consoles attached to the other replicas.
ALTER TABLE work ADD COLUMN status jsonb;

-- Notifications are no longer claimed one by one: a replica delivers the
-- whole lane of an instance it leases (work, kind 'lane').
ALTER TABLE notifications DROP COLUMN claimed_by, DROP COLUMN claim_until;
