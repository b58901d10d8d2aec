-- Replicas announce themselves while they run, so each can take its share
-- of the delivery lanes: lanes waiting / replicas alive, rounded up.
CREATE TABLE replicas (
    owner       text PRIMARY KEY,
    alive_until timestamptz NOT NULL
);
